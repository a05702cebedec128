"""`kura eth decode --json` against eth-account and pyrlp, on random transactions of every type
eth-account signs (legacy with and without EIP-155, EIP-2930, EIP-1559).

Every field, the recovered sender, the transaction hash and the signing hash must equal what
the oracles compute independently; malformed variants (truncated, trailing bytes, a leading
zero in an integer) must be refused by both Kura and pyrlp's strict decoder.
"""
import json
import random

import rlp
from eth_account import Account
from eth_account.typed_transactions import TypedTransaction
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes

from conftest import run
from eth_helpers import erc20_transfer_calldata, random_address

COUNT = 240


def random_signed(rng: random.Random, kind: str):
    key = bytes(rng.getrandbits(8) for _ in range(31)) + b"\x01"
    data = rng.choice([b"", bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 120))),
                       erc20_transfer_calldata(random_address(rng), rng.getrandbits(200))])
    tx = {"nonce": rng.getrandbits(rng.choice([0, 16, 63])), "gas": rng.choice([21000, rng.getrandbits(40)]),
          "value": rng.getrandbits(rng.choice([0, 64, 200])), "data": data}
    if rng.random() > 0.1:
        tx["to"] = random_address(rng)
    chain = rng.choice([1, 5, 11155111, rng.getrandbits(40) + 1])
    access = [{"address": random_address(rng),
               "storageKeys": ["0x" + bytes(rng.getrandbits(8) for _ in range(32)).hex() for _ in range(rng.randint(0, 2))]}
              for _ in range(rng.choice([0, 0, 1, 3]))]
    if kind == "legacy":
        tx["gasPrice"] = rng.getrandbits(rng.choice([0, 40, 100]))
    elif kind == "eip155":
        tx.update(gasPrice=rng.getrandbits(40), chainId=chain)
    elif kind == "eip2930":
        tx.update(type=1, gasPrice=rng.getrandbits(40), chainId=chain, accessList=access)
    else:
        max_fee = rng.getrandbits(rng.choice([0, 40, 100]))
        tx.update(type=2, chainId=chain, maxFeePerGas=max_fee, maxPriorityFeePerGas=rng.randint(0, max_fee),
                  accessList=access)
    return bytes(Account.sign_transaction(tx, key).raw_transaction), Account.from_key(key).address


def oracle_view(raw: bytes) -> dict:
    """Decodes with pyrlp alone (strict), computing the hashes without Kura."""
    as_int = lambda b: int.from_bytes(b, "big")  # noqa: E731
    typed = raw[0] < 0xC0
    fields = rlp.decode(raw[1:] if typed else raw, strict=True)
    view = {"type": raw[0] if typed else 0, "hash": "0x" + keccak(raw).hex()}
    if typed:
        offset = 1 if raw[0] == 1 else 2
        view["chainId"] = str(as_int(fields[0]))
        if raw[0] == 1:
            view["gasPrice"] = str(as_int(fields[2]))
        else:
            view["maxPriorityFeePerGas"] = str(as_int(fields[2]))
            view["maxFeePerGas"] = str(as_int(fields[3]))
        body = fields[1:]
        nonce, gas, to, value, data = body[0], body[offset + 1], body[offset + 2], body[offset + 3], body[offset + 4]
        access = body[offset + 5]
        view["accessList"] = [{"address": to_checksum_address(a), "storageKeys": ["0x" + k.hex() for k in keys]}
                              for a, keys in access]
        view["yParity"] = as_int(fields[-3])
        view["signingHash"] = "0x" + keccak(raw[:1] + rlp.encode(fields[:-3])).hex()
    else:
        nonce, price, gas, to, value, data, v = fields[:7]
        v = as_int(v)
        view["gasPrice"] = str(as_int(price))
        view["v"] = str(v)
        view["accessList"] = []
        unsigned = fields[:6] if v in (27, 28) else fields[:6] + [(v - 35) // 2, b"", b""]
        view["chainId"] = None if v in (27, 28) else str((v - 35) // 2)
        view["yParity"] = (v - 27) if v in (27, 28) else (v - 35) % 2
        view["signingHash"] = "0x" + keccak(rlp.encode(unsigned)).hex()
    view.update(nonce=str(as_int(nonce)), gasLimit=str(as_int(gas)), value=str(as_int(value)),
                to=to_checksum_address(to) if to else None, data="0x" + data.hex(),
                r=hex(as_int(fields[-2])), s=hex(as_int(fields[-1])))
    return view


def decode(raw: bytes):
    return run("kura", "eth", "decode", "--json", "0x" + raw.hex())


def test_decode_matches_the_oracles_on_random_transactions():
    rng = random.Random(0xDEC0DE)
    kinds = ["legacy", "eip155", "eip2930", "eip1559"]
    for i in range(COUNT):
        kind = kinds[i % 4]
        raw, sender = random_signed(rng, kind)
        proc = decode(raw)
        assert proc.returncode == 0, (kind, raw.hex(), proc.stderr)
        ours = json.loads(proc.stdout)
        assert {"chainId", "to", "call", "maximumCost"} <= ours.keys()  # present, null when empty
        want = oracle_view(raw)
        for field, value in want.items():
            assert ours.get(field) == value, (kind, field, ours.get(field), value, raw.hex())
        assert ours["sender"] == sender == Account.recover_transaction(raw)
        if kind in ("eip2930", "eip1559"):
            # A second oracle for typed transactions: eth-account's own decoder.
            theirs = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
            assert int(ours["nonce"]) == theirs["nonce"] and int(ours["value"]) == theirs["value"]
            assert ours["data"] == "0x" + bytes(theirs["data"]).hex()
        if ours["data"][:10] == "0xa9059cbb" and len(ours["data"]) == 2 + 2 * 68:
            assert ours["call"]["function"] == "transfer(address,uint256)"
            assert ours["call"]["amount"] == str(int(ours["data"][-64:], 16))
            assert ours["call"]["to"] == to_checksum_address("0x" + ours["data"][-104:-64])


def test_malformed_variants_are_refused_by_kura_and_pyrlp():
    rng = random.Random(0xBAD)
    refused = 0
    for i in range(60):
        raw, _ = random_signed(rng, ["eip155", "eip2930", "eip1559"][i % 3])
        typed = raw[0] < 0xC0
        body = raw[1:] if typed else raw
        fields = rlp.decode(body)
        # A leading zero in the nonce: non-canonical, so both decoders refuse it.
        padded = list(fields)
        nonce_index = 1 if typed else 0
        padded[nonce_index] = b"\x00" + fields[nonce_index]
        variants = {
            "truncated": raw[: rng.randint(0, len(raw) - 1)],
            "trailing": raw + b"\x00",
            "leading_zero": (raw[:1] if typed else b"") + rlp.encode(padded),
        }
        for name, bad in variants.items():
            proc = decode(bad)
            assert proc.returncode == 65, (name, bad.hex())
            assert proc.stdout == b""
            assert proc.stderr.startswith(b"kura: error: "), proc.stderr
            try:
                if typed and name != "truncated":
                    TypedTransaction.from_bytes(HexBytes(bad))
                else:
                    rlp.decode(bad[1:] if typed and bad else bad, strict=True)
                    if name == "leading_zero":
                        # pyrlp accepts the bytes; eth-account's integer sedes must not.
                        from eth_account._utils.legacy_transactions import Transaction
                        Transaction.from_bytes(HexBytes(bad))
                    raise AssertionError(f"oracle accepted {name} {bad.hex()}")
            except (AssertionError, TypeError):
                raise  # a test bug, not a refusal
            except Exception:
                refused += 1
    assert refused == 180


def test_recognised_types_are_refused_by_name():
    raw, _ = random_signed(random.Random(4), "eip1559")
    assert decode(raw).returncode == 0  # positive control
    for type_byte, name in [(0x03, b"EIP-4844"), (0x04, b"EIP-7702")]:
        proc = decode(bytes([type_byte]) + raw[1:])
        assert proc.returncode == 65 and b"unsupported_transaction_type" in proc.stderr and name in proc.stderr
    proc = decode(bytes([0x05]) + raw[1:])
    assert proc.returncode == 65 and b"unknown_transaction_type" in proc.stderr
    proc = decode(b"")
    assert proc.returncode == 65 and b"truncated" in proc.stderr
    proc = run("kura", "eth", "decode", "0xzz")
    assert proc.returncode == 65 and b"kura: error: invalid_hex: " in proc.stderr
    # Large input through standard input: the largest size parses, one byte more is refused.
    big = bytes(Account.sign_transaction(
        {"type": 2, "chainId": 1, "nonce": 0, "maxFeePerGas": 1, "maxPriorityFeePerGas": 1, "gas": 10**7,
         "to": random_address(random.Random(5)), "value": 0, "data": b"\x01" * 130_900}, b"\x01" * 32).raw_transaction)
    assert 130_900 < len(big) <= 128 * 1024
    proc = run("kura", "eth", "decode", "--json", "-", input=big.hex().encode())
    assert proc.returncode == 0 and json.loads(proc.stdout)["hash"] == "0x" + keccak(big).hex()
    proc = run("kura", "eth", "decode", "-", input=b"00" * (128 * 1024 + 1))
    assert proc.returncode == 65 and b"kura: error: resource_limit: " in proc.stderr
    proc = run("kura", "eth", "decode", "-", input=b"0" * (10 << 20))
    assert proc.returncode == 65 and b"kura: error: resource_limit: " in proc.stderr


def test_readable_output_shows_what_the_json_says():
    rng = random.Random(0x7E47)
    for kind in ["legacy", "eip155", "eip2930", "eip1559"]:
        raw, sender = random_signed(rng, kind)
        text = run("kura", "eth", "decode", raw.hex(), check=True).stdout.decode()
        view = json.loads(decode(raw).stdout)
        lines = dict(line.split(":", 1) for line in text.splitlines())
        lines = {k.strip(): v.strip() for k, v in lines.items()}
        assert lines["sender"] == sender
        assert lines["hash"] == "0x" + keccak(raw).hex()
        assert lines["nonce"] == view["nonce"]
        assert lines["value"].startswith(view["value"] + " wei (")
        assert lines["to"] == (view["to"] or "none (contract creation)")
        assert lines["chain id"] == (view["chainId"] or "none (no EIP-155 replay protection)")
