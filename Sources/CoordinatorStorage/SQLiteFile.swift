import CSQLite3
import Foundation
public import Logging
import NIOCore
import NIOPosix
public import SQLKit
import SQLiteKit

/// An error from SQLite's C API: its extended result code and its message.
struct SQLiteFileError: Error, CustomStringConvertible {
    /// The extended result code (`SQLITE_CONSTRAINT_UNIQUE`, …).
    let code: Int32
    let message: String
    var description: String { "SQLite error \(code): \(message)" }

    /// The primary result code (`SQLITE_CONSTRAINT`, …).
    var primary: Int32 { code & 0xff }
}

/// One connection to an SQLite database file through Debian's libsqlite3, for the coordinator's SQLite adapter
/// (ADR 0016). Statements run on the calling thread, one at a time per connection, and stay compiled between
/// calls (a cache keyed by their SQL text): the adapter's statements are few and fixed, and SQLite answers most
/// of them from its page cache in microseconds — less than a hop to a thread pool and back costs.
///
/// Strict: one statement per call (trailing SQL is refused, not ignored), as many binds as the statement has
/// parameters, every error with SQLite's extended result code and message.
public final class SQLiteFile: @unchecked Sendable {
    // `@unchecked Sendable`: every use of `handle` and `statements` holds `lock`.
    private let lock = NSLock()
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]

    /// The most compiled statements kept per connection (beyond it the cache starts over).
    public static let cachedStatements = 256

    private init(handle: OpaquePointer) { self.handle = handle }

    /// Opens (creating if needed) the database file at `path`, in SQLite's multi-thread mode (this class
    /// serialises its own calls).
    public static func open(path: String) throws -> SQLiteFile {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let status = sqlite3_open_v2(path, &handle, flags, nil)
        guard status == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(handle)
            throw SQLiteFileError(code: status, message: message)
        }
        sqlite3_extended_result_codes(handle, 1)
        return SQLiteFile(handle: handle)
    }

    /// Finalises every cached statement and closes the connection; later calls fail.
    public func close() {
        lock.lock()
        defer { lock.unlock() }
        for statement in statements.values { sqlite3_finalize(statement) }
        statements = [:]
        sqlite3_close_v2(handle)
        handle = nil
    }

    /// SQLKit's view of this connection (statements run on the calling thread).
    public func sql(logger: Logger = Logger(label: "kura.storage.sqlite")) -> any SQLDatabase {
        database(logger: logger)
    }

    /// ``sql(logger:)``, as its concrete type.
    func database(logger: Logger) -> SQLiteFileDatabase {
        SQLiteFileDatabase(file: self, logger: logger, eventLoop: MultiThreadedEventLoopGroup.singleton.any())
    }

    /// Runs one statement without binds or rows on NIO's thread pool for blocking work: for a statement that
    /// waits on the disk (`COMMIT` with `synchronous = FULL`), so no cooperative thread waits with it.
    func runOnThreadPool(_ sql: String) async throws {
        try await NIOThreadPool.singleton.runIfActive { try self.run(sql, []) { _ in } }
    }

    /// Runs one statement with `binds`, calling `onRow` with each row it returns.
    func run(_ sql: String, _ binds: [SQLiteData], _ onRow: (SQLiteFileRow) throws -> Void) throws {
        lock.lock()
        defer { lock.unlock() }
        guard let handle else { throw SQLiteFileError(code: SQLITE_MISUSE, message: "the database is closed") }
        let statement = try compiled(sql, on: handle)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        let parameters = Int(sqlite3_bind_parameter_count(statement))
        guard parameters == binds.count else {
            throw SQLiteFileError(
                code: SQLITE_RANGE, message: "the statement has \(parameters) parameters, \(binds.count) values given")
        }
        for (offset, value) in binds.enumerated() {
            let status = Self.bind(value, at: Int32(offset + 1), to: statement)
            guard status == SQLITE_OK else { throw Self.error(status, handle) }
        }
        var columns: SQLiteFileColumns?
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { return }
            guard status == SQLITE_ROW else { throw Self.error(status, handle) }
            let names = columns ?? SQLiteFileColumns(statement)
            columns = names
            var values: [SQLiteData] = []
            values.reserveCapacity(names.names.count)
            for i in 0..<Int32(names.names.count) { values.append(Self.value(statement, i)) }
            try onRow(SQLiteFileRow(columns: names, values: values))
        }
    }

    /// The compiled statement for `sql`, from the cache or compiled now.
    private func compiled(_ sql: String, on handle: OpaquePointer) throws -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        var statement: OpaquePointer?
        var trailing = false
        let status = sql.withCString { text in
            var tail: UnsafePointer<CChar>?
            let status = sqlite3_prepare_v3(handle, text, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, &tail)
            if let tail {
                var p = tail
                while p.pointee != 0 {
                    if !(p.pointee == 59 || p.pointee == 32 || (p.pointee >= 9 && p.pointee <= 13)) {  // ; space \t-\r
                        trailing = true
                        break
                    }
                    p += 1
                }
            }
            return status
        }
        guard status == SQLITE_OK else { throw Self.error(status, handle) }
        guard let statement else { throw SQLiteFileError(code: SQLITE_MISUSE, message: "the SQL holds no statement") }
        guard !trailing else {
            sqlite3_finalize(statement)
            throw SQLiteFileError(code: SQLITE_MISUSE, message: "one statement at a time: the SQL holds more")
        }
        if statements.count >= Self.cachedStatements {
            for old in statements.values { sqlite3_finalize(old) }
            statements.removeAll(keepingCapacity: true)
        }
        statements[sql] = statement
        return statement
    }

    private static func bind(_ value: SQLiteData, at index: Int32, to statement: OpaquePointer) -> Int32 {
        switch value {
        case .integer(let v):
            return sqlite3_bind_int64(statement, index, Int64(v))
        case .float(let v):
            return sqlite3_bind_double(statement, index, v)
        case .text(let v):
            // Never a NULL pointer: that would bind NULL, not the empty string.
            return v.utf8CString.withUnsafeBufferPointer { text in
                kura_sqlite3_bind_text(statement, index, text.baseAddress, Int32(text.count - 1))
            }
        case .blob(let v):
            return v.withUnsafeReadableBytes { bytes in
                guard let base = bytes.baseAddress, bytes.count > 0 else {
                    return sqlite3_bind_zeroblob(statement, index, 0)
                }
                return kura_sqlite3_bind_blob(statement, index, base, Int32(bytes.count))
            }
        case .null:
            return sqlite3_bind_null(statement, index)
        }
    }

    private static func value(_ statement: OpaquePointer, _ i: Int32) -> SQLiteData {
        switch sqlite3_column_type(statement, i) {
        case SQLITE_INTEGER:
            return .integer(Int(sqlite3_column_int64(statement, i)))
        case SQLITE_FLOAT:
            return .float(sqlite3_column_double(statement, i))
        case SQLITE_TEXT:
            guard let text = sqlite3_column_text(statement, i) else { return .text("") }
            let count = Int(sqlite3_column_bytes(statement, i))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let bytes = sqlite3_column_blob(statement, i)
            let count = Int(sqlite3_column_bytes(statement, i))
            guard let bytes, count > 0 else { return .blob(ByteBuffer()) }
            return .blob(ByteBuffer(bytes: UnsafeRawBufferPointer(start: bytes, count: count)))
        default:
            return .null
        }
    }

    private static func error(_ status: Int32, _ handle: OpaquePointer) -> SQLiteFileError {
        SQLiteFileError(code: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)))
    }
}

/// The column names of one statement's result, and where each is.
final class SQLiteFileColumns: Sendable {
    let names: [String]
    let positions: [String: Int]

    init(_ statement: OpaquePointer) {
        let names = (0..<sqlite3_column_count(statement)).map { i in
            sqlite3_column_name(statement, i).map { String(cString: $0) } ?? ""
        }
        self.names = names
        // The first column of a name wins, as SQLite's own lookups do.
        self.positions = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    }
}

/// One row of an ``SQLiteFile`` statement, decoded as SQLiteKit decodes its rows.
struct SQLiteFileRow: SQLRow {
    let columns: SQLiteFileColumns
    let values: [SQLiteData]

    var allColumns: [String] { columns.names }

    func contains(column: String) -> Bool { columns.positions[column] != nil }

    func decodeNil(column: String) throws -> Bool {
        guard let i = columns.positions[column] else { return true }
        return values[i] == .null
    }

    func decode<D: Decodable>(column: String, as type: D.Type) throws -> D {
        guard let i = columns.positions[column] else {
            throw DecodingError.valueNotFound(
                D.self, .init(codingPath: [], debugDescription: "the row has no column '\(column)'"))
        }
        return try Self.decoder.decode(D.self, from: values[i])
    }

    /// One decoder for every row (each new one would make its own JSON decoder).
    private static let decoder = SQLiteDataDecoder()
}

/// SQLKit's view of an ``SQLiteFile``: statements serialised in SQLite's dialect, binds encoded as SQLiteKit
/// encodes them, run on the calling thread.
struct SQLiteFileDatabase: SQLDatabase {
    let file: SQLiteFile
    let logger: Logger
    let eventLoop: any EventLoop

    var dialect: any SQLDialect { SQLiteDialect() }
    var version: (any SQLDatabaseReportedVersion)? { nil }
    // The adapter's binds include token hashes and documents: statements are not logged.
    var queryLogLevel: Logger.Level? { nil }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void)
        -> EventLoopFuture<Void>
    {
        eventLoop.makeCompletedFuture { try run(query, onRow) }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        try run(query, onRow)
    }

    private func run(_ query: any SQLExpression, _ onRow: (any SQLRow) -> Void) throws {
        let (sql, binds) = serialize(query)
        let values = try binds.map { try Self.encoder.encode($0) }
        try file.run(sql, values) { onRow($0) }
    }

    /// One encoder for every statement (each new one would make its own JSON encoder).
    private static let encoder = SQLiteDataEncoder()
}
