"""ATTACKS.md K01-K06 (the signer's keystore, state and hygiene) against the built `kura-signer`.

Every refusal asserts the category token, the exit code of its family, that no output (neither OUT
nor OUT.receipt.json) was written, and that the signer home is byte-identical; every case has a
positive control that signs."""
import hashlib
import hmac
import json
import os
import pathlib
import re
import secrets
import shutil
import signal
import subprocess
import time

import pytest
from coincurve import PrivateKey as CurveKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from embit import bip32, bip39
from embit.psbt import PSBT as EmbitPSBT
from embit.script import Script as EmbitScript
from eth_account import Account

from conftest import ROOT, TRANSCRIPT, binary, register_secret, run, secret_needles, write_secret, SECRETS
from harness import (CHAIN_ID, EXCHANGE_ETH, EXIT_STATE, EXIT_TRANSACTION, EXIT_GOVERNANCE, EXIT_MALFORMED,
                     KEYSTORE_PASS, MNEMONICS, Company, canonical, refusal)
from statekit import btc_bundle, clone, eth_bundle, eth_intent, head, ledger_records, receipt, signatures

ATTACKER_MNEMONIC = "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong"
ATTACKER_BIP39 = "hidden wallet 25th"


@pytest.fixture(scope="module")
def co(tmp_path_factory):
    return Company(tmp_path_factory.mktemp("company"))


def assert_refused(signer, bundle, out, category, exit_code, before=None, review=True):
    """Signs `bundle` and asserts the refusal, no output, and an unchanged home."""
    before = signer.state() if before is None else before
    r = signer.sign(bundle, out)
    assert refusal(r) == (exit_code, category), r.stderr.decode()
    assert not out.exists() and not pathlib.Path(str(out) + ".receipt.json").exists()
    assert signer.state() == before, "a refusal changed the signer's home"
    if not review:
        return r
    rv = signer.review(bundle)
    assert rv.returncode == exit_code and json.loads(rv.stdout)["refusals"][0]["category"] == category, rv.stdout
    assert signer.state() == before
    return r


def assert_signs(signer, bundle, out):
    r = signer.sign(bundle, out)
    assert r.returncode == 0, r.stderr.decode()
    assert out.exists()
    return receipt(out)


# ---------------------------------------------------------------------------------------------
# K01: a keystore re-written with weak KDF parameters (by an independent implementation)

def reseal(keystore: bytes, passphrase: str, log2n: int, r: int = 8, p: int = 1) -> bytes:
    """Decrypts a Kura keystore with the passphrase (hashlib scrypt + cryptography's
    ChaCha20-Poly1305) and seals the same plaintext again under new KDF parameters, fresh salt and
    nonce: what an attacker who learned the passphrase would write to make later brute force cheap."""
    header, body = keystore[:59], keystore[59:-32]
    assert hashlib.sha256(keystore[:-32]).digest() == keystore[-32:]
    n, rr, pp, salt, nonce = 1 << header[11], header[12], header[13], header[14:46], header[47:59]
    key = hashlib.scrypt(passphrase.encode(), salt=salt, n=n, r=rr, p=pp, maxmem=1 << 30, dklen=32)
    plain = ChaCha20Poly1305(key).decrypt(nonce, body, header)
    salt, nonce = secrets.token_bytes(32), secrets.token_bytes(12)
    new_header = header[:11] + bytes([log2n, r, p]) + salt + header[46:47] + nonce
    key = hashlib.scrypt(passphrase.encode(), salt=salt, n=1 << log2n, r=r, p=p, maxmem=1 << 30, dklen=32)
    sealed = new_header + ChaCha20Poly1305(key).encrypt(nonce, plain, new_header)
    return sealed + hashlib.sha256(sealed).digest()


def test_K01_keystore_resealed_with_weak_kdf_is_refused(co, tmp_path):
    vault = clone(co.signers[0], tmp_path / "home")
    original = (vault.home / "keystore.kura").read_bytes()
    assert original[11] >= 15, "the harness keystore is below the KDF floor"
    bundle = btc_bundle(co)
    for log2n, r, p in ((1, 8, 1), (1, 1, 1), (10, 8, 1), (14, 8, 1), (15, 1, 1), (15, 4, 1)):
        (vault.home / "keystore.kura").write_bytes(reseal(original, KEYSTORE_PASS, log2n, r, p))
        assert_refused(vault, bundle, tmp_path / f"weak-{log2n}-{r}-{p}.psbt", "KEYSTORE_INVALID", EXIT_STATE)
    # Positive control: the same independent re-seal at the floor cost opens and signs.
    (vault.home / "keystore.kura").write_bytes(reseal(original, KEYSTORE_PASS, 15))
    assert_signs(vault, bundle, tmp_path / "floor.psbt")


# ---------------------------------------------------------------------------------------------
# K02: the keystore swapped for one holding another seed

def attacker_home(co, home, mnemonic=ATTACKER_MNEMONIC, bip39_passphrase=None, pin=True):
    register_secret(mnemonic, KEYSTORE_PASS, bip39_passphrase or "")
    m = write_secret(home.parent / f"{home.name}-mnemonic", mnemonic)
    args = ["init", "--home", home, "--network", "regtest", "--restore", "--mnemonic-file", m, "--passphrase-file",
            co.signers[0].passfile, "--kdf-log-n", "15"]
    if bip39_passphrase:
        args += ["--bip39-passphrase-file", write_secret(home.parent / f"{home.name}-bip39", bip39_passphrase)]
    run("kura-signer", *args, check=True)
    if pin:
        run("kura-signer", "pin", co.genesis, "--home", home, "--passphrase-file", co.signers[0].passfile, check=True)
    return home


def test_K02_keystore_swapped_for_an_attacker_seed(co, tmp_path):
    genuine = co.signers[0]
    btc = btc_bundle(co)
    intent, approvals = eth_intent(co)
    eth = eth_bundle(co, intent, approvals, nonce=0)
    swaps = {
        "attacker-seed": attacker_home(co, tmp_path / "attacker", pin=False) / "keystore.kura",
        "same-words-other-bip39-passphrase": attacker_home(co, tmp_path / "hidden", MNEMONICS[0], ATTACKER_BIP39,
                                                          pin=False) / "keystore.kura",
        "another-signers-keystore": co.signers[1].home / "keystore.kura",
    }
    for name, keystore in swaps.items():
        vault = clone(genuine, tmp_path / f"home-{name}")
        shutil.copyfile(keystore, vault.home / "keystore.kura")
        for kind, bundle in (("btc", btc), ("eth", eth)):
            assert_refused(vault, bundle, tmp_path / f"{name}-{kind}.out", "WALLET_MISMATCH", EXIT_TRANSACTION)
    # The whole home replaced by one whose keystore and state agree (an attacker seed, the genuine
    # genesis pinned): the keys it derives are not those the policy names for vault-a.
    whole = clone(genuine, tmp_path / "unused")
    whole.home = attacker_home(co, tmp_path / "attacker-home")
    for kind, bundle in (("btc", btc), ("eth", eth)):
        assert_refused(whole, bundle, tmp_path / f"whole-{kind}.out", "WALLET_MISMATCH", EXIT_TRANSACTION)
    # Positive control: the genuine keystore signs both.
    vault = clone(genuine, tmp_path / "home-genuine")
    assert_signs(vault, btc, tmp_path / "genuine.psbt")
    assert_signs(vault, eth, tmp_path / "genuine.eth")


# ---------------------------------------------------------------------------------------------
# K03: error paths print no secret, and no core file can hold one

def test_K03_error_paths_print_no_secret(co, tmp_path):
    vault = clone(co.signers[0], tmp_path / "home")
    good = btc_bundle(co)
    start = len(TRANSCRIPT)
    doc = json.loads(good.read_bytes())
    cases = {
        "random-bytes": secrets.token_bytes(4096),
        "deep-nesting": b"[" * 10_000 + b"]" * 10_000,
        "empty": b"",
        "truncated": good.read_bytes()[: len(good.read_bytes()) // 2],
        "bad-psbt": json.dumps({**doc, "transaction": {"chain": "bitcoin", "psbt": "cHNidP8BAAAA"}}).encode(),
        "bad-eth": json.dumps({**doc, "transaction": {"chain": "ethereum", "unsigned": "02c0"}}).encode(),
        "foreign-receipt": json.dumps({**doc, "lastReceipt": {"receipt": {}, "signature": "00" * 64}}).encode(),
    }
    for name, data in cases.items():
        f = tmp_path / f"{name}.json"
        f.write_bytes(data)
        r = vault.sign(f, tmp_path / f"{name}.out")
        assert r.returncode != 0 and not (tmp_path / f"{name}.out").exists()
    # Broken state and keystore, a wrong passphrase, a missing bundle.
    wrong = write_secret(tmp_path / "wrong-pass", "not the passphrase 1")
    run("kura-signer", "sign", good, "-o", tmp_path / "w.out", "--yes", "--operator", "x", "--home", vault.home,
        "--passphrase-file", wrong)
    assert vault.sign(tmp_path / "missing.json", tmp_path / "m.out").returncode == EXIT_MALFORMED
    ledger = (vault.home / "ledger.kura").read_bytes()
    (vault.home / "ledger.kura").write_bytes(ledger[:-5] + bytes([ledger[-5] ^ 1]) + ledger[-4:])
    assert refusal(vault.sign(good, tmp_path / "t.out"))[1] == "STATE_INTEGRITY"
    (vault.home / "ledger.kura").write_bytes(ledger)
    keystore = (vault.home / "keystore.kura").read_bytes()
    (vault.home / "keystore.kura").write_bytes(keystore[:100])
    assert refusal(vault.sign(good, tmp_path / "k.out"))[1] == "KEYSTORE_INVALID"
    (vault.home / "keystore.kura").write_bytes(keystore)
    printed = TRANSCRIPT[start:]
    assert len(printed) >= 2 * 11
    needles = secret_needles(SECRETS)
    assert not [n for n in needles for chunk in printed if n in chunk]
    # Positive control for the scan itself: the mnemonic's words would have been found.
    assert any(n in MNEMONICS[0].encode() for n in needles)
    # Positive control: the untouched bundle signs.
    assert_signs(vault, good, tmp_path / "good.psbt")


def test_K03_no_core_dump_while_the_seed_is_in_memory(co, tmp_path):
    """The signer unlocks the keystore, then blocks opening a FIFO bundle: while it holds the seed,
    its core-file limit must be zero, and a crash signal must leave no core file behind."""
    vault = clone(co.signers[0], tmp_path / "home")
    fifo = tmp_path / "bundle.fifo"
    os.mkfifo(fifo)
    work = tmp_path / "cwd"
    work.mkdir()
    proc = subprocess.Popen([str(binary("kura-signer")), "sign", str(fifo), "-o", str(tmp_path / "o"), "--yes",
                             "--operator", "x", "--home", str(vault.home), "--passphrase-file", str(vault.passfile)],
                            cwd=work, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        limits = ""
        while time.monotonic() < deadline:
            # The ledger is open (so the keystore was unlocked) and the bundle is not read yet.
            assert proc.poll() is None, proc.communicate()
            fds = [os.readlink(f) for f in pathlib.Path(f"/proc/{proc.pid}/fd").iterdir() if f.exists()]
            if str(vault.home / "ledger.kura") in fds:
                time.sleep(0.2)
                limits = pathlib.Path(f"/proc/{proc.pid}/limits").read_text()
                break
            time.sleep(0.05)
        assert limits, "the signer never reached the bundle read"
        core = next(line for line in limits.splitlines() if line.startswith("Max core file size"))
        assert core.split()[4:6] == ["0", "0"], core
        proc.send_signal(signal.SIGSEGV)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    TRANSCRIPT.extend([out, err])
    # The signal's default action ends the process: no crash report (Swift's backtracer would
    # print registers and the memory they point to) and no core file.
    assert proc.returncode == -signal.SIGSEGV, err.decode()
    assert b"Registers" not in err and b"Backtracing" not in err, err.decode()
    assert not [p for p in work.iterdir()], "a core file was written"
    # Positive control: the same shell limit is non-zero for an ordinary process here (else the
    # assertion above could not fail).
    ordinary = subprocess.run(["sh", "-c", "ulimit -c unlimited 2>/dev/null; cat /proc/self/limits"], capture_output=True,
                              text=True).stdout
    line = next(line for line in ordinary.splitlines() if line.startswith("Max core file size"))
    assert line.split()[4] != "0" or line.split()[5] == "0", line


# ---------------------------------------------------------------------------------------------
# K04: the signer's state restored from an older copy, missing or tampered

def test_K04_state_rolled_back_is_refused(co, tmp_path):
    vault = clone(co.signers[0], tmp_path / "home")
    r1 = assert_signs(vault, btc_bundle(co), tmp_path / "1.psbt")
    snapshot = tmp_path / "snapshot"
    shutil.copytree(vault.home, snapshot)
    b2 = btc_bundle(co, last_receipt=r1)
    r2 = assert_signs(vault, b2, tmp_path / "2.psbt")
    assert r2["receipt"]["sequence"] == 2
    # The coordinator's next bundle carries r2; the replay of intent 2 carries it too.
    b3 = btc_bundle(co, last_receipt=r2)
    replay = json.loads(b2.read_bytes())
    replay["lastReceipt"] = r2
    b2_again = tmp_path / "b2-again.json"
    b2_again.write_text(json.dumps(replay))

    # (a) The record file restored from the snapshot, the committed head kept: the ledger ends
    # before its head.
    a = clone(vault, tmp_path / "a")
    shutil.copyfile(snapshot / "ledger.kura", a.home / "ledger.kura")
    for name, bundle in (("b3", b3), ("b2", b2_again)):
        assert_refused(a, bundle, tmp_path / f"a-{name}.out", "STATE_INTEGRITY", EXIT_STATE)
    # (b) Both files restored together: consistent on the signer alone, but behind the receipt
    # the coordinator holds.
    b = clone(vault, tmp_path / "b")
    for f in ("ledger.kura", "ledger.kura.head"):
        shutil.copyfile(snapshot / f, b.home / f)
    assert b.cmd("ledger", "verify").returncode == 0
    for name, bundle in (("b3", b3), ("b2", b2_again)):
        assert_refused(b, bundle, tmp_path / f"b-{name}.out", "STATE_INTEGRITY", EXIT_STATE)
    # (c) A fork: the rolled-back copy signed another intent as its sequence 2; the genuine signer
    # is shown that receipt as "its" last one.
    fork = clone(vault, tmp_path / "fork")
    for f in ("ledger.kura", "ledger.kura.head"):
        shutil.copyfile(snapshot / f, fork.home / f)
    forked = assert_signs(fork, btc_bundle(co, last_receipt=r1), tmp_path / "fork.psbt")
    assert forked["receipt"]["sequence"] == 2 and forked != r2
    assert_refused(vault, btc_bundle(co, last_receipt=forked), tmp_path / "forked.out", "STATE_INTEGRITY", EXIT_STATE)
    # (d) The head alone restored: the records past it are complete and authentic (a crash between
    # record and head), so intent 2 stays spent.
    d = clone(vault, tmp_path / "d")
    shutil.copyfile(snapshot / "ledger.kura.head", d.home / "ledger.kura.head")
    assert_refused(d, b2_again, tmp_path / "d-b2.out", "REPLAY", EXIT_GOVERNANCE)
    # A receipt the signer never signed.
    fake = json.loads(json.dumps(r2))
    fake["receipt"]["sequence"] = 9
    assert_refused(vault, btc_bundle(co, last_receipt=fake), tmp_path / "fake.out", "MALFORMED", EXIT_MALFORMED)
    # Positive controls: the current signer signs the coordinator's next bundle (and its receipt
    # chains to r2); the head-restored copy signs it too.
    r3 = assert_signs(vault, b3, tmp_path / "3.psbt")
    assert r3["receipt"]["sequence"] == 3
    assert assert_signs(d, b3, tmp_path / "d-3.psbt")["receipt"]["sequence"] == 3


def test_K04_missing_or_tampered_state_is_refused(co, tmp_path):
    base = clone(co.signers[0], tmp_path / "base")
    r1 = assert_signs(base, btc_bundle(co), tmp_path / "1.psbt")
    bundle = btc_bundle(co, last_receipt=r1)
    ledger = (base.home / "ledger.kura").read_bytes()
    head_bytes = (base.home / "ledger.kura.head").read_bytes()
    records, _ = ledger_records(base.home)
    assert [r["type"] for r in records] == ["identity", "pin", "policy", "signature"]
    assert head(base.home) == (len(ledger), len(records))

    def flipped(data, i):
        return data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1:]

    def cases():
        yield "ledger-missing", lambda h: (h / "ledger.kura").unlink()
        yield "head-missing", lambda h: (h / "ledger.kura.head").unlink()
        yield "ledger-empty", lambda h: (h / "ledger.kura").write_bytes(b"")
        yield "ledger-magic-only", lambda h: (h / "ledger.kura").write_bytes(ledger[:8])
        yield "last-record-cut", lambda h: (h / "ledger.kura").write_bytes(ledger[:-40])
        step = max(1, len(ledger) // 9)
        for i in list(range(0, len(ledger), step)) + [len(ledger) - 1]:
            yield f"ledger-byte-{i}", lambda h, i=i: (h / "ledger.kura").write_bytes(flipped(ledger, i))
        for i in (0, 17, 60, 87):
            yield f"head-byte-{i}", lambda h, i=i: (h / "ledger.kura.head").write_bytes(flipped(head_bytes, i))
        # A record rewritten in the clear (a used intent renamed) without the MAC key.
        # The last character is replaced by a different one (never a no-op edit).
        used = records[3]["intent"].encode()
        renamed = used[:-1] + (b"1" if used[-1:] == b"0" else b"0")
        edited = ledger.replace(used, renamed)
        assert edited != ledger and len(edited) == len(ledger)
        yield "record-edited", lambda h: (h / "ledger.kura").write_bytes(edited)

    seen = 0
    for name, mutate in cases():
        h = clone(base, tmp_path / name)
        mutate(h.home)
        assert_refused(h, bundle, tmp_path / f"{name}.out", "STATE_INTEGRITY", EXIT_STATE, review=seen % 4 == 0)
        if seen % 4 == 1:
            assert h.cmd("ledger", "verify").returncode == EXIT_STATE
        seen += 1
    assert seen >= 20
    # Positive control: the untouched state verifies, lists, and signs.
    listed = base.cmd("ledger", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [e["type"] for e in json.loads(listed.stdout)["entries"]] == ["identity", "pin", "policy", "signature"]
    assert assert_signs(base, bundle, tmp_path / "2.psbt")["receipt"]["sequence"] == 2


# ---------------------------------------------------------------------------------------------
# K05: process gate — what a test can hold: every dependency pinned exactly

def test_K05_dependencies_are_pinned_exactly():
    package = (ROOT / "Package.swift").read_text()
    deps = re.findall(r'\.package\(\s*url:\s*"([^"]+)"\s*,\s*([a-zA-Z]+):', package)
    assert deps, "no dependency declarations found"
    assert all(kind == "exact" for _, kind in deps), deps
    resolved = json.loads((ROOT / "Package.resolved").read_text())
    pins = {p["location"].removesuffix(".git").lower(): p["state"] for p in resolved["pins"]}
    for url, _ in deps:
        state = pins[url.removesuffix(".git").lower()]
        assert re.fullmatch(r"[0-9a-f]{40}", state["revision"]), state
    # Positive control for the pattern: a range requirement would be caught.
    assert re.findall(r'\.package\(\s*url:\s*"([^"]+)"\s*,\s*([a-zA-Z]+):', '.package(url: "u", from: "1.0.0")') == [
        ("u", "from")]


# ---------------------------------------------------------------------------------------------
# K06: nonce covert channel / reuse — every signature recomputed by independent code

def rfc6979_nonces(key: int, digest: bytes, extra: bytes = b""):
    """RFC 6979 HMAC-DRBG (SHA-256) for secp256k1, with optional extra data as libsecp256k1 adds it."""
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    x = key.to_bytes(32, "big")
    h = (int.from_bytes(digest, "big") % n).to_bytes(32, "big")
    v, k = b"\x01" * 32, b"\x00" * 32
    k = hmac.new(k, v + b"\x00" + x + h + extra, hashlib.sha256).digest()
    v = hmac.new(k, v, hashlib.sha256).digest()
    k = hmac.new(k, v + b"\x01" + x + h + extra, hashlib.sha256).digest()
    v = hmac.new(k, v, hashlib.sha256).digest()
    while True:
        v = hmac.new(k, v, hashlib.sha256).digest()
        t = int.from_bytes(v, "big")
        if 1 <= t < n:
            yield t
        k = hmac.new(k, v + b"\x00", hashlib.sha256).digest()
        v = hmac.new(k, v, hashlib.sha256).digest()


def expected_low_r_signature(key: int, digest: bytes) -> tuple[int, int]:
    """Bitcoin Core's signing: RFC 6979, then extra data = a little-endian counter until r < 2^255;
    (r, low s), computed here from the nonce with coincurve only for the point multiplication."""
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    counter = 0
    while True:
        extra = b"" if counter == 0 else counter.to_bytes(4, "little") + b"\x00" * 28
        k = next(rfc6979_nonces(key, digest, extra))
        r = int.from_bytes(CurveKey(k.to_bytes(32, "big")).public_key.format(compressed=True)[1:], "big") % n
        s = pow(k, -1, n) * (int.from_bytes(digest, "big") + r * key) % n
        if r < 1 << 255:
            return r, min(s, n - s)
        counter += 1


def der_signature(r: int, s: int) -> bytes:
    def integer(v: int) -> bytes:
        b = v.to_bytes(33, "big").lstrip(b"\x00")
        b = b"\x00" + b if b[0] & 0x80 else b
        return b"\x02" + bytes([len(b)]) + b

    body = integer(r) + integer(s)
    return b"\x30" + bytes([len(body)]) + body


def test_K06_signatures_are_reproducible_by_an_independent_signer(co, tmp_path):
    vault = clone(co.signers[0], tmp_path / "home")
    seed = bip39.mnemonic_to_seed(MNEMONICS[0])
    root = bip32.HDKey.from_seed(seed)
    # Bitcoin: every ECDSA signature equals Core-style RFC 6979 with low-R grinding.
    out = tmp_path / "btc.psbt"
    r1 = assert_signs(vault, btc_bundle(co), out)
    psbt = EmbitPSBT.from_base64(out.read_text().strip())
    checked = 0
    for i, inp in enumerate(psbt.inputs):
        for pub, sig in inp.partial_sigs.items():
            der = next(d for p, d in inp.bip32_derivations.items() if p == pub)
            key = root.derive(der.derivation)
            assert key.key.get_public_key() == pub
            script_code = EmbitScript(b"\x76\xa9\x14" + hashlib.new("ripemd160", hashlib.sha256(pub.sec()).digest()).digest()
                                      + b"\x88\xac")
            digest = psbt.tx.sighash_segwit(i, script_code, inp.utxo.value)
            r, s = expected_low_r_signature(int.from_bytes(key.key.secret, "big"), digest)
            assert sig[:-1] == der_signature(r, s)
            assert sig[-1] == 1
            checked += 1
    assert checked == len(psbt.inputs) == 2
    # Receipts: BIP-0340 with zero auxiliary data, recomputed with coincurve (libsecp256k1).
    identity = CurveKey(root.derive("m/7467h/0h").key.secret)
    r2 = assert_signs(vault, btc_bundle(co, last_receipt=r1), tmp_path / "btc2.psbt")
    for rc in (r1, r2):
        digest = hashlib.sha256(hashlib.sha256(b"kura/receipt/v1").digest() * 2 + canonical(rc["receipt"])).digest()
        assert identity.sign_schnorr(digest, b"\x00" * 32).hex() == rc["signature"], rc
    assert r1["signature"][:64] != r2["signature"][:64]
    # Ethereum: the signed transaction equals eth-account's signature of the same fields.
    intent, approvals = eth_intent(co)
    eth_out = tmp_path / "eth.tx"
    assert_signs(vault, eth_bundle(co, intent, approvals, nonce=0), eth_out)
    account = Account.from_key(root.derive("m/44h/60h/0h/0/0").key.secret)
    tx = {"type": 2, "chainId": CHAIN_ID, "nonce": 0, "maxPriorityFeePerGas": 2_000_000_000,
          "maxFeePerGas": 100_000_000_000, "gas": 21_000, "to": EXCHANGE_ETH, "value": 1_000_000_000_000_000,
          "data": b"", "accessList": []}
    assert account.sign_transaction(tx).raw_transaction.hex().removeprefix("0x") == \
        eth_out.read_text().strip().removeprefix("0x")
