// Wallets and deposit addresses: the wallets of the policy in force; for Bitcoin wallets the receive
// addresses the coordinator handed out (and a new one, for admins and initiators), for Ethereum wallets the
// account address; each address with a QR code and a copy button.
import { get, newIdempotencyKey, post } from './api.js';
import { add, field, h, mount, table } from './dom.js';
import { t } from './i18n.js';
import { hasRole, path } from './session.js';
import { announce, busy, copyButton, errorBox, heading, loading, mono, notice, timeText } from './ui.js';

let qrModule = null;

/** The QR module (js/qr.js), loaded once; null when it is not there. */
function qr() {
  if (!qrModule) qrModule = import('./qr.js').catch(() => null);
  return qrModule;
}

/** A QR code of `text` (an SVG from js/qr.js), or a note when it cannot be drawn. */
function qrFigure(text, testid) {
  const figure = h('figure', { class: 'qr', testid }, h('span', { class: 'muted small' }, t('common.loading')));
  qr().then((m) => {
    let svg = null;
    try {
      svg = m && typeof m.qrSvg === 'function' ? m.qrSvg(text, { moduleSize: 3 }) : null;
    } catch {
      svg = null;
    }
    if (svg instanceof Element) {
      svg.setAttribute('role', 'img');
      svg.setAttribute('aria-label', t('wallets.qrLabel', { address: text }));
      svg.setAttribute('focusable', 'false');
      mount(figure, svg);
    } else {
      mount(figure, h('span', { class: 'muted small', testid: `${testid}-unavailable` }, t('wallets.qrUnavailable')));
    }
  });
  return figure;
}

function addressCell(address, testid) {
  return h('div', { class: 'address-cell' }, mono(address, testid), copyButton(address, t('common.copy'), `${testid}-copy`));
}

function bitcoinAddresses(wallet, container) {
  const list = h('div', null, loading());
  const errors = h('div');
  const refresh = async (highlight) => {
    try {
      const answer = await get(path(`/wallets/${encodeURIComponent(wallet.id)}/addresses`));
      const addresses = (answer && answer.addresses) || [];
      if (!addresses.length) {
        mount(list, h('p', { class: 'muted', testid: `addresses-empty-${wallet.id}` }, t('wallets.noAddresses')));
        return;
      }
      mount(list,
        table(
          t('wallets.addressesCaption', { wallet: wallet.id }),
          [t('wallets.col.index'), t('wallets.col.address'), t('wallets.col.label'), t('wallets.col.created'), t('wallets.col.used'), t('wallets.col.qr')],
          addresses.map((a) => ({
            testid: `address-row-${wallet.id}-${a.index}`,
            className: highlight === a.address ? 'highlight' : undefined,
            cells: [
              String(a.index),
              addressCell(a.address, `address-${wallet.id}-${a.index}`),
              a.label || h('span', { class: 'muted' }, '—'),
              timeText(a.createdAt),
              a.used ? t('common.yes') : t('common.no'),
              qrFigure(a.address, `address-qr-${wallet.id}-${a.index}`),
            ],
          })),
          { rowHeaders: true, testid: `addresses-${wallet.id}` },
        ),
      );
    } catch (err) {
      mount(list, errorBox(err));
    }
  };
  const parts = [list, errors];
  if (hasRole('admin', 'initiator')) {
    const label = h('input', { type: 'text', maxlength: '200' });
    const button = h('button', { type: 'submit', class: 'primary', testid: `address-new-${wallet.id}` }, t('wallets.newAddress'));
    let key = newIdempotencyKey();
    let lastLabel = null;
    const form = h(
      'form',
      { class: 'form inline-form', novalidate: true },
      field(t('wallets.newLabel'), label, { testid: `address-label-${wallet.id}` }),
      h('div', { class: 'actions' }, button),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      busy(
        button,
        async () => {
          const text = label.value.trim();
          if (text !== lastLabel) {
            key = newIdempotencyKey();
            lastLabel = text;
          }
          const answer = await post(path(`/wallets/${encodeURIComponent(wallet.id)}/addresses`), {
            json: text ? { label: text } : {},
            idempotencyKey: key,
          });
          key = newIdempotencyKey();
          lastLabel = null;
          label.value = '';
          const address = answer && answer.address ? answer.address.address : '';
          announce(t('wallets.created', { address }));
          await refresh(address);
        },
        errors,
      );
    });
    parts.unshift(form);
  }
  add(container, ...parts);
  refresh();
}

export async function render(ctx) {
  const { root } = ctx;
  const body = h('div', null, loading());
  add(root, heading(t('wallets.title')), h('p', { class: 'lead' }, t('wallets.intro')), body);
  const answer = await get(path('/wallets'));
  if (!ctx.alive()) return;
  const wallets = (answer && answer.wallets) || [];
  if (!wallets.length) {
    mount(body, notice('info', t('wallets.none')));
    return;
  }
  mount(body,
    ...wallets.map((w) => {
      const section = h(
        'section',
        { class: 'panel', testid: `wallet-${w.id}`, 'aria-labelledby': `wallet-h-${w.id}` },
        h('h2', { id: `wallet-h-${w.id}` }, w.id, ' ', h('span', { class: 'chain-tag' }, w.chain)),
        h(
          'dl',
          { class: 'fields compact' },
          h('div', { class: 'row' }, h('dt', null, t('wallets.signers')), h('dd', null, (w.signers || []).join(', '))),
          w.template ? h('div', { class: 'row' }, h('dt', null, t('wallets.template')), h('dd', null, mono(w.template))) : null,
          w.descriptor ? h('div', { class: 'row' }, h('dt', null, t('wallets.descriptor')), h('dd', null, mono(w.descriptor))) : null,
        ),
      );
      if (typeof w.address === 'string' && w.address) {
        add(section,
          h('h3', null, t('wallets.depositAddress')),
          h('p', { class: 'hint' }, t('wallets.ethereumHint')),
          h('div', { class: 'deposit' }, qrFigure(w.address, `address-qr-${w.id}`), addressCell(w.address, `address-${w.id}`)),
        );
      } else {
        add(section, h('h3', null, t('wallets.receiveAddresses')));
        bitcoinAddresses(w, section);
      }
      return section;
    }),
  );
}
