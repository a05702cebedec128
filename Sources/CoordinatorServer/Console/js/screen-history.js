// History: the ledger of deposits and withdrawals (`GET /history`), filtered by wallet, kind, state and
// time, and exported as the coordinator's own CSV (RFC 4180, formula-safe), saved as a file.
import { get, query } from './api.js';
import { add, field, h, mount, table } from './dom.js';
import { t } from './i18n.js';
import { assetOf, loadPolicies } from './policy.js';
import { path, session } from './session.js';
import { ALL_STATES, amountText, announce, busy, downloadLink, errorBox, heading, loading, mono, stateBadge, stateName, timeText } from './ui.js';

const DEFAULT_LIMIT = 200;

/** The filters in the route's query (`#/history?wallet=…&kind=…&state=…&since=…&limit=…`). */
function filtersFrom(q) {
  const wallet = q.get('wallet') || '';
  const kind = ['deposit', 'withdrawal'].includes(q.get('kind')) ? q.get('kind') : '';
  const state = ALL_STATES.includes(q.get('state')) ? q.get('state') : '';
  const since = /^[0-9]{1,12}$/.test(q.get('since') || '') ? q.get('since') : '';
  const limitText = q.get('limit') || '';
  const limit = /^[0-9]{1,4}$/.test(limitText) && Number(limitText) >= 1 && Number(limitText) <= 5000 ? limitText : String(DEFAULT_LIMIT);
  return { wallet, kind, state, since, limit };
}

/** A Unix time as the value of a datetime-local input (local time, minutes). */
function toLocalInput(seconds) {
  if (!seconds) return '';
  const d = new Date(Number(seconds) * 1000);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export async function render(ctx) {
  const { root } = ctx;
  const filters = filtersFrom(ctx.query);
  const results = h('div', null, loading());
  const csvOut = h('div', { 'aria-live': 'polite' });
  const csvErrors = h('div');
  add(root, heading(t('history.title')), h('p', { class: 'lead' }, t('history.intro')));

  const [loaded, walletsAnswer] = await Promise.all([loadPolicies(), get(path('/wallets'))]);
  if (!ctx.alive()) return;
  const policy = loaded.current ? loaded.current.policy : null;
  const wallets = ((walletsAnswer && walletsAnswer.wallets) || []).map((w) => w.id);

  const wallet = h('select', null, h('option', { value: '' }, t('history.any')), wallets.map((w) => h('option', { value: w, selected: w === filters.wallet }, w)));
  const kind = h(
    'select',
    null,
    h('option', { value: '' }, t('history.any')),
    h('option', { value: 'deposit', selected: filters.kind === 'deposit' }, t('history.kind.deposit')),
    h('option', { value: 'withdrawal', selected: filters.kind === 'withdrawal' }, t('history.kind.withdrawal')),
  );
  const state = h('select', null, h('option', { value: '' }, t('history.any')), ALL_STATES.map((s) => h('option', { value: s, selected: s === filters.state }, stateName(s))));
  const since = h('input', { type: 'datetime-local', value: toLocalInput(filters.since) });
  const limit = h('input', { type: 'number', min: '1', max: '5000', step: '1', value: filters.limit });
  const apply = h('button', { type: 'submit', class: 'primary', testid: 'history-apply' }, t('history.apply'));
  const csv = h('button', { type: 'button', testid: 'history-csv' }, t('history.csv'));

  const current = () => {
    const sinceSeconds = since.value ? Math.floor(new Date(since.value).getTime() / 1000) : '';
    return {
      wallet: wallet.value,
      kind: kind.value,
      state: state.value,
      since: Number.isFinite(sinceSeconds) && sinceSeconds !== '' && sinceSeconds >= 0 ? String(sinceSeconds) : '',
      limit: limit.value && Number(limit.value) >= 1 && Number(limit.value) <= 5000 ? String(Math.floor(Number(limit.value))) : String(DEFAULT_LIMIT),
    };
  };

  const form = h(
    'form',
    { class: 'form filters', novalidate: true, role: 'search', 'aria-label': t('history.filters') },
    field(t('history.wallet'), wallet, { testid: 'history-filter-wallet' }),
    field(t('history.kind'), kind, { testid: 'history-filter-kind' }),
    field(t('history.state'), state, { testid: 'history-filter-state' }),
    field(t('history.since'), since, { testid: 'history-filter-since', hint: t('history.sinceHint') }),
    field(t('history.limit'), limit, { testid: 'history-filter-limit' }),
    h('div', { class: 'actions' }, apply, csv),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    ctx.navigate('/history' + query(current()));
  });
  csv.addEventListener('click', () =>
    busy(
      csv,
      async () => {
        const f = current();
        const { bytes, headers } = await get(path('/history' + query({ ...f, format: 'csv' })), { raw: true, accept: 'text/csv' });
        const disposition = headers.get('Content-Disposition') || '';
        const m = /filename="([A-Za-z0-9._-]{1,100})"/.exec(disposition);
        const name = m ? m[1] : `kura-history-${session.org}.csv`;
        const rows = Math.max(0, new TextDecoder().decode(bytes).split(/\r?\n/).filter(Boolean).length - 1);
        mount(csvOut,
          h('p', { class: 'csv-ready' }, t('history.csvReady', { rows }), ' ', downloadLink(bytes, name, 'text/csv', t('history.csvSave', { name }), 'history-csv-link')),
        );
        announce(t('history.csvReady', { rows }));
      },
      csvErrors,
    ),
  );

  add(root, form, csvOut, csvErrors, results);

  try {
    const answer = await get(path('/history' + query(filters)));
    if (!ctx.alive()) return;
    const entries = (answer && answer.entries) || [];
    if (!entries.length) {
      mount(results, h('p', { class: 'muted', testid: 'history-empty' }, t('history.empty')));
      return;
    }
    mount(results,
      h('p', { class: 'muted', testid: 'history-count' }, t('history.count', { n: entries.length })),
      table(
        t('history.caption'),
        [t('history.col.at'), t('history.col.kind'), t('history.col.wallet'), t('history.col.amount'), t('history.col.address'), t('history.col.state'), t('history.col.confirmations'), t('history.col.txid'), t('history.col.intent')],
        entries.map((e, i) => ({
          testid: `history-row-${i}`,
          cells: [
            typeof e.at === 'number' ? timeText(e.at) : '—',
            e.kind === 'deposit' ? t('history.kind.deposit') : e.kind === 'withdrawal' ? t('history.kind.withdrawal') : String(e.kind || ''),
            e.wallet || '',
            amountText(e.amount, assetOf(policy, e.asset)),
            e.address ? mono(e.address) : '—',
            e.state ? stateBadge(e.state) : '—',
            String(e.confirmations ?? 0),
            e.txid ? mono(e.txid) : '—',
            e.intent ? h('a', { href: `#/transfers/${encodeURIComponent(e.intent)}` }, e.intent) : '—',
          ],
        })),
        { rowHeaders: true, testid: 'history-table' },
      ),
    );
  } catch (err) {
    if (ctx.alive()) mount(results, errorBox(err));
  }
}
