import Foundation
import KuraTestSupport
import Testing
import WalletCrypto

@Suite("Hex, Base58 and bech32/bech32m")
struct EncodingTests {
    @Test func hexIsStrict() throws {
        #expect(try Hex.decode("00ffAB") == [0x00, 0xff, 0xab])
        #expect(Hex.encode([0x00, 0xff, 0xab]) == "00ffab")
        for bad in ["0", "0x00", "zz", " 00", "00 ", "g0"] {
            #expect(throws: WalletCryptoError.self, "\(bad)") { try Hex.decode(bad) }
        }
        let e = #expect(throws: WalletCryptoError.self) { try Hex.decode("0000", maxBytes: 1) }
        #expect(e?.code == .invalidLength)
    }

    @Test func base58EncodeDecodeVectors() throws {
        let pairs = try #require(try Vectors.json("base58/base58_encode_decode.json") as? [[String]])
        #expect(pairs.count == 21)
        for p in pairs {
            #expect(Base58.encode(hexBytes(p[0])) == p[1])
            #expect(try Base58.decode(p[1], maxLength: 1000) == hexBytes(p[0]))
        }
    }

    @Test func base58RejectsNonAlphabetAndWhitespace() {
        for bad in ["0", "O", "I", "l", " 1", "1 ", "3mJr7A\u{0}"] {
            let e = #expect(throws: WalletCryptoError.self, "\(bad)") { try Base58.decode(bad) }
            #expect(e?.code == .invalidBase58)
        }
        let e = #expect(throws: WalletCryptoError.self) { try Base58.decode(String(repeating: "2", count: 201)) }
        #expect(e?.code == .invalidLength)
    }

    @Test func base58CheckDetectsCorruption() throws {
        let payload: [UInt8] = [0x00] + [UInt8](repeating: 0x11, count: 20)
        let good = Base58.checkEncode(payload)
        #expect(try Base58.checkDecode(good) == payload)
        var chars = Array(good)
        chars[10] = chars[10] == "2" ? "3" : "2"
        let e = #expect(throws: WalletCryptoError.self) { try Base58.checkDecode(String(chars)) }
        #expect(e?.code == .badChecksum)
    }

    struct InvalidString: Decodable {
        let string: String
        let reason: String
    }

    struct Bech32File: Decodable {
        let valid_bech32: [String]?
        let invalid_bech32: [InvalidString]?
        let valid_bech32m: [String]?
        let invalid_bech32m: [InvalidString]?
    }

    @Test func bech32Vectors() throws {
        let f = try Vectors.decode(Bech32File.self, "bech32/bip173_vectors.json")
        #expect(f.valid_bech32?.count == 7)
        for s in f.valid_bech32 ?? [] {
            let d = try Bech32.decode(s)
            #expect(d.variant == .bech32, "\(s)")
            // Re-encoding gives the same string, lowercased.
            #expect(Bech32.encode(hrp: d.hrp, data: d.data, variant: .bech32) == s.lowercased())
        }
        #expect(f.invalid_bech32?.count == 12)
        for v in f.invalid_bech32 ?? [] {
            let decoded = try? Bech32.decode(v.string)
            #expect(decoded?.variant != .bech32, "\(v.reason)")
        }
    }

    @Test func bech32mVectors() throws {
        let f = try Vectors.decode(Bech32File.self, "bech32/bip350_vectors.json")
        #expect(f.valid_bech32m?.count == 7)
        for s in f.valid_bech32m ?? [] {
            let d = try Bech32.decode(s)
            #expect(d.variant == .bech32m, "\(s)")
            #expect(Bech32.encode(hrp: d.hrp, data: d.data, variant: .bech32m) == s.lowercased())
        }
        #expect(f.invalid_bech32m?.count == 14)
        for v in f.invalid_bech32m ?? [] {
            let decoded = try? Bech32.decode(v.string)
            #expect(decoded?.variant != .bech32m, "\(v.reason)")
        }
    }

    @Test func bech32ErrorsAreNamed() {
        let cases: [(String, WalletCryptoError.Code)] = [
            ("a1g7sgd8x", .badChecksum),
            ("aBcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw", .invalidBech32),
            ("qyrz8wqd2c9m", .invalidBech32),
        ]
        for (s, code) in cases {
            let e = #expect(throws: WalletCryptoError.self, "\(s)") { try Bech32.decode(s) }
            #expect(e?.code == code, "\(s)")
        }
        // Positive control for the mixed-case row: the all-lowercase string decodes.
        #expect(throws: Never.self) { try Bech32.decode("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw") }
    }

    @Test func convertBitsRejectsBadPadding() throws {
        #expect(try Bech32.convertBits([0xff], from: 8, to: 5, pad: true) == [31, 28])
        #expect(try Bech32.convertBits([31, 28], from: 5, to: 8, pad: false) == [0xff])
        #expect(throws: WalletCryptoError.self) { try Bech32.convertBits([31, 29], from: 5, to: 8, pad: false) }
        #expect(throws: WalletCryptoError.self) { try Bech32.convertBits([31], from: 5, to: 8, pad: false) }
        #expect(throws: WalletCryptoError.self) { try Bech32.convertBits([32], from: 5, to: 8, pad: false) }
    }

    @Test func byteReaderIsBounded() throws {
        var r = ByteReader([1, 2, 3])
        #expect(try r.readUInt16LE() == 0x0201)
        let e = #expect(throws: WalletCryptoError.self) { try r.read(2) }
        #expect(e?.code == .truncated)
        #expect(throws: WalletCryptoError.self) { try r.expectEnd() }
        _ = try r.readUInt8()
        #expect(throws: Never.self) { try r.expectEnd() }
    }
}
