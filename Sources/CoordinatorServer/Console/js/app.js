// The console's entry point: the header (navigation, language, session), the hash router, and focus
// management (each screen's heading is focused after navigation, for keyboard and screen-reader users).
import { onUnauthenticated } from './api.js';
import { add, h, mount } from './dom.js';
import { applyStatic, k, lang, onLangChange, setLang, t } from './i18n.js';
import { invalidate } from './policy.js';
import { expire, hasRole, onSessionChange, restore, session, signOut, signedIn } from './session.js';
import { announce, errorBox, heading, revokeDownloads, roleName, timeText } from './ui.js';
import * as addressBook from './screen-address-book.js';
import * as approvals from './screen-approvals.js';
import * as audit from './screen-audit.js';
import * as dashboard from './screen-dashboard.js';
import * as historyScreen from './screen-history.js';
import * as policies from './screen-policies.js';
import * as register from './screen-register.js';
import * as signin from './screen-sign-in.js';
import * as transferDetail from './screen-transfer-detail.js';
import * as transferNew from './screen-transfer-new.js';
import * as wallets from './screen-wallets.js';

const ID = '([a-z0-9][a-z0-9._-]{0,63})';

/** Routes: the path pattern, its screen, whether it needs a session, and the navigation entry it belongs to. */
const ROUTES = [
  { pattern: /^\/sign-in$/, screen: signin, open: true, nav: 'sign-in' },
  { pattern: /^\/register$/, screen: register, open: true, nav: 'register' },
  { pattern: /^\/dashboard$/, screen: dashboard, nav: 'dashboard' },
  { pattern: /^\/wallets$/, screen: wallets, nav: 'wallets' },
  { pattern: /^\/transfer\/new$/, screen: transferNew, nav: 'transfer-new' },
  { pattern: /^\/approvals$/, screen: approvals, nav: 'approvals' },
  { pattern: new RegExp(`^/approvals/${ID}$`), screen: approvals, nav: 'approvals' },
  { pattern: new RegExp(`^/transfers/${ID}$`), screen: transferDetail, nav: 'history' },
  { pattern: /^\/history$/, screen: historyScreen, nav: 'history' },
  { pattern: /^\/address-book$/, screen: addressBook, nav: 'address-book' },
  { pattern: /^\/policies$/, screen: policies, nav: 'policies' },
  { pattern: /^\/policies\/([1-9][0-9]{0,15})$/, screen: policies, nav: 'policies' },
  { pattern: /^\/audit$/, screen: audit, nav: 'audit' },
];

let generation = 0;
let returnTo = null;
let sessionNotice = null;

/** The current route's path and query (`#/history?kind=deposit` → `/history`, URLSearchParams). */
function current() {
  const raw = location.hash.replace(/^#/, '');
  const q = raw.indexOf('?');
  return { path: q < 0 ? raw : raw.slice(0, q), query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
}

/** Navigates to a route path (`/dashboard`); with `replace`, without a history entry. */
export function navigate(to, { replace = false } = {}) {
  const hash = '#' + to;
  if (location.hash === hash) {
    render();
    return;
  }
  if (replace) {
    history.replaceState(null, '', hash);
    render();
  } else {
    location.hash = hash;
  }
}

function updateHeader() {
  const on = signedIn();
  for (const el of document.querySelectorAll('[data-when="signed-in"]')) el.hidden = !on;
  for (const el of document.querySelectorAll('[data-when="signed-out"]')) el.hidden = on;
  for (const el of document.querySelectorAll('[data-role]')) {
    const roles = el.getAttribute('data-role').split(' ');
    el.hidden = !on || !hasRole(...roles);
  }
  const who = document.getElementById('session-who');
  if (who) {
    mount(who);
    if (on) {
      add(who,
        h('span', { testid: 'session-member', class: 'session-member' }, session.member),
        ' ',
        h('span', { class: 'session-meta', testid: 'session-roles' }, `${session.org} · ${session.roles.map(roleName).join(', ')}`),
        session.expiresAt ? h('span', { class: 'session-meta' }, ' · ', t('session.until'), ' ', timeText(session.expiresAt)) : null,
      );
    }
  }
}

function markNavigation(nav) {
  for (const a of document.querySelectorAll('nav.primary a[data-nav]')) {
    if (a.getAttribute('data-nav') === nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function notFound(root) {
  add(root, heading(t('notFound.title')), h('p', null, t('notFound.body')), h('p', null, h('a', { href: '#/dashboard' }, t('nav.dashboard'))));
}

async function render() {
  const gen = ++generation;
  revokeDownloads();
  const main = document.getElementById('main');
  const { path, query } = current();
  if (path === '' || path === '/') {
    navigate(signedIn() ? '/dashboard' : '/sign-in', { replace: true });
    return;
  }
  let route = null;
  let params = [];
  for (const r of ROUTES) {
    const m = r.pattern.exec(path);
    if (m) {
      route = r;
      params = m.slice(1);
      break;
    }
  }
  if (route && !route.open && !signedIn()) {
    returnTo = path + (query.toString() ? `?${query}` : '');
    navigate('/sign-in', { replace: true });
    return;
  }
  if (route && route.nav === 'sign-in' && signedIn()) {
    navigate('/dashboard', { replace: true });
    return;
  }
  markNavigation(route ? route.nav : null);
  const root = h('div', { class: 'screen' });
  mount(main, root);
  const ctx = {
    root,
    params,
    query,
    navigate,
    alive: () => gen === generation,
    rerender: () => render(),
    takeReturnTo: () => {
      const r = returnTo;
      returnTo = null;
      return r;
    },
    takeSessionNotice: () => {
      const n = sessionNotice;
      sessionNotice = null;
      return n;
    },
  };
  let pending = null;
  try {
    if (!route) notFound(root);
    else pending = route.screen.render(ctx);
  } catch (err) {
    add(root, errorBox(err));
  }
  const title = root.querySelector('h1');
  document.title = title ? `${title.textContent} — ${t('app.name')}` : t('app.name');
  if (title) title.focus();
  if (pending && typeof pending.then === 'function') {
    try {
      await pending;
    } catch (err) {
      if (gen === generation) add(root, errorBox(err));
    }
  }
}

function setUpHeader() {
  const select = document.getElementById('language');
  select.value = lang();
  select.addEventListener('change', () => setLang(select.value));
  document.getElementById('sign-out').addEventListener('click', async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    try {
      await signOut();
      announce(t('session.signedOut'));
    } catch {
      announce(t('session.signedOutLocally'));
    } finally {
      button.disabled = false;
      invalidate();
      navigate('/sign-in');
    }
  });
  const skip = document.querySelector('.skip-link');
  skip.addEventListener('click', (event) => {
    event.preventDefault();
    const title = document.querySelector('#main h1');
    (title || document.getElementById('main')).focus();
  });
}

async function start() {
  applyStatic(document);
  setUpHeader();
  onLangChange(() => {
    document.getElementById('language').value = lang();
    updateHeader();
    render();
  });
  onSessionChange(updateHeader);
  onUnauthenticated(() => {
    if (!signedIn()) return;
    expire();
    invalidate();
    sessionNotice = k('session.ended');
    returnTo = current().path;
    navigate('/sign-in', { replace: true });
  });
  try {
    await restore();
  } catch {
    // the coordinator is unreachable; the sign-in screen says so when it is used
  }
  updateHeader();
  window.addEventListener('hashchange', render);
  await render();
  document.body.setAttribute('data-ready', 'true');
}

start();
