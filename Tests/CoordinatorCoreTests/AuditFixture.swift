import CoordinatorCore
import Governance
import WalletCrypto

/// A small organisation and the audit log a coordinator would keep for it, built the way the server
/// builds it (``AuditRecord`` → ``AuditEvent``): two policy versions, two intents approved, built,
/// issued and signed by vault-a (receipts 1 and 2), and one intent rejected. Every part is a `var`,
/// so a test changes one thing and checks what the verifier reports.
/// The organisation's people and its signer's identity key, and the signed documents they make.
struct AuditKeys {
    struct Person {
        let id: String
        let key: CredentialSigningKey
        var credentialID: String { "\(id)-key" }
    }

    static let created: Int64 = 1_800_000_000
    static let organization = try! OrganizationID("acme")

    let admins: [Person]
    let alice: Person
    let bob: Person
    let carol: Person
    /// vault-a's identity key.
    let identity: PrivateKey
    /// A key no policy lists.
    let stranger: PrivateKey

    init() throws {
        func person(_ id: String) throws -> Person {
            Person(id: id, key: try CredentialSigningKey.generate(scheme: .ed25519))
        }
        admins = try ["admin1", "admin2", "admin3"].map(person)
        alice = try person("alice")
        bob = try person("bob")
        carol = try person("carol")
        identity = try PrivateKey(bytes: [UInt8](repeating: 9, count: 32))
        stranger = try PrivateKey(bytes: [UInt8](repeating: 10, count: 32))
    }

    static func credential(_ p: Person) -> JSONValue {
        let c = try! p.key.credential(id: p.credentialID)
        return ["id": .string(p.credentialID), "scheme": "ed25519", "publicKey": .string(Hex.encode(c.publicKey))]
    }

    static func member(_ p: Person, _ role: String) -> JSONValue {
        [
            "id": .string(p.id), "name": .string(p.id.capitalized), "roles": [.string(role)],
            "credentials": [credential(p)],
        ]
    }

    func policyJSON(version: Int, previous: DocumentHash? = nil, lifetime: Int = 3600)
        -> JSONValue
    {
        var doc: [String: JSONValue] = [
            "kind": "kura.policy", "format": 1, "organization": .string(Self.organization.value),
            "version": .number(Double(version)), "created": .number(Double(Self.created)),
            "effectiveFrom": .number(Double(Self.created)), "expires": .number(Double(Self.created + 365 * 86_400)),
            "members": .array(
                admins.map { Self.member($0, "admin") } + [
                    Self.member(alice, "initiator"), Self.member(bob, "approver"), Self.member(carol, "approver"),
                ]),
            "signers": [
                [
                    "id": "vault-a", "name": "Vault A",
                    "identityKey": .string(Hex.encode(identity.publicKey.xOnly.key.bytes)), "fingerprint": "0badf00d",
                ]
            ],
            "assets": [], "wallets": [], "addressBook": [],
            "rules": [
                "initiators": ["alice"], "transfers": [], "maxIntentLifetime": .number(Double(lifetime)),
                "addressBookDelay": 172_800,
            ],
            "governance": ["adminQuorum": 2, "highQuorum": 3, "highChangeDelay": 172_800],
        ]
        if let previous { doc["previous"] = .string(previous.description) }
        return .object(doc)
    }

    static func sign(_ digest: DocumentHash, by p: Person) -> MemberSignature {
        MemberSignature(
            member: try! MemberID(p.id), credential: try! CredentialID(p.credentialID),
            evidence: try! p.key.sign(digest: digest.bytes))
    }

    func signedPolicy(_ json: JSONValue, by signers: [Person]) throws -> SignedPolicy {
        let p = try Policy(json: json)
        return SignedPolicy(policy: p, signatures: signers.map { Self.sign(p.hash, by: $0) })
    }

    func intentJSON(id: String, amount: String, policy: Policy, organization: String = "acme") -> JSONValue {
        [
            "kind": "kura.intent", "format": 1, "type": "transfer", "id": .string(id),
            "organization": .string(organization), "policy": .string(policy.hash.description),
            "wallet": "btc-main", "asset": "btc",
            "destination": ["entry": "exchange", "address": "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"],
            "amount": .string(amount), "feeCap": ["maxAbsolute": "20000", "maxRatePerKvB": "20000"],
            "memo": "payout",
            "nonce": .string(Hex.encode(Array(id.utf8) + [UInt8](repeating: 1, count: 32 - id.utf8.count))),
            "created": .number(Double(Self.created + 100)), "expires": .number(Double(Self.created + 3700)),
            "initiator": "alice",
        ]
    }

    func signedIntent(
        id: String, amount: String, policy: Policy, organization: String = "acme", by p: Person? = nil
    ) throws -> SignedIntent {
        let i = try Intent(json: intentJSON(id: id, amount: amount, policy: policy, organization: organization))
        return SignedIntent(intent: i, signature: Self.sign(i.digest, by: p ?? alice))
    }

    func approval(of intent: Intent, by p: Person, decision: Approval.Decision = .approve) throws -> SignedApproval {
        let a = try Approval(
            json: Approval.document(
                intent: intent.digest, decision: decision, approver: MemberID(p.id),
                time: Timestamp(seconds: Self.created + 200)))
        return SignedApproval(approval: a, signature: Self.sign(a.digest, by: p))
    }

    /// A receipt of vault-a, signed by `key` (the identity key by default).
    func receipt(
        sequence: UInt64, intent: Intent, previous: DocumentHash?, transaction: String? = nil,
        key: PrivateKey? = nil
    ) throws -> SignedReceipt {
        var o: [String: JSONValue] = [
            "kind": "kura.receipt", "format": 1, "signer": "vault-a", "sequence": .number(Double(sequence)),
            "intent": .string(intent.digest.description),
            "transaction": .string(transaction ?? String(repeating: String(sequence), count: 64)),
            "time": .number(Double(Self.created + 300)),
        ]
        if let previous { o["previous"] = .string(previous.description) }
        let r = try Receipt(json: .object(o))
        return SignedReceipt(receipt: r, signature: try (key ?? identity).signSchnorr(message: r.digest.bytes))
    }
}

/// A small organisation and the audit log a coordinator would keep for it, built the way the server
/// builds it (``AuditRecord`` → ``AuditEvent``): two policy versions, two intents approved, built,
/// issued and signed by vault-a (receipts 1 and 2), and one intent rejected. Every part is a `var`,
/// so a test changes one thing and checks what the verifier reports.
struct AuditWorld {
    typealias Person = AuditKeys.Person
    static let created = AuditKeys.created
    static let organization = AuditKeys.organization

    let keys: AuditKeys
    /// The genesis policy hash (the export's `genesis`).
    let genesis: DocumentHash
    var policies: [SignedPolicy]
    var intents: [SignedIntent]
    var approvals: [SignedApproval]
    var transactions: [AuditExport.Transaction]
    var receipts: [SignedReceipt]
    var rejected: SignedIntent
    var rejection: SignedApproval

    /// The records, in order; tests edit, drop or insert records and documents, then call ``export()``.
    var records: [AuditRecord] = []
    var intentDocuments: [AuditExport.IntentDocument] = []
    var approvalDocuments: [AuditExport.ApprovalDocument] = []
    var bundleDocuments: [AuditExport.BundleDocument] = []
    var receiptDocuments: [SignedReceipt] = []
    /// Events to export instead of the chained ``records`` (set by tests that tamper with the chain itself).
    var fixedEvents: [AuditEvent]?

    init() throws {
        let k = try AuditKeys()
        keys = k
        let genesis = try k.signedPolicy(k.policyJSON(version: 1), by: [k.admins[0], k.admins[1]])
        let v2 = try k.signedPolicy(
            k.policyJSON(version: 2, previous: genesis.policy.hash, lifetime: 7200), by: [k.admins[0], k.admins[1]])
        policies = [genesis, v2]
        self.genesis = genesis.policy.hash
        var intents = [SignedIntent]()
        var approvals = [SignedApproval]()
        var transactions = [AuditExport.Transaction]()
        var receipts = [SignedReceipt]()
        for (n, amount) in ["50000000", "20000000"].enumerated() {
            let intent = try k.signedIntent(id: "intent-\(n + 1)", amount: amount, policy: v2.policy)
            intents.append(intent)
            approvals.append(try k.approval(of: intent.intent, by: n == 0 ? k.bob : k.carol))
            transactions.append(.bitcoin(psbt: Array("psbt".utf8) + [0xff, UInt8(n)]))
            receipts.append(
                try k.receipt(sequence: UInt64(n + 1), intent: intent.intent, previous: receipts.last?.receipt.digest))
        }
        self.intents = intents
        self.approvals = approvals
        self.transactions = transactions
        self.receipts = receipts
        rejected = try k.signedIntent(id: "intent-3", amount: "30000000", policy: v2.policy)
        rejection = try k.approval(of: rejected.intent, by: k.bob, decision: .reject)
        rebuild()
    }

    // MARK: The log

    static func submitted(_ s: SignedIntent) -> AuditRecord {
        let i = s.intent
        return .intentSubmitted(
            intent: i.id, digest: i.digest, initiator: i.initiator, wallet: i.wallet, asset: i.asset, amount: i.amount,
            destination: i.destinationAddress)
    }

    static func recorded(_ s: SignedApproval, for intent: IntentID) -> AuditRecord {
        .approvalRecorded(
            intent: intent, approver: s.approval.approver, decision: s.approval.decision, digest: s.approval.digest)
    }

    static func recorded(_ s: SignedReceipt, for intent: IntentID) -> AuditRecord {
        .receiptRecorded(
            intent: intent, signer: s.receipt.signer, sequence: s.receipt.sequence, digest: s.receipt.digest,
            intentDigest: s.receipt.intentDigest)
    }

    static func bundleHash(_ n: Int) -> DocumentHash { AuditExport.sha256(Array("bundle \(n)".utf8)) }

    /// Sets ``records`` and the document lists from the documents: the log a correct server keeps.
    mutating func rebuild() {
        records = [
            .organizationBootstrapped(organization: Self.organization, genesis: policies[0].policy.hash, name: "Acme"),
            .policyAppended(version: 1, hash: policies[0].policy.hash),
            .policyAppended(version: 2, hash: policies[1].policy.hash),
            .tokenIssued(member: try! MemberID("alice"), token: "tok-1"),
        ]
        intentDocuments = []
        approvalDocuments = []
        bundleDocuments = []
        for (n, s) in intents.enumerated() {
            let id = s.intent.id
            records += [
                Self.submitted(s), Self.recorded(approvals[n], for: id),
                .intentState(intent: id, from: .awaitingApprovals, to: .approved),
                .transactionBuilt(intent: id, chain: transactions[n].chain, sha256: transactions[n].computeSHA256()),
                .intentState(intent: id, from: .approved, to: .built),
                .bundleIssued(intent: id, sha256: Self.bundleHash(n)),
                .intentState(intent: id, from: .built, to: .signing),
                Self.recorded(receipts[n], for: id),
                .intentState(intent: id, from: .signing, to: .signed),
            ]
            intentDocuments.append(.init(id: id, document: s))
            approvalDocuments.append(.init(intent: id, document: approvals[n]))
            bundleDocuments.append(.init(intent: id, sha256: Self.bundleHash(n), transaction: transactions[n]))
        }
        records += [
            Self.submitted(rejected), Self.recorded(rejection, for: rejected.intent.id),
            .intentState(intent: rejected.intent.id, from: .awaitingApprovals, to: .rejected),
            .other(kind: "member.note", subject: "alice", payload: ["text": "a kind this build does not know"]),
        ]
        intentDocuments.append(.init(id: rejected.intent.id, document: rejected))
        approvalDocuments.append(.init(intent: rejected.intent.id, document: rejection))
        receiptDocuments = receipts
    }

    /// The chained events of ``records``.
    var events: [AuditEvent] {
        var out = [AuditEvent]()
        for (n, r) in records.enumerated() {
            out.append(
                AuditEvent(
                    following: out.last, organization: Self.organization, kind: r.kind, subject: r.subject,
                    payload: r.payload, at: try! Timestamp(seconds: Self.created + 1000 + Int64(n))))
        }
        return out
    }

    /// The export of the current records and documents, with `events` when given instead.
    func export(events: [AuditEvent]? = nil) -> AuditExport {
        AuditExport(
            organization: Self.organization, genesis: genesis,
            exportedAt: try! Timestamp(seconds: Self.created + 5000), events: events ?? fixedEvents ?? self.events,
            documents: .init(
                policies: policies, intents: intentDocuments, approvals: approvalDocuments, bundles: bundleDocuments,
                receipts: receiptDocuments))
    }

    /// The sequence of the first record matching `predicate`.
    func sequence(of predicate: (AuditRecord) -> Bool) -> Int64 {
        Int64(records.firstIndex(where: predicate)! + 1)
    }

    func sequence(_ kind: String, _ subject: String, occurrence: Int = 0) -> Int64 {
        let matches = records.indices.filter { records[$0].kind == kind && records[$0].subject == subject }
        return Int64(matches[occurrence] + 1)
    }
}
