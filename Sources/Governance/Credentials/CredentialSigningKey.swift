import Crypto
public import WalletCrypto

#if canImport(FoundationEssentials)
    import FoundationEssentials
#endif

/// A member's personal signing key for the `kura` CLI: Ed25519 or P-256, used to sign the digests of
/// intents and approvals on the member's own machine.
///
/// This is a secret type: it is not `Equatable`, `Hashable` or `Codable`, its `description` is a fixed
/// placeholder and its mirror is empty. The raw key lives in ``SecretBytes`` (wiped on release);
/// swift-crypto key objects are made only for the length of one operation.
///
/// ## Key file (version 1)
/// ``keyFile()`` and ``init(keyFile:)`` convert to and from exactly 45 bytes:
///
/// | offset | size | content |
/// |---|---|---|
/// | 0 | 7 | magic, ASCII `kura-ck` |
/// | 7 | 1 | version, `0x01` |
/// | 8 | 1 | scheme: `0x01` Ed25519 (the RFC 8032 32-byte private key), `0x02` P-256 (the big-endian scalar in [1, n−1]) |
/// | 9 | 32 | the private key |
/// | 41 | 4 | the first 4 bytes of SHA-256 of bytes 0 to 40 |
///
/// Any other magic, version, scheme, length or checksum is refused by name (`key_file_…` codes,
/// category ``RefusalCategory/keystoreInvalid``), so a file of the wrong kind, a truncated copy or a
/// damaged one never becomes a different key. The caller writes the file with mode 0600.
public struct CredentialSigningKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The scheme: ``Credential/Scheme/ed25519`` or ``Credential/Scheme/p256``.
    public let scheme: Credential.Scheme
    private let secret: SecretBytes

    /// The key file's magic bytes, ASCII `kura-ck`.
    public static let keyFileMagic: [UInt8] = Array("kura-ck".utf8)
    /// The key file version this code writes and reads.
    public static let keyFileVersion: UInt8 = 1
    /// The size of a version-1 key file.
    public static let keyFileByteCount = 45

    private init(scheme: Credential.Scheme, secret: SecretBytes) {
        self.scheme = scheme
        self.secret = secret
    }

    /// Generates a fresh key from the system's secure random generator.
    ///
    /// - Throws: ``GovernanceError/Code/invalidCredential`` for ``Credential/Scheme/webauthnES256``
    ///   (passkeys live in authenticators, not in files).
    public static func generate(scheme: Credential.Scheme) throws(GovernanceError) -> CredentialSigningKey {
        switch scheme {
        case .ed25519:
            return CredentialSigningKey(scheme: .ed25519, secret: .random(count: 32))
        case .p256:
            // A uniformly random 32-byte string is a valid scalar except with probability about 2^-32.
            while true {
                let candidate = SecretBytes.random(count: 32)
                if (try? p256PrivateKey(candidate)) != nil {
                    return CredentialSigningKey(scheme: .p256, secret: candidate)
                }
            }
        case .webauthnES256:
            throw GovernanceError(
                .invalidCredential, .keystoreInvalid, "passkey keys live in authenticators; generate ed25519 or p256")
        }
    }

    /// Reads a key file (see the type's documentation).
    ///
    /// - Throws: `key_file_length`, `key_file_unrecognised`, `key_file_version`, `key_file_scheme`,
    ///   `key_file_checksum`, or ``GovernanceError/Code/invalidKey`` for a P-256 scalar outside
    ///   [1, n−1]; all under ``RefusalCategory/keystoreInvalid``. Reasons never contain key bytes.
    public init(keyFile: SecretBytes) throws(GovernanceError) {
        let parsed = try keyFile.withUnsafeBytes { (file) throws(GovernanceError) -> (Credential.Scheme, SecretBytes) in
            guard file.count >= Self.keyFileMagic.count, Array(file[0..<Self.keyFileMagic.count]) == Self.keyFileMagic
            else {
                throw Self.refusal(.keyFileUnrecognised, "not a Kura credential key file (no kura-ck magic)")
            }
            guard file.count >= 9 else {
                throw Self.refusal(.keyFileLength, "the key file has \(file.count) bytes, not \(Self.keyFileByteCount)")
            }
            guard file[7] == Self.keyFileVersion else {
                throw Self.refusal(.keyFileVersion, "key file version \(file[7]) is not supported (this is version 1)")
            }
            let scheme: Credential.Scheme
            switch file[8] {
            case 0x01: scheme = .ed25519
            case 0x02: scheme = .p256
            default:
                throw Self.refusal(.keyFileScheme, "key file scheme byte \(file[8]) is not 1 (ed25519) or 2 (p256)")
            }
            guard file.count == Self.keyFileByteCount else {
                throw Self.refusal(
                    .keyFileLength,
                    "the key file has \(file.count) bytes, a version-1 \(scheme.rawValue) key file has 45")
            }
            let checksum = Hash.sha256(Array(file[0..<41]))
            guard constantTimeEquals(Array(checksum[0..<4]), Array(file[41..<45])) else {
                throw Self.refusal(.keyFileChecksum, "the key file's checksum does not match: it is damaged")
            }
            return (scheme, SecretBytes(file[9..<41]))
        }
        if parsed.0 == .p256 {
            do {
                _ = try Self.p256PrivateKey(parsed.1)
            } catch {
                throw Self.refusal(.invalidKey, "the key file's P-256 scalar is not in [1, n-1]")
            }
        }
        self.init(scheme: parsed.0, secret: parsed.1)
    }

    /// The key file bytes (see the type's documentation), in secret storage.
    public func keyFile() -> SecretBytes {
        let schemeByte: UInt8 = scheme == .ed25519 ? 0x01 : 0x02
        return SecretBytes(count: Self.keyFileByteCount) { out in
            var body = Self.keyFileMagic + [Self.keyFileVersion, schemeByte]
            secret.withUnsafeBytes { body += $0 }
            let checksum = Hash.sha256(body)
            for i in 0..<41 { out[i] = body[i] }
            for i in 0..<4 { out[41 + i] = checksum[i] }
            for i in body.indices { body[i] = 0 }
        }
    }

    /// The public credential for this key, to be named in a policy.
    public func credential(id: String) throws(GovernanceError) -> Credential {
        switch scheme {
        case .ed25519:
            let key = try Self.ed25519PrivateKey(secret)
            return try Credential.ed25519(id: id, publicKey: Array(key.publicKey.rawRepresentation))
        default:
            let key = try Self.p256PrivateKey(secret)
            return try Credential.p256(id: id, publicKey: Array(key.publicKey.x963Representation))
        }
    }

    /// Signs a 32-byte governance digest: Ed25519 over the digest bytes, or ECDSA P-256 / SHA-256 over
    /// them (64-byte `r‖s`). The result verifies with ``SignatureVerification/verify(_:digest:credential:)``.
    ///
    /// - Throws: ``GovernanceError/Code/invalidDigest`` unless `digest` has 32 bytes.
    public func sign(digest: [UInt8]) throws(GovernanceError) -> SignatureEvidence {
        guard digest.count == SignatureVerification.digestByteCount else {
            throw GovernanceError(
                .invalidDigest, .approvalInvalid,
                "a digest has \(SignatureVerification.digestByteCount) bytes, not \(digest.count)")
        }
        do {
            switch scheme {
            case .ed25519:
                return .ed25519(signature: Array(try Self.ed25519PrivateKey(secret).signature(for: digest)))
            default:
                let signature = try Self.p256PrivateKey(secret).signature(for: digest)
                return .p256(signature: Array(signature.rawRepresentation))
            }
        } catch let error as GovernanceError {
            throw error
        } catch {
            throw GovernanceError(.invalidKey, .keystoreInvalid, "signing failed")
        }
    }

    private static func ed25519PrivateKey(_ secret: SecretBytes) throws(GovernanceError)
        -> Curve25519.Signing.PrivateKey
    {
        do {
            return try secret.withUnsafeBytes { try Curve25519.Signing.PrivateKey(rawRepresentation: $0) }
        } catch {
            throw refusal(.invalidKey, "the Ed25519 private key cannot be loaded")
        }
    }

    private static func p256PrivateKey(_ secret: SecretBytes) throws(GovernanceError) -> P256.Signing.PrivateKey {
        do {
            return try secret.withUnsafeBytes { try P256.Signing.PrivateKey(rawRepresentation: $0) }
        } catch {
            throw refusal(.invalidKey, "the P-256 private key is not a scalar in [1, n-1]")
        }
    }

    private static func refusal(_ code: GovernanceError.Code, _ reason: String) -> GovernanceError {
        GovernanceError(code, .keystoreInvalid, reason)
    }

    public var description: String { "CredentialSigningKey(\(scheme.rawValue), <redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
