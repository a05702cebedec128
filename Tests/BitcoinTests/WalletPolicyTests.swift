import Bitcoin
import Foundation
import KuraTestSupport
import Testing

@Suite("BIP-0388 wallet policies")
struct WalletPolicyTests {
    struct Valid: Decodable {
        let name: String
        let descriptor_template: String
        let keys_info: [String]
        let descriptor: String
    }
    struct Invalid: Decodable {
        let descriptor_template: String
        let reason: String
    }
    struct File: Decodable {
        let valid: [Valid]
        let invalid: [Invalid]
    }

    /// Miniscript and MuSig2 templates are outside Kura's descriptor language; they are refused by
    /// name rather than mis-expanded.
    static func unsupported(_ t: String) -> Bool {
        ["thresh(", "or_d(", "or_b(", "and_v(", "musig("].contains { t.contains($0) }
    }

    @Test func vectors() throws {
        let f = try Vectors.decode(File.self, "bip388/bip388_vectors.json")
        #expect(f.valid.count == 9 && f.invalid.count == 9)
        var expanded = 0
        for v in f.valid {
            if Self.unsupported(v.descriptor_template) {
                let e = #expect(throws: BitcoinError.self) {
                    try WalletPolicy(template: v.descriptor_template, keys: v.keys_info, network: .mainnet)
                }
                #expect(e?.code == .invalidWalletPolicy)
                continue
            }
            let p = try WalletPolicy(template: v.descriptor_template, keys: v.keys_info, network: .mainnet)
            #expect(p.descriptorText == v.descriptor, "\(v.name)")
            expanded += 1
        }
        #expect(expanded == 5)
        let someKeys = f.valid[4].keys_info + f.valid[4].keys_info
        for v in f.invalid {
            for n in 1...3 {
                #expect(throws: BitcoinError.self, "\(v.reason)") {
                    try WalletPolicy(
                        template: v.descriptor_template, keys: Array(someKeys.prefix(n)), network: .mainnet)
                }
            }
        }
    }

    @Test func keyInformationIsStrict() throws {
        let f = try Vectors.decode(File.self, "bip388/bip388_vectors.json")
        let good = f.valid[4]
        #expect(throws: Never.self) {
            try WalletPolicy(template: good.descriptor_template, keys: good.keys_info, network: .mainnet)
        }
        // Derivation steps after the xpub, a missing key, an extra key.
        #expect(throws: BitcoinError.self) {
            try WalletPolicy(
                template: good.descriptor_template, keys: [good.keys_info[0] + "/0", good.keys_info[1]],
                network: .mainnet)
        }
        #expect(throws: BitcoinError.self) {
            try WalletPolicy(template: good.descriptor_template, keys: [good.keys_info[0]], network: .mainnet)
        }
        #expect(throws: BitcoinError.self) {
            try WalletPolicy(
                template: good.descriptor_template, keys: good.keys_info + [good.keys_info[0]], network: .mainnet)
        }
        // The wrong network.
        #expect(throws: BitcoinError.self) {
            try WalletPolicy(template: good.descriptor_template, keys: good.keys_info, network: .testnet)
        }
    }
}
