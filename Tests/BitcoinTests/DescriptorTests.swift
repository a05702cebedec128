import Bitcoin
import Foundation
import KuraTestSupport
import Testing
import WalletCrypto

@Suite("Output descriptors: BIP-0380…0387 and 0389 vectors")
struct DescriptorTests {
    struct Valid: Decodable {
        let descriptor: String
        let scripts: [String]?
        let expands_to: [String]?
    }
    struct Invalid: Decodable {
        let descriptor: String
        let reason: String
    }
    struct File: Decodable {
        let valid: [Valid]
        let invalid: [Invalid]
    }

    /// Every valid descriptor of BIP-0381…0387 parses, re-prints as written, and produces the listed
    /// scripts (index 0, 1, 2 for ranged ones; every `combo()` script); every invalid one is refused.
    @Test(arguments: ["381", "382", "383", "384", "385", "386", "387"])
    func bipVectors(bip: String) throws {
        let f = try Vectors.decode(File.self, "descriptors/bip\(bip)_vectors.json")
        for v in f.valid {
            let d = try Descriptor(v.descriptor, network: .mainnet)
            #expect(d.body == v.descriptor.split(separator: "#")[0].description, "BIP-\(bip) reprint")
            guard let scripts = v.scripts, !scripts.isEmpty else { continue }
            if v.descriptor.hasPrefix("combo(") {
                #expect(try d.scriptPubKeys().map { Hex.encode($0.bytes) } == scripts, "\(v.descriptor)")
            } else {
                for (i, s) in scripts.enumerated() {
                    #expect(
                        Hex.encode(try d.scriptPubKey(index: UInt32(i)).bytes) == s,
                        "BIP-\(bip) \(v.descriptor.prefix(60)) index \(i)")
                }
            }
        }
        for v in f.invalid {
            #expect(throws: BitcoinError.self, "BIP-\(bip): \(v.reason)") {
                try Descriptor(v.descriptor, network: .mainnet)
            }
        }
    }

    @Test func bip389Multipath() throws {
        let f = try Vectors.decode(File.self, "descriptors/bip389_vectors.json")
        #expect(f.valid.count == 6 && f.invalid.count == 8)
        for v in f.valid {
            let d = try Descriptor(v.descriptor, network: .mainnet)
            #expect(d.singlePathDescriptors().map(\.body) == v.expands_to, "\(v.descriptor)")
            for (b, single) in d.singlePathDescriptors().enumerated() {
                #expect(try single.scriptPubKeys(index: 7) == (try d.scriptPubKeys(index: 7, branch: b)))
            }
        }
        for v in f.invalid {
            #expect(throws: BitcoinError.self, "\(v.reason)") { try Descriptor(v.descriptor, network: .mainnet) }
        }
    }

    /// BIP-0390 (MuSig2) is outside Kura's descriptor scope: every vector is refused by name.
    @Test func bip390MusigIsRefused() throws {
        let f = try Vectors.decode(File.self, "descriptors/bip390_vectors.json")
        for v in f.valid + f.invalid.map({ Valid(descriptor: $0.descriptor, scripts: nil, expands_to: nil) }) {
            let e = #expect(throws: BitcoinError.self) { try Descriptor(v.descriptor, network: .mainnet) }
            #expect(
                e?.reason.contains("musig") == true || e?.reason.contains("rawtr") == true
                    || e?.code == .invalidDescriptor)
        }
    }

    @Test func bip380KeyExpressions() throws {
        let root = try #require(try Vectors.json("descriptors/bip380_vectors.json") as? [String: Any])
        let valid = try #require(root["valid_key_expressions"] as? [[String: Any]])
        let invalid = try #require(root["invalid_key_expressions"] as? [[String: Any]])
        #expect(valid.count == 21 && invalid.count == 16)
        for v in valid {
            let k = v["key_expression"] as! String
            // A key expression is valid if pk(KEY) parses and prints back unchanged.
            let d = try Descriptor("pk(\(k))", network: .mainnet)
            #expect(d.body == "pk(\(k))")
            let steps = (k.split(separator: "]").last ?? "").split(separator: "/").dropFirst()
            let hardenedFromXpub = k.contains("xpub") && steps.contains { $0.hasSuffix("h") || $0.hasSuffix("'") }
            if hardenedFromXpub {
                let e = #expect(throws: BitcoinError.self) { try d.scriptPubKey(index: 5) }
                #expect(e?.reason.contains("hardened derivation from an extended public key") == true)
            } else {
                #expect(throws: Never.self) { try d.scriptPubKey(index: 5) }
            }
        }
        for v in invalid {
            let k = v["key_expression"] as! String
            #expect(throws: BitcoinError.self, "\((v["reason"] as? String) ?? "")") {
                try Descriptor("pk(\(k))", network: .mainnet)
            }
        }
    }

    @Test func checksumRequiredAndVerified() throws {
        let d = try Descriptor("raw(deadbeef)", network: .mainnet)
        #expect(d.description == "raw(deadbeef)#89f8spxm")
        #expect(throws: BitcoinError.self) { try Descriptor("raw(deadbeef)", network: .mainnet, requireChecksum: true) }
        #expect(throws: Never.self) {
            try Descriptor("raw(deadbeef)#89f8spxm", network: .mainnet, requireChecksum: true)
        }
        #expect(throws: BitcoinError.self) { try Descriptor("raw(deadbeef)#89f8spxn", network: .mainnet) }
    }

    @Test func networkIsEnforced() throws {
        let xpub =
            "xpub6ERApfZwUNrhLCkDtcHTcxd75RbzS1ed54G1LkBUHQVHQKqhMkhgbmJbZRkrgZw4koxb5JaHWkY4ALHY2grBGRjaDMzQLcgJvLJuZZvRcEL"
        #expect(throws: Never.self) { try Descriptor("wpkh(\(xpub)/0/*)", network: .mainnet) }
        let e = #expect(throws: BitcoinError.self) { try Descriptor("wpkh(\(xpub)/0/*)", network: .testnet) }
        #expect(e?.code == .wrongNetwork)
        #expect(throws: BitcoinError.self) {
            try Descriptor("addr(bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu)", network: .regtest)
        }
    }

    @Test func deriveAddressesLikeCore() throws {
        // BIP-0084 account of the test mnemonic: the BIP's first two receive addresses.
        let d = try Descriptor(
            "wpkh([73c5da0a/84h/0h/0h]xpub6CatWdiZiodmUeTDp8LT5or8nmbKNcuyvz7WyksVFkKB4RHwCD3XyuvPEbvqAQY3rAPshWcMLoP2fMFMKHPJ4ZeZXYVUhLv1VMrjPC7PW6V/<0;1>/*)",
            network: .mainnet)
        #expect(
            try d.deriveAddresses(0..<2).map(\.text) == [
                "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g",
            ])
        #expect(try d.address(index: 0, branch: 1).text == "bc1q8c6fshw2dlwun7ekn9qwf37cu2rn755upcp6el")
        let single = try Descriptor("raw(deadbeef)", network: .mainnet)
        #expect(throws: BitcoinError.self) { try single.deriveAddresses(0..<2) }
        #expect(throws: BitcoinError.self) { try d.scriptPubKey(index: 0, branch: 2) }
        let origin = try #require(d.keys[0].derivedOrigin(index: 5, branch: 1))
        #expect(origin.description == "73c5da0a/84h/0h/0h/1/5")
    }
}
