/// A failure of a coordinator store, the same for every adapter: the conformance suite matches on ``code``.
public struct StorageError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, extensible like `NIOFS.FileSystemError.Code`.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// A row with the same key already exists (a unique or primary-key constraint refused it).
        public static let duplicate = Code("duplicate")
        /// A row this one refers to does not exist in the same organisation (a foreign key refused it).
        public static let missingReference = Code("missingReference")
        /// A value broke a CHECK constraint or a rule of the port (for example a policy version out of order).
        public static let invalidValue = Code("invalidValue")
        /// A compare-and-set lost: the row was not in the expected state.
        public static let conflict = Code("conflict")
        /// The stored schema is not a prefix of the migrations this build knows.
        public static let schemaMismatch = Code("schemaMismatch")
        /// A stored row could not be decoded into a record.
        public static let corruptRow = Code("corruptRow")
        /// The database is held by another process (an SQLite data file has one user at a time).
        public static let inUse = Code("inUse")
        /// The database failed for another reason (connection, I/O).
        public static let backend = Code("backend")

        public var description: String { name }
    }

    /// The kind of failure.
    public let code: Code
    /// A reason for people; never contains document bytes or secrets.
    public let reason: String

    /// Creates an error.
    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code): \(reason)" }
}
