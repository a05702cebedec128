// New transfer: an intent built here, in the browser, from the policy in force (as `kura intent create`
// builds it), reviewed field by field with its canonical digest computed here, signed with the initiator's
// passkey (the challenge is the digest) and submitted with an Idempotency-Key.
import { newIdempotencyKey, post } from './api.js';
import { canonicalize } from './canonical.js';
import {
  buildIntent, byteLength, digestOf, DocumentError, feeCapFields, isCanonicalDecimal, isOutpoint,
  MAX_MEMO_BYTES, nowSeconds, readIntent, toBaseUnits,
} from './documents.js';
import { add, dl, field, h, mount } from './dom.js';
import { formatDuration, k, t } from './i18n.js';
import { approvalsNeeded, assetOf, entriesFor, loadPolicies, ruleFor, walletOf } from './policy.js';
import { hasRole, path, session } from './session.js';
import {
  amountText, announce, busy, ConsoleError, errorBox, FEE_LABELS, heading, intentFields, loading, mono, notice,
  policyProblems, signingCredential, timeText,
} from './ui.js';
import { memberSignature, registrationsFor } from './webauthn.js';

/** What was typed, kept while the console is open (a language switch re-renders the screen). */
const draft = { owner: '', wallet: '', asset: '', entry: '', amount: '', fees: {}, memo: '', lifetime: '', pinInputs: '', pinEthNonce: '' };

function clearDraft() {
  Object.assign(draft, { owner: '', wallet: '', asset: '', entry: '', amount: '', fees: {}, memo: '', lifetime: '', pinInputs: '', pinEthNonce: '' });
}

/** The draft belongs to one member of one organisation: another sign-in in this tab starts empty. */
function claimDraft() {
  const owner = `${session.org}/${session.member}`;
  if (draft.owner !== owner) {
    clearDraft();
    draft.owner = owner;
  }
}

const AMOUNT_ERRORS = {
  amount_syntax: k('transfer.error.amountSyntax'),
  amount_precision: k('transfer.error.amountPrecision'),
  amount_zero: k('transfer.error.amountZero'),
  amount_range: k('transfer.error.amountRange'),
};

function option(value, label, { selected = false, disabled = false } = {}) {
  return h('option', { value, selected, disabled }, label);
}

/** Marks a control invalid with a message under it (or clears it). */
function setInvalid(control, message) {
  const wrap = control.closest('.field');
  const old = wrap ? wrap.querySelector('.field-error') : null;
  if (old) old.remove();
  const described = (control.getAttribute('aria-describedby') || '').split(' ').filter((id) => id && !id.startsWith('err-'));
  if (message) {
    const id = `err-${control.id}`;
    control.setAttribute('aria-invalid', 'true');
    control.setAttribute('aria-describedby', [...described, id].join(' '));
    if (wrap) add(wrap, h('p', { class: 'field-error', id }, message));
  } else {
    control.removeAttribute('aria-invalid');
    if (described.length) control.setAttribute('aria-describedby', described.join(' '));
    else control.removeAttribute('aria-describedby');
  }
}

export async function render(ctx) {
  const { root } = ctx;
  const body = h('div', null, loading());
  add(root, heading(t('transfer.title')), body);
  const loaded = await loadPolicies({ force: true });
  if (!ctx.alive()) return;
  if (!hasRole('initiator')) {
    mount(body, notice('warning', t('transfer.notInitiator'), 'transfer-not-initiator'));
    return;
  }
  if (loaded.problems.length || !loaded.current) {
    mount(body, policyProblems(loaded), notice('error', t('transfer.policyRefused'), 'transfer-policy-refused'));
    return;
  }
  const policy = loaded.current.policy;
  const policyHash = loaded.current.hash;
  const rules = (policy.rules && policy.rules.transfers) || [];
  const walletIds = [...new Set(rules.map((r) => r.wallet))];
  if (!walletIds.length) {
    mount(body, notice('info', t('transfer.noRules')));
    return;
  }
  showForm(ctx, body, policy, policyHash, walletIds);
}

function showForm(ctx, body, policy, policyHash, walletIds) {
  claimDraft();
  const now = nowSeconds();
  const wallet = h('select', { required: true });
  const asset = h('select', { required: true });
  const destination = h('select', { required: true });
  const destinationDetails = h('div', { class: 'destination-details', testid: 'transfer-destination-details', 'aria-live': 'polite' });
  const amount = h('input', { type: 'text', inputmode: 'decimal', autocomplete: 'off', spellcheck: 'false', required: true, value: draft.amount });
  const amountHint = h('p', { class: 'hint', id: 'amount-hint', testid: 'transfer-amount-hint' });
  const amountPreview = h('p', { class: 'amount-preview', testid: 'transfer-amount-base', 'aria-live': 'polite' });
  const fees = h('fieldset', { class: 'fees' });
  const memo = h('textarea', { rows: '2', maxlength: '500', value: draft.memo });
  const memoCount = h('p', { class: 'hint', testid: 'transfer-memo-count', 'aria-live': 'polite' });
  const maxLifetime = Number(policy.rules.maxIntentLifetime) || 3600;
  const lifetime = h('input', {
    type: 'number', min: '1', max: String(Math.max(1, Math.floor(maxLifetime / 60))), step: '1', required: true,
    value: draft.lifetime || String(Math.max(1, Math.min(60, Math.floor(maxLifetime / 60)))),
  });
  const pinInputs = h('textarea', { rows: '3', spellcheck: 'false', value: draft.pinInputs });
  const pinEthNonce = h('input', { type: 'text', inputmode: 'numeric', spellcheck: 'false', value: draft.pinEthNonce });
  const pinBox = h('div');
  const feeInputs = {};
  const review = h('button', { type: 'submit', class: 'primary', testid: 'transfer-review' }, t('transfer.review'));
  const errors = h('div', { testid: 'transfer-error' });

  const chainOf = () => (walletOf(policy, wallet.value) || {}).chain;
  const currentRule = () => ruleFor(policy, wallet.value, asset.value);
  const currentAsset = () => assetOf(policy, asset.value);

  function fillWallets() {
    mount(wallet, ...walletIds.map((id) => {
      const w = walletOf(policy, id);
      return option(id, w ? `${id} (${w.chain})` : id, { selected: id === draft.wallet });
    }));
  }

  function fillAssets() {
    const rules = policy.rules.transfers.filter((r) => r.wallet === wallet.value);
    mount(asset, ...rules.map((r) => {
      const a = assetOf(policy, r.asset);
      return option(r.asset, a ? `${a.symbol} (${r.asset})` : r.asset, { selected: r.asset === draft.asset });
    }));
  }

  function fillDestinations() {
    const entries = entriesFor(policy, asset.value);
    if (!entries.length) {
      mount(destination, option('', t('transfer.noEntries'), { disabled: true, selected: true }));
      return;
    }
    mount(destination,
      option('', t('transfer.chooseEntry'), { disabled: true, selected: !draft.entry }),
      ...entries.map((e) => {
        const usable = e.usableFrom <= now;
        const label = usable
          ? `${e.label} — ${e.address}`
          : `${e.label} — ${e.address} (${t('transfer.usableFromShort', { time: new Date(e.usableFrom * 1000).toISOString().replace('.000Z', 'Z') })})`;
        return option(e.id, label, { selected: e.id === draft.entry, disabled: !usable });
      }),
    );
  }

  function showDestination() {
    const e = entriesFor(policy, asset.value).find((x) => x.id === destination.value);
    if (!e) {
      mount(destinationDetails);
      return;
    }
    mount(destinationDetails,
      dl([
        [t('transfer.entryLabel'), e.label, 'transfer-entry-label'],
        [t('transfer.entryId'), mono(e.id)],
        [t('transfer.entryAddress'), mono(e.address, 'transfer-entry-address')],
        [t('transfer.entryUsableFrom'), h('span', null, timeText(e.usableFrom), ' ', e.usableFrom <= now ? h('span', { class: 'badge badge-good' }, t('addressBook.usable')) : h('span', { class: 'badge badge-bad' }, t('addressBook.notYet')))],
      ], 'compact'),
    );
  }

  function fillFees() {
    const rule = currentRule();
    const chain = chainOf();
    mount(fees, h('legend', null, t('transfer.feeCap')), h('p', { class: 'hint' }, t('transfer.feeHint')));
    for (const name of Object.keys(feeInputs)) delete feeInputs[name];
    if (!rule) return;
    for (const name of feeCapFields(chain === 'bitcoin' ? 'bitcoin' : 'ethereum')) {
      const max = rule.fee[name];
      const saved = draft.fees[`${wallet.value}/${asset.value}/${name}`];
      const input = h('input', { type: 'text', inputmode: 'numeric', spellcheck: 'false', required: true, value: saved || max });
      input.addEventListener('input', () => {
        draft.fees[`${wallet.value}/${asset.value}/${name}`] = input.value;
      });
      feeInputs[name] = input;
      add(fees, field(t(FEE_LABELS[name]), input, { testid: `transfer-fee-${name}`, hint: t('transfer.feeMax', { max }) }));
    }
  }

  function updateAmountHint() {
    const a = currentAsset();
    const rule = currentRule();
    if (!a || !rule) {
      amountHint.textContent = '';
      return;
    }
    const tiers = (rule.tiers || []).map((tier) => t('transfer.tier', { upTo: amountText(tier.upTo, a), approvals: tier.approvals })).join('; ');
    amountHint.textContent = t('transfer.amountHint', {
      symbol: a.symbol,
      decimals: a.decimals,
      perTransfer: amountText(rule.perTransferLimit, a),
      daily: amountText(rule.dailyLimit, a),
      tiers,
    });
  }

  function updateAmountPreview() {
    const a = currentAsset();
    const text = amount.value.trim();
    if (!a || !text) {
      amountPreview.textContent = '';
      return;
    }
    try {
      const base = toBaseUnits(text, a.decimals);
      amountPreview.textContent = t('transfer.amountBase', { base, shown: amountText(base, a) });
    } catch {
      amountPreview.textContent = '';
    }
  }

  function updateMemoCount() {
    memoCount.textContent = t('transfer.memoCount', { used: byteLength(memo.value), max: MAX_MEMO_BYTES });
  }

  function updatePin() {
    const chain = chainOf();
    if (chain === 'bitcoin') {
      mount(pinBox, field(t('transfer.pinInputs'), pinInputs, { testid: 'transfer-pin-inputs', hint: t('transfer.pinInputsHint') }));
    } else {
      mount(pinBox, field(t('transfer.pinEthNonce'), pinEthNonce, { testid: 'transfer-pin-eth-nonce', hint: t('transfer.pinEthNonceHint') }));
    }
  }

  // Everything that follows from the asset: destinations, fee caps, the amount's unit.
  function assetChanged() {
    draft.asset = asset.value;
    fillDestinations();
    showDestination();
    fillFees();
    updateAmountHint();
    updateAmountPreview();
  }
  wallet.addEventListener('change', () => {
    draft.wallet = wallet.value;
    fillAssets();
    assetChanged();
    updatePin();
  });
  asset.addEventListener('change', assetChanged);
  destination.addEventListener('change', () => {
    draft.entry = destination.value;
    showDestination();
  });
  amount.addEventListener('input', () => {
    draft.amount = amount.value;
    updateAmountPreview();
  });
  memo.addEventListener('input', () => {
    draft.memo = memo.value;
    updateMemoCount();
  });
  lifetime.addEventListener('input', () => {
    draft.lifetime = lifetime.value;
  });
  pinInputs.addEventListener('input', () => {
    draft.pinInputs = pinInputs.value;
  });
  pinEthNonce.addEventListener('input', () => {
    draft.pinEthNonce = pinEthNonce.value;
  });

  fillWallets();
  draft.wallet = wallet.value;
  fillAssets();
  draft.asset = asset.value;
  fillDestinations();
  showDestination();
  fillFees();
  updateAmountHint();
  updateAmountPreview();
  updateMemoCount();
  updatePin();

  const initiators = (policy.rules && policy.rules.initiators) || [];
  const form = h(
    'form',
    { class: 'form', novalidate: true, testid: 'transfer-form' },
    initiators.includes(session.member) ? null : notice('warning', t('transfer.notListedInitiator'), 'transfer-not-listed'),
    h(
      'div',
      { class: 'grid-2' },
      field(t('transfer.wallet'), wallet, { testid: 'transfer-wallet' }),
      field(t('transfer.asset'), asset, { testid: 'transfer-asset' }),
    ),
    field(t('transfer.destination'), destination, { testid: 'transfer-destination', hint: t('transfer.destinationHint') }),
    destinationDetails,
    (() => {
      const f = field(t('transfer.amount'), amount, { testid: 'transfer-amount' });
      amount.setAttribute('aria-describedby', 'amount-hint');
      add(f, amountHint, amountPreview);
      return f;
    })(),
    fees,
    (() => {
      const f = field(t('transfer.memo'), memo, { testid: 'transfer-memo', hint: t('transfer.memoHint') });
      add(f, memoCount);
      return f;
    })(),
    field(t('transfer.lifetime'), lifetime, { testid: 'transfer-lifetime', hint: t('transfer.lifetimeHint', { max: formatDuration(maxLifetime) }) }),
    h('details', { class: 'disclosure' }, h('summary', null, t('transfer.advanced')), h('p', { class: 'hint' }, t('transfer.pinIntro')), pinBox),
    h('div', { class: 'actions' }, review),
    errors,
  );

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    mount(errors);
    let doc;
    try {
      doc = collect();
    } catch (err) {
      mount(errors, errorBox(err, 'transfer-form-error'));
      announce(err.i18nKey ? t(err.i18nKey, err.params) : t('transfer.fixErrors'));
      const invalid = form.querySelector('[aria-invalid="true"]');
      if (invalid) invalid.focus();
      return;
    }
    showReview(ctx, body, policy, doc, () => showForm(ctx, body, policy, policyHash, walletIds)).catch((err) =>
      mount(errors, errorBox(err, 'transfer-form-error')),
    );
  });

  /** Reads and checks the form, and builds the intent document (throws ConsoleError). */
  function collect() {
    const problems = [];
    const rule = currentRule();
    const a = currentAsset();
    const w = walletOf(policy, wallet.value);
    for (const c of [destination, amount, lifetime, pinInputs, pinEthNonce, ...Object.values(feeInputs)]) setInvalid(c, null);
    if (!rule || !a || !w) throw new ConsoleError('transfer.error.noRule');
    const entry = entriesFor(policy, asset.value).find((e) => e.id === destination.value);
    if (!entry) {
      setInvalid(destination, t('transfer.error.noEntry'));
      problems.push('destination');
    } else if (entry.usableFrom > nowSeconds()) {
      setInvalid(destination, t('transfer.error.entryNotUsable'));
      problems.push('destination');
    }
    let base = null;
    try {
      base = toBaseUnits(amount.value, a.decimals);
      if (BigInt(base) > BigInt(rule.perTransferLimit)) {
        setInvalid(amount, t('transfer.error.overLimit', { limit: amountText(rule.perTransferLimit, a) }));
        problems.push('amount');
      } else if (approvalsNeeded(rule, base) === null) {
        setInvalid(amount, t('transfer.error.overTiers'));
        problems.push('amount');
      }
    } catch (err) {
      const key = err instanceof DocumentError ? AMOUNT_ERRORS[err.code] : null;
      setInvalid(amount, t(key || k('transfer.error.amountSyntax'), { decimals: a.decimals }));
      problems.push('amount');
    }
    const feeCap = {};
    for (const [name, input] of Object.entries(feeInputs)) {
      const v = input.value.trim();
      if (!isCanonicalDecimal(v)) {
        setInvalid(input, t('transfer.error.feeSyntax'));
        problems.push(name);
      } else if (BigInt(v) > BigInt(rule.fee[name])) {
        setInvalid(input, t('transfer.error.feeOverPolicy', { max: rule.fee[name] }));
        problems.push(name);
      } else {
        feeCap[name] = v;
      }
    }
    if (byteLength(memo.value) > MAX_MEMO_BYTES) problems.push('memo');
    const minutes = Number(lifetime.value);
    const seconds = minutes * 60;
    if (!Number.isSafeInteger(minutes) || minutes < 1 || seconds > maxLifetime) {
      setInvalid(lifetime, t('transfer.error.lifetime', { max: formatDuration(maxLifetime) }));
      problems.push('lifetime');
    }
    let pin;
    if (w.chain === 'bitcoin') {
      const lines = pinInputs.value.split(/\s+/).map((s) => s.trim()).filter(Boolean);
      if (lines.length) {
        const lower = lines.map((s) => s.toLowerCase());
        if (!lines.every(isOutpoint) || new Set(lower).size !== lower.length) {
          setInvalid(pinInputs, t('transfer.error.pinInputs'));
          problems.push('pin');
        } else {
          pin = { inputs: lower };
        }
      }
    } else if (pinEthNonce.value.trim() !== '') {
      const text = pinEthNonce.value.trim();
      const n = Number(text);
      if (!/^(0|[1-9][0-9]*)$/.test(text) || !Number.isSafeInteger(n)) {
        setInvalid(pinEthNonce, t('transfer.error.pinEthNonce'));
        problems.push('pin');
      } else {
        pin = { ethNonce: n };
      }
    }
    if (problems.length) throw new ConsoleError('transfer.fixErrors');
    return buildIntent({
      organization: session.org,
      policyHash,
      wallet: wallet.value,
      asset: asset.value,
      entry,
      amount: base,
      feeCap,
      memo: memo.value,
      nonce: crypto.getRandomValues(new Uint8Array(32)),
      created: nowSeconds(),
      lifetime: seconds,
      initiator: session.member,
      pin,
    });
  }

  mount(body, h('p', { class: 'lead' }, t('transfer.intro')), form);
}

async function showReview(ctx, body, policy, doc, backToForm) {
  const intent = readIntent(doc);
  const digest = await digestOf('intent', doc);
  if (!ctx.alive()) return;
  const rule = ruleFor(policy, intent.wallet, intent.asset);
  const needed = rule ? approvalsNeeded(rule, intent.amount) : null;
  const credential = signingCredential(session, registrationsFor);
  const sign = h('button', { type: 'button', class: 'primary', testid: 'transfer-sign' }, t('transfer.sign'));
  const edit = h('button', { type: 'button', testid: 'transfer-edit' }, t('transfer.edit'));
  const errors = h('div', { testid: 'transfer-submit-error' });
  const result = h('div', { testid: 'transfer-result' });
  const idempotencyKey = newIdempotencyKey();
  const title = h('h2', { tabindex: '-1', id: 'review-heading' }, t('transfer.reviewTitle'));

  edit.addEventListener('click', () => backToForm());
  sign.addEventListener('click', () =>
    busy(
      sign,
      async () => {
        const credentialId = credential.value();
        if (!credentialId) throw new ConsoleError('sign.noCredential');
        if (nowSeconds() >= intent.expires) throw new ConsoleError('transfer.error.expiredBeforeSigning');
        const signature = await memberSignature({ org: session.org, member: session.member, credentialId, digest: digest.bytes });
        const answer = await post(path('/intents'), { json: { intent: doc, signature }, idempotencyKey });
        const created = answer && answer.intent ? answer.intent : {};
        if (created.digest && created.digest !== digest.hex) throw new ConsoleError('transfer.error.serverDigest');
        clearDraft();
        sign.hidden = true;
        edit.hidden = true;
        mount(result,
          notice('success', [
            h('p', null, t('transfer.submitted')),
            h('p', null, t('transfer.createdId'), ' ', mono(created.id || intent.id, 'created-intent-id'), ' — ', t('transfer.state'), ' ', created.state || ''),
            h('p', null, h('a', { href: `#/transfers/${encodeURIComponent(created.id || intent.id)}`, testid: 'created-intent-link' }, t('transfer.openDetail'))),
          ], 'transfer-success'),
        );
        announce(t('transfer.submitted'));
      },
      errors,
    ),
  );

  mount(body,
    h(
      'section',
      { class: 'review', 'aria-labelledby': 'review-heading', testid: 'transfer-review-panel' },
      title,
      h('p', { class: 'lead' }, t('transfer.reviewIntro')),
      intentFields(intent, policy, 'review-'),
      h(
        'div',
        { class: 'digest-box' },
        h('p', { class: 'digest-label', id: 'digest-label' }, t('transfer.digest')),
        h('code', { class: 'mono digest', testid: 'intent-digest', 'aria-labelledby': 'digest-label' }, digest.hex),
        h('p', { class: 'hint' }, t('transfer.digestHint')),
      ),
      needed !== null ? h('p', { testid: 'transfer-approvals-needed' }, t('transfer.approvalsNeeded', { n: needed })) : null,
      h('details', { class: 'disclosure' }, h('summary', null, t('transfer.canonical')), h('pre', { class: 'code-block', testid: 'intent-canonical', tabindex: '0' }, canonicalize(doc))),
      credential.element,
      h('div', { class: 'actions' }, sign, edit),
      errors,
      result,
    ),
  );
  title.focus();
}

