import Foundation
import Governance
import KuraTestSupport

/// Runs `body` and returns the error it threw, or `nil` when it returned. An error of another type
/// than ``GovernanceError`` comes back under the code `unexpected_error_type`, so that no test passes
/// on it.
func refusal(_ body: () throws -> Void) -> GovernanceError? {
    do {
        try body()
        return nil
    } catch let error as GovernanceError {
        return error
    } catch {
        return GovernanceError(.init("unexpected_error_type"), .malformed, "\(error)")
    }
}

/// A credential as the vector files and `kura-devtool credential verify` write it.
struct CredentialJSON: Decodable {
    let id: String
    let scheme: String
    let publicKey: String
    let rpID: String?
    let origins: [String]?
    let requireUserVerification: Bool?

    func credential() throws(GovernanceError) -> Credential {
        let key = hexBytes(publicKey)
        switch scheme {
        case "webauthn-es256":
            return try .webauthnES256(
                id: id, publicKey: key, rpID: rpID ?? "", allowedOrigins: origins ?? [],
                requiresUserVerification: requireUserVerification ?? false)
        case "p256": return try .p256(id: id, publicKey: key)
        default: return try .ed25519(id: id, publicKey: key)
        }
    }
}

/// Signature evidence as the vector files write it (hex fields).
struct EvidenceJSON: Decodable {
    let scheme: String
    let signature: String
    let authenticatorData: String?
    let clientDataJSON: String?

    var evidence: SignatureEvidence {
        switch scheme {
        case "webauthn-es256":
            return .webauthn(
                authenticatorData: hexBytes(authenticatorData ?? ""), clientDataJSON: hexBytes(clientDataJSON ?? ""),
                signature: hexBytes(signature))
        case "p256": return .p256(signature: hexBytes(signature))
        default: return .ed25519(signature: hexBytes(signature))
        }
    }
}

/// One case of Tests/Vectors/webauthn/webauthn_assertions.json.
struct WebAuthnCase: Decodable {
    let name: String
    let expected: String
    let digest: String
    let credential: CredentialJSON
    let evidence: EvidenceJSON
}

struct WebAuthnCases: Decodable {
    let cases: [WebAuthnCase]

    static func load() throws -> [WebAuthnCase] {
        try Vectors.decode(WebAuthnCases.self, "webauthn/webauthn_assertions.json").cases
    }
}
