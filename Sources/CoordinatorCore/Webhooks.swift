import Crypto
public import Governance

/// One notification queued for the webhook: written in the same unit of work as the change it reports (so none is
/// lost and none is sent for a change that did not commit), then delivered at least once, with retries.
public struct WebhookDelivery: Sendable, Hashable {
    /// Where a delivery stands.
    public enum State: String, Sendable, Hashable, CaseIterable {
        case pending, delivered, failed
    }

    /// A unique id (`wh-` and 32 hex digits), sent as `Kura-Delivery` so a receiver can drop a repeat.
    public let id: String
    public let organization: OrganizationID
    /// The event (`deposit.detected`, `withdrawal.confirmed`, …).
    public let kind: String
    /// The JSON body, exactly as sent (RFC 8785).
    public let body: [UInt8]
    public let state: State
    public let attempts: Int
    public let lastError: String?
    public let nextAttemptAt: Timestamp
    public let createdAt: Timestamp

    /// Creates a record.
    public init(
        id: String, organization: OrganizationID, kind: String, body: [UInt8], state: State = .pending,
        attempts: Int = 0, lastError: String? = nil, nextAttemptAt: Timestamp, createdAt: Timestamp
    ) {
        self.id = id
        self.organization = organization
        self.kind = kind
        self.body = body
        self.state = state
        self.attempts = attempts
        self.lastError = lastError
        self.nextAttemptAt = nextAttemptAt
        self.createdAt = createdAt
    }

    /// A new delivery of `kind` about `data`, due at once.
    public static func make(organization: OrganizationID, kind: String, data: JSONValue, at now: Timestamp)
        -> WebhookDelivery
    {
        let id = "wh-" + (0..<16).map { _ in String(format2: UInt8.random(in: 0...255)) }.joined()
        let envelope: JSONValue = [
            "id": .string(id), "organization": .string(organization.value), "kind": .string(kind),
            "createdAt": .number(Double(now.seconds)), "data": data,
        ]
        return WebhookDelivery(
            id: id, organization: organization, kind: kind, body: (try? CanonicalJSON.encode(envelope)) ?? [],
            nextAttemptAt: now, createdAt: now)
    }
}

/// How a webhook request is signed: `Kura-Signature: t=TIME,v1=HEX` where HEX is HMAC-SHA256 under the shared
/// secret of `"TIME.BODY"` (the Unix time in decimal, a dot, the body's bytes). A receiver recomputes it, compares
/// in constant time and refuses a time too far from its clock (replays).
public enum WebhookSignature {
    public static func header(secret: [UInt8], body: [UInt8], at time: Int64) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array("\(time).".utf8) + body, using: SymmetricKey(data: secret))
        return "t=\(time),v1=" + mac.map { String(format2: $0) }.joined()
    }
}

/// Sends one webhook request; the adapter (HTTP) lives outside CoordinatorCore.
public protocol WebhookSender: Sendable {
    /// POSTs `body` with `headers`; the HTTP status, or a transport failure's reason.
    func send(body: [UInt8], headers: [(name: String, value: String)]) async -> Result<Int, WebhookFailure>
}

/// Why a webhook request got no answer.
public struct WebhookFailure: Error, Sendable, Hashable {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
}

/// Where webhook deliveries wait.
public protocol WebhookStore: Sendable {
    /// Claims up to `limit` pending deliveries due at `now` for `owner` until `leaseUntil`, oldest first.
    func claimWebhookDeliveries(owner: String, now: Timestamp, leaseUntil: Timestamp, limit: Int)
        async throws(StorageError) -> [WebhookDelivery]
    /// The organisation's deliveries, newest first.
    func webhookDeliveries(_ organization: OrganizationID, limit: Int) async throws(StorageError) -> [WebhookDelivery]
}

extension String {
    /// Two lowercase hex digits.
    init(format2 byte: UInt8) {
        let digits = Array("0123456789abcdef")
        self = String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
    }
}
