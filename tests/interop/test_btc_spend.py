"""Every input Kura signs verifies in btclib's script engine, and the PSBTs it creates are read by
BDK (v0) and embit (v0 and v2) with the same transaction and fee.

200 random transactions with 1–20 inputs over single-sig P2WPKH, P2TR key path and 2-of-3 P2WSH
wallets (throw-away keys made by embit), built, signed (each cosigner separately), combined,
finalised and extracted by the built `kura-devtool btc spend`.
"""
import json
import random

import bdkpython
from btclib.script.engine import ALL_FLAGS, verify_input
from btclib.tx import Tx, TxOut
from embit import psbt as embit_psbt
from embit.script import Script as EmbitScript
from embit.transaction import Transaction, TransactionInput, TransactionOutput

from btc_wallets import bdk_script, wallet
from conftest import run

TRANSACTIONS = 200


def funding_tx(rng, script: bytes, value: int):
    """A previous transaction paying `value` to `script` (its own input is random: never validated)."""
    tx = Transaction(
        version=2,
        vin=[TransactionInput(bytes(rng.getrandbits(8) for _ in range(32)), rng.randrange(4))],
        vout=[TransactionOutput(rng.randrange(1000, 10**6), EmbitScript(bytes.fromhex("0014") + bytes(20))),
              TransactionOutput(value, EmbitScript(script))],
    )
    return tx


def random_script(rng):
    kind = rng.choice(["p2wpkh", "p2tr", "p2pkh", "p2wsh"])
    body = bytes(rng.getrandbits(8) for _ in range(32))
    return {"p2wpkh": b"\x00\x14" + body[:20], "p2tr": b"\x51\x20" + body, "p2pkh": b"\x76\xa9\x14" + body[:20] + b"\x88\xac",
            "p2wsh": b"\x00\x20" + body}[kind]


def make_specs():
    rng = random.Random(0x6B757261)
    wallets = {k: wallet(k, rng) for k in ("wpkh", "tr", "wsh")}
    specs, meta = [], []
    for n in range(TRANSACTIONS):
        kind, desc, signers, bdk = wallets[("wpkh", "tr", "wsh")[n % 3]]
        coins, prevouts = [], []
        for _ in range(rng.randint(1, 20)):
            branch, index = rng.randrange(2), rng.randrange(200)
            value = rng.randrange(20_000, 5_000_000)
            prev = funding_tx(rng, bdk_script(bdk, branch, index), value)
            coins.append({"prev_tx": prev.serialize().hex(), "vout": 1, "branch": branch, "index": index})
            prevouts.append((value, bdk_script(bdk, branch, index)))
        total = sum(v for v, _ in prevouts)
        fee = rng.randrange(500, 20_000)
        pay = rng.randrange(1000, (total - fee) // 2)
        payments = [{"script": random_script(rng).hex(), "value": pay}]
        change = None
        if rng.random() < 0.8:
            change = {"index": rng.randrange(100), "value": total - fee - pay}
        else:
            payments[0]["value"] = total - fee
        specs.append({"network": "regtest", "descriptor": desc, "signers": signers, "coins": coins, "payments": payments,
                      "change": change, "psbt_version": rng.choice([0, 2])})
        meta.append((kind, prevouts, fee))
    return specs, meta


def test_spends_verify_in_btclib_and_parse_in_bdk_and_embit(tmp_path):
    specs, meta = make_specs()
    spec_file = tmp_path / "specs.json"
    spec_file.write_text(json.dumps(specs))
    out = run("kura-devtool", "btc", "spend", "--spec", spec_file, check=True, timeout=600)
    results = json.loads(out.stdout)
    assert len(results) == TRANSACTIONS
    inputs_verified = 0
    by_kind = {}
    for spec, (kind, prevouts, fee), r in zip(specs, meta, results):
        # btclib's script engine: every input of the extracted transaction.
        tx = Tx.parse(bytes.fromhex(r["tx"]))
        utxos = [TxOut(v, s) for v, s in prevouts]
        for i in range(len(tx.vin)):
            verify_input(utxos, tx, i, ALL_FLAGS)  # raises if invalid
            inputs_verified += 1
        assert tx.id.hex() == r["txid"]
        assert r["fee"] == fee
        assert r["weight"] <= r["estimated_weight"]
        # BDK reads our v0 PSBTs (unsigned and final), computes the same fee, extracts the same tx.
        if spec["psbt_version"] == 0:
            unsigned = bdkpython.Psbt(r["unsigned_psbt"])
            assert unsigned.fee() == fee
            final = bdkpython.Psbt(r["final_psbt"])
            assert str(final.extract_tx().compute_txid()) == r["txid"]
        # embit reads v0 and v2, with the same txid and fee.
        for text in (r["unsigned_psbt"], r["combined_psbt"], r["final_psbt"]):
            p = embit_psbt.PSBT.from_base64(text)
            assert p.tx.txid().hex() == r["txid"]
            assert p.fee() == fee
        by_kind[kind] = by_kind.get(kind, 0) + 1
    assert inputs_verified >= TRANSACTIONS
    assert by_kind == {"wpkh": 67, "tr": 67, "wsh": 66}


def test_tampered_signature_is_rejected_by_btclib(tmp_path):
    # Positive control for the verifier: flipping one signature byte makes btclib refuse.
    specs, meta = make_specs()
    spec_file = tmp_path / "one.json"
    spec_file.write_text(json.dumps(specs[0]))
    r = json.loads(run("kura-devtool", "btc", "spend", "--spec", spec_file, check=True).stdout)
    raw = bytearray(bytes.fromhex(r["tx"]))
    tx = Tx.parse(bytes(raw))
    sig = bytearray(tx.vin[0].script_witness.stack[0])
    sig[10] ^= 1
    tx.vin[0].script_witness.stack[0] = bytes(sig)
    utxos = [TxOut(v, s) for v, s in meta[0][1]]
    try:
        verify_input(utxos, tx, 0, ALL_FLAGS)
    except Exception:
        return
    raise AssertionError("btclib accepted a tampered signature")
