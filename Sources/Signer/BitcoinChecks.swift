public import Bitcoin
public import Governance
public import WalletCrypto

/// What the signer will sign for a Bitcoin intent, after every check passed.
public struct BitcoinPlan: Sendable {
    /// The PSBT with every input's scripts and keys re-derived from the policy (never trusted from
    /// the bundle), ready for the signer role.
    public let psbt: PSBT
    public let txid: Txid
    public let fee: Amount
    public let feeRate: FeeRate
    public let virtualSize: VirtualSize
    public let payment: TxOut
    public let change: (index: UInt32, amount: Amount)?
    public let inputs: Int
}

/// The Bitcoin half of ATTACKS C4–C8: the transaction must do exactly what the intent says. Every
/// input is re-derived as the wallet's own from the policy's descriptor and proven by its full
/// previous transaction; the outputs are exactly the payment and at most one change output
/// re-derived on the wallet's change branch; the fee, computed from proven amounts, is within both
/// caps; version, locktime, sequences and sighash types are whitelisted; nothing else is signed.
public enum BitcoinChecks {
    /// The largest index a receive or change key may have (a gap bound against ransom paths, B04).
    public static let maxIndex: UInt32 = 1_000_000
    /// The most inputs or outputs a transaction may have.
    public static let maxCount = 1_000
    /// Accepted nSequence values (final, RBF-final, opt-in RBF); nLockTime must be 0 (B10).
    public static let allowedSequences: Set<UInt32> = [0xffff_ffff, 0xffff_fffe, 0xffff_fffd]

    static func refuse(_ c: RefusalCategory, _ r: String) -> Refusal { Refusal(c, r) }

    /// Checks `psbt` against the verified intent for `wallet`; `master` is the keystore's master key
    /// and `myKey` the index of this signer's key in the wallet policy.
    public static func check(
        psbt input: PSBT, intent: Intent, policy: Policy, wallet: Policy.Wallet, master: ExtendedPrivateKey, myKey: Int,
        network: Network
    ) -> Result<BitcoinPlan, Refusal> {
        guard case .bitcoin(let walletNetwork) = wallet.chain, let walletPolicy = wallet.bitcoinPolicy else {
            return .failure(refuse(.chainMismatch, "wallet \(wallet.id) is not a Bitcoin wallet"))
        }
        guard walletNetwork == network else {
            return .failure(
                refuse(
                    .chainMismatch, "wallet \(wallet.id) is on \(walletNetwork); this signer's keystore is \(network)"))
        }
        let descriptor = walletPolicy.descriptor
        let myKeyExpression = descriptor.keys[myKey]
        guard let myOrigin = myKeyExpression.origin else {
            return .failure(refuse(.walletMismatch, "the policy key has no origin"))
        }
        // K02: the keystore must derive exactly the key the policy names for this signer.
        do {
            let derived = try master.derive(myOrigin.path).extendedPublicKey
            guard master.fingerprint == myOrigin.fingerprint, case .xpub(let pinned) = myKeyExpression.material,
                derived == pinned
            else {
                return .failure(
                    refuse(
                        .walletMismatch,
                        "the keystore's key at \(myOrigin) is not the one the policy names for this signer"))
            }
        } catch {
            return .failure(refuse(.walletMismatch, "cannot derive \(myOrigin): \(error.reason)"))
        }
        var psbt = input
        let tx: Transaction
        do { tx = try psbt.unsignedTx() } catch { return .failure(refuse(.malformed, error.reason)) }
        guard tx.inputs.count <= maxCount, tx.outputs.count <= maxCount else {
            return .failure(
                refuse(.resourceLimit, "\(tx.inputs.count) inputs and \(tx.outputs.count) outputs exceed \(maxCount)"))
        }
        guard tx.version == 2 else {
            return .failure(refuse(.fieldForbidden, "transaction version \(tx.version); only 2 is signed"))
        }
        guard tx.lockTime == 0 else {
            return .failure(refuse(.fieldForbidden, "nLockTime \(tx.lockTime); only 0 is signed"))
        }
        for (i, txin) in tx.inputs.enumerated() where !allowedSequences.contains(txin.sequence) {
            return .failure(refuse(.fieldForbidden, "input \(i) has nSequence 0x\(String(txin.sequence, radix: 16))"))
        }
        // B15/B18: global xpubs must be exactly the policy's keys, for this network.
        let policyKeys = descriptor.keys.compactMap { k -> ExtendedPublicKey? in
            if case .xpub(let x) = k.material { return x }
            return nil
        }
        for entry in psbt.xpubs.entries {
            guard let version = entry.key.prefix(4).reduce(0, { UInt32($0) << 8 | UInt32($1) }) as UInt32?,
                let known = ExtendedKeyVersion.known.first(where: { $0.rawValue == version }), !known.isPrivate
            else { return .failure(refuse(.walletMismatch, "a global xpub has an unknown version")) }
            guard known.isMainnet == network.isMainnet else {
                return .failure(refuse(.chainMismatch, "a global xpub is a \(known.name) on \(network)"))
            }
            let text = Base58.checkEncode(entry.key)
            guard let x = try? ExtendedPublicKey(parsing: text), policyKeys.contains(x) else {
                return .failure(refuse(.walletMismatch, "a global xpub is not one of the wallet policy's keys"))
            }
        }
        if let pin = intent.pin {
            guard case .inputs(let pinned) = pin else {
                return .failure(refuse(.intentMismatch, "the intent pins an Ethereum nonce, not Bitcoin inputs"))
            }
            // B08: a coin the approvers did not approve is a smuggled input; a missing one is
            // another transaction than the approved one.
            let approved = Set(pinned)
            for (i, txin) in tx.inputs.enumerated() where !approved.contains(txin.previousOutput) {
                return .failure(
                    refuse(.inputInvalid, "input \(i) spends \(txin.previousOutput), which the intent does not pin"))
            }
            guard approved == Set(tx.inputs.map(\.previousOutput)), pinned.count == tx.inputs.count else {
                return .failure(refuse(.intentMismatch, "the inputs are not the ones the intent pins"))
            }
        }
        // B18: every derivation this signer is asked to trust must be on the policy's network: a
        // BIP-0044-family path whose coin type is another network's is refused, whatever it pays.
        let myFingerprint = myOrigin.fingerprint
        let claimed: [KeyOrigin] =
            psbt.inputs.flatMap {
                $0.bip32Derivations.entries.map(\.value) + $0.tapBIP32Derivations.entries.map(\.value.origin)
            }
            + psbt.outputs.flatMap {
                $0.bip32Derivations.entries.map(\.value) + $0.tapBIP32Derivations.entries.map(\.value.origin)
            }
        for origin in claimed where origin.fingerprint == myFingerprint {
            if let coin = Self.coinType(origin.path), coin != network.coinType {
                return .failure(
                    refuse(
                        .chainMismatch, "derivation \(origin) is for coin type \(coin); this signer is on \(network)"))
            }
        }
        // Inputs (C5, C6, C7).
        var seen = Set<OutPoint>()
        var spent = [Amount]()
        let taproot: Bool
        if case .tr = descriptor.root { taproot = true } else { taproot = false }
        let myPrefix = myOrigin.path.components
        for (i, txin) in tx.inputs.enumerated() {
            guard seen.insert(txin.previousOutput).inserted else {
                return .failure(refuse(.inputInvalid, "input \(i) spends \(txin.previousOutput) a second time"))
            }
            var m = psbt.inputs[i]
            // The spent output, proven: the full previous transaction (segwit v0 and legacy), or, for
            // taproot, the witness UTXO (BIP-0341 commits to every spent amount and script).
            let utxo: TxOut
            if let prev = m.nonWitnessUTXO {
                guard prev.computeTxid() == txin.previousOutput.txid else {
                    return .failure(
                        refuse(.inputInvalid, "input \(i): the previous transaction does not hash to the spent txid"))
                }
                guard Int(txin.previousOutput.vout) < prev.outputs.count else {
                    return .failure(
                        refuse(.inputInvalid, "input \(i): output \(txin.previousOutput.vout) does not exist"))
                }
                utxo = prev.outputs[Int(txin.previousOutput.vout)]
                if let w = m.witnessUTXO, w != utxo {
                    return .failure(
                        refuse(
                            .inputInvalid, "input \(i): the witness UTXO differs from the previous transaction's output"
                        ))
                }
            } else if taproot, let w = m.witnessUTXO {
                utxo = w
            } else {
                return .failure(refuse(.inputInvalid, "input \(i): the full previous transaction is missing"))
            }
            // Re-derive: our key's record must sit on our origin, branch 0 or 1, a bounded index.
            let records: [KeyOrigin] =
                m.bip32Derivations.entries.map(\.value) + m.tapBIP32Derivations.entries.map(\.value.origin)
            guard let ours = records.first(where: { $0.fingerprint == myOrigin.fingerprint }) else {
                return .failure(refuse(.inputInvalid, "input \(i) carries no derivation for this signer"))
            }
            guard let (branch, index) = Self.branchAndIndex(ours.path, prefix: myPrefix) else {
                return .failure(
                    refuse(
                        .inputInvalid, "input \(i): derivation \(ours) is not on this wallet's receive or change branch"
                    ))
            }
            let expected: Script
            do { expected = try descriptor.scriptPubKey(index: index, branch: branch) } catch {
                return .failure(refuse(.inputInvalid, "input \(i): \(error.reason)"))
            }
            guard expected == utxo.scriptPubKey else {
                return .failure(refuse(.inputInvalid, "input \(i) is not this wallet's output at \(branch)/\(index)"))
            }
            // Sighash whitelist (B09).
            if let t = m.sighashType {
                let ok =
                    taproot
                    ? (t == SighashType.default.rawValue || t == SighashType.all.rawValue)
                    : t == SighashType.all.rawValue
                guard ok else {
                    return .failure(refuse(.fieldForbidden, "input \(i) asks for sighash \(SighashType(rawValue: t))"))
                }
            }
            // Key path only: no script-path material, no leaf to sign for (B13).
            guard m.tapLeafScripts.isEmpty, m.tapScriptSignatures.isEmpty, m.tapMerkleRoot == nil,
                m.tapBIP32Derivations.entries.allSatisfy({ $0.value.leafHashes.isEmpty })
            else {
                return .failure(refuse(.scriptForbidden, "input \(i) carries taproot script-path data"))
            }
            // Replace whatever the bundle said with what the policy derives.
            do {
                let (redeem, witness) = try descriptor.scripts(index: index, branch: branch)
                if let given = m.witnessScript, given != witness {
                    return .failure(refuse(.walletMismatch, "input \(i): the witness script is not the policy's"))
                }
                m.redeemScript = redeem
                m.witnessScript = witness
                m.bip32Derivations = KeyedEntries()
                m.tapBIP32Derivations = KeyedEntries()
                m.tapInternalKey = nil
                try descriptor.annotate(&m, index: index, branch: branch)
            } catch {
                return .failure(refuse(.inputInvalid, "input \(i): \(error.reason)"))
            }
            psbt.inputs[i] = m
            spent.append(utxo.value)
        }
        // Outputs (C4, C6, C7).
        let destination: [UInt8]
        do {
            destination = try Policy.destinationKey(
                intent.destinationAddress, chain: wallet.chain, context: "intent destination")
        } catch {
            return .failure(refuse(.intentMismatch, error.reason))
        }
        for (o, out) in tx.outputs.enumerated() where out.scriptPubKey.isOpReturn {
            return .failure(refuse(.scriptForbidden, "output \(o) is an OP_RETURN"))
        }
        // A transaction that does not pay the approved destination is not the approved transfer,
        // whatever else it does: say so before judging the other outputs.
        guard tx.outputs.contains(where: { $0.scriptPubKey.bytes == destination }) else {
            return .failure(refuse(.intentMismatch, "no output pays the intent's destination"))
        }
        var payment: TxOut? = nil
        var change: (UInt32, Amount)? = nil
        for (o, out) in tx.outputs.enumerated() {
            if out.scriptPubKey.bytes == destination {
                guard payment == nil else {
                    return .failure(refuse(.outputUnauthorised, "the destination appears in two outputs"))
                }
                guard out.value.sats.description == intent.amount.description else {
                    return .failure(
                        refuse(
                            .intentMismatch,
                            "output \(o) pays \(out.value.sats) sat to the destination; the intent says \(intent.amount)"
                        ))
                }
                payment = out
                continue
            }
            let m = psbt.outputs[o]
            let records: [KeyOrigin] =
                m.bip32Derivations.entries.map(\.value) + m.tapBIP32Derivations.entries.map(\.value.origin)
            guard let ours = records.first(where: { $0.fingerprint == myOrigin.fingerprint }) else {
                return .failure(
                    refuse(
                        .outputUnauthorised,
                        "output \(o) (\(out.value.sats) sat) is neither the destination nor the wallet's change"))
            }
            guard let (branch, index) = Self.branchAndIndex(ours.path, prefix: myPrefix), branch == 1 else {
                return .failure(
                    refuse(
                        .changeInvalid,
                        "output \(o): change path \(ours) is not on this wallet's change branch within \(maxIndex)"))
            }
            guard change == nil else { return .failure(refuse(.outputUnauthorised, "more than one change output")) }
            let expected: (script: Script, witness: Script?)
            do {
                expected = (
                    try descriptor.scriptPubKey(index: index, branch: 1),
                    try descriptor.scripts(index: index, branch: 1).witnessScript
                )
            } catch {
                return .failure(refuse(.changeInvalid, "output \(o): \(error.reason)"))
            }
            if let given = m.witnessScript, given != expected.witness {
                return .failure(
                    refuse(.walletMismatch, "output \(o): the change witness script is not the wallet policy's"))
            }
            guard out.scriptPubKey == expected.script else {
                return .failure(
                    refuse(.changeInvalid, "output \(o) claims to be change at 1/\(index) but pays another script"))
            }
            change = (index, out.value)
        }
        guard let payment else { return .failure(refuse(.intentMismatch, "no output pays the intent's destination")) }
        // Fee from proven amounts, checked arithmetic, within both caps (C8).
        let fee: Amount
        do { fee = try Amount.sum(spent).subtracting(try tx.totalOutput()) } catch {
            return .failure(refuse(.inputInvalid, "outputs exceed the proven inputs: \(error.reason)"))
        }
        let weight: Weight
        do { weight = try psbt.estimatedWeight(descriptor: descriptor) } catch {
            return .failure(refuse(.walletMismatch, error.reason))
        }
        let rate = FeeRate.paid(fee, size: weight.virtualSize)
        guard case .bitcoin(let intentAbs, let intentRate) = intent.feeCap,
            let rule = policy.transferRule(wallet: wallet.id, asset: intent.asset),
            case .bitcoin(let policyAbs, let policyRate) = rule.fee
        else { return .failure(refuse(.chainMismatch, "fee caps are not Bitcoin caps")) }
        let feeUnits = BaseUnits(UInt64(fee.sats))
        if intentAbs < feeUnits || policyAbs < feeUnits {
            return .failure(
                refuse(.feeExcessive, "fee \(fee.sats) sat exceeds the cap (\(min(intentAbs, policyAbs)) sat)"))
        }
        let rateUnits = BaseUnits(rate.satsPerKvB)
        if intentRate < rateUnits || policyRate < rateUnits {
            return .failure(
                refuse(.feeExcessive, "fee rate \(rate) exceeds the cap (\(min(intentRate, policyRate)) sat/kvB)"))
        }
        return .success(
            BitcoinPlan(
                psbt: psbt, txid: tx.computeTxid(), fee: fee, feeRate: rate, virtualSize: weight.virtualSize,
                payment: payment,
                change: change.map { (index: $0.0, amount: $0.1) }, inputs: tx.inputs.count))
    }

    /// The coin type of a BIP-0044-family path (`m/purpose'/coin'/…`), or nil for other paths.
    static func coinType(_ path: DerivationPath) -> UInt32? {
        let c = path.components
        guard c.count >= 2, c[0].isHardened, c[1].isHardened, [44, 45, 48, 49, 84, 86].contains(c[0].index) else {
            return nil
        }
        return c[1].index
    }

    /// `prefix + [branch, index]` with branch 0 or 1 and index below ``maxIndex``.
    static func branchAndIndex(_ path: DerivationPath, prefix: [ChildNumber]) -> (Int, UInt32)? {
        let c = path.components
        guard c.count == prefix.count + 2, Array(c.prefix(prefix.count)) == prefix else { return nil }
        let branch = c[prefix.count]
        let index = c[prefix.count + 1]
        guard !branch.isHardened, !index.isHardened, branch.index <= 1, index.index < maxIndex else { return nil }
        return (Int(branch.index), index.index)
    }
}
