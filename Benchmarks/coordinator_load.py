"""Load on the coordinator: create-intent + approve over loopback with concurrent clients, against `kura serve` on
SQLite and on PostgreSQL, with idempotency-key retries; prints requests per second and p50/p99 latency per
operation, and checks that no intent was lost or duplicated.

    KURA_BIN=.build/release KURA_TEST_POSTGRES_URL=$(scripts/pg-test-server.sh start) \
        .venv/bin/python Benchmarks/coordinator_load.py --intents 400 --clients 32

Documents are signed beforehand with the real `kura` CLI (one initiator, one approver); the timed part is
HTTP only. The client is Python threads with keep-alive connections on the same 2 cores as the server, so
the figures are a floor for the server, not a ceiling.
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import pathlib
import statistics
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "signer"))
sys.path.insert(0, str(ROOT / "tests" / "coordinator"))

from coordinator_server import PG_URL, Server, fresh_postgres_database  # noqa: E402
from harness import Company, run  # noqa: E402
from test_api import Org  # noqa: E402


def prepare(org: Org, n: int):
    """n signed intents (tier 1: one approval) and bob's approval of each, made with the kura CLI."""
    intents, approvals = [], []
    for i in range(n):
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
        intents.append(signed.read_bytes())
        approvals.append(approval.read_bytes())
    return intents, approvals


class Client:
    """One keep-alive connection per thread."""

    local = threading.local()

    def __init__(self, port):
        self.port = port

    def post(self, path, body, token, key):
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        started = time.perf_counter()
        conn.request("POST", path, body=body, headers={"Authorization": f"Bearer {token}",
                                                       "Content-Type": "application/json", "Idempotency-Key": key})
        resp = conn.getresponse()
        resp.read()
        return resp.status, time.perf_counter() - started


def phase(client, jobs, clients):
    latencies, statuses = [], []
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        for status, seconds in pool.map(lambda j: client.post(*j), jobs):
            statuses.append(status)
            latencies.append(seconds)
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(jobs), "rps": round(len(jobs) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 2),
        "statuses": sorted(set(statuses)),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--intents", type=int, default=400)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--retries", type=int, default=1, help="extra sends of each create with the same key")
    args = ap.parse_args()
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="kura-load-"))
    co = Company(tmp)
    backends = ["sqlite"] + (["postgresql"] if PG_URL else [])
    results = {}
    for backend in backends:
        server = Server(tmp, backend)
        try:
            org = Org(server, co, tmp, organization=f"load{backend[:2]}")
            intents, approvals = prepare(org, args.intents)
            client = Client(server.port)
            alice, bob = org.token("alice"), org.token("bob")
            base = f"/v1/orgs/{org.id}"
            create = [(f"{base}/intents", body, alice, f"c-{i}") for i, body in enumerate(intents)]
            create = create * (1 + args.retries)
            ids = [json.loads(b)["intent"]["id"] for b in intents]
            approve = [(f"{base}/intents/{ids[i]}/approvals", body, bob, f"a-{i}") for i, body in enumerate(approvals)]
            r_create = phase(client, create, args.clients)
            r_approve = phase(client, approve, args.clients)
            status, listing, _ = server.request("GET", f"{base}/intents?limit=1000", token=alice)
            listed = [i["id"] for i in listing["intents"]]
            approved = sum(1 for i in listing["intents"] if i["state"] == "approved")
            results[backend] = {
                "create_intent": r_create, "approve": r_approve,
                "intents_stored": len(listed), "distinct": len(set(listed)), "expected": len(ids),
                "approved": approved,
            }
        finally:
            server.stop()
    print(json.dumps({"clients": args.clients, "intents": args.intents, "retries": args.retries, "results": results},
                     indent=2))


if __name__ == "__main__":
    main()
