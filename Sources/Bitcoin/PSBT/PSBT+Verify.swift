import WalletCrypto

extension PSBT {
    /// Checks every signature the PSBT carries before anyone relies on it (the coordinator, when a signer's
    /// partially signed PSBT comes back): each ECDSA partial signature must be strict DER with low S, carry the
    /// input's sighash type (SIGHASH_ALL unless the input names one), belong to a key the input's script uses
    /// (the P2WPKH/P2PKH key or a key of the multisig script) and verify over the input's signature hash; a taproot
    /// key-path signature must verify under the output key. Returns how many signatures each input carries.
    ///
    /// A signature that fails is `.invalidSignature` naming the input and the key: a PSBT with one bad signature is
    /// refused as a whole, so a combined PSBT never holds a signature that would make finalisation produce an
    /// invalid transaction.
    public func verifySignatures() throws(BitcoinError) -> [Int] {
        var context = try SigningContext(self)
        var counts = [Int]()
        for index in inputs.indices {
            let m = inputs[index]
            var options = SigningOptions()
            options.requireNonWitnessUTXOForSegwitV0 = false
            let (kind, utxo) = try spendKind(index, options: options)
            var count = 0
            switch kind {
            case .taprootKeyPath(let outputKey):
                if !m.partialSignatures.isEmpty {
                    throw BitcoinError(
                        .invalidSignature, "input \(index): ECDSA signatures on a taproot key-path input")
                }
                if let sig = m.tapKeySignature {
                    guard sig.count == 64 || (sig.count == 65 && sig[64] != 0) else {
                        throw BitcoinError(.invalidSignature, "input \(index): taproot signature of \(sig.count) bytes")
                    }
                    let type = sig.count == 65 ? UInt32(sig[64]) : SighashType.default.rawValue
                    guard type == (m.sighashType ?? SighashType.default.rawValue) else {
                        throw BitcoinError(.invalidSignature, "input \(index): sighash type \(type) is not the input's")
                    }
                    let digest = try context.taprootCache(self).taproot(
                        inputIndex: index, hashType: SighashType(rawValue: type))
                    guard let key = try? XOnlyPublicKey(bytes: outputKey),
                        let schnorr = try? SchnorrSignature(bytes: Array(sig.prefix(64))),
                        key.isValidSignature(schnorr, message: digest)
                    else {
                        throw BitcoinError(
                            .invalidSignature, "input \(index): the taproot key-path signature does not verify")
                    }
                    count = 1
                }
            case .segwitV0(let scriptCode, let program):
                let keys = Self.signingKeys(program: program, scriptCode: scriptCode)
                for (pub, sig) in m.partialSignatures {
                    let type = try Self.checkedType(index, pub: pub, sig: sig, keys: keys, input: m)
                    let digest = try context.legacyAndV0.segwitV0(
                        inputIndex: index, scriptCode: scriptCode, amount: utxo.value,
                        hashType: SighashType(rawValue: type))
                    try Self.verifyECDSA(index, pub: pub, sig: sig, digest: digest)
                    count += 1
                }
            case .legacy(let scriptCode):
                let keys = Self.signingKeys(program: scriptCode.template, scriptCode: scriptCode)
                for (pub, sig) in m.partialSignatures {
                    let type = try Self.checkedType(index, pub: pub, sig: sig, keys: keys, input: m)
                    let digest = context.legacyAndV0.legacy(inputIndex: index, scriptCode: scriptCode, hashType: type)
                    try Self.verifyECDSA(index, pub: pub, sig: sig, digest: digest)
                    count += 1
                }
            }
            counts.append(count)
        }
        return counts
    }

    /// The keys a script lets sign: the key hash of P2WPKH/P2PKH (matched by hash), the keys of a multisig.
    private static func signingKeys(program: ScriptTemplate, scriptCode: Script) -> (hash: [UInt8]?, keys: [[UInt8]]) {
        switch program {
        case .p2wpkh(let h), .p2pkh(let h): return (h, [])
        default: return (nil, scriptCode.multisigParameters?.1 ?? [])
        }
    }

    /// The signature's sighash type, once the key is one the input uses and the type is the input's.
    private static func checkedType(
        _ index: Int, pub: [UInt8], sig: [UInt8], keys: (hash: [UInt8]?, keys: [[UInt8]]), input m: Input
    ) throws(BitcoinError) -> UInt32 {
        let known = keys.hash.map { Hash.hash160(pub) == $0 } ?? keys.keys.contains(pub)
        guard known else {
            throw BitcoinError(
                .invalidSignature,
                "input \(index): a signature by \(Hex.encode(pub.prefix(33))), a key the input does not use")
        }
        guard let type = sig.last, sig.count >= 9 else {
            throw BitcoinError(.invalidSignature, "input \(index): a signature of \(sig.count) bytes")
        }
        guard UInt32(type) == (m.sighashType ?? SighashType.all.rawValue) else {
            throw BitcoinError(.invalidSignature, "input \(index): sighash type \(type) is not the input's")
        }
        return UInt32(type)
    }

    private static func verifyECDSA(_ index: Int, pub: [UInt8], sig: [UInt8], digest: [UInt8]) throws(BitcoinError) {
        let der = Array(sig.dropLast())
        guard ECDSASignature.isStrictDER(der), let signature = try? ECDSASignature(der: der), signature.isLowS,
            let key = try? PublicKey(bytes: pub), key.isValidSignature(signature, digest: digest)
        else {
            throw BitcoinError(
                .invalidSignature, "input \(index): the signature by \(Hex.encode(pub.prefix(33))) does not verify")
        }
    }
}
