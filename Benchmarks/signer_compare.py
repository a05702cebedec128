"""The cold signer: review + sign of a 100-input PSBT signing bundle with every check on, beside BDK
signing the same PSBT without checks, in one run on one machine, interleaved round by round.

The bundle is a real one: the test company of tests/signer/harness.py (policy chain, intent signed
by the initiator, one approval, signer vault-a holding btc-main = wpkh) is built once in a temporary
directory, then an approved 0.5 BTC withdrawal is funded by 100 coins of the wallet (each with its
full previous transaction, as segwit v0 inputs need) and wrapped in a signing bundle. Every round:

  Kura in-process   `kura-bench signer-bundle` (keystore unlocked once, untimed); per iteration a
                    fresh copy of the signer's home, then SignerEngine.review (all checks) and
                    SignerEngine.sign (ledger entry + fsync, signatures, signed receipt), each timed,
                    and the signatures alone (PSBT.sign) for the share of time in checks
  Kura process      `kura-signer sign BUNDLE -o OUT --yes --operator bench` on a fresh copy of the
                    home, wall time and peak RSS (wait4), for a keystore with scrypt N = 2^15 (the
                    floor, as the harness makes them) and one with the default N = 2^18
  BDK               bdkpython's Wallet.sign on the same PSBT (wpkh with the same master key), no
                    checks; timed with and without decoding the PSBT from base64

    .venv/bin/python Benchmarks/signer_compare.py [--rounds 5] [--bin DIR]

DIR holds release builds of kura, kura-signer and kura-devtool (default: Benchmarks/.build/release
if kura-signer is there, else .build/release).
"""
import argparse
import base64
import json
import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
BENCH = ROOT / "Benchmarks" / ".build" / "release" / "kura-bench"


def default_bin():
    for d in (ROOT / "Benchmarks" / ".build" / "release", ROOT / ".build" / "release"):
        if (d / "kura-signer").exists():
            return d
    return ROOT / ".build" / "release"


def kura_inprocess(bundle, home, passfile, n):
    out = subprocess.run([str(BENCH), "signer-bundle", str(bundle), str(home), str(passfile), str(n)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"kura-bench signer-bundle failed: {out.stderr}")
    return json.loads(out.stdout)


def kura_process(signer_bin, bundle, home, passfile, scratch):
    """One `kura-signer sign` on a fresh copy of `home`: (wall seconds, peak RSS in KiB)."""
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(home, scratch / "home")
    out = scratch / "signed.psbt"
    args = [str(signer_bin), "sign", str(bundle), "-o", str(out), "--yes", "--operator", "bench",
            "--home", str(scratch / "home"), "--passphrase-file", str(passfile)]
    t = time.perf_counter()
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0 or not out.exists():
        sys.exit(f"kura-signer sign failed ({p.returncode}): {p.stderr.read().decode()}")
    p.stderr.close()
    return wall, usage.ru_maxrss, out.read_text().strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=20, help="bundles per round, in-process and BDK")
    ap.add_argument("--processes", type=int, default=3, help="kura-signer runs per round and keystore")
    ap.add_argument("--bin", type=pathlib.Path, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the company (bundle, signer homes) for profiling")
    args = ap.parse_args()
    if not BENCH.exists():
        sys.exit(f"{BENCH} missing: build with `swift build -c release --package-path Benchmarks --product kura-bench`")
    bindir = (args.bin or default_bin()).resolve()
    os.environ["KURA_BIN"] = str(bindir)
    sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "signer")]
    import bdkpython as bdk
    from embit import bip32, bip39
    from embit.networks import NETWORKS
    from embit.psbt import PSBT as EmbitPSBT

    from conftest import run
    from harness import MNEMONICS, Company

    tmp = pathlib.Path(tempfile.mkdtemp(prefix="kura-signer-bench-"))
    try:
        load_start = os.getloadavg()
        co = Company(tmp)
        vault = co.signers[0]
        intent = co.intent(amount="50000000", lifetime=86_400)
        approval = co.approve(intent, "bob")
        coins = [(0, i) for i in range(100)]
        psbt = co.psbt("btc-main", intent, coins=coins, values=[1_000_000] * 100, fee=14_000)
        bundle = co.bundle(intent, [approval], psbt=psbt, name="bundle-100.json")
        review = vault.review(bundle)
        assert review.returncode == 0, review.stderr
        # The same signer with the default keystore cost (scrypt N = 2^18, r = 8: 256 MiB).
        home18 = tmp / "signer-a-n18"
        run("kura-signer", "init", "--home", home18, "--network", "regtest", "--restore", "--mnemonic-file",
            tmp / "mnemonic-a", "--passphrase-file", vault.passfile, check=True)
        run("kura-signer", "pin", co.genesis, "--home", home18, "--passphrase-file", vault.passfile, check=True)

        # BDK: the same wallet (wpkh, BIP-0084 account 0 of vault-a's master key), no checks.
        seed = bip39.mnemonic_to_seed(MNEMONICS[0])
        tprv = bip32.HDKey.from_seed(seed, version=NETWORKS["regtest"]["xprv"]).to_base58()
        wallet = bdk.Wallet(
            bdk.Descriptor(f"wpkh({tprv}/84h/1h/0h/0/*)", bdk.NetworkKind.TEST),
            bdk.Descriptor(f"wpkh({tprv}/84h/1h/0h/1/*)", bdk.NetworkKind.TEST),
            bdk.Network.REGTEST, bdk.Persister.new_in_memory())
        # BDK's defaults except try_finalize: the bundle's PSBT is signed, not finalised (as Kura does).
        options = bdk.SignOptions(trust_witness_utxo=False, assume_height=None, allow_all_sighashes=False,
                                  try_finalize=False, sign_with_tap_internal_key=True, allow_grinding=True)
        check = bdk.Psbt(psbt)
        wallet.sign(check, options)
        bdk_signed = EmbitPSBT.from_base64(check.serialize())
        assert all(len(i.partial_sigs) == 1 for i in bdk_signed.inputs), "BDK did not sign every input"

        def bdk_decode_sign(n):
            t = time.perf_counter()
            for _ in range(n):
                wallet.sign(bdk.Psbt(psbt), options)
            return (time.perf_counter() - t) / n

        def bdk_sign_only(n):
            total = 0.0
            for _ in range(n):
                p = bdk.Psbt(psbt)
                t = time.perf_counter()
                wallet.sign(p, options)
                total += time.perf_counter() - t
            return total / n

        signer_bin = bindir / "kura-signer"
        scratch = tmp / "scratch"
        # Warm-up, and the cross-check: Kura's partial signatures equal BDK's (both RFC 6979 with
        # low-R grinding), input by input.
        _, _, kura_text = kura_process(signer_bin, bundle, vault.home, vault.passfile, scratch)
        kura_signed = EmbitPSBT.from_base64(kura_text)
        same = sum(dict(a.partial_sigs) == dict(b.partial_sigs) for a, b in zip(kura_signed.inputs, bdk_signed.inputs))
        bdk_decode_sign(2)

        rows = {}
        for _ in range(args.rounds):
            r = kura_inprocess(bundle, vault.home, vault.passfile, args.iterations)
            for k in ("open_seconds", "review_seconds", "sign_seconds", "pure_sign_seconds", "unlock_seconds"):
                rows.setdefault(k, []).append(r[k])
            rows.setdefault("review_sign_seconds", []).append(r["review_seconds"] + r["sign_seconds"])
            rows.setdefault("peak_rss_kib", []).append(r["peak_rss_kib"])
            rows.setdefault("bench_max_rss_kib", []).append(r["process_max_rss_kib"])
            rows.setdefault("rss_before_kib", []).append(r["rss_before_kib"])
            for name, home in (("n15", vault.home), ("n18", home18)):
                for _ in range(args.processes):
                    wall, rss, _ = kura_process(signer_bin, bundle, home, vault.passfile, scratch)
                    rows.setdefault(f"process_{name}_seconds", []).append(wall)
                    rows.setdefault(f"process_{name}_rss_kib", []).append(rss)
            rows.setdefault("bdk_decode_sign_seconds", []).append(bdk_decode_sign(args.iterations))
            rows.setdefault("bdk_sign_seconds", []).append(bdk_sign_only(args.iterations))
        load_end = os.getloadavg()
        size, psbt_size = bundle.stat().st_size, len(base64.b64decode(psbt))
    finally:
        if args.keep:
            print(f"kept {tmp}: bundle {tmp / 'bundle-100.json'}, home {tmp / 'signer-a'}, passphrase {tmp / 'pass-a'}",
                  file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    med = {k: statistics.median(v) for k, v in rows.items()}
    peak = {k: max(v) for k, v in rows.items() if k.endswith("_kib")}
    ms = lambda s: f"{s * 1000:.2f} ms"  # noqa: E731
    mib = lambda k: f"{k / 1024:.1f} MiB"  # noqa: E731
    rs = med["review_sign_seconds"]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"bdkpython {bdk_version()}; load average {load_start[0]:.1f} at the start, {load_end[0]:.1f} at the end; "
          f"median of {args.rounds} interleaved rounds ({args.iterations} bundles in-process and in BDK, "
          f"{args.processes} kura-signer processes per keystore per round); bundle {size:,} bytes with a "
          f"{psbt_size:,}-byte PSBT; "
          f"Kura's partial signatures equal BDK's on {same} of 100 inputs\n")
    print("| step (one 100-input bundle) | Kura | BDK, no checks | BDK time ÷ Kura time |")
    print("|---|---:|---:|---:|")
    print(f"| review: every check (parse, policy chain, intent, approvals, rebuild, 100 inputs proven) | "
          f"{ms(med['review_seconds'])} | — | — |")
    print(f"| sign: ledger entry (fsync), 100 signatures, signed receipt | {ms(med['sign_seconds'])} | — | — |")
    print(f"| **review + sign** | **{ms(rs)}** | {ms(med['bdk_sign_seconds'])} (sign) | "
          f"**{med['bdk_sign_seconds'] / rs:.2f}×** |")
    print(f"| review + sign | {ms(rs)} | {ms(med['bdk_decode_sign_seconds'])} (base64 decode + sign) | "
          f"{med['bdk_decode_sign_seconds'] / rs:.2f}× |")
    print(f"| the 100 signatures alone (PSBT.sign) | {ms(med['pure_sign_seconds'])} | "
          f"{ms(med['bdk_sign_seconds'])} (sign) | {med['bdk_sign_seconds'] / med['pure_sign_seconds']:.2f}× |")
    print(f"| opening state (seed from mnemonic, ledger verified; not in review + sign) | "
          f"{ms(med['open_seconds'])} | — | — |")
    print()
    share = med["review_seconds"] / rs
    print(f"Share of review + sign spent in checks: {share:.0%} (review {ms(med['review_seconds'])} of {ms(rs)}); "
          f"the signatures alone are {med['pure_sign_seconds'] / rs:.0%}, the ledger write and receipt the rest.\n")
    print("| process | wall (median) | peak RSS (max over runs) |")
    print("|---|---:|---:|")
    print(f"| kura-bench, while opening state, reviewing and signing (after unlock; VmHWM reset) | — | "
          f"{mib(peak['peak_rss_kib'])} (from {mib(peak['rss_before_kib'])} before) |")
    print(f"| `kura-signer sign`, keystore scrypt N = 2^15 (floor) | {ms(med['process_n15_seconds'])} | "
          f"{mib(peak['process_n15_rss_kib'])} |")
    print(f"| `kura-signer sign`, keystore scrypt N = 2^18 (default) | {ms(med['process_n18_seconds'])} | "
          f"{mib(peak['process_n18_rss_kib'])} |")
    print(f"\nkeystore unlock in kura-bench (N = 2^15, untimed above): {ms(med['unlock_seconds'])}")
    print("\n| target | figure | met |")
    print("|---|---:|---|")
    print(f"| review + sign no slower than BDK's sign | {med['bdk_sign_seconds'] / rs:.2f}× | "
          f"{'yes' if rs <= med['bdk_sign_seconds'] else 'no'} |")
    for label, k in (("checks + sign (in-process)", "peak_rss_kib"), ("`kura-signer sign`, N = 2^15", "process_n15_rss_kib"),
                     ("`kura-signer sign`, N = 2^18", "process_n18_rss_kib")):
        print(f"| peak memory under 64 MiB: {label} | {mib(peak[k])} | {'yes' if peak[k] < 64 * 1024 else 'no'} |")


def bdk_version():
    from importlib.metadata import version
    return version("bdkpython")


if __name__ == "__main__":
    main()
