// RFC 8785 (JCS) on the RFC's own examples (Tests/Vectors/rfc8785/rfc8785_examples.json), the
// reference implementation's test data (reference/), and its ES6 number-serialisation checksums
// (es6_numbers.json). See Tests/Vectors/rfc8785/SOURCE.md.
import Governance
import KuraTestSupport
import Testing
import WalletCrypto

private struct Examples: Decodable {
    struct NumberSample: Decodable {
        let ieee754: String
        let json: String?
        let comment: String
    }
    let section_3_2_2_input: String
    let section_3_2_3_canonical: String
    let section_3_2_4_utf8_hex: String
    let section_3_2_3_sorting_input: String
    let section_3_2_3_sorting_expected_value_order: [String]
    let appendix_b_numbers: [NumberSample]
    let appendix_c_input: String
    let appendix_c_expected_name_order: [String]
    let appendix_e_input: String
    let appendix_e_canonical: String
}

private func examples() throws -> Examples {
    try Vectors.decode(Examples.self, "rfc8785/rfc8785_examples.json")
}

private func canonical(_ text: String, numbers: JSONParser.NumberPolicy = .any) throws -> [UInt8] {
    try CanonicalJSON.encode(try JSONParser.parse(Array(text.utf8), numbers: numbers))
}

/// The member values of a canonical object, in the order they appear in its bytes: the text between
/// each `":"` and the following `,` or `}` (the values in these examples are plain ASCII strings).
private func valueOrder(_ canonical: [UInt8]) -> [String] {
    let text = String(decoding: canonical, as: UTF8.self)
    return text.split(separator: "\":\"").dropFirst().map { part in
        String(part.prefix { $0 != "\"" })
    }
}

@Test func rfc8785Section3_2_4MainExampleGivesThePublishedBytes() throws {
    let e = try examples()
    let bytes = try canonical(e.section_3_2_2_input)
    #expect(hexString(bytes) == e.section_3_2_4_utf8_hex)
    #expect(String(decoding: bytes, as: UTF8.self) == e.section_3_2_3_canonical)
    // The example's numbers need general JSON numbers: the document policy refuses them.
    #expect(throws: GovernanceError.self) { try canonical(e.section_3_2_2_input, numbers: .integersOnly) }
}

@Test func rfc8785Section3_2_3SortsNamesByUTF16CodeUnits() throws {
    let e = try examples()
    let bytes = try canonical(e.section_3_2_3_sorting_input)
    #expect(valueOrder(bytes) == e.section_3_2_3_sorting_expected_value_order)
    // The same names in UTF-8 (or scalar) order would put the emoji last: the RFC's point.
    let names = try JSONParser.parse(Array(e.section_3_2_3_sorting_input.utf8)).objectValue!.keys
    let byScalars = names.sorted {
        $0.unicodeScalars.map(\.value).lexicographicallyPrecedes($1.unicodeScalars.map(\.value))
    }
    #expect(byScalars.last == "\u{1F600}")
    #expect(valueOrder(bytes).last == "Hebrew Letter Dalet With Dagesh")
}

@Test func rfc8785AppendixCAndESortAndKeepStringsAsIs() throws {
    let e = try examples()
    let c = String(decoding: try canonical(e.appendix_c_input, numbers: .integersOnly), as: UTF8.self)
    // {"address":"…","city":"…",…}: each member starts after `{"` or `,"`; its name ends at `":`.
    let names = c.dropFirst(2).split(separator: ",\"").map { String($0.prefix { $0 != "\"" }) }
    #expect(names == e.appendix_c_expected_name_order)
    #expect(String(decoding: try canonical(e.appendix_e_input), as: UTF8.self) == e.appendix_e_canonical)
}

@Test func rfc8785AppendixBNumberSamples() throws {
    let e = try examples()
    #expect(e.appendix_b_numbers.count == 26)
    for sample in e.appendix_b_numbers {
        let x = Double(bitPattern: UInt64(sample.ieee754, radix: 16)!)
        if let expected = sample.json {
            let bytes = try CanonicalJSON.encode(number: x)
            #expect(String(decoding: bytes, as: UTF8.self) == expected, "\(sample.ieee754) \(sample.comment)")
            // Inside a document, too.
            #expect(String(decoding: try CanonicalJSON.encode([.number(x)]), as: UTF8.self) == "[\(expected)]")
        } else {
            // NaN and Infinity (note 3): refused by name.
            for v in [x, -x] {
                #expect(throws: GovernanceError.self) { try CanonicalJSON.encode(.number(v)) }
                do {
                    _ = try CanonicalJSON.encode(["a": .number(v)])
                    Issue.record("encoded \(sample.comment)")
                } catch {
                    #expect(error.code == .numberOutOfRange)
                }
            }
        }
    }
}

@Test(arguments: ["arrays", "french", "structures", "unicode", "values", "weird"])
func referenceImplementationTestData(name: String) throws {
    let input = try Vectors.data("rfc8785/reference/input/\(name).json")
    let output = Array(try Vectors.data("rfc8785/reference/output/\(name).json"))
    let outhex = try Vectors.text("rfc8785/reference/outhex/\(name).txt").split(whereSeparator: \.isWhitespace).joined()
    #expect(hexString(output) == outhex)
    let bytes = try CanonicalJSON.encode(try JSONParser.parse(Array(input), numbers: .any))
    #expect(bytes == output)
    // The canonical form is a fixed point.
    #expect(try CanonicalJSON.encode(try JSONParser.parse(bytes, numbers: .any)) == bytes)
}

private struct ES6Numbers: Decodable {
    struct Serial: Decodable {
        let first: String
        let count: Int
    }
    struct Sample: Decodable {
        let ieee754: String
        let json: String
    }
    struct Checksum: Decodable {
        let lines: Int
        let sha256: String
        let size: Int
    }
    let `static`: [String]
    let serial: Serial
    let sample_lines: [Sample]
    let checksums: [Checksum]
}

/// The reference implementation's number test file (`es6testfile100m.txt`), regenerated here: for
/// each double of its deterministic sequence, a line `hex,serialisation\n`; the SHA-256 of the first
/// 1,000, 10,000 and 100,000 lines must match the checksums published with it (computed from V8).
@Test func es6NumberTestFileChecksums() throws {
    let data = try Vectors.decode(ES6Numbers.self, "rfc8785/es6_numbers.json")
    #expect(data.static.count == 168)
    for sample in data.sample_lines {
        let x = Double(bitPattern: UInt64(sample.ieee754, radix: 16)!)
        #expect(String(decoding: try CanonicalJSON.encode(number: x), as: UTF8.self) == sample.json)
    }

    var sequence = data.static.map { UInt64($0, radix: 16)! }
    let serialStart = UInt64(data.serial.first, radix: 16)!
    sequence += (0..<UInt64(data.serial.count)).map { serialStart + $0 }
    let wanted = data.checksums.filter { $0.lines <= 100_000 }
    let total = wanted.map(\.lines).max()!
    var block = [UInt8](repeating: 0, count: 32)
    while sequence.count < total {
        block = Hash.sha256(block)
        for j in 0..<4 {
            var bits: UInt64 = 0
            for k in (0..<8).reversed() { bits = bits << 8 | UInt64(block[8 * j + k]) }
            let x = Double(bitPattern: bits)
            if x != 0 && x.isFinite { sequence.append(bits) }
        }
    }

    var file: [UInt8] = []
    file.reserveCapacity(4_100_000)
    var checked = 0
    for (n, bits) in sequence.prefix(total).enumerated() {
        file.append(contentsOf: String(bits, radix: 16).utf8)
        file.append(UInt8(ascii: ","))
        file.append(contentsOf: try CanonicalJSON.encode(number: Double(bitPattern: bits)))
        file.append(UInt8(ascii: "\n"))
        if let c = wanted.first(where: { $0.lines == n + 1 }) {
            #expect(file.count == c.size, "size after \(c.lines) lines")
            #expect(hexString(Hash.sha256(file)) == c.sha256, "checksum after \(c.lines) lines")
            checked += 1
        }
    }
    #expect(checked == 3)
}

@Test func documentDigestIsTheTaggedHashOfTheCanonicalBytes() throws {
    let e = try examples()
    let bytes = try canonical(e.section_3_2_2_input)
    // Expected values computed with Python's hashlib: SHA256(SHA256(tag) || SHA256(tag) || bytes).
    #expect(
        hexString(DocumentDigest.digest(tag: "kura/policy/v1", canonical: bytes))
            == "5276eec7f888ff12b83a30619a24f61345c70d8b68171b2d08657990660794f4")
    #expect(
        hexString(DocumentDigest.digest(tag: "kura/intent/v1", canonical: bytes))
            == "ff739d472c7db93e308fc17acd062a31cd9aebc8486ead09a111b9fcdde766a6")
    let tagHash = Hash.sha256(Array("kura/approval/v1".utf8))
    #expect(
        DocumentDigest.digest(tag: "kura/approval/v1", canonical: bytes) == Hash.sha256(tagHash + tagHash + bytes))
    let value = try JSONParser.parse(Array(e.section_3_2_2_input.utf8), numbers: .any)
    #expect(
        try DocumentDigest.digest(tag: "kura/policy/v1", value: value)
            == DocumentDigest.digest(tag: "kura/policy/v1", canonical: bytes))
}
