"""The chain as Bitcoin Core's JSON-RPC shows it (a subset: what a watch-only coordinator needs).

Wire behaviour follows Bitcoin Core 28's `httprpc.cpp`: HTTP basic authentication (401 with an
empty body and `WWW-Authenticate: Basic realm="jsonrpc"`), POST only, JSON-RPC 1.0-style requests
(legacy: an RPC error is HTTP 500, 404 for "Method not found", 400 for an invalid request object)
and JSON-RPC 2.0 requests (`"jsonrpc": "2.0"`: errors are HTTP 200, notifications answer 204),
batches answered with HTTP 200. Amounts are BTC as JSON numbers with 8 decimals, as Core writes them.

Transactions go through `Chain.accept` (the same checks as Esplora's POST /tx); every read takes the
chain's lock. A development and test tool: see devchain/README.md.
"""
from __future__ import annotations

import base64
import hmac
import json
import re
import sys
import threading
import time
import traceback
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from btclib.tx import Tx

from . import esplora
from .chain import (COIN, DEFAULT_MAX_FEE_PER_KVB, MIN_RELAY_FEE_RATE, REGTEST_BITS, BlockRecord,
                    Chain, Coin, Entry, Reject, decode_hex_tx)
from .script import AddressError, address_to_script, is_unspendable, script_address, witness_program

VERSION = 280000
SUBVERSION = "/Satoshi:28.0.0(kura-devchain)/"
PROTOCOL_VERSION = 70016
MAX_BODY = 0x02000000  # 32 MiB: Core's MAX_SIZE, the limit its HTTP server puts on a request body
RPC_SERVER_TIMEOUT = 30  # seconds: Core's -rpcservertimeout default
AUTH_FAILURE_DELAY = 0.25  # seconds: Core waits this long before answering wrong credentials
DEFAULT_RPC_USER = "devchain"
DEFAULT_RPC_PASSWORD = "devchain"
COOKIE_USER = "__cookie__"
MAX_GENERATE = 1000
MAX_CONF_TARGET = 1008

# Bitcoin Core's RPC error codes (src/rpc/protocol.h).
RPC_INVALID_REQUEST = -32600
RPC_METHOD_NOT_FOUND = -32601
RPC_INVALID_PARAMS = -32602
RPC_INTERNAL_ERROR = -32603
RPC_PARSE_ERROR = -32700
RPC_MISC_ERROR = -1
RPC_TYPE_ERROR = -3
RPC_INVALID_ADDRESS_OR_KEY = -5
RPC_INVALID_PARAMETER = -8


class RpcError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code, self.message = code, message

    def json(self) -> dict:
        return {"code": self.code, "message": self.message}


# -- JSON as Core writes it -------------------------------------------------------------------
class BTC:
    """An amount in satoshis, written as BTC with exactly 8 decimals (Core's ValueFromAmount)."""
    __slots__ = ("sats",)

    def __init__(self, sats: int):
        self.sats = sats

    def __str__(self) -> str:
        sign = "-" if self.sats < 0 else ""
        q, r = divmod(abs(self.sats), COIN)
        return f"{sign}{q}.{r:08d}"


def dumps(obj) -> str:
    """Compact JSON (as UniValue's write()), with BTC amounts as fixed 8-decimal numbers."""
    if isinstance(obj, BTC):
        return str(obj)
    if isinstance(obj, dict):
        return "{" + ",".join(json.dumps(str(k)) + ":" + dumps(v) for k, v in obj.items()) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ",".join(dumps(v) for v in obj) + "]"
    if isinstance(obj, Decimal):
        return str(obj)
    return json.dumps(obj)


def _reject_constant(name):
    raise ValueError(f"not JSON: {name}")


def loads(text: str):
    """Strict JSON: numbers with a fraction or exponent as Decimal (exact), no NaN/Infinity."""
    return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)


# -- scripts as Core shows them ---------------------------------------------------------------
SIGHASH_NAMES = {0x01: "ALL", 0x02: "NONE", 0x03: "SINGLE", 0x81: "ALL|ANYONECANPAY", 0x82: "NONE|ANYONECANPAY",
                 0x83: "SINGLE|ANYONECANPAY"}
_OP_NAMES = {0x4F: "-1", 0x50: "OP_RESERVED", 0x61: "OP_NOP", 0x62: "OP_VER", 0x63: "OP_IF", 0x64: "OP_NOTIF",
             0x65: "OP_VERIF", 0x66: "OP_VERNOTIF", 0x67: "OP_ELSE", 0x68: "OP_ENDIF", 0x69: "OP_VERIFY",
             0x6A: "OP_RETURN", 0x6B: "OP_TOALTSTACK", 0x6C: "OP_FROMALTSTACK", 0x6D: "OP_2DROP", 0x6E: "OP_2DUP",
             0x6F: "OP_3DUP", 0x70: "OP_2OVER", 0x71: "OP_2ROT", 0x72: "OP_2SWAP", 0x73: "OP_IFDUP", 0x74: "OP_DEPTH",
             0x75: "OP_DROP", 0x76: "OP_DUP", 0x77: "OP_NIP", 0x78: "OP_OVER", 0x79: "OP_PICK", 0x7A: "OP_ROLL",
             0x7B: "OP_ROT", 0x7C: "OP_SWAP", 0x7D: "OP_TUCK", 0x7E: "OP_CAT", 0x7F: "OP_SUBSTR", 0x80: "OP_LEFT",
             0x81: "OP_RIGHT", 0x82: "OP_SIZE", 0x83: "OP_INVERT", 0x84: "OP_AND", 0x85: "OP_OR", 0x86: "OP_XOR",
             0x87: "OP_EQUAL", 0x88: "OP_EQUALVERIFY", 0x89: "OP_RESERVED1", 0x8A: "OP_RESERVED2", 0x8B: "OP_1ADD",
             0x8C: "OP_1SUB", 0x8D: "OP_2MUL", 0x8E: "OP_2DIV", 0x8F: "OP_NEGATE", 0x90: "OP_ABS", 0x91: "OP_NOT",
             0x92: "OP_0NOTEQUAL", 0x93: "OP_ADD", 0x94: "OP_SUB", 0x95: "OP_MUL", 0x96: "OP_DIV", 0x97: "OP_MOD",
             0x98: "OP_LSHIFT", 0x99: "OP_RSHIFT", 0x9A: "OP_BOOLAND", 0x9B: "OP_BOOLOR", 0x9C: "OP_NUMEQUAL",
             0x9D: "OP_NUMEQUALVERIFY", 0x9E: "OP_NUMNOTEQUAL", 0x9F: "OP_LESSTHAN", 0xA0: "OP_GREATERTHAN",
             0xA1: "OP_LESSTHANOREQUAL", 0xA2: "OP_GREATERTHANOREQUAL", 0xA3: "OP_MIN", 0xA4: "OP_MAX",
             0xA5: "OP_WITHIN", 0xA6: "OP_RIPEMD160", 0xA7: "OP_SHA1", 0xA8: "OP_SHA256", 0xA9: "OP_HASH160",
             0xAA: "OP_HASH256", 0xAB: "OP_CODESEPARATOR", 0xAC: "OP_CHECKSIG", 0xAD: "OP_CHECKSIGVERIFY",
             0xAE: "OP_CHECKMULTISIG", 0xAF: "OP_CHECKMULTISIGVERIFY", 0xB0: "OP_NOP1",
             0xB1: "OP_CHECKLOCKTIMEVERIFY", 0xB2: "OP_CHECKSEQUENCEVERIFY", 0xB3: "OP_NOP4", 0xB4: "OP_NOP5",
             0xB5: "OP_NOP6", 0xB6: "OP_NOP7", 0xB7: "OP_NOP8", 0xB8: "OP_NOP9", 0xB9: "OP_NOP10",
             0xBA: "OP_CHECKSIGADD"}
_OP_NAMES.update({0x50 + n: str(n) for n in range(1, 17)})


def _ops(script: bytes):
    """(opcode, data or None) pairs; raises ValueError on a truncated push."""
    i = 0
    while i < len(script):
        op = script[i]
        i += 1
        if op <= 0x4E:
            if op < 0x4C:
                n = op
            else:
                width = {0x4C: 1, 0x4D: 2, 0x4E: 4}[op]
                if i + width > len(script):
                    raise ValueError("truncated push")
                n = int.from_bytes(script[i:i + width], "little")
                i += width
            if i + n > len(script):
                raise ValueError("truncated push")
            yield op, script[i:i + n]
            i += n
        else:
            yield op, None


def _script_num(data: bytes) -> int:
    if not data:
        return 0
    v = int.from_bytes(data, "little")
    if data[-1] & 0x80:
        return -(v & ~(0x80 << (8 * (len(data) - 1))))
    return v


def _is_der_signature(sig: bytes) -> bool:
    """BIP-0066 strict DER, the signature without its hash type byte appended."""
    if len(sig) < 9 or len(sig) > 73 or sig[0] != 0x30 or sig[1] != len(sig) - 3:
        return False
    len_r = sig[3]
    if 5 + len_r >= len(sig):
        return False
    len_s = sig[5 + len_r]
    if len_r + len_s + 7 != len(sig) or sig[2] != 0x02 or len_r == 0 or sig[4] & 0x80:
        return False
    if len_r > 1 and sig[4] == 0 and not sig[5] & 0x80:
        return False
    if sig[len_r + 4] != 0x02 or len_s == 0 or sig[len_r + 6] & 0x80:
        return False
    return not (len_s > 1 and sig[len_r + 6] == 0 and not sig[len_r + 7] & 0x80)


def asm(script: bytes, sighash_decode: bool = False) -> str:
    """Core's ScriptToAsmStr: pushes of up to 4 bytes as numbers, longer ones as hex, opcodes by
    name (`OP_DUP`, `0`, `1`..`16`); in a scriptSig a signature push ends in `[ALL]` and so on."""
    out = []
    try:
        for op, data in _ops(script):
            if data is None:
                out.append(_OP_NAMES.get(op, "OP_UNKNOWN"))
            elif len(data) <= 4:
                out.append(str(_script_num(data)))
            elif sighash_decode and data[-1] in SIGHASH_NAMES and _is_der_signature(data):
                out.append(data[:-1].hex() + f"[{SIGHASH_NAMES[data[-1]]}]")
            else:
                out.append(data.hex())
    except ValueError:
        out.append("[error]")
    return " ".join(out)


def _is_pubkey(data: bytes) -> bool:
    return (len(data) == 33 and data[0] in (2, 3)) or (len(data) == 65 and data[0] in (4, 6, 7))


def _multisig(script: bytes) -> tuple[int, list[bytes]] | None:
    try:
        ops = list(_ops(script))
    except ValueError:
        return None
    if len(ops) < 4 or ops[-1] != (0xAE, None):
        return None
    m, n = ops[0][0], ops[-2][0]
    keys = [d for _, d in ops[1:-2]]
    if not (0x51 <= m <= 0x60 and 0x51 <= n <= 0x60) or any(k is None or not _is_pubkey(k) for k in keys):
        return None
    if len(keys) != n - 0x50 or m > n:
        return None
    return m - 0x50, keys


def script_type(script: bytes) -> str:
    """Core's output types (GetTxnOutputType)."""
    wp = witness_program(script)
    if wp is not None:
        version, program = wp
        if version == 0 and len(program) == 20:
            return "witness_v0_keyhash"
        if version == 0 and len(program) == 32:
            return "witness_v0_scripthash"
        if version == 1 and len(program) == 32:
            return "witness_v1_taproot"
        if version == 1 and program == b"\x4e\x73":
            return "anchor"
        if version != 0:
            return "witness_unknown"
        return "nonstandard"
    if len(script) == 25 and script[:3] == b"\x76\xa9\x14" and script[-2:] == b"\x88\xac":
        return "pubkeyhash"
    if len(script) == 23 and script[:2] == b"\xa9\x14" and script[-1] == 0x87:
        return "scripthash"
    if script[:1] == b"\x6a":
        try:
            if all(data is not None or op <= 0x60 for op, data in _ops(script[1:])):
                return "nulldata"
        except ValueError:
            pass
        return "nonstandard"
    if len(script) in (35, 67) and script[-1] == 0xAC and script[0] == len(script) - 2 and _is_pubkey(script[1:-1]):
        return "pubkey"
    if _multisig(script) is not None:
        return "multisig"
    return "nonstandard"


SECP_P = 2 ** 256 - 2 ** 32 - 977


def _on_curve_x(x: bytes) -> bool:
    v = int.from_bytes(x, "big")
    if v >= SECP_P:
        return False
    rhs = (pow(v, 3, SECP_P) + 7) % SECP_P
    return rhs == 0 or pow(rhs, (SECP_P - 1) // 2, SECP_P) == 1


# -- descriptors (BIP-0380 checksum; addr() and raw() parsed, others inferred for display) ------
DESC_INPUT_CHARSET = "0123456789()[],'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~ijklmnopqrstuvwxyzABCDEFGH`#\"\\ "
DESC_CHECKSUM_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_DESC_GENERATOR = (0xF5DEE51989, 0xA9FDCA3312, 0x1BAB10E32D, 0x3706B1677A, 0x644D626FFD)


def _desc_polymod(symbols) -> int:
    chk = 1
    for value in symbols:
        top = chk >> 35
        chk = ((chk & 0x7FFFFFFFF) << 5) ^ value
        for i in range(5):
            if (top >> i) & 1:
                chk ^= _DESC_GENERATOR[i]
    return chk


def descriptor_checksum(desc: str) -> str | None:
    """The 8-character checksum of BIP-0380, or None if `desc` has a character outside its set."""
    symbols, groups = [], []
    for c in desc:
        v = DESC_INPUT_CHARSET.find(c)
        if v < 0:
            return None
        symbols.append(v & 31)
        groups.append(v >> 5)
        if len(groups) == 3:
            symbols.append(groups[0] * 9 + groups[1] * 3 + groups[2])
            groups = []
    if len(groups) == 1:
        symbols.append(groups[0])
    elif len(groups) == 2:
        symbols.append(groups[0] * 3 + groups[1])
    c = _desc_polymod(symbols + [0] * 8) ^ 1
    return "".join(DESC_CHECKSUM_CHARSET[(c >> (5 * (7 - i))) & 31] for i in range(8))


def with_checksum(desc: str) -> str:
    return f"{desc}#{descriptor_checksum(desc)}"


def infer_descriptor(script: bytes) -> str:
    """Core's InferDescriptor with no keys known: pk() for P2PK, multi() for bare multisig, rawtr()
    for a taproot output, addr() for anything with an address, else raw(); with its checksum."""
    kind = script_type(script)
    if kind == "pubkey":
        return with_checksum(f"pk({script[1:-1].hex()})")
    if kind == "multisig":
        m, keys = _multisig(script)
        return with_checksum(f"multi({m},{','.join(k.hex() for k in keys)})")
    if kind == "witness_v1_taproot" and _on_curve_x(script[2:]):
        return with_checksum(f"rawtr({script[2:].hex()})")
    address = _address(script)
    if address is not None:
        return with_checksum(f"addr({address})")
    return with_checksum(f"raw({script.hex()})")


def _address(script: bytes) -> str | None:
    if script_type(script) in ("pubkey", "multisig", "nulldata", "nonstandard"):
        return None
    return script_address(script)


def parse_descriptor(desc: str) -> bytes:
    """The output script of an `addr(ADDRESS)` or `raw(HEX)` descriptor, with an optional checksum
    (checked when present, as Core's scantxoutset does); RpcError -5 with Core's messages otherwise."""
    parts = desc.split("#")
    if len(parts) > 2:
        raise RpcError(RPC_INVALID_ADDRESS_OR_KEY, "Multiple '#' symbols")
    if len(parts) == 2 and len(parts[1]) != 8:
        raise RpcError(RPC_INVALID_ADDRESS_OR_KEY, f"Expected 8 character checksum, not {len(parts[1])} characters")
    computed = descriptor_checksum(parts[0])
    if computed is None:
        raise RpcError(RPC_INVALID_ADDRESS_OR_KEY, "Invalid characters in payload")
    if len(parts) == 2 and parts[1] != computed:
        raise RpcError(RPC_INVALID_ADDRESS_OR_KEY,
                       f"Provided checksum '{parts[1]}' does not match computed checksum '{computed}'")
    body = parts[0]
    match = re.fullmatch(r"([a-z_]+)\((.*)\)", body, re.S)
    if match is None:
        raise RpcError(RPC_INVALID_ADDRESS_OR_KEY, f"'{body}' is not a valid descriptor function")
    fn, arg = match.groups()
    if fn == "addr":
        try:
            return address_to_script(arg)
        except AddressError:
            raise RpcError(RPC_INVALID_ADDRESS_OR_KEY, "Address is not valid")
    if fn == "raw":
        if not arg or len(arg) % 2 or not re.fullmatch(r"[0-9a-fA-F]*", arg):
            raise RpcError(RPC_INVALID_ADDRESS_OR_KEY, "Raw script is not hex")
        return bytes.fromhex(arg)
    if fn in ("pk", "pkh", "wpkh", "sh", "wsh", "tr", "rawtr", "combo", "multi", "sortedmulti", "multi_a",
              "sortedmulti_a"):
        raise RpcError(RPC_INVALID_ADDRESS_OR_KEY,
                       f"'{fn}()' descriptors are not supported by the dev chain (only addr() and raw())")
    raise RpcError(RPC_INVALID_ADDRESS_OR_KEY, f"'{body}' is not a valid descriptor function")


# -- chain objects as Core shows them -----------------------------------------------------------
def script_pub_key(script: bytes, include_hex: bool = True) -> dict:
    out = {"asm": asm(script), "desc": infer_descriptor(script)}
    if include_hex:
        out["hex"] = script.hex()
    address = _address(script)
    if address is not None:
        out["address"] = address
    out["type"] = script_type(script)
    return out


def block_work(bits: int) -> int:
    target = (bits & 0xFFFFFF) << (8 * ((bits >> 24) - 3))
    return (((1 << 256) - 1 - target) // (target + 1)) + 1


def chainwork(b: BlockRecord) -> str:
    return f"{block_work(REGTEST_BITS) * (b.height + 1):064x}"  # every block has regtest bits


def _prevout_height(chain: Chain, e: Entry, i: int) -> int:
    prev = chain.txs[e.tx.vin[i].prev_out.tx_id.hex()]
    return prev.block.height if prev.block is not None else -1


def tx_json(chain: Chain, e: Entry, verbosity: int = 1, include_hex: bool = True) -> dict:
    """Core's TxToUniv: verbosity 1 (transaction only), 2 (+ fee), 3 (+ each input's prevout); fee and
    prevouts only for confirmed, non-coinbase transactions (Core reads them from undo data)."""
    undo = verbosity >= 2 and not e.coinbase and e.block is not None
    out = {"txid": e.txid, "hash": e.wtxid, "version": e.tx.version, "size": e.size, "vsize": e.vsize,
           "weight": e.weight, "locktime": e.tx.lock_time}
    vin = []
    for i, txin in enumerate(e.tx.vin):
        j = {}
        if e.coinbase:
            j["coinbase"] = txin.script_sig.hex()
        else:
            j["txid"] = txin.prev_out.tx_id.hex()
            j["vout"] = txin.prev_out.vout
            j["scriptSig"] = {"asm": asm(txin.script_sig, sighash_decode=True), "hex": txin.script_sig.hex()}
        witness = list(txin.script_witness.stack)
        if witness:
            j["txinwitness"] = [w.hex() for w in witness]
        if undo and verbosity >= 3:
            coin: Coin = e.prevouts[i]
            prev = chain.txs[txin.prev_out.tx_id.hex()]
            j["prevout"] = {"generated": prev.coinbase, "height": _prevout_height(chain, e, i),
                            "value": BTC(coin.value), "scriptPubKey": script_pub_key(coin.script)}
        j["sequence"] = txin.sequence
        vin.append(j)
    out["vin"] = vin
    out["vout"] = [{"value": BTC(o.value), "n": n, "scriptPubKey": script_pub_key(o.script_pub_key.script)}
                   for n, o in enumerate(e.tx.vout)]
    if undo:
        out["fee"] = BTC(e.fee)
    if include_hex:
        out["hex"] = e.raw.hex()
    return out


def header_json(chain: Chain, b: BlockRecord) -> dict:
    out = {"hash": b.hash, "confirmations": chain.height - b.height + 1, "height": b.height, "version": b.version,
           "versionHex": f"{b.version & 0xFFFFFFFF:08x}", "merkleroot": b.merkle_root, "time": b.time,
           "mediantime": b.median_time, "nonce": b.nonce, "bits": f"{b.bits:08x}",
           "difficulty": esplora.difficulty(b.bits), "chainwork": chainwork(b), "nTx": len(b.entries)}
    if b.prev_hash is not None:
        out["previousblockhash"] = b.prev_hash
    if b.height < chain.height:
        out["nextblockhash"] = chain.blocks[b.height + 1].hash
    return out


def block_json(chain: Chain, b: BlockRecord, verbosity: int) -> dict:
    out = header_json(chain, b)
    out["strippedsize"], out["size"], out["weight"] = b.base_size, len(b.raw), b.weight
    if verbosity == 1:
        out["tx"] = [e.txid for e in b.entries]
    else:
        out["tx"] = [tx_json(chain, e, verbosity) for e in b.entries]
    return out


def mempool_entry(chain: Chain, e: Entry) -> dict:
    parents = [t for t in dict.fromkeys(op[0] for op in e.outpoints()) if t in chain.mempool]
    children = [t for t in dict.fromkeys(chain.mempool_spends[(e.txid, n)][0] for n in range(len(e.tx.vout))
                                         if (e.txid, n) in chain.mempool_spends)]

    def closure(start: str, step) -> list[Entry]:
        seen, stack = {}, [start]
        while stack:
            t = stack.pop()
            if t in seen or t not in chain.mempool:
                continue
            seen[t] = chain.mempool[t]
            stack.extend(step(chain.mempool[t]))
        return list(seen.values())

    ancestors = closure(e.txid, lambda x: [op[0] for op in x.outpoints()])
    descendants = closure(e.txid, lambda x: [chain.mempool_spends[(x.txid, n)][0] for n in range(len(x.tx.vout))
                                             if (x.txid, n) in chain.mempool_spends])
    signals = any(x.tx.vin[i].sequence < 0xFFFFFFFE for x in ancestors for i in range(len(x.tx.vin)))
    return {"vsize": e.vsize, "weight": e.weight, "time": e.time, "height": e.entry_height,
            "descendantcount": len(descendants), "descendantsize": sum(x.vsize for x in descendants),
            "ancestorcount": len(ancestors), "ancestorsize": sum(x.vsize for x in ancestors), "wtxid": e.wtxid,
            "fees": {"base": BTC(e.fee), "modified": BTC(e.fee), "ancestor": BTC(sum(x.fee for x in ancestors)),
                     "descendant": BTC(sum(x.fee for x in descendants))},
            "depends": parents, "spentby": children, "bip125-replaceable": signals, "unbroadcast": False}


# -- parameters as Core's RPCHelpMan checks them ------------------------------------------------
NUM, STR, BOOL, ARR, OBJ, AMOUNT, ANY = "number", "string", "boolean", "array", "object", "amount", "any"


def json_type(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, Decimal)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def _matches(v, kind: str) -> bool:
    t = json_type(v)
    if kind == ANY:
        return True
    if kind == AMOUNT:
        return t in ("number", "string")
    return t == {"boolean": "bool"}.get(kind, kind)


def get_int(v) -> int:
    """UniValue::getInt: a number without fraction or exponent that fits in 32 bits."""
    if json_type(v) != "number":
        raise RpcError(RPC_TYPE_ERROR, f"JSON value of type {json_type(v)} is not of expected type number")
    if isinstance(v, Decimal) or not -2 ** 31 <= v < 2 ** 31:
        raise RpcError(RPC_MISC_ERROR, "JSON integer out of range")
    return v


def get_verbosity(v, default: int) -> int:
    if v is None:
        return default
    if isinstance(v, bool):
        return int(v)
    return get_int(v)


def parse_hash(v, name: str) -> str:
    """Core's ParseHashV: 64 hex digits (RPC_INVALID_PARAMETER otherwise)."""
    if not isinstance(v, str):
        raise RpcError(RPC_TYPE_ERROR, f"JSON value of type {json_type(v)} is not of expected type string")
    if len(v) != 64:
        raise RpcError(RPC_INVALID_PARAMETER, f"{name} must be of length 64 (not {len(v)}, for '{v}')")
    if not re.fullmatch(r"[0-9a-fA-F]{64}", v):
        raise RpcError(RPC_INVALID_PARAMETER, f"{name} must be hexadecimal string (not '{v}')")
    return v.lower()


def amount_sats(v, decimals: int = 8) -> int:
    """Core's AmountFromValue: a number or a numeric string of BTC, at most 8 decimals, not negative."""
    if json_type(v) not in ("number", "string"):
        raise RpcError(RPC_TYPE_ERROR, "Amount is not a number or string")
    try:
        d = Decimal(str(v).strip()) if isinstance(v, str) else Decimal(v)
        if not d.is_finite() or d != d.quantize(Decimal(1).scaleb(-decimals)):
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise RpcError(RPC_TYPE_ERROR, "Invalid amount")
    sats = int(d * COIN)
    if sats < 0 or sats > 21_000_000 * COIN:
        raise RpcError(RPC_TYPE_ERROR, "Amount out of range")
    return sats


class Arg:
    def __init__(self, name: str, kind: str, required: bool = True, default=None):
        self.name, self.kind, self.required, self.default = name, kind, required, default


METHODS: dict[str, tuple] = {}


def rpc(name: str, *args: Arg, summary: str = ""):
    def register(fn):
        METHODS[name] = (fn, args, summary)
        return fn
    return register


def _usage(name: str, args, summary: str) -> str:
    shown = " ".join(a.name if a.required else f"( {a.name} )" for a in args)
    return f"{name} {shown}".rstrip() + f"\n\n{summary}\n(Kura dev chain: a subset of Bitcoin Core's {name}.)\n"


def bind_params(name: str, spec: tuple, params) -> list:
    """Positional or named arguments -> a list in the method's order (Core's transformNamedArguments,
    IsValidNumArgs and the per-argument type check)."""
    fn, args, summary = spec
    if isinstance(params, dict):
        positions = {a.name: i for i, a in enumerate(args)}
        values: list = []
        for key, value in params.items():
            if key not in positions:
                raise RpcError(RPC_INVALID_PARAMETER, f"Unknown named parameter {key}")
            i = positions[key]
            values += [None] * (i + 1 - len(values))
            values[i] = value
        while values and values[-1] is None:
            values.pop()
    else:
        values = list(params)
    required = sum(1 for a in args if a.required)
    if len(values) < required or len(values) > len(args):
        raise RpcError(RPC_MISC_ERROR, _usage(name, args, summary))
    mismatches = {}
    out = []
    for i, a in enumerate(args):
        v = values[i] if i < len(values) else None
        if v is None and not a.required:
            out.append(a.default)
            continue
        if not _matches(v, a.kind):
            want = "number or string" if a.kind == AMOUNT else a.kind
            mismatches[f"Position {i + 1} ({a.name})"] = f"JSON value of type {json_type(v)} is not of expected type {want}"
        out.append(v)
    if mismatches:
        raise RpcError(RPC_TYPE_ERROR, "Wrong type passed:\n" + json.dumps(mismatches, indent=4))
    return out


class Context:
    """What the methods see: the chain, a hook called after every change, the start time."""

    def __init__(self, chain: Chain, on_change=None):
        self.chain = chain
        self.on_change = on_change or (lambda: None)
        self.started = time.time()


def execute(ctx: Context, method: str, params) -> object:
    spec = METHODS.get(method)
    if spec is None:
        raise RpcError(RPC_METHOD_NOT_FOUND, "Method not found")
    values = bind_params(method, spec, params)
    return spec[0](ctx, *values)


# -- the methods ---------------------------------------------------------------------------------
def _block(chain: Chain, v, name: str = "blockhash") -> BlockRecord:
    b = chain.by_hash.get(parse_hash(v, name))
    if b is None:
        raise RpcError(RPC_INVALID_ADDRESS_OR_KEY, "Block not found")
    return b


@rpc("getblockchaininfo", summary="Returns an object containing various state info regarding blockchain processing.")
def getblockchaininfo(ctx: Context):
    c = ctx.chain
    with c.lock:
        tip = c.tip
        return {"chain": "regtest", "blocks": c.height, "headers": c.height, "bestblockhash": tip.hash,
                "difficulty": esplora.difficulty(tip.bits), "time": tip.time, "mediantime": tip.median_time,
                "verificationprogress": 1, "initialblockdownload": False, "chainwork": chainwork(tip),
                "size_on_disk": sum(len(b.raw) for b in c.blocks), "pruned": False, "warnings": []}


@rpc("getnetworkinfo", summary="Returns an object containing various state info regarding P2P networking.")
def getnetworkinfo(ctx: Context):
    return {"version": VERSION, "subversion": SUBVERSION, "protocolversion": PROTOCOL_VERSION,
            "localservices": "0000000000000000", "localservicesnames": [], "localrelay": True, "timeoffset": 0,
            "networkactive": False, "connections": 0, "connections_in": 0, "connections_out": 0, "networks": [],
            "relayfee": BTC(MIN_RELAY_FEE_RATE * 1000), "incrementalfee": BTC(1000), "localaddresses": [],
            "warnings": []}


@rpc("uptime", summary="Returns the total uptime of the server.")
def uptime(ctx: Context):
    return int(time.time() - ctx.started)


@rpc("getindexinfo", Arg("index_name", STR, False),
     summary="Returns the status of one or all available indices currently running in the node.")
def getindexinfo(ctx: Context, index_name):
    with ctx.chain.lock:
        info = {"txindex": {"synced": True, "best_block_height": ctx.chain.height}}
    return info if index_name in (None, "txindex") else {}


@rpc("getblockcount", summary="Returns the height of the most-work fully-validated chain.")
def getblockcount(ctx: Context):
    with ctx.chain.lock:
        return ctx.chain.height


@rpc("getbestblockhash", summary="Returns the hash of the best (tip) block in the most-work fully-validated chain.")
def getbestblockhash(ctx: Context):
    with ctx.chain.lock:
        return ctx.chain.tip.hash


@rpc("getblockhash", Arg("height", NUM), summary="Returns hash of block in best-block-chain at height provided.")
def getblockhash(ctx: Context, height):
    h = get_int(height)
    with ctx.chain.lock:
        if h < 0 or h > ctx.chain.height:
            raise RpcError(RPC_INVALID_PARAMETER, "Block height out of range")
        return ctx.chain.blocks[h].hash


@rpc("getchaintips", summary="Return information about all known tips in the block tree.")
def getchaintips(ctx: Context):
    with ctx.chain.lock:
        return [{"height": ctx.chain.height, "hash": ctx.chain.tip.hash, "branchlen": 0, "status": "active"}]


@rpc("getblockheader", Arg("blockhash", STR), Arg("verbose", BOOL, False, True),
     summary="If verbose is false, returns a string that is serialized, hex-encoded data for blockheader 'hash'.")
def getblockheader(ctx: Context, blockhash, verbose):
    with ctx.chain.lock:
        b = _block(ctx.chain, blockhash)
        return header_json(ctx.chain, b) if verbose else b.header.hex()


@rpc("getblock", Arg("blockhash", STR), Arg("verbosity", ANY, False),
     summary="If verbosity is 0, returns a string that is serialized, hex-encoded data for block 'hash'.")
def getblock(ctx: Context, blockhash, verbosity):
    v = get_verbosity(verbosity, 1)
    with ctx.chain.lock:
        b = _block(ctx.chain, blockhash)
        if v <= 0:
            return b.raw.hex()
        return block_json(ctx.chain, b, min(v, 3))


@rpc("getrawtransaction", Arg("txid", STR), Arg("verbosity", ANY, False), Arg("blockhash", STR, False),
     summary="Return the raw transaction data (the dev chain keeps a full transaction index, as -txindex=1).")
def getrawtransaction(ctx: Context, txid, verbosity, blockhash):
    c = ctx.chain
    t = parse_hash(txid, "parameter 1")
    v = get_verbosity(verbosity, 0)
    with c.lock:
        block = None
        if blockhash is not None:
            block = c.by_hash.get(parse_hash(blockhash, "parameter 3"))
            if block is None:
                raise RpcError(RPC_INVALID_ADDRESS_OR_KEY, "Block hash not found")
        if t == c.blocks[0].entries[0].txid:
            raise RpcError(RPC_INVALID_ADDRESS_OR_KEY, "The genesis block coinbase is not considered an ordinary "
                                                       "transaction and cannot be retrieved")
        e = c.txs.get(t)
        if block is not None and (e is None or e.block is not block):
            raise RpcError(RPC_INVALID_ADDRESS_OR_KEY, "No such transaction found in the provided block. "
                                                       "Use gettransaction for wallet transactions.")
        if e is None:
            raise RpcError(RPC_INVALID_ADDRESS_OR_KEY, "No such mempool or blockchain transaction. "
                                                       "Use gettransaction for wallet transactions.")
        if v == 0:
            return e.raw.hex()
        out = {}
        if block is not None:
            out["in_active_chain"] = True
        out.update(tx_json(c, e, 1 if v == 1 else 3))
        if e.block is not None:
            out["blockhash"] = e.block.hash
            out["confirmations"] = c.height - e.block.height + 1
            out["time"] = out["blocktime"] = e.block.time
        return out


@rpc("decoderawtransaction", Arg("hexstring", STR), Arg("iswitness", BOOL, False),
     summary="Return a JSON object representing the serialized, hex-encoded transaction.")
def decoderawtransaction(ctx: Context, hexstring, iswitness):
    try:
        raw = decode_hex_tx(hexstring)
        tx = Tx.parse(raw, check_validity=False)
        if tx.serialize(include_witness=True, check_validity=False) != raw:
            raise ValueError
    except Exception:
        raise RpcError(-22, "TX decode failed")
    e = Entry(tx, raw, tx.id.hex(), tx.hash.hex(), len(tx.serialize(False, False)), 0, [])
    return tx_json(ctx.chain, e, 1, include_hex=False)


def _max_fee(maxfeerate) -> int:
    if maxfeerate is None:
        return DEFAULT_MAX_FEE_PER_KVB
    sats = amount_sats(maxfeerate)
    if sats >= COIN:
        raise RpcError(RPC_INVALID_PARAMETER, "Fee rates larger than or equal to 1BTC/kvB are not accepted")
    return sats


@rpc("sendrawtransaction", Arg("hexstring", STR), Arg("maxfeerate", AMOUNT, False), Arg("maxburnamount", AMOUNT, False),
     summary="Submit a raw transaction (serialized, hex-encoded) to the dev chain's mempool.")
def sendrawtransaction(ctx: Context, hexstring, maxfeerate, maxburnamount):
    max_fee = _max_fee(maxfeerate)
    max_burn = 0 if maxburnamount is None else amount_sats(maxburnamount)
    try:
        raw = decode_hex_tx(hexstring)
        tx = Tx.parse(raw, check_validity=False)
        for out in tx.vout:
            if is_unspendable(out.script_pub_key.script) and out.value > max_burn:
                raise RpcError(-25, "Unspendable output exceeds maximum configured by user (maxburnamount)")
    except RpcError:
        raise
    except Reject as r:
        raise RpcError(r.code, r.message)
    except Exception:
        pass  # undecodable: Chain.accept says so with Core's -22
    try:
        txid = ctx.chain.accept(raw, max_fee)
    except Reject as r:
        raise RpcError(r.code, r.message)
    ctx.on_change()
    return txid


@rpc("testmempoolaccept", Arg("rawtxs", ARR), Arg("maxfeerate", AMOUNT, False),
     summary="Returns result of mempool acceptance tests (one transaction at a time on the dev chain).")
def testmempoolaccept(ctx: Context, rawtxs, maxfeerate):
    max_fee = _max_fee(maxfeerate)
    if len(rawtxs) != 1:
        raise RpcError(RPC_INVALID_PARAMETER, "Array must contain exactly 1 transaction on the Kura dev chain "
                                              "(Core takes packages of 1..25)")
    if not isinstance(rawtxs[0], str):
        raise RpcError(RPC_TYPE_ERROR, f"JSON value of type {json_type(rawtxs[0])} is not of expected type string")
    try:
        raw = decode_hex_tx(rawtxs[0])
        tx = Tx.parse(raw, check_validity=False)
        if tx.serialize(include_witness=True, check_validity=False) != raw:
            raise ValueError
    except Exception:
        raise RpcError(-22, f"TX decode failed: {rawtxs[0][:64]} Make sure the tx has at least one input.")
    out = {"txid": tx.id.hex(), "wtxid": tx.hash.hex()}
    try:
        e = ctx.chain.test_accept(raw, max_fee)
    except Reject as r:
        if r.reason.startswith("Fee exceeds maximum"):
            out.update({"allowed": False, "reject-reason": "max-fee-exceeded"})
        else:
            out.update({"allowed": False, "reject-reason": r.reason})
            if r.detail:
                out["reject-details"] = r.message
        return [out]
    out.update({"allowed": True, "vsize": e.vsize,
                "fees": {"base": BTC(e.fee), "effective-feerate": BTC(e.fee * 1000 // e.vsize),
                         "effective-includes": [e.wtxid]}})
    return [out]


@rpc("getrawmempool", Arg("verbose", BOOL, False, False), Arg("mempool_sequence", BOOL, False, False),
     summary="Returns all transaction ids in memory pool as a json array of string transaction ids.")
def getrawmempool(ctx: Context, verbose, mempool_sequence):
    if mempool_sequence:
        raise RpcError(RPC_INVALID_PARAMETER, "mempool_sequence is not supported by the Kura dev chain")
    with ctx.chain.lock:
        if verbose:
            return {t: mempool_entry(ctx.chain, e) for t, e in ctx.chain.mempool.items()}
        return list(ctx.chain.mempool)


@rpc("getmempoolentry", Arg("txid", STR), summary="Returns mempool data for given transaction.")
def getmempoolentry(ctx: Context, txid):
    t = parse_hash(txid, "parameter 1")
    with ctx.chain.lock:
        e = ctx.chain.mempool.get(t)
        if e is None:
            raise RpcError(RPC_INVALID_ADDRESS_OR_KEY, "Transaction not in mempool")
        return mempool_entry(ctx.chain, e)


@rpc("gettxout", Arg("txid", STR), Arg("n", NUM), Arg("include_mempool", BOOL, False, True),
     summary="Returns details about an unspent transaction output.")
def gettxout(ctx: Context, txid, n, include_mempool):
    c = ctx.chain
    t, n = parse_hash(txid, "txid"), get_int(n)
    with c.lock:
        op = (t, n)
        coin = c.utxo.get(op)
        if include_mempool:
            if op in c.mempool_spends:
                return None
            if coin is None and t in c.mempool:
                coin = c._coin(op)
        if coin is None:
            return None
        return {"bestblock": c.tip.hash, "confirmations": 0 if coin.height is None else c.height - coin.height + 1,
                "value": BTC(coin.value), "scriptPubKey": script_pub_key(coin.script), "coinbase": coin.coinbase}


@rpc("scantxoutset", Arg("action", STR), Arg("scanobjects", ARR, False),
     summary="Scans the unspent transaction output set (confirmed outputs only) for addr() and raw() descriptors.")
def scantxoutset(ctx: Context, action, scanobjects):
    if action == "status":
        return None
    if action == "abort":
        return False
    if action != "start":
        raise RpcError(RPC_INVALID_PARAMETER, f"Invalid action '{action}'")
    if scanobjects is None:
        raise RpcError(RPC_MISC_ERROR, "scanobjects argument is required for the start action")
    scripts: dict[bytes, None] = {}
    for obj in scanobjects:
        if isinstance(obj, str):
            desc = obj
        elif isinstance(obj, dict) and isinstance(obj.get("desc"), str):
            desc = obj["desc"]
        else:
            raise RpcError(RPC_INVALID_PARAMETER, "Invalid scan object")
        script = parse_descriptor(desc)
        if isinstance(obj, dict) and obj.get("range") is not None:
            raise RpcError(RPC_INVALID_PARAMETER, "Range should not be specified for an un-ranged descriptor")
        scripts[script] = None
    c = ctx.chain
    with c.lock:
        unspents, total = [], 0
        for script in scripts:
            for op in c.utxo_by_script.get(script, ()):
                coin = c.utxo[op]
                block = c.blocks[coin.height]
                unspents.append({"txid": op[0], "vout": op[1], "scriptPubKey": script.hex(),
                                 "desc": infer_descriptor(script), "amount": BTC(coin.value), "coinbase": coin.coinbase,
                                 "height": coin.height, "blockhash": block.hash})
                total += coin.value
        unspents.sort(key=lambda u: (u["height"], u["txid"], u["vout"]))
        return {"success": True, "txouts": len(c.utxo), "height": c.height, "bestblock": c.tip.hash,
                "unspents": unspents, "total_amount": BTC(total)}


@rpc("estimatesmartfee", Arg("conf_target", NUM), Arg("estimate_mode", STR, False, "economical"),
     summary="Estimates the fee per kilobyte, from the dev chain's fee-estimate table (Esplora's /fee-estimates).")
def estimatesmartfee(ctx: Context, conf_target, estimate_mode):
    target = get_int(conf_target)
    if target < 1 or target > MAX_CONF_TARGET:
        raise RpcError(RPC_INVALID_PARAMETER, f"Invalid conf_target, must be between 1 and {MAX_CONF_TARGET}")
    if estimate_mode.lower() not in ("unset", "economical", "conservative"):
        raise RpcError(RPC_INVALID_PARAMETER,
                       'Invalid estimate_mode parameter, must be one of: "unset", "economical", "conservative"')
    return fee_estimate(ctx.chain.fee_estimates, target)


def fee_estimate(table: dict[str, float], target: int) -> dict:
    """The table's rate for the first target at or above `target` (Core treats 1 as 2; past the
    table's largest target, the largest one), in BTC/kvB, never below the 1 sat/vB relay fee."""
    rates = sorted((int(k), v) for k, v in table.items())
    if not rates:
        return {"errors": ["Insufficient data or no feerate found"], "blocks": 0}
    target = max(target, 2)
    blocks, rate = next(((k, v) for k, v in rates if k >= target), rates[-1])
    per_kvb = max(round(rate * 1000), MIN_RELAY_FEE_RATE * 1000)
    return {"feerate": BTC(per_kvb), "blocks": blocks}


@rpc("generatetoaddress", Arg("nblocks", NUM), Arg("address", STR), Arg("maxtries", NUM, False, 1_000_000),
     summary="Mine blocks immediately to a specified address (regtest; the mempool goes into the first ones).")
def generatetoaddress(ctx: Context, nblocks, address, maxtries):
    n = get_int(nblocks)
    get_int(maxtries)
    try:
        script = address_to_script(address)
    except AddressError:
        raise RpcError(RPC_INVALID_ADDRESS_OR_KEY, "Error: Invalid address")
    if n > MAX_GENERATE:
        raise RpcError(RPC_INVALID_PARAMETER, f"The Kura dev chain mines at most {MAX_GENERATE} blocks per call")
    if n <= 0:
        return []
    with ctx.chain.lock:
        mined = ctx.chain.mine(n, script)
    ctx.on_change()
    return [b.hash for b in mined]


# -- JSON-RPC over HTTP ------------------------------------------------------------------------
class Request:
    def __init__(self):
        self.id = None
        self.has_id = False
        self.v2 = False

    def parse(self, obj):
        if not isinstance(obj, dict):
            raise RpcError(RPC_INVALID_REQUEST, "Invalid Request object")
        self.has_id = "id" in obj
        self.id = obj.get("id")
        version = obj.get("jsonrpc")
        if version is not None:
            if not isinstance(version, str):
                raise RpcError(RPC_INVALID_REQUEST, "jsonrpc field must be a string")
            if version == "2.0":
                self.v2 = True
            elif version != "1.0":
                raise RpcError(RPC_INVALID_REQUEST, "JSON-RPC version not supported")
        method = obj.get("method")
        if method is None:
            raise RpcError(RPC_INVALID_REQUEST, "Missing method")
        if not isinstance(method, str):
            raise RpcError(RPC_INVALID_REQUEST, "Method must be a string")
        params = obj.get("params")
        if params is None:
            params = []
        elif not isinstance(params, (list, dict)):
            raise RpcError(RPC_INVALID_REQUEST, "Params must be an array or object")
        return method, params

    @property
    def notification(self) -> bool:
        return self.v2 and not self.has_id

    def reply(self, result=None, error: RpcError | None = None) -> dict:
        if self.v2:
            out = {"jsonrpc": "2.0"}
            if error is not None:
                out["error"] = error.json()
            else:
                out["result"] = result
            out["id"] = self.id
            return out
        return {"result": result, "error": None if error is None else error.json(), "id": self.id}


def _run(ctx: Context, method: str, params):
    try:
        return execute(ctx, method, params)
    except RpcError:
        raise
    except RecursionError:
        raise RpcError(RPC_MISC_ERROR, "nesting too deep")
    except Exception as e:  # a bug: say so rather than drop the connection
        traceback.print_exc(file=sys.stderr)
        raise RpcError(RPC_MISC_ERROR, f"internal error: {type(e).__name__}: {e}")


def _exec_one(ctx: Context, obj) -> tuple[Request, dict]:
    """One request of a batch (or a JSON-RPC 2.0 request): errors become error replies."""
    req = Request()
    try:
        method, params = req.parse(obj)
        return req, req.reply(_run(ctx, method, params))
    except RpcError as e:
        return req, req.reply(error=e)


def handle(ctx: Context, body: bytes) -> tuple[int, str | None]:
    """A request body -> (HTTP status, reply text or None for no content), as Core's HTTPReq_JSONRPC."""
    legacy = Request()
    try:
        try:
            doc = loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise RpcError(RPC_PARSE_ERROR, "Parse error")
        if isinstance(doc, dict):
            req = Request()
            try:
                method, params = req.parse(doc)
            except RpcError:
                legacy = req
                raise
            if req.v2:
                _, reply = _exec_one(ctx, doc)
                return (204, None) if req.notification else (200, dumps(reply) + "\n")
            legacy = req
            return 200, dumps(req.reply(_run(ctx, method, params))) + "\n"
        if isinstance(doc, list):
            replies = []
            for obj in doc:
                req, reply = _exec_one(ctx, obj)
                if not req.notification:
                    replies.append(reply)
            if doc and not replies:
                return 204, None
            return 200, dumps(replies) + "\n"
        raise RpcError(RPC_PARSE_ERROR, "Top-level object parse error")
    except RpcError as e:
        status = {RPC_INVALID_REQUEST: 400, RPC_METHOD_NOT_FOUND: 404}.get(e.code, 500)
        return status, dumps(legacy.reply(error=e)) + "\n"


class CoreRpcServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, chain: Chain, credentials: list[tuple[str, str]], on_change=None,
                 verbose: bool = False):
        self.ctx = Context(chain, on_change)
        self.credentials = [f"{u}:{p}".encode() for u, p in credentials]
        self.verbose = verbose
        super().__init__(address, RpcHandler)


class RpcHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = RPC_SERVER_TIMEOUT
    server: CoreRpcServer

    def log_message(self, fmt, *args):
        if self.server.verbose:
            super().log_message(fmt, *args)

    def _reply(self, status: int, body: bytes = b"", content_type: str | None = None, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _authorized(self) -> bool | None:
        """True, False (wrong credentials) or None (no credentials at all)."""
        header = self.headers.get("Authorization")
        if header is None or not header.startswith("Basic "):
            return None
        try:
            given = base64.b64decode(header[6:].strip(), validate=True)
        except ValueError:
            return False
        ok = False
        for cred in self.server.credentials:
            ok |= hmac.compare_digest(given, cred)
        return ok

    def _handle(self):
        try:
            path = self.path.split("?", 1)[0]
            if path != "/" and not path.startswith("/wallet/"):
                return self._reply(404)
            if self.command != "POST":
                self.close_connection = True
                return self._reply(405, b"JSONRPC server handles only POST requests", "text/html; charset=ISO-8859-1")
            auth = self._authorized()
            if not auth:
                if auth is False:
                    time.sleep(AUTH_FAILURE_DELAY)
                self.close_connection = True
                return self._reply(401, headers=[("WWW-Authenticate", 'Basic realm="jsonrpc"')])
            length = self.headers.get("Content-Length")
            if length is None:
                self.close_connection = True
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    return self._reply(411, b"chunked bodies are not supported: send Content-Length", "text/plain")
                body = b""
            else:
                try:
                    n = int(length)
                except ValueError:
                    n = -1
                if n < 0 or n > MAX_BODY:
                    self.close_connection = True
                    return self._reply(413 if n > MAX_BODY else 400)
                body = self.rfile.read(n)
                if len(body) != n:
                    self.close_connection = True
                    return None
            status, text = handle(self.server.ctx, body)
            if text is None:
                return self._reply(status)
            return self._reply(status, text.encode(), "application/json")
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True
            return None

    do_POST = do_GET = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = _handle


def serve_in_thread(server: CoreRpcServer) -> threading.Thread:
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="devchain-corerpc",
                         daemon=True)
    t.start()
    return t

