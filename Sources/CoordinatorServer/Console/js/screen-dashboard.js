// Dashboard: each wallet's balance per asset (from the chain source, through the coordinator), shown with
// the asset's decimals and symbol from the policy in force; the approvals waiting; the policy in force.
import { get } from './api.js';
import { add, h, mount } from './dom.js';
import { t } from './i18n.js';
import { assetOf, loadPolicies } from './policy.js';
import { hasRole, path } from './session.js';
import { amountText, errorBox, heading, loading, mono, policyProblems } from './ui.js';

function balanceCard(wallet, policy) {
  const body = h('div', { class: 'card-body' }, loading());
  const card = h(
    'section',
    { class: 'card', testid: `wallet-card-${wallet.id}`, 'aria-labelledby': `wallet-${wallet.id}-title` },
    h('h2', { id: `wallet-${wallet.id}-title`, class: 'card-title' }, wallet.id, ' ', h('span', { class: 'chain-tag' }, wallet.chain)),
    body,
  );
  get(path(`/wallets/${encodeURIComponent(wallet.id)}/balances`))
    .then((answer) => {
      const balances = (answer && answer.balances) || [];
      if (!balances.length) {
        mount(body, h('p', { class: 'muted' }, t('dashboard.noAssets')));
        return;
      }
      mount(body,
        h(
          'dl',
          { class: 'balances' },
          balances.map((b) => {
            const asset = assetOf(policy, b.asset);
            const unconfirmed = typeof b.unconfirmed === 'string' && b.unconfirmed !== '0' ? b.unconfirmed : null;
            return h(
              'div',
              { class: 'row' },
              h('dt', null, asset ? `${asset.symbol}` : b.asset, ' ', h('span', { class: 'muted' }, `(${b.asset})`)),
              h(
                'dd',
                null,
                h('span', { class: 'amount-large', testid: `balance-${wallet.id}-${b.asset}` }, amountText(b.amount, asset)),
                unconfirmed ? h('span', { class: 'muted small', testid: `balance-unconfirmed-${wallet.id}-${b.asset}` }, t('dashboard.unconfirmed', { amount: amountText(unconfirmed, asset) })) : null,
              ),
            );
          }),
        ),
      );
    })
    .catch((err) => mount(body, errorBox(err, `balance-error-${wallet.id}`)));
  return card;
}

export async function render(ctx) {
  const { root } = ctx;
  const status = h('div', null, loading());
  add(root, heading(t('dashboard.title')), status);
  const [loaded, walletsAnswer, waiting] = await Promise.all([
    loadPolicies(),
    get(path('/wallets')),
    get(path('/intents?state=awaitingApprovals&limit=100')).catch(() => null),
  ]);
  if (!ctx.alive()) return;
  const policy = loaded.current ? loaded.current.policy : null;
  const wallets = (walletsAnswer && walletsAnswer.wallets) || [];
  const count = waiting && Array.isArray(waiting.intents) ? waiting.intents.length : null;
  const summary = h(
    'section',
    { class: 'summary', 'aria-label': t('dashboard.summary') },
    h(
      'div',
      { class: 'stat' },
      h('span', { class: 'stat-label' }, t('dashboard.awaiting')),
      h('span', { class: 'stat-value', testid: 'dashboard-awaiting' }, count === null ? '—' : String(count)),
      hasRole('approver') && count ? h('a', { href: '#/approvals' }, t('dashboard.reviewApprovals')) : null,
    ),
    h(
      'div',
      { class: 'stat' },
      h('span', { class: 'stat-label' }, t('dashboard.policyVersion')),
      h('span', { class: 'stat-value', testid: 'dashboard-policy-version' }, loaded.current ? String(loaded.current.version) : '—'),
      loaded.current ? mono(loaded.current.hash.slice(0, 16) + '…') : null,
    ),
    h(
      'div',
      { class: 'stat' },
      h('span', { class: 'stat-label' }, t('dashboard.pendingVersions')),
      h('span', { class: 'stat-value', testid: 'dashboard-pending-versions' }, String(loaded.pending.length)),
      loaded.pending.length ? h('a', { href: '#/address-book' }, t('dashboard.seePending')) : null,
    ),
  );
  mount(status,
    policyProblems(loaded),
    summary,
    h('h2', { class: 'section-title' }, t('dashboard.balances')),
    wallets.length
      ? h('div', { class: 'cards', testid: 'dashboard-wallets' }, wallets.map((w) => balanceCard(w, policy)))
      : h('p', { class: 'muted' }, t('dashboard.noWallets')),
    hasRole('initiator') ? h('p', null, h('a', { href: '#/transfer/new', class: 'button-link primary' }, t('dashboard.newTransfer'))) : null,
  );
}
