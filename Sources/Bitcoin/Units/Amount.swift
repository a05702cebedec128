/// An amount of bitcoin in satoshis, always within `0...21,000,000 BTC` (Bitcoin Core `MoneyRange`).
///
/// Every way to make or combine amounts checks the range, so a sum past 21M BTC (the 2010 value
/// overflow incident, CVE-2010-5139) is an error, never a wrapped or negative number.
public struct Amount: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The number of satoshis.
    public let sats: Int64

    /// Satoshis per bitcoin.
    public static let satsPerBitcoin: Int64 = 100_000_000
    /// 21,000,000 BTC in satoshis (`MAX_MONEY`).
    public static let maxMoney: Int64 = 21_000_000 * satsPerBitcoin
    /// Zero.
    public static let zero = Amount(unchecked: 0)
    /// The largest valid amount.
    public static let max = Amount(unchecked: maxMoney)

    init(unchecked sats: Int64) { self.sats = sats }

    /// An amount of `sats` satoshis; fails outside `0...MAX_MONEY`.
    public init(sats: Int64) throws(BitcoinError) {
        guard sats >= 0, sats <= Self.maxMoney else {
            throw BitcoinError(.amountOutOfRange, "\(sats) sat is outside 0...21,000,000 BTC")
        }
        self.sats = sats
    }

    /// An amount from an unsigned wire value (transaction outputs are 8-byte little-endian).
    public init(wire: UInt64) throws(BitcoinError) {
        guard wire <= UInt64(Self.maxMoney) else {
            throw BitcoinError(.amountOutOfRange, "\(wire) sat is above 21,000,000 BTC")
        }
        sats = Int64(wire)
    }

    /// Parses a decimal BTC string such as `"0.015"` or `"21000000"`: digits, at most one point,
    /// at most eight decimals, no sign, exponent or whitespace.
    public init(btc text: String) throws(BitcoinError) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first, !whole.isEmpty, whole.count <= 8,
            whole.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
        else { throw BitcoinError(.amountOutOfRange, "'\(text)' is not a decimal BTC amount") }
        var fraction = parts.count == 2 ? String(parts[1]) : ""
        guard fraction.count <= 8, fraction.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            parts.count == 1 || !fraction.isEmpty
        else { throw BitcoinError(.amountOutOfRange, "'\(text)' has more than eight decimals or a bad fraction") }
        fraction += String(repeating: "0", count: 8 - fraction.count)
        try self.init(sats: Int64(whole)! * Self.satsPerBitcoin + Int64(fraction)!)
    }

    /// `self + other`, failing past 21M BTC.
    public func adding(_ other: Amount) throws(BitcoinError) -> Amount {
        try Amount(sats: sats + other.sats)  // both ≤ 2.1e15, no Int64 overflow
    }

    /// `self - other`, failing below zero.
    public func subtracting(_ other: Amount) throws(BitcoinError) -> Amount {
        guard other.sats <= sats else {
            throw BitcoinError(.amountOutOfRange, "\(other) exceeds \(self)")
        }
        return Amount(unchecked: sats - other.sats)
    }

    /// The sum of `amounts`, failing as soon as a partial sum passes 21M BTC.
    public static func sum<S: Sequence>(_ amounts: S) throws(BitcoinError) -> Amount where S.Element == Amount {
        var total = Amount.zero
        for a in amounts { total = try total.adding(a) }
        return total
    }

    /// The amount in BTC with eight decimals, e.g. `0.01500000`.
    public var btcString: String {
        let whole = sats / Self.satsPerBitcoin
        let frac = String(sats % Self.satsPerBitcoin)
        return "\(whole).\(String(repeating: "0", count: 8 - frac.count))\(frac)"
    }

    public var description: String { "\(sats) sat" }
    public static func < (a: Amount, b: Amount) -> Bool { a.sats < b.sats }
}

/// Transaction weight in weight units (BIP-0141): `3 × base size + total size`.
public struct Weight: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Weight units.
    public let units: UInt64
    /// Creates a weight.
    public init(units: UInt64) { self.units = units }
    /// The largest standard transaction weight (Bitcoin Core `MAX_STANDARD_TX_WEIGHT`).
    public static let maxStandardTransaction = Weight(units: 400_000)
    /// The consensus block weight limit.
    public static let maxBlock = Weight(units: 4_000_000)
    /// Virtual size, rounded up: `⌈weight / 4⌉`.
    public var virtualSize: VirtualSize { VirtualSize(vbytes: (units + 3) / 4) }
    /// Sum of two weights.
    public static func + (a: Weight, b: Weight) -> Weight { Weight(units: a.units + b.units) }
    public var description: String { "\(units) WU" }
    public static func < (a: Weight, b: Weight) -> Bool { a.units < b.units }
}

/// Virtual size in vbytes (`⌈weight / 4⌉`).
public struct VirtualSize: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Virtual bytes.
    public let vbytes: UInt64
    /// Creates a virtual size.
    public init(vbytes: UInt64) { self.vbytes = vbytes }
    public var description: String { "\(vbytes) vB" }
    public static func < (a: VirtualSize, b: VirtualSize) -> Bool { a.vbytes < b.vbytes }
}

/// A fee rate in satoshis per 1000 virtual bytes (Bitcoin Core `CFeeRate`), so that fractional
/// sat/vB rates such as 1.5 sat/vB are exact.
public struct FeeRate: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Satoshis per 1000 vbytes.
    public let satsPerKvB: UInt64

    /// Creates a rate from sat/kvB.
    public init(satsPerKvB: UInt64) { self.satsPerKvB = satsPerKvB }
    /// Creates a rate from whole sat/vB.
    public init(satsPerVByte: UInt64) { satsPerKvB = satsPerVByte * 1000 }

    /// The fee for `size` at this rate, **rounded up** to the next satoshi (so a transaction never
    /// pays less than the rate); fails if the fee exceeds 21M BTC.
    public func fee(for size: VirtualSize) throws(BitcoinError) -> Amount {
        let (product, overflow) = satsPerKvB.multipliedReportingOverflow(by: size.vbytes)
        guard !overflow else { throw BitcoinError(.arithmeticOverflow, "fee for \(size) at \(self) overflows") }
        let fee = product / 1000 + (product % 1000 == 0 ? 0 : 1)
        return try Amount(wire: fee)
    }

    /// The fee for `weight` at this rate, rounded up (via the virtual size).
    public func fee(for weight: Weight) throws(BitcoinError) -> Amount { try fee(for: weight.virtualSize) }

    /// The rate actually paid by `fee` over `size` (sat/kvB, rounded down).
    public static func paid(_ fee: Amount, size: VirtualSize) -> FeeRate {
        guard size.vbytes > 0 else { return FeeRate(satsPerKvB: .max) }
        return FeeRate(satsPerKvB: UInt64(fee.sats) * 1000 / size.vbytes)
    }

    /// The rate in sat/vB with three decimals.
    public var satsPerVByteString: String {
        let frac = String(satsPerKvB % 1000)
        return "\(satsPerKvB / 1000).\(String(repeating: "0", count: 3 - frac.count))\(frac)"
    }

    public var description: String { "\(satsPerVByteString) sat/vB" }
    public static func < (a: FeeRate, b: FeeRate) -> Bool { a.satsPerKvB < b.satsPerKvB }
}
