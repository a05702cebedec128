"""The dev chain's state and rules: blocks, the UTXO set and the mempool (no sockets, no files).

A submitted transaction is checked in the order Bitcoin Core's mempool checks it, and refused with
Core's RPC error code and reject reason (which Esplora relays): structure, standardness (version,
size, dust), finality (nLockTime), conflicts with the mempool, missing or spent inputs, coinbase
maturity, BIP-0068 relative locks, amounts, the minimum relay fee, and then every input's script in
btclib's script engine (standard flags first; a failure is re-run with consensus flags alone to tell
a policy refusal from an invalid signature). Blocks are real regtest blocks (header, merkle root,
BIP-0034 height, witness commitment, regtest proof of work) and each one is parsed back and checked
by btclib before it is connected.
"""
from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, defaultdict
from dataclasses import dataclass

from btclib.block import Block as BtclibBlock
from btclib.script.engine import ALL_FLAGS, verify_input
from btclib.tx import Tx, TxOut

from . import faucet as faucet_keys
from .script import dust_threshold, is_unspendable, push, push_int, sha256d, var_int

COIN = 100_000_000
MAX_MONEY = 21_000_000 * COIN
REGTEST_BITS = 0x207FFFFF
TARGET = (REGTEST_BITS & 0xFFFFFF) << (8 * ((REGTEST_BITS >> 24) - 3))
HALVING_INTERVAL = 150  # regtest
COINBASE_MATURITY = 100
BLOCK_VERSION = 0x20000000
MAX_BLOCK_WEIGHT = 4_000_000
MAX_STANDARD_TX_WEIGHT = 400_000
MIN_RELAY_FEE_RATE = 1  # sat/vB: Bitcoin Core's default -minrelaytxfee (1000 sat/kvB)
MAX_FEE_RATE = 10_000  # sat/vB: sendrawtransaction's default maxfeerate (0.10 BTC/kvB)
DEFAULT_MAX_FEE_PER_KVB = MAX_FEE_RATE * 1000  # the same in sat/kvB, as Core's RPC takes it
LOCKTIME_THRESHOLD = 500_000_000
SEQUENCE_FINAL = 0xFFFFFFFF
SEQUENCE_DISABLE = 1 << 31
SEQUENCE_TYPE_TIME = 1 << 22
SEQUENCE_MASK = 0xFFFF
STANDARD_VERSIONS = (1, 2, 3)
CONSENSUS_FLAGS = list(ALL_FLAGS)
# Bitcoin Core's standard script flags that btclib's engine implements.
STANDARD_FLAGS = CONSENSUS_FLAGS + ["STRICTENC", "LOW_S", "NULLFAIL", "MINIMALDATA", "MINIMALIF", "CLEANSTACK",
                                    "WITNESS_PUBKEYTYPE", "CONST_SCRIPTCODE", "DISCOURAGE_UPGRADABLE_NOPS",
                                    "DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM"]
BURN_SCRIPT = b"\x6a" + push(b"kura devchain")
RESERVE_OUTPUTS = 100
RESERVE_VALUE = 10_000 * COIN  # per output: 1,000,000 BTC in all
SETUP_HEIGHT = 1 + COINBASE_MATURITY  # block 1 pays the faucet's reserve, the next 100 mature it
FAUCET_FEE = 1_000
FEE_TARGETS = list(range(1, 26)) + [144, 504, 1008]

# Bitcoin Core's RPC error codes, as Esplora relays them.
RPC_DESERIALIZATION_ERROR = -22
RPC_VERIFY_ERROR = -25
RPC_VERIFY_REJECTED = -26
RPC_VERIFY_ALREADY_IN_CHAIN = -27
TX_DECODE_FAILED = "TX decode failed. Make sure the tx has at least one input."

# The real regtest genesis block: its coinbase (the Times headline), unspendable as in Bitcoin Core.
GENESIS_SCRIPT_SIG = bytes.fromhex(
    "04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b"
    "206f66207365636f6e64206261696c6f757420666f722062616e6b73")
GENESIS_SCRIPT = bytes.fromhex(
    "4104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112"
    "de5c384df7ba0b8d578a4c702b6bf11d5fac")
GENESIS_TIME, GENESIS_NONCE = 1296688602, 2
GENESIS_HASH = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"


class Reject(Exception):
    """A refused transaction: Bitcoin Core's RPC error code, its reject reason and a detail."""

    def __init__(self, code: int, reason: str, detail: str = ""):
        self.code, self.reason, self.detail = code, reason, detail
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return f"{self.reason}, {self.detail}" if self.detail else self.reason


class DevError(Exception):
    """A refused /dev request or an unusable state file: a stable code and a message."""

    def __init__(self, code: str, message: str):
        self.code, self.message = code, message
        super().__init__(f"{code}: {message}")


@dataclass(eq=False)
class Coin:
    value: int
    script: bytes
    height: int | None  # None: created by a mempool transaction
    coinbase: bool


@dataclass(eq=False)
class Entry:
    """A transaction the chain knows: in a block, or in the mempool (block is None)."""

    tx: Tx
    raw: bytes
    txid: str
    wtxid: str
    base_size: int
    fee: int
    prevouts: list[Coin]
    block: "BlockRecord | None" = None
    index: int | None = None
    time: int = 0  # when it entered the mempool (clock seconds)
    entry_height: int = 0  # the tip's height when it entered the mempool

    @property
    def size(self) -> int:
        return len(self.raw)

    @property
    def weight(self) -> int:
        return self.base_size * 3 + len(self.raw)

    @property
    def vsize(self) -> int:
        return (self.weight + 3) // 4

    @property
    def coinbase(self) -> bool:
        return self.tx.is_coinbase()

    def outpoints(self) -> list[tuple[str, int]]:
        return [] if self.coinbase else [(i.prev_out.tx_id.hex(), i.prev_out.vout) for i in self.tx.vin]

    def scripts(self) -> set[bytes]:
        """Every output script this transaction pays or spends from."""
        return {o.script_pub_key.script for o in self.tx.vout} | {c.script for c in self.prevouts}


@dataclass(eq=False)
class BlockRecord:
    hash: str
    height: int
    version: int
    prev_hash: str | None
    merkle_root: str
    time: int
    bits: int
    nonce: int
    entries: list[Entry]
    raw: bytes
    base_size: int
    median_time: int = 0

    @property
    def header(self) -> bytes:
        return self.raw[:80]

    @property
    def weight(self) -> int:
        return self.base_size * 3 + len(self.raw)


def subsidy(height: int) -> int:
    halvings = height // HALVING_INTERVAL
    return 0 if halvings >= 64 else (50 * COIN) >> halvings


def merkle_root(hashes: list[bytes]) -> bytes:
    """Bitcoin's merkle root over internal-order hashes (the last one paired with itself)."""
    level = list(hashes)
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        level = [sha256d(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def default_fee_estimates() -> dict[str, float]:
    """Esplora's confirmation targets with rates that fall with the target (never below 1 sat/vB)."""
    return {str(t): max(1.0, round(10.0 / t, 3)) for t in FEE_TARGETS}


def decode_hex_tx(text: str) -> bytes:
    """The bytes of a transaction sent as hex (Esplora's POST /tx body, Core's sendrawtransaction
    argument); anything that is not hex is refused like undecodable bytes (-22)."""
    text = text.strip()
    if not text or len(text) % 2 or not all(c in "0123456789abcdefABCDEF" for c in text):
        raise Reject(RPC_DESERIALIZATION_ERROR, TX_DECODE_FAILED)
    return bytes.fromhex(text)


def _signed64(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _tx_bytes(version: int, vin: list[tuple[bytes, int, bytes, int]], vout: list[tuple[int, bytes]],
              witnesses: list[list[bytes]] | None, locktime: int = 0) -> bytes:
    out = version.to_bytes(4, "little") + (b"\x00\x01" if witnesses else b"")
    out += var_int(len(vin)) + b"".join(txid + n.to_bytes(4, "little") + var_int(len(ss)) + ss + seq.to_bytes(4, "little")
                                         for txid, n, ss, seq in vin)
    out += var_int(len(vout)) + b"".join(v.to_bytes(8, "little") + var_int(len(s)) + s for v, s in vout)
    if witnesses:
        for stack in witnesses:
            out += var_int(len(stack)) + b"".join(var_int(len(item)) + item for item in stack)
    return out + locktime.to_bytes(4, "little")


class Chain:
    """One regtest chain. Every public method takes the chain's lock."""

    def __init__(self, clock=time.time, setup: bool = True):
        self.lock = threading.RLock()
        self.clock = clock
        self.fee_estimates = default_fee_estimates()
        self.max_block_weight = MAX_BLOCK_WEIGHT
        self.extra_nonce = 0
        self._reset()
        self._connect(self._genesis())
        if setup:
            self._mine_one(None, [], reserve=True)
            for _ in range(COINBASE_MATURITY):
                self._mine_one(None, [])

    # -- state ----------------------------------------------------------------------------
    def _reset(self):
        self.blocks: list[BlockRecord] = []
        self.by_hash: dict[str, BlockRecord] = {}
        self.txs: dict[str, Entry] = {}  # confirmed and mempool
        self.utxo: dict[tuple[str, int], Coin] = {}  # confirmed unspent outputs
        self.utxo_by_script: dict[bytes, set[tuple[str, int]]] = defaultdict(set)
        self.spends: dict[tuple[str, int], tuple[str, int]] = {}  # confirmed spends: outpoint -> (txid, vin)
        self.history: dict[bytes, list[Entry]] = defaultdict(list)  # confirmed, in chain order
        self.mempool: OrderedDict[str, Entry] = OrderedDict()  # in arrival order (parents first)
        self.mempool_spends: dict[tuple[str, int], tuple[str, int]] = {}

    @property
    def tip(self) -> BlockRecord:
        return self.blocks[-1]

    @property
    def height(self) -> int:
        return len(self.blocks) - 1

    def _coin(self, op: tuple[str, int]) -> Coin | None:
        """The unspent output at `op`, confirmed or made by a mempool transaction (mempool spends
        are not considered here)."""
        coin = self.utxo.get(op)
        if coin is not None:
            return coin
        parent = self.mempool.get(op[0])
        if parent is not None and op[1] < len(parent.tx.vout):
            out = parent.tx.vout[op[1]]
            if not is_unspendable(out.script_pub_key.script):
                return Coin(out.value, out.script_pub_key.script, None, False)
        return None

    # -- transactions ---------------------------------------------------------------------
    def accept(self, raw: bytes, max_fee_per_kvb: int | None = DEFAULT_MAX_FEE_PER_KVB) -> str:
        """Validates `raw` and adds it to the mempool; returns its txid. The same transaction sent
        again is accepted again (as Bitcoin Core's sendrawtransaction does). `max_fee_per_kvb` is
        sendrawtransaction's maxfeerate in sat/kvB (None or 0: no limit)."""
        with self.lock:
            entry, known = self._check(raw, max_fee_per_kvb)
            if not known:
                entry.time, entry.entry_height = int(self.clock()), self.height
                self.mempool[entry.txid] = entry
                self.txs[entry.txid] = entry
                for i, op in enumerate(entry.outpoints()):
                    self.mempool_spends[op] = (entry.txid, i)
            return entry.txid

    def test_accept(self, raw: bytes, max_fee_per_kvb: int | None = DEFAULT_MAX_FEE_PER_KVB) -> Entry:
        """The checks of `accept` without adding anything (Core's testmempoolaccept): the entry that
        would enter the mempool, or a Reject (a transaction already in the mempool is refused with
        `txn-already-in-mempool`, as testmempoolaccept does)."""
        with self.lock:
            entry, known = self._check(raw, max_fee_per_kvb)
            if known:
                raise Reject(RPC_VERIFY_REJECTED, "txn-already-in-mempool")
            return entry

    def _check(self, raw: bytes, max_fee_per_kvb: int | None = DEFAULT_MAX_FEE_PER_KVB) -> tuple[Entry, bool]:
        try:
            tx = Tx.parse(raw, check_validity=False)
            if tx.serialize(include_witness=True, check_validity=False) != raw:
                raise ValueError("not canonical")
        except Exception:
            raise Reject(RPC_DESERIALIZATION_ERROR, TX_DECODE_FAILED)
        rejected = lambda reason, detail="": Reject(RPC_VERIFY_REJECTED, reason, detail)  # noqa: E731
        base_size = len(tx.serialize(include_witness=False, check_validity=False))
        txid, wtxid = tx.id.hex(), tx.hash.hex()
        ops = [(i.prev_out.tx_id.hex(), i.prev_out.vout) for i in tx.vin]

        # Structure (consensus: CheckTransaction).
        if not tx.vin:
            raise rejected("bad-txns-vin-empty")
        if not tx.vout:
            raise rejected("bad-txns-vout-empty")
        if base_size * 4 > MAX_BLOCK_WEIGHT:
            raise rejected("bad-txns-oversize")
        total = 0
        for n, out in enumerate(tx.vout):
            value = _signed64(out.value)
            if value < 0:
                raise rejected("bad-txns-vout-negative", f"output {n}")
            if value > MAX_MONEY:
                raise rejected("bad-txns-vout-toolarge", f"output {n}")
            total += value
            if total > MAX_MONEY:
                raise rejected("bad-txns-txouttotal-toolarge")
        if len(set(ops)) != len(ops):
            raise rejected("bad-txns-inputs-duplicate")
        if tx.is_coinbase():
            raise rejected("coinbase")
        if any(txin.prev_out.is_coinbase() or op[0] == "00" * 32 for txin, op in zip(tx.vin, ops)):
            raise rejected("bad-txns-prevout-null")

        # Standardness (policy).
        weight = base_size * 3 + len(raw)
        vsize = (weight + 3) // 4
        if tx.version not in STANDARD_VERSIONS:
            raise rejected("version", f"version {tx.version} is not standard")
        if weight > MAX_STANDARD_TX_WEIGHT:
            raise rejected("tx-size", f"weight {weight} > {MAX_STANDARD_TX_WEIGHT}")
        for n, out in enumerate(tx.vout):
            threshold = dust_threshold(out.script_pub_key.script)
            if out.value < threshold:
                raise rejected("dust", f"output {n} pays {out.value} sat, below the dust threshold of {threshold} sat")
        if base_size < 65:
            raise rejected("tx-size-small", f"non-witness size {base_size} < 65")

        # Finality at the next block (nLockTime against its height and the tip's median time).
        next_height, tip_mtp = self.height + 1, self.tip.median_time
        if tx.lock_time != 0 and any(i.sequence != SEQUENCE_FINAL for i in tx.vin):
            limit = next_height if tx.lock_time < LOCKTIME_THRESHOLD else tip_mtp
            if tx.lock_time >= limit:
                raise rejected("non-final", f"nLockTime {tx.lock_time} is not below {limit}")

        # Already known.
        if txid in self.mempool:
            if self.mempool[txid].wtxid == wtxid:
                return self.mempool[txid], True
            raise rejected("txn-same-nonwitness-data-in-mempool")
        if txid in self.txs and any((txid, n) in self.utxo for n in range(len(tx.vout))):
            raise Reject(RPC_VERIFY_ALREADY_IN_CHAIN, "Transaction outputs already in utxo set")

        # Conflicts with the mempool (no replacement), then missing or spent inputs.
        for i, op in enumerate(ops):
            if op in self.mempool_spends:
                other, vin = self.mempool_spends[op]
                raise rejected("txn-mempool-conflict", f"input {i} spends {op[0]}:{op[1]}, already spent by mempool "
                                                       f"transaction {other} (input {vin})")
        prevouts: list[Coin] = []
        for i, op in enumerate(ops):
            coin = self._coin(op)
            if coin is None:
                if op in self.spends:
                    spender = self.txs[self.spends[op][0]]
                    why = f"was spent by {spender.txid} in block {spender.block.height}"
                elif op[0] in self.txs:
                    why = "does not exist (the transaction has no such output, or it is unspendable)"
                else:
                    why = "does not exist (unknown transaction)"
                raise Reject(RPC_VERIFY_ERROR, "bad-txns-inputs-missingorspent", f"input {i}: {op[0]}:{op[1]} {why}")
            if coin.coinbase and next_height - coin.height < COINBASE_MATURITY:
                raise rejected("bad-txns-premature-spend-of-coinbase",
                               f"tried to spend coinbase at depth {next_height - coin.height}")
            prevouts.append(coin)

        # Relative locks (BIP-0068).
        if tx.version >= 2:
            for i, (txin, coin) in enumerate(zip(tx.vin, prevouts)):
                seq = txin.sequence
                if seq & SEQUENCE_DISABLE:
                    continue
                coin_height = next_height if coin.height is None else coin.height
                if seq & SEQUENCE_TYPE_TIME:
                    coin_time = self.blocks[max(coin_height - 1, 0)].median_time
                    if coin_time + ((seq & SEQUENCE_MASK) << 9) - 1 >= tip_mtp:
                        raise rejected("non-BIP68-final", f"input {i} is time-locked")
                elif coin_height + (seq & SEQUENCE_MASK) - 1 >= next_height:
                    raise rejected("non-BIP68-final", f"input {i} is locked until height "
                                                      f"{coin_height + (seq & SEQUENCE_MASK)}")

        # Amounts and fees.
        value_in, value_out = sum(c.value for c in prevouts), total
        if value_in < value_out:
            raise rejected("bad-txns-in-belowout", f"value in ({value_in} sat) < value out ({value_out} sat)")
        fee = value_in - value_out
        if fee < vsize * MIN_RELAY_FEE_RATE:
            raise rejected("min relay fee not met", f"{fee} < {vsize * MIN_RELAY_FEE_RATE}")

        # Every input's script, in btclib's engine.
        txouts = [TxOut(c.value, c.script, check_validity=False) for c in prevouts]
        for i in range(len(tx.vin)):
            self._verify_input(raw, txouts, i)

        if max_fee_per_kvb and fee > math.ceil(max_fee_per_kvb * vsize / 1000):
            raise Reject(RPC_VERIFY_ERROR, "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)",
                         f"{fee} sat for {vsize} vB")
        return Entry(tx, raw, txid, wtxid, base_size, fee, prevouts), False

    @staticmethod
    def _verify_input(raw: bytes, txouts: list[TxOut], i: int):
        def run(flags):
            tx = Tx.parse(raw, check_validity=False)  # fresh: btclib strips a taproot annex in place
            _taproot_key_path_encoding(tx, txouts, i)
            verify_input(txouts, tx, i, flags)

        try:
            run(STANDARD_FLAGS)
            return
        except Exception as standard_error:
            first = standard_error
        try:
            run(CONSENSUS_FLAGS)
        except Exception as consensus_error:
            raise Reject(RPC_VERIFY_REJECTED, f"mandatory-script-verify-flag-failed (input {i} does not verify in "
                                              f"btclib's script engine: {_describe(consensus_error)})")
        raise Reject(RPC_VERIFY_REJECTED, f"non-mandatory-script-verify-flag (input {i} fails a standard script "
                                          f"rule in btclib's script engine: {_describe(first)})")

    # -- blocks ---------------------------------------------------------------------------
    def mine(self, blocks: int = 1, script: bytes | None = None, include_mempool: bool = True) -> list[BlockRecord]:
        """Mines `blocks` blocks, the first ones taking the mempool in arrival order (as much as fits)."""
        with self.lock:
            out = []
            for _ in range(blocks):
                out.append(self._mine_one(script, list(self.mempool.values()) if include_mempool else []))
            return out

    def _mine_one(self, script: bytes | None, candidates: list[Entry], reserve: bool = False) -> BlockRecord:
        height = self.height + 1
        entries, weight = [], 4_000 * 4
        for e in candidates:  # a prefix of the arrival order keeps parents before children
            if weight + e.weight > self.max_block_weight:
                break
            entries.append(e)
            weight += e.weight
        if reserve:
            outputs = [(RESERVE_VALUE, faucet_keys.SCRIPT)] * RESERVE_OUTPUTS
        else:
            outputs = [(subsidy(height) + sum(e.fee for e in entries), script or BURN_SCRIPT)]
        coinbase = self._coinbase(height, outputs, entries)
        body = [coinbase] + entries
        root = merkle_root([bytes.fromhex(e.txid)[::-1] for e in body])
        timestamp = max(int(self.clock()), self.tip.median_time + 1)
        prefix = (BLOCK_VERSION.to_bytes(4, "little") + bytes.fromhex(self.tip.hash)[::-1] + root
                  + timestamp.to_bytes(4, "little") + REGTEST_BITS.to_bytes(4, "little"))
        nonce = 1
        while int.from_bytes(sha256d(prefix + nonce.to_bytes(4, "little")), "little") > TARGET:
            nonce += 1
        raw = prefix + nonce.to_bytes(4, "little") + var_int(len(body)) + b"".join(e.raw for e in body)
        record = self._record(raw, body)
        self._connect(record)
        return record

    def _coinbase(self, height: int, outputs: list[tuple[int, bytes]], entries: list[Entry]) -> Entry:
        self.extra_nonce += 1
        script_sig = push_int(height) + push(b"kura devchain") + push_int(self.extra_nonce)
        segwit = any(e.tx.is_segwit() for e in entries)
        if segwit:
            outputs = outputs + [(0, _commitment_script(entries))]
        raw = _tx_bytes(2, [(b"\x00" * 32, 0xFFFFFFFF, script_sig, SEQUENCE_FINAL)], outputs,
                        [[b"\x00" * 32]] if segwit else None)
        return self._coinbase_entry(raw)

    @staticmethod
    def _coinbase_entry(raw: bytes) -> Entry:
        tx = Tx.parse(raw, check_validity=True)
        return Entry(tx, raw, tx.id.hex(), tx.hash.hex(), len(tx.serialize(False, False)), 0, [])

    def _record(self, raw: bytes, entries: list[Entry]) -> BlockRecord:
        """Checks an assembled or loaded block with btclib (proof of work, merkle root, coinbase
        first, well-formed transactions) and with our own BIP-0034 and witness commitment checks."""
        parsed = BtclibBlock.parse(raw, check_validity=True)
        block_hash = sha256d(raw[:80])[::-1].hex()
        if parsed.header.hash.hex() != block_hash or len(parsed.transactions) != len(entries):
            raise DevError("invalid_block", "btclib reads a different block")
        height = self.height + 1
        coinbase = entries[0]
        if not coinbase.tx.vin[0].script_sig.startswith(push_int(height)):
            raise DevError("invalid_block", f"block {height}: the coinbase does not commit to its height (BIP-0034)")
        if any(e.tx.is_segwit() for e in entries[1:]):
            want = _commitment_script(entries[1:])
            if not any(o.script_pub_key.script == want for o in coinbase.tx.vout):
                raise DevError("invalid_block", f"block {height}: missing or wrong witness commitment")
        prev = raw[4:36][::-1].hex()
        return BlockRecord(
            hash=block_hash, height=height, version=int.from_bytes(raw[0:4], "little", signed=True),
            prev_hash=None if prev == "00" * 32 else prev, merkle_root=raw[36:68][::-1].hex(),
            time=int.from_bytes(raw[68:72], "little"), bits=int.from_bytes(raw[72:76], "little"),
            nonce=int.from_bytes(raw[76:80], "little"), entries=entries, raw=raw,
            base_size=80 + len(var_int(len(entries))) + sum(e.base_size for e in entries))

    def _genesis(self) -> BlockRecord:
        raw_cb = _tx_bytes(1, [(b"\x00" * 32, 0xFFFFFFFF, GENESIS_SCRIPT_SIG, SEQUENCE_FINAL)],
                           [(50 * COIN, GENESIS_SCRIPT)], None)
        cb = self._coinbase_entry(raw_cb)
        header = ((1).to_bytes(4, "little") + b"\x00" * 32 + bytes.fromhex(cb.txid)[::-1]
                  + GENESIS_TIME.to_bytes(4, "little") + REGTEST_BITS.to_bytes(4, "little")
                  + GENESIS_NONCE.to_bytes(4, "little"))
        raw = header + var_int(1) + raw_cb
        parsed = BtclibBlock.parse(raw, check_validity=True)
        assert parsed.header.hash.hex() == GENESIS_HASH
        return BlockRecord(hash=GENESIS_HASH, height=0, version=1, prev_hash=None, merkle_root=cb.txid,
                           time=GENESIS_TIME, bits=REGTEST_BITS, nonce=GENESIS_NONCE, entries=[cb], raw=raw,
                           base_size=len(raw))

    def _connect(self, block: BlockRecord):
        assert block.height == len(self.blocks)
        self.blocks.append(block)
        self.by_hash[block.hash] = block
        times = sorted(b.time for b in self.blocks[-11:])
        block.median_time = times[len(times) // 2]
        for index, e in enumerate(block.entries):
            if e.txid in self.mempool:
                self._mempool_remove(e)
            e.block, e.index = block, index
            self.txs[e.txid] = e
            for i, op in enumerate(e.outpoints()):
                coin = self.utxo.pop(op)
                self.utxo_by_script[coin.script].discard(op)
                self.spends[op] = (e.txid, i)
            if block.height > 0:  # the genesis coinbase is unspendable
                for n, out in enumerate(e.tx.vout):
                    script = out.script_pub_key.script
                    if not is_unspendable(script):
                        self.utxo[(e.txid, n)] = Coin(out.value, script, block.height, e.coinbase)
                        self.utxo_by_script[script].add((e.txid, n))
            for script in e.scripts():
                self.history[script].append(e)

    def _mempool_remove(self, e: Entry):
        del self.mempool[e.txid]
        for op in e.outpoints():
            self.mempool_spends.pop(op, None)

    # -- the faucet -----------------------------------------------------------------------
    def faucet(self, script: bytes, amount: int, confirm: bool = True) -> tuple[Entry, BlockRecord | None]:
        """Pays `amount` to `script` from the faucet's reserve in an ordinary signed transaction
        (output 0), validated like any other; with `confirm`, mines it at once in a block of its own
        (with its unconfirmed ancestors, if the faucet had to spend its own unconfirmed change)."""
        with self.lock:
            if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
                raise DevError("invalid_amount", "amount must be a positive number of satoshis")
            coins = [(op, c) for op in self.utxo_by_script[faucet_keys.SCRIPT]
                     if (c := self.utxo[op]) and op not in self.mempool_spends
                     and (not c.coinbase or self.height + 1 - c.height >= COINBASE_MATURITY)]
            if not coins:  # every confirmed coin is spent in the mempool: use unconfirmed change
                coins = [((e.txid, n), c) for e in self.mempool.values() for n in range(len(e.tx.vout))
                         if (e.txid, n) not in self.mempool_spends and (c := self._coin((e.txid, n)))
                         and c.script == faucet_keys.SCRIPT]
            if not coins:
                raise DevError("faucet_dry", "the faucet has no coins left")
            op, coin = max(coins, key=lambda oc: oc[1].value)
            if coin.value < amount + FAUCET_FEE:
                raise DevError("faucet_dry", f"the faucet's largest coin holds {coin.value} sat; "
                                             f"{amount} sat plus a {FAUCET_FEE} sat fee do not fit")
            change = coin.value - amount - FAUCET_FEE
            outputs = [(amount, script)]
            if change >= dust_threshold(faucet_keys.SCRIPT):
                outputs.append((change, faucet_keys.SCRIPT))
            txid = self.accept(faucet_keys.pay(op, coin.value, outputs))
            block = None
            if confirm:
                block = self._mine_one(None, self._with_ancestors(txid))
            return self.txs[txid], block

    def _with_ancestors(self, txid: str) -> list[Entry]:
        need, stack = set(), [txid]
        while stack:
            t = stack.pop()
            if t in self.mempool and t not in need:
                need.add(t)
                stack.extend(op[0] for op in self.mempool[t].outpoints())
        return [e for e in self.mempool.values() if e.txid in need]

    def faucet_balance(self) -> tuple[int, int]:
        with self.lock:
            confirmed = sum(self.utxo[op].value for op in self.utxo_by_script[faucet_keys.SCRIPT]
                            if op not in self.mempool_spends)
            return confirmed, len(self.utxo_by_script[faucet_keys.SCRIPT])

    # -- re-orgs --------------------------------------------------------------------------
    def reorg(self, depth: int, blocks: int | None = None, drop: list[str] = (), include_mempool: bool = True,
              script: bytes | None = None) -> dict:
        """Disconnects the last `depth` blocks, returns their transactions (and the mempool's) to the
        mempool, each checked again (those listed in `drop`, and any that no longer pass, are left
        out), then mines `blocks` new blocks (default depth + 1)."""
        with self.lock:
            if not isinstance(depth, int) or depth < 1 or depth > self.height - SETUP_HEIGHT:
                raise DevError("invalid_depth", f"depth must be 1..{max(self.height - SETUP_HEIGHT, 0)} "
                                                f"(the first {SETUP_HEIGHT} blocks fund the faucet and stay)")
            blocks = depth + 1 if blocks is None else blocks
            if not isinstance(blocks, int) or blocks < 0 or blocks > 1000:
                raise DevError("invalid_blocks", "blocks must be 0..1000")
            old = self.blocks[-depth:]
            resurrect = [e for b in old for e in b.entries[1:]] + list(self.mempool.values())
            known = {e.txid for e in resurrect}
            unknown = [t for t in drop if t not in known]
            if unknown:
                raise DevError("unknown_txid", f"not in the disconnected blocks or the mempool: {', '.join(unknown)}")
            keep = self.blocks[:-depth]
            self._reset()
            for b in keep:
                self._connect(b)
            returned, dropped = [], []
            for e in resurrect:
                if e.txid in drop:
                    dropped.append({"txid": e.txid, "reason": "dropped on request"})
                    continue
                try:
                    self.accept(e.raw)
                    returned.append(e.txid)
                except Reject as r:
                    dropped.append({"txid": e.txid, "reason": r.message})
            new = self.mine(blocks, script, include_mempool)
            return {"disconnected": [b.hash for b in old], "connected": [b.hash for b in new],
                    "returned": returned, "dropped": dropped, "height": self.height}

    # -- persistence ----------------------------------------------------------------------
    def to_state(self) -> dict:
        with self.lock:
            return {"format": 1, "network": "regtest", "blocks": [b.raw.hex() for b in self.blocks[1:]],
                    "mempool": [e.raw.hex() for e in self.mempool.values()], "feeEstimates": self.fee_estimates}

    @classmethod
    def from_state(cls, state: dict, clock=time.time) -> "Chain":
        """Replays a saved chain, checking every block and every transaction again."""
        if not isinstance(state, dict) or state.get("format") != 1 or state.get("network") != "regtest":
            raise DevError("invalid_state", "not a format 1 regtest dev chain state")
        chain = cls(clock, setup=False)
        try:
            for n, hexblock in enumerate(state["blocks"], start=1):
                chain._load_block(bytes.fromhex(hexblock), n)
            for hextx in state["mempool"]:
                chain.accept(bytes.fromhex(hextx))
            if "feeEstimates" in state:
                chain.set_fee_estimates(state["feeEstimates"])
        except Reject as r:
            raise DevError("invalid_state", f"a saved transaction is refused: {r.message}")
        except DevError as e:
            raise DevError("invalid_state", e.message)
        except (KeyError, TypeError, ValueError) as e:
            raise DevError("invalid_state", f"unreadable state: {e}")
        chain.extra_nonce = len(chain.blocks)
        return chain

    def _load_block(self, raw: bytes, height: int):
        try:
            parsed = BtclibBlock.parse(raw, check_validity=True)
        except Exception as e:
            raise DevError("invalid_state", f"block {height} is not a valid block for btclib: {_describe(e)}")
        if parsed.serialize(include_witness=True, check_validity=False) != raw:
            raise DevError("invalid_state", f"block {height} has extra, missing or non-canonical bytes")
        if raw[4:36][::-1].hex() != self.tip.hash:
            raise DevError("invalid_state", f"block {height} does not extend block {height - 1}")
        txs = [t.serialize(include_witness=True, check_validity=False) for t in parsed.transactions]
        coinbase = self._coinbase_entry(txs[0])
        for t in txs[1:]:
            self.accept(t)
        entries = [coinbase] + [self.txs[Tx.parse(t, check_validity=False).id.hex()] for t in txs[1:]]
        if len(self.mempool) != len(entries) - 1:
            raise DevError("invalid_state", f"block {height} repeats a transaction")
        self._connect(self._record(raw, entries))

    # -- fee estimates --------------------------------------------------------------------
    def set_fee_estimates(self, estimates: dict):
        """Replaces the table (target -> sat/vB). An empty table is allowed: Esplora then answers
        `{}` (as a fresh esplora does) and estimatesmartfee answers \"Insufficient data\"."""
        if not isinstance(estimates, dict):
            raise DevError("invalid_fee_estimates", "an object of target -> sat/vB")
        for k, v in estimates.items():
            if not (isinstance(k, str) and k.isdigit() and int(k) > 0) or isinstance(v, bool) \
                    or not isinstance(v, (int, float)):
                raise DevError("invalid_fee_estimates", f"bad entry {k!r}: {v!r} (want a positive target and a number)")
        with self.lock:
            self.fee_estimates = {k: float(v) for k, v in sorted(estimates.items(), key=lambda kv: int(kv[0]))}


def _commitment_script(entries: list[Entry]) -> bytes:
    """The BIP-0141 witness commitment over the coinbase (wtxid zero) and `entries`."""
    root = merkle_root([b"\x00" * 32] + [bytes.fromhex(e.wtxid)[::-1] for e in entries])
    return b"\x6a\x24\xaa\x21\xa9\xed" + sha256d(root + b"\x00" * 32)


def _taproot_key_path_encoding(tx: Tx, txouts: list[TxOut], i: int):
    """Consensus rules btclib's taproot key path does not check: a 64-byte signature, or 65 bytes
    ending in a defined hash type other than 0 (BIP-0341)."""
    script = txouts[i].script_pub_key.script
    if len(script) != 34 or script[:2] != b"\x51\x20":
        return
    stack = list(tx.vin[i].script_witness.stack)
    if len(stack) >= 2 and stack[-1][:1] == b"\x50":
        stack = stack[:-1]
    if len(stack) != 1:
        return
    sig = stack[0]
    if len(sig) not in (64, 65):
        raise ValueError(f"Invalid Schnorr signature size ({len(sig)} bytes)")
    if len(sig) == 65 and sig[64] not in (0x01, 0x02, 0x03, 0x81, 0x82, 0x83):
        raise ValueError(f"Invalid Schnorr signature hash type ({sig[64]:#04x})")


def _describe(e: Exception) -> str:
    text = str(e).strip()
    return f"{type(e).__name__}: {text}" if text else type(e).__name__
