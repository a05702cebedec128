// Test-side generators for the JSON property tests: random JSON values (nested objects and arrays, strings over all of Unicode, integers or doubles), and a
// "loose" writer that spells a value in any valid RFC 8259 way (members in any order, any legal
// whitespace, optional escapes in any hex case, alternative number spellings). None of this uses
// the code under test; the seeded generator is KuraTestSupport's.
import Governance
import KuraTestSupport

/// Random JSON values.
struct JSONValueGenerator {
    enum Numbers {
        /// Integers in ±(2^53 − 1), the document policy.
        case integers
        /// Any finite double (random bit patterns and edge values).
        case doubles
    }

    var rng: SeededGenerator
    var numbers: Numbers
    var maxDepth = 5

    init(seed: UInt64, numbers: Numbers) {
        rng = SeededGenerator(seed: seed)
        self.numbers = numbers
    }

    /// A document: an object or an array at the top.
    mutating func document() -> JSONValue {
        rng.chance(0.8) ? object(depth: 1) : array(depth: 1)
    }

    mutating func value(depth: Int) -> JSONValue {
        let containers = depth < maxDepth
        switch Int.random(in: 0..<(containers ? 10 : 7), using: &rng) {
        case 0: return .null
        case 1: return .bool(rng.chance(0.5))
        case 2, 3: return .number(number())
        case 4, 5, 6: return .string(string())
        case 7, 8: return object(depth: depth + 1)
        default: return array(depth: depth + 1)
        }
    }

    mutating func object(depth: Int) -> JSONValue {
        var members: [String: JSONValue] = [:]
        for _ in 0..<Int.random(in: 0...6, using: &rng) {
            members[name()] = value(depth: depth)
        }
        return .object(members)
    }

    mutating func array(depth: Int) -> JSONValue {
        .array((0..<Int.random(in: 0...5, using: &rng)).map { _ in value(depth: depth) })
    }

    mutating func number() -> Double {
        switch numbers {
        case .integers:
            let max = (1 << 53) - 1
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: return Double(rng.pick([0, 1, -1, max, -max, max - 1, 1 << 31, -(1 << 32), 10, 100]))
            case 1, 2: return Double(Int.random(in: -1000...1000, using: &rng))
            default: return Double(Int.random(in: -max...max, using: &rng))
            }
        case .doubles:
            switch Int.random(in: 0..<6, using: &rng) {
            case 0:
                return rng.pick([
                    0, -0.0, 1e21, 1e-7, 9.999999999999999e20, 1e-6, 1.7976931348623157e308,
                    0.1, 4.5, 1e23, 2.2250738585072014e-308, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                ])
            case 1: return Double(Int.random(in: -1_000_000...1_000_000, using: &rng)) / 1000
            case 2: return Double(Int.random(in: Int.min...Int.max, using: &rng))
            default:
                while true {
                    let d = Double(bitPattern: rng.next())
                    if d.isFinite { return d }
                }
            }
        }
    }

    /// A member name: mostly short ASCII (as real documents have), sometimes any Unicode.
    mutating func name() -> String {
        if rng.chance(0.6) {
            let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789")
            return String((0..<Int.random(in: 0...8, using: &rng)).map { _ in rng.pick(letters) })
        }
        return string(maxLength: 4)
    }

    /// A string over all of Unicode: controls, quote, backslash, slash, DEL, Latin-1, the BMP up to and
    /// beyond the surrogate block, noncharacters, and astral characters.
    mutating func string(maxLength: Int = 12) -> String {
        var scalars = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...maxLength, using: &rng) {
            scalars.append(scalar())
        }
        return String(scalars)
    }

    mutating func scalar() -> Unicode.Scalar {
        let value: UInt32
        switch Int.random(in: 0..<10, using: &rng) {
        case 0: value = UInt32.random(in: 0x00...0x1F, using: &rng)
        case 1: value = rng.pick([0x22, 0x5C, 0x2F, 0x7F, 0x00, 0x20, 0x80, 0xFEFF, 0xFFFD, 0xFFFF, 0x2028])
        case 2, 3: value = UInt32.random(in: 0x20...0x7E, using: &rng)
        case 4: value = UInt32.random(in: 0x80...0x7FF, using: &rng)
        case 5: value = UInt32.random(in: 0x800...0xD7FF, using: &rng)
        case 6: value = UInt32.random(in: 0xE000...0xFFFF, using: &rng)
        case 7: value = rng.pick([0x1F600, 0x1F602, 0x10000, 0x10FFFF, 0x1D11E, 0x20000])
        default: value = UInt32.random(in: 0x10000...0x10FFFF, using: &rng)
        }
        return Unicode.Scalar(value)!
    }
}

/// Writes a value as valid but (usually) non-canonical JSON text.
struct LooseWriter {
    var rng: SeededGenerator

    init(seed: UInt64) { rng = SeededGenerator(seed: seed) }

    /// The text of `value`, with no whitespace after the value (so that every proper prefix of a
    /// container is incomplete).
    mutating func text(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        space(&out)
        write(value, &out)
        return out
    }

    private mutating func space(_ out: inout [UInt8]) {
        guard rng.chance(0.4) else { return }
        out.append(contentsOf: rng.pick([" ", "\t", "\n", "\r\n", "  ", " \n\t ", "\r"]).utf8)
    }

    private mutating func write(_ value: JSONValue, _ out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: number(n).utf8)
        case .string(let s): string(s, &out)
        case .array(let elements):
            container("[", "]", elements.count, &out) { writer, i, out in writer.write(elements[i], &out) }
        case .object(let members):
            let shuffled = members.shuffled(using: &rng)
            container("{", "}", shuffled.count, &out) { writer, i, out in
                writer.string(shuffled[i].key, &out)
                writer.space(&out)
                out.append(UInt8(ascii: ":"))
                writer.space(&out)
                writer.write(shuffled[i].value, &out)
            }
        }
    }

    /// `open`, `count` entries written by `entry` and separated by commas, `close`; whitespace anywhere.
    private mutating func container(
        _ open: Unicode.Scalar, _ close: Unicode.Scalar, _ count: Int, _ out: inout [UInt8],
        _ entry: (inout LooseWriter, Int, inout [UInt8]) -> Void
    ) {
        out.append(UInt8(ascii: open))
        space(&out)
        for i in 0..<count {
            if i > 0 {
                space(&out)
                out.append(UInt8(ascii: ","))
                space(&out)
            }
            entry(&self, i, &out)
        }
        space(&out)
        out.append(UInt8(ascii: close))
    }

    /// Another spelling of the same number: integers stay integers (the only form `.integersOnly`
    /// accepts) unless they are large doubles; others use Swift's `description` (which reads back to
    /// the same double), sometimes with an upper-case exponent or extra zeros in the fraction.
    private mutating func number(_ n: Double) -> String {
        if n == 0 { return "0" }
        if n.rounded() == n && n.magnitude <= 9_007_199_254_740_991 { return String(Int(n)) }
        var text = n.description
        if rng.chance(0.3) { text = String(text.map { $0 == "e" ? "E" : $0 }) }
        if rng.chance(0.3), text.contains("."), !text.contains("e"), !text.contains("E") { text += "000" }
        return text
    }

    private mutating func string(_ s: String, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for scalar in s.unicodeScalars {
            let v = scalar.value
            let short: [UInt32: String] = [
                0x22: "\\\"", 0x5C: "\\\\", 0x08: "\\b", 0x0C: "\\f", 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t",
            ]
            if v < 0x20 || v == 0x22 || v == 0x5C {
                // Must be escaped: the short form where one exists, or \u in either case.
                if let s = short[v], rng.chance(0.5) { out.append(contentsOf: s.utf8) } else { unicodeEscape(v, &out) }
            } else if v == 0x2F && rng.chance(0.3) {
                out.append(contentsOf: "\\/".utf8)
            } else if rng.chance(0.2) {
                if v < 0x10000 {
                    unicodeEscape(v, &out)
                } else {
                    let u = v - 0x10000
                    unicodeEscape(0xD800 + (u >> 10), &out)
                    unicodeEscape(0xDC00 + (u & 0x3FF), &out)
                }
            } else {
                out.append(contentsOf: String(scalar).utf8)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private mutating func unicodeEscape(_ unit: UInt32, _ out: inout [UInt8]) {
        var hex = String(unit, radix: 16)
        hex = String(repeating: "0", count: 4 - hex.count) + hex
        if rng.chance(0.5) { hex = hex.uppercased() }
        out.append(contentsOf: "\\u\(hex)".utf8)
    }
}
