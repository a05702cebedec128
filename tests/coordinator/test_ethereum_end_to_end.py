"""Ether and ERC-20 withdrawals end to end through the real binaries, on SQLite and PostgreSQL, against the Ethereum
dev chain (devchain.ethereum: py-evm decides what is valid): an intent signed by the initiator → two approvals → the
unsigned EIP-1559 transaction built by `kura serve` from the chain (nonce, fees, gas estimate over JSON-RPC) → the
signing bundle → `kura-signer` signs → the result uploaded → the coordinator broadcasts it and follows it until
confirmed. The chain's own state — balances, the token's `Transfer` log — shows exactly the approved amounts."""
import sys
import time

import pytest
from eth_abi import decode, encode

from coordinator_server import BACKENDS, ROOT, Server, kura_json
from harness import EXCHANGE_ETH, Company
from test_api import Org
from test_end_to_end import sign_with, transaction_of, wait_for

sys.path.insert(0, str(ROOT / "tests" / "devchain"))
from test_devchain_ethereum import TRANSFER, Eth, sel, token_balance  # noqa: E402

KUSD = "0xe8527F28834bb497C06BEa4fB1dDd40389d8140b"  # the dev chain's token (devchain/README.md)
ETHER = 10**18


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, tmp_path_factory):
    # A chain per back end: each company's cold signer starts with no nonce history, and refuses a first signature
    # above nonce 0 unless the intent pins it (the wallet address is the same in both companies).
    eth = Eth(tmp_path_factory.mktemp(f"eth-devchain-{request.param}"), "--no-automine")
    company = Company(tmp_path_factory.mktemp(f"eth-company-{request.param}"), token=KUSD)
    server = Server(tmp_path_factory.mktemp(f"eth-e2e-{request.param}"), request.param,
                    extra=["--ethereum", f"1337=http://127.0.0.1:{eth.port}", "--follow-interval", "0.2",
                           "--confirmations", "2"])
    try:
        org = Org(server, company, company.dir, organization="acme", genesis=(company.genesis, company.genesis_hash))
        yield server, org, eth
    finally:
        assert server.stop() == 0, server.logs()
        assert eth.stop() == 0, eth.logs()


def wallet_address(org) -> str:
    return org.co.signers[0].card["ethereum"]["address"]


def mined(eth, tx_hash):
    eth.rpc("evm_mine")
    receipt = eth.receipt(tx_hash)
    assert receipt and receipt["status"] == "0x1", receipt
    return receipt


def approved(org, asset, to, amount):
    code, out, err = kura_json("intent", "create", "--session", org.login("alice"), "--wallet", "eth-main",
                               "--asset", asset, "--to", to, "--amount", str(amount), "--base-units", "--key",
                               org.tmp / "alice.key", "--credential", "alice-key", "--json")
    intent_id = out["intent"]["id"]
    for who in ("bob", "carol"):
        org.approve(intent_id, who)
    return intent_id


def withdraw(server, org, eth, tmp_path, asset, to, amount):
    """Build, sign offline, upload; the coordinator broadcasts and follows to two confirmations. Returns the
    transaction hash and its receipt."""
    intent_id = approved(org, asset, to, amount)
    code, built, _ = kura_json("intent", "build", intent_id, "--session", org.login("alice"), "--json")
    assert built["state"] == "built" and built["transaction"]["chain"] == "ethereum", built
    assert sign_with(org.co.signers[0], org, intent_id, tmp_path)["state"] == "signed"
    body = wait_for(server, org, intent_id, lambda b: b["state"] == "broadcast", "broadcast by the coordinator")
    tx_hash = body["txid"]
    # Pending on the chain (automine off) until a block is mined; then one confirmation, then the second.
    assert eth.receipt(tx_hash) is None
    receipt = mined(eth, tx_hash)
    body = wait_for(server, org, intent_id, lambda b: b["followUp"]["confirmations"] == 1, "one confirmation")
    assert body["state"] == "broadcast" and body["followUp"]["blockHeight"] == int(receipt["blockNumber"], 16)
    eth.rpc("evm_mine")
    body = wait_for(server, org, intent_id, lambda b: b["state"] == "confirmed", "confirmed at two")
    assert body["followUp"]["confirmations"] == 2 and body["followUp"]["done"] is True
    return tx_hash, receipt


def test_ether_withdrawal_confirmed_with_the_exact_amount(world, tmp_path):
    server, org, eth = world
    sender = wallet_address(org)
    eth.rpc("dev_fund", sender, hex(5 * ETHER))
    eth.rpc("evm_mine")
    before_sender, before_exchange = eth.balance(sender), eth.balance(EXCHANGE_ETH)
    amount = 12 * 10**17  # 1.2 ETH
    tx_hash, receipt = withdraw(server, org, eth, tmp_path, "eth", "eth-exchange", amount)
    tx = eth.rpc("eth_getTransactionByHash", tx_hash)
    assert tx["to"].lower() == EXCHANGE_ETH.lower() and int(tx["value"], 16) == amount
    assert tx["from"].lower() == sender.lower()
    fee = int(receipt["gasUsed"], 16) * int(receipt["effectiveGasPrice"], 16)
    assert eth.balance(EXCHANGE_ETH) == before_exchange + amount
    assert eth.balance(sender) == before_sender - amount - fee


def test_erc20_withdrawal_confirmed_with_the_exact_amount_and_its_transfer_log(world, tmp_path):
    server, org, eth = world
    sender = wallet_address(org)
    eth.rpc("dev_fund", sender, hex(ETHER))
    eth.rpc("dev_mintToken", sender, hex(5_000_000_000))  # 5,000 KUSD
    eth.rpc("evm_mine")
    before_sender, before_exchange = token_balance(eth, KUSD, sender), token_balance(eth, KUSD, EXCHANGE_ETH)
    amount = 1_234_560_000  # 1,234.56 KUSD
    tx_hash, receipt = withdraw(server, org, eth, tmp_path, "usdc", "usdc-exchange", amount)
    tx = eth.rpc("eth_getTransactionByHash", tx_hash)
    assert tx["to"].lower() == KUSD.lower() and int(tx["value"], 16) == 0
    assert bytes.fromhex(tx["input"][2:]) == sel("transfer(address,uint256)") + encode(
        ["address", "uint256"], [EXCHANGE_ETH, amount])
    [log] = [entry for entry in receipt["logs"] if entry["topics"][0] == TRANSFER]
    assert log["address"].lower() == KUSD.lower()
    assert int(log["topics"][1], 16) == int(sender, 16) and int(log["topics"][2], 16) == int(EXCHANGE_ETH, 16)
    assert decode(["uint256"], bytes.fromhex(log["data"][2:]))[0] == amount
    assert token_balance(eth, KUSD, EXCHANGE_ETH) == before_exchange + amount
    assert token_balance(eth, KUSD, sender) == before_sender - amount


def test_wallet_balances_are_the_chains(world):
    """The console's dashboard figures: ether and the token read by the coordinator equal what the node says
    (eth_getBalance and balanceOf asked here directly)."""
    server, org, eth = world
    sender = wallet_address(org)
    eth.rpc("dev_fund", sender, hex(3 * ETHER + 7))
    eth.rpc("dev_mintToken", sender, hex(1_000_001))
    eth.rpc("evm_mine")
    status, body, _ = server.request("GET", f"/v1/orgs/{org.id}/wallets/eth-main/balances", token=org.token("bob"))
    assert status == 200, body
    got = {b["asset"]: int(b["amount"]) for b in body["balances"]}
    assert got == {"eth": eth.balance(sender), "usdc": token_balance(eth, KUSD, sender)}
    assert got["eth"] >= 3 * ETHER + 7 and got["usdc"] >= 1_000_001
    # Without a chain source for a wallet's chain: 503, named.
    status, err, _ = server.request("GET", f"/v1/orgs/{org.id}/wallets/btc-main/balances", token=org.token("bob"))
    assert status == 503 and "no Bitcoin chain source" in err["error"]["message"]
    status, err, _ = server.request("GET", f"/v1/orgs/{org.id}/wallets/nope/balances", token=org.token("bob"))
    assert status == 404
