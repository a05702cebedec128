"""Crash safety of the signer's write-ahead ledger (ATTACKS C11).

`kura-signer sign` is killed with SIGKILL at random points at least 200 times: at random delays
within the measured duration of a signing run, or a random 0-30 ms after its ledger record starts
to land (the critical section). After every kill: the ledger parses (and, regularly,
verifies with its MACs), no intent id and no Ethereum (account, nonce) was ever recorded twice, any
output that left the signer is recorded in the ledger, and re-signing the same intent is either the
first signature or refused (REPLAY); a spent Ethereum nonce is refused for another intent. A
separate test traces the system calls (strace) to show the ledger record and head are fsynced, and
the directory too, before the output file is created."""
import json
import os
import random
import re
import subprocess
import threading
import time

import pytest

from conftest import TRANSCRIPT, binary, register_signer_paths
from harness import EXIT_GOVERNANCE, EXIT_TRANSACTION, Company, refusal
from statekit import btc_bundle, clone, eth_bundle, eth_intent, ledger_records

KILLS = 200
WORKERS = 2
SEED = int(os.environ.get("KURA_CRASH_SEED", "20261130"))


@pytest.fixture(scope="module")
def co(tmp_path_factory):
    return Company(tmp_path_factory.mktemp("crash-company"))


def sign_cmd(vault, bundle, out):
    args = ["sign", str(bundle), "-o", str(out), "--yes", "--operator", "op", "--home", str(vault.home),
            "--passphrase-file", str(vault.passfile)]
    register_signer_paths(args)
    return [str(binary("kura-signer")), *args]


def recorded(home):
    records, _ = ledger_records(home)
    sigs = [r for r in records if r["type"] == "signature"]
    intents = [r["intent"] for r in sigs]
    nonces = [(r["ethereumAccount"], r["ethereumNonce"]) for r in sigs if "ethereumNonce" in r]
    assert len(intents) == len(set(intents)), f"an intent was signed twice: {intents}"
    assert len(nonces) == len(set(nonces)), f"an Ethereum nonce was signed twice: {nonces}"
    assert [r["sequence"] for r in sigs] == list(range(1, len(sigs) + 1))
    return set(intents), max((n for _, n in nonces), default=-1)


def worker(co, lock, vault, tmp, kills, duration, rng, stats):
    current = None
    run_no = 0
    nonce_probe_done = False
    while stats["kills"] < kills:
        if current is None:
            with lock:
                kind = "eth" if run_no % 3 == 2 else "btc"
                if kind == "btc":
                    bundle = btc_bundle(co)
                    intent_file = json.loads(bundle.read_bytes())["intent"]
                else:
                    intent, approvals = eth_intent(co)
                    _, top = recorded(vault.home)
                    bundle = eth_bundle(co, intent, approvals, nonce=top + 1)
                    intent_file = json.loads(bundle.read_bytes())["intent"]
                current = (kind, bundle, intent_file["intent"]["id"], intent, approvals) if kind == "eth" else \
                    (kind, bundle, intent_file["intent"]["id"], None, None)
        kind, bundle, intent_id, intent, approvals = current
        run_no += 1
        out = tmp / f"out-{run_no}"
        # Otherwise at a random time, mostly late in the run. The duration is re-measured from every
        # run that completes (the machine's load changes).
        delay = rng.uniform(0, duration) if rng.random() < 0.25 else rng.uniform(0.7 * duration, 1.02 * duration)
        began = time.monotonic()
        proc = subprocess.Popen(sign_cmd(vault, bundle, out), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
        killed = False
        if rng.random() < 0.4:
            # Aimed at the critical section: once the ledger record starts to land, kill after a
            # random 0-30 ms (head commit, signing, output and receipt writes).
            ledger = vault.home / "ledger.kura"
            size = ledger.stat().st_size
            while proc.poll() is None:
                if ledger.stat().st_size != size:
                    time.sleep(rng.uniform(0, 0.03))
                    if proc.poll() is None:
                        proc.kill()
                        killed = True
                    break
                time.sleep(0.0005)
        else:
            try:
                proc.wait(timeout=delay)
                duration = 0.5 * duration + 0.5 * (time.monotonic() - began)
            except subprocess.TimeoutExpired:
                proc.kill()
                killed = True
                if delay > 0.9 * duration:
                    duration *= 1.03  # it ran longer than estimated; drift up until runs complete again
        stdout, stderr = proc.communicate()
        TRANSCRIPT.extend([stdout, stderr])
        with lock:
            stats["runs"] += 1
            stats["kills"] += killed
        spent, _ = recorded(vault.home)
        left = out.exists() or (tmp / f"out-{run_no}.receipt.json").exists()
        if left:
            # Anything that left the signer was recorded first.
            assert intent_id in spent, "an output exists for an intent the ledger does not record"
            with lock:
                stats["outputs_after_kill" if killed else "completed"] += 1
        if not killed:
            assert proc.returncode == 0 and left, stderr.decode()
        if intent_id not in spent:
            assert not left
            continue  # the next run re-signs the same intent
        with lock:
            stats["spent"] += 1
            stats["spent_by_killed_run"] += killed and not left
        # The intent is spent: signing it again is refused and writes nothing.
        again = tmp / f"again-{run_no}"
        proc = subprocess.run(sign_cmd(vault, bundle, again), capture_output=True, stdin=subprocess.DEVNULL)
        TRANSCRIPT.extend([proc.stdout, proc.stderr])
        assert refusal(proc) == (EXIT_GOVERNANCE, "REPLAY"), proc.stderr.decode()
        assert not again.exists()
        if kind == "eth" and not nonce_probe_done:
            # Another intent at the spent nonce is refused.
            with lock:
                other, other_approvals = eth_intent(co)
                _, top = recorded(vault.home)
                probe = eth_bundle(co, other, other_approvals, nonce=top)
            proc = subprocess.run(sign_cmd(vault, probe, tmp / f"probe-{run_no}"), capture_output=True,
                                  stdin=subprocess.DEVNULL)
            TRANSCRIPT.extend([proc.stdout, proc.stderr])
            assert refusal(proc) == (EXIT_TRANSACTION, "NONCE_INVALID"), proc.stderr.decode()
            nonce_probe_done = True
            with lock:
                stats["nonce_probes"] += 1
        current = None
        if stats["spent"] % 10 == 0:
            v = vault.cmd("ledger", "verify")
            assert v.returncode == 0, v.stderr.decode()


def test_crash_safety_sigkill_at_random_points(co, tmp_path):
    vaults = [clone(co.signers[0], tmp_path / f"home-{i}") for i in range(WORKERS)]
    # The measured duration of a complete signing run with every worker signing at once (also the
    # positive control: each signs).
    bundles = [btc_bundle(co) for _ in vaults]
    start = time.monotonic()
    procs = [subprocess.Popen(sign_cmd(v, b, tmp_path / f"first-{i}.psbt"), stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i, (v, b) in enumerate(zip(vaults, bundles))]
    for p in procs:
        out, err = p.communicate()
        TRANSCRIPT.extend([out, err])
        assert p.returncode == 0, err.decode()
    duration = time.monotonic() - start
    stats = dict(runs=0, kills=0, spent=0, spent_by_killed_run=0, outputs_after_kill=0, completed=0, nonce_probes=0)
    lock = threading.Lock()
    errors = []

    def target(i):
        try:
            d = tmp_path / f"w{i}"
            d.mkdir()
            worker(co, lock, vaults[i], d, KILLS, duration, random.Random(SEED + i), stats)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
            stats["kills"] = KILLS  # stop the other worker

    threads = [threading.Thread(target=target, args=(i,)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    print(f"crash safety (seed {SEED}, sign takes {duration:.2f}s): {stats}")
    assert stats["kills"] >= KILLS
    # Both kinds of kill happened: before the ledger write (nothing recorded) and after it.
    assert stats["spent_by_killed_run"] + stats["outputs_after_kill"] >= 10, stats
    assert stats["runs"] > stats["spent"], stats
    for vault in vaults:
        listed = vault.cmd("ledger", "list", "--json")
        assert listed.returncode == 0, listed.stderr.decode()
        entries = json.loads(listed.stdout)["entries"]
        sigs = [e for e in entries if e["type"] == "signature"]
        assert len({e["intent"] for e in sigs}) == len(sigs)
        recorded(vault.home)


def test_ledger_is_durable_before_the_signature_leaves(co, tmp_path):
    """strace: the ledger record is written and fsynced, the head replaced (fsync, rename) and the
    home directory fsynced, all before the output file is first opened."""
    vault = clone(co.signers[0], tmp_path / "home")
    out = tmp_path / "signed.psbt"
    trace = tmp_path / "strace.txt"
    cmd = ["strace", "-f", "-qq", "-e", "trace=openat,pwrite64,write,fsync,fdatasync,rename,renameat,renameat2",
           "-o", str(trace), *sign_cmd(vault, btc_bundle(co), out)]
    proc = subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL)
    TRANSCRIPT.extend([proc.stdout, proc.stderr])
    assert proc.returncode == 0, proc.stderr.decode()
    assert out.exists()
    lines = [re.sub(r"^\d+\s+", "", line) for line in trace.read_text().splitlines()]
    fds = {}
    events = []
    for line in lines:
        m = re.match(r'openat\(AT_FDCWD, "([^"]+)", [^)]*\) = (\d+)', line)
        if m:
            fds[m.group(2)] = m.group(1)
            events.append(("open", m.group(1)))
            continue
        m = re.match(r"(pwrite64|write|fsync|fdatasync)\((\d+)", line)
        if m:
            events.append((m.group(1), fds.get(m.group(2), "?")))
            continue
        m = re.match(r'rename\w*\((?:AT_FDCWD, )?"([^"]+)", (?:AT_FDCWD, )?"([^"]+)"', line)
        if m:
            events.append(("rename", m.group(2)))
    ledger, head, home = str(vault.home / "ledger.kura"), str(vault.home / "ledger.kura.head"), str(vault.home)
    first_out = next(i for i, (kind, path) in enumerate(events) if kind == "open" and path.startswith(str(out)))
    before = events[:first_out]
    writes = [i for i, e in enumerate(before) if e == ("pwrite64", ledger)]
    assert writes, "the ledger record was not written before the output"
    last_write = writes[-1]
    syncs = [i for i, e in enumerate(before) if e == ("fsync", ledger) and i > last_write]
    assert syncs, "the ledger record was not fsynced before the output"
    renames = [i for i, e in enumerate(before) if e == ("rename", head) and i > syncs[0]]
    assert renames, "the ledger head was not committed before the output"
    head_sync = [i for i, e in enumerate(before) if e == ("fsync", head + ".new") and i < renames[-1]]
    assert head_sync, "the new head was not fsynced before its rename"
    assert [i for i, e in enumerate(before) if e == ("fsync", home) and i > renames[-1]], \
        "the directory was not fsynced after the head's rename"
    # Positive control for the parser: the output file itself is written after all of that.
    assert any(kind in ("write", "pwrite64") and path.startswith(str(out)) for kind, path in events[first_out:])
