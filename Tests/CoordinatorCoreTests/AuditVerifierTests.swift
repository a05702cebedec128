import CoordinatorCore
import Governance
import Testing
import WalletCrypto

/// One way the log or its documents can be wrong, and exactly what the verifier must report for it
/// (`code@sequence`, `code@-` when no event shows it).
struct AuditScenario: Sendable, CustomTestStringConvertible {
    struct Outcome {
        var expected: [String]
        var receipts: [SignedReceipt] = []
        var pinned: DocumentHash? = nil
    }

    let name: String
    let run: @Sendable (inout AuditWorld) throws -> Outcome

    var testDescription: String { name }
}

func found(_ w: AuditWorld, receipts: [SignedReceipt] = [], pinned: DocumentHash? = nil) -> [String] {
    AuditVerifier.verify(w.export(), receipts: receipts, pinnedGenesis: pinned).findings.map {
        "\($0.code)@\($0.sequence.map(String.init) ?? "-")"
    }.sorted()
}

@Suite("Audit verifier")
struct AuditVerifierTests {
    @Test func theCleanLogHolds() throws {
        let w = try AuditWorld()
        let report = AuditVerifier.verify(w.export(), pinnedGenesis: w.policies[0].policy.hash)
        #expect(report.findings == [])
        #expect(report.holds && report.genesisPinned)
        #expect(report.events == w.records.count && report.policies == 2 && report.verifiedPolicies == 2)
        #expect(report.intents == 3 && report.approvals == 3 && report.bundles == 2 && report.receipts == 2)
        #expect(report.head == .init(sequence: Int64(w.records.count), hash: w.events.last!.hash))
        // The signers' own copies of the receipts, given beside the export's, are the same receipts.
        #expect(AuditVerifier.verify(w.export(), receipts: w.receipts).receipts == 2)
        #expect(AuditVerifier.verify(w.export(), receipts: w.receipts).holds)
        // Its JSON form.
        let json = report.json
        #expect(json["holds"] == true && json["findings"] == [] && json["events"] == .number(Double(w.records.count)))
    }

    @Test(arguments: AuditVerifierTests.scenarios)
    func reports(_ scenario: AuditScenario) throws {
        var w = try AuditWorld()
        #expect(found(w).isEmpty, "positive control")
        let outcome = try scenario.run(&w)
        #expect(found(w, receipts: outcome.receipts, pinned: outcome.pinned) == outcome.expected.sorted())
    }

    @Test func everyFindingCodeHasAScenario() throws {
        var codes = Set<String>()
        for s in Self.scenarios {
            var w = try AuditWorld()
            for e in try s.run(&w).expected { codes.insert(String(e.prefix { $0 != "@" })) }
        }
        #expect(codes == Set(AuditFinding.Code.all.map(\.name)))
    }

    @Test func theChainBreakIsTheFirstBrokenLinkOfAuditEvent() throws {
        let w = try AuditWorld()
        let events = w.events
        for drop in [0, 3, events.count - 1] {
            var e = events
            e.remove(at: drop)
            let report = AuditVerifier.verify(w.export(events: e))
            let broken = report.findings.filter { $0.code == .chainBroken }
            #expect(broken.count == (drop == events.count - 1 ? 0 : 1))
            #expect(broken.first?.sequence == AuditEvent.firstBreak(in: e))
        }
    }

    @Test func theLifecycleTransitionsComeFromTheLifecycle() {
        let t = AuditVerifier.lifecycleTransitions
        for (from, to) in [
            (IntentLifecycle.State.awaitingApprovals, IntentLifecycle.State.approved), (.approved, .built),
            (.built, .signing), (.signing, .signed), (.signed, .broadcast), (.broadcast, .confirmed),
            (.awaitingApprovals, .rejected), (.signing, .expired), (.broadcast, .failed),
        ] {
            #expect(t.contains(.init(from: from, to: to)), "\(from) → \(to)")
        }
        for (from, to) in [
            (IntentLifecycle.State.rejected, IntentLifecycle.State.approved), (.awaitingApprovals, .built),
            (.signed, .signing), (.confirmed, .failed), (.built, .built),
        ] {
            #expect(!t.contains(.init(from: from, to: to)), "\(from) → \(to)")
        }
    }

    // MARK: The scenarios

    static let scenarios: [AuditScenario] = [
        // The chain.
        .init(name: "an edited event") { w in
            let s = w.sequence("intent.submitted", "intent-1")
            var events = w.events
            let e = events[Int(s) - 1]
            events[Int(s) - 1] = AuditEvent(
                stored: e.organization, sequence: e.sequence, kind: e.kind, subject: e.subject, payload: e.payload,
                at: e.at.adding(seconds: 1), previousHash: e.previousHash, hash: e.hash)
            let edited = events
            w = try w.with(events: edited)
            return .init(expected: ["chain.broken@\(s)"])
        },
        .init(name: "a dropped event") { w in
            let s = w.sequence("token.issued", "alice")
            var events = w.events
            events.remove(at: Int(s) - 1)
            let dropped = events
            w = try w.with(events: dropped)
            return .init(expected: ["chain.broken@\(s + 1)"])
        },
        .init(name: "two events swapped") { w in
            let s = w.sequence("transaction.built", "intent-2")
            var events = w.events
            events.swapAt(Int(s) - 1, Int(s))
            let swapped = events
            w = try w.with(events: swapped)
            return .init(expected: ["chain.broken@\(s + 1)"])
        },
        .init(name: "another pinned genesis") { w in
            .init(expected: ["genesis.mismatch@-"], pinned: w.policies[1].policy.hash)
        },
        .init(name: "a log that does not start with the bootstrap") { w in
            w.records.removeFirst()
            return .init(expected: ["organization.bootstrap@1"])
        },
        .init(name: "a second bootstrap") { w in
            w.records.append(w.records[0])
            return .init(expected: ["organization.bootstrap@\(w.records.count)"])
        },
        .init(name: "a bootstrap with another genesis") { w in
            w.records[0] = .organizationBootstrapped(
                organization: AuditWorld.organization, genesis: w.policies[1].policy.hash, name: "Acme")
            return .init(expected: ["organization.bootstrap@1"])
        },
        .init(name: "a known kind with a malformed payload") { w in
            w.records.append(.other(kind: "token.issued", subject: "alice", payload: ["token": 5]))
            return .init(expected: ["event.payload@\(w.records.count)"])
        },
        .init(name: "an event about an intent never submitted") { w in
            w.records.append(.intentState(intent: try IntentID("ghost"), from: .awaitingApprovals, to: .approved))
            return .init(expected: ["event.subject@\(w.records.count)"])
        },
        .init(name: "an intent submitted twice") { w in
            w.records.append(AuditWorld.submitted(w.intents[0]))
            return .init(expected: ["event.subject@\(w.records.count)"])
        },
        // Policies.
        .init(name: "a policy version without its quorum") { w in
            let k = w.keys
            w.policies[1] = try k.signedPolicy(w.policies[1].policy.document, by: [k.admins[0]])
            w.rebuild()
            // Nothing its admins signed can be trusted: the intents naming it cannot be checked either.
            return .init(expected: [
                "policy.chain@3", "intent.policy@\(w.sequence("intent.submitted", "intent-1"))",
                "intent.policy@\(w.sequence("intent.submitted", "intent-2"))",
                "intent.policy@\(w.sequence("intent.submitted", "intent-3"))",
            ])
        },
        .init(name: "a policy event with another hash") { w in
            w.records[2] = .policyAppended(version: 2, hash: w.policies[0].policy.hash)
            return .init(expected: ["policy.mismatch@3"])
        },
        .init(name: "a policy version appended twice") { w in
            w.records.append(w.records[2])
            return .init(expected: ["policy.mismatch@\(w.records.count)"])
        },
        .init(name: "a policy nobody appended") { w in
            w.records.remove(at: 2)
            return .init(expected: ["policy.unrecorded@-"])
        },
        .init(name: "an appended policy that is not in the export") { w in
            w.records.append(.policyAppended(version: 3, hash: w.policies[0].policy.hash))
            return .init(expected: ["policy.missing@\(w.records.count)"])
        },
        // Intents.
        .init(name: "an intent row edited (and re-signed by its initiator)") { w in
            let s = w.sequence("intent.submitted", "intent-1")
            let edited = try w.keys.signedIntent(id: "intent-1", amount: "51000000", policy: w.policies[1].policy)
            w.intentDocuments[0] = .init(id: w.intentDocuments[0].id, document: edited)
            return .init(expected: ["intent.mismatch@\(s)"])
        },
        .init(name: "an intent stored under another id") { w in
            w.intentDocuments[0] = .init(id: try IntentID("intent-1"), document: w.intents[1])
            return .init(expected: ["intent.mismatch@\(w.sequence("intent.submitted", "intent-1"))"])
        },
        .init(name: "an intent signed by someone else") { w in
            let s = w.sequence("intent.submitted", "intent-1")
            let i = w.intents[0].intent
            let forged = MemberSignature(
                member: try MemberID("alice"), credential: try CredentialID("alice-key"),
                evidence: try w.keys.bob.key.sign(digest: i.digest.bytes))
            w.intentDocuments[0] = .init(id: i.id, document: SignedIntent(intent: i, signature: forged))
            return .init(expected: ["intent.signature@\(s)"])
        },
        .init(name: "an intent naming an unknown policy") { w in
            let p = try Policy(json: w.keys.policyJSON(version: 1, lifetime: 60))
            let i = try w.keys.signedIntent(id: "intent-4", amount: "1000", policy: p)
            w.records.append(AuditWorld.submitted(i))
            w.intentDocuments.append(.init(id: i.intent.id, document: i))
            return .init(expected: ["intent.policy@\(w.records.count)"])
        },
        .init(name: "an intent of another organisation") { w in
            let i = try w.keys.signedIntent(
                id: "intent-4", amount: "1000", policy: w.policies[1].policy, organization: "globex")
            w.records.append(AuditWorld.submitted(i))
            w.intentDocuments.append(.init(id: i.intent.id, document: i))
            return .init(expected: ["intent.organization@\(w.records.count)"])
        },
        .init(name: "an intent nobody submitted") { w in
            let i = try w.keys.signedIntent(id: "intent-4", amount: "1000", policy: w.policies[1].policy)
            w.intentDocuments.append(.init(id: i.intent.id, document: i))
            return .init(expected: ["intent.unrecorded@-"])
        },
        .init(name: "a submitted intent whose document is gone") { w in
            w.intentDocuments.removeLast()
            return .init(expected: ["intent.missing@\(w.sequence("intent.submitted", "intent-3"))"])
        },
        .init(name: "a state change from the wrong state") { w in
            w.records.append(.intentState(intent: try IntentID("intent-3"), from: .approved, to: .built))
            return .init(expected: ["intent.state@\(w.records.count)"])
        },
        .init(name: "a state change the lifecycle does not have") { w in
            w.records.append(.intentState(intent: try IntentID("intent-3"), from: .rejected, to: .approved))
            return .init(expected: ["intent.state@\(w.records.count)"])
        },
        // Approvals.
        .init(name: "an approval event with another digest") { w in
            let s = w.sequence("approval.recorded", "intent-1")
            w.records[Int(s) - 1] = .approvalRecorded(
                intent: try IntentID("intent-1"), approver: try MemberID("bob"), decision: .approve,
                digest: w.approvals[1].approval.digest)
            return .init(expected: ["approval.mismatch@\(s)"])
        },
        .init(name: "an approval event with another decision") { w in
            let s = w.sequence("approval.recorded", "intent-1")
            w.records[Int(s) - 1] = .approvalRecorded(
                intent: try IntentID("intent-1"), approver: try MemberID("bob"), decision: .reject,
                digest: w.approvals[0].approval.digest)
            return .init(expected: ["approval.mismatch@\(s)"])
        },
        .init(name: "an approval of another intent stored under this one") { w in
            // Carol's approval of intent-2, also recorded for intent-1.
            w.records.append(AuditWorld.recorded(w.approvals[1], for: try IntentID("intent-1")))
            w.approvalDocuments.append(.init(intent: try IntentID("intent-1"), document: w.approvals[1]))
            return .init(expected: ["approval.mismatch@\(w.sequence("intent.submitted", "intent-1"))"])
        },
        .init(name: "an approval signed by someone else") { w in
            let a = w.approvals[0].approval
            let forged = MemberSignature(
                member: try MemberID("bob"), credential: try CredentialID("bob-key"),
                evidence: try w.keys.carol.key.sign(digest: a.digest.bytes))
            w.approvalDocuments[0] = .init(
                intent: try IntentID("intent-1"), document: SignedApproval(approval: a, signature: forged))
            return .init(expected: ["approval.signature@\(w.sequence("approval.recorded", "intent-1"))"])
        },
        .init(name: "an approval nobody recorded") { w in
            let extra = try w.keys.approval(of: w.intents[0].intent, by: w.keys.carol)
            w.approvalDocuments.append(.init(intent: try IntentID("intent-1"), document: extra))
            return .init(expected: ["approval.unrecorded@-"])
        },
        .init(name: "a recorded approval whose document is gone") { w in
            w.approvalDocuments.removeFirst()
            return .init(expected: ["approval.missing@\(w.sequence("approval.recorded", "intent-1"))"])
        },
        // Bundles.
        .init(name: "an edited PSBT") { w in
            w.bundleDocuments[0] = .init(
                intent: try IntentID("intent-1"), sha256: AuditWorld.bundleHash(0),
                transaction: .bitcoin(psbt: Array("psbt".utf8) + [0xff, 9]))
            return .init(expected: ["bundle.mismatch@\(w.sequence("transaction.built", "intent-1"))"])
        },
        .init(name: "a bundle with another hash") { w in
            w.bundleDocuments[1] = .init(
                intent: try IntentID("intent-2"), sha256: AuditWorld.bundleHash(0), transaction: w.transactions[1])
            return .init(expected: ["bundle.mismatch@\(w.sequence("bundle.issued", "intent-2"))"])
        },
        .init(name: "a bundle nobody built") { w in
            w.bundleDocuments.append(
                .init(
                    intent: try IntentID("intent-3"), sha256: AuditWorld.bundleHash(3), transaction: w.transactions[0]))
            return .init(expected: ["bundle.unrecorded@-"])
        },
        .init(name: "a built and issued bundle that is gone") { w in
            w.bundleDocuments.removeLast()
            return .init(expected: [
                "bundle.missing@\(w.sequence("transaction.built", "intent-2"))",
                "bundle.missing@\(w.sequence("bundle.issued", "intent-2"))",
            ])
        },
        // Receipts.
        .init(name: "a receipt not signed by its signer") { w in
            let r = w.receipts[1].receipt
            w.receiptDocuments[1] = SignedReceipt(
                receipt: r, signature: try w.keys.stranger.signSchnorr(message: r.digest.bytes))
            return .init(expected: ["receipt.signature@\(w.sequence("receipt.recorded", "intent-2"))"])
        },
        .init(name: "a receipt that does not chain to the previous one") { w in
            w.receipts[1] = try w.keys.receipt(
                sequence: 2, intent: w.intents[1].intent, previous: w.policies[0].policy.hash)
            w.rebuild()
            return .init(expected: ["receipt.chain@\(w.sequence("receipt.recorded", "intent-2"))"])
        },
        .init(name: "a first receipt that names a previous one") { w in
            w.receipts[0] = try w.keys.receipt(
                sequence: 1, intent: w.intents[0].intent, previous: w.policies[0].policy.hash)
            w.receipts[1] = try w.keys.receipt(
                sequence: 2, intent: w.intents[1].intent, previous: w.receipts[0].receipt.digest)
            w.rebuild()
            return .init(expected: ["receipt.chain@\(w.sequence("receipt.recorded", "intent-1"))"])
        },
        .init(name: "receipts that skip a sequence") { w in
            w.receipts[1] = try w.keys.receipt(
                sequence: 3, intent: w.intents[1].intent, previous: w.receipts[0].receipt.digest)
            w.rebuild()
            return .init(expected: ["receipt.gap@\(w.sequence("receipt.recorded", "intent-2"))"])
        },
        .init(name: "two receipts at one sequence") { w in
            let other = try w.keys.receipt(
                sequence: 2, intent: w.intents[1].intent, previous: w.receipts[0].receipt.digest,
                transaction: String(repeating: "e", count: 64))
            return .init(
                expected: ["receipt.fork@\(w.sequence("receipt.recorded", "intent-2"))", "receipt.unrecorded@-"],
                receipts: [other])
        },
        .init(name: "a receipt for an intent that was rejected") { w in
            let r3 = try w.keys.receipt(sequence: 3, intent: w.rejected.intent, previous: w.receipts[1].receipt.digest)
            w.records.append(AuditWorld.recorded(r3, for: w.rejected.intent.id))
            w.receiptDocuments.append(r3)
            return .init(expected: ["receipt.intent@\(w.records.count)"])
        },
        .init(name: "a receipt for an intent never submitted") { w in
            let i = try w.keys.signedIntent(id: "intent-9", amount: "1000", policy: w.policies[1].policy)
            let r3 = try w.keys.receipt(sequence: 3, intent: i.intent, previous: w.receipts[1].receipt.digest)
            return .init(expected: ["receipt.intent@-", "receipt.unrecorded@-"], receipts: [r3])
        },
        .init(name: "a receipt recorded before its intent was approved") { w in
            let s = w.sequence("receipt.recorded", "intent-1")
            let r = w.records.remove(at: Int(s) - 1)
            w.records.insert(r, at: Int(w.sequence("approval.recorded", "intent-1")) - 1)
            let at = w.sequence("receipt.recorded", "intent-1")
            return .init(expected: ["receipt.intent@\(at)"])
        },
        .init(name: "a receipt event with another sequence") { w in
            let s = w.sequence("receipt.recorded", "intent-1")
            let r = w.receipts[0].receipt
            w.records[Int(s) - 1] = .receiptRecorded(
                intent: try IntentID("intent-1"), signer: r.signer, sequence: 5, digest: r.digest,
                intentDigest: r.intentDigest)
            return .init(expected: ["receipt.mismatch@\(s)"])
        },
        .init(name: "a receipt event for another intent") { w in
            let s = w.sequence("receipt.recorded", "intent-2")
            let r = w.receipts[1].receipt
            w.records[Int(s) - 1] = .receiptRecorded(
                intent: try IntentID("intent-1"), signer: r.signer, sequence: 2, digest: r.digest,
                intentDigest: r.intentDigest)
            return .init(expected: ["receipt.mismatch@\(s)"])
        },
        .init(name: "a receipt event naming another digest") { w in
            let s = w.sequence("receipt.recorded", "intent-2")
            let r = w.receipts[1].receipt
            w.records[Int(s) - 1] = .receiptRecorded(
                intent: try IntentID("intent-2"), signer: r.signer, sequence: 2, digest: w.policies[0].policy.hash,
                intentDigest: r.intentDigest)
            return .init(expected: ["receipt.mismatch@\(s)"])
        },
        .init(name: "a receipt nobody recorded") { w in
            w.records.remove(at: Int(w.sequence("receipt.recorded", "intent-2")) - 1)
            return .init(expected: ["receipt.unrecorded@-"])
        },
        .init(name: "a recorded receipt that is gone") { w in
            w.receiptDocuments.removeLast()
            return .init(expected: ["receipt.missing@\(w.sequence("receipt.recorded", "intent-2"))"])
        },
        .init(name: "a recorded receipt that is gone, given by its signer") { w in
            w.receiptDocuments.removeLast()
            return .init(expected: [], receipts: [w.receipts[1]])
        },
    ]
}

extension AuditWorld {
    /// The world whose ``export()`` carries `events` instead of the chained records (for chain tampering).
    func with(events: [AuditEvent]) throws -> AuditWorld {
        var w = self
        w.fixedEvents = events
        return w
    }
}
