"""Chain faults, through the real binaries on SQLite and PostgreSQL: `kura serve` reads the dev chain through a
fault-injecting proxy of this file's own that can be switched to down, slow, garbage, a listing with a coin that does
not exist, or a node refusing every broadcast. Building and the follow-up of signed transactions must report each
fault clearly, store nothing half-done, and recover when the chain source does — with no transaction lost and no
event recorded twice. Every fault sits beside its positive control (the same request once the proxy passes through).
"""
import http.client
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from coordinator_server import BACKENDS, Server, raw_sql
from harness import Company
from test_api import Org
from test_end_to_end import approved_intent, fund, sign_with, transaction_of, wait_for

from devchain_server import DevChain  # noqa: E402  (tests/devchain is on the path through test_end_to_end)


# What a node behind Esplora answers a refused POST /tx with (Bitcoin Core's reason, relayed).
REFUSALS = {
    "refuse-broadcast": b'sendrawtransaction RPC error: {"code":-26,"message":"min relay fee not met"}',
    "conflict": b'sendrawtransaction RPC error: {"code":-25,"message":"bad-txns-inputs-missingorspent"}',
}


class FaultProxy:
    """Forwards every request to the dev chain's Esplora API unless `mode` says otherwise."""

    def __init__(self, upstream_port: int):
        self.mode = "pass"
        self.seen: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def handle_one(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
                proxy.seen.append(f"{self.command} {self.path}")
                mode = proxy.mode
                if mode == "down":
                    self.close_connection = True
                    self.connection.close()  # no answer at all
                    return
                if mode == "slow":
                    time.sleep(3)
                if mode == "garbage":
                    return self.answer(200, b"\x00{not json or hex")
                if mode in REFUSALS and self.command == "POST":
                    return self.answer(400, REFUSALS[mode])
                status, data = proxy.forward(self.command, self.path, body)
                if mode == "phantom-coin" and self.path.startswith("/scripthash/") and self.path.endswith("/utxo"):
                    coins = json.loads(data)
                    coins.append({"txid": "ee" * 32, "vout": 0, "value": 500_000_000,
                                  "status": {"confirmed": True, "block_height": 102}})
                    data = json.dumps(coins).encode()
                self.answer(status, data)

            def answer(self, status, data):
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = handle_one

            def log_message(self, *args):
                pass

        self.upstream = upstream_port
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def forward(self, method, path, body):
        conn = http.client.HTTPConnection("127.0.0.1", self.upstream, timeout=30)
        try:
            conn.request(method, path, body=body or None)
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    c = DevChain(tmp_path_factory.mktemp("faults-devchain"))
    try:
        yield c
    finally:
        assert c.stop() == 0, c.logs()


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, chain, tmp_path_factory):
    proxy = FaultProxy(chain.port)
    company = Company(tmp_path_factory.mktemp(f"faults-company-{request.param}"))
    # A chain source slower than --chain-timeout (1 s per attempt here, 3 retries) is one that is down.
    server = Server(tmp_path_factory.mktemp(f"faults-{request.param}"), request.param,
                    extra=["--esplora", f"regtest=http://127.0.0.1:{proxy.port}", "--follow-interval", "0.2",
                           "--confirmations", "1", "--chain-timeout", "1"])
    try:
        org = Org(server, company, company.dir, organization="acme", genesis=(company.genesis, company.genesis_hash))
        yield server, org, proxy
    finally:
        proxy.close()
        assert server.stop() == 0, server.logs()


def audit_kinds(server, org, intent_id):
    events = server.request("GET", f"/v1/orgs/{org.id}/audit?limit=10000", token=org.token("a1"))[1]["events"]
    return [e["kind"] for e in events if e["subject"] == intent_id]


def build(server, org, intent_id):
    return server.request("POST", f"/v1/orgs/{org.id}/intents/{intent_id}/transaction", {},
                          token=org.token("alice"), headers={"Idempotency-Key": f"build-{time.time_ns()}"})


def test_a_failing_chain_source_fails_the_build_cleanly_and_the_build_recovers(world, chain):
    server, org, proxy = world
    fund(server, org, chain, "btc-main", 300_000_000)
    chain.mine()
    intent_id = approved_intent(org, "btc-main")
    before = audit_kinds(server, org, intent_id)
    reservations = f"SELECT count(*) FROM coin_reservations WHERE org_id = '{org.id}'"
    reserved = raw_sql(server.database, reservations)
    for mode, expect in (("down", "unavailable"), ("slow", "timed out"), ("garbage", "invalidResponse"),
                         ("phantom-coin", "invalidResponse")):
        proxy.mode = mode
        status, err, _ = build(server, org, intent_id)
        assert status == 503 and err["error"]["code"] == "unavailable", (mode, status, err)
        assert expect in err["error"]["message"], (mode, err)
        # Nothing half-done: still approved, no coin reserved, no event.
        state = server.request("GET", f"/v1/orgs/{org.id}/intents/{intent_id}", token=org.token("bob"))[1]
        assert state["intent"]["state"] == "approved", (mode, state)
        assert raw_sql(server.database, reservations) == reserved
        assert audit_kinds(server, org, intent_id) == before, mode
    # The phantom coin named by the listing is refused for what it is: its previous transaction is not there.
    assert "ee" * 32 in err["error"]["message"] or "previous transaction" in err["error"]["message"], err
    # Positive control: the same build through an honest chain source.
    proxy.mode = "pass"
    status, built, _ = build(server, org, intent_id)
    assert status == 201 and built["state"] == "built", built
    assert "ee" * 32 not in json.dumps(built)


def test_the_follow_up_reports_faults_and_recovers_without_losing_or_repeating_anything(world, chain, tmp_path):
    server, org, proxy = world
    fund(server, org, chain, "btc-main", 300_000_000)
    chain.mine()
    intent_id = approved_intent(org, "btc-main")
    proxy.mode = "pass"
    assert build(server, org, intent_id)[0] == 201
    # The chain source goes down just as the transaction is signed.
    proxy.mode = "down"
    assert sign_with(org.co.signers[0], org, intent_id, tmp_path)["state"] == "signed"
    body = wait_for(server, org, intent_id, lambda b: b["followUp"]["attempts"] >= 2, "retried while down")
    assert body["state"] == "signed" and body["followUp"]["lastError"].startswith("unavailable"), body
    # A node too slow to answer within the timeout is reported as such.
    proxy.mode = "slow"
    body = wait_for(server, org, intent_id, lambda b: "timed out" in b["followUp"].get("lastError", ""),
                    "timeouts reported", timeout=90)
    assert body["state"] == "signed"
    # A node that answers garbage is reported as such, and nothing is broadcast or recorded.
    proxy.mode = "garbage"
    body = wait_for(server, org, intent_id, lambda b: b["followUp"].get("lastError", "").startswith("invalidResponse"),
                    "garbage reported", timeout=60)
    assert body["state"] == "signed"
    # A node that refuses the broadcast: one transaction.refused event however many times it is retried.
    proxy.mode = "refuse-broadcast"
    body = wait_for(server, org, intent_id, lambda b: "min relay fee" in b["followUp"].get("lastError", ""),
                    "refusal reported", timeout=60)
    attempts = body["followUp"]["attempts"]
    wait_for(server, org, intent_id, lambda b: b["followUp"]["attempts"] > attempts, "refusal retried", timeout=60)
    assert body["state"] == "signed"
    txid = body["txid"]
    assert txid not in chain.mempool()
    # The chain source recovers: broadcast once, confirmed once.
    proxy.mode = "pass"
    wait_for(server, org, intent_id, lambda b: b["state"] == "broadcast", "broadcast after recovery", timeout=60)
    assert txid in chain.mempool()
    chain.mine()
    body = wait_for(server, org, intent_id, lambda b: b["state"] == "confirmed", "confirmed after recovery")
    assert "lastError" not in body["followUp"] and body["followUp"]["confirmations"] == 1
    kinds = audit_kinds(server, org, intent_id)
    assert kinds.count("transaction.refused") == 1, kinds
    assert kinds.count("transaction.broadcast") == 1 and kinds.count("transaction.confirmed") == 1, kinds
    # Nothing more happens to a confirmed transaction.
    seen = len(proxy.seen)
    time.sleep(1.5)
    assert transaction_of(server, org, intent_id)["followUp"]["done"] is True
    assert not [r for r in proxy.seen[seen:] if txid in r]


def test_a_transaction_whose_coins_were_spent_elsewhere_fails_as_conflicted(world, chain, tmp_path):
    server, org, proxy = world
    fund(server, org, chain, "btc-main", 300_000_000)
    chain.mine()
    intent_id = approved_intent(org, "btc-main")
    proxy.mode = "pass"
    assert build(server, org, intent_id)[0] == 201
    # The node says its inputs are spent (another transaction took them): said once, it is only a refusal...
    proxy.mode = "conflict"
    assert sign_with(org.co.signers[0], org, intent_id, tmp_path)["state"] == "signed"
    body = wait_for(server, org, intent_id, lambda b: "missingorspent" in b["followUp"].get("lastError", ""),
                    "refused for spent inputs")
    assert body["state"] == "signed"
    # ...said again over three attempts, the withdrawal has failed for good, once.
    body = wait_for(server, org, intent_id, lambda b: b["state"] == "failed", "failed as conflicted", timeout=60)
    assert body["followUp"]["done"] is True and "spent by another transaction" in body["followUp"]["lastError"]
    kinds = audit_kinds(server, org, intent_id)
    assert "transaction.broadcast" not in kinds and kinds.count("transaction.refused") == 2, kinds
    proxy.mode = "pass"
