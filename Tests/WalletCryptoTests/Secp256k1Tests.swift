import Foundation
import KuraTestSupport
import Testing
import WalletCrypto

@Suite("secp256k1: ECDSA, recovery, BIP-0340 Schnorr, taproot tweaks")
struct Secp256k1Tests {
    /// BIP-0340's test vectors, all 19 rows: sign where a secret key is given, verify every row.
    @Test func bip340Vectors() throws {
        let lines = try Vectors.text("bip340/test-vectors.csv").split(whereSeparator: \.isNewline).dropFirst()
        #expect(lines.count == 19)
        var signed = 0
        for line in lines {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let (sk, pk, aux, msg, sig, result) = (f[1], f[2], f[3], f[4], f[5], f[6] == "TRUE")
            if !sk.isEmpty {
                let key = try PrivateKey(bytes: hexBytes(sk))
                #expect(key.publicKey.xOnly.key.bytes == hexBytes(pk), "row \(f[0]) public key")
                let s = try key.signSchnorr(message: hexBytes(msg), auxRand: hexBytes(aux))
                #expect(s.bytes == hexBytes(sig), "row \(f[0]) signature")
                signed += 1
            }
            let verified: Bool
            if let x = try? XOnlyPublicKey(bytes: hexBytes(pk)), let s = try? SchnorrSignature(bytes: hexBytes(sig)) {
                verified = x.isValidSignature(s, message: hexBytes(msg))
            } else {
                verified = false
            }
            #expect(verified == result, "row \(f[0]) verification")
        }
        #expect(signed == 8)  // rows 0-3 and 15-18 carry a secret key
    }

    @Test func rfc6979KnownAnswer() throws {
        // Private key 1, message SHA-256("Satoshi Nakamoto"): the widely published RFC 6979 value
        // (e.g. python-ecdsa and Trezor test suites).
        let key = try PrivateKey(bytes: [UInt8](repeating: 0, count: 31) + [1])
        let digest = Hash.sha256(Array("Satoshi Nakamoto".utf8))
        let sig = try key.signECDSA(digest: digest, grindLowR: false)
        #expect(
            Hex.encode(sig.compact)
                == "934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d82442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5"
        )
        #expect(key.publicKey.isValidSignature(sig, digest: digest))
    }

    @Test func lowRGrindingAndLowS() throws {
        var sawGrind = false
        for i in 0..<64 {
            let key = PrivateKey.generate()
            let digest = Hash.sha256([UInt8(i)])
            let plain = try key.signECDSA(digest: digest, grindLowR: false)
            let ground = try key.signECDSA(digest: digest)
            #expect(ground.hasLowR)
            #expect(ground.isLowS && plain.isLowS)
            #expect(ground.der.count <= 71)
            #expect(key.publicKey.isValidSignature(ground, digest: digest))
            if !plain.hasLowR {
                sawGrind = true
                #expect(plain != ground)
            } else {
                #expect(plain == ground, "grinding starts with the plain RFC 6979 nonce")
            }
            // Deterministic: signing again gives the same signature.
            #expect(try key.signECDSA(digest: digest) == ground)
        }
        #expect(sawGrind, "64 random keys must include some with a high-R first nonce")
    }

    @Test func derAndCompactRoundTrip() throws {
        let key = PrivateKey.generate()
        let digest = Hash.sha256([9])
        let sig = try key.signECDSA(digest: digest)
        #expect(try ECDSASignature(der: sig.der) == sig)
        #expect(try ECDSASignature(compact: sig.compact) == sig)
        // Trailing bytes, a wrong outer length and non-minimal integers are refused.
        #expect(throws: WalletCryptoError.self) { try ECDSASignature(der: sig.der + [0]) }
        var bad = sig.der
        bad[1] &+= 1
        #expect(throws: WalletCryptoError.self) { try ECDSASignature(der: bad) }
        let nonMinimal: [UInt8] = [0x30, 0x08, 0x02, 0x02, 0x00, 0x01, 0x02, 0x02, 0x00, 0x01]
        #expect(!ECDSASignature.isStrictDER(nonMinimal))
        #expect(ECDSASignature.isStrictDER([0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]))
    }

    @Test func highSIsRejectedByVerify() throws {
        let key = PrivateKey.generate()
        let digest = Hash.sha256([1, 2])
        let sig = try key.signECDSA(digest: digest)
        // Negate s: n - s.
        let n = hexBytes("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
        let s = Array(sig.compact[32...])
        var neg = [UInt8](repeating: 0, count: 32)
        var borrow = 0
        for i in (0..<32).reversed() {
            var d = Int(n[i]) - Int(s[i]) - borrow
            borrow = d < 0 ? 1 : 0
            if d < 0 { d += 256 }
            neg[i] = UInt8(d)
        }
        let high = try ECDSASignature(compact: Array(sig.compact[0..<32]) + neg)
        #expect(!high.isLowS)
        #expect(!key.publicKey.isValidSignature(high, digest: digest))
        #expect(high.normalized == sig)
        #expect(key.publicKey.isValidSignature(high.normalized, digest: digest))
    }

    @Test func recoverableSignatureRecoversSigner() throws {
        for i in 0..<32 {
            let key = PrivateKey.generate()
            let digest = Hash.keccak256([UInt8(i)])
            let sig = try key.signRecoverable(digest: digest)
            #expect(sig.recoveryID <= 1)
            #expect(try sig.recover(digest: digest) == key.publicKey)
            #expect(sig.signature.isLowS)
            #expect(try ECDSASignature(compact: sig.compact) == (try key.signECDSA(digest: digest, grindLowR: false)))
            let other = Hash.keccak256([UInt8(i), 1])
            #expect((try? sig.recover(digest: other)) != key.publicKey)
        }
    }

    @Test func privateKeyRangeChecks() {
        let zero = [UInt8](repeating: 0, count: 32)
        let n = hexBytes("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
        for bad in [zero, n, [UInt8](repeating: 0xff, count: 32), [1]] {
            let e = #expect(throws: WalletCryptoError.self) { try PrivateKey(bytes: bad) }
            #expect(e?.code == .invalidPrivateKey)
        }
        var nMinus1 = n
        nMinus1[31] -= 1
        #expect(throws: Never.self) { try PrivateKey(bytes: nMinus1) }
    }

    @Test func publicKeyParsingIsStrict() throws {
        let g = hexBytes("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
        let key = try PublicKey(bytes: g)
        #expect(try PublicKey(bytes: key.uncompressed) == key)
        var hybrid = key.uncompressed
        hybrid[0] = 0x06
        #expect(throws: WalletCryptoError.self) { try PublicKey(bytes: hybrid) }
        #expect(throws: WalletCryptoError.self) {
            try PublicKey(bytes: [0x02] + [UInt8](repeating: 0, count: 31) + [7])
        }
        #expect(throws: WalletCryptoError.self) { try PublicKey(bytes: Array(g.dropLast())) }
    }

    @Test func tweakAddAgreesBetweenPrivateAndPublic() throws {
        for _ in 0..<16 {
            let key = PrivateKey.generate()
            let tweak = Hash.sha256(key.publicKey.compressed)
            #expect(try key.tweakAdd(tweak).publicKey == (try key.publicKey.tweakAdd(tweak)))
        }
        #expect(throws: WalletCryptoError.self) {
            try PrivateKey.generate().publicKey.tweakAdd(
                hexBytes("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"))
        }
    }

    /// BIP-0086: the taproot output key of each vector's internal key.
    @Test func taprootTweakBIP86() throws {
        struct F: Decodable {
            struct E: Decodable {
                let internal_key: String?
                let output_key: String?
            }
            let entries: [E]
        }
        let f = try Vectors.decode(F.self, "bip86/bip86_vectors.json")
        var checked = 0
        for e in f.entries {
            guard let ik = e.internal_key, let ok = e.output_key else { continue }
            let internalKey = try XOnlyPublicKey(bytes: hexBytes(ik))
            let out = try internalKey.taprootOutputKey()
            #expect(out.key.bytes == hexBytes(ok))
            #expect(
                internalKey.isTweak(
                    out.key, parityOdd: out.parityOdd,
                    tweak: XOnlyPublicKey.taprootTweak(internalKey: internalKey, merkleRoot: nil)))
            checked += 1
        }
        #expect(checked == 3)
    }

    @Test func taprootKeypairTweakSignsForOutputKey() throws {
        let key = PrivateKey.generate()
        let tweaked = try Keypair(key).taprootTweaked()
        let expected = try key.publicKey.xOnly.key.taprootOutputKey()
        #expect(tweaked.xOnlyPublicKey.key == expected.key)
        let msg = Hash.sha256([7])
        let sig = try tweaked.signSchnorr(message: msg)
        #expect(expected.key.isValidSignature(sig, message: msg))
        #expect(!key.publicKey.xOnly.key.isValidSignature(sig, message: msg))
    }

    @Test func concurrentUseOfTheSharedContext() async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<4 {
                group.addTask {
                    var ok = true
                    for j in 0..<50 {
                        let key = PrivateKey.generate()
                        let d = Hash.sha256([UInt8(i), UInt8(j)])
                        let sig = try key.signECDSA(digest: d)
                        ok = ok && key.publicKey.isValidSignature(sig, digest: d)
                    }
                    return ok
                }
            }
            for try await ok in group { #expect(ok) }
        }
    }

    @Test func secretsAreNotPrinted() throws {
        let key = try PrivateKey(bytes: [UInt8](repeating: 0, count: 31) + [0x2a])
        #expect(!"\(key)".contains("2a"))
        #expect("\(key.secretBytes)".contains("redacted"))
        var dumped = ""
        dump(key.secretBytes, to: &dumped)
        #expect(!dumped.contains("42"))
    }
}
