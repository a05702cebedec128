"""WebAuthn assertions from authenticators we did not write, checked by the built
`kura-devtool credential verify` and by py_webauthn (`webauthn.verify_authentication_response`)
as the oracle.

- soft-webauthn (a software authenticator) registers a passkey for several RP ids and origins
  (registration checked by py_webauthn, which also gives us the passkey's public key) and makes
  assertions whose challenge is a random 32-byte digest. It sets UP only, never UV.
- Chromium's virtual authenticator (CTAP2, user verification), driven over the DevTools protocol,
  makes assertions with UV; the browser writes the client data itself (with `crossOrigin`). It runs
  when Debian's `chromium` is installed and is skipped, by name, when it is not.

Every assertion must verify with both; each tampering (challenge, origin, RP id hash, UP cleared,
UV absent or cleared where required, type, signature) must be refused by our binary with its own
code and by py_webauthn with the matching reason, beside the untampered positive control.
"""
import base64
import hashlib
import json
import os
import secrets

import pytest
from soft_webauthn import SoftWebauthnDevice
from webauthn import verify_authentication_response, verify_registration_response
from webauthn.helpers import decode_credential_public_key
from webauthn.helpers.exceptions import InvalidAuthenticationResponse

import chromium_webauthn
from conftest import run

ASSERTIONS_PER_PARTY = int(os.environ.get("KURA_INTEROP_WEBAUTHN", "6"))

# (RP id, origin) pairs: apex, subdomain origin, non-default port, localhost over http.
PARTIES = [
    ("example.com", "https://example.com"),
    ("example.org", "https://login.example.org"),
    ("wallet.test", "https://console.wallet.test:8443"),
    ("localhost", "http://localhost:8080"),
]


def b64url(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


class Passkey:
    """A registered passkey: what a policy would record about it."""

    def __init__(self, rp_id: str, origin: str, cose_key: bytes, credential_id: bytes):
        self.rp_id, self.origin, self.cose_key, self.credential_id = rp_id, origin, cose_key, credential_id
        decoded = decode_credential_public_key(cose_key)
        self.sec1 = b"\x04" + decoded.x + decoded.y

    def credential_json(self, require_uv: bool) -> dict:
        return {
            "id": "passkey-" + self.rp_id,
            "scheme": "webauthn-es256",
            "publicKey": self.sec1.hex(),
            "rpID": self.rp_id,
            "origins": [self.origin],
            "requireUserVerification": require_uv,
        }


def register_soft(rp_id: str, origin: str) -> tuple[SoftWebauthnDevice, Passkey]:
    device = SoftWebauthnDevice()
    challenge = secrets.token_bytes(32)
    options = {
        "publicKey": {
            "challenge": challenge,
            "rp": {"id": rp_id, "name": "Kura"},
            "user": {"id": secrets.token_bytes(16), "name": "alice", "displayName": "Alice"},
            "pubKeyCredParams": [{"alg": -7, "type": "public-key"}],
            "attestation": "none",
        }
    }
    created = device.create(options, origin)
    r = created["response"]
    return device, register(created["rawId"], r["clientDataJSON"], r["attestationObject"], challenge, rp_id, origin)


def register(raw_id: bytes, client_data: bytes, attestation: bytes, challenge: bytes, rp_id: str, origin: str,
             require_uv: bool = False) -> Passkey:
    """Checks a registration with py_webauthn and returns the passkey it registered."""
    registration = verify_registration_response(
        credential={
            "id": b64url(raw_id),
            "rawId": b64url(raw_id),
            "response": {"clientDataJSON": b64url(client_data), "attestationObject": b64url(attestation)},
            "type": "public-key",
        },
        expected_challenge=challenge,
        expected_rp_id=rp_id,
        expected_origin=origin,
        require_user_verification=require_uv,
    )
    return Passkey(rp_id, origin, registration.credential_public_key, registration.credential_id)


def soft_assertion(device: SoftWebauthnDevice, rp_id: str, origin: str, digest: bytes) -> dict:
    got = device.get({"publicKey": {"challenge": digest, "rpId": rp_id}}, origin)
    r = got["response"]
    return {
        "authenticatorData": r["authenticatorData"],
        "clientDataJSON": r["clientDataJSON"],
        "signature": r["signature"],
    }


def ours(tmp_path, passkey: Passkey, assertion: dict, digest: bytes, require_uv: bool) -> str:
    """`ok`, or the error code our binary prints."""
    cred = tmp_path / "credential.json"
    evid = tmp_path / "evidence.json"
    cred.write_text(json.dumps(passkey.credential_json(require_uv)))
    evid.write_text(
        json.dumps(
            {
                "scheme": "webauthn-es256",
                "authenticatorData": assertion["authenticatorData"].hex(),
                "clientDataJSON": assertion["clientDataJSON"].hex(),
                "signature": assertion["signature"].hex(),
            }
        )
    )
    proc = run("kura-devtool", "credential", "verify", "--credential", cred, "--evidence", evid, "--digest", digest.hex())
    out, err = proc.stdout.decode().strip(), proc.stderr.decode().strip()
    if proc.returncode == 0:
        assert out == "ok" and err == "", (out, err)
        return "ok"
    assert proc.returncode == 65, (proc.returncode, out, err)
    prefix = "kura-devtool: error: "
    assert err.startswith(prefix) and out == "", err
    return err[len(prefix) :].split(":", 1)[0]


def oracle(passkey: Passkey, assertion: dict, digest: bytes, require_uv: bool) -> str:
    """`ok`, or py_webauthn's reason for refusing."""
    try:
        verify_authentication_response(
            credential={
                "id": b64url(passkey.credential_id),
                "rawId": b64url(passkey.credential_id),
                "response": {
                    "authenticatorData": b64url(assertion["authenticatorData"]),
                    "clientDataJSON": b64url(assertion["clientDataJSON"]),
                    "signature": b64url(assertion["signature"]),
                },
                "type": "public-key",
            },
            expected_challenge=digest,
            expected_rp_id=passkey.rp_id,
            expected_origin=passkey.origin,
            credential_public_key=passkey.cose_key,
            credential_current_sign_count=0,
            require_user_verification=require_uv,
        )
        return "ok"
    except InvalidAuthenticationResponse as e:
        return str(e)


# Tamperings: (name, function of (assertion, digest) -> (assertion, digest), our code, py_webauthn's reason).
def replace_client_data(old: bytes, new: bytes):
    def f(a, d):
        cd = a["clientDataJSON"]
        assert old in cd, (old, cd)
        return {**a, "clientDataJSON": cd.replace(old, new, 1)}, d

    return f


def set_flags(change):
    def f(a, d):
        ad = bytearray(a["authenticatorData"])
        ad[32] = change(ad[32])
        return {**a, "authenticatorData": bytes(ad)}, d

    return f


def other_rp_id_hash(a, d):
    ad = hashlib.sha256(b"evil.example").digest() + a["authenticatorData"][32:]
    return {**a, "authenticatorData": ad}, d


def flip_signature(a, d):
    s = a["signature"]
    return {**a, "signature": s[:-1] + bytes([s[-1] ^ 0x01])}, d


def other_digest(a, d):
    return a, secrets.token_bytes(32)


def challenge_in_client_data(a, d):
    return replace_client_data(b64url(d).encode(), b64url(secrets.token_bytes(32)).encode())(a, d)


def origin_in_client_data(a, d):
    origin = json.loads(a["clientDataJSON"])["origin"].encode()
    return replace_client_data(b'"' + origin + b'"', b'"https://evil.example"')(a, d)


TAMPERINGS = [
    ("verified against another digest", other_digest, "webauthn_challenge_mismatch", "challenge"),
    ("challenge in client data", challenge_in_client_data, "webauthn_challenge_mismatch", "challenge"),
    ("origin in client data", origin_in_client_data, "webauthn_origin_mismatch", "origin"),
    ("rpIdHash in authenticator data", other_rp_id_hash, "webauthn_rp_id_mismatch", "RP ID hash"),
    ("UP flag cleared", set_flags(lambda f: f & ~0x01), "webauthn_user_presence", "not present"),
    ("type in client data", replace_client_data(b'"webauthn.get"', b'"webauthn.create"'), "webauthn_type", "type"),
    ("signature bit flipped", flip_signature, "invalid_signature", "signature"),
]


@pytest.fixture(scope="module", params=PARTIES, ids=[p[0] for p in PARTIES])
def soft_passkey(request):
    rp_id, origin = request.param
    return register_soft(rp_id, origin)


def test_soft_webauthn_assertions_verify_and_py_webauthn_agrees(soft_passkey, tmp_path):
    device, passkey = soft_passkey
    for _ in range(ASSERTIONS_PER_PARTY):
        digest = secrets.token_bytes(32)
        a = soft_assertion(device, passkey.rp_id, passkey.origin, digest)
        assert a["authenticatorData"][32] & 0x05 == 0x01  # soft-webauthn: UP, no UV
        assert ours(tmp_path, passkey, a, digest, require_uv=False) == "ok"
        assert oracle(passkey, a, digest, require_uv=False) == "ok"


def test_soft_webauthn_assertion_without_uv_is_refused_where_uv_is_required(soft_passkey, tmp_path):
    device, passkey = soft_passkey
    digest = secrets.token_bytes(32)
    a = soft_assertion(device, passkey.rp_id, passkey.origin, digest)
    assert ours(tmp_path, passkey, a, digest, require_uv=False) == "ok"  # positive control
    assert ours(tmp_path, passkey, a, digest, require_uv=True) == "webauthn_user_verification"
    assert "User verification is required" in oracle(passkey, a, digest, require_uv=True)


@pytest.mark.parametrize("name,tamper,code,reason", TAMPERINGS, ids=[t[0] for t in TAMPERINGS])
def test_tampered_soft_webauthn_assertion_is_refused_by_name(soft_passkey, tmp_path, name, tamper, code, reason):
    device, passkey = soft_passkey
    digest = secrets.token_bytes(32)
    a = soft_assertion(device, passkey.rp_id, passkey.origin, digest)
    assert ours(tmp_path, passkey, a, digest, require_uv=False) == "ok"
    assert oracle(passkey, a, digest, require_uv=False) == "ok"
    bad, bad_digest = tamper(a, digest)
    assert ours(tmp_path, passkey, bad, bad_digest, require_uv=False) == code
    verdict = oracle(passkey, bad, bad_digest, require_uv=False)
    assert verdict != "ok" and reason.lower() in verdict.lower(), verdict


# --- Chromium's virtual authenticator: user verification, and client data written by a browser ---

# (page host, RP id): localhost, a subdomain as its own RP id, and a page on a subdomain of the RP id.
CHROMIUM_PARTIES = [("localhost", "localhost"), ("wallet.localhost", "wallet.localhost"), ("console.wallet.localhost", "wallet.localhost")]


@pytest.fixture(scope="module")
def browser():
    assert chromium_webauthn.available(), "Debian's chromium is not installed (make deps installs it)"
    authenticator = chromium_webauthn.VirtualAuthenticator(user_verified=True)
    yield authenticator
    authenticator.close()


@pytest.fixture(scope="module", params=CHROMIUM_PARTIES, ids=[f"{h}@{r}" for h, r in CHROMIUM_PARTIES])
def chromium_passkey(request, browser):
    host, rp_id = request.param
    challenge = secrets.token_bytes(32)
    created = browser.create(host, rp_id, challenge, "required")
    passkey = register(created["rawId"], created["clientDataJSON"], created["attestationObject"], challenge, rp_id,
                       browser.origin(host), require_uv=True)
    return host, passkey


def chromium_assertion(browser, host, passkey, digest, user_verification="required"):
    return browser.get(host, passkey.rp_id, passkey.credential_id, digest, user_verification)


def test_chromium_uv_assertions_verify_and_py_webauthn_agrees(browser, chromium_passkey, tmp_path):
    host, passkey = chromium_passkey
    for _ in range(ASSERTIONS_PER_PARTY):
        digest = secrets.token_bytes(32)
        a = chromium_assertion(browser, host, passkey, digest)
        assert a["authenticatorData"][32] & 0x05 == 0x05  # UP and UV
        assert json.loads(a["clientDataJSON"])["crossOrigin"] is False  # the browser's own member
        assert ours(tmp_path, passkey, a, digest, require_uv=True) == "ok"
        assert oracle(passkey, a, digest, require_uv=True) == "ok"


def test_chromium_assertion_without_uv_verifies_only_where_uv_is_not_required(browser, chromium_passkey, tmp_path):
    host, passkey = chromium_passkey
    digest = secrets.token_bytes(32)
    a = chromium_assertion(browser, host, passkey, digest, user_verification="discouraged")
    assert a["authenticatorData"][32] & 0x05 == 0x01  # Chromium skips UV when it is discouraged
    assert ours(tmp_path, passkey, a, digest, require_uv=False) == "ok"
    assert oracle(passkey, a, digest, require_uv=False) == "ok"
    assert ours(tmp_path, passkey, a, digest, require_uv=True) == "webauthn_user_verification"
    assert "User verification is required" in oracle(passkey, a, digest, require_uv=True)


CHROMIUM_TAMPERINGS = TAMPERINGS + [
    ("UV flag cleared where required", set_flags(lambda f: f & ~0x04), "webauthn_user_verification", "verification"),
]


@pytest.mark.parametrize("name,tamper,code,reason", CHROMIUM_TAMPERINGS, ids=[t[0] for t in CHROMIUM_TAMPERINGS])
def test_tampered_chromium_assertion_is_refused_by_name(browser, chromium_passkey, tmp_path, name, tamper, code, reason):
    host, passkey = chromium_passkey
    digest = secrets.token_bytes(32)
    a = chromium_assertion(browser, host, passkey, digest)
    assert ours(tmp_path, passkey, a, digest, require_uv=True) == "ok"
    assert oracle(passkey, a, digest, require_uv=True) == "ok"
    bad, bad_digest = tamper(a, digest)
    assert ours(tmp_path, passkey, bad, bad_digest, require_uv=True) == code
    verdict = oracle(passkey, bad, bad_digest, require_uv=True)
    assert verdict != "ok" and reason.lower() in verdict.lower(), verdict
