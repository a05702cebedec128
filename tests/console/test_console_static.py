"""The operator console's static rules, checked on the files themselves (no browser, no server):

- index.html: no inline script, style or event handler; every script and stylesheet local and carrying a current
  Subresource Integrity value; one modulepreload (with integrity) per JavaScript module; one <main>, a language,
  a skip link, labelled controls;
- JavaScript: no HTML string sinks or string-to-code paths (innerHTML, outerHTML, insertAdjacentHTML,
  document.write, eval, new Function, setTimeout/setInterval with a string, ...), no inline style, nothing loaded
  from another origin;
- CSS: nothing from another origin (no external fonts or imports);
- messages: the English and Japanese catalogues hold the same keys with the same placeholders, and every key the
  code names exists (and every catalogue key is used).

Each refusal is shown to fire on an altered copy of the console beside the real files passing (positive and
negative controls), and scripts/console_sri.py is driven in both modes."""
import html.parser
import json
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
CONSOLE = ROOT / "Sources" / "CoordinatorServer" / "Console"
SRI_SCRIPT = ROOT / "scripts" / "console_sri.py"

sys.path.insert(0, str(ROOT / "scripts"))
import console_sri  # noqa: E402


# MARK: - Checkers (each returns a list of problems; empty when the files follow the rules)

class _Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []          # (tag, attrs dict)
        self.inline = []        # text inside <script> or <style>
        self._open = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k.lower(): (v if v is not None else "") for k, v in attrs}))
        if tag in ("script", "style"):
            self._open = tag

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        self._open = None

    def handle_endtag(self, tag):
        if tag == self._open:
            self._open = None

    def handle_data(self, data):
        if self._open and data.strip():
            self.inline.append((self._open, data.strip()[:60]))


def parse_page(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    page.close()
    return page


def is_external(ref: str) -> bool:
    return bool(re.match(r"^([a-z][a-z0-9+.-]*:|//)", ref.strip(), re.IGNORECASE)) and not ref.startswith("data:")


def check_html(console: pathlib.Path) -> list:
    """Problems of index.html (inline code and style, handlers, integrity, preloads, structure, labels)."""
    text = (console / "index.html").read_text(encoding="utf-8")
    page = parse_page(text)
    problems = []
    for kind, snippet in page.inline:
        problems.append(f"inline <{kind}> content: {snippet!r}")
    ids = {a.get("id") for _, a in page.tags if a.get("id")}
    labelled = {a.get("for") for t, a in page.tags if t == "label" and a.get("for")}
    mains = 0
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            if name.startswith("on"):
                problems.append(f"<{tag}> has an event handler attribute {name}")
            if name == "style":
                problems.append(f"<{tag}> has a style attribute")
            if name in ("href", "src", "action", "formaction") and value.strip().lower().startswith("javascript:"):
                problems.append(f"<{tag}> has a javascript: URL")
            if name in ("src", "href", "action") and is_external(value):
                problems.append(f"<{tag}> loads {value} from another origin")
        if tag == "style":
            problems.append("a <style> element")
        if tag == "main":
            mains += 1
        if tag == "script":
            if "src" not in attrs:
                problems.append("a <script> without src (inline)")
            elif attrs.get("type") != "module":
                problems.append(f"<script src={attrs['src']}> is not a module")
        if tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden",):
            if attrs.get("id") not in labelled and "aria-label" not in attrs and "aria-labelledby" not in attrs:
                problems.append(f"<{tag} id={attrs.get('id')}> has no label")
    if mains != 1:
        problems.append(f"{mains} <main> elements (one expected)")
    html_tag = next((a for t, a in page.tags if t == "html"), {})
    if not html_tag.get("lang"):
        problems.append("<html> has no lang")
    skip = [a for t, a in page.tags if t == "a" and a.get("href", "").startswith("#") and "skip-link" in a.get("class", "")]
    if not skip or skip[0]["href"][1:] not in ids:
        problems.append("no skip link to an element of the page")
    problems += console_sri.problems(console, text)
    return problems


# What must never appear in the console's JavaScript: every way a string becomes markup or code.
FORBIDDEN_JS = [
    (re.compile(r"\binnerHTML\b"), "innerHTML"),
    (re.compile(r"\bouterHTML\b"), "outerHTML"),
    (re.compile(r"\binsertAdjacentHTML\b"), "insertAdjacentHTML"),
    (re.compile(r"\bdocument\s*\.\s*write(ln)?\b"), "document.write"),
    (re.compile(r"(?<![\w$.])eval\s*\("), "eval("),
    (re.compile(r"\bnew\s+Function\b"), "new Function"),
    (re.compile(r"(?<![\w$])Function\s*\(\s*['\"`]"), "Function(string)"),
    (re.compile(r"\bset(Timeout|Interval)\s*\(\s*['\"`]"), "setTimeout/setInterval with a string"),
    (re.compile(r"\bcreateContextualFragment\b"), "createContextualFragment"),
    (re.compile(r"\bparseFromString\b"), "DOMParser.parseFromString"),
    (re.compile(r"\.\s*srcdoc\b|setAttribute\(\s*['\"]srcdoc"), "srcdoc"),
    (re.compile(r"\.\s*style\s*\.\s*\w+\s*="), "inline style (element.style.x =)"),
    (re.compile(r"\.\s*style\s*=[^=]"), "inline style (element.style =)"),
    (re.compile(r"setAttribute\(\s*['\"]style['\"]"), "inline style (setAttribute('style'))"),
    (re.compile(r"setAttribute\(\s*['\"]on\w+['\"]"), "event handler attribute"),
    (re.compile(r"\bjavascript:"), "javascript: URL"),
    (re.compile(r"\bimport\s*\(\s*['\"`](?!\./)"), "import() of a module that is not local"),
    (re.compile(r"\bfrom\s+['\"](?!\./)"), "static import of a module that is not local"),
    (re.compile(r"https?://(?!www\.w3\.org/2000/svg)"), "a URL of another origin"),
]


def check_js(console: pathlib.Path) -> list:
    problems = []
    for f in sorted((console / "js").rglob("*.js")):
        text = f.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), 1):
            for pattern, what in FORBIDDEN_JS:
                if pattern.search(line):
                    problems.append(f"{f.relative_to(console)}:{number}: {what}")
    return problems


def check_css(console: pathlib.Path) -> list:
    problems = []
    for f in sorted((console / "css").rglob("*.css")):
        text = f.read_text(encoding="utf-8")
        for pattern, what in [(re.compile(r"https?://|url\(\s*['\"]?//"), "a resource of another origin"),
                              (re.compile(r"@import"), "@import"),
                              (re.compile(r"expression\s*\(|javascript:", re.IGNORECASE), "script in CSS")]:
            if pattern.search(text):
                problems.append(f"{f.relative_to(console)}: {what}")
    return problems


KEY_USE = re.compile(r"(?<![A-Za-z0-9_$.])(?:t|k|ConsoleError)\(\s*'([^']+)'")
STATIC_KEY = re.compile(r'data-i18n(?:-aria-label|-title)?="([^"]+)"')
PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_]+)\}")


def catalogue(path: pathlib.Path) -> dict:
    """A message catalogue module: `export default {JSON object};`."""
    text = path.read_text(encoding="utf-8").strip()
    assert text.startswith("export default ") and text.endswith(";"), f"{path.name} is not `export default {{...}};`"
    return json.loads(text[len("export default "):-1])


def used_keys(console: pathlib.Path) -> dict:
    used = {}
    for f in sorted((console / "js").rglob("*.js")):
        for m in KEY_USE.finditer(f.read_text(encoding="utf-8")):
            used.setdefault(m.group(1), f.name)
    for m in STATIC_KEY.finditer((console / "index.html").read_text(encoding="utf-8")):
        used.setdefault(m.group(1), "index.html")
    return used


def check_messages(console: pathlib.Path) -> list:
    en = catalogue(console / "js" / "i18n-en.js")
    ja = catalogue(console / "js" / "i18n-ja.js")
    problems = [f"{k}: in English only" for k in sorted(set(en) - set(ja))]
    problems += [f"{k}: in Japanese only" for k in sorted(set(ja) - set(en))]
    for key in sorted(set(en) & set(ja)):
        if (not en[key].strip() or not ja[key].strip()) and not key.endswith(".separator"):
            problems.append(f"{key}: empty message")  # (a separator may be blank: Japanese joins without one)
        if set(PLACEHOLDER.findall(en[key])) != set(PLACEHOLDER.findall(ja[key])):
            problems.append(f"{key}: placeholders differ between English and Japanese")
    used = used_keys(console)
    problems += [f"{k}: used in {f} but in no catalogue" for k, f in sorted(used.items()) if k not in en or k not in ja]
    problems += [f"{k}: in the catalogues but never used" for k in sorted(set(en) | set(ja)) if k not in used]
    return problems


# MARK: - The real console passes

def test_index_html_has_no_inline_code_and_every_subresource_is_pinned():
    assert check_html(CONSOLE) == []
    page = parse_page((CONSOLE / "index.html").read_text(encoding="utf-8"))
    preloads = {a["href"] for t, a in page.tags if t == "link" and a.get("rel") == "modulepreload"}
    modules = {f.relative_to(CONSOLE).as_posix() for f in (CONSOLE / "js").rglob("*.js")}
    assert preloads == modules and "js/app.js" in modules
    entry = [a for t, a in page.tags if t == "script"]
    assert len(entry) == 1 and entry[0]["src"] == "js/app.js" and entry[0]["integrity"].startswith("sha384-")
    sheets = [a for t, a in page.tags if t == "link" and a.get("rel") == "stylesheet"]
    assert [s["href"] for s in sheets] == ["css/console.css"] and sheets[0]["integrity"].startswith("sha384-")


def test_javascript_has_no_html_or_code_sinks():
    files = list((CONSOLE / "js").rglob("*.js"))
    assert len(files) >= 10
    assert check_js(CONSOLE) == []


def test_css_loads_nothing_from_elsewhere():
    assert check_css(CONSOLE) == []


def test_every_message_is_in_english_and_japanese_and_every_key_used_exists():
    assert check_messages(CONSOLE) == []
    en = catalogue(CONSOLE / "js" / "i18n-en.js")
    assert len(en) > 300
    # Japanese is not English copied: most messages differ.
    ja = catalogue(CONSOLE / "js" / "i18n-ja.js")
    assert sum(en[k] != ja[k] for k in en) > 0.9 * len(en)


def test_sri_check_mode_passes_on_the_console():
    proc = subprocess.run([sys.executable, str(SRI_SCRIPT), "--check"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok" in proc.stdout


# MARK: - Negative controls: altered copies are refused

@pytest.fixture
def copy(tmp_path):
    target = tmp_path / "Console"
    shutil.copytree(CONSOLE, target)
    assert check_html(target) == [] and check_js(target) == [] and check_messages(target) == []
    return target


def edit(path: pathlib.Path, old: str, new: str):
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize("alteration,expected", [
    (("</head>", "<script>alert(1)</script></head>"), "inline <script>"),
    (("</head>", "<style>body{}</style></head>"), "inline <style>"),
    (("<main id=\"main\"", "<main onclick=\"x()\" id=\"main\""), "event handler attribute onclick"),
    (("<main id=\"main\"", "<main style=\"color:red\" id=\"main\""), "style attribute"),
    (("</head>", "<script type=\"module\" src=\"https://cdn.example/x.js\"></script></head>"), "from another origin"),
    (("<main id=\"main\" tabindex=\"-1\">", "<main id=\"main\" tabindex=\"-1\"><main>"), "<main> elements"),
    (("<html lang=\"en\">", "<html>"), "no lang"),
    (("<select id=\"language\"", "<select id=\"language2\""), "has no label"),
])
def test_html_checks_refuse_altered_pages(copy, alteration, expected):
    edit(copy / "index.html", *alteration)
    problems = check_html(copy)
    assert any(expected in p for p in problems), problems


def test_a_changed_module_or_stylesheet_makes_its_integrity_stale(copy):
    (copy / "js" / "canonical.js").write_bytes((copy / "js" / "canonical.js").read_bytes() + b"\n// changed\n")
    (copy / "css" / "console.css").write_bytes((copy / "css" / "console.css").read_bytes() + b"\n/* changed */\n")
    problems = check_html(copy)
    assert any("js/canonical.js: stale integrity" in p for p in problems), problems
    assert any("css/console.css: stale integrity" in p for p in problems), problems
    assert not any("js/api.js" in p for p in problems)  # only what changed


def test_a_module_without_preload_and_a_preload_without_module_are_reported(copy):
    (copy / "js" / "extra.js").write_text("export const x = 1;\n")
    (copy / "js" / "dom.js").unlink()
    problems = check_html(copy)
    assert "js/extra.js: no modulepreload" in problems and "js/dom.js: no such file" in problems, problems


def test_console_sri_script_rewrites_and_checks(copy):
    (copy / "js" / "extra.js").write_text("export const x = 1;\n")
    (copy / "js" / "api.js").write_bytes((copy / "js" / "api.js").read_bytes() + b"\n")
    edit(copy / "index.html", 'href="css/console.css" integrity="sha384-', 'href="css/console.css" integrity="sha384-X')
    check = [sys.executable, str(SRI_SCRIPT), "--check", "--console", str(copy)]
    proc = subprocess.run(check, capture_output=True, text=True)
    assert proc.returncode == 1
    for expected in ("js/extra.js: no modulepreload", "js/api.js: stale integrity", "css/console.css: stale integrity"):
        assert expected in proc.stdout, proc.stdout
    rewrite = subprocess.run([sys.executable, str(SRI_SCRIPT), "--console", str(copy)], capture_output=True, text=True)
    assert rewrite.returncode == 0, rewrite.stdout + rewrite.stderr
    proc = subprocess.run(check, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout
    assert check_html(copy) == []
    html = (copy / "index.html").read_text()
    assert html.count('rel="modulepreload"') == len(list((copy / "js").rglob("*.js")))
    assert 'href="js/extra.js" integrity="' + console_sri.sri(b"export const x = 1;\n") + '"' in html


@pytest.mark.parametrize("code,expected", [
    ("el.innerHTML = text;", "innerHTML"),
    ("el.outerHTML = text;", "outerHTML"),
    ("el.insertAdjacentHTML('beforeend', text);", "insertAdjacentHTML"),
    ("document.write(text);", "document.write"),
    ("eval(text);", "eval("),
    ("const f = new Function('return 1');", "new Function"),
    ("setTimeout('alert(1)', 10);", "setTimeout/setInterval with a string"),
    ("setInterval(\"tick()\", 10);", "setTimeout/setInterval with a string"),
    ("range.createContextualFragment(text);", "createContextualFragment"),
    ("frame.srcdoc = text;", "srcdoc"),
    ("new DOMParser().parseFromString(text, 'text/html');", "DOMParser.parseFromString"),
    ("el.style.color = 'red';", "inline style (element.style.x =)"),
    ("el.setAttribute('style', 'x');", "inline style (setAttribute('style'))"),
    ("el.setAttribute('onclick', 'x()');", "event handler attribute"),
    ("import('https://cdn.example/x.js');", "import() of a module that is not local"),
    ("fetch('https://evil.example/steal');", "a URL of another origin"),
])
def test_js_checks_refuse_each_sink(copy, code, expected):
    target = copy / "js" / "screen-audit.js"
    target.write_text(target.read_text() + "\n" + code + "\n")
    problems = check_js(copy)
    assert any(expected in p and "screen-audit.js" in p for p in problems), problems


def test_js_checks_accept_the_safe_forms(copy):
    # Positive control beside the sinks: text, attributes, timers with functions, local dynamic imports.
    target = copy / "js" / "screen-audit.js"
    target.write_text(target.read_text() + "\nel.textContent = text; el.setAttribute('aria-label', text);\n"
                      "setTimeout(() => f(), 10); import('./qr.js'); el.classList.add('x');\n")
    assert check_js(copy) == []


def test_css_checks_refuse_external_resources(copy):
    target = copy / "css" / "console.css"
    target.write_text(target.read_text() + "\n@font-face { font-family: X; src: url(https://fonts.example/x.woff2); }\n")
    assert any("another origin" in p for p in check_css(copy))


def test_message_checks_refuse_a_missing_translation_and_an_unknown_key(copy):
    ja = copy / "js" / "i18n-ja.js"
    edit(ja, '  "nav.audit": "監査ログ",\n', "")
    problems = check_messages(copy)
    assert "nav.audit: in English only" in problems and any(p.startswith("nav.audit: used in") for p in problems)
    target = copy / "js" / "screen-audit.js"
    target.write_text(target.read_text() + "\nt('audit.noSuchMessage');\n")
    assert "audit.noSuchMessage: used in screen-audit.js but in no catalogue" in check_messages(copy)


def test_message_checks_refuse_placeholder_drift_and_unused_keys(copy):
    edit(copy / "js" / "i18n-ja.js", '"history.count": "{n} 件"', '"history.count": "{count} 件"')
    edit(copy / "js" / "i18n-en.js", '"app.name": "Kura Console",', '"app.name": "Kura Console", "zz.unused": "x",')
    edit(copy / "js" / "i18n-ja.js", '"app.name": "Kura コンソール",', '"app.name": "Kura コンソール", "zz.unused": "x",')
    problems = check_messages(copy)
    assert "history.count: placeholders differ between English and Japanese" in problems
    assert "zz.unused: in the catalogues but never used" in problems
