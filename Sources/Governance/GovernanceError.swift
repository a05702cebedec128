/// The closed refusal vocabulary of ATTACKS.md §3. Every refusal the signer (or the
/// coordinator, applying the same rules) reports carries exactly one of these tokens; tests assert
/// the token, not prose.
public struct RefusalCategory: Sendable, Hashable, CustomStringConvertible {
    /// The token, e.g. `POLICY_ROLLBACK`.
    public let token: String
    private init(_ token: String) { self.token = token }
    public var description: String { token }

    public static let malformed = RefusalCategory("MALFORMED")
    public static let resourceLimit = RefusalCategory("RESOURCE_LIMIT")
    public static let policyInvalid = RefusalCategory("POLICY_INVALID")
    public static let policyRollback = RefusalCategory("POLICY_ROLLBACK")
    public static let approvalInvalid = RefusalCategory("APPROVAL_INVALID")
    public static let approvalMismatch = RefusalCategory("APPROVAL_MISMATCH")
    public static let intentMismatch = RefusalCategory("INTENT_MISMATCH")
    public static let outputUnauthorised = RefusalCategory("OUTPUT_UNAUTHORISED")
    public static let changeInvalid = RefusalCategory("CHANGE_INVALID")
    public static let inputInvalid = RefusalCategory("INPUT_INVALID")
    public static let walletMismatch = RefusalCategory("WALLET_MISMATCH")
    public static let feeExcessive = RefusalCategory("FEE_EXCESSIVE")
    public static let fieldForbidden = RefusalCategory("FIELD_FORBIDDEN")
    public static let scriptForbidden = RefusalCategory("SCRIPT_FORBIDDEN")
    public static let callForbidden = RefusalCategory("CALL_FORBIDDEN")
    public static let assetUnknown = RefusalCategory("ASSET_UNKNOWN")
    public static let allowlistMiss = RefusalCategory("ALLOWLIST_MISS")
    public static let chainMismatch = RefusalCategory("CHAIN_MISMATCH")
    public static let nonceInvalid = RefusalCategory("NONCE_INVALID")
    public static let replay = RefusalCategory("REPLAY")
    public static let timelockPending = RefusalCategory("TIMELOCK_PENDING")
    public static let limitExceeded = RefusalCategory("LIMIT_EXCEEDED")
    public static let stateIntegrity = RefusalCategory("STATE_INTEGRITY")
    public static let keystoreInvalid = RefusalCategory("KEYSTORE_INVALID")

    /// Every category, in ATTACKS.md order.
    public static let all: [RefusalCategory] = [
        .malformed, .resourceLimit, .policyInvalid, .policyRollback, .approvalInvalid, .approvalMismatch,
        .intentMismatch,
        .outputUnauthorised, .changeInvalid, .inputInvalid, .walletMismatch, .feeExcessive, .fieldForbidden,
        .scriptForbidden, .callForbidden, .assetUnknown, .allowlistMiss, .chainMismatch, .nonceInvalid, .replay,
        .timelockPending, .limitExceeded, .stateIntegrity, .keystoreInvalid,
    ]

    /// Looks a token up.
    public init?(token: String) {
        guard let c = Self.all.first(where: { $0.token == token }) else { return nil }
        self = c
    }
}

/// An error raised by the governance core: a stable ``Code``, the refusal ``category`` it
/// belongs to, and a reason naming the offending (public) input.
public struct GovernanceError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable, extensible error code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's stable name.
        public let name: String
        /// Creates a code.
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        // JSON and document shape (MALFORMED / RESOURCE_LIMIT).
        public static let malformedJSON = Code("malformed_json")
        public static let duplicateKey = Code("duplicate_key")
        public static let unknownField = Code("unknown_field")
        public static let missingField = Code("missing_field")
        public static let wrongType = Code("wrong_type")
        public static let invalidValue = Code("invalid_value")
        public static let nonCanonical = Code("non_canonical")
        public static let tooLarge = Code("too_large")
        public static let tooDeep = Code("too_deep")
        // Signatures.
        public static let invalidSignature = Code("invalid_signature")
        public static let invalidKey = Code("invalid_key")
        public static let webauthnChallengeMismatch = Code("webauthn_challenge_mismatch")
        public static let webauthnOriginMismatch = Code("webauthn_origin_mismatch")
        public static let webauthnRPIDMismatch = Code("webauthn_rp_id_mismatch")
        public static let webauthnFlags = Code("webauthn_flags")
        public static let webauthnType = Code("webauthn_type")
        // Credentials and signature schemes (Credentials/, docs/CREDENTIALS.md).
        public static let invalidCredential = Code("invalid_credential")
        public static let invalidDigest = Code("invalid_digest")
        public static let schemeMismatch = Code("scheme_mismatch")
        public static let malformedSignature = Code("malformed_signature")
        public static let webauthnClientDataMalformed = Code("webauthn_client_data_malformed")
        public static let webauthnCrossOrigin = Code("webauthn_cross_origin")
        public static let webauthnAuthenticatorDataMalformed = Code("webauthn_authenticator_data_malformed")
        public static let webauthnUserPresence = Code("webauthn_user_presence")
        public static let webauthnUserVerification = Code("webauthn_user_verification")
        public static let keyFileUnrecognised = Code("key_file_unrecognised")
        public static let keyFileVersion = Code("key_file_version")
        public static let keyFileScheme = Code("key_file_scheme")
        public static let keyFileLength = Code("key_file_length")
        public static let keyFileChecksum = Code("key_file_checksum")
    }

    /// What went wrong.
    public let code: Code
    /// The refusal category this error maps to.
    public let category: RefusalCategory
    /// Why, for people. Never contains secrets.
    public let reason: String

    /// Creates an error.
    public init(_ code: Code, _ category: RefusalCategory, _ reason: String) {
        self.code = code
        self.category = category
        self.reason = reason
    }

    /// The same error under another refusal category (a failed signature is APPROVAL_INVALID on an
    /// approval, POLICY_INVALID on a policy update).
    public func recategorized(_ category: RefusalCategory) -> GovernanceError {
        GovernanceError(code, category, reason)
    }

    public var description: String { "\(category.token) \(code.name): \(reason)" }
}
