public import CoordinatorCore
import Foundation
public import Governance
import SQLKit

extension SQLCoordinatorStore {
    // MARK: Policy proposals

    static let proposalColumns: SQLQueryString =
        "org_id, id, version, document, proposer, signatures, signature_count, required, state, created_at, updated_at"

    public func proposals(_ organization: OrganizationID, limit: Int) async throws(StorageError)
        -> [PolicyProposalRecord]
    {
        let limit = max(0, min(limit, 1_000))
        return try await read { db in
            try await db.raw(
                """
                SELECT \(Self.proposalColumns) FROM policy_proposals WHERE org_id = \(bind: organization.value)
                ORDER BY created_at DESC, id LIMIT \(bind: limit)
                """
            ).all().map(Self.proposal)
        }
    }

    public func proposal(_ organization: OrganizationID, id: String) async throws(StorageError)
        -> PolicyProposalRecord?
    {
        try await read { db in
            try await db.raw(
                """
                SELECT \(Self.proposalColumns) FROM policy_proposals
                WHERE org_id = \(bind: organization.value) AND id = \(bind: id)
                """
            ).first().map(Self.proposal)
        }
    }

    static func proposal(_ row: any SQLRow) throws -> PolicyProposalRecord {
        guard let state = PolicyProposalRecord.State(rawValue: try row.decode(column: "state", as: String.self)) else {
            throw StorageError(.invalidValue, "a policy proposal has an unknown state")
        }
        return PolicyProposalRecord(
            organization: try row.organization(), id: try row.decode(column: "id", as: String.self),
            version: try row.decode(column: "version", as: Int64.self), document: try row.bytes("document"),
            proposer: try MemberID(try row.decode(column: "proposer", as: String.self)),
            signatures: try row.bytes("signatures"),
            signatureCount: Int(try row.decode(column: "signature_count", as: Int64.self)),
            required: Int(try row.decode(column: "required", as: Int64.self)), state: state,
            createdAt: try row.timestamp("created_at"), updatedAt: try row.timestamp("updated_at"))
    }
}
