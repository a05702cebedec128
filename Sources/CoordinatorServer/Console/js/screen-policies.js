// Policy versions: the chain as the coordinator stores it, each hash recomputed here, and one version's
// document summarised (members and roles, signers, assets, wallets, transfer rules, quorum and delays,
// address book, signatures).
import { add, h, mount, table } from './dom.js';
import { formatDuration, t } from './i18n.js';
import { nowSeconds } from './documents.js';
import { assetOf, loadPolicies } from './policy.js';
import { amountText, heading, loading, mono, notice, policyProblems, roleName, timeText } from './ui.js';

function status(v, loaded, now) {
  if (loaded.current && v.version === loaded.current.version) return h('span', { class: 'badge badge-good' }, t('policies.status.current'));
  if (loaded.current && v.version > loaded.current.version) {
    return v.policy.effectiveFrom > now
      ? h('span', { class: 'badge badge-neutral' }, t('policies.status.pending'))
      : h('span', { class: 'badge badge-neutral' }, t('policies.status.next'));
  }
  return h('span', { class: 'badge' }, t('policies.status.superseded'));
}

function section(title, content, testid) {
  return h('section', { class: 'panel', testid }, h('h3', null, title), content);
}

function summary(v) {
  const p = v.policy;
  const members = p.members || [];
  const rules = p.rules || {};
  const gov = p.governance || {};
  const feeText = (fee) =>
    Object.keys(fee || {})
      .sort()
      .map((k) => `${k} ${fee[k]}`)
      .join(', ');
  return h(
    'div',
    { class: 'policy-summary', testid: 'policy-summary' },
    h('h2', { id: 'summary-heading', tabindex: '-1' }, t('policies.summaryTitle', { version: v.version })),
    h(
      'dl',
      { class: 'fields' },
      h('div', { class: 'row' }, h('dt', null, t('policies.hash')), h('dd', null, mono(v.hash, 'policy-summary-hash'))),
      h('div', { class: 'row' }, h('dt', null, t('policies.organization')), h('dd', null, p.organization)),
      h('div', { class: 'row' }, h('dt', null, t('policies.created')), h('dd', null, timeText(p.created))),
      h('div', { class: 'row' }, h('dt', null, t('policies.effectiveFrom')), h('dd', null, timeText(p.effectiveFrom))),
      h('div', { class: 'row' }, h('dt', null, t('policies.expires')), h('dd', null, timeText(p.expires))),
    ),
    section(
      t('policies.governance'),
      h(
        'dl',
        { class: 'fields compact' },
        h('div', { class: 'row' }, h('dt', null, t('policies.adminQuorum')), h('dd', { testid: 'policy-admin-quorum' }, String(gov.adminQuorum ?? '—'))),
        h('div', { class: 'row' }, h('dt', null, t('policies.highQuorum')), h('dd', null, String(gov.highQuorum ?? '—'))),
        h('div', { class: 'row' }, h('dt', null, t('policies.highChangeDelay')), h('dd', null, formatDuration(gov.highChangeDelay || 0))),
        h('div', { class: 'row' }, h('dt', null, t('policies.addressBookDelay')), h('dd', null, formatDuration(rules.addressBookDelay || 0))),
        h('div', { class: 'row' }, h('dt', null, t('policies.maxIntentLifetime')), h('dd', null, formatDuration(rules.maxIntentLifetime || 0))),
        h('div', { class: 'row' }, h('dt', null, t('policies.initiators')), h('dd', null, (rules.initiators || []).join(', ') || '—')),
      ),
      'policy-governance',
    ),
    section(
      t('policies.members'),
      table(
        t('policies.members'),
        [t('policies.col.id'), t('policies.col.name'), t('policies.col.roles'), t('policies.col.credentials')],
        members.map((m) => [
          m.id,
          m.name,
          (m.roles || []).map(roleName).join(', '),
          h('span', null, (m.credentials || []).map((c) => [mono(c.id), ` (${c.scheme}${c.rpId ? `, ${c.rpId}` : ''})`, h('br')])),
        ]),
        { rowHeaders: true, testid: 'policy-members' },
      ),
    ),
    section(
      t('policies.signers'),
      (p.signers || []).length
        ? table(
            t('policies.signers'),
            [t('policies.col.id'), t('policies.col.name'), t('policies.col.fingerprint'), t('policies.col.identityKey')],
            p.signers.map((s) => [s.id, s.name, mono(s.fingerprint), mono(s.identityKey)]),
            { rowHeaders: true, testid: 'policy-signers' },
          )
        : h('p', { class: 'muted' }, t('policies.none')),
    ),
    section(
      t('policies.assets'),
      (p.assets || []).length
        ? table(
            t('policies.assets'),
            [t('policies.col.id'), t('policies.col.symbol'), t('policies.col.decimals'), t('policies.col.chain'), t('policies.col.contract')],
            p.assets.map((a) => [a.id, a.symbol, String(a.decimals), a.chain === 'bitcoin' ? `bitcoin/${a.network}` : `ethereum/${a.chainId}`, a.contract ? mono(a.contract) : '—']),
            { rowHeaders: true, testid: 'policy-assets' },
          )
        : h('p', { class: 'muted' }, t('policies.none')),
    ),
    section(
      t('policies.wallets'),
      (p.wallets || []).length
        ? table(
            t('policies.wallets'),
            [t('policies.col.id'), t('policies.col.chain'), t('policies.col.signers'), t('policies.col.detail')],
            p.wallets.map((w) => [
              w.id,
              w.chain === 'bitcoin' ? `bitcoin/${w.network}` : `ethereum/${w.chainId}`,
              (w.signers || []).join(', '),
              w.walletPolicy ? mono(w.walletPolicy.template) : h('span', null, mono(w.address || ''), h('br'), mono(w.derivation || '')),
            ]),
            { rowHeaders: true, testid: 'policy-wallets' },
          )
        : h('p', { class: 'muted' }, t('policies.none')),
    ),
    section(
      t('policies.rules'),
      (rules.transfers || []).length
        ? table(
            t('policies.rules'),
            [t('policies.col.wallet'), t('policies.col.asset'), t('policies.col.tiers'), t('policies.col.perTransfer'), t('policies.col.daily'), t('policies.col.fee')],
            rules.transfers.map((r) => {
              const a = assetOf(p, r.asset);
              return [
                r.wallet,
                r.asset,
                h('span', null, (r.tiers || []).map((tier) => [t('transfer.tier', { upTo: amountText(tier.upTo, a), approvals: tier.approvals }), h('br')])),
                amountText(r.perTransferLimit, a),
                amountText(r.dailyLimit, a),
                mono(feeText(r.fee)),
              ];
            }),
            { rowHeaders: true, testid: 'policy-rules' },
          )
        : h('p', { class: 'muted' }, t('policies.none')),
    ),
    section(
      t('policies.addressBook'),
      h('p', null, t('policies.addressBookCount', { n: (p.addressBook || []).length }), ' ', h('a', { href: '#/address-book' }, t('nav.addressBook'))),
    ),
    section(
      t('policies.signatures'),
      (v.signatures || []).length
        ? table(
            t('policies.signatures'),
            [t('policies.col.member'), t('policies.col.credential'), t('policies.col.scheme')],
            v.signatures.map((s) => [s.member || '', mono(s.credential || ''), (s.evidence && s.evidence.scheme) || '']),
            { rowHeaders: true, testid: 'policy-signatures' },
          )
        : h('p', { class: 'muted' }, t('policies.none')),
    ),
  );
}

export async function render(ctx) {
  const { root, params } = ctx;
  const selected = params[0] ? Number(params[0]) : null;
  const body = h('div', null, loading());
  add(root, heading(t('policies.title')), h('p', { class: 'lead' }, t('policies.intro')), body);
  const loaded = await loadPolicies({ force: true });
  if (!ctx.alive()) return;
  const now = nowSeconds();
  const versions = [...loaded.versions].reverse();
  const list = table(
    t('policies.caption'),
    [t('policies.col.version'), t('policies.col.status'), t('policies.col.hash'), t('policies.col.effectiveFrom'), t('policies.col.stored'), t('policies.col.signatures')],
    versions.map((v) => ({
      testid: `policy-row-${v.version}`,
      className: v.version === selected ? 'highlight' : undefined,
      cells: [
        h('a', { href: `#/policies/${v.version}`, 'aria-current': v.version === selected ? 'true' : undefined }, t('policies.versionLink', { version: v.version })),
        status(v, loaded, now),
        h('span', null, mono(v.hash.slice(0, 16) + '…'), ' ', v.listedHash === v.hash ? h('span', { class: 'good-text' }, t('policies.hashVerified')) : h('strong', { class: 'bad-text' }, t('policies.hashMismatch'))),
        timeText(v.policy.effectiveFrom),
        typeof v.storedAt === 'number' ? timeText(v.storedAt) : '—',
        String((v.signatures || []).length),
      ],
    })),
    { rowHeaders: true, testid: 'policies-table' },
  );
  const chosen = selected ? loaded.versions.find((v) => v.version === selected) : loaded.current;
  mount(body,
    ...[
      policyProblems(loaded),
      notice('info', t('policies.verifyNote')),
      list,
      chosen ? summary(chosen) : selected ? notice('warning', t('policies.noSuchVersion', { version: selected })) : null,
    ].filter(Boolean),
  );
}
