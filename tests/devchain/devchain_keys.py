"""Keys, scripts and signed spends made with embit (independently of Kura and of the dev chain's own
validation, which is btclib's), for the dev chain tests."""
import hashlib

from embit import ec
from embit.networks import NETWORKS
from embit.script import Script, Witness, multisig, p2pkh, p2sh, p2tr, p2wpkh, p2wsh
from embit.transaction import SIGHASH, Transaction, TransactionInput, TransactionOutput

NET = NETWORKS["regtest"]


def key(label: str) -> ec.PrivateKey:
    return ec.PrivateKey(hashlib.sha256(b"devchain test key " + label.encode()).digest())


class Owner:
    """Something that can spend an output: its script, and how it signs input i of a transaction."""

    def __init__(self, kind: str, *keys: ec.PrivateKey, m: int = 1):
        self.kind, self.keys, self.m = kind, keys, m
        pubs = [k.get_public_key() for k in keys]
        if kind == "wpkh":
            self.script = p2wpkh(pubs[0])
        elif kind == "pkh":
            self.script = p2pkh(pubs[0])
        elif kind == "sh-wpkh":
            self.redeem_script = p2wpkh(pubs[0])
            self.script = p2sh(self.redeem_script)
        elif kind == "tr":
            self.script = p2tr(pubs[0])
        elif kind == "wsh":
            self.witness_script = multisig(m, sorted(pubs, key=lambda p: p.sec()))
            self.script = p2wsh(self.witness_script)
        else:
            raise ValueError(kind)

    @property
    def address(self) -> str:
        return self.script.address(NET)

    @property
    def script_bytes(self) -> bytes:
        return self.script.data


def build(inputs, outputs, version=2, locktime=0, sequence=0xFFFFFFFD) -> Transaction:
    """inputs: [(txid, vout, value, owner)], outputs: [(script bytes, value)] -> a signed embit Transaction."""
    tx = Transaction(version=version, locktime=locktime,
                     vin=[TransactionInput(bytes.fromhex(t), n, sequence=sequence) for t, n, _, _ in inputs],
                     vout=[TransactionOutput(v, Script(s)) for s, v in outputs])
    sign(tx, inputs)
    return tx


def sign(tx: Transaction, inputs):
    scripts = [o.script for _, _, _, o in inputs]
    values = [v for _, _, v, _ in inputs]
    for i, (_, _, value, owner) in enumerate(inputs):
        if owner.kind in ("wpkh", "sh-wpkh"):
            h = tx.sighash_segwit(i, p2pkh(owner.keys[0].get_public_key()), value, SIGHASH.ALL)
            tx.vin[i].witness = Witness([owner.keys[0].sign(h).serialize() + b"\x01", owner.keys[0].get_public_key().sec()])
            if owner.kind == "sh-wpkh":
                redeem = owner.redeem_script.data
                tx.vin[i].script_sig = Script(bytes([len(redeem)]) + redeem)
        elif owner.kind == "pkh":
            h = tx.sighash_legacy(i, owner.script, SIGHASH.ALL)
            sig = owner.keys[0].sign(h).serialize() + b"\x01"
            pub = owner.keys[0].get_public_key().sec()
            tx.vin[i].script_sig = Script(bytes([len(sig)]) + sig + bytes([len(pub)]) + pub)
        elif owner.kind == "tr":
            h = tx.sighash_taproot(i, script_pubkeys=scripts, values=values, sighash=SIGHASH.DEFAULT)
            tx.vin[i].witness = Witness([owner.keys[0].taproot_tweak(b"").schnorr_sign(h).serialize()])
        elif owner.kind == "wsh":
            h = tx.sighash_segwit(i, owner.witness_script, value, SIGHASH.ALL)
            by_pub = {k.get_public_key().sec(): k for k in owner.keys}
            ordered = sorted(by_pub)  # sortedmulti: signatures in the script's key order
            sigs = [by_pub[p].sign(h).serialize() + b"\x01" for p in ordered][:owner.m]
            tx.vin[i].witness = Witness([b""] + sigs + [owner.witness_script.data])
