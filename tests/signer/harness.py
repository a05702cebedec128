"""A test company driven through the built binaries: personal keys and governance documents with
`kura`, cold signers with `kura-signer`, unsigned transactions with `kura-devtool` (Bitcoin) or
pyrlp (Ethereum), and signing bundles assembled as the coordinator would (plain JSON)."""
import base64
import hashlib
import json
import os
import pathlib
import random
import time

import rlp
from bdkpython import Descriptor as BdkDescriptor
from bdkpython import Network as BdkNetwork
from bdkpython import NetworkKind
from embit.script import Script as EmbitScript
from embit.transaction import Transaction, TransactionInput, TransactionOutput

from conftest import register_secret, run, tree_digest, write_secret

DAY = 86_400
CHAIN_ID = 1337
KEYSTORE_PASS = "signer passphrase 1"
MNEMONICS = [
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
    "legal winner thank year wave sausage worth useful legal winner thank yellow",
    "letter advice cage absurd amount doctor acoustic avoid letter advice cage above",
]
EXCHANGE_BTC = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"
SUPPLIER_BTC = "bcrt1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qzf4jry"
EXCHANGE_ETH = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
TOKEN = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
EXIT_MALFORMED, EXIT_GOVERNANCE, EXIT_TRANSACTION, EXIT_STATE = 2, 4, 5, 6


def canonical(obj) -> bytes:
    import rfc8785

    return rfc8785.dumps(obj)


class Signer:
    def __init__(self, company, name, mnemonic):
        self.company, self.name = company, name
        self.home = company.dir / f"signer-{name}"
        self.passfile = write_secret(company.dir / f"pass-{name}", KEYSTORE_PASS)
        register_secret(mnemonic, KEYSTORE_PASS)
        mfile = write_secret(company.dir / f"mnemonic-{name}", mnemonic)
        run("kura-signer", "init", "--home", self.home, "--network", "regtest", "--restore", "--mnemonic-file", mfile,
            "--passphrase-file", self.passfile, "--kdf-log-n", "15", check=True)
        self.card = json.loads(self.cmd("export", check=True).stdout)

    def cmd(self, *args, check=False):
        return run("kura-signer", *args, "--home", self.home, "--passphrase-file", self.passfile, check=check)

    def review(self, bundle, json_out=True):
        return self.cmd("review", bundle, *(["--json"] if json_out else []))

    def sign(self, bundle, out):
        return self.cmd("sign", bundle, "-o", out, "--yes", "--operator", f"op-{self.name}")

    def state(self):
        return tree_digest(self.home)


class Company:
    """Admins a1-a3 (quorum 2, high quorum 3), initiator alice, approvers bob, carol, dave, and
    three cold signers: vault-a holds the single-sig BTC wallets (wpkh, and BIP-0086 taproot) and the ETH
    wallet; a, b, c the 2-of-3."""

    def __init__(self, tmp: pathlib.Path, token: str = TOKEN):
        self.dir = tmp
        self.token = token  # the usdc contract in the registry (a deployed token for EVM tests)
        self.now = int(time.time())
        self.created = self.now - 10 * DAY
        self.keys = {}
        for who in ["a1", "a2", "a3", "alice", "bob", "carol", "dave", "mallory"]:
            out = run("kura", "keys", "new", "--out", tmp / f"{who}.key", "--credential-id", f"{who}-key", check=True)
            self.keys[who] = json.loads(out.stdout)
        self.signers = [Signer(self, n, m) for n, m in zip("abc", MNEMONICS)]
        self.genesis_doc = self.policy_doc(version=1)
        self.genesis = self.signed_policy(self.genesis_doc, ["a1", "a2"], name="genesis")
        self.genesis_hash = run("kura", "policy", "hash", self.genesis, check=True).stdout.decode().strip()
        for s in self.signers:
            s.cmd("pin", self.genesis, check=True)
        self.chain = [self.genesis]
        self.rng = random.Random(7)
        self.counter = 0

    # -- governance documents ------------------------------------------------------------
    def member(self, who, roles):
        return {"id": who, "name": who.capitalize(), "roles": roles, "credentials": [self.keys[who]]}

    def policy_doc(self, version, **overrides):
        a, b, c = (s.card for s in self.signers)
        doc = {
            "kind": "kura.policy", "format": 1, "organization": "acme", "version": version,
            "created": self.created, "effectiveFrom": self.created, "expires": self.now + 365 * DAY,
            "members": [self.member(x, ["admin"]) for x in ("a1", "a2", "a3")] + [self.member("alice", ["initiator"])]
            + [self.member(x, ["approver"]) for x in ("bob", "carol", "dave")],
            "signers": [{"id": f"vault-{n}", "name": f"Vault {n.upper()}", "identityKey": s.card["identityKey"],
                         "fingerprint": s.card["fingerprint"]} for n, s in zip("abc", self.signers)],
            "assets": [
                {"id": "btc", "chain": "bitcoin", "network": "regtest", "symbol": "BTC", "decimals": 8},
                {"id": "eth", "chain": "ethereum", "chainId": CHAIN_ID, "symbol": "ETH", "decimals": 18},
                {"id": "usdc", "chain": "ethereum", "chainId": CHAIN_ID, "symbol": "USDC", "decimals": 6, "contract": self.token},
            ],
            "wallets": [
                {"id": "btc-main", "chain": "bitcoin", "network": "regtest", "signers": ["vault-a"],
                 "walletPolicy": {"template": "wpkh(@0/**)", "keys": [a["keys"]["bip84"]]}},
                {"id": "btc-vault", "chain": "bitcoin", "network": "regtest", "signers": ["vault-a", "vault-b", "vault-c"],
                 "walletPolicy": {"template": "wsh(sortedmulti(2,@0/**,@1/**,@2/**))",
                                  "keys": [a["keys"]["bip48multisig"], b["keys"]["bip48multisig"], c["keys"]["bip48multisig"]]}},
                {"id": "btc-tr", "chain": "bitcoin", "network": "regtest", "signers": ["vault-a"],
                 "walletPolicy": {"template": "tr(@0/**)", "keys": [a["keys"]["bip86"]]}},
                {"id": "eth-main", "chain": "ethereum", "chainId": CHAIN_ID, "signers": ["vault-a"],
                 "address": a["ethereum"]["address"], "derivation": "m/44h/60h/0h/0/0"},
            ],
            "addressBook": [
                {"id": "exchange", "asset": "btc", "address": EXCHANGE_BTC, "label": "Exchange hot wallet", "usableFrom": self.created},
                {"id": "eth-exchange", "asset": "eth", "address": EXCHANGE_ETH, "label": "Exchange (ETH)", "usableFrom": self.created},
                {"id": "usdc-exchange", "asset": "usdc", "address": EXCHANGE_ETH, "label": "Exchange (USDC)", "usableFrom": self.created},
            ],
            "rules": {
                "initiators": ["alice"],
                "transfers": [
                    {"wallet": w, "asset": "btc", "tiers": [{"upTo": "100000000", "approvals": 1}, {"upTo": "1000000000", "approvals": 2}],
                     "perTransferLimit": "1000000000", "dailyLimit": "1500000000",
                     "fee": {"maxAbsolute": "200000", "maxRatePerKvB": "100000"}} for w in ("btc-main", "btc-vault", "btc-tr")
                ] + [
                    {"wallet": "eth-main", "asset": asset, "tiers": [{"upTo": limit, "approvals": 2}], "perTransferLimit": limit,
                     "dailyLimit": limit + "0",
                     "fee": {"maxFeePerGas": "200000000000", "maxPriorityFeePerGas": "5000000000", "maxGasLimit": "100000",
                             "maxTotalFee": "20000000000000000"}}
                    for asset, limit in (("eth", "10000000000000000000"), ("usdc", "100000000000"))
                ],
                "maxIntentLifetime": DAY, "addressBookDelay": 2 * DAY,
            },
            "governance": {"adminQuorum": 2, "highQuorum": 3, "highChangeDelay": 2 * DAY},
        }
        doc.update(overrides)
        return doc

    def signed_policy(self, doc, admins, name, current=None):
        f = self.dir / f"{name}.doc.json"
        f.write_text(json.dumps(doc))
        out = self.dir / f"{name}.json"
        args = ["policy", "propose", f, "--out", out] + (["--current", current] if current else [])
        run("kura", *args, check=True)
        for who in admins:
            run("kura", "policy", "sign", out, "--key", self.dir / f"{who}.key", "--member", who, "--credential", f"{who}-key", check=True)
        return out

    def chain_args(self, chain=None):
        args = ["--genesis-hash", self.genesis_hash]
        for p in chain or self.chain:
            args += ["--policy", p]
        return args

    def intent(self, wallet="btc-main", asset="btc", to="exchange", amount="50000000", lifetime=3600, fee_caps=(),
               pin_inputs=(), pin_nonce=None, edit=None):
        self.counter += 1
        unsigned = self.dir / f"intent-{self.counter}.json"
        args = ["intent", "new", *self.chain_args(), "--wallet", wallet, "--asset", asset, "--to", to, "--amount", amount,
                "--base-units", "--initiator", "alice", "--lifetime", str(lifetime), "--memo", f"test {self.counter}", "--out", unsigned]
        for cap in fee_caps:
            args += ["--fee-cap", cap]
        for outpoint in pin_inputs:
            args += ["--pin-input", outpoint]
        if pin_nonce is not None:
            args += ["--pin-eth-nonce", str(pin_nonce)]
        run("kura", *args, check=True)
        if edit:  # what the initiator's device is made to sign (e.g. a poisoned address)
            doc = json.loads(unsigned.read_text())
            edit(doc)
            unsigned.write_text(json.dumps(doc))
        signed = self.dir / f"intent-{self.counter}.signed.json"
        run("kura", "intent", "sign", unsigned, "--key", self.dir / "alice.key", "--credential", "alice-key", "--out", signed, check=True)
        return signed

    def approve(self, signed_intent, who, reject=False):
        self.counter += 1
        out = self.dir / f"approval-{self.counter}.json"
        args = ["approve", signed_intent, *self.chain_args(), "--key", self.dir / f"{who}.key", "--member", who,
                "--credential", f"{who}-key", "--out", out] + (["--reject"] if reject else [])
        run("kura", *args, check=True)
        return out

    # -- transactions ----------------------------------------------------------------------
    def wallet_descriptor(self, wallet):
        doc = json.loads(pathlib.Path(self.chain[-1]).read_text())["policy"]
        w = next(x for x in doc["wallets"] if x["id"] == wallet)
        template, keys = w["walletPolicy"]["template"], w["walletPolicy"]["keys"]
        for i, k in enumerate(keys):
            template = template.replace(f"@{i}/**", k + "/<0;1>/*")
        return template

    def bdk_script(self, wallet, branch, index):
        desc = self.wallet_descriptor(wallet).replace("<0;1>", str(branch))
        return BdkDescriptor(desc, NetworkKind.TEST).derive_address(index, BdkNetwork.REGTEST).script_pubkey().to_bytes()

    def funding(self, script: bytes, value: int):
        return Transaction(
            version=2,
            vin=[TransactionInput(bytes(self.rng.getrandbits(8) for _ in range(32)), 0)],
            vout=[TransactionOutput(value, EmbitScript(script))],
        )

    def psbt(self, wallet, intent_path, coins=((0, 3), (0, 4)), values=(40_000_000, 30_000_000), fee=5_000, change_index=2,
             payments=None, version=0):
        intent = json.loads(pathlib.Path(intent_path).read_text())["intent"]
        amount = int(intent["amount"])
        spec_coins, total = [], 0
        for (branch, index), value in zip(coins, values):
            prev = self.funding(self.bdk_script(wallet, branch, index), value)
            spec_coins.append({"prev_tx": prev.serialize().hex(), "vout": 0, "branch": branch, "index": index})
            total += value
        if payments is None:
            payments = [{"script": address_script(intent["destination"]["address"]), "value": amount}]
        change = total - sum(p["value"] for p in payments) - fee
        spec = {"network": "regtest", "descriptor": self.wallet_descriptor(wallet), "signers": [], "coins": spec_coins,
                "payments": payments, "change": {"index": change_index, "value": change} if change > 0 else None,
                "psbt_version": version}
        f = self.dir / f"spec-{self.counter}.json"
        f.write_text(json.dumps(spec))
        return json.loads(run("kura-devtool", "btc", "spend", "--spec", f, check=True).stdout)["unsigned_psbt"]

    def eth_unsigned(self, to, value, data=b"", nonce=0, chain_id=CHAIN_ID, gas=21_000, max_fee=100_000_000_000, priority=2_000_000_000,
                     access_list=()):
        fields = [chain_id, nonce, priority, max_fee, gas, bytes.fromhex(to[2:]) if to else b"", value, data, list(access_list)]
        return "02" + rlp.encode(fields).hex()

    def bundle(self, intent, approvals, psbt=None, eth=None, chain=None, last_receipt=None, name=None, edit=None):
        self.counter += 1
        doc = {
            "kind": "kura.signing-bundle", "format": 1,
            "policies": [json.loads(pathlib.Path(p).read_text()) for p in (chain or self.chain)],
            "intent": json.loads(pathlib.Path(intent).read_text()),
            "approvals": [json.loads(pathlib.Path(a).read_text()) for a in approvals],
            "transaction": {"chain": "bitcoin", "psbt": psbt} if psbt is not None else {"chain": "ethereum", "unsigned": eth},
        }
        if last_receipt is not None:
            doc["lastReceipt"] = last_receipt
        if edit:
            edit(doc)
        f = self.dir / (name or f"bundle-{self.counter}.json")
        f.write_bytes(canonical(doc))
        return f


def address_script(address: str) -> str:
    from embit.script import address_to_scriptpubkey

    return address_to_scriptpubkey(address).data.hex()


def refusal(proc):
    """(exit code, category) of a refused review or sign run."""
    err = proc.stderr.decode()
    for line in err.splitlines():
        if line.startswith("kura-signer: refused: "):
            return proc.returncode, line.split(": ")[2]
    return proc.returncode, None
