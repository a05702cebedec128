"""`kura policy init | propose | sign | verify` on files, as admins would run them at the ceremony."""
import json

from conftest import run


def _admins(tmp_path, names=("a1", "a2", "a3")):
    for a in names:
        out = run("kura", "keys", "new", "--out", tmp_path / f"{a}.key", "--credential-id", f"{a}-key", check=True)
        (tmp_path / f"{a}.cred").write_bytes(out.stdout)
    return [f"{a}={tmp_path / (a + '.cred')}" for a in names]


def _refusal(proc):
    line = proc.stderr.decode().strip().splitlines()[-1]
    assert line.startswith("kura: refused: "), line
    return proc.returncode, line.split()[2]


def test_policy_init_then_propose_sign_verify(tmp_path):
    admins = _admins(tmp_path)
    args = ["policy", "init", "--organization", "acme", "--quorum", "2", "--high-quorum", "3", "--out"]
    run("kura", *args, tmp_path / "doc.json", *sum((["--admin", a] for a in admins), []), check=True)
    doc = json.loads((tmp_path / "doc.json").read_text())
    assert [m["id"] for m in doc["members"]] == ["a1", "a2", "a3"]
    assert doc["governance"]["adminQuorum"] == 2 and doc["version"] == 1
    # The same file is not overwritten.
    again = run("kura", *args, tmp_path / "doc.json", *sum((["--admin", a] for a in admins), []))
    assert _refusal(again) == (3, "MALFORMED")

    g = tmp_path / "genesis.json"
    run("kura", "policy", "propose", tmp_path / "doc.json", "--out", g, check=True)
    genesis_hash = run("kura", "policy", "hash", g, check=True).stdout.decode().strip()
    run("kura", "policy", "sign", g, "--key", tmp_path / "a1.key", "--member", "a1", "--credential", "a1-key", check=True)
    # One admin of a quorum of two: refused.
    one = run("kura", "policy", "verify", "--genesis-hash", genesis_hash, "--policy", g)
    assert _refusal(one) == (3, "POLICY_INVALID")
    # Signing twice as the same admin still counts once.
    run("kura", "policy", "sign", g, "--key", tmp_path / "a1.key", "--member", "a1", "--credential", "a1-key", check=True)
    assert _refusal(run("kura", "policy", "verify", "--genesis-hash", genesis_hash, "--policy", g)) == (3, "POLICY_INVALID")
    # Positive control: the second admin makes the quorum.
    run("kura", "policy", "sign", g, "--key", tmp_path / "a2.key", "--member", "a2", "--credential", "a2-key", check=True)
    ok = run("kura", "policy", "verify", "--genesis-hash", genesis_hash, "--policy", g, check=True)
    assert ok.stdout.decode().startswith(f"ok: version 1 hash {genesis_hash}")


def test_policy_init_refuses_bad_admins_and_quorums(tmp_path):
    admins = _admins(tmp_path, ("a1", "a2"))
    base = ["policy", "init", "--organization", "acme", "--high-quorum", "2"]
    bad_entry = run("kura", *base, "--quorum", "1", "--admin", "a1", "--out", tmp_path / "x.json")
    assert _refusal(bad_entry) == (3, "MALFORMED") and not (tmp_path / "x.json").exists()
    too_high = run("kura", *base, "--quorum", "3", *sum((["--admin", a] for a in admins), []), "--out", tmp_path / "y.json")
    assert _refusal(too_high)[1] == "POLICY_INVALID" and not (tmp_path / "y.json").exists()
    ok = run("kura", *base, "--quorum", "2", *sum((["--admin", a] for a in admins), []), "--out", tmp_path / "z.json")
    assert ok.returncode == 0 and (tmp_path / "z.json").exists()
