"""Ethereum JSON-RPC over the dev chain: geth's method names, parameter formats, JSON shapes and error
codes for the subset the coordinator uses, plus the dev methods (evm_*, dev_*).

Parameters are checked strictly, as geth's decoder does: quantities are 0x-prefixed hex without
leading zeros, addresses are 20 bytes, data is 0x-prefixed hex of whole bytes, call and filter
objects have known fields only. A bad parameter is -32602 `invalid argument N: …`; a refused
transaction or a failed call is -32000 with geth's message (3 with the revert data when a call
reverts with data).
"""
from __future__ import annotations

import re

import rlp
from eth_utils import keccak, to_checksum_address

from . import faucet
from .chain import INVALID_PARAMS, MAX_MINE, PRIORITY_FEE, TOKEN, Chain, Reject, effective_gas_price, tx_type

CLIENT_VERSION = "kura-devchain/ethereum/v1/py-evm"
MAX_FEE_HISTORY = 1024
MAX_PERCENTILES = 100
QUANTITY = re.compile(r"0x(0|[1-9a-fA-F][0-9a-fA-F]*)")
TAGS = ("latest", "pending", "earliest", "safe", "finalized")
CALL_FIELDS = {"from", "to", "gas", "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas", "value", "data", "input",
               "nonce", "type", "accessList", "chainId"}
FILTER_FIELDS = {"fromBlock", "toBlock", "address", "topics", "blockHash"}


class RpcError(Exception):
    def __init__(self, code: int, message: str, data=None):
        self.code, self.message, self.data = code, message, data
        super().__init__(message)


def bad(i: int, why: str) -> RpcError:
    return RpcError(INVALID_PARAMS, f"invalid argument {i}: {why}")


# -- parameters (geth's decoder, strictly) -------------------------------------------------------
def p_quantity(v, i: int, bits: int = 256) -> int:
    if not isinstance(v, str):
        raise bad(i, "json: cannot unmarshal non-string into Go value of type hexutil.Big")
    if not v.startswith(("0x", "0X")):
        raise bad(i, "hex string without 0x prefix")
    if v in ("0x", "0X"):
        raise bad(i, "hex string \"0x\"")
    if not QUANTITY.fullmatch(v):
        if re.fullmatch(r"0[xX]0[0-9a-fA-F]+", v):
            raise bad(i, "hex number with leading zero digits")
        raise bad(i, "invalid hex string")
    n = int(v, 16)
    if n.bit_length() > bits:
        raise bad(i, f"hex number > {bits} bits")
    return n


def p_int_or_quantity(v, i: int) -> int:
    """geth's HexOrDecimal64: a JSON integer, a decimal string or a hex quantity."""
    if isinstance(v, bool):
        raise bad(i, "expected a number")
    if isinstance(v, int):
        if v < 0:
            raise bad(i, "negative number")
        return v
    if isinstance(v, str) and re.fullmatch(r"[0-9]{1,19}", v):
        return int(v)
    return p_quantity(v, i, 64)


def p_data(v, i: int) -> bytes:
    if not isinstance(v, str):
        raise bad(i, "json: cannot unmarshal non-string into Go value of type hexutil.Bytes")
    if not v.startswith(("0x", "0X")):
        raise bad(i, "hex string without 0x prefix")
    if len(v) % 2:
        raise bad(i, "hex string of odd length")
    try:
        return bytes.fromhex(v[2:])
    except ValueError:
        raise bad(i, "invalid hex string")


def p_fixed(v, i: int, size: int, what: str) -> bytes:
    if not isinstance(v, str) or not re.fullmatch(rf"0[xX][0-9a-fA-F]{{{2 * size}}}", v):
        raise bad(i, f"{what} must be 0x-prefixed hex of {size} bytes")
    return bytes.fromhex(v[2:])


def p_address(v, i: int) -> bytes:
    return p_fixed(v, i, 20, "an address")


def p_hash(v, i: int) -> bytes:
    return p_fixed(v, i, 32, "a hash")


def p_bool(v, i: int) -> bool:
    if not isinstance(v, bool):
        raise bad(i, "json: cannot unmarshal into Go value of type bool")
    return v


def p_block(chain: Chain, v, i: int) -> int:
    """A block tag or number: the block number (height + 1 for "pending")."""
    if isinstance(v, dict):  # EIP-1898
        if set(v) == {"blockNumber"}:
            return p_block(chain, v["blockNumber"], i)
        if set(v) - {"requireCanonical"} == {"blockHash"}:
            block = chain.block_by_hash(p_hash(v["blockHash"], i))
            if block is None:
                raise RpcError(-32000, "header for hash not found")
            return block.number
        raise bad(i, "a block must be a tag, a number or {\"blockNumber\"} / {\"blockHash\"}")
    if v in ("latest", "safe", "finalized"):
        return chain.height
    if v == "earliest":
        return 0
    if v == "pending":
        return chain.height + 1
    if isinstance(v, str) and not v.startswith(("0x", "0X")):
        raise bad(i, f"unknown block tag {v!r} (latest, pending, earliest, safe, finalized or a 0x number)")
    return p_quantity(v, i, 63)


def state_block(chain: Chain, v, i: int) -> int:
    number = p_block(chain, v, i)
    if number > chain.height + 1:
        raise RpcError(-32000, "header not found")
    return number


def args(params: list, required: int, most: int) -> list:
    if len(params) < required:
        raise RpcError(INVALID_PARAMS, f"missing value for required argument {len(params)}")
    if len(params) > most:
        raise RpcError(INVALID_PARAMS, f"too many arguments, want at most {most}")
    return params + [None] * (most - len(params))


def p_call(v, i: int) -> dict:
    if not isinstance(v, dict):
        raise bad(i, "the call must be an object")
    unknown = set(v) - CALL_FIELDS
    if unknown:
        raise bad(i, f"unknown field(s) {sorted(unknown)} (known: {sorted(CALL_FIELDS)})")
    call = {}
    for k in ("from", "to"):
        if v.get(k) is not None:
            call[k] = p_address(v[k], i)
    for k in ("gas", "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas", "value", "nonce", "type", "chainId"):
        if v.get(k) is not None:
            call[k] = p_quantity(v[k], i, 64 if k in ("gas", "nonce", "type", "chainId") else 256)
    data = [p_data(v[k], i) for k in ("data", "input") if v.get(k) is not None]
    if len(data) == 2 and data[0] != data[1]:
        raise bad(i, "both \"data\" and \"input\" are set and not equal")
    if data:
        call["data"] = data[0]
    if v.get("accessList") is not None and not isinstance(v["accessList"], list):
        raise bad(i, "accessList must be a list")
    return call


def p_topics(v, i: int) -> list:
    if v is None:
        return []
    if not isinstance(v, list) or len(v) > 4:
        raise bad(i, "topics must be a list of at most 4 positions")
    out = []
    for t in v:
        if t is None:
            out.append(None)
        elif isinstance(t, list):
            out.append(None if not t else [p_hash(x, i) for x in t])
        else:
            out.append([p_hash(t, i)])
    return out


# -- JSON shapes (geth's) ----------------------------------------------------------------------
def q(n: int) -> str:
    return hex(n)


def hx(b: bytes) -> str:
    return "0x" + bytes(b).hex()


def addr(b: bytes | None) -> str | None:
    return None if not b else hx(b)


def access_list(tx) -> list:
    return [{"address": hx(a), "storageKeys": [hx(k.to_bytes(32, "big")) for k in keys]} for a, keys in tx.access_list]


def tx_json(block, tx, index: int, pending: bool) -> dict:
    kind = tx_type(tx)
    base = block.header.base_fee_per_gas
    out = {"blockHash": None if pending else hx(block.hash), "blockNumber": None if pending else q(block.number),
           "transactionIndex": None if pending else q(index), "hash": hx(tx.hash), "type": q(kind),
           "from": hx(tx.sender), "to": addr(tx.to), "nonce": q(tx.nonce), "gas": q(tx.gas), "value": q(tx.value),
           "input": hx(tx.data)}
    if kind == 2:
        out["gasPrice"] = q(tx.max_fee_per_gas if pending else effective_gas_price(tx, base))
        out["maxFeePerGas"] = q(tx.max_fee_per_gas)
        out["maxPriorityFeePerGas"] = q(tx.max_priority_fee_per_gas)
    else:
        out["gasPrice"] = q(tx.gas_price)
    if kind == 0:
        out["v"] = q(tx.v)
        if tx.v >= 35:
            out["chainId"] = q((tx.v - 35) // 2)
    else:
        out["accessList"] = access_list(tx)
        out["chainId"] = q(tx.chain_id)
        out["v"] = q(tx.y_parity)
        out["yParity"] = q(tx.y_parity)
    out["r"], out["s"] = q(tx.r), q(tx.s)
    return out


def block_json(block, full: bool, pending: bool) -> dict:
    h = block.header
    txs = [tx_json(block, tx, i, pending) if full else hx(tx.hash) for i, tx in enumerate(block.transactions)]
    return {"number": q(h.block_number), "hash": None if pending else hx(block.hash), "parentHash": hx(h.parent_hash),
            "nonce": None if pending else hx(h.nonce), "mixHash": hx(h.mix_hash), "sha3Uncles": hx(h.uncles_hash),
            "logsBloom": hx(h.bloom.to_bytes(256, "big")), "transactionsRoot": hx(h.transaction_root),
            "stateRoot": hx(h.state_root), "receiptsRoot": hx(h.receipt_root),
            "miner": None if pending else hx(h.coinbase), "difficulty": q(h.difficulty), "totalDifficulty": "0x0",
            "extraData": hx(h.extra_data), "size": q(len(rlp.encode(block))), "gasLimit": q(h.gas_limit),
            "gasUsed": q(h.gas_used), "timestamp": q(h.timestamp), "transactions": txs, "uncles": [],
            "baseFeePerGas": q(h.base_fee_per_gas), "withdrawals": [], "withdrawalsRoot": hx(h.withdrawals_root),
            "blobGasUsed": q(h.blob_gas_used), "excessBlobGas": q(h.excess_blob_gas),
            "parentBeaconBlockRoot": hx(h.parent_beacon_block_root), "requestsHash": hx(h.requests_hash)}


def log_json(block, tx, index: int, log_index: int, address: bytes, topics: list[bytes], data: bytes) -> dict:
    return {"address": hx(address), "topics": [hx(t) for t in topics], "data": hx(data),
            "blockNumber": q(block.number), "blockHash": hx(block.hash), "transactionHash": hx(tx.hash),
            "transactionIndex": q(index), "logIndex": q(log_index), "removed": False}


def receipt_json(r: dict) -> dict:
    block, tx, rec = r["block"], r["tx"], r["receipt"]
    logs = [log_json(block, tx, r["index"], r["first_log"] + k, log.address,
                     [t.to_bytes(32, "big") for t in log.topics], log.data) for k, log in enumerate(rec.logs)]
    return {"transactionHash": hx(tx.hash), "transactionIndex": q(r["index"]), "blockHash": hx(block.hash),
            "blockNumber": q(block.number), "from": hx(tx.sender), "to": addr(tx.to),
            "cumulativeGasUsed": q(rec.gas_used), "gasUsed": q(r["gas_used"]),
            "effectiveGasPrice": q(r["effective_gas_price"]), "contractAddress": addr(r["contract"]), "logs": logs,
            "logsBloom": hx(rec.bloom.to_bytes(256, "big")), "status": q(r["status"]), "type": q(tx_type(tx))}


# -- methods -----------------------------------------------------------------------------------
def chain_id(chain: Chain, params):
    args(params, 0, 0)
    return q(chain.chain_id)


def net_version(chain: Chain, params):
    args(params, 0, 0)
    return str(chain.chain_id)


def client_version(chain: Chain, params):
    args(params, 0, 0)
    return CLIENT_VERSION


def block_number(chain: Chain, params):
    args(params, 0, 0)
    with chain.lock:
        return q(chain.height)


def get_block_by_number(chain: Chain, params):
    tag, full = args(params, 2, 2)
    full = p_bool(full, 1)
    with chain.lock:
        number = p_block(chain, tag, 0)
        if number > chain.height + 1:
            return None
        return block_json(chain.block(number), full, number == chain.height + 1)


def get_block_by_hash(chain: Chain, params):
    h, full = args(params, 2, 2)
    block_hash, full = p_hash(h, 0), p_bool(full, 1)
    with chain.lock:
        block = chain.block_by_hash(block_hash)
        return None if block is None else block_json(block, full, False)


def get_balance(chain: Chain, params):
    a, tag = args(params, 1, 2)
    account = p_address(a, 0)
    with chain.lock:
        return q(chain.state_at(state_block(chain, tag or "latest", 1)).get_balance(account))


def get_transaction_count(chain: Chain, params):
    a, tag = args(params, 1, 2)
    account = p_address(a, 0)
    with chain.lock:
        return q(chain.state_at(state_block(chain, tag or "latest", 1)).get_nonce(account))


def get_code(chain: Chain, params):
    a, tag = args(params, 1, 2)
    account = p_address(a, 0)
    with chain.lock:
        return hx(chain.state_at(state_block(chain, tag or "latest", 1)).get_code(account))


def get_storage_at(chain: Chain, params):
    a, slot, tag = args(params, 2, 3)
    account, key = p_address(a, 0), p_data(slot, 1)
    if len(key) > 32:
        raise bad(1, "a storage slot is at most 32 bytes")
    key = int.from_bytes(key, "big")
    with chain.lock:
        value = chain.state_at(state_block(chain, tag or "latest", 2)).get_storage(account, key)
        return hx(value.to_bytes(32, "big"))


def gas_price(chain: Chain, params):
    args(params, 0, 0)
    with chain.lock:
        return q(chain.evm.header.base_fee_per_gas + PRIORITY_FEE)


def max_priority_fee(chain: Chain, params):
    args(params, 0, 0)
    return q(PRIORITY_FEE)


def fee_history(chain: Chain, params):
    count, newest, percentiles = args(params, 2, 3)
    count = p_int_or_quantity(count, 0)
    if not 1 <= count <= MAX_FEE_HISTORY:
        raise bad(0, f"block count must be 1..{MAX_FEE_HISTORY}")
    if percentiles is not None:
        if not isinstance(percentiles, list) or len(percentiles) > MAX_PERCENTILES or not all(
                isinstance(p, (int, float)) and not isinstance(p, bool) and 0 <= p <= 100 for p in percentiles):
            raise bad(2, f"reward percentiles must be at most {MAX_PERCENTILES} numbers in 0..100")
        if any(a > b for a, b in zip(percentiles, percentiles[1:])):
            raise bad(2, "reward percentiles must be in increasing order")
    with chain.lock:
        last = min(p_block(chain, newest, 1), chain.height)  # "pending" answers up to the latest block
        first = max(0, last - count + 1)
        base, ratio, reward = [], [], []
        for n in range(first, last + 1):
            block = chain.block(n)
            h = block.header
            base.append(q(h.base_fee_per_gas))
            ratio.append(h.gas_used / h.gas_limit)
            if percentiles is not None:
                reward.append([q(x) for x in rewards(chain, block, percentiles)])
        base.append(q(chain.header_at(last + 1).base_fee_per_gas))
        out = {"oldestBlock": q(first), "baseFeePerGas": base, "gasUsedRatio": ratio,
               "baseFeePerBlobGas": ["0x1"] * len(base), "blobGasUsedRatio": [0.0] * len(ratio)}
        if percentiles is not None:
            out["reward"] = reward
        return out


def rewards(chain: Chain, block, percentiles: list) -> list[int]:
    """The effective priority fees at the given percentiles of the block's gas (geth's method)."""
    if not block.transactions:
        return [0] * len(percentiles)
    base = block.header.base_fee_per_gas
    receipts = block.get_receipts(chain.evm.chaindb)
    used, prev = [], 0
    for r in receipts:
        used.append(r.gas_used - prev)
        prev = r.gas_used
    tips = sorted((effective_gas_price(tx, base) - base, g) for tx, g in zip(block.transactions, used))
    out, i, total = [], 0, tips[0][1]
    for p in percentiles:
        threshold = block.header.gas_used * p / 100
        while total < threshold and i < len(tips) - 1:
            i += 1
            total += tips[i][1]
        out.append(tips[i][0])
    return out


def estimate_gas(chain: Chain, params):
    c, tag = args(params, 1, 2)
    call = p_call(c, 0)
    with chain.lock:
        number = state_block(chain, tag or "latest", 1)
        return q(chain.estimate_gas(call, number))


def eth_call(chain: Chain, params):
    c, tag = args(params, 1, 2)
    call = p_call(c, 0)
    with chain.lock:
        number = state_block(chain, tag or "latest", 1)
        return hx(chain.call(call, number))


def send_raw_transaction(chain: Chain, params):
    (raw,) = args(params, 1, 1)
    return hx(chain.accept(p_data(raw, 0)))


def get_transaction_by_hash(chain: Chain, params):
    (h,) = args(params, 1, 1)
    with chain.lock:
        found = chain.find_tx(p_hash(h, 0))
        return None if found is None else tx_json(*found)


def get_transaction_receipt(chain: Chain, params):
    (h,) = args(params, 1, 1)
    with chain.lock:
        r = chain.receipt(p_hash(h, 0))
        return None if r is None else receipt_json(r)


def get_logs(chain: Chain, params):
    (f,) = args(params, 1, 1)
    if not isinstance(f, dict):
        raise bad(0, "the filter must be an object")
    unknown = set(f) - FILTER_FIELDS
    if unknown:
        raise bad(0, f"unknown field(s) {sorted(unknown)} (known: {sorted(FILTER_FIELDS)})")
    a = f.get("address")
    if a is None:
        addresses = None
    elif isinstance(a, list):
        addresses = [p_address(x, 0) for x in a] or None
    else:
        addresses = [p_address(a, 0)]
    topics = p_topics(f.get("topics"), 0)
    with chain.lock:
        if f.get("blockHash") is not None:
            if f.get("fromBlock") is not None or f.get("toBlock") is not None:
                raise bad(0, "cannot specify both BlockHash and FromBlock/ToBlock, choose one or the other")
            block = chain.block_by_hash(p_hash(f["blockHash"], 0))
            if block is None:
                raise RpcError(-32000, "unknown block")
            first = last = block.number
        else:
            first = min(p_block(chain, f.get("fromBlock") or "latest", 0), chain.height)
            last = min(p_block(chain, f.get("toBlock") or "latest", 0), chain.height)
            if first > last:
                raise RpcError(-32000, "invalid block range params")
        return [log_json(**x) for x in chain.logs(first, last, addresses, topics)]


def syncing(chain: Chain, params):
    args(params, 0, 0)
    return False


def accounts(chain: Chain, params):
    args(params, 0, 0)
    return []  # no unlocked accounts: transactions are signed by their senders


# -- dev methods -------------------------------------------------------------------------------
def evm_mine(chain: Chain, params):
    (n,) = args(params, 0, 1)
    n = 1 if n is None else p_int_or_quantity(n, 0)
    if not 1 <= n <= MAX_MINE:
        raise bad(0, f"blocks must be 1..{MAX_MINE}")
    with chain.lock:
        blocks = chain.mine(n)
        return {"blocks": [hx(b.hash) for b in blocks], "number": q(chain.height)}


def evm_set_automine(chain: Chain, params):
    (on,) = args(params, 1, 1)
    with chain.lock:
        chain.automine = p_bool(on, 0)
        return True


def evm_snapshot(chain: Chain, params):
    args(params, 0, 0)
    return q(chain.snapshot())


def evm_revert(chain: Chain, params):
    (sid,) = args(params, 1, 1)
    return chain.revert(p_quantity(sid, 0, 64))


def dev_fund(chain: Chain, params):
    a, value = args(params, 2, 2)
    return hx(chain.faucet_send(p_address(a, 0), p_quantity(value, 1)))


def dev_mint_token(chain: Chain, params):
    a, amount = args(params, 2, 2)
    return hx(chain.mint_token(p_address(a, 0), p_quantity(amount, 1)))


def dev_token(chain: Chain, params):
    args(params, 0, 0)
    return {"address": to_checksum_address(faucet.TOKEN_ADDRESS), "name": "Kura Dev USD", "symbol": "KUSD",
            "decimals": 6, "minter": faucet.CHECKSUM_ADDRESS, "deployBlock": "0x1", "compiler": TOKEN["compiler"],
            "transferTopic": hx(keccak(text="Transfer(address,address,uint256)"))}


def dev_info(chain: Chain, params):
    args(params, 0, 0)
    with chain.lock:
        state = chain.state_at(chain.height)
        return {"chainId": q(chain.chain_id), "blockNumber": q(chain.height), "pending": len(chain.pending),
                "automine": chain.automine, "snapshots": len(chain.snapshots),
                "faucet": {"address": faucet.CHECKSUM_ADDRESS, "balance": q(state.get_balance(faucet.ADDRESS))},
                "token": to_checksum_address(faucet.TOKEN_ADDRESS)}


METHODS = {
    "eth_chainId": chain_id,
    "net_version": net_version,
    "web3_clientVersion": client_version,
    "eth_blockNumber": block_number,
    "eth_getBlockByNumber": get_block_by_number,
    "eth_getBlockByHash": get_block_by_hash,
    "eth_getBalance": get_balance,
    "eth_getTransactionCount": get_transaction_count,
    "eth_getCode": get_code,
    "eth_getStorageAt": get_storage_at,
    "eth_gasPrice": gas_price,
    "eth_maxPriorityFeePerGas": max_priority_fee,
    "eth_feeHistory": fee_history,
    "eth_estimateGas": estimate_gas,
    "eth_call": eth_call,
    "eth_sendRawTransaction": send_raw_transaction,
    "eth_getTransactionByHash": get_transaction_by_hash,
    "eth_getTransactionReceipt": get_transaction_receipt,
    "eth_getLogs": get_logs,
    "eth_syncing": syncing,
    "eth_accounts": accounts,
    "evm_mine": evm_mine,
    "evm_setAutomine": evm_set_automine,
    "evm_snapshot": evm_snapshot,
    "evm_revert": evm_revert,
    "dev_fund": dev_fund,
    "dev_mintToken": dev_mint_token,
    "dev_token": dev_token,
    "dev_info": dev_info,
}
# Methods that change the chain (the state file is saved after them).
CHANGING = {"eth_sendRawTransaction", "evm_mine", "evm_setAutomine", "evm_snapshot", "evm_revert", "dev_fund",
            "dev_mintToken"}


def call_method(chain: Chain, method: str, params: list):
    fn = METHODS.get(method)
    if fn is None:
        raise RpcError(-32601, f"the method {method} does not exist/is not available")
    try:
        return fn(chain, params)
    except Reject as r:
        raise RpcError(r.code, r.message, r.data)
