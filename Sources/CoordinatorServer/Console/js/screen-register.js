// Passkey registration (docs/CREDENTIALS.md, "Registering a passkey credential in a policy"): the browser
// creates an ES256 passkey for this origin; the console shows the policy credential JSON for the admins to
// put into the member's credentials in the next policy version. Nothing is sent to the coordinator.
import { isId } from './documents.js';
import { add, field, h, mount, table } from './dom.js';
import { t } from './i18n.js';
import { lastSignIn } from './session.js';
import { announce, busy, ConsoleError, copyButton, downloadLink, heading, mono, notice, timeText } from './ui.js';
import { available, forget, register, registrations } from './webauthn.js';

function originWarning() {
  const host = location.hostname;
  const local = host === 'localhost' || host.endsWith('.localhost');
  if (location.protocol === 'https:' || local) return null;
  return notice('warning', t('register.originWarning', { origin: location.origin }), 'register-origin-warning');
}

function knownPasskeys(onChange) {
  const regs = registrations();
  if (!regs.length) return h('p', { class: 'muted', testid: 'register-known-empty' }, t('register.knownEmpty'));
  return table(
    t('register.knownCaption'),
    [t('register.col.org'), t('register.col.member'), t('register.col.credential'), t('register.col.rpId'), t('register.col.created'), t('common.actions')],
    regs.map((r) => [
      r.org,
      r.member,
      mono(r.credentialId),
      r.rpId || '',
      typeof r.createdAt === 'number' ? timeText(r.createdAt) : '—',
      h(
        'button',
        {
          type: 'button',
          class: 'button-small',
          'aria-label': t('register.forgetLabel', { id: r.credentialId }),
          on: {
            click: () => {
              forget(r);
              announce(t('register.forgotten'));
              onChange();
            },
          },
        },
        t('register.forget'),
      ),
    ]),
    { testid: 'register-known' },
  );
}

export function render(ctx) {
  const { root } = ctx;
  const last = lastSignIn() || {};
  const org = h('input', { type: 'text', spellcheck: 'false', autocapitalize: 'off', required: true, value: last.org || '' });
  const member = h('input', { type: 'text', spellcheck: 'false', autocapitalize: 'off', required: true, value: last.member || '' });
  const credentialId = h('input', { type: 'text', spellcheck: 'false', autocapitalize: 'off', required: true });
  const displayName = h('input', { type: 'text', autocomplete: 'name' });
  let idEdited = false;
  credentialId.addEventListener('input', () => {
    idEdited = true;
  });
  const suggest = () => {
    if (!idEdited && isId(member.value.trim())) credentialId.value = `${member.value.trim()}-passkey`;
  };
  member.addEventListener('input', suggest);
  suggest();
  const submit = h('button', { type: 'submit', class: 'primary', testid: 'register-submit' }, t('register.submit'));
  const errors = h('div', { testid: 'register-error' });
  const output = h('div', { class: 'result', testid: 'register-result' });
  const known = h('section', { 'aria-labelledby': 'known-heading' });
  const refreshKnown = () => mount(known, h('h2', { id: 'known-heading' }, t('register.knownTitle')), knownPasskeys(refreshKnown));
  refreshKnown();

  const form = h(
    'form',
    { class: 'form narrow', novalidate: true },
    field(t('register.org'), org, { testid: 'register-org', hint: t('register.orgHint') }),
    field(t('register.member'), member, { testid: 'register-member' }),
    field(t('register.credentialId'), credentialId, { testid: 'register-credential-id', hint: t('register.credentialIdHint') }),
    field(t('register.displayName'), displayName, { testid: 'register-display-name', hint: t('register.displayNameHint') }),
    h('div', { class: 'actions' }, submit),
    errors,
  );

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(
      submit,
      async () => {
        const values = {
          org: org.value.trim(),
          member: member.value.trim(),
          credentialId: credentialId.value.trim(),
          displayName: displayName.value.trim(),
        };
        for (const [input, value] of [[org, values.org], [member, values.member], [credentialId, values.credentialId]]) {
          input.setAttribute('aria-invalid', isId(value) ? 'false' : 'true');
        }
        if (!isId(values.org) || !isId(values.member) || !isId(values.credentialId)) throw new ConsoleError('register.invalidIds');
        const { policyCredential } = await register(values);
        const json = JSON.stringify(policyCredential, null, 2);
        const bytes = new TextEncoder().encode(json + '\n');
        mount(output,
          h('h2', { id: 'credential-heading' }, t('register.resultTitle')),
          notice('success', t('register.resultBody', { member: values.member }), 'register-success'),
          h('pre', { id: 'registration-credential', class: 'code-block', testid: 'registration-credential', 'aria-labelledby': 'credential-heading', tabindex: '0' }, json),
          h(
            'div',
            { class: 'actions' },
            copyButton(json, t('register.copy'), 'register-copy'),
            downloadLink(bytes, `credential-${values.credentialId}.json`, 'application/json', t('register.download'), 'register-download'),
          ),
          h('p', { class: 'hint' }, t('register.next')),
        );
        announce(t('register.done'));
        refreshKnown();
        output.querySelector('h2').setAttribute('tabindex', '-1');
        output.querySelector('h2').focus();
      },
      errors,
    );
  });

  add(root,
    heading(t('register.title')),
    available() ? null : notice('error', t('passkey.error.unavailable'), 'passkey-unavailable'),
    originWarning(),
    h('p', { class: 'lead' }, t('register.intro')),
    form,
    output,
    known,
    h('p', null, h('a', { href: '#/sign-in' }, t('register.backToSignIn'))),
  );
}
