"""The chain as Esplora shows it: the JSON shapes of Blockstream's esplora API.md (transaction, block,
status, UTXO, outspend and address formats). Callers hold the chain's lock."""
from __future__ import annotations

from .chain import REGTEST_BITS, BlockRecord, Chain, Coin, Entry
from .script import asm, script_address, script_type, sha256

TXS_PAGE_CHAIN = 25
TXS_PAGE_MEMPOOL = 50
BLOCKS_PAGE = 10
BLOCK_TXS_PAGE = 25


def difficulty(bits: int = REGTEST_BITS) -> float:
    target = (bits & 0xFFFFFF) << (8 * ((bits >> 24) - 3))
    return float((0xFFFF << 208) / target)


def status(e: Entry) -> dict:
    if e.block is None:
        return {"confirmed": False}
    return {"confirmed": True, "block_height": e.block.height, "block_hash": e.block.hash, "block_time": e.block.time}


def vout_json(value: int, script: bytes) -> dict:
    out = {"scriptpubkey": script.hex(), "scriptpubkey_asm": asm(script), "scriptpubkey_type": script_type(script)}
    address = script_address(script)
    if address is not None:
        out["scriptpubkey_address"] = address
    out["value"] = value
    return out


def _pushes(script: bytes) -> list[bytes]:
    data, i = [], 0
    while i < len(script):
        op = script[i]
        i += 1
        if 1 <= op <= 0x4E:
            n = op
            if op > 0x4B:
                width = {0x4C: 1, 0x4D: 2, 0x4E: 4}[op]
                n = int.from_bytes(script[i:i + width], "little")
                i += width
            data.append(script[i:i + n])
            i += n
    return data


def vin_json(e: Entry, i: int) -> dict:
    txin = e.tx.vin[i]
    witness = list(txin.script_witness.stack)
    out = {"txid": txin.prev_out.tx_id.hex(), "vout": txin.prev_out.vout}
    prev: Coin | None = None if e.coinbase else e.prevouts[i]
    out["prevout"] = None if prev is None else vout_json(prev.value, prev.script)
    out["scriptsig"] = txin.script_sig.hex()
    out["scriptsig_asm"] = asm(txin.script_sig)
    if witness:
        out["witness"] = [w.hex() for w in witness]
    out["is_coinbase"] = e.coinbase
    out["sequence"] = txin.sequence
    if prev is not None:
        kind = script_type(prev.script)
        inner = prev.script
        if kind == "p2sh" and txin.script_sig:
            pushes = _pushes(txin.script_sig)
            if pushes:
                inner = pushes[-1]
                out["inner_redeemscript_asm"] = asm(inner)
                kind = script_type(inner)
        if kind == "v0_p2wsh" and witness:
            out["inner_witnessscript_asm"] = asm(witness[-1])
        elif kind == "v1_p2tr":
            stack = witness[:-1] if len(witness) >= 2 and witness[-1][:1] == b"\x50" else witness
            if len(stack) >= 2:
                out["inner_witnessscript_asm"] = asm(stack[-2])
    return out


def tx_json(e: Entry, with_status: bool = True) -> dict:
    out = {
        "txid": e.txid, "version": e.tx.version, "locktime": e.tx.lock_time,
        "vin": [vin_json(e, i) for i in range(len(e.tx.vin))],
        "vout": [vout_json(o.value, o.script_pub_key.script) for o in e.tx.vout],
        "size": e.size, "weight": e.weight, "fee": e.fee,
    }
    if with_status:
        out["status"] = status(e)
    return out


def block_json(b: BlockRecord) -> dict:
    return {
        "id": b.hash, "height": b.height, "version": b.version, "timestamp": b.time, "tx_count": len(b.entries),
        "size": len(b.raw), "weight": b.weight, "merkle_root": b.merkle_root, "previousblockhash": b.prev_hash,
        "mediantime": b.median_time, "nonce": b.nonce, "bits": b.bits, "difficulty": difficulty(b.bits),
    }


def block_status(chain: Chain, b: BlockRecord) -> dict:
    out = {"in_best_chain": True, "height": b.height}
    if b.height < chain.height:
        out["next_best"] = chain.blocks[b.height + 1].hash
    return out


def outspend(chain: Chain, txid: str, vout: int) -> dict:
    op = (txid, vout)
    spender = chain.mempool_spends.get(op) or chain.spends.get(op)
    if spender is None:
        return {"spent": False}
    e = chain.txs[spender[0]]
    return {"spent": True, "txid": e.txid, "vin": spender[1], "status": status(e)}


def script_hash(script: bytes) -> str:
    """Esplora's scripthash: SHA-256 of the output script, hex in natural byte order."""
    return sha256(script).hex()


def find_script(chain: Chain, scripthash: str) -> bytes | None:
    """The script with this Esplora scripthash, among the scripts the chain has seen."""
    for script in list(chain.history) + [s for e in chain.mempool.values() for s in e.scripts()]:
        if script_hash(script) == scripthash:
            return script
    return None


def utxos(chain: Chain, script: bytes) -> list[dict]:
    """Confirmed outputs not spent in the mempool, then unconfirmed ones not spent in the mempool."""
    out = []
    for op in sorted(chain.utxo_by_script.get(script, ()), key=lambda op: (chain.utxo[op].height, op)):
        if op not in chain.mempool_spends:
            out.append({"txid": op[0], "vout": op[1], "status": status(chain.txs[op[0]]), "value": chain.utxo[op].value})
    for e in chain.mempool.values():
        for n, o in enumerate(e.tx.vout):
            if o.script_pub_key.script == script and (e.txid, n) not in chain.mempool_spends:
                out.append({"txid": e.txid, "vout": n, "status": {"confirmed": False}, "value": o.value})
    return out


def mempool_txs(chain: Chain, script: bytes) -> list[Entry]:
    """Unconfirmed transactions touching `script`, newest first."""
    return [e for e in reversed(chain.mempool.values()) if script in e.scripts()]


def chain_txs(chain: Chain, script: bytes, last_seen: str | None = None) -> list[Entry] | None:
    """Confirmed transactions touching `script`, newest first, after `last_seen` (None: it is not there)."""
    history = list(reversed(chain.history.get(script, [])))
    if last_seen is not None:
        ids = [e.txid for e in history]
        if last_seen not in ids:
            return None
        history = history[ids.index(last_seen) + 1:]
    return history[:TXS_PAGE_CHAIN]


def address_stats(chain: Chain, script: bytes | None) -> dict:
    def stats(entries):
        s = {"funded_txo_count": 0, "funded_txo_sum": 0, "spent_txo_count": 0, "spent_txo_sum": 0,
             "tx_count": len(entries)}
        for e in entries:
            for o in e.tx.vout:
                if o.script_pub_key.script == script:
                    s["funded_txo_count"] += 1
                    s["funded_txo_sum"] += o.value
            for c in e.prevouts:
                if c.script == script:
                    s["spent_txo_count"] += 1
                    s["spent_txo_sum"] += c.value
        return s

    if script is None:  # a scripthash the chain has never seen
        return {"chain_stats": stats([]), "mempool_stats": stats([])}
    return {"chain_stats": stats(chain.history.get(script, [])), "mempool_stats": stats(mempool_txs(chain, script))}
