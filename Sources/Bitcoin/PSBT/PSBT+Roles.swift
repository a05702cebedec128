import WalletCrypto

extension PSBT {
    /// The transaction this PSBT describes, without signatures: the global unsigned transaction
    /// (version 0) or one assembled from the per-input and per-output fields (version 2, with the
    /// BIP-0370 locktime rule).
    public func unsignedTx() throws(BitcoinError) -> Transaction {
        if let unsignedTransaction { return unsignedTransaction }
        guard let txVersion else { throw BitcoinError(.invalidPSBT, "PSBTv2 without a transaction version") }
        var ins = [TxIn]()
        for (i, m) in inputs.enumerated() {
            guard let txid = m.previousTxid, let vout = m.outputIndex else {
                throw BitcoinError(.invalidPSBT, "input \(i) lacks its previous outpoint")
            }
            ins.append(TxIn(previousOutput: OutPoint(txid: txid, vout: vout), sequence: m.sequence ?? 0xffff_ffff))
        }
        var outs = [TxOut]()
        for (i, m) in outputs.enumerated() {
            guard let amount = m.amount, let script = m.script else {
                throw BitcoinError(.invalidPSBT, "output \(i) lacks amount or script")
            }
            outs.append(TxOut(value: amount, scriptPubKey: script))
        }
        return Transaction(version: txVersion, inputs: ins, outputs: outs, lockTime: try computedLockTime())
    }

    /// The locktime of a version 2 PSBT (BIP-0370 "Determining Lock Time"): the fallback when no
    /// input requires one; otherwise the maximum required height if every input that sets a
    /// requirement allows heights, else the maximum required time if all allow times; if neither,
    /// the locktime cannot be determined.
    public func computedLockTime() throws(BitcoinError) -> UInt32 {
        if let unsignedTransaction { return unsignedTransaction.lockTime }
        let constrained = inputs.filter { $0.requiredTimeLockTime != nil || $0.requiredHeightLockTime != nil }
        guard !constrained.isEmpty else { return fallbackLockTime ?? 0 }
        if constrained.allSatisfy({ $0.requiredHeightLockTime != nil }) {
            return constrained.compactMap(\.requiredHeightLockTime).max()!
        }
        if constrained.allSatisfy({ $0.requiredTimeLockTime != nil }) {
            return constrained.compactMap(\.requiredTimeLockTime).max()!
        }
        throw BitcoinError(
            .invalidPSBT, "inputs require both height and time locktimes: the locktime cannot be determined")
    }

    /// The output input `index` spends, from its UTXO fields, after the BIP-0174 consistency checks:
    /// a non-witness UTXO must hash to the spent txid and hold the index; a witness UTXO, if also
    /// present, must equal that output.
    public func spentOutput(_ index: Int) throws(BitcoinError) -> TxOut {
        let tx = try unsignedTx()
        guard index < inputs.count, index < tx.inputs.count else {
            throw BitcoinError(.cannotSign, "input \(index) does not exist")
        }
        let m = inputs[index]
        let prevout = tx.inputs[index].previousOutput
        if let prev = m.nonWitnessUTXO {
            guard prev.computeTxid() == prevout.txid else {
                throw BitcoinError(.cannotSign, "input \(index): non-witness UTXO does not hash to the spent txid")
            }
            guard Int(prevout.vout) < prev.outputs.count else {
                throw BitcoinError(
                    .cannotSign, "input \(index): output \(prevout.vout) does not exist in the previous transaction")
            }
            let out = prev.outputs[Int(prevout.vout)]
            if let w = m.witnessUTXO, w != out {
                throw BitcoinError(
                    .cannotSign, "input \(index): witness UTXO differs from the previous transaction's output")
            }
            return out
        }
        guard let w = m.witnessUTXO else { throw BitcoinError(.cannotSign, "input \(index) has no UTXO information") }
        return w
    }

    /// BIP-0174 Combiner: merges PSBTs of the same transaction. Keyed fields are united; a field
    /// present in several with different values is an error.
    public static func combine(_ psbts: [PSBT]) throws(BitcoinError) -> PSBT {
        guard var result = psbts.first else { throw BitcoinError(.cannotCombine, "nothing to combine") }
        let base = try result.unsignedTx().computeTxid()
        for other in psbts.dropFirst() {
            guard other.version == result.version, try other.unsignedTx().computeTxid() == base,
                other.inputs.count == result.inputs.count, other.outputs.count == result.outputs.count
            else { throw BitcoinError(.cannotCombine, "the PSBTs describe different transactions") }
            result.globalUnknown = try mergePairs(result.globalUnknown, other.globalUnknown)
            result.xpubs = try mergeDict(result.xpubs, other.xpubs, "global xpub")
            result.txModifiable = try mergeOne(result.txModifiable, other.txModifiable, "tx modifiable")
            for i in result.inputs.indices {
                result.inputs[i] = try mergeInput(result.inputs[i], other.inputs[i])
            }
            for i in result.outputs.indices {
                result.outputs[i] = try mergeOutput(result.outputs[i], other.outputs[i])
            }
        }
        return result
    }

    static func mergeOne<T: Equatable>(_ a: T?, _ b: T?, _ what: String) throws(BitcoinError) -> T? {
        if let a, let b, a != b { throw BitcoinError(.cannotCombine, "conflicting \(what)") }
        return a ?? b
    }

    static func mergeDict<V>(_ a: KeyedEntries<V>, _ b: KeyedEntries<V>, _ what: String) throws(BitcoinError)
        -> KeyedEntries<V>
    {
        try a.merged(with: b, what: what)
    }

    /// Unites unknown pairs; the result is ordered by key (BIP-0174 combiner vector).
    static func mergePairs(_ a: [Pair], _ b: [Pair]) throws(BitcoinError) -> [Pair] {
        var out = a
        for p in b {
            if let existing = out.first(where: { $0.key == p.key }) {
                guard existing.value == p.value else {
                    throw BitcoinError(.cannotCombine, "conflicting unknown key \(Hex.encode(p.key.prefix(20)))")
                }
            } else {
                out.append(p)
            }
        }
        return canonicalUnknown(out)
    }

    static func mergeInput(_ a: Input, _ b: Input) throws(BitcoinError) -> Input {
        var m = a
        m.nonWitnessUTXO = try mergeOne(a.nonWitnessUTXO, b.nonWitnessUTXO, "non-witness UTXO")
        m.witnessUTXO = try mergeOne(a.witnessUTXO, b.witnessUTXO, "witness UTXO")
        m.partialSignatures = try mergeDict(a.partialSignatures, b.partialSignatures, "partial signature")
        m.sighashType = try mergeOne(a.sighashType, b.sighashType, "sighash type")
        m.redeemScript = try mergeOne(a.redeemScript, b.redeemScript, "redeem script")
        m.witnessScript = try mergeOne(a.witnessScript, b.witnessScript, "witness script")
        m.bip32Derivations = try mergeDict(a.bip32Derivations, b.bip32Derivations, "BIP-0032 derivation")
        m.finalScriptSig = try mergeOne(a.finalScriptSig, b.finalScriptSig, "final scriptSig")
        m.finalScriptWitness = try mergeOne(a.finalScriptWitness, b.finalScriptWitness, "final witness")
        m.porCommitment = try mergeOne(a.porCommitment, b.porCommitment, "proof-of-reserves commitment")
        m.ripemd160Preimages = try mergeDict(a.ripemd160Preimages, b.ripemd160Preimages, "preimage")
        m.sha256Preimages = try mergeDict(a.sha256Preimages, b.sha256Preimages, "preimage")
        m.hash160Preimages = try mergeDict(a.hash160Preimages, b.hash160Preimages, "preimage")
        m.hash256Preimages = try mergeDict(a.hash256Preimages, b.hash256Preimages, "preimage")
        m.sequence = try mergeOne(a.sequence, b.sequence, "sequence")
        m.requiredTimeLockTime = try mergeOne(a.requiredTimeLockTime, b.requiredTimeLockTime, "required time locktime")
        m.requiredHeightLockTime = try mergeOne(
            a.requiredHeightLockTime, b.requiredHeightLockTime, "required height locktime")
        m.tapKeySignature = try mergeOne(a.tapKeySignature, b.tapKeySignature, "taproot key signature")
        m.tapScriptSignatures = try mergeDict(a.tapScriptSignatures, b.tapScriptSignatures, "taproot script signature")
        m.tapLeafScripts = try mergeDict(a.tapLeafScripts, b.tapLeafScripts, "taproot leaf script")
        m.tapBIP32Derivations = try mergeDict(a.tapBIP32Derivations, b.tapBIP32Derivations, "taproot derivation")
        m.tapInternalKey = try mergeOne(a.tapInternalKey, b.tapInternalKey, "taproot internal key")
        m.tapMerkleRoot = try mergeOne(a.tapMerkleRoot, b.tapMerkleRoot, "taproot merkle root")
        m.unknown = try mergePairs(a.unknown, b.unknown)
        return m
    }

    static func mergeOutput(_ a: Output, _ b: Output) throws(BitcoinError) -> Output {
        var m = a
        m.redeemScript = try mergeOne(a.redeemScript, b.redeemScript, "output redeem script")
        m.witnessScript = try mergeOne(a.witnessScript, b.witnessScript, "output witness script")
        m.bip32Derivations = try mergeDict(a.bip32Derivations, b.bip32Derivations, "output derivation")
        m.tapInternalKey = try mergeOne(a.tapInternalKey, b.tapInternalKey, "output taproot internal key")
        m.tapTree = try mergeOne(a.tapTree, b.tapTree, "output taproot tree")
        m.tapBIP32Derivations = try mergeDict(a.tapBIP32Derivations, b.tapBIP32Derivations, "output taproot derivation")
        m.unknown = try mergePairs(a.unknown, b.unknown)
        return m
    }

    /// BIP-0174 Updater helper: attaches a previous transaction to every input that spends it —
    /// as `NON_WITNESS_UTXO`, and additionally as `WITNESS_UTXO` when `witness` is set.
    public mutating func addPreviousTransaction(_ prev: Transaction, asWitnessUTXO witness: Bool = false)
        throws(BitcoinError)
    {
        let txid = prev.computeTxid()
        let tx = try unsignedTx()
        for (i, input) in tx.inputs.enumerated() where input.previousOutput.txid == txid {
            guard Int(input.previousOutput.vout) < prev.outputs.count else {
                throw BitcoinError(
                    .invalidPSBT, "input \(i) spends output \(input.previousOutput.vout) which does not exist")
            }
            if witness {
                inputs[i].witnessUTXO = prev.outputs[Int(input.previousOutput.vout)]
            } else {
                inputs[i].nonWitnessUTXO = prev
            }
        }
    }

    // MARK: Finalizer and extractor

    /// BIP-0174 Input Finalizer for the script types Kura uses: P2PKH, P2WPKH, P2SH-P2WPKH, bare,
    /// P2SH, P2WSH and P2SH-P2WSH `multi`/`sortedmulti`, and P2TR key path. Inputs that are already
    /// final are left alone. After finalising, only the UTXOs, the final fields and unknown pairs
    /// remain (BIP-0174).
    public mutating func finalize() throws(BitcoinError) {
        for i in inputs.indices where inputs[i].finalScriptSig == nil && inputs[i].finalScriptWitness == nil {
            try finalizeInput(i)
        }
    }

    /// Whether every input has a final scriptSig or witness.
    public var isFinalized: Bool { inputs.allSatisfy { $0.finalScriptSig != nil || $0.finalScriptWitness != nil } }

    mutating func finalizeInput(_ i: Int) throws(BitcoinError) {
        let m = inputs[i]
        let spk = try spentOutput(i).scriptPubKey
        var scriptSig: [UInt8] = []
        var witness: [[UInt8]]? = nil
        var inner = spk
        if case .p2sh(let h) = spk.template {
            guard let redeem = m.redeemScript, Hash.hash160(redeem.bytes) == h else {
                throw BitcoinError(.cannotFinalize, "input \(i): P2SH without a matching redeem script")
            }
            inner = redeem
            scriptSig = Script.pushData(redeem.bytes)
        }
        switch inner.template {
        case .p2tr:
            guard let sig = m.tapKeySignature else {
                throw BitcoinError(.cannotFinalize, "input \(i): no taproot key signature")
            }
            witness = [sig]
        case .p2wpkh(let h):
            guard let (pub, sig) = m.partialSignatures.first(where: { Hash.hash160($0.key) == h }) else {
                throw BitcoinError(.cannotFinalize, "input \(i): no signature for the P2WPKH key")
            }
            witness = [sig, pub]
        case .p2wsh(let h):
            guard let ws = m.witnessScript, Hash.sha256(ws.bytes) == h else {
                throw BitcoinError(.cannotFinalize, "input \(i): P2WSH without a matching witness script")
            }
            witness = try multisigStack(ws, m, i) + [ws.bytes]
        case .p2pkh(let h):
            guard let (pub, sig) = m.partialSignatures.first(where: { Hash.hash160($0.key) == h }) else {
                throw BitcoinError(.cannotFinalize, "input \(i): no signature for the P2PKH key")
            }
            scriptSig = Script.pushData(sig) + Script.pushData(pub) + scriptSig
        case .multisig:
            let stack = try multisigStack(inner, m, i)
            scriptSig = stack.flatMap { Script.pushData($0) } + scriptSig
        default:
            throw BitcoinError(.cannotFinalize, "input \(i): script type is not supported by the finalizer")
        }
        var out = Input()
        out.nonWitnessUTXO = m.nonWitnessUTXO
        out.witnessUTXO = m.witnessUTXO
        out.previousTxid = m.previousTxid
        out.outputIndex = m.outputIndex
        out.sequence = m.sequence
        out.requiredTimeLockTime = m.requiredTimeLockTime
        out.requiredHeightLockTime = m.requiredHeightLockTime
        out.unknown = m.unknown
        out.porCommitment = m.porCommitment
        out.finalScriptSig = scriptSig.isEmpty ? nil : Script(scriptSig)
        out.finalScriptWitness = witness
        inputs[i] = out
    }

    private func multisigStack(_ script: Script, _ m: Input, _ i: Int) throws(BitcoinError) -> [[UInt8]] {
        guard let (threshold, keys) = script.multisigParameters else {
            throw BitcoinError(.cannotFinalize, "input \(i): script is not a multisig the finalizer understands")
        }
        var sigs = [[UInt8]]()
        for k in keys where sigs.count < threshold {
            if let s = m.partialSignatures[k] { sigs.append(s) }
        }
        guard sigs.count == threshold else {
            throw BitcoinError(.cannotFinalize, "input \(i): \(sigs.count) of \(threshold) required signatures")
        }
        return [[]] + sigs
    }

    /// BIP-0174 Transaction Extractor: the network transaction of a finalised PSBT.
    public func extractTransaction() throws(BitcoinError) -> Transaction {
        var tx = try unsignedTx()
        for (i, m) in inputs.enumerated() {
            guard m.finalScriptSig != nil || m.finalScriptWitness != nil else {
                throw BitcoinError(.cannotFinalize, "input \(i) is not finalised")
            }
            tx.inputs[i].scriptSig = m.finalScriptSig ?? Script([])
            tx.inputs[i].witness = m.finalScriptWitness ?? []
        }
        return tx
    }
}
