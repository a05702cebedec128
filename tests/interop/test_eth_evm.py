"""Our signed transactions executed by a real EVM: eth-tester with the py-evm backend.

ETH transfers and ERC-20 transfers are built and signed by the built `kura-devtool` (with a
funded eth-tester key), sent as raw transactions, and executed; balances must move exactly as
intended: the recipient gains the value, the sender pays the value plus gas used × effective gas
price, and token balances move by exactly the amount. The token is contracts/KuraTestToken.vy,
compiled here with Vyper from PyPI.
"""
import json
import pathlib
import random
import subprocess
import sys

import pytest
import rlp
from eth_abi import decode, encode
from eth_tester import EthereumTester, PyEVMBackend
from eth_utils import keccak, to_checksum_address

from conftest import ROOT, run, write_secret
from eth_helpers import random_address

SUPPLY = 10**12
TRANSFER_TOPIC = "0x" + keccak(text="Transfer(address,address,uint256)").hex()


@pytest.fixture(scope="module")
def token_build():
    """Compiles the token with the pinned Vyper (ABI and deployment bytecode)."""
    vyper = pathlib.Path(sys.executable).parent / "vyper"
    out = subprocess.run([str(vyper), "-f", "abi,bytecode", str(ROOT / "contracts" / "KuraTestToken.vy")],
                         capture_output=True, check=True, text=True, timeout=300)
    abi_line, bytecode = out.stdout.strip().splitlines()
    return json.loads(abi_line), bytes.fromhex(bytecode.strip()[2:])


@pytest.fixture
def chain(tmp_path):
    backend = PyEVMBackend()
    tester = EthereumTester(backend)
    key = backend.account_keys[0].to_bytes()
    keyfile = write_secret(tmp_path / "key", key.hex())
    sender = tester.get_accounts()[0]
    return backend, tester, keyfile, sender


def sign(keyfile, tx: dict) -> dict:
    return json.loads(run("kura-devtool", "eth", "sign", "--key-file", keyfile, "--json", json.dumps(tx),
                          check=True).stdout)


def eip1559(backend, tester, sender, **fields) -> dict:
    tx = {"chainId": str(backend.chain.chain_id), "nonce": str(tester.get_nonce(sender)),
          "maxPriorityFeePerGas": str(10**9), "maxFeePerGas": str(10**10), "gasLimit": "21000", "value": "0"}
    tx.update({k: str(v) if isinstance(v, int) else v for k, v in fields.items()})
    return tx


def hexbytes(value) -> bytes:
    """eth-tester returns data as 0x-hex text; eth-abi wants bytes."""
    return bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)


def deploy_token(tester, sender, token_build) -> str:
    _, bytecode = token_build
    tx_hash = tester.send_transaction({"from": sender, "data": "0x" + (bytecode + encode(["uint256"], [SUPPLY])).hex(),
                                       "gas": 3_000_000})
    receipt = tester.get_transaction_receipt(tx_hash)
    assert receipt["status"] == 1
    return receipt["contract_address"]


def token_balance(tester, token, owner) -> int:
    data = keccak(text="balanceOf(address)")[:4] + encode(["address"], [owner])
    return decode(["uint256"], hexbytes(tester.call({"from": tester.get_accounts()[0], "to": token, "data": "0x" + data.hex()})))[0]


def test_eth_transfers_move_balances_exactly(chain):
    backend, tester, keyfile, sender = chain
    rng = random.Random(0xE7E)
    for _ in range(6):
        recipient = random_address(rng)
        value = rng.choice([1, 12345, 10**18, rng.getrandbits(70)])
        before_sender, before_recipient = tester.get_balance(sender), tester.get_balance(recipient)
        signed = sign(keyfile, eip1559(backend, tester, sender, to=recipient, value=value))
        tx_hash = tester.send_raw_transaction(signed["raw"])
        assert tx_hash == signed["hash"]
        receipt = tester.get_transaction_receipt(tx_hash)
        assert receipt["status"] == 1 and receipt["from"] == signed["from"] == sender
        fee = receipt["gas_used"] * receipt["effective_gas_price"]
        assert tester.get_balance(recipient) - before_recipient == value
        assert before_sender - tester.get_balance(sender) == value + fee


def test_erc20_transfers_move_token_balances_exactly(chain, token_build):
    backend, tester, keyfile, sender = chain
    token = deploy_token(tester, sender, token_build)
    assert token_balance(tester, token, sender) == SUPPLY
    rng = random.Random(0x20)
    sent = 0
    for _ in range(5):
        recipient = random_address(rng)
        amount = rng.randint(1, 10**9)
        eth_before = tester.get_balance(sender)
        signed = sign(keyfile, eip1559(backend, tester, sender, to=token, gasLimit=100_000,
                                       erc20Transfer={"to": recipient, "amount": str(amount)}))
        receipt = tester.get_transaction_receipt(tester.send_raw_transaction(signed["raw"]))
        assert receipt["status"] == 1
        sent += amount
        assert token_balance(tester, token, recipient) == amount
        assert token_balance(tester, token, sender) == SUPPLY - sent
        # The Transfer event names exactly this sender, recipient and amount.
        (log,) = receipt["logs"]
        assert log["topics"][0] == TRANSFER_TOPIC
        assert to_checksum_address(hexbytes(log["topics"][1])[-20:]) == sender
        assert to_checksum_address(hexbytes(log["topics"][2])[-20:]) == recipient
        assert decode(["uint256"], hexbytes(log["data"]))[0] == amount
        # No ether moved except the fee.
        assert eth_before - tester.get_balance(sender) == receipt["gas_used"] * receipt["effective_gas_price"]


def test_evm_controls_overdraft_reverts_and_tampering_is_refused(chain, token_build):
    """Negative controls showing the EVM really executes and checks what we sign."""
    backend, tester, keyfile, sender = chain
    token = deploy_token(tester, sender, token_build)
    recipient = "0x000000000000000000000000000000000000dEaD"
    # A transfer of more tokens than the sender holds executes and reverts: balances unchanged.
    signed = sign(keyfile, eip1559(backend, tester, sender, to=token, gasLimit=100_000,
                                   erc20Transfer={"to": recipient, "amount": str(SUPPLY + 1)}))
    receipt = tester.get_transaction_receipt(tester.send_raw_transaction(signed["raw"]))
    assert receipt["status"] == 0
    assert token_balance(tester, token, sender) == SUPPLY
    assert token_balance(tester, token, recipient) == 0
    # Tampering with a signed transaction (value raised after signing) changes the recovered
    # sender to an unfunded account: the node refuses it and nothing moves. (py-evm does not
    # check a typed transaction's chain id, so that is not a control it can provide.)
    honest = sign(keyfile, eip1559(backend, tester, sender, to=recipient, value=1))
    fields = rlp.decode(bytes.fromhex(honest["raw"][4:]))
    fields[6] = (10**18).to_bytes(8, "big")
    with pytest.raises(Exception, match="cannot afford|insufficient|balance"):
        tester.send_raw_transaction("0x02" + rlp.encode(fields).hex())
    assert tester.get_balance(recipient) == 0
    # The honest one goes through.
    tester.send_raw_transaction(honest["raw"])
    assert tester.get_balance(recipient) == 1
