public import CoordinatorCore
import Foundation
public import Governance
import SQLKit

extension SQLCoordinatorStore {
    // MARK: Webhook deliveries

    static let webhookColumns: SQLQueryString =
        "id, org_id, kind, body, state, attempts, last_error, next_attempt_at, created_at"

    public func claimWebhookDeliveries(owner: String, now: Timestamp, leaseUntil: Timestamp, limit: Int)
        async throws(StorageError) -> [WebhookDelivery]
    {
        let limit = max(0, min(limit, 1_000))
        let skipLocked: SQLQueryString = sessions.flavor == .postgres ? "FOR UPDATE SKIP LOCKED" : ""
        return try await write { db in
            try await db.raw(
                """
                UPDATE webhook_deliveries SET lease_owner = \(bind: owner), lease_until = \(bind: leaseUntil.seconds)
                WHERE state = 'pending' AND next_attempt_at <= \(bind: now.seconds)
                  AND (lease_until IS NULL OR lease_until < \(bind: now.seconds))
                  AND id IN (
                    SELECT id FROM webhook_deliveries
                    WHERE state = 'pending' AND next_attempt_at <= \(bind: now.seconds)
                      AND (lease_until IS NULL OR lease_until < \(bind: now.seconds))
                    ORDER BY next_attempt_at, created_at, id LIMIT \(bind: limit) \(skipLocked))
                RETURNING \(Self.webhookColumns)
                """
            ).all().map(Self.webhookDelivery).sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        }
    }

    public func webhookDeliveries(_ organization: OrganizationID, limit: Int) async throws(StorageError)
        -> [WebhookDelivery]
    {
        let limit = max(0, min(limit, 10_000))
        return try await read { db in
            try await db.raw(
                """
                SELECT \(Self.webhookColumns) FROM webhook_deliveries WHERE org_id = \(bind: organization.value)
                ORDER BY created_at DESC, id LIMIT \(bind: limit)
                """
            ).all().map(Self.webhookDelivery)
        }
    }

    static func webhookDelivery(_ row: any SQLRow) throws -> WebhookDelivery {
        guard let state = WebhookDelivery.State(rawValue: try row.decode(column: "state", as: String.self)) else {
            throw StorageError(.invalidValue, "a webhook delivery has an unknown state")
        }
        return WebhookDelivery(
            id: try row.decode(column: "id", as: String.self), organization: try row.organization(),
            kind: try row.decode(column: "kind", as: String.self), body: try row.bytes("body"), state: state,
            attempts: Int(try row.decode(column: "attempts", as: Int64.self)),
            lastError: try row.decode(column: "last_error", as: String?.self),
            nextAttemptAt: try row.timestamp("next_attempt_at"), createdAt: try row.timestamp("created_at"))
    }
}
