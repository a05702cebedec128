"""Random descriptor wallets built with embit (independent of Kura), for the Bitcoin interop tests."""
import random

from bdkpython import Descriptor as BdkDescriptor
from bdkpython import Network as BdkNetwork
from bdkpython import NetworkKind
from embit import bip32
from embit.networks import NETWORKS

NET = NETWORKS["regtest"]
BDK_NET = BdkNetwork.REGTEST


def master(rng: random.Random) -> bip32.HDKey:
    return bip32.HDKey.from_seed(bytes(rng.getrandbits(8) for _ in range(32)), version=NET["xprv"])


def key_expression(m: bip32.HDKey, path: str) -> str:
    account = m.derive(path).to_public()
    origin = m.my_fingerprint.hex() + path[1:].replace("h", "h")
    return f"[{origin}]{account.to_base58(version=NET['xpub'])}"


def wallet(kind: str, rng: random.Random):
    """(kind, multipath descriptor, [master xprv strings that sign], single-path BDK descriptors)."""
    if kind == "wsh":
        ms = [master(rng) for _ in range(3)]
        keys = [key_expression(m, "m/48h/1h/0h/2h") for m in ms]
        body = "wsh(sortedmulti(2,{}))"
        desc = body.format(",".join(k + "/<0;1>/*" for k in keys))
        branches = [body.format(",".join(k + f"/{b}/*" for k in keys)) for b in (0, 1)]
        signers = [m.to_base58(version=NET["xprv"]) for m in rng.sample(ms, 2)]
    else:
        m = master(rng)
        path = {"wpkh": "m/84h/1h/0h", "tr": "m/86h/1h/0h"}[kind]
        k = key_expression(m, path)
        desc = f"{kind}({k}/<0;1>/*)"
        branches = [f"{kind}({k}/{b}/*)" for b in (0, 1)]
        signers = [m.to_base58(version=NET["xprv"])]
    bdk = [BdkDescriptor(b, NetworkKind.TEST) for b in branches]
    return kind, desc, signers, bdk


def bdk_script(bdk_descriptors, branch: int, index: int) -> bytes:
    return bdk_descriptors[branch].derive_address(index, BDK_NET).script_pubkey().to_bytes()
