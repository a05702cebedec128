// Sign-in: a kura.session-request for the coordinator's audience, signed with the member's passkey (the
// challenge is the request's digest), exchanged for an HttpOnly session cookie.
import { isId } from './documents.js';
import { add, field, h, mount } from './dom.js';
import { t } from './i18n.js';
import { invalidate } from './policy.js';
import { lastSignIn, signIn } from './session.js';
import { announce, busy, ConsoleError, heading, mono, notice } from './ui.js';
import { available, registrations } from './webauthn.js';

export function render(ctx) {
  const { root } = ctx;
  const last = lastSignIn() || {};
  const regs = registrations();
  const first = regs.length ? regs[regs.length - 1] : {};
  const org = h('input', {
    type: 'text', name: 'org', autocomplete: 'organization', spellcheck: 'false', autocapitalize: 'off', required: true,
    value: last.org || first.org || '',
  });
  const member = h('input', {
    type: 'text', name: 'member', autocomplete: 'username', spellcheck: 'false', autocapitalize: 'off', required: true,
    value: last.member || first.member || '',
  });
  const listId = 'known-credentials';
  const credential = h('input', {
    type: 'text', name: 'credential', spellcheck: 'false', autocapitalize: 'off', required: true, list: listId,
    value: last.credentialId || first.credentialId || '',
  });
  const datalist = h('datalist', { id: listId }, [...new Set(regs.map((r) => r.credentialId))].map((id) => h('option', { value: id })));
  const submit = h('button', { type: 'submit', class: 'primary', testid: 'signin-submit' }, t('signin.submit'));
  const progress = h('p', { class: 'progress', testid: 'signin-status', 'aria-live': 'polite' });
  const errors = h('div', { testid: 'signin-error' });
  const details = h('div');

  const form = h(
    'form',
    { class: 'form narrow', novalidate: true, 'aria-describedby': 'signin-intro' },
    field(t('signin.org'), org, { testid: 'signin-org', hint: t('signin.orgHint') }),
    field(t('signin.member'), member, { testid: 'signin-member' }),
    field(t('signin.credential'), credential, { testid: 'signin-credential', hint: t('signin.credentialHint') }),
    datalist,
    h('div', { class: 'actions' }, submit),
    progress,
    errors,
    details,
  );

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(
      submit,
      async () => {
        const values = { org: org.value.trim(), member: member.value.trim(), credentialId: credential.value.trim() };
        for (const [input, value] of [[org, values.org], [member, values.member], [credential, values.credentialId]]) {
          input.setAttribute('aria-invalid', isId(value) ? 'false' : 'true');
        }
        if (!isId(values.org) || !isId(values.member) || !isId(values.credentialId)) {
          throw new ConsoleError('signin.invalidIds');
        }
        mount(details);
        await signIn(values, (step, detail) => {
          if (step === 'config') {
            progress.textContent = t('signin.step.passkey');
            if (Math.abs(detail.skew) > 30) {
              add(details, notice('warning', t('signin.clockSkew', { seconds: detail.skew }), 'signin-clock-skew'));
            }
          } else if (step === 'digest') {
            add(details,
              h('details', { class: 'disclosure' }, h('summary', null, t('signin.requestDigest')), mono(detail.digest, 'signin-digest')),
            );
          } else if (step === 'submit') {
            progress.textContent = t('signin.step.submit');
          }
        });
        progress.textContent = t('signin.done');
        announce(t('signin.done'));
        invalidate();
        ctx.navigate(ctx.takeReturnTo() || '/dashboard', { replace: true });
      },
      errors,
    ).finally(() => {
      if (errors.childElementCount) progress.textContent = '';
    });
  });

  const ended = ctx.takeSessionNotice();
  add(root,
    heading(t('signin.title')),
    ended ? notice('warning', t(ended), 'session-ended') : null,
    available() ? null : notice('error', t('passkey.error.unavailable'), 'passkey-unavailable'),
    h('p', { id: 'signin-intro', class: 'lead' }, t('signin.intro')),
    form,
    h('p', null, t('signin.noPasskey'), ' ', h('a', { href: '#/register', testid: 'signin-register-link' }, t('signin.registerLink'))),
  );
}
