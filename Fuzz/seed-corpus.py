#!/usr/bin/env python3
"""Writes a fuzz target's seed corpus from the published vectors in Tests/Vectors.

    Fuzz/seed-corpus.py TARGET DIRECTORY

One file per seed, named by its SHA-256, so that reruns add nothing twice. The corpus folders
are git-ignored: they are regenerated from the vectors and grown by libFuzzer.
"""
import hashlib
import json
import pathlib
import random
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


def governance_json_seeds():
    """The RFC 8785 examples, the reference implementation's test documents (input and canonical
    output), a few generated governance-like documents in several spellings, and near misses."""
    examples = json.loads((VECTORS / "rfc8785" / "rfc8785_examples.json").read_text())
    for key in ("section_3_2_2_input", "section_3_2_3_canonical", "section_3_2_3_sorting_input",
                "appendix_c_input", "appendix_e_input", "appendix_e_canonical"):
        yield examples[key].encode()
    yield bytes.fromhex(examples["section_3_2_4_utf8_hex"])
    for folder in ("input", "output"):
        for path in sorted((VECTORS / "rfc8785" / "reference" / folder).glob("*.json")):
            yield path.read_bytes()
    rng = random.Random(0x4A534F4E)  # fixed: the same seeds on every run
    for i in range(24):
        doc = {
            "version": i + 1,
            "previous": "%064x" % rng.getrandbits(256),
            "expires": rng.randrange(1_700_000_000, 1_900_000_000),
            "members": [{"id": "member-%d" % m, "roles": rng.sample(["admin", "initiator", "approver", "viewer"], 2),
                         "name": rng.choice(["Ada", "Zoë", "Łukasz", "李雷", "😀 ops", "tab\there", "quote\"d"])}
                        for m in range(rng.randrange(1, 4))],
            "limits": {"perTransfer": str(rng.randrange(10**12)), "daily": str(rng.randrange(10**15)),
                       "asset": rng.choice(["BTC", "ETH", "USDC"])},
            "enabled": rng.random() < 0.5,
            "memo": None if rng.random() < 0.3 else "",
        }
        yield json.dumps(doc, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()
        yield json.dumps(doc, indent=rng.choice([1, 2, "\t"]), ensure_ascii=True).encode()
    for near_miss in ('{"a":1,"a":2}', '[1.5]', '[-0]', '[01]', '[9007199254740992]', '["\\ud800"]',
                      '{"a":1,}', '[1] x', '["\x01"]', '\ufeff{}', '[' * 40 + ']' * 40):
        yield near_miss.encode()


SEEDS = {"fuzz-rlp": rlp_seeds, "fuzz-eth-transaction": transaction_seeds, "fuzz-btc-transaction": btc_transaction_seeds,
         "fuzz-psbt": psbt_seeds, "fuzz-governance-json": governance_json_seeds}


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
