public import CoordinatorCore
import Foundation
public import Governance
import SQLKit

extension SQLCoordinatorStore {
    // MARK: Deposits

    public func organizationIDs() async throws(StorageError) -> [OrganizationID] {
        try await read { db in
            try await db.raw("SELECT id AS org_id FROM organizations ORDER BY id").all().map { try $0.organization() }
        }
    }

    public func claimDepositScans(owner: String, now: Timestamp, leaseUntil: Timestamp, limit: Int)
        async throws(StorageError) -> [DepositScanRecord]
    {
        let limit = max(0, min(limit, 1_000))
        let skipLocked: SQLQueryString = sessions.flavor == .postgres ? "FOR UPDATE SKIP LOCKED" : ""
        return try await write { db in
            try await db.raw(
                """
                UPDATE deposit_scans SET lease_owner = \(bind: owner), lease_until = \(bind: leaseUntil.seconds)
                WHERE next_check_at <= \(bind: now.seconds)
                  AND (lease_until IS NULL OR lease_until < \(bind: now.seconds))
                  AND (org_id, wallet_id) IN (
                    SELECT org_id, wallet_id FROM deposit_scans
                    WHERE next_check_at <= \(bind: now.seconds)
                      AND (lease_until IS NULL OR lease_until < \(bind: now.seconds))
                    ORDER BY next_check_at, org_id, wallet_id LIMIT \(bind: limit) \(skipLocked))
                RETURNING org_id, wallet_id, next_block, last_hash, next_check_at, updated_at
                """
            ).all().map { row in
                DepositScanRecord(
                    organization: try row.organization(),
                    wallet: try WalletID(row.decode(column: "wallet_id", as: String.self)),
                    nextBlock: try row.decode(column: "next_block", as: Int64?.self),
                    lastHash: try row.decode(column: "last_hash", as: String?.self),
                    nextCheckAt: try row.timestamp("next_check_at"), updatedAt: try row.timestamp("updated_at"))
            }
        }
    }

    public func lapsedIntents(now: Timestamp, limit: Int) async throws(StorageError) -> [IntentRecord] {
        let limit = max(0, min(limit, 1_000))
        return try await read { db in
            try await db.raw(
                """
                SELECT \(Self.intentColumns) FROM intents
                WHERE expires_at < \(bind: now.seconds)
                  AND state IN ('draft', 'awaitingApprovals', 'approved', 'built', 'signing')
                ORDER BY expires_at, org_id, id LIMIT \(bind: limit)
                """
            ).all().map(Self.intentRecord)
        }
    }

    public func deposits(_ organization: OrganizationID, wallet: WalletID?, limit: Int) async throws(StorageError)
        -> [DepositRecord]
    {
        let limit = max(0, min(limit, 10_000))
        let filter: SQLQueryString = wallet.map { "AND wallet_id = \(bind: $0.value)" } ?? ""
        return try await read { db in
            try await db.raw(
                """
                SELECT org_id, wallet_id, chain, txid, position, asset, address, amount, block_height, confirmations,
                       state, first_seen_at, updated_at
                FROM deposits WHERE org_id = \(bind: organization.value) \(filter)
                ORDER BY first_seen_at DESC, txid, position LIMIT \(bind: limit)
                """
            ).all().map { row in
                guard let state = DepositRecord.State(rawValue: try row.decode(column: "state", as: String.self)) else {
                    throw StorageError(.invalidValue, "a deposit has an unknown state")
                }
                return DepositRecord(
                    organization: try row.organization(),
                    wallet: try WalletID(row.decode(column: "wallet_id", as: String.self)),
                    chain: try row.decode(column: "chain", as: String.self),
                    txid: try row.decode(column: "txid", as: String.self),
                    position: try row.decode(column: "position", as: Int64.self),
                    asset: try AssetID(row.decode(column: "asset", as: String.self)),
                    address: try row.decode(column: "address", as: String.self),
                    amount: try BaseUnits(decimal: row.decode(column: "amount", as: String.self)),
                    blockHeight: try row.decode(column: "block_height", as: Int64?.self),
                    confirmations: try row.decode(column: "confirmations", as: Int64.self), state: state,
                    firstSeenAt: try row.timestamp("first_seen_at"), updatedAt: try row.timestamp("updated_at"))
            }
        }
    }
}
