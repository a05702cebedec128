"""The accessibility audit the browser tests run on every console screen (tests/console/a11y.py), proved on pages
made here: a page that meets each rule passes, and each kind of fault is reported (the negative controls)."""
import pytest

from .a11y import audit
from .browser import StaticSite

CSS = """
body { color: #1a1a1a; background: #ffffff; font: 16px sans-serif; }
:focus-visible { outline: 3px solid #0b57d0; outline-offset: 2px; }
.faint { color: #b0b0b0; }
.no-ring:focus-visible { outline: none; box-shadow: none; }
"""

GOOD = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ok</title>
<link rel="stylesheet" href="/a.css"><link rel="icon" href="data:,"></head><body><main><h1>Title</h1>
<label for="n">Name</label><input id="n"><select aria-label="Kind"><option>a</option></select>
<button type="button">Go</button><a href="#x">More</a>
<table><caption>Rows</caption><tr><th scope="col">A</th></tr><tr><td>1</td></tr></table>
<svg role="img" width="10" height="10"><title>code</title><rect width="10" height="10"/></svg>
<p>Readable text.</p></main></body></html>"""

FAULTS = {
    "control without a label": GOOD.replace('<label for="n">Name</label>', ""),
    "button or link without a name": GOOD.replace(">Go</button>", "></button>"),
    "contrast": GOOD.replace("<p>Readable text.</p>", '<p class="faint">Faint text.</p>'),
    "th without scope": GOOD.replace(' scope="col"', ""),
    "table without a caption": GOOD.replace("<caption>Rows</caption>", ""),
    "svg image without a title": GOOD.replace("<title>code</title>", ""),
    "<html> has no lang": GOOD.replace(' lang="en"', ""),
    "not exactly one <h1>": GOOD.replace("<h1>Title</h1>", "<h1>Title</h1><h1>Again</h1>"),
    "no visible focus indicator": GOOD.replace('<button type="button">', '<button type="button" class="no-ring">'),
    "taken out of the tab order": GOOD.replace('<a href="#x">', '<a href="#x" tabindex="-1">'),
}


@pytest.fixture(scope="module")
def site():
    s = StaticSite()
    s.add("/a.css", CSS)
    s.add("/good.html", GOOD)
    for i, page in enumerate(FAULTS.values()):
        s.add(f"/fault-{i}.html", page)
    yield s
    s.close()


def test_a_page_that_meets_every_rule_passes(browser, site):
    browser.open(site.url("/good.html"))
    assert audit(browser) == []


@pytest.mark.parametrize("index,fault", list(enumerate(FAULTS)))
def test_each_fault_is_reported(browser, site, index, fault):
    browser.open(site.url(f"/fault-{index}.html"))
    problems = audit(browser)
    assert any(fault in p for p in problems), problems
