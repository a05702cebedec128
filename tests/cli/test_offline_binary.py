"""The signer is offline by construction: neither `kura-signer` nor any shared library it loads
(the C library itself aside) imports `socket`, `connect` or `getaddrinfo` (docs/adr/0003)."""
import re
import subprocess

from conftest import binary

FORBIDDEN_SYMBOLS = {"socket", "connect", "getaddrinfo"}
FORBIDDEN_LIBRARIES = ("libFoundation.so", "libFoundationNetworking", "libcurl", "libcrypto", "libssl", "libnio")
EXEMPT = ("libc.so", "ld-linux", "linux-vdso")


def loaded_libraries(path):
    out = subprocess.run(["ldd", str(path)], capture_output=True, text=True, check=True).stdout
    libs = []
    for line in out.splitlines():
        m = re.match(r"\s*(\S+)(?: => (\S+))? \(0x", line)
        if not m:
            continue
        name, resolved = m.group(1), m.group(2) or m.group(1)
        assert "not found" not in line, line
        libs.append((name, resolved))
    return libs


def imported_symbols(path):
    out = subprocess.run(["nm", "-D", "--undefined-only", str(path)], capture_output=True, text=True, check=True).stdout
    return {line.split()[-1].split("@")[0] for line in out.splitlines() if line.strip()}


def networking_imports(path):
    return FORBIDDEN_SYMBOLS & imported_symbols(path)


def test_detector_finds_sockets_in_full_foundation():
    # Positive control: the full Foundation does import socket functions, so the check can fail.
    foundation = [r for n, r in loaded_libraries(binary("kura-signer")) if "libswiftCore" in n]
    assert foundation, "libswiftCore not found next to the signer"
    full = foundation[0].replace("libswiftCore.so", "libFoundation.so")
    assert networking_imports(full) == FORBIDDEN_SYMBOLS


def test_signer_and_its_libraries_import_no_networking():
    signer = binary("kura-signer")
    assert networking_imports(signer) == set()
    libs = loaded_libraries(signer)
    assert any("libsecp256k1" in n for n, _ in libs)
    checked = 0
    for name, resolved in libs:
        assert not any(bad in name for bad in FORBIDDEN_LIBRARIES), f"kura-signer loads {name}"
        if any(e in name for e in EXEMPT):
            continue
        assert networking_imports(resolved) == set(), f"{name} imports networking functions"
        checked += 1
    assert checked >= 5
