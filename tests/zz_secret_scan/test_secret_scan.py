"""Runs last: scans every byte the signer printed during this test session (stdout and stderr of
every run) and every file it wrote (outputs, receipts, ledger and head, temporaries — all but the
keystore) for the secrets the tests gave it — mnemonics (and any four of their words in order),
keystore and BIP-0039 passphrases, seeds and master xprvs (and, in files, their raw bytes)."""

from embit import bip32, bip39

from conftest import SECRETS, TRANSCRIPT, secret_needles, signer_written_files

needles = secret_needles


def test_no_secret_in_any_signer_output():
    assert TRANSCRIPT, "no signer output was recorded"
    assert SECRETS, "no secrets were registered"
    found = [n for n in needles(SECRETS) for chunk in TRANSCRIPT if n in chunk]
    assert not found, f"{len(found)} secret fragments found in signer output"


def test_no_secret_in_any_file_the_signer_wrote():
    assert SECRETS, "no secrets were registered"
    files = signer_written_files()
    assert files, "no signer file was recorded"
    kinds = {f.name.split(".")[0] if f.name.startswith("ledger") else f.suffix for f in files}
    assert "ledger" in kinds, kinds
    all_needles = needles(SECRETS, binary_forms=True)
    found = [(str(f), n[:8]) for f in files for n in all_needles if n in f.read_bytes()]
    assert not found, f"{len(found)} secret fragments found in files the signer wrote: {found[:5]}"


def test_scanner_positive_control(tmp_path):
    # The scanner catches each kind of leak: four words in order, the seed, the master xprv.
    words = "legal winner thank year wave sausage worth useful legal winner thank yellow"
    secret = [{"mnemonic": words, "passphrase": "keystore-secret", "bip39": "TREZOR"}]
    seed = bip39.mnemonic_to_seed(words, "TREZOR")
    leaks = [b"x wave sausage worth useful y", seed.hex().encode(), bip32.HDKey.from_seed(seed).to_base58().encode(),
             b"pass=keystore-secret"]
    for leak in leaks:
        assert any(n in leak for n in needles(secret)), leak
    assert not any(n in b"legal winner thank" for n in needles(secret))
    # And in files: the raw seed and master key bytes inside a binary file are found.
    raw = [b"\x00" * 7 + seed + b"\x01", b"ab" + bip32.HDKey.from_seed(seed).key.serialize() + b"cd"]
    for blob in raw:
        f = tmp_path / "leak.bin"
        f.write_bytes(blob)
        assert any(n in f.read_bytes() for n in needles(secret, binary_forms=True))
