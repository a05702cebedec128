// The console session: signed in with a passkey-signed session request (kura.session-request), held by the
// coordinator in an HttpOnly cookie this code never sees. What is kept here is public: the organisation,
// the member, their roles, the credential they signed in with, and the CSRF value (in memory only; the
// coordinator gives it again on reload from the cookie).
import { ApiError, del, get, orgPath, post, setCsrf } from './api.js';
import { buildSessionRequest, digestOf, nowSeconds } from './documents.js';
import { memberSignature } from './webauthn.js';

const SESSION_KEY = 'kura.console.session';
const LAST_KEY = 'kura.console.last';
/** How long a session request stays valid (the coordinator allows at most 600 s). */
const REQUEST_LIFETIME = 300;

export const session = {
  org: null,
  member: null,
  roles: [],
  expiresAt: 0,
  tokenId: '',
  credentialId: '',
};

const listeners = new Set();

/** Calls `fn()` after the session changes (signed in, restored, signed out). */
export function onSessionChange(fn) {
  listeners.add(fn);
}

function changed() {
  for (const fn of listeners) fn();
}

/** Whether a member is signed in. */
export function signedIn() {
  return Boolean(session.org && session.member);
}

/** Whether the member holds one of the roles. */
export function hasRole(...roles) {
  return roles.some((r) => session.roles.includes(r));
}

/** `/v1/orgs/{org}` + path for the signed-in organisation. */
export function path(p = '') {
  return orgPath(session.org, p);
}

function adopt(org, answer, credentialId) {
  if (!answer || typeof answer.member !== 'string' || !Array.isArray(answer.roles) || typeof answer.csrf !== 'string') {
    throw new ApiError(0, 'bad_response', 'the session answer is incomplete');
  }
  session.org = org;
  session.member = answer.member;
  session.roles = answer.roles.filter((r) => typeof r === 'string');
  session.expiresAt = Number(answer.expiresAt) || 0;
  session.tokenId = typeof answer.tokenId === 'string' ? answer.tokenId : '';
  session.credentialId = credentialId || '';
  setCsrf(answer.csrf);
  try {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify({ org, member: session.member, credentialId: session.credentialId }));
    localStorage.setItem(LAST_KEY, JSON.stringify({ org, member: session.member, credentialId: session.credentialId }));
  } catch {
    // storage unavailable: the session still works until reload
  }
  changed();
}

/** The last organisation, member and credential used in this browser (for prefilling the sign-in form). */
export function lastSignIn() {
  try {
    const v = JSON.parse(localStorage.getItem(LAST_KEY) || 'null');
    return v && typeof v === 'object' ? v : null;
  } catch {
    return null;
  }
}

/** Restores the session of this tab from the cookie, if it is still valid. */
export async function restore() {
  let saved = null;
  try {
    saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
  } catch {
    saved = null;
  }
  if (!saved || typeof saved.org !== 'string') return false;
  try {
    const answer = await get(orgPath(saved.org, '/console/session'), { session: false });
    adopt(saved.org, answer, saved.credentialId);
    return true;
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403 || err.status === 404)) {
      clear();
      return false;
    }
    throw err;
  }
}

/** The coordinator's console configuration (`audience`) and how far this browser's clock is from its clock. */
export async function consoleConfig() {
  const { bytes, headers } = await get('/v1/console/config', { raw: true, session: false });
  const config = JSON.parse(new TextDecoder().decode(bytes));
  if (!config || typeof config.audience !== 'string') throw new ApiError(0, 'bad_response', 'the console configuration has no audience');
  const date = Date.parse(headers.get('Date') || '');
  const skew = Number.isFinite(date) ? Math.round((Date.now() - date) / 1000) : 0;
  return { audience: config.audience, version: typeof config.version === 'string' ? config.version : '', skew };
}

/**
 * Signs in: builds the session request, signs its digest with the passkey, and exchanges it for the session
 * cookie. `onStep(name, detail)` reports progress (`config`, `digest`, `passkey`, `submit`).
 */
export async function signIn({ org, member, credentialId }, onStep = () => {}) {
  const config = await consoleConfig();
  onStep('config', config);
  const created = nowSeconds();
  const request = buildSessionRequest({
    organization: org,
    member,
    audience: config.audience,
    nonce: crypto.getRandomValues(new Uint8Array(16)),
    created,
    expires: created + REQUEST_LIFETIME,
  });
  const digest = await digestOf('session', request);
  onStep('digest', { request, digest: digest.hex });
  const signature = await memberSignature({ org, member, credentialId, digest: digest.bytes });
  onStep('submit');
  const answer = await post(orgPath(org, '/console/session'), { json: { request, signature }, session: false });
  if (answer.member !== member) throw new ApiError(0, 'bad_response', 'the coordinator signed in another member');
  adopt(org, answer, credentialId);
  return answer;
}

function clear() {
  session.org = null;
  session.member = null;
  session.roles = [];
  session.expiresAt = 0;
  session.tokenId = '';
  session.credentialId = '';
  setCsrf(null);
  try {
    sessionStorage.removeItem(SESSION_KEY);
  } catch {
    // nothing kept
  }
  changed();
}

/** Signs out: the coordinator revokes the token and clears the cookie; the local state is cleared anyway. */
export async function signOut() {
  const org = session.org;
  try {
    if (org) await del(orgPath(org, '/console/session'), { session: false });
  } finally {
    clear();
  }
}

/** Forgets the session locally (after the coordinator answered 401). */
export function expire() {
  clear();
}
