"""An accessibility audit of the page a browser shows, run in the page by WebDriver (not by the console): the
WCAG 2.1 AA checks a test can decide by itself.

- the document has a language, one `<main>`, one `<h1>`;
- every form control (not hidden) has an accessible name: a `<label>`, `aria-label` or `aria-labelledby`;
- every button and link has an accessible name; every `<img>` an `alt`; every `svg[role=img]` a `<title>` or label;
- table headers say what they head (`scope`), and tables have a caption or a label;
- text contrast (1.4.3): each visible text node's colour against the first opaque background behind it is at
  least 4.5:1, or 3:1 for large text (24 px, or 18.66 px bold);
- the keyboard can reach every control (none taken out of the tab order) and sees where it is (1.4.11/2.4.7):
  a focused button, link or control shows an outline or a box shadow.
"""

AUDIT = r"""
const problems = [];
const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
  (el.getAttribute('data-testid') ? '[' + el.getAttribute('data-testid') + ']' : '');
const visible = (el) => {
  const s = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  return s.display !== 'none' && s.visibility !== 'hidden' && r.width > 0 && r.height > 0;
};
const labelled = (el) => {
  if ((el.getAttribute('aria-label') || '').trim()) return true;
  const by = (el.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean);
  if (by.some((id) => { const t = document.getElementById(id); return t && t.textContent.trim(); })) return true;
  return el.labels && Array.from(el.labels).some((l) => l.textContent.trim());
};
if (!document.documentElement.lang) problems.push('<html> has no lang');
if (document.querySelectorAll('main').length !== 1) problems.push('not exactly one <main>');
if (document.querySelectorAll('h1').length !== 1) problems.push('not exactly one <h1>');
for (const el of document.querySelectorAll('input, select, textarea')) {
  if (el.type === 'hidden') continue;
  if (!labelled(el)) problems.push('control without a label: ' + name(el));
}
for (const el of document.querySelectorAll('button, a[href]')) {
  if (!visible(el)) continue;
  const text = (el.textContent || '').trim() || (el.getAttribute('aria-label') || '').trim() ||
    (el.getAttribute('title') || '').trim();
  if (!text && !labelled(el)) problems.push('button or link without a name: ' + name(el));
  if (el.getAttribute('tabindex') === '-1') problems.push('control taken out of the tab order: ' + name(el));
}
for (const el of document.querySelectorAll('img')) if (!el.hasAttribute('alt')) problems.push('img without alt: ' + name(el));
for (const el of document.querySelectorAll('svg[role="img"]')) {
  const title = el.querySelector('title');
  if (!(title && title.textContent.trim()) && !labelled(el)) problems.push('svg image without a title: ' + name(el));
}
for (const table of document.querySelectorAll('table')) {
  if (!visible(table)) continue;
  const cap = table.querySelector('caption');
  if (!(cap && cap.textContent.trim()) && !labelled(table)) problems.push('table without a caption or label: ' + name(table));
  for (const th of table.querySelectorAll('th')) {
    if (!th.getAttribute('scope')) problems.push('th without scope in ' + name(table) + ': ' + th.textContent.trim().slice(0, 30));
  }
}
const rgba = (text) => {
  const m = text.match(/rgba?\(([^)]+)\)/);
  if (!m) return null;
  const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
  return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
};
const lum = (c) => {
  const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
};
const background = (el) => {
  for (let e = el; e; e = e.parentElement) {
    const c = rgba(getComputedStyle(e).backgroundColor);
    if (c && c.a >= 0.99) return c;
    if (getComputedStyle(e).backgroundImage !== 'none') return null;  // not decidable here
  }
  return { r: 255, g: 255, b: 255, a: 1 };
};
const seen = new Set();
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let n = walker.nextNode(); n; n = walker.nextNode()) {
  if (!n.textContent.trim()) continue;
  const el = n.parentElement;
  if (!el || seen.has(el) || !visible(el)) continue;
  seen.add(el);
  const s = getComputedStyle(el);
  if (el.closest('[disabled]') || el.closest('[aria-hidden="true"]')) continue;  // WCAG exempts inactive controls
  const fg = rgba(s.color);
  const bg = background(el);
  if (!fg || !bg) continue;
  const a = fg.a;
  const mixed = { r: fg.r * a + bg.r * (1 - a), g: fg.g * a + bg.g * (1 - a), b: fg.b * a + bg.b * (1 - a) };
  const l1 = lum(mixed), l2 = lum(bg);
  const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
  const size = parseFloat(s.fontSize);
  const large = size >= 24 || (size >= 18.66 && Number(s.fontWeight) >= 700);
  if (ratio < (large ? 3 : 4.5)) {
    problems.push('contrast ' + ratio.toFixed(2) + ':1 for "' + n.textContent.trim().slice(0, 30) + '" in ' + name(el));
  }
}
return problems;
"""


FOCUS = r"""
const el = document.activeElement;
if (!el || el === document.body) return null;
const s = getComputedStyle(el);
const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || (s.boxShadow && s.boxShadow !== 'none');
return [el.tagName.toLowerCase() + (el.getAttribute('data-testid') ? '[' + el.getAttribute('data-testid') + ']' : '')
        + ' ' + (el.textContent || el.value || '').trim().slice(0, 20), ring];
"""


def keyboard(browser, presses: int = 8) -> list[str]:
    """Presses Tab from the top of the page: each press must move the focus to a new element that shows where it
    is (a real key, so `:focus-visible` applies as for a keyboard user)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    # Start where a keyboard user starts: the top of the document (focus the body for a moment).
    browser.run("window.scrollTo(0, 0); document.body.setAttribute('tabindex', '-1'); document.body.focus(); "
                "document.body.removeAttribute('tabindex')")
    reachable = browser.run("return Array.from(document.querySelectorAll('button, a[href], input, select, textarea'))"
                            ".filter((e) => !e.disabled && e.getClientRects().length > 0).length")
    problems, seen = [], []
    for _ in range(min(presses, reachable)):
        ActionChains(browser.driver).send_keys(Keys.TAB).perform()
        focused = browser.run(FOCUS)
        if focused is None:
            problems.append(f"Tab left the focus nowhere after {seen}")
            continue
        what, ring = focused
        if not ring:
            problems.append(f"no visible focus indicator on {what}")
        seen.append(what)
    if len(set(seen)) < min(3, presses, reachable):
        problems.append(f"Tab does not move through the page: {seen}")
    return problems


def audit(browser, keys: bool = True) -> list[str]:
    """The page's accessibility problems (empty when it passes)."""
    return browser.run(AUDIT) + (keyboard(browser) if keys else [])
