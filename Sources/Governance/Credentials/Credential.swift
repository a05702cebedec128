import Crypto
import WalletCrypto

#if canImport(FoundationEssentials)
    import FoundationEssentials
#endif

/// How a policy names one member's signing key: an id, a signature scheme, the public key, and for
/// a passkey the relying party it was registered with (docs/CREDENTIALS.md).
///
/// A `Credential` is valid by construction: the public key is a point of its curve (Ed25519 keys are
/// decoded per RFC 8032 §5.1.3 and points of small order are refused; P-256 keys are SEC1 points on
/// the curve), and a passkey's relying-party id and origins are well formed and consistent. Invalid
/// input is refused with ``GovernanceError/Code/invalidKey`` or ``GovernanceError/Code/invalidCredential``
/// under the category ``RefusalCategory/policyInvalid`` (a policy that names it is invalid).
///
/// The key bytes are kept as given (a policy's digest covers the form its admins wrote); use
/// ``normalizedPublicKey`` to find one key named twice in different SEC1 forms.
public struct Credential: Sendable, Hashable {
    /// A signature scheme a credential uses.
    public enum Scheme: String, Sendable, Hashable, CaseIterable {
        /// Ed25519 (RFC 8032 §5.1), pure: the signer signs the 32-byte digest itself.
        case ed25519 = "ed25519"
        /// ECDSA over P-256 with SHA-256 (FIPS 186-5, "ES256"), signing the 32-byte digest as the message.
        case p256 = "p256"
        /// A WebAuthn passkey assertion (W3C WebAuthn Level 2 §7.2) whose challenge is the digest,
        /// signed with ES256 by the authenticator.
        case webauthnES256 = "webauthn-es256"
    }

    /// The relying party a passkey was registered with, and what an assertion from it must show.
    public struct WebAuthnRelyingParty: Sendable, Hashable {
        /// The relying-party id (a lowercase domain, e.g. `console.example.com`); the authenticator
        /// data's `rpIdHash` must be its SHA-256.
        public let rpID: String
        /// The serialised origins (`https://host[:port]`, or `http://localhost[:port]` for development)
        /// that an assertion's `clientDataJSON.origin` may equal, exactly. Each host is the
        /// relying-party id or a subdomain of it.
        public let allowedOrigins: [String]
        /// Whether an assertion must carry the user-verified (UV) flag, not only user presence (UP).
        public let requiresUserVerification: Bool

        /// Checks and creates the relying-party parameters.
        ///
        /// - Throws: ``GovernanceError/Code/invalidCredential`` for a malformed relying-party id, no
        ///   origins, a repeated origin, or an origin that is not a serialised https origin under the
        ///   relying-party id.
        public init(rpID: String, allowedOrigins: [String], requiresUserVerification: Bool) throws(GovernanceError) {
            guard Self.isDomain(rpID) else {
                throw Credential.refusal(.invalidCredential, "relying-party id \"\(rpID)\" is not a lowercase domain")
            }
            guard !allowedOrigins.isEmpty else {
                throw Credential.refusal(.invalidCredential, "a passkey credential needs at least one allowed origin")
            }
            guard Set(allowedOrigins).count == allowedOrigins.count else {
                throw Credential.refusal(.invalidCredential, "an allowed origin is listed twice")
            }
            for origin in allowedOrigins {
                try Self.checkOrigin(origin, rpID: rpID)
            }
            self.rpID = rpID
            self.allowedOrigins = allowedOrigins
            self.requiresUserVerification = requiresUserVerification
        }

        /// A lowercase DNS name: labels of `a-z`, `0-9` and inner `-`, at most 63 bytes each and 253
        /// in all, and a last label that is not all digits (no IP addresses).
        static func isDomain(_ text: String) -> Bool {
            let bytes = Array(text.utf8)
            guard (1...253).contains(bytes.count) else { return false }
            let labels = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
            for label in labels {
                guard (1...63).contains(label.count), label.first != UInt8(ascii: "-"),
                    label.last != UInt8(ascii: "-")
                else { return false }
                for b in label {
                    let ok =
                        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b)
                        || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) || b == UInt8(ascii: "-")
                    guard ok else { return false }
                }
            }
            return !labels.last!.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        }

        /// An origin as browsers serialise it (scheme, host, non-default port; no path, no trailing
        /// slash), whose host is `rpID` or a subdomain of it.
        private static func checkOrigin(_ origin: String, rpID: String) throws(GovernanceError) {
            let rest: Substring
            let secure: Bool
            if origin.hasPrefix("https://") {
                rest = origin.dropFirst(8)
                secure = true
            } else if origin.hasPrefix("http://") {
                rest = origin.dropFirst(7)
                secure = false
            } else {
                throw Credential.refusal(.invalidCredential, "origin \"\(origin)\" is not an https origin")
            }
            let parts = rest.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let host = String(parts[0])
            guard isDomain(host) else {
                throw Credential.refusal(.invalidCredential, "origin \"\(origin)\" does not have a lowercase host name")
            }
            if parts.count == 2 {
                let port = parts[1]
                guard let value = Int(port), (1...65535).contains(value), !port.hasPrefix("0"),
                    port.allSatisfy({ $0.isASCII && $0.isNumber })
                else {
                    throw Credential.refusal(.invalidCredential, "origin \"\(origin)\" has an invalid port")
                }
                guard value != (secure ? 443 : 80) else {
                    throw Credential.refusal(
                        .invalidCredential, "origin \"\(origin)\" names its default port, which browsers omit")
                }
            }
            guard secure || host == "localhost" || host.hasSuffix(".localhost") else {
                throw Credential.refusal(
                    .invalidCredential, "origin \"\(origin)\" is plain http on a host other than localhost")
            }
            guard host == rpID || host.hasSuffix("." + rpID) else {
                throw Credential.refusal(
                    .invalidCredential, "origin \"\(origin)\" is not under the relying-party id \"\(rpID)\"")
            }
        }
    }

    /// The credential's id, unique within a policy (1 to 256 bytes of UTF-8, no control characters).
    public let id: String
    /// The signature scheme.
    public let scheme: Scheme
    /// The public key: Ed25519, 32 raw bytes (RFC 8032 §5.1.2); P-256 and WebAuthn ES256, a SEC1
    /// point, uncompressed (65 bytes, `04‖x‖y`) or compressed (33 bytes, `02/03‖x`).
    public let publicKey: [UInt8]
    /// For ``Scheme/webauthnES256`` the relying party and its rules; `nil` for the other schemes.
    public let relyingParty: WebAuthnRelyingParty?

    /// The relying-party id of a passkey credential.
    public var rpID: String? { relyingParty?.rpID }
    /// The origins a passkey assertion may come from (empty for other schemes).
    public var allowedOrigins: [String] { relyingParty?.allowedOrigins ?? [] }
    /// Whether a passkey assertion must show user verification (false for other schemes).
    public var requiresUserVerification: Bool { relyingParty?.requiresUserVerification ?? false }

    /// Checks and creates a credential.
    ///
    /// - Parameters:
    ///   - relyingParty: required for ``Scheme/webauthnES256`` and refused for the other schemes.
    /// - Throws: ``GovernanceError/Code/invalidKey`` for a key of the wrong length or form, off the
    ///   curve, non-canonical or of small order; ``GovernanceError/Code/invalidCredential`` for a bad id
    ///   or relying-party parameters that do not fit the scheme.
    public init(id: String, scheme: Scheme, publicKey: [UInt8], relyingParty: WebAuthnRelyingParty? = nil)
        throws(GovernanceError)
    {
        let idBytes = Array(id.utf8)
        guard (1...256).contains(idBytes.count) else {
            throw Self.refusal(.invalidCredential, "a credential id has 1 to 256 bytes, not \(idBytes.count)")
        }
        guard !id.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw Self.refusal(.invalidCredential, "credential id contains a control character")
        }
        switch scheme {
        case .ed25519:
            guard relyingParty == nil else {
                throw Self.refusal(
                    .invalidCredential, "credential \(id): relying-party parameters are for passkeys only")
            }
            guard publicKey.count == 32 else {
                throw Self.refusal(
                    .invalidKey, "credential \(id): an Ed25519 public key has 32 bytes, not \(publicKey.count)")
            }
            if let refusal = Ed25519Point.refusal(publicKey) {
                let why: String
                switch refusal {
                case .nonCanonical: why = "is not canonical (y is not below 2^255 - 19)"
                case .notOnCurve: why = "is not a point of the curve"
                case .negativeZero: why = "sets the sign bit of x = 0"
                case .smallOrder: why = "is a point of small order"
                }
                throw Self.refusal(.invalidKey, "credential \(id): the Ed25519 public key \(why)")
            }
        case .p256, .webauthnES256:
            if scheme == .p256, relyingParty != nil {
                throw Self.refusal(
                    .invalidCredential, "credential \(id): relying-party parameters are for passkeys only")
            }
            if scheme == .webauthnES256, relyingParty == nil {
                throw Self.refusal(
                    .invalidCredential, "credential \(id): a passkey credential needs its relying-party id and origins")
            }
            _ = try Self.p256Key(publicKey, id: id)
        }
        self.id = id
        self.scheme = scheme
        self.publicKey = publicKey
        self.relyingParty = relyingParty
    }

    /// An Ed25519 credential (32-byte public key).
    public static func ed25519(id: String, publicKey: [UInt8]) throws(GovernanceError) -> Credential {
        try Credential(id: id, scheme: .ed25519, publicKey: publicKey)
    }

    /// A P-256 ECDSA credential (SEC1 public key, 65 or 33 bytes).
    public static func p256(id: String, publicKey: [UInt8]) throws(GovernanceError) -> Credential {
        try Credential(id: id, scheme: .p256, publicKey: publicKey)
    }

    /// A WebAuthn passkey credential: the passkey's P-256 public key (SEC1, 65 or 33 bytes) and its
    /// relying party.
    public static func webauthnES256(
        id: String, publicKey: [UInt8], rpID: String, allowedOrigins: [String], requiresUserVerification: Bool
    ) throws(GovernanceError) -> Credential {
        let party = try WebAuthnRelyingParty(
            rpID: rpID, allowedOrigins: allowedOrigins, requiresUserVerification: requiresUserVerification)
        return try Credential(id: id, scheme: .webauthnES256, publicKey: publicKey, relyingParty: party)
    }

    /// The public key in one form per key: Ed25519 as is, P-256 as compressed SEC1 (33 bytes). Two
    /// credentials with equal normalised keys name the same key.
    public var normalizedPublicKey: [UInt8] {
        switch scheme {
        case .ed25519: return publicKey
        case .p256, .webauthnES256:
            // Checked at construction, so parsing cannot fail here.
            return Array(try! Self.p256Key(publicKey, id: id).compressedRepresentation)
        }
    }

    /// Parses a SEC1 P-256 point (uncompressed or compressed; the hybrid forms 06/07 are refused).
    static func p256Key(_ bytes: [UInt8], id: String) throws(GovernanceError) -> P256.Signing.PublicKey {
        do {
            switch (bytes.count, bytes.first) {
            case (65, 0x04): return try P256.Signing.PublicKey(x963Representation: bytes)
            case (33, 0x02), (33, 0x03): return try P256.Signing.PublicKey(compressedRepresentation: bytes)
            default: break
            }
        } catch {
            throw refusal(.invalidKey, "credential \(id): the P-256 public key is not a point of the curve")
        }
        throw refusal(
            .invalidKey,
            "credential \(id): a P-256 public key is SEC1 uncompressed (65 bytes, 04...) or compressed"
                + " (33 bytes, 02/03...), not \(bytes.count) bytes starting \(bytes.first.map { "0x" + Hex.encode([$0]) } ?? "nothing")"
        )
    }

    static func refusal(_ code: GovernanceError.Code, _ reason: String) -> GovernanceError {
        GovernanceError(code, .policyInvalid, reason)
    }
}
