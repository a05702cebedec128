"""The Bitcoin chain port's adapters (ChainAdapters), driven through the built `kura-devtool chain …`.

The port conformance tests run each adapter — Esplora (`--esplora URL`) and Bitcoin Core JSON-RPC (`--bitcoind URL`)
— against the same real dev chain (devchain/, one process serving both APIs over one chain): unspent outputs, values
and confirmations checked against the chain's own state and against independent decodings of the previous
transactions (embit and btclib); a transaction signed by the embit oracle broadcast and followed from the mempool
into a block; a double spend rejected; an unknown txid not found; fee rates. Against small Esplora servers of this
file's own (test_bitcoind_adapter.py has Core's): a back end that is down, slow, answers garbage, lies about a
previous transaction, or fails once and then answers. Every refusal sits beside a positive control.
"""
import hashlib
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from btclib.tx import Tx as BtclibTx
from embit.script import Script
from embit.transaction import Transaction, TransactionInput, TransactionOutput

from chain_cli import ok, refused
from conftest import ROOT, run

sys.path.insert(0, str(ROOT / "tests" / "devchain"))
from devchain_keys import Owner, build, key  # noqa: E402
from devchain_server import DevChain  # noqa: E402



def chain(url, *args, timeout: float = 120):
    """Runs `kura-devtool chain ARGS… --esplora URL`, or `--bitcoind URL` when `url` is `("bitcoind", URL)`."""
    command, *rest = args
    flag, url = url if isinstance(url, tuple) else ("esplora", url)
    return run("kura-devtool", "chain", command, f"--{flag}", url, *rest, timeout=timeout)


def lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def scripthash(script: bytes) -> str:
    return hashlib.sha256(script).hexdigest()


@pytest.fixture(scope="module")
def dc(tmp_path_factory):
    chain_process = DevChain(tmp_path_factory.mktemp("esplora-devchain"), rpc=True)
    yield chain_process
    assert chain_process.stop() == 0, chain_process.logs()


ADAPTERS = ["esplora", "bitcoind"]


@pytest.fixture(params=ADAPTERS)
def url(dc, request):
    """The chain source as each adapter reaches it: Esplora's base URL, or Core's RPC URL with its credentials."""
    if request.param == "bitcoind":
        return ("bitcoind", f"http://devchain:devchain@127.0.0.1:{dc.rpc_port}")
    return f"http://127.0.0.1:{dc.port}"


def tag(url) -> str:
    """The adapter's name, to keep each adapter's keys (and so coins) apart on the shared module chain."""
    return url[0] if isinstance(url, tuple) else "esplora"


def lists_mempool_outputs(url) -> bool:
    """Esplora lists outputs still in the mempool; Core's UTXO-set scan lists confirmed ones only (docs/CHAINS.md)."""
    return not isinstance(url, tuple)


# MARK: - Against the dev chain


def test_tip_is_the_dev_chains_height_and_follows_new_blocks(dc, url):
    assert int(ok(chain(url, "tip"))) == dc.height()
    dc.mine(2)
    assert ok(chain(url, "tip")) == f"{dc.height()}\n"


def test_utxos_match_the_chain_and_independent_decodings(dc, url):
    a, b = Owner("wpkh", key(f"esplora a {tag(url)}")), Owner("tr", key(f"esplora b {tag(url)}"))
    unused = Owner("pkh", key(f"esplora c {tag(url)}"))
    f1 = dc.faucet(a.address, 1_000_000)
    f2 = dc.faucet(b.address, 300_000)
    dc.mine(2)
    f3 = dc.faucet(a.address, 250_000, confirm=False)  # an unconfirmed deposit
    tip = dc.height()

    got = lines(ok(chain(url, "utxos", "--script", a.script_bytes.hex(), "--script", b.script_bytes.hex())))
    listed = (f1, f2, f3) if lists_mempool_outputs(url) else (f1, f2)
    assert sorted((o["txid"], o["vout"]) for o in got) == sorted((f["txid"], 0) for f in listed)
    # The dev chain's own view of each script (through Esplora), and the confirmations counted from its tip.
    expected = {}
    for owner in (a, b):
        for u in dc.get(f"/scripthash/{scripthash(owner.script_bytes)}/utxo"):
            s = u["status"]
            confirmations = tip - s["block_height"] + 1 if s["confirmed"] else 0
            if confirmations or lists_mempool_outputs(url):
                expected[(u["txid"], u["vout"])] = (u["value"], owner.script_bytes.hex(), confirmations)
    assert {(o["txid"], o["vout"]): (o["value"], o["script"], o["confirmations"]) for o in got} == expected
    # f1 in its own block, f2 in the next, then two more: 4 confirmations.
    assert expected[(f1["txid"], 0)] == (1_000_000, a.script_bytes.hex(), 4)
    assert (f3["txid"], 0) not in expected or expected[(f3["txid"], 0)][2] == 0

    for o in got:
        raw = bytes.fromhex(o["previous_transaction"])
        assert hashlib.sha256(raw).hexdigest() == o["previous_transaction_sha256"]
        assert dc.text(f"/tx/{o['txid']}/hex") == o["previous_transaction"]
        tx = Transaction.parse(raw)  # embit
        assert tx.txid().hex() == o["txid"]
        assert (tx.vout[o["vout"]].value, tx.vout[o["vout"]].script_pubkey.data.hex()) == (o["value"], o["script"])
        btc = BtclibTx.parse(raw)  # btclib
        assert btc.id.hex() == o["txid"]
        assert (btc.vout[o["vout"]].value, btc.vout[o["vout"]].script_pub_key.script.hex()) == (o["value"], o["script"])

    # A script with nothing: no lines, exit 0. Its own coins only when asked for it.
    assert ok(chain(url, "utxos", "--script", unused.script_bytes.hex())) == ""
    only_b = lines(ok(chain(url, "utxos", "--script", b.script_bytes.hex())))
    assert [(o["txid"], o["value"]) for o in only_b] == [(f2["txid"], 300_000)]
    dc.mine(1)  # confirms f3
    again = {o["txid"]: o["confirmations"] for o in lines(ok(chain(url, "utxos", "--script", a.script_bytes.hex())))}
    assert again == {f1["txid"]: 5, f3["txid"]: 1}


def test_a_broadcast_goes_from_the_mempool_into_a_block_and_a_double_spend_is_rejected(dc, url):
    owner, dest = Owner("wpkh", key(f"esplora spend {tag(url)}")), Owner("wpkh", key(f"esplora dest {tag(url)}"))
    thief = Owner("wpkh", key(f"esplora thief {tag(url)}"))
    f = dc.faucet(owner.address, 500_000)
    coin = (f["txid"], 0, 500_000, owner)
    tx = build([coin], [(dest.script_bytes, 499_000)])  # signed by the embit oracle
    txid = tx.txid().hex()

    # Unknown before it is sent.
    reason = refused(chain(url, "status", txid), "notFound")
    assert txid in reason
    assert ok(chain(url, "broadcast", tx.serialize().hex())) == f"{txid}\n"
    assert txid in dc.mempool()
    assert json.loads(ok(chain(url, "status", txid))) == {"confirmed": False, "confirmations": 0}
    # Sending it again is not an error (the port's contract).
    assert ok(chain(url, "broadcast", tx.serialize().hex())) == f"{txid}\n"

    # A double spend of the same coin: refused with the node's reason.
    theft = build([coin], [(thief.script_bytes, 498_000)])
    reason = refused(chain(url, "broadcast", theft.serialize().hex()), "rejected")
    assert "txn-mempool-conflict" in reason and len(reason) <= 300

    dc.mine(1)
    height = dc.height()
    assert json.loads(ok(chain(url, "status", txid))) == {"confirmed": True, "block_height": height, "confirmations": 1}
    dc.mine(2)
    assert json.loads(ok(chain(url, "status", txid)))["confirmations"] == 3
    reason = refused(chain(url, "broadcast", theft.serialize().hex()), "rejected")
    assert "bad-txns-inputs-missingorspent" in reason
    assert refused(chain(url, "status", theft.txid().hex()), "notFound")
    # Not a transaction at all: refused before anything is sent.
    assert "does not decode" in refused(chain(url, "broadcast", "00"), "rejected")


def test_fee_rates_from_the_dev_chains_estimates(dc, url):
    core = not lists_mempool_outputs(url)
    dc.dev("/dev/fee-estimates", {"2": 25.5, "6": 3.2, "144": 1})
    assert ok(chain(url, "fee-rate", "--target", "2")) == "25500\n"
    assert ok(chain(url, "fee-rate", "--target", "6")) == "3200\n"
    # A target the source has no estimate for: Esplora's table answers with the nearest lower target, Core's
    # estimatesmartfee with the nearest higher one it can estimate.
    assert ok(chain(url, "fee-rate", "--target", "10")) == ("1000\n" if core else "3200\n")
    dc.dev("/dev/fee-estimates", {"2": 25_000, "6": 3.2})  # a lying back end
    assert "outside" in refused(chain(url, "fee-rate", "--target", "2"), "invalidResponse")
    dc.dev("/dev/fee-estimates", {"2": 5})
    assert ok(chain(url, "fee-rate", "--target", "2")) == "5000\n"
    if core:
        dc.dev("/dev/fee-estimates", {})  # a node without enough data
        assert "Insufficient data" in refused(chain(url, "fee-rate", "--target", "2"), "unavailable")
    else:
        assert "no estimate for 1 blocks" in refused(chain(url, "fee-rate", "--target", "1"), "invalidResponse")


# MARK: - Against servers of our own


class FakeEsplora:
    """A tiny HTTP server answering each path from a list of (status, body, delay) answers, the last repeated."""

    def __init__(self, routes: dict):
        self.routes = {path: list(answers) for path, answers in routes.items()}
        self.requests: list[tuple[str, str, str | None]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def handle_one(self):
                fake.requests.append((self.command, self.path, self.headers.get("Authorization")))
                answers = fake.routes.get(self.path)
                status, body, delay = answers.pop(0) if answers and len(answers) > 1 else (
                    answers[0] if answers else (404, b"endpoint does not exist", 0))
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = handle_one

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake():
    servers = []

    def make(routes):
        servers.append(FakeEsplora(routes))
        return servers[-1]

    yield make
    for s in servers:
        s.close()


FAST = ("--retries", "1", "--backoff-ms", "50", "--timeout", "2")


def test_a_back_end_that_is_down_is_unavailable_within_a_bounded_time(fake):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    start = time.monotonic()
    reason = refused(chain(f"http://127.0.0.1:{port}", "tip", *FAST, timeout=30), "unavailable")
    assert time.monotonic() - start < 15
    assert "after 2 attempt(s)" in reason
    # Positive control: the same command against a server that answers.
    up = fake({"/blocks/tip/height": [(200, b"7", 0)]})
    assert ok(chain(up.url, "tip", *FAST)) == "7\n"


def test_a_slow_back_end_times_out_as_unavailable(fake):
    slow = fake({"/blocks/tip/height": [(200, b"5", 5)]})
    start = time.monotonic()
    reason = refused(chain(slow.url, "tip", "--timeout", "1", "--retries", "1", "--backoff-ms", "50"), "unavailable")
    assert time.monotonic() - start < 4.5
    assert "timed out" in reason and len(slow.requests) == 2
    prompt = fake({"/blocks/tip/height": [(200, b"5", 0.2)]})
    assert ok(chain(prompt.url, "tip", "--timeout", "1", "--retries", "0")) == "5\n"


class TricklingServer:
    """Answers every request with a head at once and a 3-byte body whose last 2 bytes come `pause` seconds later."""

    def __init__(self, pause: float):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.pause = pause
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.answer, args=(conn,), daemon=True).start()

    def answer(self, conn):
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\n1")
                time.sleep(self.pause)
                conn.sendall(b"23")
            except OSError:
                pass

    def close(self):
        self.sock.close()


def test_a_body_that_trickles_in_past_the_timeout_is_unavailable():
    slow, prompt = TricklingServer(6), TricklingServer(0.2)
    try:
        start = time.monotonic()
        reason = refused(chain(slow.url, "tip", "--timeout", "1", "--retries", "1", "--backoff-ms", "50"), "unavailable")
        assert time.monotonic() - start < 4.5  # the whole attempt is bounded, not only the head
        assert "timed out (after 2 attempt(s))" in reason
        assert ok(chain(prompt.url, "tip", "--timeout", "1", "--retries", "0")) == "123\n"
    finally:
        slow.close()
        prompt.close()


def test_one_server_error_then_success_is_recovered_by_a_retry(fake):
    flaky = fake({"/blocks/tip/height": [(500, b"oops", 0), (200, b"42", 0)]})
    assert ok(chain(flaky.url, "tip", *FAST)) == "42\n"
    assert len(flaky.requests) == 2
    # Without retries the same failure is reported, as unavailable.
    flaky = fake({"/blocks/tip/height": [(503, b"busy", 0), (200, b"42", 0)]})
    assert "HTTP 503" in refused(chain(flaky.url, "tip", "--retries", "0"), "unavailable")
    # A server that keeps failing: every attempt made, then unavailable.
    down = fake({"/blocks/tip/height": [(500, b"oops", 0)]})
    assert "after 2 attempt(s)" in refused(chain(down.url, "tip", *FAST), "unavailable")
    assert len(down.requests) == 2


@pytest.mark.parametrize("path,body,command", [
    ("/blocks/tip/height", b"<html>502</html>", ("tip",)),
    ("/blocks/tip/height", b"-1", ("tip",)),
    ("/fee-estimates", b"{\"1\": 5,}", ("fee-rate", "--target", "1")),
    ("/fee-estimates", b"{\"1\": 0}", ("fee-rate", "--target", "1")),
    ("/fee-estimates", b"{\"1\": NaN}", ("fee-rate", "--target", "1")),
    ("/fee-estimates", b"\xff\xfe", ("fee-rate", "--target", "1")),
    ("/tx/" + "ab" * 32 + "/status", b"{\"confirmed\": \"no\"}", ("status", "ab" * 32)),
])
def test_garbage_answers_are_invalid_responses(fake, path, body, command):
    bad = fake({path: [(200, body, 0)]})
    refused(chain(bad.url, *command, *FAST), "invalidResponse")
    assert len(bad.requests) == 1  # a garbage answer is not retried


def test_garbage_answers_positive_controls(fake):
    good = fake({"/blocks/tip/height": [(200, b"9", 0)], "/fee-estimates": [(200, b"{\"1\": 5}", 0)],
                 "/tx/" + "ab" * 32 + "/status": [(200, b"{\"confirmed\": false}", 0)]})
    assert ok(chain(good.url, "tip", *FAST)) == "9\n"
    assert ok(chain(good.url, "fee-rate", "--target", "1", *FAST)) == "5000\n"
    assert json.loads(ok(chain(good.url, "status", "ab" * 32, *FAST))) == {"confirmed": False, "confirmations": 0}


def test_an_oversize_answer_is_refused(fake):
    big = fake({"/blocks/tip/height": [(200, b"1" * 2000, 0)]})
    assert "exceeds 1000 bytes" in refused(
        chain(big.url, "tip", "--max-response-bytes", "1000", *FAST), "invalidResponse")
    small = fake({"/blocks/tip/height": [(200, b"1" * 9, 0)]})
    assert ok(chain(small.url, "tip", "--max-response-bytes", "1000", *FAST)) == "111111111\n"


def funding_transaction(script: bytes, value: int, salt: int) -> Transaction:
    """An unsigned transaction paying `value` to `script` (enough for a UTXO proof, which needs no signature)."""
    return Transaction(version=2, locktime=0, vin=[TransactionInput(bytes([salt]) * 32, 0)],
                       vout=[TransactionOutput(value, Script(script))])


def listing_server(fake, owner: Owner, listed: Transaction, served: Transaction, value: int):
    txid = listed.txid().hex()
    utxo = [{"txid": txid, "vout": 0, "status": {"confirmed": True, "block_height": 100}, "value": value}]
    return fake({
        f"/scripthash/{scripthash(owner.script_bytes)}/utxo": [(200, json.dumps(utxo).encode(), 0)],
        f"/tx/{txid}/hex": [(200, served.serialize().hex().encode(), 0)],
        "/blocks/tip/height": [(200, b"104", 0)],
    })


def test_a_utxo_whose_previous_transaction_does_not_match_is_an_invalid_response(fake):
    owner, other = Owner("wpkh", key("fake owner")), Owner("wpkh", key("fake other"))
    honest = funding_transaction(owner.script_bytes, 70_000, 1)
    # Positive control: the honest previous transaction.
    good = listing_server(fake, owner, honest, honest, 70_000)
    [line] = lines(ok(chain(good.url, "utxos", "--script", owner.script_bytes.hex(), *FAST)))
    assert (line["txid"], line["value"], line["confirmations"]) == (honest.txid().hex(), 70_000, 5)
    # Another transaction served for the txid.
    forged = funding_transaction(owner.script_bytes, 70_000, 2)
    bad = listing_server(fake, owner, honest, forged, 70_000)
    reason = refused(chain(bad.url, "utxos", "--script", owner.script_bytes.hex(), *FAST), "invalidResponse")
    assert f"hashes to {forged.txid().hex()}" in reason
    # The right transaction, but the listing lies about the value.
    bad = listing_server(fake, owner, honest, honest, 70_001)
    assert "not the reported 70001 sat" in refused(
        chain(bad.url, "utxos", "--script", owner.script_bytes.hex(), *FAST), "invalidResponse")
    # An output paying a script that was not asked for, listed under the owner's script.
    elsewhere = funding_transaction(other.script_bytes, 70_000, 3)
    bad = listing_server(fake, owner, elsewhere, elsewhere, 70_000)
    assert "not asked for" in refused(
        chain(bad.url, "utxos", "--script", owner.script_bytes.hex(), *FAST), "invalidResponse")
    # A listed output whose previous transaction the server does not know: it contradicts its own listing.
    bad = listing_server(fake, owner, honest, honest, 70_000)
    bad.routes[f"/tx/{honest.txid().hex()}/hex"] = [(404, b"Transaction not found", 0)]
    assert "HTTP 404" in refused(
        chain(bad.url, "utxos", "--script", owner.script_bytes.hex(), *FAST), "invalidResponse")


def test_a_broadcast_is_retried_and_a_retry_refused_because_the_first_got_through_succeeds(fake):
    tx = funding_transaction(Owner("wpkh", key("fake broadcast")).script_bytes, 9_000, 4)
    txid = tx.txid().hex()
    status = json.dumps({"confirmed": True, "block_height": 10}).encode()
    # 500, then the txid: the retry recovers.
    flaky = fake({"/tx": [(500, b"oops", 0), (200, txid.encode(), 0)]})
    assert ok(chain(flaky.url, "broadcast", tx.serialize().hex(), *FAST)) == f"{txid}\n"
    assert [r[:2] for r in flaky.requests] == [("POST", "/tx"), ("POST", "/tx")]
    # 502 (the first attempt reached the node, the answer was lost), then the node refuses the copy because it
    # has the transaction: the adapter asks for its status, finds it, and reports success.
    known = fake({"/tx": [(502, b"bad gateway", 0), (400, b"Transaction outputs already in utxo set", 0)],
                  f"/tx/{txid}/status": [(200, status, 0)], "/blocks/tip/height": [(200, b"12", 0)]})
    assert ok(chain(known.url, "broadcast", tx.serialize().hex(), *FAST)) == f"{txid}\n"
    # Positive control: the same refusal on the first attempt is the node's rejection, passed on.
    first = fake({"/tx": [(400, b"Transaction outputs already in utxo set", 0)],
                  f"/tx/{txid}/status": [(200, status, 0)], "/blocks/tip/height": [(200, b"12", 0)]})
    assert refused(chain(first.url, "broadcast", tx.serialize().hex(), *FAST), "rejected") == (
        "Transaction outputs already in utxo set\n")
    assert [r[:2] for r in first.requests] == [("POST", "/tx")]
    # A server that answers another txid than the transaction's: invalidResponse.
    liar = fake({"/tx": [(200, ("ab" * 32).encode(), 0)]})
    assert "but the transaction sent is" in refused(
        chain(liar.url, "broadcast", tx.serialize().hex(), *FAST), "invalidResponse")


def test_credentials_in_the_url_are_sent_but_never_printed(fake):
    server = fake({"/blocks/tip/height": [(200, b"3", 0)]})
    with_credentials = server.url.replace("http://", "http://alice:hunter2@")
    assert ok(chain(with_credentials, "tip", *FAST)) == "3\n"
    assert server.requests[0][2] == "Basic YWxpY2U6aHVudGVyMg=="  # alice:hunter2
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = chain(f"http://alice:hunter2@127.0.0.1:{port}/api", "tip", *FAST, timeout=30)
    reason = refused(proc, "unavailable")
    assert "hunter2" not in reason and "alice" not in reason and f"127.0.0.1:{port}/api" in reason
    assert len(reason) <= 600
    # However long the base URL, the reason stays bounded (480 characters and an ellipsis).
    long_reason = refused(chain(f"http://127.0.0.1:{port}/" + "p" * 1500, "tip", *FAST, timeout=30), "unavailable")
    assert 400 < len(long_reason) <= 482 and long_reason.endswith("…\n")


def test_a_bad_url_is_refused_before_any_request(fake):
    assert "scheme must be http or https" in refused(chain("ftp://127.0.0.1:1", "tip"), "unavailable")
