"""`kura audit verify` against exports built here, independently of Kura: real signed policies,
intents and approvals from the test company (tests/signer/harness.py), real receipts from
`kura-signer sign`, and the audit events hashed IN PYTHON from the construction docs/AUDIT.md
documents (tagged digests with hashlib, canonical JSON with the rfc8785 package). Each tampering is
reported by its finding code at its event sequence, beside the untouched export that verifies."""
import base64
import copy
import hashlib
import json
import pathlib
import sys

import pytest
import rfc8785
from embit.psbt import PSBT as EmbitPSBT

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "signer"))

from conftest import run  # noqa: E402
from harness import DAY, EXCHANGE_BTC, EXIT_TRANSACTION, Company, address_script, refusal  # noqa: E402
from statekit import clone  # noqa: E402

ORG = "acme"
ZERO = bytes(32)


# -- the hash constructions of docs/AUDIT.md, written here from the document ----------------------
def tagged(tag: str, data: bytes) -> str:
    t = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(t + t + data).hexdigest()


def digest(tag: str, doc: dict) -> str:
    return tagged(tag, rfc8785.dumps(doc))


def event_hash(org: str, sequence: int, kind: str, subject: str, at: int, payload: bytes, previous: bytes) -> bytes:
    h = hashlib.sha256()

    def field(b: bytes):
        h.update(len(b).to_bytes(8, "big"))
        h.update(b)

    field(b"kura/audit-event/v1")
    field(org.encode())
    h.update(sequence.to_bytes(8, "big", signed=True))
    field(kind.encode())
    field(subject.encode())
    h.update(at.to_bytes(8, "big", signed=True))
    field(payload)
    h.update(previous)
    return h.digest()


def chain(org: str, entries, start_at: int):
    """Events (sequence from 1) from (kind, subject, payload) triples, each hashed and linked."""
    events, previous = [], ZERO
    for i, (kind, subject, payload) in enumerate(entries):
        seq, at = i + 1, start_at + i
        h = event_hash(org, seq, kind, subject, at, rfc8785.dumps(payload), previous)
        events.append({"sequence": seq, "kind": kind, "subject": subject, "at": at, "payload": payload,
                       "previousHash": previous.hex(), "hash": h.hex()})
        previous = h
    return events


def rehash(export, start=1):
    """Recomputes every hash and link from event `start` on, as an attacker with database access would."""
    previous = bytes.fromhex(export["events"][start - 2]["hash"]) if start > 1 else ZERO
    for e in export["events"][start - 1:]:
        e["previousHash"] = previous.hex()
        previous = event_hash(export["organization"], e["sequence"], e["kind"], e["subject"], e["at"],
                              rfc8785.dumps(e["payload"]), previous)
        e["hash"] = previous.hex()


def load(path) -> dict:
    return json.loads(pathlib.Path(path).read_text())


# -- the company, its documents and a signer's receipts ------------------------------------------
class World:
    """Two policy versions; three intents (two signed by vault-a, one rejected); the export the
    coordinator would write for them; and a third receipt the coordinator never saw."""

    def __init__(self, tmp: pathlib.Path):
        self.co = co = Company(tmp)
        self.vault = co.signers[0]
        self.fresh = clone(self.vault, tmp / "vault-a-fresh")  # the same signer before it signed anything
        # Version 2: a routine change (a longer intent lifetime), signed by two admins of version 1.
        v2 = co.policy_doc(version=2)
        v2["rules"]["maxIntentLifetime"] = 2 * DAY
        co.chain.append(co.signed_policy(v2, ["a1", "a2"], "v2", current=co.genesis))
        self.policies = [load(p) for p in co.chain]
        self.genesis = digest("kura/policy/v1", self.policies[0]["policy"])
        assert self.genesis == co.genesis_hash  # our tagged digest agrees with `kura policy hash`

        self.flows = []
        last = None
        for amount, approver in (("50000000", "bob"), ("20000000", "carol")):
            intent = co.intent(amount=amount)
            approval = co.approve(intent, approver)
            psbt = co.psbt("btc-main", intent)
            # After its first signature the signer's accepted version is 2: later chains start there.
            bundle = co.bundle(intent, [approval], psbt=psbt, last_receipt=last, chain=co.chain[-1:] if last else None)
            out = tmp / f"signed-{len(self.flows)}.psbt"
            r = self.vault.sign(bundle, out)
            assert r.returncode == 0, r.stderr.decode()
            last = load(str(out) + ".receipt.json")
            self.flows.append({"intent": load(intent), "approval": load(approval), "psbt": psbt,
                               "bundle_file": bundle, "bundle": bundle.read_bytes(), "receipt": last,
                               "receipt_file": pathlib.Path(str(out) + ".receipt.json")})
        rejected = co.intent(amount="30000000")
        self.rejected = {"intent": load(rejected), "approval": load(co.approve(rejected, "dave", reject=True))}
        # A signature the coordinator never hears of (its intent was never submitted to it).
        extra = co.intent(amount="1000000")
        extra_bundle = co.bundle(extra, [co.approve(extra, "bob")], psbt=co.psbt("btc-main", extra), last_receipt=last,
                                 chain=co.chain[-1:])
        r = self.vault.sign(extra_bundle, tmp / "stray.psbt")
        assert r.returncode == 0, r.stderr.decode()
        self.stray_receipt = tmp / "stray.psbt.receipt.json"
        self.export = self.build()
        self.sequences = {}
        for e in self.export["events"]:
            self.sequences.setdefault((e["kind"], e["subject"]), []).append(e["sequence"])

    def build(self) -> dict:
        entries = [("organization.bootstrapped", ORG, {"genesis": self.genesis, "name": "Acme"})]
        for p in self.policies:
            v = p["policy"]["version"]
            entries.append(("policy.appended", str(v), {"version": v, "hash": digest("kura/policy/v1", p["policy"])}))
        entries.append(("token.issued", "alice", {"token": "tok-1"}))

        def submitted(signed):
            i = signed["intent"]
            return ("intent.submitted", i["id"], {
                "digest": digest("kura/intent/v1", i), "initiator": i["initiator"], "wallet": i["wallet"],
                "asset": i["asset"], "amount": i["amount"], "destination": i["destination"]["address"]})

        def approved(intent_id, signed):
            a = signed["approval"]
            return ("approval.recorded", intent_id, {"approver": a["approver"], "decision": a["decision"],
                                                     "digest": digest("kura/approval/v1", a)})

        def state(intent_id, a, b):
            return ("intent.state", intent_id, {"from": a, "to": b})

        intents, approvals, bundles, receipts = [], [], [], []
        for f in self.flows:
            iid = f["intent"]["intent"]["id"]
            r = f["receipt"]["receipt"]
            entries += [
                submitted(f["intent"]), approved(iid, f["approval"]), state(iid, "awaitingApprovals", "approved"),
                ("transaction.built", iid, {"chain": "bitcoin",
                                            "sha256": hashlib.sha256(base64.b64decode(f["psbt"])).hexdigest()}),
                state(iid, "approved", "built"),
                ("bundle.issued", iid, {"sha256": hashlib.sha256(f["bundle"]).hexdigest()}),
                state(iid, "built", "signing"),
                ("receipt.recorded", iid, {"signer": r["signer"], "sequence": r["sequence"],
                                           "digest": digest("kura/receipt/v1", r), "intent": r["intent"]}),
                state(iid, "signing", "signed"),
            ]
            intents.append({"id": iid, "document": f["intent"]})
            approvals.append({"intent": iid, "document": f["approval"]})
            bundles.append({"intent": iid, "sha256": hashlib.sha256(f["bundle"]).hexdigest(),
                            "transaction": {"chain": "bitcoin", "psbt": f["psbt"]}})
            receipts.append(f["receipt"])
        rid = self.rejected["intent"]["intent"]["id"]
        entries += [submitted(self.rejected["intent"]), approved(rid, self.rejected["approval"]),
                    state(rid, "awaitingApprovals", "rejected"),
                    ("member.note", "alice", {"text": "an event kind this build does not know"}),
                    ("token.revoked", "alice", {"token": "tok-1"})]
        intents.append({"id": rid, "document": self.rejected["intent"]})
        approvals.append({"intent": rid, "document": self.rejected["approval"]})
        return {
            "kind": "kura.audit-export", "format": 1, "organization": ORG, "genesis": self.genesis,
            "exportedAt": self.co.now + 1000, "events": chain(ORG, entries, self.co.now),
            "documents": {"policies": self.policies, "intents": intents, "approvals": approvals, "bundles": bundles,
                          "receipts": receipts},
        }

    def seq(self, kind, subject, n=0):
        return self.sequences[(kind, subject)][n]

    def intent_id(self, n):
        return self.flows[n]["intent"]["intent"]["id"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return World(tmp_path_factory.mktemp("audit"))


def verify(export, tmp_path, *args, name="export.json", raw: bytes | None = None):
    f = tmp_path / name
    f.write_bytes(raw if raw is not None else json.dumps(export).encode())
    r = run("kura", "audit", "verify", f, "--json", *args)
    report = json.loads(r.stdout) if r.returncode in (0, 3) else None
    return r, report


def findings(report):
    return sorted((f["code"], f["sequence"]) for f in report["findings"])


def assert_clean(world, tmp_path, *args):
    r, report = verify(world.export, tmp_path, *args, name="clean.json")
    assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()
    assert report["holds"] and report["findings"] == []
    return report


# -- the clean export ----------------------------------------------------------------------------
def test_clean_export_verifies_with_the_pinned_genesis_and_the_signers_receipts(world, tmp_path):
    report = assert_clean(world, tmp_path, "--genesis-hash", world.genesis,
                          "--receipt", world.flows[0]["receipt_file"], "--receipt", world.flows[1]["receipt_file"])
    n = len(world.export["events"])
    assert report["genesisPinned"] is True
    assert (report["events"], report["policies"], report["verifiedPolicies"]) == (n, 2, 2)
    assert (report["intents"], report["approvals"], report["bundles"], report["receipts"]) == (3, 3, 2, 2)
    assert report["head"] == {"sequence": n, "hash": world.export["events"][-1]["hash"]}
    # The human summary says the same.
    f = tmp_path / "plain.json"
    f.write_text(json.dumps(world.export))
    r = run("kura", "audit", "verify", f)
    out = r.stdout.decode()
    assert r.returncode == 0 and "the log holds" in out and f"checked: {n} events, 2/2 policies" in out, out
    assert "taken from the export" in out  # not pinned here


def test_another_pinned_genesis_is_a_finding(world, tmp_path):
    assert_clean(world, tmp_path, "--genesis-hash", world.genesis)
    r, report = verify(world.export, tmp_path, "--genesis-hash", "ab" * 32)
    assert r.returncode == 3 and findings(report) == [("genesis.mismatch", None)]


# -- the hash chain --------------------------------------------------------------------------------
def test_an_edited_event_breaks_the_chain_at_that_event(world, tmp_path):
    assert_clean(world, tmp_path)
    iid = world.intent_id(0)
    s = world.seq("intent.submitted", iid)
    edited = copy.deepcopy(world.export)
    edited["events"][s - 1]["payload"]["amount"] = "99000000"
    r, report = verify(edited, tmp_path)
    assert r.returncode == 3, r.stderr.decode()
    # The link breaks at the edited event, and what it now says contradicts the stored intent.
    assert findings(report) == [("chain.broken", s), ("intent.mismatch", s)]
    broken = report["findings"][0]
    assert broken["subject"] == iid and "it was edited" in broken["reason"]
    assert "amount" in report["findings"][1]["reason"]
    # Rehashing the edited event alone moves the break to the next link.
    rehashed = copy.deepcopy(edited)
    e = rehashed["events"][s - 1]
    e["hash"] = event_hash(ORG, e["sequence"], e["kind"], e["subject"], e["at"], rfc8785.dumps(e["payload"]),
                           bytes.fromhex(e["previousHash"])).hex()
    r, report = verify(rehashed, tmp_path)
    assert r.returncode == 3 and findings(report) == [("chain.broken", s + 1), ("intent.mismatch", s)]
    assert "does not name event" in next(f for f in report["findings"] if f["code"] == "chain.broken")["reason"]


def test_a_dropped_event_breaks_the_chain(world, tmp_path):
    assert_clean(world, tmp_path)
    s = world.seq("token.issued", "alice")
    dropped = copy.deepcopy(world.export)
    del dropped["events"][s - 1]
    r, report = verify(dropped, tmp_path)
    assert r.returncode == 3 and findings(report) == [("chain.broken", s + 1)]
    assert f"event {s} is missing" in report["findings"][0]["reason"]


def test_reordered_events_break_the_chain(world, tmp_path):
    assert_clean(world, tmp_path)
    iid = world.intent_id(1)
    s = world.seq("transaction.built", iid)
    swapped = copy.deepcopy(world.export)
    ev = swapped["events"]
    ev[s - 1], ev[s] = ev[s], ev[s - 1]
    r, report = verify(swapped, tmp_path)
    assert r.returncode == 3 and ("chain.broken", s + 1) in findings(report)
    assert "out of order" in next(f for f in report["findings"] if f["code"] == "chain.broken")["reason"]
    # Two state changes swapped, renumbered and rehashed: the chain holds, the intent's lifecycle does not.
    careful = copy.deepcopy(world.export)
    ev = careful["events"]
    assert [ev[i]["payload"] for i in (s, s + 2)] == [{"from": "approved", "to": "built"},
                                                       {"from": "built", "to": "signing"}]
    ev[s], ev[s + 2] = ev[s + 2], ev[s]
    for i, e in enumerate(ev):
        e["sequence"] = i + 1
    rehash(careful)
    r, report = verify(careful, tmp_path)
    # Each later change of that intent no longer follows from the one before it.
    assert r.returncode == 3 and findings(report) == [("intent.state", s + n) for n in (1, 3, 5)]
    assert "moves intent" in report["findings"][0]["reason"]


# -- stored documents ------------------------------------------------------------------------------
def test_an_edited_intent_row_is_refused_by_the_signer_and_reported(world, tmp_path):
    assert_clean(world, tmp_path)
    f = world.flows[0]
    iid = world.intent_id(0)
    s = world.seq("intent.submitted", iid)
    edited = copy.deepcopy(world.export)
    edited["documents"]["intents"][0]["document"]["intent"]["destination"]["address"] = (
        "bcrt1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qzf4jry")
    r, report = verify(edited, tmp_path)
    assert r.returncode == 3 and findings(report) == [("intent.mismatch", s), ("intent.signature", s)]
    mismatch = report["findings"][0]
    assert mismatch["subject"] == iid
    assert f"intent {iid}'s stored document does not match the digest recorded at event {s}" in mismatch["reason"]
    assert "destination" in mismatch["reason"]
    # The signer, handed a bundle built from that row, refuses it; the untouched bundle reviews.
    bundle = json.loads(f["bundle"])
    assert world.fresh.review(f["bundle_file"]).returncode == 0
    bundle["intent"] = edited["documents"]["intents"][0]["document"]
    tampered = tmp_path / "tampered-intent-bundle.json"
    tampered.write_bytes(rfc8785.dumps(bundle))
    code, category = refusal(world.fresh.review(tampered))
    assert code != 0 and category == "APPROVAL_INVALID"


def test_an_edited_psbt_is_refused_by_the_signer_and_reported(world, tmp_path):
    assert_clean(world, tmp_path)
    f = world.flows[1]
    iid = world.intent_id(1)
    s = world.seq("transaction.built", iid)
    psbt = EmbitPSBT.from_base64(f["psbt"])
    change = [o for o in psbt.outputs if o.script_pubkey.data.hex() != address_script(EXCHANGE_BTC)]
    assert len(change) == 1
    change[0].value -= 1_000_000  # a larger fee, taken from the change
    edited_psbt = psbt.to_base64()
    edited = copy.deepcopy(world.export)
    edited["documents"]["bundles"][1]["transaction"]["psbt"] = edited_psbt
    r, report = verify(edited, tmp_path)
    assert r.returncode == 3 and findings(report) == [("bundle.mismatch", s)]
    assert f"does not match the transaction recorded at event {s}" in report["findings"][0]["reason"]
    # The signer refuses the edited PSBT in the bundle (the fee above the intent's cap).
    bundle = json.loads(f["bundle"])
    bundle["transaction"]["psbt"] = edited_psbt
    bundle["policies"] = world.policies  # the fresh copy of the signer has accepted only the genesis
    del bundle["lastReceipt"]
    tampered = tmp_path / "tampered-psbt-bundle.json"
    tampered.write_bytes(rfc8785.dumps(bundle))
    code, category = refusal(world.fresh.review(tampered))
    assert code == EXIT_TRANSACTION and category == "FEE_EXCESSIVE", (code, category)


def test_an_edited_approval_and_a_bundle_hash_are_reported(world, tmp_path):
    assert_clean(world, tmp_path)
    iid = world.intent_id(0)
    edited = copy.deepcopy(world.export)
    edited["documents"]["approvals"][0]["document"]["approval"]["time"] += 1
    edited["documents"]["bundles"][0]["sha256"] = "00" * 32
    r, report = verify(edited, tmp_path)
    assert r.returncode == 3
    assert findings(report) == sorted([
        ("approval.mismatch", world.seq("approval.recorded", iid)),
        ("approval.signature", None),
        ("bundle.mismatch", world.seq("bundle.issued", iid)),
    ])


# -- reconciliation with the signers' receipts ----------------------------------------------------
def test_a_forged_receipt_is_reported(world, tmp_path):
    assert_clean(world, tmp_path)
    iid = world.intent_id(1)
    s = world.seq("receipt.recorded", iid)
    forged = copy.deepcopy(world.export)
    receipt = forged["documents"]["receipts"][1]
    receipt["receipt"]["transaction"] = "00" * 32  # another transaction, the signature left as it was
    # A careful forger records the forged receipt's digest and rehashes the chain from there.
    forged["events"][s - 1]["payload"]["digest"] = digest("kura/receipt/v1", receipt["receipt"])
    rehash(forged, s)
    r, report = verify(forged, tmp_path)
    assert r.returncode == 3 and findings(report) == [("receipt.signature", s)]
    assert "is not signed by vault-a's identity key" in report["findings"][0]["reason"]
    # The genuine receipt from the signer, given beside it, is one the log never recorded.
    r, report = verify(forged, tmp_path, "--receipt", world.flows[1]["receipt_file"])
    assert r.returncode == 3 and findings(report) == [("receipt.signature", s), ("receipt.unrecorded", None)]


def test_a_receipt_the_log_does_not_record_is_reported(world, tmp_path):
    assert_clean(world, tmp_path, "--receipt", world.flows[1]["receipt_file"])
    # The coordinator's log omits the event of a receipt it holds (rehashed: the chain holds).
    iid = world.intent_id(1)
    s = world.seq("receipt.recorded", iid)
    omitted = copy.deepcopy(world.export)
    del omitted["events"][s - 1]
    for e in omitted["events"][s - 1:]:
        e["sequence"] -= 1
    rehash(omitted, s)
    r, report = verify(omitted, tmp_path)
    assert r.returncode == 3 and findings(report) == [("receipt.unrecorded", None)], report["findings"]
    assert report["findings"][0]["subject"] == "vault-a#2"
    # A signer's receipt the coordinator never saw: a signature for an intent the log never shows.
    r, report = verify(world.export, tmp_path, "--receipt", world.stray_receipt)
    assert r.returncode == 3
    assert findings(report) == [("receipt.intent", None), ("receipt.unrecorded", None)], report["findings"]
    assert {f["subject"] for f in report["findings"]} == {"vault-a#3"}


def test_a_receipt_event_with_no_receipt_is_reported(world, tmp_path):
    assert_clean(world, tmp_path)
    iid = world.intent_id(1)
    s = world.seq("receipt.recorded", iid)
    missing = copy.deepcopy(world.export)
    del missing["documents"]["receipts"][1]
    r, report = verify(missing, tmp_path)
    assert r.returncode == 3 and findings(report) == [("receipt.missing", s)]
    assert report["findings"][0]["subject"] == "vault-a#2"
    # The signer's own copy, given separately, reconciles it.
    r, report = verify(missing, tmp_path, "--receipt", world.flows[1]["receipt_file"])
    assert r.returncode == 0 and report["holds"], report["findings"]


def test_a_gap_in_a_signers_receipts_is_reported(world, tmp_path):
    assert_clean(world, tmp_path)
    # Receipt 1 and its event gone (rehashed): receipt 2 chains to a signature the log does not show.
    iid = world.intent_id(0)
    s = world.seq("receipt.recorded", iid)
    gap = copy.deepcopy(world.export)
    del gap["documents"]["receipts"][0]
    del gap["events"][s - 1]
    for e in gap["events"][s - 1:]:
        e["sequence"] -= 1
    rehash(gap, s)
    r, report = verify(gap, tmp_path)
    s2 = world.seq("receipt.recorded", world.intent_id(1)) - 1
    assert r.returncode == 3 and findings(report) == [("receipt.gap", s2)], report["findings"]


# -- malformed input -------------------------------------------------------------------------------
@pytest.mark.parametrize("mutate, message", [
    (lambda e: e.update(format=2), "export.format is not 1"),
    (lambda e: e.update(extra=1), 'unknown field "extra"'),
    (lambda e: e["events"][0].update(hash="AB" * 32), "export.events[0].hash is not 64 lowercase hex digits"),
    (lambda e: e["events"][0].update(payload=[1]), "export.events[0].payload: expected an object"),
    (lambda e: e["documents"]["bundles"][0]["transaction"].update(psbt="not base64"), "is not canonical base64"),
])
def test_malformed_exports_exit_2_with_a_clear_error(world, tmp_path, mutate, message):
    assert_clean(world, tmp_path)
    bad = copy.deepcopy(world.export)
    mutate(bad)
    r, _ = verify(bad, tmp_path)
    assert r.returncode == 2 and message in r.stderr.decode(), r.stderr.decode()
    assert r.stdout == b""


def test_truncated_export_and_bad_receipt_files_exit_2(world, tmp_path):
    raw = json.dumps(world.export).encode()
    r, _ = verify(None, tmp_path, raw=raw)
    assert r.returncode == 0
    r, _ = verify(None, tmp_path, raw=raw[:-1])
    assert r.returncode == 2 and "malformed input: MALFORMED" in r.stderr.decode(), r.stderr.decode()
    bad = tmp_path / "bad-receipt.json"
    bad.write_text(json.dumps({"receipt": {"kind": "kura.receipt"}, "signature": "00"}))
    r, _ = verify(None, tmp_path, "--receipt", bad, raw=raw)
    assert r.returncode == 2 and "bad-receipt.json" in r.stderr.decode(), r.stderr.decode()
    r, _ = verify(None, tmp_path, "--receipt", tmp_path / "absent.json", raw=raw)
    assert r.returncode == 2 and "cannot read" in r.stderr.decode(), r.stderr.decode()
