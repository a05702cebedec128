/// Reads one JSON object of a closed schema: each member is read once by name and type, and
/// ``finish()`` refuses any member that was not read.
///
/// ```swift
/// var policy = try JSONObjectReader(value, path: "policy")
/// let version = try policy.int("version", in: 1...JSONParser.maxSafeInteger)
/// let members = try policy.objects("members") { (m: inout JSONObjectReader) throws(GovernanceError) in
///     (try m.string("id"), try m.stringArray("roles"))
/// }
/// try policy.finish()
/// ```
///
/// Errors carry category `MALFORMED` and name the member by its path (`policy.members[2].roles`),
/// never its value. An optional member is one that may be absent; `null` is never accepted for it
/// (`non_canonical`: absent and `null` would be two encodings of one document).
public struct JSONObjectReader: Sendable {
    /// Where this object sits in its document, e.g. `policy.members[2]`.
    public let path: String
    private let members: [String: JSONValue]
    private var read: Set<String> = []

    /// Starts reading `value`, which must be an object; `path` names it in errors.
    public init(_ value: JSONValue, path: String) throws(GovernanceError) {
        guard case .object(let members) = value else {
            throw GovernanceError(.wrongType, .malformed, "\(path): expected an object, found \(value.typeName)")
        }
        self.path = path
        self.members = members
    }

    /// The names of the members present, in canonical (RFC 8785) order.
    public var names: [String] { members.keys.sorted(by: CanonicalJSON.precedes) }

    /// Whether the object has a member `name` (without marking it read).
    public func contains(_ name: String) -> Bool { members[name] != nil }

    // MARK: Any value

    /// The value of the required member `name`, of any type.
    public mutating func value(_ name: String) throws(GovernanceError) -> JSONValue {
        guard let value = try optionalValue(name) else {
            throw GovernanceError(.missingField, .malformed, "\(path): missing field \"\(name)\"")
        }
        return value
    }

    /// The value of the member `name`, or nil if it is absent; `null` is refused.
    public mutating func optionalValue(_ name: String) throws(GovernanceError) -> JSONValue? {
        guard let value = members[name] else { return nil }
        read.insert(name)
        if case .null = value {
            throw GovernanceError(.nonCanonical, .malformed, "\(field(name)): null is not allowed (omit the field)")
        }
        return value
    }

    // MARK: Strings

    /// The required string member `name`.
    public mutating func string(_ name: String) throws(GovernanceError) -> String {
        try asString(try value(name), name)
    }

    /// The string member `name`, or nil if it is absent.
    public mutating func optionalString(_ name: String) throws(GovernanceError) -> String? {
        guard let value = try optionalValue(name) else { return nil }
        return try asString(value, name)
    }

    /// The required member `name`, an array of strings.
    public mutating func stringArray(_ name: String) throws(GovernanceError) -> [String] {
        let elements = try array(name)
        var out: [String] = []
        out.reserveCapacity(elements.count)
        for (i, element) in elements.enumerated() {
            guard case .string(let s) = element else {
                throw GovernanceError(
                    .wrongType, .malformed, "\(field(name))[\(i)]: expected a string, found \(element.typeName)")
            }
            out.append(s)
        }
        return out
    }

    /// The required member `name`, an amount or other unbounded quantity written as a *string* of
    /// decimal digits in canonical form: `0`, or a non-zero digit followed by digits; no sign, point,
    /// exponent, whitespace or leading zero; at most `maxDigits` digits (78 fits any 256-bit value).
    ///
    /// A JSON number here is `wrong_type` (amounts are never numbers: doubles lose precision); a
    /// leading zero is `non_canonical`; anything else that is not digits is `invalid_value`.
    public mutating func decimalString(_ name: String, maxDigits: Int = 78) throws(GovernanceError) -> String {
        let value = try value(name)
        guard case .string(let s) = value else {
            throw GovernanceError(
                .wrongType, .malformed, "\(field(name)): expected a decimal string, found \(value.typeName)")
        }
        let utf8 = s.utf8
        guard !utf8.isEmpty, utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            throw GovernanceError(.invalidValue, .malformed, "\(field(name)): expected decimal digits only")
        }
        guard utf8.count == 1 || utf8.first != UInt8(ascii: "0") else {
            throw GovernanceError(.nonCanonical, .malformed, "\(field(name)): leading zero in a decimal string")
        }
        guard utf8.count <= maxDigits else {
            throw GovernanceError(.invalidValue, .malformed, "\(field(name)): more than \(maxDigits) digits")
        }
        return s
    }

    // MARK: Numbers and booleans

    /// The required member `name`, an integer JSON number in ±(2^53 − 1).
    public mutating func int(_ name: String) throws(GovernanceError) -> Int {
        try asInt(try value(name), name)
    }

    /// The required integer member `name`, which must lie in `range`.
    public mutating func int(_ name: String, in range: ClosedRange<Int>) throws(GovernanceError) -> Int {
        let n = try int(name)
        guard range.contains(n) else {
            throw GovernanceError(
                .invalidValue, .malformed, "\(field(name)): outside \(range.lowerBound)...\(range.upperBound)")
        }
        return n
    }

    /// The integer member `name`, or nil if it is absent.
    public mutating func optionalInt(_ name: String) throws(GovernanceError) -> Int? {
        guard let value = try optionalValue(name) else { return nil }
        return try asInt(value, name)
    }

    /// The required boolean member `name`.
    public mutating func bool(_ name: String) throws(GovernanceError) -> Bool {
        try asBool(try value(name), name)
    }

    /// The boolean member `name`, or nil if it is absent.
    public mutating func optionalBool(_ name: String) throws(GovernanceError) -> Bool? {
        guard let value = try optionalValue(name) else { return nil }
        return try asBool(value, name)
    }

    // MARK: Containers

    /// The required member `name`, an array (of any elements).
    public mutating func array(_ name: String) throws(GovernanceError) -> [JSONValue] {
        let value = try value(name)
        guard case .array(let elements) = value else {
            throw GovernanceError(.wrongType, .malformed, "\(field(name)): expected an array, found \(value.typeName)")
        }
        return elements
    }

    /// A reader for the required member `name`, an object. The caller must ``finish()`` it; the
    /// closure forms ``object(_:_:)`` and ``objects(_:_:)`` do that themselves.
    public mutating func object(_ name: String) throws(GovernanceError) -> JSONObjectReader {
        try JSONObjectReader(try value(name), path: field(name))
    }

    /// Reads the required object member `name` with `body`, then refuses its unread members.
    public mutating func object<T>(
        _ name: String, _ body: (inout JSONObjectReader) throws(GovernanceError) -> T
    ) throws(GovernanceError) -> T {
        var reader = try object(name)
        let result = try body(&reader)
        try reader.finish()
        return result
    }

    /// Reads the optional object member `name` with `body` (nil if it is absent).
    public mutating func optionalObject<T>(
        _ name: String, _ body: (inout JSONObjectReader) throws(GovernanceError) -> T
    ) throws(GovernanceError) -> T? {
        guard let value = try optionalValue(name) else { return nil }
        var reader = try JSONObjectReader(value, path: field(name))
        let result = try body(&reader)
        try reader.finish()
        return result
    }

    /// Reads the required member `name`, an array of objects, with `body` for each element (at path
    /// `name[i]`), refusing the unread members of every element.
    public mutating func objects<T>(
        _ name: String, _ body: (inout JSONObjectReader) throws(GovernanceError) -> T
    ) throws(GovernanceError) -> [T] {
        let elements = try array(name)
        var out: [T] = []
        out.reserveCapacity(elements.count)
        for (i, element) in elements.enumerated() {
            var reader = try JSONObjectReader(element, path: "\(field(name))[\(i)]")
            out.append(try body(&reader))
            try reader.finish()
        }
        return out
    }

    /// Refuses the object if it has a member that was not read (`unknown_field`, naming the first such
    /// member in canonical order).
    public func finish() throws(GovernanceError) {
        guard read.count < members.count else { return }
        for name in names where !read.contains(name) {
            throw GovernanceError(.unknownField, .malformed, "\(path): unknown field \(Self.quoted(name))")
        }
    }

    // MARK: Helpers

    private func field(_ name: String) -> String { "\(path).\(name)" }

    /// An input member name for a message: JSON-quoted (controls escaped), cut after 64 scalars.
    private static func quoted(_ name: String) -> String {
        let scalars = name.unicodeScalars
        let cut = scalars.count > 64
        let shown = cut ? String(String.UnicodeScalarView(scalars.prefix(64))) : name
        let encoded = (try? CanonicalJSON.encode(.string(shown))) ?? []
        return String(decoding: encoded, as: UTF8.self) + (cut ? "…" : "")
    }

    private func asString(_ value: JSONValue, _ name: String) throws(GovernanceError) -> String {
        guard case .string(let s) = value else {
            throw GovernanceError(.wrongType, .malformed, "\(field(name)): expected a string, found \(value.typeName)")
        }
        return s
    }

    private func asBool(_ value: JSONValue, _ name: String) throws(GovernanceError) -> Bool {
        guard case .bool(let b) = value else {
            throw GovernanceError(.wrongType, .malformed, "\(field(name)): expected a boolean, found \(value.typeName)")
        }
        return b
    }

    private func asInt(_ value: JSONValue, _ name: String) throws(GovernanceError) -> Int {
        guard case .number(let n) = value else {
            throw GovernanceError(
                .wrongType, .malformed, "\(field(name)): expected an integer, found \(value.typeName)")
        }
        guard n.rounded(.towardZero) == n else {
            throw GovernanceError(.notInteger, .malformed, "\(field(name)): expected an integer")
        }
        guard n.magnitude <= Double(JSONParser.maxSafeInteger) else {
            throw GovernanceError(.numberOutOfRange, .malformed, "\(field(name)): beyond ±(2^53 − 1)")
        }
        return Int(n)
    }
}
