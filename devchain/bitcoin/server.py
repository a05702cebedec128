"""The dev chain over HTTP: the Esplora REST API subset (same paths, JSON shapes and plain-text
answers as Blockstream's esplora API.md) and the /dev endpoints (mine, faucet, re-org, fee estimates).

Esplora answers errors in plain text: 400 for a bad request or a refused transaction (with Bitcoin
Core's `sendrawtransaction RPC error: {"code":..,"message":..}` text), 404 for what is not there.
The /dev endpoints answer JSON, errors as {"error": {"code": .., "message": ..}}.
"""
from __future__ import annotations

import json
import re
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import esplora
from . import faucet as faucet_keys
from .chain import Chain, DevError, Reject, decode_hex_tx
from .script import AddressError, address_to_script

MAX_BODY = 8 * 1024 * 1024
HEX64 = r"([0-9a-fA-F]{64})"


class HttpError(Exception):
    def __init__(self, status: int, text: str):
        self.status, self.text = status, text


class DevChainServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, chain: Chain, on_change=None, verbose: bool = False):
        self.chain = chain
        self.on_change = on_change or (lambda: None)
        self.verbose = verbose
        super().__init__(address, Handler)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: DevChainServer

    def log_message(self, fmt, *args):
        if self.server.verbose:
            super().log_message(fmt, *args)

    # -- plumbing -------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, content_type: str):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        self.wfile.write(body)

    def _text(self, text: str, status: int = 200):
        self._send(status, text.encode(), "text/plain")

    def _json(self, obj, status: int = 200):
        self._send(status, json.dumps(obj).encode(), "application/json")

    def _body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length is None:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                raise HttpError(411, "chunked bodies are not supported: send Content-Length")
            return b""
        try:
            n = int(length)
        except ValueError:
            raise HttpError(400, "invalid Content-Length")
        if n < 0 or n > MAX_BODY:
            self.close_connection = True
            raise HttpError(413, f"body larger than {MAX_BODY} bytes")
        return self.rfile.read(n)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def _dispatch(self, method: str):
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        try:
            body = self._body() if method == "POST" else b""
            for m, pattern, fn in ROUTES:
                match = re.fullmatch(pattern, path)
                if match and m == method:
                    return fn(self, body, *match.groups())
            if any(re.fullmatch(p, path) for _, p, _ in ROUTES):
                raise HttpError(405, "method not allowed")
            raise HttpError(404, "endpoint does not exist")
        except HttpError as e:
            if path.startswith("/dev/"):
                return self._json({"error": {"code": "http_" + str(e.status), "message": e.text}}, e.status)
            return self._text(e.text, e.status)
        except DevError as e:
            return self._json({"error": {"code": e.code, "message": e.message}}, 400)
        except (BrokenPipeError, ConnectionResetError):
            return None
        except Exception as e:  # a bug: answer 500 rather than drop the connection
            traceback.print_exc(file=sys.stderr)
            return self._text(f"internal error: {type(e).__name__}: {e}", 500)

    # -- helpers --------------------------------------------------------------------------
    @property
    def chain(self) -> Chain:
        return self.server.chain

    def _entry(self, txid: str):
        e = self.chain.txs.get(txid.lower())
        if e is None:
            raise HttpError(404, "Transaction not found")
        return e

    def _block(self, block_hash: str):
        b = self.chain.by_hash.get(block_hash.lower())
        if b is None:
            raise HttpError(404, "Block not found")
        return b

    def _script(self, kind: str, value: str) -> bytes | None:
        if kind == "address":
            try:
                return address_to_script(value)
            except AddressError as e:
                raise HttpError(400, e.message)
        if not re.fullmatch(HEX64, value):
            raise HttpError(400, "Invalid scripthash")
        return esplora.find_script(self.chain, value.lower())

    def _dev_json(self, body: bytes) -> dict:
        try:
            doc = json.loads(body or b"{}")
        except ValueError:
            raise DevError("invalid_json", "the body is not JSON")
        if not isinstance(doc, dict):
            raise DevError("invalid_json", "the body must be a JSON object")
        return doc

    def _dev_script(self, doc: dict, required: bool) -> bytes | None:
        address = doc.get("address")
        if address is None:
            if required:
                raise DevError("missing_address", "address is required")
            return None
        if not isinstance(address, str):
            raise DevError("invalid_address", "address must be a string")
        try:
            return address_to_script(address)
        except AddressError as e:
            raise DevError("invalid_address", f"{e.message}: {address}")

    # -- Esplora: blocks ------------------------------------------------------------------
    def tip_height(self, _):
        with self.chain.lock:
            self._text(str(self.chain.height))

    def tip_hash(self, _):
        with self.chain.lock:
            self._text(self.chain.tip.hash)

    def blocks(self, _, start=None):
        with self.chain.lock:
            top = self.chain.height if start is None else min(int(start), self.chain.height)
            self._json([esplora.block_json(self.chain.blocks[h]) for h in range(top, max(top - esplora.BLOCKS_PAGE, -1), -1)])

    def block(self, _, block_hash):
        with self.chain.lock:
            self._json(esplora.block_json(self._block(block_hash)))

    def block_status(self, _, block_hash):
        with self.chain.lock:
            self._json(esplora.block_status(self.chain, self._block(block_hash)))

    def block_header(self, _, block_hash):
        with self.chain.lock:
            self._text(self._block(block_hash).header.hex())

    def block_raw(self, _, block_hash):
        with self.chain.lock:
            self._send(200, self._block(block_hash).raw, "application/octet-stream")

    def block_txids(self, _, block_hash):
        with self.chain.lock:
            self._json([e.txid for e in self._block(block_hash).entries])

    def block_txs(self, _, block_hash, start="0"):
        with self.chain.lock:
            b, start = self._block(block_hash), int(start)
            if start % esplora.BLOCK_TXS_PAGE:
                raise HttpError(400, f"start index must be a multiple of {esplora.BLOCK_TXS_PAGE}")
            if start >= len(b.entries):
                raise HttpError(400, "start index out of range")
            self._json([esplora.tx_json(e, with_status=False) for e in b.entries[start:start + esplora.BLOCK_TXS_PAGE]])

    def block_height(self, _, height):
        with self.chain.lock:
            h = int(height)
            if h > self.chain.height:
                raise HttpError(404, "Block not found")
            self._text(self.chain.blocks[h].hash)

    # -- Esplora: transactions ------------------------------------------------------------
    def tx(self, _, txid):
        with self.chain.lock:
            self._json(esplora.tx_json(self._entry(txid)))

    def tx_hex(self, _, txid):
        with self.chain.lock:
            self._text(self._entry(txid).raw.hex())

    def tx_raw(self, _, txid):
        with self.chain.lock:
            self._send(200, self._entry(txid).raw, "application/octet-stream")

    def tx_status(self, _, txid):
        with self.chain.lock:
            self._json(esplora.status(self._entry(txid)))

    def tx_outspend(self, _, txid, vout):
        with self.chain.lock:
            e, n = self._entry(txid), int(vout)
            if n >= len(e.tx.vout):
                raise HttpError(404, "Output not found")
            self._json(esplora.outspend(self.chain, e.txid, n))

    def tx_outspends(self, _, txid):
        with self.chain.lock:
            e = self._entry(txid)
            self._json([esplora.outspend(self.chain, e.txid, n) for n in range(len(e.tx.vout))])

    def post_tx(self, body):
        try:
            txid = self.chain.accept(decode_hex_tx(body.decode("ascii", "replace")))
        except Reject as r:
            detail = json.dumps({"code": r.code, "message": r.message}, separators=(",", ":"))
            raise HttpError(400, f"sendrawtransaction RPC error: {detail}")
        self.server.on_change()
        self._text(txid)

    def mempool_txids(self, _):
        with self.chain.lock:
            self._json(list(self.chain.mempool))

    def fee_estimates(self, _):
        with self.chain.lock:
            self._json(self.chain.fee_estimates)

    # -- Esplora: addresses and scripthashes ----------------------------------------------
    def addr_stats(self, _, kind, value):
        with self.chain.lock:
            script = self._script(kind, value)
            stats = esplora.address_stats(self.chain, script)
            self._json({("address" if kind == "address" else "scripthash"): value, **stats})

    def addr_utxo(self, _, kind, value):
        with self.chain.lock:
            script = self._script(kind, value)
            self._json([] if script is None else esplora.utxos(self.chain, script))

    def addr_txs(self, _, kind, value):
        with self.chain.lock:
            script = self._script(kind, value)
            if script is None:
                return self._json([])
            mem = esplora.mempool_txs(self.chain, script)[:esplora.TXS_PAGE_MEMPOOL]
            confirmed = esplora.chain_txs(self.chain, script)
            self._json([esplora.tx_json(e) for e in mem + confirmed])

    def addr_txs_chain(self, _, kind, value, last_seen=None):
        with self.chain.lock:
            script = self._script(kind, value)
            if script is None:
                return self._json([])
            confirmed = esplora.chain_txs(self.chain, script, last_seen.lower() if last_seen else None)
            self._json([] if confirmed is None else [esplora.tx_json(e) for e in confirmed])

    def addr_txs_mempool(self, _, kind, value):
        with self.chain.lock:
            script = self._script(kind, value)
            mem = [] if script is None else esplora.mempool_txs(self.chain, script)[:esplora.TXS_PAGE_MEMPOOL]
            self._json([esplora.tx_json(e) for e in mem])

    # -- /dev -----------------------------------------------------------------------------
    def dev_info(self, _):
        with self.chain.lock:
            confirmed, coins = self.chain.faucet_balance()
            self._json({"network": "regtest", "height": self.chain.height, "tip": self.chain.tip.hash,
                        "mempool": len(self.chain.mempool),
                        "faucet": {"address": esplora.script_address(faucet_keys.SCRIPT), "balance": confirmed,
                                   "coins": coins}})

    def dev_mine(self, body):
        doc = self._dev_json(body)
        n = doc.get("blocks", 1)
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 1000:
            raise DevError("invalid_blocks", "blocks must be an integer 1..1000")
        script = self._dev_script(doc, required=False)
        with self.chain.lock:
            mined = self.chain.mine(n, script)
            height = self.chain.height
        self.server.on_change()
        self._json({"blocks": [b.hash for b in mined], "height": height})

    def dev_faucet(self, body):
        doc = self._dev_json(body)
        script = self._dev_script(doc, required=True)
        confirm = doc.get("confirm", True)
        if not isinstance(confirm, bool):
            raise DevError("invalid_confirm", "confirm must be true or false")
        try:
            with self.chain.lock:
                e, block = self.chain.faucet(script, doc.get("amount"), confirm)
                answer = {"txid": e.txid, "vout": 0, "value": e.tx.vout[0].value, "status": esplora.status(e)}
        except Reject as r:
            raise DevError("refused", f"the faucet's transaction is refused: {r.message}")
        self.server.on_change()
        self._json(answer)

    def dev_reorg(self, body):
        doc = self._dev_json(body)
        drop = doc.get("drop", [])
        if not isinstance(drop, list) or not all(isinstance(t, str) for t in drop):
            raise DevError("invalid_drop", "drop must be a list of txids")
        include = doc.get("mempool", True)
        if not isinstance(include, bool):
            raise DevError("invalid_mempool", "mempool must be true or false")
        script = self._dev_script(doc, required=False)
        result = self.chain.reorg(doc.get("depth"), doc.get("blocks"), [t.lower() for t in drop], include, script)
        self.server.on_change()
        self._json(result)

    def dev_fee_estimates(self, body):
        self.chain.set_fee_estimates(self._dev_json(body))
        self.server.on_change()
        with self.chain.lock:
            self._json(self.chain.fee_estimates)


SCRIPT_KIND = r"(address|scripthash)/([^/]+)"
ROUTES = [
    ("GET", r"/blocks/tip/height", Handler.tip_height),
    ("GET", r"/blocks/tip/hash", Handler.tip_hash),
    ("GET", r"/blocks", Handler.blocks),
    ("GET", r"/blocks/(\d{1,9})", Handler.blocks),
    ("GET", rf"/block/{HEX64}", Handler.block),
    ("GET", rf"/block/{HEX64}/status", Handler.block_status),
    ("GET", rf"/block/{HEX64}/header", Handler.block_header),
    ("GET", rf"/block/{HEX64}/raw", Handler.block_raw),
    ("GET", rf"/block/{HEX64}/txids", Handler.block_txids),
    ("GET", rf"/block/{HEX64}/txs", Handler.block_txs),
    ("GET", rf"/block/{HEX64}/txs/(\d{{1,9}})", Handler.block_txs),
    ("GET", r"/block-height/(\d{1,9})", Handler.block_height),
    ("GET", rf"/tx/{HEX64}", Handler.tx),
    ("GET", rf"/tx/{HEX64}/hex", Handler.tx_hex),
    ("GET", rf"/tx/{HEX64}/raw", Handler.tx_raw),
    ("GET", rf"/tx/{HEX64}/status", Handler.tx_status),
    ("GET", rf"/tx/{HEX64}/outspend/(\d{{1,9}})", Handler.tx_outspend),
    ("GET", rf"/tx/{HEX64}/outspends", Handler.tx_outspends),
    ("POST", r"/tx", Handler.post_tx),
    ("GET", r"/mempool/txids", Handler.mempool_txids),
    ("GET", r"/fee-estimates", Handler.fee_estimates),
    ("GET", rf"/{SCRIPT_KIND}", Handler.addr_stats),
    ("GET", rf"/{SCRIPT_KIND}/utxo", Handler.addr_utxo),
    ("GET", rf"/{SCRIPT_KIND}/txs", Handler.addr_txs),
    ("GET", rf"/{SCRIPT_KIND}/txs/chain", Handler.addr_txs_chain),
    ("GET", rf"/{SCRIPT_KIND}/txs/chain/{HEX64}", Handler.addr_txs_chain),
    ("GET", rf"/{SCRIPT_KIND}/txs/mempool", Handler.addr_txs_mempool),
    ("GET", r"/dev/info", Handler.dev_info),
    ("POST", r"/dev/mine", Handler.dev_mine),
    ("POST", r"/dev/faucet", Handler.dev_faucet),
    ("POST", r"/dev/reorg", Handler.dev_reorg),
    ("POST", r"/dev/fee-estimates", Handler.dev_fee_estimates),
]


def serve_in_thread(server: DevChainServer) -> threading.Thread:
    t = threading.Thread(target=server.serve_forever, name="devchain-http", daemon=True)
    t.start()
    return t
