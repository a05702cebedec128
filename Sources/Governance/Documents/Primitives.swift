public import Ethereum
import WalletCrypto

/// The kinds of identifier a governance document uses; each is its own type (``ID``).
public enum IDKind {
    public enum Organization {}
    public enum Member {}
    public enum Credential {}
    public enum Signer {}
    public enum Wallet {}
    public enum Asset {}
    public enum Entry {}
    public enum Intent {}
}

/// An identifier inside a governance document: 1–64 characters of `a-z 0-9 . _ -`, starting with
/// a letter or digit. The phantom `Kind` keeps a member id from being used as a wallet id.
public struct ID<Kind>: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The identifier text.
    public let value: String

    /// Validates an identifier.
    public init(_ value: String) throws(GovernanceError) {
        let b = Array(value.utf8)
        guard (1...64).contains(b.count),
            b.allSatisfy({
                ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2e || $0 == 0x5f || $0 == 0x2d
            }),
            let first = b.first, first != 0x2e, first != 0x5f, first != 0x2d
        else { throw GovernanceError(.invalidValue, .malformed, "'\(value.prefix(70))' is not a valid identifier") }
        self.value = value
    }

    public var description: String { value }
    public static func < (a: ID, b: ID) -> Bool { a.value < b.value }
}

public typealias OrganizationID = ID<IDKind.Organization>
public typealias MemberID = ID<IDKind.Member>
public typealias CredentialID = ID<IDKind.Credential>
public typealias SignerID = ID<IDKind.Signer>
public typealias WalletID = ID<IDKind.Wallet>
public typealias AssetID = ID<IDKind.Asset>
public typealias EntryID = ID<IDKind.Entry>
public typealias IntentID = ID<IDKind.Intent>

/// A point in time: whole seconds since 1970-01-01T00:00:00Z (UTC). Governance code never reads a
/// clock; callers pass `now`.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Seconds since the epoch.
    public let seconds: Int64

    /// Creates a timestamp; negative values and values past year 9999 are refused.
    public init(seconds: Int64) throws(GovernanceError) {
        guard seconds >= 0, seconds <= 253_402_300_799 else {
            throw GovernanceError(.invalidValue, .malformed, "timestamp \(seconds) is out of range")
        }
        self.seconds = seconds
    }

    init(unchecked seconds: Int64) { self.seconds = seconds }

    /// 1970-01-01T00:00:00Z.
    public static let epoch = Timestamp(unchecked: 0)

    /// `self + delta` seconds (saturating at the valid range).
    public func adding(seconds delta: Int64) -> Timestamp {
        let (sum, overflow) = seconds.addingReportingOverflow(delta)
        return Timestamp(unchecked: overflow ? (delta > 0 ? 253_402_300_799 : 0) : min(max(sum, 0), 253_402_300_799))
    }

    public var description: String { String(seconds) }
    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.seconds < b.seconds }
}

/// An amount in an asset's base units (satoshis, wei, token units), up to 2^256 − 1, written in
/// documents as a canonical decimal string (no sign, no leading zeros, no exponent).
public struct BaseUnits: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The value.
    public let value: UInt256

    /// Wraps a value.
    public init(_ value: UInt256) { self.value = value }
    /// Wraps a small value.
    public init(_ value: UInt64) { self.value = UInt256(value) }

    /// Parses a canonical decimal string.
    public init(decimal text: String) throws(GovernanceError) {
        let b = Array(text.utf8)
        guard !b.isEmpty, b.count <= 78, b.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), b.count == 1 || b[0] != 0x30 else {
            throw GovernanceError(
                .invalidValue, .malformed, "amount '\(text.prefix(80))' is not a canonical decimal integer")
        }
        do {
            value = try UInt256(decimal: text)
        } catch {
            throw GovernanceError(.invalidValue, .malformed, "amount '\(text.prefix(80))' does not fit in 256 bits")
        }
    }

    /// `self + other`, or a LIMIT error on overflow.
    public func adding(_ other: BaseUnits) throws(GovernanceError) -> BaseUnits {
        guard let s = value.checkedAdd(other.value) else {
            throw GovernanceError(.invalidValue, .limitExceeded, "amount sum overflows 256 bits")
        }
        return BaseUnits(s)
    }

    /// The amount with `decimals` fraction digits, e.g. `1.50000000` for 150000000 sat.
    public func formatted(decimals: Int) -> String {
        let digits = value.decimalString
        guard decimals > 0 else { return digits }
        let padded = String(repeating: "0", count: max(0, decimals + 1 - digits.count)) + digits
        let cut = padded.index(padded.endIndex, offsetBy: -decimals)
        return "\(padded[..<cut]).\(padded[cut...])"
    }

    /// Parses a human amount like `1.5` with at most `decimals` fraction digits.
    public init(human text: String, decimals: Int) throws(GovernanceError) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first, !whole.isEmpty,
            parts.count == 1 || (!parts[1].isEmpty && parts[1].count <= decimals)
        else {
            throw GovernanceError(
                .invalidValue, .malformed, "'\(text)' is not an amount with at most \(decimals) decimals")
        }
        let fraction = parts.count == 2 ? String(parts[1]) : ""
        var digits = String(whole) + fraction + String(repeating: "0", count: decimals - fraction.count)
        while digits.count > 1 && digits.hasPrefix("0") { digits.removeFirst() }
        try self.init(decimal: digits)
    }

    public var description: String { value.decimalString }
    public static func < (a: BaseUnits, b: BaseUnits) -> Bool { a.value < b.value }
    /// Zero.
    public static let zero = BaseUnits(UInt256.zero)
}

/// A 32-byte document digest or policy hash, written as 64 lowercase hex digits.
public struct DocumentHash: Sendable, Hashable, CustomStringConvertible {
    /// The bytes.
    public let bytes: [UInt8]

    /// Wraps 32 bytes.
    public init(bytes: [UInt8]) throws(GovernanceError) {
        guard bytes.count == 32 else { throw GovernanceError(.invalidValue, .malformed, "a digest is 32 bytes") }
        self.bytes = bytes
    }

    /// Parses 64 lowercase hex digits.
    public init(hex: String) throws(GovernanceError) {
        guard hex.utf8.count == 64, hex == hex.lowercased(), let b = try? Hex.decode(hex) else {
            throw GovernanceError(.invalidValue, .malformed, "'\(hex.prefix(70))' is not 64 lowercase hex digits")
        }
        bytes = b
    }

    public var description: String { Hex.encode(bytes) }
}
