"""A withdrawal end to end through the real binaries, on SQLite and on PostgreSQL: the genesis policy → an
intent signed by the initiator → two approvals → the unsigned PSBT built by `kura serve` from the dev chain
(Esplora API) → the signing bundle → `kura-signer` signs → the result uploaded → the finalised transaction,
which the coordinator broadcasts by itself and follows until confirmed (two blocks here), and which the dev
chain (btclib's script engine, input by input) accepted and mined with the exact amounts. For a single-sig
wallet and for the 2-of-3 vault (two cold signers, partial signatures combined by the coordinator).

And the tampering test's signer half: the PSBT inside a stored bundle is edited in the database (an output
appended, as in the 2024 incident); the cold signer refuses the bundle, and `kura audit verify` on the
coordinator's export reports the break at the `transaction.built` event."""
import base64
import hashlib
import json
import pathlib
import sys
import time

import pytest
from embit.psbt import PSBT as EmbitPSBT
from embit.psbt import OutputScope
from embit.script import Script, address_to_scriptpubkey
from embit.transaction import Transaction, TransactionOutput

from coordinator_server import BACKENDS, ROOT, Server, kura_json, raw_sql
from harness import EXCHANGE_BTC, Company, refusal, run
from test_api import Org

sys.path.insert(0, str(ROOT / "tests" / "devchain"))
from devchain_server import DevChain  # noqa: E402

ATTACKER = Script(b"\x00\x14" + bytes(range(20)))  # a P2WPKH output not in the address book
AMOUNT = 120_000_000  # above 1 BTC: two approvals under the company's tiers


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    c = DevChain(tmp_path_factory.mktemp("devchain"))
    try:
        yield c
    finally:
        assert c.stop() == 0, c.logs()


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, chain, tmp_path_factory):
    # A company (and cold signers) per back end: each coordinator sees all of its signers' receipts.
    company = Company(tmp_path_factory.mktemp(f"company-{request.param}"))
    server = Server(tmp_path_factory.mktemp(f"e2e-{request.param}"), request.param,
                    extra=["--esplora", f"regtest=http://127.0.0.1:{chain.port}", "--follow-interval", "0.2",
                           "--confirmations", "2"])
    try:
        # The organisation the cold signers were pinned to: the company's own genesis.
        org = Org(server, company, company.dir, organization="acme", genesis=(company.genesis, company.genesis_hash))
        yield server, org
    finally:
        assert server.stop() == 0, server.logs()


def fund(server, org, chain, wallet, value):
    """A deposit address from the coordinator (derived from the signed descriptor), funded and confirmed."""
    status, body, _ = server.request("POST", f"/v1/orgs/{org.id}/wallets/{wallet}/addresses", {"label": "funding"},
                                     token=org.token("alice"))
    assert status == 201, body
    address = body["address"]["address"]
    chain.faucet(address, value)
    return address


def approved_intent(org, wallet, amount=AMOUNT):
    intent = org.create_intent(amount=str(amount), wallet=wallet)
    org.approve(intent["id"], "bob")
    code, out, err = org.approve(intent["id"], "carol")
    state = kura_json("intent", "show", intent["id"], "--session", org.login("alice"), "--json")[1]["intent"]["state"]
    assert state == "approved"
    return intent["id"]


def outputs_of(raw_hex):
    """(address script hex, value) of each output, decoded by embit (not by Kura)."""
    tx = Transaction.parse(bytes.fromhex(raw_hex))
    return [(o.script_pubkey.data.hex(), o.value) for o in tx.vout], tx.txid().hex()


def sign_with(signer, org, intent_id, tmp: pathlib.Path):
    """Downloads the bundle for `signer`, signs it offline, uploads the result; returns the state after."""
    bundle = tmp / f"{intent_id}-{signer.name}.bundle.json"
    kura_json("bundle", "get", intent_id, "--signer", f"vault-{signer.name}", "-o", bundle, "--session",
              org.login("alice"), "--json")
    out = tmp / f"{intent_id}-{signer.name}.signed"
    r = signer.sign(bundle, out)
    assert r.returncode == 0, r.stderr.decode()
    code, reply, err = kura_json("bundle", "put", intent_id, out, "--session", org.login("alice"), "--json")
    return reply


def transaction_of(server, org, intent_id):
    status, body, _ = server.request("GET", f"/v1/orgs/{org.id}/intents/{intent_id}/transaction",
                                     token=org.token("bob"))
    assert status == 200, body
    return body


def wait_for(server, org, intent_id, done, what, timeout=30):
    deadline = time.time() + timeout
    while True:
        body = transaction_of(server, org, intent_id)
        if done(body):
            return body
        assert time.time() < deadline, f"{what}: {body}\n{server.logs()[-3000:]}"
        time.sleep(0.1)


def follow(server, org, chain, intent_id, txid):
    """The coordinator broadcasts the signed transaction by itself, then follows it: still `broadcast` at one
    confirmation, `confirmed` at the two it requires, with the height of the block that holds it."""
    body = wait_for(server, org, intent_id, lambda b: b["state"] == "broadcast", "broadcast by the coordinator")
    assert body["followUp"]["attempts"] == 1 and "lastError" not in body["followUp"], body
    assert txid in chain.mempool()
    chain.mine()
    height = chain.height()
    body = wait_for(server, org, intent_id, lambda b: b["followUp"]["confirmations"] == 1, "one confirmation")
    assert body["state"] == "broadcast" and body["followUp"]["blockHeight"] == height
    chain.mine()
    body = wait_for(server, org, intent_id, lambda b: b["state"] == "confirmed", "confirmed at two")
    assert body["followUp"]["confirmations"] == 2 and body["followUp"]["blockHeight"] == height, body
    assert body["followUp"]["done"] is True
    assert chain.get(f"/tx/{txid}/status") == {**chain.get(f"/tx/{txid}/status"), "confirmed": True,
                                               "block_height": height}


def test_single_sig_withdrawal_end_to_end(world, chain, tmp_path):
    server, org = world
    fund(server, org, chain, "btc-main", 300_000_000)
    intent_id = approved_intent(org, "btc-main")
    code, built, _ = kura_json("intent", "build", intent_id, "--session", org.login("alice"), "--json")
    tx = built["transaction"]
    assert built["state"] == "built" and tx["chain"] == "bitcoin"
    # The built PSBT, read by embit: exactly the intent's payment, to the intent's destination.
    psbt = EmbitPSBT.from_string(tx["psbt"])
    assert hashlib.sha256(psbt.serialize()).hexdigest() == tx["sha256"]
    outs = [(o.script_pubkey.data.hex(), o.value) for o in psbt.tx.vout]
    assert (address_to_scriptpubkey(EXCHANGE_BTC).data.hex(), AMOUNT) in outs
    reply = sign_with(org.co.signers[0], org, intent_id, tmp_path)
    assert reply["state"] == "signed" and reply["receipt"]["signer"] == "vault-a"
    code, signed, _ = kura_json("intent", "transaction", intent_id, "--session", org.login("bob"), "--json")
    outs, txid = outputs_of(signed["raw"])
    assert txid == signed["txid"] == tx["id"]
    assert (address_to_scriptpubkey(EXCHANGE_BTC).data.hex(), AMOUNT) in outs
    follow(server, org, chain, intent_id, txid)
    # The exchange received exactly the amount, per the chain.
    got = [o for o in chain.get(f"/tx/{txid}")["vout"] if o.get("scriptpubkey_address") == EXCHANGE_BTC]
    assert [o["value"] for o in got] == [AMOUNT]
    # The coordinator's audit export verifies offline, with the signer's receipt reconciled.
    export = tmp_path / "audit.json"
    kura_json("audit", "export", "--session", org.login("a1"), "-o", export, "--json")
    code, report, err = kura_json("audit", "verify", export, "--genesis-hash", org.genesis_hash, "--json", check=False)
    assert code == 0 and report["holds"], report
    assert report["bundles"] >= 1 and report["receipts"] >= 1


def test_two_of_three_withdrawal_combines_partials(world, chain, tmp_path):
    server, org = world
    fund(server, org, chain, "btc-vault", 300_000_000)
    intent_id = approved_intent(org, "btc-vault")
    kura_json("intent", "build", intent_id, "--session", org.login("alice"), "--json")
    first = sign_with(org.co.signers[0], org, intent_id, tmp_path)
    assert first["state"] == "signing"  # one of two signatures
    # Nothing to broadcast yet.
    status, err, _ = server.request("GET", f"/v1/orgs/{org.id}/intents/{intent_id}/transaction",
                                    token=org.token("bob"))
    assert status == 404 and err["error"]["code"] == "not_found"
    # The same signer again is not a second signature.
    second = sign_with(org.co.signers[1], org, intent_id, tmp_path)
    assert second["state"] == "signed"
    code, signed, _ = kura_json("intent", "transaction", intent_id, "--session", org.login("bob"), "--json")
    outs, txid = outputs_of(signed["raw"])
    assert (address_to_scriptpubkey(EXCHANGE_BTC).data.hex(), AMOUNT) in outs
    # Two signatures and the witness script in every input's witness (2-of-3 P2WSH).
    tx = Transaction.parse(bytes.fromhex(signed["raw"]))
    assert all(len(i.witness.items) == 4 and i.witness.items[0] == b"" for i in tx.vin)
    follow(server, org, chain, intent_id, txid)
    got = [o for o in chain.get(f"/tx/{txid}")["vout"] if o.get("scriptpubkey_address") == EXCHANGE_BTC]
    assert [o["value"] for o in got] == [AMOUNT]


def test_tampered_psbt_is_refused_by_the_signer_and_reported_by_the_audit(world, chain, tmp_path):
    server, org = world
    fund(server, org, chain, "btc-main", 200_000_000)
    intent_id = approved_intent(org, "btc-main")
    code, built, _ = kura_json("intent", "build", intent_id, "--session", org.login("alice"), "--json")
    # Positive control: the untouched bundle passes the signer's review.
    clean = tmp_path / "clean.bundle.json"
    kura_json("bundle", "get", intent_id, "--signer", "vault-a", "-o", clean, "--session", org.login("alice"),
              "--json")
    review = org.co.signers[0].review(clean)
    assert review.returncode == 0, review.stderr.decode()
    # The attacker, with write access to the coordinator's database, appends an output to the stored PSBT.
    rows = raw_sql(server.database, f"SELECT bytes FROM bundles WHERE intent_id = '{intent_id}'")
    stored = bytes.fromhex(rows.strip()[2:]) if isinstance(rows, str) else rows[0][0]
    doc = json.loads(stored)
    psbt = EmbitPSBT.from_string(doc["transaction"]["psbt"])
    psbt.outputs.append(OutputScope(vout=TransactionOutput(50_000, ATTACKER)))
    doc["transaction"]["psbt"] = base64.b64encode(psbt.serialize()).decode()
    edited = json.dumps(doc, separators=(",", ":")).encode()
    if server.backend == "postgresql":
        raw_sql(server.database, f"UPDATE bundles SET bytes = '\\x{edited.hex()}' WHERE intent_id = '{intent_id}'")
    else:
        raw_sql(server.database, f"UPDATE bundles SET bytes = x'{edited.hex()}' WHERE intent_id = '{intent_id}'")
    tampered = tmp_path / "tampered.bundle.json"
    kura_json("bundle", "get", intent_id, "--signer", "vault-a", "-o", tampered, "--session", org.login("alice"),
              "--json")
    served = EmbitPSBT.from_string(json.loads(tampered.read_text())["transaction"]["psbt"])
    assert served.tx.vout[-1].script_pubkey.data == ATTACKER.data  # the edit is what is served
    before = org.co.signers[0].state()
    r = org.co.signers[0].sign(tampered, tmp_path / "tampered.out")
    code, category = refusal(r)
    assert code != 0 and category == "OUTPUT_UNAUTHORISED", r.stderr.decode()
    assert not (tmp_path / "tampered.out").exists() and org.co.signers[0].state() == before
    # The auditor's offline check names the break.
    export = tmp_path / "audit.json"
    kura_json("audit", "export", "--session", org.login("a1"), "-o", export, "--json")
    code, report, err = kura_json("audit", "verify", export, "--genesis-hash", org.genesis_hash, "--json", check=False)
    assert code == 3 and not report["holds"]
    findings = [f for f in report["findings"] if f["subject"] == intent_id]
    assert {f["code"] for f in findings} == {"bundle.mismatch"}, report["findings"]
    events = {e["sequence"]: e for e in json.loads(export.read_text())["events"]}
    assert all(events[f["sequence"]]["kind"] in ("transaction.built", "bundle.issued") for f in findings)
    assert any(events[f["sequence"]]["kind"] == "transaction.built" for f in findings)


def test_results_the_coordinator_refuses(world, chain, tmp_path):
    """Every refusal on the way from an approved intent to a finalised transaction, each beside the genuine
    request that succeeds (the positive control): the coordinator keeps garbage out of its store even though the
    signer and the auditor would catch it later."""
    server, org = world
    base = f"/v1/orgs/{org.id}"
    alice = org.token("alice")
    fund(server, org, chain, "btc-main", 200_000_000)
    intent_id = org.create_intent(amount=str(AMOUNT), wallet="btc-main")["id"]
    # Not approved yet: nothing to build.
    status, err, _ = server.request("POST", f"{base}/intents/{intent_id}/transaction", {}, token=alice)
    assert status == 409 and err["error"]["code"] == "conflict"
    org.approve(intent_id, "bob")
    org.approve(intent_id, "carol")
    # An admin may build (the role matrix in test_api covers every role on every route).
    status, err, _ = server.request("POST", f"{base}/intents/{intent_id}/transaction", {}, token=org.token("a1"))
    assert status == 201, err
    status, err, _ = server.request("POST", f"{base}/intents/{intent_id}/transaction", {}, token=alice)
    assert status == 409 and "built" in err["error"]["message"]  # built once
    # A bundle for a signer that holds no key of the wallet; then the real one.
    status, err, _ = server.request("GET", f"{base}/intents/{intent_id}/bundle?signer=vault-b", token=alice)
    assert status == 404 and err["error"]["code"] == "not_found"
    status, err, _ = server.request("GET", f"{base}/intents/{intent_id}/bundle", token=alice)
    assert status == 400 and err["error"]["code"] == "malformed"
    signer = org.co.signers[0]
    bundle = tmp_path / "b.json"
    kura_json("bundle", "get", intent_id, "--signer", "vault-a", "-o", bundle, "--session", org.login("alice"))
    out = tmp_path / "signed"
    assert signer.sign(bundle, out).returncode == 0
    psbt_b64 = out.read_text().strip()
    receipt = json.loads((tmp_path / "signed.receipt.json").read_text())

    def upload(psbt=psbt_b64, rcpt=receipt, chain_name="bitcoin"):
        body = {"chain": chain_name, "receipt": rcpt}
        body["psbt" if chain_name == "bitcoin" else "signed"] = psbt
        return server.request("POST", f"{base}/intents/{intent_id}/results", body, token=alice)

    # 1. The PSBT of another transaction (an output changed): refused, whatever its signatures.
    other = EmbitPSBT.from_string(psbt_b64)
    other.outputs[0].value -= 1000
    status, err, _ = upload(base64.b64encode(other.serialize()).decode())
    assert status == 422 and err["error"]["category"] == "INTENT_MISMATCH", err
    # 2. The built PSBT with no signature at all.
    status, err, _ = upload(json.loads(bundle.read_text())["transaction"]["psbt"])
    assert status == 422 and "no valid signature" in err["error"]["message"], err
    # 3. A signature byte flipped.
    bad = EmbitPSBT.from_string(psbt_b64)
    (pub, sig), = bad.inputs[0].partial_sigs.items()
    bad.inputs[0].partial_sigs[pub] = sig[:10] + bytes([sig[10] ^ 1]) + sig[11:]
    status, err, _ = upload(base64.b64encode(bad.serialize()).decode())
    assert status == 422 and "does not verify" in err["error"]["message"], err
    # 4. A receipt whose signature is not the signer's identity key's.
    forged = json.loads(json.dumps(receipt))
    forged["signature"] = forged["signature"][:-2] + ("00" if forged["signature"][-2:] != "00" else "01")
    status, err, _ = upload(rcpt=forged)
    assert status == 422 and err["error"]["category"] == "STATE_INTEGRITY", err
    # 5. A result for the other chain.
    status, err, _ = upload("0x02", chain_name="ethereum")
    assert status == 400 and err["error"]["code"] == "malformed", err
    # 6. Not JSON of the schema.
    status, err, _ = server.request("POST", f"{base}/intents/{intent_id}/results", {"chain": "bitcoin"}, token=alice)
    assert status == 400 and err["error"]["code"] == "malformed"
    # Nothing of the refused uploads was stored.
    status, detail, _ = server.request("GET", f"{base}/intents/{intent_id}", token=alice)
    assert detail["intent"]["state"] == "signing" and detail["receipts"] == []
    # Positive control: the genuine result is recorded and finalises the single-sig transaction.
    status, ok, _ = upload()
    assert status == 201 and ok["receipt"]["signer"] == "vault-a", ok
    status, detail, _ = server.request("GET", f"{base}/intents/{intent_id}", token=alice)
    assert detail["intent"]["state"] == "signed" and len(detail["receipts"]) == 1
    # The same receipt again: the intent takes no more results.
    status, err, _ = upload()
    assert status == 409, err


def test_two_built_intents_never_share_a_coin(world, chain, tmp_path):
    """Coins a built transaction spends are reserved: a second intent of the same wallet, built before the first
    is broadcast, is planned on other coins; both transactions then confirm."""
    server, org = world
    fund(server, org, chain, "btc-main", 150_000_000)
    fund(server, org, chain, "btc-main", 150_000_000)
    first, second = approved_intent(org, "btc-main"), approved_intent(org, "btc-main")
    inputs = []
    for intent_id in (first, second):
        code, built, _ = kura_json("intent", "build", intent_id, "--session", org.login("alice"), "--json")
        psbt = EmbitPSBT.from_string(built["transaction"]["psbt"])
        inputs.append({(i.txid.hex(), i.vout) for i in psbt.inputs})
    assert inputs[0] and inputs[1] and not inputs[0] & inputs[1]
    for intent_id in (first, second):
        assert sign_with(org.co.signers[0], org, intent_id, tmp_path)["state"] == "signed"
        # Broadcast by the coordinator's follow-up.
        wait_for(server, org, intent_id, lambda b: b["state"] == "broadcast", "broadcast by the coordinator")
    chain.mine(2)
    for intent_id in (first, second):
        wait_for(server, org, intent_id, lambda b: b["state"] == "confirmed", "both confirmed")


def test_an_intent_that_expires_before_signing_is_ended_and_its_coins_released(world, chain, tmp_path):
    server, org = world
    fund(server, org, chain, "btc-main", 150_000_000)
    chain.mine()
    # A short-lived intent, approved and built (its coins reserved), then left unsigned past its expiry.
    intent = org.create_intent(amount=str(AMOUNT), wallet="btc-main", extra=("--lifetime", "8"))
    org.approve(intent["id"], "bob")
    org.approve(intent["id"], "carol")
    code, built, _ = kura_json("intent", "build", intent["id"], "--session", org.login("alice"), "--json")
    assert built["state"] == "built"
    reserved = {(i.txid.hex(), i.vout) for i in EmbitPSBT.from_string(built["transaction"]["psbt"]).inputs}
    query = f"SELECT txid, vout FROM coin_reservations WHERE intent_id = '{intent['id']}'"
    rows = raw_sql(server.database, query)
    assert len(rows if isinstance(rows, list) else rows.splitlines()) == len(reserved) > 0, rows
    deadline = time.time() + 30
    while True:
        state = server.request("GET", f"/v1/orgs/{org.id}/intents/{intent['id']}", token=org.token("bob"))[1]
        if state["intent"]["state"] == "expired":
            break
        assert time.time() < deadline, state
        time.sleep(0.2)
    # Its coins are free again: no reservation row is left for it.
    rows = raw_sql(server.database, query)
    assert rows in ([], ""), rows
    events = server.request("GET", f"/v1/orgs/{org.id}/audit?limit=10000", token=org.token("a1"))[1]["events"]
    moves = [e["payload"] for e in events if e["kind"] == "intent.state" and e["subject"] == intent["id"]]
    assert moves[-1]["to"] == "expired" and moves[-1]["from"] == "built", moves


def test_wallet_balances_follow_the_chain(world, chain):
    """The console's dashboard figure for a Bitcoin wallet: the sum of the wallet's unspent outputs, mempool
    included (and shown apart), moving by exactly what the chain received."""
    server, org = world
    path = f"/v1/orgs/{org.id}/wallets/btc-main/balances"

    def balance():
        status, body, _ = server.request("GET", path, token=org.token("bob"))
        assert status == 200, body
        [entry] = body["balances"]
        assert entry["asset"] == "btc"
        return int(entry["amount"]), int(entry["unconfirmed"])

    before, pending_before = balance()
    status, made, _ = server.request("POST", f"/v1/orgs/{org.id}/wallets/btc-main/addresses", {"label": "balance"},
                                     token=org.token("alice"))
    chain.faucet(made["address"]["address"], 12_345_678, confirm=False)
    after, pending = balance()
    assert after == before + 12_345_678 and pending == pending_before + 12_345_678
    chain.mine(1)
    settled, pending_after = balance()
    assert settled == after and pending_after == pending_before
