"""docs/SECURITY.md stays true: it names all 57 cases of the attack catalogue (G01–G11, B01–B18,
E01–E14, R01–R04, D01–D04, K01–K06), and every test it names exists under that name in that file."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXPECTED = {"G": 11, "B": 18, "E": 14, "R": 4, "D": 4, "K": 6}


def rows():
    text = (ROOT / "docs" / "SECURITY.md").read_text()
    return {m.group(1): m.group(2) for m in re.finditer(r"^\| ([GBERDK]\d\d) \|(.*)\|\s*$", text, re.M)}


def test_every_case_of_the_catalogue_is_mapped():
    ids = set(rows())
    want = {f"{p}{i:02d}" for p, n in EXPECTED.items() for i in range(1, n + 1)}
    assert ids == want, (sorted(want - ids), sorted(ids - want))


def test_every_named_test_exists():
    named = 0
    for case, rest in rows().items():
        refs = re.findall(r"`(tests/[\w/]+\.py)::(test_\w+)`", rest)
        assert refs, f"{case} names no test"
        for path, name in refs:
            source = (ROOT / path).read_text()
            assert re.search(rf"^def {name}\(", source, re.M), f"{case}: {path}::{name} does not exist"
            named += 1
    assert named >= 57
