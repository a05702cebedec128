import Governance
import KuraTestSupport
import Testing
import WalletCrypto

// What a Credential accepts at construction, each refusal beside a positive control.

/// The RFC 8032 §7.1 TEST 1 public key (a valid Ed25519 key).
private let ed25519Key = hexBytes("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")

/// A P-256 key from Wycheproof (ecdsa_secp256r1_sha256_p1363_test.json, first group), uncompressed.
private let p256Uncompressed = hexBytes(
    "042927b10512bae3eddcfe467828128bad2903269919f7086069c8c4df6c732838c7787964eaac00e5921fb1498a60f4606766b3d9685001558d1a974e7341513e"
)

private func passkey(
    key: [UInt8] = p256Uncompressed, rpID: String = "example.com", origins: [String] = ["https://example.com"]
) throws -> Credential {
    try .webauthnES256(id: "pk", publicKey: key, rpID: rpID, allowedOrigins: origins, requiresUserVerification: false)
}

@Test func rejectsEd25519KeysOfTheWrongLength() throws {
    _ = try Credential.ed25519(id: "a", publicKey: ed25519Key)
    for n in [0, 31, 33, 64] {
        let e = refusal { _ = try Credential.ed25519(id: "a", publicKey: [UInt8](repeating: 9, count: n)) }
        #expect(e?.code == .invalidKey && e?.category == .policyInvalid, "\(n) bytes")
    }
}

@Test func acceptsP256KeysUncompressedOrCompressedAndNormalisesThem() throws {
    let full = try Credential.p256(id: "a", publicKey: p256Uncompressed)
    // Compressed by the SEC1 rule: 02 when y is even, 03 when odd, then x.
    let compressedBytes = [p256Uncompressed[64] & 1 == 0 ? 0x02 : 0x03] + Array(p256Uncompressed[1..<33])
    let compressed = try Credential.p256(id: "a", publicKey: compressedBytes)
    #expect(full != compressed)  // as written in the policy
    #expect(full.normalizedPublicKey == compressed.normalizedPublicKey)
    #expect(full.normalizedPublicKey == compressedBytes)
}

@Test func rejectsP256KeysOffTheCurveOrInOtherForms() throws {
    var offCurve = p256Uncompressed
    offCurve[64] ^= 1
    var hybrid = p256Uncompressed
    hybrid[0] = 0x06
    let xTooLarge = [0x02] + [UInt8](repeating: 0xff, count: 32)
    let cases: [(String, [UInt8])] = [
        ("y changed", offCurve), ("hybrid 06 prefix", hybrid), ("x >= p", xTooLarge),
        ("raw x||y without prefix", Array(p256Uncompressed[1...])),
        ("one byte short", Array(p256Uncompressed.dropLast())),
        ("empty", []), ("identity encoding", [0x00]),
    ]
    for (name, key) in cases {
        #expect(refusal { _ = try Credential.p256(id: "a", publicKey: key) }?.code == .invalidKey, "\(name)")
        #expect(refusal { _ = try passkey(key: key) }?.code == .invalidKey, "passkey, \(name)")
    }
    _ = try passkey()
}

@Test func rejectsBadCredentialIds() throws {
    _ = try Credential.ed25519(id: "alice-laptop", publicKey: ed25519Key)
    _ = try Credential.ed25519(id: String(repeating: "x", count: 256), publicKey: ed25519Key)
    for id in ["", String(repeating: "x", count: 257), "tab\there", "nul\u{0}", "del\u{7f}"] {
        #expect(refusal { _ = try Credential.ed25519(id: id, publicKey: ed25519Key) }?.code == .invalidCredential)
    }
}

@Test func relyingPartyParametersBelongToPasskeysAlone() throws {
    let party = try Credential.WebAuthnRelyingParty(
        rpID: "example.com", allowedOrigins: ["https://example.com"], requiresUserVerification: true)
    let ok = try Credential(id: "a", scheme: .webauthnES256, publicKey: p256Uncompressed, relyingParty: party)
    #expect(ok.rpID == "example.com" && ok.requiresUserVerification && ok.allowedOrigins == ["https://example.com"])
    let cases: [(Credential.Scheme, [UInt8], Credential.WebAuthnRelyingParty?)] = [
        (.webauthnES256, p256Uncompressed, nil), (.p256, p256Uncompressed, party), (.ed25519, ed25519Key, party),
    ]
    for (scheme, key, relyingParty) in cases {
        let e = refusal { _ = try Credential(id: "a", scheme: scheme, publicKey: key, relyingParty: relyingParty) }
        #expect(e?.code == .invalidCredential, "\(scheme)")
    }
}

@Test func relyingPartyIdsAreLowercaseDomains() throws {
    for rpID in ["example.com", "localhost", "a-b.example.co.uk", "xn--bcher-kva.example"] {
        _ = try passkey(rpID: rpID, origins: [rpID == "localhost" ? "http://localhost:8080" : "https://" + rpID])
    }
    for rpID in [
        "", "Example.com", "example.com.", ".example.com", "-a.com", "a-.com", "exa mple.com", "127.0.0.1",
        "https://example.com", "a..com", String(repeating: "a", count: 64) + ".com",
    ] {
        let e = refusal { _ = try passkey(rpID: rpID, origins: ["https://example.com"]) }
        #expect(e?.code == .invalidCredential, "\(rpID)")
    }
}

@Test func originsAreSerialisedOriginsUnderTheRelyingPartyId() throws {
    let good = [
        "https://example.com", "https://login.example.com", "https://example.com:8443",
    ]
    _ = try passkey(origins: good)
    let bad = [
        "https://example.com/", "https://example.com/login", "https://evil.com", "https://notexample.com",
        "http://example.com", "https://example.com:443", "https://example.com:0", "https://example.com:65536",
        "https://example.com:08443", "https://EXAMPLE.com", "example.com", "android:apk-key-hash:abc",
        "https://example.com:", "https://user@example.com",
    ]
    for origin in bad {
        #expect(refusal { _ = try passkey(origins: [origin]) }?.code == .invalidCredential, "\(origin)")
    }
    #expect(refusal { _ = try passkey(origins: []) }?.code == .invalidCredential)
    #expect(
        refusal { _ = try passkey(origins: ["https://example.com", "https://example.com"]) }?.code == .invalidCredential
    )
    // Plain http only on localhost (development).
    _ = try passkey(
        rpID: "localhost", origins: ["http://localhost", "http://localhost:8080", "http://app.localhost:3000"])
    #expect(
        refusal { _ = try passkey(rpID: "localhost", origins: ["http://localhost:80"]) }?.code == .invalidCredential)
}
