// RFC 8785 (JSON Canonicalization Scheme) for the JSON Kura's governance documents use, a strict parser
// for documents that come from the coordinator (which is never trusted), and the tagged SHA-256 digests
// of docs/CANONICAL-JSON.md. Integers only: a fraction, an exponent or an integer beyond ±(2^53 − 1) is
// refused, as the Swift parser's `.integersOnly` policy refuses it.

/** The largest integer a document may hold (2^53 − 1). */
export const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** An error with a stable code (the Swift parser's code names where they exist). */
export class CanonicalError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'CanonicalError';
    this.code = code;
  }
}

// MARK: - Bytes and hex

const encoder = new TextEncoder();

/** The UTF-8 bytes of a string. */
export function utf8(text) {
  return encoder.encode(text);
}

/** Lowercase hex of bytes. */
export function toHex(bytes) {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let out = '';
  for (let i = 0; i < b.length; i++) out += b[i].toString(16).padStart(2, '0');
  return out;
}

/** Bytes of an even-length hex string (either case); throws on anything else. */
export function fromHex(text) {
  if (typeof text !== 'string' || text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
    throw new CanonicalError('invalid_hex', 'not an even number of hex digits');
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(i * 2, 2), 16);
  return out;
}

/** Concatenates byte arrays. */
export function concatBytes(...parts) {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Whether two byte arrays are equal (not constant time: for public digests only). */
export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// MARK: - Canonical form (RFC 8785 §3.2)

function isHighSurrogate(c) {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLowSurrogate(c) {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** Throws if the string holds a lone surrogate (it has no UTF-8 form, so no canonical form). */
function checkWellFormed(s) {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isHighSurrogate(c)) {
      if (i + 1 < s.length && isLowSurrogate(s.charCodeAt(i + 1))) {
        i++;
        continue;
      }
      throw new CanonicalError('invalid_string', 'a string holds a lone surrogate');
    }
    if (isLowSurrogate(c)) throw new CanonicalError('invalid_string', 'a string holds a lone surrogate');
  }
}

const SHORT_ESCAPES = { 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0c: '\\f', 0x0d: '\\r', 0x22: '\\"', 0x5c: '\\\\' };

/** A string in canonical form: `\"` `\\`, the five short control escapes, `\u00xx` (lowercase) for the
 * other controls below U+0020, everything else raw (RFC 8785 §3.2.2.2). */
function serializeString(s) {
  checkWellFormed(s);
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const short = SHORT_ESCAPES[c];
    if (short !== undefined) out += short;
    else if (c < 0x20) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += s[i];
  }
  return out + '"';
}

/** Orders member names by their UTF-16 code units (RFC 8785 §3.2.3); JavaScript compares strings that way. */
export function compareUTF16(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isPlainObject(v) {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

const MAX_DEPTH = 64;

function serialize(v, depth) {
  if (depth > MAX_DEPTH) throw new CanonicalError('too_deep', 'the value nests too deeply');
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(v)) throw new CanonicalError('number_out_of_range', 'NaN and infinities have no JSON form');
      if (!Number.isInteger(v)) throw new CanonicalError('not_integer', 'documents hold integers only, not ' + v);
      if (!Number.isSafeInteger(v)) {
        throw new CanonicalError('number_out_of_range', 'an integer beyond ±(2^53 − 1) is refused');
      }
      return Object.is(v, -0) ? '0' : String(v);
    case 'string':
      return serializeString(v);
    case 'object': {
      if (Array.isArray(v)) {
        const parts = [];
        for (let i = 0; i < v.length; i++) {
          if (!(i in v)) throw new CanonicalError('wrong_type', 'an array has a hole');
          parts.push(serialize(v[i], depth + 1));
        }
        return '[' + parts.join(',') + ']';
      }
      if (!isPlainObject(v)) throw new CanonicalError('wrong_type', 'only plain objects have a JSON form');
      const keys = Object.keys(v).sort(compareUTF16);
      const parts = [];
      for (const k of keys) {
        if (v[k] === undefined) throw new CanonicalError('wrong_type', `member "${k.slice(0, 40)}" is undefined`);
        parts.push(serializeString(k) + ':' + serialize(v[k], depth + 1));
      }
      return '{' + parts.join(',') + '}';
    }
    default:
      // undefined, bigint, symbol, function
      throw new CanonicalError('wrong_type', `a ${typeof v} has no JSON form in a document`);
  }
}

/** The canonical JSON text of a value (objects, arrays, strings, safe integers, booleans, null). */
export function canonicalize(value) {
  return serialize(value, 0);
}

/** The canonical UTF-8 bytes of a value. */
export function canonicalBytes(value) {
  return utf8(canonicalize(value));
}

// MARK: - Strict parser

/** Limits of the strict parser (the Swift parser's defaults). */
export const DEFAULT_LIMITS = Object.freeze({
  maxBytes: 1 << 20,
  maxDepth: 32,
  maxStringBytes: 64 << 10,
  maxArrayElements: 10000,
  maxObjectMembers: 1000,
});

const MAX_SAFE_DIGITS = String(MAX_SAFE);

class Parser {
  constructor(text, limits) {
    this.s = text;
    this.i = 0;
    this.limits = limits;
  }

  fail(code, what) {
    throw new CanonicalError(code, `${what} (at character ${this.i})`);
  }

  ws() {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.i++;
      else break;
    }
  }

  value(depth) {
    this.ws();
    if (this.i >= this.s.length) this.fail('malformed_json', 'the text ends where a value should be');
    const c = this.s[this.i];
    if (c === '{') return this.object(depth + 1);
    if (c === '[') return this.array(depth + 1);
    if (c === '"') return this.string();
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    if (this.s.startsWith('true', this.i)) {
      this.i += 4;
      return true;
    }
    if (this.s.startsWith('false', this.i)) {
      this.i += 5;
      return false;
    }
    if (this.s.startsWith('null', this.i)) {
      this.i += 4;
      return null;
    }
    return this.fail('malformed_json', 'not a JSON value');
  }

  object(depth) {
    if (depth > this.limits.maxDepth) this.fail('too_deep', 'the document nests too deeply');
    this.i++; // {
    const out = Object.create(null);
    const seen = new Set();
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail('malformed_json', 'a member name must be a string');
      const key = this.string();
      if (seen.has(key)) this.fail('duplicate_key', 'a member name is repeated in one object');
      seen.add(key);
      if (seen.size > this.limits.maxObjectMembers) this.fail('too_large', 'an object has too many members');
      this.ws();
      if (this.s[this.i] !== ':') this.fail('malformed_json', "expected ':' after a member name");
      this.i++;
      const v = this.value(depth);
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      this.ws();
      const c = this.s[this.i];
      if (c === ',') {
        this.i++;
        continue;
      }
      if (c === '}') {
        this.i++;
        return out;
      }
      this.fail('malformed_json', "expected ',' or '}' in an object");
    }
  }

  array(depth) {
    if (depth > this.limits.maxDepth) this.fail('too_deep', 'the document nests too deeply');
    this.i++; // [
    const out = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth));
      if (out.length > this.limits.maxArrayElements) this.fail('too_large', 'an array has too many elements');
      this.ws();
      const c = this.s[this.i];
      if (c === ',') {
        this.i++;
        continue;
      }
      if (c === ']') {
        this.i++;
        return out;
      }
      this.fail('malformed_json', "expected ',' or ']' in an array");
    }
  }

  hex4() {
    const h = this.s.substr(this.i, 4);
    if (h.length !== 4 || !/^[0-9a-fA-F]{4}$/.test(h)) this.fail('invalid_escape', '\\u needs four hex digits');
    this.i += 4;
    return parseInt(h, 16);
  }

  string() {
    const s = this.s;
    this.i++; // opening quote
    let out = '';
    let bytes = 0; // UTF-8 length of `out`
    const add = (text, n) => {
      out += text;
      bytes += n;
      if (bytes > this.limits.maxStringBytes) this.fail('too_large', 'a string is too long');
    };
    const width = (u) => (u < 0x80 ? 1 : u < 0x800 ? 2 : 3);
    for (;;) {
      if (this.i >= s.length) this.fail('malformed_json', 'a string is not closed');
      const c = s.charCodeAt(this.i);
      if (c === 0x22) {
        this.i++;
        return out;
      }
      if (c < 0x20) this.fail('control_character', 'a raw control character in a string');
      if (c === 0x5c) {
        this.i++;
        const e = s[this.i++];
        switch (e) {
          case '"': add('"', 1); break;
          case '\\': add('\\', 1); break;
          case '/': add('/', 1); break;
          case 'b': add('\b', 1); break;
          case 'f': add('\f', 1); break;
          case 'n': add('\n', 1); break;
          case 'r': add('\r', 1); break;
          case 't': add('\t', 1); break;
          case 'u': {
            const u = this.hex4();
            if (isHighSurrogate(u)) {
              if (s[this.i] !== '\\' || s[this.i + 1] !== 'u') this.fail('invalid_escape', 'a lone surrogate escape');
              this.i += 2;
              const low = this.hex4();
              if (!isLowSurrogate(low)) this.fail('invalid_escape', 'a high surrogate without its low half');
              add(String.fromCharCode(u, low), 4);
            } else if (isLowSurrogate(u)) {
              this.fail('invalid_escape', 'a lone low surrogate escape');
            } else {
              add(String.fromCharCode(u), width(u));
            }
            break;
          }
          default:
            this.fail('invalid_escape', 'an escape JSON does not define');
        }
      } else if (isHighSurrogate(c)) {
        if (!isLowSurrogate(s.charCodeAt(this.i + 1))) this.fail('invalid_utf8', 'a lone surrogate in a string');
        add(s[this.i] + s[this.i + 1], 4);
        this.i += 2;
      } else if (isLowSurrogate(c)) {
        this.fail('invalid_utf8', 'a lone surrogate in a string');
      } else {
        add(s[this.i], width(c));
        this.i++;
      }
    }
  }

  number() {
    const s = this.s;
    const start = this.i;
    let negative = false;
    if (s[this.i] === '-') {
      negative = true;
      this.i++;
    }
    const digitsStart = this.i;
    if (s[this.i] === '0') {
      this.i++;
      if (s[this.i] >= '0' && s[this.i] <= '9') this.fail('malformed_json', 'a number has a leading zero');
    } else if (s[this.i] >= '1' && s[this.i] <= '9') {
      while (s[this.i] >= '0' && s[this.i] <= '9') this.i++;
    } else {
      this.fail('malformed_json', 'a number needs digits');
    }
    const digits = s.slice(digitsStart, this.i);
    const next = s[this.i];
    if (next === '.' || next === 'e' || next === 'E') {
      this.fail('not_integer', 'documents hold integers only (no fraction or exponent)');
    }
    if (negative && digits === '0') this.fail('non_canonical', '-0 is not a canonical integer');
    if (digits.length > MAX_SAFE_DIGITS.length || (digits.length === MAX_SAFE_DIGITS.length && digits > MAX_SAFE_DIGITS)) {
      this.fail('number_out_of_range', 'an integer beyond ±(2^53 − 1)');
    }
    const n = Number(s.slice(start, this.i));
    return n;
  }
}

/**
 * Parses JSON text strictly (RFC 8259 grammar, integers only within ±(2^53 − 1), no duplicate member names,
 * no lone surrogates, bounded depth and size). Objects come back with a null prototype.
 */
export function parseStrict(text, limits = DEFAULT_LIMITS) {
  if (typeof text !== 'string') throw new CanonicalError('wrong_type', 'parseStrict takes a string');
  const L = { ...DEFAULT_LIMITS, ...limits };
  const p = new Parser(text, L);
  const v = p.value(0);
  p.ws();
  if (p.i !== text.length) throw new CanonicalError('trailing_data', 'something follows the JSON value');
  return v;
}

/** Parses UTF-8 bytes strictly: ill-formed UTF-8 and a byte order mark are refused. */
export function parseStrictBytes(bytes, limits = DEFAULT_LIMITS) {
  const L = { ...DEFAULT_LIMITS, ...limits };
  if (bytes.length > L.maxBytes) throw new CanonicalError('too_large', 'the document is too large');
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new CanonicalError('invalid_utf8', 'the document is not well-formed UTF-8');
  }
  return parseStrict(text, L);
}

/** Bytes of standard base64 (with or without padding); throws on anything else. */
export function fromBase64(text) {
  if (typeof text !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) {
    throw new CanonicalError('invalid_base64', 'not base64');
  }
  let bin;
  try {
    bin = atob(text);
  } catch {
    throw new CanonicalError('invalid_base64', 'not base64');
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// MARK: - Digests

/** SHA-256 of bytes (WebCrypto). */
export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

/** BIP-0340-style tagged hash: SHA256(SHA256(tag) ‖ SHA256(tag) ‖ data). */
export async function taggedHash(tag, data) {
  const t = await sha256(utf8(tag));
  return sha256(concatBytes(t, t, data));
}

/** The digest of a document: the tagged hash of its canonical bytes. */
export async function documentDigest(tag, value) {
  return taggedHash(tag, canonicalBytes(value));
}
