import Crypto
public import Governance

/// One event of an organisation's audit log. Events form a hash chain per organisation: each names the
/// previous event's hash, so editing, dropping or reordering a stored event breaks every later link.
public struct AuditEvent: Sendable, Hashable {
    /// The organisation.
    public let organization: OrganizationID
    /// The event's position in the organisation's log, from 1, without gaps.
    public let sequence: Int64
    /// What happened (for example `intent.submitted`).
    public let kind: String
    /// What it happened to (for example an intent id); may be empty.
    public let subject: String
    /// Event details (canonical JSON), exactly as appended.
    public let payload: [UInt8]
    /// When it happened.
    public let at: Timestamp
    /// The previous event's hash; all zero for the first event.
    public let previousHash: DocumentHash
    /// This event's hash: ``computeHash()`` at the time it was appended.
    public let hash: DocumentHash

    /// The hash the first event names as its previous one.
    public static let genesisPrevious: DocumentHash = {
        // 32 zero bytes is always a valid digest.
        guard let zero = try? DocumentHash(bytes: [UInt8](repeating: 0, count: 32)) else { fatalError("unreachable") }
        return zero
    }()

    /// Creates the event that follows `previous` (or the first event when `previous` is `nil`) and computes its hash.
    public init(
        following previous: AuditEvent?, organization: OrganizationID, kind: String, subject: String,
        payload: [UInt8], at: Timestamp
    ) {
        self.organization = organization
        self.sequence = (previous?.sequence ?? 0) + 1
        self.kind = kind
        self.subject = subject
        self.payload = payload
        self.at = at
        self.previousHash = previous?.hash ?? Self.genesisPrevious
        self.hash = Self.digest(
            organization: organization, sequence: sequence, kind: kind, subject: subject, payload: payload, at: at,
            previousHash: previousHash)
    }

    /// Rebuilds a stored event exactly as read; ``hasValidHash`` tells whether it was altered.
    public init(
        stored organization: OrganizationID, sequence: Int64, kind: String, subject: String, payload: [UInt8],
        at: Timestamp, previousHash: DocumentHash, hash: DocumentHash
    ) {
        self.organization = organization
        self.sequence = sequence
        self.kind = kind
        self.subject = subject
        self.payload = payload
        self.at = at
        self.previousHash = previousHash
        self.hash = hash
    }

    /// Recomputes the hash from the event's fields (SHA-256 over a domain tag and length-prefixed fields).
    public func computeHash() -> DocumentHash {
        Self.digest(
            organization: organization, sequence: sequence, kind: kind, subject: subject, payload: payload, at: at,
            previousHash: previousHash)
    }

    /// Whether the stored hash matches the event's fields.
    public var hasValidHash: Bool { computeHash() == hash }

    /// Checks a run of events that starts at sequence 1: every hash and every link. Returns the sequence of the
    /// first broken event, or `nil` when the whole chain holds.
    public static func firstBreak(in events: [AuditEvent]) -> Int64? {
        var previous: AuditEvent?
        for event in events {
            let expectedSequence = (previous?.sequence ?? 0) + 1
            let expectedPrevious = previous?.hash ?? genesisPrevious
            guard event.sequence == expectedSequence, event.previousHash == expectedPrevious, event.hasValidHash,
                event.organization == (previous?.organization ?? event.organization)
            else { return event.sequence }
            previous = event
        }
        return nil
    }

    private static func digest(
        organization: OrganizationID, sequence: Int64, kind: String, subject: String, payload: [UInt8], at: Timestamp,
        previousHash: DocumentHash
    ) -> DocumentHash {
        var hasher = SHA256()
        func field(_ bytes: some Collection<UInt8>) {
            withUnsafeBytes(of: UInt64(bytes.count).bigEndian) { hasher.update(bufferPointer: $0) }
            hasher.update(data: Array(bytes))
        }
        field(Array("kura/audit-event/v1".utf8))
        field(Array(organization.value.utf8))
        withUnsafeBytes(of: sequence.bigEndian) { hasher.update(bufferPointer: $0) }
        field(Array(kind.utf8))
        field(Array(subject.utf8))
        withUnsafeBytes(of: at.seconds.bigEndian) { hasher.update(bufferPointer: $0) }
        field(payload)
        hasher.update(data: previousHash.bytes)
        guard let hash = try? DocumentHash(bytes: Array(hasher.finalize())) else { fatalError("SHA-256 is 32 bytes") }
        return hash
    }
}
