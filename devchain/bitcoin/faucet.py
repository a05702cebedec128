"""The faucet's key: a fixed, publicly known test key (never use it for real money). The faucet signs
ordinary P2WPKH transactions with embit; the chain validates them like any other."""
from __future__ import annotations

import hashlib

from embit import ec
from embit.script import Script, Witness, p2pkh, p2wpkh
from embit.transaction import SIGHASH, Transaction, TransactionInput, TransactionOutput

KEY = ec.PrivateKey(hashlib.sha256(b"kura devchain faucet: a public test key, never for real money").digest())
SCRIPT = p2wpkh(KEY.get_public_key()).data


def pay(outpoint: tuple[str, int], value: int, outputs: list[tuple[int, bytes]]) -> bytes:
    """Spends the faucet's coin at `outpoint` (worth `value`) to `outputs`; returns the raw transaction."""
    tx = Transaction(version=2, vin=[TransactionInput(bytes.fromhex(outpoint[0]), outpoint[1], sequence=0xFFFFFFFD)],
                     vout=[TransactionOutput(v, Script(s)) for v, s in outputs], locktime=0)
    digest = tx.sighash_segwit(0, p2pkh(KEY.get_public_key()), value, SIGHASH.ALL)
    sig = KEY.sign(digest).serialize() + bytes([SIGHASH.ALL])
    tx.vin[0].witness = Witness([sig, KEY.get_public_key().sec()])
    return tx.serialize()
