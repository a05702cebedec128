public import Governance

/// Why the coordinator refused a request. The HTTP layer maps ``Code`` to a status; the body names the
/// code, the reason and, for governance refusals, the signer's refusal category.
public struct CoordinatorError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Stable codes (they appear in the API's error body).
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let name: String
        private init(_ name: String) { self.name = name }

        /// The request is not well-formed (bad JSON, unknown field, bad value).
        public static let malformed = Code("malformed")
        /// The request is well-formed but governance refuses it (the signer would refuse it too).
        public static let refused = Code("refused")
        /// No valid credentials (missing, malformed, unknown, expired or revoked token).
        public static let unauthenticated = Code("unauthenticated")
        /// Authenticated, but the member's roles do not allow this.
        public static let forbidden = Code("forbidden")
        /// No such resource in this organisation.
        public static let notFound = Code("not_found")
        /// The resource already exists.
        public static let duplicate = Code("duplicate")
        /// The resource is not in a state that allows this.
        public static let conflict = Code("conflict")
        /// The idempotency key was used before for another request.
        public static let idempotencyMismatch = Code("idempotency_key_reused")
        /// The request body is too large.
        public static let tooLarge = Code("too_large")
        /// Too many attempts; try later.
        public static let rateLimited = Code("rate_limited")
        /// A back end (database, chain) is unavailable.
        public static let unavailable = Code("unavailable")

        public var description: String { name }
    }

    public let code: Code
    public let reason: String
    /// The refusal category, for governance refusals.
    public let category: RefusalCategory?

    public init(_ code: Code, _ reason: String, category: RefusalCategory? = nil) {
        self.code = code
        self.reason = reason
        self.category = category
    }

    /// A governance error as a refusal (or `malformed` for a document that does not parse).
    public init(_ error: GovernanceError) {
        switch error.category {
        case .malformed, .resourceLimit:
            self.init(.malformed, error.reason, category: error.category)
        default:
            self.init(.refused, error.reason, category: error.category)
        }
    }

    /// A storage error as the coordinator reports it.
    public init(_ error: StorageError) {
        switch error.code {
        case .duplicate: self.init(.duplicate, error.reason)
        case .conflict: self.init(.conflict, error.reason)
        case .missingReference: self.init(.notFound, error.reason)
        case .invalidValue: self.init(.malformed, error.reason)
        default: self.init(.unavailable, "the database is unavailable")
        }
    }

    public var description: String { "\(code): \(reason)" }
}

/// The member a request acts for, authenticated by an API token.
public struct Principal: Sendable {
    public let organization: OrganizationID
    public let member: MemberID
    /// Roles in the current policy (re-read at every request: a member removed from the policy loses access).
    public let roles: Set<Role>
    /// The token the request used.
    public let tokenID: String
    /// When that token expires (read with it).
    public let tokenExpiresAt: Timestamp
    /// The policy in force that authenticated the request (the roles come from it), so the request's use case
    /// does not read and verify it again; `nil` for principals made without one.
    public let policy: VerifiedPolicy?
    /// The request's `Idempotency-Key` and this member's stored create under it (`nil`: none), read with the
    /// token; `nil` when the request carried no key or the principal was made without the read.
    public let idempotency: (key: String, stored: IdempotencyRecord?)?

    public init(
        organization: OrganizationID, member: MemberID, roles: Set<Role>, tokenID: String, tokenExpiresAt: Timestamp,
        policy: VerifiedPolicy? = nil, idempotency: (key: String, stored: IdempotencyRecord?)? = nil
    ) {
        self.organization = organization
        self.member = member
        self.roles = roles
        self.tokenID = tokenID
        self.tokenExpiresAt = tokenExpiresAt
        self.policy = policy
        self.idempotency = idempotency
    }

    /// Throws `forbidden` unless the member has one of `roles`.
    public func require(_ roles: Set<Role>, to action: String) throws(CoordinatorError) {
        guard !self.roles.isDisjoint(with: roles) else {
            throw CoordinatorError(
                .forbidden,
                "\(member) may not \(action) (needs \(roles.map(\.name).sorted().joined(separator: " or ")))")
        }
    }
}
