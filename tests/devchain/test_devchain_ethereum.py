"""The Ethereum dev chain as the coordinator will see it: a separate process behind JSON-RPC.

Transactions are built and signed with eth-account and calldata is encoded with eth-abi (neither is
the dev chain's code); the chain hands them to py-evm, which decides. What it accepts is mined with
exactly the balances EIP-1559 says; what it refuses is a JSON-RPC error with geth's message, and each
refusal has a positive control beside it. The KUSD token's committed bytecode is checked against
the pinned Vyper compiler.
"""
import json
import time

import pytest
import rlp
from eth_abi import decode, encode
from eth_account import Account
from eth_utils import keccak, to_checksum_address

from devchain_server import ROOT, DevChain

CHAIN_ID = 1337
TRANSFER = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
APPROVAL = "0x" + keccak(text="Approval(address,address,uint256)").hex()
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
GWEI = 10**9


class Eth(DevChain):
    def __init__(self, tmp, *extra):
        super().__init__(tmp, *extra, module="devchain.ethereum")
        self.next_id = 0

    def raw_rpc(self, method, *params):
        """The whole JSON-RPC answer (result or error)."""
        self.next_id += 1
        status, body, ctype = self.request("POST", "/", {"jsonrpc": "2.0", "id": self.next_id, "method": method,
                                                         "params": list(params)})
        assert status == 200 and ctype == "application/json", (status, body)
        answer = json.loads(body)
        assert answer["jsonrpc"] == "2.0" and answer["id"] == self.next_id, answer
        return answer

    def rpc(self, method, *params):
        answer = self.raw_rpc(method, *params)
        assert "error" not in answer, (method, params, answer)
        return answer["result"]

    def error(self, method, *params) -> dict:
        answer = self.raw_rpc(method, *params)
        assert "error" in answer, (method, params, answer)
        return answer["error"]

    def balance(self, address, block="latest") -> int:
        return int(self.rpc("eth_getBalance", address, block), 16)

    def nonce(self, address, block="latest") -> int:
        return int(self.rpc("eth_getTransactionCount", address, block), 16)

    def base_fee(self) -> int:
        return int(self.rpc("eth_getBlockByNumber", "pending", False)["baseFeePerGas"], 16)

    def send(self, raw: bytes) -> str:
        return self.rpc("eth_sendRawTransaction", "0x" + bytes(raw).hex())

    def refuse(self, raw: bytes) -> dict:
        return self.error("eth_sendRawTransaction", "0x" + bytes(raw).hex())

    def receipt(self, tx_hash):
        return self.rpc("eth_getTransactionReceipt", tx_hash)

    def call(self, to, data: bytes, block="latest") -> bytes:
        return bytes.fromhex(self.rpc("eth_call", {"to": to, "data": "0x" + data.hex()}, block)[2:])


def sel(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def token_balance(eth, token, owner) -> int:
    return decode(["uint256"], eth.call(token, sel("balanceOf(address)") + encode(["address"], [owner])))[0]


def transfer_data(to, amount) -> bytes:
    return sel("transfer(address,uint256)") + encode(["address", "uint256"], [to, amount])


def topic(address: str) -> str:
    return "0x" + "00" * 12 + address[2:].lower()


@pytest.fixture(scope="module")
def eth(tmp_path_factory):
    chain = Eth(tmp_path_factory.mktemp("eth"))
    yield chain
    assert chain.stop() == 0, chain.logs()


@pytest.fixture(scope="module")
def token(eth):
    return eth.rpc("dev_token")["address"]


class Wallet:
    """A key funded by the faucet, signing with eth-account."""

    count = 0

    def __init__(self, eth, ether: int = 10):
        Wallet.count += 1
        self.eth = eth
        self.account = Account.from_key(keccak(text=f"devchain eth test key {Wallet.count} {time.time()}"))
        self.address = self.account.address
        if ether:
            receipt = eth.receipt(eth.rpc("dev_fund", self.address, hex(ether * 10**18)))
            assert receipt["status"] == "0x1"

    def tx(self, **fields) -> dict:
        base = self.eth.base_fee()
        tx = {"type": 2, "chainId": CHAIN_ID, "nonce": self.eth.nonce(self.address, "pending"), "to": "0x" + "22" * 20,
              "value": 1000, "gas": 21000, "maxFeePerGas": 2 * base + GWEI, "maxPriorityFeePerGas": GWEI}
        tx.update(fields)
        return tx

    def sign(self, **fields) -> bytes:
        return bytes(self.account.sign_transaction(self.tx(**fields)).raw_transaction)


def resign_typed(raw: bytes, change) -> bytes:
    """A type-2 transaction with its signature fields (y_parity, r, s: the last three) changed."""
    fields = rlp.decode(raw[1:])
    change(fields)
    return raw[:1] + rlp.encode(fields)


# -- the chain and its token -------------------------------------------------------------------------
def test_identity_blocks_and_the_token_deployed_at_start(eth, token):
    assert eth.rpc("eth_chainId") == hex(CHAIN_ID) and eth.rpc("net_version") == str(CHAIN_ID)
    assert eth.rpc("web3_clientVersion").startswith("kura-devchain/ethereum")
    info = eth.rpc("dev_info")
    faucet = info["faucet"]["address"]
    # The token is the faucet's first contract creation: its address is keccak(rlp([faucet, 0]))[12:].
    assert token == info["token"] == to_checksum_address(keccak(rlp.encode([bytes.fromhex(faucet[2:]), 0]))[12:])
    assert eth.rpc("eth_getCode", token, "latest") != "0x"
    assert decode(["string"], eth.call(token, sel("symbol()")))[0] == "KUSD"
    assert decode(["string"], eth.call(token, sel("name()")))[0] == "Kura Dev USD"
    assert decode(["uint8"], eth.call(token, sel("decimals()")))[0] == 6
    assert eth.rpc("dev_token")["decimals"] == 6 and eth.rpc("dev_token")["symbol"] == "KUSD"
    height = int(eth.rpc("eth_blockNumber"), 16)
    assert height >= 1
    deploy = eth.rpc("eth_getBlockByNumber", "0x1", True)
    assert deploy["transactions"][0]["from"] == faucet.lower() and deploy["transactions"][0]["to"] is None
    assert eth.receipt(deploy["transactions"][0]["hash"])["contractAddress"] == token.lower()
    latest = eth.rpc("eth_getBlockByNumber", "latest", False)
    assert int(latest["number"], 16) == height and int(latest["baseFeePerGas"], 16) > 0
    assert eth.rpc("eth_getBlockByHash", latest["hash"], False) == latest
    assert eth.rpc("eth_getBlockByNumber", "earliest", False)["parentHash"] == "0x" + "00" * 32
    pending = eth.rpc("eth_getBlockByNumber", "pending", False)
    assert int(pending["number"], 16) == height + 1 and pending["hash"] is None
    assert pending["parentHash"] == latest["hash"]
    assert eth.rpc("eth_getBlockByNumber", hex(height + 5), False) is None
    assert eth.rpc("eth_maxPriorityFeePerGas") == hex(GWEI)
    assert int(eth.rpc("eth_gasPrice"), 16) == int(pending["baseFeePerGas"], 16) + GWEI
    fh = eth.rpc("eth_feeHistory", "0x2", "latest", [50])
    assert fh["oldestBlock"] == hex(height - 1) and len(fh["baseFeePerGas"]) == 3 and len(fh["reward"]) == 2
    assert fh["baseFeePerGas"][-1] == pending["baseFeePerGas"]


def test_the_committed_token_bytecode_is_what_the_pinned_vyper_compiles(eth, token):
    import sys

    sys.path.insert(0, str(ROOT))
    from devchain.ethereum.contracts import build

    committed = json.loads(build.ARTIFACT.read_text())
    fresh = build.compile_token()
    assert committed == fresh
    assert fresh["compiler"].startswith("vyper 0.4.3")
    # And the chain deployed exactly that bytecode (its runtime part is in the deployment code).
    runtime = eth.rpc("eth_getCode", token, "latest")[2:]
    assert len(runtime) > 200 and runtime in committed["bytecode"]


# -- accepted transactions ---------------------------------------------------------------------------
def test_an_eip1559_transfer_is_mined_with_exact_balances(eth):
    alice, bob = Wallet(eth), Wallet(eth, ether=0)
    assert eth.balance(alice.address) == 10 * 10**18 and eth.balance(bob.address) == 0
    value = 123_456_789
    tx = alice.tx(to=bob.address, value=value)
    tx_hash = eth.send(bytes(alice.account.sign_transaction(tx).raw_transaction))
    r = eth.receipt(tx_hash)
    block = eth.rpc("eth_getBlockByNumber", r["blockNumber"], True)
    base = int(block["baseFeePerGas"], 16)
    price = min(tx["maxFeePerGas"], base + tx["maxPriorityFeePerGas"])
    assert (r["status"], r["gasUsed"], r["effectiveGasPrice"], r["type"]) == ("0x1", hex(21000), hex(price), "0x2")
    assert r["from"] == alice.address.lower() and r["to"] == bob.address.lower() and r["logs"] == []
    assert eth.balance(alice.address) == 10 * 10**18 - value - 21000 * price
    assert eth.balance(bob.address) == value
    assert eth.nonce(alice.address) == 1
    assert [t["hash"] for t in block["transactions"]] == [tx_hash]  # automine: a block of its own
    got = eth.rpc("eth_getTransactionByHash", tx_hash)
    assert (got["blockHash"], got["from"], got["nonce"], got["value"], got["maxFeePerGas"], got["chainId"]) == (
        block["hash"], alice.address.lower(), "0x0", hex(value), hex(tx["maxFeePerGas"]), hex(CHAIN_ID))
    assert int(got["gasPrice"], 16) == price
    # The block before: the sender's balance then.
    before = hex(int(r["blockNumber"], 16) - 1)
    assert eth.balance(alice.address, before) == 10 * 10**18


def test_eip2930_and_legacy_eip155_transactions_are_accepted(eth):
    w = Wallet(eth)
    price = eth.base_fee() + GWEI
    legacy = {"nonce": 0, "to": "0x" + "33" * 20, "value": 5, "gas": 21000, "gasPrice": price, "chainId": CHAIN_ID}
    access = {**legacy, "type": 1, "nonce": 1, "gas": 23400, "accessList": [{"address": "0x" + "33" * 20, "storageKeys": []}]}
    for tx, kind in ((legacy, "0x0"), (access, "0x1")):
        r = eth.receipt(eth.send(bytes(w.account.sign_transaction(tx).raw_transaction)))
        assert (r["status"], r["type"], r["effectiveGasPrice"], r["gasUsed"]) == ("0x1", kind, hex(price), hex(tx["gas"]))
    assert eth.rpc("eth_getTransactionByHash", r["transactionHash"])["accessList"] == [
        {"address": "0x" + "33" * 20, "storageKeys": []}]
    assert eth.balance("0x" + "33" * 20) >= 10


def test_an_erc20_transfer_moves_balances_and_its_log_is_found(eth, token):
    alice, bob, carol = Wallet(eth), Wallet(eth), Wallet(eth, ether=0)
    mint = eth.receipt(eth.rpc("dev_mintToken", alice.address, hex(5_000_000)))
    assert mint["status"] == "0x1" and mint["logs"][0]["topics"] == [TRANSFER, "0x" + "00" * 32, topic(alice.address)]
    assert token_balance(eth, token, alice.address) == 5_000_000

    data = transfer_data(bob.address, 1_250_000)
    gas = int(eth.rpc("eth_estimateGas", {"from": alice.address, "to": token, "data": "0x" + data.hex()}), 16)
    assert 30_000 < gas < 80_000
    tx_hash = eth.send(alice.sign(to=token, value=0, gas=gas, data=data))
    r = eth.receipt(tx_hash)
    assert r["status"] == "0x1" and int(r["gasUsed"], 16) <= gas
    assert token_balance(eth, token, alice.address) == 3_750_000
    assert token_balance(eth, token, bob.address) == 1_250_000
    (log,) = r["logs"]
    assert log["address"] == token.lower()
    assert log["topics"] == [TRANSFER, topic(alice.address), topic(bob.address)]
    assert int(log["data"], 16) == 1_250_000

    # eth_getLogs: by address and topics over a block range, and by block hash.
    rng = {"fromBlock": "0x1", "toBlock": "latest"}
    found = eth.rpc("eth_getLogs", {**rng, "address": token, "topics": [TRANSFER, topic(alice.address)]})
    assert found == [log]
    assert eth.rpc("eth_getLogs", {**rng, "address": [token], "topics": [TRANSFER, None, topic(bob.address)]}) == [log]
    assert eth.rpc("eth_getLogs", {**rng, "address": token, "topics": [[TRANSFER, APPROVAL], None,
                                                                       [topic(bob.address)]]}) == [log]
    assert eth.rpc("eth_getLogs", {"blockHash": r["blockHash"], "address": token}) == [log]
    assert eth.rpc("eth_getLogs", {**rng, "address": "0x" + "44" * 20, "topics": [TRANSFER]}) == []
    assert eth.rpc("eth_getLogs", {**rng, "topics": [APPROVAL, topic(alice.address)]}) == []
    mints = eth.rpc("eth_getLogs", {**rng, "address": token, "topics": [TRANSFER, "0x" + "00" * 32, topic(alice.address)]})
    assert [x["transactionHash"] for x in mints] == [mint["transactionHash"]]

    # approve + transferFrom, with the Approval event.
    approve = sel("approve(address,uint256)") + encode(["address", "uint256"], [bob.address, 1_000_000])
    ra = eth.receipt(eth.send(alice.sign(to=token, value=0, gas=100_000, data=approve)))
    assert ra["logs"][0]["topics"] == [APPROVAL, topic(alice.address), topic(bob.address)]
    allowance = sel("allowance(address,address)") + encode(["address", "address"], [alice.address, bob.address])
    assert decode(["uint256"], eth.call(token, allowance))[0] == 1_000_000
    pull = sel("transferFrom(address,address,uint256)") + encode(["address", "address", "uint256"],
                                                                 [alice.address, carol.address, 600_000])
    rb = eth.receipt(eth.send(bob.sign(to=token, value=0, gas=100_000, data=pull)))
    assert rb["status"] == "0x1" and rb["logs"][0]["topics"] == [TRANSFER, topic(alice.address), topic(carol.address)]
    assert token_balance(eth, token, carol.address) == 600_000
    assert decode(["uint256"], eth.call(token, allowance))[0] == 400_000
    assert decode(["uint256"], eth.call(token, sel("totalSupply()")))[0] >= 5_000_000


def test_a_token_transfer_above_the_balance_reverts(eth, token):
    alice, bob = Wallet(eth), Wallet(eth, ether=0)
    eth.receipt(eth.rpc("dev_mintToken", alice.address, hex(1_000)))
    ok = transfer_data(bob.address, 1_000)
    too_much = transfer_data(bob.address, 1_001)
    # Positive control: the whole balance estimates.
    assert int(eth.rpc("eth_estimateGas", {"from": alice.address, "to": token, "data": "0x" + ok.hex()}), 16) > 21000
    err = eth.error("eth_estimateGas", {"from": alice.address, "to": token, "data": "0x" + too_much.hex()})
    assert err["code"] == 3 and err["message"] == "execution reverted: ERC20: transfer amount exceeds balance"
    assert bytes.fromhex(err["data"][2:])[:4] == sel("Error(string)")
    assert decode(["string"], bytes.fromhex(err["data"][10:]))[0] == "ERC20: transfer amount exceeds balance"
    err = eth.error("eth_call", {"from": alice.address, "to": token, "data": "0x" + too_much.hex()}, "latest")
    assert err["code"] == 3 and "exceeds balance" in err["message"]
    # Signed and sent anyway: valid, mined, and reverted by the EVM (status 0, no log, gas paid).
    before = eth.balance(alice.address)
    r = eth.receipt(eth.send(alice.sign(to=token, value=0, gas=100_000, data=too_much)))
    assert r["status"] == "0x0" and r["logs"] == []
    assert eth.balance(alice.address) == before - int(r["gasUsed"], 16) * int(r["effectiveGasPrice"], 16)
    assert token_balance(eth, token, alice.address) == 1_000 and token_balance(eth, token, bob.address) == 0
    # Only the minter mints.
    mint = sel("mint(address,uint256)") + encode(["address", "uint256"], [alice.address, 1])
    err = eth.error("eth_estimateGas", {"from": alice.address, "to": token, "data": "0x" + mint.hex()})
    assert err["code"] == 3 and err["message"] == "execution reverted: KUSD: only the minter mints"
    # An ether call beyond the balance.
    err = eth.error("eth_estimateGas", {"from": bob.address, "to": alice.address, "value": hex(1)})
    assert err["code"] == -32000 and err["message"].startswith("insufficient funds for gas * price + value")
    assert eth.rpc("eth_estimateGas", {"from": alice.address, "to": bob.address, "value": hex(1)}) == hex(21000)


def test_pending_transactions_with_automine_off(eth):
    w = Wallet(eth)
    assert eth.rpc("evm_setAutomine", False) is True
    try:
        h1 = eth.send(w.sign(nonce=0))
        h2 = eth.send(w.sign(nonce=1))
        assert eth.nonce(w.address, "latest") == 0 and eth.nonce(w.address, "pending") == 2
        assert eth.receipt(h1) is None and eth.receipt(h2) is None
        got = eth.rpc("eth_getTransactionByHash", h1)
        assert (got["blockHash"], got["blockNumber"], got["transactionIndex"], got["hash"]) == (None, None, None, h1)
        pending = eth.rpc("eth_getBlockByNumber", "pending", False)
        assert pending["transactions"] == [h1, h2] and int(pending["gasUsed"], 16) == 42000
        assert eth.balance(w.address, "pending") < eth.balance(w.address, "latest")
        assert eth.rpc("dev_info")["pending"] == 2
        height = int(eth.rpc("eth_blockNumber"), 16)
        mined = eth.rpc("evm_mine", 3)
        assert mined["number"] == hex(height + 3) and len(mined["blocks"]) == 3
        r1, r2 = eth.receipt(h1), eth.receipt(h2)
        assert r1["blockHash"] == r2["blockHash"] == mined["blocks"][0]
        assert (r1["transactionIndex"], r2["transactionIndex"], r2["cumulativeGasUsed"]) == ("0x0", "0x1", hex(42000))
        assert eth.nonce(w.address, "latest") == 2
    finally:
        eth.rpc("evm_setAutomine", True)


def test_snapshot_and_revert(eth):
    w = Wallet(eth)
    snap = eth.rpc("evm_snapshot")
    height = int(eth.rpc("eth_blockNumber"), 16)
    tx_hash = eth.send(w.sign(value=77))
    eth.rpc("evm_mine")
    assert eth.rpc("evm_revert", snap) is True
    assert int(eth.rpc("eth_blockNumber"), 16) == height
    assert eth.receipt(tx_hash) is None and eth.rpc("eth_getTransactionByHash", tx_hash) is None
    assert eth.nonce(w.address) == 0
    assert eth.rpc("evm_revert", snap) is False  # used up
    assert eth.receipt(eth.send(w.sign(value=77)))["status"] == "0x1"  # the same transaction again


# -- refusals, each beside a positive control --------------------------------------------------------
def test_refused_transactions_have_geths_errors(eth):
    w = Wallet(eth, ether=1)
    poor = Wallet(eth, ether=0)
    base = eth.base_fee()

    def refused(raw, start):
        err = eth.refuse(raw)
        assert err["code"] == -32000 and err["message"].startswith(start), err
        return err["message"]

    refused(w.sign(chainId=1), "invalid sender: invalid chain id for signer: have 1 want 1337")
    refused(w.sign(maxFeePerGas=base - 1, maxPriorityFeePerGas=0), "max fee per gas less than block base fee")
    refused(w.sign(maxFeePerGas=base + GWEI, maxPriorityFeePerGas=base + GWEI + 1),
            "max priority fee per gas higher than max fee per gas")
    refused(w.sign(value=10**18), f"insufficient funds for gas * price + value: address {w.address}")
    refused(w.sign(gas=20_999), "intrinsic gas too low: gas 20999, minimum needed 21000")
    refused(w.sign(gas=30_000_001), "exceeds block gas limit")
    refused(w.sign(nonce=1), f"nonce too high: address {w.address}, tx: 1 state: 0")
    legacy = {"nonce": 0, "to": "0x" + "22" * 20, "value": 1, "gas": 21000, "gasPrice": base + GWEI}
    refused(Account.sign_transaction(legacy, w.account.key).raw_transaction,
            "only replay-protected (EIP-155) transactions allowed over RPC")
    refused(w.account.sign_transaction({**legacy, "chainId": 5}).raw_transaction, "invalid sender: invalid chain id")
    refused(poor.sign(), f"insufficient funds for gas * price + value: address {poor.address} have 0")

    good = w.sign(value=1)
    # Bad signatures: s above n/2 (the same signature's other form), r = 0, and a changed r (which
    # recovers another, unfunded, sender).
    def high_s(f):
        f[-1] = (SECP256K1_N - int.from_bytes(f[-1], "big")).to_bytes(32, "big")
        f[-3] = b"" if f[-3] == b"\x01" else b"\x01"
    refused(resign_typed(good, high_s), "invalid transaction v, r, s values")
    refused(resign_typed(good, lambda f: f.__setitem__(-2, b"")), "invalid sender")
    other_r = resign_typed(good, lambda f: f.__setitem__(-2, (int.from_bytes(f[-2], "big") ^ 1).to_bytes(32, "big")))
    msg = eth.refuse(other_r)["message"]
    assert msg.startswith("invalid sender") or (msg.startswith("insufficient funds") and w.address not in msg), msg
    refused(good + b"\x00", "rlp:")
    refused(b"\x02\xc0", "rlp:")
    refused(b"\x04" + good[1:], "transaction type not supported")
    refused(b"", "typed transaction too short")

    # The positive control: the same transaction, untouched, is accepted; sent again it is known,
    # and another one with its nonce is too late.
    tx_hash = eth.send(good)
    assert eth.receipt(tx_hash)["status"] == "0x1"
    refused(good, "already known")
    refused(w.sign(nonce=0, value=2), f"nonce too low: address {w.address}, tx: 0 state: 1")
    assert eth.receipt(eth.send(w.sign(nonce=1, value=2)))["status"] == "0x1"


def test_json_rpc_protocol_errors(eth):
    # Malformed JSON, a request that is not one, an unknown method, bad params.
    status, body, _ = eth.request("POST", "/", b'{"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"')
    assert status == 200 and json.loads(body) == {"jsonrpc": "2.0", "id": None,
                                                  "error": {"code": -32700, "message": "parse error"}}
    for bad_request in ({"jsonrpc": "1.0", "id": 1, "method": "eth_chainId"}, {"jsonrpc": "2.0", "id": 1},
                        {"jsonrpc": "2.0", "id": [1], "method": "eth_chainId"}, b"5"):
        status, body, _ = eth.request("POST", "/", bad_request)
        assert status == 200 and json.loads(body)["error"]["code"] == -32600, bad_request
    assert eth.error("eth_sendTransaction", {})["code"] == -32601
    assert eth.error("eth_nope")["message"] == "the method eth_nope does not exist/is not available"
    w = "0x" + "ab" * 20
    assert eth.rpc("eth_getBalance", w, "latest") == "0x0"  # the positive control
    for params, why in (((w[2:], "latest"), "an address must be 0x-prefixed hex of 20 bytes"),
                        ((w[:-2], "latest"), "an address must be 0x-prefixed hex of 20 bytes"),
                        ((w, "0x01"), "hex number with leading zero digits"),
                        ((w, "newest"), "unknown block tag"),
                        ((w, 5), "cannot unmarshal"),
                        ((w, "latest", 1), "too many arguments, want at most 2"),
                        ((), "missing value for required argument 0")):
        err = eth.error("eth_getBalance", *params)
        assert err["code"] == -32602 and why in err["message"], (params, err)
    assert eth.error("eth_sendRawTransaction", "0x0")["code"] == -32602  # odd length
    assert eth.error("eth_sendRawTransaction", "02f8") == {"code": -32602, "message": "invalid argument 0: hex string without 0x prefix"}
    assert eth.error("eth_getLogs", {"fromBlock": "0x1", "adress": w})["code"] == -32602
    assert eth.error("eth_call", {"to": w, "data": "0x00", "input": "0x01"})["code"] == -32602
    assert eth.error("evm_mine", 0)["code"] == -32602
    status, body, _ = eth.request("POST", "/", {"jsonrpc": "2.0", "id": 7, "method": "eth_chainId", "params": {}})
    assert json.loads(body)["error"]["code"] == -32602
    assert eth.rpc("eth_getBlockByNumber", "latest", False) is not None
    assert eth.error("eth_getBlockByNumber", "latest")["code"] == -32602

    # A batch: answers in order with their ids, nothing for a notification, errors in place.
    batch = [{"jsonrpc": "2.0", "id": "a", "method": "eth_chainId"},
             {"jsonrpc": "2.0", "method": "eth_blockNumber"},
             {"jsonrpc": "2.0", "id": 2, "method": "eth_nope"},
             {"jsonrpc": "2.0", "id": 3, "method": "net_version", "params": []},
             7]
    status, body, _ = eth.request("POST", "/", batch)
    answers = json.loads(body)
    assert status == 200 and [a.get("id") for a in answers] == ["a", 2, 3, None]
    assert answers[0]["result"] == hex(CHAIN_ID) and answers[1]["error"]["code"] == -32601
    assert answers[2]["result"] == str(CHAIN_ID) and answers[3]["error"]["code"] == -32600
    status, body, _ = eth.request("POST", "/", [])
    assert json.loads(body)["error"] == {"code": -32600, "message": "empty batch"}
    status, body, _ = eth.request("POST", "/", {"jsonrpc": "2.0", "method": "eth_chainId"})
    assert (status, body) == (200, b"")  # a notification alone: no answer

    # HTTP: the body limit, the method, the path, the content type.
    status, _, _ = eth.request("POST", "/", b"[" + b" " * (5 * 1024 * 1024) + b"]")
    assert status == 413
    status, body, _ = eth.request("POST", "/", b"[" + b" " * (4 * 1024 * 1024) + b"]")
    assert status == 200 and json.loads(body)["error"]["message"] == "empty batch"  # under the limit
    assert eth.request("GET", "/")[0] == 405
    assert eth.request("POST", "/rpc", {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"})[0] == 404
    conn_status = _post_with_type(eth, "text/plain")
    assert conn_status == 415 and _post_with_type(eth, "application/json; charset=utf-8") == 200
    assert eth.rpc("eth_chainId") == hex(CHAIN_ID)  # still serving


def _post_with_type(eth, content_type) -> int:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", eth.port, timeout=30)
    try:
        conn.request("POST", "/", body=b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}',
                     headers={"Content-Type": content_type})
        r = conn.getresponse()
        r.read()
        return r.status
    finally:
        conn.close()


# -- the process: options, state file, timer, SIGTERM ------------------------------------------------
def test_chain_id_option_state_file_timer_and_sigterm(tmp_path):
    state = tmp_path / "eth-state.json"
    chain = Eth(tmp_path, "--chain-id", "31337", "--no-automine", "--state", str(state))
    try:
        assert chain.rpc("eth_chainId") == hex(31337) and chain.rpc("dev_info")["automine"] is False
        fund = chain.rpc("dev_fund", "0x" + "55" * 20, hex(10**18))
        assert chain.receipt(fund) is None  # automine off: pending
        chain.rpc("evm_mine")
        assert chain.receipt(fund)["status"] == "0x1"
        w = Wallet(chain, ether=0)
        funded = chain.rpc("dev_fund", w.address, hex(10**18))
        chain.rpc("evm_mine")
        assert chain.receipt(funded)["status"] == "0x1"
        tx = w.tx(chainId=31337, value=9)
        assert chain.refuse(w.sign(chainId=CHAIN_ID))["message"].startswith("invalid sender: invalid chain id")
        pending_hash = chain.send(bytes(w.account.sign_transaction(tx).raw_transaction))
        tip = chain.rpc("eth_getBlockByNumber", "latest", False)
    finally:
        assert chain.stop() == 0, chain.logs()
    assert "devchain: stopped" in chain.logs()
    saved = json.loads(state.read_text())
    assert saved["chain_id"] == 31337 and len(saved["pending"]) == 1

    # Restarted from the state file: the same blocks, the pending transaction still pending; the
    # timer then mines it.
    again = Eth(tmp_path, "--chain-id", "31337", "--state", str(state), "--block-interval", "0.3")
    try:
        assert again.rpc("eth_getBlockByNumber", tip["number"], False)["hash"] == tip["hash"]
        deadline = time.time() + 20
        while again.receipt(pending_hash) is None:
            assert time.time() < deadline, again.logs()
            time.sleep(0.1)
        assert again.balance("0x" + "22" * 20) >= 9
        assert int(again.rpc("eth_blockNumber"), 16) > int(tip["number"], 16)
    finally:
        assert again.stop() == 0, again.logs()

    # A state file for another chain id is refused (exit 2, with the reason).
    with pytest.raises(RuntimeError, match="exited with 2"):
        Eth(tmp_path, "--chain-id", "1337", "--state", str(state))
