"""Chromium's WebAuthn virtual authenticator, driven over the DevTools protocol on a pipe
(`--remote-debugging-pipe`: JSON messages separated by NUL bytes on fds 3 and 4), with pages served
from a loopback HTTP server (`http://localhost` and `http://*.localhost` are secure contexts).

Only the standard library: no webdriver. The browser, not this file, writes the client data and
the authenticator data; this file only asks for `navigator.credentials.create()`/`get()`.
"""
import base64
import fcntl
import http.server
import json
import os
import shutil
import socketserver
import subprocess
import tempfile
import threading
import time

CHROMIUM = "/usr/lib/chromium/chromium"  # Debian's chromium package (the /usr/bin wrapper only adds flags)


def available() -> bool:
    return os.access(CHROMIUM, os.X_OK)


def b64url_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<!doctype html><title>kura webauthn interop</title>")

    def log_message(self, *args):
        pass


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


_JS_HELPERS = """
const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)))
  .replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
const bytes = (hex) => new Uint8Array(hex.match(/../g).map((h) => parseInt(h, 16)));
"""


class VirtualAuthenticator:
    """One headless Chromium with one CTAP2 platform authenticator that supports user verification."""

    def __init__(self, user_verified: bool = True):
        # Threaded: Chromium opens speculative connections that send nothing, which would block a
        # single-threaded server (and the next navigation) until they time out.
        self.server = _Server(("127.0.0.1", 0), _Page)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.profile = tempfile.mkdtemp(prefix="kura-chromium-")

        def high(fd):  # keep the pipe ends away from fds 3 and 4, which the child redirects
            moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
            os.close(fd)
            return moved

        child_in, self._to_child = os.pipe()
        self._from_child, child_out = os.pipe()
        child_in, child_out = high(child_in), high(child_out)
        args = [
            "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--host-resolver-rules=MAP *.localhost 127.0.0.1",
            "--user-data-dir=" + self.profile, "about:blank",
        ]
        self.proc = subprocess.Popen(
            ["bash", "-c", f'exec "$0" "$@" 3<&{child_in} 4>&{child_out} {child_in}<&- {child_out}>&-', CHROMIUM, *args],
            pass_fds=(child_in, child_out),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        os.close(child_in)
        os.close(child_out)
        self._buffer = b""
        self._id = 0
        target = self._send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self._send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self._send("WebAuthn.enable", {}, self.session)
        self._send("WebAuthn.addVirtualAuthenticator", {"options": {
            "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
            "isUserVerified": user_verified, "automaticPresenceSimulation": True,
        }}, self.session)

    def _send(self, method, params=None, session=None, timeout=30.0):
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" not in self._buffer:
                if time.monotonic() > deadline:
                    raise TimeoutError(method)
                chunk = os.read(self._from_child, 1 << 16)
                if not chunk:
                    raise RuntimeError(f"chromium closed the DevTools pipe during {method}")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def origin(self, host: str) -> str:
        return f"http://{host}:{self.port}"

    def open(self, host: str):
        self._send("Page.navigate", {"url": self.origin(host) + "/"}, self.session)
        for _ in range(100):
            state = self._evaluate("document.readyState + ' ' + location.origin")
            if state == "complete " + self.origin(host):
                return
            time.sleep(0.05)
        raise TimeoutError(f"page {host} did not load")

    def _evaluate(self, expression: str):
        result = self._send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                  "returnByValue": True}, self.session)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"]["value"]

    def create(self, host: str, rp_id: str, challenge: bytes, user_verification: str) -> dict:
        """navigator.credentials.create() on http://host:port; the response fields as bytes."""
        self.open(host)
        out = self._evaluate(_JS_HELPERS + f"""(async () => {{
          const c = await navigator.credentials.create({{publicKey: {{
            challenge: bytes('{challenge.hex()}'), rp: {{id: '{rp_id}', name: 'Kura'}},
            user: {{id: crypto.getRandomValues(new Uint8Array(16)), name: 'alice', displayName: 'Alice'}},
            pubKeyCredParams: [{{type: 'public-key', alg: -7}}],
            authenticatorSelection: {{userVerification: '{user_verification}'}}, attestation: 'none'}}}});
          return JSON.stringify({{rawId: b64(c.rawId), clientDataJSON: b64(c.response.clientDataJSON),
                                 attestationObject: b64(c.response.attestationObject)}});
        }})()""")
        return {k: b64url_decode(v) for k, v in json.loads(out).items()}

    def get(self, host: str, rp_id: str, credential_id: bytes, challenge: bytes, user_verification: str) -> dict:
        """navigator.credentials.get() on http://host:port; the assertion fields as bytes."""
        self.open(host)
        out = self._evaluate(_JS_HELPERS + f"""(async () => {{
          const a = await navigator.credentials.get({{publicKey: {{
            challenge: bytes('{challenge.hex()}'), rpId: '{rp_id}',
            allowCredentials: [{{type: 'public-key', id: bytes('{credential_id.hex()}')}}],
            userVerification: '{user_verification}'}}}});
          return JSON.stringify({{authenticatorData: b64(a.response.authenticatorData),
                                 clientDataJSON: b64(a.response.clientDataJSON), signature: b64(a.response.signature)}});
        }})()""")
        return {k: b64url_decode(v) for k, v in json.loads(out).items()}

    def close(self):
        try:
            self._send("Browser.close", timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_child)
        os.close(self._from_child)
        self.server.shutdown()
        self.server.server_close()
        shutil.rmtree(self.profile, ignore_errors=True)
