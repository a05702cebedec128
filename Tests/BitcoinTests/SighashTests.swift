import Bitcoin
import Foundation
import KuraTestSupport
import Testing
import WalletCrypto

@Suite("Signature hashes: legacy (Core sighash.json), BIP-0143, BIP-0341")
struct SighashTests {
    @Test func coreLegacySighash500() throws {
        let rows = try #require(try Vectors.json("bitcoin_core/sighash.json") as? [[Any]])
        var n = 0
        for row in rows where row.count == 5 {
            let tx = try Transaction(bytes: hexBytes(row[0] as! String))
            let script = Script(hexBytes(row[1] as! String))
            let index = row[2] as! Int
            let hashType = UInt32(bitPattern: Int32(truncatingIfNeeded: row[3] as! Int))
            let expected = row[4] as! String
            let cache = try SighashCache(transaction: tx, prevouts: nil)
            let h = cache.legacy(inputIndex: index, scriptCode: script, hashType: hashType)
            #expect(Hex.encode(h.reversed()) == expected, "row \(n)")
            n += 1
        }
        #expect(n == 500)
    }

    struct BIP143File: Decodable {
        struct Input: Decodable {
            let index: Int
            let amount_sat: Int64
        }
        struct Check: Decodable {
            let input_index: Int
            let hash_type: UInt32
            let scriptCode: String?
            let amount_le: String?
            let sighash: String
            let signature: String?
            let private_key: String?
            let public_key: String?
        }
        struct Example: Decodable {
            let name: String
            let unsigned_tx: String?
            let inputs: [Input]?
            let sighash_checks: [Check]
            let signed_tx: String
        }
        let examples: [Example]
    }

    /// BIP-0143's examples: every sighash, and the RFC 6979 signature over it reproduced exactly.
    @Test func bip143Examples() throws {
        let f = try Vectors.decode(BIP143File.self, "bip143/bip143_vectors.json")
        var checks = 0
        var signatures = 0
        for e in f.examples {
            let signed = try Transaction(bytes: hexBytes(e.signed_tx))
            // Sighashes do not commit to witnesses, so the signed transaction serves where no
            // unsigned one is given.
            let tx = try e.unsigned_tx.map { try Transaction(bytes: hexBytes($0)) } ?? signed
            let cache = try SighashCache(transaction: tx, prevouts: nil)
            for c in e.sighash_checks {
                let amount: Amount
                if let le = c.amount_le {
                    amount = try Amount(wire: hexBytes(le).reversed().reduce(0) { $0 << 8 | UInt64($1) })
                } else if let input = e.inputs?.first(where: { $0.index == c.input_index }) {
                    amount = try Amount(sats: input.amount_sat)
                } else {
                    // The last example spends 0.002 BTC; the BIP gives it only inside the preimage.
                    amount = try Amount(sats: 200_000)
                }
                let scriptCode: Script
                if let sc = c.scriptCode {
                    // The BIP prints scriptCode with its CompactSize length prefix.
                    var r = ByteReader(hexBytes(sc))
                    scriptCode = Script(try r.readVarBytes(limit: 10_000, what: "scriptCode"))
                    try r.expectEndOfInput()
                } else if let pub = c.public_key {
                    // P2WPKH: scriptCode is the P2PKH script of the key hash.
                    scriptCode = .p2pkh(hash: Hash.hash160(hexBytes(pub)))
                } else {
                    // P2WSH with no scriptCode printed: the witness script is the signed input's last witness item.
                    scriptCode = Script(try #require(signed.inputs[c.input_index].witness.last))
                }
                let h = try cache.segwitV0(
                    inputIndex: c.input_index, scriptCode: scriptCode, amount: amount,
                    hashType: SighashType(rawValue: c.hash_type))
                #expect(Hex.encode(h) == c.sighash, "\(e.name) input \(c.input_index) type \(c.hash_type)")
                checks += 1
                if let sig = c.signature, let sk = c.private_key {
                    let key = try PrivateKey(bytes: hexBytes(sk))
                    let ours = try key.signECDSA(digest: h, grindLowR: false)
                    #expect(Hex.encode(ours.der + [UInt8(c.hash_type)]) == sig, "\(e.name) signature")
                    signatures += 1
                }
            }
            #expect(signed.inputs.map(\.previousOutput) == tx.inputs.map(\.previousOutput))
            #expect(signed.outputs == tx.outputs)
        }
        #expect(checks == 14)
        #expect(signatures >= 10)
    }

    struct BIP341File: Decodable {
        struct UTXO: Decodable {
            let scriptPubKey: String
            let amountSats: Int64
        }
        struct Given: Decodable {
            let rawUnsignedTx: String
            let utxosSpent: [UTXO]
        }
        struct InputGiven: Decodable {
            let txinIndex: Int
            let internalPrivkey: String
            let merkleRoot: String?
            let hashType: UInt32
        }
        struct InputIntermediary: Decodable {
            let internalPubkey: String
            let tweak: String
            let tweakedPrivkey: String
            let sigHash: String
        }
        struct InputExpected: Decodable { let witness: [String] }
        struct InputSpending: Decodable {
            let given: InputGiven
            let intermediary: InputIntermediary
            let expected: InputExpected
        }
        struct Auxiliary: Decodable { let fullySignedTx: String }
        struct KeyPath: Decodable {
            let given: Given
            let inputSpending: [InputSpending]
            let auxiliary: Auxiliary
        }
        let keyPathSpending: [KeyPath]
    }

    /// BIP-0341 key-path spending: sighash, tweak, tweaked key and the signature for all 7 inputs,
    /// and the fully signed transaction rebuilt from our signatures.
    @Test func bip341KeyPathSpending() throws {
        let f = try Vectors.decode(BIP341File.self, "bip341/wallet-test-vectors.json")
        let kp = try #require(f.keyPathSpending.first)
        var tx = try Transaction(bytes: hexBytes(kp.given.rawUnsignedTx))
        let prevouts = try kp.given.utxosSpent.map {
            TxOut(value: try Amount(sats: $0.amountSats), scriptPubKey: Script(hexBytes($0.scriptPubKey)))
        }
        let cache = try SighashCache(transaction: tx, prevouts: prevouts)
        #expect(kp.inputSpending.count == 7)
        let signedTx = try Transaction(bytes: hexBytes(kp.auxiliary.fullySignedTx))
        for s in kp.inputSpending {
            let type = SighashType(rawValue: s.given.hashType)
            let h = try cache.taproot(inputIndex: s.given.txinIndex, hashType: type)
            #expect(Hex.encode(h) == s.intermediary.sigHash)
            let key = try PrivateKey(bytes: hexBytes(s.given.internalPrivkey))
            #expect(key.publicKey.xOnly.key.bytes == hexBytes(s.intermediary.internalPubkey))
            let internalKey = key.publicKey.xOnly.key
            let merkle = s.given.merkleRoot.map(hexBytes)
            #expect(
                XOnlyPublicKey.taprootTweak(internalKey: internalKey, merkleRoot: merkle)
                    == hexBytes(s.intermediary.tweak))
            let tweaked = try Keypair(key).taprootTweaked(merkleRoot: merkle)
            let sig = try tweaked.signSchnorr(message: h, auxRand: [UInt8](repeating: 0, count: 32))
            let witnessSig = sig.bytes + (type == .default ? [] : [UInt8(type.rawValue)])
            // The output key in the spent scriptPubKey verifies our signature.
            let outputKey = try XOnlyPublicKey(bytes: prevouts[s.given.txinIndex].scriptPubKey.bytes[2...])
            #expect(outputKey.isValidSignature(sig, message: h))
            #expect(Hex.encode(witnessSig) == s.expected.witness[0], "input \(s.given.txinIndex)")
            tx.inputs[s.given.txinIndex].witness = [witnessSig]
        }
        for i in tx.inputs.indices where tx.inputs[i].witness.isEmpty {
            tx.inputs[i].witness = signedTx.inputs[i].witness
            tx.inputs[i].scriptSig = signedTx.inputs[i].scriptSig
        }
        #expect(tx.serialized == signedTx.serialized)
    }

    @Test func taprootRefusesUndefinedSighashAndMissingPrevouts() throws {
        let tx = try Transaction(bytes: TransactionTests.segwitTx)
        let none = try SighashCache(transaction: tx, prevouts: nil)
        #expect(throws: BitcoinError.self) { try none.taproot(inputIndex: 0, hashType: .default) }
        let outs = [
            TxOut(value: try Amount(sats: 1), scriptPubKey: Script([0x51])),
            TxOut(value: try Amount(sats: 1), scriptPubKey: Script([0x51])),
        ]
        let cache = try SighashCache(transaction: tx, prevouts: outs)
        #expect(throws: Never.self) { try cache.taproot(inputIndex: 0, hashType: .default) }
        let e = #expect(throws: BitcoinError.self) {
            try cache.taproot(inputIndex: 0, hashType: SighashType(rawValue: 0x04))
        }
        #expect(e?.code == .invalidSighashType)
        #expect(throws: BitcoinError.self) { try SighashCache(transaction: tx, prevouts: [outs[0]]) }
    }
}
