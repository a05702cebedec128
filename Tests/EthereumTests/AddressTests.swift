import Ethereum
import KuraTestSupport
import Testing
import WalletCrypto

@Suite("EIP-55 addresses")
struct AddressTests {
    struct EIP55File: Decodable {
        struct Group: Decodable {
            let group: String
            let addresses: [String]
        }
        let test_cases: [Group]
    }
    struct AccountsFile: Decodable {
        struct V: Decodable {
            let name: String
            let privateKey: String
            let address: String
        }
        let vectors: [V]
    }

    @Test func eip55TestCasesParseAndPrintUnchanged() throws {
        let file = try Vectors.decode(EIP55File.self, "eip55/eip55_vectors.json")
        let all = file.test_cases.flatMap(\.addresses)
        #expect(all.count == 8)
        for group in file.test_cases {
            for text in group.addresses {
                let address = try EthereumAddress(parsing: text)
                #expect(address.checksummed == text, "\(group.group)")
                #expect(address.lowercased == text.lowercased())
            }
        }
    }

    @Test func ethersPrivateKeysGiveTheirAddresses() throws {
        let file = try Vectors.decode(AccountsFile.self, "eip55/ethers_accounts.json")
        #expect(file.vectors.count == 259)
        for v in file.vectors {
            let key = try PrivateKey(bytes: hexBytes(v.privateKey))
            #expect(EthereumAddress(publicKey: key.publicKey).checksummed == v.address, "\(v.name)")
            #expect(try EthereumAddress(parsing: v.address) == EthereumAddress(publicKey: key.publicKey))
        }
    }

    @Test func mixedCaseWithAWrongChecksumIsRefused() throws {
        let good = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
        #expect(try EthereumAddress(parsing: good).checksummed == good)  // positive control
        // Flip the case of each letter in turn: every single flip breaks the checksum.
        let chars = Array(good)
        var flips = 0
        for i in 2..<chars.count where chars[i].isLetter {
            var bad = chars
            bad[i] = chars[i].isUppercase ? Character(chars[i].lowercased()) : Character(chars[i].uppercased())
            let text = String(bad)
            // Flipping the only upper-case letter of an otherwise lower-case address would be
            // all-lowercase; this address has several of each, so every flip stays mixed.
            expectError(.badChecksum, "\(text)") { try EthereumAddress(parsing: text) }
            flips += 1
        }
        #expect(flips == 18)  // the letters a–f among its 40 digits
    }

    @Test func allLowerAndAllUpperAreAccepted() throws {
        let good = try EthereumAddress(parsing: "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359")
        #expect(try EthereumAddress(parsing: "0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359") == good)
        #expect(try EthereumAddress(parsing: "0xFB6916095CA1DF60BB79CE92CE3EA74C37C5D359") == good)
    }

    @Test func malformedTextIsRefused() throws {
        #expect(try EthereumAddress(parsing: "0x" + String(repeating: "1", count: 40)).bytes.count == 20)
        for bad in [
            "", "0x", "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "0X5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
            "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed00",
            "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg", " 0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
        ] {
            expectError(.invalidAddress, "\(bad)") { try EthereumAddress(parsing: bad) }
        }
        expectError(.invalidAddress) { try EthereumAddress(bytes: [UInt8](repeating: 1, count: 19)) }
        expectError(.invalidAddress) { try EthereumAddress(bytes: [UInt8](repeating: 1, count: 21)) }
    }
}
