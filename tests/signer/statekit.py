"""Helpers for the signer-state tests: cloning a signer home, fresh bundles, and an independent
reader of the ledger file (the records are length-prefixed canonical JSON followed by a MAC; this
reader parses the layout only — the MACs are checked by `kura-signer ledger verify`)."""
import json
import pathlib
import shutil
import struct

from harness import EXCHANGE_ETH, Signer

LEDGER_MAGIC = b"KURA-LG\x01"
HEAD_MAGIC = b"KURA-LH\x01"


def clone(signer: Signer, home: pathlib.Path) -> Signer:
    """A copy of `signer` whose home is a copy of its home (same keystore, same state)."""
    shutil.copytree(signer.home, home)
    other = Signer.__new__(Signer)
    other.__dict__.update(signer.__dict__)
    other.home = home
    return other


def btc_bundle(co, amount="1000000", last_receipt=None, name=None):
    intent = co.intent(amount=amount)
    approval = co.approve(intent, "bob")
    return co.bundle(intent, [approval], psbt=co.psbt("btc-main", intent), last_receipt=last_receipt, name=name)


def eth_intent(co, amount="1000000000000000"):
    intent = co.intent(wallet="eth-main", asset="eth", to="eth-exchange", amount=amount)
    return intent, [co.approve(intent, "bob"), co.approve(intent, "carol")]


def eth_bundle(co, intent, approvals, nonce, amount=1_000_000_000_000_000, last_receipt=None):
    return co.bundle(intent, approvals, eth=co.eth_unsigned(EXCHANGE_ETH, amount, nonce=nonce), last_receipt=last_receipt)


def receipt(out: pathlib.Path) -> dict:
    return json.loads(pathlib.Path(str(out) + ".receipt.json").read_text())


def ledger_records(home: pathlib.Path):
    """(records, bytes after the last complete record) of the ledger file, parsed independently."""
    data = (home / "ledger.kura").read_bytes()
    assert data[:8] == LEDGER_MAGIC
    records, offset = [], 8
    while len(data) - offset >= 4:
        (n,) = struct.unpack(">I", data[offset:offset + 4])
        if n == 0 or len(data) - offset - 4 < n + 32:
            break
        records.append(json.loads(data[offset + 4:offset + 4 + n]))
        offset += 4 + n + 32
    return records, len(data) - offset


def head(home: pathlib.Path):
    """(committed size, committed record count) of the ledger head."""
    h = (home / "ledger.kura.head").read_bytes()
    assert len(h) == 88 and h[:8] == HEAD_MAGIC
    return struct.unpack(">QQ", h[8:24])


def signatures(home: pathlib.Path):
    return [r for r in ledger_records(home)[0] if r["type"] == "signature"]
