/// A JSON value (RFC 8259) as the governance documents use it: the data model of RFC 8785 (JCS).
///
/// Numbers are IEEE 754 doubles, as in I-JSON (RFC 7493) and ECMAScript; object members are unordered
/// (``CanonicalJSON`` sorts them), and member names are unique.
///
/// Equality is exact, and agrees with the canonical encoding: two values are equal exactly when
/// ``CanonicalJSON/encode(_:)`` gives them the same bytes. In particular strings compare by their
/// Unicode scalars, not by Swift's `String` equality (which identifies canonically equivalent
/// strings such as `"é"` and `"e\u{301}"`, whose canonical JSON differs). `-0` equals `0`, as both
/// encode as `0`.
public indirect enum JSONValue: Sendable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number (an IEEE 754 double; NaN and the infinities cannot be encoded).
    case number(Double)
    /// A string of Unicode scalars.
    case string(String)
    /// An array; the order of elements is significant.
    case array([JSONValue])
    /// An object; member names are unique and their order is not significant.
    case object([String: JSONValue])
}

extension JSONValue {
    /// The value's JSON type, for messages: `null`, `boolean`, `number`, `string`, `array` or `object`.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// Whether the value is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The boolean, if the value is one.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The number, if the value is one.
    public var numberValue: Double? {
        if case .number(let n) = self { return n }
        return nil
    }

    /// The string, if the value is one.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The elements, if the value is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The members, if the value is an object.
    public var objectValue: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// The member named `name`, if the value is an object that has it.
    public subscript(name: String) -> JSONValue? {
        objectValue?[name]
    }

    /// The element at `index`, if the value is an array that long.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let a) = self, a.indices.contains(index) else { return nil }
        return a[index]
    }
}

extension JSONValue: Equatable {
    /// Exact equality: see ``JSONValue``. Strings and member names compare scalar by scalar.
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null):
            return true
        case (.bool(let a), .bool(let b)):
            return a == b
        case (.number(let a), .number(let b)):
            return a == b
        case (.string(let a), .string(let b)):
            return a.utf8.elementsEqual(b.utf8)
        case (.array(let a), .array(let b)):
            return a == b
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            for (name, value) in a {
                // Dictionary lookup matches canonically equivalent names; the stored name must match exactly.
                guard let i = b.index(forKey: name), b[i].key.utf8.elementsEqual(name.utf8), b[i].value == value
                else { return false }
            }
            return true
        default:
            return false
        }
    }
}

extension JSONValue: Hashable {
    /// Hashes consistently with ``==(_:_:)``: strings by their UTF-8 bytes, objects independently of order.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null:
            hasher.combine(0 as UInt8)
        case .bool(let b):
            hasher.combine(1 as UInt8)
            hasher.combine(b)
        case .number(let n):
            hasher.combine(2 as UInt8)
            hasher.combine(n)  // Double's hash treats -0 and 0 alike, as == does.
        case .string(let s):
            hasher.combine(3 as UInt8)
            Self.hashScalars(s, into: &hasher)
        case .array(let a):
            hasher.combine(4 as UInt8)
            hasher.combine(a.count)
            for element in a { element.hash(into: &hasher) }
        case .object(let o):
            hasher.combine(5 as UInt8)
            hasher.combine(o.count)
            var members = 0
            for (name, value) in o {
                var h = Hasher()
                Self.hashScalars(name, into: &h)
                value.hash(into: &h)
                members ^= h.finalize()
            }
            hasher.combine(members)
        }
    }

    private static func hashScalars(_ s: String, into hasher: inout Hasher) {
        hasher.combine(s.utf8.count)
        for byte in s.utf8 { hasher.combine(byte) }
    }
}

extension JSONValue: ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    /// A boolean literal.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// An integer literal, as a number.
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    /// A floating-point literal, as a number.
    public init(floatLiteral value: Double) { self = .number(value) }
    /// A string literal.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An array literal.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// A dictionary literal; its names must be unique (a repeated name is a programming error and traps).
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(uniqueKeysWithValues: elements))
    }
}
