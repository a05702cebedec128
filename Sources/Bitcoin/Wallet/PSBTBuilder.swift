import WalletCrypto

/// A coin the wallet can spend: where it is, what it holds, and where in the descriptor it was
/// derived (branch 0 receive, 1 change; index).
public struct SpendableOutput: Sendable, Hashable {
    /// The outpoint.
    public let outPoint: OutPoint
    /// The output being spent.
    public let output: TxOut
    /// The descriptor branch (BIP-0389 multipath index).
    public let branch: Int
    /// The derivation index.
    public let index: UInt32
    /// The full previous transaction (required for segwit v0 inputs by Kura's signer).
    public let previousTransaction: Transaction?

    /// Creates a spendable output; when the previous transaction is given it must contain the output.
    public init(outPoint: OutPoint, output: TxOut, branch: Int, index: UInt32, previousTransaction: Transaction? = nil)
        throws(BitcoinError)
    {
        if let prev = previousTransaction {
            guard prev.computeTxid() == outPoint.txid, Int(outPoint.vout) < prev.outputs.count,
                prev.outputs[Int(outPoint.vout)] == output
            else {
                throw BitcoinError(.invalidPSBT, "previous transaction does not hold \(outPoint)")
            }
        }
        self.outPoint = outPoint
        self.output = output
        self.branch = branch
        self.index = index
        self.previousTransaction = previousTransaction
    }
}

extension Descriptor {
    /// The input weight of spending one output of this descriptor (signatures at their maximum).
    public func inputWeight() throws(BitcoinError) -> Weight {
        switch root {
        case .wpkh: return InputWeight.p2wpkh
        case .sh(.wpkh): return InputWeight.p2shP2wpkh
        case .tr(_, nil): return InputWeight.p2trKeyPath
        case .wsh(.multi(let threshold, let keys, _)):
            return InputWeight.p2wshMultisig(threshold: threshold, scriptSize: 3 + 34 * keys.count)
        default:
            throw BitcoinError(.invalidDescriptor, "Kura does not estimate spends of \(root.functionName)()")
        }
    }

    /// Whether spends of this descriptor have witnesses.
    public var isSegwit: Bool {
        switch root {
        case .wpkh, .wsh, .tr, .sh(.wpkh), .sh(.wsh): return true
        default: return false
        }
    }

    /// Fills a PSBT input or output map with what a signer needs to recognise and spend the
    /// script at `index`/`branch` (BIP-0174 Updater): redeem and witness scripts, BIP-0032
    /// derivations of every key, and for `tr` the internal key and its BIP-0371 derivation.
    func update(
        _ bip32: inout KeyedEntries<KeyOrigin>, _ tap: inout KeyedEntries<PSBT.TapDerivation>, redeem: inout Script?,
        witness: inout Script?, tapInternalKey: inout [UInt8]?, index: UInt32, branch: Int
    ) throws(BitcoinError) {
        let (r, w) = try scripts(index: index, branch: branch)
        redeem = r
        witness = w
        if case .tr(let k, let tree) = root {
            guard tree == nil else {
                throw BitcoinError(.invalidDescriptor, "Kura builds key-path-only taproot spends")
            }
            let key = try k.publicKey(index: index, branch: branch)
            let xonly = key.count == 32 ? key : Array(key[1..<33])
            tapInternalKey = xonly
            if let origin = k.derivedOrigin(index: index, branch: branch) {
                tap[xonly] = PSBT.TapDerivation(leafHashes: [], origin: origin)
            }
            return
        }
        for k in keys {
            if let origin = k.derivedOrigin(index: index, branch: branch) {
                bip32[try k.publicKey(index: index, branch: branch)] = origin
            }
        }
    }
}

extension Descriptor {
    /// Writes into a PSBT input what a signer needs for the script at `index`/`branch`: redeem and
    /// witness scripts, every key's BIP-0032 derivation, and for `tr` the internal key and its
    /// BIP-0371 derivation (BIP-0174 Updater).
    public func annotate(_ input: inout PSBT.Input, index: UInt32, branch: Int) throws(BitcoinError) {
        try update(
            &input.bip32Derivations, &input.tapBIP32Derivations, redeem: &input.redeemScript,
            witness: &input.witnessScript,
            tapInternalKey: &input.tapInternalKey, index: index, branch: branch)
    }

    /// The same for a PSBT output (change).
    public func annotate(_ output: inout PSBT.Output, index: UInt32, branch: Int) throws(BitcoinError) {
        try update(
            &output.bip32Derivations, &output.tapBIP32Derivations, redeem: &output.redeemScript,
            witness: &output.witnessScript,
            tapInternalKey: &output.tapInternalKey, index: index, branch: branch)
    }
}

/// Builds unsigned PSBTs for a descriptor wallet (BIP-0174 Creator + Updater): inputs from the
/// wallet's own coins, the payment outputs, and an optional change output on the wallet's change
/// branch, each annotated so that a signer can re-derive and check it.
public enum PSBTBuilder {
    /// Where change goes.
    public struct Change: Sendable {
        /// The descriptor branch (1 for change).
        public let branch: Int
        /// The derivation index.
        public let index: UInt32
        /// The amount.
        public let amount: Amount
        /// Creates a change description.
        public init(branch: Int = 1, index: UInt32, amount: Amount) {
            self.branch = branch
            self.index = index
            self.amount = amount
        }
    }

    /// Builds the PSBT. Every input's script must be the descriptor's script at its index (a coin
    /// of another wallet is refused); `version` is 0 or 2.
    public static func build(
        descriptor: Descriptor, inputs: [SpendableOutput], payments: [TxOut], change: Change?, version: UInt32 = 0,
        txVersion: Int32 = 2, lockTime: UInt32 = 0, sequence: UInt32 = 0xffff_fffd
    ) throws(BitcoinError) -> PSBT {
        guard !inputs.isEmpty else { throw BitcoinError(.invalidPSBT, "no inputs") }
        guard Set(inputs.map(\.outPoint)).count == inputs.count else {
            throw BitcoinError(.invalidPSBT, "the same coin is spent twice")
        }
        var outputs = payments
        var changeIndex: Int? = nil
        if let change {
            outputs.append(
                TxOut(
                    value: change.amount,
                    scriptPubKey: try descriptor.scriptPubKey(index: change.index, branch: change.branch)))
            changeIndex = outputs.count - 1
        }
        let tx = Transaction(
            version: txVersion, inputs: inputs.map { TxIn(previousOutput: $0.outPoint, sequence: sequence) },
            outputs: outputs, lockTime: lockTime)
        _ = try tx.totalOutput()
        var psbt = version == 2 ? try PSBT(version2: tx) : try PSBT(unsignedTransaction: tx)
        for (i, coin) in inputs.enumerated() {
            guard try descriptor.scriptPubKey(index: coin.index, branch: coin.branch) == coin.output.scriptPubKey else {
                throw BitcoinError(
                    .invalidPSBT, "input \(i) is not the wallet's output at \(coin.branch)/\(coin.index)")
            }
            var m = psbt.inputs[i]
            m.nonWitnessUTXO = coin.previousTransaction
            if descriptor.isSegwit { m.witnessUTXO = coin.output }
            try descriptor.update(
                &m.bip32Derivations, &m.tapBIP32Derivations, redeem: &m.redeemScript, witness: &m.witnessScript,
                tapInternalKey: &m.tapInternalKey,
                index: coin.index, branch: coin.branch)
            psbt.inputs[i] = m
        }
        if let changeIndex, let change {
            var m = psbt.outputs[changeIndex]
            try descriptor.update(
                &m.bip32Derivations, &m.tapBIP32Derivations, redeem: &m.redeemScript, witness: &m.witnessScript,
                tapInternalKey: &m.tapInternalKey,
                index: change.index, branch: change.branch)
            psbt.outputs[changeIndex] = m
        }
        return psbt
    }
}

extension PSBT {
    /// The fee: the sum of the spent outputs (from the UTXO fields) minus the sum of the outputs,
    /// with checked arithmetic.
    public func fee() throws(BitcoinError) -> Amount {
        var spent = [Amount]()
        for i in inputs.indices { spent.append(try spentOutput(i).value) }
        return try Amount.sum(spent).subtracting(try unsignedTx().totalOutput())
    }

    /// An upper bound on the finalised weight when every input spends `descriptor`.
    public func estimatedWeight(descriptor: Descriptor) throws(BitcoinError) -> Weight {
        let tx = try unsignedTx()
        var w = InputWeight.overhead(inputs: tx.inputs.count, outputs: tx.outputs.count, segwit: descriptor.isSegwit)
        for o in tx.outputs { w = w + InputWeight.output(o.scriptPubKey) }
        let input = try descriptor.inputWeight()
        return w + Weight(units: input.units * UInt64(tx.inputs.count))
    }
}
