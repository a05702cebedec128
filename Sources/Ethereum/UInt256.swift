/// An unsigned 256-bit integer: the width of every quantity in an Ethereum transaction (Ethereum
/// Yellow Paper §4.2; EIP-1559 fee fields, values in wei).
///
/// Held as four 64-bit limbs. Arithmetic never wraps silently: the `…ReportingOverflow` methods
/// say whether the result wrapped, and the `checked…` methods return `nil` instead. Text forms
/// are strict: canonical decimal (no sign, no leading zeros) and `0x` hexadecimal quantities.
public struct UInt256: Sendable, Hashable, Comparable, CustomStringConvertible {
    // Limbs, least significant first.
    private var w0: UInt64
    private var w1: UInt64
    private var w2: UInt64
    private var w3: UInt64

    /// Zero.
    public static let zero = UInt256(0)
    /// One.
    public static let one = UInt256(1)
    /// 2^256 − 1.
    public static let max = UInt256(w0: .max, w1: .max, w2: .max, w3: .max)
    /// The number of bits in the type.
    public static let bitWidth = 256

    private init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0
        self.w1 = w1
        self.w2 = w2
        self.w3 = w3
    }

    /// Creates a value from a 64-bit integer.
    public init(_ value: UInt64) {
        self.init(w0: value, w1: 0, w2: 0, w3: 0)
    }

    /// Creates a value from at most 32 big-endian bytes. Leading zero bytes are allowed here;
    /// RLP decoding rejects them separately (``EthereumError/Code/nonCanonicalInteger``).
    public init<C: Collection>(bigEndian bytes: C) throws(EthereumError) where C.Element == UInt8 {
        guard bytes.count <= 32 else {
            throw EthereumError(.integerOverflow, "\(bytes.count) bytes do not fit in 256 bits")
        }
        var value = UInt256.zero
        var shift = (bytes.count - 1) * 8
        for byte in bytes {
            value[limb: shift / 64] |= UInt64(byte) << UInt64(shift % 64)
            shift -= 8
        }
        self = value
    }

    private subscript(limb index: Int) -> UInt64 {
        get {
            switch index {
            case 0: return w0
            case 1: return w1
            case 2: return w2
            default: return w3
            }
        }
        set {
            switch index {
            case 0: w0 = newValue
            case 1: w1 = newValue
            case 2: w2 = newValue
            default: w3 = newValue
            }
        }
    }

    /// Whether the value is zero.
    public var isZero: Bool { (w0 | w1 | w2 | w3) == 0 }

    /// The number of leading zero bits (256 for zero).
    public var leadingZeroBitCount: Int {
        if w3 != 0 { return w3.leadingZeroBitCount }
        if w2 != 0 { return 64 + w2.leadingZeroBitCount }
        if w1 != 0 { return 128 + w1.leadingZeroBitCount }
        return 192 + w0.leadingZeroBitCount
    }

    /// The value as a `UInt64`, or `nil` if it needs more than 64 bits.
    public var exactUInt64: UInt64? { (w1 | w2 | w3) == 0 ? w0 : nil }

    /// The 32-byte big-endian encoding.
    public var bigEndianBytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        for i in 0..<32 {
            let bit = (31 - i) * 8
            out[i] = UInt8(truncatingIfNeeded: self[limb: bit / 64] >> UInt64(bit % 64))
        }
        return out
    }

    /// The minimal big-endian encoding: no leading zero bytes, and no bytes at all for zero
    /// (the form RLP requires for integers).
    public var minimalBigEndianBytes: [UInt8] {
        let count = (256 - leadingZeroBitCount + 7) / 8
        var out = [UInt8](repeating: 0, count: count)
        for i in 0..<count {
            let bit = (count - 1 - i) * 8
            out[i] = UInt8(truncatingIfNeeded: self[limb: bit / 64] >> UInt64(bit % 64))
        }
        return out
    }

    // MARK: Arithmetic

    /// Returns `self + other` modulo 2^256 and whether it wrapped.
    public func addingReportingOverflow(_ other: UInt256) -> (partialValue: UInt256, overflow: Bool) {
        var out = UInt256.zero
        var carry = false
        for i in 0..<4 {
            let (s1, c1) = self[limb: i].addingReportingOverflow(other[limb: i])
            let (s2, c2) = s1.addingReportingOverflow(carry ? 1 : 0)
            out[limb: i] = s2
            carry = c1 || c2
        }
        return (out, carry)
    }

    /// Returns `self − other` modulo 2^256 and whether it went below zero.
    public func subtractingReportingOverflow(_ other: UInt256) -> (partialValue: UInt256, overflow: Bool) {
        var out = UInt256.zero
        var borrow = false
        for i in 0..<4 {
            let (d1, b1) = self[limb: i].subtractingReportingOverflow(other[limb: i])
            let (d2, b2) = d1.subtractingReportingOverflow(borrow ? 1 : 0)
            out[limb: i] = d2
            borrow = b1 || b2
        }
        return (out, borrow)
    }

    /// Returns the low 256 bits of `self × other` and whether any higher bit was set.
    public func multipliedReportingOverflow(by other: UInt256) -> (partialValue: UInt256, overflow: Bool) {
        var out = UInt256.zero
        var overflow = false
        for i in 0..<4 {
            let a = self[limb: i]
            if a == 0 { continue }
            var carry: UInt64 = 0
            for j in 0..<(4 - i) {
                // a·b + out + carry ≤ (2^64−1)^2 + 2(2^64−1) < 2^128, so the new carry fits.
                let (hi, lo) = a.multipliedFullWidth(by: other[limb: j])
                let (s1, c1) = out[limb: i + j].addingReportingOverflow(lo)
                let (s2, c2) = s1.addingReportingOverflow(carry)
                out[limb: i + j] = s2
                carry = hi &+ (c1 ? 1 : 0) &+ (c2 ? 1 : 0)
            }
            if carry != 0 { overflow = true }
            for j in (4 - i)..<4 where other[limb: j] != 0 { overflow = true }
        }
        return (out, overflow)
    }

    /// `self + other`, or `nil` if the sum needs more than 256 bits.
    public func checkedAdd(_ other: UInt256) -> UInt256? {
        let (v, o) = addingReportingOverflow(other)
        return o ? nil : v
    }

    /// `self − other`, or `nil` if `other > self`.
    public func checkedSubtract(_ other: UInt256) -> UInt256? {
        let (v, o) = subtractingReportingOverflow(other)
        return o ? nil : v
    }

    /// `self × other`, or `nil` if the product needs more than 256 bits.
    public func checkedMultiply(_ other: UInt256) -> UInt256? {
        let (v, o) = multipliedReportingOverflow(by: other)
        return o ? nil : v
    }

    /// Divides by a non-zero 64-bit divisor, returning the quotient and the remainder.
    public func quotientAndRemainder(dividingBy divisor: UInt64) -> (quotient: UInt256, remainder: UInt64) {
        precondition(divisor != 0, "division by zero")
        var q = UInt256.zero
        var r: UInt64 = 0
        for i in (0..<4).reversed() {
            let (qi, ri) = divisor.dividingFullWidth((high: r, low: self[limb: i]))
            q[limb: i] = qi
            r = ri
        }
        return (q, r)
    }

    public static func < (a: UInt256, b: UInt256) -> Bool {
        if a.w3 != b.w3 { return a.w3 < b.w3 }
        if a.w2 != b.w2 { return a.w2 < b.w2 }
        if a.w1 != b.w1 { return a.w1 < b.w1 }
        return a.w0 < b.w0
    }

    // MARK: Text

    /// Parses a canonical decimal integer: ASCII digits only, no sign, no whitespace, no leading
    /// zeros (except `"0"` itself), at most 2^256 − 1.
    public init(decimal text: String) throws(EthereumError) {
        let digits = Array(text.utf8)
        guard !digits.isEmpty else { throw EthereumError(.invalidNumber, "empty decimal number") }
        guard digits.count <= 78 else {
            throw EthereumError(.integerOverflow, "a decimal number of \(digits.count) digits exceeds 2^256 - 1")
        }
        guard digits.count == 1 || digits[0] != UInt8(ascii: "0") else {
            throw EthereumError(.invalidNumber, "decimal number \"\(text)\" has a leading zero")
        }
        var value = UInt256.zero
        let ten = UInt256(10)
        for (position, c) in digits.enumerated() {
            guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else {
                throw EthereumError(.invalidNumber, "not a decimal digit at position \(position) of \"\(text)\"")
            }
            guard let shifted = value.checkedMultiply(ten), let next = shifted.checkedAdd(UInt256(UInt64(c - 48)))
            else {
                throw EthereumError(.integerOverflow, "decimal number \(text) exceeds 2^256 - 1")
            }
            value = next
        }
        self = value
    }

    /// Parses an Ethereum JSON-RPC hex quantity: `0x` and 1…64 lowercase hex digits with no
    /// leading zeros (`0x0` for zero).
    public init(hexQuantity text: String) throws(EthereumError) {
        let chars = Array(text.utf8)
        guard chars.count >= 3, chars[0] == UInt8(ascii: "0"), chars[1] == UInt8(ascii: "x") else {
            throw EthereumError(.invalidNumber, "a hex quantity is 0x followed by digits, not \"\(text.prefix(80))\"")
        }
        let digits = chars[2...]
        guard digits.count <= 64 else {
            throw EthereumError(.integerOverflow, "a hex quantity of \(digits.count) digits exceeds 256 bits")
        }
        guard digits.count == 1 || digits.first != UInt8(ascii: "0") else {
            throw EthereumError(.invalidNumber, "hex quantity \"\(text)\" has a leading zero")
        }
        var value = UInt256.zero
        var shift = (digits.count - 1) * 4
        for c in digits {
            let v: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
            default: throw EthereumError(.invalidNumber, "not a lowercase hex digit in \"\(text.prefix(80))\"")
            }
            value[limb: shift / 64] |= UInt64(v) << UInt64(shift % 64)
            shift -= 4
        }
        self = value
    }

    /// The canonical decimal form.
    public var decimalString: String {
        if isZero { return "0" }
        // Peel off 19 decimal digits at a time (10^19 < 2^64).
        var chunks = [UInt64]()
        var rest = self
        while !rest.isZero {
            let (q, r) = rest.quotientAndRemainder(dividingBy: 10_000_000_000_000_000_000)
            chunks.append(r)
            rest = q
        }
        var out = String(chunks.removeLast())
        for chunk in chunks.reversed() {
            let s = String(chunk)
            out += String(repeating: "0", count: 19 - s.count) + s
        }
        return out
    }

    /// The JSON-RPC hex quantity form: `0x` and lowercase digits without leading zeros.
    public var hexQuantity: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        let count = Swift.max(1, (256 - leadingZeroBitCount + 3) / 4)
        var out: [UInt8] = [UInt8(ascii: "0"), UInt8(ascii: "x")]
        for i in (0..<count).reversed() {
            let bit = i * 4
            out.append(digits[Int((self[limb: bit / 64] >> UInt64(bit % 64)) & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { decimalString }
}
