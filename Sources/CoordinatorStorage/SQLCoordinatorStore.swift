import Bitcoin
public import CoordinatorCore
import Foundation
public import Governance
public import Logging
import PostgresKit
import SQLiteKit

/// The coordinator's store over SQL: one implementation of every port, two adapters underneath
/// (``openSQLite(path:logger:)`` and ``connectPostgres(url:maxConnections:leaseTimeout:logger:)``), see ADR 0010.
///
/// Every statement names the organisation id in its `WHERE` clause or its inserted row, and the schema's
/// foreign keys include the organisation id, so a row can never point into another organisation.
public final class SQLCoordinatorStore: CoordinatorStore {
    let sessions: any SQLSessions

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
    /// Connections are opened lazily, at most `maxConnections` at once; a call that gets none within `leaseTimeout`
    /// (the server unreachable, or every connection busy) fails with `.backend`. Call ``migrate()`` before use.
    public static func connectPostgres(
        url: String, maxConnections: Int = 8, leaseTimeout: Duration = .seconds(10),
        logger: Logger = Logger(label: "kura.storage.postgres")
    ) throws(StorageError) -> SQLCoordinatorStore {
        let client = try PostgresPool.client(url: url, maxConnections: maxConnections, logger: logger)
        return SQLCoordinatorStore(
            sessions: PostgresSessions(client: client, leaseTimeout: leaseTimeout, logger: logger))
    }

    public func close() async { await sessions.close() }

    func read<R: Sendable>(
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> R
    ) async throws(StorageError) -> R {
        do { return try await sessions.read(body) } catch { throw StorageErrorMapping.map(error) }
    }

    func write<R: Sendable>(
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> R
    ) async throws(StorageError) -> R {
        do { return try await sessions.write(body) } catch { throw StorageErrorMapping.map(error) }
    }

    func writeOneStatement<R: Sendable>(
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> R
    ) async throws(StorageError) -> R {
        do { return try await sessions.writeOneStatement(body) } catch { throw StorageErrorMapping.map(error) }
    }

    /// Locks the organisation's row until the transaction ends (PostgreSQL; SQLite has one writer anyway), so
    /// appends to its policy chain and audit log are serialised. `.missingReference` if it does not exist.
    static func lockOrganization(
        _ db: any SQLDatabase, _ organization: OrganizationID, flavor: SQLFlavor
    ) async throws {
        let query: SQLQueryString =
            flavor == .postgres
            // NO KEY UPDATE: lockers of one organisation queue behind each other, but the KEY SHARE locks that
            // foreign-key checks take on the organisation row (every insert of the unit) do not conflict with it,
            // so two units that both inserted rows before locking cannot deadlock on the row.
            ? "SELECT id FROM organizations WHERE id = \(bind: organization.value) FOR NO KEY UPDATE"
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
                for statement in migration.statements where migration.only.map({ $0 == flavor }) ?? true {
                    try await db.raw(SQLQueryString(flavor.render(statement))).run()
                }
                try await db.raw(
                    "INSERT INTO kura_migrations (position, name) VALUES (\(bind: position + 1), \(bind: migration.name))"
                ).run()
            }
            if flavor == .postgres { try await Self.checkAuditFunction(db) }
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
        _ = try await apply([.createOrganization(organization)])
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
        _ = try await apply([.appendPolicyVersion(policy, members: members, credentials: credentials)])
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

    public func policyHead(_ organization: OrganizationID) async throws(StorageError) -> PolicyHead? {
        try await read { db in
            try await db.raw(
                """
                SELECT version, hash FROM policy_versions
                WHERE org_id = \(bind: organization.value) ORDER BY version DESC LIMIT 1
                """
            ).first().map {
                PolicyHead(version: try $0.decode(column: "version", as: Int64.self), hash: try $0.hash("hash"))
            }
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
        _ = try await apply([.insertIntent(intent)])
    }

    static let intentColumns: SQLQueryString = """
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
            ).first().map(Self.intentRecord)
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
            return try await db.raw(query).all().map(Self.intentRecord)
        }
    }

    public func transitionIntent(
        _ organization: OrganizationID, id: IntentID, from expected: IntentLifecycle.State,
        to new: IntentLifecycle.State
    ) async throws(StorageError) {
        _ = try await apply([.transitionIntent(organization, id, from: expected, to: new)])
    }

    static func intentRecord(_ row: any SQLRow) throws -> IntentRecord {
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

    public func recentSpends(_ organization: OrganizationID, since: Timestamp) async throws(StorageError) -> [Spend] {
        try await read { db in
            try await db.raw(
                """
                SELECT wallet, asset, amount, created_at FROM intents
                WHERE org_id = \(bind: organization.value) AND state IN ('signed', 'broadcast', 'confirmed')
                  AND created_at > \(bind: since.seconds)
                """
            ).all().map(Self.spend)
        }
    }

    static func spend(_ row: any SQLRow) throws -> Spend {
        Spend(
            wallet: try WalletID(row.decode(column: "wallet", as: String.self)),
            asset: try AssetID(row.decode(column: "asset", as: String.self)),
            amount: try BaseUnits(decimal: row.decode(column: "amount", as: String.self)),
            time: try row.timestamp("created_at"))
    }

    public func approvalContext(_ organization: OrganizationID, intent id: IntentID, spendsSince since: Timestamp)
        async throws(StorageError) -> ApprovalContext?
    {
        guard sessions.flavor == .postgres else {
            guard let intent = try await intent(organization, id: id) else { return nil }
            return ApprovalContext(
                intent: intent, approvals: try await approvals(organization, intent: id),
                spends: try await recentSpends(organization, since: since))
        }
        // One call of `kura_approval_context` (migration 0016): rows tagged by `part`, each with the columns of the
        // query it stands for (the others NULL), so the same row readers decode them.
        return try await read { db in
            let rows = try await db.raw(
                """
                SELECT * FROM kura_approval_context(\(bind: organization.value), \(bind: id.value), \(bind: since.seconds))
                """
            ).all()
            var intent: IntentRecord?
            var approvals: [ApprovalRecord] = []
            var spends: [Spend] = []
            for row in rows {
                switch try row.decode(column: "part", as: String.self) {
                case "intent" where intent == nil: intent = try Self.intentRecord(row)
                case "approval": approvals.append(try Self.approvalRecord(row))
                case "spend": spends.append(try Self.spend(row))
                case let part: throw StorageError(.corruptRow, "unexpected approval context row '\(part.prefix(40))'")
                }
            }
            guard let intent else {
                if rows.isEmpty { return nil }
                throw StorageError(.corruptRow, "the approval context has rows but no intent")
            }
            return ApprovalContext(intent: intent, approvals: approvals, spends: spends)
        }
    }

    // MARK: Approvals, bundles, receipts

    public func insertApproval(_ approval: ApprovalRecord) async throws(StorageError) {
        _ = try await apply([.insertApproval(approval)])
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
            ).all().map(Self.approvalRecord)
        }
    }

    static func approvalRecord(_ row: any SQLRow) throws -> ApprovalRecord {
        ApprovalRecord(
            organization: try row.organization(),
            intent: try IntentID(row.decode(column: "intent_id", as: String.self)),
            approver: try MemberID(row.decode(column: "approver", as: String.self)),
            credential: try CredentialID(row.decode(column: "credential_id", as: String.self)),
            document: try row.bytes("document"), storedAt: try row.timestamp("stored_at"))
    }

    public func insertBundle(_ bundle: BundleRecord) async throws(StorageError) {
        _ = try await apply([.insertBundle(bundle)])
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
        _ = try await apply([.insertReceipt(receipt)])
    }

    public func receipts(_ organization: OrganizationID, intent: IntentID) async throws(StorageError)
        -> [ReceiptRecord]
    {
        try await read { db in
            try await db.raw(
                """
                SELECT org_id, intent_id, signer_id, sequence, document, result, stored_at FROM receipts
                WHERE org_id = \(bind: organization.value) AND intent_id = \(bind: intent.value) ORDER BY signer_id
                """
            ).all().map(Self.receipt)
        }
    }

    public func latestReceipt(_ organization: OrganizationID, signer: SignerID) async throws(StorageError)
        -> ReceiptRecord?
    {
        try await read { db in
            try await db.raw(
                """
                SELECT org_id, intent_id, signer_id, sequence, document, result, stored_at FROM receipts
                WHERE org_id = \(bind: organization.value) AND signer_id = \(bind: signer.value)
                ORDER BY sequence DESC LIMIT 1
                """
            ).first().map(Self.receipt)
        }
    }

    static func receipt(_ row: any SQLRow) throws -> ReceiptRecord {
        ReceiptRecord(
            organization: try row.organization(),
            intent: try IntentID(row.decode(column: "intent_id", as: String.self)),
            signer: try SignerID(row.decode(column: "signer_id", as: String.self)),
            sequence: try row.decode(column: "sequence", as: Int64.self), document: try row.bytes("document"),
            result: (try row.decodeNil(column: "result")) ? [] : try row.bytes("result"),
            storedAt: try row.timestamp("stored_at"))
    }

    public func reservedCoins(_ organization: OrganizationID) async throws(StorageError) -> [CoinReservation] {
        try await read { db in
            try await db.raw(
                """
                SELECT org_id, txid, vout, intent_id FROM coin_reservations
                WHERE org_id = \(bind: organization.value) ORDER BY txid, vout
                """
            ).all().map { row in
                CoinReservation(
                    organization: try row.organization(),
                    outPoint: OutPoint(
                        txid: try Txid(hex: row.decode(column: "txid", as: String.self)),
                        vout: UInt32(try row.decode(column: "vout", as: Int64.self))),
                    intent: try IntentID(row.decode(column: "intent_id", as: String.self)))
            }
        }
    }

    public func signedTransaction(_ organization: OrganizationID, intent: IntentID) async throws(StorageError)
        -> SignedTransactionRecord?
    {
        try await read { db in
            try await db.raw(
                """
                SELECT org_id, intent_id, chain, txid, raw, signed_at FROM signed_transactions
                WHERE org_id = \(bind: organization.value) AND intent_id = \(bind: intent.value)
                """
            ).first().map { row in
                SignedTransactionRecord(
                    organization: try row.organization(),
                    intent: try IntentID(row.decode(column: "intent_id", as: String.self)),
                    chain: try row.decode(column: "chain", as: String.self),
                    txid: try row.decode(column: "txid", as: String.self), raw: try row.bytes("raw"),
                    signedAt: try row.timestamp("signed_at"))
            }
        }
    }

    // MARK: Audit log

    public func appendAuditEvent(
        _ organization: OrganizationID, kind: String, subject: String, payload: [UInt8], at: Timestamp
    ) async throws(StorageError) -> AuditEvent {
        let events = try await apply([.audit(organization, kind: kind, subject: subject, payload: payload, at: at)])
        guard let event = events.first else { throw StorageError(.backend, "the audit event was not appended") }
        return event
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

    static let auditColumns: SQLQueryString = "org_id, seq, kind, subject, payload, at, previous_hash, hash"

    static func auditEvent(_ row: any SQLRow) throws -> AuditEvent {
        AuditEvent(
            stored: try row.organization(), sequence: try row.decode(column: "seq", as: Int64.self),
            kind: try row.decode(column: "kind", as: String.self),
            subject: try row.decode(column: "subject", as: String.self), payload: try row.bytes("payload"),
            at: try row.timestamp("at"), previousHash: try row.hash("previous_hash"), hash: try row.hash("hash"))
    }
}

extension SQLRow {
    func bytes(_ column: String) throws -> [UInt8] { [UInt8](try decode(column: column, as: Data.self)) }
    func hash(_ column: String) throws -> DocumentHash { try DocumentHash(bytes: bytes(column)) }
    func timestamp(_ column: String) throws -> Timestamp {
        try Timestamp(seconds: decode(column: column, as: Int64.self))
    }
    func organization() throws -> OrganizationID {
        try OrganizationID(decode(column: "org_id", as: String.self))
    }
}
