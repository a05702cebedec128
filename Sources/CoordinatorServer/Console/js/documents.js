// Kura's governance documents, built and read exactly as the Swift code does
// (Sources/Governance/Documents/{Intent,SessionRequest,MemberSignature}.swift, Sources/kura/GovernanceCommands.swift):
// same member names, amounts as canonical decimal strings, times as integer seconds, closed schemas.
import { CanonicalError, documentDigest, toHex, utf8 } from './canonical.js';

export const TAGS = Object.freeze({
  intent: 'kura/intent/v1',
  approval: 'kura/approval/v1',
  session: 'kura/session/v1',
  policy: 'kura/policy/v1',
  receipt: 'kura/receipt/v1',
});

/** The largest memo, in UTF-8 bytes. */
export const MAX_MEMO_BYTES = 500;
/** The longest validity of a session request, in seconds. */
export const MAX_SESSION_LIFETIME = 600;
/** The last second a timestamp may name (9999-12-31T23:59:59Z). */
export const MAX_TIMESTAMP = 253402300799;
const UINT256_MAX = (1n << 256n) - 1n;

/** A document that does not have Kura's shape; `path` names the member, never its value. */
export class DocumentError extends Error {
  constructor(code, path, message) {
    super(`${path}: ${message}`);
    this.name = 'DocumentError';
    this.code = code;
    this.path = path;
  }
}

// MARK: - Values

/** Kura's identifier rule: 1–64 of `a-z 0-9 . _ -`, starting with a letter or digit. */
export function isId(s) {
  return typeof s === 'string' && /^[a-z0-9][a-z0-9._-]{0,63}$/.test(s);
}

/** A canonical decimal amount: `0` or a non-zero digit then digits, at most 78 digits, below 2^256. */
export function isCanonicalDecimal(s) {
  return typeof s === 'string' && /^(0|[1-9][0-9]{0,77})$/.test(s) && BigInt(s) <= UINT256_MAX;
}

/** 64 lowercase hex digits (a digest or policy hash). */
export function isDigestHex(s) {
  return typeof s === 'string' && /^[0-9a-f]{64}$/.test(s);
}

/** An integer time within Kura's timestamp range. */
export function isTimestamp(n) {
  return Number.isSafeInteger(n) && n >= 0 && n <= MAX_TIMESTAMP;
}

/** The current time in whole seconds. */
export function nowSeconds() {
  return Math.floor(Date.now() / 1000);
}

/**
 * Converts a human amount (`1.5`) into base units with exactly `decimals` fraction digits, as a canonical
 * decimal string, with BigInt only (no floating point). Throws DocumentError('amount', …) with a reason key.
 */
export function toBaseUnits(text, decimals) {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 36) {
    throw new DocumentError('invalid_value', 'decimals', 'the asset has no valid number of decimals');
  }
  const s = String(text).trim();
  const m = /^([0-9]+)(?:\.([0-9]+))?$/.exec(s);
  if (!m) throw new DocumentError('amount_syntax', 'amount', 'digits with at most one decimal point');
  const whole = m[1];
  const fraction = m[2] || '';
  if (fraction.length > decimals) {
    throw new DocumentError('amount_precision', 'amount', `at most ${decimals} decimal places`);
  }
  const units = BigInt(whole) * 10n ** BigInt(decimals) + (fraction ? BigInt(fraction.padEnd(decimals, '0')) : 0n);
  if (units <= 0n) throw new DocumentError('amount_zero', 'amount', 'must be more than zero');
  if (units > UINT256_MAX) throw new DocumentError('amount_range', 'amount', 'does not fit in 256 bits');
  return units.toString();
}

/** Base units as a decimal with `decimals` fraction digits (`150000000`, 8 → `1.50000000`), like the CLI. */
export function formatUnits(base, decimals) {
  const digits = BigInt(base).toString();
  if (!decimals) return digits;
  const padded = digits.padStart(decimals + 1, '0');
  return `${padded.slice(0, padded.length - decimals)}.${padded.slice(padded.length - decimals)}`;
}

/** The UTF-8 length of a string. */
export function byteLength(s) {
  return utf8(s).length;
}

// MARK: - Closed-schema reading

class Reader {
  constructor(value, path) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new DocumentError('wrong_type', path, 'expected an object');
    }
    this.v = value;
    this.path = path;
    this.read = new Set();
  }

  has(name) {
    return Object.prototype.hasOwnProperty.call(this.v, name);
  }

  raw(name) {
    if (!this.has(name)) throw new DocumentError('missing_field', `${this.path}.${name}`, 'missing');
    this.read.add(name);
    return this.v[name];
  }

  string(name) {
    const v = this.raw(name);
    if (typeof v !== 'string') throw new DocumentError('wrong_type', `${this.path}.${name}`, 'expected a string');
    return v;
  }

  int(name) {
    const v = this.raw(name);
    if (typeof v !== 'number') throw new DocumentError('wrong_type', `${this.path}.${name}`, 'expected an integer');
    if (!Number.isSafeInteger(v)) throw new DocumentError('not_integer', `${this.path}.${name}`, 'expected an integer');
    return v;
  }

  id(name) {
    const v = this.string(name);
    if (!isId(v)) throw new DocumentError('invalid_value', `${this.path}.${name}`, 'is not a valid identifier');
    return v;
  }

  decimal(name) {
    const v = this.raw(name);
    if (typeof v !== 'string') throw new DocumentError('wrong_type', `${this.path}.${name}`, 'an amount is a string of digits');
    if (!isCanonicalDecimal(v)) {
      throw new DocumentError('invalid_value', `${this.path}.${name}`, 'is not a canonical decimal amount');
    }
    return v;
  }

  time(name) {
    const v = this.int(name);
    if (!isTimestamp(v)) throw new DocumentError('invalid_value', `${this.path}.${name}`, 'is out of range');
    return v;
  }

  object(name) {
    return new Reader(this.raw(name), `${this.path}.${name}`);
  }

  finish() {
    const extra = Object.keys(this.v).filter((k) => !this.read.has(k)).sort();
    if (extra.length) {
      throw new DocumentError('unknown_field', this.path, `unknown member ${JSON.stringify(extra[0].slice(0, 64))}`);
    }
  }
}

function readFeeCap(r) {
  if (r.has('maxAbsolute')) {
    const cap = { chain: 'bitcoin', maxAbsolute: r.decimal('maxAbsolute'), maxRatePerKvB: r.decimal('maxRatePerKvB') };
    r.finish();
    return cap;
  }
  const cap = {
    chain: 'ethereum',
    maxFeePerGas: r.decimal('maxFeePerGas'),
    maxPriorityFeePerGas: r.decimal('maxPriorityFeePerGas'),
    maxGasLimit: r.decimal('maxGasLimit'),
    maxTotalFee: r.decimal('maxTotalFee'),
  };
  r.finish();
  return cap;
}

/** The member names of a fee cap, in display order. */
export function feeCapFields(chain) {
  return chain === 'bitcoin'
    ? ['maxAbsolute', 'maxRatePerKvB']
    : ['maxFeePerGas', 'maxPriorityFeePerGas', 'maxGasLimit', 'maxTotalFee'];
}

/** The chain of a fee cap object (as documents write it). */
export function feeCapChain(cap) {
  return cap && Object.prototype.hasOwnProperty.call(cap, 'maxAbsolute') ? 'bitcoin' : 'ethereum';
}

/**
 * Reads an intent document with the checks of Swift's `Intent(json:)`; returns its fields. Throws
 * DocumentError naming the member that is wrong.
 */
export function readIntent(value) {
  const r = new Reader(value, 'intent');
  if (r.string('kind') !== 'kura.intent') throw new DocumentError('invalid_value', 'intent.kind', "is not 'kura.intent'");
  if (r.int('format') !== 1) throw new DocumentError('invalid_value', 'intent.format', 'is not 1');
  if (r.string('type') !== 'transfer') throw new DocumentError('invalid_value', 'intent.type', 'is not supported');
  const out = {
    id: r.id('id'),
    organization: r.id('organization'),
    policy: r.string('policy'),
    wallet: r.id('wallet'),
    asset: r.id('asset'),
  };
  if (!isDigestHex(out.policy)) throw new DocumentError('invalid_value', 'intent.policy', 'is not 64 lowercase hex digits');
  const d = r.object('destination');
  out.destination = { entry: d.id('entry'), address: d.string('address') };
  d.finish();
  out.amount = r.decimal('amount');
  if (BigInt(out.amount) === 0n) throw new DocumentError('invalid_value', 'intent.amount', 'must be positive');
  out.feeCap = readFeeCap(r.object('feeCap'));
  out.memo = r.string('memo');
  if (byteLength(out.memo) > MAX_MEMO_BYTES) {
    throw new DocumentError('too_large', 'intent.memo', `exceeds ${MAX_MEMO_BYTES} bytes`);
  }
  out.nonce = r.string('nonce');
  if (!/^[0-9a-fA-F]{64}$/.test(out.nonce)) throw new DocumentError('invalid_value', 'intent.nonce', 'must be 32 bytes in hex');
  out.created = r.time('created');
  out.expires = r.time('expires');
  if (!(out.created < out.expires)) throw new DocumentError('invalid_value', 'intent.expires', 'is not after created');
  out.initiator = r.id('initiator');
  out.pin = null;
  if (r.has('pin')) {
    const p = r.object('pin');
    if (p.has('inputs')) {
      const inputs = p.raw('inputs');
      if (!Array.isArray(inputs) || inputs.length === 0) {
        throw new DocumentError('invalid_value', 'intent.pin.inputs', 'must be a non-empty array');
      }
      const seen = new Set();
      for (const s of inputs) {
        if (!isOutpoint(s)) throw new DocumentError('invalid_value', 'intent.pin.inputs', 'an element is not txid:vout');
        const key = s.toLowerCase();
        if (seen.has(key)) throw new DocumentError('invalid_value', 'intent.pin.inputs', 'must be distinct');
        seen.add(key);
      }
      out.pin = { inputs: [...inputs] };
    } else {
      const n = p.int('ethNonce');
      if (n < 0) throw new DocumentError('invalid_value', 'intent.pin.ethNonce', 'is negative');
      out.pin = { ethNonce: n };
    }
    p.finish();
  }
  r.finish();
  return out;
}

/** `txid:vout` with a 64-hex-digit txid and a 32-bit output index. */
export function isOutpoint(s) {
  if (typeof s !== 'string') return false;
  const m = /^([0-9a-fA-F]{64}):(0|[1-9][0-9]{0,9})$/.exec(s);
  return Boolean(m) && Number(m[2]) <= 0xffffffff;
}

/** Reads a member signature `{member, credential, evidence}` (closed schema). */
export function readSignature(value, path) {
  const r = new Reader(value, path);
  const out = { member: r.id('member'), credential: r.id('credential') };
  const e = r.object('evidence');
  const scheme = e.string('scheme');
  out.evidence = { scheme };
  if (scheme === 'ed25519' || scheme === 'p256') {
    out.evidence.signature = e.string('signature');
  } else if (scheme === 'webauthn-es256') {
    for (const name of ['authenticatorData', 'clientDataJSON', 'signature']) {
      const v = e.string(name);
      if (!/^[A-Za-z0-9_-]*$/.test(v)) throw new DocumentError('invalid_value', `${path}.evidence.${name}`, 'is not base64url');
      out.evidence[name] = v;
    }
  } else {
    throw new DocumentError('invalid_value', `${path}.evidence.scheme`, 'is unknown');
  }
  e.finish();
  r.finish();
  return out;
}

/** Reads a signed intent `{intent, signature}`: the decoded intent, its signature and the intent document. */
export function readSignedIntent(value) {
  const r = new Reader(value, 'signedIntent');
  const document = r.raw('intent');
  const intent = readIntent(document);
  const signature = readSignature(r.raw('signature'), 'signedIntent.signature');
  r.finish();
  return { intent, signature, document };
}

/** Reads an approval document (Swift's `Approval(json:)`). */
export function readApproval(value) {
  const r = new Reader(value, 'approval');
  if (r.string('kind') !== 'kura.approval') throw new DocumentError('invalid_value', 'approval.kind', "is not 'kura.approval'");
  if (r.int('format') !== 1) throw new DocumentError('invalid_value', 'approval.format', 'is not 1');
  const out = { intent: r.string('intent') };
  if (!isDigestHex(out.intent)) throw new DocumentError('invalid_value', 'approval.intent', 'is not 64 lowercase hex digits');
  out.decision = r.string('decision');
  if (out.decision !== 'approve' && out.decision !== 'reject') {
    throw new DocumentError('invalid_value', 'approval.decision', 'is unknown');
  }
  out.approver = r.id('approver');
  out.time = r.time('time');
  r.finish();
  return out;
}

/** Reads a signed approval `{approval, signature}`. */
export function readSignedApproval(value) {
  const r = new Reader(value, 'signedApproval');
  const document = r.raw('approval');
  const approval = readApproval(document);
  const signature = readSignature(r.raw('signature'), 'signedApproval.signature');
  r.finish();
  return { approval, signature, document };
}

// MARK: - Building

function requireId(value, path) {
  if (!isId(value)) throw new DocumentError('invalid_value', path, 'is not a valid identifier');
  return value;
}

/**
 * Builds a transfer intent as `kura intent create` does (TransferOptions.build): the destination address is
 * the policy address-book entry's, the fee cap defaults to the rule's fee, the id is `i-` and the first 8
 * nonce bytes in hex. `nonce` is 32 random bytes (given by the caller so tests can fix it).
 */
export function buildIntent({
  organization, policyHash, wallet, asset, entry, amount, feeCap, memo = '', nonce, created, lifetime, initiator, pin,
}) {
  requireId(organization, 'intent.organization');
  requireId(wallet, 'intent.wallet');
  requireId(asset, 'intent.asset');
  requireId(initiator, 'intent.initiator');
  if (!isDigestHex(policyHash)) throw new DocumentError('invalid_value', 'intent.policy', 'is not a policy hash');
  if (!entry || !isId(entry.id) || typeof entry.address !== 'string') {
    throw new DocumentError('invalid_value', 'intent.destination', 'needs an address-book entry');
  }
  if (!isCanonicalDecimal(amount) || BigInt(amount) === 0n) throw new DocumentError('invalid_value', 'intent.amount', 'must be positive');
  if (!(nonce instanceof Uint8Array) || nonce.length !== 32) throw new DocumentError('invalid_value', 'intent.nonce', 'must be 32 bytes');
  if (!isTimestamp(created)) throw new DocumentError('invalid_value', 'intent.created', 'is out of range');
  if (!Number.isSafeInteger(lifetime) || lifetime <= 0 || !isTimestamp(created + lifetime)) {
    throw new DocumentError('invalid_value', 'intent.expires', 'the lifetime must be positive');
  }
  if (typeof memo !== 'string' || byteLength(memo) > MAX_MEMO_BYTES) {
    throw new DocumentError('too_large', 'intent.memo', `exceeds ${MAX_MEMO_BYTES} bytes`);
  }
  const caps = {};
  for (const name of feeCapFields(feeCapChain(feeCap))) {
    if (!isCanonicalDecimal(feeCap[name])) throw new DocumentError('invalid_value', `intent.feeCap.${name}`, 'is not a decimal amount');
    caps[name] = feeCap[name];
  }
  const nonceHex = toHex(nonce);
  const doc = {
    kind: 'kura.intent',
    format: 1,
    type: 'transfer',
    id: 'i-' + nonceHex.slice(0, 16),
    organization,
    policy: policyHash,
    wallet,
    asset,
    destination: { entry: entry.id, address: entry.address },
    amount,
    feeCap: caps,
    memo,
    nonce: nonceHex,
    created,
    expires: created + lifetime,
    initiator,
  };
  if (pin && pin.inputs && pin.inputs.length) doc.pin = { inputs: [...pin.inputs] };
  else if (pin && Number.isSafeInteger(pin.ethNonce)) doc.pin = { ethNonce: pin.ethNonce };
  readIntent(doc); // the same checks a reader applies
  return doc;
}

/** Builds an approval (or rejection) of an intent digest, as `Approval.document(…)`. */
export function buildApproval({ intentDigest, decision, approver, time }) {
  if (!isDigestHex(intentDigest)) throw new DocumentError('invalid_value', 'approval.intent', 'is not a digest');
  const doc = { kind: 'kura.approval', format: 1, intent: intentDigest, decision, approver, time };
  readApproval(doc);
  return doc;
}

/** Builds a session request, as `SessionRequest.document(…)`; `nonce` is 16 to 32 random bytes. */
export function buildSessionRequest({ organization, member, audience, nonce, created, expires }) {
  requireId(organization, 'sessionRequest.organization');
  requireId(member, 'sessionRequest.member');
  if (typeof audience !== 'string' || byteLength(audience) < 1 || byteLength(audience) > 200) {
    throw new DocumentError('invalid_value', 'sessionRequest.audience', 'must be 1 to 200 bytes');
  }
  if (!(nonce instanceof Uint8Array) || nonce.length < 16 || nonce.length > 32) {
    throw new DocumentError('invalid_value', 'sessionRequest.nonce', 'must be 16 to 32 bytes');
  }
  if (!isTimestamp(created) || !isTimestamp(expires) || !(created < expires) || expires - created > MAX_SESSION_LIFETIME) {
    throw new DocumentError('invalid_value', 'sessionRequest.expires', `must be after created and within ${MAX_SESSION_LIFETIME} s`);
  }
  return {
    kind: 'kura.session-request',
    format: 1,
    organization,
    member,
    audience,
    nonce: toHex(nonce),
    created,
    expires,
  };
}

/** The digest of an intent, approval or session request (hex and bytes). */
export async function digestOf(kind, doc) {
  const bytes = await documentDigest(TAGS[kind], doc);
  return { bytes, hex: toHex(bytes) };
}

export { CanonicalError };
