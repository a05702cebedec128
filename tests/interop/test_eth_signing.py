"""EIP-1559 signatures made by the built `kura-devtool`, checked by eth-account.

At least 1,000 random EIP-1559 transactions (random fields, access lists, ERC-20 transfers,
contract creation, edge-sized quantities) are signed by `kura-devtool eth sign-batch` with keys
from a random BIP-0039 mnemonic (m/44'/60'/0'/0/i). eth-account must recover, from each raw
transaction, the address that eth-account itself derives for that account, and that
`kura-signer eth-address` prints for the same mnemonic restored into a keystore. eth-account's own
RFC 6979 signature of the same fields must be byte-for-byte the same transaction.
"""
import json
import os
import random

import pytest
from eth_account import Account
from embit import bip39
from eth_utils import keccak

from conftest import register_secret, run, write_secret
from eth_helpers import eth_account_dict, random_tx, sign_batch

Account.enable_unaudited_hdwallet_features()

COUNT = int(os.environ.get("KURA_INTEROP_ETH_TXS", "1200"))
ACCOUNTS = 12
KEYSTORE_PASS = "eth interop keystore passphrase"


@pytest.fixture(scope="module")
def mnemonic():
    rng = random.Random(0x4D4E454D)  # a fixed seed: the same mnemonic on every run
    words = bip39.mnemonic_from_bytes(bytes(rng.getrandbits(8) for _ in range(16)))
    register_secret(words, KEYSTORE_PASS)
    return words


def expected_addresses(words: str) -> list[str]:
    return [Account.from_mnemonic(words, account_path=f"m/44'/60'/0'/0/{i}").address for i in range(ACCOUNTS)]


def test_kura_signer_eth_address_matches_eth_account(mnemonic, tmp_path):
    home = tmp_path / "home"
    mfile = write_secret(tmp_path / "mnemonic", mnemonic)
    pfile = write_secret(tmp_path / "pass", KEYSTORE_PASS)
    run("kura-signer", "init", "--home", home, "--restore", "--mnemonic-file", mfile, "--passphrase-file", pfile,
        "--kdf-log-n", "15", check=True)
    out = run("kura-signer", "eth-address", "--home", home, "--passphrase-file", pfile, "--count", ACCOUNTS, "--json",
              check=True)
    listed = json.loads(out.stdout)
    assert [a["address"] for a in listed] == expected_addresses(mnemonic)
    assert [a["path"] for a in listed] == [f"m/44h/60h/0h/0/{i}" for i in range(ACCOUNTS)]
    # The readable form lists the same addresses.
    text = run("kura-signer", "eth-address", "--home", home, "--passphrase-file", pfile, "--index", 3, "--count", 2,
               check=True).stdout.decode().split()
    assert text == ["m/44h/60h/0h/0/3", expected_addresses(mnemonic)[3], "m/44h/60h/0h/0/4", expected_addresses(mnemonic)[4]]


def test_eth_address_refusals(mnemonic, tmp_path):
    pfile = write_secret(tmp_path / "pass", KEYSTORE_PASS)
    # No keystore at all: a named error, exit 3, nothing on stdout.
    proc = run("kura-signer", "eth-address", "--home", tmp_path / "nowhere", "--passphrase-file", pfile)
    assert proc.returncode == 3 and proc.stdout == b""
    assert b"kura-signer: error: " in proc.stderr
    # Out-of-range index: a usage error before anything is unlocked.
    proc = run("kura-signer", "eth-address", "--home", tmp_path / "nowhere", "--passphrase-file", pfile,
               "--index", 2**31)
    assert proc.returncode == 64 and proc.stdout == b""


def test_eth_account_recovers_our_signer_from_random_transactions(mnemonic, tmp_path):
    assert COUNT >= 1000
    rng = random.Random(0x1559_4B55)
    txs = []
    for i in range(COUNT):
        tx = random_tx(rng)
        tx["account"] = i % ACCOUNTS
        txs.append(tx)
    mfile = write_secret(tmp_path / "mnemonic", mnemonic)
    signed = sign_batch(tmp_path, txs, mnemonic_file=mfile)
    addresses = expected_addresses(mnemonic)
    byte_for_byte = 0
    for i, (tx, out) in enumerate(zip(txs, signed)):
        raw = bytes.fromhex(out["raw"][2:])
        want = addresses[tx["account"]]
        assert Account.recover_transaction(raw) == want, f"tx {i}"
        assert out["from"] == want
        assert out["hash"] == "0x" + keccak(raw).hex()
        # eth-account signs the same fields with the same RFC 6979 nonce: identical bytes.
        key = Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{tx['account']}").key
        theirs = Account.sign_transaction(eth_account_dict({k: v for k, v in tx.items() if k != "account"}), key)
        assert theirs.raw_transaction == raw, f"tx {i}: {tx}"
        byte_for_byte += 1
    assert byte_for_byte == COUNT


def test_key_file_signing_recovers(tmp_path):
    rng = random.Random(0x4B4559)
    for n in range(20):
        key = bytes(rng.getrandbits(8) for _ in range(32))
        keyfile = write_secret(tmp_path / f"key{n}", "0x" + key.hex())
        tx = random_tx(rng)
        out = json.loads(run("kura-devtool", "eth", "sign", "--key-file", keyfile, "--json", json.dumps(tx),
                             check=True).stdout)
        raw = bytes.fromhex(out["raw"][2:])
        assert Account.recover_transaction(raw) == Account.from_key(key).address
        assert Account.sign_transaction(eth_account_dict(tx), key).raw_transaction == raw


def test_devtool_refuses_bad_transactions_by_name(tmp_path):
    keyfile = write_secret(tmp_path / "key", "11" * 32)
    good = {"chainId": "1", "nonce": "0", "maxPriorityFeePerGas": "1", "maxFeePerGas": "2", "gasLimit": "21000",
            "to": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "value": "1"}
    assert run("kura-devtool", "eth", "sign", "--key-file", keyfile, "--json", json.dumps(good)).returncode == 0
    cases = [
        ({"maxPriorityFeePerGas": "3"}, "priority_fee_above_max_fee"),
        ({"maxFeePerGas": str(2**255), "maxPriorityFeePerGas": "0"}, "arithmetic_overflow"),
        ({"nonce": "01"}, "invalid_number"),
        ({"value": "1e18"}, "invalid_number"),
        ({"value": str(2**256)}, "integer_overflow"),
        ({"to": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"}, "bad_checksum"),
        ({"skipChecks": True}, "invalid_field"),
    ]
    for change, code in cases:
        proc = run("kura-devtool", "eth", "sign", "--key-file", keyfile, "--json", json.dumps({**good, **change}))
        assert proc.returncode == 65, (change, proc.stderr)
        assert proc.stdout == b""
        assert f"kura-devtool: error: {code}:".encode() in proc.stderr, (change, proc.stderr)
