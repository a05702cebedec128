/// An error raised by the Ethereum engine: a stable ``Code`` and a reason naming the offending
/// (public) input.
///
/// Tests and callers match on ``code``; the ``reason`` is for people and never contains key
/// material. Codes are grouped by layer: integers and units, RLP (Ethereum Yellow Paper,
/// Appendix B), EIP-2718 transactions, signatures, addresses (EIP-55) and ABI call data.
public struct EthereumError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable, extensible error code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's stable name.
        public let name: String
        /// Creates a code.
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        // Integers and units.

        /// Text is not a canonical decimal or `0x` hexadecimal integer.
        public static let invalidNumber = Code("invalid_number")
        /// A value does not fit its type (more than 256 bits, or more than 64 for a nonce or chain id).
        public static let integerOverflow = Code("integer_overflow")
        /// Checked arithmetic on a quantity (wei, gas, fees) would overflow or go below zero.
        public static let arithmeticOverflow = Code("arithmetic_overflow")

        // RLP.

        /// The input ended before the value it announces (or is empty).
        public static let truncated = Code("truncated")
        /// Bytes are left over after a complete value.
        public static let trailingBytes = Code("trailing_bytes")
        /// RLP that is well-formed but not in its one canonical form: a single byte below 0x80
        /// wrapped in a string header, a long-form length below 56, or a length with leading zeros.
        public static let nonCanonicalRLP = Code("non_canonical_rlp")
        /// An input exceeds a decoding limit (size, nesting depth, item count), checked before allocating.
        public static let resourceLimit = Code("resource_limit")
        /// An RLP list appears where a string is required, or the reverse.
        public static let unexpectedRLPType = Code("unexpected_rlp_type")
        /// An integer field has a leading zero byte (RLP integers are minimal big-endian).
        public static let nonCanonicalInteger = Code("non_canonical_integer")

        // Transactions (EIP-2718, EIP-155, EIP-2930, EIP-1559).

        /// A transaction list has the wrong number of fields.
        public static let wrongFieldCount = Code("wrong_field_count")
        /// A recognised EIP-2718 transaction type that this engine does not accept (EIP-4844
        /// blob transactions, EIP-7702 set-code transactions).
        public static let unsupportedTransactionType = Code("unsupported_transaction_type")
        /// A transaction type byte that no EIP defines here, or a first byte that is neither a
        /// type (0x00–0x7f) nor an RLP list (0xc0–0xff).
        public static let unknownTransactionType = Code("unknown_transaction_type")
        /// A field has the wrong length (a `to` that is neither empty nor 20 bytes, a storage key
        /// that is not 32 bytes).
        public static let invalidField = Code("invalid_field")
        /// `maxPriorityFeePerGas` exceeds `maxFeePerGas` (EIP-1559).
        public static let priorityFeeAboveMaxFee = Code("priority_fee_above_max_fee")
        /// A legacy `v` that is neither 27/28 nor `chainId * 2 + 35/36` (EIP-155).
        public static let invalidV = Code("invalid_v")

        // Signatures.

        /// `r` or `s` is zero or not below the curve order, `s` is in the upper half (EIP-2), or
        /// `yParity` is not 0 or 1.
        public static let invalidSignature = Code("invalid_signature")
        /// No public key recovers from the signature and digest.
        public static let recoveryFailed = Code("recovery_failed")
        /// An underlying key-layer (secp256k1, BIP-0032) failure.
        public static let keyError = Code("key_error")

        // Addresses (EIP-55).

        /// Text is not `0x` followed by 40 hexadecimal digits, or bytes are not 20 long.
        public static let invalidAddress = Code("invalid_address")
        /// A mixed-case address whose letter case does not match its EIP-55 checksum.
        public static let badChecksum = Code("bad_checksum")

        // ABI call data (ERC-20).

        /// Call data has the wrong length for the function its selector names.
        public static let invalidCalldata = Code("invalid_calldata")
        /// An ABI `address` word whose upper 12 bytes are not zero.
        public static let nonCanonicalAddressWord = Code("non_canonical_address_word")
        /// The call data's selector is not the function that was required.
        public static let unexpectedSelector = Code("unexpected_selector")
    }

    /// What went wrong.
    public let code: Code
    /// Why, for people.
    public let reason: String

    /// Creates an error.
    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code.name): \(reason)" }
}
