"""`make run` and `make demo` as a user runs them: `scripts/demo.py up` (the dev chains, `kura serve` and a funded
demo company, up until Ctrl-C) and `scripts/demo.py demo` (four withdrawals confirmed on the chains, the attack
refused), each as a process of its own, through the built binaries. Afterwards nothing they started is left:
no process, no open port."""
import http.client
import json
import os
import pathlib
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "tests" / "signer"))

from conftest import BIN, secret_needles  # noqa: E402
from harness import KEYSTORE_PASS, MNEMONICS  # noqa: E402

DEMO = ROOT / "scripts" / "demo.py"
TIMEOUT = 180


def demo_process(*args):
    """scripts/demo.py in a session of its own (its own process group, as a shell job in a terminal)."""
    return subprocess.Popen([sys.executable, str(DEMO), *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, "KURA_BIN": str(BIN), "PYTHONUNBUFFERED": "1"})


def finish(proc, timeout=TIMEOUT) -> tuple[int, str]:
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        raise AssertionError(f"scripts/demo.py did not finish in {timeout} s:\n{out.decode()[-5000:]}")
    return proc.returncode, out.decode()


def read_until(proc, marker: str, timeout=TIMEOUT) -> str:
    """Its output up to the line holding `marker` (the process is killed if that takes longer than `timeout`)."""
    watchdog = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL))
    watchdog.start()
    lines = []
    try:
        for raw in proc.stdout:
            lines.append(raw.decode())
            if marker in lines[-1]:
                return "".join(lines)
    finally:
        watchdog.cancel()
    raise AssertionError(f"no {marker!r} in the output (exit {proc.wait()}):\n{''.join(lines)[-5000:]}")


def processes_mentioning(path) -> list[str]:
    """Command lines of running processes that name `path` (the demo's chains and coordinator all do)."""
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if str(path).encode() in cmdline:
                found.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
    return found


def port_closed(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return False
    except ConnectionRefusedError:
        return True


def ports_of(out: str) -> dict[str, int]:
    return {name: int(re.search(rf"^  {label}\s+http://127\.0\.0\.1:(\d+)", out, re.M).group(1))
            for name, label in (("coordinator", "coordinator"), ("esplora", "bitcoin chain"),
                                ("ethereum", "ethereum chain"))}


def assert_all_stopped(path, ports):
    assert processes_mentioning(path) == []
    assert all(port_closed(p) for p in ports), ports


def assert_no_secret(out: str):
    needles = secret_needles([{"mnemonic": m, "passphrase": KEYSTORE_PASS, "bip39": ""} for m in MNEMONICS])
    assert not [n for n in needles if n in out.encode()]


def test_up_check_prints_the_urls_and_commands_then_stops_everything(tmp_path):
    state = tmp_path / "up"
    code, out = finish(demo_process("up", "--check", "--dir", str(state)))
    assert code == 0, out
    ports = ports_of(out)
    # The health answer printed is the coordinator's own, fetched before printing.
    assert re.search(rf"health http://127\.0\.0\.1:{ports['coordinator']}/health → "
                     r'\{"database": "ok", "status": "ok"\}', out), out
    assert "/openapi.json" in out and "throw-away test keys" in out
    # The next commands name the session files it wrote and the withdrawal it left waiting for bob.
    pending = re.search(r"^  kura approve (i-[0-9a-f]+) --session (\S+)", out, re.M)
    assert pending and pending.group(2) == f"{state}/sessions/bob.json", out
    assert f"kura intent list --session {state}/sessions/alice.json" in out
    assert all((state / "sessions" / f"{who}.json").exists() for who in ("alice", "bob", "carol", "a1"))
    assert "Up (--check: stopping now)." in out and "Everything stopped" in out
    assert not (state / "up.json").exists()
    assert_all_stopped(state, ports.values())
    assert_no_secret(out)


def test_up_serves_until_ctrl_c(tmp_path):
    state = tmp_path / "up"
    proc = demo_process("up", "--dir", str(state))
    try:
        out = read_until(proc, "Up until Ctrl-C.")
        ports = ports_of(out)
        conn = http.client.HTTPConnection("127.0.0.1", ports["coordinator"], timeout=10)
        conn.request("GET", "/health")
        answer = conn.getresponse()
        assert answer.status == 200 and json.loads(answer.read()) == {"status": "ok", "database": "ok"}
        conn.close()
        # A second `up` on the same directory is refused while this one runs (it would wipe it).
        again = subprocess.run([sys.executable, str(DEMO), "up", "--check", "--dir", str(state)], cwd=ROOT,
                               capture_output=True, env={**os.environ, "KURA_BIN": str(BIN)}, timeout=60)
        assert again.returncode == 1 and b"is running in" in again.stdout, again.stdout
        # The first command it suggests works as printed (with the built kura).
        line = re.search(r"^  (kura intent list --session \S+)$", out, re.M).group(1)
        listed = subprocess.run([str(BIN / "kura"), *shlex.split(line)[1:]], capture_output=True, timeout=60)
        pending = re.search(r"^  kura approve (i-[0-9a-f]+) ", out, re.M).group(1)
        assert listed.returncode == 0 and re.search(rf"^{pending}\s+awaitingApprovals\s+btc-main\s+25000000 btc",
                                                    listed.stdout.decode(), re.M), listed
        # The console's URL is printed by name (passkeys need a domain), and a passkey it registered is put into
        # the policy by `demo.py passkey` (a new version signed by the demo admins).
        assert f"web console http://localhost:{ports['coordinator']}/console/" in out
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        point = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        origin = f"http://localhost:{ports['coordinator']}"
        credential = {"id": "alice-passkey", "scheme": "webauthn-es256", "publicKey": point.hex(),
                      "rpId": "localhost", "origins": [origin], "userVerification": True}
        (tmp_path / "passkey.json").write_text(json.dumps(credential))
        added = subprocess.run([sys.executable, str(DEMO), "passkey", "--member", "alice", "--credential",
                                str(tmp_path / "passkey.json"), "--dir", str(state)], cwd=ROOT, capture_output=True,
                               env={**os.environ, "KURA_BIN": str(BIN)}, timeout=120)
        assert added.returncode == 0 and b"policy version 2 in force" in added.stdout, added.stdout + added.stderr
        token = json.loads((state / "sessions" / "a1.json").read_text())["token"]
        conn = http.client.HTTPConnection("127.0.0.1", ports["coordinator"], timeout=10)
        conn.request("GET", "/v1/orgs/acme/policies/2", headers={"Authorization": f"Bearer {token}"})
        policy = json.loads(conn.getresponse().read())["policy"]["document"]["policy"]
        conn.close()
        alice = next(m for m in policy["members"] if m["id"] == "alice")
        assert credential in alice["credentials"] and len(alice["credentials"]) == 2
        # Positive control's counterpart: something that is not a passkey credential is refused, nothing pushed.
        (tmp_path / "not-a-passkey.json").write_text(json.dumps({"id": "x", "scheme": "ed25519"}))
        refused = subprocess.run([sys.executable, str(DEMO), "passkey", "--member", "alice", "--credential",
                                  str(tmp_path / "not-a-passkey.json"), "--dir", str(state)], cwd=ROOT,
                                 capture_output=True, env={**os.environ, "KURA_BIN": str(BIN)}, timeout=120)
        assert refused.returncode == 1 and b"webauthn-es256" in refused.stdout, refused.stdout
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in its terminal: the whole process group
    code, rest = finish(proc, timeout=60)
    assert code == 0, out + rest
    assert "SIGINT: stopping" in rest
    assert "Everything stopped (kura serve, ethereum dev chain, bitcoin dev chain)" in rest
    assert not (state / "up.json").exists()
    assert_all_stopped(state, ports.values())


def test_demo_confirms_four_withdrawals_and_refuses_the_attack():
    code, out = finish(demo_process("demo"))
    assert code == 0, out
    workdir = re.search(r"\$DEMO = (\S+?)\.$", out, re.M).group(1)
    # Each withdrawal: confirmed by the coordinator, the amount read back from the chain.
    assert len(re.findall(r"^  \$ kura intent show \S+ .*\n      state       confirmed$", out, re.M)) == 4, out
    chain = re.findall(r"^  on the chain: block \d+: (.*)$", out, re.M)
    assert len(chain) == 4, out
    assert chain[0].startswith("0.50000000 BTC to bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080 (the exchange)")
    assert chain[1].startswith("1.20000000 BTC to bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080 (the exchange)")
    assert re.match(r"1\.2 ETH from 0x9858effd232b4033e47d90003d41ec34ecaeda94 to "
                    r"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed \(the exchange, now 1\.2 ETH\)", chain[2]), chain[2]
    assert chain[3].startswith("the token's Transfer log pays 1234.56 KUSD to "
                               "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
    summary = out[out.index("== Summary"):]
    for pattern in (r"confirmed  BTC single-sig\s+0\.50000000 BTC  btc-main -> exchange, block \d+, signed by vault-a,",
                    r"confirmed  BTC 2-of-3\s+1\.20000000 BTC  btc-vault -> exchange, block \d+, "
                    r"signed by vault-a \+ vault-c,",
                    r"confirmed  ETH\s+1\.2 ETH  eth-main -> eth-exchange, block \d+, signed by vault-a, "
                    r"tx 0x[0-9a-f]{64}",
                    r"confirmed  KUSD\s+1234\.56 KUSD  eth-main -> usdc-exchange, block \d+, signed by vault-a,",
                    r"refused    attack\s+OUTPUT_UNAUTHORISED: an output appended to an approved withdrawal "
                    r"\(i-[0-9a-f]+\), kura-signer exit 5; kura audit verify reports the break",
                    r"kura-signer: refused: OUTPUT_UNAUTHORISED: output 2 \(10000000 sat\) is neither the destination "
                    r"nor the wallet's change"):
        assert re.search(pattern, summary), (pattern, summary)
    # The refusal as the signer printed it, and the auditor's finding.
    assert "      kura-signer: refused: OUTPUT_UNAUTHORISED: output 2 (10000000 sat)" in out
    assert re.search(r"^        bundle\.mismatch event \d+ \[i-[0-9a-f]+\]", out, re.M), out
    assert "public" in out and "never use them for funds" in out
    assert not pathlib.Path(workdir).exists()
    assert processes_mentioning(workdir) == []
    assert_no_secret(out)
