import CoordinatorCore
import Governance
import Testing

@Suite("Audit event chain")
struct AuditEventTests {
    private func chain(_ count: Int) throws -> [AuditEvent] {
        let org = try OrganizationID("acme")
        var events: [AuditEvent] = []
        for n in 0..<count {
            events.append(
                AuditEvent(
                    following: events.last, organization: org, kind: "k", subject: "s\(n)", payload: [UInt8(n)],
                    at: try Timestamp(seconds: Int64(n))))
        }
        return events
    }

    @Test func intactChainHasNoBreak() throws {
        #expect(AuditEvent.firstBreak(in: try chain(5)) == nil)
    }

    @Test func editedPayloadBreaksAtThatEvent() throws {
        var events = try chain(5)
        let e = events[2]
        events[2] = AuditEvent(
            stored: e.organization, sequence: e.sequence, kind: e.kind, subject: e.subject, payload: [99], at: e.at,
            previousHash: e.previousHash, hash: e.hash)
        #expect(AuditEvent.firstBreak(in: events) == 3)
    }

    @Test func droppedEventBreaksTheChain() throws {
        var events = try chain(5)
        events.remove(at: 1)
        #expect(AuditEvent.firstBreak(in: events) == 3)
    }

    @Test func rehashedEditStillBreaksTheNextLink() throws {
        var events = try chain(5)
        let e = events[1]
        let forged = AuditEvent(
            following: events[0], organization: e.organization, kind: e.kind, subject: "forged", payload: e.payload,
            at: e.at)
        events[1] = forged
        #expect(AuditEvent.firstBreak(in: events) == 3)
    }
}
