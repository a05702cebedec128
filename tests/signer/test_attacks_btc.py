"""ATTACKS.md §4.2, rows B03–B18 (B01 and B02 are in test_signer_flow.py), against the built
kura-signer. Each mutated PSBT is built from a legitimate one with embit or by editing bytes, never
by Kura; each test asserts the refusal category, its exit family, that no output or receipt was
written, that the signer home is byte-identical, and ends with a positive control that signs.
"""
import copy

import pytest
from embit import bip32, bip39, hashes
from embit.ec import PrivateKey
from embit.networks import NETWORKS
from embit.psbt import PSBT, DerivationPath, OutputScope
from embit.script import Script, p2tr, p2wpkh, p2wsh
from embit.transaction import Transaction, TransactionInput, TransactionOutput

from harness import EXCHANGE_BTC, EXIT_MALFORMED, EXIT_TRANSACTION, MNEMONICS, Company, address_script, refusal

AMOUNT = "1000000"  # 0.01 BTC: one approval, far below the daily limit over all the controls
H = 0x80000000
ATTACKER_WPKH = bytes.fromhex("0014" + "ab" * 20)


@pytest.fixture(scope="module")
def co(tmp_path_factory):
    return Company(tmp_path_factory.mktemp("btc-attacks"))


def case(co, wallet="btc-main", pin=(), **psbt_args):
    intent = co.intent(wallet=wallet, amount=AMOUNT, pin_inputs=pin)
    approvals = [co.approve(intent, "bob")]
    return intent, approvals, co.psbt(wallet, intent, **psbt_args)


def text(p):
    return p if isinstance(p, str) else p.to_base64()


def refused(co, signer, intent, approvals, psbt, category, exit_code=EXIT_TRANSACTION):
    """Review and sign both refuse with `category`; nothing is written; the home is unchanged."""
    bundle = co.bundle(intent, approvals, psbt=text(psbt))
    out = co.dir / f"{bundle.stem}.signed.psbt"
    receipt = out.with_name(out.name + ".receipt.json")
    before = signer.state()
    r = signer.review(bundle)
    assert refusal(r) == (exit_code, category), r.stderr.decode()
    r = signer.sign(bundle, out)
    assert refusal(r) == (exit_code, category), r.stderr.decode()
    assert b"cHNidP" not in r.stdout + r.stderr  # no PSBT (base64 magic) on any channel
    assert not out.exists() and not receipt.exists()
    assert signer.state() == before


def signs(co, signer, intent, approvals, psbt):
    """The positive control: reviews, signs every input, writes the PSBT and its receipt."""
    bundle = co.bundle(intent, approvals, psbt=text(psbt))
    out = co.dir / f"{bundle.stem}.signed.psbt"
    r = signer.review(bundle)
    assert r.returncode == 0, r.stderr.decode()
    r = signer.sign(bundle, out)
    assert r.returncode == 0, r.stderr.decode()
    assert out.with_name(out.name + ".receipt.json").exists()
    signed = PSBT.from_base64(out.read_text().strip())
    # One signature per input: ECDSA, or the taproot key-path signature (0x13, unknown to embit).
    assert all(len(i.partial_sigs) + len(i.taproot_sigs) + (b"\x13" in i.unknown) == 1 for i in signed.inputs)
    return signed


def load(b64):
    return PSBT.from_base64(b64)


def fingerprint(signer):
    return bytes.fromhex(signer.card["fingerprint"])


def change_output(p):
    (c,) = [i for i, o in enumerate(p.outputs) if o.bip32_derivations or o.taproot_bip32_derivations]
    return c


def card_key(signer, name):
    """(HDKey, origin path list) of a key expression "[fp/84h/1h/0h]tpub…" on the signer's card."""
    origin, xpub = signer.card["keys"][name][1:].split("]")
    path = [int(c[:-1]) + H if c.endswith("h") else int(c) for c in origin.split("/")[1:]]
    return bip32.HDKey.from_string(xpub), path


def ours(signer, scope):
    (k, d), = [(k, d) for k, d in scope.bip32_derivations.items() if d.fingerprint == fingerprint(signer)]
    return k, d


def test_B03_change_to_attacker_with_our_fingerprint(co):
    vault = co.signers[0]
    intent, approvals, psbt = case(co)
    p = load(psbt)
    c = change_output(p)
    ours(vault, p.outputs[c])  # the coordinator's change record claims our fingerprint and path 1/2
    p.outputs[c].script_pubkey = Script(ATTACKER_WPKH)
    refused(co, vault, intent, approvals, p, "CHANGE_INVALID")
    # Variant: the record names the attacker's key under our fingerprint and our valid path.
    q = load(psbt)
    _, path = ours(vault, q.outputs[c])
    attacker = PrivateKey(b"\x07" * 32).get_public_key()
    q.outputs[c].bip32_derivations = {attacker: path}
    q.outputs[c].script_pubkey = p2wpkh(attacker)
    refused(co, vault, intent, approvals, q, "CHANGE_INVALID")
    signs(co, vault, intent, approvals, psbt)


def test_B04_change_to_our_key_at_a_ransom_path(co):
    vault = co.signers[0]
    intent, approvals, psbt = case(co)
    # (a) Our change branch, an index far beyond the gap bound.
    refused(co, vault, intent, approvals, co.psbt("btc-main", intent, change_index=29_300_847), "CHANGE_INVALID")
    account, origin = card_key(vault, "bip84")
    fp = fingerprint(vault)
    # (b) Our account key at an absurd path (m/84h/1h/0h/293847/29300847), derived with embit.
    # (c) Our key on the receive branch presented as change.
    for tail in ([293847, 29300847], [0, 5]):
        q = load(psbt)
        c = change_output(q)
        key = account.derive(tail).key
        q.outputs[c].script_pubkey = p2wpkh(key)
        q.outputs[c].bip32_derivations = {key: DerivationPath(fp, origin + tail)}
        refused(co, vault, intent, approvals, q, "CHANGE_INVALID")
    signs(co, vault, intent, approvals, psbt)


def test_B05_witness_utxo_amounts_understated(co):
    vault = co.signers[0]
    intent, approvals, psbt = case(co)
    # Every input's witness UTXO understated by 0.1 BTC; the full previous transactions kept.
    p = load(psbt)
    for inp in p.inputs:
        real = inp.non_witness_utxo.vout[inp.vout]
        inp.witness_utxo = TransactionOutput(real.value - 10_000_000, real.script_pubkey)
    refused(co, vault, intent, approvals, p, "INPUT_INVALID")
    # The two-request variant: each request understates one input and omits its previous transaction.
    for i in range(2):
        q = load(psbt)
        real = q.inputs[i].non_witness_utxo.vout[q.inputs[i].vout]
        q.inputs[i].non_witness_utxo = None
        q.inputs[i].witness_utxo = TransactionOutput(real.value - 10_000_000, real.script_pubkey)
        refused(co, vault, intent, approvals, q, "INPUT_INVALID")
    signs(co, vault, intent, approvals, psbt)


def test_B06_previous_transaction_does_not_match(co):
    vault = co.signers[0]
    intent, approvals, psbt = case(co)
    # (a) A previous transaction whose txid is not the prevout's (same script and amount, other input).
    p = load(psbt)
    real = p.inputs[0].non_witness_utxo
    other = Transaction(version=2, vin=[TransactionInput(b"\x42" * 32, 1)], vout=real.vout)
    assert other.txid() != p.inputs[0].txid
    p.inputs[0].non_witness_utxo = other
    refused(co, vault, intent, approvals, p, "INPUT_INVALID")
    # (b) A witness UTXO raised above the previous transaction's output.
    q = load(psbt)
    out = q.inputs[1].non_witness_utxo.vout[q.inputs[1].vout]
    q.inputs[1].witness_utxo = TransactionOutput(out.value + 1, out.script_pubkey)
    refused(co, vault, intent, approvals, q, "INPUT_INVALID")
    # (c) An output index the previous transaction does not have.
    q = load(psbt)
    q.inputs[0].vout = 5
    refused(co, vault, intent, approvals, q, "INPUT_INVALID")
    signs(co, vault, intent, approvals, psbt)


def test_B07_fee_siphon(co):
    vault = co.signers[0]
    intent, approvals, psbt = case(co)
    amount = int(AMOUNT)
    # (a) No change: 2.09 BTC to the miner.
    big = co.psbt("btc-main", intent, values=(150_000_000, 60_000_000), fee=210_000_000 - amount)
    assert len(load(big).outputs) == 1 and load(big).fee() == 209_000_000
    refused(co, vault, intent, approvals, big, "FEE_EXCESSIVE")
    # (b) Under the absolute cap (200,000 sat) but about 1,000 sat/vB.
    rate = co.psbt("btc-main", intent, coins=((0, 3),), values=(40_000_000,), fee=150_000)
    assert load(rate).fee() == 150_000
    refused(co, vault, intent, approvals, rate, "FEE_EXCESSIVE")
    signs(co, vault, intent, approvals, psbt)


def test_B08_smuggled_input(co):
    vault = co.signers[0]
    # (a) A UTXO of the 2-of-3 wallet added to a single-sig withdrawal; its value goes to the fee.
    intent, approvals, psbt = case(co)
    vault_psbt = load(co.psbt("btc-vault", co.intent(wallet="btc-vault", amount=AMOUNT)))
    p = load(psbt)
    p.inputs.append(vault_psbt.inputs[0])
    refused(co, vault, intent, approvals, p, "INPUT_INVALID")
    # ... or to the change.
    p.outputs[change_output(p)].value += vault_psbt.inputs[0].non_witness_utxo.vout[vault_psbt.inputs[0].vout].value
    refused(co, vault, intent, approvals, p, "INPUT_INVALID")
    signs(co, vault, intent, approvals, psbt)
    # The other direction: a coin of the single-sig wallet (one key) spent by a 2-of-3 vault request.
    v_intent, v_approvals, v_psbt = case(co, wallet="btc-vault")
    v = load(v_psbt)
    v.inputs.append(load(psbt).inputs[0])
    refused(co, vault, v_intent, v_approvals, v, "INPUT_INVALID")
    signs(co, vault, v_intent, v_approvals, v_psbt)
    # (b) A UTXO of this wallet that the intent (which pins its coins) did not approve.
    unpinned, _, built = case(co)
    b = load(built)
    pinned, approvals, _ = case(co, pin=[f"{i.txid.hex()}:{i.vout}" for i in b.inputs])
    extra = load(co.psbt("btc-main", unpinned, coins=((0, 9),), values=(3_000_000,)))
    q = load(built)
    q.inputs.append(extra.inputs[0])
    q.outputs[change_output(q)].value += 3_000_000
    refused(co, vault, pinned, approvals, q, "INPUT_INVALID")
    signs(co, vault, pinned, approvals, built)


def test_B09_sighash_none_or_single_anyonecanpay(co):
    vault = co.signers[0]
    intent, approvals, psbt = case(co)
    for sighash in (0x02, 0x83, 0x03, 0x81, 0x00):
        p = load(psbt)
        p.inputs[1].sighash_type = sighash
        refused(co, vault, intent, approvals, p, "FIELD_FORBIDDEN")
    # Positive control: the nearest legitimate variant, SIGHASH_ALL asked for explicitly.
    p = load(psbt)
    for inp in p.inputs:
        inp.sighash_type = 0x01
    signed = signs(co, vault, intent, approvals, p)
    assert all(s[-1] == 0x01 for i in signed.inputs for s in i.partial_sigs.values())


def test_B10_post_dated_cheque(co):
    vault = co.signers[0]
    intent, approvals, psbt = case(co)
    for locktime, sequence in ((1_000_000, 0xFFFFFFFE), (co.now + 120 * 86_400, 0xFFFFFFFD), (0, 144), (0, 0x00400001)):
        p = load(psbt)
        p.locktime = locktime
        for inp in p.inputs:
            inp.sequence = sequence
        refused(co, vault, intent, approvals, p, "FIELD_FORBIDDEN")
    signs(co, vault, intent, approvals, psbt)


def test_B11_op_return_output(co):
    vault = co.signers[0]
    intent, approvals, psbt = case(co)
    # (a) A burn: value moved from the change into an OP_RETURN.  (b) Data only, no value.
    for value, data in ((500_000, b"burn"), (0, b"\x01" * 40)):
        p = load(psbt)
        p.outputs[change_output(p)].value -= value
        p.outputs.append(OutputScope(vout=TransactionOutput(value, Script(b"\x6a" + bytes([len(data)]) + data))))
        refused(co, vault, intent, approvals, p, "SCRIPT_FORBIDDEN")
    signs(co, vault, intent, approvals, psbt)


def tap_leaf(script: bytes) -> bytes:
    return hashes.tagged_hash("TapLeaf", b"\xc0" + bytes([len(script)]) + script)


def test_B12_taproot_change_with_hidden_script_tree(co):
    vault = co.signers[0]
    intent, approvals, psbt = case(co, wallet="btc-tr")
    p = load(psbt)
    c = change_output(p)
    (internal, (leaves, path)), = p.outputs[c].taproot_bip32_derivations.items()
    assert not leaves and path.fingerprint == fingerprint(vault)
    assert p.outputs[c].script_pubkey == p2tr(internal)  # BIP-0086: our key, no tree
    # The attacker's leaf: <attacker key> OP_CHECKSIG, committed into our internal key's tweak.
    leaf = b"\x20" + PrivateKey(b"\x09" * 32).get_public_key().xonly() + b"\xac"
    tweaked = internal.taproot_tweak(tap_leaf(leaf))
    p.outputs[c].script_pubkey = Script(b"\x51\x20" + tweaked.xonly())
    p.outputs[c].taproot_internal_key = internal
    p.outputs[c].unknown[b"\x06"] = b"\x00\xc0" + bytes([len(leaf)]) + leaf  # PSBT_OUT_TAP_TREE
    refused(co, vault, intent, approvals, p, "CHANGE_INVALID")
    signs(co, vault, intent, approvals, psbt)


def test_B13_script_path_signature_requested(co):
    vault = co.signers[0]
    intent, approvals, psbt = case(co, wallet="btc-tr")
    base = load(psbt)
    (internal, (_, path)), = base.inputs[0].taproot_bip32_derivations.items()
    leaf = b"\x20" + internal.xonly() + b"\xac"  # a leaf with our own key: not in the BIP-0086 policy
    control = bytes([0xC0 | (internal.sec()[0] & 1)]) + internal.xonly()  # does not rebuild the UTXO key
    # (a) PSBT_IN_TAP_LEAF_SCRIPT.
    p = load(psbt)
    p.inputs[0].unknown[b"\x15" + control] = leaf + b"\xc0"
    refused(co, vault, intent, approvals, p, "SCRIPT_FORBIDDEN")
    # (b) PSBT_IN_TAP_MERKLE_ROOT.
    p = load(psbt)
    p.inputs[1].unknown[b"\x18"] = tap_leaf(leaf)
    refused(co, vault, intent, approvals, p, "SCRIPT_FORBIDDEN")
    # (c) Our tap derivation asks for a signature on that leaf (non-empty leaf hashes).
    p = load(psbt)
    p.inputs[0].taproot_bip32_derivations[internal] = ([tap_leaf(leaf)], path)
    refused(co, vault, intent, approvals, p, "SCRIPT_FORBIDDEN")
    signs(co, vault, intent, approvals, psbt)


def test_B14_multisig_change_with_swapped_cosigner_keys(co):
    vault, b, c_signer = co.signers
    intent, approvals, psbt = case(co, wallet="btc-vault")
    p = load(psbt)
    c = change_output(p)
    key, path = ours(vault, p.outputs[c])
    att = [PrivateKey(bytes([n]) * 32).get_public_key() for n in (0x11, 0x12)]
    witness = Script(b"\x52" + b"".join(b"\x21" + k.sec() for k in [key] + att) + b"\x53\xae")
    derivations = {key: path}
    for k, s in zip(att, (b, c_signer)):
        derivations[k] = DerivationPath(fingerprint(s), path.derivation)
    p.outputs[c].witness_script = witness
    p.outputs[c].script_pubkey = p2wsh(witness)
    p.outputs[c].bip32_derivations = derivations
    refused(co, vault, intent, approvals, p, "WALLET_MISMATCH")
    # Without the witness script, the change output simply is not the wallet's.
    p.outputs[c].witness_script = None
    refused(co, vault, intent, approvals, p, "CHANGE_INVALID")
    signs(co, vault, intent, approvals, psbt)


def test_B15_global_xpub_attacker_under_cosigner_fingerprint(co):
    vault, b, c_signer = co.signers
    intent, approvals, psbt = case(co, wallet="btc-vault")
    genuine = {}
    for s in co.signers:
        k, origin = card_key(s, "bip48multisig")
        genuine[k] = DerivationPath(fingerprint(s), origin)
    attacker = bip32.HDKey.from_seed(b"\x66" * 32, version=NETWORKS["test"]["xprv"])
    _, b_origin = card_key(b, "bip48multisig")
    attacker_xpub = attacker.derive(b_origin).to_public()
    p = load(psbt)
    p.xpubs = {k: v for k, v in genuine.items() if v.fingerprint != fingerprint(b)}
    p.xpubs[attacker_xpub] = DerivationPath(fingerprint(b), b_origin)
    refused(co, vault, intent, approvals, p, "WALLET_MISMATCH")
    # Positive control: exactly the policy's three xpubs as global xpubs.
    q = load(psbt)
    q.xpubs = genuine
    signs(co, vault, intent, approvals, q)


def test_B16_same_outpoint_twice(co):
    vault = co.signers[0]
    intent, approvals, psbt = case(co)
    p = load(psbt)
    p.inputs.append(copy.deepcopy(p.inputs[0]))
    # Naive accounting counts the coin twice: the "extra" value is added to the change.
    p.outputs[change_output(p)].value += p.inputs[0].non_witness_utxo.vout[p.inputs[0].vout].value
    refused(co, vault, intent, approvals, p, "INPUT_INVALID")
    signs(co, vault, intent, approvals, psbt)


def compact(n: int) -> bytes:
    if n < 0xFD:
        return bytes([n])
    if n <= 0xFFFF:
        return b"\xfd" + n.to_bytes(2, "little")
    if n <= 0xFFFFFFFF:
        return b"\xfe" + n.to_bytes(4, "little")
    return b"\xff" + n.to_bytes(8, "little")


def test_B17_oversize_psbt(co):
    import base64

    vault = co.signers[0]
    intent, approvals, psbt = case(co)
    raw = base64.b64decode(psbt)
    assert raw[:5] == b"psbt\xff"
    # (a) A key length claiming 2^63 bytes; (b) a value length claiming 2^63 bytes.
    for forged in (raw[:5] + compact(2**63) + raw[6:], raw[:5] + b"\x01\x00" + compact(2**63) + b"\x00" * 16):
        refused(co, vault, intent, approvals, base64.b64encode(forged).decode(), "RESOURCE_LIMIT", EXIT_MALFORMED)
    # (c) 100,000 inputs (each input map empty), about 4 MB.
    n = 100_000
    tx = (b"\x02\x00\x00\x00" + compact(n) + b"".join(i.to_bytes(32, "little") + b"\x00" * 4 + b"\x00" + b"\xff" * 4 for i in range(n))
          + b"\x01" + (1_000_000).to_bytes(8, "little") + bytes([len(ATTACKER_WPKH)]) + ATTACKER_WPKH + b"\x00" * 4)
    big = b"psbt\xff" + b"\x01\x00" + compact(len(tx)) + tx + b"\x00" + b"\x00" * n + b"\x00"
    refused(co, vault, intent, approvals, base64.b64encode(big).decode(), "RESOURCE_LIMIT", EXIT_MALFORMED)
    # (d) A PSBTv2 whose PSBT_GLOBAL_INPUT_COUNT claims 100,000 inputs (7 bytes of claim, no maps).
    def pair(key: bytes, value: bytes) -> bytes:
        return compact(len(key)) + key + compact(len(value)) + value

    v2 = (b"psbt\xff" + pair(b"\x02", (2).to_bytes(4, "little")) + pair(b"\x04", compact(n)) + pair(b"\x05", compact(1))
          + pair(b"\xfb", (2).to_bytes(4, "little")) + b"\x00")
    refused(co, vault, intent, approvals, base64.b64encode(v2).decode(), "RESOURCE_LIMIT", EXIT_MALFORMED)
    # (e) A 3.9 MB previous transaction per input (consistent: the prevouts are re-pointed at them).
    p = load(psbt)
    for k, inp in enumerate(p.inputs):
        real = inp.non_witness_utxo.vout[inp.vout]
        junk = TransactionOutput(0, Script(b"\x6a" + bytes([k]) * 3_900_000))
        prev = Transaction(version=2, vin=[TransactionInput(bytes([k]) * 32, 0)], vout=[real, junk])
        inp.non_witness_utxo, inp.txid, inp.vout = prev, prev.txid(), 0
    refused(co, vault, intent, approvals, p, "RESOURCE_LIMIT", EXIT_MALFORMED)
    signs(co, vault, intent, approvals, psbt)


def test_B18_network_confusion(co):
    vault = co.signers[0]
    intent, approvals, psbt = case(co)
    account, origin = card_key(vault, "bip84")
    fp = fingerprint(vault)
    # (a) Our own account key as a global xpub, labelled mainnet (xpub version bytes).
    p = load(psbt)
    mainnet = copy.deepcopy(account)
    mainnet.version = NETWORKS["main"]["xpub"]
    assert mainnet.to_base58().startswith("xpub")
    p.xpubs = {mainnet: DerivationPath(fp, origin)}
    refused(co, vault, intent, approvals, p, "CHAIN_MISMATCH")
    # (b) A mainnet UTXO of our seed (m/84h/0h/0h/0/3, derived with embit) spent by this regtest request.
    root = bip32.HDKey.from_seed(bip39.mnemonic_to_seed(MNEMONICS[0]))
    assert root.my_fingerprint == fp
    main_path = [84 + H, 0 + H, 0 + H, 0, 3]
    key = root.derive(main_path).to_public().key
    q = load(psbt)
    old = q.inputs[0].non_witness_utxo.vout[q.inputs[0].vout]
    prev = Transaction(version=2, vin=[TransactionInput(b"\x55" * 32, 0)], vout=[TransactionOutput(old.value, p2wpkh(key))])
    inp = q.inputs[0]
    inp.non_witness_utxo, inp.txid, inp.vout = prev, prev.txid(), 0
    inp.witness_utxo = prev.vout[0]
    inp.bip32_derivations = {key: DerivationPath(fp, main_path)}
    refused(co, vault, intent, approvals, q, "CHAIN_MISMATCH")
    # (c) Change to our mainnet key (coin type 0h).
    q = load(psbt)
    c = change_output(q)
    change_path = [84 + H, 0 + H, 0 + H, 1, 2]
    ckey = root.derive(change_path).to_public().key
    q.outputs[c].script_pubkey = p2wpkh(ckey)
    q.outputs[c].bip32_derivations = {ckey: DerivationPath(fp, change_path)}
    refused(co, vault, intent, approvals, q, "CHAIN_MISMATCH")
    # Positive control: the same request with our genuine testnet account key as the global xpub.
    ok = load(psbt)
    ok.xpubs = {account: DerivationPath(fp, origin)}
    signs(co, vault, intent, approvals, ok)
