"""The cold signer end to end through the built binaries: key ceremony, review, sign, receipts,
the seed's attack (an output appended to an approved withdrawal, and a swapped destination)."""
import base64
import json

from btclib.script.engine import ALL_FLAGS, verify_input
from btclib.tx import Tx, TxOut
from embit.psbt import PSBT as EmbitPSBT
from embit.script import Script as EmbitScript

from harness import EXCHANGE_BTC, EXIT_TRANSACTION, Company, address_script, refusal


def test_btc_single_sig_signs_and_the_seeds_attack_is_refused(tmp_path):
    co = Company(tmp_path)
    vault = co.signers[0]
    intent = co.intent(amount="50000000")
    approval = co.approve(intent, "bob")
    psbt = co.psbt("btc-main", intent)

    # The attack of May 2024: one output appended to the approved withdrawal, funded from change.
    pay = {"script": address_script(EXCHANGE_BTC), "value": 50_000_000}
    attacker = {"script": "0014" + "ab" * 20, "value": 10_000_000}
    extra = co.psbt("btc-main", intent, payments=[pay, attacker])
    appended = co.bundle(intent, [approval], psbt=extra)
    before = vault.state()
    r = vault.sign(appended, tmp_path / "attack.psbt")
    assert refusal(r) == (EXIT_TRANSACTION, "OUTPUT_UNAUTHORISED"), r.stderr
    assert not (tmp_path / "attack.psbt").exists() and vault.state() == before

    # Variant: the destination swapped for the attacker's.
    q = EmbitPSBT.from_base64(psbt)
    swaps = 0
    for out in q.outputs:
        if out.script_pubkey.data.hex() == address_script(EXCHANGE_BTC):
            out.script_pubkey = EmbitScript(bytes.fromhex("0014" + "cd" * 20))
            swaps += 1
    assert swaps == 1
    swapped = co.bundle(intent, [approval], psbt=q.to_base64())
    r = vault.sign(swapped, tmp_path / "swap.psbt")
    assert refusal(r) == (EXIT_TRANSACTION, "INTENT_MISMATCH"), r.stderr
    assert not (tmp_path / "swap.psbt").exists() and vault.state() == before

    # Positive control: the untouched bundle reviews and signs.
    good = co.bundle(intent, [approval], psbt=psbt)
    review = vault.review(good)
    assert review.returncode == 0, review.stderr
    assert json.loads(review.stdout)["review"]["destinationLabel"] == "Exchange hot wallet"
    r = vault.sign(good, tmp_path / "signed.psbt")
    assert r.returncode == 0, r.stderr
    signed = EmbitPSBT.from_base64((tmp_path / "signed.psbt").read_text().strip())
    assert all(len(i.partial_sigs) == 1 for i in signed.inputs)
    receipt = json.loads((tmp_path / "signed.psbt.receipt.json").read_text())
    assert receipt["receipt"]["sequence"] == 1
    # Replaying the same bundle is refused: the intent was used.
    again = vault.sign(good, tmp_path / "again.psbt")
    assert refusal(again)[1] == "REPLAY"
