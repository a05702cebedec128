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
