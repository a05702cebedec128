"""Helpers shared by the Ethereum interop suites: random EIP-1559 transactions in the JSON form
`kura-devtool eth sign-batch` reads, the same transactions as eth-account dicts, and a batch
signer that drives the built binary."""
import json
import random

from eth_utils import to_checksum_address

from conftest import run


def random_address(rng: random.Random) -> str:
    return to_checksum_address(bytes(rng.getrandbits(8) for _ in range(20)))


def random_tx(rng: random.Random, chain_id: int | None = None) -> dict:
    """A random EIP-1559 transaction as kura-devtool JSON (decimal strings). Edge values are
    over-represented: zero fees, contract creation, 2^255-sized values, access lists."""
    max_fee = rng.choice([0, 1, 10**9, rng.getrandbits(rng.randint(1, 120))])
    priority = rng.choice([0, max_fee, rng.randint(0, max_fee)])
    gas = rng.choice([21000, 60000, rng.randint(0, 30_000_000), rng.getrandbits(64)])
    value = rng.getrandbits(rng.choice([0, 8, 64, 128, 255]))
    tx = {
        "chainId": str(chain_id if chain_id is not None else rng.choice([1, 11155111, rng.getrandbits(48) + 1])),
        "nonce": str(rng.getrandbits(rng.choice([0, 8, 32, 63]))),
        "maxPriorityFeePerGas": str(priority),
        "maxFeePerGas": str(max_fee),
        "gasLimit": str(gas),
        "value": str(value),
    }
    if rng.random() > 0.05:
        tx["to"] = random_address(rng)
    kind = rng.random()
    if kind < 0.3:
        tx["erc20Transfer"] = {"to": random_address(rng), "amount": str(rng.getrandbits(rng.choice([8, 64, 256])))}
    elif kind < 0.8:
        tx["data"] = "0x" + bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 300))).hex()
    if rng.random() < 0.2:
        tx["accessList"] = [
            {
                "address": random_address(rng),
                "storageKeys": ["0x" + bytes(rng.getrandbits(8) for _ in range(32)).hex() for _ in range(rng.randint(0, 3))],
            }
            for _ in range(rng.randint(1, 3))
        ]
    return tx


def erc20_transfer_calldata(to: str, amount: int) -> bytes:
    """transfer(address,uint256) call data built with eth-abi (independent of Kura's encoder)."""
    from eth_abi import encode
    from eth_utils import keccak

    return keccak(text="transfer(address,uint256)")[:4] + encode(["address", "uint256"], [to, amount])


def eth_account_dict(tx: dict) -> dict:
    """The same transaction as an eth-account `sign_transaction` dict."""
    if "erc20Transfer" in tx:
        data = erc20_transfer_calldata(tx["erc20Transfer"]["to"], int(tx["erc20Transfer"]["amount"]))
    else:
        data = bytes.fromhex(tx.get("data", "0x")[2:])
    d = {
        "type": 2,
        "chainId": int(tx["chainId"]),
        "nonce": int(tx["nonce"]),
        "maxPriorityFeePerGas": int(tx["maxPriorityFeePerGas"]),
        "maxFeePerGas": int(tx["maxFeePerGas"]),
        "gas": int(tx["gasLimit"]),
        "value": int(tx["value"]),
        "data": data,
        "accessList": [
            {"address": e["address"], "storageKeys": e["storageKeys"]} for e in tx.get("accessList", [])
        ],
    }
    if tx.get("to") is not None:
        d["to"] = tx["to"]
    return d


def sign_batch(tmp_path, txs: list[dict], *, key_file=None, mnemonic_file=None, name="batch") -> list[dict]:
    """Signs `txs` with one `kura-devtool eth sign-batch` run and returns its JSON lines."""
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps(t) + "\n" for t in txs))
    keys = ["--key-file", key_file] if key_file else ["--mnemonic-file", mnemonic_file]
    proc = run("kura-devtool", "eth", "sign-batch", *keys, "--input", path, check=True, timeout=600)
    out = [json.loads(line) for line in proc.stdout.decode().splitlines() if line.strip()]
    assert len(out) == len(txs)
    return out
