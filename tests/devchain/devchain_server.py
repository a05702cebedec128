"""Runs `python -m devchain.bitcoin` (or `devchain.ethereum`) for tests and talks to it over HTTP (stdlib only)."""
import base64
import http.client
import json
import os
import pathlib
import secrets
import signal
import subprocess
import sys
import time
from decimal import Decimal

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent


class DevChain:
    """One dev chain process, stopped with SIGTERM."""

    def __init__(self, tmp: pathlib.Path, *extra: str, rpc: bool = False, module: str = "devchain.bitcoin"):
        """With `rpc`, also Bitcoin Core's JSON-RPC on a free port (default credentials and a cookie file)."""
        self.tmp = tmp
        self.port_file = tmp / f"devchain-port-{secrets.token_hex(3)}"
        self.log_path = tmp / f"{self.port_file.name}.log"
        self.log = open(self.log_path, "wb")
        if rpc:
            self.rpc_port_file = tmp / f"{self.port_file.name}.rpc"
            self.cookie_file = tmp / f"{self.port_file.name}.cookie"
            extra = ("--rpc-port", "0", "--rpc-port-file", str(self.rpc_port_file), "--rpc-cookie-file",
                     str(self.cookie_file), *extra)
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
        self.rpc_port = int(self.rpc_port_file.read_text()) if rpc else None  # written before the Esplora port

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


    # -- Bitcoin Core JSON-RPC ------------------------------------------------------------------
    def rpc_request(self, body, auth=("devchain", "devchain"), method: str = "POST", path: str = "/",
                    headers: dict | None = None) -> tuple[int, bytes, dict]:
        """One HTTP request to the RPC port: (status, body, headers). `auth` None sends no credentials."""
        conn = http.client.HTTPConnection("127.0.0.1", self.rpc_port, timeout=60)
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
            if isinstance(body, str):
                body = body.encode()
            h = dict(headers or {})
            if auth is not None:
                h["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            return r.status, r.read(), {k.lower(): v for k, v in r.getheaders()}
        finally:
            conn.close()

    def rpc_call(self, method: str, *params, named: dict | None = None, id=1) -> tuple[int, dict, bytes]:
        """(HTTP status, the reply parsed with exact decimals, the raw body) of one legacy request."""
        status, body, headers = self.rpc_request({"jsonrpc": "1.0", "id": id, "method": method,
                                                  "params": named if named is not None else list(params)})
        assert headers.get("content-type") == "application/json", (status, body, headers)
        return status, json.loads(body, parse_float=Decimal), body

    def rpc(self, method: str, *params, named: dict | None = None):
        """The result of a call that must succeed."""
        status, reply, body = self.rpc_call(method, *params, named=named)
        assert status == 200 and reply["error"] is None, (method, params, status, body)
        return reply["result"]

    def rpc_error(self, method: str, *params, named: dict | None = None) -> dict:
        """The error of a call that must fail: HTTP 500 as Core's legacy JSON-RPC (404 for no such method)."""
        status, reply, body = self.rpc_call(method, *params, named=named)
        assert reply["result"] is None and reply["error"] is not None, (method, params, body)
        assert status == (404 if reply["error"]["code"] == -32601 else 500), (status, body)
        return reply["error"]


def refusal(status: int, text: str) -> dict:
    """The Bitcoin Core error inside an Esplora broadcast refusal."""
    assert status == 400, (status, text)
    prefix = "sendrawtransaction RPC error: "
    assert text.startswith(prefix), text
    return json.loads(text[len(prefix):])
