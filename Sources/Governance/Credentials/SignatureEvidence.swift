/// What a signer attaches to a governance document to show that a credential signed its digest.
///
/// Each case belongs to one ``Credential/Scheme``; ``SignatureVerification`` refuses evidence whose
/// scheme is not the credential's. The sizes are checked when the evidence is verified, before any
/// parsing (docs/CREDENTIALS.md).
public enum SignatureEvidence: Sendable, Hashable {
    /// An Ed25519 signature (RFC 8032 §5.1.6): 64 bytes, `R‖S`, over the digest.
    case ed25519(signature: [UInt8])
    /// An ECDSA P-256 / SHA-256 signature over the digest: 64 bytes, `r‖s`, each big-endian and
    /// zero-padded to 32 bytes (IEEE P1363). DER is not accepted for this scheme: one signature has
    /// one encoding here. High-S values are valid (FIPS 186-5 does not require low S).
    case p256(signature: [UInt8])
    /// A WebAuthn assertion as the browser returns it from `navigator.credentials.get()`
    /// (W3C WebAuthn Level 2 §5.2.2): the authenticator data (37 bytes to 1 KiB), the client data
    /// JSON (at most 4 KiB) whose challenge is the digest in base64url, and the authenticator's
    /// ES256 signature in ASN.1 DER (at most 72 bytes).
    case webauthn(authenticatorData: [UInt8], clientDataJSON: [UInt8], signature: [UInt8])

    /// The scheme this evidence belongs to.
    public var scheme: Credential.Scheme {
        switch self {
        case .ed25519: return .ed25519
        case .p256: return .p256
        case .webauthn: return .webauthnES256
        }
    }
}
