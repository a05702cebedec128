// Approvals: intents waiting for approvals, each decoded from the bytes its initiator signed (never from the
// coordinator's summary), its digest recomputed here; an approval or rejection signs THAT digest with the
// approver's passkey, and is refused here when the digest the coordinator claims is another one.
import { get, newIdempotencyKey, post } from './api.js';
import { buildApproval, digestOf, nowSeconds } from './documents.js';
import { add, h, mount, table } from './dom.js';
import { k, t } from './i18n.js';
import { decodeApprovals, isIntentId, loadIntent, trustworthy } from './intents.js';
import { approvalsNeeded, assetOf, loadPolicies, memberOf, ruleFor } from './policy.js';
import { hasRole, path, session } from './session.js';
import {
  amountText, announce, busy, ConsoleError, describeError, errorBox, heading, intentFields, loading, mono, notice,
  policyProblems, signingCredential, stateBadge, timeText,
} from './ui.js';
import { memberSignature, registrationsFor } from './webauthn.js';

/** Why the console will not let this member approve (message keys), and whether rejecting is still offered. */
function refusals(loaded, loadedPolicies) {
  const out = [];
  let rejectAllowed = true;
  const intent = loaded.intent;
  if (loaded.decodeError || loaded.checks.length) return { reasons: [], blocked: true, rejectAllowed: false };
  const policy = loadedPolicies.current ? loadedPolicies.current.policy : null;
  if (!hasRole('approver')) out.push({ key: k('approvals.refuse.notApprover') });
  if (loaded.state !== 'awaitingApprovals') out.push({ key: k('approvals.refuse.state'), params: { state: loaded.state } });
  if (intent.initiator === session.member) out.push({ key: k('approvals.refuse.ownIntent') });
  if (loaded.approvals.some((a) => a.approval && a.approval.approver === session.member)) out.push({ key: k('approvals.refuse.alreadyDecided') });
  if (nowSeconds() >= intent.expires) out.push({ key: k('approvals.refuse.expired') });
  if (!loadedPolicies.current || intent.policy !== loadedPolicies.current.hash) {
    out.push({ key: k('approvals.refuse.policy') });
  }
  if (loadedPolicies.problems.length) out.push({ key: k('approvals.refuse.policyProblems') });
  const blocked = out.length > 0;
  // Problems with the transfer itself: approving is refused, rejecting stays possible.
  const entry = policy ? (policy.addressBook || []).find((e) => e.id === intent.destination.entry) : null;
  if (!entry || entry.asset !== intent.asset || entry.address !== intent.destination.address) {
    out.push({ key: k('approvals.refuse.addressBook') });
  } else if (entry.usableFrom > nowSeconds()) {
    out.push({ key: k('approvals.refuse.notUsable') });
  }
  if (policy && !ruleFor(policy, intent.wallet, intent.asset)) out.push({ key: k('approvals.refuse.noRule') });
  if (blocked) rejectAllowed = false;
  return { reasons: out, blocked: out.length > 0, rejectAllowed };
}

/** The loud banner for an intent whose signed bytes do not match what the coordinator claims. */
export function integrityBanner(loaded) {
  if (loaded.decodeError) {
    return notice('error', [h('p', null, h('strong', null, t('intent.decodeFailed'))), h('p', null, describeError(loaded.decodeError))], 'digest-mismatch');
  }
  if (!loaded.checks.length) return null;
  const items = loaded.checks.map((c) =>
    h('li', null, c === 'digest' ? t('intent.check.digest') : c === 'id' ? t('intent.check.id') : c === 'organization' ? t('intent.check.organization') : c === 'signature' ? t('intent.check.signature', { code: (loaded.signatureCheck && loaded.signatureCheck.code) || '' }) : t('intent.check.signer')),
  );
  return notice('error', [h('p', null, h('strong', null, t('intent.mismatchTitle'))), h('ul', null, items)], 'digest-mismatch');
}

/** The computed and claimed digests side by side, with their verdict. */
export function digestComparison(loaded, prefix) {
  const ok = !loaded.decodeError && loaded.digest === loaded.serverDigest;
  return h(
    'dl',
    { class: ['fields', 'digest-compare', ok ? 'ok' : 'bad'] },
    h('div', { class: 'row' }, h('dt', null, t('intent.digestComputed')), h('dd', null, mono(loaded.digest || '—', `${prefix}digest-computed`))),
    h('div', { class: 'row' }, h('dt', null, t('intent.digestServer')), h('dd', null, mono(loaded.serverDigest || '—', `${prefix}digest-server`))),
    h(
      'div',
      { class: 'row' },
      h('dt', null, t('intent.digestVerdict')),
      h('dd', null, h('strong', { class: ok ? 'good-text' : 'bad-text', testid: `${prefix}digest-status`, dataset: { match: ok ? 'true' : 'false' } }, ok ? t('intent.digestMatch') : t('intent.digestMismatch'))),
    ),
    loaded.signatureCheck && loaded.signatureCheck.ok
      ? h('div', { class: 'row' }, h('dt', null, t('intent.signature')), h('dd', null, h('strong', { class: 'good-text', testid: `${prefix}signature-status` }, t('intent.signatureVerified'))))
      : null,
  );
}

/** The approvals of an intent, each decoded from its signed bytes. */
export function approvalsTable(approvals, testid) {
  if (!approvals.length) return h('p', { class: 'muted', testid: `${testid}-empty` }, t('approvals.none'));
  return table(
    t('approvals.recordedCaption'),
    [t('approvals.col.approver'), t('approvals.col.decision'), t('approvals.col.time'), t('approvals.col.credential'), t('approvals.col.check')],
    approvals.map((a) => [
      a.approval ? a.approval.approver : a.listed.approver,
      a.approval ? (a.approval.decision === 'approve' ? t('approvals.decision.approve') : t('approvals.decision.reject')) : '—',
      a.approval ? timeText(a.approval.time) : '—',
      a.signature ? mono(a.signature.credential) : '—',
      a.ok ? h('span', { class: 'good-text' }, t('approvals.check.ok')) : h('strong', { class: 'bad-text' }, t('approvals.check.bad')),
    ]),
    { testid },
  );
}

async function renderList(ctx, body) {
  const [loadedPolicies, answer] = await Promise.all([loadPolicies(), get(path('/intents?state=awaitingApprovals&limit=100'))]);
  if (!ctx.alive()) return;
  const policy = loadedPolicies.current ? loadedPolicies.current.policy : null;
  const intents = (answer && answer.intents) || [];
  if (!intents.length) {
    mount(body, policyProblems(loadedPolicies), notice('info', t('approvals.empty'), 'approvals-empty'));
    return;
  }
  const rows = await Promise.all(
    intents.map(async (summary) => {
      const id = summary.id;
      if (!isIntentId(id)) return null;
      try {
        const loaded = await loadIntent(id);
        return { id, loaded };
      } catch (err) {
        return { id, error: err };
      }
    }),
  );
  if (!ctx.alive()) return;
  const tableRows = rows.filter(Boolean).map(({ id, loaded, error }) => {
    const open = h('a', { href: `#/approvals/${encodeURIComponent(id)}`, class: 'button-link button-small', testid: `approval-open-${id}` }, t('approvals.review'));
    if (error) return { testid: `approval-row-${id}`, cells: [mono(id), h('span', { class: 'bad-text' }, describeError(error)), '', '', '', '', open] };
    if (!trustworthy(loaded)) {
      return {
        testid: `approval-row-${id}`,
        className: 'row-bad',
        cells: [mono(id), h('strong', { class: 'bad-text', testid: `approval-mismatch-${id}` }, t('intent.mismatchShort')), '', '', '', '', open],
      };
    }
    const i = loaded.intent;
    const asset = assetOf(policy, i.asset);
    const entry = policy ? (policy.addressBook || []).find((e) => e.id === i.destination.entry) : null;
    const rule = policy ? ruleFor(policy, i.wallet, i.asset) : null;
    const needed = rule ? approvalsNeeded(rule, i.amount) : null;
    const have = loaded.approvals.filter((a) => a.ok && a.approval.decision === 'approve').length;
    const initiator = memberOf(policy, i.initiator);
    return {
      testid: `approval-row-${id}`,
      cells: [
        mono(id),
        h('span', null, i.wallet),
        h('strong', { testid: `approval-amount-${id}` }, amountText(i.amount, asset)),
        h('span', null, entry ? entry.label : i.destination.entry, h('br'), mono(i.destination.address)),
        initiator ? initiator.name : i.initiator,
        h('span', null, timeText(i.expires)),
        h('span', null, needed === null ? String(have) : t('approvals.progress', { have, need: needed }), ' ', open),
      ],
    };
  });
  mount(body,
    policyProblems(loadedPolicies),
    table(
      t('approvals.caption'),
      [t('approvals.col.intent'), t('approvals.col.wallet'), t('approvals.col.amount'), t('approvals.col.destination'), t('approvals.col.initiator'), t('approvals.col.expires'), t('approvals.col.approvals')],
      tableRows,
      { rowHeaders: true, testid: 'approvals-table' },
    ),
  );
}

async function renderReview(ctx, body, id) {
  const [loadedPolicies, loaded] = await Promise.all([loadPolicies({ force: true }), loadIntent(id)]);
  if (!ctx.alive()) return;
  const policy = loadedPolicies.current ? loadedPolicies.current.policy : null;
  const parts = [policyProblems(loadedPolicies), h('p', null, t('approvals.stateLabel'), ' ', stateBadge(loaded.state, 'approval-state'))];
  const banner = integrityBanner(loaded);
  if (banner) parts.push(banner);
  parts.push(h('h2', null, t('approvals.digestTitle')), digestComparison(loaded, 'approval-'));
  if (loaded.intent && !loaded.decodeError) {
    parts.push(h('h2', null, t('approvals.decodedTitle')), h('p', { class: 'hint' }, t('approvals.decodedHint')), intentFields(loaded.intent, policy, 'decoded-'));
  }
  parts.push(h('h2', null, t('approvals.recordedTitle')), approvalsTable(loaded.approvals, 'approval-list'));

  const verdict = refusals(loaded, loadedPolicies);
  const errors = h('div', { testid: 'approval-error' });
  const result = h('div', { testid: 'approval-result' });
  const approve = h('button', { type: 'button', class: 'primary', testid: 'approve-button', disabled: verdict.blocked }, t('approvals.approve'));
  const reject = h('button', { type: 'button', class: 'danger', testid: 'reject-button', disabled: !verdict.rejectAllowed }, t('approvals.reject'));
  const credential = signingCredential(session, registrationsFor);
  const keys = { approve: newIdempotencyKey(), reject: newIdempotencyKey() };

  const decide = (decision, button) =>
    busy(
      button,
      async () => {
        // Decoded again at the moment of signing: what is signed is what is shown, nothing older.
        if (!trustworthy(loaded)) throw new ConsoleError('approvals.refuse.mismatch');
        const credentialId = credential.value();
        if (!credentialId) throw new ConsoleError('sign.noCredential');
        const doc = buildApproval({ intentDigest: loaded.digest, decision, approver: session.member, time: nowSeconds() });
        const digest = await digestOf('approval', doc);
        const signature = await memberSignature({ org: session.org, member: session.member, credentialId, digest: digest.bytes });
        const answer = await post(path(`/intents/${encodeURIComponent(id)}/approvals`), {
          json: { approval: doc, signature },
          idempotencyKey: keys[decision],
        });
        approve.disabled = true;
        reject.disabled = true;
        const recorded = answer && answer.approval ? await decodeApprovals([answer.approval], loaded.digest, loaded.policy) : [];
        const message = decision === 'approve' ? t('approvals.approved') : t('approvals.rejected');
        mount(result,
          notice('success', [
            h('p', null, message),
            h('p', null, t('approvals.approvalDigest'), ' ', mono(digest.hex, 'approval-digest')),
            recorded.length && !recorded[0].ok ? h('p', { class: 'bad-text' }, t('approvals.check.bad')) : null,
            h('p', null, h('a', { href: `#/transfers/${encodeURIComponent(id)}`, testid: 'approval-detail-link' }, t('approvals.openDetail'))),
          ], 'approval-success'),
        );
        announce(message);
      },
      errors,
    );
  approve.addEventListener('click', () => decide('approve', approve));
  reject.addEventListener('click', () => decide('reject', reject));

  parts.push(h('h2', null, t('approvals.decisionTitle')));
  if (verdict.reasons.length) {
    parts.push(notice('warning', h('ul', null, verdict.reasons.map((r) => h('li', null, t(r.key, r.params)))), 'approval-refusals'));
  }
  if (hasRole('approver')) parts.push(credential.element, h('div', { class: 'actions' }, approve, reject));
  parts.push(errors, result, h('p', null, h('a', { href: `#/transfers/${encodeURIComponent(id)}` }, t('approvals.openDetail')), ' · ', h('a', { href: '#/approvals' }, t('approvals.backToList'))));
  mount(body, ...parts.filter(Boolean));
}

export async function render(ctx) {
  const { root, params } = ctx;
  const id = params[0];
  const body = h('div', null, loading());
  if (id) {
    add(root, heading(t('approvals.reviewTitle', { id })), body);
    try {
      await renderReview(ctx, body, id);
    } catch (err) {
      if (ctx.alive()) mount(body, errorBox(err));
    }
    return;
  }
  add(root, heading(t('approvals.title')), h('p', { class: 'lead' }, t('approvals.intro')), body);
  try {
    await renderList(ctx, body);
  } catch (err) {
    if (ctx.alive()) mount(body, errorBox(err));
  }
}
