/// The JSON Canonicalization Scheme (JCS), RFC 8785: the one byte string every governance digest is
/// computed over.
///
/// - Objects: members sorted by their names compared as arrays of UTF-16 code units (RFC 8785
///   §3.2.3), recursively; array order is kept.
/// - Strings (§3.2.2.2): `"` and `\` as `\"` and `\\`; U+0008, U+0009, U+000A, U+000C, U+000D as
///   `\b`, `\t`, `\n`, `\f`, `\r`; the other controls below U+0020 as `\u00xx` (lowercase hex);
///   everything else, `/` and U+007F included, as raw UTF-8.
/// - Numbers (§3.2.2.3): as ECMAScript's `Number.prototype.toString` (ECMA-262 §7.1.12.1 with
///   "Note 2"): the shortest digits that round-trip, the closest of those to the exact value;
///   positional notation for 1e-7 ≤ |x| < 1e21, `d.ddde±n` otherwise; `-0` as `0`. NaN and the
///   infinities are refused.
/// - Literals as `null`, `true`, `false`; no whitespace anywhere (§3.2.1); UTF-8 output (§3.2.4).
///
/// Swift strings hold only Unicode scalars, so the lone surrogates that §3.2.2.2 requires refusing
/// cannot reach the encoder; ``JSONParser`` refuses them in input.
public enum CanonicalJSON {
    /// Encodes `value` as RFC 8785 canonical JSON (UTF-8 bytes).
    ///
    /// Throws `number_out_of_range` for a NaN or infinite number. The encoder is iterative, so its
    /// stack use does not grow with the nesting of `value`.
    public static func encode(_ value: JSONValue) throws(GovernanceError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        // Each frame is an open container: the elements (or sorted members) still to be written.
        var stack: [Frame] = []
        var next: JSONValue? = value
        while true {
            if let current = next {
                next = nil
                switch current {
                case .null: out.append(contentsOf: "null".utf8)
                case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
                case .number(let n): try appendNumber(n, to: &out)
                case .string(let s): appendString(s, to: &out)
                case .array(let elements):
                    out.append(UInt8(ascii: "["))
                    stack.append(Frame(array: elements))
                case .object(let members):
                    out.append(UInt8(ascii: "{"))
                    stack.append(Frame(object: members))
                }
            }
            // Move to the next value of the innermost open container, closing finished ones.
            guard !stack.isEmpty else { return out }
            let top = stack.count - 1
            if stack[top].position == stack[top].values.count {
                out.append(UInt8(ascii: stack[top].names == nil ? "]" : "}"))
                stack.removeLast()
                continue
            }
            let position = stack[top].position
            if position > 0 { out.append(UInt8(ascii: ",")) }
            if let names = stack[top].names {
                appendString(names[position], to: &out)
                out.append(UInt8(ascii: ":"))
            }
            next = stack[top].values[position]
            stack[top].position += 1
        }
    }

    /// The canonical bytes of a number alone (ECMA-262 §7.1.12.1); exposed for tests and tools.
    public static func encode(number: Double) throws(GovernanceError) -> [UInt8] {
        var out: [UInt8] = []
        try appendNumber(number, to: &out)
        return out
    }

    /// Whether `a` sorts before `b` under RFC 8785 §3.2.3: UTF-16 code units compared as unsigned
    /// integers, a proper prefix first.
    public static func precedes(_ a: String, _ b: String) -> Bool {
        a.utf16.lexicographicallyPrecedes(b.utf16)
    }

    private struct Frame {
        /// Member names in canonical order (nil for an array).
        var names: [String]?
        var values: [JSONValue]
        var position = 0

        init(array: [JSONValue]) {
            names = nil
            values = array
        }

        init(object: [String: JSONValue]) {
            let sorted = object.map { (units: Array($0.key.utf16), name: $0.key, value: $0.value) }
                .sorted { $0.units.lexicographicallyPrecedes($1.units) }
            names = sorted.map(\.name)
            values = sorted.map(\.value)
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x00..<0x20:
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0F)])
            default:
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func appendNumber(_ x: Double, to out: inout [UInt8]) throws(GovernanceError) {
        guard x.isFinite else {
            throw GovernanceError(
                .numberOutOfRange, .malformed, "NaN and infinities have no JSON form (RFC 8785 §3.2.2.3)")
        }
        ECMAScriptNumber.append(x, to: &out)
    }
}
