"""The console's QR Code encoder (Sources/CoordinatorServer/Console/js/qr.js), run in headless Chromium under the
console's CSP, against independent oracles:

- segno (Python): the complete module matrix of the same text (its UTF-8 bytes in byte mode), version, level and
  mask, for every mask, on addresses of each kind, payment URIs, UTF-8 text and lengths at version boundaries, and on
  every version 1-40 at every level. segno 1.6.6 has one known deviation from ISO/IEC 18004 (issue #148 of its
  repository): when the bit stream after the terminator already ends on a codeword boundary - always the case for
  one byte-mode segment whose terminator fits - it adds a whole 0x00 codeword before the pad codewords, where the
  standard adds no padding bits. The oracle replaces that one function with the standard's rule while it runs; a test
  shows the unpatched segno differs from qr.js by exactly that codeword.
- the mask choice: 7.8.3.1 scores the complete symbol (format and version information included) with the four
  rules of Table 11 and takes the lowest. The expected choice is computed here in Python over segno's eight
  matrices. segno's own automatic choice follows a different reading (it scores the symbol before the format and
  version information and the dark module are written, and after counting a 1:1:3:1:1 pattern it skips an overlapping
  one), so it is compared, and each disagreement is shown to come from that reading alone.
- zxing-cpp: the SVG that qrSvg() draws, screenshot by Chromium, decodes to the text; its pixels match the matrix.
"""
import contextlib
import functools
import io
import json
import pathlib
import re
import xml.etree.ElementTree as ET

import pytest
import segno
import segno.consts
import segno.encoder
import zxingcpp
from PIL import Image, ImageDraw

from .browser import StaticSite

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
CONSOLE = ROOT / "Sources" / "CoordinatorServer" / "Console"
LEVELS = "LMQH"
SEGNO_LEVEL = {"L": segno.consts.ERROR_LEVEL_L, "M": segno.consts.ERROR_LEVEL_M,
               "Q": segno.consts.ERROR_LEVEL_Q, "H": segno.consts.ERROR_LEVEL_H}

# Addresses derived (embit, eth-account) from the private key bytes 01 02 .. 20.
P2WPKH = "bc1qtp7fhly84qm6q4hhzmp0nh5frtdugmys2sa75y"
P2WSH = "bc1qnkr3rhv8t9gu8mtm8e8a6csstt0vnstnrxcpmttgrfgsrtktwm3qfa4fk3"
P2TR = "bc1pf22hwrhley3ah6qjt6234rs00fn84c2396ky4yea305kl02ezyns3k932r"
TESTNET = "tb1qtp7fhly84qm6q4hhzmp0nh5frtdugmysqkxd0h"
REGTEST = "bcrt1qtp7fhly84qm6q4hhzmp0nh5frtdugmyszllqc7"
P2PKH = "194sjtY7LtC3P886FTepA5Q42VGqrwTK86"
P2SH = "3PRWGxzVLgZYGiC9GsGSisMtatMe18mJvh"
ETH = "0x6370eF2f4Db3611D657b90667De398a2Cc2a370C"
USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"

INPUTS = [
    P2WPKH, P2WSH, P2TR, TESTNET, REGTEST, P2PKH, P2SH, P2WPKH.upper(), P2TR.upper(),
    ETH, ETH.lower(), ETH[2:],
    f"bitcoin:{P2WPKH}",
    f"bitcoin:{P2WPKH}?amount=0.00123456",
    f"bitcoin:{P2WPKH.upper()}?amount=21",
    f"bitcoin:{P2TR}?amount=0.5&label=Payroll%20June&message=Invoice%20%2342",
    f"bitcoin:{P2WSH}?amount=1234.56789012&label=Treasury%20cold%20storage%20%E2%80%94%20Q3",
    f"ethereum:{ETH}@1?value=1.5e18",
    f"ethereum:{USDC}@1/transfer?address={ETH}&uint256=2500000",
    "東京の支払い：1,000円（税込）",
    "鍵管理 承認待ち — 出金 #42 を確認してください",
    "Grüße aus Zürich — €12,50",
    "café",  # Latin-1 could hold it in one byte a letter: UTF-8 takes two
    "₿ 0.001 🚀 ✓",
    "",
    "0",
    "Kura",
]


def byte_capacity(version: int, level: str) -> int:
    """The most bytes one byte-mode segment holds (segno's table of data bits: 4 mode bits, 8 or 16 count bits)."""
    bits = segno.consts.SYMBOL_CAPACITY[version][SEGNO_LEVEL[level]]
    return (bits - 4 - (8 if version < 10 else 16)) // 8


# Exactly full symbols and one byte more, where the count indicator grows (9/10, 26/27) and at the ends (1, 40).
BOUNDARY_VERSIONS = [1, 2, 9, 10, 26, 27, 39]
BOUNDARIES = [("a" * byte_capacity(v, "M"), v) for v in BOUNDARY_VERSIONS]
BOUNDARIES += [("b" * (byte_capacity(v, "M") + 1), v + 1) for v in BOUNDARY_VERSIONS]
BOUNDARIES += [("c" * byte_capacity(40, "M"), 40)]
BOUNDARIES += [("日" * (byte_capacity(v, "M") // 3), v) for v in (3, 10)]  # three bytes a character, near full

CASES = [(text, level) for text in INPUTS for level in LEVELS] + [(text, "M") for text, _ in BOUNDARIES]


@contextlib.contextmanager
def segno_padding_per_standard():
    """7.4.10: 0 bits only up to the next codeword boundary (segno 1.6.6 adds eight when already on one)."""
    original = segno.encoder.write_padding_bits

    def write_padding_bits(buff, version, length):
        if version in (segno.consts.VERSION_M1, segno.consts.VERSION_M3):
            return original(buff, version, length)
        buff.extend([0] * (-length % 8))

    segno.encoder.write_padding_bits = write_padding_bits
    try:
        yield
    finally:
        segno.encoder.write_padding_bits = original


@functools.lru_cache(maxsize=None)
def segno_code(text: str, level: str, version=None, mask=None, standard_padding=True):
    make = lambda: segno.make(text.encode("utf-8"), error=level, version=version, mask=mask, mode="byte",  # noqa: E731
                              micro=False, boost_error=False)
    if not standard_padding:
        return make()
    with segno_padding_per_standard():
        return make()


def rows_of(code) -> list[str]:
    return ["".join("1" if m else "0" for m in row) for row in code.matrix]


def assert_same_matrix(mine: list[str], theirs: list[str], what: str):
    assert len(mine) == len(theirs), f"{what}: {len(mine)} rows, oracle {len(theirs)}"
    diff = [(r, c) for r, (a, b) in enumerate(zip(mine, theirs)) for c, (x, y) in enumerate(zip(a, b)) if x != y]
    assert not diff and all(len(a) == len(b) for a, b in zip(mine, theirs)), \
        f"{what}: {len(diff)} modules differ from the oracle, first at (row, column) {diff[:5]}"


# ISO/IEC 18004:2015 7.8.3.1, Table 11, written here again for the oracle side (qr.js has its own).
FINDER_LIKE = re.compile(r"(?=1011101)")


def finder_like_positions(line: str) -> list[int]:
    """Where a 1:1:3:1:1 pattern starts with 4 light modules before or after it (the quiet zone is light)."""
    padded = "0000" + line + "0000"
    return [m.start() for m in FINDER_LIKE.finditer(line)
            if padded[m.start():m.start() + 4] == "0000" or padded[m.start() + 11:m.start() + 15] == "0000"]


def spec_penalty(rows: list[str]) -> list[int]:
    n = len(rows)
    lines = rows + ["".join(col) for col in zip(*rows)]
    n1 = sum(3 + len(m.group()) - 5 for line in lines for m in re.finditer(r"0{5,}|1{5,}", line))
    n3 = 40 * sum(len(finder_like_positions(line)) for line in lines)
    # 2x2 blocks of one colour, by bit operations on each pair of rows.
    ints = [int(row, 2) for row in rows]
    inner = (1 << (n - 1)) - 1
    n2 = 0
    for a, b in zip(ints, ints[1:]):
        same_a = ~(a ^ (a >> 1)) & inner      # columns c, c+1 equal in row a
        same_b = ~(b ^ (b >> 1)) & inner
        same_ab = ~(a ^ b)                    # rows a and b equal in a column
        n2 += 3 * bin(same_a & same_b & same_ab & (same_ab >> 1) & inner).count("1")
    dark = sum(row.count("1") for row in rows)
    n4 = 10 * (abs(20 * dark - 10 * n * n) // (n * n))
    return [n1, n2, n3, n4]


def n3_skipping_overlaps(rows: list[str]) -> int:
    """N3 as segno counts it: after a counted pattern the search resumes past its end, so a second pattern that
    overlaps it (10111011101 with four light modules on both sides, or 1011101011101) is not counted."""
    score = 0
    for line in rows + ["".join(col) for col in zip(*rows)]:
        resume = 0
        for i in finder_like_positions(line):
            if i >= resume:
                score += 40
                resume = i + 7
    return score


def segno_reading_score(rows: list[str], version: int) -> int:
    """segno's own mask score: its penalty rules over the symbol with the format information, the dark module and the
    version information still light (as segno scores before writing them)."""
    n = len(rows)
    grid = [bytearray(int(ch) for ch in row) for row in rows]
    for i in range(9):
        grid[i][8] = grid[8][i] = 0
    for i in range(1, 9):
        grid[n - i][8] = grid[8][n - i] = 0
    grid[6][8] = grid[8][6] = 1  # the timing patterns cross those ranges there (dark: coordinate 8 is even)
    if version >= 7:
        for i in range(6):
            for k in (11, 10, 9):
                grid[i][n - k] = grid[n - k][i] = 0
    return sum(segno.encoder.mask_scores(grid, n, n))


@pytest.fixture(scope="module")
def site():
    s = StaticSite(root=CONSOLE)
    icon = '<link rel="icon" href="data:,">'
    s.add("/qr-test.html", f'<!doctype html><html lang="en"><title>qr test</title>{icon}<main id="out"></main>')
    s.add("/qr-page.html", f'<!doctype html><html lang="en"><title>qr page</title>{icon}<main id="out"></main>'
          '<script type="module" src="/qr-page.js"></script>')
    # A page module like the console's own: the text from the query string, the SVG built by qrSvg().
    s.add("/qr-page.js", """import { qrSvg } from './js/qr.js';
const p = JSON.parse(new URLSearchParams(location.search).get('p'));
const svg = qrSvg(p.text, p.options);
svg.id = 'qr';
document.getElementById('out').append(svg);
""")
    yield s
    s.close()


RUN_CASES = r"""
const [cases, done] = arguments;
import('/js/qr.js').then((qr) => done(cases.map(([text, options]) => {
  try {
    const r = qr.qrMatrix(text, options);
    const booleans = r.modules.every((row) => row.length === r.modules.length && row.every((v) => typeof v === 'boolean'));
    return {ok: true, version: r.version, mask: r.mask, ecc: r.ecc, booleans, penalty: qr.qrPenalty(r.modules),
            rows: r.modules.map((row) => row.map((v) => (v ? '1' : '0')).join(''))};
  } catch (e) {
    return {ok: false, name: e.name, message: e.message};
  }
})), (e) => done({importError: String(e)}));
"""


class QR:
    def __init__(self, browser, site):
        self.browser = browser
        self.site = site

    def run(self, cases):
        """[(text, options)] -> qrMatrix() results in the browser (rows as strings of 0/1)."""
        self.browser.open(self.site.url("/qr-test.html"))
        out = self.browser.run_async(RUN_CASES, [[t, o] for t, o in cases])
        assert isinstance(out, list), out
        return out

    def matrix(self, text, **options):
        [r] = self.run([(text, options)])
        assert r["ok"], r
        return r


@pytest.fixture(scope="module")
def qr(browser, site):
    return QR(browser, site)


@pytest.fixture(scope="module")
def automatic(qr):
    """qr.js's automatic choice (version and mask) for every case."""
    results = qr.run([(text, {"ecc": level}) for text, level in CASES])
    for (text, level), r in zip(CASES, results):
        assert r["ok"] and r["booleans"] and r["ecc"] == level, (text, level, r)
    return results


@pytest.fixture(scope="module")
def every_mask(qr, automatic):
    """Each case at its automatic version under each of the eight masks: (text, options, result)."""
    forced = [(text, {"ecc": level, "version": r["version"], "mask": m})
              for (text, level), r in zip(CASES, automatic) for m in range(8)]
    return [(text, options, r) for (text, options), r in zip(forced, qr.run(forced))]


def test_version_is_the_smallest_that_fits(automatic):
    for (text, level), r in zip(CASES, automatic):
        size = len(text.encode())
        assert r["version"] == segno_code(text, level).version, (text, level)
        assert size <= byte_capacity(r["version"], level)
        assert r["version"] == 1 or size > byte_capacity(r["version"] - 1, level)
    for (text, version), r in zip(BOUNDARIES, automatic[len(INPUTS) * len(LEVELS):]):
        assert r["version"] == version, (len(text.encode()), version, r["version"])
    # What the console shows fits comfortably at the default level.
    by_text = {text: r["version"] for (text, level), r in zip(CASES, automatic) if level == "M"}
    assert by_text[P2WPKH] == 3 and by_text[P2TR] == 4 and by_text[ETH] == 3


def test_every_mask_matches_segno_module_for_module(automatic, every_mask):
    """Each case at its version, under each of the eight masks, against segno forced to the same version and mask."""
    results = [r for _, _, r in every_mask]
    for text, options, r in every_mask:
        assert r["ok"] and r["version"] == options["version"] and r["mask"] == options["mask"], r
        oracle = segno_code(text, options["ecc"], options["version"], options["mask"])
        assert (oracle.version, oracle.mask, oracle.error) == (options["version"], options["mask"], options["ecc"])
        assert_same_matrix(r["rows"], rows_of(oracle), f"{text[:40]!r} {options}")
    # The automatic result is one of those eight.
    for i, ((text, level), r) in enumerate(zip(CASES, automatic)):
        assert results[8 * i + r["mask"]]["rows"] == r["rows"], (text, level)
    assert len(results) == 8 * len(CASES)
    print(f"\nqr.js vs segno: {len(results)} matrices ({len(CASES)} cases x 8 masks) identical")


def test_every_version_and_level_matches_segno(qr):
    """Versions 1-40 at every level (the block tables, alignment patterns, version information)."""
    cases = [("Kura", {"ecc": level, "version": v}) for v in range(1, 41) for level in LEVELS]
    results = qr.run(cases)
    for (text, options), r in zip(cases, results):
        assert r["ok"] and r["version"] == options["version"], r
        assert len(r["rows"]) == 17 + 4 * options["version"]
        assert_same_matrix(r["rows"], rows_of(segno_code(text, options["ecc"], options["version"], r["mask"])),
                           f"{options} mask {r['mask']}")
    print(f"\nqr.js vs segno: versions 1-40 x L/M/Q/H, {len(results)} matrices identical")


def test_mask_choice_follows_the_standard(automatic, every_mask):
    """The lowest penalty over the complete symbol (first mask on a tie), penalties computed here over segno's
    matrices; qr.js's own penalty of each matrix equals it. segno's automatic choice is compared, and every
    disagreement is explained by segno's reading of 7.8.3."""
    agree_segno = 0
    n3_readings_differ = 0
    mine = [r for _, _, r in every_mask]
    for i, ((text, level), r) in enumerate(zip(CASES, automatic)):
        oracles = [segno_code(text, level, r["version"], m) for m in range(8)]
        penalties = [spec_penalty(rows_of(o)) for o in oracles]
        for m in range(8):
            assert mine[8 * i + m]["penalty"] == penalties[m], (text, level, m)
            segno_scores = list(segno.encoder.mask_scores([bytearray(row) for row in oracles[m].matrix],
                                                          len(oracles[m].matrix), len(oracles[m].matrix)))
            assert segno_scores[:2] + segno_scores[3:] == penalties[m][:2] + penalties[m][3:]  # N1, N2, N4
            assert segno_scores[2] == n3_skipping_overlaps(rows_of(oracles[m]))
            n3_readings_differ += segno_scores[2] != penalties[m][2]
        totals = [sum(p) for p in penalties]
        assert r["mask"] == totals.index(min(totals)), (text, level, totals)
        segno_auto = segno_code(text, level, r["version"]).mask
        if segno_auto == r["mask"]:
            agree_segno += 1
        else:
            readings = [segno_reading_score(rows_of(o), r["version"]) for o in oracles]
            assert segno_auto == readings.index(min(readings)), (text, level)
    print(f"\nmask choice: {len(CASES)} cases, all the standard's lowest penalty; segno's automatic choice agrees in "
          f"{agree_segno}; segno's N3 differs on {n3_readings_differ} of {8 * len(CASES)} matrices (overlapping "
          f"1:1:3:1:1 patterns it skips)")
    assert agree_segno >= len(CASES) // 2  # the readings differ at the margin, not at random


def test_segno_unpatched_differs_only_by_its_padding_codeword(qr):
    """The oracle's one patch is needed, and is all that is needed: without it segno puts 0x00 where the first pad
    codeword 11101100 goes (a different matrix); with the patch the matrices agree (as in the tests above)."""
    text = "Kura"
    r = qr.matrix(text, ecc="M", mask=0)
    assert r["version"] == 1
    unpatched = rows_of(segno_code(text, "M", 1, 0, standard_padding=False))
    patched = rows_of(segno_code(text, "M", 1, 0))
    assert r["rows"] == patched and r["rows"] != unpatched
    # Read the codewords back (7.7.3): version 1 has finders with separators in three corners, the timing row and
    # column 6, and the format information beside the finders (row and column 8); mask 0 inverts where i+j is even.
    n = 21

    def function_module(i, j):
        return (i < 9 and j < 9) or (i < 9 and j >= n - 8) or (i >= n - 8 and j < 9) or i == 6 or j == 6

    order = []
    upward = True
    for right in [20, 18, 16, 14, 12, 10, 8, 5, 3, 1]:
        for step in range(n):
            i = n - 1 - step if upward else step
            order += [(i, j) for j in (right, right - 1) if not function_module(i, j)]
        upward = not upward
    assert len(order) == 26 * 8

    def codewords(rows):
        bits = [int(rows[i][j]) ^ ((i + j) % 2 == 0) for i, j in order]
        return [int("".join(map(str, bits[k:k + 8])), 2) for k in range(0, len(bits), 8)]

    ours, theirs = codewords(patched), codewords(unpatched)
    used = 2 + len(text)  # 4 mode bits, 8 count bits, the bytes, a 4-bit terminator: whole codewords
    assert ours[:used] == theirs[:used] == [0x40, 0x44, 0xB7, 0x57, 0x26, 0x10]  # 0100 00000100 "Kura" 0000
    assert ours[used:16] == [0b11101100, 0b00010001] * 5
    assert theirs[used:16] == [0x00] + [0b11101100, 0b00010001] * 4 + [0b11101100]


def test_corrupted_matrices_are_caught(qr):
    """Negative controls for the comparison: one flipped module, another mask, one changed character."""
    r = qr.matrix(P2WPKH, ecc="M")
    oracle = rows_of(segno_code(P2WPKH, "M", r["version"], r["mask"]))
    assert_same_matrix(r["rows"], oracle, "as encoded")
    flipped = list(r["rows"])
    flipped[10] = flipped[10][:12] + ("0" if flipped[10][12] == "1" else "1") + flipped[10][13:]
    with pytest.raises(AssertionError, match="1 modules differ"):
        assert_same_matrix(flipped, oracle, "one module flipped")
    with pytest.raises(AssertionError, match="modules differ"):
        assert_same_matrix(r["rows"], rows_of(segno_code(P2WPKH, "M", r["version"], (r["mask"] + 1) % 8)), "mask")
    other = P2WPKH[:-1] + ("q" if P2WPKH[-1] != "q" else "p")
    with pytest.raises(AssertionError, match="modules differ"):
        assert_same_matrix(r["rows"], rows_of(segno_code(other, "M", r["version"], r["mask"])), "text")


def test_too_long_and_invalid_input_is_refused(qr):
    cases = []
    for level, most in (("L", 2953), ("M", 2331), ("Q", 1663), ("H", 1273)):
        assert byte_capacity(40, level) == most
        cases += [("x" * most, {"ecc": level}), ("x" * (most + 1), {"ecc": level})]
    cases += [
        ("日" * 778, {}),                      # 2334 bytes in UTF-8 (778 characters)
        (P2WSH, {"version": 1}),             # 62 bytes do not fit version 1
        ("Kura", {"ecc": "X"}), ("Kura", {"ecc": "m"}),
        ("Kura", {"mask": 8}), ("Kura", {"mask": 1.5}), ("Kura", {"version": 0}), ("Kura", {"version": 41}),
        (None, {}), (42, {}),
    ]
    r = qr.run(cases)
    for i, level in enumerate("LMQH"):
        fits, too_long = r[2 * i], r[2 * i + 1]
        assert fits["ok"] and fits["version"] == 40, fits
        assert not too_long["ok"] and too_long["name"] == "Error", too_long
        assert f"{byte_capacity(40, level) + 1} bytes" in too_long["message"]
        assert "version 40" in too_long["message"] and f"level {level}" in too_long["message"]
    japanese, forced, *invalid = r[8:]
    assert not japanese["ok"] and "2334 bytes" in japanese["message"] and "version 40" in japanese["message"]
    assert not forced["ok"] and "too long for version 1" in forced["message"]
    messages = [x["message"] for x in invalid]
    assert all(not x["ok"] and x["name"] == "Error" for x in invalid), invalid
    assert "level must be L, M, Q or H" in messages[0] and "level must be L, M, Q or H" in messages[1]
    assert "mask must be an integer from 0 to 7" in messages[2] and "mask" in messages[3]
    assert "version must be an integer from 1 to 40" in messages[4] and "version" in messages[5]
    assert "must be a string" in messages[6] and "must be a string" in messages[7]
    # A lone surrogate has no UTF-8 form (JSON cannot carry one here, so the page makes it).
    lone = qr.browser.run_async("""const done = arguments[arguments.length - 1];
      import('/js/qr.js').then((qr) => { try { qr.qrMatrix('a' + String.fromCharCode(0xD800)); done('encoded'); }
        catch (e) { done(e.message); } });""")
    assert "lone surrogate" in lone


def render(browser, site, text, **options):
    """qrSvg() on a page of its own (a served module under the CSP); the SVG's markup and its screenshot."""
    from urllib.parse import quote

    browser.open(site.url("/qr-page.html?p=" + quote(json.dumps({"text": text, "options": options}))))
    element = browser.wait_for("#qr")
    markup = browser.run("return new XMLSerializer().serializeToString(document.getElementById('qr'))")
    png = element.screenshot_as_png
    return markup, Image.open(io.BytesIO(png)).convert("L")


DECODED = [
    (P2WPKH, {}),
    (f"bitcoin:{P2TR}?amount=0.5&label=Payroll%20June", {}),
    (ETH, {"moduleSize": 6}),
    ("東京の支払い：1,000円（税込）", {"title": "支払い先"}),
    (f"ethereum:{USDC}@1/transfer?address={ETH}&uint256=2500000", {"ecc": "H"}),
    ("w" * 400, {"moduleSize": 3, "quietZone": 2}),  # version 14 at M: alignment patterns and version information
]


@pytest.mark.parametrize("text, options", DECODED, ids=[f"decode{i}" for i in range(len(DECODED))])
def test_svg_decodes_with_zxing(browser, site, qr, text, options):
    module, quiet = options.get("moduleSize", 4), options.get("quietZone", 4)
    expected = qr.matrix(text, ecc=options.get("ecc", "M"))
    n = len(expected["rows"])
    markup, image = render(browser, site, text, **options)
    assert browser.run("return window.devicePixelRatio") == 1
    # The element: an <svg role="img"> with a <title>, a light background and one path, no style anywhere.
    ns = "{http://www.w3.org/2000/svg}"
    svg = ET.fromstring(markup)
    assert svg.tag == ns + "svg" and svg.get("role") == "img"
    assert [c.tag for c in svg] == [ns + "title", ns + "rect", ns + "path"]
    assert svg[0].text == options.get("title", text)
    extent = n + 2 * quiet
    assert svg.get("viewBox") == f"0 0 {extent} {extent}" and svg.get("width") == str(extent * module)
    assert svg[1].get("fill") == "#ffffff" and svg[2].get("fill") == "#000000"
    assert all("style" not in e.attrib for e in svg.iter())
    assert re.fullmatch(r"(M\d+ \d+h\d+v1h-\d+z)+", svg[2].get("d"))
    # The pixels: every module's centre has the module's colour, the quiet zone is light.
    assert image.size == (extent * module, extent * module)
    for r in range(-quiet, n + quiet):
        for c in range(-quiet, n + quiet):
            dark = 0 <= r < n and 0 <= c < n and expected["rows"][r][c] == "1"
            pixel = image.getpixel(((c + quiet) * module + module // 2, (r + quiet) * module + module // 2))
            assert (pixel < 128) == dark, (r, c, pixel)
    # A real decoder reads it back.
    [found] = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert found.valid and found.bytes == text.encode("utf-8") and found.text == text
    assert found.ec_level == options.get("ecc", "M")
    # Negative control: with a third of the symbol painted over, nothing decodes.
    damaged = image.copy()
    ImageDraw.Draw(damaged).rectangle([0, 0, image.size[0] // 3 * 2, image.size[1] // 2], fill=255)
    assert zxingcpp.read_barcodes(damaged, formats=zxingcpp.BarcodeFormat.QRCode) == []


def test_svg_refuses_too_long_text_and_draws_nothing(browser, site):
    browser.open(site.url("/qr-test.html"))
    out = browser.run_async("""const done = arguments[arguments.length - 1];
      import('/js/qr.js').then((qr) => {
        try { document.getElementById('out').append(qr.qrSvg('x'.repeat(2332))); done('drawn'); }
        catch (e) { done([e.message, document.getElementById('out').childElementCount]); } });""")
    assert out[1] == 0 and "2332 bytes" in out[0] and "version 40" in out[0]
