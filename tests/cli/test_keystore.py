"""The keystore through the built `kura-signer`: every refusal is a clear, named error with a
non-zero exit, writes nothing and prints no secret; each has a positive control."""
import hashlib
import stat

import pytest

from conftest import register_secret, run, tree_digest, write_secret

TEST_MNEMONIC = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
KEYSTORE_PASS = "keystore passphrase 1"
EXIT_KEYSTORE = 3


@pytest.fixture
def signer(tmp_path):
    """A signer home restored from the BIP-0039 test mnemonic at the floor KDF cost."""
    register_secret(TEST_MNEMONIC, KEYSTORE_PASS)
    home = tmp_path / "home"
    mfile = write_secret(tmp_path / "mnemonic", TEST_MNEMONIC)
    pfile = write_secret(tmp_path / "pass", KEYSTORE_PASS)
    run("kura-signer", "init", "--home", home, "--restore", "--mnemonic-file", mfile, "--passphrase-file", pfile,
        "--kdf-log-n", "15", check=True)
    return home, pfile


def xpub(home, pfile):
    return run("kura-signer", "xpub", "--home", home, "--passphrase-file", pfile, "--path", "m/84h/0h/0h")


def assert_refused(proc, code, home=None, before=None):
    assert proc.returncode == EXIT_KEYSTORE, proc.stderr
    assert proc.stdout == b""
    err = proc.stderr.decode()
    assert err.startswith("kura-signer: error: "), err
    assert code in err, err
    if home is not None:
        assert tree_digest(home) == before, "a refusal changed the signer's files"


def test_restore_and_unlock_positive_control(signer):
    home, pfile = signer
    out = xpub(home, pfile)
    assert out.returncode == 0, out.stderr
    # BIP-0084's published account key for this mnemonic (zpub in the BIP, xpub here).
    assert out.stdout.decode().strip().endswith(
        "xpub6CatWdiZiodmUeTDp8LT5or8nmbKNcuyvz7WyksVFkKB4RHwCD3XyuvPEbvqAQY3rAPshWcMLoP2fMFMKHPJ4ZeZXYVUhLv1VMrjPC7PW6V")
    assert out.stdout.decode().startswith("[73c5da0a/84h/0h/0h]")
    mode = stat.S_IMODE((home / "keystore.kura").stat().st_mode)
    assert mode == 0o600


def test_wrong_passphrase(signer, tmp_path):
    home, _ = signer
    before = tree_digest(home)
    wrong = write_secret(tmp_path / "wrong", "not the passphrase")
    register_secret(passphrase="not the passphrase")
    assert_refused(xpub(home, wrong), "wrong_passphrase", home, before)


def test_every_flipped_byte_is_refused(signer):
    home, pfile = signer
    ks = home / "keystore.kura"
    original = ks.read_bytes()
    assert len(original) > 100
    for offset in range(len(original)):
        damaged = bytearray(original)
        damaged[offset] ^= 0x01
        ks.write_bytes(bytes(damaged))
        before = tree_digest(home)
        proc = xpub(home, pfile)
        expected = "not_a_keystore" if offset < 8 else "keystore_corrupted"
        assert_refused(proc, expected, home, before)
    ks.write_bytes(original)
    assert xpub(home, pfile).returncode == 0  # positive control: the undamaged file still opens


def rewrite(ks, mutate):
    data = bytearray(ks.read_bytes()[:-32])
    mutate(data)
    ks.write_bytes(bytes(data) + hashlib.sha256(bytes(data)).digest())


def test_keystore_rewritten_with_weak_kdf_cost(signer):
    home, pfile = signer
    ks = home / "keystore.kura"
    original = ks.read_bytes()
    # Positive control: re-sealing the checksum over unchanged bytes still opens.
    rewrite(ks, lambda d: None)
    assert xpub(home, pfile).returncode == 0
    for offset, value in ((11, 10), (11, 14), (12, 1), (13, 0)):  # log2 N, r, p below the floor
        ks.write_bytes(original)
        rewrite(ks, lambda d: d.__setitem__(offset, value))
        before = tree_digest(home)
        assert_refused(xpub(home, pfile), "kdf_cost_out_of_bounds", home, before)
    # A consistent rewrite to a different (acceptable) cost fails authentication: the header is AAD.
    ks.write_bytes(original)
    rewrite(ks, lambda d: d.__setitem__(11, 16))
    before = tree_digest(home)
    assert_refused(xpub(home, pfile), "wrong_passphrase", home, before)


def init_with_mnemonic(tmp_path, words):
    home = tmp_path / "newhome"
    mfile = write_secret(tmp_path / "bad-mnemonic", words)
    pfile = write_secret(tmp_path / "pass", KEYSTORE_PASS)
    proc = run("kura-signer", "init", "--home", home, "--restore", "--mnemonic-file", mfile, "--passphrase-file", pfile,
               "--kdf-log-n", "15")
    return home, proc


def test_bad_mnemonic_checksum(tmp_path):
    words = "abandon " * 11 + "abandon"
    register_secret(words.strip())
    home, proc = init_with_mnemonic(tmp_path, words)
    assert_refused(proc, "bad_mnemonic")
    assert "checksum" in proc.stderr.decode()
    assert not (home / "keystore.kura").exists()


def test_unknown_word_is_named_by_position_only(tmp_path):
    words = "abandon " * 5 + "bitcoinz " + "abandon " * 5 + "about"
    home, proc = init_with_mnemonic(tmp_path, words)
    assert_refused(proc, "unknown_word")
    err = proc.stderr.decode()
    assert "word 6" in err and "bitcoinz" not in err and "abandon" not in err
    assert not (home / "keystore.kura").exists()


def test_valid_mnemonic_positive_control_for_mnemonic_refusals(tmp_path):
    home, proc = init_with_mnemonic(tmp_path, TEST_MNEMONIC)
    assert proc.returncode == 0, proc.stderr
    assert (home / "keystore.kura").exists()


def test_wrong_word_count(tmp_path):
    home, proc = init_with_mnemonic(tmp_path, "abandon " * 10 + "about")
    assert_refused(proc, "bad_mnemonic")
    assert not (home / "keystore.kura").exists()


def test_refuses_to_overwrite_an_existing_keystore(signer, tmp_path):
    home, pfile = signer
    before = tree_digest(home)
    mfile = write_secret(tmp_path / "m2", TEST_MNEMONIC)
    proc = run("kura-signer", "init", "--home", home, "--restore", "--mnemonic-file", mfile, "--passphrase-file", pfile,
               "--kdf-log-n", "15")
    assert_refused(proc, "already_exists", home, before)


def test_kdf_cost_below_floor_is_refused_at_init(tmp_path):
    mfile = write_secret(tmp_path / "m", TEST_MNEMONIC)
    pfile = write_secret(tmp_path / "p", KEYSTORE_PASS)
    proc = run("kura-signer", "init", "--home", tmp_path / "h", "--restore", "--mnemonic-file", mfile,
               "--passphrase-file", pfile, "--kdf-log-n", "14")
    assert_refused(proc, "kdf_cost_out_of_bounds")
    assert not (tmp_path / "h").exists()


def test_short_keystore_passphrase_is_refused(tmp_path):
    mfile = write_secret(tmp_path / "m", TEST_MNEMONIC)
    pfile = write_secret(tmp_path / "p", "short")
    proc = run("kura-signer", "init", "--home", tmp_path / "h", "--restore", "--mnemonic-file", mfile,
               "--passphrase-file", pfile, "--kdf-log-n", "15")
    assert_refused(proc, "bad_passphrase")
    assert not (tmp_path / "h" / "keystore.kura").exists()


def test_new_mnemonic_needs_a_terminal_or_an_output_file(tmp_path):
    pfile = write_secret(tmp_path / "p", KEYSTORE_PASS)
    proc = run("kura-signer", "init", "--home", tmp_path / "h", "--passphrase-file", pfile, "--kdf-log-n", "15")
    assert_refused(proc, "no_terminal")
    assert not (tmp_path / "h" / "keystore.kura").exists()


def test_new_mnemonic_written_to_a_0600_file_restores_to_the_same_keys(tmp_path):
    pfile = write_secret(tmp_path / "p", KEYSTORE_PASS)
    out = tmp_path / "backup.txt"
    proc = run("kura-signer", "init", "--home", tmp_path / "h", "--passphrase-file", pfile, "--kdf-log-n", "15",
               "--mnemonic-out", out, "--words", "12", check=True)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    lines = out.read_text().split("\n")[:-1]
    assert len(lines) == 12
    words = " ".join(line.split(". ", 1)[1] for line in lines)
    register_secret(words)
    assert words not in proc.stdout.decode() + proc.stderr.decode()
    # Restoring from the written words gives the same master fingerprint.
    mfile = write_secret(tmp_path / "m", words)
    again = run("kura-signer", "init", "--home", tmp_path / "h2", "--restore", "--mnemonic-file", mfile,
                "--passphrase-file", pfile, "--kdf-log-n", "15", check=True)
    fp = [l for l in proc.stdout.decode().splitlines() if l.startswith("master fingerprint")]
    assert fp and fp == [l for l in again.stdout.decode().splitlines() if l.startswith("master fingerprint")]
