// The strict parser's refusals, one rule at a time, each beside a positive control that differs from
// it only in the rule it breaks. Tests match error codes, not prose.
import Governance
import Testing

/// The error `bytes` is refused with, or nil if they parse.
private func refusal(
    _ bytes: [UInt8], numbers: JSONParser.NumberPolicy = .integersOnly, limits: JSONParser.Limits = .init()
) -> GovernanceError? {
    do {
        _ = try JSONParser.parse(bytes, limits: limits, numbers: numbers)
        return nil
    } catch {
        return error
    }
}

private func refusal(
    _ text: String, numbers: JSONParser.NumberPolicy = .integersOnly, limits: JSONParser.Limits = .init()
) -> GovernanceError? {
    refusal(Array(text.utf8), numbers: numbers, limits: limits)
}

private func parsed(_ text: String, numbers: JSONParser.NumberPolicy = .integersOnly) throws -> JSONValue {
    try JSONParser.parse(Array(text.utf8), numbers: numbers)
}

// MARK: Grammar

@Test(arguments: [
    ("", "{}"),
    (" \n\t", "\n{}\n"),
    ("// c\n{}", "{}"),
    ("{/* c */}", "{ }"),
    ("# c\n{}", "{}"),
    ("[1,]", "[1]"),
    ("[1,,2]", "[1,2]"),
    ("[,1]", "[1]"),
    ("{\"a\":1,}", "{\"a\":1}"),
    ("{,}", "{}"),
    ("{'a':1}", "{\"a\":1}"),
    ("['a']", "[\"a\"]"),
    ("{a:1}", "{\"a\":1}"),
    ("{\"a\" 1}", "{\"a\":1}"),
    ("{\"a\":}", "{\"a\":null}"),
    ("{\"a\"}", "{\"a\":true}"),
    ("{1:1}", "{\"1\":1}"),
    ("[1 2]", "[1,2]"),
    ("[NaN]", "[0]"),
    ("[Infinity]", "[1]"),
    ("[-Infinity]", "[-1]"),
    ("[+1]", "[1]"),
    ("[.5]", "[5]"),
    ("[1.]", "[1]"),
    ("[0x10]", "[16]"),
    ("[-]", "[-1]"),
    ("[tru]", "[true]"),
    ("[True]", "[true]"),
    ("[nul]", "[null]"),
    ("[nulll]", "[null]"),
    ("[falsey]", "[false]"),
    ("[\"a]", "[\"a\"]"),
    ("{\"a\":[}", "{\"a\":[]}"),
    ("[}", "[]"),
    ("{]", "{}"),
    ("[01]", "[1]"),
    ("[-01]", "[-1]"),
    ("[00]", "[0]"),
    ("[\u{FEFF}1]", "[1]"),
    ("\u{FEFF}{}", "{}"),
    ("[1,\u{A0}2]", "[1, 2]"),
    ("[1,\u{0B}2]", "[1,\t2]"),
    ("[1,\u{0C}2]", "[1,\r\n2]"),
    ("[1,\u{2028}2]", "[1,\n2]"),
])
func refusesOutsideTheRFC8259Grammar(bad: String, good: String) throws {
    #expect(refusal(bad)?.code == .malformedJSON, "\(bad.debugDescription)")
    #expect(refusal(bad)?.category == .malformed)
    #expect(refusal(bad, numbers: .any)?.code == .malformedJSON)
    _ = try parsed(good)
}

@Test func refusesTrailingData() throws {
    for bad in ["{} {}", "[]x", "1 2", "\"a\"\"b\"", "{}\u{0}", "[]]", "{}}", "null,", "[] \n /", "[]\u{FEFF}"] {
        #expect(refusal(bad)?.code == .trailingData, "\(bad.debugDescription)")
    }
    // Positive controls: whitespace around the value is allowed, and scalars may stand alone.
    #expect(try parsed(" \t\r\n{} \t\r\n") == [:])
    #expect(try parsed("1") == 1)
    #expect(try parsed(" \"a\" ") == "a")
    #expect(try parsed("null") == .null)
}

// MARK: Strings

@Test func refusesRawControlCharactersInStrings() throws {
    for c in UInt8(0x00)...0x1F {
        let bad: [UInt8] = Array("[\"a".utf8) + [c] + Array("b\"]".utf8)
        #expect(refusal(bad)?.code == .controlCharacter, "0x\(String(c, radix: 16))")
        // Positive control: the same character escaped.
        let hex = String(c, radix: 16)
        let good = "[\"a\\u" + String(repeating: "0", count: 4 - hex.count) + hex + "b\"]"
        #expect(try parsed(good) == [.string("a" + String(Unicode.Scalar(c)) + "b")])
    }
    // DEL and the C1 controls are not JSON control characters: allowed raw.
    #expect(try parsed("[\"\u{7F}\u{80}\u{9F}\"]") == ["\u{7F}\u{80}\u{9F}"])
}

@Test func refusesUndefinedAndShortEscapes() throws {
    for bad in [
        "[\"\\x41\"]", "[\"\\U0041\"]", "[\"\\u12\"]", "[\"\\u12G4\"]", "[\"\\'\"]", "[\"\\a\"]", "[\"\\0\"]",
        "[\"\\ \"]", "[\"\\u+123\"]",
    ] {
        #expect(refusal(bad)?.code == .invalidEscape, "\(bad)")
    }
    // Positive controls: every escape RFC 8259 defines, in both hex cases.
    #expect(try parsed(#"["\"\\\/\b\f\n\r\t"]"#) == ["\"\\/\u{8}\u{C}\n\r\t"])
    #expect(try parsed(#"["\u0041\u00e9\u00E9\u20AC\uffff"]"#) == ["Aéé€\u{FFFF}"])
    // \u0000 is allowed, and encodes back as \u0000.
    let nul = try parsed(#"["a\u0000b"]"#)
    #expect(nul == [.string("a\u{0}b")])
    #expect(try CanonicalJSON.encode(nul) == Array(#"["a\u0000b"]"#.utf8))
}

@Test func refusesLoneAndMisorderedSurrogates() throws {
    let bad = [
        #"["\ud800"]"#, #"["\udbff"]"#, #"["\udc00"]"#, #"["\udfff"]"#, #"["\ud800\u0041"]"#, #"["\udc00\ud800"]"#,
        #"["\ud800\ud800"]"#, #"["\ud83dx"]"#, #"["\ud83d\n"]"#, #"["\ude00\ud83d"]"#, #"{"\ud800":1}"#,
    ]
    for text in bad {
        #expect(refusal(text)?.code == .invalidEscape, "\(text)")
    }
    // Positive controls: a proper pair, in either hex case, is one astral scalar.
    #expect(try parsed(#"["\ud83d\ude00"]"#) == ["\u{1F600}"])
    #expect(try parsed(#"["\uD83D\uDE00"]"#) == ["\u{1F600}"])
    #expect(try parsed(#"["\udbff\udfff"]"#) == ["\u{10FFFF}"])
    #expect(try parsed(#"["\ud7ff\ue000"]"#) == ["\u{D7FF}\u{E000}"])
}

@Test func refusesIllFormedUTF8() throws {
    let bad: [[UInt8]] = [
        [0x80],  // stray continuation byte
        [0xBF],
        [0xC0, 0x80],  // overlong NUL
        [0xC1, 0xBF],  // overlong
        [0xE0, 0x80, 0x80],  // overlong
        [0xE0, 0x9F, 0xBF],  // overlong
        [0xED, 0xA0, 0x80],  // encoded surrogate U+D800
        [0xED, 0xBF, 0xBF],  // encoded surrogate U+DFFF
        [0xF0, 0x80, 0x80, 0x80],  // overlong
        [0xF0, 0x8F, 0xBF, 0xBF],  // overlong
        [0xF4, 0x90, 0x80, 0x80],  // above U+10FFFF
        [0xF5, 0x80, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xFE], [0xFF],
        [0xC3],  // cut short
        [0xE2, 0x82],
        [0xF0, 0x9F, 0x98],
        [0xC3, 0x28],  // bad continuation
        [0xE2, 0x28, 0xA1],
    ]
    for sequence in bad {
        let text: [UInt8] = Array("[\"a".utf8) + sequence + Array("b\"]".utf8)
        #expect(refusal(text)?.code == .invalidUTF8, "\(sequence)")
    }
    // Positive controls: the boundaries of each well-formed range.
    let good: [([UInt8], String)] = [
        ([0xC2, 0x80], "\u{80}"), ([0xDF, 0xBF], "\u{7FF}"), ([0xE0, 0xA0, 0x80], "\u{800}"),
        ([0xED, 0x9F, 0xBF], "\u{D7FF}"), ([0xEE, 0x80, 0x80], "\u{E000}"), ([0xEF, 0xBF, 0xBF], "\u{FFFF}"),
        ([0xF0, 0x90, 0x80, 0x80], "\u{10000}"), ([0xF4, 0x8F, 0xBF, 0xBF], "\u{10FFFF}"),
    ]
    for (sequence, scalar) in good {
        let text: [UInt8] = Array("[\"a".utf8) + sequence + Array("b\"]".utf8)
        #expect(try JSONParser.parse(text) == [.string("a" + scalar + "b")])
    }
    // Outside strings, non-ASCII bytes are not JSON at all.
    #expect(refusal([0x5B, 0xC3, 0xA9, 0x5D])?.code == .malformedJSON)
}

// MARK: Objects

@Test func refusesDuplicateMemberNames() throws {
    let bad = [
        #"{"a":1,"a":2}"#, #"{"a":1,"a":1}"#, #"{"a":1,"b":2,"a":3}"#, #"{"a":1,"\u0061":2}"#, #"{"\/":1,"/":2}"#,
        #"{"x":{"a":null,"a":null}}"#, #"[{"😀":1,"\ud83d\ude00":2}]"#, #"{"":1,"":2}"#,
        // Canonically equivalent names (U+00E9 and e + U+0301) are the same Swift string: refused too.
        #"{"\u00e9":1,"e\u0301":2}"#,
    ]
    for text in bad {
        #expect(refusal(text)?.code == .duplicateKey, "\(text)")
        #expect(refusal(text, numbers: .any)?.code == .duplicateKey)
    }
    // Positive controls: distinct names, and one name in different objects.
    #expect(try parsed(#"{"a":1,"b":2,"A":3}"#) == ["a": 1, "b": 2, "A": 3])
    #expect(try parsed(#"{"a":{"a":1},"b":[{"a":1},{"a":2}]}"#)["b"]?[1] == ["a": 2])
    #expect(try parsed(#"{"\u00e9":1,"e":2}"#).objectValue?.count == 2)
}

// MARK: Numbers

@Test func integersOnlyRefusesFractionsAndExponents() throws {
    for bad in ["1.5", "1.0", "0.0", "1e3", "1E3", "1e+3", "1e-3", "-1.5e-3", "10E0", "9007199254740991.0"] {
        #expect(refusal("[\(bad)]")?.code == .notInteger, "\(bad)")
        // Positive control: the same number under the general policy.
        #expect(refusal("[\(bad)]", numbers: .any) == nil)
    }
    #expect(try parsed("[15,-15,0,1000]") == [15, -15, 0, 1000])
}

@Test func integersOnlyRefusesMinusZero() throws {
    #expect(refusal("[-0]")?.code == .nonCanonical)
    #expect(refusal(#"{"n":-0}"#)?.code == .nonCanonical)
    #expect(try parsed("[0]") == [0])
    // Under the general policy -0 is a number, and canonicalises as 0 (RFC 8785 Appendix B).
    let minusZero = try parsed("[-0]", numbers: .any)
    #expect(minusZero[0]?.numberValue?.sign == .minus)
    #expect(try CanonicalJSON.encode(minusZero) == Array("[0]".utf8))
}

@Test func integersOnlyRefusesIntegersBeyondTwoToThe53() throws {
    for bad in ["9007199254740992", "-9007199254740992", "12345678901234567890", "99999999999999999999999999"] {
        #expect(refusal("[\(bad)]")?.code == .numberOutOfRange, "\(bad)")
    }
    #expect(
        try parsed("[9007199254740991,-9007199254740991]") == [
            .number(9_007_199_254_740_991), .number(-9_007_199_254_740_991),
        ])
    #expect(JSONParser.maxSafeInteger == 9_007_199_254_740_991)
}

@Test func anyNumbersRefusesValuesBeyondTheDoubleRange() throws {
    for bad in [
        "1e309", "-1e309", "1e400", "2e308",
        "179769313486231590000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    ] {
        #expect(refusal("[\(bad)]", numbers: .any)?.code == .numberOutOfRange, "\(bad)")
    }
    let big = try parsed("[1.7976931348623157e308, 5e-324, 1E-7]", numbers: .any)
    #expect(big == [.number(.greatestFiniteMagnitude), .number(.leastNonzeroMagnitude), .number(1e-7)])
}

// MARK: Limits

@Test func refusesInputLargerThanTheLimit() throws {
    let limits = JSONParser.Limits(maxBytes: 64)
    let fits = "[" + String(repeating: "1,", count: 30) + "11]"  // 64 bytes
    #expect(fits.utf8.count == 64)
    #expect(refusal(fits, limits: limits) == nil)
    let over = fits + " "  // 65 bytes, even if only by whitespace
    #expect(refusal(over, limits: limits)?.code == .tooLarge)
    #expect(refusal(over, limits: limits)?.category == .resourceLimit)
    // The default is 1 MiB, checked before anything is read.
    let mib = [UInt8](repeating: 0x20, count: (1 << 20) - 2) + Array("{}".utf8)
    #expect(refusal(mib) == nil)
    #expect(refusal(mib + [0x20])?.code == .tooLarge)
    #expect(refusal([UInt8](repeating: 0xFF, count: (1 << 20) + 1))?.code == .tooLarge)
}

@Test func refusesNestingDeeperThanTheLimit() throws {
    func arrays(_ n: Int) -> String { String(repeating: "[", count: n) + String(repeating: "]", count: n) }
    func objects(_ n: Int) -> String { String(repeating: "{\"a\":", count: n) + "1" + String(repeating: "}", count: n) }
    #expect(refusal(arrays(32)) == nil)
    #expect(refusal(arrays(33))?.code == .tooDeep)
    #expect(refusal(arrays(33))?.category == .resourceLimit)
    #expect(refusal(objects(32)) == nil)
    #expect(refusal(objects(33))?.code == .tooDeep)
    #expect(refusal("[{\"a\":" + arrays(31) + "}]")?.code == .tooDeep)
    #expect(refusal("[{\"a\":" + arrays(30) + "}]") == nil)
    // Scalars at the top are depth 0.
    #expect(refusal("1", limits: .init(maxDepth: 0)) == nil)
    #expect(refusal("[]", limits: .init(maxDepth: 0))?.code == .tooDeep)
    // An attacker's million brackets stop at the limit (no recursion, no stack overflow), even when a
    // caller asks for more depth than the ceiling.
    let deep = [UInt8](repeating: UInt8(ascii: "["), count: 1_000_000)
    #expect(refusal(deep, limits: .init(maxBytes: 1 << 21))?.code == .tooDeep)
    let ceiling = JSONParser.depthCeiling
    let generous = JSONParser.Limits(maxBytes: 1 << 21, maxDepth: Int.max)
    #expect(refusal(deep, limits: generous)?.code == .tooDeep)
    #expect(refusal(arrays(ceiling), limits: generous) == nil)
    #expect(refusal(arrays(ceiling + 1), limits: generous)?.code == .tooDeep)
}

@Test func refusesStringsLongerThanTheLimit() throws {
    let limits = JSONParser.Limits(maxStringBytes: 8)
    #expect(refusal(#"["12345678"]"#, limits: limits) == nil)
    #expect(refusal(#"["123456789"]"#, limits: limits)?.code == .tooLarge)
    // The limit counts UTF-8 bytes after unescaping: four é (2 bytes each) fit, written raw or escaped.
    #expect(refusal(#"["éééé"]"#, limits: limits) == nil)
    #expect(refusal(#"["\u00e9\u00e9\u00e9\u00e9"]"#, limits: limits) == nil)
    #expect(refusal(#"["\u00e9\u00e9\u00e9\u00e9a"]"#, limits: limits)?.code == .tooLarge)
    #expect(refusal(#"["1234567😀"]"#, limits: limits)?.code == .tooLarge)
    #expect(refusal(#"["1234😀"]"#, limits: limits) == nil)
    // Member names count too.
    #expect(refusal(#"{"123456789":1}"#, limits: limits)?.code == .tooLarge)
    #expect(refusal(#"{"12345678":1}"#, limits: limits) == nil)
}

@Test func refusesArraysAndObjectsWithTooManyEntries() throws {
    let limits = JSONParser.Limits(maxArrayElements: 3, maxObjectMembers: 2)
    #expect(refusal("[1,2,3]", limits: limits) == nil)
    #expect(refusal("[1,2,3,4]", limits: limits)?.code == .tooLarge)
    #expect(refusal("[[1,2,3],[1,2,3],[1,2,3]]", limits: limits) == nil)
    #expect(refusal(#"{"a":1,"b":2}"#, limits: limits) == nil)
    #expect(refusal(#"{"a":1,"b":2,"c":3}"#, limits: limits)?.code == .tooLarge)
    #expect(refusal(#"{"a":1,"b":2,"c":3}"#, limits: limits)?.category == .resourceLimit)
    // The count is checked before the extra entry is read: even a truncated one is refused for size.
    #expect(refusal("[1,2,3,", limits: limits)?.code == .tooLarge)
    #expect(refusal(#"{"a":1,"b":2,"#, limits: limits)?.code == .tooLarge)
    let none = JSONParser.Limits(maxArrayElements: 0, maxObjectMembers: 0)
    #expect(refusal("[[],{}]", limits: .init(maxArrayElements: 2, maxObjectMembers: 0)) == nil)
    #expect(refusal("[1]", limits: none)?.code == .tooLarge)
    #expect(refusal(#"{"a":1}"#, limits: none)?.code == .tooLarge)
}

// MARK: Drip-feed

@Test func everyProperPrefixOfAValidDocumentFails() throws {
    var documents: [[UInt8]] = [
        Array(#"{"a":[1,-2,{"b":"c\u00e9\ud83d\ude00"}],"d":true,"e":null,"f":false,"g":"é😀"}"#.utf8),
        Array("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\", 9007199254740991 , -9007199254740991,{ } ,[ ]]".utf8),
    ]
    var generator = JSONValueGenerator(seed: 0xD819, numbers: .integers)
    var writer = LooseWriter(seed: 0xD81A)
    for _ in 0..<40 {
        let value = generator.document()
        documents.append(try CanonicalJSON.encode(value))
        documents.append(writer.text(value))
    }
    var prefixes = 0
    for document in documents {
        #expect(refusal(document) == nil)
        for end in 0..<document.count {
            let error = refusal(Array(document[..<end]))
            #expect(error?.code == .malformedJSON, "prefix of \(end) bytes: \(String(describing: error))")
            prefixes += 1
        }
    }
    #expect(prefixes > 5_000)
}
