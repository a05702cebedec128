import Foundation
import Governance
import KuraTestSupport
import Testing
import WalletCrypto

// Published and generated vectors, decoded by one harness each (see the SOURCE.md files).

private struct RFC8032File: Decodable {
    struct Vector: Decodable {
        let name: String
        let secretKey: String
        let publicKey: String
        let message: String
        let signature: String
    }
    let vectors: [Vector]
}

private struct WycheproofFile: Decodable {
    struct Group: Decodable {
        struct Key: Decodable {
            let uncompressed: String?
            let pk: String?
        }
        struct Case: Decodable {
            let tcId: Int
            let comment: String
            let msg: String
            let sig: String
            let result: String
        }
        let publicKey: Key
        let tests: [Case]
    }
    let numberOfTests: Int
    let testGroups: [Group]
}

/// A version-1 key file built by the test itself (format in docs/CREDENTIALS.md), from a secret key.
func keyFileBytes(scheme: UInt8, key: [UInt8]) -> [UInt8] {
    let body = Array("kura-ck".utf8) + [1, scheme] + key
    return body + Array(Hash.sha256(body).prefix(4))
}

@Test func rfc8032Ed25519VectorsVerifyAndTheirSecretKeysGiveTheirPublicKeys() throws {
    let file = try Vectors.decode(RFC8032File.self, "rfc8032/rfc8032_ed25519.json")
    #expect(file.vectors.count == 5)
    for v in file.vectors {
        let credential = try Credential.ed25519(id: v.name, publicKey: hexBytes(v.publicKey))
        let signature = hexBytes(v.signature)
        #expect(
            refusal {
                try SignatureVerification.verify(
                    .ed25519(signature: signature), message: hexBytes(v.message), credential: credential)
            } == nil, "\(v.name)")
        // Negative control: the same signature over the message with one more byte.
        let longer = hexBytes(v.message) + [0]
        #expect(
            refusal {
                try SignatureVerification.verify(
                    .ed25519(signature: signature), message: longer, credential: credential)
            }?.code == .invalidSignature, "\(v.name)")
        // The key file path: the RFC's secret key loads and gives the RFC's public key.
        let key = try CredentialSigningKey(keyFile: SecretBytes(keyFileBytes(scheme: 1, key: hexBytes(v.secretKey))))
        #expect(try key.credential(id: "k").publicKey == hexBytes(v.publicKey), "\(v.name)")
    }
}

/// Runs one Wycheproof signature file through `SignatureVerification.verify(_:message:credential:)`:
/// valid cases must verify, invalid ones must be refused as invalid or malformed signatures. Returns
/// the counts of valid and invalid cases, and the file's own total.
private func runWycheproof(
    _ path: String, credential: (WycheproofFile.Group.Key) throws -> Credential,
    evidence: ([UInt8]) -> SignatureEvidence
) throws -> (valid: Int, invalid: Int, total: Int) {
    let file = try Vectors.decode(WycheproofFile.self, path)
    var valid = 0
    var invalid = 0
    for group in file.testGroups {
        let key = try credential(group.publicKey)
        for t in group.tests {
            let error = refusal {
                try SignatureVerification.verify(evidence(hexBytes(t.sig)), message: hexBytes(t.msg), credential: key)
            }
            if t.result == "valid" {
                #expect(error == nil, "tcId \(t.tcId) \(t.comment): \(String(describing: error))")
                valid += 1
            } else {
                #expect(
                    [GovernanceError.Code.invalidSignature, .malformedSignature].contains(error?.code),
                    "tcId \(t.tcId) \(t.comment)")
                invalid += 1
            }
        }
    }
    return (valid, invalid, file.numberOfTests)
}

@Test func wycheproofP256P1363CasesVerifyExactlyWhenValid() throws {
    let counts = try runWycheproof(
        "wycheproof/ecdsa_secp256r1_sha256_p1363_test.json",
        credential: { try Credential.p256(id: "w", publicKey: hexBytes($0.uncompressed!)) },
        evidence: { .p256(signature: $0) })
    #expect(counts.valid + counts.invalid == counts.total)
    #expect(counts.valid == 173 && counts.invalid == 89)
}

@Test func wycheproofEd25519CasesVerifyExactlyWhenValid() throws {
    let counts = try runWycheproof(
        "wycheproof/ed25519_test.json",
        credential: { try Credential.ed25519(id: "w", publicKey: hexBytes($0.pk!)) },
        evidence: { .ed25519(signature: $0) })
    #expect(counts.valid + counts.invalid == counts.total)
    #expect(counts.valid == 88 && counts.invalid == 63)
}

private struct PointFile: Decodable {
    struct Case: Decodable {
        let publicKey: String
        let expected: String
        let comment: String
    }
    let cases: [Case]
}

@Test func ed25519PublicKeysAreDecodedAsRFC8032Section513Says() throws {
    let file = try Vectors.decode(PointFile.self, "ed25519_points/ed25519_public_keys.json")
    #expect(file.cases.count == 70)
    let phrase = [
        "nonCanonical": "not canonical", "notOnCurve": "not a point of the curve", "negativeZero": "sign bit",
        "smallOrder": "small order",
    ]
    for c in file.cases {
        let error = refusal { _ = try Credential.ed25519(id: "k", publicKey: hexBytes(c.publicKey)) }
        if c.expected == "valid" {
            #expect(error == nil, "\(c.publicKey) \(c.comment)")
        } else {
            #expect(error?.code == .invalidKey, "\(c.publicKey) \(c.comment)")
            #expect(error?.category == .policyInvalid)
            #expect(error?.reason.contains(phrase[c.expected]!) == true, "\(c.publicKey): \(String(describing: error))")
        }
    }
}

@Test func webauthnAssertionCasesReachTheirVerdicts() throws {
    let cases = try WebAuthnCases.load()
    #expect(cases.count == 53)
    #expect(cases.filter { $0.expected == "ok" }.count == 14)
    for c in cases {
        let credential = try c.credential.credential()
        let error = refusal {
            try SignatureVerification.verify(c.evidence.evidence, digest: hexBytes(c.digest), credential: credential)
        }
        if c.expected == "ok" {
            #expect(error == nil, "\(c.name): \(String(describing: error))")
        } else {
            #expect(error?.code.name == c.expected, "\(c.name): \(String(describing: error))")
            #expect(error?.category == .approvalInvalid, "\(c.name)")
        }
    }
}
