"""One `kura serve` per SQLite data directory: a second process on the same directory stops at start with a named
error (the first one's pid in it) instead of sharing the file; once the first has stopped, the directory serves
again. Several replicas take PostgreSQL (test_replicas.py)."""
from conftest import run
from coordinator_server import Server


def test_a_second_kura_serve_on_one_sqlite_data_directory_is_refused(tmp_path):
    first = Server(tmp_path, "sqlite")
    try:
        status, body, _ = first.request("GET", "/health")
        assert status == 200, body
        r = run("kura", "serve", "--port", "0", "--data-dir", first.data_dir, "--bootstrap-secret-file",
                first.secret_file, timeout=60)
        assert r.returncode != 0, r.stderr
        err = r.stderr.decode()
        assert "inUse" in err and "in use by another process" in err, err
        assert f"pid {first.proc.pid}" in err and str(first.data_dir / "coordinator.sqlite") in err, err
        # The first process did not notice: it still answers.
        assert first.request("GET", "/health")[0] == 200
        # Another directory is not affected (positive control beside the refusal).
        other = Server(tmp_path, "sqlite")
        assert other.request("GET", "/health")[0] == 200
        assert other.stop() == 0, other.logs()
    finally:
        assert first.stop() == 0, first.logs()
    # Once the first has stopped, the same directory serves again.
    again = Server(tmp_path, "sqlite", data_dir=first.data_dir)
    try:
        assert again.request("GET", "/health")[0] == 200
    finally:
        assert again.stop() == 0, again.logs()
