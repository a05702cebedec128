// Messages in English and Japanese. Every visible string of the console comes from these catalogues
// (tests/console/test_console_static.py checks that both hold the same keys and that every key the code
// names exists). Keys are written literally as the first argument of t(), k() or ConsoleError() so the
// check can find them.
import en from './i18n-en.js';
import ja from './i18n-ja.js';

export const catalogues = Object.freeze({ en, ja });
export const LANGUAGES = Object.freeze(['en', 'ja']);
const STORAGE_KEY = 'kura.console.lang';

function initialLanguage() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (LANGUAGES.includes(saved)) return saved;
  } catch {
    // storage unavailable: fall through
  }
  const nav = (navigator.language || 'en').toLowerCase();
  return nav.startsWith('ja') ? 'ja' : 'en';
}

let current = initialLanguage();
const listeners = new Set();

/** Marks a string as a message key (returns it unchanged): for keys kept in tables. */
export function k(key) {
  return key;
}

/** The message for `key` in the current language, with `{name}` placeholders filled from `params`. */
export function t(key, params) {
  let text = catalogues[current][key];
  if (text === undefined) text = catalogues.en[key];
  if (text === undefined) return key;
  if (params) {
    text = text.replace(/\{([a-zA-Z0-9_]+)\}/g, (m, name) =>
      Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : m,
    );
  }
  return text;
}

/** The current language (`en` or `ja`). */
export function lang() {
  return current;
}

/** Switches the language, remembers it, updates `<html lang>` and the static texts, and tells listeners. */
export function setLang(next) {
  if (!LANGUAGES.includes(next)) return;
  current = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // not remembered; still switched
  }
  applyStatic(document);
  for (const fn of listeners) fn(next);
}

/** Calls `fn(lang)` after each language switch. */
export function onLangChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/**
 * Fills elements marked in the page: `data-i18n="key"` (text), `data-i18n-aria-label="key"`,
 * `data-i18n-title="key"`; also `<html lang>` and the document title.
 */
export function applyStatic(root) {
  document.documentElement.lang = current;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.getAttribute('data-i18n'));
  for (const el of root.querySelectorAll('[data-i18n-aria-label]')) {
    el.setAttribute('aria-label', t(el.getAttribute('data-i18n-aria-label')));
  }
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.setAttribute('title', t(el.getAttribute('data-i18n-title')));
}

// MARK: - Times and durations

/** A Unix time as local date and time in the current language (and the UTC ISO form, for titles). */
export function formatTime(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return '—';
  const d = new Date(seconds * 1000);
  return new Intl.DateTimeFormat(current === 'ja' ? 'ja-JP' : 'en-GB', {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
    timeZoneName: 'short',
  }).format(d);
}

/** The UTC ISO 8601 form of a Unix time. */
export function isoTime(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return '';
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

/** A duration in seconds as days, hours, minutes (and seconds under an hour). */
export function formatDuration(total) {
  let s = Math.max(0, Math.floor(total));
  const days = Math.floor(s / 86400);
  s -= days * 86400;
  const hours = Math.floor(s / 3600);
  s -= hours * 3600;
  const minutes = Math.floor(s / 60);
  const seconds = s - minutes * 60;
  const parts = [];
  if (days) parts.push(t('duration.days', { n: days }));
  if (hours) parts.push(t('duration.hours', { n: hours }));
  if (minutes) parts.push(t('duration.minutes', { n: minutes }));
  if (!days && !hours && (seconds || parts.length === 0)) parts.push(t('duration.seconds', { n: seconds }));
  return parts.join(t('duration.separator'));
}
