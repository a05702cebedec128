/// An error raised by the Bitcoin engine: a stable ``Code`` and a reason naming the offending
/// (public) input.
public struct BitcoinError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable, extensible error code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's stable name.
        public let name: String
        /// Creates a code.
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        /// An address string is malformed, has a bad checksum or violates BIP-0173/0350 rules.
        public static let invalidAddress = Code("invalid_address")
        /// An address is valid, but for another network than the one required.
        public static let wrongNetwork = Code("wrong_network")
        /// A WIF private key is malformed.
        public static let invalidWIF = Code("invalid_wif")
        /// A network name is not known.
        public static let unknownNetwork = Code("unknown_network")
        /// A descriptor is malformed or its checksum is wrong.
        public static let invalidDescriptor = Code("invalid_descriptor")
        /// An underlying key-layer error.
        public static let keyError = Code("key_error")
        /// An amount is negative, above 21,000,000 BTC, or a sum of amounts overflows that.
        public static let amountOutOfRange = Code("amount_out_of_range")
        /// Arithmetic on a quantity overflowed or underflowed.
        public static let arithmeticOverflow = Code("arithmetic_overflow")
        /// Serialized data ended early.
        public static let truncated = Code("truncated")
        /// Serialized data has bytes after a complete value.
        public static let trailingBytes = Code("trailing_bytes")
        /// A CompactSize integer is not minimally encoded.
        public static let nonCanonicalCompactSize = Code("non_canonical_compact_size")
        /// A count or size exceeds what the input could hold or Kura's limits.
        public static let resourceLimit = Code("resource_limit")
        /// A transaction is malformed (structure, witness flags).
        public static let invalidTransaction = Code("invalid_transaction")
        /// A script is malformed (a push runs past the end, a non-minimal push where minimal is required).
        public static let invalidScript = Code("invalid_script")
        /// A PSBT is malformed or violates BIP-0174/0370/0371 rules.
        public static let invalidPSBT = Code("invalid_psbt")
        /// A PSBT input's previous transaction does not hash to the outpoint it spends.
        public static let prevoutMismatch = Code("prevout_mismatch")
        /// A PSBT map holds the same key twice.
        public static let duplicateKey = Code("duplicate_key")
        /// A signing step cannot proceed (missing UTXO, key not ours, unsupported script).
        public static let cannotSign = Code("cannot_sign")
        /// Finalisation is impossible with the data present.
        public static let cannotFinalize = Code("cannot_finalize")
        /// Two PSBTs cannot be combined (different transactions, conflicting values).
        public static let cannotCombine = Code("cannot_combine")
        /// A sighash type is not defined or not allowed.
        public static let invalidSighashType = Code("invalid_sighash_type")
        /// A wallet policy (BIP-0388) is malformed.
        public static let invalidWalletPolicy = Code("invalid_wallet_policy")
        /// Coin selection found no solution.
        public static let insufficientFunds = Code("insufficient_funds")
        /// A signature in a PSBT does not verify, or is by a key the input does not use.
        public static let invalidSignature = Code("invalid_signature")
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
