// The error codes of the JSON text layer (the strict parser, the RFC 8785 encoder and the closed-schema
// reader), beside the shared codes of GovernanceError.swift (`malformed_json`, `duplicate_key`, …).

extension GovernanceError.Code {
    /// The input is not well-formed UTF-8 (RFC 3629): a stray continuation byte, an overlong form, an
    /// encoded surrogate, a code point above U+10FFFF, or a sequence cut short.
    public static let invalidUTF8 = GovernanceError.Code("invalid_utf8")
    /// A string holds an escape RFC 8259 does not define, a `\u` escape without four hex digits, or a
    /// lone or misordered UTF-16 surrogate.
    public static let invalidEscape = GovernanceError.Code("invalid_escape")
    /// A string holds a raw control character (U+0000 to U+001F), which RFC 8259 requires escaped.
    public static let controlCharacter = GovernanceError.Code("control_character")
    /// Bytes other than whitespace follow the JSON value.
    public static let trailingData = GovernanceError.Code("trailing_data")
    /// A number has a fraction or an exponent where only integers are accepted.
    public static let notInteger = GovernanceError.Code("not_integer")
    /// A number lies outside the range its reader accepts (beyond ±(2^53 − 1) for integers, beyond the
    /// IEEE 754 double range for general numbers), or is NaN or an infinity.
    public static let numberOutOfRange = GovernanceError.Code("number_out_of_range")
}
