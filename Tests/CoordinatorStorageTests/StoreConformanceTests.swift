import Bitcoin
import CoordinatorCore
import CoordinatorStorage
import Foundation
import Governance
import Testing

/// `try await expectStorageError(.duplicate) { … }`: the body must fail with exactly this code.
func expectStorageError(
    _ code: StorageError.Code, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async {
    do {
        try await body()
        Issue.record("expected a \(code) error, but the call succeeded", sourceLocation: sourceLocation)
    } catch let error as StorageError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a StorageError \(code), got \(error)", sourceLocation: sourceLocation)
    }
}

/// The storage conformance suite: every test runs against every available adapter (SQLite always; PostgreSQL
/// when `KURA_TEST_POSTGRES_URL` names a server, see scripts/pg-test-server.sh).
@Suite("Coordinator store conformance")
struct StoreConformanceTests {
    @Test("PostgreSQL is configured when it is required")
    func postgresConfiguredWhenRequired() {
        if Backend.postgresRequired {
            #expect(Backend.postgresURL != nil, "KURA_REQUIRE_POSTGRES=1 but KURA_TEST_POSTGRES_URL is not set")
        }
    }

    @Test("migrations are named, applied in order, and idempotent", arguments: Backend.available)
    func migrationsAreNamedAndIdempotent(backend: Backend) async throws {
        try await withFreshStore(backend, migrate: false) { store in
            try await store.migrate()
            try await store.migrate()
            // Append-only: this list only ever grows at its end.
            #expect(
                try await store.appliedMigrations() == [
                    "0001-organizations", "0002-policy-versions-members-credentials", "0003-intents",
                    "0004-approvals-bundles-receipts", "0005-audit-events", "0006-tokens-idempotency-addresses",
                    "0007-receipt-results-signed-transactions", "0008-coin-reservations", "0009-transaction-watch",
                    "0010-deposits", "0011-webhook-deliveries", "0012-policy-proposals", "0013-postgres-audit-append",
                    "0014-postgres-advance-intent", "0015-postgres-authentication-read",
                    "0016-postgres-approval-context", "0017-postgres-move-intent", "0018-postgres-record-approval",
                ])
        }
    }

    @Test("concurrent migrations from several replicas apply each migration once", arguments: Backend.available)
    func concurrentMigrations(backend: Backend) async throws {
        try await withFreshStore(backend, migrate: false) { store in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { try await store.migrate() } }
                try await group.waitForAll()
            }
            #expect(try await store.appliedMigrations().count == 18)
        }
    }

    @Test("a database with a migration this build does not know is refused", arguments: Backend.available)
    func unknownMigrationIsRefused(backend: Backend) async throws {
        try await withFreshStore(backend) { store, raw in
            try await raw.execute(
                "INSERT INTO kura_migrations (position, name) VALUES (1000, '1000-from-a-newer-build')")
            await expectStorageError(.schemaMismatch) { try await store.migrate() }
        }
    }

    @Test("an audit event edited in the database breaks the chain at that event", arguments: Backend.available)
    func auditTamperingIsDetected(backend: Backend) async throws {
        try await withFreshStore(backend) { store, raw in
            let f = try Fixture()
            try await store.createOrganization(f.organization())
            for n in 1...3 {
                _ = try await store.appendAuditEvent(
                    f.org, kind: "intent.approved", subject: "i-\(n)", payload: [UInt8(n)], at: f.now)
            }
            #expect(AuditEvent.firstBreak(in: try await store.auditEvents(f.org, after: 0, limit: 10)) == nil)
            try await raw.execute("UPDATE audit_events SET subject = 'i-9' WHERE org_id = 'acme' AND seq = 2")
            #expect(AuditEvent.firstBreak(in: try await store.auditEvents(f.org, after: 0, limit: 10)) == 2)
        }
    }

    @Test("organisations round-trip and ids are unique", arguments: Backend.available)
    func organizations(backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            let f = try Fixture()
            try await store.createOrganization(f.organization())
            #expect(try await store.organization(f.org) == f.organization())
            #expect(try await store.organization(OrganizationID("nobody")) == nil)
            await expectStorageError(.duplicate) { try await store.createOrganization(f.organization()) }
        }
    }

    @Test("the policy chain only moves forward, one version at a time", arguments: Backend.available)
    func policyChain(backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            let f = try Fixture()
            await expectStorageError(.missingReference) {
                try await store.appendPolicyVersion(f.policy(0), members: [], credentials: [])
            }
            try await f.bootstrap(store)
            #expect(try await store.currentPolicy(f.org) == f.policy(0))
            // The genesis again, a gap, and a wrong previous hash are all refused and store nothing.
            await expectStorageError(.conflict) {
                try await store.appendPolicyVersion(f.policy(0), members: [], credentials: [])
            }
            await expectStorageError(.conflict) {
                try await store.appendPolicyVersion(f.policy(2), members: [], credentials: [])
            }
            let forged = PolicyVersionRecord(
                organization: f.org, version: 1, hash: try Fixture.hash(2), previousHash: try Fixture.hash(9),
                document: [1], storedAt: f.now)
            await expectStorageError(.conflict) {
                try await store.appendPolicyVersion(forged, members: [], credentials: [])
            }
            let members1 = Array(try f.members(1).prefix(2))
            try await store.appendPolicyVersion(
                f.policy(1), members: members1, credentials: Array(try f.credentials(1).prefix(2)))
            #expect(try await store.policyVersions(f.org) == [f.policy(0), f.policy(1)])
            #expect(try await store.currentPolicy(f.org) == f.policy(1))
            // Each version keeps its own snapshot of members and credentials.
            #expect(try await store.members(f.org, policyVersion: 0) == f.members(0))
            #expect(try await store.members(f.org, policyVersion: 1) == members1)
            #expect(try await store.credentials(f.org, policyVersion: 0) == f.credentials(0))
            #expect(try await store.credentials(f.org, policyVersion: 1).count == 2)
        }
    }

    @Test("a failed policy append stores none of its members", arguments: Backend.available)
    func policyAppendIsAtomic(backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            let f = try Fixture()
            try await store.createOrganization(f.organization())
            // The credential names a member the version does not list: the foreign key refuses it.
            let stray = CredentialRecord(
                organization: f.org, policyVersion: 0, member: try MemberID("mallory"),
                credential: try CredentialID("mallory-key"), kind: "ed25519", publicKey: [1])
            await expectStorageError(.missingReference) {
                try await store.appendPolicyVersion(f.policy(0), members: f.members(0), credentials: [stray])
            }
            #expect(try await store.policyVersions(f.org).isEmpty)
            #expect(try await store.members(f.org, policyVersion: 0).isEmpty)
            try await store.appendPolicyVersion(f.policy(0), members: f.members(0), credentials: f.credentials(0))
            #expect(try await store.members(f.org, policyVersion: 0).count == 3)
        }
    }

    @Test("intents round-trip; ids and digests are unique per organisation", arguments: Backend.available)
    func intents(backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            let f = try Fixture()
            try await f.bootstrap(store)
            let intent = try f.intent("i-1")
            try await store.insertIntent(intent)
            #expect(try await store.intent(f.org, id: IntentID("i-1")) == intent)
            #expect(try await store.intent(f.org, id: IntentID("i-2")) == nil)
            await expectStorageError(.duplicate) { try await store.insertIntent(f.intent("i-1", digestSeed: 41)) }
            await expectStorageError(.duplicate) { try await store.insertIntent(f.intent("i-2", digestSeed: 40)) }
            await expectStorageError(.missingReference) {
                try await store.insertIntent(f.intent("i-3", digestSeed: 42, policyVersion: 7))
            }
            await expectStorageError(.missingReference) {
                try await store.insertIntent(f.intent("i-4", digestSeed: 43, initiator: "mallory"))
            }
        }
    }

    @Test("the schema refuses an intent that expires before it is created", arguments: Backend.available)
    func intentCheckConstraint(backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            let f = try Fixture()
            try await f.bootstrap(store)
            let good = try f.intent("i-1")
            let bad = IntentRecord(
                organization: f.org, id: good.id, digest: good.digest, policyVersion: 0, initiator: good.initiator,
                wallet: good.wallet, asset: good.asset, destination: good.destination, amount: good.amount,
                state: good.state, document: good.document, createdAt: good.createdAt,
                expiresAt: good.createdAt.adding(seconds: -1))
            await expectStorageError(.invalidValue) { try await store.insertIntent(bad) }
        }
    }

    @Test("intents list newest first, filter by state, and honour the limit", arguments: Backend.available)
    func intentListing(backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            let f = try Fixture()
            try await f.bootstrap(store)
            for n in 0..<5 {
                try await store.insertIntent(
                    f.intent(
                        "i-\(n)", digestSeed: UInt8(50 + n), createdOffset: Int64(n),
                        state: n.isMultiple(of: 2) ? .awaitingApprovals : .approved))
            }
            #expect(
                try await store.intents(f.org, state: nil, limit: 10).map(\.id.value) == [
                    "i-4", "i-3", "i-2", "i-1", "i-0",
                ])
            #expect(try await store.intents(f.org, state: .approved, limit: 10).map(\.id.value) == ["i-3", "i-1"])
            #expect(try await store.intents(f.org, state: nil, limit: 2).map(\.id.value) == ["i-4", "i-3"])
            #expect(try await store.intents(f.org, state: .signed, limit: 10).isEmpty)
        }
    }

    @Test("intent state changes are compare-and-set", arguments: Backend.available)
    func intentTransitions(backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            let f = try Fixture()
            try await f.bootstrap(store)
            try await store.insertIntent(f.intent("i-1"))
            let id = try IntentID("i-1")
            try await store.transitionIntent(f.org, id: id, from: .awaitingApprovals, to: .approved)
            #expect(try await store.intent(f.org, id: id)?.state == .approved)
            await expectStorageError(.conflict) {
                try await store.transitionIntent(f.org, id: id, from: .awaitingApprovals, to: .rejected)
            }
            await expectStorageError(.missingReference) {
                try await store.transitionIntent(f.org, id: IntentID("i-9"), from: .approved, to: .built)
            }
            // Concurrent movers: exactly one wins.
            let results = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        (try? await store.transitionIntent(f.org, id: id, from: .approved, to: .built)) != nil
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(results.filter { $0 }.count == 1)
            #expect(try await store.intent(f.org, id: id)?.state == .built)
        }
    }

    @Test(
        "a state change with its audit event (PostgreSQL: one statement) appends the event only when the state changed",
        arguments: Backend.available)
    func intentTransitionWithAudit(backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            let f = try Fixture()
            try await f.bootstrap(store)
            try await store.insertIntent(f.intent("i-1"))
            let id = try IntentID("i-1")
            func unit(_ id: IntentID, from: IntentLifecycle.State, to: IntentLifecycle.State) -> [StoreChange] {
                [
                    .transitionIntent(f.org, id, from: from, to: to),
                    .audit(f.org, kind: "intent.state", subject: id.value, payload: [1], at: f.now),
                ]
            }
            await expectStorageError(.conflict) { _ = try await store.apply(unit(id, from: .approved, to: .built)) }
            await expectStorageError(.missingReference) {
                _ = try await store.apply(unit(try IntentID("i-9"), from: .awaitingApprovals, to: .approved))
            }
            #expect(try await store.auditEvents(f.org, after: 0, limit: 10).isEmpty)
            #expect(try await store.intent(f.org, id: id)?.state == .awaitingApprovals)
            // Control: the expected state.
            let events = try await store.apply(unit(id, from: .awaitingApprovals, to: .approved))
            #expect(events.map(\.sequence) == [1] && events[0].hasValidHash && events[0].subject == "i-1")
            #expect(try await store.intent(f.org, id: id)?.state == .approved)
            // Concurrent movers with their events: one wins, one event.
            let results = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 {
                    group.addTask { (try? await store.apply(unit(id, from: .approved, to: .built))) != nil }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(results.filter { $0 }.count == 1)
            let all = try await store.auditEvents(f.org, after: 0, limit: 10)
            #expect(all.map(\.sequence) == [1, 2] && AuditEvent.firstBreak(in: all) == nil)
        }
    }

    @Test(
        "an approval unit may move its intent on: both events linked, the move skipped (not failed) once moved",
        arguments: Backend.available)
    func approvalUnitAdvancesIntent(backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            let f = try Fixture()
            try await f.bootstrap(store)
            for (n, id) in ["i-1", "i-2", "i-3"].enumerated() {
                try await store.insertIntent(f.intent(id, digestSeed: UInt8(50 + n)))
            }
            func advance(_ id: String) throws -> StoreChange {
                .advanceIntent(
                    f.org, try IntentID(id), from: .awaitingApprovals, to: .approved, kind: "intent.state", subject: id,
                    payload: [1], at: f.now)
            }
            // As the API commits it: the idempotency record comes after the unit's own changes.
            func unit(_ id: String, by approver: String, moving target: String? = nil) throws -> [StoreChange] {
                [
                    .insertApproval(try f.approval(id, by: approver)),
                    .audit(f.org, kind: "approval.recorded", subject: id, payload: [2], at: f.now),
                    try advance(target ?? id),
                    .insertIdempotency(
                        IdempotencyRecord(
                            organization: f.org, member: try MemberID(approver), key: "approve-\(id)",
                            requestHash: Array(repeating: 3, count: 32), status: 201, response: Array("{}".utf8),
                            createdAt: f.now)),
                ]
            }
            // Refusal: the intent to move does not exist; nothing of the unit is stored.
            await expectStorageError(.missingReference) {
                _ = try await store.apply(try unit("i-2", by: "bob", moving: "i-9"))
            }
            await expectStorageError(.missingReference) { _ = try await store.apply([try advance("i-9")]) }
            #expect(try await store.auditEvents(f.org, after: 0, limit: 10).isEmpty)
            #expect(try await store.approvals(f.org, intent: IntentID("i-2")).isEmpty)
            #expect(try await store.idempotency(f.org, member: MemberID("bob"), key: "approve-i-2") == nil)
            // Control: the approval, its event, the move and its event, linked in that order.
            let events = try await store.apply(try unit("i-1", by: "bob"))
            #expect(events.map(\.sequence) == [1, 2] && events.allSatisfy(\.hasValidHash))
            #expect(events.map(\.kind) == ["approval.recorded", "intent.state"])
            #expect(events[1].previousHash == events[0].hash)
            #expect(try await store.intent(f.org, id: IntentID("i-1"))?.state == .approved)
            #expect(try await store.idempotency(f.org, member: MemberID("bob"), key: "approve-i-1") != nil)
            // Moved already: the approval and its event are stored, the move and its event are not.
            let later = try await store.apply(try unit("i-1", by: "carol"))
            #expect(later.map(\.kind) == ["approval.recorded"] && later.map(\.sequence) == [3])
            #expect(try await store.approvals(f.org, intent: IntentID("i-1")).count == 2)
            #expect(try await store.intent(f.org, id: IntentID("i-1"))?.state == .approved)
            // Alone, and by concurrent movers: one moves it, with one event; the others change nothing.
            let moved = await withTaskGroup(of: Int.self) { group in
                for _ in 0..<8 {
                    group.addTask { (try? await store.apply([try advance("i-3")]).count) ?? -1 }
                }
                return await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(moved.sorted() == [0, 0, 0, 0, 0, 0, 0, 1])
            #expect(try await store.intent(f.org, id: IntentID("i-3"))?.state == .approved)
            let all = try await store.auditEvents(f.org, after: 0, limit: 20)
            #expect(all.map(\.sequence) == [1, 2, 3, 4] && AuditEvent.firstBreak(in: all) == nil)
        }
    }

    @Test(
        "an approval that completes the quorum racing a rejection of the same intent: one moves it, never a deadlock",
        arguments: Backend.available)
    func approvalRacesRejection(backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            let f = try Fixture()
            try await f.bootstrap(store)
            let rounds = 40
            for n in 0..<rounds { try await store.insertIntent(f.intent("race-\(n)", digestSeed: UInt8(100 + n))) }
            var approved = 0
            var rejected = 0
            for n in 0..<rounds {
                let id = "race-\(n)"
                let intent = try IntentID(id)
                // As the API commits them: the approval's unit moves the intent on itself; the rejection is an
                // approval whose unit moves it to `rejected` with a compare-and-set.
                let approve: [StoreChange] = [
                    .insertApproval(try f.approval(id, by: "bob")),
                    .audit(f.org, kind: "approval.recorded", subject: id, payload: [1], at: f.now),
                    .advanceIntent(
                        f.org, intent, from: .awaitingApprovals, to: .approved, kind: "intent.state", subject: id,
                        payload: [2], at: f.now),
                ]
                let reject: [StoreChange] = [
                    .insertApproval(try f.approval(id, by: "carol")),
                    .audit(f.org, kind: "approval.recorded", subject: id, payload: [3], at: f.now),
                    .transitionIntent(f.org, intent, from: .awaitingApprovals, to: .rejected),
                    .audit(f.org, kind: "intent.state", subject: id, payload: [4], at: f.now),
                ]
                async let a = outcome { () async throws(StorageError) in try await store.apply(approve) }
                async let b = outcome { () async throws(StorageError) in try await store.apply(reject) }
                let (approval, rejection) = await (a, b)
                // The approval is always stored; the rejection fails as a conflict only when the approval moved the
                // intent first. Anything else (a deadlock, a backend error) is a failure.
                #expect(approval.error == nil, "round \(n): \(String(describing: approval.error))")
                #expect(
                    rejection.error == nil || rejection.error?.code == .conflict,
                    "round \(n): \(String(describing: rejection.error))")
                let state = try await store.intent(f.org, id: intent)?.state
                if rejection.error == nil {
                    #expect(state == .rejected && approval.events == 1)
                    rejected += 1
                } else {
                    #expect(state == .approved && approval.events == 2)
                    approved += 1
                }
            }
            #expect(approved + rejected == rounds)
            // Approved: the approval and the move (the rejection stored nothing); rejected: the approval, the
            // rejection and its move.
            let all = try await store.auditEvents(f.org, after: 0, limit: 1000)
            #expect(all.count == 2 * approved + 3 * rejected && AuditEvent.firstBreak(in: all) == nil)
        }
    }

    /// What a unit did: its audit events, or its storage error.
    private func outcome(_ body: () async throws(StorageError) -> [AuditEvent]) async -> (
        events: Int, error: StorageError?
    ) {
        do { return (try await body().count, nil) } catch { return (0, error) }
    }

    @Test("one approval per approver per intent, even when submitted concurrently", arguments: Backend.available)
    func approvals(backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            let f = try Fixture()
            try await f.bootstrap(store)
            try await store.insertIntent(f.intent("i-1"))
            let intent = try IntentID("i-1")
            try await store.insertApproval(f.approval("i-1", by: "carol"))
            await expectStorageError(.duplicate) { try await store.insertApproval(f.approval("i-1", by: "carol")) }
            await expectStorageError(.missingReference) {
                try await store.insertApproval(f.approval("i-9", by: "bob"))
            }
            let wins = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 {
                    group.addTask { (try? await store.insertApproval(f.approval("i-1", by: "bob"))) != nil }
                }
                return await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(wins == 1)
            #expect(
                try await store.approvals(f.org, intent: intent) == [
                    f.approval("i-1", by: "bob"), f.approval("i-1", by: "carol"),
                ])
        }
    }

    @Test("recent spends: intents signed or later, created inside the window", arguments: Backend.available)
    func recentSpends(backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            let f = try Fixture()
            try await f.bootstrap(store)
            try await store.insertIntent(f.intent("s-1", digestSeed: 50, state: .signed))
            try await store.insertIntent(f.intent("s-2", digestSeed: 51, createdOffset: -10, state: .confirmed))
            try await store.insertIntent(f.intent("s-3", digestSeed: 52, createdOffset: -100_000, state: .broadcast))
            try await store.insertIntent(f.intent("s-4", digestSeed: 53, state: .approved))
            try await store.insertIntent(f.intent("s-5", digestSeed: 54, state: .rejected))
            let spends = try await store.recentSpends(f.org, since: f.now.adding(seconds: -86_400))
            #expect(spends.map(\.time).sorted() == [f.now.adding(seconds: -10), f.now])
            #expect(spends.allSatisfy { $0.amount == BaseUnits(UInt64(150_000_000)) && $0.wallet.value == "treasury" })
            // Another organisation's spends are not this one's.
            let other = try Fixture("globex")
            try await other.bootstrap(store)
            #expect(try await store.recentSpends(other.org, since: f.now.adding(seconds: -86_400)).isEmpty)
        }
    }

    @Test(
        "the approval context: the intent, its approvals, the spends in the window; nothing for unknown or foreign ids",
        arguments: Backend.available)
    func approvalContext(backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            let f = try Fixture()
            try await f.bootstrap(store)
            let since = f.now.adding(seconds: -86_400)
            try await store.insertIntent(f.intent("c-1", digestSeed: 70))
            let id = try IntentID("c-1")
            // Positive control before any approval or spend: the intent alone.
            #expect(
                try await store.approvalContext(f.org, intent: id, spendsSince: since)
                    == ApprovalContext(intent: try f.intent("c-1", digestSeed: 70), approvals: [], spends: []))
            try await store.insertApproval(f.approval("c-1", by: "carol"))
            try await store.insertApproval(f.approval("c-1", by: "bob"))
            try await store.insertIntent(f.intent("c-2", digestSeed: 71, createdOffset: -10, state: .signed))
            try await store.insertIntent(f.intent("c-3", digestSeed: 72, createdOffset: -100_000, state: .confirmed))
            try await store.insertIntent(f.intent("c-4", digestSeed: 73, state: .approved))
            try await store.insertApproval(f.approval("c-4", by: "bob"))
            let context = try #require(try await store.approvalContext(f.org, intent: id, spendsSince: since))
            #expect(context.intent == (try f.intent("c-1", digestSeed: 70)))
            #expect(context.approvals == [try f.approval("c-1", by: "bob"), try f.approval("c-1", by: "carol")])
            #expect(context.spends.map(\.time) == [f.now.adding(seconds: -10)])
            #expect(Set(context.spends) == Set(try await store.recentSpends(f.org, since: since)))
            // The intent is read as it is now, with no approval of another intent.
            let c4 = try #require(
                try await store.approvalContext(f.org, intent: try IntentID("c-4"), spendsSince: since))
            #expect(c4.intent.state == .approved && c4.approvals.map(\.approver.value) == ["bob"])
            #expect(try await store.approvalContext(f.org, intent: try IntentID("c-9"), spendsSince: since) == nil)
            // Another organisation reads nothing of this one's, by the same intent id.
            let other = try Fixture("globex")
            try await other.bootstrap(store)
            #expect(try await store.approvalContext(other.org, intent: id, spendsSince: since) == nil)
        }
    }

    @Test("a coin is reserved by one intent at most, also under concurrent builds", arguments: Backend.available)
    func coinReservations(backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            let f = try Fixture()
            try await f.bootstrap(store)
            try await store.insertIntent(f.intent("r-1", digestSeed: 60))
            try await store.insertIntent(f.intent("r-2", digestSeed: 61))
            func coin(_ n: UInt8, _ vout: UInt32 = 0) throws -> OutPoint {
                OutPoint(txid: try Txid(bytes: [UInt8](repeating: n, count: 32)), vout: vout)
            }
            func reserve(_ intent: String, _ coins: [OutPoint]) throws -> StoreChange {
                .reserveCoins(
                    try coins.map { CoinReservation(organization: f.org, outPoint: $0, intent: try IntentID(intent)) })
            }
            #expect(try await store.reservedCoins(f.org).isEmpty)
            _ = try await store.apply([try reserve("r-1", [coin(1), coin(2, 3)])])
            // r-2 wants coin 2:3 too: refused as a whole (coin 3 is not reserved either).
            await expectStorageError(.duplicate) {
                _ = try await store.apply([try reserve("r-2", [coin(3), coin(2, 3)])])
            }
            #expect(try await store.reservedCoins(f.org).map(\.outPoint) == [try coin(1), try coin(2, 3)])
            // Positive control: a disjoint set is reserved.
            _ = try await store.apply([try reserve("r-2", [coin(3)])])
            #expect(try await store.reservedCoins(f.org).count == 3)
            // Concurrent builds choosing one coin: exactly one wins.
            try await store.insertIntent(f.intent("r-3", digestSeed: 62))
            try await store.insertIntent(f.intent("r-4", digestSeed: 63))
            let wins = await withTaskGroup(of: Bool.self) { group in
                for id in ["r-3", "r-4"] {
                    group.addTask { (try? await store.apply([try reserve(id, [coin(9)])])) != nil }
                }
                return await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(wins == 1)
        }
    }

    @Test("one bundle per intent and one receipt per signer", arguments: Backend.available)
    func bundlesAndReceipts(backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            let f = try Fixture()
            try await f.bootstrap(store)
            try await store.insertIntent(f.intent("i-1"))
            let intent = try IntentID("i-1")
            #expect(try await store.bundle(f.org, intent: intent) == nil)
            let bundle = BundleRecord(
                organization: f.org, intent: intent, digest: try Fixture.hash(60), bytes: [0, 1, 2, 255],
                issuedAt: f.now)
            try await store.insertBundle(bundle)
            #expect(try await store.bundle(f.org, intent: intent) == bundle)
            await expectStorageError(.duplicate) { try await store.insertBundle(bundle) }
            let cold = try SignerID("cold-1")
            #expect(try await store.latestReceipt(f.org, signer: cold) == nil)
            let receipt = ReceiptRecord(
                organization: f.org, intent: intent, signer: cold, sequence: 4, document: [7, 7], result: [9],
                storedAt: f.now)
            try await store.insertReceipt(receipt)
            await expectStorageError(.duplicate) { try await store.insertReceipt(receipt) }
            #expect(try await store.receipts(f.org, intent: intent) == [receipt])
            // The latest receipt of a signer is the one with the highest sequence, whatever the intent.
            try await store.insertIntent(f.intent("i-2", digestSeed: 41))
            let later = ReceiptRecord(
                organization: f.org, intent: try IntentID("i-2"), signer: cold, sequence: 5, document: [8],
                result: [], storedAt: f.now)
            let other = ReceiptRecord(
                organization: f.org, intent: try IntentID("i-2"), signer: try SignerID("cold-2"), sequence: 9,
                document: [8], result: [], storedAt: f.now)
            _ = try await store.apply([.insertReceipt(later), .insertReceipt(other)])
            #expect(try await store.latestReceipt(f.org, signer: cold) == later)
            #expect(try await store.latestReceipt(f.org, signer: try SignerID("cold-2")) == other)
            #expect(try await store.latestReceipt(f.org, signer: try SignerID("cold-3")) == nil)
            let orphan = ReceiptRecord(
                organization: f.org, intent: try IntentID("i-9"), signer: cold, sequence: 1, document: [],
                result: [], storedAt: f.now)
            await expectStorageError(.missingReference) { try await store.insertReceipt(orphan) }
            // One finalised transaction per intent.
            #expect(try await store.signedTransaction(f.org, intent: intent) == nil)
            let signed = SignedTransactionRecord(
                organization: f.org, intent: intent, chain: "bitcoin", txid: String(repeating: "ab", count: 32),
                raw: [1, 2, 3], signedAt: f.now)
            _ = try await store.apply([.insertSignedTransaction(signed)])
            #expect(try await store.signedTransaction(f.org, intent: intent) == signed)
            await expectStorageError(.duplicate) { _ = try await store.apply([.insertSignedTransaction(signed)]) }
            let stray = SignedTransactionRecord(
                organization: f.org, intent: try IntentID("i-9"), chain: "bitcoin",
                txid: String(repeating: "cd", count: 32), raw: [1], signedAt: f.now)
            await expectStorageError(.missingReference) { _ = try await store.apply([.insertSignedTransaction(stray)]) }
        }
    }

    @Test(
        "finalised transactions are claimed by one follow-up process at a time, under a lease",
        arguments: Backend.available)
    func transactionFollowUp(backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            let f = try Fixture("acme")
            try await f.bootstrap(store)
            var ids: [IntentID] = []
            for n in 0..<6 {
                let id = try IntentID("w-\(n)")
                ids.append(id)
                try await store.insertIntent(f.intent("w-\(n)", digestSeed: UInt8(60 + n), state: .signed))
                _ = try await store.apply([
                    .insertSignedTransaction(
                        SignedTransactionRecord(
                            organization: f.org, intent: id, chain: "bitcoin",
                            txid: String(repeating: String(format: "%02x", n), count: 32), raw: [UInt8(n)],
                            signedAt: f.now)),
                    .insertTransactionWatch(
                        TransactionWatchRecord(
                            organization: f.org, intent: id, network: "bitcoin:regtest",
                            nextCheckAt: f.now.adding(seconds: n == 5 ? 100 : 0), updatedAt: f.now)),
                ])
            }
            let watch = TransactionWatchRecord(
                organization: f.org, intent: ids[0], network: "bitcoin:regtest", nextCheckAt: f.now, updatedAt: f.now)
            await expectStorageError(.duplicate) { _ = try await store.apply([.insertTransactionWatch(watch)]) }
            // Two processes claiming at once never get the same transaction; the one not due yet is left.
            let lease = f.now.adding(seconds: 60)
            async let a = store.claimTransactionWatches(owner: "a", now: f.now, leaseUntil: lease, limit: 3)
            async let b = store.claimTransactionWatches(owner: "b", now: f.now, leaseUntil: lease, limit: 3)
            let (ca, cb) = try await (a, b)
            let claimed = (ca + cb).map(\.watch.intent)
            #expect(Set(claimed).count == claimed.count)
            #expect(Set(claimed) == Set(ids.prefix(5)))
            #expect(ca.allSatisfy { $0.state == .signed && $0.transaction.raw.count == 1 })
            // While leased, nobody else gets them; after the lease, anyone may.
            #expect(
                try await store.claimTransactionWatches(owner: "c", now: f.now, leaseUntil: lease, limit: 9).isEmpty)
            let later = f.now.adding(seconds: 61)
            let retaken = try await store.claimTransactionWatches(
                owner: "c", now: later, leaseUntil: later.adding(seconds: 60), limit: 9)
            #expect(Set(retaken.map(\.watch.intent)) == Set(ids.prefix(5)))
            // Only the holder of the lease records a check; recording ends the lease.
            func update(_ owner: String, done: Bool) -> StoreChange {
                .updateTransactionWatch(
                    TransactionWatchUpdate(
                        owner: owner,
                        record: TransactionWatchRecord(
                            organization: f.org, intent: ids[0], network: "bitcoin:regtest", attempts: 1,
                            lastError: "rejected: x", blockHeight: 7, confirmations: 2, nextCheckAt: later, done: done,
                            updatedAt: later)))
            }
            await expectStorageError(.conflict) { _ = try await store.apply([update("a", done: false)]) }
            _ = try await store.apply([update("c", done: true)])
            let stored = try await store.transactionWatch(f.org, intent: ids[0])
            #expect(stored?.attempts == 1 && stored?.lastError == "rejected: x" && stored?.blockHeight == 7)
            #expect(stored?.confirmations == 2 && stored?.done == true)
            // Done: never claimed again.
            let afterLease = later.adding(seconds: 120)
            let again = try await store.claimTransactionWatches(
                owner: "d", now: afterLease, leaseUntil: afterLease.adding(seconds: 60), limit: 9)
            #expect(!again.map(\.watch.intent).contains(ids[0]))
            #expect(again.count == 5)  // the other four, and the one that became due
            #expect(try await store.transactionWatch(f.org, intent: try IntentID("w-9")) == nil)
        }
    }

    @Test("deposits are recorded once, a confirmed one never changes, scans are leased", arguments: Backend.available)
    func deposits(backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            let f = try Fixture("acme")
            try await f.bootstrap(store)
            let wallet = try WalletID("btc-main")
            func record(_ state: DepositRecord.State, confirmations: Int64, at: Timestamp) throws -> DepositRecord {
                DepositRecord(
                    organization: f.org, wallet: wallet, chain: "bitcoin", txid: String(repeating: "ab", count: 32),
                    position: 1, asset: try AssetID("btc"), address: "bcrt1qexample", amount: BaseUnits(UInt64(5000)),
                    blockHeight: confirmations > 0 ? 100 : nil, confirmations: confirmations, state: state,
                    firstSeenAt: f.now, updatedAt: at)
            }
            _ = try await store.apply([.upsertDeposit(try record(.pending, confirmations: 0, at: f.now))])
            _ = try await store.apply([.upsertDeposit(try record(.pending, confirmations: 1, at: f.now))])
            #expect(try await store.deposits(f.org, wallet: wallet, limit: 10).map(\.confirmations) == [1])
            let confirmed = try record(.confirmed, confirmations: 2, at: f.now)
            _ = try await store.apply([.upsertDeposit(confirmed)])
            // Confirmed is final: a later (stale or lying) observation does not change it.
            _ = try await store.apply([.upsertDeposit(try record(.removed, confirmations: 0, at: f.now))])
            #expect(try await store.deposits(f.org, wallet: wallet, limit: 10) == [confirmed])
            #expect(try await store.deposits(f.org, wallet: try WalletID("other"), limit: 10).isEmpty)
            #expect(try await store.organizationIDs() == [f.org])
            // Scans: created once, claimed by one process at a time, updated only by the holder.
            _ = try await store.apply([.ensureDepositScan(f.org, wallet, at: f.now)])
            _ = try await store.apply([.ensureDepositScan(f.org, wallet, at: f.now)])
            let lease = f.now.adding(seconds: 60)
            let first = try await store.claimDepositScans(owner: "a", now: f.now, leaseUntil: lease, limit: 5)
            #expect(first.map(\.wallet) == [wallet] && first.first?.nextBlock == nil)
            #expect(try await store.claimDepositScans(owner: "b", now: f.now, leaseUntil: lease, limit: 5).isEmpty)
            let moved = DepositScanRecord(
                organization: f.org, wallet: wallet, nextBlock: 42, lastHash: "0x" + String(repeating: "cd", count: 32),
                nextCheckAt: f.now, updatedAt: f.now)
            await expectStorageError(.conflict) { _ = try await store.apply([.updateDepositScan(owner: "b", moved)]) }
            _ = try await store.apply([.updateDepositScan(owner: "a", moved)])
            let again = try await store.claimDepositScans(owner: "b", now: f.now, leaseUntil: lease, limit: 5)
            #expect(again.first?.nextBlock == 42 && again.first?.lastHash == moved.lastHash)
        }
    }

    @Test("organisations are isolated from each other", arguments: Backend.available)
    func tenantIsolation(backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            let a = try Fixture("acme")
            let b = try Fixture("globex")
            try await a.bootstrap(store)
            try await b.bootstrap(store)
            // The same intent id and digest in two organisations are two intents.
            try await store.insertIntent(a.intent("i-1"))
            try await store.insertIntent(b.intent("i-1"))
            try await store.insertApproval(a.approval("i-1", by: "bob"))
            try await store.transitionIntent(a.org, id: IntentID("i-1"), from: .awaitingApprovals, to: .approved)
            #expect(try await store.intent(b.org, id: IntentID("i-1"))?.state == .awaitingApprovals)
            #expect(try await store.approvals(b.org, intent: IntentID("i-1")).isEmpty)
            #expect(try await store.intents(b.org, state: .approved, limit: 10).isEmpty)
            // A row of one organisation cannot point at another organisation's intent or policy.
            let c = try Fixture("initech")
            try await store.createOrganization(c.organization())
            await expectStorageError(.missingReference) { try await store.insertApproval(c.approval("i-1", by: "bob")) }
            await expectStorageError(.missingReference) { try await store.insertIntent(c.intent("i-1")) }
            #expect(try await store.members(c.org, policyVersion: 0).isEmpty)
            _ = try await store.appendAuditEvent(
                a.org, kind: "intent.submitted", subject: "i-1", payload: [], at: a.now)
            #expect(try await store.auditEvents(b.org, after: 0, limit: 10).isEmpty)
        }
    }

    @Test(
        "the audit log is a gap-free hash chain per organisation, also under concurrent appends",
        arguments: Backend.available)
    func auditChain(backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            let f = try Fixture()
            try await store.createOrganization(f.organization())
            await expectStorageError(.missingReference) {
                _ = try await store.appendAuditEvent(
                    OrganizationID("nobody"), kind: "x", subject: "", payload: [], at: f.now)
            }
            let first = try await store.appendAuditEvent(
                f.org, kind: "organization.created", subject: "acme", payload: Array("{}".utf8), at: f.now)
            #expect(first.sequence == 1 && first.previousHash == AuditEvent.genesisPrevious && first.hasValidHash)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<16 {
                    group.addTask {
                        _ = try await store.appendAuditEvent(
                            f.org, kind: "intent.submitted", subject: "i-\(n)", payload: [UInt8(n)], at: f.now)
                    }
                }
                try await group.waitForAll()
            }
            let events = try await store.auditEvents(f.org, after: 0, limit: 100)
            #expect(events.map(\.sequence) == Array(1...17))
            #expect(events.first == first)
            #expect(AuditEvent.firstBreak(in: events) == nil)
            #expect(try await store.auditEvents(f.org, after: 15, limit: 100).map(\.sequence) == [16, 17])
            #expect(try await store.auditEvents(f.org, after: 0, limit: 3).map(\.sequence) == [1, 2, 3])
        }
    }

    @Test(
        "audit hashes are AuditEvent's for any text and payload (PostgreSQL computes them in the database)",
        arguments: Backend.available)
    func auditHashesMatchTheModel(backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            let f = try Fixture()
            try await store.createOrganization(f.organization())
            let cases: [(String, String, [UInt8])] = [
                ("intent.submitted", "", []),
                ("approval.recorded", "intent-é-日本-\u{1F511}", Array("{\"k\":\"ü\"}".utf8)),
                ("x", String(repeating: "s", count: 300), (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }),
                ("policy.appended", "a'b\\c", [0, 0, 0x27, 0x5C]),
            ]
            var previous: AuditEvent?
            for (n, (kind, subject, payload)) in cases.enumerated() {
                let at = f.now.adding(seconds: Int64(n))
                let stored = try await store.appendAuditEvent(
                    f.org, kind: kind, subject: subject, payload: payload, at: at)
                // The model's event, built here from the same fields and the previous event.
                let expected = AuditEvent(
                    following: previous, organization: f.org, kind: kind, subject: subject, payload: payload, at: at)
                #expect(stored == expected)
                previous = expected
            }
            let events = try await store.auditEvents(f.org, after: 0, limit: 10)
            #expect(events.count == cases.count && AuditEvent.firstBreak(in: events) == nil)
        }
    }

    @Test(
        "PostgreSQL: an audit function whose hash differs from AuditEvent's stops the store from opening",
        arguments: Backend.available.filter { $0 == .postgresql })
    func postgresAuditHashMismatchIsRefused(backend: Backend) async throws {
        try await withFreshStore(backend) { store, raw in
            let f = try Fixture()
            try await store.createOrganization(f.organization())
            let unit: [StoreChange] = [
                .audit(f.org, kind: "intent.submitted", subject: "i-1", payload: [1], at: f.now),
                .audit(f.org, kind: "intent.state", subject: "i-1", payload: [2], at: f.now),
            ]
            // Control: the function as migrated.
            #expect(try await store.apply(unit).map(\.sequence) == [1, 2])
            // The function altered to hash one field less (as a wrong edit of migration 0013 would).
            try await raw.execute(
                """
                CREATE OR REPLACE FUNCTION kura_append_audit(p_org TEXT, p_kind TEXT, p_subject TEXT, p_payload BYTEA,
                                                             p_at BIGINT)
                RETURNS TABLE (out_seq BIGINT, out_previous BYTEA, out_hash BYTEA) LANGUAGE plpgsql AS $$
                BEGIN
                    SELECT e.seq + 1, e.hash INTO out_seq, out_previous FROM audit_events e
                    WHERE e.org_id = p_org ORDER BY e.seq DESC LIMIT 1;
                    out_hash := sha256(convert_to(p_kind, 'UTF8') || p_payload || out_previous);
                    INSERT INTO audit_events (org_id, seq, kind, subject, payload, at, previous_hash, hash)
                    VALUES (p_org, out_seq, p_kind, p_subject, p_payload, p_at, out_previous, out_hash);
                    RETURN NEXT;
                END
                $$
                """)
            // A process starting on it does not open the store.
            await expectStorageError(.schemaMismatch) { try await store.migrate() }
            // One already running: a unit run change by change in a transaction is refused with nothing stored…
            await expectStorageError(.backend) { _ = try await store.apply(unit) }
            let events = try await store.auditEvents(f.org, after: 0, limit: 10)
            #expect(events.map(\.sequence) == [1, 2] && AuditEvent.firstBreak(in: events) == nil)
            // …and a unit that is one statement (its own transaction) is stored but reported, and the chain shows
            // the break where kura audit verify finds it.
            let record = IdempotencyRecord(
                organization: f.org, member: try MemberID("alice"), key: "k-1",
                requestHash: Array(repeating: 1, count: 32),
                status: 201, response: [], createdAt: f.now)
            await expectStorageError(.corruptRow) {
                _ = try await store.apply([
                    .insertIdempotency(record), .audit(f.org, kind: "x", subject: "", payload: [], at: f.now),
                ])
            }
            #expect(AuditEvent.firstBreak(in: try await store.auditEvents(f.org, after: 0, limit: 10)) == 3)
        }
    }
}

@Suite("SQLite adapter")
struct SQLiteAdapterTests {
    @Test("data survives closing and reopening the file")
    func reopen() async throws {
        let path = "/tmp/kura-store-reopen-\(UInt64.random(in: 0...UInt64.max)).db"
        defer { removeSQLiteFiles(at: path) }
        let f = try Fixture()
        let store = try await SQLCoordinatorStore.openSQLite(path: path)
        try await store.migrate()
        try await f.bootstrap(store)
        await store.close()
        let again = try await SQLCoordinatorStore.openSQLite(path: path)
        try await again.migrate()
        #expect(try await again.currentPolicy(f.org) == f.policy(0))
        await again.close()
    }

    @Test("a file another store has open is refused with inUse, and opens again once that store closes")
    func oneStorePerFile() async throws {
        let path = "/tmp/kura-store-lock-\(UInt64.random(in: 0...UInt64.max)).db"
        defer { removeSQLiteFiles(at: path) }
        let f = try Fixture()
        let first = try await SQLCoordinatorStore.openSQLite(path: path)
        try await first.migrate()
        try await f.bootstrap(first)
        do {
            _ = try await SQLCoordinatorStore.openSQLite(path: path)
            Issue.record("a second store opened a file the first still has")
        } catch {
            #expect(error.code == .inUse)
            #expect(
                error.reason.contains(path)
                    && error.reason.contains("pid \(ProcessInfo.processInfo.processIdentifier))"), "\(error.reason)")
        }
        // Another file is not affected, and the first store still works.
        let other = try await SQLCoordinatorStore.openSQLite(path: path + "-other")
        await other.close()
        removeSQLiteFiles(at: path + "-other")
        #expect(try await first.currentPolicy(f.org) == f.policy(0))
        await first.close()
        // Positive control: once the first store closed, the same file opens, with its data.
        let again = try await SQLCoordinatorStore.openSQLite(path: path)
        #expect(try await again.currentPolicy(f.org) == f.policy(0))
        await again.close()
    }
}
