// Address-book proposals (docs/COORDINATOR.md, "Policy proposals"): an admin builds the next policy version
// here — the newest stored version with entries added or removed, new entries usable only after the
// address-book delay — signs its kura/policy/v1 hash with a passkey and proposes it; other admins open the
// proposal, which is decoded from its exact canonical bytes and hashed again here (the hash is the proposal's
// id), compare it with the newest version, and add their signatures. The coordinator appends the version once
// the quorum of the previous version's admins has signed.
import { get, newIdempotencyKey, post } from './api.js';
import { canonicalize, documentDigest, fromBase64, parseStrictBytes, toHex } from './canonical.js';
import { byteLength, isId, nowSeconds, TAGS } from './documents.js';
import { add, dl, field, h, mount, table } from './dom.js';
import { formatDuration, k, t } from './i18n.js';
import { assetOf, invalidate } from './policy.js';
import { hasRole, path, session } from './session.js';
import {
  announce, busy, ConsoleError, describeError, errorBox, loading, mono, notice, signingCredential, timeText,
} from './ui.js';
import { memberSignature, registrationsFor } from './webauthn.js';

/** Policy members that are not the address book and that an address-book proposal should leave alone. */
const OTHER_SECTIONS = ['members', 'signers', 'assets', 'wallets', 'rules', 'governance', 'expires', 'organization', 'kind', 'format'];

/** Entries added, removed or changed between two address books (by entry id). */
export function diffAddressBook(before, after) {
  const old = new Map((before || []).map((e) => [e.id, e]));
  const next = new Map((after || []).map((e) => [e.id, e]));
  const added = [];
  const removed = [];
  const changed = [];
  for (const [id, e] of next) {
    const o = old.get(id);
    if (!o) added.push(e);
    else if (canonicalize(o) !== canonicalize(e)) changed.push(e);
  }
  for (const [id, e] of old) if (!next.has(id)) removed.push(e);
  return { added, removed, changed };
}

/** The top-level members besides the address book that differ between two policy documents. */
export function otherChanges(before, after) {
  const keys = new Set([...Object.keys(before || {}), ...Object.keys(after || {})]);
  const out = [];
  for (const key of [...keys].sort()) {
    if (['addressBook', 'version', 'previous', 'created', 'effectiveFrom'].includes(key)) continue;
    const a = before && key in before ? canonicalize(before[key]) : undefined;
    const b = after && key in after ? canonicalize(after[key]) : undefined;
    if (a !== b) out.push(key);
  }
  return out;
}

/**
 * The next policy version: `head` (the newest stored version's document) with `add` entries appended (usable
 * from creation + the address-book delay) and the `remove` entry ids dropped.
 */
export function buildProposal(head, headHash, { addEntries = [], removeIds = [], now = nowSeconds() }) {
  const doc = JSON.parse(JSON.stringify(head));
  const delay = Number(head.rules && head.rules.addressBookDelay) || 0;
  doc.version = head.version + 1;
  doc.previous = headHash;
  doc.created = Math.max(now, head.created);
  doc.effectiveFrom = Math.max(doc.created, head.effectiveFrom);
  doc.addressBook = (head.addressBook || []).filter((e) => !removeIds.includes(e.id));
  for (const e of addEntries) {
    doc.addressBook.push({ id: e.id, asset: e.asset, address: e.address, label: e.label, usableFrom: doc.created + delay });
  }
  return doc;
}

function entryRows(entries, policy, now, testid, caption = null) {
  return table(
    caption,
    [t('addressBook.col.label'), t('addressBook.col.id'), t('addressBook.col.asset'), t('addressBook.col.address'), t('addressBook.col.usableFrom')],
    entries.map((e) => {
      const asset = assetOf(policy, e.asset);
      return {
        testid: `${testid}-row-${e.id}`,
        cells: [
          e.label,
          mono(e.id),
          asset ? `${asset.symbol} (${e.asset})` : e.asset,
          mono(e.address),
          h(
            'span',
            null,
            timeText(e.usableFrom),
            ' ',
            e.usableFrom > now
              ? h('span', { class: 'countdown muted', dataset: { until: e.usableFrom } }, t('time.in', { duration: formatDuration(e.usableFrom - now) }))
              : null,
          ),
        ],
      };
    }),
    { rowHeaders: true, testid },
  );
}

/** The changes of a proposed document against the head it follows, for review. */
function changesView(doc, head, now, testid) {
  const diff = diffAddressBook(head.addressBook, doc.addressBook);
  const others = otherChanges(head, doc);
  return h(
    'div',
    { testid },
    diff.added.length ? entryRows(diff.added, doc, now, `${testid}-added`, t('addressBook.added')) : null,
    diff.changed.length ? entryRows(diff.changed, doc, now, `${testid}-changed`, t('addressBook.changed')) : null,
    diff.removed.length ? entryRows(diff.removed, head, now, `${testid}-removed`, t('addressBook.removed')) : null,
    !diff.added.length && !diff.changed.length && !diff.removed.length ? h('p', { class: 'muted' }, t('addressBook.noBookChange')) : null,
    others.length ? notice('warning', t('proposals.otherChanges', { sections: others.join(', ') }), `${testid}-other-changes`) : null,
  );
}

function documentFields(doc, hash, prefix) {
  return dl([
    [t('proposals.version'), String(doc.version), `${prefix}version`],
    [t('proposals.previous'), mono(doc.previous || '—'), `${prefix}previous`],
    [t('proposals.created'), timeText(doc.created)],
    [t('proposals.effectiveFrom'), timeText(doc.effectiveFrom)],
    [t('proposals.hash'), mono(hash, `${prefix}hash`)],
  ]);
}

// MARK: - Proposing

function proposeForm(container, loaded, refresh) {
  const head = loaded.versions[loaded.versions.length - 1];
  const policy = head.policy;
  const delay = Number(policy.rules && policy.rules.addressBookDelay) || 0;
  const id = h('input', { type: 'text', spellcheck: 'false', autocapitalize: 'off' });
  const asset = h('select', null, (policy.assets || []).map((a) => h('option', { value: a.id }, `${a.symbol} (${a.id})`)));
  const address = h('input', { type: 'text', spellcheck: 'false', autocapitalize: 'off', autocomplete: 'off' });
  const label = h('input', { type: 'text', maxlength: '200' });
  const removals = (policy.addressBook || []).map((e) => {
    const box = h('input', { type: 'checkbox', value: e.id, id: `remove-${e.id}`, testid: `proposal-remove-${e.id}` });
    return { e, box, row: h('div', { class: 'check' }, box, ' ', h('label', { for: `remove-${e.id}` }, `${e.label} [${e.id}] ${e.address}`)) };
  });
  const review = h('button', { type: 'submit', class: 'primary', testid: 'proposal-review' }, t('proposals.review'));
  const errors = h('div', { testid: 'proposal-form-error' });
  const out = h('div');
  const form = h(
    'form',
    { class: 'form', novalidate: true, testid: 'proposal-form' },
    h('p', { class: 'hint' }, t('proposals.formIntro', { version: head.version + 1, delay: formatDuration(delay) })),
    h('fieldset', null, h('legend', null, t('proposals.newEntry')),
      field(t('proposals.entryId'), id, { testid: 'proposal-entry-id', hint: t('proposals.entryIdHint') }),
      field(t('proposals.entryAsset'), asset, { testid: 'proposal-entry-asset' }),
      field(t('proposals.entryAddress'), address, { testid: 'proposal-entry-address', hint: t('proposals.entryAddressHint') }),
      field(t('proposals.entryLabel'), label, { testid: 'proposal-entry-label' })),
    removals.length ? h('fieldset', null, h('legend', null, t('proposals.removeEntries')), removals.map((r) => r.row)) : null,
    h('div', { class: 'actions' }, review),
    errors,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    mount(errors);
    try {
      const addEntries = [];
      const values = { id: id.value.trim(), asset: asset.value, address: address.value.trim(), label: label.value.trim() };
      const any = values.id || values.address || values.label;
      if (any) {
        if (!isId(values.id)) throw new ConsoleError('proposals.error.entryId');
        if ((policy.addressBook || []).some((e) => e.id === values.id)) throw new ConsoleError('proposals.error.entryExists');
        if (!values.address || /\s/.test(values.address)) throw new ConsoleError('proposals.error.address');
        if (!values.label || byteLength(values.label) > 200) throw new ConsoleError('proposals.error.label');
        addEntries.push(values);
      }
      const removeIds = removals.filter((r) => r.box.checked).map((r) => r.e.id);
      if (!addEntries.length && !removeIds.length) throw new ConsoleError('proposals.error.nothing');
      const doc = buildProposal(policy, head.hash, { addEntries, removeIds });
      showProposalReview(out, doc, head, () => mount(out), refresh).catch((err) => mount(errors, errorBox(err, 'proposal-error')));
    } catch (err) {
      mount(errors, errorBox(err, 'proposal-error'));
    }
  });
  add(container, h('h3', null, t('proposals.proposeTitle')), form, out);
}

async function showProposalReview(out, doc, head, cancel, refresh) {
  const hash = toHex(await documentDigest(TAGS.policy, doc));
  const now = nowSeconds();
  const credential = signingCredential(session, registrationsFor);
  const sign = h('button', { type: 'button', class: 'primary', testid: 'proposal-sign' }, t('proposals.signAndPropose'));
  const back = h('button', { type: 'button', testid: 'proposal-cancel' }, t('transfer.edit'));
  const errors = h('div', { testid: 'proposal-submit-error' });
  const result = h('div', { testid: 'proposal-result' });
  const key = newIdempotencyKey();
  back.addEventListener('click', cancel);
  sign.addEventListener('click', () =>
    busy(
      sign,
      async () => {
        const credentialId = credential.value();
        if (!credentialId) throw new ConsoleError('sign.noCredential');
        const digest = await documentDigest(TAGS.policy, doc);
        const signature = await memberSignature({ org: session.org, member: session.member, credentialId, digest });
        const answer = await post(path('/proposals'), { json: { policy: doc, signatures: [signature] }, idempotencyKey: key });
        const p = (answer && answer.proposal) || {};
        if (p.id && p.id !== hash) throw new ConsoleError('proposals.error.serverHash');
        sign.hidden = true;
        back.hidden = true;
        const message = p.state === 'applied' ? t('proposals.applied') : t('proposals.proposed', { have: p.signatureCount ?? 1, need: p.required ?? '?' });
        mount(result, notice('success', message, 'proposal-success'));
        announce(message);
        flash = message;
        invalidate();
        refresh();
      },
      errors,
    ),
  );
  const title = h('h3', { tabindex: '-1' }, t('proposals.reviewTitle'));
  mount(
    out,
    h(
      'section',
      { class: 'panel review', testid: 'proposal-review-panel' },
      title,
      documentFields(doc, hash, 'proposal-review-'),
      changesView(doc, head.policy, now, 'proposal-review-changes'),
      h('details', { class: 'disclosure' }, h('summary', null, t('transfer.canonical')), h('pre', { class: 'code-block', tabindex: '0' }, canonicalize(doc))),
      credential.element,
      h('div', { class: 'actions' }, sign, back),
      errors,
      result,
    ),
  );
  title.focus();
}

// MARK: - Open proposals

/** What the last proposal action did, shown after the screen is drawn again. */
let flash = null;

const STATE_KEYS = { open: k('proposals.state.open'), applied: k('proposals.state.applied'), superseded: k('proposals.state.superseded') };

/** A proposal decoded from its exact bytes and checked here: `{doc, hash, problems}`. */
async function decodeProposal(p, head) {
  const problems = [];
  let doc = null;
  let hash = '';
  try {
    doc = parseStrictBytes(fromBase64(p.documentBase64));
    hash = toHex(await documentDigest(TAGS.policy, doc));
    if (hash !== p.id) problems.push(k('proposals.problem.hash'));
    if (doc.organization !== session.org) problems.push(k('proposals.problem.organization'));
    if (p.state === 'open' && head && (doc.version !== head.version + 1 || doc.previous !== head.hash)) {
      problems.push(k('proposals.problem.head'));
    }
  } catch {
    problems.push(k('proposals.problem.decode'));
    return { doc: null, hash, problems };
  }
  return { doc, hash, problems };
}

function proposalView(p, decoded, head, refresh) {
  const now = nowSeconds();
  const signers = Array.isArray(p.signatures) ? p.signatures.map((s) => (s && s.member) || '?') : [];
  const mine = signers.includes(session.member);
  const canSign = hasRole('admin') && p.state === 'open' && !mine && decoded.doc && !decoded.problems.length;
  const credential = signingCredential(session, registrationsFor);
  const sign = h('button', { type: 'button', class: 'primary', testid: `proposal-add-signature-${p.id}` }, t('proposals.sign'));
  const errors = h('div', { testid: `proposal-signature-error-${p.id}` });
  const key = newIdempotencyKey();
  sign.addEventListener('click', () =>
    busy(
      sign,
      async () => {
        // Decoded and hashed again at the moment of signing: what is signed is what is shown.
        const again = await decodeProposal(p, head);
        if (again.problems.length || again.hash !== decoded.hash) throw new ConsoleError('proposals.problem.hash');
        const credentialId = credential.value();
        if (!credentialId) throw new ConsoleError('sign.noCredential');
        const digest = await documentDigest(TAGS.policy, again.doc);
        const signature = await memberSignature({ org: session.org, member: session.member, credentialId, digest });
        const answer = await post(path(`/proposals/${p.id}/signatures`), { json: signature, idempotencyKey: key });
        const q = (answer && answer.proposal) || {};
        const message = q.state === 'applied' ? t('proposals.applied') : t('proposals.signed', { have: q.signatureCount, need: q.required });
        announce(message);
        flash = message;
        invalidate();
        refresh();
      },
      errors,
    ),
  );
  return h(
    'section',
    { class: 'panel', testid: `proposal-${p.id}`, 'aria-labelledby': `proposal-h-${p.id}` },
    h('h4', { id: `proposal-h-${p.id}` }, t('proposals.itemTitle', { version: p.version }), ' ',
      h('span', { class: ['badge', p.state === 'applied' ? 'badge-good' : p.state === 'superseded' ? 'badge-bad' : 'badge-neutral'], testid: `proposal-state-${p.id}` }, STATE_KEYS[p.state] ? t(STATE_KEYS[p.state]) : String(p.state))),
    decoded.problems.length
      ? notice('error', h('ul', null, decoded.problems.map((key2) => h('li', null, t(key2)))), `proposal-problems-${p.id}`)
      : null,
    dl([
      [t('proposals.proposer'), String(p.proposer || '')],
      [t('proposals.signatures'), h('span', { testid: `proposal-count-${p.id}` }, t('proposals.progress', { have: p.signatureCount ?? signers.length, need: p.required ?? '?' }), ' — ', signers.join(', ') || '—')],
      [t('proposals.createdAt'), timeText(p.createdAt)],
    ]),
    decoded.doc ? documentFields(decoded.doc, decoded.hash, `proposal-${p.id}-`) : null,
    decoded.doc && head && p.state === 'open' ? changesView(decoded.doc, head.policy, now, `proposal-changes-${p.id}`) : null,
    canSign ? [credential.element, h('div', { class: 'actions' }, sign)] : null,
    mine && p.state === 'open' ? h('p', { class: 'muted' }, t('proposals.youSigned')) : null,
    errors,
  );
}

/** The proposals section of the address-book screen. */
export async function proposalsSection(ctx, container, loaded, refresh) {
  const list = h('div', null, loading());
  const message = flash;
  flash = null;
  add(
    container,
    h('h2', { id: 'proposals-h' }, t('addressBook.proposalsTitle')),
    message ? notice('success', message, 'proposal-flash') : null,
    h('p', { class: 'hint' }, t('proposals.intro')),
  );
  const head = loaded.versions.length ? loaded.versions[loaded.versions.length - 1] : null;
  if (hasRole('admin') && head && !loaded.problems.length) proposeForm(container, loaded, refresh);
  else if (hasRole('admin')) add(container, notice('warning', t('transfer.policyRefused')));
  add(container, h('h3', null, t('proposals.listTitle')), list);
  try {
    const answer = await get(path('/proposals'));
    if (!ctx.alive()) return;
    const proposals = (answer && answer.proposals) || [];
    const open = proposals.filter((p) => p.state === 'open');
    const closed = proposals.filter((p) => p.state !== 'open').slice(0, 10);
    if (!proposals.length) {
      mount(list, h('p', { class: 'muted', testid: 'proposals-empty' }, t('proposals.none')));
      return;
    }
    const views = [];
    for (const p of [...open, ...closed]) views.push(proposalView(p, await decodeProposal(p, head), head, refresh));
    mount(list, h('div', { testid: 'proposals-list' }, views));
  } catch (err) {
    if (ctx.alive()) mount(list, h('p', null, describeError(err)));
  }
}
