// Transfer detail: the intent decoded from its signed bytes, its state, approvals and receipts; building
// the transaction, downloading a signer's bundle, uploading a signed result (as `kura intent build`,
// `kura bundle get`, `kura bundle put`); then the transaction id and its confirmations.
import { ApiError, get, newIdempotencyKey, post } from './api.js';
import { parseStrict, sha256, toHex } from './canonical.js';
import { add, field, h, mount, table } from './dom.js';
import { t } from './i18n.js';
import { loadIntent } from './intents.js';
import { loadPolicies, walletOf } from './policy.js';
import { hasRole, path } from './session.js';
import {
  announce, busy, ConsoleError, downloadLink, errorBox, heading, intentFields, loading, mono, notice, policyProblems,
  stateBadge, timeText,
} from './ui.js';
import { approvalsTable, digestComparison, integrityBanner } from './screen-approvals.js';

const MAX_RESULT_BYTES = 8 << 20;
const MAX_RECEIPT_BYTES = 64 << 10;
const POLL_MS = 15000;
const FOLLOWED = ['signed', 'broadcast'];
const TRANSACTION_STATES = ['signed', 'broadcast', 'confirmed', 'failed'];

/** A message to show after the screen re-renders (what the last action did). */
let flash = null;

function operator() {
  return hasRole('admin', 'initiator', 'approver');
}

function buildSection(ctx, id, state) {
  const button = h('button', { type: 'button', class: 'primary', testid: 'detail-build', disabled: state !== 'approved' || !operator() }, t('detail.build'));
  const errors = h('div', { testid: 'detail-build-error' });
  const key = newIdempotencyKey();
  button.addEventListener('click', () =>
    busy(
      button,
      async () => {
        const answer = await post(path(`/intents/${encodeURIComponent(id)}/transaction`), { idempotencyKey: key });
        const tx = (answer && answer.transaction) || {};
        flash = {
          testid: 'detail-build-result',
          lines: [
            t('detail.built', { chain: tx.chain || '' }),
            `${t('detail.transactionId')} ${tx.id || ''}`,
            `${t('detail.fee')} ${tx.fee || ''}`,
            `${t('detail.txSha256')} ${tx.sha256 || ''}`,
            `${t('detail.bundleSha256')} ${answer.bundleSha256 || ''}`,
          ],
        };
        announce(t('detail.built', { chain: tx.chain || '' }));
        ctx.rerender();
      },
      errors,
    ),
  );
  return h(
    'section',
    { class: 'step', 'aria-labelledby': 'step-build' },
    h('h3', { id: 'step-build' }, t('detail.stepBuild')),
    h('p', { class: 'hint' }, state === 'approved' ? t('detail.buildHint') : t('detail.buildUnavailable')),
    h('div', { class: 'actions' }, button),
    errors,
  );
}

function bundleSection(ctx, id, state, wallet) {
  const available = (state === 'built' || state === 'signing') && operator();
  const signers = wallet && Array.isArray(wallet.signers) ? wallet.signers : [];
  const signer = h('select', { disabled: !available || !signers.length }, signers.map((s) => h('option', { value: s }, s)));
  const button = h('button', { type: 'button', testid: 'detail-bundle-download', disabled: !available || !signers.length }, t('detail.downloadBundle'));
  const out = h('div', { testid: 'detail-bundle-output', 'aria-live': 'polite' });
  const errors = h('div', { testid: 'detail-bundle-error' });
  button.addEventListener('click', () =>
    busy(
      button,
      async () => {
        const s = signer.value;
        const { bytes } = await get(path(`/intents/${encodeURIComponent(id)}/bundle?signer=${encodeURIComponent(s)}`), { raw: true });
        const digest = toHex(await sha256(bytes));
        mount(out,
          notice('success', [
            h('p', null, t('detail.bundleReady', { bytes: bytes.length, signer: s })),
            h('p', null, t('detail.bundleSha256'), ' ', mono(digest, 'detail-bundle-sha256')),
            h('p', null, downloadLink(bytes, `kura-bundle-${id}-${s}.json`, 'application/json', t('detail.saveBundle'), 'detail-bundle-link')),
            h('p', { class: 'hint' }, t('detail.bundleNext')),
          ]),
        );
        announce(t('detail.bundleReady', { bytes: bytes.length, signer: s }));
      },
      errors,
    ),
  );
  return h(
    'section',
    { class: 'step', 'aria-labelledby': 'step-bundle' },
    h('h3', { id: 'step-bundle' }, t('detail.stepBundle')),
    h('p', { class: 'hint' }, available ? t('detail.bundleHint') : t('detail.bundleUnavailable')),
    field(t('detail.signer'), signer, { testid: 'detail-signer' }),
    h('div', { class: 'actions' }, button),
    out,
    errors,
  );
}

async function readFile(input, max, what) {
  const file = input.files && input.files[0];
  if (!file) throw new ConsoleError('detail.error.noFile', { what });
  if (file.size > max) throw new ConsoleError('detail.error.fileTooLarge', { what, max });
  return new Uint8Array(await file.arrayBuffer());
}

function uploadSection(ctx, id, state, loaded, wallet) {
  const available = state === 'signing' && operator();
  const resultFile = h('input', { type: 'file', disabled: !available });
  const receiptFile = h('input', { type: 'file', accept: '.json,application/json', disabled: !available });
  const button = h('button', { type: 'submit', class: 'primary', testid: 'detail-upload', disabled: !available }, t('detail.upload'));
  const errors = h('div', { testid: 'detail-upload-error' });
  let key = newIdempotencyKey();
  let lastBody = '';
  const form = h(
    'form',
    { class: 'form', novalidate: true },
    field(t('detail.resultFile'), resultFile, { testid: 'detail-result-file', hint: t('detail.resultFileHint') }),
    field(t('detail.receiptFile'), receiptFile, { testid: 'detail-receipt-file', hint: t('detail.receiptFileHint') }),
    h('div', { class: 'actions' }, button),
    errors,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(
      button,
      async () => {
        const resultBytes = await readFile(resultFile, MAX_RESULT_BYTES, t('detail.resultFile'));
        const receiptBytes = await readFile(receiptFile, MAX_RECEIPT_BYTES, t('detail.receiptFile'));
        let text;
        let receipt;
        try {
          text = new TextDecoder('utf-8', { fatal: true }).decode(resultBytes).trim();
        } catch {
          throw new ConsoleError('detail.error.resultNotText');
        }
        try {
          receipt = parseStrict(new TextDecoder('utf-8', { fatal: true }).decode(receiptBytes));
        } catch {
          throw new ConsoleError('detail.error.receiptNotJson');
        }
        const inner = receipt && receipt.receipt;
        if (!inner || typeof inner !== 'object' || typeof receipt.signature !== 'string') throw new ConsoleError('detail.error.receiptShape');
        if (loaded.digest && inner.intent !== loaded.digest) throw new ConsoleError('detail.error.receiptIntent');
        const chain = text.startsWith('0x') ? 'ethereum' : 'bitcoin';
        const expected = wallet && typeof wallet.chain === 'string' ? wallet.chain : chain;
        if (chain !== expected) throw new ConsoleError('detail.error.chain', { chain: expected });
        if (chain === 'bitcoin' && !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw new ConsoleError('detail.error.psbt');
        if (chain === 'ethereum' && !/^0x([0-9a-fA-F]{2})+$/.test(text)) throw new ConsoleError('detail.error.ethHex');
        const body = chain === 'bitcoin' ? { chain, psbt: text, receipt } : { chain, signed: text, receipt };
        const fingerprint = JSON.stringify(body);
        if (fingerprint !== lastBody) {
          key = newIdempotencyKey();
          lastBody = fingerprint;
        }
        const answer = await post(path(`/intents/${encodeURIComponent(id)}/results`), { json: body, idempotencyKey: key });
        const r = (answer && answer.receipt) || {};
        flash = { testid: 'detail-upload-result', lines: [t('detail.uploaded', { signer: r.signer || '', sequence: r.sequence ?? '' })] };
        announce(t('detail.uploaded', { signer: r.signer || '', sequence: r.sequence ?? '' }));
        ctx.rerender();
      },
      errors,
    );
  });
  return h(
    'section',
    { class: 'step', 'aria-labelledby': 'step-upload' },
    h('h3', { id: 'step-upload' }, t('detail.stepUpload')),
    h('p', { class: 'hint' }, available ? t('detail.uploadHint') : t('detail.uploadUnavailable')),
    form,
  );
}

function transactionSection(ctx, id, state) {
  const box = h('div', { testid: 'detail-transaction', 'aria-live': 'polite' });
  const refresh = async () => {
    if (!TRANSACTION_STATES.includes(state)) {
      mount(box, h('p', { class: 'muted', testid: 'detail-transaction-none' }, t('detail.noTransaction')));
      return;
    }
    try {
      const tx = await get(path(`/intents/${encodeURIComponent(id)}/transaction`));
      const f = tx.followUp || {};
      mount(box,
        h(
          'dl',
          { class: 'fields' },
          h('div', { class: 'row' }, h('dt', null, t('detail.txid')), h('dd', null, mono(tx.txid || '', 'detail-txid'))),
          h('div', { class: 'row' }, h('dt', null, t('detail.chain')), h('dd', null, `${tx.chain || ''}${f.network ? ` (${f.network})` : ''}`)),
          h('div', { class: 'row' }, h('dt', null, t('detail.state')), h('dd', null, stateBadge(tx.state, 'detail-transaction-state'))),
          h('div', { class: 'row' }, h('dt', null, t('detail.confirmations')), h('dd', { testid: 'detail-confirmations' }, String(f.confirmations ?? 0))),
          f.blockHeight !== undefined ? h('div', { class: 'row' }, h('dt', null, t('detail.blockHeight')), h('dd', { testid: 'detail-block-height' }, String(f.blockHeight))) : null,
          h('div', { class: 'row' }, h('dt', null, t('detail.attempts')), h('dd', null, String(f.attempts ?? 0))),
          f.lastError ? h('div', { class: 'row' }, h('dt', null, t('detail.lastError')), h('dd', { class: 'bad-text', testid: 'detail-last-error' }, f.lastError)) : null,
          h('div', { class: 'row' }, h('dt', null, t('detail.signedAt')), h('dd', null, timeText(tx.signedAt))),
          f.updatedAt ? h('div', { class: 'row' }, h('dt', null, t('detail.checkedAt')), h('dd', null, timeText(f.updatedAt))) : null,
        ),
        h('details', { class: 'disclosure' }, h('summary', null, t('detail.rawTransaction')), h('pre', { class: 'code-block', tabindex: '0' }, tx.raw || '')),
      );
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) mount(box, h('p', { class: 'muted' }, t('detail.noTransaction')));
      else mount(box, errorBox(err));
    }
  };
  refresh();
  if (FOLLOWED.includes(state)) {
    const timer = setInterval(() => {
      if (!ctx.alive() || !box.isConnected) {
        clearInterval(timer);
        return;
      }
      refresh();
    }, POLL_MS);
  }
  return h('section', { 'aria-labelledby': 'tx-heading' }, h('h2', { id: 'tx-heading' }, t('detail.transactionTitle')), box);
}

function receiptsSection(answer, digest) {
  const list = Array.isArray(answer.receipts) ? answer.receipts : [];
  if (!list.length) return h('p', { class: 'muted', testid: 'detail-receipts-empty' }, t('detail.noReceipts'));
  return table(
    t('detail.receiptsCaption'),
    [t('detail.col.signer'), t('detail.col.sequence'), t('detail.col.transaction'), t('detail.col.time'), t('detail.col.intent')],
    list.map((r) => {
      const inner = (r && r.receipt) || {};
      return [
        String(inner.signer ?? ''),
        String(inner.sequence ?? ''),
        mono(String(inner.transaction ?? '')),
        typeof inner.time === 'number' ? timeText(inner.time) : '—',
        inner.intent === digest ? h('span', { class: 'good-text' }, t('detail.receiptMatches')) : h('strong', { class: 'bad-text' }, t('detail.receiptOther')),
      ];
    }),
    { testid: 'detail-receipts' },
  );
}

export async function render(ctx) {
  const { root, params } = ctx;
  const id = params[0];
  const body = h('div', null, loading());
  add(root, heading(t('detail.title', { id })), body);
  const [loadedPolicies, loaded] = await Promise.all([loadPolicies(), loadIntent(id)]);
  if (!ctx.alive()) return;
  const policy = loadedPolicies.current ? loadedPolicies.current.policy : null;
  const state = loaded.state;
  const intent = loaded.intent;
  const wallet = intent ? walletOf(policy, intent.wallet) : null;
  const answer = loaded.answer || {};
  const refresh = h('button', { type: 'button', testid: 'detail-refresh', on: { click: () => ctx.rerender() } }, t('common.refresh'));
  const message = flash;
  flash = null;
  const parts = [
    message ? notice('success', message.lines.map((l) => h('p', null, l)), message.testid) : null,
    policyProblems(loadedPolicies),
    h('div', { class: 'state-line' }, h('span', null, t('detail.state')), ' ', stateBadge(state, 'detail-state'), ' ', refresh),
    integrityBanner(loaded),
    h('h2', null, t('detail.digestTitle')),
    digestComparison(loaded, 'detail-'),
  ];
  if (intent && !loaded.decodeError) {
    parts.push(h('h2', null, t('detail.intentTitle')), h('p', { class: 'hint' }, t('approvals.decodedHint')), intentFields(intent, policy, 'detail-'));
  }
  if (state === 'awaitingApprovals' && hasRole('approver')) {
    parts.push(h('p', null, h('a', { href: `#/approvals/${encodeURIComponent(id)}`, class: 'button-link primary', testid: 'detail-review-link' }, t('detail.reviewApproval'))));
  }
  parts.push(h('h2', null, t('detail.approvalsTitle')), approvalsTable(loaded.approvals, 'detail-approvals'));
  if (answer.bundle) {
    parts.push(
      h('h2', null, t('detail.bundleTitle')),
      h('dl', { class: 'fields', testid: 'detail-bundle-info' },
        h('div', { class: 'row' }, h('dt', null, t('detail.bundleSha256')), h('dd', null, mono(answer.bundle.digest || ''))),
        h('div', { class: 'row' }, h('dt', null, t('detail.bundleIssued')), h('dd', null, timeText(answer.bundle.issuedAt)))),
    );
  }
  if (operator()) {
    parts.push(
      h('h2', null, t('detail.signingTitle')),
      h('div', { class: 'steps' }, buildSection(ctx, id, state), bundleSection(ctx, id, state, wallet), uploadSection(ctx, id, state, loaded, wallet)),
    );
  }
  parts.push(transactionSection(ctx, id, state), h('h2', null, t('detail.receiptsTitle')), receiptsSection(answer, loaded.digest));
  mount(body, ...parts.filter(Boolean));
}
