"""Ethereum signing through the built `kura-signer`, verified by tools Kura did not write: the
sender recovered with eth-account, the signature compared with eth-account's own RFC 6979
signature, and the signed transaction executed by py-evm (eth-tester): the recipient's ether or
token balance rises by exactly the approved amount. Nonces: the first signature at 0 or at the
intent's pinned nonce, each next one at the signer's high-water mark + 1."""
import pytest
from eth_utils import keccak, to_checksum_address

from eth_tools import GAS_TOKEN, Chain, check_signed, compile_token, eip1559, expect_refused, sign_ok, transfer_data, wallet_key
from harness import EXCHANGE_ETH, MNEMONICS, Company

ETHER = 10**18
TRANSFER_TOPIC = "0x" + keccak(text="Transfer(address,address,uint256)").hex()


def approved(co, **kw):
    intent = co.intent(wallet="eth-main", **kw)
    return intent, [co.approve(intent, "bob"), co.approve(intent, "carol")]


@pytest.fixture(scope="module")
def key():
    return wallet_key(MNEMONICS[0])


def test_eth_transfer_signs_recovers_and_executes(tmp_path, key):
    co = Company(tmp_path)
    vault = co.signers[0]
    account = vault.card["ethereum"]["address"]
    chain = Chain()
    chain.fund(account, 5 * ETHER)
    amount = 1_234_567_890_123_456_789
    intent, approvals = approved(co, asset="eth", to="eth-exchange", amount=str(amount))
    unsigned = eip1559(EXCHANGE_ETH, amount)
    out = sign_ok(vault, co.bundle(intent, approvals, eth=unsigned), tmp_path / "eth.tx")

    check_signed(out["raw"], unsigned, account, key)
    review = out["review"]
    assert review["chain"] == "ethereum" and review["nonce"] == 0
    assert review["account"] == to_checksum_address(account)
    assert review["destination"] == EXCHANGE_ETH and review["destinationLabel"] == "Exchange (ETH)"
    assert review["maxFee"] == str(21_000 * 100 * 10**9)
    receipt = out["receipt"]["receipt"]
    assert receipt["sequence"] == 1
    assert receipt["transaction"] == "0x" + keccak(bytes.fromhex(unsigned)).hex()

    before_sender, before_recipient = chain.balance(account), chain.balance(EXCHANGE_ETH)
    r = chain.execute(out["raw"])
    assert to_checksum_address(r["from"]) == to_checksum_address(account)
    assert to_checksum_address(r["to"]) == EXCHANGE_ETH
    assert chain.balance(EXCHANGE_ETH) - before_recipient == amount
    assert before_sender - chain.balance(account) == amount + r["gas_used"] * r["effective_gas_price"]


def test_erc20_transfer_signs_recovers_and_executes(tmp_path, key):
    chain = Chain()
    _, bytecode = compile_token()
    token = chain.deploy_token(bytecode, 10**12)
    co = Company(tmp_path, token=token)  # the registry names the deployed contract
    vault = co.signers[0]
    account = vault.card["ethereum"]["address"]
    chain.fund(account, ETHER)
    chain.token_send(token, account, 10**9)
    amount = 250_000_000  # 250 USDC (6 decimals)
    intent, approvals = approved(co, asset="usdc", to="usdc-exchange", amount=str(amount))
    unsigned = eip1559(token, 0, transfer_data(EXCHANGE_ETH, amount), gas=GAS_TOKEN)
    out = sign_ok(vault, co.bundle(intent, approvals, eth=unsigned), tmp_path / "usdc.tx")

    check_signed(out["raw"], unsigned, account, key)
    assert out["review"]["symbol"] == "USDC" and out["review"]["amount"] == str(amount)
    eth_before = chain.balance(account)
    r = chain.execute(out["raw"])
    assert chain.token_balance(token, EXCHANGE_ETH) == amount
    assert chain.token_balance(token, account) == 10**9 - amount
    (log,) = r["logs"]
    assert log["topics"][0] == TRANSFER_TOPIC
    assert to_checksum_address(bytes.fromhex(log["topics"][1][2:])[-20:]) == to_checksum_address(account)
    assert to_checksum_address(bytes.fromhex(log["topics"][2][2:])[-20:]) == EXCHANGE_ETH
    assert eth_before - chain.balance(account) == r["gas_used"] * r["effective_gas_price"]


def test_nonces_start_at_zero_then_follow_the_high_water_mark(tmp_path, key):
    co = Company(tmp_path)
    vault = co.signers[0]
    account = vault.card["ethereum"]["address"]
    chain = Chain()
    chain.fund(account, 5 * ETHER)
    raws = []
    for nonce, amount in enumerate([10**17, 2 * 10**17, 3 * 10**17]):
        intent, approvals = approved(co, asset="eth", to="eth-exchange", amount=str(amount))
        if nonce > 0:  # the nonce just signed, again, for a different transaction
            expect_refused(vault, co.bundle(intent, approvals, eth=eip1559(EXCHANGE_ETH, amount, nonce=nonce - 1)),
                           "NONCE_INVALID", tmp_path / f"again-{nonce}.tx")
        unsigned = eip1559(EXCHANGE_ETH, amount, nonce=nonce)
        out = sign_ok(vault, co.bundle(intent, approvals, eth=unsigned), tmp_path / f"n{nonce}.tx")
        check_signed(out["raw"], unsigned, account, key)
        assert out["review"]["nonce"] == nonce and out["receipt"]["receipt"]["sequence"] == nonce + 1
        raws.append(out["raw"])
    # The EVM accepts them in order: the signer's nonces are the account's.
    for nonce, raw in enumerate(raws):
        assert chain.nonce(account) == nonce
        chain.execute(raw)
    assert chain.balance(EXCHANGE_ETH) == 6 * 10**17


def test_pinned_first_nonce_then_high_water_mark(tmp_path, key):
    """An account that already sent transactions elsewhere: the first intent pins its nonce."""
    co = Company(tmp_path)
    vault = co.signers[0]
    account = vault.card["ethereum"]["address"]
    intent, approvals = approved(co, asset="eth", to="eth-exchange", amount=str(10**17), pin_nonce=7)
    # Not the pinned nonce: refused.
    for wrong in (0, 6, 8):
        expect_refused(vault, co.bundle(intent, approvals, eth=eip1559(EXCHANGE_ETH, 10**17, nonce=wrong)),
                       "NONCE_INVALID", tmp_path / f"wrong-{wrong}.tx")
    unsigned = eip1559(EXCHANGE_ETH, 10**17, nonce=7)
    out = sign_ok(vault, co.bundle(intent, approvals, eth=unsigned), tmp_path / "n7.tx")
    check_signed(out["raw"], unsigned, account, key)
    assert out["review"]["nonce"] == 7
    # The next, unpinned intent continues at 8.
    intent2, approvals2 = approved(co, asset="eth", to="eth-exchange", amount=str(2 * 10**17))
    expect_refused(vault, co.bundle(intent2, approvals2, eth=eip1559(EXCHANGE_ETH, 2 * 10**17, nonce=0)),
                   "NONCE_INVALID", tmp_path / "zero.tx")
    unsigned = eip1559(EXCHANGE_ETH, 2 * 10**17, nonce=8)
    out = sign_ok(vault, co.bundle(intent2, approvals2, eth=unsigned), tmp_path / "n8.tx")
    check_signed(out["raw"], unsigned, account, key)
    assert out["review"]["nonce"] == 8
