// The coordinator's API over fetch: same-origin cookies (the session cookie is HttpOnly and never seen
// here), the session's CSRF value on every request that changes something, and the API's error bodies
// (`{"error": {"code", "message", "category"?, "requestId"}}`) turned into ApiError with their code.
import { canonicalBytes, toHex } from './canonical.js';

/** An error answered by the coordinator (or a transport failure, code `network`). */
export class ApiError extends Error {
  constructor(status, code, message, { requestId, category } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.requestId = requestId || '';
    this.category = category || '';
  }
}

let csrfValue = null;
let unauthenticatedHandler = null;

/** Sets (or clears, with null) the CSRF value sent as `X-Kura-CSRF`. */
export function setCsrf(value) {
  csrfValue = value || null;
}

/** Called when a request that needed the session is answered 401 (the session ended). */
export function onUnauthenticated(fn) {
  unauthenticatedHandler = fn;
}

/** A fresh Idempotency-Key (16 random bytes, hex). */
export function newIdempotencyKey() {
  return 'console-' + toHex(crypto.getRandomValues(new Uint8Array(16)));
}

const TIMEOUT_MS = 30000;

/** `/v1/orgs/{org}` + `path`, with the organisation id escaped. */
export function orgPath(org, path = '') {
  return `/v1/orgs/${encodeURIComponent(org)}${path}`;
}

/** A query string from an object (empty values left out). */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? '?' + s : '';
}

async function errorFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON
  }
  const e = body && typeof body === 'object' ? body.error : null;
  if (e && typeof e === 'object' && typeof e.code === 'string') {
    return new ApiError(response.status, e.code, typeof e.message === 'string' ? e.message : '', {
      requestId: typeof e.requestId === 'string' ? e.requestId : response.headers.get('X-Request-Id'),
      category: typeof e.category === 'string' ? e.category : '',
    });
  }
  return new ApiError(response.status, `http_${response.status}`, response.statusText || '', {
    requestId: response.headers.get('X-Request-Id') || '',
  });
}

/**
 * Sends one request. Options: `json` (a value sent as its RFC 8785 canonical bytes), `bytes` (sent as is),
 * `idempotencyKey`, `raw` (answer `{bytes, headers, status}` instead of parsed JSON), `session` (false for
 * requests that do not use the session, so a 401 does not end it).
 */
export async function request(method, path, options = {}) {
  const headers = { Accept: options.accept || 'application/json' };
  let body;
  if (options.json !== undefined) {
    body = canonicalBytes(options.json);
    headers['Content-Type'] = 'application/json';
  } else if (options.bytes !== undefined) {
    body = options.bytes;
    headers['Content-Type'] = 'application/json';
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfValue) headers['X-Kura-CSRF'] = csrfValue;
  if (options.idempotencyKey) headers['Idempotency-Key'] = options.idempotencyKey;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body,
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'error',
      referrerPolicy: 'no-referrer',
      signal: controller.signal,
    });
  } catch (err) {
    const aborted = err && err.name === 'AbortError';
    throw new ApiError(0, aborted ? 'timeout' : 'network', aborted ? 'the coordinator did not answer in time' : 'the coordinator could not be reached');
  } finally {
    clearTimeout(timer);
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    if (response.status === 401 && options.session !== false && unauthenticatedHandler) unauthenticatedHandler(error);
    throw error;
  }
  if (options.raw) {
    return { status: response.status, headers: response.headers, bytes: new Uint8Array(await response.arrayBuffer()) };
  }
  if (response.status === 204) return null;
  try {
    return await response.json();
  } catch {
    throw new ApiError(response.status, 'bad_response', 'the coordinator answered something that is not JSON');
  }
}

export const get = (path, options) => request('GET', path, options);
export const post = (path, options) => request('POST', path, options);
export const del = (path, options) => request('DELETE', path, options);
