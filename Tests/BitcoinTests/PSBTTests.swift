import Bitcoin
import Foundation
import KuraTestSupport
import Testing
import WalletCrypto

@Suite("PSBT v0 (BIP-0174), v2 (BIP-0370) and taproot fields (BIP-0371)")
struct PSBTTests {
    struct Case: Decodable {
        let description: String
        let hex: String
        let base64: String?
    }
    struct File174: Decodable {
        let invalid: [Case]
        let valid: [Case]
        let fails_signer_checks: [Case]
    }
    struct File370: Decodable {
        struct Lock: Decodable {
            let description: String
            let hex: String
            let expected_locktime: UInt32?
        }
        let invalid: [Case]
        let valid: [Case]
        let locktime: [Lock]
        let locktime_undeterminable: [Case]
    }
    struct File371: Decodable {
        let invalid: [Case]
        let valid: [Case]
    }

    @Test func bip174ValidAndInvalid() throws {
        let f = try Vectors.decode(File174.self, "bip174/bip174_vectors.json")
        #expect(f.invalid.count == 20 && f.valid.count == 10)
        for c in f.invalid {
            #expect(throws: BitcoinError.self, "\(c.description)") { try PSBT(bytes: hexBytes(c.hex)) }
        }
        for c in f.valid {
            let p = try PSBT(bytes: hexBytes(c.hex))
            #expect(p.version == 0)
            // Re-serialising gives the same bytes, and base64 matches.
            #expect(Hex.encode(p.serialized) == c.hex, "\(c.description)")
            if let b = c.base64 { #expect(try PSBT(base64: b) == p) }
        }
    }

    @Test func bip174SignerChecks() throws {
        let f = try Vectors.decode(File174.self, "bip174/bip174_vectors.json")
        #expect(f.fails_signer_checks.count == 4)
        var options = PSBT.SigningOptions()
        options.requireNonWitnessUTXOForSegwitV0 = false
        let key = PrivateKey.generate()
        for c in f.fails_signer_checks {
            var p = try PSBT(bytes: hexBytes(c.hex))
            var refused = 0
            for i in p.inputs.indices {
                do {
                    try p.signInput(i, with: key, options: options)
                } catch {
                    if error.code == .cannotSign && !error.reason.contains("key") { refused += 1 }
                }
            }
            #expect(refused >= 1, "\(c.description)")
        }
    }

    @Test func aPreviousTransactionThatIsNotTheSpentOneHasItsOwnCode() throws {
        // The signer refuses it as a forged input (INPUT_INVALID, ATTACKS B06), not as noise.
        let f = try Vectors.decode(File174.self, "bip174/bip174_vectors.json")
        for c in f.valid {
            var p = try PSBT(bytes: hexBytes(c.hex))
            guard let i = p.inputs.firstIndex(where: { $0.nonWitnessUTXO != nil }),
                var prev = p.inputs[i].nonWitnessUTXO
            else { continue }
            prev.lockTime &+= 1
            p.inputs[i].nonWitnessUTXO = prev
            let e = #expect(throws: BitcoinError.self) { try PSBT(bytes: p.serialized) }
            #expect(e?.code == .prevoutMismatch)
            return
        }
        Issue.record("no valid BIP-0174 vector has a non-witness UTXO")
    }

    @Test func bip370ValidInvalidAndLocktimes() throws {
        let f = try Vectors.decode(File370.self, "bip370/bip370_vectors.json")
        #expect(f.invalid.count == 24 && f.valid.count == 14)
        for c in f.invalid {
            #expect(throws: BitcoinError.self, "\(c.description)") { try PSBT(bytes: hexBytes(c.hex)) }
        }
        for c in f.valid {
            let p = try PSBT(bytes: hexBytes(c.hex))
            #expect(p.version == 2)
            #expect(Hex.encode(p.serialized) == c.hex, "\(c.description)")
        }
        #expect(f.locktime.count == 8)
        for c in f.locktime {
            let p = try PSBT(bytes: hexBytes(c.hex))
            #expect(try p.computedLockTime() == c.expected_locktime, "\(c.description)")
        }
        for c in f.locktime_undeterminable {
            let p = try PSBT(bytes: hexBytes(c.hex))
            #expect(throws: BitcoinError.self) { try p.computedLockTime() }
        }
    }

    @Test func bip371TaprootFields() throws {
        let f = try Vectors.decode(File371.self, "bip174/bip371_taproot_psbt_vectors.json")
        #expect(f.invalid.count == 11 && f.valid.count == 6)
        for c in f.invalid {
            #expect(throws: BitcoinError.self, "\(c.description)") { try PSBT(bytes: hexBytes(c.hex)) }
        }
        for c in f.valid {
            let p = try PSBT(bytes: hexBytes(c.hex))
            #expect(Hex.encode(p.serialized) == c.hex, "\(c.description)")
        }
    }

    @Test func combinerPreservesUnknownKeys() throws {
        let root = try #require(try Vectors.json("bip174/bip174_vectors.json") as? [String: Any])
        let c = try #require(root["combiner_unknown_keys"] as? [String: Any])
        let inputs = try #require(c["inputs"] as? [[String: Any]])
        let psbts = try inputs.map { try PSBT(bytes: hexBytes($0["hex"] as! String)) }
        let combined = try PSBT.combine(psbts)
        #expect(Hex.encode(combined.serialized) == c["result_hex"] as! String)
    }

    /// The BIP's full role workflow: creator, updater, two signers, combiner, finalizer, extractor.
    @Test func bip174Workflow() throws {
        let root = try #require(try Vectors.json("bip174/bip174_vectors.json") as? [String: Any])
        let wf = try #require(root["workflow"] as? [String: Any])
        let steps = try #require(wf["steps"] as? [[String: Any]])
        let network = Network.testnet
        func result(_ s: [String: Any]) -> String { s["result_hex"] as! String }

        // Creator.
        let creator = steps[0]
        let ins = try (creator["inputs"] as! [[String: Any]]).map {
            TxIn(
                previousOutput: OutPoint(txid: try Txid(hex: $0["txid"] as! String), vout: UInt32($0["vout"] as! Int)),
                sequence: 0xffff_ffff)
        }
        let outs = try (creator["outputs"] as! [[String: Any]]).map {
            TxOut(
                value: try Amount(sats: Int64($0["amount_sat"] as! Int)),
                scriptPubKey: Script(hexBytes($0["scriptPubKey"] as! String)))
        }
        var psbt = try PSBT(unsignedTransaction: Transaction(version: 2, inputs: ins, outputs: outs, lockTime: 0))
        #expect(Hex.encode(psbt.serialized) == result(creator))

        // Updater: previous transactions, scripts, derivations.
        let up = steps[1]
        let prevs = try (up["previous_transactions"] as! [String]).map { try Transaction(bytes: hexBytes($0)) }
        let redeem = (up["redeem_scripts"] as! [String]).map { Script(hexBytes($0)) }
        let witness = (up["witness_scripts"] as! [String]).map { Script(hexBytes($0)) }
        for prev in prevs {
            let txid = prev.computeTxid()
            let spender = try #require(psbt.unsignedTransaction?.inputs.firstIndex { $0.previousOutput.txid == txid })
            if spender == 0 {
                try psbt.addPreviousTransaction(prev)
            } else {
                try psbt.addPreviousTransaction(prev, asWitnessUTXO: true)
            }
        }
        psbt.inputs[0].redeemScript = redeem[0]
        psbt.inputs[1].redeemScript = redeem[1]
        psbt.inputs[1].witnessScript = witness[0]
        let master = try ExtendedPrivateKey(parsing: wf["master_xprv"] as! String)
        for d in up["bip32_derivations"] as! [[String: Any]] {
            let pub = hexBytes(d["pubkey"] as! String)
            let origin = KeyOrigin(
                fingerprint: master.fingerprint, path: try DerivationPath(parsing: d["path"] as! String))
            for i in psbt.inputs.indices {
                let scripts = [psbt.inputs[i].redeemScript, psbt.inputs[i].witnessScript].compactMap { $0 }
                if scripts.contains(where: { $0.multisigParameters?.1.contains(pub) == true }) {
                    psbt.inputs[i].bip32Derivations[pub] = origin
                }
            }
            for (o, out) in outs.enumerated() where Script.p2wpkh(try PublicKey(bytes: pub)) == out.scriptPubKey {
                psbt.outputs[o].bip32Derivations[pub] = origin
            }
        }
        #expect(Hex.encode(psbt.serialized) == result(up))

        // Updater: SIGHASH_ALL on every input.
        for i in psbt.inputs.indices { psbt.inputs[i].sighashType = 1 }
        #expect(Hex.encode(psbt.serialized) == result(steps[2]))

        // Two signers, each with its own WIF keys; RFC 6979 without grinding, as the BIP's data.
        var options = PSBT.SigningOptions()
        options.grindLowR = false
        options.requireNonWitnessUTXOForSegwitV0 = false
        var signed = [PSBT]()
        for s in steps[3...4] {
            var copy = psbt
            for k in s["keys"] as! [[String: Any]] {
                let wif = try WIF(k["wif"] as! String, network: network)
                let path = try DerivationPath(parsing: k["path"] as! String)
                #expect(try master.derive(path).privateKey.publicKey == wif.privateKey.publicKey)
                for i in copy.inputs.indices
                where copy.inputs[i].bip32Derivations.keys.contains(wif.privateKey.publicKey.compressed) {
                    try copy.signInput(i, with: wif.privateKey, options: options)
                }
            }
            #expect(Hex.encode(copy.serialized) == result(s), "\((s["role"] as? String) ?? "")")
            signed.append(copy)
        }

        // Combiner, finalizer, extractor.
        var combined = try PSBT.combine(signed)
        #expect(Hex.encode(combined.serialized) == result(steps[5]))
        try combined.finalize()
        #expect(Hex.encode(combined.serialized) == result(steps[6]))
        let tx = try combined.extractTransaction()
        #expect(Hex.encode(tx.serialized) == steps[7]["result_tx_hex"] as! String)
    }

    @Test func everyTruncatedPrefixFails() throws {
        let f = try Vectors.decode(File174.self, "bip174/bip174_vectors.json")
        for c in f.valid.prefix(6) {
            let bytes = hexBytes(c.hex)
            for n in 0..<bytes.count {
                #expect(throws: BitcoinError.self, "\(c.description) prefix \(n)") {
                    try PSBT(bytes: Array(bytes[0..<n]))
                }
            }
            #expect(throws: Never.self) { try PSBT(bytes: bytes) }
        }
    }

    @Test func duplicateKeysAndTrailingBytes() throws {
        let f = try Vectors.decode(File174.self, "bip174/bip174_vectors.json")
        let bytes = hexBytes(f.valid[0].hex)
        let e = #expect(throws: BitcoinError.self) { try PSBT(bytes: bytes + [0]) }
        #expect(e?.code == .trailingBytes || e?.code == .invalidPSBT)
        // Duplicate a global proprietary key: insert the same pair twice before the separator.
        let p = try PSBT(bytes: bytes)
        let tx = p.unsignedTransaction!.serializedWithoutWitness
        var w = ByteWriter()
        w.write([0x70, 0x73, 0x62, 0x74, 0xff])
        w.writeVarBytes([0x00])
        w.writeVarBytes(tx)
        for _ in 0..<2 {
            w.writeVarBytes([0xfc, 0x01, 0x41])
            w.writeVarBytes([0x01])
        }
        w.writeUInt8(0)
        for _ in p.inputs { w.writeUInt8(0) }
        for _ in p.outputs { w.writeUInt8(0) }
        let dup = #expect(throws: BitcoinError.self) { try PSBT(bytes: w.bytes) }
        #expect(dup?.code == .duplicateKey)
    }
}
