import WalletCrypto

/// An EIP-2718 transaction type: the first byte of a typed transaction's serialisation. Legacy
/// transactions have no type byte (their first byte is an RLP list header, 0xc0–0xff).
public struct TransactionType: Sendable, Hashable, CustomStringConvertible {
    /// The type byte (0x00 stands for legacy, which is never written).
    public let rawValue: UInt8
    /// A human name naming the EIP.
    public let name: String

    private init(_ rawValue: UInt8, _ name: String) {
        self.rawValue = rawValue
        self.name = name
    }

    /// Legacy transactions (pre-EIP-2718, with or without EIP-155 replay protection).
    public static let legacy = TransactionType(0x00, "legacy")
    /// Type 0x01: EIP-2930 access-list transactions.
    public static let accessList = TransactionType(0x01, "EIP-2930 access-list")
    /// Type 0x02: EIP-1559 dynamic-fee transactions, the only type Kura signs.
    public static let dynamicFee = TransactionType(0x02, "EIP-1559 dynamic-fee")
    /// Type 0x03: EIP-4844 blob transactions (recognised to be refused by name).
    public static let blob = TransactionType(0x03, "EIP-4844 blob")
    /// Type 0x04: EIP-7702 set-code transactions, which delegate an account to contract code
    /// (recognised to be refused by name; ATTACKS E13).
    public static let setCode = TransactionType(0x04, "EIP-7702 set-code")

    /// The types this engine knows by name.
    public static let known: [TransactionType] = [.legacy, .accessList, .dynamicFee, .blob, .setCode]

    /// `0x02`-style text.
    public var hex: String { "0x" + Hex.encode([rawValue]) }

    public var description: String { "\(name) (type \(hex))" }
}
