import Foundation
import KuraTestSupport
import Testing
import WalletCrypto

@Suite("BIP-0039 mnemonics (English)")
struct BIP39Tests {
    @Test func wordlistEqualsPublishedList() throws {
        let published = try Vectors.text("bip39/english.txt").split(whereSeparator: \.isNewline).map(String.init)
        #expect(published.count == 2048)
        #expect(Mnemonic.englishWordlist == published)
    }

    /// All 24 English vectors: entropy → words, words → entropy, seed with passphrase "TREZOR",
    /// and the BIP-0032 master key of that seed.
    @Test func officialVectors() throws {
        let all = try #require(try Vectors.json("bip39/vectors.json") as? [String: Any])
        let english = try #require(all["english"] as? [[String]])
        #expect(english.count == 24)
        for v in english {
            let (entropy, words, seed, xprv) = (v[0], v[1], v[2], v[3])
            let fromEntropy = try Mnemonic(entropy: SecretBytes(hexBytes(entropy)))
            #expect(String(decoding: fromEntropy.phrase.unsafeCopy(), as: UTF8.self) == words)
            let parsed = try Mnemonic(phrase: SecretBytes(Array(words.utf8)))
            #expect(Hex.encode(parsed.entropy.unsafeCopy()) == entropy)
            let s = try parsed.seed(passphrase: SecretBytes(Array("TREZOR".utf8)))
            #expect(Hex.encode(s.unsafeCopy()) == seed)
            #expect(try ExtendedPrivateKey(seed: s).serialized() == xprv)
        }
    }

    @Test func wrongChecksumIsNamed() {
        let phrase = Array(repeating: "abandon", count: 12).joined(separator: " ")
        let e = #expect(throws: WalletCryptoError.self) { try Mnemonic(phrase: SecretBytes(Array(phrase.utf8))) }
        #expect(e?.code == .invalidMnemonic)
        #expect(e?.reason.contains("checksum") == true)
        // Positive control: the valid phrase differs only in the last word.
        let good = Array(repeating: "abandon", count: 11).joined(separator: " ") + " about"
        #expect(throws: Never.self) { try Mnemonic(phrase: SecretBytes(Array(good.utf8))) }
    }

    @Test func unknownWordNamesPositionNotWord() {
        let phrase =
            (Array(repeating: "abandon", count: 6) + ["zzzsecret"] + Array(repeating: "abandon", count: 4) + ["about"])
            .joined(separator: " ")
        let e = #expect(throws: WalletCryptoError.self) { try Mnemonic(phrase: SecretBytes(Array(phrase.utf8))) }
        #expect(e?.code == .unknownWord)
        #expect(e?.reason.contains("word 7") == true)
        #expect(e?.reason.contains("zzzsecret") == false)
        #expect(e?.description.contains("abandon") == false)
    }

    @Test func wordCountAndAbbreviations() {
        for phrase in [
            "abandon about", String(repeating: "abandon ", count: 13) + "about",
            "aban aban aban aban aban aban aban aban aban aban aban abou",
        ] {
            #expect(throws: WalletCryptoError.self) { try Mnemonic(phrase: SecretBytes(Array(phrase.utf8))) }
        }
    }

    @Test func whitespaceAndCaseAreTolerated() throws {
        let phrase =
            "  ABANDON abandon\tabandon abandon abandon abandon abandon abandon abandon abandon abandon about\n"
        let m = try Mnemonic(phrase: SecretBytes(Array(phrase.utf8)))
        #expect(m.wordCount == 12)
    }

    @Test func nonASCIIPassphraseIsRefused() throws {
        let m = try Mnemonic(entropy: SecretBytes([UInt8](repeating: 0, count: 16)))
        let e = #expect(throws: WalletCryptoError.self) { try m.seed(passphrase: SecretBytes(Array("パスワード".utf8))) }
        #expect(e?.code == .invalidPassphrase)
    }

    @Test func generationRoundTrips() throws {
        for count in Mnemonic.allowedWordCounts {
            let m = try Mnemonic.generate(wordCount: count)
            #expect(m.wordCount == count)
            let back = try Mnemonic(phrase: m.phrase)
            #expect(back.entropy.constantTimeEquals(m.entropy))
        }
        #expect(throws: WalletCryptoError.self) { try Mnemonic.generate(wordCount: 13) }
        #expect(!"\(try Mnemonic.generate())".contains("abandon"))
    }
}
