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


def register_secret(mnemonic: str | None = None, passphrase: str | None = None, bip39_passphrase: str = ""):
    SECRETS.append({"mnemonic": mnemonic, "passphrase": passphrase, "bip39": bip39_passphrase})


def binary(name: str) -> pathlib.Path:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make build` (or `make test`) first")
    return path


def run(name: str, *args, input: bytes | None = None, check: bool = False, timeout: float = 120, env=None):
    """Runs a built binary and records its output for the secret scan."""
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
