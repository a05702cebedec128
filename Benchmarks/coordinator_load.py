"""Load on the coordinator: create-intent + approve over loopback with concurrent clients, against `kura serve` on
SQLite and on PostgreSQL, with idempotency-key retries; prints requests per second and p50/p99 latency per
operation, and checks that no intent was lost or duplicated.

    swift build -c release --package-path Benchmarks --product kura-load
    KURA_BIN=.build/release KURA_TEST_POSTGRES_URL=$(scripts/pg-test-server.sh start) \
        .venv/bin/python Benchmarks/coordinator_load.py --intents 400 --clients 32

Documents are signed beforehand with the real `kura` CLI (one initiator, one approver); the timed part is
HTTP only, sent by `kura-load drive` (Swift, AsyncHTTPClient, keep-alive connections, one worker per client).
In the same run and with the same client, `kura-load ceiling` — a bare Hummingbird endpoint doing one insert of
the same bodies on the same back end — gives the ceiling the coordinator's rates are compared with. Client and
servers share the machine's cores. Each timed phase is also measured in CPU time per request (from /proc: the
server process, PostgreSQL's processes, the client): on shared cores the ratio of CPU per request to the
ceiling's is steadier than the ratio of rates.

Those phases saturate (each of the 32 clients sends its next request as soon as it has an answer), so their
latency is only clients ÷ throughput (Little's law) and says little. Latency is then measured at a given
throughput: `--paced` further intents are created and approved at a fixed rate — `--target` (0.5) × the
ceiling's measured rate, over the same 32 connections — each request's latency counted from the moment it was
due (an open loop, as wrk2 does, so a server that falls behind is charged for the queue it causes), beside the
ceiling's insert paced the same way.
"""
import argparse
import base64
import concurrent.futures
import json
import os
import pathlib
import resource
import signal
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "signer"))
sys.path.insert(0, str(ROOT / "tests" / "coordinator"))

from coordinator_server import PG_URL, Server, fresh_postgres_database, raw_sql  # noqa: E402
from harness import Company, run  # noqa: E402
from test_api import Org  # noqa: E402


def prepare(org: Org, n: int):
    """n signed intents (tier 1: one approval) and bob's approval of each, made with the kura CLI (on every core)."""

    def one(i):
        unsigned = org.tmp / f"load-{i}.unsigned.json"
        signed = org.tmp / f"load-{i}.json"
        approval = org.tmp / f"load-{i}.approval.json"
        run("kura", "intent", "new", "--genesis-hash", org.genesis_hash, "--policy", org.genesis, "--wallet", "btc-main",
            "--asset", "btc", "--to", "exchange", "--amount", str(1000 + i), "--base-units", "--initiator", "alice",
            "--out", unsigned, check=True)
        run("kura", "intent", "sign", unsigned, "--key", org.tmp / "alice.key", "--credential", "alice-key", "--out",
            signed, check=True)
        run("kura", "approve", signed, "--genesis-hash", org.genesis_hash, "--policy", org.genesis, "--key",
            org.tmp / "bob.key", "--member", "bob", "--credential", "bob-key", "--out", approval, check=True)
        return signed.read_bytes(), approval.read_bytes()

    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        made = list(pool.map(one, range(n)))
    return [m[0] for m in made], [m[1] for m in made]


LOAD_BIN = ROOT / "Benchmarks" / ".build" / "release" / "kura-load"


class Ceiling:
    """The bare Hummingbird one-insert server (kura-load ceiling) on SQLite or on a fresh PostgreSQL database."""

    def __init__(self, tmp: pathlib.Path, backend: str):
        port_file = tmp / f"ceiling-port-{backend}"
        args = [str(LOAD_BIN), "ceiling", "--port-file", str(port_file)]
        self.database = fresh_postgres_database() if backend == "postgresql" else \
            str(tmp / f"ceiling-{time.time_ns()}.sqlite")
        args += ["--postgres" if backend == "postgresql" else "--sqlite", self.database]
        self.log = open(tmp / f"ceiling-{backend}.log", "wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while not port_file.exists() or not port_file.read_text().strip():
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"kura-load ceiling did not start ({self.proc.poll()})")
            time.sleep(0.05)
        self.port = int(port_file.read_text())

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def request(path, body, token=None, key=None):
    r = {"path": path, "body": base64.b64encode(body).decode()}
    if token:
        r["token"] = token
    if key:
        r["key"] = key
    return r


def drive(tmp, plan):
    f = tmp / f"plan-{time.time_ns()}.json"
    f.write_text(json.dumps(plan))
    out = subprocess.run([str(LOAD_BIN), "drive", "--plan", str(f)], check=True, capture_output=True, timeout=1800)
    return json.loads(out.stdout)["phases"]


TICKS = os.sysconf("SC_CLK_TCK")
# KURA_LOAD_PERF=DIR: `perf record` the server during each timed phase into DIR/<backend>-<phase>.data (and
# PostgreSQL's processes into DIR/postgresql-<phase>-database.data).
PERF_DIR = pathlib.Path(os.environ["KURA_LOAD_PERF"]) if os.environ.get("KURA_LOAD_PERF") else None


def cpu_seconds(pids):
    """User + system CPU time of these processes (from /proc; a process gone meanwhile counts nothing)."""
    total = 0
    for pid in pids:
        try:
            fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat(5))
    return total / TICKS


def postgres_pids():
    pids = []
    for d in pathlib.Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if (d / "comm").read_text().strip() == "postgres":
                    pids.append(int(d.name))
            except OSError:
                pass
    return pids


def drive_measured(tmp, port, clients, name, requests, server_pid, backend, rate=None):
    """One phase alone, with the CPU time it cost the server process, the database server (PostgreSQL's
    processes; SQLite runs inside the server) and the client: ratios of CPU per request are steadier than
    requests per second on shared cores."""
    db = postgres_pids() if backend == "postgresql" else []
    profiler = db_profiler = None
    if PERF_DIR:  # a profile of the server process during this phase (perf's sampling slows it: rates not for use)
        profiler = subprocess.Popen(["perf", "record", "-q", "-F", "250", "--call-graph", "dwarf,16384", "-p",
                                     str(server_pid), "-o", str(PERF_DIR / f"{backend}-{name}.data")],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if db:  # and PostgreSQL's processes, flat (its Debian build keeps no frame pointers)
            db_profiler = subprocess.Popen(["perf", "record", "-q", "-F", "500", "-p", ",".join(map(str, db)), "-o",
                                            str(PERF_DIR / f"{backend}-{name}-database.data")],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
    before = (cpu_seconds([server_pid]), cpu_seconds(db), resource.getrusage(resource.RUSAGE_CHILDREN))
    plan = {"name": name, "requests": requests, **({"rate": rate} if rate else {})}
    phase = drive(tmp, {"port": port, "clients": clients, "phases": [plan]})[name]
    after = (cpu_seconds([server_pid]), cpu_seconds(db), resource.getrusage(resource.RUSAGE_CHILDREN))
    for p in (profiler, db_profiler):
        if p:
            p.send_signal(signal.SIGINT)
            p.wait()
    n = phase["requests"]
    client = (after[2].ru_utime + after[2].ru_stime) - (before[2].ru_utime + before[2].ru_stime)
    phase["cpu_ms_per_request"] = {
        "server": round((after[0] - before[0]) * 1000 / n, 3),
        "database": round((after[1] - before[1]) * 1000 / n, 3),
        "client": round(client * 1000 / n, 3),
    }
    return phase


def cost(phase):
    m = phase["cpu_ms_per_request"]
    return m["server"] + m["database"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--intents", type=int, default=400)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--retries", type=int, default=1, help="extra sends of each create with the same key")
    ap.add_argument("--warmup", type=int, default=50, help="intents sent first and not reported")
    ap.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    ap.add_argument("--paced", type=int, default=600,
                    help="further intents sent at a fixed rate (an open loop) after the saturating phases")
    ap.add_argument("--target", type=float, default=0.5,
                    help="the paced phases' rate as a fraction of the ceiling's measured requests per second")
    args = ap.parse_args()
    if not LOAD_BIN.exists():
        sys.exit(f"build the load tool first: swift build -c release --package-path Benchmarks --product kura-load")
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="kura-load-"))
    co = Company(tmp)
    backends = [b for b in ["sqlite"] + (["postgresql"] if PG_URL else []) if b in args.backends.split(",")]
    results = {}
    for backend in backends:
        server = Server(tmp, backend)
        ceiling = Ceiling(tmp, backend)
        try:
            org = Org(server, co, tmp, organization=f"load{backend[:2]}")
            intents, approvals = prepare(org, args.intents + args.paced)
            alice, bob = org.token("alice"), org.token("bob")
            base = f"/v1/orgs/{org.id}"
            ids = [json.loads(b)["intent"]["id"] for b in intents]
            # Each create is sent 1 + retries times with one key, the copies spread over the phase. The first
            # `warmup` intents (and as many ceiling inserts) go first and are not reported: connections opened,
            # the verified policy cached, code paged in.
            w = args.warmup

            def creates(sl):
                one = [request(f"{base}/intents", intents[i], alice, f"c-{i}") for i in sl]
                return one * (1 + args.retries)

            def approves(sl):
                return [request(f"{base}/intents/{ids[i]}/approvals", approvals[i], bob, f"a-{i}") for i in sl]

            def inserts(sl):
                return [request("/insert", intents[i]) for i in sl] * (1 + args.retries)

            warm, rest, paced = range(0, w), range(w, args.intents), range(args.intents, len(intents))
            drive(tmp, {"port": server.port, "clients": args.clients, "phases": [
                {"name": "warmup_ceiling", "port": ceiling.port, "requests": inserts(warm)},
                {"name": "warmup_create", "requests": creates(warm)},
                {"name": "warmup_approve", "requests": approves(warm)},
            ]})
            if backend == "postgresql":
                # Planner statistics, as autovacuum keeps them in a database that has been running: without them
                # PostgreSQL plans every query of the freshly filled tables for empty ones (the recent-spends read
                # then scanned every intent of the day by time, not the few in a spent state).
                for database in (server.database, ceiling.database):
                    raw_sql(database, "ANALYZE")
            phases = {
                "ceiling_insert": drive_measured(
                    tmp, ceiling.port, args.clients, "ceiling_insert", inserts(rest), ceiling.proc.pid, backend),
                "create_intent": drive_measured(
                    tmp, server.port, args.clients, "create_intent", creates(rest), server.proc.pid, backend),
                "approve": drive_measured(
                    tmp, server.port, args.clients, "approve", approves(rest), server.proc.pid, backend),
            }
            # Latency at the target throughput: the same kinds of request offered at a fixed rate (target × the
            # ceiling's saturated rate, over the same 32 connections), each request's latency counted from the
            # moment it was due. At saturation (above) latency is only clients ÷ throughput (Little's law).
            rate = round(args.target * phases["ceiling_insert"]["rps"], 1)
            for name, reqs, port, pid in [("ceiling_paced", inserts(paced), ceiling.port, ceiling.proc.pid),
                                          ("create_paced", creates(paced), server.port, server.proc.pid),
                                          ("approve_paced", approves(paced), server.port, server.proc.pid)]:
                phases[name] = drive_measured(tmp, port, args.clients, name, reqs, pid, backend, rate=rate)
            # Counted in the database itself (the API lists at most 1000 per page).
            rows = raw_sql(server.database, f"SELECT id, state FROM intents WHERE org_id = '{org.id}'")
            if isinstance(rows, str):
                rows = [tuple(line.split("|")) for line in rows.strip().splitlines()]
            listed = [r[0] for r in rows]
            approved = sum(1 for r in rows if r[1] == "approved")
            c, a, ceil = phases["create_intent"], phases["approve"], phases["ceiling_insert"]
            results[backend] = {
                **phases,
                "create_vs_ceiling": round(c["rps"] / ceil["rps"], 3),
                "approve_vs_ceiling": round(a["rps"] / ceil["rps"], 3),
                # Server + database CPU per request, relative to the ceiling's insert (steadier than rates).
                "create_cpu_vs_ceiling": round(cost(c) / cost(ceil), 2),
                "approve_cpu_vs_ceiling": round(cost(a) / cost(ceil), 2),
                "intents_stored": len(listed), "distinct": len(set(listed)), "expected": len(ids),
                "approved": approved,
            }
        finally:
            server.stop()
            ceiling.stop()
    print(json.dumps({"clients": args.clients, "intents": args.intents, "warmup": args.warmup, "retries": args.retries,
                      "results": results},
                     indent=2))


if __name__ == "__main__":
    main()
