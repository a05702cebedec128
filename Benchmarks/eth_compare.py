"""Ethereum signing benchmarks, interleaved in one run on one machine: Kura (Benchmarks' kura-bench,
release build) against eth-account, with coincurve's raw recoverable ECDSA as the floor.

    swift build -c release --package-path Benchmarks --product kura-bench
    .venv/bin/python Benchmarks/eth_compare.py [--rounds 5] [--scale 1.0] [--bench PATH]

- eth-sign: build an EIP-1559 ERC-20 transfer, RLP-encode it, Keccak-256 it, sign (RFC 6979,
  low-S) and serialise. eth-account: Account.sign_transaction on the same fields.
  Floor: coincurve PrivateKey.sign_recoverable on a precomputed 32-byte digest (no RLP, no Keccak).
- eth-recover: strictly parse the signed transaction and recover the sender's address.
  eth-account: Account.recover_transaction. Floor: coincurve PublicKey.from_signature_and_message
  on a precomputed digest and signature (no parsing, no Keccak, no address).
- Also shown: Kura's key layer alone on the floor's inputs (eth-sign-raw, eth-recover-raw).

Prints the median ops/s over ROUNDS interleaved rounds and the ratios; the target is Kura ≥ 0.8×
the floor for both operations. Rates are per second of thread CPU time by default (`--clock cpu`),
so that other work on a shared machine does not land on whichever side happened to be running;
`--clock wall` uses elapsed time.
"""
import argparse
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time

import coincurve
import rlp
import eth_account
from eth_account import Account
from eth_utils import keccak

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_BENCH = ROOT / "Benchmarks" / ".build" / "release" / "kura-bench"
KEY = bytes([1] * 32)
TOKEN = "0xdAC17F958D2ee523a2206206994597C13D831ec7"
RECIPIENT = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def transaction(i: int) -> dict:
    """The transaction kura-bench builds for loop index i (see Benchmarks/Sources/kura-bench)."""
    amount = 1_000_000 + i
    data = bytes.fromhex("a9059cbb") + bytes(12) + bytes.fromhex(RECIPIENT[2:]) + amount.to_bytes(32, "big")
    return {"type": 2, "chainId": 1, "nonce": i, "maxPriorityFeePerGas": 10**9, "maxFeePerGas": 30 * 10**9,
            "gas": 65_000, "to": TOKEN, "value": 0, "data": data, "accessList": []}


CLOCK = "cpu"  # set from --clock in main()


def timed(fn, n):
    clock = time.thread_time if CLOCK == "cpu" else time.perf_counter
    for i in range(min(n, 200)):
        fn(i)
    t = clock()
    for i in range(n):
        fn(i)
    return n / (clock() - t)


def kura(bench, op, n):
    out = subprocess.run([str(bench), op, str(n)], capture_output=True, text=True, check=True).stdout
    return json.loads(out)["cpu_ops_per_second" if CLOCK == "cpu" else "ops_per_second"]


def python_impls():
    account = Account.from_key(KEY)
    signed = [bytes(account.sign_transaction(transaction(i)).raw_transaction) for i in range(256)]
    # Same-shape inputs for the floor: the real signing digests and signatures.
    digests = [keccak(b"\x02" + rlp.encode(rlp.decode(s[1:])[:-3])) for s in signed]
    cc_key = coincurve.PrivateKey(KEY)
    cc_sigs = [cc_key.sign_recoverable(d, hasher=None) for d in digests]
    # Sanity: both sides agree on what they are timing.
    assert Account.recover_transaction(signed[0]) == account.address

    return {
        ("eth-sign", "eth-account"): lambda i: account.sign_transaction(transaction(i)).raw_transaction,
        ("eth-sign", "coincurve floor"): lambda i: cc_key.sign_recoverable(digests[i & 255], hasher=None),
        ("eth-recover", "eth-account"): lambda i: Account.recover_transaction(signed[i & 255]),
        ("eth-recover", "coincurve floor"): lambda i: coincurve.PublicKey.from_signature_and_message(
            cc_sigs[i & 255], digests[i & 255], hasher=None),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--bench", type=pathlib.Path, default=DEFAULT_BENCH)
    ap.add_argument("--clock", choices=["cpu", "wall"], default="cpu",
                    help="cpu: ops per second of thread CPU time (robust on a shared machine); wall: elapsed time")
    args = ap.parse_args()
    global CLOCK
    CLOCK = args.clock
    if not args.bench.exists():
        sys.exit(f"{args.bench} missing: swift build -c release --package-path Benchmarks --product kura-bench")
    sizes = {"eth-sign": 20000, "eth-recover": 20000}
    # Kura's key layer alone on the same kind of input, to show how much of any gap to the floor is
    # the libsecp256k1 build (Debian's 0.2.0 here, coincurve bundles its own) rather than RLP/Keccak.
    raw_ops = {"eth-sign": "eth-sign-raw", "eth-recover": "eth-recover-raw"}
    slow = {"eth-account": 0.1}  # eth-account is ~10× slower; fewer iterations keep the rounds short
    impls = python_impls()
    results = {}
    for _ in range(args.rounds):
        for op, n in sizes.items():
            n = max(100, int(n * args.scale))
            results.setdefault((op, "Kura"), []).append(kura(args.bench, op, n))
            results.setdefault((op, "Kura key layer only (no RLP, no Keccak)"), []).append(
                kura(args.bench, raw_ops[op], n))
            for (iop, name), fn in impls.items():
                if iop == op:
                    results.setdefault((op, name), []).append(timed(fn, max(100, int(n * slow.get(name, 1.0)))))
    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores ({platform.processor() or 'cpu'}), "
          f"Python {platform.python_version()}, eth-account {eth_account.__version__}, coincurve 21.0.0; "
          f"median of {args.rounds} interleaved rounds, {CLOCK} time\n")
    print("| operation | implementation | ops/s | Kura ÷ this |")
    print("|---|---|---:|---:|")
    for (op, name), v in sorted(med.items(), key=lambda kv: (kv[0][0] != "eth-sign", kv[0][1] != "Kura", kv[0][1])):
        ratio = "—" if name == "Kura" else f"{med[(op, 'Kura')] / v:.2f}×"
        print(f"| {op} | {name} | {v:,.0f} | {ratio} |")
    print()
    checks = [
        ("EIP-1559 sign/s (incl. RLP + Keccak) ≥ 0.8× coincurve sign_recoverable",
         med[("eth-sign", "Kura")] / med[("eth-sign", "coincurve floor")], 0.8),
        ("EIP-1559 recover/s (incl. parse + Keccak) ≥ 0.8× coincurve from_signature_and_message",
         med[("eth-recover", "Kura")] / med[("eth-recover", "coincurve floor")], 0.8),
    ]
    print("| target | ratio | met |")
    print("|---|---:|---|")
    for name, ratio, target in checks:
        print(f"| {name} | {ratio:.2f} | {'yes' if ratio >= target else 'NO'} |")


if __name__ == "__main__":
    main()
