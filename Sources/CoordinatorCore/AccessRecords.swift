import Crypto
public import Governance
import WalletCrypto

/// An API token as the coordinator stores it: never the secret, only its hash.
public struct TokenRecord: Sendable, Hashable {
    /// The organisation.
    public let organization: OrganizationID
    /// The token's public identifier (the part before the secret in ``APIToken/text``).
    public let id: String
    /// The member the token acts for; their roles come from the current policy at each request.
    public let member: MemberID
    /// ``APIToken/secretHash``.
    public let secretHash: [UInt8]
    /// The digest of the signed session request it was issued for (unique: a request is used once).
    public let requestDigest: DocumentHash
    /// When it was issued.
    public let createdAt: Timestamp
    /// When it stops working.
    public let expiresAt: Timestamp
    /// When it was revoked, if it was.
    public let revokedAt: Timestamp?

    /// Creates a record.
    public init(
        organization: OrganizationID, id: String, member: MemberID, secretHash: [UInt8], requestDigest: DocumentHash,
        createdAt: Timestamp, expiresAt: Timestamp, revokedAt: Timestamp?
    ) {
        self.organization = organization
        self.id = id
        self.member = member
        self.secretHash = secretHash
        self.requestDigest = requestDigest
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }

    /// Whether the token works at `now`.
    public func isActive(at now: Timestamp) -> Bool { revokedAt == nil && now < expiresAt }
}

/// A bearer token handed to a member once: `kura_<id>_<secret>`, where `id` is 16 hex digits and the
/// secret 32 random bytes in base64url. The coordinator keeps only a hash of the secret.
public struct APIToken: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The public identifier.
    public let id: String
    private let secret: SecretBytes

    /// A new random token.
    public static func generate() -> APIToken {
        APIToken(id: Hex.encode(SecretBytes.random(count: 8).unsafeCopy()), secret: SecretBytes.random(count: 32))
    }

    private init(id: String, secret: SecretBytes) {
        self.id = id
        self.secret = secret
    }

    /// Parses the bearer text; `nil` if it is not a well-formed token.
    public init?(parsing text: some StringProtocol) {
        guard text.utf8.count == 5 + 16 + 1 + 43, text.hasPrefix("kura_") else { return nil }
        let rest = text.dropFirst(5)
        let id = String(rest.prefix(16))
        guard id.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }),
            rest.dropFirst(16).first == "_",
            let secret = Base64URL.decode(String(rest.dropFirst(17)), maxBytes: 32), secret.count == 32
        else { return nil }
        self.init(id: id, secret: SecretBytes(secret))
    }

    /// The bearer text, shown to the member once.
    public var text: String { "kura_\(id)_\(secret.withUnsafeBytes { Base64URL.encode(Array($0)) })" }

    /// SHA-256 over a domain tag and the secret: what is stored and compared.
    public var secretHash: [UInt8] {
        secret.withUnsafeBytes { bytes in
            var h = SHA256()
            h.update(data: Array("kura/api-token/v1".utf8))
            h.update(bufferPointer: bytes)
            return Array(h.finalize())
        }
    }

    /// Whether `record` holds this token's hash (compared in constant time).
    public func matches(_ record: TokenRecord) -> Bool {
        record.id == id && constantTimeEquals(secretHash, record.secretHash)
    }

    public var description: String { "APIToken(\(id), <redacted>)" }
    public var debugDescription: String { description }
}

/// The stored outcome of a create request with an `Idempotency-Key`: a retry with the same key and the
/// same request gets the same response; the same key with another request is refused.
public struct IdempotencyRecord: Sendable, Hashable {
    /// The organisation.
    public let organization: OrganizationID
    /// The member who sent it (keys are per member).
    public let member: MemberID
    /// The client's key (1 to 200 printable ASCII characters).
    public let key: String
    /// SHA-256 of the method, path and body of the first request.
    public let requestHash: [UInt8]
    /// The HTTP status of the first response.
    public let status: Int
    /// The body of the first response.
    public let response: [UInt8]
    /// When it was stored.
    public let createdAt: Timestamp

    /// Creates a record.
    public init(
        organization: OrganizationID, member: MemberID, key: String, requestHash: [UInt8], status: Int,
        response: [UInt8], createdAt: Timestamp
    ) {
        self.organization = organization
        self.member = member
        self.key = key
        self.requestHash = requestHash
        self.status = status
        self.response = response
        self.createdAt = createdAt
    }

    /// Whether `key` is an acceptable idempotency key.
    public static func isValidKey(_ key: String) -> Bool {
        (1...200).contains(key.utf8.count) && key.utf8.allSatisfy { (0x21...0x7e).contains($0) }
    }
}

/// A watch-only address the coordinator handed out for a wallet (derived from the wallet's signed
/// descriptor; the coordinator holds no private key).
public struct AddressRecord: Sendable, Hashable {
    /// The organisation.
    public let organization: OrganizationID
    /// The wallet.
    public let wallet: WalletID
    /// 0 for receive addresses, 1 for change.
    public let branch: Int
    /// The derivation index.
    public let index: Int64
    /// The address text.
    public let address: String
    /// A label for people (for example a customer reference).
    public let label: String
    /// When it was handed out.
    public let createdAt: Timestamp
    /// Whether the chain has seen a payment to it (set by the chain watchers).
    public let used: Bool

    /// Creates a record.
    public init(
        organization: OrganizationID, wallet: WalletID, branch: Int, index: Int64, address: String, label: String,
        createdAt: Timestamp, used: Bool
    ) {
        self.organization = organization
        self.wallet = wallet
        self.branch = branch
        self.index = index
        self.address = address
        self.label = label
        self.createdAt = createdAt
        self.used = used
    }
}
