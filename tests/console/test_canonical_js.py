"""The console's pure modules in the real browser (Debian's headless Chromium), against independent oracles.

The modules are loaded with dynamic import() from a loopback server that answers with the console's own
Content-Security-Policy (so what runs here is what runs in the console, under the same rules):

- js/canonical.js: RFC 8785 canonical bytes of the RFC's examples and the reference implementation's test documents
  (Tests/Vectors/rfc8785), and of thousands of seeded random documents compared with two implementations we did not
  write in JavaScript: the `rfc8785` Python package and the Swift `kura-devtool json canonicalize`; the tagged
  SHA-256 digests against hashlib; every refusal of the strict parser and of the encoder beside its positive
  control;
- js/documents.js: intents built in the browser signed by the Swift CLI (`kura intent sign`, which reads them with
  the closed-schema `Intent` and prints their digest), approvals and session requests against the Python oracle,
  display amounts converted to base units against a decimal oracle;
- js/webauthn.js: a passkey made with Chromium's virtual authenticator, its SPKI turned into the SEC1 key that the
  authenticator's private key gives, and an assertion over a digest verified by `kura-devtool credential verify`.
"""
import base64
import hashlib
import json
import pathlib
import random
import re
import subprocess
import unicodedata

import pytest
import rfc8785
from cryptography.hazmat.primitives import serialization

from conftest import VECTORS, binary

from .browser import StaticSite, b64url_decode

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
CONSOLE = ROOT / "Sources" / "CoordinatorServer" / "Console"
RFC = VECTORS / "rfc8785"


def tagged(tag: str, data: bytes) -> str:
    t = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(t + t + data).hexdigest()


@pytest.fixture(scope="module")
def page(browser):
    site = StaticSite(root=CONSOLE)
    site.add("/blank.html", '<!doctype html><html lang="en"><title>modules</title><link rel="icon" href="data:,">'
                            '<p>console modules under test</p>')
    browser.open(site.url("/blank.html"))  # http://localhost: a secure context (WebCrypto, WebAuthn)
    assert browser.run("return window.isSecureContext") is True
    yield browser, site
    site.close()


def js(page, body: str, *args):
    """Runs `body` (an async function body with `c` canonical.js, `d` documents.js, `w` webauthn.js and `args`) and
    returns its value; a thrown error comes back as {"error": code, "message": ...}."""
    browser, site = page
    if not browser.driver.current_url.startswith(site.url("/blank.html")):
        browser.open(site.url("/blank.html"))  # another test took the browser elsewhere
    script = """
      const done = arguments[arguments.length - 1];
      const args = Array.prototype.slice.call(arguments, 0, arguments.length - 1);
      Promise.all([import('/js/canonical.js'), import('/js/documents.js'), import('/js/webauthn.js')])
        .then(async ([c, d, w]) => { const f = async (c, d, w, args) => { %s }; return f(c, d, w, args); })
        .then((value) => done({ value }),
              (e) => done({ error: (e && e.code) || (e && e.name) || String(e), message: String(e && e.message) }));
    """ % body
    out = browser.run_async(script, *args)
    if "error" in out:
        return {"error": out["error"], "message": out["message"]}
    return out.get("value")


HELPERS = """
  const hex = (s) => c.fromHex(s);
  const attempt = (f) => { try { return { ok: f() }; } catch (e) { return { error: e.code || e.name }; } };
"""


# MARK: - RFC 8785 vectors

def has_fraction(text: str) -> bool:
    found = []
    json.loads(text, parse_float=lambda s: found.append(s) or 0.0, parse_constant=lambda s: found.append(s) or 0)
    return bool(found)


def test_reference_test_documents(page):
    inputs = sorted((RFC / "reference" / "input").glob("*.json"))
    assert len(inputs) == 6
    results = js(page, HELPERS + """
      return args[0].map((h) => { const r = attempt(() => c.toHex(c.canonicalBytes(c.parseStrictBytes(hex(h))))); return r; });
    """, [f.read_bytes().hex() for f in inputs])
    compared = refused = 0
    for f, result in zip(inputs, results):
        text = f.read_text(encoding="utf-8")
        if has_fraction(text):
            # The console reads governance documents: integers only, as Kura's parser (.integersOnly).
            assert result == {"error": "not_integer"}, (f.name, result)
            refused += 1
        else:
            expected = re.sub(r"\s+", "", (RFC / "reference" / "outhex" / f"{f.stem}.txt").read_text()).lower()
            assert result == {"ok": expected}, f.name
            assert bytes.fromhex(expected) == (RFC / "reference" / "output" / f.name).read_bytes().rstrip(b"\n")
            compared += 1
    assert compared == 4 and refused == 2  # arrays, french, unicode, weird; structures (56.0) and values (floats)


def test_rfc_sorting_example_and_appendix_c(page):
    examples = json.loads((RFC / "rfc8785_examples.json").read_text(encoding="utf-8"))
    canonical = js(page, "return c.canonicalize(c.parseStrict(args[0]));", examples["section_3_2_3_sorting_input"])
    # The order of the canonical text, read back in Python (a JavaScript object would put "1" first again).
    assert list(json.loads(canonical).values()) == examples["section_3_2_3_sorting_expected_value_order"]
    assert canonical.encode() == rfc8785.dumps(json.loads(examples["section_3_2_3_sorting_input"]))
    record = js(page, "return c.canonicalize(c.parseStrict(args[0]));", examples["appendix_c_input"])
    assert list(json.loads(record)) == examples["appendix_c_expected_name_order"]


# MARK: - Random documents against rfc8785 and the Swift encoder

SPECIAL = ['"', "\\", "/", "\b", "\f", "\n", "\r", "\t", "\x00", "\x1f", "\x7f", "\u0080", "\u2028", "\u2029",
           "\ufeff", "\uffff", "\U0001f600", "\U0010ffff", "\u00e9", "e\u0301", "\ufb33", "\u20ac", "</script>"]


def random_string(rng: random.Random) -> str:
    out = []
    for _ in range(rng.randint(0, 12)):
        r = rng.random()
        if r < 0.3:
            out.append(rng.choice(SPECIAL))
        elif r < 0.6:
            out.append(chr(rng.randint(0x20, 0x7e)))
        else:
            while True:
                cp = rng.choice([rng.randint(0, 0x7ff), rng.randint(0, 0xffff), rng.randint(0x10000, 0x10ffff)])
                if not 0xd800 <= cp <= 0xdfff:
                    out.append(chr(cp))
                    break
    return "".join(out)


def random_value(rng: random.Random, depth: int = 0):
    r = rng.random()
    if depth < 5 and r < 0.2:
        return random_object(rng, rng.randint(0, 6), depth + 1)
    if depth < 5 and r < 0.35:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 6))]
    if r < 0.6:
        return random_string(rng)
    if r < 0.85:
        return rng.choice([0, -1, 1, 2**53 - 1, -(2**53 - 1), 10**15, rng.randint(-(2**53 - 1), 2**53 - 1),
                           rng.randint(-1000, 1000)])
    return rng.choice([True, False, None])


def random_object(rng: random.Random, size: int, depth: int) -> dict:
    """Members with distinct names, also after Unicode normalisation (Kura's parser compares names as Swift
    strings, by canonical equivalence, and refuses "e\u0301" beside "\u00e9" as a duplicate)."""
    out, seen = {}, set()
    for _ in range(size):
        name = random_string(rng)
        if unicodedata.normalize("NFC", name) not in seen:
            seen.add(unicodedata.normalize("NFC", name))
            out[name] = random_value(rng, depth)
    return out


def spell(rng: random.Random, value) -> str:
    """One of several JSON spellings of a value (escapes, member order, whitespace)."""
    if isinstance(value, dict) and rng.random() < 0.5:
        value = dict(reversed(list(value.items())))
    return json.dumps(value, ensure_ascii=rng.random() < 0.5, indent=rng.choice([None, 1, "\t"]),
                      separators=rng.choice([(",", ":"), (", ", ": "), (" ,", " : ")]))


def test_random_documents_match_rfc8785_and_the_swift_encoder(page, tmp_path):
    rng = random.Random(8785)
    docs = [{"doc": random_value(rng, 1) if i % 3 else random_object(rng, 4, 1)} for i in range(1500)]
    texts = [spell(rng, d) for d in docs]
    tags = [rng.choice(["kura/intent/v1", "kura/approval/v1", "kura/session/v1", "kura/policy/v1"]) for _ in docs]
    out = js(page, HELPERS + """
      const results = [];
      for (let i = 0; i < args[0].length; i++) {
        const v = c.parseStrict(args[0][i]);
        const bytes = c.canonicalBytes(v);
        const viaJSONParse = c.toHex(c.canonicalBytes(JSON.parse(args[0][i])));
        results.push([c.toHex(bytes), viaJSONParse, c.toHex(await c.documentDigest(args[1][i], v))]);
      }
      return results;
    """, texts, tags)
    assert len(out) == len(docs)
    oracle = [rfc8785.dumps(d).hex() for d in docs]
    f = tmp_path / "docs.json"
    f.write_text("[" + ",".join(texts) + "]", encoding="utf-8")
    swift = subprocess.run([str(binary("kura-devtool")), "json", "canonicalize", "--numbers", "integers", str(f)],
                           capture_output=True, text=True, timeout=120)
    assert swift.returncode == 0, swift.stderr
    swift_lines = swift.stdout.split()
    assert len(swift_lines) == len(docs)
    for i, ((mine, via_parse, digest), expected, from_swift) in enumerate(zip(out, oracle, swift_lines)):
        assert mine == expected == from_swift == via_parse, (i, texts[i])
        assert digest == tagged(tags[i], bytes.fromhex(expected)), i


# MARK: - Refusals, each beside its positive control

PARSER_CASES = [
    # (refused text, code, accepted control)
    ('{"a":1,"a":2}', "duplicate_key", '{"a":1,"b":2}'),
    ('{"a":1,"\\u0061":2}', "duplicate_key", '{"a":1,"\\u0062":2}'),
    ('[1.0]', "not_integer", '[1]'),
    ('[1e3]', "not_integer", '[1000]'),
    ('[1E3]', "not_integer", '[1000]'),
    ('[-0]', "non_canonical", '[0]'),
    ('[9007199254740992]', "number_out_of_range", '[9007199254740991]'),
    ('[-9007199254740992]', "number_out_of_range", '[-9007199254740991]'),
    ('[01]', "malformed_json", '[1]'),
    ('[+1]', "malformed_json", '[1]'),
    ('[.5]', "malformed_json", '[5]'),
    ('[NaN]', "malformed_json", '[null]'),
    ("['a']", "malformed_json", '["a"]'),
    ('{a:1}', "malformed_json", '{"a":1}'),
    ('[1,]', "malformed_json", '[1]'),
    ('{"a":1,}', "malformed_json", '{"a":1}'),
    ('[1] [2]', "trailing_data", '[1] '),
    ('{} x', "trailing_data", '{}\n'),
    ('["\\x41"]', "invalid_escape", '["\\u0041"]'),
    ('["\\U0041"]', "invalid_escape", '["\\u0041"]'),
    ('["\\u00"]', "invalid_escape", '["\\u0000"]'),
    ('["\\ud800"]', "invalid_escape", '["\\ud83d\\ude00"]'),
    ('["\\udc00\\ud800"]', "invalid_escape", '["\\ud800\\udc00"]'),
    ('["\x01"]', "control_character", '["\\u0001"]'),
    ('["\t"]', "control_character", '["\\t"]'),
    ('\u00a0[]', "malformed_json", ' []'),
    ('\ufeff{}', "malformed_json", '{}'),
    ('[\f]', "malformed_json", '[\n]'),
    ('["a"', "malformed_json", '["a"]'),
    ('', "malformed_json", '0'),
]


def test_strict_parser_refusals(page):
    out = js(page, HELPERS + "return args[0].map(([bad, , good]) => [attempt(() => c.parseStrict(bad)), attempt(() => c.parseStrict(good))]);",
             PARSER_CASES)
    for (bad, code, good), (refused, accepted) in zip(PARSER_CASES, out):
        assert refused == {"error": code}, (bad, refused)
        assert "ok" in accepted, (good, accepted)


def test_strict_parser_refuses_ill_formed_utf8_and_deep_or_large_documents(page):
    cases = [
        ("5b22c0af225d", "invalid_utf8"),        # overlong '/'
        ("5b22eda080225d", "invalid_utf8"),      # an encoded surrogate
        ("5b22f4908080225d", "invalid_utf8"),    # above U+10FFFF
        ("5b22e282225d", "invalid_utf8"),        # a cut sequence
        ("5b2280225d", "invalid_utf8"),          # a stray continuation byte
        ("efbbbf7b7d", "malformed_json"),        # a byte order mark
    ]
    out = js(page, HELPERS + """
      const results = args[0].map(([h]) => attempt(() => c.parseStrictBytes(hex(h))));
      const good = attempt(() => c.parseStrictBytes(hex('5b22e282ac225d')));
      const nest = (n) => '['.repeat(n) + ']'.repeat(n);
      return { results, good,
        deep: attempt(() => c.parseStrict(nest(33))), deepOk: attempt(() => c.parseStrict(nest(32))),
        big: attempt(() => c.parseStrictBytes(new Uint8Array((1 << 20) + 1).fill(32))),
        bigOk: attempt(() => c.parseStrictBytes(new Uint8Array(1 << 20).fill(32).fill(48, 0, 1))),
        longString: attempt(() => c.parseStrict('"' + 'a'.repeat(65537) + '"')),
        longStringOk: attempt(() => c.parseStrict('"' + 'a'.repeat(65536) + '"')).ok.length,
        proto: attempt(() => Object.getPrototypeOf(c.parseStrict('{"__proto__":{"polluted":1}}')) === null
                         && ({}).polluted === undefined) };
    """, cases)
    for (h, code), result in zip(cases, out["results"]):
        assert result == {"error": code}, (h, result)
    assert out["good"] == {"ok": ["€"]}
    assert out["deep"] == {"error": "too_deep"} and "ok" in out["deepOk"]
    assert out["big"] == {"error": "too_large"} and out["bigOk"] == {"ok": 0}
    assert out["longString"] == {"error": "too_large"} and out["longStringOk"] == 65536
    assert out["proto"] == {"ok": True}


def test_canonical_encoder_refuses_what_has_no_document_form(page):
    out = js(page, HELPERS + """
      const cases = [
        [() => ({ a: 1.5 }), () => ({ a: 1 })],
        [() => [2 ** 53], () => [2 ** 53 - 1]],
        [() => [NaN], () => [null]],
        [() => [Infinity], () => [0]],
        [() => ['\\ud800'], () => ['\\ud83d\\ude00']],
        [() => ({ '\\udc00': 1 }), () => ({ '\\u00e9': 1 })],
        [() => ({ a: undefined }), () => ({ a: null })],
        [() => [1n], () => ['1']],
        [() => [new Date(0)], () => [0]],
        [() => [() => 1], () => [1]],
      ];
      return { cases: cases.map(([bad, good]) => [attempt(() => c.canonicalize(bad())), attempt(() => c.canonicalize(good()))]),
               negativeZero: c.canonicalize([-0]), escapes: c.canonicalize(['\\u0000\\u001f\\u007f\\u2028/\\b\\f\\n\\r\\t"\\\\']) };
    """)
    codes = ["not_integer", "number_out_of_range", "number_out_of_range", "number_out_of_range", "invalid_string",
             "invalid_string", "wrong_type", "wrong_type", "wrong_type", "wrong_type"]
    for code, (refused, accepted) in zip(codes, out["cases"]):
        assert refused == {"error": code} and "ok" in accepted, (code, refused, accepted)
    assert out["negativeZero"] == "[0]"
    assert out["escapes"].encode() == rfc8785.dumps(["\x00\x1f\x7f\u2028/\b\f\n\r\t\"\\"])


# MARK: - Documents

NONCE = bytes(range(32)).hex()


def build_intents(page):
    specs = [
        {"organization": "acme", "policyHash": "ab" * 32, "wallet": "btc-main", "asset": "btc",
         "entry": {"id": "exchange", "address": "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"},
         "amount": "50000000", "feeCap": {"maxAbsolute": "200000", "maxRatePerKvB": "100000"},
         "memo": "月次決済 \"Q3\" \\ ✓ 😀\n", "created": 1796000000, "lifetime": 3600, "initiator": "alice",
         "pin": {"inputs": ["aa" * 32 + ":0", "bb" * 32 + ":4294967295"]}},
        {"organization": "acme", "policyHash": "cd" * 32, "wallet": "eth-main", "asset": "usdc",
         "entry": {"id": "usdc-exchange", "address": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"},
         "amount": "115792089237316195423570985008687907853269984665640564039457584007913129639935",
         "feeCap": {"maxFeePerGas": "200000000000", "maxPriorityFeePerGas": "5000000000", "maxGasLimit": "100000",
                    "maxTotalFee": "20000000000000000"},
         "memo": "", "created": 1796000001, "lifetime": 86400, "initiator": "alice", "pin": {"ethNonce": 0}},
        {"organization": "acme.jp", "policyHash": "01" * 32, "wallet": "btc-vault", "asset": "btc",
         "entry": {"id": "supplier_1", "address": "bcrt1qsupplier"}, "amount": "1",
         "feeCap": {"maxAbsolute": "0", "maxRatePerKvB": "1"}, "memo": "x" * 500, "created": 0, "lifetime": 1,
         "initiator": "m.taro-1"},
    ]
    return specs, js(page, """
      const out = [];
      for (const s of args[0]) {
        const doc = d.buildIntent({ ...s, nonce: c.fromHex(args[1]) });
        out.push({ doc, digest: (await d.digestOf('intent', doc)).hex, canonical: c.canonicalize(doc) });
      }
      return out;
    """, specs, NONCE)


@pytest.fixture(scope="module")
def signing_key(tmp_path_factory):
    folder = tmp_path_factory.mktemp("console-key")
    key = folder / "alice.key"
    subprocess.run([str(binary("kura")), "keys", "new", "--out", str(key), "--credential-id", "alice-key"],
                   check=True, capture_output=True, timeout=60)
    return key


def test_intents_built_in_the_browser_are_read_and_signed_by_the_swift_cli(page, signing_key, tmp_path):
    specs, built = build_intents(page)
    for i, (spec, b) in enumerate(zip(specs, built)):
        doc = b["doc"]
        assert doc["id"] == "i-" + NONCE[:16] and doc["nonce"] == NONCE and doc["expires"] == spec["created"] + spec["lifetime"]
        assert doc["destination"] == {"entry": spec["entry"]["id"], "address": spec["entry"]["address"]}
        assert b["canonical"].encode() == rfc8785.dumps(doc)
        assert b["digest"] == tagged("kura/intent/v1", rfc8785.dumps(doc))
        unsigned = tmp_path / f"intent-{i}.json"
        unsigned.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        signed = tmp_path / f"intent-{i}.signed.json"
        proc = subprocess.run([str(binary("kura")), "intent", "sign", str(unsigned), "--key", str(signing_key),
                               "--credential", "alice-key", "--out", str(signed)], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == f"signed intent {doc['id']} digest {b['digest']}"
        assert json.loads(signed.read_text(encoding="utf-8"))["intent"] == doc


def test_intent_reader_refuses_what_the_swift_reader_refuses(page, signing_key, tmp_path):
    _, built = build_intents(page)
    doc = built[0]["doc"]
    variants = {
        "unknown member": {**doc, "extra": 1},
        "amount as a number": {**doc, "amount": 50000000},
        "amount with a leading zero": {**doc, "amount": "050000000"},
        "zero amount": {**doc, "amount": "0"},
        "short nonce": {**doc, "nonce": NONCE[:62]},
        "expires before created": {**doc, "expires": doc["created"]},
        "memo over 500 bytes": {**doc, "memo": "あ" * 167},
        "policy in upper case": {**doc, "policy": doc["policy"].upper()},
        "pin twice the same input": {**doc, "pin": {"inputs": ["aa" * 32 + ":0", "aa" * 32 + ":0"]}},
        "fee cap of both chains": {**doc, "feeCap": {**doc["feeCap"], "maxGasLimit": "1"}},
        "another kind": {**doc, "kind": "kura.approval"},
    }
    out = js(page, "return args[0].map((v) => { try { d.readIntent(v); return 'accepted'; } catch (e) { return e.code; } });",
             list(variants.values()) + [doc])
    assert out[-1] == "accepted"  # positive control
    for (name, variant), verdict in zip(variants.items(), out):
        assert verdict != "accepted", name
        f = tmp_path / "variant.json"
        f.write_text(json.dumps(variant, ensure_ascii=False), encoding="utf-8")
        proc = subprocess.run([str(binary("kura")), "intent", "sign", str(f), "--key", str(signing_key), "--credential",
                               "alice-key", "--out", str(tmp_path / "variant.signed.json")], capture_output=True, timeout=60)
        assert proc.returncode != 0, f"the Swift reader accepted what the console refuses: {name}"


def test_approval_and_session_request_digests(page):
    out = js(page, HELPERS + """
      const approval = d.buildApproval({ intentDigest: 'ef'.repeat(32), decision: 'approve', approver: 'bob', time: 1796000100 });
      const rejection = d.buildApproval({ intentDigest: 'ef'.repeat(32), decision: 'reject', approver: 'carol', time: 0 });
      const session = d.buildSessionRequest({ organization: 'acme', member: 'alice', audience: 'kura-coordinator:acme-prod',
        nonce: c.fromHex('00112233445566778899aabbccddeeff'), created: 1796000000, expires: 1796000600 });
      const docs = [approval, rejection, session];
      const digests = [await d.digestOf('approval', approval), await d.digestOf('approval', rejection), await d.digestOf('session', session)];
      const base = { organization: 'acme', member: 'alice', audience: 'a', created: 100 };
      return { docs, digests: digests.map((x) => x.hex),
        refused: [
          attempt(() => d.buildSessionRequest({ ...base, nonce: new Uint8Array(15), expires: 200 })),
          attempt(() => d.buildSessionRequest({ ...base, nonce: new Uint8Array(33), expires: 200 })),
          attempt(() => d.buildSessionRequest({ ...base, nonce: new Uint8Array(16), expires: 701 })),
          attempt(() => d.buildSessionRequest({ ...base, nonce: new Uint8Array(16), expires: 100 })),
          attempt(() => d.buildSessionRequest({ ...base, audience: '', nonce: new Uint8Array(16), expires: 200 })),
          attempt(() => d.buildApproval({ intentDigest: 'EF'.repeat(32), decision: 'approve', approver: 'bob', time: 1 })),
          attempt(() => d.buildApproval({ intentDigest: 'ef'.repeat(32), decision: 'maybe', approver: 'bob', time: 1 })),
          attempt(() => d.buildApproval({ intentDigest: 'ef'.repeat(32), decision: 'approve', approver: 'Bob', time: 1 })),
        ],
        accepted: [
          attempt(() => d.buildSessionRequest({ ...base, nonce: new Uint8Array(32), expires: 700 })).ok.nonce.length,
          attempt(() => d.buildSessionRequest({ ...base, nonce: new Uint8Array(16), expires: 101 })).ok.expires,
        ] };
    """)
    approval, rejection, session = out["docs"]
    assert approval == {"kind": "kura.approval", "format": 1, "intent": "ef" * 32, "decision": "approve",
                        "approver": "bob", "time": 1796000100}
    assert rejection["decision"] == "reject" and rejection["time"] == 0
    assert session == {"kind": "kura.session-request", "format": 1, "organization": "acme", "member": "alice",
                       "audience": "kura-coordinator:acme-prod", "nonce": "00112233445566778899aabbccddeeff",
                       "created": 1796000000, "expires": 1796000600}
    assert out["digests"] == [tagged("kura/approval/v1", rfc8785.dumps(approval)),
                              tagged("kura/approval/v1", rfc8785.dumps(rejection)),
                              tagged("kura/session/v1", rfc8785.dumps(session))]
    assert all("error" in r for r in out["refused"]), out["refused"]
    assert out["accepted"] == [64, 101]


def human_to_base(text: str, decimals: int) -> str:
    whole, _, fraction = text.partition(".")
    return str(int(whole + fraction.ljust(decimals, "0")))


def base_to_human(base: str, decimals: int) -> str:
    if decimals == 0:
        return base
    padded = base.rjust(decimals + 1, "0")
    return padded[:-decimals] + "." + padded[-decimals:]


def test_display_amounts_convert_exactly(page):
    rng = random.Random(18)
    cases = []
    for _ in range(400):
        decimals = rng.choice([0, 2, 6, 8, 18, 36, rng.randint(0, 36)])
        whole = str(rng.choice([0, 1, rng.randint(0, 10**6), rng.randint(0, 10**40)]))
        places = rng.randint(0, decimals)
        fraction = "".join(rng.choice("0123456789") for _ in range(places))
        text = whole + ("." + fraction if places else "")
        if int(human_to_base(text, decimals)) == 0 or int(human_to_base(text, decimals)) >= 2**256:
            continue
        cases.append((text, decimals))
    refusals = [("0", 8), ("0.00000000", 8), ("1.123456789", 8), ("1e5", 8), ("-1", 8), ("1,5", 8), ("", 8),
                (".5", 8), ("5.", 8), ("1 000", 8), ("０.５", 8), ("0x10", 8), ("1.5", 0),
                (str(2**256), 0)]
    controls = [("1", 8), ("0.00000001", 8), ("1.12345678", 8), (" 2.5 ", 8), ("15", 0), (str(2**256 - 1), 0)]
    out = js(page, HELPERS + """
      return {
        converted: args[0].map(([text, n]) => { const b = d.toBaseUnits(text, n); return [b, d.formatUnits(b, n)]; }),
        refused: args[1].map(([text, n]) => attempt(() => d.toBaseUnits(text, n))),
        controls: args[2].map(([text, n]) => attempt(() => d.toBaseUnits(text, n))),
      };
    """, cases, refusals, controls)
    for (text, decimals), (base, shown) in zip(cases, out["converted"]):
        assert base == human_to_base(text, decimals), (text, decimals)
        assert shown == base_to_human(base, decimals)  # as BaseUnits.formatted(decimals:) prints it
    for case, result in zip(refusals, out["refused"]):
        assert "error" in result, case
    assert [r["ok"] for r in out["controls"]] == ["100000000", "1", "112345678", "250000000", "15", str(2**256 - 1)]


# MARK: - Passkeys

def test_passkey_registration_and_assertion_verify_with_kura(page, tmp_path):
    browser, site = page
    browser.add_passkey_authenticator()
    try:
        made = js(page, """
          localStorage.removeItem('kura.console.passkeys');
          const { policyCredential, entry } = await w.register({ org: 'acme', member: 'alice', credentialId: 'alice-passkey' });
          return { policyCredential, entry, stored: w.registrationsFor('acme', 'alice') };
        """)
        assert "error" not in made, made
        credential = made["policyCredential"]
        origin = site.url("/").rstrip("/")
        assert credential == {"id": "alice-passkey", "scheme": "webauthn-es256", "publicKey": credential["publicKey"],
                              "rpId": "localhost", "origins": [origin], "userVerification": True}
        assert made["stored"] == [made["entry"]] and made["entry"]["credentialId"] == "alice-passkey"
        # The SEC1 key the console derived from the SPKI is the authenticator's own public key.
        [held] = browser.credentials()
        assert held["rpId"] == "localhost" and held["id"] == b64url_decode(made["entry"]["rawId"])
        private = serialization.load_der_private_key(held["privateKey"], password=None)
        point = private.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        assert credential["publicKey"] == point.hex() and len(point) == 65

        digest = hashlib.sha256(b"kura console passkey test").digest()
        signed = js(page, """
          const sig = await w.memberSignature({ org: 'acme', member: 'alice', credentialId: 'alice-passkey', digest: c.fromHex(args[0]) });
          d.readSignature(sig, 'signature');  // the closed schema of a member signature
          return sig;
        """, digest.hex())
        assert "error" not in signed, signed
        assert signed["member"] == "alice" and signed["credential"] == "alice-passkey"
        evidence = signed["evidence"]
        assert set(evidence) == {"scheme", "authenticatorData", "clientDataJSON", "signature"}
        client = json.loads(b64url_decode(evidence["clientDataJSON"]))
        assert client["type"] == "webauthn.get" and client["origin"] == origin
        assert client["challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

        verify_credential = tmp_path / "credential.json"
        verify_credential.write_text(json.dumps({
            "id": credential["id"], "scheme": "webauthn-es256", "publicKey": credential["publicKey"],
            "rpID": credential["rpId"], "origins": credential["origins"], "requireUserVerification": True}))
        evidence_file = tmp_path / "evidence.json"
        evidence_file.write_text(json.dumps({"scheme": "webauthn-es256", **{
            k: b64url_decode(evidence[k]).hex() for k in ("authenticatorData", "clientDataJSON", "signature")}}))

        def verify(digest_hex):
            return subprocess.run([str(binary("kura-devtool")), "credential", "verify", "--credential", str(verify_credential),
                                   "--evidence", str(evidence_file), "--digest", digest_hex],
                                  capture_output=True, text=True, timeout=60)

        ok = verify(digest.hex())
        assert ok.returncode == 0 and ok.stdout.strip() == "ok", ok.stderr
        other = bytearray(digest)
        other[0] ^= 1
        refused = verify(other.hex())
        assert refused.returncode != 0 and "webauthn_challenge_mismatch" in refused.stderr

        # A digest that is not 32 bytes is refused before any prompt.
        short = js(page, "return w.signDigest(new Uint8Array(31), []);")
        assert short["error"] == "invalid_digest"
    finally:
        browser.remove_passkey_authenticator()


# MARK: - The digest check where it matters: the approval screen against a coordinator that lies

def lying_coordinator():
    """A loopback stand-in for the coordinator (the console's files, a one-version policy, one intent) whose intent
    answer each case sets: the signed bytes and the digest it claims for them. Alice's intent is signed with an
    Ed25519 key the policy names (made here by `cryptography`), so the browser's signature check passes."""
    from cryptography.hazmat.primitives.asymmetric import ed25519

    now = int(__import__("time").time())
    alice_key = ed25519.Ed25519PrivateKey.generate()
    alice_public = alice_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    policy = {
        "kind": "kura.policy", "format": 1, "organization": "acme", "version": 1, "created": 1, "effectiveFrom": 1,
        "expires": now + 86400,
        "members": [{"id": "bob", "name": "Bob", "roles": ["approver"], "credentials": []},
                    {"id": "alice", "name": "Alice", "roles": ["initiator"],
                     "credentials": [{"id": "alice-key", "scheme": "ed25519", "publicKey": alice_public.hex()}]}],
        "signers": [], "assets": [{"id": "btc", "chain": "bitcoin", "network": "regtest", "symbol": "BTC", "decimals": 8}],
        "wallets": [{"id": "btc-main", "chain": "bitcoin", "network": "regtest", "signers": [],
                     "walletPolicy": {"template": "wpkh(@0/**)", "keys": []}}],
        "addressBook": [{"id": "exchange", "asset": "btc", "address": "bcrt1qexchange", "label": "Exchange", "usableFrom": 1}],
        "rules": {"initiators": ["alice"], "transfers": [{"wallet": "btc-main", "asset": "btc",
                  "tiers": [{"upTo": "100000000", "approvals": 1}], "perTransferLimit": "100000000",
                  "dailyLimit": "100000000", "fee": {"maxAbsolute": "1000", "maxRatePerKvB": "1000"}}],
                  "maxIntentLifetime": 86400, "addressBookDelay": 0},
        "governance": {"adminQuorum": 1, "highQuorum": 1, "highChangeDelay": 0},
    }
    policy_hash = tagged("kura/policy/v1", rfc8785.dumps(policy))
    intent = {"kind": "kura.intent", "format": 1, "type": "transfer", "id": "i-0001", "organization": "acme",
              "policy": policy_hash, "wallet": "btc-main", "asset": "btc",
              "destination": {"entry": "exchange", "address": "bcrt1qexchange"}, "amount": "5000",
              "feeCap": {"maxAbsolute": "1000", "maxRatePerKvB": "1000"}, "memo": "", "nonce": "00" * 32,
              "created": now - 10, "expires": now + 3600, "initiator": "alice"}
    intent_digest = tagged("kura/intent/v1", rfc8785.dumps(intent))
    signature = alice_key.sign(bytes.fromhex(intent_digest)).hex()
    signed = {"intent": intent, "signature": {"member": "alice", "credential": "alice-key",
                                              "evidence": {"scheme": "ed25519", "signature": signature}}}
    site = StaticSite(root=CONSOLE)
    answer = lambda value: json.dumps(value)  # noqa: E731
    site.add("/v1/orgs/acme/console/session", answer({"member": "bob", "roles": ["approver"], "csrf": "c" * 43,
                                                       "expiresAt": now + 3600, "tokenId": "t-1"}), "application/json")
    site.add("/v1/orgs/acme", answer({"organization": {"id": "acme", "name": "Acme", "genesis": policy_hash,
                                                       "policyVersion": 1, "policyHash": policy_hash}}), "application/json")
    # One route answers both /policies and /policies?documents=true (the stand-in ignores the query).
    site.add("/v1/orgs/acme/policies", answer({"policies": [{"version": 1, "hash": policy_hash, "storedAt": 1,
                                                             "policy": policy, "signatures": []}]}), "application/json")
    return site, signed, intent_digest


@pytest.mark.parametrize("case", ["honest", "another digest", "a duplicate member", "a float", "a bad signature"])
def test_the_approval_screen_refuses_bytes_that_are_not_what_the_coordinator_claims(browser, case):
    site, signed, digest = lying_coordinator()
    raw = rfc8785.dumps(signed)
    claimed = digest
    if case == "another digest":
        claimed = "ab" * 32
    elif case == "a duplicate member":  # JSON.parse would keep the last "amount"; Kura's parser refuses it
        raw = raw.replace(b'"amount":"5000"', b'"amount":"5000","amount":"9000000"')
    elif case == "a float":
        raw = raw.replace(b'"format":1,"id"', b'"format":1.0,"id"')
    elif case == "a bad signature":  # bytes and digest as claimed, but the signature is not Alice's key's
        sig = signed["signature"]["evidence"]["signature"]
        signed["signature"]["evidence"]["signature"] = ("0" if sig[0] != "0" else "1") + sig[1:]
        raw = rfc8785.dumps(signed)
    assert case == "honest" or raw != rfc8785.dumps(signed) or claimed != digest or case == "a bad signature"
    site.add("/v1/orgs/acme/intents/i-0001", json.dumps({
        "intent": {"id": "i-0001", "digest": claimed, "state": "awaitingApprovals"},
        "documentBase64": base64.b64encode(raw).decode(), "approvals": [], "receipts": []}), "application/json")
    try:
        browser.open(site.url("/index.html#/sign-in"))
        browser.run("sessionStorage.setItem('kura.console.session', JSON.stringify({org: 'acme', member: 'bob'}))")
        browser.open(site.url(f"/index.html?{case.replace(' ', '-')}#/approvals/i-0001"))  # a new load: restores it
        status = browser.wait_for('[data-testid="approval-digest-status"]')
        approve = browser.wait_for('[data-testid="approve-button"]')
        reject = browser.wait_for('[data-testid="reject-button"]')
        banner = browser.run("const e = document.querySelector('[data-testid=digest-mismatch]'); return e && e.textContent")
        amount = browser.run("const e = document.querySelector('[data-testid=decoded-amount]'); return e && e.textContent")
        computed = browser.text('[data-testid="approval-digest-computed"]')
        verified = browser.run("const e = document.querySelector('[data-testid=approval-signature-status]'); return e && e.textContent")
        if case == "honest":  # positive control
            assert status.get_attribute("data-match") == "true" and banner is None
            assert approve.is_enabled() and reject.is_enabled()
            assert computed == digest and amount.startswith("0.00005000 BTC")
            assert verified == "Signature verified in this browser"
        elif case == "a bad signature":  # the digest matches, the signature does not verify
            assert status.get_attribute("data-match") == "true" and "(invalid_signature)" in banner
            assert not approve.is_enabled() and not reject.is_enabled() and verified is None
            assert computed == digest
        else:
            assert status.get_attribute("data-match") == "false" and banner
            assert not approve.is_enabled() and not reject.is_enabled()
            if case == "another digest":
                assert computed == digest  # computed here from the bytes, whatever the coordinator says
            else:
                assert amount is None  # bytes Kura's parser refuses show nothing at all
    finally:
        site.close()
