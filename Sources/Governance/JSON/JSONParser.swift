/// A strict JSON parser for governance documents, which may come from an attacker.
///
/// It accepts the RFC 8259 grammar and nothing else, and refuses by code:
/// - `malformed_json`: anything outside the grammar (comments, trailing commas, single quotes,
///   unquoted names, `NaN`/`Infinity`, leading zeros, a byte order mark, whitespace other than
///   space, tab, line feed and carriage return, a truncated text);
/// - `trailing_data`: anything but whitespace after the value;
/// - `invalid_utf8`: ill-formed UTF-8 in a string (overlong forms, encoded surrogates, code points
///   above U+10FFFF, cut sequences); outside strings any non-ASCII byte is `malformed_json`;
/// - `invalid_escape`: an undefined escape, a `\u` without four hex digits, a lone or misordered
///   UTF-16 surrogate (`\u0000` is allowed);
/// - `control_character`: a raw U+0000–U+001F inside a string;
/// - `duplicate_key`: a member name repeated in an object, compared after unescaping (and, because
///   names are Swift strings, names that are canonically equivalent Unicode count as repeated);
/// - under ``NumberPolicy/integersOnly``: `not_integer` (a fraction or exponent), `non_canonical`
///   (`-0`), `number_out_of_range` (beyond ±(2^53 − 1)); under ``NumberPolicy/any``:
///   `number_out_of_range` for a number beyond the double range;
/// - `too_large` / `too_deep` (category `RESOURCE_LIMIT`): the ``Limits``, each checked before the
///   memory it guards is allocated.
///
/// The parser keeps its own stack of open containers instead of recursing, and checks the depth
/// before opening a container, so no input can drive the call stack.
public struct JSONParser: Sendable {
    /// The resource bounds of one parse. The defaults suit governance documents.
    public struct Limits: Sendable, Hashable {
        /// The largest input, in bytes (checked first).
        public var maxBytes: Int
        /// The deepest nesting of arrays and objects (a scalar at the top is depth 0, `[]` depth 1);
        /// never more than ``JSONParser/depthCeiling``.
        public var maxDepth: Int
        /// The longest string (member names included), in bytes of UTF-8 after unescaping.
        public var maxStringBytes: Int
        /// The most elements in one array.
        public var maxArrayElements: Int
        /// The most members in one object.
        public var maxObjectMembers: Int

        /// Creates limits; the defaults are 1 MiB, depth 32, 64 KiB strings, 10,000 elements and
        /// 1,000 members.
        public init(
            maxBytes: Int = 1 << 20, maxDepth: Int = 32, maxStringBytes: Int = 1 << 16,
            maxArrayElements: Int = 10_000, maxObjectMembers: Int = 1_000
        ) {
            self.maxBytes = maxBytes
            self.maxDepth = maxDepth
            self.maxStringBytes = maxStringBytes
            self.maxArrayElements = maxArrayElements
            self.maxObjectMembers = maxObjectMembers
        }
    }

    /// Which JSON numbers the parser accepts.
    public enum NumberPolicy: Sendable, Hashable {
        /// Integers in ±(2^53 − 1) written in their one canonical form: an optional `-`, no leading
        /// zeros, no fraction, no exponent, and not `-0`. The policy for governance documents, whose
        /// amounts are decimal strings and whose numbers are counts, versions and times.
        case integersOnly
        /// Any RFC 8259 number, read as the nearest double (for the RFC 8785 examples and tools);
        /// numbers beyond the double range are refused.
        case any
    }

    /// The deepest nesting any parse allows, whatever its ``Limits`` say: a ``JSONValue`` is compared,
    /// hashed and released recursively, so a parse never builds one deeper than this.
    public static let depthCeiling = 256

    /// The largest integer a document may hold, 2^53 − 1 (ECMAScript's `Number.MAX_SAFE_INTEGER`).
    public static let maxSafeInteger: Int = (1 << 53) - 1

    /// Parses one JSON text.
    public static func parse(
        _ bytes: [UInt8], limits: Limits = Limits(), numbers: NumberPolicy = .integersOnly
    ) throws(GovernanceError) -> JSONValue {
        guard bytes.count <= limits.maxBytes else {
            throw GovernanceError(.tooLarge, .resourceLimit, "JSON text exceeds \(limits.maxBytes) bytes")
        }
        var scanner = Scanner(bytes: bytes, limits: limits, numbers: numbers)
        return try scanner.document()
    }
}

/// One open array or object.
private struct Frame {
    let isObject: Bool
    var elements: [JSONValue] = []
    var members: [String: JSONValue] = [:]
    /// The name of the member whose value is being read.
    var name = ""
}

private struct Scanner {
    let bytes: [UInt8]
    let limits: JSONParser.Limits
    let numbers: JSONParser.NumberPolicy
    var pos = 0

    init(bytes: [UInt8], limits: JSONParser.Limits, numbers: JSONParser.NumberPolicy) {
        self.bytes = bytes
        self.limits = limits
        self.numbers = numbers
    }

    // MARK: Structure

    mutating func document() throws(GovernanceError) -> JSONValue {
        var stack: [Frame] = []
        var value: JSONValue
        parsing: while true {
            skipWhitespace()
            guard pos < bytes.count else { throw truncated() }
            switch bytes[pos] {
            case UInt8(ascii: "{"):
                try open(depth: stack.count)
                skipWhitespace()
                if peek() == UInt8(ascii: "}") {
                    pos += 1
                    value = .object([:])
                } else {
                    var frame = Frame(isObject: true)
                    frame.name = try memberName(in: frame)
                    stack.append(frame)
                    continue parsing
                }
            case UInt8(ascii: "["):
                try open(depth: stack.count)
                skipWhitespace()
                if peek() == UInt8(ascii: "]") {
                    pos += 1
                    value = .array([])
                } else {
                    try checkElementCount(0)
                    stack.append(Frame(isObject: false))
                    continue parsing
                }
            case UInt8(ascii: "\""):
                value = .string(try string())
            case UInt8(ascii: "t"):
                try literal("true")
                value = .bool(true)
            case UInt8(ascii: "f"):
                try literal("false")
                value = .bool(false)
            case UInt8(ascii: "n"):
                try literal("null")
                value = .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                value = .number(try number())
            case 0xEF where pos == 0:
                throw malformed("a byte order mark is not allowed")
            default:
                throw malformed("unexpected byte 0x\(hex(bytes[pos])) where a value must start")
            }
            // A value is complete: hand it to the innermost open container, closing those that end.
            while let top = stack.indices.last {
                skipWhitespace()
                if stack[top].isObject {
                    let name = stack[top].name
                    stack[top].members[name] = value
                    switch peek() {
                    case UInt8(ascii: ","):
                        pos += 1
                        skipWhitespace()
                        stack[top].name = try memberName(in: stack[top])
                        continue parsing
                    case UInt8(ascii: "}"):
                        pos += 1
                        value = .object(stack.removeLast().members)
                    case nil:
                        throw truncated()
                    default:
                        throw malformed("expected ',' or '}' after an object member")
                    }
                } else {
                    stack[top].elements.append(value)
                    switch peek() {
                    case UInt8(ascii: ","):
                        pos += 1
                        try checkElementCount(stack[top].elements.count)
                        continue parsing
                    case UInt8(ascii: "]"):
                        pos += 1
                        value = .array(stack.removeLast().elements)
                    case nil:
                        throw truncated()
                    default:
                        throw malformed("expected ',' or ']' after an array element")
                    }
                }
            }
            break parsing
        }
        skipWhitespace()
        guard pos == bytes.count else {
            throw GovernanceError(.trailingData, .malformed, "data after the JSON value at byte \(pos)")
        }
        return value
    }

    /// Steps over `{` or `[` once the nesting allows one more container.
    mutating func open(depth: Int) throws(GovernanceError) {
        let maxDepth = min(limits.maxDepth, JSONParser.depthCeiling)
        guard depth < maxDepth else {
            throw GovernanceError(.tooDeep, .resourceLimit, "nesting deeper than \(maxDepth) at byte \(pos)")
        }
        pos += 1
    }

    func checkElementCount(_ count: Int) throws(GovernanceError) {
        guard count < limits.maxArrayElements else {
            throw GovernanceError(.tooLarge, .resourceLimit, "array has more than \(limits.maxArrayElements) elements")
        }
    }

    /// Reads `"name"`, whitespace and `:` at the start of a member of `frame`; refuses a repeated name.
    mutating func memberName(in frame: Frame) throws(GovernanceError) -> String {
        guard frame.members.count < limits.maxObjectMembers else {
            throw GovernanceError(.tooLarge, .resourceLimit, "object has more than \(limits.maxObjectMembers) members")
        }
        guard let quote = peek() else { throw truncated() }
        guard quote == UInt8(ascii: "\"") else { throw malformed("expected a member name (a string)") }
        let start = pos
        let name = try string()
        guard frame.members[name] == nil else {
            throw GovernanceError(.duplicateKey, .malformed, "member name repeated in an object at byte \(start)")
        }
        skipWhitespace()
        guard let colon = peek() else { throw truncated() }
        guard colon == UInt8(ascii: ":") else { throw malformed("expected ':' after a member name") }
        pos += 1
        return name
    }

    mutating func literal(_ word: String) throws(GovernanceError) {
        let expected = Array(word.utf8)
        let count = expected.count
        for i in 0..<count {
            guard pos + i < bytes.count else { throw truncated() }
            guard bytes[pos + i] == expected[i] else { throw malformed("invalid literal") }
        }
        pos += count
    }

    // MARK: Numbers

    mutating func number() throws(GovernanceError) -> Double {
        let start = pos
        let negative = bytes[pos] == UInt8(ascii: "-")
        if negative { pos += 1 }
        let integerStart = pos
        guard let first = peek() else { throw truncated() }
        guard isDigit(first) else { throw malformed("expected a digit") }
        pos += 1
        if first == UInt8(ascii: "0") {
            if let d = peek(), isDigit(d) { throw malformed("a number has a leading zero") }
        } else {
            while let d = peek(), isDigit(d) { pos += 1 }
        }
        let integerEnd = pos
        var integral = true
        if peek() == UInt8(ascii: ".") {
            pos += 1
            try digits()
            integral = false
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            pos += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { pos += 1 }
            try digits()
            integral = false
        }
        switch numbers {
        case .integersOnly:
            guard integral else {
                throw GovernanceError(.notInteger, .malformed, "a number with a fraction or exponent at byte \(start)")
            }
            // 2^53 − 1 has 16 digits; longer integers are out of range (leading zeros are refused above).
            guard integerEnd - integerStart <= 16 else { throw outOfRange(start) }
            var magnitude = 0
            for i in integerStart..<integerEnd { magnitude = magnitude * 10 + Int(bytes[i] - UInt8(ascii: "0")) }
            guard magnitude <= JSONParser.maxSafeInteger else { throw outOfRange(start) }
            if negative && magnitude == 0 {
                throw GovernanceError(.nonCanonical, .malformed, "-0 at byte \(start) (write 0)")
            }
            return negative ? -Double(magnitude) : Double(magnitude)
        case .any:
            // The token is RFC 8259 grammar, which the standard library's reader accepts and rounds
            // correctly to the nearest double.
            let token = String(decoding: bytes[start..<pos], as: UTF8.self)
            guard let value = Double(token), value.isFinite else { throw outOfRange(start) }
            return value
        }
    }

    /// One or more digits (a fraction or an exponent).
    mutating func digits() throws(GovernanceError) {
        guard let d = peek() else { throw truncated() }
        guard isDigit(d) else { throw malformed("expected a digit") }
        while let d = peek(), isDigit(d) { pos += 1 }
    }

    func outOfRange(_ start: Int) -> GovernanceError {
        switch numbers {
        case .integersOnly:
            return GovernanceError(.numberOutOfRange, .malformed, "an integer beyond ±(2^53 − 1) at byte \(start)")
        case .any:
            return GovernanceError(.numberOutOfRange, .malformed, "a number beyond the double range at byte \(start)")
        }
    }

    // MARK: Strings

    /// Reads a string starting at its opening quote; unescapes it and checks its UTF-8.
    mutating func string() throws(GovernanceError) -> String {
        let start = pos
        pos += 1
        var out: [UInt8] = []
        while true {
            guard pos < bytes.count else { throw truncated() }
            let b = bytes[pos]
            switch b {
            case UInt8(ascii: "\""):
                pos += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                let escapeStart = pos
                pos += 1
                guard let e = peek() else { throw truncated() }
                pos += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): try append(e, to: &out, start)
                case UInt8(ascii: "b"): try append(0x08, to: &out, start)
                case UInt8(ascii: "f"): try append(0x0C, to: &out, start)
                case UInt8(ascii: "n"): try append(0x0A, to: &out, start)
                case UInt8(ascii: "r"): try append(0x0D, to: &out, start)
                case UInt8(ascii: "t"): try append(0x09, to: &out, start)
                case UInt8(ascii: "u"): try appendScalar(try unicodeEscape(escapeStart), to: &out, start)
                default: throw invalidEscape("undefined escape", escapeStart)
                }
            case 0x00..<0x20:
                throw GovernanceError(
                    .controlCharacter, .malformed, "raw control character 0x\(hex(b)) in a string at byte \(pos)")
            case 0x20..<0x80:
                try append(b, to: &out, start)
                pos += 1
            default:
                let length = try utf8Sequence()
                guard out.count + length <= limits.maxStringBytes else { throw stringTooLong(start) }
                out.append(contentsOf: bytes[pos..<pos + length])
                pos += length
            }
        }
    }

    /// The scalar of `\uXXXX` (and of a following `\uXXXX` low surrogate when the first is a high one).
    mutating func unicodeEscape(_ escapeStart: Int) throws(GovernanceError) -> UInt32 {
        let first = try hex4(escapeStart)
        switch first {
        case 0xD800...0xDBFF:
            guard let backslash = peek() else { throw truncated() }
            guard backslash == UInt8(ascii: "\\") else { throw invalidEscape("lone high surrogate", escapeStart) }
            guard pos + 1 < bytes.count else { throw truncated() }
            guard bytes[pos + 1] == UInt8(ascii: "u") else { throw invalidEscape("lone high surrogate", escapeStart) }
            pos += 2
            let second = try hex4(escapeStart)
            guard (0xDC00...0xDFFF).contains(second) else {
                throw invalidEscape("high surrogate not followed by a low surrogate", escapeStart)
            }
            return 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
        case 0xDC00...0xDFFF:
            throw invalidEscape("lone low surrogate", escapeStart)
        default:
            return first
        }
    }

    mutating func hex4(_ escapeStart: Int) throws(GovernanceError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let c = peek() else { throw truncated() }
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
            default: throw invalidEscape("\\u needs four hex digits", escapeStart)
            }
            value = value << 4 | UInt32(digit)
            pos += 1
        }
        return value
    }

    /// The length of the well-formed UTF-8 sequence at `pos` (RFC 3629 §4), which starts with a byte ≥ 0x80.
    func utf8Sequence() throws(GovernanceError) -> Int {
        let lead = bytes[pos]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            secondRange = 0xA0...0xBF  // no overlong forms
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            secondRange = 0x80...0x9F  // no encoded surrogates
        case 0xF0:
            length = 4
            secondRange = 0x90...0xBF  // no overlong forms
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            secondRange = 0x80...0x8F  // nothing above U+10FFFF
        default:
            throw GovernanceError(.invalidUTF8, .malformed, "byte 0x\(hex(lead)) cannot start UTF-8 at byte \(pos)")
        }
        for i in 1..<length {
            guard pos + i < bytes.count else { throw truncated() }
            let range: ClosedRange<UInt8> = i == 1 ? secondRange : 0x80...0xBF
            guard range.contains(bytes[pos + i]) else {
                throw GovernanceError(.invalidUTF8, .malformed, "ill-formed UTF-8 sequence at byte \(pos)")
            }
        }
        return length
    }

    func append(_ byte: UInt8, to out: inout [UInt8], _ start: Int) throws(GovernanceError) {
        guard out.count < limits.maxStringBytes else { throw stringTooLong(start) }
        out.append(byte)
    }

    func appendScalar(_ scalar: UInt32, to out: inout [UInt8], _ start: Int) throws(GovernanceError) {
        let encoded: [UInt8]
        switch scalar {
        case 0..<0x80: encoded = [UInt8(scalar)]
        case 0x80..<0x800: encoded = [0xC0 | UInt8(scalar >> 6), 0x80 | UInt8(scalar & 0x3F)]
        case 0x800..<0x10000:
            encoded = [
                0xE0 | UInt8(scalar >> 12), 0x80 | UInt8((scalar >> 6) & 0x3F), 0x80 | UInt8(scalar & 0x3F),
            ]
        default:
            encoded = [
                0xF0 | UInt8(scalar >> 18), 0x80 | UInt8((scalar >> 12) & 0x3F), 0x80 | UInt8((scalar >> 6) & 0x3F),
                0x80 | UInt8(scalar & 0x3F),
            ]
        }
        guard out.count + encoded.count <= limits.maxStringBytes else { throw stringTooLong(start) }
        out.append(contentsOf: encoded)
    }

    func stringTooLong(_ start: Int) -> GovernanceError {
        GovernanceError(
            .tooLarge, .resourceLimit, "string at byte \(start) exceeds \(limits.maxStringBytes) bytes")
    }

    // MARK: Bytes

    func peek() -> UInt8? { pos < bytes.count ? bytes[pos] : nil }

    func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    /// RFC 8259 whitespace: space, tab, line feed, carriage return.
    mutating func skipWhitespace() {
        while let b = peek(), b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { pos += 1 }
    }

    func truncated() -> GovernanceError {
        GovernanceError(.malformedJSON, .malformed, "unexpected end of the JSON text at byte \(pos)")
    }

    func malformed(_ what: String) -> GovernanceError {
        GovernanceError(.malformedJSON, .malformed, "\(what) at byte \(pos)")
    }

    func invalidEscape(_ what: String, _ at: Int) -> GovernanceError {
        GovernanceError(.invalidEscape, .malformed, "\(what) at byte \(at)")
    }

    func hex(_ b: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(b >> 4)], digits[Int(b & 0x0F)]])
    }
}
