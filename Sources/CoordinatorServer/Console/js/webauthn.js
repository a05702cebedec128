// Passkeys: registration (no server round trip; the public key goes into the policy by the admins, see
// docs/CREDENTIALS.md) and signatures over document digests (the WebAuthn challenge is the 32 digest bytes).
import { bytesEqual, toHex, utf8 } from './canonical.js';

export const SCHEME = 'webauthn-es256';
const REGISTRATIONS_KEY = 'kura.console.passkeys';
const TIMEOUT_MS = 120000;

/** A passkey operation that failed, with a stable code for the message catalogue. */
export class PasskeyError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'PasskeyError';
    this.code = code;
  }
}

// MARK: - base64url (RFC 4648 §5, no padding)

/** base64url without padding. */
export function b64url(bytes) {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let bin = '';
  for (let i = 0; i < b.length; i++) bin += String.fromCharCode(b[i]);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Bytes of base64url text (padding not accepted, like Kura's decoder). */
export function fromB64url(text) {
  if (typeof text !== 'string' || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    throw new PasskeyError('invalid_base64url', 'not base64url');
  }
  const padded = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  const bin = atob(padded);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// MARK: - Keys

/**
 * The 65-byte SEC1 uncompressed point (`04 ‖ x ‖ y`) of a P-256 SubjectPublicKeyInfo (DER). WebCrypto parses
 * the SPKI, checks the curve and that the point is on it, then exports the raw point.
 */
export async function spkiToSec1(spki) {
  let key;
  try {
    key = await crypto.subtle.importKey('spki', spki, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
  } catch {
    throw new PasskeyError('unsupported_key', 'the passkey public key is not a P-256 key');
  }
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', key));
  if (raw.length !== 65 || raw[0] !== 0x04) throw new PasskeyError('unsupported_key', 'unexpected public key form');
  return raw;
}

// MARK: - Stored registrations (public data only: which credential, never a secret)

/** Registrations kept in this browser: `[{org, member, credentialId, rawId, rpId, createdAt}]`. */
export function registrations() {
  try {
    const list = JSON.parse(localStorage.getItem(REGISTRATIONS_KEY) || '[]');
    return Array.isArray(list)
      ? list.filter((r) => r && typeof r.rawId === 'string' && typeof r.credentialId === 'string' && typeof r.member === 'string')
      : [];
  } catch {
    return [];
  }
}

/** Remembers a registration (replacing one with the same organisation, member and credential id). */
export function remember(entry) {
  const list = registrations().filter(
    (r) => !(r.org === entry.org && r.member === entry.member && r.credentialId === entry.credentialId),
  );
  list.push(entry);
  localStorage.setItem(REGISTRATIONS_KEY, JSON.stringify(list));
}

/** Forgets a registration. */
export function forget(entry) {
  const list = registrations().filter(
    (r) => !(r.org === entry.org && r.member === entry.member && r.credentialId === entry.credentialId),
  );
  localStorage.setItem(REGISTRATIONS_KEY, JSON.stringify(list));
}

/** The registrations of one member of one organisation. */
export function registrationsFor(org, member) {
  return registrations().filter((r) => r.org === org && r.member === member);
}

// MARK: - Availability

/** Whether this page can use passkeys (a secure context with WebAuthn). */
export function available() {
  return Boolean(window.isSecureContext && window.PublicKeyCredential && navigator.credentials);
}

function mapDomError(err) {
  if (err instanceof PasskeyError) return err;
  const name = err && err.name;
  if (name === 'NotAllowedError') return new PasskeyError('cancelled', 'the passkey prompt was cancelled or timed out');
  if (name === 'InvalidStateError') return new PasskeyError('already_registered', 'this authenticator already holds a passkey for this account');
  if (name === 'SecurityError') return new PasskeyError('security', 'this origin may not use passkeys for this relying party');
  if (name === 'NotSupportedError') return new PasskeyError('unsupported', 'the authenticator does not support ES256 with user verification');
  return new PasskeyError('failed', 'the passkey operation failed');
}

// MARK: - Registration

/**
 * Creates a passkey (ES256, resident key, user verification required, no attestation) for `member` and
 * returns the policy credential JSON for it and the registration to remember.
 */
export async function register({ org, member, credentialId, displayName }) {
  if (!available()) throw new PasskeyError('unavailable', 'passkeys need a secure context (https or localhost)');
  const rpId = location.hostname;
  const existing = registrationsFor(org, member).map((r) => ({ type: 'public-key', id: fromB64url(r.rawId) }));
  let credential;
  try {
    credential = await navigator.credentials.create({
      publicKey: {
        challenge: crypto.getRandomValues(new Uint8Array(32)),
        rp: { id: rpId, name: 'Kura' },
        user: {
          id: crypto.getRandomValues(new Uint8Array(16)),
          name: `${member}@${org}`,
          displayName: displayName || member,
        },
        pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
        authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
        attestation: 'none',
        excludeCredentials: existing,
        timeout: TIMEOUT_MS,
      },
    });
  } catch (err) {
    throw mapDomError(err);
  }
  if (!credential || !credential.response) throw new PasskeyError('failed', 'no credential was created');
  const response = credential.response;
  if (typeof response.getPublicKeyAlgorithm === 'function' && response.getPublicKeyAlgorithm() !== -7) {
    throw new PasskeyError('unsupported', 'the passkey does not use ES256');
  }
  if (typeof response.getPublicKey !== 'function') throw new PasskeyError('unsupported', 'this browser cannot export the public key');
  const spki = response.getPublicKey();
  if (!spki) throw new PasskeyError('unsupported_key', 'the passkey public key is not available');
  const sec1 = await spkiToSec1(new Uint8Array(spki));
  const policyCredential = {
    id: credentialId,
    scheme: SCHEME,
    publicKey: toHex(sec1),
    rpId,
    origins: [location.origin],
    userVerification: true,
  };
  const entry = {
    org,
    member,
    credentialId,
    rawId: b64url(new Uint8Array(credential.rawId)),
    rpId,
    publicKey: policyCredential.publicKey,
    createdAt: Math.floor(Date.now() / 1000),
  };
  remember(entry);
  return { policyCredential, entry };
}

// MARK: - Assertions over digests

/**
 * Signs a 32-byte digest with a passkey: the challenge is the digest itself. `rawIds` (base64url) restrict the
 * prompt to this member's registered passkeys; empty lets the browser offer any discoverable passkey of this
 * relying party. Returns the evidence JSON of the `webauthn-es256` scheme (base64url members).
 */
export async function signDigest(digest, rawIds = []) {
  if (!available()) throw new PasskeyError('unavailable', 'passkeys need a secure context (https or localhost)');
  if (!(digest instanceof Uint8Array) || digest.length !== 32) throw new PasskeyError('invalid_digest', 'a digest is 32 bytes');
  let assertion;
  try {
    assertion = await navigator.credentials.get({
      publicKey: {
        challenge: digest,
        rpId: location.hostname,
        allowCredentials: rawIds.map((id) => ({ type: 'public-key', id: fromB64url(id) })),
        userVerification: 'required',
        timeout: TIMEOUT_MS,
      },
    });
  } catch (err) {
    throw mapDomError(err);
  }
  if (!assertion || !assertion.response) throw new PasskeyError('failed', 'no assertion was made');
  const r = assertion.response;
  const clientDataJSON = new Uint8Array(r.clientDataJSON);
  const authenticatorData = new Uint8Array(r.authenticatorData);
  const signature = new Uint8Array(r.signature);
  checkAssertion(clientDataJSON, authenticatorData, digest);
  return {
    scheme: SCHEME,
    authenticatorData: b64url(authenticatorData),
    clientDataJSON: b64url(clientDataJSON),
    signature: b64url(signature),
    rawId: b64url(new Uint8Array(assertion.rawId)),
  };
}

/** Checks what the browser returned before it is sent: the client data names this digest and this origin,
 * and the authenticator verified the user (the coordinator and the signer check all of it again). */
function checkAssertion(clientDataJSON, authenticatorData, digest) {
  let client;
  try {
    client = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(clientDataJSON));
  } catch {
    throw new PasskeyError('bad_assertion', 'the client data is not JSON');
  }
  if (client.type !== 'webauthn.get') throw new PasskeyError('bad_assertion', 'the client data is not an assertion');
  if (client.challenge !== b64url(digest)) throw new PasskeyError('bad_assertion', 'the assertion is for another challenge');
  if (client.origin !== location.origin) throw new PasskeyError('bad_assertion', 'the assertion is for another origin');
  if (authenticatorData.length < 37) throw new PasskeyError('bad_assertion', 'the authenticator data is too short');
  const flags = authenticatorData[32];
  if ((flags & 0x01) === 0 || (flags & 0x04) === 0) {
    throw new PasskeyError('no_user_verification', 'the authenticator did not verify the user');
  }
}

/** Whether the authenticator data's RP id hash is SHA-256 of `rpId`. */
export async function rpIdHashMatches(authenticatorData, rpId) {
  const h = new Uint8Array(await crypto.subtle.digest('SHA-256', utf8(rpId)));
  return bytesEqual(authenticatorData.slice(0, 32), h);
}

/**
 * A member signature `{member, credential, evidence}` over `digest`, made with the passkey registered in this
 * browser as `credentialId` (the id the policy gives it).
 */
export async function memberSignature({ org, member, credentialId, digest }) {
  const regs = registrationsFor(org, member).filter((r) => r.credentialId === credentialId);
  const evidence = await signDigest(digest, regs.map((r) => r.rawId));
  if (regs.length && !regs.some((r) => r.rawId === evidence.rawId)) {
    throw new PasskeyError('wrong_passkey', 'another passkey than the registered one answered');
  }
  return {
    member,
    credential: credentialId,
    evidence: {
      scheme: evidence.scheme,
      authenticatorData: evidence.authenticatorData,
      clientDataJSON: evidence.clientDataJSON,
      signature: evidence.signature,
    },
  };
}
