"""RFC 8785 canonical JSON made by the built `kura-devtool`, checked against the `rfc8785` package.

A few thousand random documents (nested objects and arrays, strings over all of Unicode including
astral characters and every control character, integers up to 2^53 - 1; a second set with doubles)
are written with Python's `json` in assorted valid spellings (raw UTF-8 or \\u escapes with surrogate
pairs, indentation, spacing, member order as generated) into one JSON array per run.
`kura-devtool json canonicalize` parses that array with Kura's strict parser and prints each
document's canonical bytes; `rfc8785` (Trail of Bits, pure Python, independent of Kura) canonicalises
the same documents as Python values. The bytes must be identical, and Kura's output must be a fixed
point. Inputs that `rfc8785` refuses (lone surrogates, integers beyond 2^53 - 1) Kura refuses too.
"""
import json
import os
import random
import struct

import pytest
import rfc8785

from conftest import VECTORS, run

COUNT = int(os.environ.get("KURA_INTEROP_JCS_DOCS", "3000"))
MAX_SAFE = 2**53 - 1


class Documents:
    def __init__(self, seed: int, floats: bool):
        self.rng = random.Random(seed)
        self.floats = floats

    def scalar_char(self) -> str:
        r = self.rng
        kind = r.randrange(10)
        if kind == 0:
            return chr(r.randrange(0x00, 0x20))
        if kind == 1:
            return chr(r.choice([0x22, 0x5C, 0x2F, 0x7F, 0x00, 0x80, 0xFEFF, 0xFFFD, 0xFFFF, 0x2028, 0x2029]))
        if kind in (2, 3):
            return chr(r.randrange(0x20, 0x7F))
        if kind == 4:
            return chr(r.randrange(0x80, 0x800))
        if kind == 5:
            return chr(r.randrange(0x800, 0xD800))
        if kind == 6:
            return chr(r.randrange(0xE000, 0x10000))
        if kind == 7:
            return chr(r.choice([0x1F600, 0x1F602, 0x10000, 0x10FFFF, 0x1D11E, 0x20000]))
        return chr(r.randrange(0x10000, 0x110000))

    def string(self, max_len: int = 12) -> str:
        return "".join(self.scalar_char() for _ in range(self.rng.randrange(max_len + 1)))

    def name(self) -> str:
        r = self.rng
        if r.random() < 0.6:
            letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789"
            return "".join(r.choice(letters) for _ in range(r.randrange(9)))
        return self.string(4)

    def number(self):
        r = self.rng
        if not self.floats:
            kind = r.randrange(6)
            if kind == 0:
                return r.choice([0, 1, -1, MAX_SAFE, -MAX_SAFE, MAX_SAFE - 1, 2**31, -(2**32), 10, 100])
            if kind in (1, 2):
                return r.randrange(-1000, 1001)
            return r.randrange(-MAX_SAFE, MAX_SAFE + 1)
        kind = r.randrange(6)
        if kind == 0:
            return r.choice([0.0, -0.0, 1e21, 1e-7, 9.999999999999999e20, 1e-6, 5e-324, -5e-324,
                             1.7976931348623157e308, 0.1, 4.5, 1e23, 2.2250738585072014e-308, 333333333.33333329])
        if kind == 1:
            return r.randrange(-1_000_000, 1_000_001) / 1000
        if kind == 2:
            return float(r.randrange(-(2**63), 2**63))
        while True:
            f = struct.unpack("<d", r.getrandbits(64).to_bytes(8, "little"))[0]
            if f == f and f not in (float("inf"), float("-inf")):
                return f

    def value(self, depth: int):
        r = self.rng
        kind = r.randrange(10 if depth < 5 else 7)
        if kind == 0:
            return None
        if kind == 1:
            return r.random() < 0.5
        if kind in (2, 3):
            return self.number()
        if kind in (4, 5, 6):
            return self.string()
        if kind in (7, 8):
            return self.object(depth + 1)
        return self.array(depth + 1)

    def object(self, depth: int):
        return {self.name(): self.value(depth) for _ in range(self.rng.randrange(7))}

    def array(self, depth: int):
        return [self.value(depth) for _ in range(self.rng.randrange(6))]

    def document(self):
        return self.object(1) if self.rng.random() < 0.8 else self.array(1)

    def spelling(self, doc) -> str:
        """One valid JSON spelling of `doc`: escaped or raw non-ASCII, with or without whitespace."""
        r = self.rng
        return json.dumps(doc, ensure_ascii=r.random() < 0.5, indent=r.choice([None, None, 0, 1, 2, "\t"]),
                          separators=r.choice([None, (",", ":"), (" , ", " : "), (",\n", ":\t")]))


def canonicalize(tmp_path, texts: list[str], numbers: str, name: str):
    path = tmp_path / name
    path.write_bytes(("[" + ",\n".join(texts) + "]").encode("utf-8"))
    proc = run("kura-devtool", "json", "canonicalize", "--numbers", numbers, path)
    return proc


def hex_lines(proc) -> list[str]:
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout.decode().split()


@pytest.mark.parametrize("numbers,floats,seed,count", [
    ("integers", False, 0x4A435331, COUNT),
    ("any", True, 0x4A435332, COUNT // 2),
])
def test_canonical_bytes_match_rfc8785(tmp_path, numbers, floats, seed, count):
    gen = Documents(seed, floats)
    docs = [gen.document() for _ in range(count)]
    expected = [rfc8785.dumps(d).hex() for d in docs]
    texts = [gen.spelling(d) for d in docs]
    # The spellings really differ from the canonical forms for most documents.
    assert sum(t.encode() != bytes.fromhex(e) for t, e in zip(texts, expected)) > count // 2
    ours = hex_lines(canonicalize(tmp_path, texts, numbers, "docs.json"))
    assert len(ours) == count
    mismatches = [i for i in range(count) if ours[i] != expected[i]]
    assert not mismatches, f"{len(mismatches)} of {count} differ; first: {texts[mismatches[0]]!r}"
    # The canonical form is a fixed point of Kura's parse-and-encode.
    again = hex_lines(canonicalize(tmp_path, [bytes.fromhex(h).decode() for h in ours], numbers, "canonical.json"))
    assert again == ours
    print(f"rfc8785 oracle ({numbers}): {count} documents, {len(texts)} spellings, 0 mismatches")


def test_rfc_examples_match_rfc8785(tmp_path):
    examples = json.loads((VECTORS / "rfc8785" / "rfc8785_examples.json").read_text())
    inputs = [examples["section_3_2_2_input"], examples["section_3_2_3_sorting_input"], examples["appendix_c_input"],
              examples["appendix_e_input"]]
    ours = hex_lines(canonicalize(tmp_path, inputs, "any", "examples.json"))
    assert ours == [rfc8785.dumps(json.loads(t)).hex() for t in inputs]
    assert ours[0] == examples["section_3_2_4_utf8_hex"]


@pytest.mark.parametrize("text,numbers,code", [
    ('["\\ud800"]', "integers", "invalid_escape"),
    ('{"a":"x\\udc00y"}', "integers", "invalid_escape"),
    ('[9007199254740992]', "integers", "number_out_of_range"),
    ('[-9007199254740992]', "integers", "number_out_of_range"),
])
def test_inputs_rfc8785_refuses_are_refused(tmp_path, text, numbers, code):
    with pytest.raises(rfc8785.CanonicalizationError):
        rfc8785.dumps(json.loads(text))
    proc = canonicalize(tmp_path, [text], numbers, "bad.json")
    assert proc.returncode == 65
    assert proc.stdout == b""
    assert f"error: {code}:" in proc.stderr.decode()
    # Positive control: the same shape with a valid value passes both.
    good = text.replace("\\ud800", "\\ud83d\\ude00").replace("\\udc00", "z").replace("9007199254740992",
                                                                                      "9007199254740991")
    assert hex_lines(canonicalize(tmp_path, [good], numbers, "good.json")) == [rfc8785.dumps(json.loads(good)).hex()]
