"""`kura descriptor derive` against BDK: the addresses of random wpkh, tr and 2-of-3
wsh(sortedmulti) wallets, receive and change branches, 1,000 indexes each."""
import random

import pytest

from btc_wallets import BDK_NET, wallet
from conftest import run

INDEXES = 1000


@pytest.mark.parametrize("kind", ["wpkh", "tr", "wsh"])
def test_addresses_match_bdk(kind):
    rng = random.Random(f"descriptors-{kind}")
    compared = 0
    for _ in range(2):
        _, desc, _, bdk = wallet(kind, rng)
        for branch in (0, 1):
            out = run("kura", "descriptor", "derive", desc, "--from", "0", "--count", str(INDEXES), "--branch", str(branch),
                      "--network", "regtest", check=True)
            ours = out.stdout.decode().split()
            assert len(ours) == INDEXES
            theirs = [str(bdk[branch].derive_address(i, BDK_NET)) for i in range(INDEXES)]
            assert ours == theirs, f"{kind} branch {branch}: first difference at {next(i for i in range(INDEXES) if ours[i] != theirs[i])}"
            compared += INDEXES
    assert compared == 4 * INDEXES


def test_derive_refuses_bad_input_with_a_named_error():
    rng = random.Random("refusals")
    _, desc, _, _ = wallet("wpkh", rng)
    ok = run("kura", "descriptor", "derive", desc, "--branch", "0", "--network", "regtest")
    assert ok.returncode == 0 and ok.stdout.decode().startswith("bcrt1q")  # positive control
    cases = [
        ([desc + "#qqqqqqqq"], "invalid_descriptor"),  # wrong checksum
        ([desc], "invalid_descriptor"),  # multipath without --branch
        ([desc.replace("wpkh(", "wsh(wpkh("), "--branch", "0"], "invalid_descriptor"),  # wpkh nested in wsh (unbalanced too)
        ([desc, "--branch", "0", "--network", "mainnet"], "wrong_network"),  # tpub on mainnet
        (["raw(deadbeef)"], "invalid_address"),  # a script with no address form
    ]
    for args, code in cases:
        out = run("kura", "descriptor", "derive", *args, *([] if "--network" in args else ["--network", "regtest"]))
        assert out.returncode == 2, args
        assert out.stdout == b""
        assert f"kura: error: {code}:" in out.stderr.decode(), out.stderr
