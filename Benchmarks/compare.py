"""Side-by-side key-layer benchmarks: Kura (via Benchmarks' kura-bench, release build) against BDK,
embit and coincurve, interleaved in one run on one machine. Prints a Markdown table of median
ops/s over ROUNDS rounds and the ratios the milestone targets are stated in.

    .venv/bin/python Benchmarks/compare.py [--rounds 5] [--scale 1.0]
"""
import argparse
import hashlib
import hmac
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time

import coincurve
from bdkpython import DerivationPath, DescriptorPublicKey
from embit import bip32
from embit import ec as embit_ec

ROOT = pathlib.Path(__file__).resolve().parent.parent
BENCH = ROOT / "Benchmarks" / ".build" / "release" / "kura-bench"
XPUB = "xpub6CatWdiZiodmUeTDp8LT5or8nmbKNcuyvz7WyksVFkKB4RHwCD3XyuvPEbvqAQY3rAPshWcMLoP2fMFMKHPJ4ZeZXYVUhLv1VMrjPC7PW6V"
MESSAGES = [hashlib.sha256(bytes([i])).digest() for i in range(256)]
KEY = bytes([1] * 32)
AUX = bytes([2] * 32)


def timed(fn, n):
    for i in range(min(n, 1000)):
        fn(i)
    t = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - t)


def kura(op, n):
    out = subprocess.run([str(BENCH), op, str(n)], capture_output=True, text=True, check=True).stdout
    return json.loads(out)["ops_per_second"]


def python_impls():
    # BDK: xpub at m/84'/0'/0'/0, then DescriptorPublicKey.derive("m/i") per child.
    bdk_chain = DescriptorPublicKey.from_string(f"[73c5da0a/84'/0'/0']{XPUB}").derive(DerivationPath("m/0"))
    paths = [DerivationPath(f"m/{i}") for i in range(4096)]

    def bdk_ckd(i):
        bdk_chain.derive(paths[i & 4095])

    emb_chain = bip32.HDKey.from_string(XPUB).child(0)

    def embit_ckd(i):
        emb_chain.child(i & 0x7FFFFFFF)

    # The floor: exactly one HMAC-SHA512 and one libsecp256k1 tweak-add per derivation.
    parent = coincurve.PublicKey(emb_chain.key.sec())
    parent_ser = emb_chain.key.sec()
    chain_code = emb_chain.chain_code

    def floor_ckd(i):
        il = hmac.new(chain_code, parent_ser + (i & 0x7FFFFFFF).to_bytes(4, "big"), hashlib.sha512).digest()
        parent.add(il[:32])

    cc_key = coincurve.PrivateKey(KEY)

    def cc_ecdsa(i):
        cc_key.sign(MESSAGES[i & 255], hasher=None)

    def cc_schnorr(i):
        cc_key.sign_schnorr(MESSAGES[i & 255], AUX)

    emb_key = embit_ec.PrivateKey(KEY)

    def embit_ecdsa(i):
        emb_key.sign(MESSAGES[i & 255]).serialize()

    def embit_schnorr(i):
        emb_key.schnorr_sign(MESSAGES[i & 255])

    return {
        ("bip32-ckdpub", "BDK"): bdk_ckd,
        ("bip32-ckdpub", "embit"): embit_ckd,
        ("bip32-ckdpub", "floor (HMAC + coincurve tweak-add)"): floor_ckd,
        ("ecdsa-sign", "coincurve"): cc_ecdsa,
        ("ecdsa-sign", "embit"): embit_ecdsa,
        ("schnorr-sign", "coincurve"): cc_schnorr,
        ("schnorr-sign", "embit"): embit_schnorr,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args()
    if not BENCH.exists():
        sys.exit(f"{BENCH} missing: run `make bench` (it builds Benchmarks in release)")
    sizes = {"bip32-ckdpub": 20000, "ecdsa-sign": 20000, "ecdsa-sign-lowr": 10000, "schnorr-sign": 10000}
    impls = python_impls()
    results = {}
    for _ in range(args.rounds):
        for op, n in sizes.items():
            n = max(100, int(n * args.scale))
            results.setdefault((op, "Kura"), []).append(kura(op, n))
            for (iop, name), fn in impls.items():
                if iop == op:
                    results.setdefault((op, name), []).append(timed(fn, n))
    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"coincurve {coincurve.__version__ if hasattr(coincurve, '__version__') else '21.0.0'}; "
          f"median of {args.rounds} interleaved rounds\n")
    print("| operation | implementation | ops/s | Kura ÷ this |")
    print("|---|---|---:|---:|")
    for (op, name), v in sorted(med.items(), key=lambda kv: (kv[0][0], kv[0][1] != "Kura", kv[0][1])):
        ours = med[(op, "Kura")] if op != "ecdsa-sign-lowr" else med[(op, "Kura")]
        ratio = "—" if name == "Kura" else f"{ours / v:.2f}×"
        print(f"| {op} | {name} | {v:,.0f} | {ratio} |")
    print()
    d = med[("bip32-ckdpub", "Kura")]
    checks = [
        ("derivations/s ≥ 2.5× BDK", d / med[("bip32-ckdpub", "BDK")], 2.5),
        ("derivations/s ≥ 0.85× floor", d / med[("bip32-ckdpub", "floor (HMAC + coincurve tweak-add)")], 0.85),
        ("ECDSA signatures/s ≥ 0.9× coincurve", med[("ecdsa-sign", "Kura")] / med[("ecdsa-sign", "coincurve")], 0.9),
        ("Schnorr signatures/s ≥ 0.9× coincurve", med[("schnorr-sign", "Kura")] / med[("schnorr-sign", "coincurve")], 0.9),
    ]
    print("| target | ratio | met |")
    print("|---|---:|---|")
    for name, ratio, target in checks:
        print(f"| {name} | {ratio:.2f} | {'yes' if ratio >= target else 'NO'} |")


if __name__ == "__main__":
    main()
