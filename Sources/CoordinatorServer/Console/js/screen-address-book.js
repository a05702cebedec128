// Address book: the destinations of the policy in force with the time each becomes usable, the delays the
// policy imposes on new entries and on high changes, and the versions signed but not yet in force (with a
// countdown and what they change in the address book), and the admins' proposals of address-book changes
// (js/proposals.js).
import { add, h, mount, table } from './dom.js';
import { formatDuration, t } from './i18n.js';
import { assetOf, loadPolicies } from './policy.js';
import { nowSeconds } from './documents.js';
import { heading, loading, mono, policyProblems, timeText } from './ui.js';
import { diffAddressBook, proposalsSection } from './proposals.js';

function usability(entry, now) {
  if (entry.usableFrom <= now) return h('span', { class: 'badge badge-good' }, t('addressBook.usable'));
  return h(
    'span',
    null,
    h('span', { class: 'badge badge-bad' }, t('addressBook.notYet')),
    ' ',
    h('span', { class: 'countdown', dataset: { until: entry.usableFrom } }, t('time.in', { duration: formatDuration(entry.usableFrom - now) })),
  );
}

function entriesTable(entries, policy, now, testid, caption) {
  return table(
    caption,
    [t('addressBook.col.label'), t('addressBook.col.id'), t('addressBook.col.asset'), t('addressBook.col.address'), t('addressBook.col.usableFrom'), t('addressBook.col.status')],
    entries.map((e) => {
      const asset = assetOf(policy, e.asset);
      return {
        testid: `${testid}-row-${e.id}`,
        cells: [e.label, mono(e.id), asset ? `${asset.symbol} (${e.asset})` : e.asset, mono(e.address), timeText(e.usableFrom), usability(e, now)],
      };
    }),
    { rowHeaders: true, testid },
  );
}

/** Updates every countdown on the screen once a second while it is shown. */
function tick(ctx, root) {
  const timer = setInterval(() => {
    if (!ctx.alive() || !root.isConnected) {
      clearInterval(timer);
      return;
    }
    const now = nowSeconds();
    for (const el of root.querySelectorAll('.countdown[data-until]')) {
      const until = Number(el.dataset.until);
      el.textContent = until > now ? t('time.in', { duration: formatDuration(until - now) }) : t('addressBook.nowInForce');
    }
  }, 1000);
}

export async function render(ctx) {
  const { root } = ctx;
  const body = h('div', null, loading());
  add(root, heading(t('addressBook.title')), h('p', { class: 'lead' }, t('addressBook.intro')), body);
  const loaded = await loadPolicies({ force: true });
  if (!ctx.alive()) return;
  const now = nowSeconds();
  if (!loaded.current) {
    mount(body, policyProblems(loaded));
    return;
  }
  const policy = loaded.current.policy;
  const rules = policy.rules || {};
  const gov = policy.governance || {};
  const parts = [
    policyProblems(loaded),
    h(
      'section',
      { class: 'summary', 'aria-label': t('addressBook.delays') },
      h('div', { class: 'stat' }, h('span', { class: 'stat-label' }, t('addressBook.delay')), h('span', { class: 'stat-value', testid: 'addressbook-delay' }, formatDuration(rules.addressBookDelay || 0)), h('span', { class: 'hint' }, t('addressBook.delayHint'))),
      h('div', { class: 'stat' }, h('span', { class: 'stat-label' }, t('addressBook.highDelay')), h('span', { class: 'stat-value', testid: 'addressbook-high-delay' }, formatDuration(gov.highChangeDelay || 0)), h('span', { class: 'hint' }, t('addressBook.highDelayHint'))),
      h('div', { class: 'stat' }, h('span', { class: 'stat-label' }, t('addressBook.quorum')), h('span', { class: 'stat-value', testid: 'addressbook-quorum' }, t('addressBook.quorumValue', { admin: gov.adminQuorum ?? '—', high: gov.highQuorum ?? '—' }))),
    ),
    h('h2', null, t('addressBook.currentTitle', { version: loaded.current.version })),
    (policy.addressBook || []).length
      ? entriesTable(policy.addressBook, policy, now, 'addressbook-table', t('addressBook.currentCaption'))
      : h('p', { class: 'muted' }, t('addressBook.emptyBook')),
    h('h2', null, t('addressBook.pendingTitle')),
  ];
  if (!loaded.pending.length) {
    parts.push(h('p', { class: 'muted', testid: 'pending-none' }, t('addressBook.noPending')));
  }
  let previous = policy.addressBook || [];
  for (const v of loaded.pending) {
    const diff = diffAddressBook(previous, v.policy.addressBook || []);
    previous = v.policy.addressBook || [];
    parts.push(
      h(
        'section',
        { class: 'panel', testid: `pending-version-${v.version}`, 'aria-labelledby': `pending-h-${v.version}` },
        h('h3', { id: `pending-h-${v.version}` }, t('addressBook.pendingVersion', { version: v.version })),
        h(
          'p',
          null,
          t('addressBook.effectiveFrom'),
          ' ',
          timeText(v.policy.effectiveFrom),
          ' — ',
          h('strong', { class: 'countdown', testid: `pending-countdown-${v.version}`, dataset: { until: v.policy.effectiveFrom } }, t('time.in', { duration: formatDuration(v.policy.effectiveFrom - now) })),
        ),
        h('p', { class: 'muted' }, t('addressBook.pendingHash'), ' ', mono(v.hash)),
        diff.added.length ? [h('h4', null, t('addressBook.added')), entriesTable(diff.added, v.policy, now, `pending-added-${v.version}`, t('addressBook.added'))] : null,
        diff.changed.length ? [h('h4', null, t('addressBook.changed')), entriesTable(diff.changed, v.policy, now, `pending-changed-${v.version}`, t('addressBook.changed'))] : null,
        diff.removed.length ? [h('h4', null, t('addressBook.removed')), entriesTable(diff.removed, policy, now, `pending-removed-${v.version}`, t('addressBook.removed'))] : null,
        !diff.added.length && !diff.changed.length && !diff.removed.length ? h('p', { class: 'muted' }, t('addressBook.noBookChange')) : null,
      ),
    );
  }
  const proposals = h('section', { class: 'proposals', testid: 'addressbook-proposals', 'aria-labelledby': 'proposals-h' });
  parts.push(proposals);
  mount(body, ...parts.filter(Boolean));
  tick(ctx, root);
  await proposalsSection(ctx, proposals, loaded, () => ctx.rerender());
}
