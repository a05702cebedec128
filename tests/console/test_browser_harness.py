"""The browser harness itself (tests/console/browser.py, conftest.py), on pages served by a loopback HTTP server with
the console's security headers: CSP and Trusted Types violations are reported (and a clean page reports none), the
page helpers work, a passkey round trip with the virtual authenticator verifies with py_webauthn and `cryptography`
(and fails without it), `__Host-` session cookies work on http://localhost, and two browsers share nothing."""
import hashlib
import json
import logging
import struct

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn import verify_authentication_response, verify_registration_response

from .browser import CONSOLE_CSP, StaticSite, b64url, b64url_decode

ICON = '<link rel="icon" href="data:,">'  # no /favicon.ico request (a 404 would be a console error)
FAVICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><rect width="1" height="1"/></svg>'


@pytest.fixture(scope="module")
def site():
    s = StaticSite()
    s.add("/clean.html", f'<!doctype html><html lang="en"><title>clean</title>{ICON}'
          '<p id="out">waiting</p><script type="module" src="/clean.js"></script>')
    s.add("/clean.js", 'const p = document.getElementById("out"); p.textContent = "module ran"; p.id = "done";')
    s.add("/inline.html", f'<!doctype html><html lang="en"><title>inline</title>{ICON}'
          '<p id="p">x</p><script>document.title = "inline ran";</script>')
    s.add("/style.html", f'<!doctype html><html lang="en"><title>style</title>{ICON}<p style="color: red">x</p>')
    s.add("/handler.html", f'<!doctype html><html lang="en"><title>handler</title>{ICON}'
          '<img alt="" src="/missing-on-purpose.png" onerror="document.title = \'handler ran\'">')
    s.add("/tt.html", f'<!doctype html><html lang="en"><title>tt</title>{ICON}'
          '<p id="p">x</p><script type="module" src="/tt.js"></script>')
    s.add("/tt.js", 'try { document.getElementById("p").innerHTML = "<b>html</b>"; document.title = "assigned"; }'
          ' catch (e) { document.title = "refused: " + e.name; }')
    s.add("/throw.html", f'<!doctype html><html lang="en"><title>throw</title>{ICON}'
          '<script type="module" src="/throw.js"></script>')
    s.add("/throw.js", 'throw new Error("kura harness: uncaught on purpose");')
    s.add("/form.html", f'<!doctype html><html lang="en"><title>form</title>{ICON}'
          '<label>Name <input id="name"></label><button id="go" type="button">Go</button><output id="result"></output>'
          '<script type="module" src="/form.js"></script>')
    s.add("/form.js", 'document.getElementById("go").addEventListener("click", () => {'
          ' document.getElementById("result").textContent = "hello " + document.getElementById("name").value; });')
    s.add("/blank.html", f'<!doctype html><html lang="en"><title>passkeys</title>{ICON}<p>passkeys</p>')
    cookie = "__Host-kura-session=token-1; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=600"
    s.add("/login", "ok", content_type="text/plain", headers={"Set-Cookie": cookie})
    s.add("/login-bad", "ok", content_type="text/plain", headers={"Set-Cookie": [
        "__Host-with-domain=1; Path=/; Secure; HttpOnly; SameSite=Strict; Domain=localhost",
        "__Host-not-secure=1; Path=/; HttpOnly; SameSite=Strict",
        "__Host-sub-path=1; Path=/v1; Secure; HttpOnly; SameSite=Strict"]})
    s.add("/logout", "ok", content_type="text/plain", headers={
        "Set-Cookie": "__Host-kura-session=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"})
    s.add("/after", "after", content_type="text/plain")
    s.add("/favicon.ico", FAVICON, content_type="image/svg+xml")  # text/plain pages have no <link rel="icon">: Chromium asks for this one
    yield s
    s.close()


def last_request(site, path):
    """The latest request for `path` (Chromium may ask for /favicon.ico after it)."""
    with site.lock:
        return [r for r in site.requests if r["path"] == path][-1]


def test_console_headers_are_served(site):
    import urllib.request

    with urllib.request.urlopen(site.url("/clean.html", "127.0.0.1")) as r:
        assert r.headers["Content-Security-Policy"] == CONSOLE_CSP
        assert "trusted-types 'none'" in r.headers["Content-Security-Policy"]


def test_clean_page_reports_no_errors(browser, site):
    browser.open(site.url("/clean.html"))
    assert browser.text("#done") == "module ran"  # the external module ran under the CSP
    assert browser.errors() == []
    browser.assert_clean()


def test_inline_script_is_reported_as_a_csp_violation(browser, site):
    browser.open(site.url("/inline.html"))
    browser.wait_for("#p")
    assert browser.driver.title == "inline"  # it did not run
    errors = browser.errors()
    assert len(errors) == 1 and "Content Security Policy" in errors[0] and "script-src" in errors[0], errors
    with pytest.raises(AssertionError, match="script-src"):
        browser.assert_clean()
    assert browser.take_errors() == errors and browser.errors() == []


@pytest.mark.parametrize("page, directive, title", [
    ("/style.html", "style-src", "style"),
    ("/handler.html", "script-src", "handler"),
])
def test_inline_style_and_event_handlers_are_reported(browser, site, page, directive, title):
    browser.open(site.url(page))
    browser.wait_for("body", visible=False)
    errors = [e for e in browser.take_errors() if "missing-on-purpose" not in e]  # the image's 404 is expected too
    assert any("Content Security Policy" in e and directive in e for e in errors), errors
    assert browser.driver.title == title  # the handler did not run


def test_trusted_types_violation_is_reported(browser, site):
    browser.open(site.url("/tt.html"))
    browser.wait_for("#p")
    assert browser.driver.title == "refused: TypeError"  # the page caught it; the violation is still logged
    errors = browser.take_errors()
    assert len(errors) == 1 and "TrustedHTML" in errors[0], errors


def test_uncaught_exception_is_reported(browser, site):
    browser.open(site.url("/throw.html"))
    browser.wait_for("body", visible=False)
    errors = browser.take_errors()
    assert len(errors) == 1 and "uncaught on purpose" in errors[0], errors


def test_fill_click_text_and_screenshot(browser, site, tmp_path):
    browser.open(site.url("/form.html"))
    browser.fill("#name", "Aiko 愛子")
    browser.click("#go")
    assert browser.text("#result") == "hello Aiko 愛子"
    with pytest.raises(AssertionError, match="#nothing"):
        browser.wait_for("#nothing", timeout=0.5)
    png = browser.screenshot(tmp_path / "form.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    # The whole viewport: --window-size=1366,900 is the window; headless Chromium keeps room for its (invisible) UI.
    assert [width, height] == browser.run("return [window.innerWidth, window.innerHeight]")
    assert width == 1366 and 700 <= height <= 900
    assert browser.run("return navigator.language") == "en-US"


CREATE = r"""
const [challengeHex, userHex, abortMs, done] = arguments;
const bytes = (hex) => new Uint8Array(hex.match(/../g).map((h) => parseInt(h, 16)));
const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const abort = new AbortController();
setTimeout(() => abort.abort(), abortMs);
navigator.credentials.create({signal: abort.signal, publicKey: {
  challenge: bytes(challengeHex), rp: {id: location.hostname, name: 'Kura'},
  user: {id: bytes(userHex), name: 'aiko', displayName: 'Aiko'},
  pubKeyCredParams: [{type: 'public-key', alg: -7}],
  authenticatorSelection: {residentKey: 'required', userVerification: 'required'}, attestation: 'none'}})
.then((c) => done({ok: true, id: c.id, rawId: b64(c.rawId), type: c.type,
  clientDataJSON: b64(c.response.clientDataJSON), attestationObject: b64(c.response.attestationObject),
  publicKey: b64(c.response.getPublicKey()), algorithm: c.response.getPublicKeyAlgorithm(),
  transports: c.response.getTransports()}),
  (e) => done({ok: false, name: e.name, message: e.message}));
"""

GET = r"""
const [challengeHex, rawId, abortMs, done] = arguments;
const bytes = (hex) => new Uint8Array(hex.match(/../g).map((h) => parseInt(h, 16)));
const unb64 = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (ch) => ch.charCodeAt(0));
const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const abort = new AbortController();
setTimeout(() => abort.abort(), abortMs);
navigator.credentials.get({signal: abort.signal, publicKey: {
  challenge: bytes(challengeHex), rpId: location.hostname, userVerification: 'required',
  allowCredentials: [{type: 'public-key', id: unb64(rawId)}]}})
.then((a) => done({ok: true, id: a.id, rawId: b64(a.rawId), type: a.type,
  authenticatorData: b64(a.response.authenticatorData), clientDataJSON: b64(a.response.clientDataJSON),
  signature: b64(a.response.signature), userHandle: a.response.userHandle ? b64(a.response.userHandle) : null}),
  (e) => done({ok: false, name: e.name, message: e.message}));
"""


def test_passkey_round_trip_verifies_with_independent_oracles(browser, site):
    origin = site.url("").rstrip("/")
    assert origin.startswith("http://localhost:")
    browser.open(site.url("/blank.html"))
    challenge = hashlib.sha256(b"kura/session/v1 test digest").digest()
    user = bytes(range(16))

    # Negative controls: no authenticator (nothing answers; the page gives up), then one whose user is not verified.
    no_authenticator = browser.run_async(CREATE, challenge.hex(), user.hex(), 1500)
    assert no_authenticator == {"ok": False, "name": "AbortError", "message": no_authenticator["message"]}
    browser.add_passkey_authenticator(user_verified=False)
    unverified = browser.run_async(CREATE, challenge.hex(), user.hex(), 10000)
    assert unverified["ok"] is False and unverified["name"] == "NotAllowedError", unverified
    assert browser.credentials() == []
    browser.remove_passkey_authenticator()

    # The passkey: registration.
    browser.add_passkey_authenticator()
    created = browser.run_async(CREATE, challenge.hex(), user.hex(), 10000)
    assert created["ok"] is True, created
    assert created["algorithm"] == -7 and created["type"] == "public-key" and created["transports"] == ["internal"]
    registration = verify_registration_response(
        credential={"id": created["id"], "rawId": created["rawId"], "type": "public-key",
                    "response": {"clientDataJSON": created["clientDataJSON"],
                                 "attestationObject": created["attestationObject"]}},
        expected_challenge=challenge, expected_rp_id="localhost", expected_origin=origin,
        require_user_verification=True)
    assert registration.credential_id == b64url_decode(created["rawId"])
    assert registration.user_verified is True

    # The authenticator's own record of it: a resident key for rpId localhost whose private key matches the
    # public key the page got (SPKI DER from getPublicKey()).
    [stored] = browser.credentials()
    assert stored["id"] == registration.credential_id and stored["rpId"] == "localhost"
    assert stored["resident"] is True and stored["userHandle"] == user
    private = serialization.load_der_private_key(stored["privateKey"], password=None)
    spki = private.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
    assert spki == b64url_decode(created["publicKey"])
    public = serialization.load_der_public_key(spki)
    sec1 = public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    assert len(sec1) == 65 and sec1[0] == 4  # the console's policy credential "publicKey" (hex of these bytes)

    # Authentication: a signature over the challenge, verified by py_webauthn and by hand with `cryptography`.
    challenge2 = hashlib.sha256(b"kura/approval/v1 test digest").digest()
    asserted = browser.run_async(GET, challenge2.hex(), created["rawId"], 10000)
    assert asserted["ok"] is True, asserted
    assert asserted["userHandle"] == b64url(user)
    credential = {"id": asserted["id"], "rawId": asserted["rawId"], "type": "public-key",
                  "response": {"authenticatorData": asserted["authenticatorData"],
                               "clientDataJSON": asserted["clientDataJSON"], "signature": asserted["signature"],
                               "userHandle": asserted["userHandle"]}}
    verified = verify_authentication_response(
        credential=credential, expected_challenge=challenge2, expected_rp_id="localhost", expected_origin=origin,
        credential_public_key=registration.credential_public_key,
        credential_current_sign_count=registration.sign_count, require_user_verification=True)
    assert verified.user_verified is True and verified.new_sign_count > registration.sign_count

    auth_data = b64url_decode(asserted["authenticatorData"])
    client_data = b64url_decode(asserted["clientDataJSON"])
    signature = b64url_decode(asserted["signature"])
    assert auth_data[:32] == hashlib.sha256(b"localhost").digest()
    assert auth_data[32] & 0x05 == 0x05  # user present and user verified
    parsed = json.loads(client_data)
    assert parsed["type"] == "webauthn.get" and parsed["origin"] == origin
    assert b64url_decode(parsed["challenge"]) == challenge2
    public.verify(signature, auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))

    # Negative controls for the oracles: another challenge, another origin, a changed byte.
    with pytest.raises(Exception, match="challenge"):
        verify_authentication_response(
            credential=credential, expected_challenge=challenge, expected_rp_id="localhost", expected_origin=origin,
            credential_public_key=registration.credential_public_key, credential_current_sign_count=0)
    with pytest.raises(Exception, match="origin"):
        verify_authentication_response(
            credential=credential, expected_challenge=challenge2, expected_rp_id="localhost",
            expected_origin="http://localhost:1", credential_public_key=registration.credential_public_key,
            credential_current_sign_count=0)
    with pytest.raises(InvalidSignature):
        public.verify(signature, auth_data[:-1] + bytes([auth_data[-1] ^ 1]) + hashlib.sha256(client_data).digest(),
                      ec.ECDSA(hashes.SHA256()))

    # An IP address is no WebAuthn RP ID: on http://127.0.0.1 the browser refuses at once (the console must be
    # opened as http://localhost:PORT, or under a domain name).
    browser.open(site.url("/blank.html", "127.0.0.1"))
    by_ip = browser.run_async(CREATE, challenge.hex(), user.hex(), 10000)
    assert by_ip["ok"] is False and by_ip["name"] == "SecurityError", by_ip
    browser.open(site.url("/blank.html"))

    # Removed, the authenticator no longer answers: the same request goes unanswered.
    browser.remove_passkey_authenticator()
    gone = browser.run_async(GET, challenge2.hex(), created["rawId"], 1500)
    assert gone["ok"] is False and gone["name"] == "AbortError", gone


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_host_prefixed_secure_cookie_works_on_plain_http_loopback(browser, site, host):
    """Chrome treats http://localhost and http://127.0.0.1 as secure contexts: it keeps a `__Host-` cookie with
    Secure; HttpOnly; SameSite=Strict set over plain HTTP there and sends it back; scripts cannot read it."""
    browser.open(site.url("/login", host))
    browser.open(site.url("/after", host))
    [cookie] = [c for c in browser.cookies() if c["name"] == "__Host-kura-session"]
    assert cookie["value"] == "token-1" and cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert cookie["domain"] == host and cookie["path"] == "/"
    assert last_request(site, "/after")["cookie"] == "__Host-kura-session=token-1"
    assert browser.run("return document.cookie") == ""  # HttpOnly
    # Negative controls: Chrome does enforce the prefix's rules here (no Domain, Secure, Path=/).
    browser.open(site.url("/login-bad", host))
    assert sorted(c["name"] for c in browser.cookies()) == ["__Host-kura-session"]
    # Max-Age=0 clears it, and it is no longer sent.
    browser.open(site.url("/logout", host))
    browser.open(site.url("/after", host))
    assert browser.cookies() == []
    assert last_request(site, "/after")["cookie"] is None


def test_missing_browser_or_driver_fails_with_a_clear_message(monkeypatch, tmp_path):
    from . import browser as harness

    monkeypatch.setattr(harness, "CHROMEDRIVER", tmp_path / "no-chromedriver")
    with pytest.raises(RuntimeError, match="no-chromedriver missing.*chromium-driver"):
        harness.Browser()


def test_two_browsers_share_nothing(browser, browser_factory, site, caplog):
    with caplog.at_level(logging.DEBUG, logger="selenium"):
        second = browser_factory("operator-2")
    assert "Skipping Selenium Manager" in caplog.text  # Debian's driver, never a download
    browser.open(site.url("/login"))
    second.open(site.url("/after"))
    assert [c["name"] for c in browser.cookies()] == ["__Host-kura-session"]
    assert second.cookies() == []
    assert last_request(site, "/after")["cookie"] is None
    browser.add_passkey_authenticator()
    second.add_passkey_authenticator()
    challenge = bytes(32)
    browser.open(site.url("/blank.html"))
    second.open(site.url("/blank.html"))
    one = browser.run_async(CREATE, challenge.hex(), "01" * 16, 10000)
    assert one["ok"], one
    assert len(browser.credentials()) == 1 and second.credentials() == []
    # The second operator cannot use the first one's passkey.
    refused = second.run_async(GET, challenge.hex(), one["rawId"], 1500)
    assert refused["ok"] is False, refused
    browser.open(site.url("/logout"))
    browser.remove_passkey_authenticator()
    second.remove_passkey_authenticator()
