#!/usr/bin/env python3
"""Subresource Integrity for the operator console (Sources/CoordinatorServer/Console/index.html).

Rewrites the `integrity` attributes (sha384, base64) of the stylesheet links, of the entry module script, and of
one `<link rel="modulepreload">` per JavaScript module under js/ (the preloads carry the integrity of every
module the entry script imports, statically or dynamically; they are regenerated, sorted, so every module has
exactly one and no preload names a missing file).

    python3 scripts/console_sri.py            # rewrite index.html in place
    python3 scripts/console_sri.py --check    # exit 1 listing every stale or missing integrity

Standard library only.
"""
import argparse
import base64
import hashlib
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_CONSOLE = ROOT / "Sources" / "CoordinatorServer" / "Console"

TAG = re.compile(r"<(link|script)\b([^>]*)>", re.IGNORECASE)
ATTR = re.compile(r'([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*"([^"]*)"')
PRELOAD_LINE = re.compile(r'^[ \t]*<link\b[^>]*\brel="modulepreload"[^>]*>[ \t]*\r?\n', re.IGNORECASE | re.MULTILINE)


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


def attributes(text: str) -> dict:
    return {m.group(1).lower(): m.group(2) for m in ATTR.finditer(text)}


def modules(console: pathlib.Path) -> list:
    """Every JavaScript module of the console, as a path relative to the console directory."""
    return sorted(p.relative_to(console).as_posix() for p in (console / "js").rglob("*.js") if p.is_file())


def subresource(tag: str, attrs: dict):
    """The file a tag loads and must carry an integrity for, or None."""
    if tag == "script":
        return attrs.get("src")
    rel = attrs.get("rel", "").lower().split()
    if "stylesheet" in rel or "modulepreload" in rel:
        return attrs.get("href")
    return None


def local_file(console: pathlib.Path, ref: str):
    if re.match(r"^[a-z][a-z0-9+.-]*:|^//|^/", ref, re.IGNORECASE) or ".." in ref.split("/"):
        return None
    return console / ref


def problems(console: pathlib.Path, html: str) -> list:
    """What is stale or missing in index.html (empty when everything is current)."""
    out = []
    preloaded = set()
    for m in TAG.finditer(html):
        tag = m.group(1).lower()
        attrs = attributes(m.group(2))
        ref = subresource(tag, attrs)
        if tag == "script" and ref is None:
            out.append("an inline <script> (not allowed)")
            continue
        if ref is None:
            continue
        path = local_file(console, ref)
        if path is None:
            out.append(f"{ref}: not a file of the console (external or absolute reference)")
            continue
        if "modulepreload" in attrs.get("rel", "").lower().split():
            preloaded.add(ref)
        if not path.is_file():
            out.append(f"{ref}: no such file")
            continue
        want = sri(path.read_bytes())
        have = attrs.get("integrity")
        if have is None:
            out.append(f"{ref}: no integrity attribute")
        elif have != want:
            out.append(f"{ref}: stale integrity (have {have[:20]}…, want {want[:20]}…)")
    for ref in modules(console):
        if ref not in preloaded:
            out.append(f"{ref}: no modulepreload")
    return out


def rewrite(console: pathlib.Path, html: str) -> str:
    """index.html with every integrity current and one modulepreload per module (sorted, placed where the first
    preload was, or just before the entry script)."""
    preload_block = "".join(
        f'<link rel="modulepreload" href="{ref}" integrity="{sri((console / ref).read_bytes())}">\n'
        for ref in modules(console)
    )
    first = PRELOAD_LINE.search(html)
    if first:
        anchor = first.start()
        html = PRELOAD_LINE.sub("", html)
    else:
        script = re.search(r'^[ \t]*<script\b[^>]*\btype="module"', html, re.IGNORECASE | re.MULTILINE)
        if not script:
            raise SystemExit("console_sri: index.html has no <script type=\"module\"> entry")
        anchor = script.start()
    html = html[:anchor] + preload_block + html[anchor:]

    def fix(m):
        tag = m.group(1).lower()
        body = m.group(2)
        attrs = attributes(body)
        ref = subresource(tag, attrs)
        if ref is None:
            return m.group(0)
        path = local_file(console, ref)
        if path is None or not path.is_file():
            raise SystemExit(f"console_sri: {ref} is not a file of the console")
        value = sri(path.read_bytes())
        if "integrity" in attrs:
            body = re.sub(r'\bintegrity\s*=\s*"[^"]*"', f'integrity="{value}"', body, count=1)
        else:
            body = body.rstrip() + f' integrity="{value}"'
        return f"<{m.group(1)}{body}>"

    return TAG.sub(fix, html)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 listing what is stale or missing")
    parser.add_argument("--console", type=pathlib.Path, default=DEFAULT_CONSOLE, help="the console directory")
    args = parser.parse_args(argv)
    index = args.console / "index.html"
    html = index.read_text(encoding="utf-8")
    if args.check:
        found = problems(args.console, html)
        for p in found:
            print(f"console_sri: {p}")
        if found:
            print(f"console_sri: {len(found)} problem(s); run python3 scripts/console_sri.py", file=sys.stderr)
            return 1
        print(f"console_sri: ok ({len(modules(args.console))} modules)")
        return 0
    new = rewrite(args.console, html)
    if new != html:
        index.write_text(new, encoding="utf-8")
        print(f"console_sri: updated {index.relative_to(ROOT) if index.is_relative_to(ROOT) else index}")
    remaining = problems(args.console, new)
    for p in remaining:
        print(f"console_sri: {p}")
    return 1 if remaining else 0


if __name__ == "__main__":
    sys.exit(main())
