import Foundation
import Governance
import Testing
import WalletCrypto

@Suite("Intent lifecycle")
struct LifecycleTests {
    @Test func happyPath() throws {
        var l = IntentLifecycle()
        #expect(try l.handle(.submitted) == [.notifyApprovers])
        #expect(try l.handle(.approvalAdded(have: 1, need: 2)) == [])
        #expect(l.state == .awaitingApprovals)
        #expect(try l.handle(.approvalAdded(have: 2, need: 2)) == [.buildTransaction])
        #expect(try l.handle(.transactionBuilt) == [.offerSigningBundle])
        #expect(try l.handle(.bundleIssued) == [])
        #expect(try l.handle(.signatureReturned(complete: false)) == [])
        #expect(try l.handle(.signatureReturned(complete: true)) == [.finalizeAndBroadcast])
        #expect(try l.handle(.broadcast) == [.watchConfirmations])
        #expect(try l.handle(.dropped) == [.rebroadcast])
        #expect(l.state == .broadcast)
        #expect(try l.handle(.confirmation(depth: 1, required: 2)) == [])
        #expect(try l.handle(.confirmation(depth: 2, required: 2)) == [.recordTerminal])
        #expect(l.state == .confirmed)
    }

    @Test func invalidTransitionsAreRefusedAndChangeNothing() throws {
        var l = IntentLifecycle()
        #expect(throws: GovernanceError.self) { try l.handle(.transactionBuilt) }
        #expect(l.state == .draft)
        _ = try l.handle(.submitted)
        #expect(throws: GovernanceError.self) { try l.handle(.broadcast) }
        _ = try l.handle(.rejected)
        #expect(l.state == .rejected)
        for event: IntentLifecycle.Event in [.submitted, .failure, .expiryPassed] {
            #expect(throws: GovernanceError.self) { try l.handle(event) }
        }
        var e = IntentLifecycle(state: .signing)
        _ = try e.handle(.expiryPassed)
        #expect(e.state == .expired)
        var c = IntentLifecycle(state: .broadcast)
        _ = try c.handle(.conflicted)
        #expect(c.state == .failed)
    }
}

@Suite("Governance documents: digests, closed schemas")
struct DocumentTests {
    @Test func digestDoesNotDependOnMemberOrderOrWhitespace() throws {
        let org = try Org()
        let p = org.genesis.policy
        let json = org.intentJSON(policy: p)
        let canonical = try CanonicalJSON.encode(json)
        // The same document written differently: reversed member order, spaces and newlines.
        guard case .object(let members) = json else {
            Issue.record("not an object")
            return
        }
        var text = "{\n"
        for (i, (k, v)) in members.sorted(by: { $0.key > $1.key }).enumerated() {
            text +=
                "  \"\(k)\" :  \(String(decoding: try CanonicalJSON.encode(v), as: UTF8.self))\(i == members.count - 1 ? "" : ",")\n"
        }
        text += "}"
        let reparsed = try JSONParser.parse(Array(text.utf8))
        #expect(try CanonicalJSON.encode(reparsed) == canonical)
        #expect(try Intent(json: reparsed).digest == (try Intent(json: json)).digest)
    }

    @Test func digestsAreDomainSeparated() throws {
        let org = try Org()
        let intent = try Intent(json: org.intentJSON(policy: org.genesis.policy))
        let canonical = try CanonicalJSON.encode(intent.document)
        #expect(intent.digest.bytes == Hash.tagged("kura/intent/v1", canonical))
        #expect(intent.digest.bytes != Hash.tagged("kura/approval/v1", canonical))
        #expect(
            org.genesis.policy.hash.bytes
                == Hash.tagged("kura/policy/v1", try CanonicalJSON.encode(org.genesis.policy.document)))
    }

    @Test func signedFormsRoundTrip() throws {
        let org = try Org()
        let s = try org.signedIntent(org.intentJSON(policy: org.genesis.policy))
        let back = try SignedIntent(json: try JSONParser.parse(try CanonicalJSON.encode(s.json)))
        #expect(back == s)
        let gp = try SignedPolicy(json: try JSONParser.parse(try CanonicalJSON.encode(org.genesis.json)))
        #expect(gp.policy.hash == org.genesis.policy.hash)
    }

    @Test func policyConsistencyRules() throws {
        let org = try Org()
        #expect(throws: Never.self) { try Policy(json: org.policyJSON(version: 1)) }
        let cases: [(String, (inout [String: JSONValue]) -> Void)] = [
            (
                "quorum above the admins",
                { d in d["governance"] = ["adminQuorum": 4, "highQuorum": 4, "highChangeDelay": 0] }
            ),
            (
                "unknown initiator",
                { d in
                    var r = d["rules"]!.objectValue!
                    r["initiators"] = ["bob"]
                    d["rules"] = .object(r)
                }
            ),
            ("genesis with a previous hash", { d in d["previous"] = .string(String(repeating: "0", count: 64)) }),
            (
                "address for the wrong network",
                { d in
                    var book = d["addressBook"]!.arrayValue!
                    book[0] = [
                        "id": "exchange", "asset": "btc", "address": "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
                        "label": "x", "usableFrom": 0,
                    ]
                    d["addressBook"] = .array(book)
                }
            ),
            ("expiry before creation", { d in d["expires"] = 1 }),
        ]
        for (name, edit) in cases {
            #expect(throws: GovernanceError.self, "\(name)") {
                try Policy(json: org.policyJSON(version: 1, edit: edit))
            }
        }
    }
}
