"""The Ethereum dev chain's state and rules: a py-evm chain (no sockets, no files).

py-evm (`eth.chains.base.MiningChain` with the Prague VM, post-merge, chain id configurable) is the
judge: a submitted transaction is decoded by its transaction builder and applied to the pending
block, which runs py-evm's checks (signature values and recovery, intrinsic gas, fee cap against the
block's base fee, priority fee against fee cap, balance for gas and value, nonce, block gas) and
executes it. What py-evm refuses is refused, with geth's error message for the rule that failed.
What py-evm leaves to the node is checked here before it: the chain id (typed transactions and
EIP-155 legacy ones; unprotected legacy transactions are refused, as geth does over RPC), the
transaction types offered over RPC (0, 1 and 2), geth's 128 KiB size limit, and one EIP-1559 rule
py-evm 0.12.1b1 does not check (max priority fee per gas ≤ max fee per gas).

Accepted transactions wait in the pending block: with automine each one is mined at once in a block
of its own; without, they wait for `mine` (evm_mine, the timer). The chain is recorded as its blocks'
timestamps and raw transactions, which is enough to rebuild it exactly (state files, snapshots).
"""
from __future__ import annotations

import json
import pathlib
import threading
import time
from dataclasses import dataclass, field

import rlp
from eth._utils.transactions import extract_chain_id
from eth.chains.base import MiningChain
from eth.db.atomic import AtomicDB
from eth.estimators.gas import binary_gas_search_exact
from eth.exceptions import OutOfGas, Revert, VMError
from eth.vm.forks import PragueVM
from eth.vm.spoof import SpoofTransaction
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_keys.exceptions import BadSignature
from eth_utils import ValidationError, keccak, to_checksum_address

from . import faucet

HERE = pathlib.Path(__file__).resolve().parent
TOKEN = json.loads((HERE / "contracts" / "KuraUSD.json").read_text())
TOKEN_BYTECODE = bytes.fromhex(TOKEN["bytecode"][2:])

DEFAULT_CHAIN_ID = 1337  # geth --dev's and most dev chains' id
GAS_LIMIT = 30_000_000
MAX_TX_SIZE = 128 * 1024  # geth's txMaxSize
PRIORITY_FEE = 10**9  # eth_maxPriorityFeePerGas: 1 gwei
TX_TYPES = (0, 1, 2)  # legacy, EIP-2930, EIP-1559
MAX_MINE = 10_000
MAX_LOG_RANGE = 10_000
STATE_VERSION = 1
ERROR_SELECTOR = keccak(text="Error(string)")[:4]
PANIC_SELECTOR = keccak(text="Panic(uint256)")[:4]

# JSON-RPC error codes as geth answers them.
TX_ERROR = -32000  # every refused transaction, failed call without revert data
REVERT_ERROR = 3  # execution reverted with revert data (the data is in the error's `data`)
INVALID_PARAMS = -32602


class Reject(Exception):
    """A refused request: a JSON-RPC error code, geth's message, and optional `data`."""

    def __init__(self, message: str, code: int = TX_ERROR, data: str | None = None):
        self.code, self.message, self.data = code, message, data
        super().__init__(message)


class DevError(Exception):
    """An unusable state file or configuration."""


@dataclass(eq=False)
class Mined:
    """What rebuilds one mined block: its timestamp and raw transactions (and its hash, to check)."""

    timestamp: int
    hash: str
    raws: list[bytes] = field(default_factory=list)


def _chain_class(chain_id: int):
    class KuraDevChain(MiningChain):
        vm_configuration = ((0, PragueVM),)

        def create_header_from_parent(self, parent_header, **header_params):
            # A constant gas limit, as eth-tester keeps it.
            header_params["gas_limit"] = parent_header.gas_limit
            return super().create_header_from_parent(parent_header, **header_params)

    KuraDevChain.chain_id = chain_id
    return KuraDevChain


def prev_randao(number: int) -> bytes:
    """The block's mix hash (post-merge PREVRANDAO): deterministic, so that a replay rebuilds the
    same blocks. There is no randomness on this chain."""
    return keccak(b"kura devchain prevrandao" + number.to_bytes(8, "big"))


def selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def revert_reason(data: bytes) -> str | None:
    """The reason of an Error(string) or Panic(uint256) revert, as geth decodes it."""
    try:
        if data[:4] == ERROR_SELECTOR:
            return abi_decode(["string"], data[4:])[0]
        if data[:4] == PANIC_SELECTOR:
            return f"panic: {hex(abi_decode(['uint256'], data[4:])[0])}"
    except Exception:  # undecodable: geth then says only "execution reverted"
        return None
    return None


def execution_error(err: VMError) -> Reject:
    """geth's answer to a call that fails: code 3 with the revert data, -32000 otherwise."""
    if isinstance(err, Revert):
        data = bytes(err.args[0]) if err.args and isinstance(err.args[0], (bytes, bytearray)) else b""
        if not data:
            return Reject("execution reverted")
        reason = revert_reason(data)
        return Reject("execution reverted" + (f": {reason}" if reason else ""), REVERT_ERROR, "0x" + data.hex())
    if isinstance(err, OutOfGas):
        return Reject("out of gas")
    return Reject(f"{type(err).__name__}: {err}" if str(err) else type(err).__name__)


def effective_gas_price(tx, base_fee: int) -> int:
    return min(tx.max_fee_per_gas, base_fee + tx.max_priority_fee_per_gas)


def tx_type(tx) -> int:
    return tx.type_id if tx.type_id is not None else 0


class Chain:
    """The dev chain. Every method that reads or changes it takes `lock` (re-entrant)."""

    def __init__(self, chain_id: int = DEFAULT_CHAIN_ID, automine: bool = True, genesis_time: int | None = None,
                 _setup: bool = True):
        if not 1 <= chain_id < 2**64:
            raise DevError("the chain id must be in 1..2^64-1")
        self.lock = threading.RLock()
        self.chain_id = chain_id
        self.automine = automine
        self.genesis_time = int(time.time()) if genesis_time is None else genesis_time
        self.snapshots: list[int] = []
        self._genesis()
        if _setup:
            self._setup()

    # -- building --------------------------------------------------------------------------
    def _genesis(self):
        params = {"coinbase": b"\0" * 20, "difficulty": 0, "extra_data": b"kura devchain", "gas_limit": GAS_LIMIT,
                  "mix_hash": b"\0" * 32, "nonce": b"\0" * 8, "timestamp": self.genesis_time}
        state = {faucet.ADDRESS: {"balance": faucet.GENESIS_BALANCE, "nonce": 0, "code": b"", "storage": {}}}
        self.evm = _chain_class(self.chain_id).from_genesis(AtomicDB(), params, state)
        self.blocks: list[Mined] = []  # blocks 1.. (block 0 is the genesis)
        self.pending: list[bytes] = []  # raw transactions in the pending block, in order
        self.tx_index: dict[bytes, tuple[int, int]] = {}  # mined: hash -> (block number, index)

    def _setup(self):
        """Block 1: the faucet deploys the KUSD token (its nonce 0, so at faucet.TOKEN_ADDRESS)."""
        automine, self.automine = self.automine, False
        try:
            self.faucet_send(b"", 0, TOKEN_BYTECODE)
            self.mine(1)
        finally:
            self.automine = automine
        receipt = self.receipt(keccak(self.blocks[0].raws[0]))
        if receipt is None or receipt["status"] != 1 or receipt["contract"] != faucet.TOKEN_ADDRESS:
            raise DevError("the token's deployment failed")

    def _replay(self, blocks: list[Mined], pending: list[bytes]):
        """Rebuilds the chain from its genesis: every block and transaction checked again."""
        self._genesis()
        for n, rec in enumerate(blocks, start=1):
            self.evm.set_header_timestamp(rec.timestamp)
            for raw in rec.raws:
                try:
                    self._apply(raw, replay=True)
                except Reject as r:
                    raise DevError(f"block {n}: a transaction is refused: {r.message}")
            block = self._mine_one(timestamp=rec.timestamp)
            if block.hash.hex() != rec.hash:
                raise DevError(f"block {n} replays to {block.hash.hex()}, not {rec.hash}")
        for raw in pending:
            try:
                self._apply(raw)
            except Reject as r:
                raise DevError(f"a pending transaction is refused: {r.message}")

    def to_state(self) -> dict:
        with self.lock:
            return {"version": STATE_VERSION, "chain_id": self.chain_id, "genesis_time": self.genesis_time,
                    "automine": self.automine, "snapshots": self.snapshots,
                    "blocks": [{"timestamp": b.timestamp, "hash": b.hash, "txs": [r.hex() for r in b.raws]}
                               for b in self.blocks],
                    "pending": [r.hex() for r in self.pending]}

    @classmethod
    def from_state(cls, state: dict, chain_id: int | None = None) -> "Chain":
        try:
            if state.get("version") != STATE_VERSION:
                raise DevError(f"unknown state version {state.get('version')!r}")
            if chain_id is not None and state["chain_id"] != chain_id:
                raise DevError(f"the state file's chain id is {state['chain_id']}, not {chain_id}")
            chain = cls(state["chain_id"], bool(state["automine"]), int(state["genesis_time"]), _setup=False)
            blocks = [Mined(int(b["timestamp"]), b["hash"], [bytes.fromhex(t) for t in b["txs"]]) for b in state["blocks"]]
            chain._replay(blocks, [bytes.fromhex(t) for t in state["pending"]])
            chain.snapshots = [int(s) for s in state.get("snapshots", [])]
        except (KeyError, TypeError, ValueError) as e:
            raise DevError(f"the state file is not usable: {type(e).__name__}: {e}")
        if not chain.blocks or chain.evm.get_vm().state.get_code(faucet.TOKEN_ADDRESS) == b"":
            raise DevError("the state file has no token")
        return chain

    # -- transactions ------------------------------------------------------------------------
    def _decode(self, raw: bytes):
        """A raw transaction decoded by py-evm's builder; only the exact encoding is accepted."""
        if not raw:
            raise Reject("typed transaction too short")
        if len(raw) > MAX_TX_SIZE:
            raise Reject(f"oversized data: transaction size {len(raw)}, limit {MAX_TX_SIZE}")
        if raw[0] <= 0x7F and raw[0] not in TX_TYPES:
            raise Reject("transaction type not supported")
        try:
            tx = self.evm.get_vm().get_transaction_builder().decode(raw)
            canonical = tx.encode()
        except Exception as e:  # rlp's and py-evm's decoding errors have no common base class
            raise Reject(f"rlp: {type(e).__name__}: {e}")
        if canonical != raw:
            raise Reject("rlp: the transaction is not in its canonical encoding (trailing or non-minimal bytes)")
        return tx

    def _apply(self, raw: bytes, replay: bool = False):
        """Decodes and applies `raw` to the pending block; py-evm decides. Returns the transaction."""
        tx = self._decode(raw)
        if tx.hash in self.tx_index or any(keccak(r) == tx.hash for r in self.pending):
            raise Reject("already known")
        if tx_type(tx) == 0:
            if tx.v in (27, 28):
                raise Reject("only replay-protected (EIP-155) transactions allowed over RPC")
            tx_chain = extract_chain_id(tx.v) if tx.v >= 35 else None
        else:
            tx_chain = tx.chain_id
        if tx_chain != self.chain_id:
            raise Reject(f"invalid sender: invalid chain id for signer: have {tx_chain} want {self.chain_id}")
        if tx_type(tx) == 2 and tx.max_priority_fee_per_gas > tx.max_fee_per_gas:  # EIP-1559; py-evm 0.12.1b1 omits it
            raise self._refusal(tx, "priority fee above the fee cap")
        if not self.pending and not replay:  # the pending block's time is when its first transaction arrives
            parent = self.evm.get_canonical_head()
            self.evm.set_header_timestamp(max(int(time.time()), parent.timestamp + 1, self.evm.header.timestamp))
        try:
            self.evm.apply_transaction(tx)
        except (ValidationError, BadSignature) as e:
            raise self._refusal(tx, str(e))
        self.pending.append(raw)
        return tx

    def _refusal(self, tx, reason: str) -> Reject:
        """geth's message for the rule py-evm says the transaction broke (`reason` is py-evm's)."""
        try:
            sender = tx.sender
        except Exception:
            return Reject(f"invalid sender: {reason}")
        who = to_checksum_address(sender)
        state = self.evm.get_vm().state
        header = self.evm.header
        low = reason.lower()
        if "signature" in low or "transaction.r" in low or "transaction.s" in low or "transaction.v" in low \
                or "y_parity" in low:
            return Reject(f"invalid transaction v, r, s values ({reason})")
        if "insufficient gas" in low or "intrinsic" in low or "message.gas cannot be negative" in low:
            return Reject(f"intrinsic gas too low: gas {tx.gas}, minimum needed {tx.intrinsic_gas}")
        if "exceeds gas limit" in low:
            if tx.gas > header.gas_limit:
                return Reject("exceeds block gas limit")
            return Reject(f"exceeds block gas limit: the pending block has {header.gas_limit - header.gas_used} gas "
                          f"left (mine it first: evm_mine)")
        if "base fee" in low:
            return Reject(f"max fee per gas less than block base fee: address {who}, maxFeePerGas: "
                          f"{tx.max_fee_per_gas}, baseFee: {header.base_fee_per_gas}")
        if "priority" in low:
            return Reject(f"max priority fee per gas higher than max fee per gas: address {who}, "
                          f"maxPriorityFeePerGas: {tx.max_priority_fee_per_gas}, maxFeePerGas: {tx.max_fee_per_gas}")
        if "balance" in low or "afford" in low:
            want = tx.value + tx.gas * tx.max_fee_per_gas
            return Reject(f"insufficient funds for gas * price + value: address {who} have "
                          f"{state.get_balance(sender)} want {want}")
        if "nonce" in low:
            expected = state.get_nonce(sender)
            kind = "nonce too low" if tx.nonce < expected else "nonce too high"
            return Reject(f"{kind}: address {who}, tx: {tx.nonce} state: {expected}")
        return Reject(f"invalid transaction: {reason}")

    def accept(self, raw: bytes) -> bytes:
        """Checks `raw` and puts it in the pending block (mined at once with automine): its hash."""
        with self.lock:
            tx = self._apply(raw)
            if self.automine:
                self.mine(1)
            return tx.hash

    def faucet_send(self, to: bytes, value: int, data: bytes = b"") -> bytes:
        """An EIP-1559 transaction signed by the faucet's key, submitted like any other."""
        with self.lock:
            state = self.evm.get_vm().state
            nonce = state.get_nonce(faucet.ADDRESS)
            gas = self.estimate_gas({"from": faucet.ADDRESS, "to": to, "value": value, "data": data}, "pending")
            base = self.evm.header.base_fee_per_gas
            builder = self.evm.get_vm().get_transaction_builder()
            unsigned = builder.new_unsigned_dynamic_fee_transaction(
                chain_id=self.chain_id, nonce=nonce, max_priority_fee_per_gas=PRIORITY_FEE,
                max_fee_per_gas=2 * base + PRIORITY_FEE, gas=gas, to=to, value=value, data=data, access_list=())
            return self.accept(unsigned.as_signed_transaction(faucet.KEY).encode())

    def mint_token(self, to: bytes, amount: int) -> bytes:
        return self.faucet_send(faucet.TOKEN_ADDRESS, 0,
                                selector("mint(address,uint256)") + abi_encode(["address", "uint256"], [to, amount]))

    # -- blocks --------------------------------------------------------------------------------
    def _mine_one(self, timestamp: int | None = None):
        parent = self.evm.get_canonical_head()
        if timestamp is None and not self.pending:
            self.evm.set_header_timestamp(max(int(time.time()), parent.timestamp + 1))
        block = self.evm.mine_block(mix_hash=prev_randao(parent.block_number + 1), blob_gas_used=0)
        for i, tx in enumerate(block.transactions):
            self.tx_index[tx.hash] = (block.number, i)
        self.blocks.append(Mined(block.header.timestamp, block.hash.hex(), self.pending))
        self.pending = []
        return block

    def mine(self, n: int = 1) -> list:
        """Mines n blocks (the pending block first): the blocks."""
        with self.lock:
            return [self._mine_one() for _ in range(n)]

    @property
    def height(self) -> int:
        return len(self.blocks)

    def block(self, number: int):
        """Mined block `number`, or the pending block (number height + 1)."""
        with self.lock:
            if number == self.height + 1:
                return self.evm.get_block()
            return self.evm.get_canonical_block_by_number(number)

    def block_by_hash(self, block_hash: bytes):
        with self.lock:
            try:
                block = self.evm.get_block_by_hash(block_hash)
            except Exception:
                return None
            if block.number > self.height or self.evm.get_canonical_block_hash(block.number) != block_hash:
                return None
            return block

    def header_at(self, number: int):
        """The header whose state is the state after block `number` (height + 1: the pending block)."""
        return self.evm.header if number == self.height + 1 else self.evm.get_canonical_block_header_by_number(number)

    def state_at(self, number: int):
        return self.evm.get_vm(self.header_at(number)).state

    def find_tx(self, tx_hash: bytes):
        """(block, transaction, index, pending?) or None."""
        with self.lock:
            where = self.tx_index.get(tx_hash)
            if where is not None:
                block = self.evm.get_canonical_block_by_number(where[0])
                return block, block.transactions[where[1]], where[1], False
            block = self.evm.get_block()
            for i, tx in enumerate(block.transactions):
                if tx.hash == tx_hash:
                    return block, tx, i, True
            return None

    def receipt(self, tx_hash: bytes) -> dict | None:
        """A mined transaction's receipt fields (None while pending or unknown)."""
        with self.lock:
            found = self.find_tx(tx_hash)
            if found is None or found[3]:
                return None
            block, tx, i, _ = found
            receipts = block.get_receipts(self.evm.chaindb)
            r = receipts[i]
            before = receipts[i - 1].gas_used if i else 0
            first_log = sum(len(x.logs) for x in receipts[:i])
            contract = faucet.created_address(tx.sender, tx.nonce) if tx.to == b"" else None
            return {"block": block, "tx": tx, "index": i, "receipt": r, "gas_used": r.gas_used - before,
                    "status": 1 if r.state_root == b"\x01" else 0, "first_log": first_log, "contract": contract,
                    "effective_gas_price": effective_gas_price(tx, block.header.base_fee_per_gas)}

    def logs(self, first: int, last: int, addresses: list[bytes] | None, topics: list) -> list[dict]:
        """The logs of blocks first..last matching eth_getLogs' address and topic filters."""
        with self.lock:
            if last - first + 1 > MAX_LOG_RANGE:
                raise Reject(f"query exceeds max block range {MAX_LOG_RANGE}")
            out = []
            for n in range(first, last + 1):
                block = self.evm.get_canonical_block_by_number(n)
                if not block.transactions:
                    continue
                log_index = 0
                for i, (tx, r) in enumerate(zip(block.transactions, block.get_receipts(self.evm.chaindb))):
                    for log in r.logs:
                        topics_b = [t.to_bytes(32, "big") for t in log.topics]
                        if _log_matches(log.address, topics_b, addresses, topics):
                            out.append({"block": block, "tx": tx, "index": i, "log_index": log_index,
                                        "address": log.address, "topics": topics_b, "data": log.data})
                        log_index += 1
            return out

    # -- calls --------------------------------------------------------------------------------
    def _call_tx(self, state, call: dict):
        sender = call.get("from") or b"\0" * 20
        gas = call.get("gas") or GAS_LIMIT
        unsigned = self.evm.get_vm().create_unsigned_transaction(
            nonce=state.get_nonce(sender), gas_price=0, gas=gas, to=call.get("to") or b"",
            value=call.get("value", 0), data=call.get("data", b""))
        return SpoofTransaction(unsigned, from_=sender)

    def call(self, call: dict, number: int) -> bytes:
        """eth_call at the state after block `number` (fees are not charged: gas price 0)."""
        with self.lock:
            vm = self.evm.get_vm(self.header_at(number))
            with vm.in_costless_state() as state:
                try:
                    computation = state.apply_transaction(self._call_tx(state, call))
                except ValidationError as e:
                    raise self._call_refusal(call, state, str(e))
            if computation.is_error:
                raise execution_error(computation.error)
            return computation.output

    def estimate_gas(self, call: dict, number: int | str) -> int:
        """The least gas with which the call succeeds (py-evm's exact binary search)."""
        with self.lock:
            if number == "pending":
                number = self.height + 1
            vm = self.evm.get_vm(self.header_at(number))
            cap = call.get("gas")
            with vm.in_costless_state() as state:
                try:
                    gas = binary_gas_search_exact(state, self._call_tx(state, {**call, "gas": GAS_LIMIT}))
                except VMError as e:
                    raise execution_error(e)
                except ValidationError as e:
                    raise self._call_refusal(call, state, str(e))
            if cap is not None and gas > cap:
                raise Reject(f"gas required exceeds allowance ({cap})")
            return gas

    @staticmethod
    def _call_refusal(call: dict, state, reason: str) -> Reject:
        sender = call.get("from") or b"\0" * 20
        if "balance" in reason.lower() or "afford" in reason.lower():
            return Reject(f"insufficient funds for gas * price + value: address {to_checksum_address(sender)} "
                          f"have {state.get_balance(sender)} want {call.get('value', 0)}")
        return Reject(f"invalid call: {reason}")

    # -- snapshots ----------------------------------------------------------------------------
    def snapshot(self) -> int:
        """Remembers the current height (not the pending block): the snapshot's id."""
        with self.lock:
            self.snapshots.append(self.height)
            return len(self.snapshots)

    def revert(self, snapshot_id: int) -> bool:
        """Back to the mined chain at snapshot `snapshot_id` (which, and every later one, is used
        up); pending transactions are dropped. False for an unknown snapshot."""
        with self.lock:
            if not 1 <= snapshot_id <= len(self.snapshots):
                return False
            height = self.snapshots[snapshot_id - 1]
            del self.snapshots[snapshot_id - 1:]
            self._replay(self.blocks[:height], [])
            return True


def _log_matches(address: bytes, topics: list[bytes], addresses, wanted) -> bool:
    if addresses and address not in addresses:
        return False
    if len(wanted) > len(topics):
        return False
    for want, have in zip(wanted, topics):
        if want is not None and have not in want:
            return False
    return True
