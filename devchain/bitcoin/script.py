"""Scripts as Esplora shows them: types, addresses, assembly; and the small encodings a block needs."""
from __future__ import annotations

import hashlib

from btclib.script.script import OP_CODE_NAME_FROM_INT
from btclib.script.script_pub_key import ScriptPubKey, address as btclib_address

NETWORK = "regtest"
# Base58 addresses share their version bytes between testnet and regtest (btclib reports them as
# testnet); bech32 ones must carry regtest's "bcrt" prefix. Esplora (electrs) accepts the same.
ACCEPTED_NETWORKS = {"regtest", "testnet"}


class AddressError(ValueError):
    """An address that is not a valid address of this network (Esplora: HTTP 400)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def sha256(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def sha256d(b: bytes) -> bytes:
    return sha256(sha256(b))


def hash160(b: bytes) -> bytes:
    return hashlib.new("ripemd160", sha256(b)).digest()


def address_to_script(address: str) -> bytes:
    try:
        spk = ScriptPubKey.from_address(address)
    except Exception:
        raise AddressError("Invalid Bitcoin address")
    bech32 = address.lower().startswith(("bc1", "tb1", "bcrt1"))
    if spk.network != NETWORK and (bech32 or spk.network not in ACCEPTED_NETWORKS):
        raise AddressError("Address on invalid network")
    return spk.script


def script_address(script: bytes) -> str | None:
    try:
        return btclib_address(script, NETWORK)
    except Exception:
        return None


def witness_program(script: bytes) -> tuple[int, bytes] | None:
    """(version, program) of a segwit output script, else None (BIP-0141)."""
    if 4 <= len(script) <= 42 and (script[0] == 0 or 0x51 <= script[0] <= 0x60) and script[1] == len(script) - 2:
        return (0 if script[0] == 0 else script[0] - 0x50), script[2:]
    return None


def is_unspendable(script: bytes) -> bool:
    return (len(script) > 0 and script[0] == 0x6A) or len(script) > 10_000


def script_type(script: bytes) -> str:
    """The `scriptpubkey_type` names Esplora uses."""
    wp = witness_program(script)
    if not script:
        return "empty"
    if script[0] == 0x6A:
        return "op_return"
    if (len(script) == 35 and script[0] == 33 or len(script) == 67 and script[0] == 65) and script[-1] == 0xAC:
        return "p2pk"
    if len(script) == 25 and script[:3] == b"\x76\xa9\x14" and script[-2:] == b"\x88\xac":
        return "p2pkh"
    if len(script) == 23 and script[:2] == b"\xa9\x14" and script[-1] == 0x87:
        return "p2sh"
    if wp and wp[0] == 0 and len(wp[1]) == 20:
        return "v0_p2wpkh"
    if wp and wp[0] == 0 and len(wp[1]) == 32:
        return "v0_p2wsh"
    if wp and wp[0] == 1 and len(wp[1]) == 32:
        return "v1_p2tr"
    if is_unspendable(script):
        return "provably_unspendable"
    return "unknown"


def _op_name(op: int) -> str:
    if op == 0:
        return "OP_0"
    if op == 0x4F:
        return "OP_PUSHNUM_NEG1"
    if 0x51 <= op <= 0x60:
        return f"OP_PUSHNUM_{op - 0x50}"
    if op == 0xB1:
        return "OP_CLTV"
    if op == 0xB2:
        return "OP_CSV"
    name = OP_CODE_NAME_FROM_INT.get(op)
    if name is None or op > 0xBA:
        return f"OP_RETURN_{op}"
    return name


def asm(script: bytes) -> str:
    """Assembly in the style Esplora (rust-bitcoin) prints: `OP_0 OP_PUSHBYTES_20 <hex>`."""
    out, i = [], 0
    while i < len(script):
        op = script[i]
        i += 1
        if 1 <= op <= 0x4E:
            if op <= 0x4B:
                n, name = op, f"OP_PUSHBYTES_{op}"
            else:
                width = {0x4C: 1, 0x4D: 2, 0x4E: 4}[op]
                if i + width > len(script):
                    out.append("<unexpected end>")
                    break
                n = int.from_bytes(script[i:i + width], "little")
                name = {0x4C: "OP_PUSHDATA1", 0x4D: "OP_PUSHDATA2", 0x4E: "OP_PUSHDATA4"}[op]
                i += width
            if i + n > len(script):
                out.append("<unexpected end>")
                break
            out.append(f"{name} {script[i:i + n].hex()}")
            i += n
        else:
            out.append(_op_name(op))
    return " ".join(out)


def push(data: bytes) -> bytes:
    """A minimal data push."""
    n = len(data)
    if n < 0x4C:
        return bytes([n]) + data
    if n <= 0xFF:
        return b"\x4c" + bytes([n]) + data
    if n <= 0xFFFF:
        return b"\x4d" + n.to_bytes(2, "little") + data
    return b"\x4e" + n.to_bytes(4, "little") + data


def push_int(n: int) -> bytes:
    """`CScript() << n` as Bitcoin Core writes it (OP_0, OP_1..OP_16, or a CScriptNum push)."""
    if n == 0:
        return b"\x00"
    if 1 <= n <= 16:
        return bytes([0x50 + n])
    data = bytearray()
    v = n
    while v:
        data.append(v & 0xFF)
        v >>= 8
    if data[-1] & 0x80:
        data.append(0)
    return push(bytes(data))


def var_int(n: int) -> bytes:
    if n < 0xFD:
        return bytes([n])
    if n <= 0xFFFF:
        return b"\xfd" + n.to_bytes(2, "little")
    if n <= 0xFFFFFFFF:
        return b"\xfe" + n.to_bytes(4, "little")
    return b"\xff" + n.to_bytes(8, "little")


def dust_threshold(script: bytes, dust_relay_fee_rate: int = 3) -> int:
    """Bitcoin Core's GetDustThreshold at its default dust relay fee (3 sat/vB)."""
    if is_unspendable(script):
        return 0
    size = 8 + len(var_int(len(script))) + len(script)
    size += (32 + 4 + 1 + 107 // 4 + 4) if witness_program(script) else (32 + 4 + 1 + 107 + 4)
    return size * dust_relay_fee_rate
