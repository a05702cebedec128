public import CoordinatorCore
import Foundation
public import Governance
import SQLKit

extension SQLCoordinatorStore {
    // MARK: Transaction follow-up

    static let watchColumns: SQLQueryString = """
        w.org_id, w.intent_id, w.network, w.attempts, w.last_error, w.block_height, w.confirmations,
        w.next_check_at, w.done, w.updated_at
        """

    public func claimTransactionWatches(owner: String, now: Timestamp, leaseUntil: Timestamp, limit: Int)
        async throws(StorageError) -> [ClaimedTransaction]
    {
        let limit = max(0, min(limit, 1_000))
        // PostgreSQL: rows another claimer has locked are skipped rather than waited for (SQLite has one writer).
        let skipLocked: SQLQueryString = sessions.flavor == .postgres ? "FOR UPDATE SKIP LOCKED" : ""
        return try await write { db in
            // The lease condition is repeated outside the subquery: should a concurrent claimer ever wait for a row,
            // PostgreSQL re-checks the outer WHERE against the row as the first claimer left it, and skips it.
            let claimed = try await db.raw(
                """
                UPDATE transaction_watch SET lease_owner = \(bind: owner), lease_until = \(bind: leaseUntil.seconds)
                WHERE done = 0 AND next_check_at <= \(bind: now.seconds)
                  AND (lease_until IS NULL OR lease_until < \(bind: now.seconds))
                  AND (org_id, intent_id) IN (
                    SELECT org_id, intent_id FROM transaction_watch
                    WHERE done = 0 AND next_check_at <= \(bind: now.seconds)
                      AND (lease_until IS NULL OR lease_until < \(bind: now.seconds))
                    ORDER BY next_check_at, org_id, intent_id LIMIT \(bind: limit) \(skipLocked))
                RETURNING org_id, intent_id
                """
            ).all()
            var out: [ClaimedTransaction] = []
            for row in claimed {
                let org = try row.organization()
                let intent = try row.decode(column: "intent_id", as: String.self)
                guard
                    let r = try await db.raw(
                        """
                        SELECT \(Self.watchColumns), s.chain, s.txid, s.raw, s.signed_at, i.state
                        FROM transaction_watch w
                        JOIN signed_transactions s ON s.org_id = w.org_id AND s.intent_id = w.intent_id
                        JOIN intents i ON i.org_id = w.org_id AND i.id = w.intent_id
                        WHERE w.org_id = \(bind: org.value) AND w.intent_id = \(bind: intent)
                        """
                    ).first()
                else { continue }
                let watch = try Self.watchRecord(r)
                let state = try r.decode(column: "state", as: String.self)
                guard let lifecycle = IntentLifecycle.State(rawValue: state) else {
                    throw StorageError(.invalidValue, "intent '\(intent)' has an unknown state")
                }
                out.append(
                    ClaimedTransaction(
                        watch: watch,
                        transaction: SignedTransactionRecord(
                            organization: org, intent: watch.intent,
                            chain: try r.decode(column: "chain", as: String.self),
                            txid: try r.decode(column: "txid", as: String.self), raw: try r.bytes("raw"),
                            signedAt: try r.timestamp("signed_at")),
                        state: lifecycle))
            }
            return out.sorted {
                ($0.watch.nextCheckAt, $0.watch.intent.value) < ($1.watch.nextCheckAt, $1.watch.intent.value)
            }
        }
    }

    public func transactionWatch(_ organization: OrganizationID, intent: IntentID) async throws(StorageError)
        -> TransactionWatchRecord?
    {
        try await read { db in
            try await db.raw(
                """
                SELECT \(Self.watchColumns) FROM transaction_watch w
                WHERE w.org_id = \(bind: organization.value) AND w.intent_id = \(bind: intent.value)
                """
            ).first().map(Self.watchRecord)
        }
    }

    static func watchRecord(_ row: any SQLRow) throws -> TransactionWatchRecord {
        TransactionWatchRecord(
            organization: try row.organization(),
            intent: try IntentID(row.decode(column: "intent_id", as: String.self)),
            network: try row.decode(column: "network", as: String.self),
            attempts: Int(try row.decode(column: "attempts", as: Int64.self)),
            lastError: try row.decode(column: "last_error", as: String?.self),
            blockHeight: try row.decode(column: "block_height", as: Int64?.self),
            confirmations: try row.decode(column: "confirmations", as: Int64.self),
            nextCheckAt: try row.timestamp("next_check_at"), done: try row.decode(column: "done", as: Int64.self) == 1,
            updatedAt: try row.timestamp("updated_at"))
    }
}
