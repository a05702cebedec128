"""`make run` and `make demo`: Kura's main job end to end, through the built binaries, against the local dev
chains (devchain/).

    scripts/demo.py up [--dir .kura-demo] [--check]
        Starts the Bitcoin and Ethereum dev chains and `kura serve` (SQLite), bootstraps the demo company "acme"
        (genesis policy signed by two admins, members with their keys, three cold signers), funds its wallets,
        leaves one withdrawal waiting for an approval, prints the URLs and the exact commands to try, and stays up
        until Ctrl-C or SIGTERM, then stops every process it started. Everything lives in --dir, which is wiped
        at each start (a fresh chain, company and database every time) and kept after the stop for its logs.
        --check exits 0 right after printing (for tests).

    scripts/demo.py demo [--keep]
        Self-contained: its own chains, coordinator and company in a temporary directory (removed at the end
        unless --keep). A withdrawal on each wallet — BTC single-sig, the BTC 2-of-3 vault with two of its three
        signers, ETH, the KUSD token — asked for, approved, built, signed offline by `kura-signer`, uploaded,
        then broadcast and confirmed by the coordinator's follow-up, the amounts read back from the chain. Then
        the attack of May 2024 replayed: an approved withdrawal whose stored PSBT gets an output appended on its
        way to the signer, refused by `kura-signer` with its named reason, and the break found by
        `kura audit verify`. Exits non-zero on any unexpected outcome.

The keys and mnemonics here are public throw-away test material: never use them for funds.
"""
import argparse
import base64
import json
import os
import pathlib
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from decimal import Decimal

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests" / d) for d in ("", "signer", "coordinator", "devchain")]

from embit.networks import NETWORKS  # noqa: E402
from embit.psbt import PSBT, OutputScope  # noqa: E402
from embit.script import Script  # noqa: E402
from embit.transaction import TransactionOutput  # noqa: E402
from eth_abi import decode  # noqa: E402

from conftest import BIN, run  # noqa: E402
from coordinator_server import Server, raw_sql  # noqa: E402
from devchain_server import DevChain  # noqa: E402
from harness import EXCHANGE_BTC, EXCHANGE_ETH, Company, address_script, refusal  # noqa: E402
from test_api import Org  # noqa: E402
from test_devchain_ethereum import TRANSFER, Eth, token_balance  # noqa: E402

KUSD = "0xe8527F28834bb497C06BEa4fB1dDd40389d8140b"  # the Ethereum dev chain's token (devchain/README.md)
ATTACKER = Script(b"\x00\x14" + bytes.fromhex("de" * 20))  # a P2WPKH output in no address book
MARKER = ".kura-demo-dir"  # marks a directory this script may wipe
SESSIONS = ("alice", "bob", "carol", "dave", "a1")
FUNDING_BTC = [("btc-main", 300_000_000), ("btc-vault", 500_000_000)]  # satoshi, one deposit each
FUNDING_ETH, FUNDING_KUSD = 10 * 10**18, 50_000 * 10**6  # 10 ETH, 50,000 KUSD to eth-main
ASSETS = {"btc": ("BTC", 8), "eth": ("ETH", 18), "usdc": ("KUSD", 6)}  # the company's usdc asset is KUSD here


class DemoError(Exception):
    """An unexpected outcome: the demo stops and exits 1."""


def amount(base: int, asset: str) -> str:
    symbol, decimals = ASSETS[asset]
    value = Decimal(base).scaleb(-decimals)
    text = f"{value:.8f}" if asset == "btc" else f"{value.normalize():f}"
    return f"{text} {symbol}"


def base_units(text: str, asset: str) -> int:
    return int(Decimal(text).scaleb(ASSETS[asset][1]))


class DemoCompany(Company):
    """The test suite's company, its usdc asset being the dev chain's KUSD token (symbol and labels too)."""

    def policy_doc(self, version, **overrides):
        doc = super().policy_doc(version, **overrides)
        for asset in doc["assets"]:
            if asset["id"] == "usdc":
                asset["symbol"] = "KUSD"
        for entry in doc["addressBook"]:
            entry["label"] = entry["label"].replace("USDC", "KUSD")
        return doc


class DemoOrg(Org):
    """The test suite's organisation, with each member's session file at sessions/<member>.json."""

    def __init__(self, *args, sessions: pathlib.Path, **kwargs):
        super().__init__(*args, **kwargs)
        self.session_dir = sessions

    def login(self, who):
        if who not in self.sessions:
            target = self.session_dir / f"{who}.json"
            pathlib.Path(super().login(who)).replace(target)
            self.sessions[who] = target
        return self.sessions[who]


class Stack:
    """The two dev chains, `kura serve` on SQLite and the demo company, all under one directory; `stop()` ends
    every process this object started (also after a failed start)."""

    def __init__(self, root: pathlib.Path, shown_as: str, btc_args=(), eth_args=(), confirmations=1):
        self.root, self.shown_as = root, shown_as
        self.procs = []  # (name, object with .stop() and .proc)
        self.btc = self.eth = self.server = self.org = None
        for d in ("company", "chains", "coordinator", "sessions", "work"):
            (root / d).mkdir(parents=True, exist_ok=True)
        self.work = root / "work"
        self.btc_args, self.eth_args, self.confirmations = btc_args, eth_args, confirmations

    def start(self):
        say("Setting up the demo company \"acme\" with kura and kura-signer (throw-away test keys and the public "
            "BIP-0039 test mnemonics: never use them for funds) …")
        self.co = DemoCompany(self.root / "company", token=KUSD)
        self.btc = self._started("bitcoin dev chain", DevChain(self.root / "chains", *self.btc_args))
        self.eth = self._started("ethereum dev chain", Eth(self.root / "chains", *self.eth_args))
        self.server = self._started("kura serve", Server(
            self.root / "coordinator", "sqlite",
            extra=["--esplora", f"regtest=http://127.0.0.1:{self.btc.port}", "--ethereum",
                   f"1337=http://127.0.0.1:{self.eth.port}", "--follow-interval", "0.2",
                   "--confirmations", str(self.confirmations)]))
        self.org = DemoOrg(self.server, self.co, self.co.dir, organization="acme",
                           genesis=(self.co.genesis, self.co.genesis_hash), sessions=self.root / "sessions")
        for who in SESSIONS:
            self.org.login(who)
        say(f"  organisation acme bootstrapped on {self.server.url} from its genesis policy "
            f"{self.co.genesis_hash[:16]}… (signed by admins a1 and a2)")

    def _started(self, name, obj):
        self.procs.append((name, obj))
        return obj

    def alive(self):
        """The name of a process that is no longer running, or None."""
        return next((name for name, p in self.procs if p.proc.poll() is not None), None)

    def stop(self) -> dict:
        """Stops the coordinator first, then the chains; {name: exit code}."""
        codes = {}
        for name, p in reversed(self.procs):
            codes[name] = p.stop()
        self.procs = []
        return codes

    def ports(self):
        return [p.port for _, p in self.procs]

    # -- the operators' commands, shown as they would type them -------------------------------------------------
    def shown(self, value) -> str:
        text, root = str(value), str(self.root)
        if text.startswith(root):  # the prefix unquoted: it may be a shell variable ($DEMO)
            rest = text[len(root):]
            return self.shown_as + (shlex.quote(rest) if rest else "")
        return shlex.quote(text)

    def session(self, who):
        return self.org.login(who)

    def key(self, who):
        return self.co.dir / f"{who}.key"

    def kura(self, *args, lines=None, check=True):
        return self._show("kura", args, run("kura", *args), lines, check)

    def signer(self, signer, *args, lines=None, check=True):
        proc = signer.cmd(*args)
        shown = [*args, "--home", signer.home, "--passphrase-file", signer.passfile]
        return self._show("kura-signer", shown, proc, lines, check)

    def _show(self, name, args, proc, lines, check):
        print(f"  $ {name} " + " ".join(self.shown(a) for a in args))
        text = (proc.stdout.decode() + proc.stderr.decode()).strip("\n").splitlines()
        text = [t for t in text if t.strip()]
        for line in text if lines is None else lines(text):
            print("      " + line)
        if check and proc.returncode != 0:
            raise DemoError(f"{name} {args[0]} exited {proc.returncode}")
        return proc

    # -- chain and coordinator helpers -------------------------------------------------------------------------
    def deposit_address(self, wallet, label):
        """The next receive address the coordinator derives from the wallet's signed descriptor."""
        status, body, _ = self.server.request("POST", f"/v1/orgs/acme/wallets/{wallet}/addresses", {"label": label},
                                              token=self.org.token("alice"))
        if status != 201:
            raise DemoError(f"deposit address for {wallet}: HTTP {status} {body}")
        return body["address"]["address"]

    def fund(self, btc=(), eth_wei=0, kusd=0):
        """BTC to coordinator-derived deposit addresses (each mined), ETH and KUSD to the ETH wallet (mined)."""
        for wallet, sats in btc:
            address = self.deposit_address(wallet, "demo funding")
            self.btc.faucet(address, sats)
            say(f"  {wallet:<10} {amount(sats, 'btc'):>20}  deposited to {address} (confirmed)")
        address = self.co.signers[0].card["ethereum"]["address"]
        self.eth.rpc("dev_fund", address, hex(eth_wei))
        self.eth.rpc("dev_mintToken", address, hex(kusd))
        self.eth.rpc("evm_mine")
        say(f"  {'eth-main':<10} {amount(self.eth.balance(address), 'eth'):>20}  at {address}")
        say(f"  {'eth-main':<10} {amount(token_balance(self.eth, KUSD, address), 'usdc'):>20}  (the dev chain's KUSD "
            f"token {KUSD}: the policy's asset usdc)")

    def transaction(self, intent_id):
        status, body, _ = self.server.request("GET", f"/v1/orgs/acme/intents/{intent_id}/transaction",
                                              token=self.org.token("bob"))
        return body if status == 200 else None

    def wait_for(self, intent_id, done, what, timeout=30):
        deadline = time.time() + timeout
        while True:
            body = self.transaction(intent_id)
            if body is not None and done(body):
                return body
            if time.time() > deadline:
                raise DemoError(f"{intent_id}: no {what} after {timeout} s: {body}")
            time.sleep(0.1)


def say(text=""):
    print(text, flush=True)


def step(title):
    say(f"\n== {title}")


def last(n):
    return lambda lines: lines[-n:]


def matching(pattern):
    return lambda lines: [line for line in lines if re.match(pattern, line)]


# -- a withdrawal, end to end ----------------------------------------------------------------------------------------
def ask_and_approve(st, wallet, asset, to, text, approvers, memo):
    """`kura intent create` as alice, then each approver's `kura approve`; returns the intent id."""
    proc = st.kura("intent", "create", "--session", st.session("alice"), "--wallet", wallet, "--asset", asset,
                   "--to", to, "--amount", text, "--memo", memo, "--key", st.key("alice"), "--credential", "alice-key")
    found = re.search(r"^intent\s+(i-[0-9a-f]+)", proc.stdout.decode(), re.M)
    if not found:
        raise DemoError(f"no intent id in the output of kura intent create: {proc.stdout.decode()}")
    intent_id = found.group(1)
    for who in approvers:
        st.kura("approve", intent_id, "--session", st.session(who), "--key", st.key(who), "--credential",
                f"{who}-key", "--yes", lines=last(1))
    return intent_id


def withdraw(st, title, wallet, asset, to, text, approvers, signers, mine):
    """One withdrawal through kura and kura-signer, broadcast and confirmed by the coordinator; returns a summary."""
    step(title)
    intent_id = ask_and_approve(st, wallet, asset, to, text, approvers, memo=title.split(": ", 1)[-1])
    st.kura("intent", "build", intent_id, "--session", st.session("alice"))
    for s in signers:
        name = f"vault-{s.name}"
        bundle, signed = st.work / f"{intent_id}-{name}.bundle.json", st.work / f"{intent_id}-{name}.signed"
        st.kura("bundle", "get", intent_id, "--signer", name, "-o", bundle, "--session", st.session("alice"))
        st.signer(s, "sign", bundle, "-o", signed, "--yes", "--operator", f"op-{s.name}")
        st.kura("bundle", "put", intent_id, signed, "--session", st.session("alice"))
    body = st.wait_for(intent_id, lambda b: b["state"] == "broadcast", "broadcast by the coordinator")
    txid = body["txid"]
    say(f"  the coordinator's follow-up broadcast {txid}; a block is mined on the dev chain …")
    mine()
    body = st.wait_for(intent_id, lambda b: b["state"] == "confirmed", "confirmation")
    st.kura("intent", "show", intent_id, "--session", st.session("alice"), lines=matching(r"(state|approvals)\s"))
    expected = base_units(text, asset)
    paid, block, detail = (on_bitcoin if asset == "btc" else on_ethereum)(st, txid, asset)
    if paid != expected:
        raise DemoError(f"{intent_id}: the chain shows {paid} base units paid, not {expected}")
    if block != body["followUp"].get("blockHeight"):
        raise DemoError(f"{intent_id}: the coordinator says block {body['followUp']}, the chain {block}")
    say(f"  on the chain: {detail}")
    return {"intent": intent_id, "wallet": wallet, "to": to, "amount": amount(paid, asset), "block": block,
            "txid": txid, "signers": [f"vault-{s.name}" for s in signers]}


def on_bitcoin(st, txid, asset):
    tx = st.btc.get(f"/tx/{txid}")
    paid = sum(o["value"] for o in tx["vout"] if o.get("scriptpubkey_address") == EXCHANGE_BTC)
    block = tx["status"].get("block_height")
    return paid, block, (f"block {block}: {amount(paid, 'btc')} to {EXCHANGE_BTC} (the exchange), "
                         f"fee {amount(tx['fee'], 'btc')}, {len(tx['vin'])} input(s) checked by btclib's script engine")


def on_ethereum(st, tx_hash, asset):
    tx = st.eth.rpc("eth_getTransactionByHash", tx_hash)
    receipt = st.eth.receipt(tx_hash)
    if receipt is None or receipt["status"] != "0x1":
        raise DemoError(f"{tx_hash}: not mined successfully: {receipt}")
    block = int(receipt["blockNumber"], 16)
    fee = int(receipt["gasUsed"], 16) * int(receipt["effectiveGasPrice"], 16)
    if asset == "eth":
        paid = int(tx["value"], 16) if tx["to"].lower() == EXCHANGE_ETH.lower() else 0
        return paid, block, (f"block {block}: {amount(paid, 'eth')} from {tx['from']} to {EXCHANGE_ETH} "
                             f"(the exchange, now {amount(st.eth.balance(EXCHANGE_ETH), 'eth')}), "
                             f"gas fee {amount(fee, 'eth')}")
    logs = [e for e in receipt["logs"] if e["topics"][0] == TRANSFER and e["address"].lower() == KUSD.lower()
            and int(e["topics"][2], 16) == int(EXCHANGE_ETH, 16)]
    paid = sum(decode(["uint256"], bytes.fromhex(e["data"][2:]))[0] for e in logs)
    return paid, block, (f"block {block}: the token's Transfer log pays {amount(paid, 'usdc')} to {EXCHANGE_ETH} "
                         f"(the exchange, now {amount(token_balance(st.eth, KUSD, EXCHANGE_ETH), 'usdc')}), "
                         f"gas fee {amount(fee, 'eth')}")


def attack(st):
    """The seed's attack: an approved withdrawal whose stored PSBT gets an output appended (paid for by shrinking
    the change) between the coordinator's build and the cold signer."""
    step("5. The attack of May 2024, replayed: an output appended on the way to the signer")
    intent_id = ask_and_approve(st, "btc-main", "btc", "exchange", "0.3", ["bob"], memo="attack replay")
    st.kura("intent", "build", intent_id, "--session", st.session("alice"), lines=matching(r"(intent|bundle)\s"))
    say("  An attacker with write access to the coordinator's database (here: this script, in its SQLite file) "
        "appends an output paying 0.1 BTC to their own address, taken from the change:")
    [(stored,)] = raw_sql(st.server.sqlite_path, f"SELECT bytes FROM bundles WHERE intent_id = '{intent_id}'")
    doc = json.loads(stored)
    psbt = PSBT.from_string(doc["transaction"]["psbt"])
    change = next(o for o in psbt.outputs if o.script_pubkey.data.hex() != address_script(EXCHANGE_BTC))
    change.value -= 10_000_000
    psbt.outputs.append(OutputScope(vout=TransactionOutput(10_000_000, ATTACKER)))
    doc["transaction"]["psbt"] = base64.b64encode(psbt.serialize()).decode()
    edited = json.dumps(doc, separators=(",", ":")).encode()
    raw_sql(st.server.sqlite_path, f"UPDATE bundles SET bytes = x'{edited.hex()}' WHERE intent_id = '{intent_id}'")
    say(f"      + output {len(psbt.outputs) - 1}: {amount(10_000_000, 'btc')} to "
        f"{ATTACKER.address(NETWORKS['regtest'])}")
    bundle, out = st.work / f"{intent_id}-tampered.bundle.json", st.work / f"{intent_id}-tampered.signed"
    st.kura("bundle", "get", intent_id, "--signer", "vault-a", "-o", bundle, "--session", st.session("alice"))
    signer = st.co.signers[0]
    before = signer.state()
    proc = st.signer(signer, "sign", bundle, "-o", out, "--yes", "--operator", "op-a", check=False)
    code, category = refusal(proc)
    if code == 0 or category != "OUTPUT_UNAUTHORISED":
        raise DemoError(f"kura-signer did not refuse the tampered bundle as OUTPUT_UNAUTHORISED: exit {code}, "
                        f"{category}")
    if out.exists() or signer.state() != before:
        raise DemoError("kura-signer wrote something for a refused bundle")
    say(f"  kura-signer refused it (exit {code}) and wrote nothing: no signature, no receipt, its ledger unchanged.")
    say("  The auditor's offline check of the coordinator's log names the break:")
    export = st.work / "audit-export.json"
    st.kura("audit", "export", "-o", export, "--session", st.session("a1"))
    audit = st.kura("audit", "verify", export, "--genesis-hash", st.co.genesis_hash, check=False)
    if audit.returncode != 3 or intent_id not in audit.stdout.decode() + audit.stderr.decode():
        raise DemoError(f"kura audit verify did not report the tampered bundle (exit {audit.returncode})")
    reason = next(line for line in proc.stderr.decode().splitlines() if line.startswith("kura-signer: refused: "))
    return {"intent": intent_id, "category": category, "exit": code, "reason": reason}


# -- the two commands ----------------------------------------------------------------------------------------------
def check_binaries():
    missing = [n for n in ("kura", "kura-signer", "kura-devtool") if not (BIN / n).exists()]
    if missing:
        raise DemoError(f"{', '.join(str(BIN / n) for n in missing)} missing: run `make build` (or set KURA_BIN)")


def scenario(st):
    """The four withdrawals and the attack; returns ([(label, withdrawal summary)], refusal summary)."""
    step("Funding the wallets (dev chain faucets)")
    st.fund(btc=FUNDING_BTC, eth_wei=FUNDING_ETH, kusd=FUNDING_KUSD)
    a, _, c = st.co.signers
    btc, eth = st.btc.mine, lambda: st.eth.rpc("evm_mine")
    results = [
        ("BTC single-sig", withdraw(
            st, "1. BTC single-sig: 0.5 BTC from btc-main to the exchange (one approval; vault-a signs)",
            "btc-main", "btc", "exchange", "0.5", ["bob"], [a], btc)),
        ("BTC 2-of-3", withdraw(
            st, "2. BTC 2-of-3 vault: 1.2 BTC from btc-vault to the exchange (two approvals; vault-a and vault-c sign)",
            "btc-vault", "btc", "exchange", "1.2", ["bob", "carol"], [a, c], btc)),
        ("ETH", withdraw(
            st, "3. ETH: 1.2 ETH from eth-main to the exchange (two approvals; vault-a signs)",
            "eth-main", "eth", "eth-exchange", "1.2", ["bob", "carol"], [a], eth)),
        ("KUSD", withdraw(
            st, "4. ERC-20: 1234.56 KUSD from eth-main to the exchange (two approvals; vault-a signs)",
            "eth-main", "usdc", "usdc-exchange", "1234.56", ["bob", "carol"], [a], eth)),
    ]
    return results, attack(st)


def demo(args) -> int:
    check_binaries()
    root = pathlib.Path(tempfile.mkdtemp(prefix="kura-demo-"))
    say(f"Kura demo: every step through the built binaries in {BIN}, against local dev chains (blocks mined on "
        f"demand), in a temporary directory shown as $DEMO = {root}.")
    st = Stack(root, "$DEMO", eth_args=("--no-automine",), confirmations=1)
    on_signals()
    ok, interrupt = False, None
    try:
        st.start()
        results, refused = scenario(st)
        ok = True
    except KeyboardInterrupt as e:
        interrupt = e
        say(f"\ndemo: interrupted ({e or 'SIGINT'})")
    except Exception as e:
        failed("demo", e, st)
    finally:
        codes = shutdown(st, interrupt)
        if ok and not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    if any(codes.values()):
        say(f"\ndemo: FAILED: a process did not stop cleanly: {codes}")
        ok = False
    if not ok:
        say(f"The demo's files are kept in {root}.")
        return 1
    step("Summary")
    for label, r in results:
        say(f"  confirmed  {label:<15} {r['amount']:>16}  {r['wallet']} -> {r['to']}, block {r['block']}, "
            f"signed by {' + '.join(r['signers'])}, tx {r['txid']}")
    say(f"  refused    {'attack':<15} {refused['category']}: an output appended to an approved withdrawal "
        f"({refused['intent']}), kura-signer exit {refused['exit']}; kura audit verify reports the break")
    say(f"             {refused['reason']}")
    say("\nThe chains and the coordinator are stopped" +
        ("; the demo's directory is removed." if not args.keep else f"; the demo's files are kept in {root}."))
    return 0


def failed(command, error, st):
    """Reports an unexpected outcome (a DemoError) or a crash (with its traceback), then the processes' logs."""
    if not isinstance(error, DemoError):
        traceback.print_exc(file=sys.stdout)
    say(f"\n{command}: FAILED: {error}")
    tail_logs(st)


def tail_logs(st):
    for name, p in st.procs:
        logs = p.logs().strip().splitlines()[-15:]
        if logs:
            say(f"--- {name} (last lines of its log)")
            for line in logs:
                say("  " + line)


def prepare_dir(root: pathlib.Path):
    """A fresh directory for `up`: refuses one of a running `up`, and anything it did not create itself."""
    state = root / "up.json"
    if state.exists():
        try:
            pid = json.loads(state.read_text())["pid"]
            os.kill(pid, 0)
            raise DemoError(f"another `demo.py up` (pid {pid}) is running in {root}: stop it first (Ctrl-C)")
        except (ProcessLookupError, ValueError, KeyError):
            pass
    if root.exists() and any(root.iterdir()) and not (root / MARKER).exists():
        raise DemoError(f"{root} exists and was not made by demo.py: not wiping it")
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    (root / MARKER).write_text("made by scripts/demo.py; wiped at each `demo.py up`\n")


def up(args) -> int:
    check_binaries()
    root = pathlib.Path(args.dir).absolute()
    prepare_dir(root)
    try:
        shown = os.path.relpath(root)
    except ValueError:
        shown = str(root)
    shown = shown if not shown.startswith("..") else str(root)
    st = Stack(root, shown, btc_args=("--block-interval", str(args.block_interval)),
               eth_args=("--block-interval", str(args.block_interval)), confirmations=1)
    status = 0
    lock = root / "up.json"
    lock.write_text(json.dumps({"pid": os.getpid()}))
    on_signals()
    interrupt = None
    try:
        st.start()
        step("Funding the wallets (dev chain faucets)")
        st.fund(btc=FUNDING_BTC, eth_wei=FUNDING_ETH, kusd=FUNDING_KUSD)
        step("Alice asks for 0.25 BTC to the exchange; it waits for one approval")
        intent_id = ask_and_approve(st, "btc-main", "btc", "exchange", "0.25", [], memo="your first withdrawal")
        health = st.server.request("GET", "/health")
        lock.write_text(json.dumps({
            "pid": os.getpid(), "coordinator": st.server.url, "esplora": f"http://127.0.0.1:{st.btc.port}",
            "ethereum": f"http://127.0.0.1:{st.eth.port}", "pending_intent": intent_id}))
        print_up(st, intent_id, health, args)
        while not args.check:
            time.sleep(0.5)
            dead = st.alive()
            if dead:
                say(f"\n{dead} stopped unexpectedly: stopping the rest.")
                tail_logs(st)
                status = 1
                break
    except KeyboardInterrupt as e:
        interrupt = e
        say(f"\n{e or 'SIGINT'}: stopping …")
    except Exception as e:
        failed("up", e, st)
        status = 1
    finally:
        codes = shutdown(st, interrupt)
        lock.unlink(missing_ok=True)
    bad = {name: code for name, code in codes.items() if code not in (0, -signal.SIGINT)}
    if bad:
        say(f"not stopped cleanly: {bad}")
        return 1
    say(f"Everything stopped ({', '.join(codes)}). The files stay in {shown} until the next `make run`.")
    return status


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) or SIGTERM: stop everything."""


def interrupted(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


def on_signals():
    """SIGINT and SIGTERM raise Interrupted from here on (also when SIGINT was inherited as ignored)."""
    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)


def shutdown(st, interrupt=None) -> dict:
    """Stops every process of `st`; {name: exit code}. After a Ctrl-C in a terminal the chains and the
    coordinator (in the same process group) got the SIGINT too and are already stopping: they are given a few
    seconds to finish before the SIGTERM that would cut their own shutdown short."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if interrupt is not None and str(interrupt) == "SIGINT":
        deadline = time.time() + 5
        for _, p in st.procs:
            try:
                p.proc.wait(max(0.0, deadline - time.time()))
            except subprocess.TimeoutExpired:
                pass
    return st.stop()


def print_up(st, intent_id, health, args):
    s = st.shown
    url = st.server.url
    bin_hint = os.path.relpath(BIN) if str(BIN).startswith(str(pathlib.Path.cwd())) else str(BIN)
    a = st.co.signers[0]
    step("Kura is up (throw-away test keys and public test mnemonics: never use them for funds)")
    console = url.replace("127.0.0.1", "localhost") + "/console/"
    say(f"  coordinator    {url}   web console {console}  (open it by this name: passkeys need a domain)")
    say(f"    API          {url}/v1   health {url}/health → {json.dumps(health[1])}   OpenAPI {url}/openapi.json")
    say(f"  bitcoin chain  http://127.0.0.1:{st.btc.port}  (Esplora API, regtest; a block every "
        f"{args.block_interval} s; POST /dev/faucet, /dev/mine)")
    say(f"  ethereum chain http://127.0.0.1:{st.eth.port}  (JSON-RPC, chain id 1337; a block every "
        f"{args.block_interval} s; KUSD token {KUSD})")
    say(f"  organisation   acme, genesis policy {st.co.genesis_hash}")
    say("  members        a1 a2 a3 (admins), alice (initiator), bob carol dave (approvers);"
        f" keys {s(st.co.dir)}/<member>.key, credential <member>-key")
    say(f"  sessions       {s(st.root / 'sessions')}/<member>.json for {', '.join(SESSIONS)} (logged in)")
    say(f"  cold signers   vault-a vault-b vault-c in {s(st.co.dir)}/signer-a|b|c, passphrase files "
        f"{s(st.co.dir)}/pass-a|b|c")
    say("  wallets        btc-main (wpkh, vault-a), btc-vault (2-of-3 of vault-a/b/c), eth-main (vault-a; ETH and "
        "usdc = KUSD)")
    say(f"  state          {s(st.root)} (wiped at the next `make run`); logs in {s(st.root / 'chains')} and "
        f"{s(st.root / 'coordinator')}")
    alice, bob = st.session("alice"), st.session("bob")
    bundle, signed = st.root / "bundle.json", st.root / "signed.psbt"
    step(f"Try it (from the repository root; the binaries are in {bin_hint}: export PATH=\"{BIN}:$PATH\")")
    for line in [
        f"kura intent list --session {s(alice)}",
        f"kura approve {intent_id} --session {s(bob)} --key {s(st.key('bob'))} --credential bob-key"
        "    # shows the intent decoded from its signed bytes, asks y/N",
        f"kura intent build {intent_id} --session {s(alice)}",
        f"kura bundle get {intent_id} --signer vault-a -o {s(bundle)} --session {s(alice)}",
        f"kura-signer sign {s(bundle)} -o {s(signed)} --home {s(a.home)} --passphrase-file {s(a.passfile)}"
        "    # the review; type yes, then your name",
        f"kura bundle put {intent_id} {s(signed)} --session {s(alice)}",
        f"kura intent show {intent_id} --session {s(alice)}    # broadcast, then confirmed at the next block",
        f"kura intent create --wallet eth-main --asset eth --to eth-exchange --amount 0.5 --session {s(alice)} "
        f"--key {s(st.key('alice'))} --credential alice-key    # ETH needs bob and carol",
    ]:
        say(f"  {line}")
    say(f"\nIn the browser: register a passkey at {console}#/register (organisation acme, member alice), save the "
        "credential JSON it shows, then let the demo admins add it: "
        ".venv/bin/python scripts/demo.py passkey --member alice --credential FILE; sign in, "
        "and do the same for bob to approve.")
    say("\nThe same end to end, scripted, with the attack replayed: make demo.")
    say("Up " + ("(--check: stopping now)." if args.check else "until Ctrl-C."))


def add_passkey(args) -> int:
    """Puts a passkey the console registered into the running demo's policy: the next version adds the credential to
    the member, signed by the demo admins a1 and a2 (their throw-away keys) and pushed with a1's session."""
    root = pathlib.Path(args.dir).absolute()
    lock = root / "up.json"
    if not lock.exists():
        raise DemoError(f"no demo is running in {root} (start one with make run)")
    state = json.loads(lock.read_text())
    credential = json.loads(pathlib.Path(args.credential).read_text() if args.credential != "-" else sys.stdin.read())
    if not isinstance(credential, dict) or credential.get("scheme") != "webauthn-es256":
        raise DemoError("the credential must be the console's JSON for a passkey (scheme webauthn-es256)")
    company, work = root / "company", root / "work"
    session = root / "sessions" / "a1.json"
    token = json.loads(session.read_text())["token"]
    import urllib.request

    def get(path):
        request = urllib.request.Request(state["coordinator"] + path, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=30) as r:
            return json.loads(r.read())

    latest = max(get("/v1/orgs/acme/policies")["policies"], key=lambda p: p["version"])
    current = get(f"/v1/orgs/acme/policies/{latest['version']}")["policy"]["document"]
    doc = json.loads(json.dumps(current["policy"]))
    members = [m for m in doc["members"] if m["id"] == args.member]
    if not members:
        raise DemoError(f"{args.member} is not a member of policy version {doc['version']}")
    members[0]["credentials"] = [c for c in members[0]["credentials"] if c["id"] != credential["id"]] + [credential]
    now = int(time.time()) - 5
    doc.update(version=doc["version"] + 1, created=now, effectiveFrom=now)
    doc.pop("previous", None)
    current_file, doc_file, out = work / "policy-current.json", work / "policy-next.doc.json", work / "policy-next.json"
    current_file.write_text(json.dumps(current))
    doc_file.write_text(json.dumps(doc))
    run("kura", "policy", "propose", doc_file, "--current", current_file, "--out", out, check=True)
    for admin in ("a1", "a2"):
        run("kura", "policy", "sign", out, "--key", company / f"{admin}.key", "--member", admin, "--credential",
            f"{admin}-key", check=True)
    r = run("kura", "policy", "push", out, "--session", session, check=False)
    if r.returncode != 0:
        raise DemoError(f"the coordinator refused the policy version: {r.stderr.decode().strip()}")
    say(f"policy version {doc['version']} in force: {args.member} may now sign in to the console with passkey "
        f"{credential['id']} (admins a1 and a2 signed it)")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="start the chains, the coordinator and a funded demo company; stay up")
    p_up.add_argument("--dir", default=str(ROOT / ".kura-demo"), help="the demo's directory (wiped at start)")
    p_up.add_argument("--check", action="store_true", help="exit 0 right after printing (for tests)")
    p_up.add_argument("--block-interval", type=float, default=5, help="seconds between blocks on both chains")
    p_demo = sub.add_parser("demo", help="the withdrawals and the attack, scripted, in a temporary directory")
    p_demo.add_argument("--keep", action="store_true", help="keep the temporary directory")
    p_key = sub.add_parser("passkey", help="add a passkey registered in the console to a member (running demo)")
    p_key.add_argument("--member", required=True, help="the member (alice, bob, …)")
    p_key.add_argument("--credential", required=True, help="the console's credential JSON file (- for stdin)")
    p_key.add_argument("--dir", default=str(ROOT / ".kura-demo"), help="the running demo's directory")
    args = parser.parse_args(argv)
    try:
        return {"up": up, "demo": demo, "passkey": add_passkey}[args.command](args)
    except DemoError as e:
        say(f"{args.command}: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
