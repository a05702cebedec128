import Crypto

#if canImport(FoundationEssentials)
    import FoundationEssentials
#endif

/// The one verification entry point for every credential scheme: does this evidence show that this
/// credential signed this digest?
///
/// Every refusal is a ``GovernanceError`` with its own code under the category
/// ``RefusalCategory/approvalInvalid``; a caller verifying a policy update re-categorises it with
/// ``GovernanceError/recategorized(_:)``. What each scheme checks is listed in docs/CREDENTIALS.md.
public enum SignatureVerification {
    /// The size of a governance digest (a domain-tagged SHA-256).
    public static let digestByteCount = 32
    /// The largest message ``verify(_:message:credential:)`` accepts.
    public static let maximumMessageByteCount = 16 * 1024

    /// Verifies `evidence` over a 32-byte governance digest.
    ///
    /// - Ed25519: the signature is over the 32 digest bytes (RFC 8032 §5.1.7).
    /// - P-256: ECDSA with SHA-256 over the 32 digest bytes as the message.
    /// - WebAuthn: an assertion whose challenge is the digest (base64url, no padding), checked per
    ///   W3C WebAuthn Level 2 §7.2 against the credential's relying party.
    ///
    /// - Throws: ``GovernanceError/Code/invalidDigest`` unless `digest` has 32 bytes,
    ///   ``GovernanceError/Code/schemeMismatch`` when the evidence is of another scheme than the
    ///   credential, ``GovernanceError/Code/malformedSignature`` for a signature of the wrong size or
    ///   encoding, ``GovernanceError/Code/invalidSignature`` when it does not verify, and the
    ///   `webauthn_…` codes for assertions.
    public static func verify(_ evidence: SignatureEvidence, digest: [UInt8], credential: Credential)
        throws(GovernanceError)
    {
        guard digest.count == digestByteCount else {
            throw refusal(.invalidDigest, "a digest has \(digestByteCount) bytes, not \(digest.count)")
        }
        try verify(evidence, message: digest, credential: credential)
    }

    /// Verifies `evidence` over an arbitrary message of at most ``maximumMessageByteCount`` bytes, with
    /// the same checks as ``verify(_:digest:credential:)`` (for WebAuthn the challenge is the message).
    ///
    /// Governance documents use the digest form; this one exists for published test vectors, whose
    /// messages are not 32 bytes long.
    public static func verify(_ evidence: SignatureEvidence, message: [UInt8], credential: Credential)
        throws(GovernanceError)
    {
        guard message.count <= maximumMessageByteCount else {
            throw refusal(.tooLarge, "a signed message has at most \(maximumMessageByteCount) bytes")
        }
        guard evidence.scheme == credential.scheme else {
            throw refusal(
                .schemeMismatch,
                "credential \(credential.id) uses \(credential.scheme.rawValue), the evidence is \(evidence.scheme.rawValue)"
            )
        }
        switch evidence {
        case .ed25519(let signature):
            guard signature.count == 64 else {
                throw refusal(.malformedSignature, "an Ed25519 signature has 64 bytes, not \(signature.count)")
            }
            let key: Curve25519.Signing.PublicKey
            do {
                key = try Curve25519.Signing.PublicKey(rawRepresentation: credential.publicKey)
            } catch {
                throw refusal(.invalidKey, "credential \(credential.id): the Ed25519 key cannot be loaded")
            }
            // BoringSSL's ED25519_verify: S must be below the group order, R is compared as encoded.
            guard key.isValidSignature(signature, for: message) else {
                throw refusal(
                    .invalidSignature, "the Ed25519 signature does not verify for credential \(credential.id)")
            }
        case .p256(let signature):
            guard signature.count == 64 else {
                throw refusal(.malformedSignature, "a P-256 signature is 64 bytes r||s, not \(signature.count) bytes")
            }
            try verifyES256(
                rawSignature: signature, signedBytes: message, credential: credential, what: "the P-256 signature")
        case .webauthn(let authenticatorData, let clientDataJSON, let signature):
            try WebAuthnAssertion.verify(
                authenticatorData: authenticatorData, clientDataJSON: clientDataJSON, signature: signature,
                challenge: message, credential: credential)
        }
    }

    /// ECDSA P-256 / SHA-256 over `signedBytes` with a 64-byte `r‖s` signature. swift-crypto (BoringSSL
    /// `ECDSA_do_verify`) refuses r or s outside [1, n−1] and accepts high S.
    static func verifyES256(rawSignature: [UInt8], signedBytes: [UInt8], credential: Credential, what: String)
        throws(GovernanceError)
    {
        let key: P256.Signing.PublicKey
        do {
            key = try Credential.p256Key(credential.publicKey, id: credential.id)
        } catch {
            throw error.recategorized(.approvalInvalid)
        }
        let signature: P256.Signing.ECDSASignature
        do {
            signature = try P256.Signing.ECDSASignature(rawRepresentation: rawSignature)
        } catch {
            throw refusal(.malformedSignature, "\(what) is not 64 bytes r||s")
        }
        guard key.isValidSignature(signature, for: signedBytes) else {
            throw refusal(.invalidSignature, "\(what) does not verify for credential \(credential.id)")
        }
    }

    static func refusal(_ code: GovernanceError.Code, _ reason: String) -> GovernanceError {
        GovernanceError(code, .approvalInvalid, reason)
    }
}
