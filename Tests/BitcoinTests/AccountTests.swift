import Bitcoin
import Foundation
import KuraTestSupport
import Testing
import WalletCrypto

@Suite("BIP-0084 and BIP-0086 accounts from the BIPs' test vectors")
struct AccountTests {
    struct Entry: Decodable {
        let path: String
        let xpub: String?
        let xprv: String?
        let xpriv: String?
        let pubkey: String?
        let address: String?
        let internal_key: String?
        let scriptPubKey: String?
    }
    struct File: Decodable {
        let entries: [Entry]
        let mnemonic: String
        let rootpub: String?
    }

    static func master(_ mnemonic: String) throws -> ExtendedPrivateKey {
        try ExtendedPrivateKey(seed: Mnemonic(phrase: SecretBytes(Array(mnemonic.utf8))).seed())
    }

    @Test(arguments: [
        ("bip84/bip84_vectors.json", SingleSigAccount.Purpose.bip84), ("bip86/bip86_vectors.json", .bip86),
    ])
    func vectors(file: String, purpose: SingleSigAccount.Purpose) throws {
        let f = try Vectors.decode(File.self, file)
        let master = try Self.master(f.mnemonic)
        let account = try SingleSigAccount(master: master, purpose: purpose, network: .mainnet)
        var addresses = 0
        for e in f.entries {
            let path = try DerivationPath(parsing: e.path)
            if path.components.count == 3, let xpub = e.xpub {
                // BIP-0084 prints SLIP-0132 zpub; compare the key material, not the version bytes.
                let expected = try ExtendedPublicKey(parsing: xpub)
                #expect(account.accountKey == expected)
                if let prv = e.xprv ?? e.xpriv {
                    #expect(try ExtendedPrivateKey(parsing: prv).extendedPublicKey == expected)
                }
            }
            if let address = e.address, path.components.count == 5 {
                let change = path.components[3].index == 1
                let a = try account.address(change: change, index: path.components[4].index)
                #expect(a.text == address, "\(e.path)")
                if let pub = e.pubkey {
                    #expect(try master.derive(path).privateKey.publicKey == (try PublicKey(bytes: hexBytes(pub))))
                }
                if let spk = e.scriptPubKey { #expect(Hex.encode(a.scriptPubKey.bytes) == spk) }
                addresses += 1
            }
        }
        #expect(addresses == 3)
        #expect(
            account.descriptor.hasPrefix(
                purpose == .bip84 ? "wpkh([73c5da0a/84h/0h/0h]xpub" : "tr([73c5da0a/86h/0h/0h]xpub"))
        #expect(try DescriptorChecksum.verify(account.descriptor, required: true).hasSuffix("/<0;1>/*)"))
    }
}
