public import CoordinatorCore
import Foundation
public import Governance
public import Logging
import PostgresKit
import SQLiteKit

/// The coordinator's store over SQL: one implementation of every port, two adapters underneath
/// (``openSQLite(path:logger:)`` and ``connectPostgres(url:maxConnectionsPerEventLoop:logger:)``), see ADR 0010.
///
/// Every statement names the organisation id in its `WHERE` clause or its inserted row, and the schema's
/// foreign keys include the organisation id, so a row can never point into another organisation.
public final class SQLCoordinatorStore: CoordinatorStore {
    private let sessions: any SQLSessions

    /// The back end's name: `sqlite` or `postgresql`.
    public let backend: String

    private init(sessions: any SQLSessions) {
        self.sessions = sessions
        self.backend = sessions.flavor == .sqlite ? "sqlite" : "postgresql"
    }

    /// Opens (creating if needed) an SQLite database file. Call ``migrate()`` before use.
    public static func openSQLite(
        path: String, logger: Logger = Logger(label: "kura.storage.sqlite")
    ) async throws(StorageError) -> SQLCoordinatorStore {
        do {
            return SQLCoordinatorStore(sessions: try await SQLiteSessions.open(path: path, logger: logger))
        } catch {
            throw StorageErrorMapping.map(error)
        }
    }

    /// Connects to PostgreSQL given a URL `postgres://user[:password]@host:port/database[?sslmode=disable]`.
    /// Connections are opened lazily, up to `maxConnectionsPerEventLoop` per event loop. Call ``migrate()``
    /// before use.
    public static func connectPostgres(
        url: String, maxConnectionsPerEventLoop: Int = 4, logger: Logger = Logger(label: "kura.storage.postgres")
    ) throws(StorageError) -> SQLCoordinatorStore {
        let configuration: SQLPostgresConfiguration
        do {
            configuration = try SQLPostgresConfiguration(url: url)
        } catch {
            throw StorageError(.backend, "the PostgreSQL URL is not valid")
        }
        return SQLCoordinatorStore(
            sessions: PostgresSessions(
                configuration: configuration, maxConnectionsPerEventLoop: maxConnectionsPerEventLoop, logger: logger))
    }

    public func close() async { await sessions.close() }

    private func read<R: Sendable>(
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> R
    ) async throws(StorageError) -> R {
        do { return try await sessions.read(body) } catch { throw StorageErrorMapping.map(error) }
    }

    private func write<R: Sendable>(
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> R
    ) async throws(StorageError) -> R {
        do { return try await sessions.write(body) } catch { throw StorageErrorMapping.map(error) }
    }

    /// Locks the organisation's row until the transaction ends (PostgreSQL; SQLite has one writer anyway), so
    /// appends to its policy chain and audit log are serialised. `.missingReference` if it does not exist.
    private static func lockOrganization(
        _ db: any SQLDatabase, _ organization: OrganizationID, flavor: SQLFlavor
    ) async throws {
        let query: SQLQueryString =
            flavor == .postgres
            ? "SELECT id FROM organizations WHERE id = \(bind: organization.value) FOR UPDATE"
            : "SELECT id FROM organizations WHERE id = \(bind: organization.value)"
        guard try await db.raw(query).first() != nil else {
            throw StorageError(.missingReference, "no organisation '\(organization)'")
        }
    }

    // MARK: Migrations

    public func migrate() async throws(StorageError) {
        let flavor = sessions.flavor
        try await write { db in
            if flavor == .postgres {
                // Two replicas starting at once take turns (the lock ends with the transaction).
                _ = try await db.raw("SELECT pg_advisory_xact_lock(7105017)").all()
            }
            try await db.raw(
                SQLQueryString(
                    flavor.render(
                        """
                        CREATE TABLE IF NOT EXISTS kura_migrations (
                            position {int} NOT NULL PRIMARY KEY,
                            name TEXT NOT NULL UNIQUE
                        ){strict}
                        """))
            ).run()
            let applied = try await Self.appliedMigrations(db)
            let known = Migration.all.map(\.name)
            guard applied.count <= known.count, Array(known.prefix(applied.count)) == applied else {
                throw StorageError(
                    .schemaMismatch,
                    "the database has migrations \(applied) that are not a prefix of this build's \(known)")
            }
            for (position, migration) in Migration.all.enumerated().dropFirst(applied.count) {
                for statement in migration.statements {
                    try await db.raw(SQLQueryString(flavor.render(statement))).run()
                }
                try await db.raw(
                    "INSERT INTO kura_migrations (position, name) VALUES (\(bind: position + 1), \(bind: migration.name))"
                ).run()
            }
        }
    }

    public func appliedMigrations() async throws(StorageError) -> [String] {
        try await read { db in try await Self.appliedMigrations(db) }
    }

    private static func appliedMigrations(_ db: any SQLDatabase) async throws -> [String] {
        try await db.raw("SELECT name FROM kura_migrations ORDER BY position").all().map {
            try $0.decode(column: "name", as: String.self)
        }
    }

    // MARK: Organisations

    public func createOrganization(_ organization: OrganizationRecord) async throws(StorageError) {
        try await write { db in
            try await db.raw(
                """
                INSERT INTO organizations (id, name, genesis_hash, created_at)
                VALUES (\(bind: organization.id.value), \(bind: organization.name),
                        \(bind: Data(organization.genesisHash.bytes)), \(bind: organization.createdAt.seconds))
                """
            ).run()
        }
    }

    public func organization(_ id: OrganizationID) async throws(StorageError) -> OrganizationRecord? {
        try await read { db in
            guard
                let row = try await db.raw(
                    "SELECT id, name, genesis_hash, created_at FROM organizations WHERE id = \(bind: id.value)"
                ).first()
            else { return nil }
            return OrganizationRecord(
                id: try OrganizationID(row.decode(column: "id", as: String.self)),
                name: try row.decode(column: "name", as: String.self),
                genesisHash: try row.hash("genesis_hash"), createdAt: try row.timestamp("created_at"))
        }
    }

    // MARK: Policies

    public func appendPolicyVersion(
        _ policy: PolicyVersionRecord, members: [MemberRecord], credentials: [CredentialRecord]
    ) async throws(StorageError) {
        let org = policy.organization
        guard members.allSatisfy({ $0.organization == org && $0.policyVersion == policy.version }),
            credentials.allSatisfy({ $0.organization == org && $0.policyVersion == policy.version })
        else {
            throw StorageError(
                .invalidValue, "members and credentials must belong to the policy version they come with")
        }
        let flavor = sessions.flavor
        try await write { db in
            try await Self.lockOrganization(db, org, flavor: flavor)
            let head = try await db.raw(
                """
                SELECT version, hash FROM policy_versions WHERE org_id = \(bind: org.value)
                ORDER BY version DESC LIMIT 1
                """
            ).first()
            if let head {
                let headVersion = try head.decode(column: "version", as: Int64.self)
                let headHash = try head.hash("hash")
                guard policy.version == headVersion + 1, policy.previousHash == headHash else {
                    throw StorageError(
                        .conflict,
                        "policy version \(policy.version) does not follow the current version \(headVersion)")
                }
            } else {
                guard policy.previousHash == nil else {
                    throw StorageError(.conflict, "the first policy version must not name a previous one")
                }
            }
            try await db.raw(
                """
                INSERT INTO policy_versions (org_id, version, hash, previous_hash, document, stored_at)
                VALUES (\(bind: org.value), \(bind: policy.version), \(bind: Data(policy.hash.bytes)),
                        \(bind: policy.previousHash.map { Data($0.bytes) }), \(bind: Data(policy.document)),
                        \(bind: policy.storedAt.seconds))
                """
            ).run()
            for member in members {
                try await db.raw(
                    """
                    INSERT INTO members (org_id, policy_version, member_id, name, roles)
                    VALUES (\(bind: org.value), \(bind: policy.version), \(bind: member.member.value),
                            \(bind: member.name), \(bind: member.roles.joined(separator: ",")))
                    """
                ).run()
            }
            for credential in credentials {
                try await db.raw(
                    """
                    INSERT INTO credentials (org_id, policy_version, credential_id, member_id, kind, public_key)
                    VALUES (\(bind: org.value), \(bind: policy.version), \(bind: credential.credential.value),
                            \(bind: credential.member.value), \(bind: credential.kind),
                            \(bind: Data(credential.publicKey)))
                    """
                ).run()
            }
        }
    }

    public func currentPolicy(_ organization: OrganizationID) async throws(StorageError) -> PolicyVersionRecord? {
        try await read { db in
            try await db.raw(
                """
                SELECT org_id, version, hash, previous_hash, document, stored_at FROM policy_versions
                WHERE org_id = \(bind: organization.value) ORDER BY version DESC LIMIT 1
                """
            ).first().map(Self.policy)
        }
    }

    public func policyVersions(_ organization: OrganizationID) async throws(StorageError) -> [PolicyVersionRecord] {
        try await read { db in
            try await db.raw(
                """
                SELECT org_id, version, hash, previous_hash, document, stored_at FROM policy_versions
                WHERE org_id = \(bind: organization.value) ORDER BY version
                """
            ).all().map(Self.policy)
        }
    }

    private static func policy(_ row: any SQLRow) throws -> PolicyVersionRecord {
        PolicyVersionRecord(
            organization: try row.organization(), version: try row.decode(column: "version", as: Int64.self),
            hash: try row.hash("hash"),
            previousHash: try row.decodeNil(column: "previous_hash") ? nil : row.hash("previous_hash"),
            document: try row.bytes("document"), storedAt: try row.timestamp("stored_at"))
    }

    public func members(_ organization: OrganizationID, policyVersion: Int64) async throws(StorageError)
        -> [MemberRecord]
    {
        try await read { db in
            try await db.raw(
                """
                SELECT org_id, policy_version, member_id, name, roles FROM members
                WHERE org_id = \(bind: organization.value) AND policy_version = \(bind: policyVersion)
                ORDER BY member_id
                """
            ).all().map { row in
                let roles = try row.decode(column: "roles", as: String.self)
                return MemberRecord(
                    organization: try row.organization(),
                    policyVersion: try row.decode(column: "policy_version", as: Int64.self),
                    member: try MemberID(row.decode(column: "member_id", as: String.self)),
                    name: try row.decode(column: "name", as: String.self),
                    roles: roles.isEmpty ? [] : roles.split(separator: ",").map(String.init))
            }
        }
    }

    public func credentials(_ organization: OrganizationID, policyVersion: Int64) async throws(StorageError)
        -> [CredentialRecord]
    {
        try await read { db in
            try await db.raw(
                """
                SELECT org_id, policy_version, credential_id, member_id, kind, public_key FROM credentials
                WHERE org_id = \(bind: organization.value) AND policy_version = \(bind: policyVersion)
                ORDER BY credential_id
                """
            ).all().map { row in
                CredentialRecord(
                    organization: try row.organization(),
                    policyVersion: try row.decode(column: "policy_version", as: Int64.self),
                    member: try MemberID(row.decode(column: "member_id", as: String.self)),
                    credential: try CredentialID(row.decode(column: "credential_id", as: String.self)),
                    kind: try row.decode(column: "kind", as: String.self), publicKey: try row.bytes("public_key"))
            }
        }
    }

    // MARK: Intents

    public func insertIntent(_ intent: IntentRecord) async throws(StorageError) {
        try await write { db in
            try await db.raw(
                """
                INSERT INTO intents (org_id, id, digest, policy_version, initiator, wallet, asset, destination,
                                     amount, state, document, created_at, expires_at)
                VALUES (\(bind: intent.organization.value), \(bind: intent.id.value), \(bind: Data(intent.digest.bytes)),
                        \(bind: intent.policyVersion), \(bind: intent.initiator.value), \(bind: intent.wallet.value),
                        \(bind: intent.asset.value), \(bind: intent.destination), \(bind: intent.amount.description),
                        \(bind: intent.state.rawValue), \(bind: Data(intent.document)),
                        \(bind: intent.createdAt.seconds), \(bind: intent.expiresAt.seconds))
                """
            ).run()
        }
    }

    private static let intentColumns: SQLQueryString = """
        org_id, id, digest, policy_version, initiator, wallet, asset, destination, amount, state, document, \
        created_at, expires_at
        """

    public func intent(_ organization: OrganizationID, id: IntentID) async throws(StorageError) -> IntentRecord? {
        try await read { db in
            try await db.raw(
                """
                SELECT \(Self.intentColumns) FROM intents
                WHERE org_id = \(bind: organization.value) AND id = \(bind: id.value)
                """
            ).first().map(Self.intent)
        }
    }

    public func intents(_ organization: OrganizationID, state: IntentLifecycle.State?, limit: Int)
        async throws(StorageError) -> [IntentRecord]
    {
        let limit = max(0, min(limit, 1000))
        return try await read { db in
            let query: SQLQueryString
            if let state {
                query = """
                    SELECT \(Self.intentColumns) FROM intents
                    WHERE org_id = \(bind: organization.value) AND state = \(bind: state.rawValue)
                    ORDER BY created_at DESC, id LIMIT \(bind: limit)
                    """
            } else {
                query = """
                    SELECT \(Self.intentColumns) FROM intents WHERE org_id = \(bind: organization.value)
                    ORDER BY created_at DESC, id LIMIT \(bind: limit)
                    """
            }
            return try await db.raw(query).all().map(Self.intent)
        }
    }

    public func transitionIntent(
        _ organization: OrganizationID, id: IntentID, from expected: IntentLifecycle.State,
        to new: IntentLifecycle.State
    ) async throws(StorageError) {
        try await write { db in
            let updated = try await db.raw(
                """
                UPDATE intents SET state = \(bind: new.rawValue)
                WHERE org_id = \(bind: organization.value) AND id = \(bind: id.value)
                  AND state = \(bind: expected.rawValue)
                RETURNING id
                """
            ).all()
            guard updated.isEmpty else { return }
            let exists = try await db.raw(
                "SELECT id FROM intents WHERE org_id = \(bind: organization.value) AND id = \(bind: id.value)"
            ).first()
            guard exists != nil else { throw StorageError(.missingReference, "no intent '\(id)'") }
            throw StorageError(.conflict, "intent '\(id)' is not \(expected.rawValue)")
        }
    }

    private static func intent(_ row: any SQLRow) throws -> IntentRecord {
        let stateName = try row.decode(column: "state", as: String.self)
        guard let state = IntentLifecycle.State(rawValue: stateName) else {
            throw StorageError(.corruptRow, "unknown intent state '\(stateName.prefix(40))'")
        }
        return IntentRecord(
            organization: try row.organization(), id: try IntentID(row.decode(column: "id", as: String.self)),
            digest: try row.hash("digest"), policyVersion: try row.decode(column: "policy_version", as: Int64.self),
            initiator: try MemberID(row.decode(column: "initiator", as: String.self)),
            wallet: try WalletID(row.decode(column: "wallet", as: String.self)),
            asset: try AssetID(row.decode(column: "asset", as: String.self)),
            destination: try row.decode(column: "destination", as: String.self),
            amount: try BaseUnits(decimal: row.decode(column: "amount", as: String.self)), state: state,
            document: try row.bytes("document"), createdAt: try row.timestamp("created_at"),
            expiresAt: try row.timestamp("expires_at"))
    }

    // MARK: Approvals, bundles, receipts

    public func insertApproval(_ approval: ApprovalRecord) async throws(StorageError) {
        try await write { db in
            try await db.raw(
                """
                INSERT INTO approvals (org_id, intent_id, approver, credential_id, document, stored_at)
                VALUES (\(bind: approval.organization.value), \(bind: approval.intent.value),
                        \(bind: approval.approver.value), \(bind: approval.credential.value),
                        \(bind: Data(approval.document)), \(bind: approval.storedAt.seconds))
                """
            ).run()
        }
    }

    public func approvals(_ organization: OrganizationID, intent: IntentID) async throws(StorageError)
        -> [ApprovalRecord]
    {
        try await read { db in
            try await db.raw(
                """
                SELECT org_id, intent_id, approver, credential_id, document, stored_at FROM approvals
                WHERE org_id = \(bind: organization.value) AND intent_id = \(bind: intent.value) ORDER BY approver
                """
            ).all().map { row in
                ApprovalRecord(
                    organization: try row.organization(),
                    intent: try IntentID(row.decode(column: "intent_id", as: String.self)),
                    approver: try MemberID(row.decode(column: "approver", as: String.self)),
                    credential: try CredentialID(row.decode(column: "credential_id", as: String.self)),
                    document: try row.bytes("document"), storedAt: try row.timestamp("stored_at"))
            }
        }
    }

    public func insertBundle(_ bundle: BundleRecord) async throws(StorageError) {
        try await write { db in
            try await db.raw(
                """
                INSERT INTO bundles (org_id, intent_id, digest, bytes, issued_at)
                VALUES (\(bind: bundle.organization.value), \(bind: bundle.intent.value),
                        \(bind: Data(bundle.digest.bytes)), \(bind: Data(bundle.bytes)), \(bind: bundle.issuedAt.seconds))
                """
            ).run()
        }
    }

    public func bundle(_ organization: OrganizationID, intent: IntentID) async throws(StorageError) -> BundleRecord? {
        try await read { db in
            try await db.raw(
                """
                SELECT org_id, intent_id, digest, bytes, issued_at FROM bundles
                WHERE org_id = \(bind: organization.value) AND intent_id = \(bind: intent.value)
                """
            ).first().map { row in
                BundleRecord(
                    organization: try row.organization(),
                    intent: try IntentID(row.decode(column: "intent_id", as: String.self)),
                    digest: try row.hash("digest"), bytes: try row.bytes("bytes"),
                    issuedAt: try row.timestamp("issued_at"))
            }
        }
    }

    public func insertReceipt(_ receipt: ReceiptRecord) async throws(StorageError) {
        try await write { db in
            try await db.raw(
                """
                INSERT INTO receipts (org_id, intent_id, signer_id, document, stored_at)
                VALUES (\(bind: receipt.organization.value), \(bind: receipt.intent.value),
                        \(bind: receipt.signer.value), \(bind: Data(receipt.document)), \(bind: receipt.storedAt.seconds))
                """
            ).run()
        }
    }

    public func receipts(_ organization: OrganizationID, intent: IntentID) async throws(StorageError)
        -> [ReceiptRecord]
    {
        try await read { db in
            try await db.raw(
                """
                SELECT org_id, intent_id, signer_id, document, stored_at FROM receipts
                WHERE org_id = \(bind: organization.value) AND intent_id = \(bind: intent.value) ORDER BY signer_id
                """
            ).all().map { row in
                ReceiptRecord(
                    organization: try row.organization(),
                    intent: try IntentID(row.decode(column: "intent_id", as: String.self)),
                    signer: try SignerID(row.decode(column: "signer_id", as: String.self)),
                    document: try row.bytes("document"), storedAt: try row.timestamp("stored_at"))
            }
        }
    }

    // MARK: Audit log

    public func appendAuditEvent(
        _ organization: OrganizationID, kind: String, subject: String, payload: [UInt8], at: Timestamp
    ) async throws(StorageError) -> AuditEvent {
        let flavor = sessions.flavor
        return try await write { db in
            try await Self.lockOrganization(db, organization, flavor: flavor)
            let last = try await db.raw(
                """
                SELECT \(Self.auditColumns) FROM audit_events WHERE org_id = \(bind: organization.value)
                ORDER BY seq DESC LIMIT 1
                """
            ).first().map(Self.auditEvent)
            let event = AuditEvent(
                following: last, organization: organization, kind: kind, subject: subject, payload: payload, at: at)
            try await db.raw(
                """
                INSERT INTO audit_events (org_id, seq, kind, subject, payload, at, previous_hash, hash)
                VALUES (\(bind: organization.value), \(bind: event.sequence), \(bind: event.kind),
                        \(bind: event.subject), \(bind: Data(event.payload)), \(bind: event.at.seconds),
                        \(bind: Data(event.previousHash.bytes)), \(bind: Data(event.hash.bytes)))
                """
            ).run()
            return event
        }
    }

    public func auditEvents(_ organization: OrganizationID, after: Int64, limit: Int) async throws(StorageError)
        -> [AuditEvent]
    {
        let limit = max(0, min(limit, 10_000))
        return try await read { db in
            try await db.raw(
                """
                SELECT \(Self.auditColumns) FROM audit_events
                WHERE org_id = \(bind: organization.value) AND seq > \(bind: after) ORDER BY seq LIMIT \(bind: limit)
                """
            ).all().map(Self.auditEvent)
        }
    }

    private static let auditColumns: SQLQueryString = "org_id, seq, kind, subject, payload, at, previous_hash, hash"

    private static func auditEvent(_ row: any SQLRow) throws -> AuditEvent {
        AuditEvent(
            stored: try row.organization(), sequence: try row.decode(column: "seq", as: Int64.self),
            kind: try row.decode(column: "kind", as: String.self),
            subject: try row.decode(column: "subject", as: String.self), payload: try row.bytes("payload"),
            at: try row.timestamp("at"), previousHash: try row.hash("previous_hash"), hash: try row.hash("hash"))
    }
}

extension SQLRow {
    fileprivate func bytes(_ column: String) throws -> [UInt8] { [UInt8](try decode(column: column, as: Data.self)) }
    fileprivate func hash(_ column: String) throws -> DocumentHash { try DocumentHash(bytes: bytes(column)) }
    fileprivate func timestamp(_ column: String) throws -> Timestamp {
        try Timestamp(seconds: decode(column: column, as: Int64.self))
    }
    fileprivate func organization() throws -> OrganizationID {
        try OrganizationID(decode(column: "org_id", as: String.self))
    }
}
