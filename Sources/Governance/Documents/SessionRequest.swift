import WalletCrypto

/// A member's request for a coordinator API session (format `kura.session-request` 1): signed on
/// the member's own device with a credential the current policy lists for them, so the coordinator
/// issues API tokens only to the company's own people and only while the policy lists them.
///
/// JSON: `{"kind": "kura.session-request", "format": 1, "organization": ORG, "member": ID,
/// "audience": TEXT, "nonce": HEX(16..32 bytes), "created": SECONDS, "expires": SECONDS}`.
/// The nonce makes each request single-use; the coordinator refuses a request outside its
/// validity window or one it has seen.
public struct SessionRequest: Sendable, Hashable {
    public let organization: OrganizationID
    public let member: MemberID
    /// Which service the request is for (the coordinator refuses another audience).
    public let audience: String
    public let nonce: [UInt8]
    public let created: Timestamp
    public let expires: Timestamp
    /// The document as read.
    public let document: JSONValue
    /// The `kura/session/v1` digest of the canonical document: what the member signs.
    public let digest: DocumentHash

    public static let kind = "kura.session-request"
    public static let digestTag = "kura/session/v1"
    /// The longest validity window a request may ask for.
    public static let maxLifetime: Int64 = 600

    /// Decodes a request (closed schema).
    public init(json: JSONValue) throws(GovernanceError) {
        var r = try JSONObjectReader(json, path: "sessionRequest")
        guard try r.string("kind") == Self.kind else {
            throw GovernanceError(.invalidValue, .malformed, "sessionRequest.kind is not '\(Self.kind)'")
        }
        guard try r.int("format") == 1 else {
            throw GovernanceError(.invalidValue, .malformed, "sessionRequest.format is not 1")
        }
        organization = try OrganizationID(r.string("organization"))
        member = try MemberID(r.string("member"))
        audience = try r.string("audience")
        guard (1...200).contains(audience.utf8.count) else {
            throw GovernanceError(.invalidValue, .malformed, "sessionRequest.audience must be 1 to 200 bytes")
        }
        guard let n = try? Hex.decode(try r.string("nonce"), maxBytes: 32), (16...32).contains(n.count) else {
            throw GovernanceError(
                .invalidValue, .malformed, "sessionRequest.nonce must be 16 to 32 random bytes in hex")
        }
        nonce = n
        created = try Timestamp(seconds: Int64(r.int("created")))
        expires = try Timestamp(seconds: Int64(r.int("expires")))
        guard created < expires, expires.seconds - created.seconds <= Self.maxLifetime else {
            throw GovernanceError(
                .invalidValue, .malformed,
                "sessionRequest must expire after it is created and within \(Self.maxLifetime) s")
        }
        try r.finish()
        document = json
        digest = try DocumentHash(
            bytes: DocumentDigest.digest(tag: Self.digestTag, canonical: try CanonicalJSON.encode(json)))
    }

    /// The request document (for signing on a member's device).
    public static func document(
        organization: OrganizationID, member: MemberID, audience: String, nonce: [UInt8], created: Timestamp,
        expires: Timestamp
    ) -> JSONValue {
        .object([
            "kind": .string(kind), "format": .number(1), "organization": .string(organization.value),
            "member": .string(member.value), "audience": .string(audience), "nonce": .string(Hex.encode(nonce)),
            "created": .number(Double(created.seconds)), "expires": .number(Double(expires.seconds)),
        ])
    }
}

/// A session request with the member's signature. JSON: `{"request": {...}, "signature": {...}}`.
public struct SignedSessionRequest: Sendable, Hashable {
    public let request: SessionRequest
    public let signature: MemberSignature

    /// Decodes the signed form.
    public init(json: JSONValue) throws(GovernanceError) {
        var r = try JSONObjectReader(json, path: "signedSessionRequest")
        request = try SessionRequest(json: try r.value("request"))
        signature = try MemberSignature(json: try r.value("signature"), path: "signedSessionRequest.signature")
        try r.finish()
    }

    /// Pairs a request with a signature.
    public init(request: SessionRequest, signature: MemberSignature) {
        self.request = request
        self.signature = signature
    }

    /// The JSON form.
    public var json: JSONValue { .object(["request": request.document, "signature": signature.json]) }
}
