/// An error raised by the Ethereum engine: a stable ``Code`` and a reason naming the offending
/// (public) input.
public struct EthereumError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable, extensible error code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's stable name.
        public let name: String
        /// Creates a code.
        public init(_ name: String) { self.name = name }
        public var description: String { name }
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
