"""ATTACKS.md §4.3, rows E01–E14, against the built `kura-signer`.

Every mutated transaction is built here with pyrlp, eth-abi and eth-account, never by Kura's
encoder. Each refusal is checked by `expect_refused`: `review` and `sign` both refuse with the
row's category and its family's exit code, no signed transaction or receipt is written, and the
signer home is byte-identical. Each test ends with its positive control: the legitimate
transaction for the same intent signs, recovers (eth-account) to the wallet's address and equals
eth-account's own RFC 6979 signature."""
import json

import pytest
import rlp
from eth_utils import to_checksum_address

from eth_tools import (ATTACKER, ETHER, GAS_TOKEN, GWEI, MAX_UINT256, call, check_signed, decode_1559, eip1559,
                       eip2930, eip7702, eip712_blob, expect_refused, legacy, permit_typed_data, personal_message_blob,
                       reencode_1559, safe_exec_transaction, sign_ok, transfer_data, wallet_key)
from harness import EXCHANGE_ETH, MNEMONICS, TOKEN, Company

AMOUNT = 2 * ETHER  # the approved ether transfer
TOKENS = 250_000_000  # the approved USDC transfer (250 USDC, 6 decimals)
SAFE = to_checksum_address("0x" + "5afe" * 10)
PERMIT2 = "0x000000000022D473030F116dDEE9F6B43aC78BA3"


@pytest.fixture(scope="module")
def key():
    return wallet_key(MNEMONICS[0])


class Eth:
    """One company and its ETH signer (vault-a), with approved intents and bundles."""

    def __init__(self, tmp, key):
        self.tmp, self.key = tmp, key
        self.co = Company(tmp)
        self.vault = self.co.signers[0]
        self.account = self.vault.card["ethereum"]["address"]
        self.runs = 0

    def approved(self, asset="eth", amount=None, **kw):
        amount = amount if amount is not None else (AMOUNT if asset == "eth" else TOKENS)
        to = "eth-exchange" if asset == "eth" else "usdc-exchange"
        intent = self.co.intent(wallet="eth-main", asset=asset, to=to, amount=str(amount), **kw)
        return intent, [self.co.approve(intent, "bob"), self.co.approve(intent, "carol")]

    def bundle(self, approved, unsigned, edit=None):
        intent, approvals = approved
        return self.co.bundle(intent, approvals, eth=unsigned, edit=edit)

    def refused(self, approved, unsigned, category, edit=None):
        self.runs += 1
        return expect_refused(self.vault, self.bundle(approved, unsigned, edit), category, self.tmp / f"r{self.runs}.tx")

    def signs(self, approved, unsigned):
        self.runs += 1
        out = sign_ok(self.vault, self.bundle(approved, unsigned), self.tmp / f"s{self.runs}.tx")
        check_signed(out["raw"], unsigned, self.account, self.key)
        return out


@pytest.fixture
def eth(tmp_path, key):
    return Eth(tmp_path, key)


def native(value=AMOUNT, to=EXCHANGE_ETH, **kw):
    return eip1559(to, value, **kw)


def token_call(data, to=TOKEN, value=0, **kw):
    return eip1559(to, value, data, gas=GAS_TOKEN, **kw)


def look_alike(address: str, fill: str) -> str:
    """Same first 6 and last 6 hex digits, different middle (vanity / poisoning)."""
    h = address[2:].lower()
    return to_checksum_address("0x" + h[:6] + fill * (28 // len(fill)) + h[-6:])


def test_E01_native_transfer_to_swapped(eth):
    ia = eth.approved()
    for to in (ATTACKER, TOKEN, look_alike(EXCHANGE_ETH, "0"),
               "0x" + EXCHANGE_ETH[2:-1] + ("0" if EXCHANGE_ETH[-1] != "0" else "1")):
        eth.refused(ia, native(to=to), "INTENT_MISMATCH")
    eth.signs(ia, native())


def test_E02_value_raised_or_added_to_token_transfer(eth):
    ia = eth.approved()
    for value in (10 * AMOUNT, AMOUNT + 1, AMOUNT - 1):
        eth.refused(ia, native(value=value), "INTENT_MISMATCH")
    usdc = eth.approved("usdc")
    for value in (1, ETHER):
        eth.refused(usdc, token_call(transfer_data(EXCHANGE_ETH, TOKENS), value=value, nonce=1), "INTENT_MISMATCH")
    eth.signs(ia, native())
    eth.signs(usdc, token_call(transfer_data(EXCHANGE_ETH, TOKENS), nonce=1))


def test_E03_transfer_recipient_or_amount_altered(eth):
    ia = eth.approved("usdc")
    for to, amount in ((ATTACKER, TOKENS), (EXCHANGE_ETH, TOKENS + 1), (EXCHANGE_ETH, TOKENS - 1),
                       (EXCHANGE_ETH, 0), (look_alike(EXCHANGE_ETH, "e"), TOKENS)):
        eth.refused(ia, token_call(transfer_data(to, amount)), "INTENT_MISMATCH")
    # Call data that is not the one canonical ABI encoding of transfer(address,uint256).
    good = transfer_data(EXCHANGE_ETH, TOKENS)
    dirty = good[:4] + b"\xa7" * 12 + good[16:]  # upper bytes of the address word set
    for data in (dirty, good + b"\x00" * 32, good[:-1]):
        eth.refused(ia, token_call(data), "MALFORMED")
    eth.signs(ia, token_call(good))


def test_E04_approve_shown_as_transfer(eth):
    ia = eth.approved("usdc")
    calls = [
        call("approve(address,uint256)", ["address", "uint256"], [ATTACKER, MAX_UINT256]),
        call("approve(address,uint256)", ["address", "uint256"], [EXCHANGE_ETH, TOKENS]),
        call("increaseAllowance(address,uint256)", ["address", "uint256"], [ATTACKER, MAX_UINT256]),
        call("transferFrom(address,address,uint256)", ["address", "address", "uint256"],
             [eth.account, ATTACKER, TOKENS]),
        call("setApprovalForAll(address,bool)", ["address", "bool"], [ATTACKER, True]),
    ]
    for data in calls:
        err = eth.refused(ia, token_call(data), "CALL_FORBIDDEN")
    assert "setApprovalForAll" in err
    eth.signs(ia, token_call(transfer_data(EXCHANGE_ETH, TOKENS)))


def test_E05_look_alike_token_and_coordinator_decimals(eth):
    ia = eth.approved("usdc")
    good = transfer_data(EXCHANGE_ETH, TOKENS)
    for fake in (look_alike(TOKEN, "0"), look_alike(TOKEN, "69"), ATTACKER):
        eth.refused(ia, token_call(good, to=fake), "ASSET_UNKNOWN")
    # Decimals are the registry's (6): an amount scaled as if the token had 18 is another amount,
    # and the coordinator cannot supply decimals or a token description of its own.
    eth.refused(ia, token_call(transfer_data(EXCHANGE_ETH, TOKENS * 10**12)), "INTENT_MISMATCH")
    for extra in ({"decimals": 18}, {"token": {"address": TOKEN, "symbol": "USDC", "decimals": 18}}):
        eth.refused(ia, token_call(good), "MALFORMED", edit=lambda d, e=extra: d["transaction"].update(e))
    out = eth.signs(ia, token_call(good))
    assert out["review"]["symbol"] == "USDC" and out["review"]["amount"] == str(TOKENS)
    assert out["review"]["amountDisplay"] in ("250", "250.0", "250.000000")


def test_E06_address_poisoning(eth):
    vanity = look_alike(EXCHANGE_ETH, "d")
    assert vanity[:8].lower() == EXCHANGE_ETH[:8].lower() and vanity[-6:].lower() == EXCHANGE_ETH[-6:].lower()
    # The initiator was fooled: the signed intent itself names the vanity address under the
    # exchange's address-book entry; the approvers approved it. Its transaction pays the vanity.
    poisoned = eth.approved(edit=lambda d: d["destination"].update(address=vanity))
    eth.refused(poisoned, native(to=vanity), "ALLOWLIST_MISS")
    usdc_poisoned = eth.approved("usdc", edit=lambda d: d["destination"].update(address=vanity))
    eth.refused(usdc_poisoned, token_call(transfer_data(vanity, TOKENS)), "ALLOWLIST_MISS")
    # The intent is genuine but the coordinator pays the vanity address.
    ia = eth.approved()
    eth.refused(ia, native(to=vanity), "INTENT_MISMATCH")
    eth.signs(ia, native())


def test_E07_safe_exec_transaction_delegatecall(eth):
    ia = eth.approved()
    # Bybit: execTransaction(to=attacker code, operation=1 DELEGATECALL) whose code rewrites slot 0.
    sweep = call("sweepETH(address)", ["address"], [ATTACKER])
    bybit = safe_exec_transaction(ATTACKER, sweep, operation=1)
    for unsigned in (native(to=SAFE, value=0, data=bybit, gas=90_000),
                     native(data=bybit, gas=90_000),  # to and value exactly as approved
                     native(to=SAFE, value=0, data=safe_exec_transaction(ATTACKER, sweep, operation=0), gas=90_000)):
        eth.refused(ia, unsigned, "CALL_FORBIDDEN")
    usdc = eth.approved("usdc")
    eth.refused(usdc, token_call(bybit), "CALL_FORBIDDEN")
    eth.signs(ia, native())


def test_E08_call_outside_registry_or_contract_creation(eth):
    ia = eth.approved()
    arbitrary = bytes.fromhex("deadbeef") + b"\x11" * 64
    for unsigned in (native(to=ATTACKER, data=arbitrary, gas=60_000),
                     native(data=arbitrary, gas=60_000),  # the approved recipient, called
                     native(data=b"\x01\x02\x03", gas=60_000),  # shorter than a selector
                     native(to=None, data=b"\x60\x00\x60\x00\xf3", gas=60_000),  # contract creation
                     native(to=None, gas=60_000)):
        eth.refused(ia, unsigned, "CALL_FORBIDDEN")
    usdc = eth.approved("usdc")
    for unsigned in (token_call(arbitrary, to=ATTACKER), token_call(arbitrary),
                     token_call(transfer_data(EXCHANGE_ETH, TOKENS), to=None)):
        eth.refused(usdc, unsigned, "CALL_FORBIDDEN")
    # An ether intent paid through a token transfer is a contract call too.
    eth.refused(ia, token_call(transfer_data(EXCHANGE_ETH, AMOUNT)), "CALL_FORBIDDEN")
    eth.signs(ia, native())


def test_E09_chain_id_changed_or_legacy_without_eip155(eth):
    ia = eth.approved()
    for chain_id in (1, 10, 137, 11155111, 0, 1337 + 2**32):
        eth.refused(ia, native(chain_id=chain_id), "CHAIN_MISMATCH")
    # A pre-EIP-155 legacy transaction (v = 27/28 once signed) replays on every EVM chain.
    eth.refused(ia, legacy(EXCHANGE_ETH, AMOUNT), "CHAIN_MISMATCH")
    eth.signs(ia, native())


def test_E10_nonce_gap_or_second_tx_at_signed_nonce(eth):
    first = eth.approved()
    # The first signature for the account, unpinned, is at nonce 0.
    eth.refused(first, native(nonce=5), "NONCE_INVALID")
    eth.signs(first, native(nonce=0))
    second = eth.approved(amount=AMOUNT // 2)
    for nonce in (5, 0, 2**64 - 1):  # N+5 time bomb; the nonce already signed; far future
        eth.refused(second, native(value=AMOUNT // 2, nonce=nonce), "NONCE_INVALID")
    # Even an intent that pins the signed nonce does not get a second transaction at it.
    pinned = eth.approved(amount=AMOUNT // 4, pin_nonce=0)
    eth.refused(pinned, native(value=AMOUNT // 4, nonce=0), "NONCE_INVALID")
    pinned_next = eth.approved(amount=AMOUNT // 4, pin_nonce=1)
    eth.refused(pinned_next, native(value=AMOUNT // 4, nonce=2), "NONCE_INVALID")
    eth.signs(second, native(value=AMOUNT // 2, nonce=1))
    eth.refused(pinned_next, native(value=AMOUNT // 4, nonce=1), "NONCE_INVALID")  # 1 is taken now


def test_E11_gas_siphon(eth):
    ia = eth.approved()
    for fields in ({"max_fee": 50_000 * GWEI}, {"gas": 30_000_000}, {"priority": 6 * GWEI},
                   {"max_fee": 201 * GWEI}, {"gas": 100_001},
                   {"priority": 150 * GWEI, "max_fee": 100 * GWEI},  # priority above the fee cap
                   {"gas": 2**200, "max_fee": 2**60}):  # a gas budget beyond 2^256
        eth.refused(ia, native(**fields), "FEE_EXCESSIVE")
    # The intent's own caps, below the policy's, bind too.
    tight = eth.approved(fee_caps=("maxTotalFee=1000000000000000", "maxFeePerGas=60000000000"))
    eth.refused(tight, native(nonce=1), "FEE_EXCESSIVE")  # 21000 × 100 gwei > both caps
    eth.refused(tight, native(nonce=1, max_fee=60 * GWEI, gas=21_000 * 2), "FEE_EXCESSIVE")  # product 2.52e15
    eth.signs(ia, native())
    eth.signs(tight, native(nonce=1, max_fee=40 * GWEI))


def test_E12_access_list_stuffed(eth):
    ia = eth.approved()
    slot = b"\x00" * 31 + b"\x01"
    one = [[bytes.fromhex(EXCHANGE_ETH[2:]), []]]
    stuffed = [[i.to_bytes(20, "big"), [i.to_bytes(32, "big")]] for i in range(1, 1501)]
    for access_list in (one, [[bytes.fromhex(TOKEN[2:]), [slot]]], stuffed):
        eth.refused(ia, native(access_list=access_list), "FIELD_FORBIDDEN")
    usdc = eth.approved("usdc")
    eth.refused(usdc, token_call(transfer_data(EXCHANGE_ETH, TOKENS), access_list=one), "FIELD_FORBIDDEN")
    # Beyond the transaction size bound (128 KiB) it is refused before it is decoded.
    huge = [[i.to_bytes(20, "big"), [i.to_bytes(32, "big")]] for i in range(1, 3001)]
    assert len(native(access_list=huge)) // 2 > 128 * 1024
    eth.refused(ia, native(access_list=huge), "RESOURCE_LIMIT")
    eth.signs(ia, native())


def test_E13_type_confusion(eth):
    ia = eth.approved()
    for unsigned in (
        "00" + legacy(EXCHANGE_ETH, AMOUNT, chain_id=1337),  # 0x00 ‖ legacy
        legacy(EXCHANGE_ETH, AMOUNT, chain_id=1337),  # an EIP-155 legacy payload
        eip2930(EXCHANGE_ETH, AMOUNT),  # 0x01
        eip7702(EXCHANGE_ETH, AMOUNT, delegate=ATTACKER),  # 0x04 delegating our EOA (chain id 0: everywhere)
        eip7702(EXCHANGE_ETH, AMOUNT, delegate=ATTACKER, auth_chain_id=1337),
        "03" + rlp.encode([1337, 0, 1, 1, 21000, bytes.fromhex(EXCHANGE_ETH[2:]), 1, b"", [], 1, []]).hex(),
        "05" + native()[2:],
        "7f" + native()[2:],
    ):
        eth.refused(ia, unsigned, "FIELD_FORBIDDEN")
    # Relabelled as 0x02 with its authorizationList still attached: ten fields, not nine.
    body = rlp.decode(bytes.fromhex(eip7702(EXCHANGE_ETH, AMOUNT, delegate=ATTACKER)[2:]))
    eth.refused(ia, reencode_1559(body), "MALFORMED")
    # The signer hashes 0x02 ‖ rlp itself: the approved transaction in any other byte encoding
    # (edited by hand) is refused, so no second payload hashes differently for the same fields.
    good = bytes.fromhex(native())
    fields = rlp.decode(good[1:])
    assert good[1] < 0xf8 and len(good) - 2 < 56  # a short list header
    for mutated in (
        good[:1] + b"\xf8" + bytes([len(good) - 2]) + good[2:],  # the list length in the long form
        good[:1] + rlp.encode(fields[:6] + [b"\x00" + fields[6]] + fields[7:]),  # value with a leading zero
        good[:1] + rlp.encode([fields[0], b"\x00"] + fields[2:]),  # nonce 0 as 0x00, not the empty string
        good + b"\x00",  # a trailing byte
        good[:-1],  # truncated
    ):
        eth.refused(ia, mutated.hex(), "MALFORMED")
    eth.signs(ia, native())


def test_E14_eip712_permit_and_message_signing(eth):
    usdc = eth.approved("usdc")
    permit = permit_typed_data(TOKEN, eth.account, ATTACKER, MAX_UINT256)
    blobs = [eip712_blob(permit), personal_message_blob("Sign in to Kura"), b"\x19\x00" + bytes.fromhex(TOKEN[2:]) + b"x"]
    assert blobs[0][:2] == b"\x19\x01" and len(blobs[0]) == 66  # the raw (domainHash, messageHash) pair
    for blob in blobs:
        eth.refused(usdc, blob.hex(), "CALL_FORBIDDEN")
    # permit() and Permit2 calls, sent as transactions.
    permit_call = call("permit(address,address,uint256,uint256,uint8,bytes32,bytes32)",
                       ["address", "address", "uint256", "uint256", "uint8", "bytes32", "bytes32"],
                       [eth.account, ATTACKER, MAX_UINT256, MAX_UINT256, 27, b"\x01" * 32, b"\x02" * 32])
    permit2_approve = call("approve(address,address,uint160,uint48)", ["address", "address", "uint160", "uint48"],
                           [TOKEN, ATTACKER, 2**160 - 1, 2**48 - 1])
    eth.refused(usdc, token_call(permit_call), "CALL_FORBIDDEN")
    eth.refused(usdc, token_call(permit2_approve, to=PERMIT2), "CALL_FORBIDDEN")
    # No other payload kind exists: typed data handed over as JSON is an unknown field or chain.
    good = token_call(transfer_data(EXCHANGE_ETH, TOKENS))
    typed = json.loads(json.dumps(permit), parse_int=str)  # JSON numbers beyond 2^53 as strings
    eth.refused(usdc, good, "MALFORMED", edit=lambda d: d["transaction"].update(typedData=typed))
    eth.refused(usdc, good, "MALFORMED", edit=lambda d: d.update(transaction={"chain": "eip712", "typedData": typed}))
    eth.signs(usdc, good)
