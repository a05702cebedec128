/// An error raised by the key layer: a stable ``Code`` that callers and tests match on, and a
/// human-readable reason.
///
/// The reason never contains secret material (seeds, mnemonic words, private keys,
/// passphrases); where the offending input is public (an address, a hex string) it may be named.
public struct WalletCryptoError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable, extensible error code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's stable name, as it appears in logs and machine-readable output.
        public let name: String
        /// Creates a code with a stable name.
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        /// Input ended before a complete value was read.
        public static let truncated = Code("truncated")
        /// Bytes were left over after a complete value.
        public static let trailingBytes = Code("trailing_bytes")
        /// A length, count or size is out of the allowed range.
        public static let invalidLength = Code("invalid_length")
        /// Text is not valid hexadecimal.
        public static let invalidHex = Code("invalid_hex")
        /// Text is not valid Base58.
        public static let invalidBase58 = Code("invalid_base58")
        /// A checksum does not match its data.
        public static let badChecksum = Code("bad_checksum")
        /// Text is not a valid bech32/bech32m string.
        public static let invalidBech32 = Code("invalid_bech32")
        /// A private key is zero or not below the curve order.
        public static let invalidPrivateKey = Code("invalid_private_key")
        /// Bytes do not encode a point on secp256k1.
        public static let invalidPublicKey = Code("invalid_public_key")
        /// A signature encoding is malformed.
        public static let invalidSignature = Code("invalid_signature")
        /// A tweak is out of range or produced the point at infinity.
        public static let invalidTweak = Code("invalid_tweak")
        /// A BIP-0039 mnemonic is malformed (word count, checksum).
        public static let invalidMnemonic = Code("invalid_mnemonic")
        /// A BIP-0039 mnemonic word is not in the wordlist.
        public static let unknownWord = Code("unknown_word")
        /// A BIP-0032 derivation path is malformed.
        public static let invalidDerivationPath = Code("invalid_derivation_path")
        /// A BIP-0032 extended key is malformed or inconsistent.
        public static let invalidExtendedKey = Code("invalid_extended_key")
        /// A requested operation is impossible for this key (hardened from public).
        public static let hardenedFromPublic = Code("hardened_from_public")
        /// A passphrase is not acceptable.
        public static let invalidPassphrase = Code("invalid_passphrase")
        /// A key-derivation or cipher primitive failed.
        public static let primitiveFailure = Code("primitive_failure")
    }

    /// What went wrong, as a stable code.
    public let code: Code
    /// Why, in words for people. Never contains secret material.
    public let reason: String

    /// Creates an error with a code and a reason.
    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code.name): \(reason)" }
}
