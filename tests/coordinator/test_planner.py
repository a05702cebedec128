"""The coordinator's transaction planner (CoordinatorCore, docs/PLANNING.md) through `kura-devtool plan`, judged by
tools we did not write and by the built signer.

Bitcoin: embit and BDK decode the planned PSBT; it pays exactly the intent (the destination script from BDK's own
address decoder), change goes to the wallet's change branch (the script derived by BDK from the policy's
descriptor), the fee is inputs minus outputs and within both caps; `kura-signer review` accepts a bundle made from
it and `kura-signer sign` signs it (all three signers of the 2-of-3 vault); BDK finalises and btclib's script
engine verifies the result, whose real size is within the planner's estimate.

Ethereum: pyrlp and eth-account decode the unsigned EIP-1559 payload (eth-abi the ERC-20 call data); the planner is
fed a nonce, a base fee and a gas estimate from a py-evm chain (eth-tester); `kura-signer` accepts and signs the
bundle, and py-evm executes the signed transaction.

Every refusal (fee cap, insufficient funds, pinned coin missing, nonce past the pinned nonce, a coin that is not
the wallet's, an unproven coin) has its positive control beside it."""
import json
import pathlib
import sys

import bdkpython
import pytest
import rlp
from btclib.script.engine import ALL_FLAGS, verify_input
from btclib.tx import Tx
from btclib.tx import TxOut as BtclibTxOut
from eth_abi import decode as abi_decode
from eth_account.typed_transactions import TypedTransaction
from eth_utils import keccak, to_checksum_address

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "signer"))

from conftest import run  # noqa: E402
from embit.psbt import PSBT  # noqa: E402
from harness import CHAIN_ID, EXCHANGE_BTC, EXCHANGE_ETH, Company  # noqa: E402

GWEI = 10**9
ETHER = 10**18
# The harness policy's caps (Company.policy_doc): Bitcoin 200000 sat and 100000 sat/kvB; Ethereum below.
POLICY_MAX_FEE, POLICY_MAX_RATE = 200_000, 100_000
ETH_FEE_CAP, ETH_PRIORITY_CAP, ETH_GAS_CAP, ETH_TOTAL_CAP = 200 * GWEI, 5 * GWEI, 100_000, 2 * 10**16


@pytest.fixture(scope="module")
def co(tmp_path_factory):
    return Company(tmp_path_factory.mktemp("planner"))


# -- driving the planner -----------------------------------------------------------------------
def governance(co, intent, chain=None):
    return {"genesis_hash": co.genesis_hash, "policies": [str(p) for p in (chain or co.chain)], "intent": str(intent)}


def refusal_code(proc):
    """The planner's refusal code from `kura-devtool: error: CODE: reason`, or None."""
    for line in proc.stderr.decode().splitlines():
        if line.startswith("kura-devtool: error: "):
            return line.split(": ")[2]
    return None


class Coin:
    """A funding transaction paying the wallet's script at branch/index (BDK derives the script)."""

    def __init__(self, co, wallet, branch, index, value, confirmations=6, script=None):
        self.branch, self.index, self.value = branch, index, value
        self.tx = co.funding(script if script is not None else co.bdk_script(wallet, branch, index), value)
        self.confirmations = confirmations

    @property
    def outpoint(self):
        return f"{self.tx.txid().hex()}:0"

    def spec(self):
        return {"prev_tx": self.tx.serialize().hex(), "vout": 0, "confirmations": self.confirmations}


def plan_btc(co, intent, coins, fee_rate=5_000, change_index=7, chain=None, **extra):
    spec = {"governance": governance(co, intent, chain), "coins": [c.spec() for c in coins], "fee_rate": fee_rate,
            "change_index": change_index, "scan": {"receive": 20, "change": 20}, **extra}
    co.counter += 1
    f = co.dir / f"plan-btc-{co.counter}.json"
    f.write_text(json.dumps(spec))
    proc = run("kura-devtool", "plan", "btc", "--spec", f)
    return proc, (json.loads(proc.stdout) if proc.returncode == 0 else None)


def planned_btc(co, intent, coins, **kw):
    proc, plan = plan_btc(co, intent, coins, **kw)
    assert proc.returncode == 0, proc.stderr.decode()
    return plan


def refused_btc(co, intent, coins, **kw):
    proc, _ = plan_btc(co, intent, coins, **kw)
    assert proc.returncode == 65, (proc.returncode, proc.stdout, proc.stderr)
    return refusal_code(proc)


def destination_script(address):
    """The destination's scriptPubKey from BDK's address decoder (not Kura's, not embit's)."""
    return bytes(bdkpython.Address(address, bdkpython.Network.REGTEST).script_pubkey().to_bytes())


def intent_doc(path):
    return json.loads(pathlib.Path(path).read_text())["intent"]


def check_btc_plan(co, wallet, intent, plan, coins, fee_rate, change_index):
    """The planned PSBT, decoded by embit and BDK, is exactly the intent; returns the embit PSBT."""
    doc = intent_doc(intent)
    amount = int(doc["amount"])
    psbt = PSBT.from_base64(plan["psbt"])
    assert psbt.version in (None, 0)  # BIP-0174 version 0: no PSBT_GLOBAL_VERSION
    tx = psbt.tx
    assert tx.version == 2 and tx.locktime == 0
    assert all(i.sequence == 0xFFFFFFFD for i in tx.vin)
    # Inputs: offered coins, each proven by its full previous transaction, each the wallet's script at the
    # branch/index the planner reports (BDK derives it from the policy's descriptor).
    by_outpoint = {c.outpoint: c for c in coins}
    spent = []
    assert len(tx.vin) == len(plan["inputs"]) >= 1
    for txin, inp, reported in zip(tx.vin, psbt.inputs, plan["inputs"]):
        outpoint = f"{txin.txid.hex()}:{txin.vout}"
        assert outpoint == reported["outpoint"] and outpoint in by_outpoint
        coin = by_outpoint[outpoint]
        assert inp.non_witness_utxo.txid() == txin.txid
        prevout = inp.non_witness_utxo.vout[txin.vout]
        assert inp.witness_utxo.value == prevout.value == coin.value == reported["value"]
        assert (reported["branch"], reported["index"]) == (coin.branch, coin.index)
        assert prevout.script_pubkey.data == co.bdk_script(wallet, coin.branch, coin.index)
        spent.append(prevout)
    # Outputs: exactly the intent's amount to exactly its destination, then at most one change output on the
    # wallet's change branch (script by BDK, derivation path ending in 1/index).
    dest = destination_script(doc["destination"]["address"])
    assert tx.vout[0].script_pubkey.data == dest and tx.vout[0].value == amount
    assert [o.value for o in tx.vout if o.script_pubkey.data == dest] == [amount]
    assert plan["payment"] == {"script": dest.hex(), "value": amount}
    if plan.get("change") is None:
        assert len(tx.vout) == 1
    else:
        assert len(tx.vout) == 2
        change = tx.vout[1]
        assert plan["change"]["index"] == change_index
        assert change.script_pubkey.data == co.bdk_script(wallet, 1, change_index)
        assert change.value == plan["change"]["value"] >= 294  # never dust (P2WPKH 294, P2WSH 330)
        out = psbt.outputs[1]
        paths = [d.derivation[-2:] for d in out.bip32_derivations.values()]
        paths += [d.derivation[-2:] for _, d in out.taproot_bip32_derivations.values()]
        assert paths and all(p == [1, change_index] for p in paths)
        assert not psbt.outputs[0].bip32_derivations and not psbt.outputs[0].taproot_bip32_derivations
    # Fee: inputs minus outputs, equal to BDK's, within both caps, paying at least the requested rate over the
    # planner's size estimate.
    fee = sum(o.value for o in spent) - sum(o.value for o in tx.vout)
    assert fee == plan["fee"] == bdkpython.Psbt(plan["psbt"]).fee()
    caps = json.loads(pathlib.Path(intent).read_text())["intent"]["feeCap"]
    assert fee <= min(int(caps["maxAbsolute"]), POLICY_MAX_FEE)
    assert fee * 1000 // plan["vsize"] == plan["fee_rate_kvb"] <= min(int(caps["maxRatePerKvB"]), POLICY_MAX_RATE)
    assert fee * 1000 >= fee_rate * plan["vsize"]
    return psbt


def sign_ok(signer, bundle, name):
    review = signer.review(bundle)
    assert review.returncode == 0, review.stderr.decode()
    out = signer.company.dir / name
    r = signer.sign(bundle, out)
    assert r.returncode == 0, r.stderr.decode()
    return out.read_text().strip(), json.loads(review.stdout)["review"]


def finalise_and_verify(partials, psbt, plan):
    """BDK combines and finalises; btclib's script engine verifies every input; the real size is within the
    planner's estimate and the real rate at least the estimated one."""
    combined = bdkpython.Psbt(partials[0])
    for other in partials[1:]:
        combined = combined.combine(bdkpython.Psbt(other))
    result = combined.finalize()
    assert result.could_finalize, result.errors
    final = result.psbt.extract_tx()
    assert final.vsize() <= plan["vsize"]
    raw = final.serialize()
    tx = Tx.parse(raw)
    utxos = [BtclibTxOut(i.non_witness_utxo.vout[t.vout].value, i.non_witness_utxo.vout[t.vout].script_pubkey.data)
             for i, t in zip(psbt.inputs, psbt.tx.vin)]
    for n in range(len(tx.vin)):
        verify_input(utxos, tx, n, ALL_FLAGS)
    return tx


# -- Bitcoin -----------------------------------------------------------------------------------
def test_single_sig_plan_pays_the_intent_and_the_signer_signs_it(co):
    intent = co.intent(wallet="btc-main", amount="50000000")
    approval = co.approve(intent, "bob")
    coins = [Coin(co, "btc-main", 0, 3, 30_000_000), Coin(co, "btc-main", 0, 4, 40_000_000),
             Coin(co, "btc-main", 1, 2, 5_000_000)]
    plan = planned_btc(co, intent, coins, fee_rate=5_000, change_index=7)
    psbt = check_btc_plan(co, "btc-main", intent, plan, coins, 5_000, 7)
    assert plan.get("change") is not None and plan["selection"] != "pinned"

    signed, review = sign_ok(co.signers[0], co.bundle(intent, [approval], psbt=plan["psbt"]), "main.psbt")
    assert review["destinationLabel"] == "Exchange hot wallet"
    tx = finalise_and_verify([signed], psbt, plan)
    assert tx.id.hex() == plan["txid"]  # signing segwit inputs does not change the txid


def test_two_of_three_vault_plan_is_signed_by_all_three_signers(co):
    intent = co.intent(wallet="btc-vault", amount="25000000")
    approval = co.approve(intent, "carol")
    coins = [Coin(co, "btc-vault", 0, 1, 10_000_000), Coin(co, "btc-vault", 0, 5, 12_000_000),
             Coin(co, "btc-vault", 1, 0, 9_000_000), Coin(co, "btc-vault", 0, 9, 1_500_000)]
    plan = planned_btc(co, intent, coins, fee_rate=12_000, change_index=3)
    psbt = check_btc_plan(co, "btc-vault", intent, plan, coins, 12_000, 3)
    assert len(plan["inputs"]) >= 3  # 25M needs at least three of these coins
    # Every input carries the derivation of all three keys, and the witness script.
    for inp in psbt.inputs:
        assert inp.witness_script is not None and len(inp.bip32_derivations) == 3
    bundle = co.bundle(intent, [approval], psbt=plan["psbt"])
    partials = [sign_ok(s, bundle, f"vault-{s.name}.psbt")[0] for s in co.signers]
    for s, text in zip(co.signers, partials):
        p = PSBT.from_base64(text)
        fingerprint = bytes.fromhex(s.card["fingerprint"])
        for inp in p.inputs:
            (pub,) = inp.partial_sigs
            assert inp.bip32_derivations[pub].fingerprint == fingerprint
    txids = {finalise_and_verify([partials[a], partials[b]], psbt, plan).id.hex() for a, b in ((0, 1), (0, 2), (1, 2))}
    assert txids == {plan["txid"]}


def test_taproot_plan_is_signed(co):
    intent = co.intent(wallet="btc-tr", amount="1000000")
    approval = co.approve(intent, "dave")
    coins = [Coin(co, "btc-tr", 0, 0, 3_000_000)]
    plan = planned_btc(co, intent, coins, fee_rate=2_000, change_index=0)
    psbt = check_btc_plan(co, "btc-tr", intent, plan, coins, 2_000, 0)
    signed, _ = sign_ok(co.signers[0], co.bundle(intent, [approval], psbt=plan["psbt"]), "tr.psbt")
    finalise_and_verify([signed], psbt, plan)


def test_change_is_never_dust(co):
    """Sweeping the one coin's value across the change threshold: below what pays the payment and the fee the
    planner refuses; then it drops the change (the remainder goes to the fee); from the dust threshold on it makes
    change. Every plan is within the caps and decodes as the intent."""
    intent = co.intent(wallet="btc-main", amount="1000000")
    amount, rate = 1_000_000, 10_000
    kinds = []
    for extra in range(0, 2_400, 60):
        coin = Coin(co, "btc-main", 0, 2, amount + extra)
        proc, plan = plan_btc(co, intent, [coin], fee_rate=rate, change_index=1)
        if proc.returncode != 0:
            assert refusal_code(proc) == "insufficientFunds", proc.stderr.decode()
            assert not kinds or kinds[-1] == "refused"  # refusals only below the first plan
            kinds.append("refused")
            continue
        check_btc_plan(co, "btc-main", intent, plan, [coin], rate, 1)
        if plan.get("change") is None:
            assert plan["fee"] == extra
            kinds.append("changeless")
        else:
            assert plan["change"]["value"] >= 294
            assert plan["fee"] == extra - plan["change"]["value"]
            kinds.append("change")
    assert {"refused", "changeless", "change"} <= set(kinds)
    assert kinds == sorted(kinds, key=["refused", "changeless", "change"].index)


def test_fee_cap_refused_and_within_cap_planned(co):
    intent = co.intent(wallet="btc-main", amount="2000000", fee_caps=("maxAbsolute=2000", "maxRatePerKvB=15000"))
    coins = [Coin(co, "btc-main", 0, 6, 5_000_000)]
    # The chain asks for more than the intent's rate cap.
    assert refused_btc(co, intent, coins, fee_rate=16_000) == "feeTooHigh"
    # Within the rate cap, but the absolute fee of a one-input transaction (about 141 vB) exceeds 2000 sat.
    assert refused_btc(co, intent, coins, fee_rate=15_000) == "feeTooHigh"
    # Positive control: a rate whose fee stays under both caps.
    plan = planned_btc(co, intent, coins, fee_rate=10_000)
    check_btc_plan(co, "btc-main", intent, plan, coins, 10_000, 7)
    assert plan["fee"] <= 2000


def test_insufficient_funds_refused_until_enough_confirmed_coins(co):
    intent = co.intent(wallet="btc-main", amount="60000000")
    coins = [Coin(co, "btc-main", 0, 1, 30_000_000), Coin(co, "btc-main", 0, 2, 25_000_000)]
    assert refused_btc(co, intent, coins) == "insufficientFunds"
    # An unconfirmed coin does not count at the default of one confirmation.
    pending = Coin(co, "btc-main", 0, 3, 10_000_000, confirmations=0)
    assert refused_btc(co, intent, coins + [pending]) == "insufficientFunds"
    # Positive controls: the same coin spendable at zero confirmations, or a confirmed one.
    plan = planned_btc(co, intent, coins + [pending], min_confirmations=0)
    check_btc_plan(co, "btc-main", intent, plan, coins + [pending], 5_000, 7)
    confirmed = coins + [Coin(co, "btc-main", 0, 4, 10_000_000)]
    check_btc_plan(co, "btc-main", intent, planned_btc(co, intent, confirmed), confirmed, 5_000, 7)


def test_pinned_coin_missing_refused_and_pinned_coins_spent_exactly(co):
    big = Coin(co, "btc-main", 0, 8, 80_000_000)
    pinned = [Coin(co, "btc-main", 0, 9, 3_000_000), Coin(co, "btc-main", 1, 4, 4_000_000)]
    intent = co.intent(wallet="btc-main", amount="5000000", pin_inputs=[c.outpoint for c in pinned])
    approval = co.approve(intent, "bob")
    # One pinned coin is not (or no longer) unspent: refused, even though the big coin could pay.
    assert refused_btc(co, intent, [big, pinned[0]]) == "pinnedCoinMissing"
    # A pinned coin below the required confirmations.
    young = Coin(co, "btc-main", 1, 4, 4_000_000, confirmations=0)
    young.tx = pinned[1].tx
    assert refused_btc(co, intent, [big, pinned[0], young]) == "pinnedCoinUnconfirmed"
    # Positive control: exactly the pinned coins are spent, never the big one, and the signer accepts it.
    offered = [big] + pinned
    plan = planned_btc(co, intent, offered)
    psbt = check_btc_plan(co, "btc-main", intent, plan, offered, 5_000, 7)
    assert plan["selection"] == "pinned"
    assert sorted(i["outpoint"] for i in plan["inputs"]) == sorted(c.outpoint for c in pinned)
    signed, _ = sign_ok(co.signers[0], co.bundle(intent, [approval], psbt=plan["psbt"]), "pinned.psbt")
    finalise_and_verify([signed], psbt, plan)


def test_pinned_coins_that_cannot_pay_are_refused(co):
    pinned = [Coin(co, "btc-main", 0, 11, 1_000_000)]
    intent = co.intent(wallet="btc-main", amount="1000000", pin_inputs=[pinned[0].outpoint])
    # The pinned coin holds exactly the amount: nothing is left for the fee, and no other coin may be added.
    assert refused_btc(co, intent, pinned + [Coin(co, "btc-main", 0, 12, 9_000_000)]) == "insufficientFunds"
    richer = co.intent(wallet="btc-main", amount="990000", pin_inputs=[pinned[0].outpoint])
    check_btc_plan(co, "btc-main", richer, planned_btc(co, richer, pinned), pinned, 5_000, 7)


def test_foreign_and_unproven_coins_are_refused(co):
    intent = co.intent(wallet="btc-main", amount="1000000")
    good = Coin(co, "btc-main", 0, 13, 2_000_000)
    # A coin paying another wallet's script (the vault's), or beyond the scanned range.
    foreign = Coin(co, "btc-main", 0, 0, 5_000_000, script=co.bdk_script("btc-vault", 0, 0))
    assert refused_btc(co, intent, [good, foreign]) == "coinNotInWallet"
    far = Coin(co, "btc-main", 0, 25, 5_000_000)
    assert refused_btc(co, intent, [good, far]) == "coinNotInWallet"
    assert planned_btc(co, intent, [good, far], scan={"receive": 30, "change": 5})["fee"] > 0
    # The same coin offered twice.
    assert refused_btc(co, intent, [good, good]) == "coinInvalid"
    # Positive control.
    check_btc_plan(co, "btc-main", intent, planned_btc(co, intent, [good]), [good], 5_000, 7)


def test_intent_under_an_older_policy_version_is_refused(co):
    """An intent made under the genesis is not planned under version 2: the signer would refuse it."""
    intent = co.intent(wallet="btc-main", amount="1000000")
    v2 = co.signed_policy(co.policy_doc(version=2), ["a1", "a2"], "planner-v2", current=co.genesis)
    coins = [Coin(co, "btc-main", 0, 14, 2_000_000)]
    assert refused_btc(co, intent, coins, chain=[co.genesis, v2]) == "policyMismatch"
    # Positive control: the same intent and coins under the policy it was made under.
    check_btc_plan(co, "btc-main", intent, planned_btc(co, intent, coins), coins, 5_000, 7)


# -- Ethereum ----------------------------------------------------------------------------------
def plan_eth(co, intent, **fields):
    spec = {"governance": governance(co, intent), "pending_nonce": 0, "base_fee": str(GWEI),
            "priority_fee": str(GWEI), "gas_estimate": 21_000, **fields}
    co.counter += 1
    f = co.dir / f"plan-eth-{co.counter}.json"
    f.write_text(json.dumps(spec))
    proc = run("kura-devtool", "plan", "eth", "--spec", f)
    return proc, (json.loads(proc.stdout) if proc.returncode == 0 else None)


def planned_eth(co, intent, **fields):
    proc, plan = plan_eth(co, intent, **fields)
    assert proc.returncode == 0, proc.stderr.decode()
    return plan


def refused_eth(co, intent, **fields):
    proc, _ = plan_eth(co, intent, **fields)
    assert proc.returncode == 65, (proc.returncode, proc.stdout, proc.stderr)
    return refusal_code(proc)


def decode_eth(unsigned_hex):
    """pyrlp: the nine fields of `0x02 ‖ rlp([...])`; eth-account re-serialises them to the same bytes."""
    raw = bytes.fromhex(unsigned_hex)
    assert raw[0] == 2
    f = rlp.decode(raw[1:])
    assert len(f) == 9
    n = rlp.sedes.big_endian_int.deserialize
    fields = {"chainId": n(f[0]), "nonce": n(f[1]), "maxPriorityFeePerGas": n(f[2]), "maxFeePerGas": n(f[3]),
              "gas": n(f[4]), "to": to_checksum_address(f[5]), "value": n(f[6]), "data": bytes(f[7]),
              "accessList": list(f[8])}
    theirs = TypedTransaction.from_dict({"type": 2, **fields, "data": "0x" + fields["data"].hex()})
    assert bytes(theirs.hash()) == keccak(raw)  # eth-account's signing hash of the same fields
    return fields


def check_caps(fields, caps):
    assert fields["maxFeePerGas"] <= min(int(caps["maxFeePerGas"]), ETH_FEE_CAP)
    assert fields["maxPriorityFeePerGas"] <= min(int(caps["maxPriorityFeePerGas"]), ETH_PRIORITY_CAP)
    assert fields["maxPriorityFeePerGas"] <= fields["maxFeePerGas"]
    assert fields["gas"] <= min(int(caps["maxGasLimit"]), ETH_GAS_CAP)
    assert fields["gas"] * fields["maxFeePerGas"] <= min(int(caps["maxTotalFee"]), ETH_TOTAL_CAP)


def approved_eth(co, **kw):
    intent = co.intent(wallet="eth-main", **kw)
    return intent, [co.approve(intent, "bob"), co.approve(intent, "carol")]


def evm_facts(chain, account, call):
    """What an Ethereum chain port would report, from py-evm: the pending nonce, the pending block's base fee and
    the gas estimate of the call."""
    pending = chain.tester.get_block_by_number("pending")
    estimate = chain.tester.estimate_gas({"from": to_checksum_address(account), "to": to_checksum_address(call["to"]),
                                          "value": call["value"], "data": "0x" + call["data"].hex()})
    return {"pending_nonce": chain.nonce(account), "base_fee": str(pending["base_fee_per_gas"]),
            "gas_estimate": estimate}


def test_eth_payment_planned_from_evm_facts_signed_and_executed(tmp_path):
    from eth_tools import Chain, check_signed

    co = Company(tmp_path)
    vault = co.signers[0]
    account = vault.card["ethereum"]["address"]
    chain = Chain()
    chain.fund(account, 5 * ETHER)
    amount = 1_500_000_000_000_000_000
    intent, approvals = approved_eth(co, asset="eth", to="eth-exchange", amount=str(amount))
    facts = evm_facts(chain, account, {"to": EXCHANGE_ETH, "value": amount, "data": b""})
    plan = planned_eth(co, intent, priority_fee=str(GWEI), **facts)
    fields = decode_eth(plan["unsigned"])
    assert fields["chainId"] == CHAIN_ID and fields["nonce"] == 0
    assert fields["to"] == EXCHANGE_ETH and fields["value"] == amount and fields["data"] == b""
    assert fields["accessList"] == []
    assert fields["gas"] >= facts["gas_estimate"]
    assert fields["maxFeePerGas"] >= int(facts["base_fee"]) + fields["maxPriorityFeePerGas"]
    check_caps(fields, intent_doc(intent)["feeCap"])
    assert plan["call"] == {"from": to_checksum_address(account), "to": EXCHANGE_ETH, "value": str(amount), "data": ""}

    bundle = co.bundle(intent, approvals, eth=plan["unsigned"])
    review = vault.review(bundle)
    assert review.returncode == 0, review.stderr.decode()
    out = tmp_path / "eth.tx"
    assert vault.sign(bundle, out).returncode == 0
    raw = out.read_text().strip()
    check_signed(raw, plan["unsigned"], account)
    before = chain.balance(EXCHANGE_ETH)
    chain.execute(raw)
    assert chain.balance(EXCHANGE_ETH) - before == amount


def test_erc20_transfer_planned_to_the_registry_contract_signed_and_executed(tmp_path):
    from eth_tools import Chain, check_signed, compile_token, transfer_data

    chain = Chain()
    _, bytecode = compile_token()
    token = chain.deploy_token(bytecode, 10**12)
    co = Company(tmp_path, token=token)
    vault = co.signers[0]
    account = vault.card["ethereum"]["address"]
    chain.fund(account, ETHER)
    chain.token_send(token, account, 10**9)
    amount = 250_000_000
    intent, approvals = approved_eth(co, asset="usdc", to="usdc-exchange", amount=str(amount))
    facts = evm_facts(chain, account, {"to": token, "value": 0, "data": transfer_data(EXCHANGE_ETH, amount)})
    plan = planned_eth(co, intent, **facts)
    fields = decode_eth(plan["unsigned"])
    assert fields["to"] == to_checksum_address(token) and fields["value"] == 0
    assert fields["data"][:4] == keccak(text="transfer(address,uint256)")[:4]
    to, value = abi_decode(["address", "uint256"], fields["data"][4:])
    assert (to_checksum_address(to), value) == (EXCHANGE_ETH, amount)
    assert plan.get("token") == to_checksum_address(token)
    check_caps(fields, intent_doc(intent)["feeCap"])

    bundle = co.bundle(intent, approvals, eth=plan["unsigned"])
    assert vault.review(bundle).returncode == 0
    out = tmp_path / "usdc.tx"
    assert vault.sign(bundle, out).returncode == 0
    raw = out.read_text().strip()
    check_signed(raw, plan["unsigned"], account)
    chain.execute(raw)
    assert chain.token_balance(token, EXCHANGE_ETH) == amount


def test_eth_nonce_past_the_pinned_nonce_refused(co):
    intent, approvals = approved_eth(co, asset="eth", to="eth-exchange", amount="1000", pin_nonce=3)
    assert refused_eth(co, intent, pending_nonce=4) == "noncePassed"
    # Positive controls: at or below the pinned nonce, the pinned nonce is used; the signer accepts it.
    for pending in (3, 1):
        plan = planned_eth(co, intent, pending_nonce=pending)
        assert decode_eth(plan["unsigned"])["nonce"] == 3
    review = co.signers[0].review(co.bundle(intent, approvals, eth=plan["unsigned"]))
    assert review.returncode == 0, review.stderr.decode()
    # Without a pin, the chain's pending nonce.
    free, _ = approved_eth(co, asset="eth", to="eth-exchange", amount="1000")
    assert decode_eth(planned_eth(co, free, pending_nonce=9)["unsigned"])["nonce"] == 9


def test_eth_fee_caps_refused_and_planned_within(co):
    intent, approvals = approved_eth(co, asset="eth", to="eth-exchange", amount="1000",
                                     fee_caps=("maxFeePerGas=50000000000", "maxTotalFee=1050000000000000"))
    caps = intent_doc(intent)["feeCap"]
    # Base fee plus priority fee above the per-gas cap (50 gwei): no transaction within the caps is includable.
    assert refused_eth(co, intent, base_fee=str(49 * GWEI), priority_fee=str(2 * GWEI)) == "feeTooHigh"
    # A gas estimate above the gas cap (100000).
    assert refused_eth(co, intent, gas_estimate=100_001) == "feeTooHigh"
    # The total cap: 60000 gas at 19 + 1 gwei is 0.0012 ETH, above 0.00105 ETH.
    assert refused_eth(co, intent, gas_estimate=60_000, base_fee=str(19 * GWEI)) == "feeTooHigh"
    # At the boundary: 60000 gas at 16.5 + 1 gwei is exactly the total cap; one wei more of base fee is not.
    assert refused_eth(co, intent, gas_estimate=60_000, base_fee=str(16_500_000_001)) == "feeTooHigh"
    fields = decode_eth(planned_eth(co, intent, gas_estimate=60_000, base_fee=str(16_500_000_000))["unsigned"])
    assert (fields["gas"], fields["maxFeePerGas"]) == (60_000, 17_500_000_000)
    check_caps(fields, caps)
    # Positive controls: a priority suggestion above the cap (5 gwei) is lowered to it; the headroom above
    # base + priority and the gas margin shrink to fit the caps, never below what is includable now.
    fields = decode_eth(planned_eth(co, intent, base_fee=str(40 * GWEI), priority_fee=str(9 * GWEI))["unsigned"])
    assert fields["maxPriorityFeePerGas"] == ETH_PRIORITY_CAP
    assert 45 * GWEI <= fields["maxFeePerGas"] <= 50 * GWEI and 21_000 <= fields["gas"] <= 25_200
    check_caps(fields, caps)
    plan = planned_eth(co, intent, gas_estimate=60_000, base_fee=str(10 * GWEI))
    fields = decode_eth(plan["unsigned"])
    assert fields["gas"] == 72_000 and 11 * GWEI <= fields["maxFeePerGas"] <= 21 * GWEI
    check_caps(fields, caps)
    assert co.signers[0].review(co.bundle(intent, approvals, eth=plan["unsigned"])).returncode == 0


def test_eth_chain_mismatch_refused(co):
    intent, _ = approved_eth(co, asset="eth", to="eth-exchange", amount="1000")
    assert refused_eth(co, intent, chain_id=1) == "chainMismatch"
    assert decode_eth(planned_eth(co, intent, chain_id=CHAIN_ID)["unsigned"])["chainId"] == CHAIN_ID
