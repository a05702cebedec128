"""Generates webauthn_assertions.json: WebAuthn assertions (W3C WebAuthn Level 2 §7.2) over random
32-byte digests with the verdict Kura's verifier must reach, for the unit tests of
Sources/Governance/Credentials. Each case changes one thing against a valid assertion; the verdict
is decided here, by construction, not by Kura's code.

The authenticator is simulated with Python `cryptography` (P-256 ECDSA); assertions from real
authenticators are checked in tests/interop/test_webauthn.py. Run from the repository root:
    .venv/bin/python Tests/Vectors/webauthn/generate.py > Tests/Vectors/webauthn/webauthn_assertions.json
"""
import base64
import hashlib
import json
import os
import struct
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())
RP_ID = "example.com"
ORIGIN = "https://example.com"


def b64url(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def public_key(key, compressed=False) -> str:
    fmt = serialization.PublicFormat.CompressedPoint if compressed else serialization.PublicFormat.UncompressedPoint
    return key.public_key().public_bytes(serialization.Encoding.X962, fmt).hex()


def auth_data(rp_id=RP_ID, flags=0x01, count=1, tail=b"") -> bytes:
    return hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", count) + tail


def client_data(digest: bytes, **over) -> bytes:
    members = {"type": "webauthn.get", "challenge": b64url(digest), "origin": ORIGIN, "crossOrigin": False}
    members.update(over)
    members = {k: v for k, v in members.items() if v is not None}
    return json.dumps(members, separators=(",", ":")).encode()


def sign(ad: bytes, cd: bytes, key=KEY) -> bytes:
    return key.sign(ad + hashlib.sha256(cd).digest(), ec.ECDSA(hashes.SHA256()))


cases = []


def case(name, expected, ad=None, cd=None, sig=None, digest=None, uv=False, origins=(ORIGIN,), rp_id=RP_ID,
         compressed=False):
    digest = digest if digest is not None else os.urandom(32)
    ad = ad if ad is not None else auth_data()
    cd = cd(digest) if callable(cd) else (cd if cd is not None else client_data(digest))
    sig = sig(ad, cd) if callable(sig) else (sig if sig is not None else sign(ad, cd))
    cases.append({
        "name": name,
        "expected": expected,
        "digest": digest.hex(),
        "credential": {
            "id": "passkey-1", "scheme": "webauthn-es256", "publicKey": public_key(KEY, compressed),
            "rpID": rp_id, "origins": list(origins), "requireUserVerification": uv,
        },
        "evidence": {
            "scheme": "webauthn-es256", "authenticatorData": ad.hex(), "clientDataJSON": cd.hex(), "signature": sig.hex(),
        },
    })


def high_s(ad, cd):
    r, s = decode_dss_signature(sign(ad, cd))
    return encode_dss_signature(r, N - s if s <= N // 2 else s)


def reencode(mutate):
    def f(ad, cd):
        r, s = decode_dss_signature(sign(ad, cd))
        return mutate(r, s)
    return f


def der_int(v: int, pad=False) -> bytes:
    b = v.to_bytes((v.bit_length() + 8) // 8, "big")
    if pad:
        b = b"\x00" + b
    return bytes([2, len(b)]) + b


# --- accepted ---
case("compact client data, UP only", "ok", cd=lambda d: client_data(d, crossOrigin=None))
case("browser client data with crossOrigin false", "ok")
case("browser extra member and tokenBinding", "ok", cd=lambda d: client_data(
    d, other_keys_can_be_added_here="do not compare clientDataJSON against a template. See https://goo.gl/yabPex",
    tokenBinding={"status": "supported"}, nested=[1, -2.5e3, None, True, {"a": []}]))
case("whitespace, reordered members and escapes", "ok", cd=lambda d: (
    '{ "origin" : "https:\\/\\/ex\\u0061mple.com",\n\t"challenge":"%s", "type":"webauthn.get", "x":"\\ud83d\\ude00" }'
    % b64url(d)).encode())
case("user verified, verification required", "ok", ad=auth_data(flags=0x05), uv=True)
case("user verified, verification not required", "ok", ad=auth_data(flags=0x05))
case("backup eligible and backed up", "ok", ad=auth_data(flags=0x1d))
case("extension outputs present (ED)", "ok", ad=auth_data(flags=0x81, tail=bytes.fromhex("a16b6372656450726f7465637402")))
case("extension outputs with nested map", "ok", ad=auth_data(flags=0x81, tail=bytes.fromhex("a1636162638201a1616100")))
case("high-S signature", "ok", sig=high_s)
case("compressed public key in the credential", "ok", compressed=True)
case("origin on a subdomain of the RP id", "ok", cd=lambda d: client_data(d, origin="https://login.example.com"),
     origins=("https://login.example.com",))
case("origin with a port, second of two", "ok", cd=lambda d: client_data(d, origin="https://example.com:8443"),
     origins=(ORIGIN, "https://example.com:8443"))
case("signature counter zero", "ok", ad=auth_data(count=0))

# --- refused: client data ---
case("type webauthn.create", "webauthn_type", cd=lambda d: client_data(d, type="webauthn.create"))
case("challenge of another digest", "webauthn_challenge_mismatch", cd=lambda d: client_data(d, challenge=b64url(os.urandom(32))))
case("challenge with base64 padding", "webauthn_challenge_mismatch", cd=lambda d: client_data(d, challenge=b64url(d) + "="))
case("challenge in standard base64", "webauthn_challenge_mismatch", digest=bytes([0xfb, 0xff] * 16),
     cd=lambda d: client_data(d, challenge=base64.b64encode(d).decode().rstrip("=")))
case("origin not allowed", "webauthn_origin_mismatch", cd=lambda d: client_data(d, origin="https://evil.example.com"))
case("origin with a trailing slash", "webauthn_origin_mismatch", cd=lambda d: client_data(d, origin=ORIGIN + "/"))
case("origin over http", "webauthn_origin_mismatch", cd=lambda d: client_data(d, origin="http://example.com"))
case("cross-origin frame", "webauthn_cross_origin", cd=lambda d: client_data(d, crossOrigin=True))
case("crossOrigin not a boolean", "webauthn_client_data_malformed", cd=lambda d: client_data(d, crossOrigin="false"))
case("type not a string", "webauthn_client_data_malformed", cd=lambda d: client_data(d, type=1))
case("origin missing", "webauthn_client_data_malformed", cd=lambda d: client_data(d, origin=None))
case("challenge named twice", "webauthn_client_data_malformed",
     cd=lambda d: ('{"type":"webauthn.get","challenge":"%s","challenge":"%s","origin":"%s"}'
                   % (b64url(os.urandom(32)), b64url(d), ORIGIN)).encode())
case("byte-order mark", "webauthn_client_data_malformed", cd=lambda d: b"\xef\xbb\xbf" + client_data(d))
case("bytes after the object", "webauthn_client_data_malformed", cd=lambda d: client_data(d) + b" {}")
case("lone surrogate escape", "webauthn_client_data_malformed", cd=lambda d: client_data(d, x="\ud800"))
case("invalid UTF-8", "webauthn_client_data_malformed", cd=lambda d: client_data(d)[:-1] + b',"x":"\xc3\x28"}')
case("raw control character", "webauthn_client_data_malformed", cd=lambda d: client_data(d)[:-1] + b',"x":"a\x01"}')
case("a JSON array", "webauthn_client_data_malformed", cd=lambda d: b"[" + client_data(d) + b"]")
case("client data over 4 KiB", "too_large", cd=lambda d: client_data(d, x="a" * 4096))

# --- refused: authenticator data ---
case("rpIdHash of another RP id", "webauthn_rp_id_mismatch", ad=auth_data(rp_id="evil.com"))
case("user not present", "webauthn_user_presence", ad=auth_data(flags=0x04))
case("user not verified, verification required", "webauthn_user_verification", uv=True)
case("attested credential data flag in an assertion", "webauthn_flags", ad=auth_data(flags=0x41))
case("backup state without backup eligibility", "webauthn_flags", ad=auth_data(flags=0x11))
case("ED set, nothing follows", "webauthn_authenticator_data_malformed", ad=auth_data(flags=0x81))
case("ED set, not a map", "webauthn_authenticator_data_malformed", ad=auth_data(flags=0x81, tail=bytes.fromhex("8101")))
case("ED set, map then a trailing byte", "webauthn_authenticator_data_malformed",
     ad=auth_data(flags=0x81, tail=bytes.fromhex("a1616100") + b"\x00"))
case("ED set, indefinite-length map", "webauthn_authenticator_data_malformed",
     ad=auth_data(flags=0x81, tail=bytes.fromhex("bf616100ff")))
case("ED set, truncated map", "webauthn_authenticator_data_malformed",
     ad=auth_data(flags=0x81, tail=bytes.fromhex("a2616100")))
case("ED clear, bytes after the counter", "webauthn_authenticator_data_malformed", ad=auth_data(tail=b"\x00"))
case("36 bytes of authenticator data", "webauthn_authenticator_data_malformed", ad=auth_data()[:36])
case("authenticator data over 1 KiB", "too_large", ad=auth_data(flags=0x81, tail=b"\x59\x03\xf0" + b"\x00" * 1008))

# --- refused: signature ---
case("signature by another key", "invalid_signature", sig=lambda ad, cd: sign(ad, cd, OTHER_KEY))
case("signature over other client data", "invalid_signature",
     sig=lambda ad, cd: sign(ad, cd + b" "))
case("last byte of the signature flipped", "invalid_signature",
     sig=lambda ad, cd: (lambda s: s[:-1] + bytes([s[-1] ^ 1]))(sign(ad, cd)))
case("DER with a trailing byte", "malformed_signature", sig=lambda ad, cd: sign(ad, cd) + b"\x00")
case("DER integer with a needless leading zero", "malformed_signature",
     sig=reencode(lambda r, s: (lambda body: bytes([0x30, len(body)]) + body)(der_int(r, pad=True) + der_int(s))))
case("raw r||s instead of DER", "malformed_signature",
     sig=reencode(lambda r, s: r.to_bytes(32, "big") + s.to_bytes(32, "big")))
case("signature over 72 bytes", "malformed_signature", sig=lambda ad, cd: sign(ad, cd) + b"\x00" * 8)

json.dump({"generator": "Tests/Vectors/webauthn/generate.py", "cases": cases}, sys.stdout, indent=1)
sys.stdout.write("\n")
