public import WalletCrypto

/// An error raised by the signer: a stable ``Code`` and a reason. Reasons never contain secrets.
public struct SignerError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable, extensible error code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's stable name.
        public let name: String
        /// Creates a code.
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The file is not a Kura keystore (wrong magic, wrong size).
        public static let notAKeystore = Code("not_a_keystore")
        /// The keystore's format version is not supported by this build.
        public static let unsupportedKeystoreVersion = Code("unsupported_keystore_version")
        /// The keystore's integrity checksum does not match: the file is damaged.
        public static let keystoreCorrupted = Code("keystore_corrupted")
        /// The keystore names a key-derivation cost below Kura's floor (or above its ceiling).
        public static let weakKDF = Code("kdf_cost_out_of_bounds")
        /// Decryption failed: wrong passphrase, or a consistently rewritten (tampered) file.
        public static let wrongPassphrase = Code("wrong_passphrase")
        /// A passphrase is not acceptable (too short, mismatched confirmation).
        public static let badPassphrase = Code("bad_passphrase")
        /// The mnemonic could not be read or is invalid.
        public static let badMnemonic = Code("bad_mnemonic")
        /// A file is larger than the bound it is read under.
        public static let tooLarge = Code("too_large")
        /// A file could not be read or written.
        public static let io = Code("io_error")
        /// Refused to overwrite an existing keystore.
        public static let alreadyExists = Code("already_exists")
        /// No terminal is available for an interactive prompt.
        public static let noTerminal = Code("no_terminal")
        /// A command-line value is invalid.
        public static let usage = Code("usage")
        /// A key-layer error.
        public static let key = Code("key_error")
        /// The signer's state (ledger) is missing, damaged, rolled back or foreign.
        public static let stateIntegrity = Code("state_integrity")
    }

    /// What went wrong.
    public let code: Code
    /// Why, for the operator.
    public let reason: String

    /// Creates an error.
    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    /// Wraps a key-layer error.
    public init(_ error: WalletCryptoError, as code: Code = .key) {
        self.init(code, error.description)
    }

    public var description: String { "\(code.name): \(reason)" }
}
