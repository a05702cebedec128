import Bitcoin
import Crypto
public import Governance
import WalletCrypto

/// An organisation's audit log as the coordinator exports it for offline verification (format
/// `kura.audit-export` 1; docs/AUDIT.md): every event of the hash chain, and the stored documents the
/// events refer to — signed policies, intents and approvals, the unsigned transactions of the issued
/// bundles, and the signers' receipts.
///
/// ```json
/// {"kind": "kura.audit-export", "format": 1, "organization": ORG, "genesis": HASH, "exportedAt": SECONDS,
///  "events": [{"sequence": N, "kind": K, "subject": S, "at": SECONDS, "payload": {...},
///              "previousHash": HEX, "hash": HEX}, ...],
///  "documents": {"policies": [...], "intents": [...], "approvals": [...], "bundles": [...], "receipts": [...]}}
/// ```
///
/// The parser is strict: closed schemas at every level, bounded sizes (``Limits``), canonical hex and
/// base64, and each event's payload is a JSON object whose RFC 8785 bytes are the bytes the event's hash
/// covers. It does not judge the content: a broken chain or a document that contradicts the log is the
/// ``AuditVerifier``'s finding, not a parse error.
public struct AuditExport: Sendable, Hashable {
    /// The resource bounds of one parse.
    public struct Limits: Sendable, Hashable {
        /// The largest export, in bytes (checked first).
        public var maxBytes: Int
        /// The most events.
        public var maxEvents: Int
        /// The most documents in each list of ``Documents``.
        public var maxDocuments: Int
        /// The largest unsigned transaction (decoded bytes).
        public var maxTransactionBytes: Int

        /// Creates limits; the defaults are 128 MiB, 1,000,000 events, 100,000 documents per list and
        /// 8 MiB per transaction (the signing bundle's own limit).
        public init(
            maxBytes: Int = 128 << 20, maxEvents: Int = 1_000_000, maxDocuments: Int = 100_000,
            maxTransactionBytes: Int = 8 << 20
        ) {
            self.maxBytes = maxBytes
            self.maxEvents = maxEvents
            self.maxDocuments = maxDocuments
            self.maxTransactionBytes = maxTransactionBytes
        }
    }

    /// An unsigned transaction as the coordinator built it.
    public enum Transaction: Sendable, Hashable {
        /// A PSBT (written as base64).
        case bitcoin(psbt: [UInt8])
        /// The EIP-2718 signing payload of an Ethereum transaction (written as lowercase hex).
        case ethereum(unsigned: [UInt8])

        /// Its chain.
        public var chain: TransactionChain {
            switch self {
            case .bitcoin: return .bitcoin
            case .ethereum: return .ethereum
            }
        }

        /// The bytes: the PSBT or the unsigned transaction.
        public var bytes: [UInt8] {
            switch self {
            case .bitcoin(let b), .ethereum(let b): return b
            }
        }

        /// SHA-256 of ``bytes``: what `transaction.built` records.
        public func computeSHA256() -> DocumentHash { AuditExport.sha256(bytes) }
    }

    /// A stored intent: the row's id and the signed document.
    public struct IntentDocument: Sendable, Hashable {
        /// The intent id the coordinator stored it under.
        public let id: IntentID
        /// The signed intent.
        public let document: SignedIntent
        /// Creates an entry.
        public init(id: IntentID, document: SignedIntent) {
            self.id = id
            self.document = document
        }
    }

    /// A stored approval: the intent it was recorded for and the signed document.
    public struct ApprovalDocument: Sendable, Hashable {
        /// The intent id the coordinator recorded it for.
        public let intent: IntentID
        /// The signed approval.
        public let document: SignedApproval
        /// Creates an entry.
        public init(intent: IntentID, document: SignedApproval) {
            self.intent = intent
            self.document = document
        }
    }

    /// A stored signing bundle: the intent, the SHA-256 of the bundle's bytes, and its unsigned transaction.
    public struct BundleDocument: Sendable, Hashable {
        /// The intent id.
        public let intent: IntentID
        /// SHA-256 of the bundle's bytes as stored (what `bundle.issued` records).
        public let sha256: DocumentHash
        /// The unsigned transaction in the bundle.
        public let transaction: Transaction
        /// Creates an entry.
        public init(intent: IntentID, sha256: DocumentHash, transaction: Transaction) {
            self.intent = intent
            self.sha256 = sha256
            self.transaction = transaction
        }
    }

    /// The stored documents the events refer to.
    public struct Documents: Sendable, Hashable {
        /// Every policy version, in version order (genesis first).
        public let policies: [SignedPolicy]
        /// The stored intents (ids unique).
        public let intents: [IntentDocument]
        /// The stored approvals.
        public let approvals: [ApprovalDocument]
        /// The stored bundles (at most one per intent).
        public let bundles: [BundleDocument]
        /// The signer receipts the coordinator holds.
        public let receipts: [SignedReceipt]

        /// Creates the documents.
        public init(
            policies: [SignedPolicy], intents: [IntentDocument], approvals: [ApprovalDocument],
            bundles: [BundleDocument], receipts: [SignedReceipt]
        ) {
            self.policies = policies
            self.intents = intents
            self.approvals = approvals
            self.bundles = bundles
            self.receipts = receipts
        }
    }

    /// The document kind.
    public static let kind = "kura.audit-export"
    /// The longest event kind (bytes of `A-Z a-z 0-9 . _ -`).
    public static let maxKind = 64
    /// The longest event subject (bytes).
    public static let maxSubject = 256
    /// The largest event payload (canonical bytes).
    public static let maxPayload = 64 << 10
    /// The JSON limits of one stored payload.
    static let payloadLimits = JSONParser.Limits(
        maxBytes: maxPayload, maxDepth: 16, maxStringBytes: maxPayload, maxArrayElements: 1_000, maxObjectMembers: 100)

    /// The organisation.
    public let organization: OrganizationID
    /// The genesis policy hash the organisation was bootstrapped from.
    public let genesis: DocumentHash
    /// When the export was made (the coordinator's clock).
    public let exportedAt: Timestamp
    /// The events, in the order exported (oldest first, unless someone reordered them).
    public let events: [AuditEvent]
    /// The documents.
    public let documents: Documents

    /// Creates an export (the coordinator's side). Every event must belong to `organization` and carry a
    /// canonical JSON object as its payload, or ``json()`` refuses.
    public init(
        organization: OrganizationID, genesis: DocumentHash, exportedAt: Timestamp, events: [AuditEvent],
        documents: Documents
    ) {
        self.organization = organization
        self.genesis = genesis
        self.exportedAt = exportedAt
        self.events = events
        self.documents = documents
    }

    /// Parses an export from its bytes: size first, then the strict JSON grammar, then the closed schemas.
    public init(bytes: [UInt8], limits: Limits = Limits()) throws(GovernanceError) {
        guard bytes.count <= limits.maxBytes else {
            throw GovernanceError(
                .tooLarge, .resourceLimit, "audit export of \(bytes.count) bytes exceeds \(limits.maxBytes)")
        }
        let json = try JSONParser.parse(
            bytes,
            limits: JSONParser.Limits(
                maxBytes: limits.maxBytes, maxDepth: 32,
                maxStringBytes: max(1 << 16, limits.maxTransactionBytes * 2 + 4),
                maxArrayElements: max(limits.maxEvents, limits.maxDocuments), maxObjectMembers: 1_000))
        try self.init(json: json, limits: limits)
    }

    /// Decodes a parsed export (closed schema).
    public init(json: JSONValue, limits: Limits = Limits()) throws(GovernanceError) {
        var r = try JSONObjectReader(json, path: "export")
        guard try r.string("kind") == Self.kind else {
            throw GovernanceError(.invalidValue, .malformed, "export.kind is not '\(Self.kind)'")
        }
        guard try r.int("format") == 1 else {
            throw GovernanceError(.invalidValue, .malformed, "export.format is not 1")
        }
        let organization = try OrganizationID(r.string("organization"))
        self.organization = organization
        genesis = try Self.hash(&r, "genesis")
        exportedAt = try Timestamp(seconds: Int64(r.int("exportedAt")))
        let eventValues = try r.array("events")
        guard eventValues.count <= limits.maxEvents else {
            throw GovernanceError(.tooLarge, .resourceLimit, "more than \(limits.maxEvents) events")
        }
        var events = [AuditEvent]()
        events.reserveCapacity(eventValues.count)
        for (i, value) in eventValues.enumerated() {
            events.append(try Self.event(value, path: "export.events[\(i)]", organization: organization))
        }
        self.events = events
        documents = try r.object("documents") { d throws(GovernanceError) in
            try Self.documents(&d, limits: limits)
        }
        try r.finish()
    }

    /// The JSON form; refuses an event of another organisation or whose payload is not a canonical JSON object.
    public func json() throws(GovernanceError) -> JSONValue {
        var events = [JSONValue]()
        events.reserveCapacity(self.events.count)
        for e in self.events {
            guard e.organization == organization else {
                throw GovernanceError(
                    .invalidValue, .malformed, "event \(e.sequence) belongs to organisation \(e.organization)")
            }
            try Self.check(kind: e.kind, subject: e.subject, path: "event \(e.sequence)")
            events.append([
                "sequence": .number(Double(e.sequence)), "kind": .string(e.kind), "subject": .string(e.subject),
                "at": .number(Double(e.at.seconds)),
                "payload": try AuditRecord.payloadObject(e.payload, sequence: e.sequence),
                "previousHash": .string(e.previousHash.description), "hash": .string(e.hash.description),
            ])
        }
        let d = documents
        let documents: JSONValue = [
            "policies": .array(d.policies.map(\.json)),
            "intents": .array(d.intents.map { ["id": .string($0.id.value), "document": $0.document.json] }),
            "approvals": .array(
                d.approvals.map { ["intent": .string($0.intent.value), "document": $0.document.json] }),
            "bundles": .array(
                d.bundles.map { b in
                    let tx: JSONValue
                    switch b.transaction {
                    case .bitcoin(let psbt): tx = ["chain": "bitcoin", "psbt": .string(Base64.encode(psbt))]
                    case .ethereum(let unsigned): tx = ["chain": "ethereum", "unsigned": .string(Hex.encode(unsigned))]
                    }
                    return [
                        "intent": .string(b.intent.value), "sha256": .string(b.sha256.description), "transaction": tx,
                    ]
                }),
            "receipts": .array(d.receipts.map(\.json)),
        ]
        return [
            "kind": .string(Self.kind), "format": 1, "organization": .string(organization.value),
            "genesis": .string(genesis.description), "exportedAt": .number(Double(exportedAt.seconds)),
            "events": .array(events), "documents": documents,
        ]
    }

    /// The canonical (RFC 8785) bytes of ``json()``.
    public func encoded() throws(GovernanceError) -> [UInt8] { try CanonicalJSON.encode(json()) }

    /// SHA-256 of `bytes`, as a hash value.
    public static func sha256(_ bytes: [UInt8]) -> DocumentHash {
        // SHA-256 is always 32 bytes.
        guard let h = try? DocumentHash(bytes: Array(SHA256.hash(data: bytes))) else { fatalError("unreachable") }
        return h
    }

    // MARK: Parsing

    private static func hash(_ r: inout JSONObjectReader, _ name: String) throws(GovernanceError) -> DocumentHash {
        let text = try r.string(name)
        do { return try DocumentHash(hex: text) } catch {
            throw GovernanceError(.invalidValue, .malformed, "\(r.path).\(name) is not 64 lowercase hex digits")
        }
    }

    private static func event(_ value: JSONValue, path: String, organization: OrganizationID) throws(GovernanceError)
        -> AuditEvent
    {
        var e = try JSONObjectReader(value, path: path)
        let sequence = Int64(try e.int("sequence", in: 1...JSONParser.maxSafeInteger))
        let kind = try e.string("kind")
        let subject = try e.string("subject")
        try check(kind: kind, subject: subject, path: path)
        let at = try Timestamp(seconds: Int64(e.int("at")))
        let payloadValue = try e.value("payload")
        guard case .object = payloadValue else {
            throw GovernanceError(.wrongType, .malformed, "\(path).payload: expected an object")
        }
        let payload = try CanonicalJSON.encode(payloadValue)
        guard payload.count <= maxPayload else {
            throw GovernanceError(.tooLarge, .resourceLimit, "\(path).payload exceeds \(maxPayload) bytes")
        }
        let previousHash = try hash(&e, "previousHash")
        let hash = try hash(&e, "hash")
        try e.finish()
        return AuditEvent(
            stored: organization, sequence: sequence, kind: kind, subject: subject, payload: payload, at: at,
            previousHash: previousHash, hash: hash)
    }

    /// Event kinds are 1 to ``maxKind`` bytes of `A-Z a-z 0-9 . _ -`; subjects at most ``maxSubject`` bytes.
    private static func check(kind: String, subject: String, path: String) throws(GovernanceError) {
        let kindBytes = Array(kind.utf8)
        guard (1...maxKind).contains(kindBytes.count),
            kindBytes.allSatisfy({
                ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2e
                    || $0 == 0x5f || $0 == 0x2d
            })
        else {
            throw GovernanceError(
                .invalidValue, .malformed, "\(path).kind must be 1 to \(maxKind) of A-Z a-z 0-9 . _ -")
        }
        guard subject.utf8.count <= maxSubject else {
            throw GovernanceError(.tooLarge, .malformed, "\(path).subject exceeds \(maxSubject) bytes")
        }
    }

    private static func documents(_ d: inout JSONObjectReader, limits: Limits) throws(GovernanceError) -> Documents {
        func list(_ name: String) throws(GovernanceError) -> [JSONValue] {
            let values = try d.array(name)
            guard values.count <= limits.maxDocuments else {
                throw GovernanceError(
                    .tooLarge, .resourceLimit, "export.documents.\(name) has more than \(limits.maxDocuments) entries")
            }
            return values
        }
        var policies = [SignedPolicy]()
        for v in try list("policies") { policies.append(try SignedPolicy(json: v)) }
        var intents = [IntentDocument]()
        var intentIDs = Set<IntentID>()
        for (i, v) in try list("intents").enumerated() {
            var r = try JSONObjectReader(v, path: "export.documents.intents[\(i)]")
            let id = try IntentID(r.string("id"))
            guard intentIDs.insert(id).inserted else {
                throw GovernanceError(.duplicateKey, .malformed, "\(r.path): intent \(id) is listed twice")
            }
            intents.append(IntentDocument(id: id, document: try SignedIntent(json: r.value("document"))))
            try r.finish()
        }
        var approvals = [ApprovalDocument]()
        for (i, v) in try list("approvals").enumerated() {
            var r = try JSONObjectReader(v, path: "export.documents.approvals[\(i)]")
            approvals.append(
                ApprovalDocument(
                    intent: try IntentID(r.string("intent")), document: try SignedApproval(json: r.value("document"))))
            try r.finish()
        }
        var bundles = [BundleDocument]()
        var bundleIntents = Set<IntentID>()
        for (i, v) in try list("bundles").enumerated() {
            var r = try JSONObjectReader(v, path: "export.documents.bundles[\(i)]")
            let intent = try IntentID(r.string("intent"))
            guard bundleIntents.insert(intent).inserted else {
                throw GovernanceError(.duplicateKey, .malformed, "\(r.path): a second bundle for intent \(intent)")
            }
            let sha256 = try hash(&r, "sha256")
            let transaction = try r.object("transaction") { t throws(GovernanceError) in
                try Self.transaction(&t, limits: limits)
            }
            bundles.append(BundleDocument(intent: intent, sha256: sha256, transaction: transaction))
            try r.finish()
        }
        var receipts = [SignedReceipt]()
        for v in try list("receipts") { receipts.append(try SignedReceipt(json: v)) }
        return Documents(
            policies: policies, intents: intents, approvals: approvals, bundles: bundles, receipts: receipts)
    }

    private static func transaction(_ t: inout JSONObjectReader, limits: Limits) throws(GovernanceError) -> Transaction
    {
        switch try t.string("chain") {
        case "bitcoin":
            let text = try t.string("psbt")
            guard !text.isEmpty, let psbt = Base64.decode(text, maxBytes: limits.maxTransactionBytes),
                psbt.count <= limits.maxTransactionBytes
            else {
                throw GovernanceError(
                    .invalidValue, .malformed,
                    "\(t.path).psbt is not canonical base64 of at most \(limits.maxTransactionBytes) bytes")
            }
            return .bitcoin(psbt: psbt)
        case "ethereum":
            let text = try t.string("unsigned")
            guard !text.isEmpty, text == text.lowercased(),
                let unsigned = try? Hex.decode(text, maxBytes: limits.maxTransactionBytes)
            else {
                throw GovernanceError(
                    .invalidValue, .malformed,
                    "\(t.path).unsigned is not lowercase hex of at most \(limits.maxTransactionBytes) bytes")
            }
            return .ethereum(unsigned: unsigned)
        case let other:
            throw GovernanceError(.invalidValue, .malformed, "\(t.path).chain '\(other.prefix(20))' is unknown")
        }
    }
}
