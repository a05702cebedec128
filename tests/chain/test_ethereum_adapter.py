"""The Ethereum JSON-RPC adapter of the Ethereum chain port (ChainAdapters), driven through the built
`kura-devtool chain eth-…`.

Against the real dev chain (devchain.ethereum, a separate process behind JSON-RPC): the chain id, blocks and fees
checked against the chain's own answers; transactions signed by eth-account (the oracle) broadcast, their hashes
recomputed by eth-account and their balances exact; a KUSD transfer encoded by eth-abi found by `eth-transfers`;
pending nonces and a receipt that is null until `evm_mine`; the node's refusals passed on. Against small servers of
this file's own: a node that is down, slow, answers garbage or too much, fails once and then answers, answers a
wrong hash or another transaction's receipt, lies about its chain id or reports a removed log. Every refusal sits
beside a positive control.
"""
import base64
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak, to_checksum_address

from conftest import ROOT, run

sys.path.insert(0, str(ROOT / "tests" / "devchain"))
from devchain_server import DevChain  # noqa: E402

EXIT = {"rejected": 65, "notFound": 66, "unavailable": 69, "invalidResponse": 76}
CHAIN_ID = 1337
GWEI = 10**9
TRANSFER = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
FAST = ("--retries", "1", "--backoff-ms", "50", "--timeout", "2")


def chain(url: str, *args, timeout: float = 60):
    """Runs `kura-devtool chain COMMAND --rpc URL ARGS…`."""
    command, *rest = args
    return run("kura-devtool", "chain", command, "--rpc", url, *rest, timeout=timeout)


def ok(proc) -> str:
    assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stderr == b"", proc.stderr
    return proc.stdout.decode()


def ok_json(proc):
    return json.loads(ok(proc))


def refused(proc, code: str) -> str:
    """The reason of a refusal with ChainError code `code` (its exit status and stderr line checked)."""
    err = proc.stderr.decode()
    assert proc.returncode == EXIT[code], (proc.returncode, proc.stdout, err)
    assert proc.stdout == b"", proc.stdout
    prefix = f"kura-devtool: error: {code}: "
    assert err.startswith(prefix) and err.endswith("\n") and err.count("\n") == 1, err
    return err[len(prefix):]


def lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def transfer_data(to: str, amount: int) -> bytes:
    return keccak(text="transfer(address,uint256)")[:4] + encode(["address", "uint256"], [to, amount])


def signed(account, **fields) -> tuple[str, str]:
    """(raw hex, hash) of an EIP-1559 transaction signed by eth-account."""
    tx = {"type": 2, "chainId": CHAIN_ID, "nonce": 0, "to": "0x" + "22" * 20, "value": 1000, "gas": 21000,
          "maxFeePerGas": 3 * GWEI, "maxPriorityFeePerGas": GWEI}
    tx.update(fields)
    s = account.sign_transaction(tx)
    return bytes(s.raw_transaction).hex(), "0x" + bytes(s.hash).hex()


class Eth(DevChain):
    def __init__(self, tmp):
        super().__init__(tmp, module="devchain.ethereum")
        self.url = f"http://127.0.0.1:{self.port}"
        self.next_id = 0

    def rpc(self, method, *params):
        self.next_id += 1
        status, body, _ = self.request("POST", "/", {"jsonrpc": "2.0", "id": self.next_id, "method": method,
                                                     "params": list(params)})
        answer = json.loads(body)
        assert status == 200 and "error" not in answer, (method, params, answer)
        return answer["result"]

    def height(self) -> int:
        return int(self.rpc("eth_blockNumber"), 16)

    def balance(self, address) -> int:
        return int(self.rpc("eth_getBalance", address, "latest"), 16)


@pytest.fixture(scope="module")
def eth(tmp_path_factory):
    process = Eth(tmp_path_factory.mktemp("eth-adapter"))
    yield process
    assert process.stop() == 0, process.logs()


@pytest.fixture(scope="module")
def token(eth):
    return eth.rpc("dev_token")["address"]


def wallet(eth, label: str, ether: int = 10):
    account = Account.from_key(keccak(text=f"kura eth adapter test {label} {time.time()}"))
    if ether:
        assert eth.rpc("eth_getTransactionReceipt", eth.rpc("dev_fund", account.address, hex(ether * 10**18)))
    return account


# MARK: - Against the dev chain


def test_chain_id_blocks_and_fees_are_the_dev_chains(eth, token):
    assert ok_json(chain(eth.url, "eth-chain-id")) == {"chain_id": CHAIN_ID}
    assert ok_json(chain(eth.url, "eth-chain-id", "--chain-id", "1337")) == {"chain_id": CHAIN_ID}
    assert "not the expected 1" in refused(chain(eth.url, "eth-chain-id", "--chain-id", "1"), "invalidResponse")

    height = eth.height()
    assert ok_json(chain(eth.url, "eth-block-number")) == {"block_number": height}
    # Block 1 holds the faucet's deployment of KUSD: a contract creation, `to` null.
    node = eth.rpc("eth_getBlockByNumber", "0x1", True)
    block = ok_json(chain(eth.url, "eth-block", "1"))
    assert (block["number"], block["hash"], block["parent_hash"]) == (1, node["hash"], node["parentHash"])
    [deploy] = block["transactions"]
    faucet = eth.rpc("dev_info")["faucet"]["address"]
    assert deploy == {"hash": node["transactions"][0]["hash"], "from": faucet, "to": None, "value": "0"}
    assert ok_json(chain(eth.url, "eth-block", str(height)))["hash"] == eth.rpc("eth_getBlockByNumber", "latest",
                                                                                 False)["hash"]
    assert "above its latest block" in refused(chain(eth.url, "eth-block", str(height + 1)), "notFound")

    pending = eth.rpc("eth_getBlockByNumber", "pending", False)
    assert ok_json(chain(eth.url, "eth-fees")) == {"base_fee_per_gas": str(int(pending["baseFeePerGas"], 16)),
                                                   "max_priority_fee_per_gas": str(GWEI)}


def test_an_eth_account_transfer_is_broadcast_and_mined_with_exact_balances(eth):
    alice, bob = wallet(eth, "alice"), wallet(eth, "bob", ether=0)
    assert ok_json(chain(eth.url, "eth-nonce", alice.address)) == {"nonce": 0}
    assert ok_json(chain(eth.url, "eth-estimate", "--from", alice.address, "--to", bob.address, "--value",
                         "5")) == {"gas": 21000}
    fees = ok_json(chain(eth.url, "eth-fees"))
    base, tip = int(fees["base_fee_per_gas"]), int(fees["max_priority_fee_per_gas"])
    value = 123_456_789_000
    raw, tx_hash = signed(alice, to=bob.address, value=value, maxFeePerGas=2 * base + tip, maxPriorityFeePerGas=tip)
    assert tx_hash == "0x" + keccak(bytes.fromhex(raw)).hex()
    assert ok_json(chain(eth.url, "eth-broadcast", raw, "--chain-id", "1337")) == {"hash": tx_hash}

    node = eth.rpc("eth_getTransactionReceipt", tx_hash)
    number = int(node["blockNumber"], 16)
    assert ok_json(chain(eth.url, "eth-receipt", tx_hash)) == {
        "block_number": number, "succeeded": True, "gas_used": 21000, "confirmations": eth.height() - number + 1}
    price = int(node["effectiveGasPrice"], 16)
    block_base = int(eth.rpc("eth_getBlockByNumber", hex(number), False)["baseFeePerGas"], 16)
    assert price == min(2 * base + tip, block_base + tip)
    assert eth.balance(alice.address) == 10 * 10**18 - value - 21000 * price
    assert eth.balance(bob.address) == value
    block = ok_json(chain(eth.url, "eth-block", str(number)))
    assert block["transactions"] == [{"hash": tx_hash, "from": alice.address, "to": bob.address, "value": str(value)}]
    assert ok_json(chain(eth.url, "eth-nonce", alice.address)) == {"nonce": 1}

    # Sending it again: the node says "already known"; the adapter finds the receipt and reports the hash.
    assert ok_json(chain(eth.url, "eth-broadcast", raw)) == {"hash": tx_hash}
    # Another transaction with the used nonce: "nonce too low", and the node does not know it: rejected.
    other, _ = signed(alice, to=bob.address, value=value + 1, maxFeePerGas=2 * base + tip, maxPriorityFeePerGas=tip)
    reason = refused(chain(eth.url, "eth-broadcast", other), "rejected")
    assert reason.startswith("nonce too low") and len(reason) <= 242
    # More than the balance: the node's refusal, passed on.
    poor, _ = signed(alice, nonce=1, to=bob.address, value=20 * 10**18, maxFeePerGas=2 * base + tip,
                     maxPriorityFeePerGas=tip)
    assert refused(chain(eth.url, "eth-broadcast", poor), "rejected").startswith("insufficient funds")
    # Not a transaction, or one for another chain: refused before anything is sent.
    assert "does not decode" in refused(chain(eth.url, "eth-broadcast", "00"), "rejected")
    mainnet, _ = signed(alice, nonce=1, chainId=1)
    assert "on chain 1337, the transaction is for chain 1" in refused(chain(eth.url, "eth-broadcast", mainnet),
                                                                       "rejected")
    assert "not the expected 1337" in refused(chain(eth.url, "eth-broadcast", mainnet, "--chain-id", "1337"),
                                              "rejected")
    # An unknown transaction has no receipt.
    assert ok(chain(eth.url, "eth-receipt", "0x" + "ab" * 32)) == "null\n"


def test_pending_nonce_and_a_receipt_that_appears_when_mined(eth):
    w = wallet(eth, "pending")
    assert eth.rpc("evm_setAutomine", False) is True
    try:
        raw0, h0 = signed(w, nonce=0)
        raw1, h1 = signed(w, nonce=1)
        assert ok_json(chain(eth.url, "eth-broadcast", raw0)) == {"hash": h0}
        assert ok_json(chain(eth.url, "eth-broadcast", raw1)) == {"hash": h1}
        assert ok_json(chain(eth.url, "eth-nonce", w.address)) == {"nonce": 2}
        assert int(eth.rpc("eth_getTransactionCount", w.address, "latest"), 16) == 0
        assert ok(chain(eth.url, "eth-receipt", h0)) == "null\n"
        # Pending and sent again: "already known", and the node knows it: success.
        assert ok_json(chain(eth.url, "eth-broadcast", raw0)) == {"hash": h0}
        mined = eth.rpc("evm_mine")
        number = int(mined["number"], 16)
        assert ok_json(chain(eth.url, "eth-receipt", h1)) == {
            "block_number": number, "succeeded": True, "gas_used": 21000, "confirmations": 1}
        eth.rpc("evm_mine", 2)
        assert ok_json(chain(eth.url, "eth-receipt", h0))["confirmations"] == 3
        assert [t["hash"] for t in ok_json(chain(eth.url, "eth-block", str(number)))["transactions"]] == [h0, h1]
    finally:
        eth.rpc("evm_setAutomine", True)


def test_a_kusd_transfer_is_found_by_eth_transfers(eth, token):
    alice, bob, carol = wallet(eth, "kusd alice"), wallet(eth, "kusd bob", ether=0), wallet(eth, "kusd carol", 0)
    start = eth.height() + 1
    mint = eth.rpc("eth_getTransactionReceipt", eth.rpc("dev_mintToken", alice.address, hex(5_000_000)))
    data = transfer_data(bob.address, 1_500_000)
    estimate = ok_json(chain(eth.url, "eth-estimate", "--from", alice.address, "--to", token, "--data", data.hex()))
    assert 21000 < estimate["gas"] < 100_000
    too_much = transfer_data(bob.address, 5_000_001).hex()
    reason = refused(chain(eth.url, "eth-estimate", "--from", alice.address, "--to", token, "--data", too_much),
                     "rejected")
    assert "transfer amount exceeds balance" in reason
    base = int(ok_json(chain(eth.url, "eth-fees"))["base_fee_per_gas"])
    raw, tx_hash = signed(alice, to=token, value=0, data=data, gas=estimate["gas"], maxFeePerGas=2 * base + GWEI)
    assert ok_json(chain(eth.url, "eth-broadcast", raw)) == {"hash": tx_hash}
    receipt = eth.rpc("eth_getTransactionReceipt", tx_hash)
    assert receipt["status"] == "0x1"
    eth.rpc("evm_mine")  # an empty block after it, inside the range
    end = eth.height()

    def transfers(*recipients, extra=()):
        args = [a for r in recipients for a in ("--recipient", r)]
        return lines(ok(chain(eth.url, "eth-transfers", "--token", token, *args, "--from-block", str(start),
                              "--to-block", str(end), *extra)))

    expected = {"token": token, "from": alice.address, "to": bob.address, "amount": "1500000",
                "transaction_hash": tx_hash, "log_index": 0, "block_number": int(receipt["blockNumber"], 16),
                "block_hash": receipt["blockHash"]}
    assert transfers(bob.address) == [expected]
    # The node's own logs agree.
    logs = eth.rpc("eth_getLogs", {"fromBlock": hex(start), "toBlock": hex(end), "address": token,
                                   "topics": [TRANSFER, None, "0x" + "00" * 12 + bob.address[2:].lower()]})
    assert [(x["transactionHash"], int(x["data"], 16)) for x in logs] == [(tx_hash, 1_500_000)]
    # The mint is a transfer from the zero address to alice; carol has none.
    minted = {**expected, "from": to_checksum_address("0x" + "00" * 20), "to": alice.address, "amount": "5000000",
              "transaction_hash": mint["transactionHash"], "block_number": int(mint["blockNumber"], 16),
              "block_hash": mint["blockHash"]}
    assert transfers(alice.address, bob.address, carol.address) == [minted, expected]
    assert transfers(carol.address) == []
    # One block per query gives the same answer.
    assert transfers(alice.address, bob.address, extra=("--max-blocks-per-log-query", "1")) == [minted, expected]


# MARK: - Against servers of our own


def envelope(request_id, **member) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": request_id, **member}).encode()


def result(value, delay: float = 0):
    return lambda rid: (200, envelope(rid, result=value), delay)


def error(code: int, message: str):
    return lambda rid: (200, envelope(rid, error={"code": code, "message": message}), 0)


def http(status: int, body: bytes, delay: float = 0):
    return lambda rid: (status, body, delay)


class FakeNode:
    """A tiny JSON-RPC server answering each method from a list of answers, the last repeated."""

    def __init__(self, methods: dict):
        self.methods = {name: list(answers) for name, answers in methods.items()}
        self.requests: list[tuple[str, dict]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                request = {}
                try:
                    request = json.loads(body)
                    method, rid = request["method"], request["id"]
                except (ValueError, KeyError, TypeError):
                    method, rid = "?", None
                fake.requests.append((method, dict(self.headers), request.get("params") if rid else None))
                answers = fake.methods.get(method)
                if not answers:
                    status, out, delay = 200, envelope(rid, error={"code": -32601, "message": "no such method"}), 0
                else:
                    status, out, delay = (answers.pop(0) if len(answers) > 1 else answers[0])(rid)
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def methods_called(self) -> list[str]:
        return [m for m, _, _ in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake():
    servers = []

    def make(methods):
        servers.append(FakeNode(methods))
        return servers[-1]

    yield make
    for s in servers:
        s.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed when the block ends: nothing listens there


def test_a_node_that_is_down_is_unavailable_within_a_bounded_time(fake):
    start = time.monotonic()
    reason = refused(chain(f"http://127.0.0.1:{closed_port()}", "eth-chain-id", *FAST), "unavailable")
    assert time.monotonic() - start < 15
    assert "after 2 attempt(s)" in reason
    up = fake({"eth_chainId": [result("0x539")]})
    assert ok_json(chain(up.url, "eth-chain-id", *FAST)) == {"chain_id": 1337}


def test_a_slow_node_times_out_as_unavailable(fake):
    slow = fake({"eth_blockNumber": [result("0x5", delay=5)]})
    start = time.monotonic()
    reason = refused(chain(slow.url, "eth-block-number", "--timeout", "1", "--retries", "1", "--backoff-ms", "50"),
                     "unavailable")
    assert time.monotonic() - start < 4.5
    assert "timed out" in reason and len(slow.requests) == 2
    prompt = fake({"eth_blockNumber": [result("0x5", delay=0.2)]})
    assert ok_json(chain(prompt.url, "eth-block-number", "--timeout", "1", "--retries", "0")) == {"block_number": 5}


def test_server_errors_and_rate_limits_are_retried(fake):
    flaky = fake({"eth_blockNumber": [http(500, b"oops"), result("0x2a")]})
    assert ok_json(chain(flaky.url, "eth-block-number", *FAST)) == {"block_number": 42}
    assert len(flaky.requests) == 2
    limited = fake({"eth_blockNumber": [error(-32005, "limit exceeded"), http(429, b"slow down"), result("0x2a")]})
    assert ok_json(chain(limited.url, "eth-block-number", "--retries", "2", "--backoff-ms", "20")) == {
        "block_number": 42}
    assert len(limited.requests) == 3
    # Without retries the same failure is reported, as unavailable.
    once = fake({"eth_blockNumber": [http(503, b"busy"), result("0x2a")]})
    assert "HTTP 503" in refused(chain(once.url, "eth-block-number", "--retries", "0"), "unavailable")
    down = fake({"eth_blockNumber": [http(500, b"oops")]})
    assert "after 2 attempt(s)" in refused(chain(down.url, "eth-block-number", *FAST), "unavailable")
    assert len(down.requests) == 2


@pytest.mark.parametrize("answer,command", [
    (http(200, b"<html>502</html>"), ("eth-block-number",)),
    (http(200, b"\xff\xfe"), ("eth-block-number",)),
    (lambda rid: (200, envelope(rid + 1, result="0x1"), 0), ("eth-block-number",)),  # another id
    (lambda rid: (200, b"[" + envelope(rid, result="0x1") + b"]", 0), ("eth-block-number",)),  # a batch
    (result("0x01"), ("eth-block-number",)),  # a leading zero
    (result("0xA"), ("eth-block-number",)),
    (result(10), ("eth-block-number",)),
    (result(None), ("eth-block-number",)),
    (http(404, b"not here"), ("eth-block-number",)),
    (result("0x" + "1" * 17), ("eth-nonce", "0x" + "11" * 20)),  # above 64 bits
    (error(-32601, "the method does not exist"), ("eth-chain-id",)),
])
def test_garbage_answers_are_invalid_responses_and_not_retried(fake, answer, command):
    methods = {"eth_blockNumber": [answer], "eth_chainId": [answer], "eth_getTransactionCount": [answer]}
    bad = fake(methods)
    refused(chain(bad.url, *command, *FAST), "invalidResponse")
    assert len(bad.requests) == 1


def test_garbage_answers_positive_controls(fake):
    good = fake({"eth_blockNumber": [result("0xa")], "eth_getTransactionCount": [result("0xffffffffffffffff")]})
    assert ok_json(chain(good.url, "eth-block-number", *FAST)) == {"block_number": 10}
    assert ok_json(chain(good.url, "eth-nonce", "0x" + "11" * 20, *FAST)) == {"nonce": 2**64 - 1}


def test_an_oversize_answer_is_refused_before_it_is_buffered(fake):
    big = fake({"eth_blockNumber": [http(200, b" " * 2000 + b"1")]})
    assert "exceeds 1000 bytes" in refused(
        chain(big.url, "eth-block-number", "--max-response-bytes", "1000", *FAST), "invalidResponse")
    assert len(big.requests) == 1
    padded = fake({"eth_blockNumber": [lambda rid: (200, b" " * 900 + envelope(rid, result="0x7"), 0)]})
    assert ok_json(chain(padded.url, "eth-block-number", "--max-response-bytes", "1000", *FAST)) == {"block_number": 7}


def test_fees_out_of_range_are_refused_and_a_missing_pending_block_falls_back_to_eip1559(fake):
    block = {"number": "0x10", "hash": None, "baseFeePerGas": hex(GWEI), "gasUsed": "0x0", "gasLimit": hex(30_000_000)}
    good = fake({"eth_getBlockByNumber": [result(block)], "eth_maxPriorityFeePerGas": [result(hex(2 * GWEI))]})
    assert ok_json(chain(good.url, "eth-fees", *FAST)) == {"base_fee_per_gas": str(GWEI),
                                                           "max_priority_fee_per_gas": str(2 * GWEI)}
    greedy = fake({"eth_getBlockByNumber": [result(block)],
                   "eth_maxPriorityFeePerGas": [result(hex(10_000 * GWEI + 1))]})
    assert "10,000 gwei" in refused(chain(greedy.url, "eth-fees", *FAST), "invalidResponse")
    costly = fake({"eth_getBlockByNumber": [result({**block, "baseFeePerGas": hex(10_001 * GWEI)})],
                   "eth_maxPriorityFeePerGas": [result(hex(GWEI))]})
    assert "baseFeePerGas" in refused(chain(costly.url, "eth-fees", *FAST), "invalidResponse")
    # No pending block: the next base fee from the latest, which was empty (1 gwei − 1/8).
    no_pending = fake({"eth_getBlockByNumber": [result(None), result(block)],
                       "eth_maxPriorityFeePerGas": [result(hex(GWEI))]})
    assert ok_json(chain(no_pending.url, "eth-fees", *FAST))["base_fee_per_gas"] == str(875_000_000)
    assert [p for m, _, p in no_pending.requests if m == "eth_getBlockByNumber"] == [["pending", False],
                                                                                   ["latest", False]]


def test_a_reverting_estimate_is_rejected_with_the_nodes_reason(fake):
    call = ("--from", "0x" + "11" * 20, "--to", "0x" + "22" * 20, "--data", "a9059cbb", *FAST)
    revert = fake({"eth_estimateGas": [error(3, "execution reverted: ERC20: transfer amount exceeds balance")]})
    assert refused(chain(revert.url, "eth-estimate", *call), "rejected") == (
        "execution reverted: ERC20: transfer amount exceeds balance\n")
    assert len(revert.requests) == 1
    good = fake({"eth_estimateGas": [result("0xc350")]})
    assert ok_json(chain(good.url, "eth-estimate", *call)) == {"gas": 50_000}
    [(_, _, params)] = good.requests
    assert params == [{"from": "0x" + "11" * 20, "to": "0x" + "22" * 20, "value": "0x0", "data": "0xa9059cbb"},
                      "pending"]


ACCOUNT = Account.from_key(keccak(text="kura eth adapter fake node key"))


def test_a_wrong_hash_answered_by_send_raw_transaction_is_an_invalid_response(fake):
    raw, tx_hash = signed(ACCOUNT)
    liar = fake({"eth_chainId": [result("0x539")], "eth_sendRawTransaction": [result("0x" + "ab" * 32)]})
    assert f"but the transaction sent is {tx_hash}" in refused(chain(liar.url, "eth-broadcast", raw, *FAST),
                                                               "invalidResponse")
    honest = fake({"eth_chainId": [result("0x539")], "eth_sendRawTransaction": [result(tx_hash)]})
    assert ok_json(chain(honest.url, "eth-broadcast", raw, *FAST)) == {"hash": tx_hash}
    assert honest.methods_called() == ["eth_chainId", "eth_sendRawTransaction"]
    assert honest.requests[1][2] == ["0x" + raw]


def test_a_lying_chain_id_is_reported_and_nothing_is_sent(fake):
    raw, tx_hash = signed(ACCOUNT)
    liar = fake({"eth_chainId": [result("0x1")], "eth_sendRawTransaction": [result(tx_hash)]})
    reason = refused(chain(liar.url, "eth-broadcast", raw, *FAST), "rejected")
    assert reason.startswith("not sent:") and "is on chain 1, the transaction is for chain 1337" in reason
    assert liar.methods_called() == ["eth_chainId"]
    assert "not the expected 1337" in refused(chain(liar.url, "eth-chain-id", "--chain-id", "1337", *FAST),
                                              "invalidResponse")
    # Positive control: the node on the expected chain.
    assert ok_json(chain(liar.url, "eth-chain-id", "--chain-id", "1", *FAST)) == {"chain_id": 1}


def test_a_receipt_for_another_transaction_or_above_the_tip_is_refused(fake):
    _, tx_hash = signed(ACCOUNT)
    receipt = {"transactionHash": tx_hash, "blockNumber": "0x10", "blockHash": "0x" + "cd" * 32, "status": "0x1",
               "gasUsed": "0x5208"}
    good = fake({"eth_getTransactionReceipt": [result(receipt)], "eth_blockNumber": [result("0x12")]})
    assert ok_json(chain(good.url, "eth-receipt", tx_hash, *FAST)) == {
        "block_number": 16, "succeeded": True, "gas_used": 21000, "confirmations": 3}
    other = fake({"eth_getTransactionReceipt": [result({**receipt, "transactionHash": "0x" + "ab" * 32})],
                  "eth_blockNumber": [result("0x12")]})
    assert "got the receipt of 0x" + "ab" * 32 in refused(chain(other.url, "eth-receipt", tx_hash, *FAST),
                                                          "invalidResponse")
    ahead = fake({"eth_getTransactionReceipt": [result(receipt)], "eth_blockNumber": [result("0xf")]})
    assert "above the tip at 15" in refused(chain(ahead.url, "eth-receipt", tx_hash, *FAST), "invalidResponse")


def test_a_retried_or_already_known_broadcast_succeeds_only_when_the_node_knows_it(fake):
    raw, tx_hash = signed(ACCOUNT)
    known_tx = {"hash": tx_hash, "blockHash": None, "blockNumber": None}
    # 502 (the first attempt reached the node, the answer was lost), then "already known": the node has it pending.
    lost = fake({"eth_chainId": [result("0x539")],
                 "eth_sendRawTransaction": [http(502, b"bad gateway"), error(-32000, "already known")],
                 "eth_getTransactionReceipt": [result(None)], "eth_getTransactionByHash": [result(known_tx)]})
    assert ok_json(chain(lost.url, "eth-broadcast", raw, *FAST)) == {"hash": tx_hash}
    assert lost.methods_called() == ["eth_chainId", "eth_sendRawTransaction", "eth_sendRawTransaction",
                                     "eth_getTransactionReceipt", "eth_getTransactionByHash"]
    # "nonce too low" on the first attempt, and the node knows neither a receipt nor the transaction: rejected.
    stranger = fake({"eth_chainId": [result("0x539")],
                     "eth_sendRawTransaction": [error(-32000, "nonce too low: address x, tx: 0 state: 1")],
                     "eth_getTransactionReceipt": [result(None)], "eth_getTransactionByHash": [result(None)]})
    assert refused(chain(stranger.url, "eth-broadcast", raw, *FAST), "rejected").startswith("nonce too low")
    # The node answering the lookup with another transaction is not taken as knowing it.
    confused = fake({"eth_chainId": [result("0x539")], "eth_sendRawTransaction": [error(-32000, "already known")],
                     "eth_getTransactionReceipt": [result(None)],
                     "eth_getTransactionByHash": [result({**known_tx, "hash": "0x" + "ab" * 32})]})
    assert refused(chain(confused.url, "eth-broadcast", raw, *FAST), "rejected") == "already known\n"
    # Another refusal is passed on without a lookup.
    poor = fake({"eth_chainId": [result("0x539")],
                 "eth_sendRawTransaction": [error(-32000, "insufficient funds for gas * price + value\x1b[31m")]})
    assert refused(chain(poor.url, "eth-broadcast", raw, *FAST), "rejected") == (
        "insufficient funds for gas * price + value?[31m\n")
    assert poor.methods_called() == ["eth_chainId", "eth_sendRawTransaction"]


def transfer_log(to: str, removed=False, **change) -> dict:
    log = {"address": "0x" + "ee" * 20, "topics": [TRANSFER, "0x" + "00" * 32, "0x" + "00" * 12 + to[2:].lower()],
           "data": "0x" + (7).to_bytes(32, "big").hex(), "blockNumber": "0x5", "blockHash": "0x" + "cd" * 32,
           "transactionHash": "0x" + "ab" * 32, "transactionIndex": "0x0", "logIndex": "0x0", "removed": removed}
    log.update(change)
    return log


def test_a_removed_log_is_refused(fake):
    to = "0x" + "11" * 20
    args = ("--token", "0x" + "ee" * 20, "--recipient", to, "--from-block", "1", "--to-block", "9", *FAST)
    good = fake({"eth_getLogs": [result([transfer_log(to)])]})
    [line] = lines(ok(chain(good.url, "eth-transfers", *args)))
    assert (line["amount"], line["block_number"], line["from"]) == ("7", 5, "0x" + "00" * 20)
    [(_, _, [query])] = good.requests
    assert query == {"fromBlock": "0x1", "toBlock": "0x9", "address": "0x" + "ee" * 20,
                     "topics": [TRANSFER, None, ["0x" + "00" * 12 + "11" * 20]]}
    removed = fake({"eth_getLogs": [result([transfer_log(to, removed=True)])]})
    assert "marked removed" in refused(chain(removed.url, "eth-transfers", *args), "invalidResponse")
    unasked = fake({"eth_getLogs": [result([transfer_log("0x" + "22" * 20)])]})
    assert "not asked for" in refused(chain(unasked.url, "eth-transfers", *args), "invalidResponse")
    outside = fake({"eth_getLogs": [result([transfer_log(to, blockNumber="0xa")])]})
    assert "outside the range" in refused(chain(outside.url, "eth-transfers", *args), "invalidResponse")


def test_credentials_and_api_keys_are_sent_but_never_printed(fake, tmp_path):
    server = fake({"eth_chainId": [result("0x539")]})
    with_credentials = server.url.replace("http://", "http://alice:hunter2@") + "/v3/path-secret"
    assert ok_json(chain(with_credentials, "eth-chain-id", *FAST)) == {"chain_id": 1337}
    assert server.requests[0][1]["Authorization"] == "Basic " + base64.b64encode(b"alice:hunter2").decode()
    key_file = tmp_path / "key"
    key_file.write_text("t0ken-secret\n")
    assert ok_json(chain(server.url, "eth-chain-id", "--api-key-file", key_file, *FAST)) == {"chain_id": 1337}
    assert server.requests[1][1]["Authorization"] == "Bearer t0ken-secret"
    assert ok_json(chain(server.url, "eth-chain-id", "--api-key-file", key_file, "--api-key-header", "X-API-Key",
                         *FAST)) == {"chain_id": 1337}
    assert server.requests[2][1]["X-API-Key"] == "t0ken-secret" and "Authorization" not in server.requests[2][1]

    port = closed_port()
    proc = chain(f"http://alice:hunter2@127.0.0.1:{port}/v3/path-secret", "eth-chain-id", "--api-key-file", key_file,
                 "--api-key-header", "X-API-Key", *FAST)
    reason = refused(proc, "unavailable")
    assert f"http://127.0.0.1:{port}" in reason
    for secret in ("hunter2", "alice", "path-secret", "t0ken"):
        assert secret not in reason
    # A garbage answer's reason names no secret either.
    garbage = fake({"eth_chainId": [http(200, b"nope")]})
    reason = refused(chain(garbage.url.replace("http://", "http://alice:hunter2@") + "/v3/path-secret",
                           "eth-chain-id", *FAST), "invalidResponse")
    assert "hunter2" not in reason and "path-secret" not in reason
    assert "invalid JSON-RPC URL" in refused(chain("ftp://127.0.0.1:1", "eth-chain-id"), "unavailable")
