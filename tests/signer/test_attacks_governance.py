"""ATTACKS.md §4.1 (G), §4.4 (R) and §4.5 (D) against the built `kura-signer`: every mutated bundle is
refused with its named category, writes nothing, and leaves the signer's home byte-identical; beside
each, a positive control signs. The documents are made with `kura` (as the company's people would)
or edited as plain JSON (as an attacker on the coordinator would)."""
import copy
import json
import time

import pytest

from harness import DAY, EXIT_GOVERNANCE, EXIT_MALFORMED, SUPPLIER_BTC, Company, refusal
from conftest import run


@pytest.fixture
def co(tmp_path):
    return Company(tmp_path)


def refused(co, signer, bundle, category, exit_code=EXIT_GOVERNANCE):
    """Signs `bundle`, expects the refusal, and checks that nothing was written or changed."""
    out = co.dir / f"refused-{bundle.stem}.out"
    before = signer.state()
    r = signer.sign(bundle, out)
    assert refusal(r) == (exit_code, category), r.stderr.decode()
    assert not out.exists() and not out.with_name(out.name + ".receipt.json").exists()
    assert signer.state() == before
    # Review says the same, in JSON for machines.
    rv = signer.review(bundle)
    assert rv.returncode == exit_code
    assert json.loads(rv.stdout)["refusals"][0]["category"] == category
    return r


def signs(co, signer, bundle):
    out = co.dir / f"signed-{bundle.stem}.out"
    r = signer.sign(bundle, out)
    assert r.returncode == 0, r.stderr.decode()
    assert out.exists() and out.with_name(out.name + ".receipt.json").exists()
    return json.loads(out.with_name(out.name + ".receipt.json").read_text())


def transfer(co, amount="50000000", approvers=("bob",), wallet="btc-main", **kw):
    intent = co.intent(wallet=wallet, amount=amount, **kw)
    approvals = [co.approve(intent, a) for a in approvers]
    return intent, approvals


def btc_bundle(co, intent, approvals, values=(40_000_000, 30_000_000), wallet="btc-main", **kw):
    return co.bundle(intent, approvals, psbt=co.psbt(wallet, intent, values=values), **kw)


def sign_intent_doc(co, doc, name):
    """Alice signs whatever intent document she is shown (the coordinator prepared it)."""
    unsigned = co.dir / f"{name}.json"
    unsigned.write_text(json.dumps(doc))
    signed = co.dir / f"{name}.signed.json"
    run("kura", "intent", "sign", unsigned, "--key", co.dir / "alice.key", "--credential", "alice-key", "--out", signed,
        check=True)
    return signed


def update(co, admins, name, adopt=True, **changes):
    """A new policy version proposed from the current one with `changes`, signed by `admins`."""
    doc = co.policy_doc(version=len(co.chain) + 1)
    prev = json.loads(co.chain[-1].read_text())["policy"]
    for k in ("members", "signers", "assets", "wallets", "addressBook", "rules", "governance"):
        doc[k] = copy.deepcopy(prev[k])
    doc.update(changes)
    p = co.signed_policy(doc, admins, name, current=co.chain[-1])
    if adopt:
        co.chain.append(p)
    return p


def with_supplier(co, usable_from):
    book = copy.deepcopy(json.loads(co.chain[-1].read_text())["policy"]["addressBook"])
    book.append({"id": "supplier", "asset": "btc", "address": SUPPLIER_BTC, "label": "Supplier", "usableFrom": usable_from})
    return book


# -- §4.1 Governance ---------------------------------------------------------------------------

def test_G01_older_correctly_signed_policy_after_a_newer_one(co):
    vault = co.signers[0]
    genesis_only = list(co.chain)
    a, a_approvals = transfer(co)
    c, c_approvals = transfer(co)  # also made under v1, kept back by the coordinator
    signs(co, vault, btc_bundle(co, a, a_approvals))  # positive control under v1
    update(co, ["a1", "a2"], "v2", created=co.now - DAY, effectiveFrom=co.now - DAY)
    b, b_approvals = transfer(co)
    signs(co, vault, btc_bundle(co, b, b_approvals))  # the signer has now seen v2
    refused(co, vault, btc_bundle(co, c, c_approvals, chain=genesis_only), "POLICY_ROLLBACK")


def test_G02_update_short_of_a_quorum_of_distinct_admins(co):
    vault = co.signers[0]
    intent, approvals = transfer(co)
    when = dict(created=co.now - DAY, effectiveFrom=co.now - DAY)
    one = update(co, ["a1"], "v2-one", adopt=False, **when)
    refused(co, vault, btc_bundle(co, intent, approvals, chain=co.chain + [one]), "POLICY_INVALID")
    # One admin's signature filling two slots.
    doc = json.loads(one.read_text())
    doc["signatures"] = doc["signatures"] * 2
    twice = co.dir / "v2-twice.json"
    twice.write_text(json.dumps(doc))
    refused(co, vault, btc_bundle(co, intent, approvals, chain=co.chain + [twice]), "POLICY_INVALID")
    # Positive control: two distinct admins.
    update(co, ["a1", "a3"], "v2-good", **when)
    intent, approvals = transfer(co)  # made under the new version
    signs(co, vault, btc_bundle(co, intent, approvals))


def test_G03_self_authorising_admin_swap(co):
    vault = co.signers[0]
    members = copy.deepcopy(json.loads(co.chain[-1].read_text())["policy"]["members"])
    for i, who in enumerate(["m1", "m2", "m3"]):
        out = run("kura", "keys", "new", "--out", co.dir / f"{who}.key", "--credential-id", f"{who}-key", check=True)
        members[i] = {"id": f"a{i + 1}", "name": f"Intruder {i}", "roles": ["admin"], "credentials": [json.loads(out.stdout)]}
    created, effective = co.now - 3 * DAY, co.now - DAY
    doc = co.policy_doc(version=2, members=members, created=created, effectiveFrom=effective)
    swapped = co.signed_policy(doc, [], "v2-swapped", current=co.chain[-1])
    for i, who in enumerate(["m1", "m2", "m3"]):
        run("kura", "policy", "sign", swapped, "--key", co.dir / f"{who}.key", "--member", f"a{i + 1}", "--credential",
            f"{who}-key", check=True)
    intent, approvals = transfer(co)  # alice's intent; the coordinator then slips in the swapped policy
    co.chain.append(swapped)
    refused(co, vault, btc_bundle(co, intent, approvals), "POLICY_INVALID")
    # Positive control: the same change signed by the previous admins, at the high quorum, after the delay.
    legit = co.signed_policy(doc, ["a1", "a2", "a3"], "v2-legit", current=co.chain[0])
    co.chain[-1] = legit
    intent, approvals = transfer(co)
    signs(co, vault, btc_bundle(co, intent, approvals))


def test_G04_approval_by_a_key_not_in_the_policy(co):
    vault = co.signers[0]
    intent = co.intent()
    # Mallory is not a member at all.
    foreign = co.approve(intent, "mallory")
    refused(co, vault, co.bundle(intent, [foreign], psbt=co.psbt("btc-main", intent)), "APPROVAL_INVALID")
    # Bob's name with Mallory's key.
    forged = co.dir / "forged.json"
    run("kura", "approve", intent, *co.chain_args(), "--key", co.dir / "mallory.key", "--member", "bob", "--credential",
        "bob-key", "--out", forged, check=True)
    refused(co, vault, co.bundle(intent, [forged], psbt=co.psbt("btc-main", intent)), "APPROVAL_INVALID")
    # Dave leaves in v2 (still in the coordinator's database); his approval is refused under v2.
    members = [m for m in json.loads(co.chain[-1].read_text())["policy"]["members"] if m["id"] != "dave"]
    update(co, ["a1", "a2"], "v2", created=co.now - DAY, effectiveFrom=co.now - DAY, members=members)
    intent2 = co.intent()
    refused(co, vault, co.bundle(intent2, [co.approve(intent2, "dave")], psbt=co.psbt("btc-main", intent2)),
            "APPROVAL_INVALID")
    # Positive control: a current approver.
    signs(co, vault, co.bundle(intent2, [co.approve(intent2, "carol")], psbt=co.psbt("btc-main", intent2)))


def test_G05_approvals_of_another_intent(co):
    vault = co.signers[0]
    x, x_approvals = transfer(co, amount="50000000")
    y = co.intent(amount="50000000")  # same amount; its own id and nonce
    refused(co, vault, co.bundle(y, x_approvals, psbt=co.psbt("btc-main", y)), "APPROVAL_MISMATCH")
    signs(co, vault, co.bundle(x, x_approvals, psbt=co.psbt("btc-main", x)))


def test_G06_two_votes_from_one_human(co):
    vault = co.signers[0]
    intent = co.intent(amount="500000000")  # 5 BTC: two approvals
    bob1 = co.approve(intent, "bob")
    time.sleep(1.1)  # a second approval by the same person, a second later
    bob2 = co.approve(intent, "bob")
    assert bob1.read_bytes() != bob2.read_bytes()
    refused(co, vault, co.bundle(intent, [bob1, bob2], psbt=co.psbt("btc-main", intent, values=(400_000_000, 300_000_000))),
            "APPROVAL_INVALID")
    # Two member records bound to one key: the policy itself is refused.
    members = copy.deepcopy(json.loads(co.chain[-1].read_text())["policy"]["members"])
    bob = next(m for m in members if m["id"] == "bob")
    members.append({"id": "bob2", "name": "Bob again", "roles": ["approver"], "credentials": bob["credentials"]})
    doc = co.policy_doc(version=2, members=members, created=co.now - DAY, effectiveFrom=co.now - DAY)
    f = co.dir / "v2-twin.doc.json"
    f.write_text(json.dumps(doc))
    r = run("kura", "policy", "propose", f, "--out", co.dir / "v2-twin.json", "--current", co.chain[-1])
    assert r.returncode == 3 and b"POLICY_INVALID" in r.stderr and not (co.dir / "v2-twin.json").exists()
    # Positive control: two people.
    signs(co, vault, co.bundle(intent, [bob1, co.approve(intent, "carol")],
                               psbt=co.psbt("btc-main", intent, values=(400_000_000, 300_000_000))))


def test_G07_merged_approval_sets(co):
    vault = co.signers[0]
    original = co.intent(amount="500000000")
    doc = json.loads(original.read_text())["intent"]
    doc["amount"], doc["id"], doc["nonce"] = "900000000", doc["id"] + "x", "ab" * 32
    modified = sign_intent_doc(co, doc, "modified")
    merged = [co.approve(modified, "bob"), co.approve(original, "carol"), co.approve(original, "dave")]
    values = (600_000_000, 500_000_000)
    refused(co, vault, co.bundle(modified, merged, psbt=co.psbt("btc-main", modified, values=values)), "APPROVAL_INVALID")
    signs(co, vault, co.bundle(original, merged[1:], psbt=co.psbt("btc-main", original, values=values)))


def test_G08_address_book_time_lock(co):
    vault = co.signers[0]
    created = co.now - DAY
    update(co, ["a1", "a2"], "v2", created=created, effectiveFrom=created,
           addressBook=with_supplier(co, created + 2 * DAY))
    intent = co.intent(to="supplier")
    refused(co, vault, co.bundle(intent, [co.approve(intent, "bob")], psbt=co.psbt("btc-main", intent)), "TIMELOCK_PENDING")
    # Backdating the entry in the next document the admins sign does not work either: that update is refused.
    book = copy.deepcopy(json.loads(co.chain[-1].read_text())["policy"]["addressBook"])
    book[-1]["usableFrom"] = co.now - 60
    early = update(co, ["a1", "a2"], "v3", adopt=False, created=co.now - 60, effectiveFrom=co.now - 60, addressBook=book)
    refused(co, vault, co.bundle(intent, [co.approve(intent, "bob")], psbt=co.psbt("btc-main", intent),
                                 chain=co.chain + [early]), "POLICY_INVALID")
    # Positive control: an entry whose delay has passed.
    ok = co.intent()
    signs(co, vault, co.bundle(ok, [co.approve(ok, "bob")], psbt=co.psbt("btc-main", ok)))


def test_G09_destination_not_in_the_signed_address_book(co):
    vault = co.signers[0]
    good = co.intent()
    doc = json.loads(good.read_text())["intent"]
    for name, entry in (("injected", {"entry": "injected", "address": SUPPLIER_BTC}),
                        ("swapped", {"entry": "exchange", "address": SUPPLIER_BTC})):
        d = dict(doc, destination=entry, id=doc["id"] + name[0], nonce=name[0].encode().hex() * 32)
        bad = sign_intent_doc(co, d, name)
        pay = [{"script": __import__("harness").address_script(SUPPLIER_BTC), "value": int(d["amount"])}]
        refused(co, vault, co.bundle(bad, [co.approve(bad, "bob")], psbt=co.psbt("btc-main", bad, payments=pay)),
                "ALLOWLIST_MISS")
    signs(co, vault, co.bundle(good, [co.approve(good, "bob")], psbt=co.psbt("btc-main", good)))


def _without_vault(co):
    prev = json.loads(co.chain[-1].read_text())["policy"]
    wallets = [w for w in prev["wallets"] if w["id"] != "btc-vault"]
    rules = copy.deepcopy(prev["rules"])
    rules["transfers"] = [t for t in rules["transfers"] if t["wallet"] != "btc-vault"]
    return dict(wallets=wallets, rules=rules)


def test_G10_key_material_change_at_the_routine_threshold(co):
    vault = co.signers[0]
    intent, approvals = transfer(co)
    # Routine threshold (2 of 3) after the delay; high threshold without the delay; high threshold
    # before its effective time.
    for admins, created, effective, name, category in (
        (["a1", "a2"], co.now - 3 * DAY, co.now - DAY, "routine", "POLICY_INVALID"),
        (["a1", "a2", "a3"], co.now - DAY, co.now - DAY, "nodelay", "POLICY_INVALID"),
        (["a1", "a2", "a3"], co.now - DAY, co.now + DAY, "pending", "TIMELOCK_PENDING"),
    ):
        v2 = update(co, admins, f"v2-{name}", adopt=False, created=created, effectiveFrom=effective, **_without_vault(co))
        refused(co, vault, btc_bundle(co, intent, approvals, chain=co.chain + [v2]), category)
    # Positive control: high threshold, after the delay.
    update(co, ["a1", "a2", "a3"], "v2-good", created=co.now - 3 * DAY, effectiveFrom=co.now - DAY, **_without_vault(co))
    good, good_approvals = transfer(co)
    signs(co, vault, btc_bundle(co, good, good_approvals))


def test_G11_withheld_update_lets_the_policy_expire(co):
    vault = co.signers[0]
    intent, approvals = transfer(co)
    # The coordinator keeps serving v2, whose validity ended; v3 (withheld) would have renewed it.
    expired = update(co, ["a1", "a2"], "v2", adopt=False, created=co.now - 3 * DAY, effectiveFrom=co.now - 3 * DAY,
                     expires=co.now - 60)
    refused(co, vault, btc_bundle(co, intent, approvals, chain=co.chain + [expired]), "POLICY_ROLLBACK")
    signs(co, vault, btc_bundle(co, intent, approvals))


# -- §4.4 Replay and ordering ------------------------------------------------------------------

def test_R01_executed_intent_resubmitted(co):
    vault = co.signers[0]
    intent, approvals = transfer(co)
    signs(co, vault, btc_bundle(co, intent, approvals))
    # The same intent again, with other coins.
    refused(co, vault, co.bundle(intent, approvals, psbt=co.psbt("btc-main", intent, coins=((0, 7), (0, 8)))), "REPLAY")
    # A new intent id reusing the executed intent's nonce.
    doc = json.loads(intent.read_text())["intent"]
    again = sign_intent_doc(co, dict(doc, id=doc["id"] + "r"), "reused-nonce")
    refused(co, vault, co.bundle(again, [co.approve(again, "bob")], psbt=co.psbt("btc-main", again)), "REPLAY")
    # Positive control: a fresh intent.
    fresh, fresh_approvals = transfer(co)
    signs(co, vault, btc_bundle(co, fresh, fresh_approvals))


def test_R02_intent_past_its_expiry(co):
    vault = co.signers[0]
    short, approvals = transfer(co, lifetime=2)
    bundle = btc_bundle(co, short, approvals)
    time.sleep(3)
    refused(co, vault, bundle, "REPLAY")
    intent, approvals = transfer(co)
    signs(co, vault, btc_bundle(co, intent, approvals))


def test_R03_approvals_replayed_for_another_wallet(co):
    vault = co.signers[0]
    main = co.intent(wallet="btc-main")
    main_approvals = [co.approve(main, "bob")]
    other = co.intent(wallet="btc-vault")
    refused(co, vault, co.bundle(other, main_approvals, psbt=co.psbt("btc-vault", other)), "APPROVAL_MISMATCH")
    signs(co, vault, co.bundle(other, [co.approve(other, "bob")], psbt=co.psbt("btc-vault", other)))


def test_R04_velocity_over_the_daily_limit(co):
    vault = co.signers[0]
    values = (600_000_000, 500_000_000)
    first, a1 = transfer(co, amount="800000000", approvers=("bob", "carol"))
    signs(co, vault, btc_bundle(co, first, a1, values=values))
    second, a2 = transfer(co, amount="800000000", approvers=("bob", "carol"))  # 16 BTC in 24 h > 15
    refused(co, vault, btc_bundle(co, second, a2, values=values), "LIMIT_EXCEEDED")
    # Positive control: what is left of the window.
    third, a3 = transfer(co, amount="700000000", approvers=("bob", "carol"))
    signs(co, vault, btc_bundle(co, third, a3, values=values))


# -- §4.5 Availability -------------------------------------------------------------------------

def test_D01_truncated_and_bit_flipped_bundles(co):
    vault = co.signers[0]
    intent, approvals = transfer(co)
    good = btc_bundle(co, intent, approvals)
    data = good.read_bytes()
    for n in (0, 1, len(data) // 3, len(data) // 2, len(data) - 1):
        f = co.dir / f"trunc-{n}.json"
        f.write_bytes(data[:n])
        refused(co, vault, f, "MALFORMED", EXIT_MALFORMED)
    # Bit flips anywhere in the governance documents and the bundle's frame: refused under some
    # category, never signed. (The PSBT is left out here: a flip there can be a legitimate
    # alternative — one satoshi less change, one more of fee, within the caps — which the signer
    # rightly signs; PSBT mutations are the B rows, and fuzz-psbt covers the decoder.)
    start = data.index(b'"psbt":"') + len(b'"psbt":"')
    psbt = range(start, data.index(b'"', start))
    before = vault.state()
    for i in (i for i in range(0, len(data), max(1, len(data) // 60)) if i not in psbt):
        f = co.dir / f"flip-{i}.json"
        f.write_bytes(data[:i] + bytes([data[i] ^ 0x04]) + data[i + 1:])
        r = vault.sign(f, co.dir / f"flip-{i}.out")
        assert r.returncode in (2, 4, 5) and refusal(r)[1] is not None, (i, r.stderr)
        assert not (co.dir / f"flip-{i}.out").exists()
    assert vault.state() == before
    signs(co, vault, good)


def test_D02_oversize_and_deeply_nested_bundles(co):
    vault = co.signers[0]
    huge = co.dir / "huge.json"
    with huge.open("wb") as f:
        f.write(b'{"kind":"kura.signing-bundle","memo":"')
        f.truncate(200 * 1024 * 1024)
    refused(co, vault, huge, "RESOURCE_LIMIT", EXIT_MALFORMED)
    deep = co.dir / "deep.json"
    deep.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    refused(co, vault, deep, "RESOURCE_LIMIT", EXIT_MALFORMED)
    intent, approvals = transfer(co)
    signs(co, vault, btc_bundle(co, intent, approvals))


def test_D03_amounts_that_are_not_canonical_decimals(co):
    vault = co.signers[0]
    intent, approvals = transfer(co)
    for bad in (50000000, "5e7", "1e21", "-50000000", "050000000", "0x2faf080", "0.5", ""):
        bundle = btc_bundle(co, intent, approvals, edit=lambda d, bad=bad: d["intent"]["intent"].__setitem__("amount", bad))
        refused(co, vault, bundle, "MALFORMED", EXIT_MALFORMED)
    # Above MAX_MONEY but canonical and properly signed: refused by the limits.
    doc = json.loads(intent.read_text())["intent"]
    big = sign_intent_doc(co, dict(doc, amount="2100000000000001", id=doc["id"] + "b", nonce="cd" * 32), "big")
    refused(co, vault, co.bundle(big, [co.approve(big, "bob"), co.approve(big, "carol")], psbt=co.psbt("btc-main", intent)),
            "LIMIT_EXCEEDED")
    signs(co, vault, btc_bundle(co, intent, approvals))


def test_D04_unknown_kinds_and_extra_fields(co):
    vault = co.signers[0]
    intent, approvals = transfer(co)
    edits = [
        lambda d: d["intent"]["intent"].__setitem__("type", "transfer_v2"),
        lambda d: d["intent"]["intent"].__setitem__("skipChecks", True),
        lambda d: d.__setitem__("skipChecks", True),
        lambda d: d.__setitem__("kind", "kura.signing-bundle2"),
        lambda d: d.__setitem__("format", 2),
        lambda d: d["transaction"].__setitem__("chain", "litecoin"),
        lambda d: d["policies"][0]["policy"].__setitem__("debug", True),
        lambda d: d["approvals"][0]["approval"].__setitem__("override", True),
    ]
    for i, edit in enumerate(edits):
        refused(co, vault, btc_bundle(co, intent, approvals, edit=edit, name=f"d04-{i}.json"), "MALFORMED", EXIT_MALFORMED)
    signs(co, vault, btc_bundle(co, intent, approvals))
