"""Shared helpers for the tests that drive Kura's built binaries."""
import hashlib
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = pathlib.Path(os.environ.get("KURA_BIN", ROOT / ".build" / "release"))
if not BIN.is_absolute():
    BIN = ROOT / BIN
VECTORS = ROOT / "Tests" / "Vectors"

# Every byte the signer prints during the test session is kept here, so that the secret scan can
# check all of it at the end (tests/cli/test_zz_secret_scan.py).
TRANSCRIPT: list[bytes] = []
# Secrets the tests hand to the signer (mnemonics, passphrases); the scan looks for each of them,
# for runs of their words, and for the seed and master xprv derived from them.
SECRETS: list[dict] = []
# Every signer home and output path a `kura-signer` run was given (`--home`, `-o`/`--out`): at the
# end of the session the secret scan reads every file the signer wrote there except the keystore.
SIGNER_PATHS: set[pathlib.Path] = set()


def register_secret(mnemonic: str | None = None, passphrase: str | None = None, bip39_passphrase: str = ""):
    SECRETS.append({"mnemonic": mnemonic, "passphrase": passphrase, "bip39": bip39_passphrase})


def register_signer_paths(args):
    """Notes the home and output paths of a `kura-signer` command line (run() does it itself)."""
    args = [str(a) for a in args]
    for flag, value in zip(args, args[1:]):
        if flag in ("--home", "-o", "--out"):
            SIGNER_PATHS.add(pathlib.Path(value).resolve())


def signer_written_files() -> list[pathlib.Path]:
    """Every file now under a signer home (except its keystore) and every signer output with its
    receipt: the files the signer wrote during the session that still exist."""
    files = set()
    for p in SIGNER_PATHS:
        if p.is_dir():
            files.update(f for f in p.rglob("*") if f.is_file() and not f.name.startswith("keystore.kura"))
        for f in (p, pathlib.Path(str(p) + ".receipt.json")):
            if f.is_file() and not f.name.startswith("keystore.kura"):
                files.add(f)
    return sorted(files)


def secret_needles(secrets, binary_forms: bool = False) -> set[bytes]:
    """What a leak of each registered secret looks like: the keystore passphrase, the BIP-0039
    passphrase, any four mnemonic words in order, the seed and the master xprv (and, for files,
    the raw entropy, seed and master key bytes)."""
    from embit import bip32, bip39

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
                    entropy = bip39.mnemonic_to_bytes(words)
                except Exception:
                    continue
                out.add(seed.hex().encode())
                root = bip32.HDKey.from_seed(seed)
                out.add(root.to_base58().encode())
                out.add(root.key.serialize().hex().encode())
                if binary_forms:
                    # Raw forms, except low-entropy test vectors (all-zero entropy) that would match by chance.
                    out.update(b for b in (seed, entropy, root.key.serialize(), root.chain_code) if len(set(b)) >= 8)
    return out


def binary(name: str) -> pathlib.Path:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make build` (or `make test`) first")
    return path


def run(name: str, *args, input: bytes | None = None, check: bool = False, timeout: float = 120, env=None):
    """Runs a built binary and records its output for the secret scan."""
    if name == "kura-signer":
        register_signer_paths(args)
    e = dict(os.environ)
    e.pop("KURA_SIGNER_HOME", None)
    if env:
        e.update(env)
    proc = subprocess.run(
        [str(binary(name)), *map(str, args)],
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
        env=e,
        start_new_session=True,  # no controlling terminal: prompts must fail, never hang
    )
    TRANSCRIPT.append(proc.stdout)
    TRANSCRIPT.append(proc.stderr)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{name} {' '.join(map(str, args))} exited {proc.returncode}\nstdout:{proc.stdout.decode()}\nstderr:{proc.stderr.decode()}"
        )
    return proc


def tree_digest(path: pathlib.Path) -> dict[str, str]:
    """Names and SHA-256 of every file under `path` (to prove that a refusal wrote nothing)."""
    out = {}
    if not path.exists():
        return out
    for p in sorted(path.rglob("*")):
        if p.is_file():
            out[str(p.relative_to(path))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def write_secret(path: pathlib.Path, text: str) -> pathlib.Path:
    path.write_text(text + "\n")
    path.chmod(0o600)
    return path
