"""What the built kura-signer signs is valid Bitcoin, judged by tools we did not write: BDK combines
and finalises the PSBTs, btclib's script engine verifies every input of the extracted transaction.
Single-sig P2WPKH (btc-main), BIP-0086 taproot key path (btc-tr), and the 2-of-3
wsh(sortedmulti) vault, where each cold signer reviews and signs the same bundle on its own.
"""
import itertools

import bdkpython
import pytest
from btclib.script.engine import ALL_FLAGS, verify_input
from btclib.tx import Tx, TxOut
from embit import bip32
from embit.psbt import PSBT
from embit.script import Script, p2tr, p2wpkh, p2wsh

from harness import EXCHANGE_BTC, Company, address_script

H = 0x80000000


@pytest.fixture(scope="module")
def co(tmp_path_factory):
    return Company(tmp_path_factory.mktemp("btc-signing"))


def request(co, wallet, amount="20000000"):
    intent = co.intent(wallet=wallet, amount=amount)
    approvals = [co.approve(intent, "bob")]
    psbt = co.psbt(wallet, intent)
    return co.bundle(intent, approvals, psbt=psbt), psbt


def sign(signer, bundle, name):
    review = signer.review(bundle)
    assert review.returncode == 0, review.stderr.decode()
    out = signer.company.dir / name
    r = signer.sign(bundle, out)
    assert r.returncode == 0, r.stderr.decode()
    return out.read_text().strip()


def spent_outputs(unsigned_b64):
    """The outputs each input spends, from the full previous transactions (embit)."""
    p = PSBT.from_base64(unsigned_b64)
    return [TxOut(i.non_witness_utxo.vout[i.vout].value, i.non_witness_utxo.vout[i.vout].script_pubkey.data) for i in p.inputs]


def finalise(*partials):
    """BDK combines the partial PSBTs, finalises and extracts the transaction (raw bytes)."""
    psbt = bdkpython.Psbt(partials[0])
    for other in partials[1:]:
        psbt = psbt.combine(bdkpython.Psbt(other))
    result = psbt.finalize()
    assert result.could_finalize, result.errors
    return result.psbt.extract_tx().serialize()


def verify_all(raw: bytes, utxos):
    """btclib's script engine on every input; also proves the engine rejects a one-satoshi change."""
    tx = Tx.parse(raw)
    assert len(tx.vin) == len(utxos) >= 2
    for i in range(len(tx.vin)):
        verify_input(utxos, tx, i, ALL_FLAGS)  # raises if invalid
    tampered = Tx.parse(raw)
    tampered.vout[0].value += 1
    with pytest.raises(Exception):
        verify_input(utxos, tampered, 0, ALL_FLAGS)
    return tx


def pays_the_intent(tx, amount):
    dest = bytes.fromhex(address_script(EXCHANGE_BTC))
    assert [o.value for o in tx.vout if o.script_pub_key.script == dest] == [amount]


def card_account(signer, name):
    origin, xpub = signer.card["keys"][name][1:].split("]")
    return bip32.HDKey.from_string(xpub)


def test_single_sig_wpkh_verifies_in_btclib(co):
    vault = co.signers[0]
    bundle, unsigned = request(co, "btc-main")
    signed = sign(vault, bundle, "wpkh.psbt")
    # The spent scripts are our keys at 0/3 and 0/4, derived independently with embit.
    account = card_account(vault, "bip84")
    utxos = spent_outputs(unsigned)
    assert [u.script_pub_key.script for u in utxos] == [p2wpkh(account.derive([0, i]).key).data for i in (3, 4)]
    tx = verify_all(finalise(signed), utxos)
    pays_the_intent(tx, 20_000_000)


def test_taproot_key_path_verifies_in_btclib(co):
    vault = co.signers[0]
    bundle, unsigned = request(co, "btc-tr")
    signed = sign(vault, bundle, "tr.psbt")
    account = card_account(vault, "bip86")
    utxos = spent_outputs(unsigned)
    # BIP-0086: the output key is our key tweaked with no script tree (embit computes the tweak).
    assert [u.script_pub_key.script for u in utxos] == [p2tr(account.derive([0, i]).key).data for i in (3, 4)]
    p = PSBT.from_base64(signed)
    # PSBT_IN_TAP_KEY_SIG (0x13; embit keeps it as an unknown pair): 64 bytes, SIGHASH_DEFAULT.
    assert all(len(i.unknown[b"\x13"]) == 64 and not i.partial_sigs and not i.taproot_sigs for i in p.inputs)
    tx = verify_all(finalise(signed), utxos)
    assert all(len(v.script_witness.stack) == 1 for v in tx.vin)  # key path: a signature only
    pays_the_intent(tx, 20_000_000)


def test_two_of_three_vault_each_signer_independently(co):
    bundle, unsigned = request(co, "btc-vault")
    partials = [sign(s, bundle, f"vault-{s.name}.psbt") for s in co.signers]
    utxos = spent_outputs(unsigned)
    # The witness script is the sorted 2-of-3 multisig of the three cards' keys (embit derives them).
    for n, u in zip((3, 4), utxos):
        keys = sorted(card_account(s, "bip48multisig").derive([0, n]).key.sec() for s in co.signers)
        script = bytes([0x52]) + b"".join(b"\x21" + k for k in keys) + bytes([0x53, 0xAE])
        assert u.script_pub_key.script == p2wsh(Script(script)).data
    # Each partial carries exactly one signature per input, from its own signer's key.
    for s, text in zip(co.signers, partials):
        p = PSBT.from_base64(text)
        fp = bytes.fromhex(s.card["fingerprint"])
        for inp in p.inputs:
            (pub,) = inp.partial_sigs
            assert inp.bip32_derivations[pub].fingerprint == fp
    # One partial alone does not finalise; any two do, and verify.
    assert not bdkpython.Psbt(partials[0]).finalize().could_finalize
    txids = set()
    for a, b in itertools.combinations(range(3), 2):
        tx = verify_all(finalise(partials[a], partials[b]), utxos)
        pays_the_intent(tx, 20_000_000)
        txids.add(tx.id)
    assert len(txids) == 1  # the same transaction whichever two signed
