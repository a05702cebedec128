// Property tests over thousands of seeded random documents (JSONTestGenerators.swift): the canonical
// form round-trips, is a fixed point, and is the one form (and one digest) that every valid spelling
// of the same document reaches.
import Governance
import KuraTestSupport
import Testing

/// Counts printed at the end of each property test, so that a run shows how much it covered.
private func report(_ name: String, _ count: Int) {
    print("\(name): \(count) cases")
}

/// One family of random documents: which numbers they hold, and the parser policy that reads them.
struct Corpus: Sendable, CustomTestStringConvertible {
    let name: String
    let numbers: JSONValueGenerator.Numbers
    let policy: JSONParser.NumberPolicy
    let seed: UInt64
    let count: Int

    var testDescription: String { name }

    /// Documents with integers only, read under the document policy.
    static let integers = Corpus(
        name: "integers", numbers: .integers, policy: .integersOnly, seed: 0x4B55_5241, count: 3_000)
    /// Documents with any doubles, read under the general policy.
    static let doubles = Corpus(name: "doubles", numbers: .doubles, policy: .any, seed: 0x0DB1_E5, count: 2_000)
}

@Test(arguments: [Corpus.integers, .doubles])
func canonicalFormRoundTripsForRandomDocuments(corpus: Corpus) throws {
    var generator = JSONValueGenerator(seed: corpus.seed, numbers: corpus.numbers)
    var cases = 0
    for _ in 0..<corpus.count {
        let value = generator.document()
        let canonical = try CanonicalJSON.encode(value)
        let parsed = try JSONParser.parse(canonical, numbers: corpus.policy)
        #expect(parsed == value)  // parse ∘ encode is the identity
        #expect(try CanonicalJSON.encode(parsed) == canonical)  // and encode ∘ parse ∘ encode = encode
        cases += 1
    }
    #expect(cases == corpus.count)
    report("round trip (\(corpus.name))", cases)
}

@Test(arguments: [Corpus.integers, .doubles])
func everySpellingOfADocumentHasOneCanonicalFormAndOneDigest(corpus: Corpus) throws {
    var generator = JSONValueGenerator(seed: corpus.seed ^ 0x5EED, numbers: corpus.numbers)
    var writer = LooseWriter(seed: corpus.seed ^ 0x5EED_0002)
    var spellings = 0
    var differentSpellings = 0
    for _ in 0..<corpus.count {
        let value = generator.document()
        let canonical = try CanonicalJSON.encode(value)
        let digest = DocumentDigest.digest(tag: "kura/test/v1", canonical: canonical)
        for _ in 0..<3 {
            // Members in another order, other whitespace, optional escapes in either hex case, and
            // (for doubles) numbers spelled as Swift writes them (`1e-07`, `100.0`, `1.5E+300`, `0.1000`).
            let text = writer.text(value)
            if text != canonical { differentSpellings += 1 }
            let parsed = try JSONParser.parse(text, numbers: corpus.policy)
            #expect(parsed == value)
            let again = try CanonicalJSON.encode(parsed)
            #expect(again == canonical)
            #expect(DocumentDigest.digest(tag: "kura/test/v1", canonical: again) == digest)
            spellings += 1
        }
    }
    // The property is only interesting if the spellings really differ from the canonical form.
    #expect(differentSpellings > spellings / 2)
    report("spellings (\(corpus.name))", spellings)
}

@Test func memberInsertionOrderDoesNotMatter() throws {
    var generator = JSONValueGenerator(seed: 0x0DE4, numbers: .integers)
    var rng = SeededGenerator(seed: 0x0DE5)
    var cases = 0
    for _ in 0..<1_000 {
        guard case .object(let members) = generator.object(depth: 1) else { continue }
        let canonical = try CanonicalJSON.encode(.object(members))
        // Build the same object by inserting its members in a random order.
        var rebuilt: [String: JSONValue] = [:]
        for (name, value) in members.shuffled(using: &rng) { rebuilt[name] = value }
        #expect(try CanonicalJSON.encode(.object(rebuilt)) == canonical)
        cases += 1
    }
    report("insertion orders", cases)
}

@Test func canonicalOutputHasNoInsignificantWhitespaceAndSortedNames() throws {
    var generator = JSONValueGenerator(seed: 0x7157, numbers: .integers)
    for _ in 0..<500 {
        let value = generator.document()
        let canonical = try CanonicalJSON.encode(value)
        // Outside strings, no byte is whitespace.
        var inString = false
        var escaped = false
        for byte in canonical {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == 0x22 {
                    inString = false
                }
                #expect(byte >= 0x20 || !inString, "raw control character in a canonical string")
            } else {
                #expect(![0x20, 0x09, 0x0A, 0x0D].contains(byte))
                if byte == 0x22 { inString = true }
            }
        }
        // Names of every object come out in UTF-16 order (checked on the parsed members' canonical forms).
        if case .object(let members) = value {
            let names = members.keys.sorted { Array($0.utf16).lexicographicallyPrecedes(Array($1.utf16)) }
            var expected: [UInt8] = [UInt8(ascii: "{")]
            for (i, name) in names.enumerated() {
                if i > 0 { expected.append(UInt8(ascii: ",")) }
                expected += try CanonicalJSON.encode(.string(name)) + [UInt8(ascii: ":")]
                expected += try CanonicalJSON.encode(members[name]!)
            }
            expected.append(UInt8(ascii: "}"))
            #expect(canonical == expected)
        }
    }
}

@Test func valueEqualityIsExactAndAgreesWithTheCanonicalBytes() throws {
    // Canonically equivalent but different strings are different JSON values (RFC 8785 keeps strings
    // as they are), although Swift's String == calls them equal.
    let composed: JSONValue = "\u{E9}"
    let decomposed: JSONValue = "e\u{301}"
    #expect("\u{E9}" == "e\u{301}")
    #expect(composed != decomposed)
    #expect(try CanonicalJSON.encode(composed) != CanonicalJSON.encode(decomposed))
    let objectA: JSONValue = ["\u{E9}": 1]
    let objectB: JSONValue = ["e\u{301}": 1]
    #expect(objectA != objectB)
    #expect(Set([objectA, objectB, composed, decomposed]).count == 4)
    // Positive controls: equal values, -0 and 0, member order.
    #expect(JSONValue.number(-0.0) == .number(0))
    #expect(Set([JSONValue.number(-0.0), .number(0)]).count == 1)
    var first: [String: JSONValue] = [:]
    first["x"] = 1
    first["y"] = [true, .null]
    var second: [String: JSONValue] = [:]
    second["y"] = [true, .null]
    second["x"] = 1
    #expect(JSONValue.object(first) == .object(second))
    #expect(JSONValue.object(first).hashValue == JSONValue.object(second).hashValue)
}
