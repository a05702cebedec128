#!/usr/bin/env python3
"""Writes a fuzz target's seed corpus from the published vectors in Tests/Vectors.

    Fuzz/seed-corpus.py TARGET DIRECTORY

One file per seed, named by its SHA-256, so that reruns add nothing twice. The corpus folders
are git-ignored: they are regenerated from the vectors and grown by libFuzzer.
"""
import hashlib
import json
import pathlib
import sys

VECTORS = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "Vectors"


def hexbytes(text: str) -> bytes:
    text = text[2:] if text.startswith("0x") else text
    return bytes.fromhex(text)


def rlp_seeds():
    for name in ("rlptest.json", "invalidRLPTest.json"):
        for case in json.loads((VECTORS / "eth_rlp" / name).read_text()).values():
            yield hexbytes(case["out"])


def transaction_seeds():
    for path in sorted((VECTORS / "eth_transactions" / "ethereum_tests").rglob("*.json")):
        for case in json.loads(path.read_text()).values():
            yield hexbytes(case["txbytes"])
    subset = json.loads((VECTORS / "eth_transactions" / "ethers_transactions_subset.json").read_text())
    for v in subset["vectors"]:
        for kind in ("Legacy", "Eip155", "Berlin", "London"):
            for prefix in ("signed", "unsigned"):
                if v[prefix + kind]:
                    yield hexbytes(v[prefix + kind])
    yield hexbytes(json.loads((VECTORS / "eip155" / "eip155_example.json").read_text())["signed_tx"])
    for example in json.loads((VECTORS / "erc20" / "erc20_calldata.json").read_text())["examples"]:
        yield hexbytes(example["calldata"])


def btc_transaction_seeds():
    for name in ("tx_valid.json", "tx_invalid.json"):
        for row in json.loads((VECTORS / "bitcoin_core" / name).read_text()):
            if len(row) >= 2 and isinstance(row[1], str):
                yield hexbytes(row[1])
    for row in json.loads((VECTORS / "bitcoin_core" / "sighash.json").read_text())[1:]:
        yield hexbytes(row[0])
    for example in json.loads((VECTORS / "bip143" / "bip143_vectors.json").read_text())["examples"]:
        for key in ("unsigned_tx", "signed_tx"):
            if key in example:
                yield hexbytes(example[key])
    kp = json.loads((VECTORS / "bip341" / "wallet-test-vectors.json").read_text())["keyPathSpending"][0]
    yield hexbytes(kp["given"]["rawUnsignedTx"])
    yield hexbytes(kp["auxiliary"]["fullySignedTx"])


def psbt_seeds():
    for folder, name in (("bip174", "bip174_vectors.json"), ("bip174", "bip371_taproot_psbt_vectors.json"),
                         ("bip370", "bip370_vectors.json")):
        data = json.loads((VECTORS / folder / name).read_text())
        for key, cases in data.items():
            if isinstance(cases, list):
                for case in cases:
                    if isinstance(case, dict) and "hex" in case:
                        yield hexbytes(case["hex"])
    for step in json.loads((VECTORS / "bip174" / "bip174_vectors.json").read_text())["workflow"]["steps"]:
        if "result_hex" in step:
            yield hexbytes(step["result_hex"])


SEEDS = {"fuzz-rlp": rlp_seeds, "fuzz-eth-transaction": transaction_seeds, "fuzz-btc-transaction": btc_transaction_seeds,
         "fuzz-psbt": psbt_seeds}


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 64
    target, directory = sys.argv[1], pathlib.Path(sys.argv[2])
    seeds = SEEDS.get(target)
    if seeds is None:
        print(f"seed-corpus.py: no seeds defined for {target} (starting from an empty corpus)", file=sys.stderr)
        return 0
    directory.mkdir(parents=True, exist_ok=True)
    count = 0
    for seed in seeds():
        (directory / hashlib.sha256(seed).hexdigest()).write_bytes(seed)
        count += 1
    print(f"seed-corpus.py: {count} seeds for {target} in {directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
