"""Ethereum artifacts for the signer tests, built with tools Kura did not write: pyrlp for every
transaction payload (EIP-1559, legacy with and without EIP-155, EIP-2930, EIP-7702), eth-abi for
call data, eth-account for EIP-191/EIP-712 messages, signature recovery and an independent
RFC 6979 signature; eth-tester (py-evm) to execute what the signer signed."""
import json
import pathlib
import subprocess
import sys

import rlp
from eth_abi import decode, encode
from eth_account import Account
from eth_utils import keccak, to_checksum_address

from conftest import ROOT, register_secret
from harness import CHAIN_ID, EXIT_GOVERNANCE, EXIT_MALFORMED, EXIT_STATE, EXIT_TRANSACTION, refusal

GWEI = 10**9
ETHER = 10**18
MAX_UINT256 = 2**256 - 1
ATTACKER = "0x" + "a7" * 20
# Default fields of a legitimate transfer (within the harness policy's caps).
GAS_TRANSFER, GAS_TOKEN = 21_000, 65_000
MAX_FEE, PRIORITY = 100 * GWEI, 2 * GWEI

FAMILY = {
    "MALFORMED": EXIT_MALFORMED, "RESOURCE_LIMIT": EXIT_MALFORMED, "ALLOWLIST_MISS": EXIT_GOVERNANCE,
    "REPLAY": EXIT_GOVERNANCE, "LIMIT_EXCEEDED": EXIT_GOVERNANCE, "APPROVAL_INVALID": EXIT_GOVERNANCE,
    "APPROVAL_MISMATCH": EXIT_GOVERNANCE, "POLICY_INVALID": EXIT_GOVERNANCE, "POLICY_ROLLBACK": EXIT_GOVERNANCE,
    "TIMELOCK_PENDING": EXIT_GOVERNANCE, "STATE_INTEGRITY": EXIT_STATE, "KEYSTORE_INVALID": EXIT_STATE,
}


def family(category: str) -> int:
    return FAMILY.get(category, EXIT_TRANSACTION)


def selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def call(signature: str, types: list[str], args: list) -> bytes:
    """ABI call data built with eth-abi."""
    return selector(signature) + encode(types, args)


def transfer_data(to: str, amount: int) -> bytes:
    return call("transfer(address,uint256)", ["address", "uint256"], [to, amount])


def addr(text: str | None) -> bytes:
    return bytes.fromhex(text[2:]) if text else b""


def eip1559(to, value, data=b"", nonce=0, chain_id=CHAIN_ID, gas=GAS_TRANSFER, max_fee=MAX_FEE, priority=PRIORITY,
            access_list=()) -> str:
    """The unsigned EIP-1559 payload 0x02 ‖ rlp([9 fields]) as hex (pyrlp)."""
    fields = [chain_id, nonce, priority, max_fee, gas, addr(to), value, data, list(access_list)]
    return "02" + rlp.encode(fields).hex()


def legacy(to, value, data=b"", nonce=0, gas_price=MAX_FEE, gas=GAS_TRANSFER, chain_id=None) -> str:
    """A legacy signing payload: 6 fields (pre-EIP-155, replays on every chain) or, with a chain
    id, the 9-field EIP-155 form [.., chainId, 0, 0]."""
    fields = [nonce, gas_price, gas, addr(to), value, data]
    if chain_id is not None:
        fields += [chain_id, 0, 0]
    return rlp.encode(fields).hex()


def eip2930(to, value, data=b"", nonce=0, chain_id=CHAIN_ID, gas_price=MAX_FEE, gas=GAS_TRANSFER, access_list=()) -> str:
    return "01" + rlp.encode([chain_id, nonce, gas_price, gas, addr(to), value, data, list(access_list)]).hex()


def eip7702(to, value, delegate, data=b"", nonce=0, chain_id=CHAIN_ID, auth_chain_id=0, gas=GAS_TRANSFER * 3) -> str:
    """A set-code transaction whose authorizationList delegates the sender's account to `delegate`
    (authority tuple [chainId, address, nonce, yParity, r, s]; chain id 0 = every chain)."""
    authorization = [auth_chain_id, addr(delegate), nonce + 1, 1, 0x1234, 0x5678]
    fields = [chain_id, nonce, PRIORITY, MAX_FEE, gas, addr(to), value, data, [], [authorization]]
    return "04" + rlp.encode(fields).hex()


def decode_1559(unsigned_hex: str) -> list:
    assert unsigned_hex.startswith("02")
    return rlp.decode(bytes.fromhex(unsigned_hex[2:]))


def reencode_1559(fields: list) -> str:
    return "02" + rlp.encode(fields).hex()


def safe_exec_transaction(target: str, data: bytes, operation: int) -> bytes:
    """Safe `execTransaction` call data (Safe v1.3/v1.4 ABI) with zero gas/refund fields and a
    placeholder owner signature."""
    sig = ("execTransaction(address,uint256,bytes,uint8,uint256,uint256,uint256,address,address,bytes)")
    types = ["address", "uint256", "bytes", "uint8", "uint256", "uint256", "uint256", "address", "address", "bytes"]
    zero = "0x" + "00" * 20
    return call(sig, types, [target, 0, data, operation, 0, 0, 0, zero, zero, b"\x01" * 65])


def permit_typed_data(token: str, owner: str, spender: str, value: int, chain_id=CHAIN_ID) -> dict:
    """An EIP-2612 Permit as EIP-712 typed data."""
    return {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                             {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
            "Permit": [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"},
                       {"name": "value", "type": "uint256"}, {"name": "nonce", "type": "uint256"},
                       {"name": "deadline", "type": "uint256"}],
        },
        "primaryType": "Permit",
        "domain": {"name": "USD Coin", "version": "2", "chainId": chain_id, "verifyingContract": token},
        "message": {"owner": owner, "spender": spender, "value": value, "nonce": 0, "deadline": MAX_UINT256},
    }


def eip712_blob(typed: dict) -> bytes:
    """The bytes an EIP-712 signature is made over: 0x19 0x01 ‖ domainSeparator ‖ hashStruct
    (eth-account's encode_typed_data)."""
    from eth_account.messages import encode_typed_data

    m = encode_typed_data(full_message=typed)
    return b"\x19" + m.version + m.header + m.body


def personal_message_blob(text: str) -> bytes:
    """EIP-191 version 0x45 (personal_sign) bytes."""
    from eth_account.messages import encode_defunct

    m = encode_defunct(text=text)
    return b"\x19" + m.version + m.header + m.body


# -- the signer ---------------------------------------------------------------------------------
def expect_refused(signer, bundle, category: str, out: pathlib.Path):
    """`review` and `sign` both refuse `bundle` with `category` and its family's exit code; no
    signed transaction or receipt is written and the signer home is byte-identical."""
    before = signer.state()
    r = signer.review(bundle)
    assert refusal(r) == (family(category), category), (category, r.returncode, r.stderr.decode())
    assert r.stdout == b"" or b"refused" in r.stdout
    s = signer.sign(bundle, out)
    assert refusal(s) == (family(category), category), (category, s.returncode, s.stderr.decode())
    assert not out.exists() and not pathlib.Path(str(out) + ".receipt.json").exists()
    assert signer.state() == before
    return s.stderr.decode()


def sign_ok(signer, bundle, out: pathlib.Path) -> dict:
    """The positive control: review passes, sign writes the transaction and its receipt. Returns
    the signed raw transaction (hex), the receipt and the review JSON."""
    r = signer.review(bundle)
    assert r.returncode == 0, r.stderr.decode()
    review = json.loads(r.stdout)["review"]
    s = signer.sign(bundle, out)
    assert s.returncode == 0, s.stderr.decode()
    raw = out.read_text().strip()
    receipt = json.loads(pathlib.Path(str(out) + ".receipt.json").read_text())
    return {"raw": raw, "receipt": receipt, "review": review}


def check_signed(raw_hex: str, unsigned_hex: str, account: str, key: bytes | None = None):
    """`raw_hex` is the signer's output (0x-hex), `unsigned_hex` the bundle's payload. The signed transaction carries exactly the unsigned payload's nine fields, recovers (with
    eth-account) to `account`, and — given the key — equals eth-account's own RFC 6979 signature."""
    raw = bytes.fromhex(raw_hex[2:])
    assert raw[0] == 2
    signed = rlp.decode(raw[1:])
    assert len(signed) == 12
    assert rlp.encode(signed[:9]) == bytes.fromhex(unsigned_hex)[1:]
    assert Account.recover_transaction(raw_hex) == to_checksum_address(account)
    if key is not None:
        f = signed
        tx = {"type": 2, "chainId": rlp.sedes.big_endian_int.deserialize(f[0]),
              "nonce": rlp.sedes.big_endian_int.deserialize(f[1]),
              "maxPriorityFeePerGas": rlp.sedes.big_endian_int.deserialize(f[2]),
              "maxFeePerGas": rlp.sedes.big_endian_int.deserialize(f[3]),
              "gas": rlp.sedes.big_endian_int.deserialize(f[4]), "to": to_checksum_address(f[5]),
              "value": rlp.sedes.big_endian_int.deserialize(f[6]), "data": bytes(f[7]), "accessList": []}
        ours = Account.sign_transaction(tx, key).raw_transaction
        assert bytes(ours) == raw, "the signature differs from eth-account's RFC 6979 signature"
    return signed


def wallet_key(mnemonic: str) -> bytes:
    """The wallet's private key m/44'/60'/0'/0/0, derived by eth-account (kept in memory only)."""
    Account.enable_unaudited_hdwallet_features()
    key = bytes(Account.from_mnemonic(mnemonic, account_path="m/44'/60'/0'/0/0").key)
    register_secret(passphrase=key.hex())  # the secret scan also looks for the account's key
    return key


# -- the EVM ------------------------------------------------------------------------------------
def compile_token():
    """contracts/KuraTestToken.vy compiled with the pinned Vyper: (abi, deployment bytecode)."""
    vyper = pathlib.Path(sys.executable).parent / "vyper"
    out = subprocess.run([str(vyper), "-f", "abi,bytecode", str(ROOT / "contracts" / "KuraTestToken.vy")],
                         capture_output=True, check=True, text=True, timeout=300)
    abi_line, bytecode = out.stdout.strip().splitlines()
    return json.loads(abi_line), bytes.fromhex(bytecode.strip()[2:])


def hexbytes(value) -> bytes:
    return bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)


class Chain:
    """An eth-tester chain (py-evm backend). py-evm does not check a typed transaction's chain
    id, so transactions for the harness's chain 1337 execute on it."""

    def __init__(self):
        from eth_tester import EthereumTester, PyEVMBackend

        self.backend = PyEVMBackend()
        self.tester = EthereumTester(self.backend)
        self.funder = self.tester.get_accounts()[0]

    def fund(self, address: str, wei: int):
        self.tester.send_transaction({"from": self.funder, "to": to_checksum_address(address), "value": wei,
                                      "gas": 21_000})

    def balance(self, address: str) -> int:
        return self.tester.get_balance(to_checksum_address(address))

    def nonce(self, address: str) -> int:
        return self.tester.get_nonce(to_checksum_address(address))

    def deploy_token(self, bytecode: bytes, supply: int) -> str:
        tx = self.tester.send_transaction({"from": self.funder, "data": "0x" + (bytecode + encode(["uint256"], [supply])).hex(),
                                           "gas": 3_000_000})
        receipt = self.tester.get_transaction_receipt(tx)
        assert receipt["status"] == 1
        return receipt["contract_address"]

    def token_send(self, token: str, to: str, amount: int):
        data = transfer_data(to_checksum_address(to), amount)
        tx = self.tester.send_transaction({"from": self.funder, "to": token, "data": "0x" + data.hex(), "gas": 100_000})
        assert self.tester.get_transaction_receipt(tx)["status"] == 1

    def token_balance(self, token: str, owner: str) -> int:
        data = selector("balanceOf(address)") + encode(["address"], [to_checksum_address(owner)])
        out = self.tester.call({"from": self.funder, "to": token, "data": "0x" + data.hex()})
        return decode(["uint256"], hexbytes(out))[0]

    def execute(self, raw_hex: str) -> dict:
        receipt = self.tester.get_transaction_receipt(self.tester.send_raw_transaction(raw_hex))
        assert receipt["status"] == 1, receipt
        return receipt

