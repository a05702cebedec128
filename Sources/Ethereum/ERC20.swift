import WalletCrypto

/// A 4-byte Solidity ABI function selector: the first four bytes of
/// `keccak256(canonical signature)` (Solidity ABI specification, "Function Selector").
public struct FunctionSelector: Sendable, Hashable, CustomStringConvertible {
    /// The four selector bytes.
    public let bytes: [UInt8]

    /// Wraps exactly four bytes.
    public init(bytes: [UInt8]) throws(EthereumError) {
        guard bytes.count == 4 else {
            throw EthereumError(.invalidCalldata, "a function selector is 4 bytes, not \(bytes.count)")
        }
        self.bytes = bytes
    }

    /// Computes the selector of a canonical signature such as `transfer(address,uint256)`.
    public init(signature: String) {
        bytes = Array(Hash.keccak256(Array(signature.utf8)).prefix(4))
    }

    public var description: String { "0x" + Hex.encode(bytes) }
}

/// A token amount in the token's base units (ERC-20 `uint256`; decimals are a display matter
/// that only the signed token registry may decide, ATTACKS E05).
public struct TokenAmount: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The amount in base units.
    public let baseUnits: UInt256

    /// Creates an amount in base units.
    public init(_ baseUnits: UInt256) { self.baseUnits = baseUnits }

    public static func < (a: TokenAmount, b: TokenAmount) -> Bool { a.baseUnits < b.baseUnits }
    public var description: String { baseUnits.decimalString }
}

/// A contract function recognised by its selector, so that call data can be named — and
/// refused by name — before anything else is decided (ATTACKS E04: `approve` shown as a
/// transfer; EIP-20, ERC-721/ERC-1155 `setApprovalForAll`).
public struct KnownFunction: Sendable, Hashable, CustomStringConvertible {
    /// The function name, e.g. `approve`.
    public let name: String
    /// The canonical signature, e.g. `approve(address,uint256)`.
    public let signature: String
    /// The standard that defines it.
    public let standard: String
    /// The selector of ``signature``.
    public let selector: FunctionSelector

    private init(_ signature: String, standard: String) {
        self.signature = signature
        self.name = String(signature.prefix { $0 != "(" })
        self.standard = standard
        self.selector = FunctionSelector(signature: signature)
    }

    /// EIP-20 `transfer(address,uint256)`: the only call Kura's signer signs.
    public static let transfer = KnownFunction("transfer(address,uint256)", standard: "ERC-20")
    /// EIP-20 `approve(address,uint256)`: grants a spender an allowance.
    public static let approve = KnownFunction("approve(address,uint256)", standard: "ERC-20")
    /// EIP-20 `transferFrom(address,address,uint256)`: spends an allowance.
    public static let transferFrom = KnownFunction("transferFrom(address,address,uint256)", standard: "ERC-20")
    /// OpenZeppelin's `increaseAllowance(address,uint256)` extension to ERC-20.
    public static let increaseAllowance = KnownFunction("increaseAllowance(address,uint256)", standard: "ERC-20")
    /// OpenZeppelin's `decreaseAllowance(address,uint256)` extension to ERC-20.
    public static let decreaseAllowance = KnownFunction("decreaseAllowance(address,uint256)", standard: "ERC-20")
    /// ERC-721 / ERC-1155 `setApprovalForAll(address,bool)`: hands an operator every token.
    public static let setApprovalForAll = KnownFunction(
        "setApprovalForAll(address,bool)", standard: "ERC-721/ERC-1155")

    /// Every function recognised by name.
    public static let all: [KnownFunction] = [
        .transfer, .approve, .transferFrom, .increaseAllowance, .decreaseAllowance, .setApprovalForAll,
    ]

    /// The known function whose selector starts `calldata`, or `nil` (shorter than four bytes,
    /// or a selector not in ``all``). Names the call only; it does not validate the arguments.
    public static func identify(calldata: [UInt8]) -> KnownFunction? {
        guard calldata.count >= 4 else { return nil }
        let selector = Array(calldata.prefix(4))
        return all.first { $0.selector.bytes == selector }
    }

    public var description: String { signature }
}

/// EIP-20 token calls.
public enum ERC20 {
    /// `transfer(address to, uint256 amount)` call data: the selector `0xa9059cbb` and two
    /// 32-byte ABI words, exactly 68 bytes.
    public struct Transfer: Sendable, Hashable {
        /// The token recipient.
        public let to: EthereumAddress
        /// The amount in the token's base units.
        public let amount: TokenAmount

        /// The exact length of the call data.
        public static let calldataLength = 68

        /// Creates a transfer.
        public init(to: EthereumAddress, amount: TokenAmount) {
            self.to = to
            self.amount = amount
        }

        /// The ABI-encoded call data.
        public var calldata: [UInt8] {
            var out = KnownFunction.transfer.selector.bytes
            out.reserveCapacity(Self.calldataLength)
            out += [UInt8](repeating: 0, count: 12) + to.bytes
            out += amount.baseUnits.bigEndianBytes
            return out
        }

        /// Decodes call data strictly: the `transfer` selector (another known selector is
        /// named in the error), exactly 68 bytes, and an address word whose upper 12 bytes are zero.
        public init(calldata: [UInt8]) throws(EthereumError) {
            guard calldata.count >= 4 else {
                throw EthereumError(.invalidCalldata, "call data of \(calldata.count) bytes has no selector")
            }
            let selector = Array(calldata.prefix(4))
            guard selector == KnownFunction.transfer.selector.bytes else {
                let hex = "0x" + Hex.encode(selector)
                if let known = KnownFunction.identify(calldata: calldata) {
                    throw EthereumError(
                        .unexpectedSelector, "call data is \(known.signature) (\(hex)), not transfer(address,uint256)")
                }
                throw EthereumError(.unexpectedSelector, "selector \(hex) is not transfer(address,uint256)")
            }
            guard calldata.count == Self.calldataLength else {
                throw EthereumError(
                    .invalidCalldata,
                    "transfer(address,uint256) call data is \(Self.calldataLength) bytes, not \(calldata.count)")
            }
            guard calldata[4..<16].allSatisfy({ $0 == 0 }) else {
                throw EthereumError(
                    .nonCanonicalAddressWord, "the address word's upper 12 bytes are not zero")
            }
            to = try EthereumAddress(bytes: calldata[16..<36])
            amount = TokenAmount(try UInt256(bigEndian: calldata[36..<68]))
        }
    }
}
