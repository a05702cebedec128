import CoordinatorCore
import Governance
import Testing
import WalletCrypto

@Suite("Audit export format")
struct AuditExportTests {
    let world: AuditWorld
    init() throws { world = try AuditWorld() }

    func code(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let e as GovernanceError {
            return e.code.name
        } catch {
            return "\(error)"
        }
    }

    /// The export's JSON with `edit` applied to its object form.
    func edited(_ edit: (inout [String: JSONValue]) -> Void) throws -> [UInt8] {
        guard case .object(var o) = try world.export().json() else { throw GovernanceError(.wrongType, .malformed, "") }
        edit(&o)
        return try CanonicalJSON.encode(.object(o))
    }

    @Test func roundTripsThroughItsCanonicalBytes() throws {
        let export = world.export()
        let bytes = try export.encoded()
        let parsed = try AuditExport(bytes: bytes)
        #expect(parsed == export)
        #expect(try parsed.encoded() == bytes)
        #expect(parsed.events.count == world.records.count)
        #expect(parsed.documents.receipts.map(\.receipt.digest) == world.receipts.map(\.receipt.digest))
        // Every event parses back to the record it was written from, and its hash still holds.
        for (event, record) in zip(parsed.events, world.records) {
            #expect(try AuditRecord(decoding: event) == record)
            #expect(event.hasValidHash)
        }
        // An Ethereum transaction round-trips too.
        var w = world
        w.bundleDocuments[1] = .init(
            intent: w.bundleDocuments[1].intent, sha256: AuditWorld.bundleHash(1),
            transaction: .ethereum(unsigned: [0x02, 0xc0, 0x01]))
        #expect(try AuditExport(bytes: w.export().encoded()) == w.export())
    }

    @Test func payloadBytesAreTheCanonicalFormOfThePayloadObject() throws {
        // Written non-canonically (spaces, members out of order), the payload is read back as its RFC 8785 bytes.
        let export = world.export()
        var text = String(decoding: try export.encoded(), as: UTF8.self)
        text = text.replacing(#""payload":{"genesis":"#, with: #""payload": { "name": "Acme", "genesis":"#)
            .replacing(#","name":"Acme"}"#, with: "}")
        let parsed = try AuditExport(bytes: Array(text.utf8))
        #expect(parsed.events[0].payload == export.events[0].payload)
        #expect(parsed.events[0].hasValidHash)
    }

    @Test func everyTruncatedPrefixFails() throws {
        // A small export (a few events, one document of each kind but policies) keeps this quick.
        var w = world
        w.records = Array(w.records.prefix(4))
        w.intentDocuments = Array(w.intentDocuments.prefix(1))
        w.approvalDocuments = Array(w.approvalDocuments.prefix(1))
        w.bundleDocuments = Array(w.bundleDocuments.prefix(1))
        w.receiptDocuments = Array(w.receiptDocuments.prefix(1))
        w.policies = []
        let small = w.export()
        let bytes = try small.encoded()
        #expect(try AuditExport(bytes: bytes) == small)
        var accepted = 0
        for n in 0..<bytes.count where (try? AuditExport(bytes: Array(bytes[..<n]))) != nil { accepted += 1 }
        #expect(accepted == 0)
    }

    @Test func rejectsTrailingBytesAndOversizeInput() throws {
        let bytes = try world.export().encoded()
        #expect(code { _ = try AuditExport(bytes: bytes + Array(" x".utf8)) } != nil)
        #expect(code { _ = try AuditExport(bytes: bytes + Array("\n".utf8)) } == nil)
        #expect(code { _ = try AuditExport(bytes: bytes, limits: .init(maxBytes: bytes.count - 1)) } == "too_large")
        #expect(code { _ = try AuditExport(bytes: bytes, limits: .init(maxBytes: bytes.count)) } == nil)
        let events = world.records.count
        #expect(code { _ = try AuditExport(bytes: bytes, limits: .init(maxEvents: events - 1)) } == "too_large")
        #expect(code { _ = try AuditExport(bytes: bytes, limits: .init(maxDocuments: 2)) } == "too_large")
        #expect(code { _ = try AuditExport(bytes: bytes, limits: .init(maxDocuments: 3)) } == nil)
    }

    @Test func rejectsUnknownFieldsAtEveryLevel() throws {
        #expect(code { _ = try AuditExport(bytes: edited { _ in }) } == nil)
        let paths: [(inout [String: JSONValue]) -> Void] = [
            { $0["extra"] = 1 },
            { $0["events"] = .array([Self.with($0["events"]![0]!, "extra", 1)]) },
            { $0["documents"] = Self.with($0["documents"]!, "extra", 1) },
            { o in
                var d = o["documents"]!.objectValue!
                d["intents"] = .array([Self.with(d["intents"]![0]!, "extra", 1)])
                o["documents"] = .object(d)
            },
            { o in
                var d = o["documents"]!.objectValue!
                d["bundles"] = .array([Self.with(d["bundles"]![0]!, "extra", 1)])
                o["documents"] = .object(d)
            },
            { o in
                var d = o["documents"]!.objectValue!
                let b = d["bundles"]![0]!
                d["bundles"] = .array([Self.with(b, "transaction", Self.with(b["transaction"]!, "extra", 1))])
                o["documents"] = .object(d)
            },
        ]
        for edit in paths { #expect(code { _ = try AuditExport(bytes: edited(edit)) } == "unknown_field") }
    }

    @Test func rejectsWrongKindFormatAndMissingFields() throws {
        #expect(code { _ = try AuditExport(bytes: edited { $0["kind"] = "kura.audit" }) } == "invalid_value")
        #expect(code { _ = try AuditExport(bytes: edited { $0["format"] = 2 }) } == "invalid_value")
        #expect(code { _ = try AuditExport(bytes: edited { $0["documents"] = nil }) } == "missing_field")
        #expect(code { _ = try AuditExport(bytes: edited { $0["exportedAt"] = -1 }) } == "invalid_value")
        #expect(code { _ = try AuditExport(bytes: edited { $0["organization"] = "Acme" }) } == "invalid_value")
    }

    @Test func eventFieldsAreStrict() throws {
        func event(_ name: String, _ value: JSONValue?) throws -> [UInt8] {
            try edited { o in
                var events = o["events"]!.arrayValue!
                var e = events[0].objectValue!
                e[name] = value
                events[0] = .object(e)
                o["events"] = .array(events)
            }
        }
        let hash = world.events[0].hash.description
        #expect(code { _ = try AuditExport(bytes: event("hash", .string(hash))) } == nil)
        #expect(code { _ = try AuditExport(bytes: event("hash", .string(hash.uppercased()))) } == "invalid_value")
        #expect(code { _ = try AuditExport(bytes: event("previousHash", "00")) } == "invalid_value")
        #expect(code { _ = try AuditExport(bytes: event("sequence", 0)) } == "invalid_value")
        #expect(code { _ = try AuditExport(bytes: event("sequence", 1.5)) } == "not_integer")
        #expect(code { _ = try AuditExport(bytes: event("payload", [1])) } == "wrong_type")
        #expect(code { _ = try AuditExport(bytes: event("payload", nil)) } == "missing_field")
        #expect(code { _ = try AuditExport(bytes: event("kind", "")) } == "invalid_value")
        #expect(code { _ = try AuditExport(bytes: event("kind", "intent submitted")) } == "invalid_value")
        #expect(
            code { _ = try AuditExport(bytes: event("kind", .string(String(repeating: "k", count: 65)))) }
                == "invalid_value")
        #expect(code { _ = try AuditExport(bytes: event("kind", .string(String(repeating: "k", count: 64)))) } == nil)
        #expect(
            code { _ = try AuditExport(bytes: event("subject", .string(String(repeating: "s", count: 257)))) }
                == "too_large")
        #expect(
            code { _ = try AuditExport(bytes: event("subject", .string(String(repeating: "s", count: 256)))) } == nil)
        let big: JSONValue = ["text": .string(String(repeating: "x", count: AuditExport.maxPayload))]
        #expect(code { _ = try AuditExport(bytes: event("payload", big)) } == "too_large")
    }

    @Test func transactionsAndHashesHaveOneEncoding() throws {
        func bundle(_ tx: JSONValue? = nil, sha: JSONValue? = nil) throws -> [UInt8] {
            try edited { o in
                var d = o["documents"]!.objectValue!
                var b = d["bundles"]!.arrayValue!
                var first = b[0].objectValue!
                if let tx { first["transaction"] = tx }
                if let sha { first["sha256"] = sha }
                b[0] = .object(first)
                d["bundles"] = .array(b)
                o["documents"] = .object(d)
            }
        }
        #expect(code { _ = try AuditExport(bytes: bundle(["chain": "bitcoin", "psbt": "cHNidP8A"])) } == nil)
        #expect(code { _ = try AuditExport(bytes: bundle(["chain": "bitcoin", "psbt": "cHNidP8="])) } == nil)
        // Non-zero padding bits: another text for the same bytes.
        #expect(
            code { _ = try AuditExport(bytes: bundle(["chain": "bitcoin", "psbt": "cHNidP9="])) } == "invalid_value")
        #expect(
            code { _ = try AuditExport(bytes: bundle(["chain": "bitcoin", "psbt": "cHNidP8"])) } == "invalid_value")
        #expect(code { _ = try AuditExport(bytes: bundle(["chain": "bitcoin", "psbt": ""])) } == "invalid_value")
        #expect(code { _ = try AuditExport(bytes: bundle(["chain": "ethereum", "unsigned": "02c0"])) } == nil)
        #expect(
            code { _ = try AuditExport(bytes: bundle(["chain": "ethereum", "unsigned": "02C0"])) } == "invalid_value")
        #expect(
            code { _ = try AuditExport(bytes: bundle(["chain": "ethereum", "unsigned": "0x02c0"])) } == "invalid_value")
        #expect(
            code { _ = try AuditExport(bytes: bundle(["chain": "solana", "unsigned": "02c0"])) } == "invalid_value")
        #expect(
            code { _ = try AuditExport(bytes: bundle(["chain": "ethereum", "psbt": "cHNidP8A"])) } == "missing_field")
        #expect(
            code { _ = try AuditExport(bytes: bundle(sha: .string(String(repeating: "A", count: 64)))) }
                == "invalid_value")
        let small = AuditExport.Limits(maxTransactionBytes: 6)  // the other bundle's PSBT is 6 bytes
        #expect(
            code {
                _ = try AuditExport(bytes: bundle(["chain": "ethereum", "unsigned": "001122334455"]), limits: small)
            }
                == nil)
        #expect(
            code {
                _ = try AuditExport(bytes: bundle(["chain": "ethereum", "unsigned": "00112233445566"]), limits: small)
            }
                == "invalid_value")
    }

    @Test func anIntentOrABundleListedTwiceIsRefused() throws {
        func twice(_ list: String) throws -> [UInt8] {
            try edited { o in
                var d = o["documents"]!.objectValue!
                let items = d[list]!.arrayValue!
                d[list] = .array(items + [items[0]])
                o["documents"] = .object(d)
            }
        }
        #expect(code { _ = try AuditExport(bytes: twice("intents")) } == "duplicate_key")
        #expect(code { _ = try AuditExport(bytes: twice("bundles")) } == "duplicate_key")
        // Approvals and receipts may repeat in the format (the verifier judges them).
        #expect(code { _ = try AuditExport(bytes: twice("approvals")) } == nil)
        #expect(code { _ = try AuditExport(bytes: twice("receipts")) } == nil)
    }

    @Test func theEncoderRefusesWhatTheParserWould() throws {
        #expect(code { _ = try world.export().json() } == nil)
        let events = world.events
        let first = events[0]
        func replacing(_ e: AuditEvent) -> AuditExport { world.export(events: [e] + events.dropFirst()) }
        let foreign = AuditEvent(
            stored: try OrganizationID("other"), sequence: 1, kind: first.kind, subject: first.subject,
            payload: first.payload, at: first.at, previousHash: first.previousHash, hash: first.hash)
        #expect(code { _ = try replacing(foreign).json() } == "invalid_value")
        let spaced = AuditEvent(
            stored: first.organization, sequence: 1, kind: first.kind, subject: first.subject,
            payload: Array(#"{ "name": "Acme" }"#.utf8), at: first.at, previousHash: first.previousHash,
            hash: first.hash)
        #expect(code { _ = try replacing(spaced).json() } == "non_canonical")
        let array = AuditEvent(
            stored: first.organization, sequence: 1, kind: first.kind, subject: first.subject,
            payload: Array("[]".utf8), at: first.at, previousHash: first.previousHash, hash: first.hash)
        #expect(code { _ = try replacing(array).json() } == "wrong_type")
        let badKind = AuditEvent(
            following: nil, organization: first.organization, kind: "no spaces", subject: "", payload: Array("{}".utf8),
            at: first.at)
        #expect(code { _ = try replacing(badKind).json() } == "invalid_value")
    }

    static func with(_ value: JSONValue, _ name: String, _ member: JSONValue) -> JSONValue {
        var o = value.objectValue ?? [:]
        o[name] = member
        return .object(o)
    }
}

@Suite("Audit records (the event kinds and payloads of docs/AUDIT.md)")
struct AuditRecordTests {
    func event(_ kind: String, _ subject: String, _ payload: JSONValue) throws -> AuditEvent {
        AuditEvent(
            following: nil, organization: try OrganizationID("acme"), kind: kind, subject: subject,
            payload: try CanonicalJSON.encode(payload), at: try Timestamp(seconds: 1))
    }

    func code(_ kind: String, _ subject: String, _ payload: JSONValue) -> String? {
        do {
            _ = try AuditRecord(decoding: event(kind, subject, payload))
            return nil
        } catch let e as GovernanceError {
            return e.code.name
        } catch {
            return "\(error)"
        }
    }

    @Test func everyKnownKindRoundTrips() throws {
        let world = try AuditWorld()
        let h = world.policies[0].policy.hash
        var records = world.records
        records += [
            .tokenRevoked(member: try MemberID("alice"), token: "tok-1"),
            .transactionBuilt(intent: try IntentID("intent-1"), chain: .ethereum, sha256: h),
            .intentState(intent: try IntentID("intent-1"), from: .broadcast, to: .confirmed),
        ]
        var kinds = Set<String>()
        for r in records {
            let e = AuditEvent(
                following: nil, organization: AuditWorld.organization, kind: r.kind, subject: r.subject,
                payload: r.payload, at: try Timestamp(seconds: 5))
            #expect(try AuditRecord(decoding: e) == r)
            kinds.insert(r.kind)
        }
        #expect(Set(AuditRecord.knownKinds).isSubset(of: kinds))
    }

    @Test func payloadsHaveClosedSchemas() throws {
        let h = String(repeating: "ab", count: 32)
        let good: [(String, String, JSONValue)] = [
            ("organization.bootstrapped", "acme", ["genesis": .string(h), "name": "Acme"]),
            ("policy.appended", "2", ["version": 2, "hash": .string(h)]),
            (
                "intent.submitted", "intent-1",
                [
                    "digest": .string(h), "initiator": "alice", "wallet": "w", "asset": "btc", "amount": "1",
                    "destination": "bc1q",
                ]
            ),
            ("approval.recorded", "intent-1", ["approver": "bob", "decision": "approve", "digest": .string(h)]),
            ("intent.state", "intent-1", ["from": "approved", "to": "built"]),
            ("transaction.built", "intent-1", ["chain": "bitcoin", "sha256": .string(h)]),
            ("bundle.issued", "intent-1", ["sha256": .string(h)]),
            (
                "receipt.recorded", "intent-1",
                ["signer": "vault-a", "sequence": 1, "digest": .string(h), "intent": .string(h)]
            ),
            ("token.issued", "alice", ["token": "t"]),
            ("token.revoked", "alice", ["token": "t"]),
        ]
        for (kind, subject, payload) in good {
            #expect(code(kind, subject, payload) == nil, "\(kind)")
            // Every member is required, and no other member is allowed.
            for name in payload.objectValue!.keys {
                var less = payload.objectValue!
                less[name] = nil
                #expect(code(kind, subject, .object(less)) == "missing_field", "\(kind) without \(name)")
            }
            var more = payload.objectValue!
            more["extra"] = 1
            #expect(code(kind, subject, .object(more)) == "unknown_field", "\(kind) with extra")
        }
        // Subjects and values.
        #expect(code("organization.bootstrapped", "Acme!", ["genesis": .string(h), "name": "Acme"]) == "invalid_value")
        #expect(code("policy.appended", "3", ["version": 2, "hash": .string(h)]) == "invalid_value")
        #expect(code("policy.appended", "0", ["version": 0, "hash": .string(h)]) == "invalid_value")
        #expect(code("bundle.issued", "Intent 1", ["sha256": .string(h)]) == "invalid_value")
        #expect(code("bundle.issued", "intent-1", ["sha256": .string(h.uppercased())]) == "invalid_value")
        #expect(
            code("approval.recorded", "intent-1", ["approver": "bob", "decision": "maybe", "digest": .string(h)])
                == "invalid_value")
        #expect(code("intent.state", "intent-1", ["from": "approved", "to": "done"]) == "invalid_value")
        #expect(code("transaction.built", "intent-1", ["chain": "solana", "sha256": .string(h)]) == "invalid_value")
        #expect(
            code(
                "receipt.recorded", "intent-1",
                ["signer": "vault-a", "sequence": 0, "digest": .string(h), "intent": .string(h)]) == "invalid_value")
        #expect(code("token.issued", "alice", ["token": ""]) == "invalid_value")
        #expect(code("token.issued", "alice", ["token": 5]) == "wrong_type")
        let amount: JSONValue = [
            "digest": .string(h), "initiator": "alice", "wallet": "w", "asset": "btc", "amount": "01",
            "destination": "x",
        ]
        #expect(code("intent.submitted", "intent-1", amount) == "non_canonical")
        // Unknown kinds keep their payload and are not judged.
        #expect(code("member.note", "anything at all", ["free": ["form": true]]) == nil)
    }

    @Test func storedPayloadBytesMustBeACanonicalObject() throws {
        #expect(try AuditRecord.payloadObject(Array(#"{"a":1}"#.utf8), sequence: 1) == ["a": 1])
        for (bytes, expected) in [
            (#"{ "a":1}"#, "non_canonical"), (#"{"b":1,"a":2}"#, "non_canonical"), ("[1]", "wrong_type"),
            ("{", "malformed_json"), ("", "malformed_json"),
        ] {
            do {
                _ = try AuditRecord.payloadObject(Array(bytes.utf8), sequence: 7)
                Issue.record("\(bytes) was accepted")
            } catch {
                #expect(error.code.name == expected, "\(bytes)")
                #expect(error.reason.hasPrefix("event 7 payload"))
            }
        }
    }
}
