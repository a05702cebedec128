"""The Ethereum dev chain over HTTP: JSON-RPC 2.0 (single requests, notifications and batches) at
`POST /`, as geth's HTTP endpoint serves it.

Answers are HTTP 200 with a JSON-RPC result or error, whatever the method did (a refused transaction
is an error object, never an HTTP error). HTTP errors are only for what is not JSON-RPC at all:
405 (not POST), 404 (another path), 415 (a Content-Type other than application/json), 411 (no
Content-Length), 413 (a body above 5 MiB, geth's limit).
"""
from __future__ import annotations

import json
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .chain import Chain
from .rpc import CHANGING, RpcError, call_method

MAX_BODY = 5 * 1024 * 1024  # geth's HTTP request body limit
MAX_BATCH = 1000  # geth's default batch request limit
MAX_DRAIN = 4 * MAX_BODY  # a larger refused body is not read: the connection is closed


class DevChainServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, chain: Chain, on_change=None, verbose: bool = False):
        self.chain = chain
        self.on_change = on_change or (lambda: None)
        self.verbose = verbose
        super().__init__(address, Handler)


def error(id_, code: int, message: str, data=None) -> dict:
    err = {"code": code, "message": message}
    if data is not None:
        err["data"] = data
    return {"jsonrpc": "2.0", "id": id_, "error": err}


def valid_id(v) -> bool:
    return v is None or isinstance(v, str) or (isinstance(v, (int, float)) and not isinstance(v, bool))


def handle_one(server: DevChainServer, req) -> dict | None:
    """One JSON-RPC request: its answer, or None for a notification (a request without an id)."""
    if not isinstance(req, dict):
        return error(None, -32600, "invalid request")
    id_ = req.get("id")
    if not valid_id(id_):
        return error(None, -32600, "invalid request: id must be a string, a number or null")
    if req.get("jsonrpc") != "2.0":
        return error(id_, -32600, "invalid request: jsonrpc must be \"2.0\"")
    method = req.get("method")
    if not isinstance(method, str):
        return error(id_, -32600, "invalid request: method must be a string")
    params = req.get("params", [])
    if params is None:
        params = []
    if isinstance(params, dict):
        answer = error(id_, -32602, "non-array args")
    elif not isinstance(params, list):
        answer = error(id_, -32600, "invalid request: params must be an array")
    else:
        try:
            answer = {"jsonrpc": "2.0", "id": id_, "result": call_method(server.chain, method, params)}
        except RpcError as e:
            answer = error(id_, e.code, e.message, e.data)
        except Exception as e:  # a bug: answer it rather than drop the connection
            traceback.print_exc(file=sys.stderr)
            answer = error(id_, -32603, f"internal error: {type(e).__name__}: {e}")
        if method in CHANGING and "result" in answer:
            server.on_change()
    return None if "id" not in req else answer


def handle_body(server: DevChainServer, body: bytes):
    """The JSON answer to a request body (None: nothing to answer, only notifications)."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return error(None, -32700, "parse error")
    if isinstance(doc, list):
        if not doc:
            return error(None, -32600, "empty batch")
        if len(doc) > MAX_BATCH:
            return error(None, -32600, f"batch too large (at most {MAX_BATCH} requests)")
        answers = [a for a in (handle_one(server, r) for r in doc) if a is not None]
        return answers or None
    return handle_one(server, doc)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: DevChainServer

    def log_message(self, fmt, *args):
        if self.server.verbose:
            super().log_message(fmt, *args)

    def _send(self, status: int, body: bytes, content_type: str = "application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        self.wfile.write(body)

    def _http_error(self, status: int, text: str):
        self.close_connection = True
        self._send(status, (text + "\n").encode(), "text/plain")

    def _drain(self, n: int):
        """Reads and drops a refused body (up to MAX_DRAIN), so that the client reads the answer
        instead of a broken pipe."""
        left = min(n, MAX_DRAIN)
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 16))
            if not chunk:
                break
            left -= len(chunk)

    def do_GET(self):
        self._http_error(405, "method not allowed: JSON-RPC is POST /")

    do_PUT = do_DELETE = do_PATCH = do_GET

    def do_POST(self):
        try:
            if self.path.split("?", 1)[0] != "/":
                return self._http_error(404, "not found: JSON-RPC is POST /")
            ctype = self.headers.get("Content-Type")
            if ctype is not None and ctype.split(";", 1)[0].strip().lower() != "application/json":
                return self._http_error(415, "invalid content type, only application/json is supported")
            length = self.headers.get("Content-Length")
            if length is None:
                return self._http_error(411, "Content-Length required (chunked bodies are not supported)")
            try:
                n = int(length)
            except ValueError:
                return self._http_error(400, "invalid Content-Length")
            if n < 0 or n > MAX_BODY:
                self._drain(n)
                return self._http_error(413, f"content length too large ({n}>{MAX_BODY})")
            answer = handle_body(self.server, self.rfile.read(n))
            self._send(200, b"" if answer is None else json.dumps(answer).encode())
        except (BrokenPipeError, ConnectionResetError):
            return None


def serve_in_thread(server: DevChainServer) -> threading.Thread:
    t = threading.Thread(target=server.serve_forever, name="devchain-eth-http", daemon=True)
    t.start()
    return t
