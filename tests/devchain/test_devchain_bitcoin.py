"""The Bitcoin dev chain as the coordinator will see it: a separate process behind the Esplora API.

Coins from its faucet go to addresses BDK derives; spends are built and signed with embit (not by
Kura, not by the dev chain) and by the built `kura-signer` (finalised by BDK). The chain checks
every input with btclib's script engine: what it accepts is mined, what it refuses is refused with
Bitcoin Core's error inside Esplora's answer, and each refusal has a positive control beside it.
"""
import hashlib
import json
import subprocess
import sys
import time

import bdkpython
import pytest
from btclib.block import Block as BtclibBlock
from embit import bip32
from embit.networks import NETWORKS
from embit.script import Script, Witness
from embit.transaction import Transaction

from devchain_keys import Owner, build
from devchain_server import ROOT, DevChain, refusal

sys.path.insert(0, str(ROOT / "tests" / "signer"))
from harness import EXCHANGE_BTC, Company  # noqa: E402

NET = NETWORKS["regtest"]
REGTEST_GENESIS = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
SETUP_HEIGHT = 101  # block 1 funds the faucet, 100 more mature it


class BdkWallet:
    """A wpkh wallet: BDK derives the addresses from the descriptor, embit holds the keys."""

    def __init__(self, seed: bytes):
        root = bip32.HDKey.from_seed(seed, version=NET["xprv"])
        account = root.derive("m/84h/1h/0h")
        xpub = account.to_public().to_base58(version=NET["xpub"])
        self.descriptor = bdkpython.Descriptor(f"wpkh([{root.my_fingerprint.hex()}/84h/1h/0h]{xpub}/0/*)",
                                               bdkpython.NetworkKind.TEST)
        self.account = account

    def owner(self, index: int) -> Owner:
        address = self.descriptor.derive_address(index, bdkpython.Network.REGTEST)
        owner = Owner("wpkh", self.account.derive([0, index]).key)
        assert str(address) == owner.address  # BDK and embit agree on the key behind the address
        assert address.script_pubkey().to_bytes() == owner.script_bytes
        return owner


@pytest.fixture
def dc(tmp_path):
    chain = DevChain(tmp_path)
    yield chain
    assert chain.stop() == 0, chain.logs()


@pytest.fixture
def wallet():
    return BdkWallet(hashlib.sha256(b"devchain bdk wallet").digest())


def utxo_of(dc, address):
    return dc.get(f"/address/{address}/utxo")


def test_a_faucet_coin_is_spent_then_mined_and_every_esplora_view_follows(dc, wallet):
    recv, dest, change = wallet.owner(0), wallet.owner(1), wallet.owner(2)
    assert dc.height() == SETUP_HEIGHT
    assert dc.text("/block-height/0") == REGTEST_GENESIS
    assert dc.get(f"/block/{REGTEST_GENESIS}")["previousblockhash"] is None

    f = dc.faucet(recv.address, 1_000_000)
    assert f["vout"] == 0 and f["value"] == 1_000_000
    assert f["status"]["confirmed"] and f["status"]["block_height"] == SETUP_HEIGHT + 1 == dc.height()
    funding = Transaction.from_string(dc.text(f"/tx/{f['txid']}/hex"))  # embit reads it
    assert funding.txid().hex() == f["txid"]
    assert (funding.vout[0].value, funding.vout[0].script_pubkey.data) == (1_000_000, recv.script_bytes)
    coin = {"txid": f["txid"], "vout": 0, "status": f["status"], "value": 1_000_000}
    assert utxo_of(dc, recv.address) == [coin]
    assert dc.get(f"/scripthash/{hashlib.sha256(recv.script_bytes).hexdigest()}/utxo") == [coin]

    # A spend built and signed by embit: accepted into the mempool.
    tx = build([(f["txid"], 0, 1_000_000, recv)], [(dest.script_bytes, 600_000), (change.script_bytes, 399_000)])
    txid = tx.txid().hex()
    assert dc.broadcast(tx.serialize().hex()) == (200, txid)
    assert dc.mempool() == [txid]
    assert dc.get(f"/tx/{txid}/status") == {"confirmed": False}
    j = dc.get(f"/tx/{txid}")
    assert (j["txid"], j["fee"], j["status"]) == (txid, 1_000, {"confirmed": False})
    assert j["vin"][0]["prevout"]["value"] == 1_000_000 and j["vin"][0]["prevout"]["scriptpubkey_address"] == recv.address
    assert j["vin"][0]["witness"] == [w.hex() for w in tx.vin[0].witness.items]
    assert [(o["scriptpubkey_address"], o["value"], o["scriptpubkey_type"]) for o in j["vout"]] == [
        (dest.address, 600_000, "v0_p2wpkh"), (change.address, 399_000, "v0_p2wpkh")]
    stripped = Transaction.parse(tx.serialize())
    for v in stripped.vin:
        v.witness = Witness([])
    assert (j["size"], j["weight"]) == (len(tx.serialize()), len(tx.serialize()) + 3 * len(stripped.serialize()))
    assert dc.get(f"/tx/{f['txid']}/outspend/0") == {"spent": True, "txid": txid, "vin": 0, "status": {"confirmed": False}}
    assert dc.get(f"/tx/{f['txid']}/outspends")[0]["txid"] == txid
    assert utxo_of(dc, recv.address) == []  # spent in the mempool
    assert utxo_of(dc, dest.address) == [{"txid": txid, "vout": 0, "status": {"confirmed": False}, "value": 600_000}]
    assert [t["txid"] for t in dc.get(f"/address/{recv.address}/txs")] == [txid, f["txid"]]  # newest first
    assert [t["txid"] for t in dc.get(f"/address/{recv.address}/txs/mempool")] == [txid]
    assert [t["txid"] for t in dc.get(f"/address/{recv.address}/txs/chain")] == [f["txid"]]
    stats = dc.get(f"/address/{recv.address}")
    assert stats["chain_stats"]["funded_txo_sum"] == 1_000_000 and stats["mempool_stats"]["spent_txo_sum"] == 1_000_000

    # Mined: confirmed in the new tip, out of the mempool, the UTXO set moved on.
    mined = dc.mine(1)
    block_hash = mined["blocks"][0]
    assert mined["height"] == dc.height() == SETUP_HEIGHT + 2
    assert dc.text("/blocks/tip/hash") == block_hash == dc.text(f"/block-height/{SETUP_HEIGHT + 2}")
    block = dc.get(f"/block/{block_hash}")
    assert (block["height"], block["tx_count"], block["previousblockhash"]) == (
        SETUP_HEIGHT + 2, 2, f["status"]["block_hash"])
    assert dc.get(f"/block/{block_hash}/txids")[1] == txid
    assert dc.get(f"/block/{block_hash}/status") == {"in_best_chain": True, "height": SETUP_HEIGHT + 2}
    status = {"confirmed": True, "block_height": SETUP_HEIGHT + 2, "block_hash": block_hash,
              "block_time": block["timestamp"]}
    assert dc.get(f"/tx/{txid}/status") == status
    assert dc.mempool() == []
    assert utxo_of(dc, recv.address) == []
    assert utxo_of(dc, dest.address) == [{"txid": txid, "vout": 0, "status": status, "value": 600_000}]
    assert utxo_of(dc, change.address) == [{"txid": txid, "vout": 1, "status": status, "value": 399_000}]
    assert dc.get(f"/tx/{f['txid']}/outspend/0")["status"] == status
    assert dc.get(f"/tx/{txid}/outspend/1") == {"spent": False}
    # The block itself, read by btclib: proof of work, merkle root, coinbase first, our transaction.
    status_code, raw_block, _ = dc.request("GET", f"/block/{block_hash}/raw")
    parsed = BtclibBlock.parse(raw_block, check_validity=True)
    assert parsed.header.hash.hex() == block_hash and parsed.transactions[1].id.hex() == txid
    assert dc.text(f"/block/{block_hash}/header") == raw_block[:80].hex()
    assert [b["height"] for b in dc.get("/blocks")] == list(range(SETUP_HEIGHT + 2, SETUP_HEIGHT - 8, -1))


def test_refusals_each_beside_a_positive_control(dc, wallet):
    recv, dest, change = wallet.owner(0), wallet.owner(1), wallet.owner(2)
    f1 = dc.faucet(recv.address, 1_000_000)
    f2 = dc.faucet(recv.address, 500_000)
    coin1, coin2 = (f1["txid"], 0, 1_000_000, recv), (f2["txid"], 0, 500_000, recv)

    def refused(raw_hex, code, reason):
        before = (dc.mempool(), dc.text("/blocks/tip/hash"), utxo_of(dc, recv.address), utxo_of(dc, dest.address))
        err = refusal(*dc.broadcast(raw_hex))
        assert err["code"] == code and err["message"].startswith(reason), err
        assert (dc.mempool(), dc.text("/blocks/tip/hash"), utxo_of(dc, recv.address), utxo_of(dc, dest.address)) == before
        return err["message"]

    # Garbage: not hex, and hex that is not a whole transaction.
    a = build([coin1], [(dest.script_bytes, 600_000), (change.script_bytes, 399_000)])
    refused("zz not a transaction", -22, "TX decode failed")
    refused(a.serialize().hex()[:-2], -22, "TX decode failed")
    refused(a.serialize().hex() + "00", -22, "TX decode failed")

    # An invalid signature: one byte of the DER signature flipped.
    bad = Transaction.parse(a.serialize())
    sig = bytearray(bad.vin[0].witness.items[0])
    sig[10] ^= 1
    bad.vin[0].witness.items[0] = bytes(sig)
    assert bad.txid() == a.txid()
    message = refused(bad.serialize().hex(), -26, "mandatory-script-verify-flag-failed")
    assert "input 0" in message and "btclib" in message
    # Positive control: the untouched transaction is accepted (garbage and a bad signature left no trace).
    assert dc.broadcast(a.serialize().hex()) == (200, a.txid().hex())
    assert dc.broadcast(a.serialize().hex()) == (200, a.txid().hex())  # sent again: the same answer

    # A double spend of a mempool transaction's input.
    b = build([coin1], [(dest.script_bytes, 900_000)])
    message = refused(b.serialize().hex(), -26, "txn-mempool-conflict")
    assert a.txid().hex() in message
    # Positive control: the same transaction shape spending the other faucet coin.
    b2 = build([coin2], [(dest.script_bytes, 400_000)])
    assert dc.broadcast(b2.serialize().hex()) == (200, b2.txid().hex())

    # Outputs worth more than the inputs (a's change output, unconfirmed, 399,000 sat).
    a_change = (a.txid().hex(), 1, 399_000, change)
    over = build([a_change], [(dest.script_bytes, 399_001)])
    refused(over.serialize().hex(), -26, "bad-txns-in-belowout")
    refused(build([a_change], [(dest.script_bytes, 399_000)]).serialize().hex(), -26, "min relay fee not met")
    ok = build([a_change], [(dest.script_bytes, 398_000)])
    assert dc.broadcast(ok.serialize().hex()) == (200, ok.txid().hex())

    # Outputs that do not exist: an index past the end, a transaction nobody knows.
    assert len(dc.get(f"/tx/{f1['txid']}")["vout"]) == 2  # the payment and the faucet's change
    message = refused(build([(f1["txid"], 2, 1_000_000, recv)], [(dest.script_bytes, 900_000)]).serialize().hex(),
                      -25, "bad-txns-inputs-missingorspent")
    assert f"{f1['txid']}:2 does not exist" in message
    message = refused(build([("ab" * 32, 0, 1_000_000, recv)], [(dest.script_bytes, 900_000)]).serialize().hex(),
                      -25, "bad-txns-inputs-missingorspent")
    assert "unknown transaction" in message

    # Mined: now the double spend meets a confirmed spend.
    dc.mine(1)
    assert set(dc.get(f"/block/{dc.text('/blocks/tip/hash')}/txids")[1:]) == {a.txid().hex(), b2.txid().hex(),
                                                                            ok.txid().hex()}
    message = refused(b.serialize().hex(), -25, "bad-txns-inputs-missingorspent")
    assert f"was spent by {a.txid().hex()} in block {dc.height()}" in message
    refused(a.serialize().hex(), -27, "Transaction outputs already in utxo set")
    # Positive control: a confirmed, unspent output (ok's only output) spends.
    last = build([(ok.txid().hex(), 0, 398_000, dest)], [(recv.script_bytes, 397_000)])
    assert dc.broadcast(last.serialize().hex()) == (200, last.txid().hex())


def test_bad_requests_are_refused_beside_good_ones(dc, wallet):
    recv = wallet.owner(0)
    f = dc.faucet(recv.address, 100_000)
    # Esplora reads: what is not there is 404 (text), what cannot be read is 400 (text).
    assert dc.request("GET", f"/tx/{'ab' * 32}")[:2] == (404, b"Transaction not found")
    assert dc.request("GET", f"/tx/{f['txid']}")[0] == 200
    assert dc.request("GET", f"/block/{'ab' * 32}")[:2] == (404, b"Block not found")
    assert dc.request("GET", f"/block-height/{dc.height() + 1}")[:2] == (404, b"Block not found")
    assert dc.request("GET", f"/block-height/{dc.height()}")[0] == 200
    assert dc.request("GET", f"/tx/{f['txid']}/outspend/2")[:2] == (404, b"Output not found")
    assert dc.request("GET", "/address/bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4/utxo")[:2] == (
        400, b"Address on invalid network")
    assert dc.request("GET", "/address/tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx/utxo")[:2] == (
        400, b"Address on invalid network")
    assert dc.request("GET", "/address/bcrt1qnotanaddress/utxo")[:2] == (400, b"Invalid Bitcoin address")
    assert dc.request("GET", "/address/bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080/utxo")[0] == 200
    assert dc.request("GET", "/scripthash/xyz/utxo")[:2] == (400, b"Invalid scripthash")
    assert dc.get(f"/scripthash/{'00' * 32}/utxo") == []
    assert dc.request("GET", "/no/such/endpoint")[:2] == (404, b"endpoint does not exist")
    assert dc.request("POST", "/blocks/tip/height")[0] == 405

    # /dev: JSON errors with codes.
    def dev_refused(path, doc, code):
        status, body, ctype = dc.request("POST", path, doc)
        assert (status, ctype) == (400, "application/json"), body
        assert json.loads(body)["error"]["code"] == code, body

    dev_refused("/dev/faucet", {"amount": 1000}, "missing_address")
    dev_refused("/dev/faucet", {"address": "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "amount": 1000}, "invalid_address")
    for amount in (0, -5, "1000", True, 1.5, None):
        dev_refused("/dev/faucet", {"address": recv.address, "amount": amount}, "invalid_amount")
    dev_refused("/dev/faucet", {"address": recv.address, "amount": 100}, "refused")  # below the dust threshold
    dev_refused("/dev/faucet", {"address": recv.address, "amount": 20_000 * 100_000_000}, "faucet_dry")
    assert dc.faucet(recv.address, 294)["value"] == 294  # control: the dust threshold itself
    dev_refused("/dev/mine", {"blocks": 0}, "invalid_blocks")
    dev_refused("/dev/mine", {"blocks": 1, "address": "nope"}, "invalid_address")
    dev_refused("/dev/mine", b"{not json", "invalid_json")
    assert dc.mine(2, recv.address)["height"] == dc.height()  # control
    dev_refused("/dev/fee-estimates", {"1": "fast"}, "invalid_fee_estimates")
    dev_refused("/dev/fee-estimates", {"zero": 1}, "invalid_fee_estimates")
    assert dc.dev("/dev/fee-estimates", {"6": 12.5, "1": 50}) == {"1": 50.0, "6": 12.5}
    assert dc.get("/fee-estimates") == {"1": 50.0, "6": 12.5}


def test_fee_estimates_follow_esplora_targets(dc):
    estimates = dc.get("/fee-estimates")
    assert list(estimates) == [str(t) for t in list(range(1, 26)) + [144, 504, 1008]]
    rates = list(estimates.values())
    assert rates == sorted(rates, reverse=True) and min(rates) >= 1.0


def test_mined_coinbase_pays_the_address_and_matures_after_100_blocks(dc, wallet):
    miner, dest = wallet.owner(5), wallet.owner(6)
    mined = dc.mine(1, miner.address)
    coins = utxo_of(dc, miner.address)
    assert len(coins) == 1 and coins[0]["value"] == 50 * 100_000_000
    assert coins[0]["status"]["block_hash"] == mined["blocks"][0]
    cb = dc.get(f"/tx/{coins[0]['txid']}")
    assert cb["vin"][0]["is_coinbase"] and cb["vin"][0]["prevout"] is None and cb["fee"] == 0
    spend = build([(coins[0]["txid"], 0, coins[0]["value"], miner)], [(dest.script_bytes, coins[0]["value"] - 1_000)])
    err = refusal(*dc.broadcast(spend.serialize().hex()))
    assert err == {"code": -26, "message": "bad-txns-premature-spend-of-coinbase, tried to spend coinbase at depth 1"}
    dc.mine(98)
    err = refusal(*dc.broadcast(spend.serialize().hex()))
    assert err["message"].endswith("at depth 99")
    dc.mine(1)  # positive control: 100 confirmations deep
    assert dc.broadcast(spend.serialize().hex()) == (200, spend.txid().hex())


def test_reorgs_move_or_drop_transactions(dc, wallet):
    recv, dest = wallet.owner(0), wallet.owner(1)
    f = dc.faucet(recv.address, 1_000_000)
    a = build([(f["txid"], 0, 1_000_000, recv)], [(dest.script_bytes, 990_000)])
    dc.broadcast(a.serialize().hex())
    old_block = dc.mine(1)["blocks"][0]
    height = dc.height()
    assert dc.get(f"/tx/{a.txid().hex()}/status")["block_hash"] == old_block

    # One block replaced by two: a is confirmed again, in a different block at the same height.
    r = dc.dev("/dev/reorg", {"depth": 1})
    assert r["disconnected"] == [old_block] and len(r["connected"]) == 2 and r["returned"] == [a.txid().hex()]
    assert dc.height() == height + 1 and r["height"] == height + 1
    status = dc.get(f"/tx/{a.txid().hex()}/status")
    assert status["block_height"] == height and status["block_hash"] == r["connected"][0] != old_block
    assert dc.request("GET", f"/block/{old_block}")[0] == 404
    assert dc.text(f"/block-height/{height}") == r["connected"][0]

    # Dropped: a vanishes, its coin is unspent again, and a different spend of it is accepted.
    r = dc.dev("/dev/reorg", {"depth": 2, "drop": [a.txid().hex()], "blocks": 2})
    assert r["dropped"] == [{"txid": a.txid().hex(), "reason": "dropped on request"}] and r["returned"] == []
    assert dc.request("GET", f"/tx/{a.txid().hex()}")[0] == 404
    assert utxo_of(dc, dest.address) == []
    assert utxo_of(dc, recv.address)[0]["txid"] == f["txid"]
    b = build([(f["txid"], 0, 1_000_000, recv)], [(dest.script_bytes, 980_000)])
    assert dc.broadcast(b.serialize().hex()) == (200, b.txid().hex())

    # Refused: deeper than the chain's own setup blocks, an unknown txid (beside a good depth).
    status, body, _ = dc.request("POST", "/dev/reorg", {"depth": dc.height()})
    assert status == 400 and json.loads(body)["error"]["code"] == "invalid_depth"
    status, body, _ = dc.request("POST", "/dev/reorg", {"depth": 1, "drop": ["cd" * 32]})
    assert status == 400 and json.loads(body)["error"]["code"] == "unknown_txid"
    r = dc.dev("/dev/reorg", {"depth": 1, "mempool": False})
    assert dc.mempool() == [b.txid().hex()]  # not mined into the new blocks


def test_state_survives_a_restart_and_a_tampered_state_is_refused(tmp_path, wallet):
    recv, dest = wallet.owner(0), wallet.owner(1)
    state = tmp_path / "chain.json"
    dc = DevChain(tmp_path, "--state", str(state))
    try:
        f = dc.faucet(recv.address, 1_000_000)
        a = build([(f["txid"], 0, 1_000_000, recv)], [(dest.script_bytes, 990_000)])
        dc.broadcast(a.serialize().hex())
        tip, height = dc.text("/blocks/tip/hash"), dc.height()
    finally:
        assert dc.stop() == 0
    assert "devchain: stopped" in dc.logs()

    again = DevChain(tmp_path, "--state", str(state))
    try:
        assert (again.text("/blocks/tip/hash"), again.height()) == (tip, height)
        assert again.mempool() == [a.txid().hex()]
        assert utxo_of(again, dest.address)[0]["txid"] == a.txid().hex()
    finally:
        assert again.stop() == 0

    # The same file with one signature byte changed in the mempool transaction: refused at startup.
    doc = json.loads(state.read_text())
    raw = bytearray(bytes.fromhex(doc["mempool"][0]))
    sig = bytes(a.vin[0].witness.items[0])
    at = bytes(raw).index(sig) + 10
    raw[at] ^= 1
    doc["mempool"][0] = bytes(raw).hex()
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(doc))
    proc = subprocess.run([sys.executable, "-m", "devchain.bitcoin", "--port", "0", "--state", str(tampered)],
                          cwd=ROOT, capture_output=True, timeout=120)
    assert proc.returncode == 2 and b"invalid_state" in proc.stderr and b"mandatory-script-verify-flag-failed" in proc.stderr


def test_a_block_interval_mines_without_being_asked(tmp_path, wallet):
    dc = DevChain(tmp_path, "--block-interval", "0.2")
    try:
        f = dc.faucet(wallet.owner(0).address, 50_000, confirm=False)
        assert f["status"] == {"confirmed": False} and dc.mempool() == [f["txid"]]
        deadline = time.time() + 60
        while not dc.get(f"/tx/{f['txid']}/status")["confirmed"]:
            assert time.time() < deadline, "no block was mined on the timer"
            time.sleep(0.1)
        assert dc.mempool() == []
    finally:
        assert dc.stop() == 0


def test_a_bdk_wallet_scans_spends_and_syncs_through_the_esplora_api(dc):
    """BDK's own Esplora client (rust esplora-client) reads our answers: a second, independent reader
    of the API shapes. Its wallet finds confirmed and unconfirmed faucet coins, spends them, and a
    conflicting spend it built from the same coins is refused with Bitcoin Core's reason."""
    root = bip32.HDKey.from_seed(hashlib.sha256(b"devchain bdk esplora").digest(), version=NET["xprv"])
    tprv = root.to_base58(version=NET["xprv"])
    w = bdkpython.Wallet(bdkpython.Descriptor(f"wpkh({tprv}/84h/1h/0h/0/*)", bdkpython.NetworkKind.TEST),
                         bdkpython.Descriptor(f"wpkh({tprv}/84h/1h/0h/1/*)", bdkpython.NetworkKind.TEST),
                         bdkpython.Network.REGTEST, bdkpython.Persister.new_in_memory())
    first = str(w.reveal_next_address(bdkpython.KeychainKind.EXTERNAL).address)
    gap = str(w.peek_address(bdkpython.KeychainKind.EXTERNAL, 3).address)  # found by the scan's gap limit
    dc.faucet(first, 1_000_000)
    pending = dc.faucet(gap, 500_000, confirm=False)
    client = bdkpython.EsploraClient(f"http://127.0.0.1:{dc.port}")
    assert (client.get_height(), str(client.get_tip_hash())) == (dc.height(), dc.text("/blocks/tip/hash"))
    assert client.get_fee_estimates()[6] == dc.get("/fee-estimates")["6"]
    w.apply_update(client.full_scan(w.start_full_scan().build(), 10, 1))
    balance = w.balance()
    assert (balance.confirmed.to_sat(), balance.untrusted_pending.to_sat()) == (1_000_000, 500_000)

    dest = bdkpython.Address(EXCHANGE_BTC, bdkpython.Network.REGTEST)
    psbts = [bdkpython.TxBuilder().add_recipient(dest.script_pubkey(), bdkpython.Amount.from_sat(amount))
             .fee_rate(bdkpython.FeeRate.from_sat_per_vb(2)).finish(w) for amount in (1_200_000, 1_100_000)]
    txs = []
    for psbt in psbts:
        assert w.sign(psbt)
        txs.append(psbt.extract_tx())
    client.broadcast(txs[0])
    assert dc.mempool() == [pending["txid"], str(txs[0].compute_txid())]
    with pytest.raises(Exception) as refused:
        client.broadcast(txs[1])  # the same coins again
    assert "txn-mempool-conflict" in str(refused.value)
    assert not client.get_tx_status(txs[0].compute_txid()).confirmed

    dc.mine(1)
    status = client.get_tx_status(txs[0].compute_txid())
    assert status.confirmed and status.block_height == dc.height()
    header = client.get_header_by_hash(client.get_block_hash(dc.height()))
    assert str(header.prev_blockhash) == dc.text(f"/block-height/{dc.height() - 1}")
    w.apply_update(client.sync(w.start_sync_with_revealed_spks().build(), 1))
    fee = w.calculate_fee(txs[0]).to_sat()
    assert w.balance().confirmed.to_sat() == 1_500_000 - 1_200_000 - fee
    assert dc.get(f"/tx/{txs[0].compute_txid()}")["fee"] == fee


# -- transactions signed by the built kura-signer -------------------------------------------
@pytest.fixture(scope="module")
def kura(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("devchain-kura")
    chain = DevChain(tmp)
    co = Company(tmp)

    def funding(script: bytes, value: int) -> Transaction:
        """The harness asks for a transaction paying `value` to `script`: the faucet makes a real one."""
        f = chain.faucet(Script(script).address(NET), value)
        return Transaction.from_string(chain.text(f"/tx/{f['txid']}/hex"))

    co.funding = funding
    yield co, chain
    assert chain.stop() == 0, chain.logs()


@pytest.mark.parametrize("wallet_id, signers", [("btc-main", "a"), ("btc-tr", "a"), ("btc-vault", "ab")])
def test_kura_signed_withdrawals_are_accepted_and_mined(kura, wallet_id, signers):
    co, dc = kura
    intent = co.intent(wallet=wallet_id, amount="50000000")
    approval = co.approve(intent, "bob")
    unsigned = co.psbt(wallet_id, intent)  # spends two faucet outputs (40,000,000 and 30,000,000 sat), fee 5,000
    bundle = co.bundle(intent, [approval], psbt=unsigned)
    partials = []
    for signer in (s for s in co.signers if s.name in signers):
        out = co.dir / f"{wallet_id}-{signer.name}.psbt"
        r = signer.sign(bundle, out)
        assert r.returncode == 0, r.stderr.decode()
        partials.append(out.read_text().strip())
    psbt = bdkpython.Psbt(partials[0])
    for other in partials[1:]:
        psbt = psbt.combine(bdkpython.Psbt(other))
    final = psbt.finalize()
    assert final.could_finalize, final.errors
    tx = final.psbt.extract_tx()
    raw, txid = tx.serialize(), str(tx.compute_txid())

    # Positive control first: one flipped byte in the first input's witness is refused.
    tampered = bytearray(raw)
    witness_item = next(bytes(w) for w in tx.input()[0].witness if len(w) >= 32)  # a signature
    tampered[bytes(raw).index(witness_item) + 5] ^= 1
    err = refusal(*dc.broadcast(bytes(tampered).hex()))
    assert err["message"].startswith("mandatory-script-verify-flag-failed (input 0"), err
    assert dc.mempool() == []

    assert dc.broadcast(bytes(raw).hex()) == (200, txid)
    j = dc.get(f"/tx/{txid}")
    assert j["fee"] == 5_000 and len(j["vin"]) == 2
    mined = dc.mine(1)["blocks"][0]
    assert dc.get(f"/tx/{txid}/status")["block_hash"] == mined
    paid = [u for u in utxo_of(dc, EXCHANGE_BTC) if u["txid"] == txid]
    assert [(u["value"], u["status"]["confirmed"]) for u in paid] == [(50_000_000, True)]
