/// The members of a WebAuthn client data JSON (W3C WebAuthn Level 2 §5.8.1) that an assertion is
/// judged by, read by a small strict reader of RFC 8259 JSON.
///
/// Browsers write this JSON themselves, not canonically and with members of their own (`crossOrigin`,
/// `topOrigin`, `other_keys_can_be_added_here`), so members are accepted in any order, whitespace is
/// allowed and unknown members of any JSON type are skipped. What is refused: anything that is not
/// one UTF-8 JSON object (a byte-order mark included), a member named twice, a missing or non-string
/// `type`, `challenge` or `origin`, a non-boolean `crossOrigin`, escapes that name lone surrogates,
/// and nesting deeper than 16 levels.
struct WebAuthnClientData {
    let type: String
    let challenge: String
    let origin: String
    let crossOrigin: Bool?

    init(json: [UInt8]) throws(GovernanceError) {
        var reader = JSONReader(bytes: json)
        var type: String?
        var challenge: String?
        var origin: String?
        var crossOrigin: Bool?
        var seen = Set<String>()
        try reader.readObject { (key: String, reader: inout JSONReader) throws(GovernanceError) in
            guard seen.insert(key).inserted else { throw Self.malformed("member \"\(key)\" appears twice") }
            switch key {
            case "type": type = try reader.readStringValue(named: key)
            case "challenge": challenge = try reader.readStringValue(named: key)
            case "origin": origin = try reader.readStringValue(named: key)
            case "crossOrigin":
                guard let value = try reader.readBooleanValue() else {
                    throw Self.malformed("crossOrigin is not a boolean")
                }
                crossOrigin = value
            default: try reader.skipValue(depth: 1)
            }
        }
        reader.skipWhitespace()
        guard reader.isAtEnd else { throw Self.malformed("bytes follow the JSON object") }
        guard let type, let challenge, let origin else {
            let missing = [("type", type), ("challenge", challenge), ("origin", origin)].first { $0.1 == nil }!.0
            throw Self.malformed("member \"\(missing)\" is missing")
        }
        self.type = type
        self.challenge = challenge
        self.origin = origin
        self.crossOrigin = crossOrigin
    }

    static func malformed(_ reason: String) -> GovernanceError {
        WebAuthnAssertion.refusal(.webauthnClientDataMalformed, "clientDataJSON: " + reason)
    }
}

/// A cursor over JSON bytes that reads exactly what client data needs.
private struct JSONReader {
    let bytes: [UInt8]
    private(set) var offset = 0
    static let maximumDepth = 16

    init(bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { offset == bytes.count }

    private var next: UInt8? { offset < bytes.count ? bytes[offset] : nil }

    mutating func skipWhitespace() {
        while let b = next, b == 0x20 || b == 0x09 || b == 0x0a || b == 0x0d { offset += 1 }
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws(GovernanceError) {
        skipWhitespace()
        guard next == byte else { throw WebAuthnClientData.malformed("expected \(what) at byte \(offset)") }
        offset += 1
    }

    /// Reads one object, calling `member` with each key; `member` must consume the value.
    mutating func readObject(
        _ member: (String, inout JSONReader) throws(GovernanceError) -> Void
    ) throws(GovernanceError) {
        try expect(UInt8(ascii: "{"), "'{'")
        skipWhitespace()
        if next == UInt8(ascii: "}") {
            offset += 1
            return
        }
        while true {
            skipWhitespace()
            let key = try readString()
            try expect(UInt8(ascii: ":"), "':'")
            try member(key, &self)
            skipWhitespace()
            switch next {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "}"):
                offset += 1
                return
            default: throw WebAuthnClientData.malformed("expected ',' or '}' at byte \(offset)")
            }
        }
    }

    mutating func readStringValue(named key: String) throws(GovernanceError) -> String {
        skipWhitespace()
        guard next == UInt8(ascii: "\"") else { throw WebAuthnClientData.malformed("\(key) is not a string") }
        return try readString()
    }

    /// Reads `true` or `false`; `nil` (having consumed nothing) for any other value.
    mutating func readBooleanValue() throws(GovernanceError) -> Bool? {
        skipWhitespace()
        if readLiteral("true") { return true }
        if readLiteral("false") { return false }
        return nil
    }

    private mutating func readLiteral(_ word: String) -> Bool {
        let w = Array(word.utf8)
        guard bytes.count - offset >= w.count, Array(bytes[offset..<offset + w.count]) == w else { return false }
        offset += w.count
        return true
    }

    /// Reads a string token: no raw control characters, only the escapes of RFC 8259 §7, surrogate
    /// escapes only in pairs, and valid UTF-8.
    mutating func readString() throws(GovernanceError) -> String {
        guard next == UInt8(ascii: "\"") else {
            throw WebAuthnClientData.malformed("expected a string at byte \(offset)")
        }
        offset += 1
        var out = [UInt8]()
        while true {
            guard let b = next else { throw WebAuthnClientData.malformed("unterminated string") }
            offset += 1
            switch b {
            case UInt8(ascii: "\""):
                guard let text = String(validating: out, as: UTF8.self) else {
                    throw WebAuthnClientData.malformed("a string is not valid UTF-8")
                }
                return text
            case 0..<0x20:
                throw WebAuthnClientData.malformed("a raw control character in a string at byte \(offset - 1)")
            case UInt8(ascii: "\\"):
                try readEscape(into: &out)
            default:
                out.append(b)
            }
        }
    }

    private mutating func readEscape(into out: inout [UInt8]) throws(GovernanceError) {
        guard let e = next else { throw WebAuthnClientData.malformed("unterminated escape") }
        offset += 1
        switch e {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0c)
        case UInt8(ascii: "n"): out.append(0x0a)
        case UInt8(ascii: "r"): out.append(0x0d)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try readHex4()
            if (0xd800..<0xdc00).contains(scalar) {
                guard readLiteral("\\u") else { throw WebAuthnClientData.malformed("a lone high surrogate escape") }
                let low = try readHex4()
                guard (0xdc00..<0xe000).contains(low) else {
                    throw WebAuthnClientData.malformed("a high surrogate escape without its low half")
                }
                scalar = 0x10000 + ((scalar - 0xd800) << 10) + (low - 0xdc00)
            } else if (0xdc00..<0xe000).contains(scalar) {
                throw WebAuthnClientData.malformed("a lone low surrogate escape")
            }
            out += Array(String(Character(Unicode.Scalar(scalar)!)).utf8)
        default:
            throw WebAuthnClientData.malformed("an invalid escape at byte \(offset - 2)")
        }
    }

    private mutating func readHex4() throws(GovernanceError) -> UInt32 {
        guard bytes.count - offset >= 4 else { throw WebAuthnClientData.malformed("a truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[offset]
            let digit: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw WebAuthnClientData.malformed("a non-hex digit in a \\u escape at byte \(offset)")
            }
            value = value << 4 | digit
            offset += 1
        }
        return value
    }

    /// Skips one value of any type, checking its grammar.
    mutating func skipValue(depth: Int) throws(GovernanceError) {
        guard depth <= Self.maximumDepth else { throw WebAuthnClientData.malformed("nested deeper than 16 levels") }
        skipWhitespace()
        switch next {
        case UInt8(ascii: "\""):
            _ = try readString()
        case UInt8(ascii: "{"):
            try readObject { (_: String, reader: inout JSONReader) throws(GovernanceError) in
                try reader.skipValue(depth: depth + 1)
            }
        case UInt8(ascii: "["):
            offset += 1
            skipWhitespace()
            if next == UInt8(ascii: "]") {
                offset += 1
                return
            }
            while true {
                try skipValue(depth: depth + 1)
                skipWhitespace()
                switch next {
                case UInt8(ascii: ","): offset += 1
                case UInt8(ascii: "]"):
                    offset += 1
                    return
                default: throw WebAuthnClientData.malformed("expected ',' or ']' at byte \(offset)")
                }
            }
        default:
            if readLiteral("true") || readLiteral("false") || readLiteral("null") { return }
            try skipNumber()
        }
    }

    /// Skips a number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    private mutating func skipNumber() throws(GovernanceError) {
        let start = offset
        func digits(_ reader: inout JSONReader) -> Int {
            var n = 0
            while let b = reader.next, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) {
                reader.offset += 1
                n += 1
            }
            return n
        }
        if next == UInt8(ascii: "-") { offset += 1 }
        if next == UInt8(ascii: "0") {
            offset += 1
        } else if digits(&self) == 0 {
            throw WebAuthnClientData.malformed("expected a value at byte \(start)")
        }
        if next == UInt8(ascii: ".") {
            offset += 1
            guard digits(&self) > 0 else { throw WebAuthnClientData.malformed("a malformed number at byte \(start)") }
        }
        if next == UInt8(ascii: "e") || next == UInt8(ascii: "E") {
            offset += 1
            if next == UInt8(ascii: "+") || next == UInt8(ascii: "-") { offset += 1 }
            guard digits(&self) > 0 else { throw WebAuthnClientData.malformed("a malformed number at byte \(start)") }
        }
    }
}
