import CoordinatorCore
import CoordinatorStorage
import Foundation
import Governance
import Logging
import PostgresKit
import SQLKit

/// A storage back end the conformance suite runs against.
enum Backend: String, Sendable, CustomStringConvertible {
    case sqlite, postgresql

    var description: String { rawValue }

    /// The PostgreSQL server to use, from `KURA_TEST_POSTGRES_URL` (scripts/pg-test-server.sh start prints one).
    static var postgresURL: String? {
        guard let url = ProcessInfo.processInfo.environment["KURA_TEST_POSTGRES_URL"], !url.isEmpty else { return nil }
        return url
    }

    /// Whether a missing PostgreSQL server is a failure (`KURA_REQUIRE_POSTGRES=1`, set by `make test`).
    static var postgresRequired: Bool { ProcessInfo.processInfo.environment["KURA_REQUIRE_POSTGRES"] == "1" }

    /// SQLite always; PostgreSQL when a server is configured.
    static var available: [Backend] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgresql] }
}

/// Raw SQL straight on a test database, behind the store's back: what someone who controls the database can do.
struct RawDatabase: Sendable {
    enum Location: Sendable {
        case sqlite(path: String)
        case postgres(url: String)
    }

    let location: Location

    /// Executes one statement on a connection of its own.
    func execute(_ sql: String) async throws {
        switch location {
        case .sqlite(let path):
            // The store's own SQLite library: two copies of SQLite in one process must not share a file (their
            // POSIX locks would release each other's).
            let file = try SQLiteFile.open(path: path)
            defer { file.close() }
            try await file.sql().raw("\(unsafeRaw: sql)").run()
        case .postgres(let url):
            let source = PostgresConnectionSource(sqlConfiguration: try SQLPostgresConfiguration(url: url))
            let connection = try await source.makeConnection(
                logger: Logger(label: "kura.test"), on: PostgresConnection.defaultEventLoopGroup.any()
            ).get()
            do {
                try await connection.sql().raw("\(unsafeRaw: sql)").run()
            } catch {
                try? await connection.close().get()
                throw error
            }
            try await connection.close().get()
        }
    }
}

/// Removes the files an SQLite store at `path` makes — the database, its WAL and shared memory, and its lock
/// (ADR 0018) — skipping those missing.
func removeSQLiteFiles(at path: String) {
    for suffix in ["", "-wal", "-shm", ".lock"] { try? FileManager.default.removeItem(atPath: path + suffix) }
}

/// Opens a fresh, migrated store on `backend` (a new SQLite file, or a new PostgreSQL database), runs `body`,
/// then closes it and removes the SQLite file.
func withFreshStore(
    _ backend: Backend, migrate: Bool = true, _ body: (SQLCoordinatorStore) async throws -> Void
) async throws {
    try await withFreshStore(backend, migrate: migrate) { store, _ in try await body(store) }
}

/// ``withFreshStore(_:migrate:_:)`` that also hands `body` raw access to the same database.
func withFreshStore(
    _ backend: Backend, migrate: Bool = true, _ body: (SQLCoordinatorStore, RawDatabase) async throws -> Void
) async throws {
    let store: SQLCoordinatorStore
    let raw: RawDatabase
    var sqlitePath: String?
    switch backend {
    case .sqlite:
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kura-store-\(UUID().uuidString).db")
        sqlitePath = file.path
        store = try await SQLCoordinatorStore.openSQLite(path: file.path)
        raw = RawDatabase(location: .sqlite(path: file.path))
    case .postgresql:
        guard let base = Backend.postgresURL else { throw StorageError(.backend, "KURA_TEST_POSTGRES_URL is not set") }
        let url = try await createDatabase(on: base)
        store = try SQLCoordinatorStore.connectPostgres(url: url)
        raw = RawDatabase(location: .postgres(url: url))
    }
    do {
        if migrate { try await store.migrate() }
        try await body(store, raw)
    } catch {
        await store.close()
        if let sqlitePath { removeSQLiteFiles(at: sqlitePath) }
        throw error
    }
    await store.close()
    if let sqlitePath { removeSQLiteFiles(at: sqlitePath) }
}

/// Creates an empty database on the server of `baseURL` and returns the URL of the new database.
func createDatabase(on baseURL: String) async throws -> String {
    let name = "kura_t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    let source = PostgresConnectionSource(sqlConfiguration: try SQLPostgresConfiguration(url: baseURL))
    let connection = try await source.makeConnection(
        logger: Logger(label: "kura.test"), on: PostgresConnection.defaultEventLoopGroup.any()
    ).get()
    do {
        try await connection.sql().raw("CREATE DATABASE \(unsafeRaw: name)").run()
    } catch {
        try? await connection.close().get()
        throw error
    }
    try await connection.close().get()
    let parts = baseURL.split(separator: "?", maxSplits: 1)
    guard let slash = parts[0].lastIndex(of: "/") else { throw StorageError(.backend, "no database in the URL") }
    let query = parts.count > 1 ? "?" + parts[1] : ""
    return String(parts[0][...slash]) + name + query
}

/// Documents and records of a small test organisation: alice initiates, bob and carol approve.
struct Fixture {
    let org: OrganizationID
    let now: Timestamp

    init(_ org: String = "acme", now: Int64 = 1_790_000_000) throws {
        self.org = try OrganizationID(org)
        self.now = try Timestamp(seconds: now)
    }

    static func hash(_ seed: UInt8) throws -> DocumentHash {
        try DocumentHash(bytes: (0..<32).map { UInt8(truncatingIfNeeded: Int($0) &* 7 &+ Int(seed)) })
    }

    func organization() throws -> OrganizationRecord {
        OrganizationRecord(id: org, name: "Acme \(org)", genesisHash: try Self.hash(1), createdAt: now)
    }

    func policy(_ version: Int64) throws -> PolicyVersionRecord {
        PolicyVersionRecord(
            organization: org, version: version, hash: try Self.hash(UInt8(version + 1)),
            previousHash: version == 0 ? nil : try Self.hash(UInt8(version)),
            document: Array("{\"policy\":\(version)}".utf8), storedAt: now)
    }

    func members(_ version: Int64) throws -> [MemberRecord] {
        try [("alice", ["initiator"]), ("bob", ["approver"]), ("carol", ["admin", "approver"])].map {
            MemberRecord(
                organization: org, policyVersion: version, member: try MemberID($0.0), name: $0.0.capitalized,
                roles: $0.1)
        }
    }

    func credentials(_ version: Int64) throws -> [CredentialRecord] {
        try ["alice", "bob", "carol"].map {
            CredentialRecord(
                organization: org, policyVersion: version, member: try MemberID($0),
                credential: try CredentialID("\($0)-key"),
                kind: "ed25519", publicKey: Array(repeating: UInt8($0.utf8.count), count: 32))
        }
    }

    /// Creates the organisation with its genesis policy (version 0).
    func bootstrap(_ store: some CoordinatorStore) async throws {
        try await store.createOrganization(organization())
        try await store.appendPolicyVersion(policy(0), members: members(0), credentials: credentials(0))
    }

    func intent(
        _ id: String, digestSeed: UInt8 = 40, createdOffset: Int64 = 0,
        state: IntentLifecycle.State = .awaitingApprovals,
        initiator: String = "alice", policyVersion: Int64 = 0
    ) throws -> IntentRecord {
        IntentRecord(
            organization: org, id: try IntentID(id), digest: try Self.hash(digestSeed), policyVersion: policyVersion,
            initiator: try MemberID(initiator), wallet: try WalletID("treasury"), asset: try AssetID("btc"),
            destination: "bc1qexampledestination", amount: BaseUnits(UInt64(150_000_000)), state: state,
            document: Array("{\"intent\":\"\(id)\"}".utf8), createdAt: now.adding(seconds: createdOffset),
            expiresAt: now.adding(seconds: createdOffset + 3600))
    }

    func approval(_ intent: String, by approver: String) throws -> ApprovalRecord {
        ApprovalRecord(
            organization: org, intent: try IntentID(intent), approver: try MemberID(approver),
            credential: try CredentialID("\(approver)-key"), document: Array("{\"approve\":\"\(intent)\"}".utf8),
            storedAt: now)
    }
}
