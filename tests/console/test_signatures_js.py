"""js/signatures.js in the real browser (Debian's headless Chromium, WebCrypto), against independent oracles.

The module is loaded with dynamic import() from a loopback server that answers with the console's own
Content-Security-Policy. Ed25519 and P-256 signatures are made by Python's `cryptography` over a digest; passkey
assertions by Chromium's virtual authenticator (and, for tampered authenticator data, re-signed in Python with the
authenticator's own private key). Every refusal is checked with its code beside its positive control, as
docs/CREDENTIALS.md gives them.
"""
import hashlib
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from .browser import b64url, b64url_decode
from .test_canonical_js import page  # noqa: F401  (the module fixture: console files under the console's CSP)
from .test_canonical_js import js as run_js

P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffff
N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551
B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b
DIGEST = hashlib.sha256(b"kura console signature test").digest()


def verify(page, signature, digest: bytes, credential):
    """verifyMemberSignature(signature, digest, credential) in the browser."""
    return run_js(page, """
      const s = await import('/js/signatures.js');
      return s.verifyMemberSignature(args[0], c.fromHex(args[1]), args[2]);
    """, signature, digest.hex(), credential)


def sig(scheme, **evidence):
    return {"member": "alice", "credential": "alice-key", "evidence": {"scheme": scheme, **evidence}}


def cred(scheme, public_key: bytes, **extra):
    return {"id": "alice-key", "scheme": scheme, "publicKey": public_key.hex(), **extra}


def raw_public(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def sec1(key, compressed=False) -> bytes:
    fmt = serialization.PublicFormat.CompressedPoint if compressed else serialization.PublicFormat.UncompressedPoint
    return key.public_key().public_bytes(serialization.Encoding.X962, fmt)


def p256_rs(key, message: bytes) -> tuple[int, int]:
    return decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))


def flip(data: bytes, index: int = 10) -> bytes:
    out = bytearray(data)
    out[index] ^= 1
    return bytes(out)


# MARK: - Ed25519

def test_ed25519(page):
    key = ed25519.Ed25519PrivateKey.generate()
    other = ed25519.Ed25519PrivateKey.generate()
    signature = key.sign(DIGEST)
    credential = cred("ed25519", raw_public(key))
    assert verify(page, sig("ed25519", signature=signature.hex()), DIGEST, credential) == {"ok": True}
    assert verify(page, sig("ed25519", signature=flip(signature).hex()), DIGEST, credential) == {"ok": False, "code": "invalid_signature"}
    assert verify(page, sig("ed25519", signature=signature.hex()), flip(DIGEST, 0), credential) == {"ok": False, "code": "invalid_signature"}
    assert verify(page, sig("ed25519", signature=signature.hex()), DIGEST, cred("ed25519", raw_public(other))) == {"ok": False, "code": "invalid_signature"}
    assert verify(page, sig("ed25519", signature=signature[:63].hex()), DIGEST, credential) == {"ok": False, "code": "malformed_signature"}
    assert verify(page, sig("ed25519", signature=signature.hex()), DIGEST, cred("ed25519", raw_public(key)[:31])) == {"ok": False, "code": "invalid_key"}
    # An Ed25519 signature is never tried as P-256, though both are 64 bytes.
    p256 = ec.generate_private_key(ec.SECP256R1())
    assert verify(page, sig("ed25519", signature=signature.hex()), DIGEST, cred("p256", sec1(p256))) == {"ok": False, "code": "scheme_mismatch"}
    assert verify(page, sig("ed25519", signature=signature.hex()), DIGEST[:31], credential) == {"ok": False, "code": "invalid_digest"}


# MARK: - P-256

def off_curve_x() -> int:
    x = 1
    while True:
        rhs = (x ** 3 - 3 * x + B) % P
        if pow(rhs, (P - 1) // 2, P) == P - 1:  # a non-residue: no point has this abscissa
            return x
        x += 1


def test_p256(page):
    key = ec.generate_private_key(ec.SECP256R1())
    other = ec.generate_private_key(ec.SECP256R1())
    r, s = p256_rs(key, DIGEST)
    rs = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    credential = cred("p256", sec1(key))
    assert verify(page, sig("p256", signature=rs.hex()), DIGEST, credential) == {"ok": True}
    # Compressed SEC1 (decompressed in the browser), both parities across keys.
    assert verify(page, sig("p256", signature=rs.hex()), DIGEST, cred("p256", sec1(key, compressed=True))) == {"ok": True}
    for _ in range(4):
        k2 = ec.generate_private_key(ec.SECP256R1())
        r2, s2 = p256_rs(k2, DIGEST)
        assert verify(page, sig("p256", signature=(r2.to_bytes(32, "big") + s2.to_bytes(32, "big")).hex()), DIGEST,
                      cred("p256", sec1(k2, compressed=True))) == {"ok": True}
    # High S is accepted (docs/CREDENTIALS.md).
    high = r.to_bytes(32, "big") + (N - s).to_bytes(32, "big")
    assert verify(page, sig("p256", signature=high.hex()), DIGEST, credential) == {"ok": True}
    assert verify(page, sig("p256", signature=flip(rs).hex()), DIGEST, credential) == {"ok": False, "code": "invalid_signature"}
    assert verify(page, sig("p256", signature=rs.hex()), DIGEST, cred("p256", sec1(other))) == {"ok": False, "code": "invalid_signature"}
    # Out-of-range scalars.
    zero = bytes(32) + s.to_bytes(32, "big")
    big = r.to_bytes(32, "big") + N.to_bytes(32, "big")
    assert verify(page, sig("p256", signature=zero.hex()), DIGEST, credential) == {"ok": False, "code": "invalid_signature"}
    assert verify(page, sig("p256", signature=big.hex()), DIGEST, credential) == {"ok": False, "code": "invalid_signature"}
    # DER is not accepted for the p256 scheme.
    der = encode_dss_signature(r, s)
    assert verify(page, sig("p256", signature=der.hex()), DIGEST, credential) == {"ok": False, "code": "malformed_signature"}
    # Off-curve keys: compressed (no square root) and uncompressed (y changed), x ≥ p, hybrid prefix.
    x = off_curve_x()
    assert verify(page, sig("p256", signature=rs.hex()), DIGEST, cred("p256", b"\x02" + x.to_bytes(32, "big"))) == {"ok": False, "code": "invalid_key"}
    point = sec1(key)
    assert verify(page, sig("p256", signature=rs.hex()), DIGEST, cred("p256", flip(point, 64))) == {"ok": False, "code": "invalid_key"}
    assert verify(page, sig("p256", signature=rs.hex()), DIGEST, cred("p256", b"\x03" + P.to_bytes(32, "big"))) == {"ok": False, "code": "invalid_key"}
    assert verify(page, sig("p256", signature=rs.hex()), DIGEST, cred("p256", b"\x06" + point[1:])) == {"ok": False, "code": "invalid_key"}
    assert verify(page, sig("p256", signature=rs.hex()), DIGEST, cred("ed25519", bytes(32))) == {"ok": False, "code": "scheme_mismatch"}


# MARK: - Passkeys (Chromium's virtual authenticator)

def der_non_minimal(der: bytes) -> bytes:
    """The same (r, s) with a redundant leading zero byte in r."""
    r, s = decode_dss_signature(der)
    rb = r.to_bytes((r.bit_length() + 7) // 8, "big")
    rb = b"\x00" * (1 + (rb[0] >= 0x80)) + rb
    sb = s.to_bytes((s.bit_length() + 7) // 8, "big")
    sb = (b"\x00" if sb[0] >= 0x80 else b"") + sb
    body = b"\x02" + bytes([len(rb)]) + rb + b"\x02" + bytes([len(sb)]) + sb
    return b"\x30" + bytes([len(body)]) + body


@pytest.fixture(scope="module")
def passkey(page):  # noqa: F811
    browser, site = page
    browser.add_passkey_authenticator()
    try:
        made = run_js(page, """
          localStorage.removeItem('kura.console.passkeys');
          const { policyCredential } = await w.register({ org: 'acme', member: 'alice', credentialId: 'alice-key' });
          const signature = await w.memberSignature({ org: 'acme', member: 'alice', credentialId: 'alice-key', digest: c.fromHex(args[0]) });
          return { policyCredential, signature };
        """, DIGEST.hex())
        assert "error" not in made, made
        [held] = browser.credentials()
        private = serialization.load_der_private_key(held["privateKey"], password=None)
        yield made["policyCredential"], made["signature"], private
    finally:
        browser.remove_passkey_authenticator()


def resigned(signature, private, auth_data: bytes, client_data: bytes | None = None, der=None):
    """The assertion with other authenticator data (or client data), signed by the authenticator's own key."""
    client = client_data if client_data is not None else b64url_decode(signature["evidence"]["clientDataJSON"])
    der = der or private.sign(auth_data + hashlib.sha256(client).digest(), ec.ECDSA(hashes.SHA256()))
    return {**signature, "evidence": {"scheme": "webauthn-es256", "authenticatorData": b64url(auth_data),
                                      "clientDataJSON": b64url(client), "signature": b64url(der)}}


def test_passkey_assertion_accepted_and_tampering_refused(page, passkey):  # noqa: F811
    credential, signature, private = passkey
    ev = signature["evidence"]
    auth = b64url_decode(ev["authenticatorData"])
    client = b64url_decode(ev["clientDataJSON"])
    der = b64url_decode(ev["signature"])
    assert auth[32] & 0x05 == 0x05  # UP and UV
    assert verify(page, signature, DIGEST, credential) == {"ok": True}
    # The same check by our own re-signing (positive control for the re-signed cases below).
    assert verify(page, resigned(signature, private, auth), DIGEST, credential) == {"ok": True}

    def evidence_with(**kw):
        return {**signature, "evidence": {**ev, **kw}}

    refused = lambda s, d=DIGEST, c=credential: verify(page, s, d, c)  # noqa: E731
    assert refused(signature, flip(DIGEST, 0)) == {"ok": False, "code": "webauthn_challenge_mismatch"}
    assert refused(signature, DIGEST, {**credential, "origins": ["https://console.example.com"]}) == {"ok": False, "code": "webauthn_origin_mismatch"}
    assert refused(signature, DIGEST, {**credential, "rpId": "example.com"}) == {"ok": False, "code": "webauthn_rp_id_mismatch"}
    other = ec.generate_private_key(ec.SECP256R1())
    assert refused(signature, DIGEST, {**credential, "publicKey": sec1(other).hex()}) == {"ok": False, "code": "invalid_signature"}
    # The passkey's key compressed: accepted.
    compressed = sec1(private, compressed=True).hex()
    assert refused(signature, DIGEST, {**credential, "publicKey": compressed}) == {"ok": True}
    assert refused(signature, DIGEST, {**credential, "scheme": "p256"}) == {"ok": False, "code": "scheme_mismatch"}
    # A flipped bit in the signature's r.
    r, s = decode_dss_signature(der)
    assert refused(evidence_with(signature=b64url(encode_dss_signature(r ^ 1, s)))) == {"ok": False, "code": "invalid_signature"}
    # A flipped bit in the signed authenticator data's counter (not re-signed).
    assert refused(evidence_with(authenticatorData=b64url(flip(auth, 36)))) == {"ok": False, "code": "invalid_signature"}
    # High S: accepted.
    assert refused(evidence_with(signature=b64url(encode_dss_signature(r, N - s)))) == {"ok": True}
    # Non-minimal DER, trailing bytes, over 72 bytes: malformed.
    assert refused(evidence_with(signature=b64url(der_non_minimal(der)))) == {"ok": False, "code": "malformed_signature"}
    assert refused(evidence_with(signature=b64url(der + b"\x00"))) == {"ok": False, "code": "malformed_signature"}
    assert refused(evidence_with(signature=b64url(der + bytes(73 - len(der))))) == {"ok": False, "code": "malformed_signature"}
    # UP clear (re-signed): refused; UV clear: refused when the credential requires it, accepted otherwise.
    up_clear = auth[:32] + bytes([auth[32] & ~0x01]) + auth[33:]
    assert refused(resigned(signature, private, up_clear)) == {"ok": False, "code": "webauthn_user_presence"}
    uv_clear = auth[:32] + bytes([auth[32] & ~0x04]) + auth[33:]
    assert refused(resigned(signature, private, uv_clear)) == {"ok": False, "code": "webauthn_user_verification"}
    assert refused(resigned(signature, private, uv_clear), DIGEST, {**credential, "userVerification": False}) == {"ok": True}
    # Client data: another type, crossOrigin true, a member named twice (each re-signed).
    data = json.loads(client)
    typed = json.dumps({**data, "type": "webauthn.create"}).encode()
    assert refused(resigned(signature, private, auth, typed)) == {"ok": False, "code": "webauthn_type"}
    cross = json.dumps({**data, "crossOrigin": True}).encode()
    assert refused(resigned(signature, private, auth, cross)) == {"ok": False, "code": "webauthn_cross_origin"}
    reordered = json.dumps(dict(reversed(list({**data, "crossOrigin": False, "extra": {"a": [1]}}.items())))).encode()
    assert refused(resigned(signature, private, auth, reordered)) == {"ok": True}
    twice = client[:-1] + b',"type":"webauthn.get"}'
    assert refused(resigned(signature, private, auth, twice)) == {"ok": False, "code": "webauthn_client_data_malformed"}
    # Authenticator data too short, or with bytes after the counter and ED clear.
    assert refused(resigned(signature, private, auth[:36])) == {"ok": False, "code": "webauthn_authenticator_data_malformed"}
    assert refused(resigned(signature, private, auth + b"\x00")) == {"ok": False, "code": "webauthn_authenticator_data_malformed"}
    at_set = auth[:32] + bytes([auth[32] | 0x40]) + auth[33:]
    assert refused(resigned(signature, private, at_set)) == {"ok": False, "code": "webauthn_flags"}
