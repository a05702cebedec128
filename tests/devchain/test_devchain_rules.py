"""The dev chain's rules, one by one, in process (devchain.bitcoin.chain with a fake clock): each
refusal beside a positive control that differs only in the refused detail, and a refusal never
changes the chain. Spends are signed with embit (devchain_keys); the chain checks them with btclib.
"""
import hashlib
import json
import sys

import pytest
from btclib.block import Block as BtclibBlock
from embit.script import Script, Witness
from embit.transaction import SIGHASH, Transaction, TransactionInput, TransactionOutput

from devchain_keys import Owner, build, key
from devchain_server import ROOT

sys.path.insert(0, str(ROOT))
from devchain.bitcoin import esplora  # noqa: E402
from devchain.bitcoin.script import var_int  # noqa: E402
from devchain.bitcoin.chain import (COIN, COINBASE_MATURITY, MAX_MONEY, Chain, DevError, Reject,  # noqa: E402
                                    subsidy)

REGTEST_GENESIS = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


class Clock:
    def __init__(self):
        self.now = 1_800_000_000

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def chain(clock):
    return Chain(clock=clock)


def owner(kind="wpkh", label="a"):
    if kind == "wsh":
        return Owner("wsh", key(label + "1"), key(label + "2"), key(label + "3"), m=2)
    return Owner(kind, key(label))


DEST = owner("wpkh", "dest")


def fund(chain, who, amount=1_000_000, confirm=True):
    e, _ = chain.faucet(who.script_bytes, amount, confirm)
    return (e.txid, 0, amount, who)


def snapshot(chain):
    return (list(chain.mempool), chain.tip.hash, sorted(chain.utxo), dict(chain.mempool_spends))


def refused(chain, tx, reason, code=-26):
    raw = tx if isinstance(tx, bytes) else tx.serialize()
    before = snapshot(chain)
    with pytest.raises(Reject) as r:
        chain.accept(raw)
    assert r.value.code == code and r.value.reason.startswith(reason), r.value.message
    assert snapshot(chain) == before
    return r.value


def accepted(chain, tx):
    assert chain.accept(tx.serialize()) == tx.txid().hex()
    assert tx.txid().hex() in chain.mempool


def vsize_of(tx: Transaction) -> int:
    """BIP-0141 virtual size, computed from embit's serialisations."""
    stripped = Transaction.parse(tx.serialize())
    for v in stripped.vin:
        v.witness = Witness([])
    return (len(tx.serialize()) + 3 * len(stripped.serialize()) + 3) // 4


def flip(data: bytes, at: int) -> bytes:
    b = bytearray(data)
    b[at] ^= 1
    return bytes(b)


def test_genesis_setup_and_every_block_are_valid_regtest_blocks_for_btclib(chain):
    assert chain.blocks[0].hash == REGTEST_GENESIS and chain.height == 1 + COINBASE_MATURITY
    assert chain.faucet_balance() == (100 * 10_000 * COIN, 100)
    a = fund(chain, owner("wpkh"))
    accepted(chain, build([a], [(DEST.script_bytes, 990_000)]))
    chain.mine(2)
    for b in chain.blocks:
        parsed = BtclibBlock.parse(b.raw, check_validity=True)  # proof of work, merkle root, coinbase first
        assert parsed.header.hash.hex() == b.hash and parsed.header.previous_block_hash.hex() == (b.prev_hash or "00" * 32)
        overhead = 80 + len(var_int(len(b.entries)))  # btclib's weight counts the transactions only
        assert parsed.weight + 4 * overhead == b.weight and parsed.size == len(b.raw)
        if b.height > 16:  # BIP-0034, as btclib reads it (heights 1-16 are OP_1..OP_16)
            assert parsed.height == b.height
    assert [b.height for b in chain.blocks] == list(range(chain.height + 1))


@pytest.mark.parametrize("kind", ["wpkh", "sh-wpkh", "pkh", "tr", "wsh"])
def test_each_input_kind_verifies_and_a_flipped_signature_is_refused(chain, kind):
    who = owner(kind)
    coin = fund(chain, who)
    tx = build([coin], [(DEST.script_bytes, 990_000)])
    bad = Transaction.parse(tx.serialize())
    if kind == "pkh":
        bad.vin[0].script_sig = Script(flip(bad.vin[0].script_sig.data, 10))
    else:
        items = bad.vin[0].witness.items
        signature = 1 if kind == "wsh" else 0  # wsh: the CHECKMULTISIG dummy comes first
        items[signature] = flip(items[signature], 10)
    assert (bad.txid() == tx.txid()) == (kind != "pkh")  # a legacy signature is part of the txid
    err = refused(chain, bad, "mandatory-script-verify-flag-failed (input 0")
    assert "btclib" in err.message
    accepted(chain, tx)
    vin = esplora.tx_json(chain.txs[tx.txid().hex()])["vin"][0]
    assert vin["prevout"]["scriptpubkey_type"] == {"wpkh": "v0_p2wpkh", "sh-wpkh": "p2sh", "pkh": "p2pkh",
                                                   "tr": "v1_p2tr", "wsh": "v0_p2wsh"}[kind]
    if kind == "wsh":
        assert vin["inner_witnessscript_asm"].startswith("OP_PUSHNUM_2 OP_PUSHBYTES_33 ")
        assert vin["inner_witnessscript_asm"].endswith(" OP_PUSHNUM_3 OP_CHECKMULTISIG")
    if kind == "sh-wpkh":
        assert vin["inner_redeemscript_asm"] == f"OP_0 OP_PUSHBYTES_20 {who.redeem_script.data[2:].hex()}"
    chain.mine(1)
    assert chain.txs[tx.txid().hex()].block is chain.tip


def test_one_transaction_spending_every_kind_at_once(chain):
    """Taproot signatures commit to every input's amount and script: the chain must hand btclib all of them."""
    coins = [fund(chain, owner(kind, "mix"), 100_000 * (i + 1)) for i, kind in enumerate(["wpkh", "sh-wpkh", "pkh", "tr", "wsh"])]
    total = sum(c[2] for c in coins)
    tx = build(coins, [(DEST.script_bytes, total - 5_000)])
    wrong_amount = list(coins)
    wrong_amount[0] = coins[0][:2] + (coins[0][2] + 1, coins[0][3])  # the taproot input signs a wrong amount list
    refused(chain, build(wrong_amount, [(DEST.script_bytes, total - 5_000)]), "mandatory-script-verify-flag-failed")
    accepted(chain, tx)


def der(r: int, s: int) -> bytes:
    def integer(x):
        b = x.to_bytes((x.bit_length() + 8) // 8, "big")
        return b"\x02" + bytes([len(b)]) + b
    body = integer(r) + integer(s)
    return b"\x30" + bytes([len(body)]) + body


def test_a_high_s_signature_is_refused_by_policy_not_consensus(chain):
    who = owner("wpkh")
    coin = fund(chain, who)
    tx = build([coin], [(DEST.script_bytes, 990_000)])
    sig = tx.vin[0].witness.items[0]
    rlen = sig[3]
    r = int.from_bytes(sig[4:4 + rlen], "big")
    s = int.from_bytes(sig[6 + rlen:6 + rlen + sig[5 + rlen]], "big")
    assert s <= N // 2
    high = Transaction.parse(tx.serialize())
    high.vin[0].witness.items[0] = der(r, N - s) + b"\x01"
    err = refused(chain, high, "non-mandatory-script-verify-flag (input 0")
    assert "standard script rule" in err.message
    accepted(chain, tx)


def test_taproot_key_path_signature_encodings(chain):
    who = owner("tr")
    coin = fund(chain, who)
    base = build([coin], [(DEST.script_bytes, 990_000)])
    sig64 = base.vin[0].witness.items[0]
    assert len(sig64) == 64

    def with_sig(sig):
        t = Transaction.parse(base.serialize())
        t.vin[0].witness = Witness([sig])
        return t

    refused(chain, with_sig(sig64 + b"\x00"), "mandatory-script-verify-flag-failed")  # explicit DEFAULT is invalid
    err = refused(chain, with_sig(sig64 + b"\x01\x01"), "mandatory-script-verify-flag-failed")
    assert "Invalid Schnorr signature size (66 bytes)" in err.message
    err = refused(chain, with_sig(sig64 + b"\x04"), "mandatory-script-verify-flag-failed")
    assert "Invalid Schnorr signature hash type (0x04)" in err.message
    # Positive control: 65 bytes with an explicit SIGHASH_ALL, signed as such.
    h = base.sighash_taproot(0, script_pubkeys=[who.script], values=[coin[2]], sighash=SIGHASH.ALL)
    accepted(chain, with_sig(who.keys[0].taproot_tweak(b"").schnorr_sign(h).serialize() + b"\x01"))


def test_duplicate_inputs_are_refused(chain):
    who = owner("wpkh")
    a, b = fund(chain, who), fund(chain, who)
    refused(chain, build([a, a], [(DEST.script_bytes, 1_990_000)]), "bad-txns-inputs-duplicate")
    accepted(chain, build([a, b], [(DEST.script_bytes, 1_990_000)]))


@pytest.mark.parametrize("kind, threshold", [("wpkh", 294), ("tr", 330), ("wsh", 330), ("pkh", 546), ("sh-wpkh", 540)])
def test_dust_outputs_are_refused_at_bitcoin_cores_thresholds(chain, kind, threshold):
    who = owner("wpkh")
    to = owner(kind, "dust").script_bytes
    a = fund(chain, who)
    err = refused(chain, build([a], [(to, threshold - 1), (DEST.script_bytes, 990_000)]), "dust")
    assert f"below the dust threshold of {threshold} sat" in err.message
    accepted(chain, build([a], [(to, threshold), (DEST.script_bytes, 990_000)]))


def test_op_return_outputs_may_be_zero_but_a_tiny_transaction_is_refused(chain):
    who = owner("wpkh")
    a = fund(chain, who, 1_000)
    refused(chain, build([a], [(b"\x6a", 0)]), "tx-size-small")  # 61 non-witness bytes
    accepted(chain, build([a], [(b"\x6a\x04kura", 0)]))  # 66


@pytest.mark.parametrize("version", [0, 4, 0x7FFFFFFF])
def test_non_standard_versions_are_refused(chain, version):
    who = owner("wpkh")
    a = fund(chain, who)
    refused(chain, build([a], [(DEST.script_bytes, 990_000)], version=version), "version")
    accepted(chain, build([a], [(DEST.script_bytes, 990_000)], version=1))


def test_fee_below_the_minimum_relay_rate_and_above_the_maximum_are_refused(chain):
    # A taproot key-path spend: its signature is always 64 bytes, so transactions that differ only in an amount
    # have the same vsize (an ECDSA signature is 71 or 72 bytes, which moved vsize by one about half the time).
    who = owner("tr")
    a = fund(chain, who)
    vsize = vsize_of(build([a], [(DEST.script_bytes, 990_000)]))
    low, enough = (build([a], [(DEST.script_bytes, 1_000_000 - fee)]) for fee in (vsize - 1, vsize))
    assert vsize_of(low) == vsize_of(enough) == vsize
    err = refused(chain, low, "min relay fee not met")
    assert err.message == f"min relay fee not met, {vsize - 1} < {vsize}"
    accepted(chain, enough)

    b = fund(chain, who, 10 * COIN)
    high, most = (build([b], [(DEST.script_bytes, 10 * COIN - fee)]) for fee in (10_000 * vsize + 1, 10_000 * vsize))
    assert vsize_of(high) == vsize_of(most) == vsize
    refused(chain, high, "Fee exceeds maximum", code=-25)
    accepted(chain, most)


def test_output_values_out_of_range_are_refused(chain):
    who = owner("wpkh")
    a = fund(chain, who)
    refused(chain, build([a], [(DEST.script_bytes, MAX_MONEY + 1)]), "bad-txns-vout-toolarge")
    refused(chain, build([a], [(DEST.script_bytes, MAX_MONEY // 2 + 1)] * 2), "bad-txns-txouttotal-toolarge")
    good = build([a], [(DEST.script_bytes, 990_000)])
    raw = good.serialize()
    value_at = raw.index((990_000).to_bytes(8, "little"))
    negative = raw[:value_at] + (2**64 - 1).to_bytes(8, "little") + raw[value_at + 8:]
    refused(chain, negative, "bad-txns-vout-negative")
    refused(chain, build([a], [(DEST.script_bytes, MAX_MONEY)]), "bad-txns-in-belowout")  # in range, but overspent
    accepted(chain, good)


def test_a_coinbase_cannot_be_submitted(chain):
    refused(chain, chain.tip.entries[0].raw, "coinbase")
    accepted(chain, build([fund(chain, owner("wpkh"))], [(DEST.script_bytes, 990_000)]))


def test_nlocktime_must_be_final_at_the_next_block(chain, clock):
    who = owner("wpkh")
    a, b = fund(chain, who), fund(chain, who)
    next_height = chain.height + 1
    err = refused(chain, build([a], [(DEST.script_bytes, 990_000)], locktime=next_height), "non-final")
    assert err.message == f"non-final, nLockTime {next_height} is not below {next_height}"
    accepted(chain, build([a], [(DEST.script_bytes, 990_000)], locktime=next_height - 1))
    # With every input final (sequence 0xffffffff) the lock time does not count.
    accepted(chain, build([b], [(DEST.script_bytes, 990_000)], locktime=next_height + 100, sequence=0xFFFFFFFF))
    # Time locks: against the tip's median time past.
    c = fund(chain, who)
    mtp = chain.tip.median_time
    refused(chain, build([c], [(DEST.script_bytes, 990_000)], locktime=mtp), "non-final")
    accepted(chain, build([c], [(DEST.script_bytes, 990_000)], locktime=mtp - 1))


def test_bip68_relative_locks(chain, clock):
    who = owner("wpkh")
    a = fund(chain, who)  # confirmed in the tip
    locked = build([a], [(DEST.script_bytes, 990_000)], sequence=2)
    err = refused(chain, locked, "non-BIP68-final")
    assert err.message.endswith(f"locked until height {chain.height + 2}")
    accepted(chain, build([a], [(DEST.script_bytes, 990_000)], sequence=2, version=1))  # BIP-0068 is version 2 only
    b = fund(chain, who)
    relocked = build([b], [(DEST.script_bytes, 990_000)], sequence=2)
    refused(chain, relocked, "non-BIP68-final")
    chain.mine(1, include_mempool=False)
    accepted(chain, relocked)  # one more block: 2 confirmations at the next block

    # Time-based: 512 seconds (one unit) after the median time of the block before the coin's.
    c = fund(chain, who)
    timed = build([c], [(DEST.script_bytes, 990_000)], sequence=(1 << 22) | 1)
    refused(chain, timed, "non-BIP68-final")
    clock.now = chain.tip.time + 10_000
    chain.mine(11, include_mempool=False)
    accepted(chain, timed)


def test_coinbase_outputs_mature_after_100_blocks(chain):
    miner = owner("wpkh", "miner")
    block = chain.mine(1, miner.script_bytes)[0]
    cb = block.entries[0]
    assert cb.tx.vout[0].value == subsidy(block.height) and cb.tx.vout[0].script_pub_key.script == miner.script_bytes
    spend = build([(cb.txid, 0, cb.tx.vout[0].value, miner)], [(DEST.script_bytes, cb.tx.vout[0].value - 1_000)])
    refused(chain, spend, "bad-txns-premature-spend-of-coinbase")
    chain.mine(COINBASE_MATURITY - 1)
    accepted(chain, spend)


def test_same_txid_with_another_witness_is_refused_the_same_transaction_is_accepted_again(chain):
    who = owner("wpkh")
    a = fund(chain, who)
    tx = build([a], [(DEST.script_bytes, 990_000)])
    accepted(chain, tx)
    other = Transaction.parse(tx.serialize())
    h = other.sighash_segwit(0, Script(b"\x76\xa9\x14" + who.script_bytes[2:] + b"\x88\xac"), a[2],
                             SIGHASH.ALL | SIGHASH.ANYONECANPAY)
    other.vin[0].witness = Witness([who.keys[0].sign(h).serialize() + b"\x81", who.keys[0].get_public_key().sec()])
    assert other.txid() == tx.txid() and other.serialize() != tx.serialize()
    refused(chain, other, "txn-same-nonwitness-data-in-mempool")
    before = snapshot(chain)
    accepted(chain, tx)  # the same bytes again: accepted, nothing changes
    assert snapshot(chain) == before


def test_mempool_chains_are_mined_parents_first_with_fees_in_the_coinbase(chain):
    who, mid = owner("wpkh"), owner("tr", "mid")
    a = fund(chain, who)
    t1 = build([a], [(mid.script_bytes, 990_000)])
    t2 = build([(t1.txid().hex(), 0, 990_000, mid)], [(who.script_bytes, 980_000)])
    t3 = build([(t2.txid().hex(), 0, 980_000, who)], [(DEST.script_bytes, 975_000)])
    for t in (t1, t2, t3):
        accepted(chain, t)
    block = chain.mine(1)[0]
    assert [e.txid for e in block.entries[1:]] == [t.txid().hex() for t in (t1, t2, t3)]
    cb = block.entries[0].tx
    assert cb.vout[0].value == subsidy(block.height) + 10_000 + 10_000 + 5_000
    assert cb.vout[-1].script_pub_key.script[:6] == bytes.fromhex("6a24aa21a9ed")  # the witness commitment
    assert chain.mempool == {} and (t3.txid().hex(), 0) in chain.utxo
    BtclibBlock.parse(block.raw, check_validity=True)


def test_blocks_respect_the_weight_limit_in_arrival_order(chain):
    who = owner("wpkh")
    coins = [fund(chain, who) for _ in range(3)]
    txs = [build([c], [(DEST.script_bytes, 990_000)]) for c in coins]
    for t in txs:
        accepted(chain, t)
    chain.max_block_weight = 4_000 * 4 + txs[0].serialize().__len__() * 4  # room for one of them
    first = chain.mine(1)[0]
    assert [e.txid for e in first.entries[1:]] == [txs[0].txid().hex()]
    assert list(chain.mempool) == [t.txid().hex() for t in txs[1:]]
    chain.mine(2)
    assert chain.mempool == {}


def test_reorgs_return_transactions_and_drop_those_that_no_longer_fit(chain):
    who, miner = owner("wpkh"), owner("wpkh", "miner")
    a = fund(chain, who)
    t1 = build([a], [(who.script_bytes, 990_000)])
    t2 = build([(t1.txid().hex(), 0, 990_000, who)], [(DEST.script_bytes, 980_000)])
    accepted(chain, t1)
    chain.mine(1)
    accepted(chain, t2)
    height = chain.height
    result = chain.reorg(1, drop=[t1.txid().hex()], include_mempool=False)
    assert result["dropped"][0] == {"txid": t1.txid().hex(), "reason": "dropped on request"}
    assert result["dropped"][1]["txid"] == t2.txid().hex()
    assert result["dropped"][1]["reason"].startswith("bad-txns-inputs-missingorspent")
    assert chain.height == height + 1 and chain.mempool == {}
    assert (a[0], 0) in chain.utxo  # the faucet coin is unspent again

    # A re-org that disconnects a coinbase drops its spend (the reward is gone).
    reward = chain.mine(1, miner.script_bytes)[0].entries[0]
    chain.mine(COINBASE_MATURITY - 1)
    spend = build([(reward.txid, 0, reward.tx.vout[0].value, miner)], [(DEST.script_bytes, reward.tx.vout[0].value - 1_000)])
    accepted(chain, spend)
    result = chain.reorg(COINBASE_MATURITY)
    assert [d["txid"] for d in result["dropped"]] == [spend.txid().hex()]
    with pytest.raises(DevError) as e:
        chain.reorg(chain.height)
    assert e.value.code == "invalid_depth"


def test_state_round_trip_and_tampered_states(chain):
    who = owner("wpkh")
    a = fund(chain, who)
    t1 = build([a], [(DEST.script_bytes, 990_000)])
    accepted(chain, t1)
    chain.mine(1)
    b = fund(chain, who, confirm=False)
    chain.set_fee_estimates({"2": 3.5})
    state = json.loads(json.dumps(chain.to_state()))
    again = Chain.from_state(state)
    assert [x.hash for x in again.blocks] == [x.hash for x in chain.blocks]
    assert sorted(again.utxo) == sorted(chain.utxo) and list(again.mempool) == list(chain.mempool) == [b[0]]
    assert again.fee_estimates == {"2": 3.5}
    accepted(again, build([(b[0], 0, b[2], who)], [(DEST.script_bytes, 990_000)]))  # it goes on from there

    def refused_state(edit, words):
        s = json.loads(json.dumps(state))
        edit(s)
        with pytest.raises(DevError) as e:
            Chain.from_state(s)
        assert e.value.code == "invalid_state" and words in e.value.message, e.value.message

    sig = t1.vin[0].witness.items[0]

    def flip_block_signature(s):
        raw = bytes.fromhex(s["blocks"][-1])
        s["blocks"][-1] = flip(raw, raw.index(sig) + 10).hex()

    refused_state(flip_block_signature, "mandatory-script-verify-flag-failed")
    refused_state(lambda s: s["blocks"].pop(-2), "does not extend")
    refused_state(lambda s: s.update(network="mainnet"), "regtest")
    refused_state(lambda s: s["blocks"].__setitem__(-1, s["blocks"][-1][:-2]), "missing or non-canonical bytes")
    refused_state(lambda s: s["blocks"].__setitem__(-1, s["blocks"][-1] + "00"), "extra, missing")
    refused_state(lambda s: s["mempool"].__setitem__(0, "00"), "TX decode failed")


def test_the_faucet_spends_confirmed_coins_first_and_its_own_change_when_it_must(chain):
    who = owner("wpkh")
    pending, _ = chain.faucet(who.script_bytes, 10_000, confirm=False)
    e, block = chain.faucet(who.script_bytes, 20_000)
    assert [x.txid for x in block.entries[1:]] == [e.txid] and pending.txid in chain.mempool
    for _ in range(99):  # the 100 reserve coins, each spent by an unconfirmed payment
        chain.faucet(who.script_bytes, 10_000, confirm=False)
    assert chain.faucet_balance()[0] == 0
    e, block = chain.faucet(who.script_bytes, 30_000)  # from unconfirmed change: mined with its parent
    parent = e.tx.vin[0].prev_out.tx_id.hex()
    assert e.prevouts[0].height is None and [x.txid for x in block.entries[1:]] == [parent, e.txid]
    assert len(chain.mempool) == 99  # the other unconfirmed payments stay where they were
    with pytest.raises(DevError) as err:
        chain.faucet(who.script_bytes, 10_001 * COIN)
    assert err.value.code == "faucet_dry"
    chain.faucet(who.script_bytes, 9_000 * COIN)  # control
    for amount in (0, -1, 1.5, "5", True, None):
        with pytest.raises(DevError) as err:
            chain.faucet(who.script_bytes, amount)
        assert err.value.code == "invalid_amount"


def test_esplora_scripthash_is_the_sha256_of_the_script(chain):
    who = owner("wpkh")
    fund(chain, who)
    h = hashlib.sha256(who.script_bytes).hexdigest()
    assert esplora.script_hash(who.script_bytes) == h and esplora.find_script(chain, h) == who.script_bytes
    assert esplora.find_script(chain, "00" * 32) is None
