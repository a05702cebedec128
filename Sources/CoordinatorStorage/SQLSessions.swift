import CoordinatorCore
import Logging
import PostgresKit
import SQLiteKit
import Synchronization

/// How an adapter hands out database sessions: reads, and writes inside one transaction.
protocol SQLSessions: Sendable {
    /// The SQL spelling of the back end.
    var flavor: SQLFlavor { get }
    /// Runs `body` on one session without opening a transaction.
    func read<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R
    /// Runs `body` inside one transaction on one session: committed if it returns, rolled back if it throws.
    func write<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R
    /// Runs `body`, which sends exactly one writing statement, as its own transaction (PostgreSQL: autocommit, no
    /// `BEGIN`/`COMMIT` round trips; SQLite: as ``write(_:)``). Only for units whose one statement is all of them.
    func writeOneStatement<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws
        -> R
    /// Closes every connection.
    func close() async
}

extension SQLSessions {
    /// Runs `body` between `begin` and `COMMIT` on `db`, rolling back when it throws.
    func transaction<R: Sendable>(
        on db: any SQLDatabase, begin: SQLQueryString,
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> R
    ) async throws -> R {
        try await db.raw(begin).run()
        do {
            let result = try await body(db)
            try await db.raw("COMMIT").run()
            return result
        } catch {
            try? await db.raw("ROLLBACK").run()
            throw error
        }
    }
}

/// SQLite on one file in WAL mode with foreign keys on: one writer connection (units of work group-committed,
/// see ``GroupCommitter``) and a few reader connections, so reads neither wait for a write's commit
/// (`synchronous = FULL`: every commit is on disk before it returns) nor for each other. A reader sees what was
/// committed before its statement started (WAL snapshot). Connections are ``SQLiteFile``s (ADR 0016): each runs
/// one statement at a time under its own lock, so reads take turns per statement, not per read.
final class SQLiteSessions: SQLSessions {
    let flavor = SQLFlavor.sqlite
    private let writer: SQLiteFile
    private let readers: [SQLiteFileDatabase]
    private let next = Atomic<Int>(0)

    /// Reader connections opened beside the writer.
    static let readerCount = 4

    private let committer: GroupCommitter
    /// This store's hold on the file (``DataFileLock``), released by ``close()``.
    private let lock: DataFileLock

    private init(writer: SQLiteFileDatabase, readers: [SQLiteFileDatabase], lock: DataFileLock) {
        self.lock = lock
        self.writer = writer.file
        self.readers = readers
        let file = writer.file
        self.committer = GroupCommitter(db: writer, commit: { try await file.runOnThreadPool("COMMIT") })
    }

    /// Opens the file at `path` for this process alone (``DataFileLock``: `.inUse` while another store has it).
    static func open(path: String, logger: Logger) async throws -> SQLiteSessions {
        let lock = try DataFileLock.acquire(for: path)
        var opened: [SQLiteFileDatabase] = []
        do {
            for i in 0...readerCount {
                let db = try SQLiteFile.open(path: path).database(logger: logger)
                opened.append(db)
                if i == 0 { _ = try await db.raw("PRAGMA journal_mode = WAL").all() }
                try await db.raw("PRAGMA foreign_keys = ON").run()
                try await db.raw("PRAGMA synchronous = FULL").run()
                try await db.raw("PRAGMA busy_timeout = 5000").run()
            }
        } catch {
            for db in opened { db.file.close() }
            lock.release()
            throw error
        }
        return SQLiteSessions(writer: opened[0], readers: Array(opened.dropFirst()), lock: lock)
    }

    func read<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await body(readers[next.add(1, ordering: .relaxed).oldValue % readers.count])
    }

    func writeOneStatement<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws
        -> R
    {
        try await write(body)
    }

    func write<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        let value = try await committer.submit { db in try await body(db) as any Sendable }
        guard let result = value as? R else { throw GroupCommitter.Mismatch() }
        return result
    }

    func close() async {
        await committer.drain()
        // A read still running finishes its statement first (the connection's lock); later ones are refused.
        for r in readers { r.file.close() }
        writer.close()
        lock.release()
    }
}

/// A pool of PostgreSQL connections (PostgresNIO's `PostgresClient`, ADR 0017); each write is one transaction on one
/// leased connection.
final class PostgresSessions: SQLSessions {
    let flavor = SQLFlavor.postgres
    private let client: PostgresClient
    /// Runs the pool (`PostgresClient.run()`) until ``close()``.
    private let running: Task<Void, Never>
    private let logger: Logger

    /// How long a request waits for a connection before it fails: `PostgresClient` keeps retrying a server it cannot
    /// reach and queues requests while every connection is busy, without a deadline of its own.
    private let leaseTimeout: Duration

    init(client: PostgresClient, leaseTimeout: Duration, logger: Logger) {
        self.client = client
        self.leaseTimeout = leaseTimeout
        self.logger = logger
        self.running = Task { await client.run() }
    }

    /// Whether a session's connection was leased (the lease deadline applies until then, never to the body).
    private final class Leased: Sendable {
        let value = Atomic<Bool>(false)
    }

    /// Runs `body` on a leased connection, or fails with `.backend` if none is leased within `leaseTimeout`.
    private func withSession<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R)
        async throws -> R
    {
        let leased = Leased()
        let deadline = leaseTimeout
        return try await withThrowingTaskGroup(of: R?.self) { group in
            group.addTask {
                try await self.client.withConnection { connection in
                    leased.value.store(true, ordering: .relaxed)
                    return try await body(connection.sql(logger: self.logger))
                }
            }
            group.addTask {
                try await Task.sleep(for: deadline)
                guard leased.value.load(ordering: .relaxed) else {
                    throw StorageError(
                        .backend,
                        "no PostgreSQL connection within \(deadline): the server is unreachable or every "
                            + "connection is busy")
                }
                return nil
            }
            while let next = try await group.next() {
                guard let value = next else { continue }  // the deadline passed after the lease: wait for the body
                group.cancelAll()  // the deadline's sleep
                return value
            }
            throw StorageError(.backend, "the PostgreSQL session ended without a result")
        }
    }

    func read<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await withSession(body)
    }

    func write<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await withSession { db in try await self.transaction(on: db, begin: "BEGIN", body) }
    }

    func writeOneStatement<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws
        -> R
    {
        try await withSession(body)
    }

    func close() async {
        running.cancel()
        await running.value
    }
}

/// Group commit for SQLite's single writer. Units of work that arrive while a commit is on its way to disk are
/// run together in the next transaction, each inside its own `SAVEPOINT`: a unit that fails is rolled back to
/// its savepoint alone and its caller gets its error; the others commit together, with one `fsync` for all of
/// them (`synchronous = FULL`). No caller is answered before the transaction holding its unit has committed, so
/// the outcome each caller sees is durable — the same as one transaction per unit, in the order they ran.
final class GroupCommitter: Sendable {
    struct Mismatch: Error {}

    private struct Job: Sendable {
        let body: @Sendable (any SQLDatabase) async throws -> any Sendable
        let continuation: CheckedContinuation<any Sendable, any Error>
    }

    private struct State {
        var pending: [Job] = []
        var leading = false
    }

    private let db: any SQLDatabase
    /// Commits the open transaction: with `synchronous = FULL` it waits for the disk, so it runs off the cooperative
    /// threads (every other statement of a batch runs on the calling thread, ADR 0016).
    private let commit: @Sendable () async throws -> Void
    private let state = Mutex(State())
    /// The most units run in one transaction.
    static let maxBatch = 256

    init(db: any SQLDatabase, commit: @escaping @Sendable () async throws -> Void) {
        self.db = db
        self.commit = commit
    }

    func submit(_ body: @escaping @Sendable (any SQLDatabase) async throws -> any Sendable) async throws
        -> any Sendable
    {
        try await withCheckedThrowingContinuation { continuation in
            let lead = state.withLock { s -> Bool in
                s.pending.append(Job(body: body, continuation: continuation))
                if s.leading { return false }
                s.leading = true
                return true
            }
            if lead { Task { await self.lead() } }
        }
    }

    /// Waits until no batch is running or pending.
    func drain() async {
        while state.withLock({ $0.leading || !$0.pending.isEmpty }) {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Runs batches until the queue is empty.
    private func lead() async {
        while true {
            let batch = state.withLock { s -> [Job] in
                let taken = Array(s.pending.prefix(Self.maxBatch))
                s.pending.removeFirst(taken.count)
                if taken.isEmpty { s.leading = false }
                return taken
            }
            if batch.isEmpty { return }
            await run(batch)
        }
    }

    private func run(_ batch: [Job]) async {
        var outcomes: [Result<any Sendable, any Error>] = []
        do {
            try await db.raw("BEGIN IMMEDIATE").run()
        } catch {
            for job in batch { job.continuation.resume(throwing: error) }
            return
        }
        for job in batch {
            do {
                try await db.raw("SAVEPOINT kura_unit").run()
            } catch {
                outcomes.append(.failure(error))
                continue
            }
            do {
                let value = try await job.body(db)
                try await db.raw("RELEASE kura_unit").run()
                outcomes.append(.success(value))
            } catch {
                try? await db.raw("ROLLBACK TO kura_unit").run()
                try? await db.raw("RELEASE kura_unit").run()
                outcomes.append(.failure(error))
            }
        }
        do {
            try await commit()
        } catch {
            try? await db.raw("ROLLBACK").run()
            for job in batch { job.continuation.resume(throwing: error) }
            return
        }
        for (job, outcome) in zip(batch, outcomes) { job.continuation.resume(with: outcome) }
    }
}
