"""The Bitcoin Core JSON-RPC adapter (ChainAdapters.BitcoinCoreRPCChain) against JSON-RPC servers of this file's own
that lie, fail or refuse, driven through the built `kura-devtool chain … --bitcoind URL`. (The port conformance tests
against the dev chain's Core RPC are in test_bitcoin_adapters.py, shared with the Esplora adapter.) Every refusal
sits beside a positive control.
"""
import base64
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from embit.script import Script
from embit.transaction import Transaction, TransactionInput, TransactionOutput

from chain_cli import ok, refused as refused_with
from conftest import ROOT, run

sys.path.insert(0, str(ROOT / "tests" / "devchain"))
from devchain_keys import Owner, key  # noqa: E402

FAST = ("--retries", "1", "--backoff-ms", "50", "--timeout", "2")
USER, PASSWORD = "kura", "s3cret-rpc-pass"


def refused(proc, code: str) -> str:
    return refused_with(proc, code, secret=PASSWORD)


def chain(url: str, *args):
    command, *rest = args
    return run("kura-devtool", "chain", command, "--bitcoind", url, *rest, *FAST, timeout=60)


class FakeCore:
    """Answers JSON-RPC calls by method from `handlers` (method → function(params, id) → (HTTP status, body)), after
    checking basic authentication as Core does (401, empty body). Records every call."""

    def __init__(self, handlers: dict):
        self.handlers = handlers
        self.calls: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    return self.answer(401, b"")
                call = json.loads(body)
                fake.calls.append(call["method"])
                handler = fake.handlers.get(call["method"])
                if handler is None:
                    return self.answer(200, reply(call["id"], error=(-32601, "Method not found")))
                status, out = handler(call["params"], call["id"])
                self.answer(status, out)

            def answer(self, status, body: bytes):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        port = self.server.server_address[1]
        self.url = f"http://{USER}:{PASSWORD}@127.0.0.1:{port}"
        self.bad_password_url = f"http://{USER}:wrong@127.0.0.1:{port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def reply(call_id, result=None, error=None) -> bytes:
    err = None if error is None else {"code": error[0], "message": error[1]}
    return json.dumps({"jsonrpc": "2.0", "result": None if error else result, "error": err, "id": call_id}).encode()


def const(result, status=200):
    return lambda params, call_id: (status, reply(call_id, result))


@pytest.fixture
def fake():
    servers = []

    def make(handlers):
        servers.append(FakeCore(handlers))
        return servers[-1]

    yield make
    for s in servers:
        s.close()


def funding(script: bytes, value: int, salt: int) -> Transaction:
    return Transaction(version=2, locktime=0, vin=[TransactionInput(bytes([salt]) * 32, 0)],
                       vout=[TransactionOutput(value, Script(script))])


def scanning_node(fake, owner: Owner, listed: Transaction, served: Transaction, btc: float, txout=True):
    """A node whose UTXO scan lists output 0 of `listed` at height 100 (tip 104) and serves `served` as its
    previous transaction; `txout` False: gettxout says it is spent (by a mempool transaction)."""
    txid = listed.txid().hex()
    script = owner.script_bytes.hex()
    unspent = {"txid": txid, "vout": 0, "scriptPubKey": script, "desc": "raw()", "amount": btc, "coinbase": False,
               "height": 100, "blockhash": "11" * 32}
    return fake({
        "scantxoutset": const({"success": True, "txouts": 9, "height": 104, "bestblock": "22" * 32,
                               "unspents": [unspent], "total_amount": btc}),
        "gettxout": const({"bestblock": "22" * 32, "confirmations": 5, "value": btc,
                           "scriptPubKey": {"hex": script}, "coinbase": False} if txout else None),
        "getrawtransaction": const(served.serialize().hex()),
    })


def test_scanned_coins_are_checked_against_their_previous_transactions(fake):
    owner = Owner("wpkh", key("core owner"))
    honest = funding(owner.script_bytes, 70_000, 1)
    good = scanning_node(fake, owner, honest, honest, 0.0007)
    [line] = [json.loads(x) for x in ok(chain(good.url, "utxos", "--script", owner.script_bytes.hex())).splitlines()]
    assert (line["txid"], line["value"], line["confirmations"]) == (honest.txid().hex(), 70_000, 5)
    assert good.calls == ["scantxoutset", "gettxout", "getrawtransaction"]
    # A coin that does not exist: another transaction served for its txid.
    forged = funding(owner.script_bytes, 70_000, 2)
    bad = scanning_node(fake, owner, honest, forged, 0.0007)
    assert f"hashes to {forged.txid().hex()}" in refused(
        chain(bad.url, "utxos", "--script", owner.script_bytes.hex()), "invalidResponse")
    # The scan lies about the value (and its UTXO set agrees): the previous transaction says otherwise.
    bad = scanning_node(fake, owner, honest, honest, 0.00070001)
    assert "not the reported 70001 sat" in refused(
        chain(bad.url, "utxos", "--script", owner.script_bytes.hex()), "invalidResponse")
    # The UTXO set contradicts the scan.
    bad = scanning_node(fake, owner, honest, honest, 0.0007)
    bad.handlers["gettxout"] = const({"bestblock": "22" * 32, "confirmations": 5, "value": 0.0008,
                                      "scriptPubKey": {"hex": owner.script_bytes.hex()}, "coinbase": False})
    assert "contradicts its own scan" in refused(
        chain(bad.url, "utxos", "--script", owner.script_bytes.hex()), "invalidResponse")
    # An amount with more than eight decimals is not an amount.
    bad = scanning_node(fake, owner, honest, honest, 0.000700001)
    assert "at most eight decimals" in refused(
        chain(bad.url, "utxos", "--script", owner.script_bytes.hex()), "invalidResponse")
    # Spent by a mempool transaction since the scan: not offered, and no previous transaction fetched.
    spent = scanning_node(fake, owner, honest, honest, 0.0007, txout=False)
    assert ok(chain(spent.url, "utxos", "--script", owner.script_bytes.hex())) == ""
    assert spent.calls == ["scantxoutset", "gettxout"]
    # A coin paying a script nobody asked about.
    other = Owner("wpkh", key("core other"))
    bad = scanning_node(fake, owner, honest, honest, 0.0007)
    assert "not asked for" in refused(chain(bad.url, "utxos", "--script", other.script_bytes.hex()), "invalidResponse")


def test_node_errors_and_transport_failures(fake):
    # Positive control.
    good = fake({"getblockcount": const(812)})
    assert ok(chain(good.url, "tip")) == "812\n"
    # Wrong credentials: Core's 401 with an empty body, unavailable (retrying will not help, but it is the
    # operator's configuration, not the node lying), the password never printed.
    reason = refused(chain(good.bad_password_url, "tip"), "unavailable")
    assert "credentials" in reason
    # Garbage, an answer to another call, a negative height: invalid, and not retried.
    for result in ("nonsense", -1, 2**40):
        bad = fake({"getblockcount": const(result)})
        refused(chain(bad.url, "tip"), "invalidResponse")
        assert bad.calls == ["getblockcount"]
    other_id = fake({"getblockcount": lambda params, call_id: (200, reply(call_id + 1, 5))})
    assert "not the answer" in refused(chain(other_id.url, "tip"), "invalidResponse")
    not_json = fake({"getblockcount": lambda params, call_id: (200, b"<html>busy</html>")})
    assert "not strict JSON" in refused(chain(not_json.url, "tip"), "invalidResponse")
    # A node error in an HTTP 500 (Core before 28) is the node's answer, not retried.
    old = fake({"getblockcount": lambda params, call_id: (500, reply(call_id, error=(-1, "internal")))})
    assert "internal" in refused(chain(old.url, "tip"), "invalidResponse")
    assert old.calls == ["getblockcount"]
    # A 503 without a JSON-RPC body (a proxy in front of a node that is starting) is retried, then recovered.
    answers = [(503, b"warming up"), None]

    def flaky(params, call_id):
        first = answers.pop(0)
        return first if first else (200, reply(call_id, 9))

    recovering = fake({"getblockcount": flaky})
    assert ok(chain(recovering.url, "tip")) == "9\n"
    assert recovering.calls == ["getblockcount", "getblockcount"]
    # A slow node: unavailable within the timeout and its retry.
    slow = fake({"getblockcount": lambda params, call_id: (time.sleep(3), (200, reply(call_id, 1)))[1]})
    start = time.time()
    assert "timed out" in refused(chain(slow.url, "tip"), "unavailable")
    assert time.time() - start < 10


def test_broadcast_and_status_map_cores_codes(fake):
    owner = Owner("wpkh", key("core broadcast"))
    tx = funding(owner.script_bytes, 1000, 3)
    txid, raw = tx.txid().hex(), tx.serialize().hex()
    accepting = fake({"sendrawtransaction": const(txid)})
    assert ok(chain(accepting.url, "broadcast", raw)) == f"{txid}\n"
    lying = fake({"sendrawtransaction": const("ab" * 32)})
    assert "but the transaction sent is" in refused(chain(lying.url, "broadcast", raw), "invalidResponse")
    def node_error(code, message):
        return lambda params, call_id: (200, reply(call_id, error=(code, message)))

    mined = fake({"sendrawtransaction": node_error(-27, "Transaction outputs already in utxo set")})
    assert ok(chain(mined.url, "broadcast", raw)) == f"{txid}\n"
    rejecting = fake({"sendrawtransaction": node_error(-26, "mandatory-script-verify-flag-failed")})
    reason = refused(chain(rejecting.url, "broadcast", raw), "rejected")
    assert "mandatory-script-verify-flag-failed (code -26)" in reason

    unknown = fake({"getrawtransaction": node_error(-5, "No such mempool or blockchain transaction")})
    assert txid in refused(chain(unknown.url, "status", txid), "notFound")
    pending = fake({"getrawtransaction": const({"txid": txid, "hex": raw})})
    assert json.loads(ok(chain(pending.url, "status", txid))) == {"confirmed": False, "confirmations": 0}
    confirmed = fake({"getrawtransaction": const({"txid": txid, "blockhash": "33" * 32}),
                      "getblockheader": const({"hash": "33" * 32, "height": 100, "confirmations": 3}),
                      "getblockcount": const(102)})
    assert json.loads(ok(chain(confirmed.url, "status", txid))) == {
        "confirmed": True, "block_height": 100, "confirmations": 3}
    # Its block re-orged out (a stale block answers confirmations -1): back to unconfirmed.
    stale = fake({"getrawtransaction": const({"txid": txid, "blockhash": "33" * 32}),
                  "getblockheader": const({"hash": "33" * 32, "height": 100, "confirmations": -1})})
    assert json.loads(ok(chain(stale.url, "status", txid))) == {"confirmed": False, "confirmations": 0}
    # The node answers about another transaction, or puts the block above its tip.
    other = fake({"getrawtransaction": const({"txid": "cd" * 32})})
    assert "another transaction" in refused(chain(other.url, "status", txid), "invalidResponse")
    above = fake({"getrawtransaction": const({"txid": txid, "blockhash": "33" * 32}),
                  "getblockheader": const({"hash": "33" * 32, "height": 110, "confirmations": 1}),
                  "getblockcount": const(102)})
    assert "above the tip" in refused(chain(above.url, "status", txid), "invalidResponse")
