"""The console's server side through the built `kura serve`: the static files and their security headers, the
passkey session in an HttpOnly cookie with its CSRF value, cookie authentication on the API (and its refusals,
each beside the request that succeeds), `--console-dir` and `--no-console`.

Session requests are built and signed here in Python (rfc8785 + `cryptography`'s Ed25519), not by Kura's code."""
import hashlib
import json
import pathlib
import secrets
import sys
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "tests" / "coordinator"))

from coordinator_server import Server  # noqa: E402
from harness import Company, canonical  # noqa: E402
from test_api import Org  # noqa: E402

CONSOLE = ROOT / "Sources" / "CoordinatorServer" / "Console"
COOKIE = "__Host-kura-session"


def tagged(tag: str, data: bytes) -> bytes:
    t = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(t + t + data).digest()


def signed_session_request(key_file: pathlib.Path, org: str, member: str, credential: str, audience: str,
                           created=None, lifetime=300) -> dict:
    """A `kura.session-request` signed with the member's Ed25519 key file (`kura-ck` v1: the key is bytes 9-41)."""
    raw = key_file.read_bytes()
    assert raw[:7] == b"kura-ck" and raw[8] == 1
    key = Ed25519PrivateKey.from_private_bytes(raw[9:41])
    created = int(time.time()) - 5 if created is None else created
    request = {"kind": "kura.session-request", "format": 1, "organization": org, "member": member,
               "audience": audience, "nonce": secrets.token_hex(16), "created": created, "expires": created + lifetime}
    digest = tagged("kura/session/v1", canonical(request))
    return {"request": request, "signature": {"member": member, "credential": credential,
                                              "evidence": {"scheme": "ed25519", "signature": key.sign(digest).hex()}}}


def call(server, method, path, body=None, cookie=None, headers=None):
    """(status, parsed body or the bytes, headers as a list of pairs): Set-Cookie must be read as sent."""
    h = dict(headers or {})
    if cookie:
        h["Cookie"] = f"{COOKIE}={cookie}"
    status, payload, pairs = server.exchange(method, path, json.dumps(body).encode() if body is not None else None, h,
                                             timeout=30)
    try:
        parsed = json.loads(payload) if payload else None
    except ValueError:
        parsed = payload
    return status, parsed, pairs


def header(pairs, name):
    return [v for k, v in pairs if k.lower() == name.lower()]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    company = Company(tmp_path_factory.mktemp("console-co"))
    server = Server(tmp_path_factory.mktemp("console-srv"), "sqlite")
    try:
        yield server, Org(server, company, company.dir)
    finally:
        assert server.stop() == 0, server.logs()


def sign_in(server, org, who="alice"):
    body = signed_session_request(org.tmp / f"{who}.key", org.id, who, f"{who}-key", "kura-coordinator")
    status, out, headers = call(server, "POST", f"/v1/orgs/{org.id}/console/session", body)
    assert status == 201, out
    cookies = header(headers, "Set-Cookie")
    assert len(cookies) == 1
    value = cookies[0].split(";")[0]
    assert value.startswith(COOKIE + "=")
    return out, value[len(COOKIE) + 1:], cookies[0]


def test_console_files_carry_the_security_headers(world):
    server, _ = world
    status, _, headers = call(server, "GET", "/")
    assert status == 302 and header(headers, "Location") == ["/console/"]
    status, _, headers = call(server, "GET", "/console")
    assert status == 302 and header(headers, "Location") == ["/console/"]
    status, page, headers = call(server, "GET", "/console/")
    assert status == 200 and page == (CONSOLE / "index.html").read_bytes()
    csp = header(headers, "Content-Security-Policy")[0]
    directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.split(";"))
    assert directives["default-src"] == "'none'" and directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'" and directives["frame-ancestors"] == "'none'"
    assert directives["require-trusted-types-for"] == "'script'" and directives["trusted-types"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert header(headers, "X-Content-Type-Options") == ["nosniff"]
    assert header(headers, "X-Frame-Options") == ["DENY"]
    assert header(headers, "Content-Type") == ["text/html; charset=utf-8"]
    served = 0
    for f in sorted(CONSOLE.rglob("*")):
        if f.is_file() and f.suffix in (".js", ".css") and not any(p.startswith(".") for p in f.parts):
            rel = f.relative_to(CONSOLE).as_posix()
            status, body, headers = call(server, "GET", f"/console/{rel}")
            assert status == 200 and body == f.read_bytes(), rel
            assert header(headers, "Content-Type")[0].startswith(
                "text/javascript" if f.suffix == ".js" else "text/css"), rel
            assert header(headers, "Content-Security-Policy") == [csp]
            served += 1
    assert served >= 1


@pytest.mark.parametrize("path", ["/console/../openapi.json", "/console/%2e%2e/openapi.json", "/console/missing.js",
                                  "/console/TESTING.md", "/console/index.html/x", "/console/.hidden.js"])
def test_only_console_files_are_served(world, path):
    server, _ = world
    status, body, headers = call(server, "GET", path)
    assert status == 404 and body["error"]["code"] == "not_found", (path, status, body)
    # Positive control: the page itself is there.
    assert call(server, "GET", "/console/index.html")[0] == 200


def test_a_passkey_session_lives_in_an_httponly_cookie_and_mutations_need_its_csrf_value(world):
    server, org = world
    session, token, set_cookie = sign_in(server, org, "alice")
    attributes = [a.strip() for a in set_cookie.split(";")[1:]]
    assert {"Path=/", "Secure", "HttpOnly", "SameSite=Strict"} <= set(attributes), set_cookie
    assert not any(a.lower().startswith("domain") for a in attributes)
    assert token.startswith("kura_") and token not in json.dumps(session)  # the token never reaches scripts
    assert session["member"] == "alice" and session["roles"] == ["initiator"] and len(session["csrf"]) == 43
    base = f"/v1/orgs/{org.id}"
    # The cookie authenticates reads, and the session route gives the same CSRF value back.
    status, again, _ = call(server, "GET", f"{base}/console/session", cookie=token)
    assert status == 200 and again["csrf"] == session["csrf"] and again["member"] == "alice"
    # The session's expiry is the token's, as issued (read with the token when the cookie authenticates).
    assert again["expiresAt"] == session["expiresAt"] > time.time() and again["tokenId"] == session["tokenId"]
    status, intents, _ = call(server, "GET", f"{base}/intents", cookie=token)
    assert status == 200 and "intents" in intents
    # A mutation by cookie without the CSRF header, with another session's value, or from another origin: 403.
    other, _, _ = sign_in(server, org, "alice")
    altered = session["csrf"][:-1] + ("B" if session["csrf"].endswith("A") else "A")
    for headers in ({}, {"X-Kura-CSRF": other["csrf"]}, {"X-Kura-CSRF": altered},
                    {"X-Kura-CSRF": session["csrf"], "Origin": "http://evil.example"}):
        status, err, _ = call(server, "POST", f"{base}/wallets/btc-main/addresses", {"label": "x"}, cookie=token,
                              headers=headers)
        assert status == 403 and err["error"]["code"] == "forbidden" and "csrf" in err["error"]["message"], headers
    assert call(server, "GET", f"{base}/wallets/btc-main/addresses", cookie=token)[1]["addresses"] == []
    # Positive control: with the value (and this origin) it goes through.
    status, made, _ = call(server, "POST", f"{base}/wallets/btc-main/addresses", {"label": "x"}, cookie=token,
                           headers={"X-Kura-CSRF": session["csrf"], "Origin": server.url})
    assert status == 201, made
    # An API token in a header is not a console session (and cannot be ended as one).
    bearer = org.token("alice")
    status, err, _ = call(server, "GET", f"{base}/console/session", headers={"Authorization": f"Bearer {bearer}"})
    assert status == 401 and err["error"]["code"] == "unauthenticated"
    # Signing out revokes the token and clears the cookie; the cookie then authenticates nothing.
    status, err, _ = call(server, "DELETE", f"{base}/console/session", cookie=token)
    assert status == 403  # CSRF applies to signing out too
    status, out, headers = call(server, "DELETE", f"{base}/console/session", cookie=token,
                                headers={"X-Kura-CSRF": session["csrf"]})
    assert status == 200 and out["revoked"] == session["tokenId"]
    assert "Max-Age=0" in header(headers, "Set-Cookie")[0]
    status, err, _ = call(server, "GET", f"{base}/intents", cookie=token)
    assert status == 401 and err["error"]["code"] == "unauthenticated"
    assert call(server, "GET", f"{base}/intents", cookie=other["tokenId"])[0] == 401  # an id is not a token


def test_console_session_requests_are_verified_like_any_other(world):
    server, org = world
    base = f"/v1/orgs/{org.id}/console/session"
    good = signed_session_request(org.tmp / "bob.key", org.id, "bob", "bob-key", "kura-coordinator")
    refused = [
        signed_session_request(org.tmp / "bob.key", org.id, "carol", "carol-key", "kura-coordinator"),  # not carol's
        signed_session_request(org.tmp / "bob.key", org.id, "bob", "bob-key", "another-service"),  # audience
        signed_session_request(org.tmp / "bob.key", org.id, "bob", "bob-key", "kura-coordinator",
                               created=int(time.time()) - 3600),  # expired
        {"request": good["request"]},  # unsigned
    ]
    for body in refused:
        status, err, headers = call(server, "POST", base, body)
        assert status == 401 and err["error"]["code"] == "unauthenticated", (status, err)
        assert header(headers, "Set-Cookie") == []
    status, out, headers = call(server, "POST", base, good)
    assert status == 201 and out["member"] == "bob" and len(header(headers, "Set-Cookie")) == 1
    status, err, headers = call(server, "POST", base, good)  # single use
    assert status == 401 and header(headers, "Set-Cookie") == []
    status, config, _ = call(server, "GET", "/v1/console/config")
    assert status == 200 and config == {"audience": "kura-coordinator"}


def test_intent_detail_carries_the_exact_signed_bytes(world):
    import base64

    server, org = world
    intent = org.create_intent(amount="1000")
    org.approve(intent["id"], "bob")
    status, detail, _ = server.request("GET", f"/v1/orgs/{org.id}/intents/{intent['id']}", token=org.token("a1"))
    assert status == 200
    signed = json.loads(base64.b64decode(detail["documentBase64"]))
    assert signed == detail["document"]
    digest = tagged("kura/intent/v1", canonical(signed["intent"]))
    assert digest.hex() == detail["intent"]["digest"]  # recomputed independently from the bytes
    approval = json.loads(base64.b64decode(detail["approvals"][0]["documentBase64"]))
    assert approval["approval"]["intent"] == digest.hex() and approval["approval"]["approver"] == "bob"


def test_console_dir_and_no_console(world, tmp_path):
    server, _ = world
    site = tmp_path / "console"
    (site / "js").mkdir(parents=True)
    (site / "index.html").write_text("<!doctype html><title>other</title>")
    (site / "js" / "app.js").write_text("export const x = 1;\n")
    (site / ".secret.js").write_text("hidden")
    other = Server(tmp_path, "sqlite", extra=["--console-dir", str(site)])
    try:
        assert call(other, "GET", "/console/")[1] == b"<!doctype html><title>other</title>"
        assert call(other, "GET", "/console/js/app.js")[1] == b"export const x = 1;\n"
        assert call(other, "GET", "/console/.secret.js")[0] == 404
    finally:
        assert other.stop() == 0
    bare = Server(tmp_path, "sqlite", extra=["--no-console"])
    try:
        status, err, _ = call(bare, "GET", "/console/")
        assert status == 404 and err["error"]["code"] == "not_found"
        assert call(bare, "GET", "/health")[0] == 200
    finally:
        assert bare.stop() == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(RuntimeError, match="index.html"):
        Server(tmp_path, "sqlite", extra=["--console-dir", str(empty)])
