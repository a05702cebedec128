public import WalletCrypto

extension PSBT {
    /// What the PSBT signer accepts. Defaults are Kura's: SIGHASH_ALL for ECDSA, SIGHASH_DEFAULT
    /// (or ALL) for taproot, low-R grinding, and segwit v0 inputs only with their full previous
    /// transaction (BIP-0174's defence against the segwit fee attack).
    public struct SigningOptions: Sendable {
        /// Sighash types allowed for ECDSA inputs.
        public var ecdsaSighashTypes: Set<UInt32> = [SighashType.all.rawValue]
        /// Sighash types allowed for taproot inputs.
        public var taprootSighashTypes: Set<UInt32> = [SighashType.default.rawValue, SighashType.all.rawValue]
        /// Grind ECDSA signatures to low R (Bitcoin Core's behaviour).
        public var grindLowR = true
        /// Refuse to sign a segwit v0 input unless its non-witness UTXO is present.
        public var requireNonWitnessUTXOForSegwitV0 = true

        /// Kura's defaults.
        public init() {}
    }

    /// How input `index` is spent, as the signer sees it.
    enum SpendKind {
        case legacy(scriptCode: Script)
        case segwitV0(scriptCode: Script, program: ScriptTemplate)
        case taprootKeyPath(outputKey: [UInt8])
    }

    /// Classifies input `index` and applies the BIP-0174 signer checks: the redeem script must hash
    /// to the P2SH program, the witness script to the P2WSH program, a witness UTXO alone is
    /// refused for a non-witness spend, and UTXO fields must agree with each other.
    func spendKind(_ index: Int, options: SigningOptions) throws(BitcoinError) -> (SpendKind, TxOut) {
        let m = inputs[index]
        let utxo = try spentOutput(index)
        var inner = utxo.scriptPubKey
        var nested = false
        if case .p2sh(let h) = utxo.scriptPubKey.template {
            guard let redeem = m.redeemScript else {
                throw BitcoinError(.cannotSign, "input \(index): P2SH without a redeem script")
            }
            guard Hash.hash160(redeem.bytes) == h else {
                throw BitcoinError(.cannotSign, "input \(index): redeem script does not match the P2SH scriptPubKey")
            }
            inner = redeem
            nested = true
        } else if m.redeemScript != nil {
            throw BitcoinError(.cannotSign, "input \(index): redeem script given for a non-P2SH output")
        }
        switch inner.template {
        case .p2wpkh(let h):
            if options.requireNonWitnessUTXOForSegwitV0 && m.nonWitnessUTXO == nil {
                throw BitcoinError(.cannotSign, "input \(index): segwit v0 input without its full previous transaction")
            }
            return (.segwitV0(scriptCode: .p2pkh(hash: h), program: inner.template), utxo)
        case .p2wsh(let h):
            guard let ws = m.witnessScript else {
                throw BitcoinError(.cannotSign, "input \(index): P2WSH without a witness script")
            }
            guard Hash.sha256(ws.bytes) == h else {
                throw BitcoinError(
                    .cannotSign,
                    "input \(index): witness script does not match the \(nested ? "redeem script" : "P2WSH scriptPubKey")"
                )
            }
            if options.requireNonWitnessUTXOForSegwitV0 && m.nonWitnessUTXO == nil {
                throw BitcoinError(.cannotSign, "input \(index): segwit v0 input without its full previous transaction")
            }
            return (.segwitV0(scriptCode: ws, program: inner.template), utxo)
        case .p2tr(let outputKey):
            guard !nested else { throw BitcoinError(.cannotSign, "input \(index): taproot cannot be nested in P2SH") }
            return (.taprootKeyPath(outputKey: outputKey), utxo)
        case .witnessUnknown:
            throw BitcoinError(.cannotSign, "input \(index): unknown witness version")
        default:
            guard m.nonWitnessUTXO != nil else {
                throw BitcoinError(.cannotSign, "input \(index): a witness UTXO is given for a non-witness input")
            }
            if m.witnessScript != nil {
                throw BitcoinError(.cannotSign, "input \(index): witness script given for a non-witness input")
            }
            return (.legacy(scriptCode: inner), utxo)
        }
    }

    /// Signs input `index` with `key` (BIP-0174 Signer): checks the input, computes the signature
    /// hash for its script type, and adds a partial signature (ECDSA) or the taproot key-path
    /// signature (BIP-0371, tweaked per BIP-0341 with the input's merkle root, none for BIP-0086).
    public mutating func signInput(_ index: Int, with key: PrivateKey, options: SigningOptions = SigningOptions())
        throws(BitcoinError)
    {
        var context = try SigningContext(self)
        try signInput(index, with: key, options: options, context: &context)
    }

    /// Per-transaction state shared by every input's signature: the unsigned transaction and the
    /// signature-hash midstates, computed once (so signing n inputs is O(n)).
    struct SigningContext {
        let tx: Transaction
        let legacyAndV0: SighashCache
        var taproot: SighashCache?

        init(_ psbt: PSBT) throws(BitcoinError) {
            tx = try psbt.unsignedTx()
            legacyAndV0 = try SighashCache(transaction: tx, prevouts: nil)
        }

        mutating func taprootCache(_ psbt: PSBT) throws(BitcoinError) -> SighashCache {
            if let taproot { return taproot }
            var prevouts = [TxOut]()
            for i in psbt.inputs.indices { prevouts.append(try psbt.spentOutput(i)) }
            let cache = try SighashCache(transaction: tx, prevouts: prevouts)
            taproot = cache
            return cache
        }
    }

    mutating func signInput(_ index: Int, with key: PrivateKey, options: SigningOptions, context: inout SigningContext)
        throws(BitcoinError)
    {
        guard index < inputs.count else { throw BitcoinError(.cannotSign, "input \(index) does not exist") }
        let (kind, utxo) = try spendKind(index, options: options)
        let m = inputs[index]
        let pub = key.publicKey
        switch kind {
        case .taprootKeyPath(let outputKey):
            let type = m.sighashType ?? SighashType.default.rawValue
            guard options.taprootSighashTypes.contains(type) else {
                throw BitcoinError(
                    .invalidSighashType, "input \(index): sighash \(SighashType(rawValue: type)) is not allowed")
            }
            let internalKey = pub.xOnly.key
            if let declared = m.tapInternalKey, declared != internalKey.bytes {
                throw BitcoinError(.cannotSign, "input \(index): key is not the declared taproot internal key")
            }
            let tweaked: Keypair
            do {
                tweaked = try Keypair(key).taprootTweaked(merkleRoot: m.tapMerkleRoot)
            } catch {
                throw BitcoinError(.keyError, error.description)
            }
            guard tweaked.xOnlyPublicKey.key.bytes == outputKey else {
                throw BitcoinError(
                    .cannotSign, "input \(index): key tweaked with the merkle root does not give the output key")
            }
            let cache = try context.taprootCache(self)
            let digest = try cache.taproot(inputIndex: index, hashType: SighashType(rawValue: type))
            do {
                let sig = try tweaked.signSchnorr(message: digest)
                inputs[index].tapKeySignature = sig.bytes + (type == 0 ? [] : [UInt8(type)])
            } catch {
                throw BitcoinError(.keyError, error.description)
            }
        case .segwitV0(let scriptCode, let program):
            let type = m.sighashType ?? SighashType.all.rawValue
            guard options.ecdsaSighashTypes.contains(type) else {
                throw BitcoinError(
                    .invalidSighashType, "input \(index): sighash \(SighashType(rawValue: type)) is not allowed")
            }
            if case .p2wpkh(let h) = program, pub.hash160 != h {
                throw BitcoinError(.cannotSign, "input \(index): key does not match the P2WPKH program")
            }
            if case .p2wsh = program {
                guard let (_, keys) = scriptCode.multisigParameters ?? nil, keys.contains(pub.compressed) else {
                    throw BitcoinError(.cannotSign, "input \(index): key is not in the witness script")
                }
            }
            let digest = try context.legacyAndV0.segwitV0(
                inputIndex: index, scriptCode: scriptCode, amount: utxo.value, hashType: SighashType(rawValue: type))
            try addECDSA(index, key: key, digest: digest, type: type, options: options)
        case .legacy(let scriptCode):
            let type = m.sighashType ?? SighashType.all.rawValue
            guard options.ecdsaSighashTypes.contains(type) else {
                throw BitcoinError(
                    .invalidSighashType, "input \(index): sighash \(SighashType(rawValue: type)) is not allowed")
            }
            let digest = context.legacyAndV0.legacy(inputIndex: index, scriptCode: scriptCode, hashType: type)
            try addECDSA(index, key: key, digest: digest, type: type, options: options)
        }
    }

    private mutating func addECDSA(
        _ index: Int, key: PrivateKey, digest: [UInt8], type: UInt32, options: SigningOptions
    ) throws(BitcoinError) {
        do {
            let sig = try key.signECDSA(digest: digest, grindLowR: options.grindLowR)
            inputs[index].partialSignatures[key.publicKey.compressed] = sig.der + [UInt8(truncatingIfNeeded: type)]
        } catch {
            throw BitcoinError(.keyError, error.description)
        }
    }

    /// Signs every input whose BIP-0032 (or BIP-0371 key-path) derivation records name `master`'s
    /// fingerprint, deriving each key from `master` and checking it against the recorded public
    /// key. Returns the indexes signed.
    @discardableResult
    public mutating func sign(with master: ExtendedPrivateKey, options: SigningOptions = SigningOptions())
        throws(BitcoinError) -> [Int]
    {
        let fp = master.fingerprint
        var signed = [Int]()
        var parents = [[UInt32]: ExtendedPrivateKey]()
        var context = try SigningContext(self)
        for i in inputs.indices {
            var keys = [PrivateKey]()
            for (pub, origin) in inputs[i].bip32Derivations where origin.fingerprint == fp {
                let derived = try Self.derive(master, origin.path, cache: &parents)
                guard derived.publicKey.compressed == pub || derived.publicKey.uncompressed == pub else {
                    throw BitcoinError(
                        .cannotSign, "input \(i): derivation record under our fingerprint does not give its public key")
                }
                keys.append(derived)
            }
            for (xonly, d) in inputs[i].tapBIP32Derivations where d.origin.fingerprint == fp && d.leafHashes.isEmpty {
                let derived = try Self.derive(master, d.origin.path, cache: &parents)
                guard derived.publicKey.xOnly.key.bytes == xonly else {
                    throw BitcoinError(
                        .cannotSign, "input \(i): taproot derivation under our fingerprint does not give its key")
                }
                keys.append(derived)
            }
            for k in keys { try signInput(i, with: k, options: options, context: &context) }
            if !keys.isEmpty { signed.append(i) }
        }
        return signed
    }

    /// Derives the key at `path`, caching each parent so that the inputs of one account cost one
    /// child derivation each rather than a walk from the master key.
    static func derive(
        _ master: ExtendedPrivateKey, _ path: DerivationPath, cache: inout [[UInt32]: ExtendedPrivateKey]
    ) throws(BitcoinError) -> PrivateKey {
        guard let last = path.components.last else { return master.privateKey }
        let parentPath = Array(path.components.dropLast())
        let key = parentPath.map(\.rawValue)
        do {
            let parent: ExtendedPrivateKey
            if let cached = cache[key] {
                parent = cached
            } else {
                parent = try master.derive(DerivationPath(parentPath))
                cache[key] = parent
            }
            return try parent.derive(last).privateKey
        } catch {
            throw BitcoinError(.keyError, error.description)
        }
    }
}
