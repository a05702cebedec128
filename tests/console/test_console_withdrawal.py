"""The operator console in Debian's headless Chromium, end to end, against the real binaries and the dev chain.

Two operators, each in their own browser with a virtual passkey authenticator: both register a passkey in the
console, the admins put the two credentials in the next policy version (CLI keys, `kura policy push`), both
sign in with their passkey; alice takes a deposit address (with its QR code), the dev chain funds it, she creates
a withdrawal (digest computed and shown in the browser, signed with her passkey); bob reviews it decoded from the
signed bytes and approves it with his; alice builds the transaction, downloads the signing bundle, `kura-signer`
signs it offline, she uploads the result, and the coordinator broadcasts it and follows it to two confirmations.
The chain's own transaction (decoded by embit) pays exactly the approved amount to the address-book entry.

Then the attack the console cannot stop by itself: the coordinator serves JavaScript altered to sign another
destination than the one it shows. The coordinator's own checks refuse the intent, and when a compromised
coordinator carries that passkey-signed intent to the signer anyway, `kura-signer` refuses it (ALLOWLIST_MISS),
beside the same kind of bundle with an honest intent from the same page, which passes review.

The screenshots of docs/console/ are taken by this run. No test leaves a console error or CSP violation behind
(tests/console/conftest.py checks every browser after every test)."""
import base64
import hashlib
import json
import pathlib
import shutil
import socket
import subprocess
import sys
import time

import pytest
from embit.networks import NETWORKS
from embit.script import Script, address_to_scriptpubkey
from embit.transaction import Transaction

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "tests" / "coordinator"))
sys.path.insert(0, str(ROOT / "tests" / "devchain"))

from coordinator_server import Server, kura_json  # noqa: E402
from devchain_server import DevChain  # noqa: E402
from harness import DAY, EXCHANGE_BTC, Company, canonical, refusal  # noqa: E402
from test_api import Org  # noqa: E402
from test_devchain_ethereum import Eth  # noqa: E402

from .a11y import audit  # noqa: E402
from test_proposals import add_supplier, next_version, signature  # noqa: E402

SHOTS = ROOT / "docs" / "console"
CONSOLE = ROOT / "Sources" / "CoordinatorServer" / "Console"
KUSD = "0xe8527F28834bb497C06BEa4fB1dDd40389d8140b"  # the Ethereum dev chain's token (devchain/README.md)
# A regtest address in no address book: where the altered page sends the money.
ATTACKER_BTC = Script(b"\x00\x14" + bytes(range(20))).address(NETWORKS["regtest"])


def tagged(tag: str, data: bytes) -> bytes:
    t = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(t + t + data).digest()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tid(name: str) -> str:
    return f'[data-testid="{name}"]'


class World:
    pass


@pytest.fixture(scope="module")
def world(tmp_path_factory, browser_factory):
    w = World()
    tmp = tmp_path_factory.mktemp("console-e2e")
    w.tmp = tmp
    w.chain = DevChain(tmp_path_factory.mktemp("console-chain"))
    w.eth = Eth(tmp_path_factory.mktemp("console-eth"))
    w.company = Company(tmp_path_factory.mktemp("console-company"), token=KUSD)
    w.port = free_port()
    w.server_dir = tmp_path_factory.mktemp("console-server")
    w.server_args = ["--port", str(w.port), "--esplora", f"regtest=http://127.0.0.1:{w.chain.port}",
                     "--ethereum", f"1337=http://127.0.0.1:{w.eth.port}", "--follow-interval", "0.2",
                     "--confirmations", "2"]
    w.server = Server(w.server_dir, "sqlite", extra=w.server_args)
    w.org = Org(w.server, w.company, w.company.dir, organization="acme",
                genesis=(w.company.genesis, w.company.genesis_hash))
    # The console must be opened by name: a passkey's relying party is a domain, never an IP address.
    w.base = f"http://localhost:{w.port}/console/"
    w.downloads = tmp_path_factory.mktemp("downloads")
    w.alice = browser_factory("alice")
    w.bob = browser_factory("bob")
    for b in (w.alice, w.bob):
        b.add_passkey_authenticator()
        b.driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                                 {"behavior": "allow", "downloadPath": str(w.downloads)})
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield w
    finally:
        assert w.server.stop() == 0, w.server.logs()
        assert w.chain.stop() == 0, w.chain.logs()
        assert w.eth.stop() == 0, w.eth.logs()


def go(browser, w, route: str):
    """Opens a screen; a URL equal to the current one is reloaded (the same hash navigates nowhere)."""
    if browser.driver.current_url == w.base + route:
        browser.driver.refresh()
    else:
        browser.open(w.base + route)
    browser.wait_for(tid("screen-heading"))
    browser.wait_for('body[data-ready="true"]', visible=False)


def choose(browser, testid: str, value: str):
    from selenium.webdriver.support.ui import Select

    element = browser.wait_for(tid(testid))
    if element.tag_name == "select":
        Select(element).select_by_value(value)
    else:
        element.clear()
        element.send_keys(value)


def shot(browser, name: str):
    """The whole page at a laptop's width (the window grows to the page's height, then shrinks back)."""
    driver = browser.driver
    size = driver.get_window_size()
    height = browser.run("return Math.ceil(document.documentElement.scrollHeight)")
    driver.set_window_size(size["width"], min(max(size["height"], height + 150), 4000))
    browser.run("window.scrollTo(0, 0)")
    time.sleep(0.3)  # let layout, focus rings and fonts settle
    browser.screenshot(SHOTS / f"{name}.png")
    driver.set_window_size(size["width"], size["height"])
    # Every screen shown in the docs passes the accessibility audit (labels, names, contrast, keyboard).
    problems = audit(browser)
    assert problems == [], f"{name}: {problems}"


def wait_until(what, check, timeout=30, step=0.3):
    deadline = time.time() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(step)


def expect_only_refusal(browser, path: str, status: int):
    """Takes the browser's log entries after a request the test makes the server refuse: they must be exactly
    Chrome's note of that one refused request — no script error, no CSP violation hides behind it."""
    errors = browser.take_errors()
    assert len(errors) == 1 and path in errors[0] and f"status of {status}" in errors[0], errors


def register(browser, w, who: str) -> dict:
    go(browser, w, "#/register")
    choose(browser, "register-org", "acme")
    choose(browser, "register-member", who)
    choose(browser, "register-credential-id", f"{who}-passkey")
    choose(browser, "register-display-name", who.capitalize())
    browser.click(tid("register-submit"))
    credential = json.loads(browser.text(tid("registration-credential")))
    return credential


def sign_in(browser, w, who: str):
    go(browser, w, "#/sign-in")
    choose(browser, "signin-org", "acme")
    choose(browser, "signin-member", who)
    choose(browser, "signin-credential", f"{who}-passkey")
    browser.click(tid("signin-submit"))
    wait_until(f"{who} signed in", lambda: browser.text(tid("session-member")) == who)


def refresh_until(browser, css_ready: str, check, what: str, timeout=60):
    deadline = time.time() + timeout
    while True:
        if check():
            return
        assert time.time() < deadline, f"timed out waiting for {what}"
        browser.click(tid("detail-refresh"))
        browser.wait_for(css_ready)
        time.sleep(0.5)


def detail_state(browser) -> str:
    return browser.wait_for(tid("detail-state")).get_attribute("data-state")


def signed_bytes(w, intent_id: str) -> bytes:
    status, detail, _ = w.server.request("GET", f"/v1/orgs/acme/intents/{intent_id}", token=w.org.token("a1"))
    assert status == 200, detail
    return base64.b64decode(detail["documentBase64"]), detail


def create_transfer(browser, w, amount: str, screenshot: str | None = None):
    """Fills the new-transfer form (btc-main → the `exchange` entry), reviews it, and returns the review's
    displayed destination address and browser-computed digest before signing."""
    go(browser, w, "#/transfer/new")
    choose(browser, "transfer-wallet", "btc-main")
    choose(browser, "transfer-asset", "btc")
    choose(browser, "transfer-destination", "exchange")
    choose(browser, "transfer-amount", amount)
    browser.click(tid("transfer-review"))
    digest = browser.text(tid("intent-digest"))
    shown = browser.text(tid("review-destination-address"))
    if screenshot:
        shot(browser, screenshot)
    return shown, digest


def test_a_withdrawal_through_the_console_from_passkey_registration_to_confirmation(world):
    w = world
    # 1. Each operator registers a passkey in the console; it shows the credential for the admins.
    credentials = {}
    for who, browser in (("alice", w.alice), ("bob", w.bob)):
        credentials[who] = register(browser, w, who)
        c = credentials[who]
        assert c["id"] == f"{who}-passkey" and c["scheme"] == "webauthn-es256"
        assert c["rpId"] == "localhost" and c["origins"] == [f"http://localhost:{w.port}"]
        assert c["userVerification"] is True and c["publicKey"].startswith("04") and len(c["publicKey"]) == 130
    shot(w.alice, "register")
    # A passkey no policy lists signs nobody in (positive control below, after the admins' version).
    go(w.alice, w, "#/sign-in")
    choose(w.alice, "signin-org", "acme")
    choose(w.alice, "signin-member", "alice")
    choose(w.alice, "signin-credential", "alice-passkey")
    w.alice.click(tid("signin-submit"))
    assert w.alice.text(tid("signin-error"))  # refused: no policy lists this passkey yet
    expect_only_refusal(w.alice, "/console/session", 401)  # Chrome logs the refused request; nothing else

    # 2. The admins add both passkeys to the members in policy version 2 (a normal change: quorum 2, no delay).
    co = w.company
    now = int(time.time()) - 60
    doc = co.policy_doc(version=2, created=now, effectiveFrom=now)
    for m in doc["members"]:
        if m["id"] in credentials:
            m["credentials"] = m["credentials"] + [credentials[m["id"]]]
    v2 = co.signed_policy(doc, ["a1", "a2"], name="v2-passkeys", current=co.genesis)
    code, out, err = kura_json("policy", "push", v2, "--session", w.org.login("a1"), "--json")
    assert code == 0, err
    co.chain = [co.genesis, v2]

    # 3. Both sign in with their passkeys: the session lives in an HttpOnly cookie the page cannot read.
    sign_in(w.alice, w, "alice")
    sign_in(w.bob, w, "bob")
    cookie = [c for c in w.alice.cookies() if c["name"] == "__Host-kura-session"]
    assert len(cookie) == 1 and cookie[0]["httpOnly"] and cookie[0]["secure"] and cookie[0]["sameSite"] == "Strict"
    assert w.alice.run("return document.cookie") == ""
    assert w.alice.text(tid("session-roles")).find("initiator") >= 0

    # 4. A deposit address with its QR code; the dev chain pays it; the dashboard shows the balance.
    go(w.alice, w, "#/wallets")
    w.alice.click(tid("address-new-btc-main"))
    address = w.alice.text(tid("address-btc-main-0"))
    assert address.startswith("bcrt1")
    assert w.alice.wait_for(tid("address-qr-btc-main-0") + " svg") is not None
    w.chain.faucet(address, 200_000_000)
    account = co.signers[0].card["ethereum"]["address"]
    w.eth.rpc("dev_fund", account, hex(5 * 10**18))
    w.eth.rpc("dev_mintToken", account, hex(2_500_000_000))  # 2,500 KUSD (6 decimals)
    shot(w.alice, "wallets")
    go(w.alice, w, "#/dashboard")
    wait_until("the balance", lambda: "2" in w.alice.text(tid("balance-btc-main-btc")))
    shot(w.alice, "dashboard")

    # 5. alice creates 0.5 BTC to the exchange: the review shows the document and its digest; her passkey signs.
    shown, digest = create_transfer(w.alice, w, "0.5", screenshot="transfer-review")
    assert shown == EXCHANGE_BTC
    w.alice.click(tid("transfer-sign"))
    intent_id = w.alice.text(tid("created-intent-id"))
    raw, detail = signed_bytes(w, intent_id)
    signed = json.loads(raw)
    # The digest the browser showed is the one of the bytes it signed, recomputed here independently.
    assert tagged("kura/intent/v1", canonical(signed["intent"])).hex() == digest == detail["intent"]["digest"]
    assert signed["intent"]["destination"] == {"entry": "exchange", "address": EXCHANGE_BTC}
    assert signed["intent"]["amount"] == "50000000" and signed["signature"]["credential"] == "alice-passkey"
    assert signed["signature"]["evidence"]["scheme"] == "webauthn-es256"

    # 6. bob's queue decodes the intent from its signed bytes; he approves with his passkey.
    go(w.bob, w, "#/approvals")
    w.bob.wait_for(tid(f"approval-row-{intent_id}"))
    shot(w.bob, "approvals")
    go(w.bob, w, f"#/approvals/{intent_id}")
    assert w.bob.text(tid("decoded-destination-address")) == EXCHANGE_BTC
    assert w.bob.wait_for(tid("approval-digest-status")).get_attribute("data-match") == "true"
    # The initiator's passkey signature verified in Bob's browser against the credential in the policy.
    assert w.bob.text(tid("approval-signature-status")) == "Signature verified in this browser"
    assert w.bob.text(tid("approval-digest-computed")) == digest
    shot(w.bob, "approval-review")
    w.bob.click(tid("approve-button"))
    w.bob.wait_for(tid("approval-success"))

    # 7. alice builds, downloads the bundle, the cold signer signs it, she uploads the result.
    go(w.alice, w, f"#/transfers/{intent_id}")
    assert detail_state(w.alice) == "approved"
    w.alice.click(tid("detail-build"))
    w.alice.wait_for(tid("detail-build-result"))
    choose(w.alice, "detail-signer", "vault-a")
    w.alice.click(tid("detail-bundle-download"))
    w.alice.click(tid("detail-bundle-link"))
    bundle = wait_until("the downloaded bundle", lambda: next(
        (p for p in w.downloads.glob("*.json") if not p.name.endswith(".crdownload") and p.stat().st_size > 0), None))
    bundle_doc = json.loads(bundle.read_text())
    assert bundle_doc["kind"] == "kura.signing-bundle" and bundle_doc["intent"] == signed
    out = w.tmp / "signed.psbt"
    r = co.signers[0].sign(bundle, out)
    assert r.returncode == 0, r.stderr.decode()
    receipt = out.with_name(out.name + ".receipt.json")
    refresh_until(w.alice, tid("detail-state"), lambda: detail_state(w.alice) == "signing", "signing")
    w.alice.wait_for(tid("detail-result-file"), visible=False).send_keys(str(out))
    w.alice.wait_for(tid("detail-receipt-file"), visible=False).send_keys(str(receipt))
    w.alice.click(tid("detail-upload"))
    w.alice.wait_for(tid("detail-upload-result"))

    # 8. The coordinator broadcasts and follows it; two blocks later the console shows it confirmed.
    refresh_until(w.alice, tid("detail-state"), lambda: detail_state(w.alice) in ("broadcast", "confirmed"),
                  "the broadcast")
    txid = w.alice.text(tid("detail-txid"))
    w.chain.mine(2)
    refresh_until(w.alice, tid("detail-state"), lambda: detail_state(w.alice) == "confirmed", "confirmation")
    assert int(w.alice.text(tid("detail-confirmations"))) >= 2
    shot(w.alice, "transfer-detail")
    raw_hex = w.chain.text(f"/tx/{txid}/hex")
    tx = Transaction.parse(bytes.fromhex(raw_hex))
    paid = [o.value for o in tx.vout if o.script_pubkey.data == address_to_scriptpubkey(EXCHANGE_BTC).data]
    assert paid == [50_000_000] and tx.txid().hex() == txid

    # 9. The other screens, for the record: history (with CSV), address book with a pending proposal, policy
    # versions, the audit log (its chain verified in the browser), and the dashboard in Japanese.
    go(w.alice, w, "#/history")
    w.alice.wait_for(tid("history-table"))
    assert txid in w.alice.text(tid("history-table"))
    shot(w.alice, "history")
    proposal = next_version(w.server, w.org, add_supplier())
    status, made, _ = w.server.request("POST", "/v1/orgs/acme/proposals",
                                       {"policy": proposal, "signatures": [signature(co.dir, "a1", proposal)]},
                                       token=w.org.token("a1"))
    assert status == 201, made
    go(w.alice, w, "#/address-book")
    w.alice.wait_for(tid(f"proposal-{made['proposal']['id']}"))
    assert w.alice.text(tid("addressbook-delay"))
    shot(w.alice, "address-book")
    go(w.alice, w, "#/policies")
    w.alice.wait_for(tid("policy-row-2"))
    shot(w.alice, "policies")
    go(w.alice, w, "#/audit")
    assert w.alice.wait_for(tid("audit-verdict")).get_attribute("data-broken") == "0"
    shot(w.alice, "audit")
    go(w.alice, w, "#/dashboard")
    choose(w.alice, "language-select", "ja")
    wait_until("Japanese", lambda: w.alice.run("return document.documentElement.lang") == "ja")
    w.alice.wait_for(tid("balance-btc-main-btc"))
    shot(w.alice, "dashboard-ja")
    choose(w.alice, "language-select", "en")
    w.state = {"intent": intent_id}


def altered_console(w) -> pathlib.Path:
    """A copy of the console whose transfer screen signs (and submits) the attacker's address while it shows the
    address-book entry's, with its SRI hashes recomputed: the page is exactly what a compromised coordinator
    would serve. It also leaves the signed intent in sessionStorage — what that coordinator would keep."""
    site = w.tmp / "altered-console"
    if site.exists():
        shutil.rmtree(site)
    shutil.copytree(CONSOLE, site)
    screen = site / "js" / "screen-transfer-new.js"
    text = screen.read_text()
    sign = "const signature = await memberSignature({ org: session.org, member: session.member, credentialId, digest: digest.bytes });"
    submit = "const answer = await post(path('/intents'), { json: { intent: doc, signature }, idempotencyKey });"
    assert text.count(sign) == 1 and text.count(submit) == 1, "the transfer screen changed: update the attack"
    text = text.replace(sign, (
        "const evil = JSON.parse(JSON.stringify(doc)); "
        f"evil.destination.address = '{ATTACKER_BTC}'; "
        "const evilDigest = await digestOf('intent', evil); "
        "const signature = await memberSignature({ org: session.org, member: session.member, credentialId, "
        "digest: evilDigest.bytes }); "
        "sessionStorage.setItem('kura.stolen', JSON.stringify({ intent: evil, signature }));"))
    text = text.replace(submit, "const answer = await post(path('/intents'), { json: { intent: evil, signature }, "
                                "idempotencyKey });")
    screen.write_text(text)
    subprocess.run([sys.executable, str(ROOT / "scripts" / "console_sri.py"), "--console", str(site)], check=True,
                   capture_output=True)
    return site


def approval_by(co, who: str, signed_intent: pathlib.Path) -> pathlib.Path:
    """`who`'s approval of the intent's digest, made here in Python with their Ed25519 key file."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    intent = json.loads(signed_intent.read_text())["intent"]
    approval = {"kind": "kura.approval", "format": 1, "intent": tagged("kura/intent/v1", canonical(intent)).hex(),
                "decision": "approve", "approver": who, "time": int(time.time())}
    key = Ed25519PrivateKey.from_private_bytes((co.dir / f"{who}.key").read_bytes()[9:41])
    sig = key.sign(tagged("kura/approval/v1", canonical(approval)))
    path = signed_intent.with_name(signed_intent.stem + f".approval-{who}.json")
    path.write_bytes(canonical({"approval": approval, "signature": {
        "member": who, "credential": f"{who}-key", "evidence": {"scheme": "ed25519", "signature": sig.hex()}}}))
    return path


def bundle_for(co, signed_intent: pathlib.Path, name: str) -> pathlib.Path:
    """The bundle a coordinator would hand the signer: the policy chain, the intent as signed, bob's approval of
    that very intent (so only the destination can be wrong), and a PSBT paying what the intent names."""
    approvals = [approval_by(co, "bob", signed_intent)]
    return co.bundle(signed_intent, approvals, psbt=co.psbt("btc-main", signed_intent), name=name)


def test_javascript_altered_to_sign_another_destination_is_refused_by_the_signer(world):
    w = world
    co = w.company
    assert getattr(w, "state", None), "runs after the withdrawal test (same module, same passkeys)"
    signer = co.signers[0]
    # Positive control: an intent signed on the genuine page, carried in the same kind of bundle, passes review.
    shown, digest = create_transfer(w.alice, w, "0.2")
    assert shown == EXCHANGE_BTC
    w.alice.click(tid("transfer-sign"))
    honest_id = w.alice.text(tid("created-intent-id"))
    honest = w.tmp / "honest.intent.json"
    honest.write_bytes(signed_bytes(w, honest_id)[0])
    bundle = bundle_for(co, honest, "honest.bundle.json")
    r = signer.review(bundle)
    assert r.returncode == 0, r.stderr.decode()

    # The coordinator now serves the altered page (same origin, same database, same sessions).
    assert w.server.stop() == 0
    site = altered_console(w)
    w.server = Server(w.server_dir, "sqlite", extra=w.server_args + ["--console-dir", str(site)],
                      data_dir=w.server.data_dir)
    shown, digest = create_transfer(w.alice, w, "0.3")
    assert shown == EXCHANGE_BTC  # what alice sees is the address book's entry
    w.alice.click(tid("transfer-sign"))
    # The coordinator's own checks refuse what the page really signed.
    error = w.alice.text(tid("transfer-submit-error"))
    assert "ALLOWLIST_MISS" in error, error
    expect_only_refusal(w.alice, "/intents", 422)  # Chrome logs the refused POST; nothing else
    stolen = json.loads(w.alice.run("return sessionStorage.getItem('kura.stolen')"))
    assert stolen["intent"]["destination"] == {"entry": "exchange", "address": ATTACKER_BTC}
    assert tagged("kura/intent/v1", canonical(stolen["intent"])).hex() != digest  # not what was shown
    # A compromised coordinator carries alice's passkey-signed intent to the cold signer anyway: refused.
    evil = w.tmp / "evil.intent.json"
    evil.write_bytes(canonical(stolen))
    bundle = bundle_for(co, evil, "evil.bundle.json")
    before = signer.state()
    r = signer.review(bundle)
    assert refusal(r)[1] == "ALLOWLIST_MISS", r.stderr.decode()
    out = w.tmp / "evil.signed.psbt"
    r = signer.sign(bundle, out)
    assert refusal(r)[1] == "ALLOWLIST_MISS", r.stderr.decode()
    assert not out.exists() and signer.state() == before
    # The intent's passkey signature itself is alice's and valid: the refusal is the destination, nothing else.
    assert stolen["signature"]["credential"] == "alice-passkey"
