"""The dev chain's Bitcoin Core JSON-RPC, driven over HTTP with the stdlib, beside its Esplora API
(same process, same chain): every answer is compared with Esplora's and with an independent reading
of the raw bytes (embit, btclib); every refusal carries Bitcoin Core's code and has a positive
control beside it."""
import hashlib
import http.client
import json
import re
from decimal import Decimal

import pytest
from btclib.block import Block as BtclibBlock
from embit.descriptor.checksum import add_checksum
from embit.networks import NETWORKS
from embit.transaction import Transaction

from devchain_keys import Owner, build, key
from devchain_server import DevChain

NET = NETWORKS["regtest"]
GENESIS = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
COIN = Decimal(100_000_000)


@pytest.fixture(scope="module")
def dc(tmp_path_factory):
    chain = DevChain(tmp_path_factory.mktemp("corerpc"), rpc=True)
    yield chain
    assert chain.stop() == 0, chain.logs()
    assert not chain.cookie_file.exists()  # removed at exit, as Core removes its .cookie


def owner(label: str, kind: str = "wpkh") -> Owner:
    return Owner(kind, key("corerpc " + label))


def btc(sats: int) -> Decimal:
    return Decimal(sats) / COIN


def fund(dc, who: Owner, sats: int, confirm: bool = True) -> dict:
    return dc.faucet(who.address, sats, confirm)


def test_authentication_and_http_surface(dc):
    body = {"method": "getblockcount", "id": 1}
    for auth in (None, ("devchain", "wrong"), ("someone", "devchain"), ("__cookie__", "00" * 32)):
        status, text, headers = dc.rpc_request(body, auth=auth)
        assert (status, text) == (401, b""), auth
        assert headers["www-authenticate"] == 'Basic realm="jsonrpc"'
    status, text, _ = dc.rpc_request(body, headers={"Authorization": "Basic !!notbase64"}, auth=None)
    assert (status, text) == (401, b"")
    # Positive controls: the default user and the cookie file's credentials.
    assert json.loads(dc.rpc_request(body)[1]) == {"result": dc.height(), "error": None, "id": 1}
    cookie_user, cookie_password = dc.cookie_file.read_text().split(":")
    assert cookie_user == "__cookie__" and re.fullmatch(r"[0-9a-f]{64}", cookie_password)
    assert dc.rpc_request(body, auth=(cookie_user, cookie_password))[0] == 200
    # POST only; "/" (and Core's /wallet/ paths) only.
    assert dc.rpc_request(None, method="GET")[:2] == (405, b"JSONRPC server handles only POST requests")
    assert dc.rpc_request(body, path="/nope")[0] == 404
    assert dc.rpc_request(body, path="/wallet/w")[0] == 200
    # The Esplora port goes on answering, without credentials.
    assert dc.text("/blocks/tip/height") == str(dc.height())


def test_blocks_agree_with_esplora_and_btclib(dc):
    tip_height = dc.height()
    tip = dc.text("/blocks/tip/hash")
    info = dc.rpc("getblockchaininfo")
    assert (info["chain"], info["blocks"], info["headers"], info["bestblockhash"]) == ("regtest", tip_height,
                                                                                      tip_height, tip)
    assert info["mediantime"] == dc.get(f"/block/{tip}")["mediantime"]
    net = dc.rpc("getnetworkinfo")
    assert net["version"] >= 270000 and net["subversion"].startswith("/Satoshi:")
    assert dc.rpc("getblockcount") == tip_height and dc.rpc("getbestblockhash") == tip
    assert dc.rpc("getblockhash", 0) == GENESIS
    assert dc.rpc("getblockhash", tip_height) == tip == dc.text(f"/block-height/{tip_height}")
    assert dc.rpc("getindexinfo") == {"txindex": {"synced": True, "best_block_height": tip_height}}

    genesis = dc.rpc("getblockheader", GENESIS)
    assert "previousblockhash" not in genesis and genesis["nextblockhash"] == dc.rpc("getblockhash", 1)
    assert (genesis["height"], genesis["confirmations"], genesis["bits"]) == (0, tip_height + 1, "207fffff")
    header = dc.rpc("getblockheader", tip, True)
    esplora = dc.get(f"/block/{tip}")
    assert (header["height"], header["confirmations"], header["previousblockhash"], header["merkleroot"],
            header["time"], header["nonce"], header["nTx"]) == (
        tip_height, 1, esplora["previousblockhash"], esplora["merkle_root"], esplora["timestamp"], esplora["nonce"],
        esplora["tx_count"])
    assert "nextblockhash" not in header
    assert int(header["chainwork"], 16) == 2 * (tip_height + 1)  # regtest work: 2 per block
    assert dc.rpc("getblockheader", tip, False) == dc.text(f"/block/{tip}/header")
    assert dc.rpc("getblockheader", named={"blockhash": tip, "verbose": False}) == dc.text(f"/block/{tip}/header")

    raw = bytes.fromhex(dc.rpc("getblock", tip, 0))
    assert raw == dc.request("GET", f"/block/{tip}/raw")[1]
    parsed = BtclibBlock.parse(raw, check_validity=True)
    assert parsed.header.hash.hex() == tip
    block = dc.rpc("getblock", tip)  # verbosity 1 by default
    assert block["tx"] == dc.get(f"/block/{tip}/txids") == [t.id.hex() for t in parsed.transactions]
    assert (block["size"], block["weight"]) == (esplora["size"], esplora["weight"])
    full = dc.rpc("getblock", tip, 2)
    coinbase = full["tx"][0]
    assert "coinbase" in coinbase["vin"][0] and "fee" not in coinbase
    assert coinbase["hex"] == parsed.transactions[0].serialize(include_witness=True, check_validity=False).hex()


def test_a_coin_funded_spent_and_mined_in_every_view(dc):
    recv, dest, change = owner("recv"), owner("dest"), owner("change", "tr")
    f = fund(dc, recv, 1_000_000)
    funding_block = f["status"]["block_hash"]
    # getrawtransaction: hex as Esplora's, read by embit; verbose with the block fields.
    hex0 = dc.rpc("getrawtransaction", f["txid"])
    assert hex0 == dc.rpc("getrawtransaction", f["txid"], False) == dc.text(f"/tx/{f['txid']}/hex")
    funding = Transaction.from_string(hex0)
    status, reply, body = dc.rpc_call("getrawtransaction", f["txid"], True)
    v = reply["result"]
    assert (v["txid"], v["hex"], v["blockhash"], v["confirmations"]) == (f["txid"], hex0, funding_block, 1)
    assert v["blocktime"] == v["time"] == dc.get(f"/block/{funding_block}")["timestamp"]
    assert v["hash"] == hashlib.sha256(hashlib.sha256(funding.serialize()).digest()).digest()[::-1].hex()
    assert b'"value":0.01000000' in body  # BTC as a JSON number with 8 decimals, as Core writes it
    for n, out in enumerate(funding.vout):
        j = v["vout"][n]
        assert (j["n"], j["value"], j["scriptPubKey"]["hex"]) == (n, btc(out.value), out.script_pubkey.data.hex())
        assert j["scriptPubKey"]["address"] == out.script_pubkey.address(NET)
        assert j["scriptPubKey"]["type"] == "witness_v0_keyhash"
        assert j["scriptPubKey"]["desc"] == add_checksum(f"addr({out.script_pubkey.address(NET)})")
    assert v["vin"][0]["txinwitness"] == [w.hex() for w in funding.vin[0].witness.items]
    esplora_tx = dc.get(f"/tx/{f['txid']}")
    assert [o["value"] for o in esplora_tx["vout"]] == [int(o["value"] * COIN) for o in v["vout"]]
    assert (v["size"], v["weight"]) == (esplora_tx["size"], esplora_tx["weight"])
    # verbosity 2: the fee and every input's prevout (from the faucet's coin); with the block hash.
    v2 = dc.rpc("getrawtransaction", f["txid"], 2, funding_block)
    assert v2["in_active_chain"] is True and v2["fee"] == btc(esplora_tx["fee"])
    prevout = v2["vin"][0]["prevout"]
    assert prevout["value"] == btc(esplora_tx["vin"][0]["prevout"]["value"])
    assert prevout["scriptPubKey"]["address"] == esplora_tx["vin"][0]["prevout"]["scriptpubkey_address"]

    # gettxout and scantxoutset on the confirmed coin, as Esplora's /utxo.
    out = dc.rpc("gettxout", f["txid"], 0)
    assert out == {"bestblock": dc.text("/blocks/tip/hash"), "confirmations": 1, "value": Decimal("0.01"),
                   "scriptPubKey": {"asm": f"0 {recv.script_bytes[2:].hex()}",
                                    "desc": add_checksum(f"addr({recv.address})"), "hex": recv.script_bytes.hex(),
                                    "address": recv.address, "type": "witness_v0_keyhash"},
                   "coinbase": False}
    assert dc.rpc("gettxout", f["txid"], 5) is None and dc.rpc("gettxout", "ab" * 32, 0) is None
    scanned = dc.rpc("scantxoutset", "start", [f"addr({recv.address})"])
    assert scanned["success"] is True and scanned["height"] == dc.height()
    assert scanned["bestblock"] == dc.text("/blocks/tip/hash")
    assert [(u["txid"], u["vout"], int(u["amount"] * COIN)) for u in scanned["unspents"]] == [
        (c["txid"], c["vout"], c["value"]) for c in dc.get(f"/address/{recv.address}/utxo")]
    unspent = scanned["unspents"][0]
    assert (unspent["scriptPubKey"], unspent["desc"], unspent["coinbase"], unspent["height"], unspent["blockhash"]) == (
        recv.script_bytes.hex(), add_checksum(f"addr({recv.address})"), False, f["status"]["block_height"],
        funding_block)
    assert scanned["total_amount"] == Decimal("0.01")
    # The same coin through raw() with embit's checksum, and a {"desc": …} object.
    again = dc.rpc("scantxoutset", "start", [add_checksum(f"raw({recv.script_bytes.hex()})"),
                                             {"desc": add_checksum(f"addr({recv.address})")}])
    assert again["unspents"] == scanned["unspents"]

    # A spend signed by embit: sendrawtransaction, then the mempool views.
    tx = build([(f["txid"], 0, 1_000_000, recv)], [(dest.script_bytes, 600_000), (change.script_bytes, 399_000)])
    txid = tx.txid().hex()
    assert dc.rpc("sendrawtransaction", tx.serialize().hex()) == txid
    assert dc.rpc("sendrawtransaction", tx.serialize().hex()) == txid  # already in the mempool: its txid again
    assert dc.rpc("getrawmempool") == dc.mempool() == [txid]
    entry = dc.rpc("getmempoolentry", txid)
    assert entry == dc.rpc("getrawmempool", True)[txid]
    assert entry["fees"]["base"] == btc(1_000) and entry["wtxid"] == hashlib.sha256(
        hashlib.sha256(tx.serialize()).digest()).digest()[::-1].hex()
    assert entry["vsize"] == (dc.get(f"/tx/{txid}")["weight"] + 3) // 4
    assert (entry["height"], entry["depends"], entry["spentby"], entry["ancestorcount"]) == (dc.height(), [], [], 1)
    mem = dc.rpc("getrawtransaction", txid, 2)
    assert "blockhash" not in mem and "confirmations" not in mem and "fee" not in mem  # as Core: no undo data
    assert dc.rpc("gettxout", f["txid"], 0) is None  # spent by a mempool transaction
    assert dc.rpc("gettxout", f["txid"], 0, False)["confirmations"] == 1  # the UTXO set alone
    unconfirmed = dc.rpc("gettxout", txid, 1)
    assert unconfirmed["confirmations"] == 0 and unconfirmed["value"] == btc(399_000)
    assert unconfirmed["scriptPubKey"]["type"] == "witness_v1_taproot"
    assert unconfirmed["scriptPubKey"]["desc"].startswith(f"rawtr({change.script_bytes[2:].hex()})#")
    assert dc.rpc("gettxout", txid, 1, False) is None
    # scantxoutset reads the confirmed UTXO set: the spent coin is still there, the new ones not yet.
    assert dc.rpc("scantxoutset", "start", [f"addr({recv.address})"])["unspents"] == scanned["unspents"]
    assert dc.rpc("scantxoutset", "start", [f"addr({dest.address})"])["unspents"] == []

    # Mined with generatetoaddress: every view moves on.
    miner = owner("miner")
    [block_hash] = dc.rpc("generatetoaddress", 1, miner.address)
    assert dc.text("/blocks/tip/hash") == block_hash and dc.rpc("getrawmempool") == []
    assert dc.rpc("getblock", block_hash)["tx"][1] == txid
    assert dc.rpc_error("getmempoolentry", txid)["code"] == -5  # mined: out of the mempool
    mined = dc.rpc("getrawtransaction", txid, 1)
    assert (mined["blockhash"], mined["confirmations"]) == (block_hash, 1)
    assert dc.rpc("gettxout", txid, 0)["confirmations"] == 1
    assert [(u["txid"], u["vout"]) for u in dc.rpc("scantxoutset", "start", [f"addr({dest.address})"])["unspents"]] \
        == [(txid, 0)]
    assert dc.rpc("scantxoutset", "start", [f"addr({recv.address})"])["unspents"] == []
    coinbase = dc.rpc("gettxout", dc.rpc("getblock", block_hash)["tx"][0], 0)
    assert coinbase["coinbase"] is True and coinbase["scriptPubKey"]["address"] == miner.address
    assert coinbase["value"] == Decimal(50) + btc(1_000)  # subsidy + the fee
    block3 = dc.rpc("getblock", block_hash, 3)
    spent = block3["tx"][1]
    assert spent["fee"] == btc(1_000) and spent["vin"][0]["prevout"]["height"] == f["status"]["block_height"]
    assert spent["vin"][0]["prevout"]["generated"] is False
    assert [Decimal(o["value"]) for o in spent["vout"]] == [btc(600_000), btc(399_000)]


def test_refusals_carry_cores_codes_beside_positive_controls(dc):
    recv, dest = owner("ref recv"), owner("ref dest")
    f1, f2 = fund(dc, recv, 1_000_000), fund(dc, recv, 500_000)
    coin1, coin2 = (f1["txid"], 0, 1_000_000, recv), (f2["txid"], 0, 500_000, recv)

    def refused(raw_hex, code, reason, *extra):
        before = (dc.mempool(), dc.text("/blocks/tip/hash"))
        err = dc.rpc_error("sendrawtransaction", raw_hex, *extra)
        assert err["code"] == code and err["message"].startswith(reason), err
        assert (dc.mempool(), dc.text("/blocks/tip/hash")) == before
        return err["message"]

    a = build([coin1], [(dest.script_bytes, 990_000)])
    refused("zz", -22, "TX decode failed")
    refused(a.serialize().hex()[:-2], -22, "TX decode failed")
    bad = Transaction.parse(a.serialize())
    sig = bytearray(bad.vin[0].witness.items[0])
    sig[10] ^= 1
    bad.vin[0].witness.items[0] = bytes(sig)
    refused(bad.serialize().hex(), -26, "mandatory-script-verify-flag-failed")
    refused(build([("cd" * 32, 0, 1_000_000, recv)], [(dest.script_bytes, 990_000)]).serialize().hex(),
            -25, "bad-txns-inputs-missingorspent")
    refused(a.serialize().hex(), -25, "Fee exceeds maximum", 0.00001)  # 10,000 sat at 1 sat/vB at most
    refused(a.serialize().hex(), -25, "Fee exceeds maximum", "0.00001")
    assert dc.rpc_error("sendrawtransaction", a.serialize().hex(), -1)["code"] == -3  # a negative maxfeerate
    assert dc.rpc_error("sendrawtransaction", a.serialize().hex(), 1)["code"] == -8  # 1 BTC/kvB or more
    # testmempoolaccept: allowed, and nothing enters the mempool.
    [test] = dc.rpc("testmempoolaccept", [a.serialize().hex()])
    assert (test["txid"], test["allowed"], test["fees"]["base"]) == (a.txid().hex(), True, btc(10_000))
    assert dc.mempool() == []
    # Positive control: the same transaction, default maxfeerate (then 0: no limit, and already known).
    assert dc.rpc("sendrawtransaction", a.serialize().hex()) == a.txid().hex()
    assert dc.rpc("sendrawtransaction", a.serialize().hex(), 0) == a.txid().hex()
    [test] = dc.rpc("testmempoolaccept", [a.serialize().hex()])
    assert (test["allowed"], test["reject-reason"]) == (False, "txn-already-in-mempool")
    double = build([coin1], [(dest.script_bytes, 980_000)])
    refused(double.serialize().hex(), -26, "txn-mempool-conflict")
    [test] = dc.rpc("testmempoolaccept", [double.serialize().hex()])
    assert (test["allowed"], test["reject-reason"]) == (False, "txn-mempool-conflict")
    b = build([coin2], [(dest.script_bytes, 490_000)])  # control: the other coin
    assert dc.rpc("sendrawtransaction", b.serialize().hex()) == b.txid().hex()
    dc.mine(1)
    message = refused(double.serialize().hex(), -25, "bad-txns-inputs-missingorspent")
    assert f"was spent by {a.txid().hex()}" in message
    refused(a.serialize().hex(), -27, "Transaction outputs already in utxo set")
    # Positive control: a confirmed, unspent output spends.
    last = build([(a.txid().hex(), 0, 990_000, dest)], [(recv.script_bytes, 980_000)])
    assert dc.rpc("sendrawtransaction", last.serialize().hex()) == last.txid().hex()

    # Reads of what is not there.
    assert dc.rpc_error("getrawtransaction", "ab" * 32)["message"].startswith("No such mempool or blockchain transaction")
    assert dc.rpc_error("getrawtransaction", "ab" * 32, True)["code"] == -5
    assert dc.rpc_error("getrawtransaction", GENESIS.replace("0f", "4a", 1))["code"] == -5
    genesis_coinbase = dc.rpc("getblock", GENESIS)["tx"][0]
    assert "genesis block coinbase" in dc.rpc_error("getrawtransaction", genesis_coinbase)["message"]
    assert dc.rpc_error("getrawtransaction", a.txid().hex(), 1, GENESIS)["code"] == -5  # not in that block
    assert dc.rpc_error("getrawtransaction", a.txid().hex(), 1, "ab" * 32)["message"] == "Block hash not found"
    assert dc.rpc_error("getrawtransaction", "xyz")["code"] == -8
    assert dc.rpc("getrawtransaction", a.txid().hex(), 1)["confirmations"] == 1  # control
    height = dc.height()
    for h in (height + 1, -1):
        assert dc.rpc_error("getblockhash", h) == {"code": -8, "message": "Block height out of range"}
    assert dc.rpc("getblockhash", height) == dc.text("/blocks/tip/hash")  # control
    assert dc.rpc_error("getblock", "ab" * 32) == {"code": -5, "message": "Block not found"}
    assert dc.rpc_error("getblockheader", "ab" * 32) == {"code": -5, "message": "Block not found"}
    assert dc.rpc_error("getblockheader", "abc") == {"code": -8,
                                                     "message": "blockhash must be of length 64 (not 3, for 'abc')"}
    assert dc.rpc_error("getblock", "zz" * 32)["code"] == -8
    assert dc.rpc_error("getmempoolentry", a.txid().hex()) == {"code": -5, "message": "Transaction not in mempool"}
    assert dc.rpc("getmempoolentry", last.txid().hex())["fees"]["base"] == btc(10_000)  # control

    # Descriptors: checksums checked when present (BIP-0380), Core's messages, code -5.
    good = add_checksum(f"addr({dest.address})")
    # Control: a's and b's outputs are confirmed and unspent in the UTXO set (last spends a's in the mempool).
    assert sorted(u["txid"] for u in dc.rpc("scantxoutset", "start", [good])["unspents"]) == sorted(
        [a.txid().hex(), b.txid().hex()])
    wrong = good[:-1] + ("q" if good[-1] != "q" else "p")
    err = dc.rpc_error("scantxoutset", "start", [wrong])
    assert err["code"] == -5 and err["message"] == (f"Provided checksum '{wrong.split('#')[1]}' does not match "
                                                    f"computed checksum '{good.split('#')[1]}'")
    assert dc.rpc_error("scantxoutset", "start", [good + "#x"])["message"] == "Multiple '#' symbols"
    assert dc.rpc_error("scantxoutset", "start", [good[:-1]])["message"].startswith("Expected 8 character checksum")
    assert dc.rpc_error("scantxoutset", "start", ["raw(zz)"])["message"] == "Raw script is not hex"
    assert dc.rpc_error("scantxoutset", "start", ["addr(bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4)"])["code"] == -5
    assert dc.rpc_error("scantxoutset", "start", ["nothing(1)"])["code"] == -5
    assert dc.rpc_error("scantxoutset", "start", [{"desc": good, "range": 10}])["code"] == -8
    assert dc.rpc_error("scantxoutset", "start", [5])["code"] == -8
    assert dc.rpc_error("scantxoutset", "begin", [good])["code"] == -8
    assert dc.rpc_error("scantxoutset", "start")["code"] == -1
    assert dc.rpc("scantxoutset", "status") is None and dc.rpc("scantxoutset", "abort") is False


def test_json_rpc_wire_errors_and_batches(dc):
    # Method not found: 404 with the JSON error (legacy), the id echoed.
    status, reply, _ = dc.rpc_call("getwalletinfo", id="abc")
    assert (status, reply) == (404, {"result": None, "error": {"code": -32601, "message": "Method not found"},
                                     "id": "abc"})
    # Bad parameters, each with a control.
    assert dc.rpc_error("getblockhash", "1")["code"] == -3
    assert "Position 1 (height)" in dc.rpc_error("getblockhash", "1")["message"]
    assert dc.rpc_error("getblockhash")["code"] == -1  # too few: the usage text, as Core
    assert dc.rpc_error("getblockcount", 1)["code"] == -1  # too many
    assert dc.rpc_error("getblockhash", named={"hieght": 0}) == {"code": -8, "message": "Unknown named parameter hieght"}
    assert dc.rpc_error("getblockhash", 1.5)["code"] == -1
    assert dc.rpc("getblockhash", named={"height": 0}) == GENESIS
    assert dc.rpc_error("gettxout", "ab" * 32, 0, "yes")["code"] == -3
    assert dc.rpc("gettxout", "ab" * 32, 0, True) is None

    def raw(body, expect_status, code):
        status, text, headers = dc.rpc_request(body)
        assert status == expect_status, (body[:80], status, text)
        reply = json.loads(text)
        assert reply["result"] is None and reply["error"]["code"] == code, (body[:80], text)
        return reply

    raw(b"{not json", 500, -32700)
    raw(b"\xff\xfe\x00garbage", 500, -32700)
    raw(b"", 500, -32700)
    raw(b'{"method": "getblockcount", "params": [NaN]}', 500, -32700)
    raw(b"[" * 100_000 + b"]" * 100_000, 500, -32700)  # too deep: refused, not a crash
    raw(b"5", 500, -32700)  # Top-level object parse error
    raw(b'{"params": []}', 400, -32600)  # Missing method
    raw(b'{"method": 5}', 400, -32600)
    raw(b'{"method": "getblockcount", "params": 5}', 400, -32600)
    raw(b'{"jsonrpc": "3.0", "method": "getblockcount"}', 400, -32600)
    # Oversize: refused on its declared length, before reading it.
    conn = http.client.HTTPConnection("127.0.0.1", dc.rpc_port, timeout=30)
    conn.putrequest("POST", "/")
    conn.putheader("Authorization", "Basic ZGV2Y2hhaW46ZGV2Y2hhaW4=")
    conn.putheader("Content-Length", str(32 * 1024 * 1024 + 1))
    conn.endheaders()
    assert conn.getresponse().status == 413
    conn.close()
    # Still serving (positive control), and JSON-RPC 2.0: errors in HTTP 200, notifications 204.
    assert dc.rpc("getblockcount") == dc.height()
    status, text, _ = dc.rpc_request({"jsonrpc": "2.0", "id": 7, "method": "getblockhash", "params": [10 ** 6]})
    assert (status, json.loads(text)) == (200, {"jsonrpc": "2.0", "error": {"code": -8,
                                                                            "message": "Block height out of range"},
                                                "id": 7})
    status, text, _ = dc.rpc_request({"jsonrpc": "2.0", "id": 8, "method": "getblockcount"})
    assert (status, json.loads(text)) == (200, {"jsonrpc": "2.0", "result": dc.height(), "id": 8})
    assert dc.rpc_request({"jsonrpc": "2.0", "method": "getblockcount"})[:2] == (204, b"")
    # A batch: HTTP 200, one reply per request (errors included, notifications left out).
    batch = [{"method": "getblockcount", "id": 1}, {"method": "nope", "id": 2}, 17,
             {"jsonrpc": "2.0", "method": "getbestblockhash"}, {"jsonrpc": "2.0", "method": "getbestblockhash", "id": 3}]
    status, text, _ = dc.rpc_request(batch)
    replies = json.loads(text)
    assert status == 200 and len(replies) == 4
    assert replies[0] == {"result": dc.height(), "error": None, "id": 1}
    assert replies[1]["error"]["code"] == -32601 and replies[2]["error"]["code"] == -32600
    assert replies[3] == {"jsonrpc": "2.0", "result": dc.text("/blocks/tip/hash"), "id": 3}


def test_estimatesmartfee_follows_the_esplora_fee_table(dc):
    table = dc.get("/fee-estimates")
    try:
        for target in (2, 6, 25, 144, 1008):
            assert dc.rpc("estimatesmartfee", target) == {
                "feerate": Decimal(round(table[str(target)] * 1000)) / COIN, "blocks": target}
        assert dc.rpc("estimatesmartfee", 1)["blocks"] == 2  # Core treats 1 as 2
        dc.dev("/dev/fee-estimates", {"3": 12.5, "10": 2, "20": 0.5})
        assert dc.rpc("estimatesmartfee", 2) == {"feerate": Decimal("0.00012500"), "blocks": 3}
        assert dc.rpc("estimatesmartfee", 5, "conservative") == {"feerate": Decimal("0.00002000"), "blocks": 10}
        assert dc.rpc("estimatesmartfee", 15) == {"feerate": Decimal("0.00001000"), "blocks": 20}  # the relay floor
        assert dc.rpc("estimatesmartfee", 500) == {"feerate": Decimal("0.00001000"), "blocks": 20}
        for bad in (0, 1009):
            assert dc.rpc_error("estimatesmartfee", bad)["code"] == -8
        assert dc.rpc_error("estimatesmartfee", 6, "fast")["code"] == -8
        dc.dev("/dev/fee-estimates", {})
        assert dc.get("/fee-estimates") == {}
        assert dc.rpc("estimatesmartfee", 6) == {"errors": ["Insufficient data or no feerate found"], "blocks": 0}
    finally:
        dc.dev("/dev/fee-estimates", table)
    assert dc.get("/fee-estimates") == table
