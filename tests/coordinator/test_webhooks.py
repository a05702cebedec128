"""Signed webhooks, through the real binaries on SQLite and PostgreSQL: `kura serve --webhook URL
--webhook-secret-file F` POSTs deposit and withdrawal events to a receiver of this file's own, each signed
`Kura-Signature: t=TIME,v1=HMAC-SHA256(secret, "TIME.BODY")`, verified here with Python's hmac (not Kura's code);
a receiver that fails is retried with backoff until it answers 2xx, and each delivery id is acknowledged once."""
import hashlib
import hmac
import json
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import run
from coordinator_server import BACKENDS, ROOT, Server
from harness import Company
from test_api import Org
from test_deposits import deposit, new_address

sys.path.insert(0, str(ROOT / "tests" / "devchain"))
from devchain_server import DevChain  # noqa: E402


class Receiver:
    """Records every request; answers 503 to the first `fail_first` attempts of the first delivery it sees (by
    `Kura-Delivery`), 204 to everything else. Counting that delivery's attempts, not all requests, keeps the test
    independent of whether another event is sent between them (the retry waits 0 to 1 s, a new event does not)."""

    def __init__(self, fail_first=0):
        self.requests: list[tuple[dict, bytes]] = []
        self.statuses: list[int] = []
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                first = receiver.requests[0][0].get("kura-delivery") if receiver.requests else headers.get("kura-delivery")
                tries = sum(1 for h, _ in receiver.requests if h.get("kura-delivery") == first)
                status = 503 if headers.get("kura-delivery") == first and tries < receiver.fail_first else 204
                receiver.requests.append((headers, body))
                receiver.statuses.append(status)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/kura"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def verified(secret: bytes, headers: dict, body: bytes, tolerance=300) -> dict:
    """The receiver's check, as a customer would write it: the signature over "t.body", in constant time, and a
    fresh timestamp."""
    fields = dict(part.split("=", 1) for part in headers["kura-signature"].split(","))
    expected = hmac.new(secret, fields["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, fields["v1"]), "bad signature"
    assert abs(time.time() - int(fields["t"])) < tolerance, "stale"
    event = json.loads(body)
    assert headers["kura-delivery"] == event["id"] and headers["kura-event"] == event["kind"]
    assert headers["content-type"] == "application/json"
    return event


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"hooks-{request.param}")
    secret = secrets.token_hex(32).encode()
    (tmp / "webhook.secret").write_bytes(secret + b"\n")
    receiver = Receiver(fail_first=2)
    btc = DevChain(tmp_path_factory.mktemp(f"hooks-btc-{request.param}"))
    company = Company(tmp_path_factory.mktemp(f"hooks-company-{request.param}"))
    server = Server(tmp, request.param,
                    extra=["--esplora", f"regtest=http://127.0.0.1:{btc.port}", "--follow-interval", "0.2",
                           "--confirmations", "1", "--webhook", receiver.url,
                           "--webhook-secret-file", str(tmp / "webhook.secret")])
    try:
        org = Org(server, company, company.dir, organization="acme", genesis=(company.genesis, company.genesis_hash))
        yield server, org, btc, receiver, secret
    finally:
        assert server.stop() == 0, server.logs()
        assert btc.stop() == 0, btc.logs()
        receiver.close()


def test_deposit_events_are_delivered_signed_retried_and_once_each(world):
    server, org, btc, receiver, secret = world
    address = new_address(server, org)
    txid = btc.faucet(address, 4_000_000, confirm=False)["txid"]
    deposit(server, org, txid, "btc-main")
    btc.mine()
    deposit(server, org, txid, "btc-main", until=lambda d: d["state"] == "confirmed")
    deadline = time.time() + 60
    while True:
        acked = [json.loads(b) for (h, b), st in zip(receiver.requests, receiver.statuses) if st == 204]
        first = receiver.requests[0][0]["kura-delivery"]
        if any(e["kind"] == "deposit.confirmed" and e["data"]["txid"] == txid for e in acked) and any(
                e["id"] == first for e in acked):
            break
        assert time.time() < deadline, (receiver.requests, server.logs()[-2000:])
        time.sleep(0.2)
    events = [verified(secret, h, b) for h, b in receiver.requests]  # every request, retries included, verifies
    # The first delivery was refused twice (503): it was tried again, the same id and body, until it passed.
    first = events[0]["id"]
    tries = [(st, b) for (h, b), st in zip(receiver.requests, receiver.statuses) if h["kura-delivery"] == first]
    assert [st for st, _ in tries] == [503, 503, 204], tries
    assert len({b for _, b in tries}) == 1
    acked = [e for e, st in zip(events, receiver.statuses) if st == 204]
    ids = [e["id"] for e in acked]
    assert len(ids) == len(set(ids)), ids  # each delivery acknowledged once
    # Order is not kept across retries (the detection waited out its backoff): receivers go by kind and data.
    mine = sorted((e for e in acked if e["data"]["txid"] == txid), key=lambda e: e["kind"], reverse=True)
    assert [e["kind"] for e in mine] == ["deposit.detected", "deposit.confirmed"]
    assert mine[0]["organization"] == org.id and mine[0]["data"]["amount"] == "4000000"
    assert mine[0]["data"]["address"] == address and mine[1]["data"]["confirmations"] == 1
    # A forged or altered request fails the receiver's check (the positive control is every check above).
    headers, body = receiver.requests[-1]
    with pytest.raises(AssertionError):
        verified(secret, headers, body.replace(b"4000000", b"9000000"))
    with pytest.raises(AssertionError):
        verified(b"another secret", headers, body)


def test_a_webhook_without_a_usable_secret_is_refused_at_start(world, tmp_path):
    server, org, btc, receiver, secret = world
    (tmp_path / "short").write_text("too short")
    r = run("kura", "serve", "--port", "0", "--data-dir", str(tmp_path / "d"), "--webhook", receiver.url,
            "--webhook-secret-file", str(tmp_path / "short"), timeout=30)
    assert r.returncode != 0 and b"at least 32 bytes" in r.stderr, r.stderr
    r = run("kura", "serve", "--port", "0", "--data-dir", str(tmp_path / "d"), "--webhook", receiver.url, timeout=30)
    assert r.returncode != 0 and b"--webhook-secret-file" in r.stderr, r.stderr


def test_withdrawal_events_are_delivered_signed(world, tmp_path):
    server, org, btc, receiver, secret = world
    from test_end_to_end import approved_intent, fund, sign_with, wait_for
    fund(server, org, btc, "btc-main", 300_000_000)
    btc.mine()
    intent_id = approved_intent(org, "btc-main")
    status, built, _ = server.request("POST", f"/v1/orgs/{org.id}/intents/{intent_id}/transaction", {},
                                      token=org.token("alice"), headers={"Idempotency-Key": f"b-{intent_id}"})
    assert status == 201, built
    assert sign_with(org.co.signers[0], org, intent_id, tmp_path)["state"] == "signed"
    body = wait_for(server, org, intent_id, lambda b: b["state"] == "broadcast", "broadcast")
    btc.mine()
    wait_for(server, org, intent_id, lambda b: b["state"] == "confirmed", "confirmed")
    deadline = time.time() + 60
    while True:
        events = [verified(secret, h, b) for (h, b), st in zip(receiver.requests, receiver.statuses) if st == 204]
        mine = {e["kind"]: e for e in events if e["data"].get("intent") == intent_id}
        if "withdrawal.confirmed" in mine:
            break
        assert time.time() < deadline, (mine, server.logs()[-2000:])
        time.sleep(0.2)
    assert set(mine) == {"withdrawal.broadcast", "withdrawal.confirmed"}
    assert mine["withdrawal.broadcast"]["data"]["txid"] == body["txid"] == mine["withdrawal.confirmed"]["data"]["txid"]
    assert mine["withdrawal.confirmed"]["data"]["confirmations"] == 1
    assert mine["withdrawal.confirmed"]["data"]["network"] == "bitcoin:regtest"
