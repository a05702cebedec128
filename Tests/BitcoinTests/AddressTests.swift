import Bitcoin
import Foundation
import KuraTestSupport
import Testing
import WalletCrypto

@Suite("Addresses, WIF and descriptor checksums against Bitcoin Core's and the BIPs' vectors")
struct AddressTests {
    static func network(_ chain: String) -> Network {
        switch chain {
        case "main": return .mainnet
        case "testnet4", "test": return .testnet
        case "signet": return .signet
        default: return .regtest
        }
    }

    @Test func keyIOValid() throws {
        let rows = try #require(try Vectors.json("base58/key_io_valid.json") as? [[Any]])
        #expect(rows.count == 70)
        var addresses = 0
        var keys = 0
        for row in rows {
            let text = try #require(row[0] as? String)
            let hex = try #require(row[1] as? String)
            let meta = try #require(row[2] as? [String: Any])
            let net = Self.network(meta["chain"] as! String)
            if meta["isPrivkey"] as? Bool == true {
                let wif = try WIF(text, network: net)
                #expect(Hex.encode(wif.privateKey.secretBytes.unsafeCopy()) == hex)
                #expect(wif.isCompressed == (meta["isCompressed"] as? Bool))
                keys += 1
            } else {
                let a = try Address(text, network: net)
                #expect(Hex.encode(a.scriptPubKey.bytes) == hex, "\(text)")
                if meta["tryCaseFlip"] as? Bool == true {
                    let flipped = String(
                        text.map { $0.isUppercase ? Character($0.lowercased()) : Character($0.uppercased()) })
                    #expect(try Address(flipped, network: net).scriptPubKey == a.scriptPubKey)
                }
                // Re-encoding the script gives the canonical (lowercase for bech32) text.
                #expect(try Address(scriptPubKey: a.scriptPubKey, network: net).text == a.text)
                addresses += 1
            }
        }
        #expect(addresses == 54 && keys == 16)
    }

    @Test func keyIOInvalid() throws {
        let rows = try #require(try Vectors.json("base58/key_io_invalid.json") as? [[String]])
        #expect(rows.count == 79)
        for row in rows {
            for net in Network.all {
                #expect((try? Address(row[0], network: net)) == nil, "\(row[0]) parsed as a \(net) address")
                #expect((try? WIF(row[0], network: net)) == nil, "\(row[0]) parsed as a \(net) WIF")
            }
        }
    }

    struct SegwitFile: Decodable {
        struct Valid: Decodable {
            let address: String
            let scriptPubKey: String
        }
        struct Invalid: Decodable {
            let address: String
            let reason: String
        }
        let valid_segwit_addresses: [Valid]
        let invalid_segwit_addresses: [Invalid]
    }

    static func networks(forHRP address: String) -> [Network] {
        let lower = address.lowercased()
        if lower.hasPrefix("bcrt1") { return [.regtest] }
        if lower.hasPrefix("bc1") { return [.mainnet] }
        if lower.hasPrefix("tb1") { return [.testnet, .signet] }
        return Network.all
    }

    @Test func bip350SegwitAddresses() throws {
        let f = try Vectors.decode(SegwitFile.self, "bech32/bip350_vectors.json")
        var accepted = 0
        for v in f.valid_segwit_addresses {
            // BIP-0350's list includes HRPs of other chains; Bitcoin's networks accept the bc/tb ones.
            for net in Self.networks(forHRP: v.address) where v.address.lowercased().hasPrefix(net.bech32HRP + "1") {
                let a = try Address(v.address, network: net)
                #expect(Hex.encode(a.scriptPubKey.bytes) == v.scriptPubKey)
                accepted += 1
            }
        }
        #expect(accepted >= 6)
        for v in f.invalid_segwit_addresses {
            for net in Network.all {
                #expect((try? Address(v.address, network: net)) == nil, "\(v.address) (\(v.reason))")
            }
        }
    }

    @Test func bip173V0AddressesAndSupersededV1() throws {
        let f = try Vectors.decode(SegwitFile.self, "bech32/bip173_vectors.json")
        for v in f.valid_segwit_addresses {
            let isV0 = v.scriptPubKey.hasPrefix("00")
            let parsed = Self.networks(forHRP: v.address).compactMap { try? Address(v.address, network: $0) }
            if isV0 {
                #expect(parsed.first.map { Hex.encode($0.scriptPubKey.bytes) } == v.scriptPubKey, "\(v.address)")
            } else {
                // Witness v1+ with a bech32 checksum: made invalid by BIP-0350.
                #expect(parsed.isEmpty, "\(v.address)")
            }
        }
        for v in f.invalid_segwit_addresses {
            for net in Network.all { #expect((try? Address(v.address, network: net)) == nil, "\(v.address)") }
        }
    }

    @Test func networkIsExplicit() throws {
        let main = "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"
        let e = #expect(throws: BitcoinError.self) { try Address(main, network: .testnet) }
        #expect(e?.code == .wrongNetwork)
        #expect(throws: Never.self) { try Address(main, network: .mainnet) }
        let e2 = #expect(throws: BitcoinError.self) { try Network(named: "litecoin") }
        #expect(e2?.code == .unknownNetwork)
    }

    @Test func descriptorChecksumBIP380() throws {
        struct F: Decodable {
            struct C: Decodable {
                let descriptor: String
                let expected: String
            }
            let checksum: [C]
        }
        let f = try Vectors.decode(F.self, "descriptors/bip380_vectors.json")
        #expect(f.checksum.count == 8)
        for c in f.checksum {
            switch c.expected {
            case "valid":
                #expect(throws: Never.self) { try DescriptorChecksum.verify(c.descriptor, required: true) }
            case "valid_if_checksum_optional":
                #expect(throws: Never.self) { try DescriptorChecksum.verify(c.descriptor, required: false) }
                #expect(throws: BitcoinError.self) { try DescriptorChecksum.verify(c.descriptor, required: true) }
            default:
                #expect(throws: BitcoinError.self, "\(c.descriptor)") { try DescriptorChecksum.verify(c.descriptor) }
            }
        }
    }
}
