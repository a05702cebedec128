"""Runs `python -m devchain.bitcoin` (or `devchain.ethereum`) for tests and talks to it over HTTP (stdlib only)."""
import http.client
import json
import os
import pathlib
import secrets
import signal
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent


class DevChain:
    """One dev chain process, stopped with SIGTERM."""

    def __init__(self, tmp: pathlib.Path, *extra: str, module: str = "devchain.bitcoin"):
        self.tmp = tmp
        self.port_file = tmp / f"devchain-port-{secrets.token_hex(3)}"
        self.log_path = tmp / f"{self.port_file.name}.log"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", module, "--port", "0", "--port-file",
                                      str(self.port_file), *extra], cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
                                     env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        deadline = time.time() + 60
        while not self.port_file.exists() or not self.port_file.read_text().strip():
            if self.proc.poll() is not None:
                raise RuntimeError(f"the dev chain exited with {self.proc.returncode}: {self.logs()}")
            if time.time() > deadline:
                self.stop()
                raise RuntimeError(f"the dev chain did not start: {self.logs()}")
            time.sleep(0.05)
        self.port = int(self.port_file.read_text())

    def logs(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        """SIGTERM, then the exit code (killed after 20 s if it does not stop)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def request(self, method: str, path: str, body=None) -> tuple[int, bytes, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
            if isinstance(body, str):
                body = body.encode()
            conn.request(method, path, body=body)
            r = conn.getresponse()
            return r.status, r.read(), r.getheader("Content-Type", "")
        finally:
            conn.close()

    def get(self, path: str):
        """The JSON answer of a GET that must succeed."""
        status, body, ctype = self.request("GET", path)
        assert status == 200, (path, status, body)
        assert ctype == "application/json", (path, ctype)
        return json.loads(body)

    def text(self, path: str) -> str:
        status, body, ctype = self.request("GET", path)
        assert status == 200, (path, status, body)
        assert ctype == "text/plain", (path, ctype)
        return body.decode()

    def dev(self, path: str, doc: dict):
        status, body, _ = self.request("POST", path, doc)
        assert status == 200, (path, status, body)
        return json.loads(body)

    def broadcast(self, raw_hex: str) -> tuple[int, str]:
        status, body, _ = self.request("POST", "/tx", raw_hex)
        return status, body.decode()

    def faucet(self, address: str, amount: int, confirm: bool = True) -> dict:
        return self.dev("/dev/faucet", {"address": address, "amount": amount, "confirm": confirm})

    def mine(self, blocks: int = 1, address: str | None = None) -> dict:
        doc = {"blocks": blocks}
        if address:
            doc["address"] = address
        return self.dev("/dev/mine", doc)

    def height(self) -> int:
        return int(self.text("/blocks/tip/height"))

    def mempool(self) -> list[str]:
        return self.get("/mempool/txids")


def refusal(status: int, text: str) -> dict:
    """The Bitcoin Core error inside an Esplora broadcast refusal."""
    assert status == 400, (status, text)
    prefix = "sendrawtransaction RPC error: "
    assert text.startswith(prefix), text
    return json.loads(text[len(prefix):])
