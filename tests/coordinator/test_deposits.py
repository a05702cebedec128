"""Deposits and the history, through the real binaries on SQLite and PostgreSQL against both dev chains: payments to a
deposit address the coordinator handed out (Bitcoin) and to the Ethereum wallet (ether and the KUSD token) are
detected by the coordinator's scan, recorded exactly once, followed to the required depth (two here), and a
deposit re-orged out before that is marked removed; the ledger is served as JSON and as CSV."""
import csv
import io
import sys
import time

import pytest

from coordinator_server import BACKENDS, ROOT, Server
from harness import Company
from test_api import Org
from test_ethereum_end_to_end import KUSD

sys.path.insert(0, str(ROOT / "tests" / "devchain"))
from devchain_server import DevChain  # noqa: E402
from test_devchain_ethereum import Eth  # noqa: E402


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, tmp_path_factory):
    btc = DevChain(tmp_path_factory.mktemp(f"dep-btc-{request.param}"))
    eth = Eth(tmp_path_factory.mktemp(f"dep-eth-{request.param}"))
    company = Company(tmp_path_factory.mktemp(f"dep-company-{request.param}"), token=KUSD)
    server = Server(tmp_path_factory.mktemp(f"dep-{request.param}"), request.param,
                    extra=["--esplora", f"regtest=http://127.0.0.1:{btc.port}",
                           "--ethereum", f"1337=http://127.0.0.1:{eth.port}", "--follow-interval", "0.2",
                           "--confirmations", "2"])
    try:
        org = Org(server, company, company.dir, organization="acme", genesis=(company.genesis, company.genesis_hash))
        yield server, org, btc, eth
    finally:
        assert server.stop() == 0, server.logs()
        assert btc.stop() == 0, btc.logs()
        assert eth.stop() == 0, eth.logs()


def history(server, org, **query):
    q = "&".join(f"{k}={v}" for k, v in query.items())
    status, body, headers = server.request("GET", f"/v1/orgs/{org.id}/history?{q}", token=org.token("bob"))
    assert status == 200, body
    return body


def deposit(server, org, txid, wallet, timeout=30, until=lambda d: True):
    """The one ledger entry of deposit `txid`, once `until` holds."""
    deadline = time.time() + timeout
    while True:
        found = [e for e in history(server, org, kind="deposit", wallet=wallet)["entries"] if e["txid"] == txid]
        assert len(found) <= 1, found  # never recorded twice
        if found and until(found[0]):
            return found[0]
        assert time.time() < deadline, (txid, found, server.logs()[-2000:])
        time.sleep(0.1)


def audit_subjects(server, org, kind):
    events = server.request("GET", f"/v1/orgs/{org.id}/audit?limit=10000", token=org.token("a1"))[1]["events"]
    return [e["subject"] for e in events if e["kind"] == kind]


def new_address(server, org, wallet="btc-main"):
    status, body, _ = server.request("POST", f"/v1/orgs/{org.id}/wallets/{wallet}/addresses", {"label": "client 7"},
                                     token=org.token("alice"))
    assert status == 201, body
    return body["address"]["address"]


def test_a_bitcoin_deposit_is_detected_once_and_confirmed(world):
    server, org, btc, eth = world
    address = new_address(server, org)
    paid = btc.faucet(address, 25_000_000, confirm=False)
    txid = paid["txid"]
    d = deposit(server, org, txid, "btc-main")
    assert (d["state"], d["confirmations"], d["amount"], d["address"], d["asset"]) == (
        "pending", 0, "25000000", address, "btc")
    btc.mine()
    d = deposit(server, org, txid, "btc-main", until=lambda d: d["confirmations"] == 1)
    assert d["state"] == "pending"
    btc.mine()
    d = deposit(server, org, txid, "btc-main", until=lambda d: d["state"] == "confirmed")
    assert d["confirmations"] == 2
    time.sleep(1.5)  # further rounds change nothing
    assert deposit(server, org, txid, "btc-main") == d
    key = f"bitcoin:{txid}:0"
    assert audit_subjects(server, org, "deposit.detected").count(key) == 1
    assert audit_subjects(server, org, "deposit.confirmed").count(key) == 1
    # Another payment to the same address is another deposit.
    again = btc.faucet(address, 1_000_000)["txid"]
    assert deposit(server, org, again, "btc-main")["amount"] == "1000000"


def test_a_bitcoin_deposit_re_orged_out_before_its_depth_is_removed(world):
    server, org, btc, eth = world
    address = new_address(server, org)
    txid = btc.faucet(address, 7_000_000)["txid"]  # in a block: one confirmation of two
    deposit(server, org, txid, "btc-main", until=lambda d: d["confirmations"] == 1)
    # The block is replaced by a branch without it (the transaction is dropped, not returned to the mempool).
    btc.dev("/dev/reorg", {"depth": 1, "blocks": 2, "drop": [txid], "mempool": False})
    d = deposit(server, org, txid, "btc-main", until=lambda d: d["state"] == "removed")
    assert d["confirmations"] == 0
    assert audit_subjects(server, org, "deposit.removed") == [f"bitcoin:{txid}:0"]


def test_ether_and_token_deposits_are_detected_once_and_confirmed(world):
    server, org, btc, eth = world
    wallet = org.co.signers[0].card["ethereum"]["address"]
    ether_tx = eth.rpc("dev_fund", wallet, hex(3 * 10**18))
    token_tx = eth.rpc("dev_mintToken", wallet, hex(2_500_000))
    d = deposit(server, org, ether_tx, "eth-main")
    assert (d["asset"], d["amount"], d["address"].lower()) == ("eth", str(3 * 10**18), wallet.lower())
    t = deposit(server, org, token_tx, "eth-main")
    assert (t["asset"], t["amount"]) == ("usdc", "2500000")
    eth.rpc("evm_mine")
    eth.rpc("evm_mine")
    for tx in (ether_tx, token_tx):
        assert deposit(server, org, tx, "eth-main", until=lambda d: d["state"] == "confirmed")["confirmations"] >= 2
    detected = audit_subjects(server, org, "deposit.detected")
    assert detected.count(f"ethereum:{ether_tx}:-1") == 1
    assert len([s for s in detected if s.startswith(f"ethereum:{token_tx}:")]) == 1


def test_the_history_as_csv(world):
    server, org, btc, eth = world
    address = new_address(server, org)
    txid = btc.faucet(address, 3_300_000)["txid"]
    deposit(server, org, txid, "btc-main")
    status, text, headers = server.request("GET", f"/v1/orgs/{org.id}/history?format=csv&wallet=btc-main",
                                           token=org.token("bob"))
    assert status == 200 and headers["content-type"].startswith("text/csv"), (status, headers)
    assert "attachment" in headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(text if isinstance(text, str) else text.decode())))
    assert list(rows[0].keys()) == ["kind", "wallet", "asset", "amount", "address", "txid", "state",
                                    "confirmations", "at", "intent"]
    [row] = [r for r in rows if r["txid"] == txid]
    assert (row["kind"], row["wallet"], row["amount"], row["address"]) == ("deposit", "btc-main", "3300000", address)
    assert all(r["wallet"] == "btc-main" for r in rows)
    # Filters: refused when malformed, applied when not.
    status, err, _ = server.request("GET", f"/v1/orgs/{org.id}/history?kind=gift", token=org.token("bob"))
    assert status == 400 and err["error"]["code"] == "malformed"
    assert all(e["kind"] == "deposit" and e["state"] == "confirmed"
               for e in history(server, org, kind="deposit", state="confirmed")["entries"])


def test_an_ether_deposit_re_orged_out_is_removed_and_the_scan_steps_back(world):
    server, org, btc, eth = world
    wallet = org.co.signers[0].card["ethereum"]["address"]
    eth.rpc("evm_mine")
    snapshot = eth.rpc("evm_snapshot")
    tx = eth.rpc("dev_fund", wallet, hex(7 * 10**17))  # mined at once: one confirmation of two
    d = deposit(server, org, tx, "eth-main", until=lambda d: d["confirmations"] == 1)
    assert d["state"] == "pending"
    # The chain goes back to before that block and grows another branch without the transaction.
    assert eth.rpc("evm_revert", snapshot) is True
    eth.rpc("evm_mine", 3)
    d = deposit(server, org, tx, "eth-main", until=lambda d: d["state"] == "removed")
    assert d["confirmations"] == 0
    assert audit_subjects(server, org, "deposit.removed").count(f"ethereum:{tx}:-1") == 1
    # A deposit on the new branch is found as usual (the scan stepped back and goes on).
    again = eth.rpc("dev_fund", wallet, hex(2 * 10**17))
    eth.rpc("evm_mine")
    assert deposit(server, org, again, "eth-main", until=lambda d: d["state"] == "confirmed")["amount"] == str(
        2 * 10**17)
