import Bitcoin
import Crypto
import WalletCrypto

#if canImport(FoundationEssentials)
    import FoundationEssentials
#endif

/// Verification of a WebAuthn authentication assertion, following W3C WebAuthn Level 2 §7.2
/// ("Verifying an Authentication Assertion") in its order: client data, then authenticator data,
/// then the signature. Steps that need state the signer does not have are left to callers (see
/// docs/CREDENTIALS.md: credential selection by id and user handle, the signature counter).
enum WebAuthnAssertion {
    /// The largest client data JSON accepted (browsers produce about 150 to 300 bytes).
    static let maximumClientDataByteCount = 4096
    /// The largest authenticator data accepted (37 bytes plus any extension outputs).
    static let maximumAuthenticatorDataByteCount = 1024
    /// The largest DER ECDSA P-256 signature: SEQUENCE of two INTEGERs of at most 33 bytes.
    static let maximumSignatureByteCount = 72

    static func verify(
        authenticatorData: [UInt8], clientDataJSON: [UInt8], signature: [UInt8], challenge: [UInt8],
        credential: Credential
    ) throws(GovernanceError) {
        guard let party = credential.relyingParty else {
            throw refusal(.invalidCredential, "credential \(credential.id) has no relying party")
        }
        // Sizes first, before anything is parsed.
        guard clientDataJSON.count <= maximumClientDataByteCount else {
            throw refusal(.tooLarge, "clientDataJSON has more than \(maximumClientDataByteCount) bytes")
        }
        guard authenticatorData.count <= maximumAuthenticatorDataByteCount else {
            throw refusal(.tooLarge, "authenticatorData has more than \(maximumAuthenticatorDataByteCount) bytes")
        }
        guard signature.count <= maximumSignatureByteCount else {
            throw refusal(.malformedSignature, "a DER P-256 signature has at most \(maximumSignatureByteCount) bytes")
        }

        // Steps 8-14: the client data.
        let client = try WebAuthnClientData(json: clientDataJSON)
        guard client.type == "webauthn.get" else {
            throw refusal(.webauthnType, "clientDataJSON.type is \"\(client.type)\", not \"webauthn.get\"")
        }
        let expected = base64URL(challenge)
        guard client.challenge == expected else {
            throw refusal(.webauthnChallengeMismatch, "clientDataJSON.challenge is not the base64url of the digest")
        }
        guard party.allowedOrigins.contains(client.origin) else {
            throw refusal(
                .webauthnOriginMismatch,
                "origin \"\(client.origin)\" is not allowed for credential \(credential.id)")
        }
        guard client.crossOrigin != true else {
            throw refusal(.webauthnCrossOrigin, "the assertion was made in a cross-origin frame (crossOrigin: true)")
        }

        // Steps 15-18: the authenticator data.
        let data = try WebAuthnAuthenticatorData(bytes: authenticatorData)
        guard constantTimeEquals(data.rpIDHash, Hash.sha256(Array(party.rpID.utf8))) else {
            throw refusal(
                .webauthnRPIDMismatch, "rpIdHash is not SHA-256 of the relying-party id \"\(party.rpID)\"")
        }
        guard data.userPresent else {
            throw refusal(.webauthnUserPresence, "the user-present (UP) flag is not set")
        }
        guard data.userVerified || !party.requiresUserVerification else {
            throw refusal(
                .webauthnUserVerification,
                "credential \(credential.id) requires user verification and the UV flag is not set")
        }

        // Steps 19-20: ES256 over authenticatorData ‖ SHA-256(clientDataJSON).
        let raw: [UInt8]
        do {
            raw = Array(try P256.Signing.ECDSASignature(derRepresentation: signature).rawRepresentation)
        } catch {
            throw refusal(.malformedSignature, "the assertion signature is not a strict DER ECDSA P-256 signature")
        }
        try SignatureVerification.verifyES256(
            rawSignature: raw, signedBytes: authenticatorData + Hash.sha256(clientDataJSON), credential: credential,
            what: "the assertion signature")
    }

    /// Base64url without padding (RFC 4648 §5), as WebAuthn encodes the challenge in client data.
    static func base64URL(_ bytes: [UInt8]) -> String {
        String(
            Base64.encode(bytes).unicodeScalars.compactMap { c -> Character? in
                switch c {
                case "+": return "-"
                case "/": return "_"
                case "=": return nil
                default: return Character(c)
                }
            })
    }

    static func refusal(_ code: GovernanceError.Code, _ reason: String) -> GovernanceError {
        GovernanceError(code, .approvalInvalid, reason)
    }
}
