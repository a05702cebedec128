"""Two `kura serve` processes on one PostgreSQL database, clients spread over both: every intent recorded once
under concurrent retries with idempotency keys (each retry sent to the other replica), approvals from both
replicas move each intent on exactly once, and the audit log stays one unbroken hash chain."""
import concurrent.futures
import json
import secrets

import pytest

from coordinator_server import PG_URL, Server, fresh_postgres_database
from harness import Company
from test_api import Org, audit_hash, org_intent_doc

pytestmark = pytest.mark.skipif(PG_URL is None, reason="needs the throw-away PostgreSQL (make test starts it)")


@pytest.fixture(scope="module")
def replicas(tmp_path_factory):
    co = Company(tmp_path_factory.mktemp("replicas-company"))
    url = fresh_postgres_database()
    tmp = tmp_path_factory.mktemp("replicas")
    first = Server(tmp, "postgresql", database_url=url)
    second = Server(tmp, "postgresql", database_url=url)
    try:
        org = Org(first, co, co.dir)
        yield first, second, org
    finally:
        assert first.stop() == 0, first.logs()
        assert second.stop() == 0, second.logs()


def test_two_replicas_share_everything(replicas):
    first, second, org = replicas
    servers = [first, second]
    # A token issued by one replica works on the other.
    token = org.token("alice")
    assert second.request("GET", f"/v1/orgs/{org.id}/intents", token=token)[0] == 200
    docs = []
    for _ in range(10):
        p = org.tmp / f"replica-{secrets.token_hex(3)}.json"
        org_intent_doc(org, p)
        docs.append(json.loads(p.read_text()))
    keys = ["replica-" + secrets.token_hex(8) for _ in docs]

    def submit(job):
        i, attempt = job
        server = servers[(i + attempt) % 2]  # each retry goes to the other replica
        return server.request("POST", f"/v1/orgs/{org.id}/intents", docs[i], token=token,
                              headers={"Idempotency-Key": keys[i]})

    jobs = [(i, a) for i in range(len(docs)) for a in range(4)]
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(submit, jobs))
    assert all(status == 201 for status, _, _ in results), [r[:2] for r in results if r[0] != 201]
    by_intent = {}
    for (i, _), (_, body, _) in zip(jobs, results):
        by_intent.setdefault(i, []).append(json.dumps(body, sort_keys=True))
    assert all(len(set(answers)) == 1 for answers in by_intent.values())  # every retry got the same answer

    ids = [d["intent"]["id"] for d in docs]
    # Approvals by bob and carol at once, on different replicas (tier 1 needs one; both are recorded).
    bob, carol = org.token("bob"), org.token("carol")

    def approve(job):
        intent_id, who, server = job
        path = org.tmp / f"approval-{intent_id}-{who}.json"
        from harness import run
        signed = org.tmp / f"doc-{intent_id}.json"
        signed.write_text(json.dumps(next(d for d in docs if d["intent"]["id"] == intent_id)))
        run("kura", "approve", signed, "--genesis-hash", org.genesis_hash, "--policy", org.genesis, "--key",
            org.tmp / f"{who}.key", "--member", who, "--credential", f"{who}-key", "--out", path, check=True)
        return server.request("POST", f"/v1/orgs/{org.id}/intents/{intent_id}/approvals",
                              json.loads(path.read_text()), token=bob if who == "bob" else carol)

    jobs = [(i, who, servers[n % 2]) for n, i in enumerate(ids) for who in ("bob", "carol")]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        approvals = list(pool.map(approve, jobs))
    assert all(status == 201 for status, _, _ in approvals), [a[:2] for a in approvals if a[0] != 201]

    status, listing, _ = second.request("GET", f"/v1/orgs/{org.id}/intents?limit=1000", token=token)
    listed = [i["id"] for i in listing["intents"]]
    assert len(listed) == len(set(listed)) and set(ids) <= set(listed)
    assert all(i["state"] == "approved" for i in listing["intents"] if i["id"] in ids)

    events = first.request("GET", f"/v1/orgs/{org.id}/audit?limit=10000", token=token)[1]["events"]
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
    previous = "00" * 32
    for e in events:
        assert e["previousHash"] == previous and audit_hash(org.id, e) == e["hash"]
        previous = e["hash"]
    submitted = sorted(e["subject"] for e in events if e["kind"] == "intent.submitted" and e["subject"] in ids)
    assert submitted == sorted(ids)
    moved = [e["subject"] for e in events if e["kind"] == "intent.state" and e["payload"]["to"] == "approved"
             and e["subject"] in ids]
    assert sorted(moved) == sorted(ids)  # each intent moved to approved exactly once
    recorded = [e for e in events if e["kind"] == "approval.recorded" and e["subject"] in ids]
    assert len(recorded) == 2 * len(ids)
