import CoordinatorCore
import CoordinatorStorage
import Foundation
import Governance
import Testing

/// Units of work, API tokens, idempotency records and addresses, on every adapter.
@Suite("Coordinator store conformance: units of work and access")
struct UnitOfWorkConformanceTests {
    func token(_ f: Fixture, _ id: String, member: String = "alice", seed: UInt8 = 9) throws -> TokenRecord {
        TokenRecord(
            organization: f.org, id: id, member: try MemberID(member), secretHash: Array(repeating: seed, count: 32),
            requestDigest: try Fixture.hash(seed), createdAt: f.now, expiresAt: f.now.adding(seconds: 3600),
            revokedAt: nil)
    }

    @Test(
        "a unit of work is all or nothing: a failing change rolls back the changes before it",
        arguments: Backend.available)
    func unitOfWorkIsAtomic(backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            let f = try Fixture()
            try await f.bootstrap(store)
            let intent = try f.intent("i-1")
            // The second change duplicates the first: nothing of the unit may remain.
            await expectStorageError(.duplicate) {
                _ = try await store.apply([
                    .insertIntent(intent),
                    .audit(f.org, kind: "intent.submitted", subject: "i-1", payload: Array("{}".utf8), at: f.now),
                    .insertIntent(intent),
                ])
            }
            #expect(try await store.intent(f.org, id: IntentID("i-1")) == nil)
            #expect(try await store.auditEvents(f.org, after: 0, limit: 100).isEmpty)
            // Positive control: the same unit without the duplicate commits, with its audit event.
            let events = try await store.apply([
                .insertIntent(intent),
                .audit(f.org, kind: "intent.submitted", subject: "i-1", payload: Array("{}".utf8), at: f.now),
            ])
            #expect(events.map(\.sequence) == [1])
            #expect(try await store.intent(f.org, id: IntentID("i-1")) == intent)
        }
    }

    @Test(
        "a unit of inserts and one audit event (PostgreSQL: one statement) sees its own rows and is all or nothing",
        arguments: Backend.available)
    func insertUnitIsAtomic(backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            let f = try Fixture()
            try await f.bootstrap(store)
            let key = IdempotencyRecord(
                organization: f.org, member: try MemberID("bob"), key: "approve-i-2",
                requestHash: Array(repeating: 7, count: 32), status: 201, response: Array("{}".utf8), createdAt: f.now)
            func unit(_ intent: String, approvalOf target: String) throws -> [StoreChange] {
                [
                    .insertIntent(try f.intent(intent)), .insertApproval(try f.approval(target, by: "bob")),
                    .insertIdempotency(key),
                    .audit(f.org, kind: "approval.recorded", subject: target, payload: [1, 2], at: f.now),
                ]
            }
            // An approval of an intent that exists nowhere, not even in the unit: refused, nothing stored.
            await expectStorageError(.missingReference) {
                _ = try await store.apply(try unit("i-2", approvalOf: "i-3"))
            }
            #expect(try await store.intent(f.org, id: IntentID("i-2")) == nil)
            #expect(try await store.idempotency(f.org, member: MemberID("bob"), key: "approve-i-2") == nil)
            #expect(try await store.auditEvents(f.org, after: 0, limit: 10).isEmpty)
            // Control: the approval names the intent the same unit inserts.
            let events = try await store.apply(try unit("i-2", approvalOf: "i-2"))
            #expect(events.map(\.sequence) == [1] && events[0].hasValidHash)
            #expect(try await store.approvals(f.org, intent: IntentID("i-2")).map(\.approver) == [MemberID("bob")])
            #expect(try await store.idempotency(f.org, member: MemberID("bob"), key: "approve-i-2") == key)
            // The idempotency record again, in a unit of otherwise new rows: refused as a duplicate, nothing stored.
            await expectStorageError(.duplicate) { _ = try await store.apply(try unit("i-4", approvalOf: "i-4")) }
            #expect(try await store.intent(f.org, id: IntentID("i-4")) == nil)
            #expect(try await store.auditEvents(f.org, after: 0, limit: 10).map(\.sequence) == [1])
        }
    }

    @Test(
        "concurrent units: each all or nothing, each caller told its own outcome, one unbroken audit chain",
        arguments: Backend.available)
    func concurrentUnitsKeepTheirOwnOutcome(backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            let f = try Fixture()
            try await f.bootstrap(store)
            // 48 units at once (SQLite runs the ones that queue up in one transaction, each in its savepoint);
            // every third one ends with a duplicate of its own intent and must leave nothing behind.
            let outcomes = await withTaskGroup(of: (Int, Bool).self) { group in
                for k in 0..<48 {
                    group.addTask {
                        guard let intent = try? f.intent("c-\(k)", digestSeed: UInt8(100 + k)) else {
                            return (k, false)
                        }
                        var unit: [StoreChange] = [
                            .insertIntent(intent),
                            .audit(
                                f.org, kind: "intent.submitted", subject: "c-\(k)", payload: Array("{}".utf8), at: f.now
                            ),
                        ]
                        if k % 3 == 0 { unit.append(.insertIntent(intent)) }
                        return (k, (try? await store.apply(unit)) != nil)
                    }
                }
                var all: [Int: Bool] = [:]
                for await (k, ok) in group { all[k] = ok }
                return all
            }
            for k in 0..<48 {
                #expect(outcomes[k] == (k % 3 != 0), "unit \(k)")
                let stored = try await store.intent(f.org, id: IntentID("c-\(k)"))
                #expect((stored != nil) == (k % 3 != 0), "unit \(k)")
            }
            let events = try await store.auditEvents(f.org, after: 0, limit: 1000)
            #expect(events.count == 32 && AuditEvent.firstBreak(in: events) == nil)
            #expect(Set(events.map(\.subject)) == Set((0..<48).filter { $0 % 3 != 0 }.map { "c-\($0)" }))
        }
    }

    @Test("tokens: stored by id, unique per request digest, revoked once", arguments: Backend.available)
    func tokens(backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            let f = try Fixture()
            try await f.bootstrap(store)
            let t = try token(f, "0123456789abcdef")
            _ = try await store.apply([.insertToken(t)])
            #expect(try await store.token(f.org, id: "0123456789abcdef") == t)
            #expect(try await store.tokens(f.org, member: MemberID("alice")) == [t])
            #expect(try await store.tokens(f.org, member: MemberID("bob")).isEmpty)
            // The same session request cannot yield a second token.
            await expectStorageError(.duplicate) {
                _ = try await store.apply([.insertToken(try token(f, "fedcba9876543210"))])
            }
            _ = try await store.apply([.revokeToken(f.org, id: t.id, at: f.now.adding(seconds: 5))])
            #expect(try await store.token(f.org, id: t.id)?.revokedAt == f.now.adding(seconds: 5))
            await expectStorageError(.conflict) {
                _ = try await store.apply([.revokeToken(f.org, id: t.id, at: f.now)])
            }
            await expectStorageError(.missingReference) {
                _ = try await store.apply([.revokeToken(f.org, id: "ffffffffffffffff", at: f.now)])
            }
            // Another organisation does not see it.
            #expect(try await store.token(OrganizationID("globex"), id: t.id) == nil)
        }
    }

    @Test(
        "the authentication read returns the token, the policy head and the member's stored create, each nil when absent",
        arguments: Backend.available)
    func authenticationRead(backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            let f = try Fixture()
            try await store.createOrganization(f.organization())
            // No policy, no token.
            var read = try await store.authentication(f.org, token: "0123456789abcdef", idempotencyKey: nil)
            #expect(read.token == nil && read.policyHead == nil)
            #expect(try await store.policyHead(f.org) == nil)
            try await store.appendPolicyVersion(f.policy(0), members: f.members(0), credentials: f.credentials(0))
            read = try await store.authentication(f.org, token: "0123456789abcdef", idempotencyKey: nil)
            let head0 = PolicyHead(version: 0, hash: try f.policy(0).hash)
            #expect(read.token == nil && read.policyHead == head0)
            let t = try token(f, "0123456789abcdef")
            _ = try await store.apply([.insertToken(t)])
            try await store.appendPolicyVersion(f.policy(1), members: [], credentials: [])
            read = try await store.authentication(f.org, token: "0123456789abcdef", idempotencyKey: nil)
            // The newest version is the head; the token is the stored one, whole.
            let head1 = PolicyHead(version: 1, hash: try f.policy(1).hash)
            #expect(read.token == t && read.policyHead == head1)
            #expect(try await store.policyHead(f.org) == read.policyHead)
            // Another token id, another organisation: nothing of this one.
            #expect(try await store.authentication(f.org, token: "ffffffffffffffff", idempotencyKey: nil).token == nil)
            let other = try await store.authentication(OrganizationID("globex"), token: t.id, idempotencyKey: "k-1")
            #expect(other.token == nil && other.policyHead == nil && other.idempotency == nil)
            // The token's member's create under the request's key, read with the token; not another member's.
            func stored(_ member: String, _ key: String, _ seed: UInt8) throws -> IdempotencyRecord {
                IdempotencyRecord(
                    organization: f.org, member: try MemberID(member), key: key,
                    requestHash: Array(repeating: seed, count: 32), status: 201,
                    response: Array("{\"n\":\(seed)}".utf8),
                    createdAt: f.now)
            }
            _ = try await store.apply([.insertIdempotency(try stored("alice", "k-1", 1))])
            _ = try await store.apply([.insertIdempotency(try stored("bob", "k-2", 2))])
            read = try await store.authentication(f.org, token: t.id, idempotencyKey: "k-1")
            let alices = try stored("alice", "k-1", 1)
            #expect(read.token == t && read.policyHead == head1 && read.idempotency == alices)
            #expect(try await store.authentication(f.org, token: t.id, idempotencyKey: "k-2").idempotency == nil)
            #expect(try await store.authentication(f.org, token: t.id, idempotencyKey: "k-3").idempotency == nil)
            #expect(try await store.authentication(f.org, token: t.id, idempotencyKey: nil).idempotency == nil)
            let bobs = try token(f, "fedcba9876543210", member: "bob", seed: 10)
            _ = try await store.apply([.insertToken(bobs)])
            let bobsStored = try stored("bob", "k-2", 2)
            #expect(
                try await store.authentication(f.org, token: bobs.id, idempotencyKey: "k-2").idempotency == bobsStored)
        }
    }

    @Test("idempotency records: one per member and key, even when written concurrently", arguments: Backend.available)
    func idempotency(backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            let f = try Fixture()
            try await f.bootstrap(store)
            func record(_ body: String) throws -> IdempotencyRecord {
                IdempotencyRecord(
                    organization: f.org, member: try MemberID("alice"), key: "key-1",
                    requestHash: Array(repeating: 1, count: 32), status: 201, response: Array(body.utf8),
                    createdAt: f.now)
            }
            let results = await withTaskGroup(of: Bool.self) { group in
                for i in 0..<6 {
                    group.addTask { (try? await store.apply([.insertIdempotency(try record("r\(i)"))])) != nil }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(results.filter { $0 }.count == 1)
            let stored = try await store.idempotency(f.org, member: MemberID("alice"), key: "key-1")
            #expect(stored?.status == 201)
            #expect(try await store.idempotency(f.org, member: MemberID("bob"), key: "key-1") == nil)
            await expectStorageError(.invalidValue) {
                _ = try await store.apply([
                    .insertIdempotency(
                        IdempotencyRecord(
                            organization: f.org, member: try MemberID("alice"), key: "has space",
                            requestHash: Array(repeating: 1, count: 32), status: 201, response: [], createdAt: f.now))
                ])
            }
        }
    }

    @Test("addresses are handed out in index order without gaps", arguments: Backend.available)
    func addresses(backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            let f = try Fixture()
            try await f.bootstrap(store)
            func address(_ index: Int64, _ text: String) throws -> AddressRecord {
                AddressRecord(
                    organization: f.org, wallet: try WalletID("btc-main"), branch: 0, index: index, address: text,
                    label: "customer \(index)", createdAt: f.now, used: false)
            }
            _ = try await store.apply([.insertAddress(try address(0, "bcrt1qa"))])
            _ = try await store.apply([.insertAddress(try address(1, "bcrt1qb"))])
            await expectStorageError(.conflict) {
                _ = try await store.apply([.insertAddress(try address(1, "bcrt1qc"))])
            }
            await expectStorageError(.conflict) {
                _ = try await store.apply([.insertAddress(try address(3, "bcrt1qd"))])
            }
            await expectStorageError(.duplicate) {
                _ = try await store.apply([.insertAddress(try address(2, "bcrt1qa"))])
            }
            let list = try await store.addresses(f.org, wallet: WalletID("btc-main"), branch: 0)
            #expect(list.map(\.index) == [0, 1])
            #expect(list.map(\.address) == ["bcrt1qa", "bcrt1qb"])
        }
    }

    @Test(
        "policy proposals: one per hash, signatures added by compare-and-set, closed once applied",
        arguments: Backend.available)
    func proposals(backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            let f = try Fixture()
            try await f.bootstrap(store)
            let id = String(repeating: "ab", count: 32)
            func proposal(_ count: Int, _ state: PolicyProposalRecord.State, at offset: Int64 = 0) throws
                -> PolicyProposalRecord
            {
                PolicyProposalRecord(
                    organization: f.org, id: id, version: 2, document: Array("{\"v\":2}".utf8),
                    proposer: try MemberID("a1"), signatures: Array("[\(count)]".utf8), signatureCount: count,
                    required: 2, state: state, createdAt: f.now, updatedAt: f.now.adding(seconds: offset))
            }
            _ = try await store.apply([.insertProposal(try proposal(1, .open))])
            await expectStorageError(.duplicate) {
                _ = try await store.apply([.insertProposal(try proposal(1, .open))])
            }
            // Two admins signing at once: the second writer saw one signature too, and loses.
            let results = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        (try? await store.apply([.updateProposal(try proposal(2, .open, at: 5), expectedSignatures: 1)]))
                            != nil
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(results.filter { $0 }.count == 1)
            _ = try await store.apply([.updateProposal(try proposal(3, .applied, at: 9), expectedSignatures: 2)])
            await expectStorageError(.conflict) {
                _ = try await store.apply([.updateProposal(try proposal(4, .applied), expectedSignatures: 3)])
            }
            let stored = try #require(try await store.proposal(f.org, id: id))
            #expect(stored.state == .applied && stored.signatureCount == 3 && stored.signatures == Array("[3]".utf8))
            #expect(stored.updatedAt == f.now.adding(seconds: 9) && stored.createdAt == f.now)
            #expect(try await store.proposals(f.org, limit: 10).map(\.id) == [id])
            #expect(try await store.proposal(f.org, id: String(repeating: "cd", count: 32)) == nil)
        }
    }
}
