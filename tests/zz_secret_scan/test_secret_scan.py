"""Runs last: scans every byte the signer printed during this test session (stdout and stderr of
every run) for the secrets the tests gave it — mnemonics (and any four of their words in order),
keystore and BIP-0039 passphrases, seeds and master xprvs."""
from embit import bip32, bip39

from conftest import SECRETS, TRANSCRIPT


def needles(secrets):
    out = set()
    for s in secrets:
        if s["passphrase"]:
            out.add(s["passphrase"].encode())
        if s["bip39"] and len(s["bip39"]) >= 6:
            out.add(s["bip39"].encode())
        words = s["mnemonic"]
        if words:
            w = words.split()
            for i in range(len(w) - 3):
                out.add(" ".join(w[i:i + 4]).encode())
            if len(w) in (12, 15, 18, 21, 24):
                try:
                    seed = bip39.mnemonic_to_seed(words, s["bip39"] or "")
                except Exception:
                    continue
                out.add(seed.hex().encode())
                root = bip32.HDKey.from_seed(seed)
                out.add(root.to_base58().encode())
                out.add(root.key.serialize().hex().encode())
    return out


def test_no_secret_in_any_signer_output():
    assert TRANSCRIPT, "no signer output was recorded"
    assert SECRETS, "no secrets were registered"
    found = [n for n in needles(SECRETS) for chunk in TRANSCRIPT if n in chunk]
    assert not found, f"{len(found)} secret fragments found in signer output"


def test_scanner_positive_control():
    # The scanner catches each kind of leak: four words in order, the seed, the master xprv.
    words = "legal winner thank year wave sausage worth useful legal winner thank yellow"
    secret = [{"mnemonic": words, "passphrase": "keystore-secret", "bip39": "TREZOR"}]
    seed = bip39.mnemonic_to_seed(words, "TREZOR")
    leaks = [b"x wave sausage worth useful y", seed.hex().encode(), bip32.HDKey.from_seed(seed).to_base58().encode(),
             b"pass=keystore-secret"]
    for leak in leaks:
        assert any(n in leak for n in needles(secret)), leak
    assert not any(n in b"legal winner thank" for n in needles(secret))
