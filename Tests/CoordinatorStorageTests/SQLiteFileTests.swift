import CoordinatorStorage
import Foundation
import SQLKit
import Testing

/// The SQLite connection under the SQLite adapter (ADR 0016): values exactly as bound, strict statements, errors
/// with SQLite's own message, and compiled statements that stay correct when reused and when the cache turns over.
@Suite("SQLite connection (SQLiteFile)")
struct SQLiteFileTests {
    /// A fresh database file, removed afterwards.
    func withFile(_ body: (SQLiteFile, any SQLDatabase) async throws -> Void) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kura-sqlitefile-\(UUID()).sqlite")
            .path
        let file = try SQLiteFile.open(path: path)
        defer {
            file.close()
            for suffix in ["", "-wal", "-shm", "-journal"] {
                try? FileManager.default.removeItem(atPath: path + suffix)
            }
        }
        try await body(file, file.sql())
    }

    func expectError(
        containing text: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
    ) async {
        do {
            try await body()
            Issue.record("expected an error containing '\(text)', nothing was thrown", sourceLocation: sourceLocation)
        } catch {
            #expect(String(describing: error).contains(text), "\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test(
        "values come back as they were bound: empty text is not NULL, nor an empty blob; 64-bit integers, NUL and non-ASCII in text"
    )
    func valuesRoundTrip() async throws {
        try await withFile { _, db in
            try await db.raw("CREATE TABLE t (k INTEGER PRIMARY KEY, s TEXT, b BLOB, i INTEGER, n TEXT) STRICT").run()
            let texts = ["", "a\u{0}b", "鍵 kura", String(repeating: "x", count: 70_000)]
            for (k, text) in texts.enumerated() {
                let blob = Data(text.utf8)
                try await db.raw(
                    """
                    INSERT INTO t (k, s, b, i, n) VALUES (\(bind: k), \(bind: text), \(bind: blob), \(bind: Int64.max - Int64(k)),
                    \(bind: String?.none))
                    """
                ).run()
            }
            let rows = try await db.raw("SELECT k, s, b, i, n, typeof(s) AS ts, typeof(b) AS tb FROM t ORDER BY k")
                .all()
            #expect(rows.count == texts.count)
            for (k, row) in rows.enumerated() {
                #expect(try row.decode(column: "s", as: String.self) == texts[k])
                #expect(try row.decode(column: "b", as: Data.self) == Data(texts[k].utf8))
                #expect(try row.decode(column: "i", as: Int64.self) == Int64.max - Int64(k))
                #expect(try row.decodeNil(column: "n"))
                #expect(try !row.decodeNil(column: "s") && !row.decodeNil(column: "b"))
                #expect(try row.decode(column: "ts", as: String.self) == "text")
                #expect(try row.decode(column: "tb", as: String.self) == "blob")
            }
            #expect(
                try await db.raw("SELECT count(*) AS c FROM t WHERE s IS NULL OR b IS NULL").first()?.decode(
                    column: "c", as: Int.self) == 0)
        }
    }

    @Test("one statement per call: trailing SQL is refused, a trailing semicolon is not")
    func oneStatementPerCall() async throws {
        try await withFile { _, db in
            try await db.raw("CREATE TABLE t (x INTEGER) STRICT").run()
            await expectError(containing: "one statement at a time") {
                try await db.raw("INSERT INTO t VALUES (1); DROP TABLE t").run()
            }
            // Nothing of the refused SQL ran, not even its first statement.
            #expect(try await db.raw("SELECT count(*) AS c FROM t").first()?.decode(column: "c", as: Int.self) == 0)
            try await db.raw("INSERT INTO t VALUES (1) ; \n").run()
            #expect(try await db.raw("SELECT count(*) AS c FROM t").first()?.decode(column: "c", as: Int.self) == 1)
        }
    }

    @Test("as many values as parameters; SQL errors carry SQLite's message; a closed connection refuses")
    func refusals() async throws {
        try await withFile { file, db in
            await expectError(containing: "1 parameters, 0 values") { try await db.raw("SELECT ? AS v").run() }
            #expect(try await db.raw("SELECT \(bind: 7) AS v").first()?.decode(column: "v", as: Int.self) == 7)
            await expectError(containing: "no such table: missing") { try await db.raw("SELECT * FROM missing").run() }
            try await db.raw("CREATE TABLE u (x INTEGER PRIMARY KEY, y INTEGER) STRICT").run()
            try await db.raw("INSERT INTO u VALUES (1, 1)").run()
            await expectError(containing: "UNIQUE constraint failed") {
                try await db.raw("INSERT INTO u VALUES (1, 1)").run()
            }
            await expectError(containing: "cannot store TEXT value in INTEGER column") {
                try await db.raw("INSERT INTO u VALUES (2, \(bind: "one"))").run()
            }
            file.close()
            await expectError(containing: "closed") { try await db.raw("SELECT 1 AS v").run() }
        }
    }

    @Test("compiled statements are reused with new values, also after the cache has turned over")
    func statementCache() async throws {
        try await withFile { _, db in
            try await db.raw("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL) STRICT").run()
            for k in 0..<5 { try await db.raw("INSERT INTO t VALUES (\(bind: k), \(bind: "v\(k)"))").run() }
            // More distinct statements than the cache holds.
            for n in 0..<(SQLiteFile.cachedStatements + 20) {
                let row = try await db.raw("SELECT \(unsafeRaw: String(n)) + k AS s FROM t WHERE k = \(bind: 1)")
                    .first()
                #expect(try row?.decode(column: "s", as: Int.self) == n + 1)
            }
            for k in [4, 0, 3] {
                let row = try await db.raw("SELECT v FROM t WHERE k = \(bind: k)").first()
                #expect(try row?.decode(column: "v", as: String.self) == "v\(k)")
            }
            // A statement stopped after its first row starts again from the beginning next time.
            #expect(try await db.raw("SELECT k FROM t ORDER BY k").first()?.decode(column: "k", as: Int.self) == 0)
            #expect(try await db.raw("SELECT k FROM t ORDER BY k").all().count == 5)
        }
    }
}
