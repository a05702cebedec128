import Bitcoin
import Foundation
import KuraTestSupport
import Signer
import Testing
import WalletCrypto

@Suite("Keystore format v1")
struct KeystoreTests {
    static let phrase = "legal winner thank year wave sausage worth useful legal winner thank yellow"
    static let pass = SecretBytes(Array("correct horse battery".utf8))

    static func sealed(network: Network = .testnet) throws -> Keystore {
        let m = try Mnemonic(phrase: SecretBytes(Array(phrase.utf8)))
        return try Keystore.seal(
            .init(mnemonic: m, bip39Passphrase: SecretBytes(Array("TREZOR".utf8))), network: network, passphrase: pass,
            kdf: .floor)
    }

    @Test func sealOpenRoundTrip() throws {
        let ks = try Self.sealed()
        let reparsed = try Keystore(bytes: ks.bytes)
        #expect(reparsed.network == .testnet)
        #expect(reparsed.kdf == .floor)
        let contents = try reparsed.open(passphrase: Self.pass)
        // BIP-0039 vector 2 with passphrase TREZOR: the published master xprv.
        #expect(
            try contents.masterKey().serialized()
                == "xprv9s21ZrQH143K2gA81bYFHqU68xz1cX2APaSq5tt6MFSLeXnCKV1RVUJt9FWNTbrrryem4ZckN8k4Ls1H6nwdvDTvnV7zEXs2HgPezuVccsq"
        )
        let e = #expect(throws: SignerError.self) {
            try reparsed.open(passphrase: SecretBytes(Array("wrong passphrase".utf8)))
        }
        #expect(e?.code == .wrongPassphrase)
    }

    @Test func sealingRefusesWeakCostAndShortPassphrase() throws {
        let m = try Mnemonic(phrase: SecretBytes(Array(Self.phrase.utf8)))
        let c = Keystore.Contents(mnemonic: m, bip39Passphrase: SecretBytes([]))
        let weak = #expect(throws: SignerError.self) {
            try Keystore.seal(c, network: .mainnet, passphrase: Self.pass, kdf: .init(log2N: 14, r: 8, p: 1))
        }
        #expect(weak?.code == .weakKDF)
        let huge = #expect(throws: SignerError.self) {
            try Keystore.seal(c, network: .mainnet, passphrase: Self.pass, kdf: .init(log2N: 24, r: 8, p: 1))
        }
        #expect(huge?.code == .weakKDF)
        let short = #expect(throws: SignerError.self) {
            try Keystore.seal(c, network: .mainnet, passphrase: SecretBytes(Array("short".utf8)), kdf: .floor)
        }
        #expect(short?.code == .badPassphrase)
    }

    @Test func truncationsAndFlipsAreRefusedBeforeAnyKDFWork() throws {
        let ks = try Self.sealed()
        for n in 0..<ks.bytes.count {
            #expect(throws: SignerError.self, "prefix \(n)") { try Keystore(bytes: Array(ks.bytes[0..<n])) }
        }
        for i in 0..<ks.bytes.count {
            var b = ks.bytes
            b[i] ^= 0x80
            let e = #expect(throws: SignerError.self, "flip at \(i)") { try Keystore(bytes: b) }
            #expect(e?.code == (i < 8 ? .notAKeystore : .keystoreCorrupted))
        }
        #expect(throws: SignerError.self) { try Keystore(bytes: ks.bytes + [0]) }
        #expect(throws: SignerError.self) { try Keystore(bytes: [UInt8](repeating: 0, count: 5000)) }
    }

    @Test func secretsAreNotInTheFileOrItsDescription() throws {
        let ks = try Self.sealed()
        let m = try Mnemonic(phrase: SecretBytes(Array(Self.phrase.utf8)))
        let entropy = m.entropy.unsafeCopy()
        let file = ks.bytes
        #expect(!(0...(file.count - entropy.count)).contains { Array(file[$0..<$0 + entropy.count]) == entropy })
        #expect(!String(decoding: file, as: UTF8.self).contains("TREZOR"))
        #expect(!"\(m)".contains("legal"))
    }
}
