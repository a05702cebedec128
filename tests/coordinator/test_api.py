"""The coordinator's API through the built binaries (`kura serve`, `kura login`, `kura intent create`,
`kura approve`), on SQLite and on a real PostgreSQL: bootstrap from a genesis policy, sessions and tokens,
intents and approvals verified before they are stored, stable error bodies, idempotency keys, organisation
isolation and the role matrix."""
import concurrent.futures
import hashlib
import json
import pathlib
import secrets
import struct
import time

import pytest

from coordinator_server import BACKENDS, Server, kura_json, raw_sql
from harness import Company, DAY, run

ROLE_MEMBERS = {"admin": "a1", "initiator": "alice", "approver": "bob", "viewer": "mallory"}


def genesis_with_viewer(co: Company, organization="acme"):
    """A genesis policy like the company's, plus mallory as a viewer, for `organization`."""
    doc = co.policy_doc(version=1)
    doc["organization"] = organization
    doc["members"] = doc["members"] + [co.member("mallory", ["viewer"])]
    path = co.signed_policy(doc, ["a1", "a2"], name=f"genesis-{organization}")
    digest = run("kura", "policy", "hash", path, check=True).stdout.decode().strip()
    return path, digest


class Org:
    """An organisation bootstrapped on a server, with a logged-in session per member."""

    def __init__(self, server: Server, co: Company, tmp: pathlib.Path, organization="acme", genesis=None):
        self.server, self.co, self.tmp, self.id = server, co, tmp, organization
        self.genesis, self.genesis_hash = genesis or genesis_with_viewer(co, organization)
        code, out, err = kura_json("org", "bootstrap", "--server", server.url, "--genesis", self.genesis, "--name",
                                   f"{organization} corp", "--bootstrap-secret-file", server.secret_file, "--json")
        assert out["organization"]["id"] == organization and out["organization"]["genesis"] == self.genesis_hash
        self.sessions = {}

    def login(self, who):
        if who not in self.sessions:
            path = self.tmp / f"session-{self.id}-{who}.json"
            # Session requests share the per-peer rate limit with failed authentications (5/s, burst 20): a
            # test that just spent the burst on refused requests waits for it to refill.
            for attempt in range(20):
                code, out, err = kura_json("login", "--server", self.server.url, "--org", self.id, "--genesis-hash",
                                           self.genesis_hash, "--key", self.tmp / f"{who}.key", "--member", who,
                                           "--credential", f"{who}-key", "--session", path, "--json", check=False)
                if code == 0 or "rate_limited" not in err:
                    break
                time.sleep(0.5)
            assert code == 0, err
            self.sessions[who] = path
        return self.sessions[who]

    def token(self, who):
        return json.loads(pathlib.Path(self.login(who)).read_text())["token"]

    def create_intent(self, amount="50000000", to="exchange", extra=(), wallet="btc-main"):
        code, out, err = kura_json("intent", "create", "--session", self.login("alice"), "--wallet", wallet,
                                   "--asset", "btc", "--to", to, "--amount", amount, "--base-units", "--key",
                                   self.tmp / "alice.key", "--credential", "alice-key", "--json", *extra)
        return out["intent"]

    def approve(self, intent_id, who, reject=False, check=True):
        args = ["approve", intent_id, "--session", self.login(who), "--key", self.tmp / f"{who}.key", "--credential",
                f"{who}-key", "--yes", "--json"] + (["--reject"] if reject else [])
        return kura_json(*args, check=check)


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    return Company(tmp_path_factory.mktemp("company"))


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, company, tmp_path_factory):
    tmp = company.dir
    server = Server(tmp_path_factory.mktemp(f"srv-{request.param}"), request.param)
    try:
        org = Org(server, company, tmp)
        yield server, org
    finally:
        assert server.stop() == 0, server.logs()


def test_health_metrics_openapi(world):
    server, _ = world
    status, body, headers = server.request("GET", "/health")
    assert status == 200 and body == {"status": "ok", "database": "ok"}
    assert len(headers["x-request-id"]) > 0
    status, body, _ = server.request("GET", "/health", headers={"X-Request-Id": "trace-me-42"})
    assert status == 200
    status, text, _ = server.request("GET", "/metrics")
    assert status == 200 and "hb_requests" in text
    status, doc, _ = server.request("GET", "/openapi.json")
    assert status == 200 and doc["openapi"].startswith("3.1")


def test_bootstrap_needs_the_secret_and_is_idempotent_by_genesis(world, company):
    server, org = world
    genesis = json.loads(pathlib.Path(org.genesis).read_text())
    body = {"name": "again", "genesis": genesis}
    status, err, _ = server.request("POST", "/v1/organizations", body)
    assert status == 401 and err["error"]["code"] == "unauthenticated"
    status, err, _ = server.request("POST", "/v1/organizations", body, token="wrong-secret-0123456789")
    assert status == 401 and err["error"]["code"] == "unauthenticated"
    secret = server.secret_file.read_text()
    status, out, _ = server.request("POST", "/v1/organizations", body, token=secret)
    assert status == 200 and out["organization"]["genesis"] == org.genesis_hash  # same genesis: same answer
    # A genesis whose admins' quorum is missing is refused by the governance core.
    bad = dict(genesis, signatures=genesis["signatures"][:1])
    status, err, _ = server.request("POST", "/v1/organizations", {"name": "x", "genesis": bad}, token=secret)
    assert status == 422 and err["error"]["code"] == "refused" and err["error"]["category"] == "POLICY_INVALID"


def test_login_issues_a_token_bound_to_the_policy_member(world):
    server, org = world
    code, out, err = kura_json("org", "show", "--session", org.login("bob"), "--json")
    assert out["organization"]["member"] == "bob" and out["organization"]["roles"] == ["approver"]
    # A session request signed with another member's key is refused, and no token is issued.
    code, out, err = kura_json("login", "--server", server.url, "--org", org.id, "--genesis-hash", org.genesis_hash,
                               "--key", org.tmp / "bob.key", "--member", "carol", "--credential", "carol-key",
                               "--session", org.tmp / "forged.json", check=False)
    assert code != 0 and "unauthenticated" in err and not (org.tmp / "forged.json").exists()
    # A non-member's key is refused.
    code, out, err = kura_json("login", "--server", server.url, "--org", org.id, "--genesis-hash", org.genesis_hash,
                               "--key", org.tmp / "dave.key", "--member", "eve", "--credential", "dave-key",
                               "--session", org.tmp / "eve.json", check=False)
    assert code != 0 and "unauthenticated" in err
    # A login pinned to another genesis refuses the server's chain.
    code, out, err = kura_json("login", "--server", server.url, "--org", org.id, "--genesis-hash", "11" * 32,
                               "--key", org.tmp / "carol.key", "--member", "carol", "--credential", "carol-key",
                               "--session", org.tmp / "carol-wrong.json", check=False)
    assert code == 3 and "POLICY_INVALID" in err


def test_tokens_are_stored_hashed_and_revocable(world):
    server, org = world
    token = org.token("carol")
    # kura_ID_SECRET, the secret in base64url (which may itself hold "_").
    _, token_id, secret_part = token.split("_", 2)
    assert len(secret_part) >= 32
    status, out, _ = server.request("GET", f"/v1/orgs/{org.id}/tokens", token=token)
    active = [t["id"] for t in out["tokens"] if "revokedAt" not in t]
    assert status == 200 and active == [token_id]  # the login refused for a wrong genesis revoked its token
    dump = raw_sql(server.database, "SELECT * FROM api_tokens")
    assert secret_part.encode() not in repr(dump).encode() and token.encode() not in repr(dump).encode()
    status, out, _ = server.request("DELETE", f"/v1/orgs/{org.id}/tokens/{token_id}", token=token)
    assert status == 200
    status, err, headers = server.request("GET", f"/v1/orgs/{org.id}/intents", token=token)
    assert status == 401 and err["error"]["code"] == "unauthenticated" and headers["www-authenticate"] == "Bearer"
    del org.sessions["carol"]
    assert server.request("GET", f"/v1/orgs/{org.id}/intents", token=org.token("carol"))[0] == 200


def test_intent_and_two_approvals_reach_approved(world):
    server, org = world
    intent = org.create_intent(amount="500000000")  # tier 2: two approvals
    assert intent["state"] == "awaitingApprovals" and intent["initiator"] == "alice"
    code, out, err = org.approve(intent["id"], "bob")
    assert out["state"] == "awaitingApprovals"
    code, out, err = org.approve(intent["id"], "carol")
    assert out["state"] == "approved"
    status, detail, _ = server.request("GET", f"/v1/orgs/{org.id}/intents/{intent['id']}", token=org.token("mallory"))
    assert status == 200 and sorted(a["approver"] for a in detail["approvals"]) == ["bob", "carol"]
    assert detail["document"]["intent"]["amount"] == "500000000"
    # The same approver twice is a conflict; the initiator cannot approve.
    code, out, err = org.approve(intent["id"], "bob", check=False)
    assert code == 1 and "conflict" in err or "duplicate" in err


def test_rejection_ends_the_intent(world):
    server, org = world
    intent = org.create_intent()
    code, out, err = org.approve(intent["id"], "dave", reject=True)
    assert out["state"] == "rejected"
    code, out, err = org.approve(intent["id"], "bob", check=False)
    assert code == 1 and "conflict" in err


def test_documents_the_signer_would_refuse_are_refused(world):
    server, org = world
    token = org.token("alice")
    signed = org.tmp / "tampered-intent.json"
    org.create_intent(extra=("--out", signed))
    doc = json.loads(signed.read_text())
    doc["intent"]["amount"] = "50000001"  # the signature no longer covers it
    status, err, _ = server.request("POST", f"/v1/orgs/{org.id}/intents", doc, token=token)
    assert status == 422 and err["error"]["category"] == "APPROVAL_INVALID"
    # Positive control: the untampered document is accepted once, then it is a duplicate.
    original = json.loads(signed.read_text())
    status, err, _ = server.request("POST", f"/v1/orgs/{org.id}/intents", original, token=token)
    assert status == 409 and err["error"]["code"] == "duplicate"
    # An address outside the signed address book is refused with the signer's category.
    bad = json.loads(signed.read_text())
    bad["intent"]["destination"]["address"] = "bcrt1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qzf4jry"
    status, err, _ = server.request("POST", f"/v1/orgs/{org.id}/intents", bad, token=token)
    assert status == 422 and err["error"]["category"] in ("APPROVAL_INVALID", "ALLOWLIST_MISS")


@pytest.mark.parametrize("case", ["no-token", "garbage-token", "malformed-json", "unknown-field", "oversize", "no-route",
                                  "bad-limit", "bad-state"])
def test_bad_requests_get_stable_4xx_bodies(world, case):
    server, org = world
    token = org.token("alice")
    path = f"/v1/orgs/{org.id}/intents"
    if case == "no-token":
        status, err, _ = server.request("GET", path)
        expected = (401, "unauthenticated")
    elif case == "garbage-token":
        status, err, _ = server.request("GET", path, token="kura_" + "0" * 16 + "_" + "A" * 43)
        expected = (401, "unauthenticated")
    elif case == "malformed-json":
        status, err, _ = server.request("POST", path, raw=b'{"intent": ', token=token)
        expected = (400, "malformed")
    elif case == "unknown-field":
        status, err, _ = server.request("POST", path, {"intent": {}, "signature": {}, "extra": 1}, token=token)
        expected = (400, "malformed")
    elif case == "oversize":
        status, err, _ = server.request("POST", path, raw=b" " * (2 << 20), token=token)
        expected = (413, "too_large")
    elif case == "no-route":
        status, err, _ = server.request("GET", "/v1/nothing-here", token=token)
        expected = (404, "not_found")
    elif case == "bad-limit":
        status, err, _ = server.request("GET", path + "?limit=0", token=token)
        expected = (400, "malformed")
    else:
        status, err, _ = server.request("GET", path + "?state=nope", token=token)
        expected = (400, "malformed")
    assert (status, err["error"]["code"]) == expected, err
    assert set(err["error"]) <= {"code", "message", "category", "requestId"} and err["error"]["message"]


def test_idempotency_keys_replay_and_refuse_reuse(world):
    server, org = world
    token = org.token("alice")
    signed = org.tmp / f"idem-{secrets.token_hex(3)}.json"
    org_intent_doc(org, signed)
    doc = json.loads(signed.read_text())
    key = "idem-" + secrets.token_hex(8)
    s1, first, h1 = server.request("POST", f"/v1/orgs/{org.id}/intents", doc, token=token, headers={"Idempotency-Key": key})
    s2, second, h2 = server.request("POST", f"/v1/orgs/{org.id}/intents", doc, token=token, headers={"Idempotency-Key": key})
    assert (s1, s2) == (201, 201) and first == second and h2.get("idempotency-replayed") == "true"
    other = json.loads(signed.read_text())
    other["intent"]["memo"] = "changed"
    s3, err, _ = server.request("POST", f"/v1/orgs/{org.id}/intents", other, token=token, headers={"Idempotency-Key": key})
    assert s3 == 422 and err["error"]["code"] == "idempotency_key_reused"


def org_intent_doc(org, path):
    """A signed intent file made offline (not submitted)."""
    unsigned = path.with_suffix(".unsigned.json")
    run("kura", "intent", "new", "--genesis-hash", org.genesis_hash, "--policy", org.genesis, "--wallet", "btc-main",
        "--asset", "btc", "--to", "exchange", "--amount", "1000", "--base-units", "--initiator", "alice",
        "--memo", secrets.token_hex(4), "--out", unsigned, check=True)
    run("kura", "intent", "sign", unsigned, "--key", org.tmp / "alice.key", "--credential", "alice-key", "--out", path,
        check=True)


def test_concurrent_retries_create_exactly_one_intent(world):
    server, org = world
    token = org.token("alice")
    docs = []
    for i in range(8):
        p = org.tmp / f"race-{secrets.token_hex(3)}.json"
        org_intent_doc(org, p)
        docs.append(json.loads(p.read_text()))
    keys = ["race-" + secrets.token_hex(8) for _ in docs]

    def send(i):
        return server.request("POST", f"/v1/orgs/{org.id}/intents", docs[i], token=token,
                              headers={"Idempotency-Key": keys[i]})

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(send, [i for i in range(len(docs)) for _ in range(4)]))
    assert all(status == 201 for status, _, _ in results), [r[:2] for r in results if r[0] != 201]
    status, out, _ = server.request("GET", f"/v1/orgs/{org.id}/intents?limit=1000", token=token)
    ids = [i["id"] for i in out["intents"]]
    wanted = {d["intent"]["id"] for d in docs}
    assert len(ids) == len(set(ids)) and wanted <= set(ids)
    events = server.request("GET", f"/v1/orgs/{org.id}/audit?limit=10000", token=token)[1]["events"]
    submitted = [e["subject"] for e in events if e["kind"] == "intent.submitted" and e["subject"] in wanted]
    assert sorted(submitted) == sorted(wanted)  # recorded once each


def audit_hash(org_id: str, e: dict) -> str:
    """The audit event hash, computed independently from docs (SHA-256 over length-prefixed fields)."""
    h = hashlib.sha256()

    def field(b: bytes):
        h.update(struct.pack(">Q", len(b)))
        h.update(b)

    payload = json.dumps(e["payload"], separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()
    field(b"kura/audit-event/v1")
    field(org_id.encode())
    h.update(struct.pack(">q", e["sequence"]))
    field(e["kind"].encode())
    field(e["subject"].encode())
    h.update(struct.pack(">q", e["at"]))
    field(payload)
    h.update(bytes.fromhex(e["previousHash"]))
    return h.hexdigest()


def test_audit_log_is_a_hash_chain(world):
    server, org = world
    events = server.request("GET", f"/v1/orgs/{org.id}/audit?limit=10000", token=org.token("mallory"))[1]["events"]
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["kind"] == "organization.bootstrapped" and events[0]["previousHash"] == "00" * 32
    previous = "00" * 32
    for e in events:
        assert e["previousHash"] == previous and audit_hash(org.id, e) == e["hash"], e
        previous = e["hash"]
    kinds = {e["kind"] for e in events}
    assert {"policy.appended", "token.issued", "intent.submitted", "approval.recorded", "intent.state"} <= kinds


def test_organisations_are_isolated_on_every_route(world, company):
    server, org = world
    other = Org(server, company, org.tmp, organization="globex")
    routes = server.request("GET", "/openapi.json")[1]["paths"]
    intent = other.create_intent()
    values = {"org": other.id, "intent": intent["id"], "wallet": "btc-main", "version": "1",
              "token": other.token("alice").split("_")[1]}
    acme_token = org.token("a1")  # an admin of acme
    checked = 0
    for path, methods in routes.items():
        if not path.startswith("/v1/orgs/{org}"):
            continue
        concrete = path
        for k, v in values.items():
            concrete = concrete.replace("{" + k + "}", v)
        for method in methods:
            for _ in range(20):  # failed authentications are rate limited (5/s, burst 20): wait out a 429
                status, err, _ = server.request(method.upper(), concrete, {} if method in ("post", "put") else None,
                                                token=acme_token)
                if status != 429:
                    break
                time.sleep(0.5)
            assert status == 401 and err["error"]["code"] == "unauthenticated", (method, path, status, err)
            checked += 1
    assert checked >= 15
    # The other organisation's own members see their intent; acme's list does not contain it.
    assert server.request("GET", f"/v1/orgs/globex/intents/{intent['id']}", token=other.token("bob"))[0] == 200
    status, out, _ = server.request("GET", f"/v1/orgs/{org.id}/intents/{intent['id']}", token=org.token("bob"))
    assert status == 404


def test_role_matrix_covers_every_route(world):
    server, org = world
    doc = server.request("GET", "/openapi.json")[1]
    intent = org.create_intent()
    values = {"org": org.id, "intent": intent["id"], "wallet": "btc-main", "version": "1", "token": "0" * 16,
              "proposal": "0" * 64}
    # Who may call each member route (the server's CoordinatorAPI.routes, restated independently here).
    allowed = {
        ("post", "/v1/orgs/{org}/policies"): {"admin"},
        ("post", "/v1/orgs/{org}/proposals"): {"admin"},
        ("post", "/v1/orgs/{org}/proposals/{proposal}/signatures"): {"admin"},
        ("post", "/v1/orgs/{org}/wallets/{wallet}/addresses"): {"admin", "initiator"},
        ("post", "/v1/orgs/{org}/intents"): {"initiator"},
        ("post", "/v1/orgs/{org}/intents/{intent}/approvals"): {"approver"},
        ("post", "/v1/orgs/{org}/intents/{intent}/transaction"): {"admin", "initiator", "approver"},
        ("get", "/v1/orgs/{org}/intents/{intent}/bundle"): {"admin", "initiator", "approver"},
        ("post", "/v1/orgs/{org}/intents/{intent}/results"): {"admin", "initiator", "approver"},
    }
    checked = 0
    for path, methods in doc["paths"].items():
        if not path.startswith("/v1/orgs/{org}") or path.endswith("/sessions"):
            continue
        concrete = path
        for k, v in values.items():
            concrete = concrete.replace("{" + k + "}", v)
        for method in methods:
            if method == "post" and path.endswith("/console/session"):
                continue  # a session request, like /sessions (its refusals: tests/console/test_console_server.py)
            roles = allowed.get((method, path), set(ROLE_MEMBERS))
            for role, who in ROLE_MEMBERS.items():
                status, body, _ = server.request(method.upper(), concrete, {} if method in ("post", "put") else None,
                                                 token=org.token(who))
                if role in roles:
                    assert status != 403, (method, path, role, body)
                else:
                    assert status == 403 and body["error"]["code"] == "forbidden", (method, path, role, status, body)
                checked += 1
            status, body, _ = server.request(method.upper(), concrete)
            assert status == 401, (method, path)
    assert checked >= 4 * 15


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_shell_completions_cover_the_online_commands(shell):
    code, out, err = kura_json("--generate-completion-script", shell)
    for word in ("login", "approve", "serve", "intent", "session", "json"):
        assert word in out, (shell, word)
    code, out, err = kura_json("--generate-completion-script", "tcsh", check=False)
    assert code != 0  # positive control: an unknown shell is refused


def test_audit_export_verifies_offline_and_reports_an_edited_intent_row(world):
    server, org = world
    intent = org.create_intent(amount="50000000")
    org.approve(intent["id"], "bob")
    session = org.login("mallory")  # a viewer (auditor) exports
    clean = org.tmp / f"audit-{server.backend}-clean.json"
    code, out, err = kura_json("audit", "export", "-o", clean, "--session", session, "--json")
    assert out["events"] > 5
    code, out, err = kura_json("audit", "verify", clean, "--genesis-hash", org.genesis_hash, "--json")
    assert code == 0, err
    # Someone with database access edits the approved intent's amount behind the coordinator's back.
    old, new = '"amount":"50000000"', '"amount":"50000001"'
    if server.backend == "postgresql":
        sql = (f"UPDATE intents SET document = convert_to(replace(convert_from(document, 'UTF8'), '{old}', '{new}'), 'UTF8') "
               f"WHERE id = '{intent['id']}'")
    else:
        sql = f"UPDATE intents SET document = CAST(replace(CAST(document AS TEXT), '{old}', '{new}') AS BLOB) WHERE id = '{intent['id']}'"
    raw_sql(server.database, sql)
    status, detail, _ = server.request("GET", f"/v1/orgs/{org.id}/intents/{intent['id']}", token=org.token("mallory"))
    assert detail["document"]["intent"]["amount"] == "50000001"  # the edit is live in the database
    edited = org.tmp / f"audit-{server.backend}-edited.json"
    kura_json("audit", "export", "-o", edited, "--session", session)
    code, out, err = kura_json("audit", "verify", edited, "--genesis-hash", org.genesis_hash, "--json", check=False)
    assert code == 3, (code, out, err)
    findings = out["findings"] if isinstance(out, dict) else []
    submitted_at = [e for e in json.loads(edited.read_text())["events"]
                    if e["kind"] == "intent.submitted" and e["subject"] == intent["id"]][0]["sequence"]
    assert any(f.get("sequence") == submitted_at and intent["id"] in json.dumps(f) for f in findings), findings


def test_an_intent_edited_in_the_database_is_not_moved_on_by_its_approval(world):
    """The coordinator verifies the stored intent again when an approval arrives (it remembers the stored documents
    it parsed, keyed by their bytes, and the intents it verified, keyed by the signed intent itself, never by id):
    one whose document was edited behind its back after it was created and verified stays awaiting approvals; the
    same approval flow moves an unedited one on."""
    server, org = world
    bob = org.token("bob")
    approved = {}
    for n, amount in enumerate(["50000004", "50000006"]):
        intent = org.create_intent(amount=amount)
        status, detail, _ = server.request("GET", f"/v1/orgs/{org.id}/intents/{intent['id']}", token=bob)
        signed = org.tmp / f"edited-{server.backend}-{n}.json"
        signed.write_text(json.dumps(detail["document"]))
        approval = org.tmp / f"edited-{server.backend}-{n}.approval.json"
        run("kura", "approve", signed, "--genesis-hash", org.genesis_hash, "--policy", org.genesis, "--key",
            org.tmp / "bob.key", "--member", "bob", "--credential", "bob-key", "--out", approval, check=True)
        if n == 1:  # the second one is edited after it was stored, before bob's approval arrives
            old, new = f'"amount":"{amount}"', '"amount":"50000007"'
            if server.backend == "postgresql":
                sql = (f"UPDATE intents SET document = convert_to(replace(convert_from(document, 'UTF8'), '{old}', "
                       f"'{new}'), 'UTF8') WHERE id = '{intent['id']}'")
            else:
                sql = (f"UPDATE intents SET document = CAST(replace(CAST(document AS TEXT), '{old}', '{new}') AS BLOB) "
                       f"WHERE id = '{intent['id']}'")
            raw_sql(server.database, sql)
        status, out, _ = server.request("POST", f"/v1/orgs/{org.id}/intents/{intent['id']}/approvals",
                                        json.loads(approval.read_text()), token=bob)
        assert status == 201, out
        status, detail, _ = server.request("GET", f"/v1/orgs/{org.id}/intents/{intent['id']}", token=bob)
        approved[n] = detail["intent"]["state"]
    assert approved == {0: "approved", 1: "awaitingApprovals"}


def test_watch_only_addresses_follow_the_descriptor_within_the_gap_limit(world, company):
    server, org = world
    token = org.token("alice")
    path = f"/v1/orgs/{org.id}/wallets/btc-vault/addresses"
    before = len(server.request("GET", path, token=token)[1]["addresses"])
    made = []
    for n in range(before, 20):
        status, out, _ = server.request("POST", path, {"label": f"customer {n}"}, token=token,
                                        headers={"Idempotency-Key": f"addr-{server.backend}-{n}"})
        assert status == 201, out
        made.append(out["address"])
    listed = server.request("GET", path, token=token)[1]["addresses"]
    assert [a["index"] for a in listed] == list(range(20))
    # Every address is the wallet's descriptor at its index, derived independently with BDK.
    from bdkpython import Descriptor as BdkDescriptor, Network as BdkNetwork, NetworkKind
    descriptor = company.wallet_descriptor("btc-vault").replace("<0;1>", "0")
    bdk = BdkDescriptor(descriptor, NetworkKind.TEST)
    for a in listed:
        assert a["address"] == str(bdk.derive_address(a["index"], BdkNetwork.REGTEST))
        assert a["used"] is False
    # The 21st unused address is refused (gap limit 20); a retry of an earlier create is answered as before.
    status, err, _ = server.request("POST", path, {"label": "one too many"}, token=token)
    assert status == 409 and "gap limit" in err["error"]["message"]
    if made:
        status, again, headers = server.request("POST", path, {"label": f"customer {19}"}, token=token,
                                                headers={"Idempotency-Key": f"addr-{server.backend}-19"})
        assert status == 201 and headers.get("idempotency-replayed") == "true" and again["address"]["index"] == 19
    # An Ethereum account has its one address in the policy.
    status, err, _ = server.request("POST", f"/v1/orgs/{org.id}/wallets/eth-main/addresses", {}, token=token)
    assert status == 409 and err["error"]["code"] == "conflict"
    status, err, _ = server.request("POST", f"/v1/orgs/{org.id}/wallets/nope/addresses", {}, token=token)
    assert status == 404


def test_a_session_request_is_single_use(world):
    """A signed session request captured on its way (a recording proxy in front of the server) and sent again
    gets no second token: 401, not a token and not a 409 that would confirm anything."""
    import http.client
    import http.server
    import threading

    server, org = world
    captured = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def forward(self, method):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if method == "POST" and self.path.endswith("/sessions"):
                captured.append(body)
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            conn.request(method, self.path, body=body or None, headers=headers)
            r = conn.getresponse()
            data = r.read()
            self.send_response(r.status)
            for k, v in r.getheaders():
                if k.lower() not in ("transfer-encoding", "content-length", "connection"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self.forward("GET")

        def do_POST(self):
            self.forward("POST")

        def do_DELETE(self):
            self.forward("DELETE")

        def log_message(self, *args):
            pass

    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        path = org.tmp / f"session-replay-{server.backend}.json"
        kura_json("login", "--server", f"http://127.0.0.1:{proxy.server_address[1]}", "--org", org.id,
                  "--genesis-hash", org.genesis_hash, "--key", org.tmp / "carol.key", "--member", "carol",
                  "--credential", "carol-key", "--session", path, "--json")
    finally:
        proxy.shutdown()
    assert len(captured) == 1 and json.loads(path.read_text())["token"].startswith("kura_")  # positive control
    status, err, _ = server.request("POST", f"/v1/orgs/{org.id}/sessions", raw=captured[0],
                                    headers={"Content-Type": "application/json"})
    assert status == 401 and err["error"]["code"] == "unauthenticated" and "already used" in err["error"]["message"]
    assert "token" not in err


def test_building_without_a_chain_source_is_unavailable(world):
    """`kura serve` without `--esplora` cannot build: 503 naming the missing chain source, nothing stored (the
    positive control, a server with a chain source, is tests/coordinator/test_end_to_end.py)."""
    server, org = world
    intent = org.create_intent(amount="50000000")
    org.approve(intent["id"], "bob")
    status, err, _ = server.request("POST", f"/v1/orgs/{org.id}/intents/{intent['id']}/transaction", {},
                                    token=org.token("alice"))
    assert status == 503 and err["error"]["code"] == "unavailable" and "chain source" in err["error"]["message"]
    status, detail, _ = server.request("GET", f"/v1/orgs/{org.id}/intents/{intent['id']}", token=org.token("alice"))
    assert detail["intent"]["state"] == "approved" and "bundle" not in detail
