"""Policy proposals through the built `kura serve`: an admin proposes the next version (here: a new address-book
entry, the console's use), other admins add their signatures, and the signature that reaches the quorum appends
the version — every refusal beside the request that succeeds. Signatures are made here in Python (rfc8785 and
`cryptography`'s Ed25519 over the `kura/policy/v1` tagged hash), not by Kura."""
import copy
import hashlib
import json
import pathlib
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from coordinator_server import BACKENDS, Server
from harness import DAY, SUPPLIER_BTC, Company, canonical
from test_api import Org


def tagged(tag: str, data: bytes) -> bytes:
    t = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(t + t + data).digest()


def policy_hash(doc) -> str:
    return tagged("kura/policy/v1", canonical(doc)).hex()


def signature(tmp: pathlib.Path, who: str, doc) -> dict:
    raw = (tmp / f"{who}.key").read_bytes()
    assert raw[:7] == b"kura-ck" and raw[8] == 1  # an Ed25519 key file
    key = Ed25519PrivateKey.from_private_bytes(raw[9:41])
    sig = key.sign(tagged("kura/policy/v1", canonical(doc)))
    return {"member": who, "credential": f"{who}-key", "evidence": {"scheme": "ed25519", "signature": sig.hex()}}


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, tmp_path_factory):
    company = Company(tmp_path_factory.mktemp(f"proposals-co-{request.param}"))
    server = Server(tmp_path_factory.mktemp(f"proposals-{request.param}"), request.param)
    try:
        yield server, Org(server, company, company.dir)
    finally:
        assert server.stop() == 0, server.logs()


def head(server, org):
    status, body, _ = server.request("GET", f"/v1/orgs/{org.id}/policies", token=org.token("a1"))
    latest = max(body["policies"], key=lambda p: p["version"])
    status, one, _ = server.request("GET", f"/v1/orgs/{org.id}/policies/{latest['version']}", token=org.token("a1"))
    return one["policy"]["document"]["policy"], latest["hash"]


def next_version(server, org, edit):
    current, current_hash = head(server, org)
    doc = copy.deepcopy(current)
    now = int(time.time()) - 5
    doc.update(version=current["version"] + 1, previous=current_hash, created=now, effectiveFrom=now)
    edit(doc, now)
    return doc


def add_supplier(delay_margin=0):
    def edit(doc, now):
        doc["addressBook"].append({"id": f"supplier-{doc['version']}", "asset": "btc", "address": SUPPLIER_BTC,
                                   "label": "Supplier", "usableFrom": now + 2 * DAY + delay_margin})
    return edit


def test_an_address_book_proposal_collects_admin_signatures_and_applies_at_the_quorum(world):
    server, org = world
    base = f"/v1/orgs/{org.id}/proposals"
    doc = next_version(server, org, add_supplier())
    proposal_id = policy_hash(doc)
    # Refused: by a non-admin; carrying another admin's signature; two signatures; an entry usable before the
    # address-book delay; no signature at all.
    status, err, _ = server.request("POST", base, {"policy": doc, "signatures": [signature(org.tmp, "alice", doc)]},
                                    token=org.token("alice"))
    assert status == 403 and err["error"]["code"] == "forbidden"
    status, err, _ = server.request("POST", base, {"policy": doc, "signatures": [signature(org.tmp, "a2", doc)]},
                                    token=org.token("a1"))
    assert status == 403 and "proposer's own" in err["error"]["message"]
    both = [signature(org.tmp, "a1", doc), signature(org.tmp, "a2", doc)]
    status, err, _ = server.request("POST", base, {"policy": doc, "signatures": both}, token=org.token("a1"))
    assert status == 403
    early = next_version(server, org, add_supplier(delay_margin=-60))
    status, err, _ = server.request("POST", base, {"policy": early, "signatures": [signature(org.tmp, "a1", early)]},
                                    token=org.token("a1"))
    assert status == 422 and err["error"]["category"] == "POLICY_INVALID" and "delay" in err["error"]["message"]
    status, err, _ = server.request("POST", base, {"policy": doc, "signatures": []}, token=org.token("a1"))
    assert status == 403
    # Positive control: a1 proposes, signed by a1.
    status, out, _ = server.request("POST", base, {"policy": doc, "signatures": [signature(org.tmp, "a1", doc)]},
                                    token=org.token("a1"), headers={"Idempotency-Key": "propose-supplier"})
    assert status == 201, out
    p = out["proposal"]
    assert p["id"] == proposal_id and p["state"] == "open" and p["signatureCount"] == 1 and p["required"] == 2
    assert p["proposer"] == "a1" and p["document"] == doc
    import base64
    assert base64.b64decode(p["documentBase64"]) == canonical(doc)  # the exact bytes admins sign
    # Every member can read it; the policy itself is unchanged until the quorum.
    status, listed, _ = server.request("GET", base, token=org.token("bob"))
    assert [x["id"] for x in listed["proposals"]] == [proposal_id]
    assert head(server, org)[0]["version"] == doc["version"] - 1
    sig_path = f"{base}/{proposal_id}/signatures"
    # Refused: a1 again; a2's signature posted by a1; a non-admin; a signature over something else.
    status, err, _ = server.request("POST", sig_path, signature(org.tmp, "a1", doc), token=org.token("a1"))
    assert status == 409 and "already signed" in err["error"]["message"]
    status, err, _ = server.request("POST", sig_path, signature(org.tmp, "a2", doc), token=org.token("a1"))
    assert status == 403
    status, err, _ = server.request("POST", sig_path, signature(org.tmp, "bob", doc), token=org.token("bob"))
    assert status == 403
    status, err, _ = server.request("POST", sig_path, signature(org.tmp, "a2", early), token=org.token("a2"))
    assert status == 422 and err["error"]["category"] == "POLICY_INVALID"
    assert server.request("GET", f"{base}/{proposal_id}", token=org.token("a2"))[1]["proposal"]["signatureCount"] == 1
    # Positive control: a2 signs, the quorum (2) is reached and the version is appended.
    status, out, _ = server.request("POST", sig_path, signature(org.tmp, "a2", doc), token=org.token("a2"))
    assert status == 200 and out["proposal"]["state"] == "applied" and out["proposal"]["signatureCount"] == 2
    current, current_hash = head(server, org)
    assert current == doc and current_hash == proposal_id
    assert any(e["id"] == f"supplier-{doc['version']}" for e in current["addressBook"])
    status, err, _ = server.request("POST", sig_path, signature(org.tmp, "a3", doc), token=org.token("a3"))
    assert status == 409 and "applied" in err["error"]["message"]
    status, audit, _ = server.request("GET", f"/v1/orgs/{org.id}/audit", token=org.token("a1"))
    kinds = [e["kind"] for e in audit["events"]]
    assert {"policy.proposed", "policy.proposal-signed", "policy.appended"} <= set(kinds)


def test_a_proposal_overtaken_by_another_version_is_superseded(world):
    server, org = world
    base = f"/v1/orgs/{org.id}/proposals"
    doc = next_version(server, org, add_supplier())
    status, out, _ = server.request("POST", base, {"policy": doc, "signatures": [signature(org.tmp, "a1", doc)]},
                                    token=org.token("a1"))
    assert status == 201 and out["proposal"]["state"] == "open"
    # Another version of the same number is appended first, signed by a quorum and posted whole.
    other = next_version(server, org, lambda d, now: d.update(expires=d["expires"] - 1))
    status, appended, _ = server.request(
        "POST", f"/v1/orgs/{org.id}/policies",
        {"policy": other, "signatures": [signature(org.tmp, "a2", other), signature(org.tmp, "a3", other)]},
        token=org.token("a2"))
    assert status == 201, appended
    status, one, _ = server.request("GET", f"{base}/{out['proposal']['id']}", token=org.token("a1"))
    assert one["proposal"]["state"] == "superseded"
    status, err, _ = server.request("POST", f"{base}/{out['proposal']['id']}/signatures",
                                    signature(org.tmp, "a2", doc), token=org.token("a2"))
    assert status == 409 and "superseded" in err["error"]["message"]
    # A stale proposal (it names an older head) is refused as such.
    status, err, _ = server.request("POST", base, {"policy": doc, "signatures": [signature(org.tmp, "a1", doc)]},
                                    token=org.token("a1"))
    assert status == 409 and "superseded" in err["error"]["message"]
    status, err, _ = server.request("GET", f"{base}/{'0' * 63}x", token=org.token("a1"))
    assert status == 400
    status, err, _ = server.request("GET", f"{base}/{'0' * 64}", token=org.token("a1"))
    assert status == 404
