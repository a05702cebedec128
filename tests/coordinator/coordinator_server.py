"""Runs the built `kura serve` for tests, on SQLite or on a fresh database of the PostgreSQL server that
`make test` starts (KURA_TEST_POSTGRES_URL), and talks to it over HTTP (stdlib only)."""
import http.client
import json
import os
import pathlib
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "tests" / "signer"))

from conftest import BIN  # noqa: E402

PG_URL = os.environ.get("KURA_TEST_POSTGRES_URL")
PG_BIN = pathlib.Path(os.environ.get("KURA_PG_BIN", "/usr/lib/postgresql/15/bin"))
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]
if os.environ.get("KURA_REQUIRE_POSTGRES") == "1" and not PG_URL:
    raise RuntimeError("KURA_REQUIRE_POSTGRES=1 but KURA_TEST_POSTGRES_URL is not set")


def fresh_postgres_database() -> str:
    """Creates an empty database on the test server and returns its URL."""
    u = urllib.parse.urlparse(PG_URL)
    name = "kura_api_" + secrets.token_hex(6)
    psql = shutil.which("psql") or str(PG_BIN / "psql")
    subprocess.run([psql, "-q", "-h", u.hostname, "-p", str(u.port), "-U", u.username or "postgres", "-d", "postgres",
                    "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    return urllib.parse.urlunparse(u._replace(path="/" + name))


def raw_sql(url_or_path: str, sql: str):
    """Runs one statement behind the coordinator's back (a tampering test's attacker)."""
    if url_or_path.startswith("postgres"):
        u = urllib.parse.urlparse(url_or_path)
        psql = shutil.which("psql") or str(PG_BIN / "psql")
        return subprocess.run([psql, "-q", "-t", "-A", "-h", u.hostname, "-p", str(u.port), "-U", u.username or "postgres",
                               "-d", u.path.lstrip("/"), "-c", sql], check=True, capture_output=True).stdout.decode()
    import sqlite3
    con = sqlite3.connect(url_or_path)
    try:
        cur = con.execute(sql)
        rows = cur.fetchall()
        con.commit()
        return rows
    finally:
        con.close()


class Server:
    """One `kura serve` process."""

    def __init__(self, tmp: pathlib.Path, backend: str, database_url: str | None = None, extra=(), env=None,
                 data_dir: pathlib.Path | None = None):
        self.tmp = tmp
        self.backend = backend
        self.secret_file = tmp / "bootstrap.secret"
        if not self.secret_file.exists():
            self.secret_file.write_text(secrets.token_hex(16))
        self.data_dir = data_dir or tmp / f"data-{secrets.token_hex(3)}"  # a restart passes the old one
        if backend == "postgresql":
            self.database_url = database_url or fresh_postgres_database()
        else:
            self.database_url = None
        port_file = tmp / f"port-{secrets.token_hex(3)}"
        args = [str(BIN / "kura"), "serve", "--port", "0", "--port-file", str(port_file),
                "--bootstrap-secret-file", str(self.secret_file), "--log-level", "warning", *extra]
        args += ["--database-url", self.database_url] if self.database_url else ["--data-dir", str(self.data_dir)]
        self.log = open(tmp / f"serve-{port_file.name}.log", "wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        deadline = time.time() + 60
        while not port_file.exists() or not port_file.read_text().strip():
            if self.proc.poll() is not None:
                raise RuntimeError(f"kura serve exited with {self.proc.returncode}: {self.logs()}")
            if time.time() > deadline:
                self.stop()
                raise RuntimeError("kura serve did not start in 60 s")
            time.sleep(0.05)
        self.port = int(port_file.read_text())
        self.url = f"http://127.0.0.1:{self.port}"

    @property
    def sqlite_path(self) -> str:
        return str(self.data_dir / "coordinator.sqlite")

    @property
    def database(self) -> str:
        return self.database_url or self.sqlite_path

    def logs(self) -> str:
        self.log.flush()
        return pathlib.Path(self.log.name).read_text(errors="replace")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def request(self, method: str, path: str, body=None, token: str | None = None, headers=None, raw: bytes | None = None):
        """(status, parsed JSON or text, headers)."""
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        status, payload, pairs = self.exchange(method, path, data, h)
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = payload.decode(errors="replace")
        return status, parsed, {k.lower(): v for k, v in pairs}

    def exchange(self, method: str, path: str, data: bytes | None, headers: dict, timeout: float = 60):
        """One request on a fresh connection: (status, body bytes, headers as a list of pairs, as sent)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = dict(headers)
        if data is not None:
            h.setdefault("Content-Type", "application/json")
        try:
            conn.request(method, path, body=data, headers=h)
            resp = conn.getresponse()
            return resp.status, resp.read(), resp.getheaders()
        finally:
            conn.close()


def kura_json(*args, check=True):
    """Runs `kura ... --json` and returns (exit code, parsed stdout or None, stderr text)."""
    proc = subprocess.run([str(BIN / "kura"), *map(str, args)], capture_output=True, timeout=120)
    out = None
    if proc.stdout.strip():
        try:
            out = json.loads(proc.stdout)
        except ValueError:
            out = proc.stdout.decode()
    if check and proc.returncode != 0:
        raise AssertionError(f"kura {' '.join(map(str, args))} exited {proc.returncode}: {proc.stderr.decode()}")
    return proc.returncode, out, proc.stderr.decode()
