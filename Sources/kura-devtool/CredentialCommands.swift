// `kura-devtool credential …`: drives the governance signature verifier from tests. The credential
// and the evidence are JSON files (hex byte strings); the result is `ok` on stdout (exit 0) or
// `kura-devtool: error: CODE: REASON` on stderr (exit 65). See docs/CREDENTIALS.md.
import ArgumentParser
import Foundation
import Governance
import WalletCrypto

struct CredentialCommands: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credential",
        abstract: "Governance credentials: verify signature evidence over a digest.",
        subcommands: [CredentialVerify.self]
    )
}

/// A credential file: `{"id", "scheme": "ed25519"|"p256"|"webauthn-es256", "publicKey": hex, and for
/// passkeys "rpID", "origins": [...], "requireUserVerification": bool}`.
private struct CredentialFile: Decodable {
    let id: String
    let scheme: String
    let publicKey: String
    let rpID: String?
    let origins: [String]?
    let requireUserVerification: Bool?

    func credential() throws -> Credential {
        guard let scheme = Credential.Scheme(rawValue: scheme) else {
            throw DevtoolError("invalid_json", "scheme \"\(self.scheme)\" is not ed25519, p256 or webauthn-es256")
        }
        let key = try Hex.decode(publicKey, maxBytes: 65)
        var party: Credential.WebAuthnRelyingParty?
        if scheme == .webauthnES256 {
            guard let rpID, let origins else {
                throw DevtoolError("invalid_json", "a webauthn-es256 credential needs rpID and origins")
            }
            party = try Credential.WebAuthnRelyingParty(
                rpID: rpID, allowedOrigins: origins, requiresUserVerification: requireUserVerification ?? false)
        }
        return try Credential(id: id, scheme: scheme, publicKey: key, relyingParty: party)
    }
}

/// An evidence file: `{"scheme", "signature": hex}` plus, for passkeys, `"authenticatorData"` and
/// `"clientDataJSON"` (hex).
private struct EvidenceFile: Decodable {
    let scheme: String
    let signature: String
    let authenticatorData: String?
    let clientDataJSON: String?

    func evidence() throws -> SignatureEvidence {
        let signature = try Hex.decode(self.signature, maxBytes: 4096)
        switch Credential.Scheme(rawValue: scheme) {
        case .ed25519: return .ed25519(signature: signature)
        case .p256: return .p256(signature: signature)
        case .webauthnES256:
            guard let authenticatorData, let clientDataJSON else {
                throw DevtoolError("invalid_json", "webauthn evidence needs authenticatorData and clientDataJSON")
            }
            return .webauthn(
                authenticatorData: try Hex.decode(authenticatorData, maxBytes: 64 << 10),
                clientDataJSON: try Hex.decode(clientDataJSON, maxBytes: 64 << 10), signature: signature)
        case nil:
            throw DevtoolError("invalid_json", "scheme \"\(scheme)\" is not ed25519, p256 or webauthn-es256")
        }
    }
}

struct CredentialVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Verify signature evidence over a 32-byte digest; print ok or the refusal.")

    @Option(help: "The credential as a JSON file.")
    var credential: String

    @Option(help: "The signature evidence as a JSON file.")
    var evidence: String

    @Option(help: "The 32-byte digest as hex.")
    var digest: String

    func run() throws {
        try devtoolGuarded {
            let decoder = JSONDecoder()
            let credentialText = try DevtoolFiles.readText(credential, limit: 64 << 10)
            let evidenceText = try DevtoolFiles.readText(evidence, limit: 256 << 10)
            do {
                let key = try decoder.decode(CredentialFile.self, from: Data(credentialText.utf8)).credential()
                let proof = try decoder.decode(EvidenceFile.self, from: Data(evidenceText.utf8)).evidence()
                try SignatureVerification.verify(proof, digest: try Hex.decode(digest, maxBytes: 64), credential: key)
            } catch let error as GovernanceError {
                throw DevtoolError(error.code.name, error.reason)
            }
            print("ok")
        }
    }
}
