// The closed-schema reader: every member read by name and type, unknown members refused by
// finish(), amounts as canonical decimal strings. Each refusal beside its positive control.
import Governance
import Testing

private let sample = #"""
    {"version":3,"name":"treasury","amount":"1500000","enabled":true,"memo":"x",
     "members":[{"id":"alice","roles":["admin","approver"]},{"id":"bob","roles":["initiator"]}],
     "limits":{"daily":"100000000"}}
    """#

private struct Member: Equatable {
    let id: String
    let roles: [String]
}

private struct Sample: Equatable {
    let version: Int
    let name: String
    let amount: String
    let enabled: Bool
    let memo: String?
    let members: [Member]
    let daily: String
}

/// Reads the sample schema from `text` (parsed with the document policy unless `numbers` says otherwise).
private func readSample(_ text: String, numbers: JSONParser.NumberPolicy = .integersOnly) throws(GovernanceError)
    -> Sample
{
    let value = try JSONParser.parse(Array(text.utf8), numbers: numbers)
    var r = try JSONObjectReader(value, path: "policy")
    let sample = Sample(
        version: try r.int("version", in: 1...1_000),
        name: try r.string("name"),
        amount: try r.decimalString("amount"),
        enabled: try r.bool("enabled"),
        memo: try r.optionalString("memo"),
        members: try r.objects("members") { (m: inout JSONObjectReader) throws(GovernanceError) in
            Member(id: try m.string("id"), roles: try m.stringArray("roles"))
        },
        daily: try r.object("limits") { (l: inout JSONObjectReader) throws(GovernanceError) in
            try l.decimalString("daily")
        }
    )
    try r.finish()
    return sample
}

private func refusal(_ text: String, numbers: JSONParser.NumberPolicy = .integersOnly) -> GovernanceError? {
    do {
        _ = try readSample(text, numbers: numbers)
        return nil
    } catch {
        return error
    }
}

/// `sample` with `old` replaced by `new` (exactly once).
private func mutated(_ old: String, _ new: String) -> String {
    precondition(sample.ranges(of: old).count == 1, "\(old) must occur once in the sample")
    return sample.replacing(old, with: new)
}

@Test func readsAClosedSchema() throws {
    let s = try readSample(sample)
    #expect(
        s
            == Sample(
                version: 3, name: "treasury", amount: "1500000", enabled: true, memo: "x",
                members: [Member(id: "alice", roles: ["admin", "approver"]), Member(id: "bob", roles: ["initiator"])],
                daily: "100000000"))
    // An optional member may be absent.
    #expect(try readSample(mutated(#""memo":"x","#, "")).memo == nil)
}

@Test func finishRefusesUnknownFields() throws {
    let top = refusal(mutated(#""version":3,"#, #""version":3,"extra":1,"#))
    #expect(top?.code == .unknownField)
    #expect(top?.category == .malformed)
    #expect(top?.reason == #"policy: unknown field "extra""#)
    let nested = refusal(mutated(#"{"id":"bob","#, #"{"id":"bob","admin":true,"#))
    #expect(nested?.code == .unknownField)
    #expect(nested?.reason == #"policy.members[1]: unknown field "admin""#)
    let inObject = refusal(mutated(#""daily":"100000000""#, #""daily":"100000000","weekly":"1""#))
    #expect(inObject?.reason == #"policy.limits: unknown field "weekly""#)
    // A long or odd name is shown escaped and cut short.
    let long = refusal(mutated(#""version":3,"#, "\"version\":3,\"\(String(repeating: "z", count: 500))\\n\":1,"))
    #expect(long?.code == .unknownField)
    #expect((long?.reason.count ?? 0) < 120)
    // Positive control: the sample itself reads, and a reader that reads nothing refuses every field.
    #expect(refusal(sample) == nil)
    let empty = try JSONObjectReader(try JSONParser.parse(Array(sample.utf8)), path: "p")
    #expect(throws: GovernanceError.self) { try empty.finish() }
    try JSONObjectReader([:], path: "p").finish()
}

@Test func amountsMustBeCanonicalDecimalStrings() throws {
    // A JSON number where an amount string is expected.
    #expect(refusal(mutated(#""amount":"1500000""#, #""amount":1500000"#))?.code == .wrongType)
    #expect(refusal(mutated(#""daily":"100000000""#, #""daily":100000000"#))?.code == .wrongType)
    // Not canonical: leading zeros.
    for bad in ["01500000", "00", "0001"] {
        #expect(refusal(mutated(#""amount":"1500000""#, "\"amount\":\"\(bad)\""))?.code == .nonCanonical, "\(bad)")
    }
    // Not decimal digits at all.
    for bad in ["", "+1", "-1", "1.5", "1e6", " 1", "1 ", "1_000", "0x10", "١٢", "１"] {
        #expect(refusal(mutated(#""amount":"1500000""#, "\"amount\":\"\(bad)\""))?.code == .invalidValue, "\(bad)")
    }
    // Bounded: 78 digits (any 256-bit value) pass, 79 do not.
    let max = String(repeating: "9", count: 78)
    #expect(try readSample(mutated(#""amount":"1500000""#, "\"amount\":\"\(max)\"")).amount == max)
    #expect(refusal(mutated(#""amount":"1500000""#, "\"amount\":\"\(max)9\""))?.code == .invalidValue)
    // Positive controls: zero and ordinary amounts.
    #expect(try readSample(mutated(#""amount":"1500000""#, #""amount":"0""#)).amount == "0")
    #expect(try readSample(mutated(#""amount":"1500000""#, #""amount":"10""#)).amount == "10")
}

@Test func errorsNameThePathAndFieldButNotTheValue() throws {
    let secretLooking = "00123456789012345678901234567890"
    let e = refusal(mutated(#""amount":"1500000""#, "\"amount\":\"\(secretLooking)\""))
    #expect(e?.reason.hasPrefix("policy.amount:") == true)
    #expect(e?.reason.contains(secretLooking) == false)
    let roles = refusal(mutated(#"["initiator"]"#, #"["initiator",7]"#))
    #expect(roles?.code == .wrongType)
    #expect(roles?.reason.hasPrefix("policy.members[1].roles[1]:") == true)
}

@Test func requiredFieldsMustBePresentAndOptionalOnesAreNeverNull() throws {
    #expect(refusal(mutated(#""name":"treasury","#, ""))?.code == .missingField)
    #expect(refusal(mutated(#""name":"treasury","#, ""))?.reason == #"policy: missing field "name""#)
    #expect(refusal(mutated(#""id":"alice","#, ""))?.reason == #"policy.members[0]: missing field "id""#)
    // null is neither a value nor absence.
    #expect(refusal(mutated(#""memo":"x""#, #""memo":null"#))?.code == .nonCanonical)
    #expect(refusal(mutated(#""name":"treasury""#, #""name":null"#))?.code == .nonCanonical)
}

@Test func membersMustHaveTheirType() throws {
    let cases: [(String, String)] = [
        (#""version":3"#, #""version":"3""#),
        (#""name":"treasury""#, #""name":["treasury"]"#),
        (#""enabled":true"#, #""enabled":"true""#),
        (#""enabled":true"#, #""enabled":1"#),
        (#""memo":"x""#, #""memo":1"#),
        (#""roles":["admin","approver"]"#, #""roles":"admin""#),
        (#""limits":{"daily":"100000000"}"#, #""limits":["100000000"]"#),
        (#""members":[{"#, #""members":[7,{"#),
    ]
    for (old, new) in cases {
        #expect(refusal(mutated(old, new))?.code == .wrongType, "\(new)")
    }
    // The top level must be an object.
    #expect(throws: GovernanceError.self) { try JSONObjectReader([1, 2], path: "policy") }
}

@Test func integersAreCheckedForRangeAndIntegrality() throws {
    #expect(refusal(mutated(#""version":3"#, #""version":0"#))?.code == .invalidValue)
    #expect(refusal(mutated(#""version":3"#, #""version":1001"#))?.code == .invalidValue)
    #expect(try readSample(mutated(#""version":3"#, #""version":1000"#)).version == 1000)
    // A value parsed under the general number policy may hold fractions: the reader refuses them.
    #expect(refusal(mutated(#""version":3"#, #""version":3.5"#), numbers: .any)?.code == .notInteger)
    #expect(try readSample(mutated(#""version":3"#, #""version":3.0"#), numbers: .any).version == 3)
    var r = try JSONObjectReader(
        ["big": .number(9_007_199_254_740_992), "ok": .number(-9_007_199_254_740_991)], path: "p")
    do {
        _ = try r.int("big")
        Issue.record("read 2^53 as an integer")
    } catch {
        #expect(error.code == .numberOutOfRange)
    }
    #expect(try r.int("ok") == -9_007_199_254_740_991)
    #expect(try r.optionalInt("absent") == nil)
    #expect(try r.optionalBool("absent") == nil)
}
