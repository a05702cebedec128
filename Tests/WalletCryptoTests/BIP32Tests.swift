import Foundation
import KuraTestSupport
import Testing
import WalletCrypto

@Suite("BIP-0032 hierarchical deterministic keys")
struct BIP32Tests {
    struct File: Decodable {
        struct Chain: Decodable {
            let path: String
            let ext_pub: String
            let ext_prv: String
        }
        struct Valid: Decodable {
            let name: String
            let seed_hex: String
            let chains: [Chain]
        }
        struct Invalid: Decodable {
            let key: String
            let reason: String
        }
        let valid: [Valid]
        let invalid_extended_keys: [Invalid]
    }

    @Test func vectors1To4() throws {
        let f = try Vectors.decode(File.self, "bip32/bip32_vectors.json")
        var chains = 0
        for v in f.valid {
            let master = try ExtendedPrivateKey(seed: SecretBytes(hexBytes(v.seed_hex)))
            for c in v.chains {
                let path = try DerivationPath(parsing: c.path)
                let key = try master.derive(path)
                #expect(key.serialized() == c.ext_prv, "\(v.name) \(c.path) xprv")
                #expect(key.extendedPublicKey.serialized() == c.ext_pub, "\(v.name) \(c.path) xpub")
                // Parsing round-trips, and public derivation of the non-hardened tail agrees.
                #expect(try ExtendedPublicKey(parsing: c.ext_pub).serialized() == c.ext_pub)
                #expect(try ExtendedPrivateKey(parsing: c.ext_prv).serialized() == c.ext_prv)
                if let lastHardened = path.components.lastIndex(where: \.isHardened) {
                    let base = try master.derive(DerivationPath(Array(path.components[...lastHardened])))
                        .extendedPublicKey
                    let tail = DerivationPath(Array(path.components[(lastHardened + 1)...]))
                    #expect(try base.derive(tail).serialized() == c.ext_pub)
                }
                chains += 1
            }
        }
        #expect(chains == 17)
    }

    /// Test vector 5: every invalid key is refused with the BIP's reason.
    @Test func vector5InvalidKeys() throws {
        let f = try Vectors.decode(File.self, "bip32/bip32_vectors.json")
        #expect(f.invalid_extended_keys.count == 16)
        let expectations: [(String, String)] = [
            ("pubkey version / prvkey mismatch", "not a compressed public key"),
            ("prvkey version / pubkey mismatch", "not 0x00"),
            ("invalid pubkey prefix 04", "not a compressed public key"),
            ("invalid prvkey prefix 04", "not 0x00"),
            ("invalid pubkey prefix 01", "not a compressed public key"),
            ("invalid prvkey prefix 01", "not 0x00"),
            ("zero depth with non-zero parent fingerprint", "zero depth with non-zero parent fingerprint"),
            ("zero depth with non-zero index", "zero depth with non-zero index"),
            ("unknown extended key version", "unknown extended key version"),
            ("private key 0 not in 1..n-1", "not in 1..n-1"),
            ("private key n not in 1..n-1", "not in 1..n-1"),
            ("invalid pubkey 02000000", "not on secp256k1"),
            ("invalid checksum", "checksum"),
        ]
        for v in f.invalid_extended_keys {
            let pub = #expect(throws: WalletCryptoError.self) { try ExtendedPublicKey(parsing: v.key) }
            let prv = #expect(throws: WalletCryptoError.self) { try ExtendedPrivateKey(parsing: v.key) }
            let expected = try #require(
                expectations.first { v.reason.hasPrefix($0.0) }?.1, "no expectation for \(v.reason)")
            let reasons = [pub?.reason ?? "", prv?.reason ?? ""]
            #expect(reasons.contains { $0.contains(expected) }, "\(v.reason): got \(reasons)")
        }
    }

    @Test func pathParsing() throws {
        #expect(try DerivationPath(parsing: "m/84'/0h/0H/0/5").description == "m/84h/0h/0h/0/5")
        #expect(try DerivationPath(parsing: "84h/0h").originForm == "84h/0h")
        #expect(try DerivationPath(parsing: "m").components.isEmpty)
        #expect(try DerivationPath(parsing: "m/2147483647h").components[0].rawValue == 0xffff_ffff)
        for bad in ["m/", "m//1", "m/2147483648", "m/01", "m/1x", "m/-1", "m/1'h", "x/1", "m/ 1"] {
            let e = #expect(throws: WalletCryptoError.self, "\(bad)") { try DerivationPath(parsing: bad) }
            #expect(e?.code == .invalidDerivationPath, "\(bad)")
        }
    }

    @Test func hardenedFromPublicIsRefused() throws {
        let master = try ExtendedPrivateKey(seed: SecretBytes([UInt8](repeating: 1, count: 32)))
        let e = #expect(throws: WalletCryptoError.self) { try master.extendedPublicKey.derive(.hardened(0)) }
        #expect(e?.code == .hardenedFromPublic)
        #expect(throws: Never.self) { try master.extendedPublicKey.derive(.normal(0)) }
    }

    @Test func seedLengthIsChecked() {
        #expect(throws: WalletCryptoError.self) {
            try ExtendedPrivateKey(seed: SecretBytes([UInt8](repeating: 1, count: 15)))
        }
        #expect(throws: WalletCryptoError.self) {
            try ExtendedPrivateKey(seed: SecretBytes([UInt8](repeating: 1, count: 65)))
        }
    }

    @Test func privateVersionIsNotParsedAsPublic() throws {
        let master = try ExtendedPrivateKey(seed: SecretBytes([UInt8](repeating: 1, count: 32)))
        let e = #expect(throws: WalletCryptoError.self) { try ExtendedPublicKey(parsing: master.serialized()) }
        #expect(e?.reason.contains("expected an extended public key") == true)
        #expect(!"\(master)".contains(master.serialized()))
    }
}
