/// An amount of ether in wei (1 ETH = 10^18 wei), the unit of a transaction's `value` and of
/// every fee (Ethereum Yellow Paper §4.2; EIP-1559).
///
/// Arithmetic is checked: a sum or difference that does not fit 256 bits is an
/// ``EthereumError/Code/arithmeticOverflow`` error, never a wrapped value.
public struct Wei: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The amount in wei.
    public let amount: UInt256

    /// Creates an amount of `amount` wei.
    public init(_ amount: UInt256) { self.amount = amount }

    /// Zero wei.
    public static let zero = Wei(.zero)

    /// `self + other`; fails instead of wrapping.
    public func adding(_ other: Wei) throws(EthereumError) -> Wei {
        guard let sum = amount.checkedAdd(other.amount) else {
            throw EthereumError(.arithmeticOverflow, "\(amount) wei + \(other.amount) wei exceeds 2^256 - 1")
        }
        return Wei(sum)
    }

    /// `self − other`; fails when `other` is larger.
    public func subtracting(_ other: Wei) throws(EthereumError) -> Wei {
        guard let difference = amount.checkedSubtract(other.amount) else {
            throw EthereumError(.arithmeticOverflow, "\(amount) wei - \(other.amount) wei is below zero")
        }
        return Wei(difference)
    }

    /// The exact amount in ether as a decimal string (`"1.5"`, `"0.000000000000000001"`); no
    /// rounding, trailing zeros of the fraction removed.
    public var etherString: String { Self.decimal(amount, scale: 18) }

    /// The exact amount in gwei (10^9 wei) as a decimal string; no rounding.
    public var gweiString: String { Self.decimal(amount, scale: 9) }

    static func decimal(_ value: UInt256, scale: Int) -> String {
        let digits = Array(value.decimalString)
        if digits.count <= scale {
            let fraction = String(repeating: "0", count: scale - digits.count) + String(digits)
            let trimmed = fraction.reversed().drop { $0 == "0" }.reversed()
            return trimmed.isEmpty ? "0" : "0." + String(trimmed)
        }
        let whole = String(digits[0..<(digits.count - scale)])
        let fraction = digits[(digits.count - scale)...].reversed().drop { $0 == "0" }.reversed()
        return fraction.isEmpty ? whole : whole + "." + String(fraction)
    }

    public static func < (a: Wei, b: Wei) -> Bool { a.amount < b.amount }
    public var description: String { "\(amount) wei" }
}

/// A quantity of gas: a transaction's `gasLimit` (Ethereum Yellow Paper §4.2, EIP-1559).
///
/// Encoded as an RLP integer of up to 256 bits; multiplying it by a fee per gas is checked
/// (``cost(at:)``).
public struct Gas: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The number of gas units.
    public let units: UInt256

    /// Creates a quantity of `units` gas.
    public init(_ units: UInt256) { self.units = units }

    /// Creates a quantity of `units` gas.
    public init(_ units: UInt64) { self.units = UInt256(units) }

    /// The most this much gas can cost at `price` per unit: `units × price`, checked. This is
    /// the product EIP-1559 requires to fit 256 bits (`gasLimit × maxFeePerGas`).
    public func cost(at price: WeiPerGas) throws(EthereumError) -> Wei {
        guard let product = units.checkedMultiply(price.amount) else {
            throw EthereumError(
                .arithmeticOverflow, "gas \(units) × \(price.amount) wei per gas exceeds 2^256 - 1")
        }
        return Wei(product)
    }

    public static func < (a: Gas, b: Gas) -> Bool { a.units < b.units }
    public var description: String { "\(units) gas" }
}

/// A price per unit of gas in wei: `maxFeePerGas` and `maxPriorityFeePerGas` (EIP-1559), or a
/// legacy `gasPrice`.
public struct WeiPerGas: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Wei per gas unit.
    public let amount: UInt256

    /// Creates a price of `amount` wei per gas.
    public init(_ amount: UInt256) { self.amount = amount }

    /// Creates a price of `amount` wei per gas.
    public init(_ amount: UInt64) { self.amount = UInt256(amount) }

    /// Zero wei per gas.
    public static let zero = WeiPerGas(UInt256.zero)

    /// The exact price in gwei as a decimal string; no rounding.
    public var gweiString: String { Wei.decimal(amount, scale: 9) }

    public static func < (a: WeiPerGas, b: WeiPerGas) -> Bool { a.amount < b.amount }
    public var description: String { "\(amount) wei/gas" }
}

/// An EIP-155 chain id (1 = Ethereum mainnet). RLP allows any integer; Kura accepts chain ids
/// up to 2^64 − 1, the bound EIP-2294 proposes and every client uses.
public struct ChainID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The chain id.
    public let value: UInt64

    /// Creates a chain id.
    public init(_ value: UInt64) { self.value = value }

    /// Ethereum mainnet (1).
    public static let mainnet = ChainID(1)
    /// The Sepolia test network (11155111).
    public static let sepolia = ChainID(11_155_111)

    public static func < (a: ChainID, b: ChainID) -> Bool { a.value < b.value }
    public var description: String { String(value) }
}

/// An account nonce: the count of transactions the sender has sent before this one. EIP-2681
/// bounds it to 64 bits.
public struct Nonce: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The nonce.
    public let value: UInt64

    /// Creates a nonce.
    public init(_ value: UInt64) { self.value = value }

    public static func < (a: Nonce, b: Nonce) -> Bool { a.value < b.value }
    public var description: String { String(value) }
}
