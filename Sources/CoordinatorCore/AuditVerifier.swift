public import Governance

/// One thing an audit found wrong: a stable ``Code``, the event where it shows (if any), what it
/// concerns, and a reason for people.
public struct AuditFinding: Sendable, Hashable, CustomStringConvertible {
    /// A stable, extensible finding code (docs/AUDIT.md lists them all).
    public struct Code: Sendable, Hashable, Comparable, CustomStringConvertible {
        /// The code's stable name, e.g. `intent.mismatch`.
        public let name: String
        /// Creates a code.
        public init(_ name: String) { self.name = name }
        public var description: String { name }
        public static func < (a: Code, b: Code) -> Bool { a.name < b.name }

        /// The first broken link of the hash chain: an event edited, dropped, inserted or reordered.
        public static let chainBroken = Code("chain.broken")
        /// The export's genesis is not the one the auditor pinned.
        public static let genesisMismatch = Code("genesis.mismatch")
        /// The log does not start with the organisation's bootstrap, or bootstraps it again.
        public static let organizationBootstrap = Code("organization.bootstrap")
        /// A known event kind whose subject or payload breaks its schema.
        public static let eventPayload = Code("event.payload")
        /// An event about an intent the log never showed as submitted, or a second submission.
        public static let eventSubject = Code("event.subject")
        /// The policy documents do not verify as a chain from the genesis.
        public static let policyChain = Code("policy.chain")
        /// A policy document differs from the hash its `policy.appended` event recorded.
        public static let policyMismatch = Code("policy.mismatch")
        /// A policy document no `policy.appended` event records.
        public static let policyUnrecorded = Code("policy.unrecorded")
        /// A `policy.appended` event whose document is not in the export.
        public static let policyMissing = Code("policy.missing")
        /// An intent document differs from what its `intent.submitted` event recorded.
        public static let intentMismatch = Code("intent.mismatch")
        /// An intent's initiator signature does not verify under the policy it names.
        public static let intentSignature = Code("intent.signature")
        /// An intent names a policy that is not a verified version of this export.
        public static let intentPolicy = Code("intent.policy")
        /// An intent of another organisation.
        public static let intentOrganization = Code("intent.organization")
        /// An intent document no `intent.submitted` event records.
        public static let intentUnrecorded = Code("intent.unrecorded")
        /// An `intent.submitted` event whose document is not in the export.
        public static let intentMissing = Code("intent.missing")
        /// An `intent.state` event that does not continue from the intent's state, or is no lifecycle transition.
        public static let intentState = Code("intent.state")
        /// An approval document differs from its `approval.recorded` event, or names another intent.
        public static let approvalMismatch = Code("approval.mismatch")
        /// An approval's signature does not verify under the policy its intent names.
        public static let approvalSignature = Code("approval.signature")
        /// An approval document no `approval.recorded` event records.
        public static let approvalUnrecorded = Code("approval.unrecorded")
        /// An `approval.recorded` event whose document is not in the export.
        public static let approvalMissing = Code("approval.missing")
        /// A bundle's transaction or bundle hash differs from its `transaction.built` / `bundle.issued` event.
        public static let bundleMismatch = Code("bundle.mismatch")
        /// A bundle no `transaction.built` and `bundle.issued` events record.
        public static let bundleUnrecorded = Code("bundle.unrecorded")
        /// A `transaction.built` or `bundle.issued` event whose bundle is not in the export.
        public static let bundleMissing = Code("bundle.missing")
        /// A receipt not signed by its signer's identity key (or by a signer no policy lists).
        public static let receiptSignature = Code("receipt.signature")
        /// A receipt whose `previous` is not the digest of its signer's previous receipt.
        public static let receiptChain = Code("receipt.chain")
        /// A signer's receipts skip sequences: signatures the log does not show.
        public static let receiptGap = Code("receipt.gap")
        /// Two different receipts of one signer at one sequence (a rolled-back or cloned signer).
        public static let receiptFork = Code("receipt.fork")
        /// A receipt names an intent digest the log does not show as submitted and approved.
        public static let receiptIntent = Code("receipt.intent")
        /// A receipt differs from what its `receipt.recorded` event recorded.
        public static let receiptMismatch = Code("receipt.mismatch")
        /// A receipt no `receipt.recorded` event records.
        public static let receiptUnrecorded = Code("receipt.unrecorded")
        /// A `receipt.recorded` event whose receipt is neither in the export nor given.
        public static let receiptMissing = Code("receipt.missing")

        /// Every code, in the order of docs/AUDIT.md.
        public static let all: [Code] = [
            .chainBroken, .genesisMismatch, .organizationBootstrap, .eventPayload, .eventSubject, .policyChain,
            .policyMismatch, .policyUnrecorded, .policyMissing, .intentMismatch, .intentSignature, .intentPolicy,
            .intentOrganization, .intentUnrecorded, .intentMissing, .intentState, .approvalMismatch,
            .approvalSignature, .approvalUnrecorded, .approvalMissing, .bundleMismatch, .bundleUnrecorded,
            .bundleMissing, .receiptSignature, .receiptChain, .receiptGap, .receiptFork, .receiptIntent,
            .receiptMismatch, .receiptUnrecorded, .receiptMissing,
        ]
    }

    /// What went wrong.
    public let code: Code
    /// The sequence of the event where it shows; `nil` when no event does (a document nothing records).
    public let sequence: Int64?
    /// What it concerns: an intent id, a policy version, `SIGNER#SEQUENCE` for a receipt, the organisation.
    public let subject: String
    /// Why, for people.
    public let reason: String

    /// Creates a finding.
    public init(_ code: Code, sequence: Int64?, subject: String, _ reason: String) {
        self.code = code
        self.sequence = sequence
        self.subject = subject
        self.reason = reason
    }

    public var description: String {
        "\(code) at \(sequence.map { "event \($0)" } ?? "no event") [\(subject)]: \(reason)"
    }
}

/// What ``AuditVerifier/verify(_:receipts:pinnedGenesis:)`` checked and found.
public struct AuditReport: Sendable, Hashable {
    /// The last event of a log: record it, and a later rewrite of the whole chain shows.
    public struct Head: Sendable, Hashable {
        /// Its sequence.
        public let sequence: Int64
        /// Its hash.
        public let hash: DocumentHash
        /// Creates a head.
        public init(sequence: Int64, hash: DocumentHash) {
            self.sequence = sequence
            self.hash = hash
        }
    }

    /// Everything found wrong, ordered by event sequence (findings with no event last); empty when the log holds.
    public let findings: [AuditFinding]
    /// The number of events checked.
    public let events: Int
    /// The number of policy versions in the export.
    public let policies: Int
    /// How many of them verified as a chain from the genesis.
    public let verifiedPolicies: Int
    /// The number of stored intents checked.
    public let intents: Int
    /// The number of stored approvals checked.
    public let approvals: Int
    /// The number of stored bundles checked.
    public let bundles: Int
    /// The number of distinct receipts checked (from the export and given separately).
    public let receipts: Int
    /// The last event, if any.
    public let head: Head?
    /// Whether the genesis was pinned by the auditor (rather than taken from the export).
    public let genesisPinned: Bool

    /// Whether everything holds.
    public var holds: Bool { findings.isEmpty }
}

/// Verifies an exported audit log offline (docs/AUDIT.md): the hash chain, the organisation's bootstrap,
/// the policy chain and each policy's event, every stored intent, approval and bundle against the event
/// that recorded it and against the signatures it carries, and — the reconciliation — every signer
/// receipt against its signer's identity key, its signer's receipt chain, the intents the log shows as
/// submitted and approved, and the `receipt.recorded` events.
///
/// Pure: the export, the receipts and the pinned genesis go in, a report comes out. Every check runs
/// whatever the others found, so one tampered row is reported with everything it contradicts.
public enum AuditVerifier {
    /// Verifies `export`, reconciling it with `receipts` (from the signers; merged with the export's own),
    /// against `pinnedGenesis` when the auditor has one.
    public static func verify(_ export: AuditExport, receipts: [SignedReceipt] = [], pinnedGenesis: DocumentHash? = nil)
        -> AuditReport
    {
        var run = Run(export: export, pinnedGenesis: pinnedGenesis)
        run.checkChain()
        run.readEvents()
        run.checkPolicies()
        run.checkIntents()
        run.checkApprovals()
        run.checkBundles()
        let distinct = run.checkReceipts(export.documents.receipts + receipts)
        let findings = run.findings.enumerated().sorted { a, b in
            switch (a.element.sequence, b.element.sequence) {
            case (let x?, let y?): return x != y ? x < y : a.offset < b.offset
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return a.offset < b.offset
            }
        }.map(\.element)
        return AuditReport(
            findings: findings, events: export.events.count, policies: export.documents.policies.count,
            verifiedPolicies: run.policies.count, intents: export.documents.intents.count,
            approvals: export.documents.approvals.count, bundles: export.documents.bundles.count,
            receipts: distinct, head: export.events.last.map { AuditReport.Head(sequence: $0.sequence, hash: $0.hash) },
            genesisPinned: pinnedGenesis != nil)
    }

    /// The (from, to) pairs the intent lifecycle allows, derived from ``IntentLifecycle`` itself.
    public static let lifecycleTransitions: Set<Transition> = {
        let events: [IntentLifecycle.Event] = [
            .submitted, .approvalAdded(have: 1, need: 1), .rejected, .transactionBuilt, .bundleIssued,
            .signatureReturned(complete: true), .broadcast, .confirmation(depth: 1, required: 1), .dropped,
            .conflicted, .expiryPassed, .failure,
        ]
        var out = Set<Transition>()
        for state in IntentLifecycle.State.allCases {
            for event in events {
                var machine = IntentLifecycle(state: state)
                if (try? machine.handle(event)) != nil, machine.state != state {
                    out.insert(Transition(from: state, to: machine.state))
                }
            }
        }
        return out
    }()

    /// A change of an intent's state.
    public struct Transition: Sendable, Hashable {
        /// The state before.
        public let from: IntentLifecycle.State
        /// The state after.
        public let to: IntentLifecycle.State
        /// Creates a transition.
        public init(from: IntentLifecycle.State, to: IntentLifecycle.State) {
            self.from = from
            self.to = to
        }
    }

    /// The state an intent is in when `intent.submitted` is written.
    public static let submittedState = IntentLifecycle.State.awaitingApprovals
}

/// One verification: the export indexed by what the events say, and the findings so far.
private struct Run {
    let export: AuditExport
    let pinnedGenesis: DocumentHash?
    var findings: [AuditFinding] = []

    // What the events say, by intent and by document.
    var policyEvents: [Int64: (sequence: Int64, hash: DocumentHash)] = [:]
    var submitted: [IntentID: (sequence: Int64, record: AuditRecord)] = [:]
    var intentsByDigest: [DocumentHash: IntentID] = [:]
    var approvedAt: [IntentID: Int64] = [:]
    var approvalEvents:
        [IntentID: [(sequence: Int64, approver: MemberID, decision: Approval.Decision, digest: DocumentHash)]] = [:]
    var built: [IntentID: (sequence: Int64, chain: TransactionChain, sha256: DocumentHash)] = [:]
    var issued: [IntentID: (sequence: Int64, sha256: DocumentHash)] = [:]
    var receiptEvents:
        [(
            sequence: Int64, intent: IntentID, signer: SignerID, number: UInt64, digest: DocumentHash,
            intentDigest: DocumentHash
        )] = []
    /// Indexes of ``receiptEvents``: the first event of each receipt digest, and the events of each signer's sequence.
    var receiptEventByDigest: [DocumentHash: Int] = [:]
    var receiptEventsBySlot: [ReceiptSlot: [Int]] = [:]

    struct ReceiptSlot: Hashable {
        let signer: SignerID
        let number: UInt64
    }

    // What the documents verified.
    var policies: [VerifiedPolicy] = []
    var policiesByHash: [DocumentHash: VerifiedPolicy] = [:]
    var intentPolicy: [DocumentHash: VerifiedPolicy] = [:]  // by intent digest (as recorded)

    init(export: AuditExport, pinnedGenesis: DocumentHash?) {
        self.export = export
        self.pinnedGenesis = pinnedGenesis
    }

    var organization: String { export.organization.value }

    mutating func add(_ code: AuditFinding.Code, _ sequence: Int64?, _ subject: String, _ reason: String) {
        findings.append(AuditFinding(code, sequence: sequence, subject: subject, reason))
    }

    // MARK: The chain and the events

    mutating func checkChain() {
        guard let broken = AuditEvent.firstBreak(in: export.events) else { return }
        let present = Set(export.events.map(\.sequence))
        var previous: AuditEvent?
        for event in export.events {
            let expected = (previous?.sequence ?? 0) + 1
            let reason: String?
            if event.sequence > expected, present.contains(expected) {
                reason = "event \(event.sequence) comes before event \(expected): the events are out of order"
            } else if event.sequence > expected {
                reason =
                    "event \(event.sequence) follows event \(expected - 1): \(event.sequence - expected == 1 ? "event \(expected) is" : "events \(expected)–\(event.sequence - 1) are") missing"
            } else if event.sequence < expected {
                reason =
                    "event \(event.sequence) appears after event \(expected - 1): the events are out of order or repeated"
            } else if event.previousHash != (previous?.hash ?? AuditEvent.genesisPrevious) {
                reason =
                    "event \(event.sequence) does not name event \(expected - 1)'s hash: an earlier event was edited, dropped or reordered"
            } else if !event.hasValidHash {
                reason = "event \(event.sequence)'s hash does not match its contents: it was edited"
            } else {
                reason = nil
            }
            if let reason {
                // The same walk as AuditEvent.firstBreak, with the reason.
                add(.chainBroken, broken, event.subject, reason)
                return
            }
            previous = event
        }
        add(.chainBroken, broken, "", "event \(broken) breaks the chain")
    }

    mutating func readEvents() {
        guard let first = export.events.first else {
            add(
                .organizationBootstrap, nil, organization,
                "the log has no events: it must start with organization.bootstrapped")
            if let pinnedGenesis, pinnedGenesis != export.genesis {
                add(
                    .genesisMismatch, nil, organization,
                    "the export's genesis \(export.genesis) is not the pinned genesis \(pinnedGenesis)")
            }
            return
        }
        if let pinnedGenesis, pinnedGenesis != export.genesis {
            add(
                .genesisMismatch, nil, organization,
                "the export's genesis \(export.genesis) is not the pinned genesis \(pinnedGenesis)")
        }
        if first.kind != "organization.bootstrapped" {
            add(
                .organizationBootstrap, first.sequence, organization,
                "the log starts with \(first.kind), not organization.bootstrapped")
        }
        var state: [IntentID: IntentLifecycle.State] = [:]
        for (index, event) in export.events.enumerated() {
            let record: AuditRecord
            do { record = try AuditRecord(decoding: event) } catch {
                add(.eventPayload, event.sequence, event.subject, error.reason)
                continue
            }
            let s = event.sequence
            if let intent = record.intent {
                if case .intentSubmitted = record {
                    if let earlier = submitted[intent] {
                        add(
                            .eventSubject, s, intent.value,
                            "intent \(intent) is submitted again (first at event \(earlier.sequence))")
                        continue
                    }
                } else if submitted[intent] == nil {
                    add(
                        .eventSubject, s, intent.value,
                        "\(event.kind) about intent \(intent), which no earlier event submitted")
                    continue
                }
            }
            switch record {
            case .organizationBootstrapped(let org, let genesis, _):
                if index != 0 {
                    add(.organizationBootstrap, s, org.value, "the organisation is bootstrapped again")
                } else if org != export.organization {
                    add(
                        .organizationBootstrap, s, org.value,
                        "the log bootstraps organisation \(org), not \(export.organization)")
                } else if genesis != export.genesis {
                    add(
                        .organizationBootstrap, s, org.value,
                        "the bootstrap recorded genesis \(genesis), the export names \(export.genesis)")
                }
            case .policyAppended(let version, let hash):
                if let earlier = policyEvents[version] {
                    add(
                        .policyMismatch, s, "policy \(version)",
                        "policy version \(version) is appended again (first at event \(earlier.sequence))")
                } else {
                    policyEvents[version] = (s, hash)
                }
            case .intentSubmitted(let intent, let digest, _, _, _, _, _):
                submitted[intent] = (s, record)
                if let other = intentsByDigest[digest] {
                    add(.eventSubject, s, intent.value, "intent \(intent) has the digest of intent \(other)")
                } else {
                    intentsByDigest[digest] = intent
                }
                state[intent] = AuditVerifier.submittedState
            case .intentState(let intent, let from, let to):
                let current = state[intent] ?? AuditVerifier.submittedState
                if from != current {
                    add(
                        .intentState, s, intent.value,
                        "event \(s) moves intent \(intent) from \(from.rawValue), but it was \(current.rawValue)")
                } else if !AuditVerifier.lifecycleTransitions.contains(.init(from: from, to: to)) {
                    add(
                        .intentState, s, intent.value,
                        "\(from.rawValue) → \(to.rawValue) is not a transition of the intent lifecycle")
                }
                state[intent] = to
                if to == .approved, approvedAt[intent] == nil { approvedAt[intent] = s }
            case .approvalRecorded(let intent, let approver, let decision, let digest):
                approvalEvents[intent, default: []].append((s, approver, decision, digest))
            case .transactionBuilt(let intent, let chain, let sha256):
                if let earlier = built[intent] {
                    add(
                        .eventSubject, s, intent.value,
                        "a transaction for intent \(intent) is built again (first at event \(earlier.sequence))")
                } else {
                    built[intent] = (s, chain, sha256)
                }
            case .bundleIssued(let intent, let sha256):
                if let earlier = issued[intent] {
                    add(
                        .eventSubject, s, intent.value,
                        "a bundle for intent \(intent) is issued again (first at event \(earlier.sequence))")
                } else {
                    issued[intent] = (s, sha256)
                }
            case .receiptRecorded(let intent, let signer, let number, let digest, let intentDigest):
                if receiptEventByDigest[digest] == nil { receiptEventByDigest[digest] = receiptEvents.count }
                receiptEventsBySlot[ReceiptSlot(signer: signer, number: number), default: []].append(
                    receiptEvents.count)
                receiptEvents.append((s, intent, signer, number, digest, intentDigest))
            case .transactionBroadcast(let intent, _, _), .transactionRefused(let intent, _, _),
                .transactionConfirmed(let intent, _, _, _):
                // Chain events come only once the intent is signed (its state moves are checked above).
                let current = state[intent] ?? AuditVerifier.submittedState
                if ![.signed, .broadcast, .confirmed, .failed].contains(current) {
                    add(
                        .eventSubject, s, intent.value,
                        "\(event.kind) about intent \(intent), which is \(current.rawValue), not signed")
                }
            case .tokenIssued, .tokenRevoked, .other:
                break
            }
        }
    }

    // MARK: Policies

    mutating func checkPolicies() {
        let documents = export.documents.policies
        // Against the export's genesis: a pin that differs is one finding (genesis.mismatch), and the
        // checks below still say what else holds.
        let history = PolicyChain.verifyHistory(documents, genesis: export.genesis)
        policies = history.verified
        for p in policies { policiesByHash[p.hash] = p }
        if let failure = history.failure {
            let failed = documents.indices.contains(policies.count) ? documents[policies.count].policy.version : nil
            add(
                .policyChain, failed.flatMap { policyEvents[$0]?.sequence },
                failed.map { "policy \($0)" } ?? "policies",
                "the policy chain does not verify from the genesis: \(failure.reason)")
        }
        var documented = Set<Int64>()
        for signed in documents {
            let p = signed.policy
            documented.insert(p.version)
            guard let event = policyEvents[p.version] else {
                add(
                    .policyUnrecorded, nil, "policy \(p.version)",
                    "policy version \(p.version) (hash \(p.hash)) is stored but no policy.appended event records it")
                continue
            }
            if event.hash != p.hash {
                add(
                    .policyMismatch, event.sequence, "policy \(p.version)",
                    "policy version \(p.version)'s stored document (hash \(p.hash)) does not match the hash recorded at event \(event.sequence) (\(event.hash))"
                )
            }
        }
        for (version, event) in policyEvents.sorted(by: { $0.key < $1.key }) where !documented.contains(version) {
            add(
                .policyMissing, event.sequence, "policy \(version)",
                "policy version \(version) is appended at event \(event.sequence) but its document is not in the export"
            )
        }
    }

    // MARK: Intents, approvals, bundles

    mutating func checkIntents() {
        var documented = Set<IntentID>()
        for entry in export.documents.intents {
            let signed = entry.document
            let intent = signed.intent
            documented.insert(entry.id)
            guard
                case .intentSubmitted(
                    _, let digest, let initiator, let wallet, let asset, let amount, let destination)? =
                    submitted[entry.id]?.record, let s = submitted[entry.id]?.sequence
            else {
                add(
                    .intentUnrecorded, nil, entry.id.value,
                    "intent \(entry.id) is stored but no intent.submitted event records it")
                continue
            }
            var differs = [String]()
            if intent.id != entry.id { differs.append("its id is \(intent.id)") }
            if intent.initiator != initiator { differs.append("initiator") }
            if intent.wallet != wallet { differs.append("wallet") }
            if intent.asset != asset { differs.append("asset") }
            if intent.amount != amount { differs.append("amount") }
            if intent.destinationAddress != destination { differs.append("destination") }
            if intent.digest != digest {
                add(
                    .intentMismatch, s, entry.id.value,
                    "intent \(entry.id)'s stored document does not match the digest recorded at event \(s) (stored digest \(intent.digest), recorded \(digest)\(differs.isEmpty ? "" : "; differs in " + differs.joined(separator: ", ")))"
                )
            } else if !differs.isEmpty {
                add(
                    .intentMismatch, s, entry.id.value,
                    "intent \(entry.id)'s stored document does not match what event \(s) recorded (\(differs.joined(separator: ", ")))"
                )
            }
            guard intent.organization == export.organization else {
                add(
                    .intentOrganization, s, entry.id.value,
                    "intent \(entry.id) belongs to organisation \(intent.organization)")
                continue
            }
            guard let policy = policiesByHash[intent.policy] else {
                add(
                    .intentPolicy, s, entry.id.value,
                    "intent \(entry.id) names policy \(intent.policy), which is not a verified version of this export")
                continue
            }
            intentPolicy[digest] = policy
            do { _ = try Authorization.verify(signed, policy: policy) } catch {
                add(
                    .intentSignature, s, entry.id.value,
                    "intent \(entry.id)'s initiator signature does not verify under policy version \(policy.policy.version): \(error.reason)"
                )
            }
        }
        for (id, event) in submitted.sorted(by: { $0.value.sequence < $1.value.sequence })
        where !documented.contains(id) {
            add(
                .intentMissing, event.sequence, id.value,
                "intent \(id) is submitted at event \(event.sequence) but its document is not in the export")
        }
    }

    mutating func checkApprovals() {
        // An event of this approver that recorded another digest is a mismatch, unless that digest is stored
        // for this intent too (then this document is simply unrecorded).
        var stored = [IntentID: Set<DocumentHash>]()
        for entry in export.documents.approvals {
            stored[entry.intent, default: []].insert(entry.document.approval.digest)
        }
        var accounted = Set<Int64>()
        for entry in export.documents.approvals {
            let a = entry.document.approval
            let who = "\(entry.intent)/\(a.approver)"
            guard case .intentSubmitted(_, let intentDigest, _, _, _, _, _)? = submitted[entry.intent]?.record else {
                add(
                    .approvalUnrecorded, nil, who,
                    "an approval by \(a.approver) is stored for intent \(entry.intent), which no event submitted")
                continue
            }
            let events = approvalEvents[entry.intent] ?? []
            if let e = events.first(where: { $0.digest == a.digest }) {
                accounted.insert(e.sequence)
                if e.approver != a.approver || e.decision != a.decision {
                    add(
                        .approvalMismatch, e.sequence, who,
                        "the approval recorded at event \(e.sequence) says \(e.approver) \(e.decision.rawValue)d; the stored document says \(a.approver) \(a.decision.rawValue)d"
                    )
                }
            } else if let e = events.first(where: {
                $0.approver == a.approver && !(stored[entry.intent]?.contains($0.digest) ?? false)
            }) {
                accounted.insert(e.sequence)
                add(
                    .approvalMismatch, e.sequence, who,
                    "\(a.approver)'s stored approval of intent \(entry.intent) does not match the digest recorded at event \(e.sequence)"
                )
            } else {
                add(
                    .approvalUnrecorded, nil, who,
                    "\(a.approver)'s approval of intent \(entry.intent) is stored but no approval.recorded event records it"
                )
            }
            if a.intent != intentDigest {
                add(
                    .approvalMismatch, submitted[entry.intent]?.sequence, who,
                    "\(a.approver)'s approval names intent digest \(a.intent), not intent \(entry.intent)'s \(intentDigest)"
                )
            }
            if let policy = intentPolicy[intentDigest] {
                do { _ = try Authorization.verify(entry.document, policy: policy) } catch {
                    add(
                        .approvalSignature, events.first(where: { $0.digest == a.digest })?.sequence, who,
                        "\(a.approver)'s approval signature does not verify under policy version \(policy.policy.version): \(error.reason)"
                    )
                }
            }
        }
        for (intent, events) in approvalEvents {
            for e in events where !accounted.contains(e.sequence) {
                add(
                    .approvalMissing, e.sequence, "\(intent)/\(e.approver)",
                    "\(e.approver)'s approval of intent \(intent) is recorded at event \(e.sequence) but its document is not in the export"
                )
            }
        }
    }

    mutating func checkBundles() {
        var documented = Set<IntentID>()
        for b in export.documents.bundles {
            documented.insert(b.intent)
            let id = b.intent.value
            guard let t = built[b.intent] else {
                add(
                    .bundleUnrecorded, nil, id,
                    "a bundle is stored for intent \(b.intent) but no transaction.built event records its transaction")
                continue
            }
            let sha = b.transaction.computeSHA256()
            if t.chain != b.transaction.chain || t.sha256 != sha {
                add(
                    .bundleMismatch, t.sequence, id,
                    "intent \(b.intent)'s stored \(b.transaction.chain.rawValue) transaction (sha256 \(sha)) does not match the transaction recorded at event \(t.sequence) (\(t.chain.rawValue), sha256 \(t.sha256))"
                )
            }
            guard let i = issued[b.intent] else {
                add(
                    .bundleUnrecorded, nil, id,
                    "a bundle is stored for intent \(b.intent) but no bundle.issued event records it")
                continue
            }
            if i.sha256 != b.sha256 {
                add(
                    .bundleMismatch, i.sequence, id,
                    "intent \(b.intent)'s stored bundle (sha256 \(b.sha256)) does not match the bundle recorded at event \(i.sequence) (sha256 \(i.sha256))"
                )
            }
        }
        var missing = [(Int64, IntentID, String)]()
        for (intent, t) in built where !documented.contains(intent) {
            missing.append((t.sequence, intent, "transaction.built"))
        }
        for (intent, i) in issued where !documented.contains(intent) {
            missing.append((i.sequence, intent, "bundle.issued"))
        }
        for (sequence, intent, kind) in missing.sorted(by: { $0.0 < $1.0 }) {
            add(
                .bundleMissing, sequence, intent.value,
                "\(kind) for intent \(intent) at event \(sequence), but the bundle is not in the export")
        }
    }

    // MARK: Receipts

    /// Checks the distinct receipts of `all` (by digest) and returns how many there were.
    mutating func checkReceipts(_ all: [SignedReceipt]) -> Int {
        var receipts = [SignedReceipt]()
        var seen = Set<DocumentHash>()
        for r in all where seen.insert(r.receipt.digest).inserted { receipts.append(r) }

        // An event that recorded another digest at this receipt's place is a mismatch, unless that other
        // receipt is here too (then this one is simply unrecorded: a second receipt at one sequence).
        let known = Set(receipts.map(\.receipt.digest))
        var accounted = Set<Int64>()
        var genuine = [SignerID: [Receipt]]()
        for signed in receipts {
            let r = signed.receipt
            let name = "\(r.signer)#\(r.sequence)"
            let recorded = receiptEventByDigest[r.digest].map { receiptEvents[$0] }
            // The signature: under the identity key of the signer in the policy its intent names, or else in
            // any verified version.
            let candidates = intentPolicy[r.intentDigest].map { [$0] } ?? policies.reversed()
            let listing = candidates.filter { $0.policy.signer(r.signer) != nil }
            if listing.isEmpty {
                add(
                    .receiptSignature, recorded?.sequence, name,
                    "receipt \(name): no verified policy version lists signer \(r.signer)")
            } else if !listing.contains(where: { (try? signed.verify(in: $0.policy)) != nil }) {
                add(
                    .receiptSignature, recorded?.sequence, name,
                    "receipt \(name) is not signed by \(r.signer)'s identity key in policy version \(listing[0].policy.version)"
                )
            } else {
                genuine[r.signer, default: []].append(r)
            }
            // The intent it names: submitted, and approved before the receipt was recorded.
            if let intent = intentsByDigest[r.intentDigest] {
                if let approved = approvedAt[intent] {
                    if let recorded, recorded.sequence < approved {
                        add(
                            .receiptIntent, recorded.sequence, name,
                            "receipt \(name) for intent \(intent) is recorded at event \(recorded.sequence), before the intent was approved at event \(approved)"
                        )
                    }
                } else {
                    add(
                        .receiptIntent, recorded?.sequence, name,
                        "receipt \(name) signs intent \(intent), which the log never shows as approved")
                }
            } else {
                add(
                    .receiptIntent, recorded?.sequence, name,
                    "receipt \(name) signs intent digest \(r.intentDigest), which the log never shows as submitted")
            }
            // The event that recorded it.
            if let e = recorded {
                accounted.insert(e.sequence)
                var differs = [String]()
                if e.signer != r.signer { differs.append("signer \(e.signer)") }
                if e.number != r.sequence { differs.append("sequence \(e.number)") }
                if e.intentDigest != r.intentDigest { differs.append("intent digest \(e.intentDigest)") }
                if case .intentSubmitted(_, let d, _, _, _, _, _)? = submitted[e.intent]?.record, d != r.intentDigest {
                    differs.append("intent \(e.intent), whose digest is \(d)")
                }
                if !differs.isEmpty {
                    add(
                        .receiptMismatch, e.sequence, name,
                        "receipt \(name) does not match event \(e.sequence), which records \(differs.joined(separator: ", "))"
                    )
                }
            } else if let e = (receiptEventsBySlot[ReceiptSlot(signer: r.signer, number: r.sequence)] ?? [])
                .map({ [receiptEvents] in receiptEvents[$0] }).first(where: { !known.contains($0.digest) })
            {
                accounted.insert(e.sequence)
                add(
                    .receiptMismatch, e.sequence, name,
                    "receipt \(name) (digest \(r.digest)) does not match the digest recorded at event \(e.sequence) (\(e.digest))"
                )
            } else {
                add(
                    .receiptUnrecorded, nil, name,
                    "receipt \(name) (digest \(r.digest)) for intent digest \(r.intentDigest) is not recorded by any receipt.recorded event"
                )
            }
        }
        for e in receiptEvents where !accounted.contains(e.sequence) {
            add(
                .receiptMissing, e.sequence, "\(e.signer)#\(e.number)",
                "receipt \(e.signer)#\(e.number) (digest \(e.digest)) is recorded at event \(e.sequence) but is neither in the export nor given"
            )
        }
        // Each signer's genuine receipts form one chain from sequence 1.
        for (signer, list) in genuine.sorted(by: { $0.key < $1.key }) {
            checkChain(of: signer, list)
        }
        return receipts.count
    }

    mutating func checkChain(of signer: SignerID, _ list: [Receipt]) {
        let bySequence = Dictionary(grouping: list, by: \.sequence)
        func eventSequence(_ r: Receipt) -> Int64? { receiptEventByDigest[r.digest].map { receiptEvents[$0].sequence } }
        var expected: UInt64 = 1
        var previous: Receipt?
        for sequence in bySequence.keys.sorted() {
            let at = bySequence[sequence] ?? []
            let name = "\(signer)#\(sequence)"
            if at.count > 1 {
                add(
                    .receiptFork, at.compactMap(eventSequence).min(), name,
                    "\(at.count) different receipts of \(signer) at sequence \(sequence): its state was rolled back or cloned"
                )
            }
            if sequence > expected {
                add(
                    .receiptGap, at.compactMap(eventSequence).min(), name,
                    "\(signer)'s receipts skip \(sequence - expected == 1 ? "sequence \(expected)" : "sequences \(expected)–\(sequence - 1)"): signatures the log does not show"
                )
            }
            for r in at {
                let wanted = sequence == expected ? previous?.digest : nil
                if sequence == 1, let p = r.previous {
                    add(
                        .receiptChain, eventSequence(r), name,
                        "receipt \(name) is its signer's first but names a previous receipt \(p)")
                } else if sequence == expected, sequence > 1, previous != nil, r.previous != wanted {
                    add(
                        .receiptChain, eventSequence(r), name,
                        "receipt \(name) names previous \(r.previous?.description ?? "none"), not receipt \(signer)#\(sequence - 1)'s digest \(wanted?.description ?? "none")"
                    )
                }
            }
            previous = at.count == 1 ? at[0] : nil
            expected = sequence + 1
        }
    }
}

extension AuditReport {
    /// The JSON form (what `kura audit verify --json` prints): `{"holds", "events", "policies",
    /// "verifiedPolicies", "intents", "approvals", "bundles", "receipts", "genesisPinned", "head",
    /// "findings": [{"code", "sequence", "subject", "reason"}]}`; `head` and a finding's `sequence` are
    /// `null` when there is none.
    public var json: JSONValue {
        [
            "holds": .bool(holds), "events": .number(Double(events)), "policies": .number(Double(policies)),
            "verifiedPolicies": .number(Double(verifiedPolicies)), "intents": .number(Double(intents)),
            "approvals": .number(Double(approvals)), "bundles": .number(Double(bundles)),
            "receipts": .number(Double(receipts)), "genesisPinned": .bool(genesisPinned),
            "head": head.map { ["sequence": .number(Double($0.sequence)), "hash": .string($0.hash.description)] }
                ?? .null,
            "findings": .array(
                findings.map { f in
                    [
                        "code": .string(f.code.name), "sequence": f.sequence.map { .number(Double($0)) } ?? .null,
                        "subject": .string(f.subject), "reason": .string(f.reason),
                    ]
                }),
        ]
    }
}
