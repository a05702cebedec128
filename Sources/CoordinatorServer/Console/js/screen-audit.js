// Audit log: the organisation's hash chain of events, a page at a time. Each event's hash is recomputed here
// (docs/AUDIT.md: SHA-256 over the tag, organisation, sequence, kind, subject, time, canonical payload and the
// previous hash) and each link checked against the event before it.
import { get, query } from './api.js';
import { canonicalBytes, concatBytes, sha256, toHex, utf8 } from './canonical.js';
import { add, h, mount, table } from './dom.js';
import { t } from './i18n.js';
import { path, session } from './session.js';
import { errorBox, heading, loading, mono, timeText } from './ui.js';

const PAGE = 50;
const ZERO_HASH = '0'.repeat(64);

function u64(n) {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}

function i64(n) {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, BigInt(n));
  return b;
}

function fieldBytes(bytes) {
  return concatBytes(u64(bytes.length), bytes);
}

function hexBytes(text) {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(text.substr(i * 2, 2), 16);
  return out;
}

/** The hash of an audit event as docs/AUDIT.md defines it (hex), or null when a field cannot be encoded. */
export async function eventHash(org, e) {
  if (!/^[0-9a-f]{64}$/.test(e.previousHash || '') || !Number.isSafeInteger(e.sequence) || !Number.isSafeInteger(e.at)) return null;
  let payload;
  try {
    payload = canonicalBytes(e.payload);
  } catch {
    return null;
  }
  const bytes = concatBytes(
    fieldBytes(utf8('kura/audit-event/v1')),
    fieldBytes(utf8(org)),
    i64(e.sequence),
    fieldBytes(utf8(String(e.kind ?? ''))),
    fieldBytes(utf8(String(e.subject ?? ''))),
    i64(e.at),
    fieldBytes(payload),
    hexBytes(e.previousHash),
  );
  return toHex(await sha256(bytes));
}

export async function render(ctx) {
  const { root } = ctx;
  const after = /^[0-9]{1,15}$/.test(ctx.query.get('after') || '') ? Number(ctx.query.get('after')) : 0;
  const body = h('div', null, loading());
  add(root, heading(t('audit.title')), h('p', { class: 'lead' }, t('audit.intro')), body);
  try {
    // One event before the page, to check the first link of the page too.
    const from = Math.max(0, after - 1);
    const answer = await get(path('/audit' + query({ after: from, limit: PAGE + (after > 0 ? 1 : 0) })));
    if (!ctx.alive()) return;
    const all = (answer && answer.events) || [];
    const before = after > 0 && all.length && all[0].sequence === after ? all[0] : null;
    const events = after > 0 ? all.filter((e) => e.sequence > after) : all;
    let previous = before ? before.hash : after === 0 ? ZERO_HASH : null;
    let expectedSequence = after + 1;
    const rows = [];
    let broken = 0;
    for (const e of events) {
      const computed = await eventHash(session.org, e);
      const hashOk = computed !== null && computed === e.hash;
      const linkOk = previous === null ? null : e.previousHash === previous;
      const sequenceOk = e.sequence === expectedSequence;
      if (!hashOk || linkOk === false || !sequenceOk) broken++;
      previous = e.hash;
      expectedSequence = e.sequence + 1;
      rows.push({
        testid: `audit-row-${e.sequence}`,
        className: hashOk && linkOk !== false && sequenceOk ? undefined : 'row-bad',
        cells: [
          String(e.sequence),
          h('span', null, e.kind),
          e.subject ? mono(e.subject) : '—',
          timeText(e.at),
          h(
            'span',
            null,
            hashOk ? h('span', { class: 'good-text' }, t('audit.hashOk')) : h('strong', { class: 'bad-text' }, t('audit.hashBad')),
            h('br'),
            linkOk === null ? h('span', { class: 'muted' }, t('audit.linkUnknown')) : linkOk ? h('span', { class: 'good-text' }, t('audit.linkOk')) : h('strong', { class: 'bad-text' }, t('audit.linkBad')),
            sequenceOk ? null : [h('br'), h('strong', { class: 'bad-text' }, t('audit.sequenceGap'))],
          ),
          h('details', { class: 'disclosure' }, h('summary', null, t('audit.show')), h(
            'dl',
            { class: 'fields compact' },
            h('div', { class: 'row' }, h('dt', null, t('audit.hash')), h('dd', null, mono(e.hash))),
            h('div', { class: 'row' }, h('dt', null, t('audit.previousHash')), h('dd', null, mono(e.previousHash))),
            h('div', { class: 'row' }, h('dt', null, t('audit.payload')), h('dd', null, h('pre', { class: 'code-block' }, JSON.stringify(e.payload, null, 2)))),
          )),
        ],
      });
    }
    const last = events.length ? events[events.length - 1].sequence : after;
    const nav = h(
      'nav',
      { class: 'pager', 'aria-label': t('audit.pages') },
      after > 0 ? h('a', { href: `#/audit${query({ after: Math.max(0, after - PAGE) })}`, class: 'button-link', testid: 'audit-prev' }, t('audit.previous')) : null,
      after > 0 ? h('a', { href: '#/audit', class: 'button-link', testid: 'audit-first' }, t('audit.first')) : null,
      events.length === PAGE ? h('a', { href: `#/audit${query({ after: last })}`, class: 'button-link', testid: 'audit-next' }, t('audit.next')) : null,
    );
    mount(body,
      h('p', { testid: 'audit-verdict', class: broken ? 'bad-text' : 'good-text', dataset: { broken } }, broken ? t('audit.broken', { n: broken }) : t('audit.intact', { n: events.length })),
      events.length
        ? table(
            t('audit.caption', { from: events[0].sequence, to: last }),
            [t('audit.col.sequence'), t('audit.col.kind'), t('audit.col.subject'), t('audit.col.at'), t('audit.col.chain'), t('audit.col.details')],
            rows,
            { rowHeaders: true, testid: 'audit-table' },
          )
        : h('p', { class: 'muted', testid: 'audit-empty' }, t('audit.empty')),
      nav,
    );
  } catch (err) {
    if (ctx.alive()) mount(body, errorBox(err));
  }
}
