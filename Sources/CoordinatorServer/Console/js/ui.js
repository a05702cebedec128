// Shared pieces of the screens: headings, error boxes, amounts, states, downloads, copy buttons, and the
// field-by-field view of an intent document.
import { ApiError } from './api.js';
import { CanonicalError } from './canonical.js';
import { DocumentError, feeCapFields, formatUnits } from './documents.js';
import { dl, h, mount } from './dom.js';
import { formatDuration, formatTime, isoTime, k, t } from './i18n.js';
import { assetOf, memberOf } from './policy.js';
import { PasskeyError } from './webauthn.js';

/** Says something to screen readers (the page's polite live region). */
export function announce(message) {
  const region = document.getElementById('status');
  if (!region) return;
  region.textContent = '';
  // A separate task, so the same message twice is announced twice.
  setTimeout(() => {
    region.textContent = message;
  }, 50);
}

/** The screen's heading: focused after navigation (tabindex -1 makes it focusable without a tab stop). */
export function heading(text, testid = 'screen-heading') {
  return h('h1', { tabindex: '-1', class: 'screen-heading', testid }, text);
}

const PASSKEY_MESSAGES = {
  cancelled: k('passkey.error.cancelled'),
  already_registered: k('passkey.error.alreadyRegistered'),
  security: k('passkey.error.security'),
  unsupported: k('passkey.error.unsupported'),
  unsupported_key: k('passkey.error.unsupported'),
  unavailable: k('passkey.error.unavailable'),
  no_user_verification: k('passkey.error.noUserVerification'),
  wrong_passkey: k('passkey.error.wrongPasskey'),
  bad_assertion: k('passkey.error.badAssertion'),
};

/** A translated explanation of an error, with the coordinator's code, message and request id when it has them. */
export function describeError(err) {
  if (err instanceof ApiError) {
    if (err.code === 'network') return t('error.network');
    if (err.code === 'timeout') return t('error.timeout');
    const parts = [err.status >= 500 ? t('error.apiUnavailable', { code: err.code, status: err.status }) : t('error.api', { code: err.code, status: err.status })];
    if (err.category) parts.push(t('error.category', { category: err.category }));
    if (err.message) parts.push(err.message);
    if (err.requestId) parts.push(t('error.requestId', { id: err.requestId }));
    return parts.join(' — ');
  }
  if (err instanceof PasskeyError) return t(PASSKEY_MESSAGES[err.code] || k('passkey.error.failed'));
  if (err instanceof DocumentError) return t('error.document', { path: err.path, message: err.message });
  if (err instanceof CanonicalError) return t('error.canonical', { code: err.code, message: err.message });
  if (err && err.i18nKey) return t(err.i18nKey, err.params);
  return t('error.unexpected');
}

/** An error that carries a message key (for checks the console makes itself). */
export class ConsoleError extends Error {
  constructor(i18nKey, params) {
    super(i18nKey);
    this.name = 'ConsoleError';
    this.i18nKey = i18nKey;
    this.params = params;
  }
}

/** An alert box for an error (`role="alert"`: announced at once). */
export function errorBox(err, testid = 'error') {
  return h('div', { class: 'notice notice-error', role: 'alert', testid }, h('p', null, describeError(err)));
}

/** A notice: `kind` is info, success, warning or error. */
export function notice(kind, content, testid) {
  const role = kind === 'error' ? 'alert' : undefined;
  return h('div', { class: ['notice', `notice-${kind}`], role, testid }, Array.isArray(content) ? content : h('p', null, content));
}

/** A placeholder shown while a screen loads. */
export function loading() {
  return h('p', { class: 'loading', role: 'status' }, t('common.loading'));
}

/** Runs `fn` with the button disabled and marked busy; the error, if any, goes into `errorSlot`. */
export async function busy(button, fn, errorSlot) {
  if (button.disabled) return undefined;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  if (errorSlot) mount(errorSlot);
  try {
    return await fn();
  } catch (err) {
    if (errorSlot) mount(errorSlot, errorBox(err));
    announce(describeError(err));
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

/** Base units shown with the asset's decimals and symbol (the base units too, when asked). */
export function amountText(base, asset, { withBase = false } = {}) {
  if (typeof base !== 'string' || !/^[0-9]+$/.test(base)) return String(base ?? '—');
  if (!asset) return t('amount.baseUnitsOnly', { amount: base });
  const shown = `${formatUnits(base, asset.decimals)} ${asset.symbol}`;
  return withBase ? `${shown} (${t('amount.baseUnits', { amount: base })})` : shown;
}

/** A time element with local time and the UTC form as its machine-readable value and title. */
export function timeText(seconds) {
  if (typeof seconds !== 'number') return '—';
  return h('time', { datetime: isoTime(seconds), title: isoTime(seconds) }, formatTime(seconds));
}

/** A time and how far it is from now ("in 2 h" / "3 min ago"). */
export function timeWithDistance(seconds, now) {
  const delta = seconds - now;
  const rel = delta >= 0 ? t('time.in', { duration: formatDuration(delta) }) : t('time.ago', { duration: formatDuration(-delta) });
  return h('span', null, timeText(seconds), ' ', h('span', { class: 'muted' }, `(${rel})`));
}

const STATE_KEYS = {
  draft: k('state.draft'),
  awaitingApprovals: k('state.awaitingApprovals'),
  approved: k('state.approved'),
  built: k('state.built'),
  signing: k('state.signing'),
  signed: k('state.signed'),
  broadcast: k('state.broadcast'),
  confirmed: k('state.confirmed'),
  rejected: k('state.rejected'),
  expired: k('state.expired'),
  failed: k('state.failed'),
  pending: k('state.pending'),
  removed: k('state.removed'),
};

const ROLE_KEYS = { admin: k('role.admin'), initiator: k('role.initiator'), approver: k('role.approver'), viewer: k('role.viewer') };

/** A role's translated name. */
export function roleName(role) {
  return ROLE_KEYS[role] ? t(ROLE_KEYS[role]) : String(role);
}

/** All states the history filter offers (intent and deposit states). */
export const ALL_STATES = Object.keys(STATE_KEYS);

/** A state's translated name. */
export function stateName(state) {
  return STATE_KEYS[state] ? t(STATE_KEYS[state]) : String(state);
}

/** A state badge (text, not colour alone). */
export function stateBadge(state, testid) {
  const tone = ['confirmed', 'signed', 'broadcast', 'approved'].includes(state)
    ? 'good'
    : ['rejected', 'failed', 'expired', 'removed'].includes(state)
      ? 'bad'
      : 'neutral';
  return h('span', { class: ['badge', `badge-${tone}`], testid, dataset: { state } }, stateName(state));
}

/** Monospace text that wraps anywhere (hashes, addresses, ids). */
export function mono(value, testid) {
  return h('code', { class: 'mono', testid }, String(value));
}

/** A button that copies `value` to the clipboard and says so. */
export function copyButton(value, label, testid) {
  const b = h('button', { type: 'button', class: 'button-small', testid }, label || t('common.copy'));
  b.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(value);
      announce(t('common.copied'));
      b.textContent = t('common.copied');
      setTimeout(() => {
        b.textContent = label || t('common.copy');
      }, 2000);
    } catch {
      announce(t('common.copyFailed'));
    }
  });
  return b;
}

const liveUrls = new Set();

/** Revokes the object URLs of earlier downloads (called on navigation). */
export function revokeDownloads() {
  for (const u of liveUrls) URL.revokeObjectURL(u);
  liveUrls.clear();
}

/** A link that saves `bytes` as a file (a Blob URL, made here; nothing is sent anywhere). */
export function downloadLink(bytes, filename, type, label, testid) {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  liveUrls.add(url);
  return h('a', { href: url, download: filename, class: 'button-link', testid }, label);
}

/** Lines for a fee cap (each member in base units of the chain: sat, sat/kvB, wei, gas). */
export function feeCapRows(cap, chain) {
  const unitKeys = {
    maxAbsolute: k('fee.unit.sat'),
    maxRatePerKvB: k('fee.unit.satPerKvB'),
    maxFeePerGas: k('fee.unit.wei'),
    maxPriorityFeePerGas: k('fee.unit.wei'),
    maxGasLimit: k('fee.unit.gas'),
    maxTotalFee: k('fee.unit.wei'),
  };
  return feeCapFields(chain).map((name) => [
    t(FEE_LABELS[name]),
    `${cap[name]} ${t(unitKeys[name])}`,
    `fee-${name}`,
  ]);
}

export const FEE_LABELS = {
  maxAbsolute: k('fee.maxAbsolute'),
  maxRatePerKvB: k('fee.maxRatePerKvB'),
  maxFeePerGas: k('fee.maxFeePerGas'),
  maxPriorityFeePerGas: k('fee.maxPriorityFeePerGas'),
  maxGasLimit: k('fee.maxGasLimit'),
  maxTotalFee: k('fee.maxTotalFee'),
};

/**
 * Every field of an intent document (as read by documents.readIntent), with names from the policy where
 * the policy knows them. `prefix` namespaces the test ids (`intent-` on review, `decoded-` on approval).
 */
export function intentFields(intent, policy, prefix = 'intent-') {
  const asset = assetOf(policy, intent.asset);
  const entry = (policy && policy.addressBook ? policy.addressBook : []).find((e) => e.id === intent.destination.entry);
  const initiator = memberOf(policy, intent.initiator);
  const rows = [
    [t('intent.id'), mono(intent.id), `${prefix}id`],
    [t('intent.organization'), mono(intent.organization), `${prefix}organization`],
    [t('intent.policy'), mono(intent.policy), `${prefix}policy`],
    [t('intent.wallet'), mono(intent.wallet), `${prefix}wallet`],
    [t('intent.asset'), asset ? `${asset.symbol} (${intent.asset})` : intent.asset, `${prefix}asset`],
    [
      t('intent.destination'),
      h(
        'span',
        null,
        entry ? h('strong', null, entry.label) : h('strong', { class: 'warn-text' }, t('intent.entryUnknown')),
        ' ',
        h('span', { class: 'muted' }, `[${intent.destination.entry}]`),
        h('br'),
        mono(intent.destination.address, `${prefix}destination-address`),
      ),
      `${prefix}destination`,
    ],
    [t('intent.amount'), h('strong', { class: 'amount' }, amountText(intent.amount, asset, { withBase: true })), `${prefix}amount`],
  ];
  for (const row of feeCapRows(intent.feeCap, intent.feeCap.chain)) {
    rows.push([t('intent.feeCap', { name: row[0] }), row[1], `${prefix}${row[2]}`]);
  }
  rows.push(
    [t('intent.memo'), intent.memo === '' ? h('span', { class: 'muted' }, t('intent.memoEmpty')) : intent.memo, `${prefix}memo`],
    [t('intent.nonce'), mono(intent.nonce), `${prefix}nonce`],
    [t('intent.created'), timeText(intent.created), `${prefix}created`],
    [t('intent.expires'), timeText(intent.expires), `${prefix}expires`],
    [t('intent.initiator'), initiator ? `${initiator.name} (${intent.initiator})` : intent.initiator, `${prefix}initiator`],
  );
  if (intent.pin && intent.pin.inputs) rows.push([t('intent.pinInputs'), h('span', null, intent.pin.inputs.map((s) => [mono(s), h('br')])), `${prefix}pin`]);
  if (intent.pin && intent.pin.ethNonce !== undefined) rows.push([t('intent.pinEthNonce'), String(intent.pin.ethNonce), `${prefix}pin`]);
  return dl(rows, 'intent-fields');
}

/** A notice listing the policy problems found (empty when there are none). */
export function policyProblems(loaded) {
  if (!loaded || !loaded.problems.length) return null;
  return notice(
    'error',
    [h('p', null, h('strong', null, t('policy.problem.title'))), h('ul', null, loaded.problems.map((p) => h('li', null, t(p.key, p.params))))],
    'policy-problems',
  );
}

/**
 * The passkey credential that will sign: the one the member signed in with, or a choice among the passkeys
 * registered in this browser for this member. Returns `{element, value()}`.
 */
export function signingCredential(session, registrationsFor) {
  const regs = registrationsFor(session.org, session.member);
  const ids = [...new Set([session.credentialId, ...regs.map((r) => r.credentialId)].filter(Boolean))];
  if (ids.length <= 1) {
    const id = ids[0] || '';
    return {
      element: h('p', { class: 'signing-credential' }, t('sign.credential'), ' ', id ? mono(id, 'signing-credential') : h('strong', { class: 'warn-text' }, t('sign.noCredential'))),
      value: () => id,
    };
  }
  const select = h('select', null, ids.map((id) => h('option', { value: id, selected: id === session.credentialId }, id)));
  const wrap = h('div', { class: 'field' }, h('label', { for: 'signing-credential-select' }, t('sign.credential')), select);
  select.id = 'signing-credential-select';
  select.setAttribute('data-testid', 'signing-credential-select');
  return { element: wrap, value: () => select.value };
}
