import Governance
import KuraTestSupport
import Testing
import WalletCrypto

// CredentialSigningKey: sign/verify round trips, the key file, and that the key stays secret.

private func randomDigest() -> [UInt8] { (0..<32).map { _ in UInt8.random(in: 0...255) } }

/// The order n of P-256 (FIPS 186-5 / SEC 2), big-endian.
private let p256Order = hexBytes("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")

/// `a - b` for 32-byte big-endian numbers with a >= b (test arithmetic, independent of the code under test).
private func subtract(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 32)
    var borrow = 0
    for i in (0..<32).reversed() {
        var v = Int(a[i]) - Int(b[i]) - borrow
        borrow = v < 0 ? 1 : 0
        if v < 0 { v += 256 }
        out[i] = UInt8(v)
    }
    return out
}

private func signature(_ evidence: SignatureEvidence) -> [UInt8] {
    switch evidence {
    case .ed25519(let s), .p256(let s): return s
    case .webauthn(_, _, let s): return s
    }
}

@Test(arguments: [Credential.Scheme.ed25519, .p256])
func signedDigestsVerifyAndNothingElseDoes(scheme: Credential.Scheme) throws {
    let key = try CredentialSigningKey.generate(scheme: scheme)
    let credential = try key.credential(id: "alice-cli")
    #expect(credential.scheme == scheme && credential.id == "alice-cli")
    let other = try CredentialSigningKey.generate(scheme: scheme).credential(id: "mallory")
    for _ in 0..<20 {
        let digest = randomDigest()
        let evidence = try key.sign(digest: digest)
        #expect(evidence.scheme == scheme)
        #expect(signature(evidence).count == 64)
        #expect(refusal { try SignatureVerification.verify(evidence, digest: digest, credential: credential) } == nil)
        var changed = digest
        changed[Int.random(in: 0..<32)] ^= 1 << UInt8.random(in: 0..<8)
        #expect(
            refusal { try SignatureVerification.verify(evidence, digest: changed, credential: credential) }?.code
                == .invalidSignature)
        #expect(
            refusal { try SignatureVerification.verify(evidence, digest: digest, credential: other) }?.code
                == .invalidSignature)
    }
}

@Test func evidenceOfAnotherSchemeIsRefusedByName() throws {
    let ed = try CredentialSigningKey.generate(scheme: .ed25519)
    let p = try CredentialSigningKey.generate(scheme: .p256)
    let digest = randomDigest()
    let edEvidence = try ed.sign(digest: digest)
    let pEvidence = try p.sign(digest: digest)
    let edCredential = try ed.credential(id: "e")
    let pCredential = try p.credential(id: "p")
    #expect(refusal { try SignatureVerification.verify(edEvidence, digest: digest, credential: edCredential) } == nil)
    #expect(
        refusal { try SignatureVerification.verify(pEvidence, digest: digest, credential: edCredential) }?.code
            == .schemeMismatch)
    #expect(
        refusal { try SignatureVerification.verify(edEvidence, digest: digest, credential: pCredential) }?.code
            == .schemeMismatch)
    // Both 64 bytes: the same bytes presented as the other scheme are still refused by scheme.
    let relabelled = SignatureEvidence.p256(signature: signature(edEvidence))
    #expect(
        refusal { try SignatureVerification.verify(relabelled, digest: digest, credential: edCredential) }?.code
            == .schemeMismatch)
}

@Test func digestsHaveExactly32Bytes() throws {
    let key = try CredentialSigningKey.generate(scheme: .ed25519)
    let credential = try key.credential(id: "k")
    let evidence = try key.sign(digest: randomDigest())
    for n in [0, 31, 33, 64] {
        let digest = [UInt8](repeating: 7, count: n)
        #expect(refusal { _ = try key.sign(digest: digest) }?.code == .invalidDigest)
        #expect(
            refusal { try SignatureVerification.verify(evidence, digest: digest, credential: credential) }?.code
                == .invalidDigest)
    }
}

@Test func signaturesOfTheWrongSizeAreMalformed() throws {
    for scheme in [Credential.Scheme.ed25519, .p256] {
        let key = try CredentialSigningKey.generate(scheme: scheme)
        let credential = try key.credential(id: "k")
        let digest = randomDigest()
        let good = signature(try key.sign(digest: digest))
        for bad in [[], Array(good.dropLast()), good + [0], good + good] {
            let evidence: SignatureEvidence = scheme == .ed25519 ? .ed25519(signature: bad) : .p256(signature: bad)
            #expect(
                refusal { try SignatureVerification.verify(evidence, digest: digest, credential: credential) }?.code
                    == .malformedSignature)
        }
    }
}

@Test func p256AcceptsHighSAndRefusesOutOfRangeScalars() throws {
    let key = try CredentialSigningKey.generate(scheme: .p256)
    let credential = try key.credential(id: "k")
    let digest = randomDigest()
    let rs = signature(try key.sign(digest: digest))
    let r = Array(rs[0..<32])
    let s = Array(rs[32..<64])
    // (r, n - s) is the other valid signature (FIPS 186-5 does not require low S; see CREDENTIALS.md).
    let flipped = SignatureEvidence.p256(signature: r + subtract(p256Order, s))
    #expect(refusal { try SignatureVerification.verify(flipped, digest: digest, credential: credential) } == nil)
    let zero = [UInt8](repeating: 0, count: 32)
    for (name, bad) in [("s = 0", r + zero), ("r = 0", zero + s), ("s = n", r + p256Order), ("r = n", p256Order + s)] {
        #expect(
            refusal { try SignatureVerification.verify(.p256(signature: bad), digest: digest, credential: credential) }?
                .code == .invalidSignature, "\(name)")
    }
}

@Test(arguments: [Credential.Scheme.ed25519, .p256])
func keyFilesRoundTrip(scheme: Credential.Scheme) throws {
    let key = try CredentialSigningKey.generate(scheme: scheme)
    let file = key.keyFile().unsafeCopy()
    #expect(file.count == 45)
    #expect(Array(file[0..<7]) == Array("kura-ck".utf8) && file[7] == 1 && file[8] == (scheme == .ed25519 ? 1 : 2))
    #expect(Array(file[41..<45]) == Array(Hash.sha256(Array(file[0..<41])).prefix(4)))
    let back = try CredentialSigningKey(keyFile: SecretBytes(file))
    #expect(back.scheme == scheme)
    #expect(try back.credential(id: "k") == key.credential(id: "k"))
    let digest = randomDigest()
    #expect(
        refusal {
            try SignatureVerification.verify(
                back.sign(digest: digest), digest: digest, credential: key.credential(id: "k"))
        } == nil)
}

@Test func keyFilesOfTheWrongKindOrLengthAreRefusedByName() throws {
    let file = try CredentialSigningKey.generate(scheme: .p256).keyFile().unsafeCopy()
    func code(_ bytes: [UInt8]) -> GovernanceError.Code? {
        let e = refusal { _ = try CredentialSigningKey(keyFile: SecretBytes(bytes)) }
        if let e {
            #expect(e.category == .keystoreInvalid)
            #expect(!e.reason.contains(Hex.encode(file[9..<41])) && !e.reason.contains(Hex.encode(file[9..<13])))
        }
        return e?.code
    }
    #expect(code(file) == nil)
    // Drip-fed: every proper prefix is refused (no magic yet, or too short).
    for n in 0..<file.count {
        #expect(code(Array(file[0..<n])) == (n < 7 ? .keyFileUnrecognised : .keyFileLength), "prefix \(n)")
    }
    #expect(code(file + [0]) == .keyFileLength)
    #expect(code(Array("-----BEGIN PRIVATE KEY-----\n".utf8)) == .keyFileUnrecognised)
    func edited(_ at: Int, _ value: UInt8, fixChecksum: Bool) -> [UInt8] {
        var b = file
        b[at] = value
        if fixChecksum { b.replaceSubrange(41..<45, with: Hash.sha256(Array(b[0..<41])).prefix(4)) }
        return b
    }
    #expect(code(edited(0, UInt8(ascii: "K"), fixChecksum: true)) == .keyFileUnrecognised)
    #expect(code(edited(7, 2, fixChecksum: true)) == .keyFileVersion)
    #expect(code(edited(7, 0, fixChecksum: true)) == .keyFileVersion)
    #expect(code(edited(8, 3, fixChecksum: true)) == .keyFileScheme)
    #expect(code(edited(8, 0, fixChecksum: true)) == .keyFileScheme)
    #expect(code(edited(20, file[20] ^ 1, fixChecksum: false)) == .keyFileChecksum)
    #expect(code(edited(44, file[44] ^ 1, fixChecksum: false)) == .keyFileChecksum)
    // P-256 scalars outside [1, n-1], with a correct checksum.
    #expect(code(keyFileBytes(scheme: 2, key: [UInt8](repeating: 0, count: 32))) == .invalidKey)
    #expect(code(keyFileBytes(scheme: 2, key: p256Order)) == .invalidKey)
    #expect(code(keyFileBytes(scheme: 2, key: [UInt8](repeating: 0xff, count: 32))) == .invalidKey)
    #expect(code(keyFileBytes(scheme: 2, key: subtract(p256Order, [UInt8](repeating: 0, count: 31) + [1]))) == nil)
    // An Ed25519 key is any 32 bytes.
    #expect(code(keyFileBytes(scheme: 1, key: [UInt8](repeating: 0, count: 32))) == nil)
}

@Test func signingKeysDoNotPrintTheirSecret() throws {
    for scheme in [Credential.Scheme.ed25519, .p256] {
        let key = try CredentialSigningKey.generate(scheme: scheme)
        let secret = Hex.encode(key.keyFile().unsafeCopy()[9..<41])
        for text in ["\(key)", String(reflecting: key), String(describing: key)] {
            #expect(!text.contains(secret) && !text.contains(String(secret.prefix(8))) && text.contains("redacted"))
        }
        #expect(Mirror(reflecting: key).children.isEmpty)
    }
}

@Test func passkeysCannotBeGeneratedAsFiles() {
    #expect(refusal { _ = try CredentialSigningKey.generate(scheme: .webauthnES256) }?.code == .invalidCredential)
}

@Test func ed25519SignaturesAreDeterministic() throws {
    // RFC 8032 §5.1.6: the nonce is derived from the key and the message.
    let key = try CredentialSigningKey.generate(scheme: .ed25519)
    let digest = randomDigest()
    #expect(try key.sign(digest: digest) == key.sign(digest: digest))
}
