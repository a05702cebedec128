"""Re-provisioning a cold signer whose state is missing or rolled back (ATTACKS C11/K04, OPERATOR-GUIDE
§4): the signer refuses (STATE_INTEGRITY) until a document signed by the admins' high quorum names
the receipt to resume after; then it signs again, continues the receipt chain, and still refuses the
intents it signed before. Driven through the built `kura` and `kura-signer`."""
import hashlib
import json
import shutil

import pytest
import rfc8785

from conftest import run
from harness import EXIT_GOVERNANCE, EXIT_STATE, Company, refusal
from statekit import btc_bundle, clone, receipt


@pytest.fixture(scope="module")
def co(tmp_path_factory):
    return Company(tmp_path_factory.mktemp("company"))


def receipt_digest(signed: dict) -> str:
    """kura/receipt/v1: BIP-0340-style tagged SHA-256 over the RFC 8785 bytes (computed here with the
    rfc8785 package, not by Kura)."""
    tag = hashlib.sha256(b"kura/receipt/v1").digest()
    return hashlib.sha256(tag + tag + rfc8785.dumps(signed["receipt"])).hexdigest()


def document(co, tmp, name, admins, last=None, used=()):
    doc = tmp / f"{name}.json"
    args = ["reprovision", "new", *co.chain_args(), "--signer", "vault-a", "--out", doc]
    if last is not None:
        (tmp / f"{name}-last.json").write_text(json.dumps(last))
        args += ["--last-receipt", tmp / f"{name}-last.json"]
    for i in used:
        args += ["--used-intent", i]
    run("kura", *args, check=True)
    for a in admins:
        run("kura", "reprovision", "sign", doc, "--key", co.dir / f"{a}.key", "--member", a, "--credential", f"{a}-key",
            check=True)
    return doc


def reprovision(signer, co, doc):
    return signer.cmd("reprovision", doc, *co.chain_args())


def sign(signer, bundle, out):
    r = signer.sign(bundle, out)
    assert r.returncode == 0, r.stderr.decode()
    return receipt(out)


def refused(signer, bundle, out, category, code):
    before = signer.state()
    r = signer.sign(bundle, out)
    assert refusal(r) == (code, category), r.stderr.decode()
    assert not out.exists() and signer.state() == before


def intent_id(bundle):
    return json.loads(bundle.read_text())["intent"]["intent"]["id"]


def test_lost_state_is_reprovisioned_by_the_high_quorum_and_resumes_the_receipt_chain(co, tmp_path):
    vault = clone(co.signers[0], tmp_path / "home")
    first = btc_bundle(co)
    r1 = sign(vault, first, tmp_path / "1.psbt")
    # The state is lost (the machine's disk was replaced; the keystore came back from the mnemonic).
    for f in ("ledger.kura", "ledger.kura.head"):
        (vault.home / f).unlink()
    second = btc_bundle(co, last_receipt=r1)
    refused(vault, second, tmp_path / "2-before.psbt", "STATE_INTEGRITY", EXIT_STATE)

    # The routine quorum (2 admins) is not enough to reset a signer's memory; nothing is written.
    short = document(co, tmp_path, "short", ["a1", "a2"], last=r1, used=[intent_id(first)])
    before = vault.state()
    r = reprovision(vault, co, short)
    assert r.returncode != 0 and "refused: POLICY_INVALID" in r.stderr.decode(), r.stderr.decode()
    assert vault.state() == before
    # A document for the wrong genesis is refused too.
    wrong = vault.cmd("reprovision", short, "--genesis-hash", "00" * 32, *co.chain_args()[2:])
    assert wrong.returncode != 0 and "refused: POLICY_INVALID" in wrong.stderr.decode()
    assert vault.state() == before

    # Positive: the high quorum (3 admins) re-provisions.
    full = document(co, tmp_path, "full", ["a1", "a2", "a3"], last=r1, used=[intent_id(first)])
    r = reprovision(vault, co, full)
    assert r.returncode == 0, r.stderr.decode()
    assert "resumes after sequence 1" in r.stdout.decode()
    # The intent it signed before the loss stays spent, even with the right last receipt.
    replay = json.loads(first.read_text())
    replay["lastReceipt"] = r1
    again = tmp_path / "first-again.json"
    again.write_text(json.dumps(replay))
    refused(vault, again, tmp_path / "1-again.psbt", "REPLAY", EXIT_GOVERNANCE)
    # A new intent signs as sequence 2, chained to the receipt issued before the loss.
    r2 = sign(vault, second, tmp_path / "2.psbt")
    assert r2["receipt"]["sequence"] == 2
    assert r2["receipt"]["previous"] == receipt_digest(r1)
    # An intact ledger is never replaced.
    before = vault.state()
    r = reprovision(vault, co, full)
    assert r.returncode != 0 and "nothing to re-provision" in r.stderr.decode()
    assert vault.state() == before
    assert vault.cmd("ledger", "verify").returncode == 0


def test_rolled_back_state_is_reprovisioned_and_keeps_what_it_knew(co, tmp_path):
    vault = clone(co.signers[0], tmp_path / "home")
    a = btc_bundle(co)
    r1 = sign(vault, a, tmp_path / "a.psbt")
    snapshot = tmp_path / "snapshot"
    shutil.copytree(vault.home, snapshot)
    b = btc_bundle(co, last_receipt=r1)
    r2 = sign(vault, b, tmp_path / "b.psbt")
    # Restored from the older copy: consistent on its own, behind the coordinator's receipt.
    for f in ("ledger.kura", "ledger.kura.head"):
        shutil.copyfile(snapshot / f, vault.home / f)
    c = btc_bundle(co, last_receipt=r2)
    refused(vault, c, tmp_path / "c-before.psbt", "STATE_INTEGRITY", EXIT_STATE)
    # The admins name r2 (and intent b, which the restored copy never saw).
    doc = document(co, tmp_path, "doc", ["a1", "a2", "a3"], last=r2, used=[intent_id(b)])
    r = reprovision(vault, co, doc)
    assert r.returncode == 0, r.stderr.decode()
    assert "old ledger is kept" in r.stdout.decode()
    assert list(vault.home.glob("ledger.kura.replaced-*"))
    for spent, r_last in ((a, r2), (b, r2)):
        replay = json.loads(spent.read_text())
        replay["lastReceipt"] = r_last
        f = tmp_path / f"replay-{spent.stem}.json"
        f.write_text(json.dumps(replay))
        refused(vault, f, tmp_path / f"replay-{spent.stem}.psbt", "REPLAY", EXIT_GOVERNANCE)
    r3 = sign(vault, c, tmp_path / "c.psbt")
    assert r3["receipt"]["sequence"] == 3 and r3["receipt"]["previous"] == receipt_digest(r2)


def test_reprovision_new_takes_only_a_receipt_the_signer_signed(co, tmp_path):
    """`kura reprovision new` reads the last receipt as a Governance SignedReceipt: its digest is the
    kura/receipt/v1 digest, and its identity signature must verify under the policy for that signer."""
    vault = clone(co.signers[0], tmp_path / "home")
    r1 = sign(vault, btc_bundle(co), tmp_path / "1.psbt")

    def new(receipt, signer="vault-a"):
        f, out = tmp_path / f"last-{signer}.json", tmp_path / f"doc-{signer}.json"
        f.write_text(json.dumps(receipt))
        if out.exists():
            out.unlink()
        r = run("kura", "reprovision", "new", *co.chain_args(), "--signer", signer, "--last-receipt", f, "--out", out)
        return r, out

    # Positive control: the genuine receipt; the document resumes after it, by its digest.
    r, out = new(r1)
    assert r.returncode == 0, r.stderr.decode()
    resume = json.loads(out.read_text())["reprovision"]["resume"]
    assert resume == {"sequence": 1, "receipt": receipt_digest(r1)}
    # A receipt edited after signing (its sequence moved on) no longer verifies: refused, nothing written.
    forged = json.loads(json.dumps(r1))
    forged["receipt"]["sequence"] = 5
    r, out = new(forged)
    assert r.returncode == 3 and "refused: STATE_INTEGRITY invalid_signature" in r.stderr.decode(), r.stderr.decode()
    assert not out.exists()
    # Vault A's receipt offered for vault B.
    r, out = new(r1, signer="vault-b")
    assert r.returncode == 3 and "not of vault-b" in r.stderr.decode(), r.stderr.decode()
    assert not out.exists()
