"""Bitcoin engine benchmarks, Kura beside BDK and embit in one run on one machine, interleaved.

Rows: whole-PSBT signing of 100 P2WPKH inputs and of 100 P2TR key-path inputs (sighash + sign per
input, including deriving each input's key from the master key, which all three do), decoding the
same 100-input PSBT from base64, and address derivation from a wpkh descriptor. The PSBTs and the
throw-away key come from `kura-bench emit`, so all three work on identical bytes.

    .venv/bin/python Benchmarks/btc_compare.py [--rounds 5]
"""
import argparse
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time

import bdkpython as bdk
from embit import bip32
from embit.descriptor import Descriptor as EmbitDescriptor
from embit.networks import NETWORKS
from embit.psbt import PSBT as EmbitPSBT

ROOT = pathlib.Path(__file__).resolve().parent.parent
BENCH = ROOT / "Benchmarks" / ".build" / "release" / "kura-bench"
NET = NETWORKS["regtest"]


def emit(what):
    return subprocess.run([str(BENCH), "emit", what], capture_output=True, text=True, check=True).stdout.strip()


def kura(op, n):
    import json
    out = subprocess.run([str(BENCH), op, str(n)], capture_output=True, text=True, check=True).stdout
    return json.loads(out)["ops_per_second"]


def timed(fn, n):
    fn(0)
    t = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    if not BENCH.exists():
        sys.exit(f"{BENCH} missing: build with `swift build -c release --package-path Benchmarks --product kura-bench`")
    tprv = emit("master-tprv")
    psbt_wpkh = emit("psbt-p2wpkh")
    psbt_tr = emit("psbt-p2tr")
    desc = emit("descriptor-p2wpkh")

    def bdk_wallet(kind):
        fn = "tr" if kind == "tr" else "wpkh"
        path = "86h/1h/0h" if kind == "tr" else "84h/1h/0h"
        return bdk.Wallet(
            bdk.Descriptor(f"{fn}({tprv}/{path}/0/*)", bdk.NetworkKind.TEST),
            bdk.Descriptor(f"{fn}({tprv}/{path}/1/*)", bdk.NetworkKind.TEST),
            bdk.Network.REGTEST, bdk.Persister.new_in_memory())

    wallets = {"wpkh": bdk_wallet("wpkh"), "tr": bdk_wallet("tr")}
    root = bip32.HDKey.from_base58(tprv)

    def bdk_sign(kind, text):
        def f(_):
            p = bdk.Psbt(text)
            wallets[kind].sign(p)
        return f

    def embit_sign(text):
        def f(_):
            p = EmbitPSBT.from_base64(text)
            assert p.sign_with(root) == 100
        return f

    # Sanity: every implementation really signs all 100 inputs.
    for kind, text in (("wpkh", psbt_wpkh), ("tr", psbt_tr)):
        p = bdk.Psbt(text)
        wallets[kind].sign(p)
        assert wallets[kind].finalize_psbt(p), f"BDK did not sign every {kind} input"
    bdk_desc = bdk.Descriptor(desc.replace("/0/*", "/0/*"), bdk.NetworkKind.TEST)
    emb_desc = EmbitDescriptor.from_string(desc)

    rows = {
        "btc-psbt-sign-100-p2wpkh": {"BDK": bdk_sign("wpkh", psbt_wpkh), "embit": embit_sign(psbt_wpkh)},
        "btc-psbt-sign-100-p2tr": {"BDK": bdk_sign("tr", psbt_tr), "embit": embit_sign(psbt_tr)},
        "btc-psbt-decode-100": {"BDK": lambda i: bdk.Psbt(psbt_wpkh), "embit": lambda i: EmbitPSBT.from_base64(psbt_wpkh)},
        "btc-descriptor-address": {
            "BDK": lambda i: str(bdk_desc.derive_address(i, bdk.Network.REGTEST)),
            "embit": lambda i: emb_desc.derive(i).address(NET),
        },
    }
    sizes = {"btc-psbt-sign-100-p2wpkh": 20, "btc-psbt-sign-100-p2tr": 20, "btc-psbt-decode-100": 200, "btc-descriptor-address": 2000}
    results = {}
    for _ in range(args.rounds):
        for op, impls in rows.items():
            results.setdefault((op, "Kura"), []).append(kura(op, sizes[op]))
            for name, fn in impls.items():
                results.setdefault((op, name), []).append(timed(fn, sizes[op]))
    med = {k: statistics.median(v) for k, v in results.items()}
    per_input = {"btc-psbt-sign-100-p2wpkh", "btc-psbt-sign-100-p2tr"}
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"bdkpython 3.1.1, embit 0.8.0; median of {args.rounds} interleaved rounds\n")
    print("| operation | implementation | rate | Kura ÷ this |")
    print("|---|---|---:|---:|")
    for op in rows:
        unit = "inputs/s" if op in per_input else "ops/s"
        scale = 100 if op in per_input else 1
        for name in ["Kura", "BDK", "embit"]:
            v = med[(op, name)]
            ratio = "—" if name == "Kura" else f"{med[(op, 'Kura')] / v:.2f}×"
            print(f"| {op} | {name} | {v * scale:,.0f} {unit} | {ratio} |")


if __name__ == "__main__":
    main()
