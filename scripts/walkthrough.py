"""`make run` (until the coordinator exists): the cold signer's job on embedded defaults, through the
built binaries, in a temporary directory that is removed at the end.

A demo company is set up with `kura` and `kura-signer` exactly as the operator guide describes
(personal keys, a genesis policy signed by two admins, three cold signers restored from public test
mnemonics and pinned to it). Alice asks for 0.5 BTC to the exchange, Bob approves, the coordinator
(played by this script) builds the PSBT from the wallet's coins, and vault-a reviews and signs.
Then the attack of May 2024 is replayed: the same approved withdrawal with one output appended on
its way to the signer, and a variant with the destination swapped. Both are refused by name.

The keys and mnemonics here are throw-away test material: never use them for funds.
"""
import json
import pathlib
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "signer")]

from embit.psbt import PSBT  # noqa: E402
from embit.script import Script  # noqa: E402

from harness import EXCHANGE_BTC, Company, address_script  # noqa: E402


def show(title, proc=None):
    print(f"\n== {title}")
    if proc is not None:
        for stream in (proc.stdout, proc.stderr):
            text = stream.decode().strip()
            if text:
                print("  " + text.replace("\n", "\n  "))
        print(f"  (exit {proc.returncode})")


def main():
    with tempfile.TemporaryDirectory(prefix="kura-walkthrough-") as d:
        co = Company(pathlib.Path(d))
        vault = co.signers[0]
        show("key ceremony done: 3 cold signers restored and pinned to the genesis policy")
        print(f"  genesis policy hash {co.genesis_hash}")
        card = vault.card
        print(f"  vault-a: fingerprint {card['fingerprint']}, identity key {card['identityKey'][:16]}…")

        intent = co.intent(amount="50000000")
        approval = co.approve(intent, "bob")
        psbt = co.psbt("btc-main", intent)
        doc = json.loads(pathlib.Path(intent).read_text())["intent"]
        show(f"alice signed intent {doc['id']}: {doc['amount']} sat to '{doc['destination']}'; bob approved")

        # The attack: one output appended to the approved withdrawal, funded by shrinking change.
        pay = {"script": address_script(EXCHANGE_BTC), "value": 50_000_000}
        thief = {"script": "0014" + "ab" * 20, "value": 10_000_000}
        appended = co.bundle(intent, [approval], psbt=co.psbt("btc-main", intent, payments=[pay, thief]))
        show("the seed's attack: an output appended on the way to the signer", vault.sign(appended, co.dir / "a.psbt"))

        q = PSBT.from_base64(psbt)
        for out in q.outputs:
            if out.script_pubkey.data.hex() == address_script(EXCHANGE_BTC):
                out.script_pubkey = Script(bytes.fromhex("0014" + "cd" * 20))
        swapped = co.bundle(intent, [approval], psbt=q.to_base64())
        show("variant: the destination swapped", vault.sign(swapped, co.dir / "b.psbt"))

        good = co.bundle(intent, [approval], psbt=psbt)
        show("kura-signer review (the untouched bundle)", vault.review(good, json_out=False))
        out = co.dir / "signed.psbt"
        show("kura-signer sign --yes --operator op-a", vault.sign(good, out))
        receipt = json.loads(pathlib.Path(str(out) + ".receipt.json").read_text())["receipt"]
        print(f"  receipt {receipt['sequence']} for transaction {receipt['transaction']}")
        show("the same bundle again", vault.sign(good, co.dir / "again.psbt"))
        show("kura-signer ledger list", vault.cmd("ledger", "list"))
        print("\nNext: docs/OPERATOR-GUIDE.md (the key ceremony, signing, every refusal), docs/SECURITY.md.")


if __name__ == "__main__":
    main()
