// Member signatures verified in this browser with WebCrypto, mirroring Sources/Governance/Credentials
// (docs/CREDENTIALS.md): `ed25519` (pure Ed25519 over the 32 digest bytes), `p256` (ECDSA P-256 with SHA-256 over
// the 32 digest bytes, signature r‖s) and `webauthn-es256` (an assertion whose challenge is the digest). Every
// refusal has the code Kura's verifier gives. Pure: no I/O, no DOM.
import { concatBytes, fromHex, parseStrictBytes, sha256, utf8 } from './canonical.js';

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;
const MAX_CLIENT_DATA = 4096;
const MAX_AUTHENTICATOR_DATA = 1024;

const refuse = (code) => ({ ok: false, code });

function hexBytes(text, length) {
  if (typeof text !== 'string' || text.length !== length * 2 || !/^[0-9a-fA-F]*$/.test(text)) return null;
  try {
    return fromHex(text.toLowerCase());
  } catch {
    return null;
  }
}

/** Bytes of unpadded base64url text, or null. */
function b64urlBytes(text) {
  if (typeof text !== 'string' || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function b64url(bytes) {
  let bin = '';
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const toBig = (bytes) => bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);

function fromBig(n, length) {
  const out = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

function modPow(base, exp, mod) {
  let result = 1n;
  base %= mod;
  while (exp > 0n) {
    if (exp & 1n) result = (result * base) % mod;
    base = (base * base) % mod;
    exp >>= 1n;
  }
  return result;
}

/** The 65-byte uncompressed SEC1 point of a P-256 key given as 65 (04…) or 33 (02/03…) bytes, or null. */
export function uncompressedP256(key) {
  if (key.length === 65 && key[0] === 0x04) return key;
  if (key.length !== 33 || (key[0] !== 0x02 && key[0] !== 0x03)) return null;
  const x = toBig(key.subarray(1));
  if (x >= P) return null;
  const rhs = (((x * x) % P) * x - 3n * x + B + 3n * P) % P;
  let y = modPow(rhs, (P + 1n) / 4n, P);
  if ((y * y) % P !== rhs) return null; // x is not the abscissa of a point of the curve
  if (Number(y & 1n) !== (key[0] & 1)) y = (P - y) % P;
  return concatBytes(new Uint8Array([0x04]), key.subarray(1), fromBig(y, 32));
}

async function p256Key(hex) {
  const raw = typeof hex === 'string' && /^[0-9a-fA-F]*$/.test(hex) && hex.length % 2 === 0 ? fromHex(hex.toLowerCase()) : null;
  const point = raw && uncompressedP256(raw);
  if (!point) return null;
  try {
    return await crypto.subtle.importKey('raw', point, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  } catch {
    return null; // WebCrypto checks that the point is on the curve
  }
}

async function ecdsaVerify(key, rs, message) {
  try {
    return await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, rs, message);
  } catch {
    return false;
  }
}

/**
 * Strict DER `SEQUENCE { INTEGER r, INTEGER s }` (minimal lengths, minimal positive integers, nothing after) as
 * 64 bytes r‖s, or null.
 */
export function derToRaw(der) {
  if (der.length < 8 || der.length > 72 || der[0] !== 0x30 || der[1] >= 0x80 || der[1] + 2 !== der.length) return null;
  let i = 2;
  const parts = [];
  for (let n = 0; n < 2; n++) {
    if (i + 2 > der.length || der[i] !== 0x02) return null;
    const len = der[i + 1];
    if (len === 0 || len >= 0x80 || i + 2 + len > der.length) return null;
    const v = der.subarray(i + 2, i + 2 + len);
    if (v[0] & 0x80) return null; // negative
    if (v[0] === 0 && (len === 1 || !(v[1] & 0x80))) return null; // non-minimal (or zero)
    const trimmed = v[0] === 0 ? v.subarray(1) : v;
    if (trimmed.length > 32) return null;
    parts.push(concatBytes(new Uint8Array(32 - trimmed.length), trimmed));
    i += 2 + len;
  }
  if (i !== der.length) return null;
  return concatBytes(parts[0], parts[1]);
}

async function verifyWebAuthn(evidence, digest, credential) {
  const authData = b64urlBytes(evidence.authenticatorData);
  const clientData = b64urlBytes(evidence.clientDataJSON);
  const der = b64urlBytes(evidence.signature);
  if (!authData || !clientData || !der) return refuse('malformed_signature');
  if (clientData.length > MAX_CLIENT_DATA || authData.length > MAX_AUTHENTICATOR_DATA) return refuse('too_large');
  if (der.length > 72) return refuse('malformed_signature');
  let client;
  try {
    if (clientData[0] === 0xef && clientData[1] === 0xbb && clientData[2] === 0xbf) throw new Error('byte-order mark');
    client = parseStrictBytes(clientData);
  } catch {
    return refuse('webauthn_client_data_malformed');
  }
  if (!client || typeof client !== 'object' || Array.isArray(client)) return refuse('webauthn_client_data_malformed');
  for (const name of ['type', 'challenge', 'origin']) {
    if (typeof client[name] !== 'string') return refuse('webauthn_client_data_malformed');
  }
  if ('crossOrigin' in client && typeof client.crossOrigin !== 'boolean') return refuse('webauthn_client_data_malformed');
  if (client.type !== 'webauthn.get') return refuse('webauthn_type');
  if (client.challenge !== b64url(digest)) return refuse('webauthn_challenge_mismatch');
  if (!Array.isArray(credential.origins) || !credential.origins.includes(client.origin)) return refuse('webauthn_origin_mismatch');
  if (client.crossOrigin === true) return refuse('webauthn_cross_origin');
  if (authData.length < 37) return refuse('webauthn_authenticator_data_malformed');
  const flags = authData[32];
  // With ED clear nothing may follow the counter; with ED set, extensions follow (not parsed here: Kura requests none).
  if (!(flags & 0x80) && authData.length !== 37) return refuse('webauthn_authenticator_data_malformed');
  if ((flags & 0x80) && authData.length === 37) return refuse('webauthn_authenticator_data_malformed');
  if (flags & 0x40 || (flags & 0x10 && !(flags & 0x08))) return refuse('webauthn_flags');
  if (typeof credential.rpId !== 'string') return refuse('invalid_key');
  const rpIdHash = await sha256(utf8(credential.rpId));
  for (let i = 0; i < 32; i++) if (authData[i] !== rpIdHash[i]) return refuse('webauthn_rp_id_mismatch');
  if (!(flags & 0x01)) return refuse('webauthn_user_presence');
  if (credential.userVerification && !(flags & 0x04)) return refuse('webauthn_user_verification');
  const rs = derToRaw(der);
  if (!rs) return refuse('malformed_signature');
  const key = await p256Key(credential.publicKey);
  if (!key) return refuse('invalid_key');
  const message = concatBytes(authData, await sha256(clientData));
  return (await ecdsaVerify(key, rs, message)) ? { ok: true } : refuse('invalid_signature');
}

/**
 * Verifies a member signature `{member, credential, evidence}` over 32 digest bytes against the policy's
 * credential object `{id, scheme, publicKey, rpId?, origins?, userVerification?}`. Returns `{ok: true}` or
 * `{ok: false, code}` with the codes of docs/CREDENTIALS.md.
 */
export async function verifyMemberSignature(signature, digestBytes, credential) {
  try {
    if (!(digestBytes instanceof Uint8Array) || digestBytes.length !== 32) return refuse('invalid_digest');
    if (!credential || typeof credential !== 'object') return refuse('unknown_credential');
    const evidence = signature && signature.evidence;
    if (!evidence || typeof evidence !== 'object') return refuse('malformed_signature');
    if (evidence.scheme !== credential.scheme) return refuse('scheme_mismatch');
    if (credential.scheme === 'ed25519') {
      const sig = hexBytes(evidence.signature, 64);
      if (!sig) return refuse('malformed_signature');
      const raw = hexBytes(credential.publicKey, 32);
      if (!raw) return refuse('invalid_key');
      let key;
      try {
        key = await crypto.subtle.importKey('raw', raw, { name: 'Ed25519' }, false, ['verify']);
      } catch {
        return refuse('invalid_key');
      }
      let ok = false;
      try {
        ok = await crypto.subtle.verify({ name: 'Ed25519' }, key, sig, digestBytes);
      } catch {
        ok = false;
      }
      return ok ? { ok: true } : refuse('invalid_signature');
    }
    if (credential.scheme === 'p256') {
      const sig = hexBytes(evidence.signature, 64);
      if (!sig) return refuse('malformed_signature');
      const key = await p256Key(credential.publicKey);
      if (!key) return refuse('invalid_key');
      return (await ecdsaVerify(key, sig, digestBytes)) ? { ok: true } : refuse('invalid_signature');
    }
    if (credential.scheme === 'webauthn-es256') return await verifyWebAuthn(evidence, digestBytes, credential);
    return refuse('scheme_mismatch');
  } catch {
    return refuse('invalid_signature');
  }
}
