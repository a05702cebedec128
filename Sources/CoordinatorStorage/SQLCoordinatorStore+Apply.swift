public import CoordinatorCore
import Foundation
public import Governance
import SQLKit

extension SQLCoordinatorStore {
    /// Applies every change in one transaction (the unit of work of every use case).
    public func apply(_ changes: [StoreChange]) async throws(StorageError) -> [AuditEvent] {
        for change in changes { try Self.precheck(change) }
        let flavor = sessions.flavor
        if flavor == .postgres, let one = Self.oneStatement(changes) {
            // One statement is its own transaction: one round trip whatever the unit's size, and the organisation's
            // row is locked only while PostgreSQL runs it. The function's hash was checked when the store migrated.
            let row = try await writeOneStatement { db in try await db.raw(one.statement).first() }
            return try await oneStatementEvents(row, one)
        }
        // Changes that serialise on the organisation's row (audit appends, address allocation, policy versions) run
        // last, in their order, so the row is locked for as short a time as possible; the unit is one transaction
        // either way, so the order of its independent changes does not show.
        let ordered =
            changes.filter { Self.organizationToLock($0) == nil }
            + changes.filter { Self.organizationToLock($0) != nil }
        return try await write { db in
            var events: [AuditEvent] = []
            var locked = Set<OrganizationID>()
            for change in ordered {
                if let org = Self.organizationToLock(change), !locked.contains(org) {
                    // On PostgreSQL an audit append locks the row itself, inside its one statement.
                    if flavor == .postgres, Self.appendsAuditInDatabase(change) {
                    } else {
                        try await Self.lockOrganization(db, org, flavor: flavor)
                        locked.insert(org)
                    }
                }
                if let event = try await Self.run(change, on: db, flavor: flavor) { events.append(event) }
            }
            return events
        }
    }

    /// The audit event a unit appends: its fields before the database links it.
    typealias PendingAudit = (
        organization: OrganizationID, kind: String, subject: String, payload: [UInt8], at: Timestamp
    )

    /// A unit PostgreSQL runs as one statement, and what its row says.
    struct OneStatement {
        let statement: SQLQueryString
        /// The event appended unconditionally (columns `out_…`).
        let audit: PendingAudit?
        /// A compare-and-set with its event (`kura_transition_intent`): no row means it changed nothing.
        let transition: (OrganizationID, IntentID, IntentLifecycle.State)?
        /// An ``StoreChange/advanceIntent`` with its event (`kura_advance_intent`), appended only if the intent
        /// moved: columns `moved_…` after an `audit`, `out_…` alone.
        let advance: PendingAudit?
    }

    /// On the change-by-change path, PostgreSQL's functions lock the organisation's row for these themselves.
    private static func appendsAuditInDatabase(_ change: StoreChange) -> Bool {
        switch change {
        case .audit, .advanceIntent: true
        default: false
        }
    }

    /// The events of a unit run as one statement, each checked against ``AuditEvent``'s hash (and the second
    /// linked to the first). The unit is already committed: a mismatch is reported, not undone.
    private func oneStatementEvents(_ row: (any SQLRow)?, _ one: OneStatement) async throws(StorageError)
        -> [AuditEvent]
    {
        if one.audit == nil && one.advance == nil { return [] }
        guard let row else {
            if one.advance != nil && one.audit == nil { return [] }  // the intent was in another state: it stays
            // A state change that did not happen wrote nothing: say why, as the change-by-change path does.
            if let (organization, id, expected) = one.transition {
                try await read { db in try await Self.transitionRefusal(organization, id, expected, on: db) }
            }
            throw StorageError(.backend, "the unit's statement returned no row")
        }
        do {
            var events: [AuditEvent] = []
            if let audit = one.audit { events.append(try Self.checkedAuditEvent(row, audit)) }
            if let advance = one.advance {
                let prefix = one.audit == nil ? "out" : "moved"
                if try !row.decodeNil(column: "\(prefix)_seq") {
                    let event = try Self.checkedAuditEvent(row, advance, prefix: prefix)
                    if let first = events.first, event.previousHash != first.hash {
                        throw StorageError(.backend, "the unit's second audit event does not follow its first")
                    }
                    events.append(event)
                }
            }
            return events
        } catch {
            throw StorageError(
                .corruptRow,
                "the unit was stored, but its audit events are not AuditEvent's: kura audit verify will report the "
                    + "break; the kura_append_audit function was changed after this process started")
        }
    }

    /// The changes that may run inside one statement: inserts whose only outcome is success or a constraint error.
    private static func combinable(_ change: StoreChange) -> Bool {
        switch change {
        case .insertIntent, .insertApproval, .insertBundle, .insertReceipt, .insertToken, .insertIdempotency,
            .enqueueWebhook, .insertProposal:
            true
        default: false
        }
    }

    /// PostgreSQL: a unit as one statement. An intent's state change with its event is `kura_transition_intent`; an
    /// approval's unit (which may complete the quorum) is `kura_record_approval` (``approvalUnit(_:)``); an advance
    /// alone is `kura_advance_intent`. Otherwise a unit made only of such inserts (anywhere in it) and at most one
    /// audit event: the inserts as data-modifying `WITH` queries, then the audit append (``appendAuditInDatabase``'s
    /// function). PostgreSQL runs every part of a statement to completion and checks foreign keys at its end, and a
    /// statement is atomic, so the unit stays all or nothing; the hot units (an intent; an approval; each with its
    /// idempotency record and audit events) take one round trip. `nil` for any other unit (run change by change in
    /// a transaction).
    private static func oneStatement(_ changes: [StoreChange]) -> OneStatement? {
        // An intent's state change with its audit event (`kura_transition_intent`, migration 0013).
        if changes.count == 2, case .transitionIntent(let org, let id, let expected, let new) = changes[0],
            case .audit(let auditOrg, let kind, let subject, let payload, let at) = changes[1], auditOrg == org
        {
            let statement: SQLQueryString = """
                SELECT out_seq, out_previous, out_hash FROM kura_transition_intent(
                    \(bind: org.value), \(bind: id.value), \(bind: expected.rawValue), \(bind: new.rawValue),
                    \(bind: kind), \(bind: subject), \(bind: Data(payload)), \(bind: at.seconds))
                """
            return OneStatement(
                statement: statement, audit: (org, kind, subject, payload, at), transition: (org, id, expected),
                advance: nil)
        }
        if let approval = approvalUnit(changes) { return approval }
        // An advance alone (`advance` after a commit): the move and its event if it moved.
        if changes.count == 1,
            case .advanceIntent(let org, let id, let from, let to, let kind, let subject, let payload, let at) =
                changes[0]
        {
            let event: PendingAudit = (org, kind, subject, payload, at)
            return OneStatement(
                statement: "SELECT out_seq, out_previous, out_hash FROM " + advanceFunction(org, id, from, to, event),
                audit: nil, transition: nil, advance: event)
        }
        var inserts: [SQLQueryString] = []
        var audit: PendingAudit?
        for change in changes {
            if case .audit(let organization, let kind, let subject, let payload, let at) = change {
                guard audit == nil else { return nil }  // one event (inserts may come anywhere)
                audit = (organization, kind, subject, payload, at)
            } else if combinable(change), let statement = insertStatement(change) {
                inserts.append(statement)
            } else {
                return nil
            }
        }
        guard inserts.count + (audit == nil ? 0 : 1) >= 2 else { return nil }
        guard let audit else {
            let parts = inserts.enumerated().map { "insert_\(unsafeRaw: String($0.offset)) AS (" + $0.element + ")" }
            return OneStatement(
                statement: "WITH " + parts.joined(separator: ", ") + " SELECT 1 AS done", audit: nil, transition: nil,
                advance: nil)
        }
        var statement: SQLQueryString = ""
        // The inserts run first (the main query counts the rows they return), then the audit append, which locks the
        // organisation's row: the lock is held for the append and the commit only, not while the inserts run
        // (data-modifying WITH queries no one reads run at the end of the statement). Each function is called in a
        // LATERAL subquery that reads the row before it, so the order is fixed.
        if !inserts.isEmpty {
            statement +=
                "WITH "
                + inserts.enumerated().map {
                    "insert_\(unsafeRaw: String($0.offset)) AS (" + $0.element + " RETURNING 1 AS one)"
                }.joined(separator: ", ") + " "
        }
        let counted: SQLQueryString =
            inserts.isEmpty
            ? "0"
            : inserts.indices.map { "(SELECT count(*) FROM insert_\(unsafeRaw: String($0)))" }.joined(separator: " + ")
        statement += "SELECT appended.out_seq, appended.out_previous, appended.out_hash"
        statement += " FROM (SELECT " + counted + " AS n) AS inserted"
        statement += " CROSS JOIN LATERAL (SELECT * FROM " + Self.auditAppendFunction(audit)
        statement += " WHERE inserted.n >= 0) AS appended"
        return OneStatement(statement: statement, audit: audit, transition: nil, advance: nil)
    }

    /// An approval's unit — the approval, its event, at most one idempotency record, and at most one
    /// ``StoreChange/advanceIntent`` after the event — as one call of `kura_record_approval` (migration 0018), whose
    /// statements keep their plans (a statement composed per call was planned at every call): the approval and its
    /// idempotency record; with an advance, the intent's move first (`kura_move_intent`: the intent's row before the
    /// organisation's, as every state change locks them — the other order deadlocked against a concurrent rejection,
    /// ADR 0015), then the approval's event, then the move's event only if it moved, linked to the first. `nil` for
    /// any other unit.
    private static func approvalUnit(_ changes: [StoreChange]) -> OneStatement? {
        var approval: ApprovalRecord?
        var idempotency: IdempotencyRecord?
        var audit: PendingAudit?
        var advance: (from: IntentLifecycle.State, to: IntentLifecycle.State, event: PendingAudit)?
        for change in changes {
            switch change {
            case .insertApproval(let a) where approval == nil:
                approval = a
            case .insertIdempotency(let r) where idempotency == nil:
                idempotency = r
            case .audit(let org, let kind, let subject, let payload, let at) where audit == nil && advance == nil:
                audit = (org, kind, subject, payload, at)
            case .advanceIntent(let org, let id, let from, let to, let kind, let subject, let payload, let at)
            where advance == nil && audit != nil && id == approval?.intent && org == audit?.organization:
                advance = (from, to, (org, kind, subject, payload, at))
            default:
                return nil
            }
        }
        guard let approval, let audit, audit.organization == approval.organization,
            idempotency.map({ $0.organization == approval.organization }) ?? true
        else { return nil }
        let statement: SQLQueryString = """
            SELECT out_seq, out_previous, out_hash, moved_seq, moved_previous, moved_hash FROM kura_record_approval(
                \(bind: approval.organization.value), \(bind: approval.intent.value), \(bind: approval.approver.value),
                \(bind: approval.credential.value), \(bind: Data(approval.document)), \(bind: approval.storedAt.seconds),
                \(bind: idempotency?.member.value), \(bind: idempotency?.key), \(bind: idempotency.map { Data($0.requestHash) }),
                \(bind: idempotency.map { Int64($0.status) }), \(bind: idempotency.map { Data($0.response) }),
                \(bind: idempotency?.createdAt.seconds),
                \(bind: audit.kind), \(bind: audit.subject), \(bind: Data(audit.payload)), \(bind: audit.at.seconds),
                \(bind: advance?.from.rawValue), \(bind: advance?.to.rawValue), \(bind: advance?.event.kind),
                \(bind: advance?.event.subject), \(bind: advance.map { Data($0.event.payload) }),
                \(bind: advance?.event.at.seconds))
            """
        return OneStatement(statement: statement, audit: audit, transition: nil, advance: advance?.event)
    }

    /// Why a compare-and-set on an intent's state changed nothing: it does not exist, or is in another state.
    private static func transitionRefusal(
        _ organization: OrganizationID, _ id: IntentID, _ expected: IntentLifecycle.State, on db: any SQLDatabase
    ) async throws {
        try await requireIntent(organization, id, on: db)
        throw StorageError(.conflict, "intent '\(id)' is not \(expected.rawValue)")
    }

    /// `.missingReference` unless the organisation has this intent.
    private static func requireIntent(_ organization: OrganizationID, _ id: IntentID, on db: any SQLDatabase)
        async throws
    {
        let exists = try await db.raw(
            "SELECT id FROM intents WHERE org_id = \(bind: organization.value) AND id = \(bind: id.value)"
        ).first()
        guard exists != nil else { throw StorageError(.missingReference, "no intent '\(id)'") }
    }

    /// The call of `kura_advance_intent` (migration 0014) for an ``StoreChange/advanceIntent``.
    private static func advanceFunction(
        _ org: OrganizationID, _ id: IntentID, _ from: IntentLifecycle.State, _ to: IntentLifecycle.State,
        _ e: PendingAudit
    ) -> SQLQueryString {
        """
        kura_advance_intent(
            \(bind: org.value), \(bind: id.value), \(bind: from.rawValue), \(bind: to.rawValue),
            \(bind: e.kind), \(bind: e.subject), \(bind: Data(e.payload)), \(bind: e.at.seconds))
        """
    }

    /// The organisation whose row serialises this change: policy and audit chains, and address allocation.
    private static func organizationToLock(_ change: StoreChange) -> OrganizationID? {
        switch change {
        case .appendPolicyVersion(let p, _, _): p.organization
        case .audit(let org, _, _, _, _): org
        case .advanceIntent(let org, _, _, _, _, _, _, _): org
        case .insertAddress(let a): a.organization
        default: nil
        }
    }

    /// Rules checked before touching the database.
    private static func precheck(_ change: StoreChange) throws(StorageError) {
        switch change {
        case .appendPolicyVersion(let policy, let members, let credentials):
            let org = policy.organization
            guard members.allSatisfy({ $0.organization == org && $0.policyVersion == policy.version }),
                credentials.allSatisfy({ $0.organization == org && $0.policyVersion == policy.version })
            else {
                throw StorageError(
                    .invalidValue, "members and credentials must belong to the policy version they come with")
            }
        case .insertIdempotency(let r):
            guard IdempotencyRecord.isValidKey(r.key) else {
                throw StorageError(.invalidValue, "an idempotency key is 1 to 200 printable ASCII characters")
            }
        default:
            break
        }
    }

    /// The one statement of a change that only inserts (no result to check), or `nil`: such changes may also run
    /// together as one statement (``oneStatement(_:)``).
    private static func insertStatement(_ change: StoreChange) -> SQLQueryString? {
        switch change {
        case .createOrganization(let organization):
            return """
                INSERT INTO organizations (id, name, genesis_hash, created_at)
                VALUES (\(bind: organization.id.value), \(bind: organization.name),
                        \(bind: Data(organization.genesisHash.bytes)), \(bind: organization.createdAt.seconds))
                """
        case .insertIntent(let intent):
            return """
                INSERT INTO intents (org_id, id, digest, policy_version, initiator, wallet, asset, destination,
                                     amount, state, document, created_at, expires_at)
                VALUES (\(bind: intent.organization.value), \(bind: intent.id.value), \(bind: Data(intent.digest.bytes)),
                        \(bind: intent.policyVersion), \(bind: intent.initiator.value), \(bind: intent.wallet.value),
                        \(bind: intent.asset.value), \(bind: intent.destination), \(bind: intent.amount.description),
                        \(bind: intent.state.rawValue), \(bind: Data(intent.document)),
                        \(bind: intent.createdAt.seconds), \(bind: intent.expiresAt.seconds))
                """
        case .insertApproval(let approval):
            return """
                INSERT INTO approvals (org_id, intent_id, approver, credential_id, document, stored_at)
                VALUES (\(bind: approval.organization.value), \(bind: approval.intent.value),
                        \(bind: approval.approver.value), \(bind: approval.credential.value),
                        \(bind: Data(approval.document)), \(bind: approval.storedAt.seconds))
                """
        case .insertBundle(let bundle):
            return """
                INSERT INTO bundles (org_id, intent_id, digest, bytes, issued_at)
                VALUES (\(bind: bundle.organization.value), \(bind: bundle.intent.value),
                        \(bind: Data(bundle.digest.bytes)), \(bind: Data(bundle.bytes)), \(bind: bundle.issuedAt.seconds))
                """
        case .insertReceipt(let receipt):
            return """
                INSERT INTO receipts (org_id, intent_id, signer_id, sequence, document, result, stored_at)
                VALUES (\(bind: receipt.organization.value), \(bind: receipt.intent.value),
                        \(bind: receipt.signer.value), \(bind: receipt.sequence), \(bind: Data(receipt.document)),
                        \(bind: Data(receipt.result)), \(bind: receipt.storedAt.seconds))
                """
        case .insertSignedTransaction(let t):
            return """
                INSERT INTO signed_transactions (org_id, intent_id, chain, txid, raw, signed_at)
                VALUES (\(bind: t.organization.value), \(bind: t.intent.value), \(bind: t.chain), \(bind: t.txid),
                        \(bind: Data(t.raw)), \(bind: t.signedAt.seconds))
                """
        case .insertTransactionWatch(let w):
            return """
                INSERT INTO transaction_watch (org_id, intent_id, network, attempts, last_error, block_height,
                                               confirmations, next_check_at, done, lease_owner, lease_until, updated_at)
                VALUES (\(bind: w.organization.value), \(bind: w.intent.value), \(bind: w.network),
                        \(bind: Int64(w.attempts)), \(bind: w.lastError), \(bind: w.blockHeight),
                        \(bind: w.confirmations), \(bind: w.nextCheckAt.seconds), \(bind: w.done ? 1 : 0),
                        NULL, NULL, \(bind: w.updatedAt.seconds))
                """
        case .ensureDepositScan(let org, let wallet, let at):
            return """
                INSERT INTO deposit_scans (org_id, wallet_id, next_block, last_hash, next_check_at, lease_owner,
                                           lease_until, updated_at)
                VALUES (\(bind: org.value), \(bind: wallet.value), NULL, NULL, \(bind: at.seconds), NULL, NULL,
                        \(bind: at.seconds))
                ON CONFLICT (org_id, wallet_id) DO NOTHING
                """
        case .upsertDeposit(let d):
            return """
                INSERT INTO deposits (org_id, wallet_id, chain, txid, position, asset, address, amount, block_height,
                                      confirmations, state, first_seen_at, updated_at)
                VALUES (\(bind: d.organization.value), \(bind: d.wallet.value), \(bind: d.chain), \(bind: d.txid),
                        \(bind: d.position), \(bind: d.asset.value), \(bind: d.address), \(bind: d.amount.description),
                        \(bind: d.blockHeight), \(bind: d.confirmations), \(bind: d.state.rawValue),
                        \(bind: d.firstSeenAt.seconds), \(bind: d.updatedAt.seconds))
                ON CONFLICT (org_id, chain, txid, position) DO UPDATE
                SET block_height = excluded.block_height, confirmations = excluded.confirmations,
                    state = excluded.state, updated_at = excluded.updated_at
                WHERE deposits.state <> 'confirmed'
                """
        case .enqueueWebhook(let w):
            return """
                INSERT INTO webhook_deliveries (id, org_id, kind, body, state, attempts, last_error, next_attempt_at,
                                                created_at, lease_owner, lease_until)
                VALUES (\(bind: w.id), \(bind: w.organization.value), \(bind: w.kind), \(bind: Data(w.body)),
                        \(bind: w.state.rawValue), \(bind: Int64(w.attempts)), \(bind: w.lastError),
                        \(bind: w.nextAttemptAt.seconds), \(bind: w.createdAt.seconds), NULL, NULL)
                """
        case .insertProposal(let r):
            return """
                INSERT INTO policy_proposals (org_id, id, version, document, proposer, signatures, signature_count,
                                              required, state, created_at, updated_at)
                VALUES (\(bind: r.organization.value), \(bind: r.id), \(bind: r.version), \(bind: Data(r.document)),
                        \(bind: r.proposer.value), \(bind: Data(r.signatures)), \(bind: Int64(r.signatureCount)),
                        \(bind: Int64(r.required)), \(bind: r.state.rawValue), \(bind: r.createdAt.seconds),
                        \(bind: r.updatedAt.seconds))
                """
        case .insertToken(let t):
            return """
                INSERT INTO api_tokens (org_id, id, member_id, secret_hash, request_digest, created_at, expires_at,
                                        revoked_at)
                VALUES (\(bind: t.organization.value), \(bind: t.id), \(bind: t.member.value),
                        \(bind: Data(t.secretHash)), \(bind: Data(t.requestDigest.bytes)), \(bind: t.createdAt.seconds),
                        \(bind: t.expiresAt.seconds), \(bind: t.revokedAt?.seconds))
                """
        case .insertIdempotency(let r):
            return """
                INSERT INTO idempotency_keys (org_id, member_id, idem_key, request_hash, status, response, created_at)
                VALUES (\(bind: r.organization.value), \(bind: r.member.value), \(bind: r.key),
                        \(bind: Data(r.requestHash)), \(bind: r.status), \(bind: Data(r.response)),
                        \(bind: r.createdAt.seconds))
                """
        default:
            return nil
        }
    }

    private static func run(_ change: StoreChange, on db: any SQLDatabase, flavor: SQLFlavor) async throws
        -> AuditEvent?
    {
        if let statement = insertStatement(change) {
            try await db.raw(statement).run()
            return nil
        }
        switch change {
        case .appendPolicyVersion(let policy, let members, let credentials):
            try await appendPolicy(policy, members: members, credentials: credentials, on: db)
        case .transitionIntent(let organization, let id, let expected, let new):
            let updated = try await db.raw(
                """
                UPDATE intents SET state = \(bind: new.rawValue)
                WHERE org_id = \(bind: organization.value) AND id = \(bind: id.value)
                  AND state = \(bind: expected.rawValue)
                RETURNING id
                """
            ).all()
            guard updated.isEmpty else { return nil }
            try await transitionRefusal(organization, id, expected, on: db)
        case .reserveCoins(let coins):
            for c in coins {
                try await db.raw(
                    """
                    INSERT INTO coin_reservations (org_id, txid, vout, intent_id)
                    VALUES (\(bind: c.organization.value), \(bind: c.outPoint.txid.description),
                            \(bind: Int64(c.outPoint.vout)), \(bind: c.intent.value))
                    """
                ).run()
            }
        case .updateTransactionWatch(let update):
            let u = update.record
            let updated = try await db.raw(
                """
                UPDATE transaction_watch
                SET attempts = \(bind: Int64(u.attempts)), last_error = \(bind: u.lastError),
                    block_height = \(bind: u.blockHeight), confirmations = \(bind: u.confirmations),
                    next_check_at = \(bind: u.nextCheckAt.seconds), done = \(bind: u.done ? 1 : 0),
                    lease_owner = NULL, lease_until = NULL, updated_at = \(bind: u.updatedAt.seconds)
                WHERE org_id = \(bind: u.organization.value) AND intent_id = \(bind: u.intent.value)
                  AND lease_owner = \(bind: update.owner)
                RETURNING intent_id
                """
            ).all()
            guard !updated.isEmpty else {
                throw StorageError(.conflict, "the follow-up of intent '\(u.intent)' is not leased to this process")
            }
        case .updateDepositScan(let owner, let r):
            let updated = try await db.raw(
                """
                UPDATE deposit_scans
                SET next_block = \(bind: r.nextBlock), last_hash = \(bind: r.lastHash),
                    next_check_at = \(bind: r.nextCheckAt.seconds), lease_owner = NULL, lease_until = NULL,
                    updated_at = \(bind: r.updatedAt.seconds)
                WHERE org_id = \(bind: r.organization.value) AND wallet_id = \(bind: r.wallet.value)
                  AND lease_owner = \(bind: owner)
                RETURNING wallet_id
                """
            ).all()
            guard !updated.isEmpty else {
                throw StorageError(.conflict, "the deposit scan of '\(r.wallet)' is not leased to this process")
            }
        case .releaseCoins(let org, let intent):
            try await db.raw(
                """
                DELETE FROM coin_reservations WHERE org_id = \(bind: org.value) AND intent_id = \(bind: intent.value)
                """
            ).run()
        case .updateWebhook(let owner, let w):
            let updated = try await db.raw(
                """
                UPDATE webhook_deliveries
                SET state = \(bind: w.state.rawValue), attempts = \(bind: Int64(w.attempts)),
                    last_error = \(bind: w.lastError), next_attempt_at = \(bind: w.nextAttemptAt.seconds),
                    lease_owner = NULL, lease_until = NULL
                WHERE id = \(bind: w.id) AND lease_owner = \(bind: owner)
                RETURNING id
                """
            ).all()
            guard !updated.isEmpty else {
                throw StorageError(.conflict, "webhook delivery '\(w.id)' is not leased to this process")
            }
        case .updateProposal(let r, let expected):
            let updated = try await db.raw(
                """
                UPDATE policy_proposals
                SET signatures = \(bind: Data(r.signatures)), signature_count = \(bind: Int64(r.signatureCount)),
                    state = \(bind: r.state.rawValue), updated_at = \(bind: r.updatedAt.seconds)
                WHERE org_id = \(bind: r.organization.value) AND id = \(bind: r.id) AND state = 'open'
                  AND signature_count = \(bind: Int64(expected))
                RETURNING id
                """
            ).all()
            guard !updated.isEmpty else {
                throw StorageError(.conflict, "proposal '\(r.id.prefix(16))' changed meanwhile or is no longer open")
            }
        case .revokeToken(let organization, let id, let at):
            let updated = try await db.raw(
                """
                UPDATE api_tokens SET revoked_at = \(bind: at.seconds)
                WHERE org_id = \(bind: organization.value) AND id = \(bind: id) AND revoked_at IS NULL
                RETURNING id
                """
            ).all()
            guard updated.isEmpty else { return nil }
            let exists = try await db.raw(
                "SELECT id FROM api_tokens WHERE org_id = \(bind: organization.value) AND id = \(bind: id)"
            ).first()
            guard exists != nil else { throw StorageError(.missingReference, "no token '\(id)'") }
            throw StorageError(.conflict, "token '\(id)' is already revoked")
        case .insertAddress(let a):
            let last = try await db.raw(
                """
                SELECT MAX(idx) AS last FROM addresses
                WHERE org_id = \(bind: a.organization.value) AND wallet_id = \(bind: a.wallet.value)
                  AND branch = \(bind: a.branch)
                """
            ).first()
            let lastIndex = try last.flatMap {
                try $0.decodeNil(column: "last") ? nil : $0.decode(column: "last", as: Int64.self)
            }
            guard a.index == (lastIndex ?? -1) + 1 else {
                throw StorageError(.conflict, "address index \(a.index) is not the next one of \(a.wallet)")
            }
            try await db.raw(
                """
                INSERT INTO addresses (org_id, wallet_id, branch, idx, address, label, created_at, used)
                VALUES (\(bind: a.organization.value), \(bind: a.wallet.value), \(bind: a.branch), \(bind: a.index),
                        \(bind: a.address), \(bind: a.label), \(bind: a.createdAt.seconds), \(bind: a.used ? 1 : 0))
                """
            ).run()
        case .advanceIntent(let organization, let id, let from, let to, let kind, let subject, let payload, let at):
            let event: PendingAudit = (organization, kind, subject, payload, at)
            if flavor == .postgres {
                let call =
                    "SELECT out_seq, out_previous, out_hash FROM " + advanceFunction(organization, id, from, to, event)
                return try await db.raw(call).first().map { row in try checkedAuditEvent(row, event) }
            }
            let updated = try await db.raw(
                """
                UPDATE intents SET state = \(bind: to.rawValue)
                WHERE org_id = \(bind: organization.value) AND id = \(bind: id.value) AND state = \(bind: from.rawValue)
                RETURNING id
                """
            ).all()
            guard !updated.isEmpty else {
                try await requireIntent(organization, id, on: db)
                return nil
            }
            return try await appendAuditHere(event, on: db)
        case .audit(let organization, let kind, let subject, let payload, let at) where flavor == .postgres:
            return try await appendAuditInDatabase(organization, kind, subject, payload, at, on: db)
        case .audit(let organization, let kind, let subject, let payload, let at):
            return try await appendAuditHere((organization, kind, subject, payload, at), on: db)
        default:
            throw StorageError(.backend, "an insert-only change is run by its insertStatement")
        }
        return nil
    }

    /// SQLite: the event linked to the head of the organisation's chain, computed here (the row is locked).
    private static func appendAuditHere(_ a: PendingAudit, on db: any SQLDatabase) async throws -> AuditEvent {
        let last = try await db.raw(
            """
            SELECT \(Self.auditColumns) FROM audit_events WHERE org_id = \(bind: a.organization.value)
            ORDER BY seq DESC LIMIT 1
            """
        ).first().map(Self.auditEvent)
        let event = AuditEvent(
            following: last, organization: a.organization, kind: a.kind, subject: a.subject, payload: a.payload,
            at: a.at)
        try await db.raw(
            """
            INSERT INTO audit_events (org_id, seq, kind, subject, payload, at, previous_hash, hash)
            VALUES (\(bind: a.organization.value), \(bind: event.sequence), \(bind: event.kind),
                    \(bind: event.subject), \(bind: Data(event.payload)), \(bind: event.at.seconds),
                    \(bind: Data(event.previousHash.bytes)), \(bind: Data(event.hash.bytes)))
            """
        ).run()
        return event
    }

    /// PostgreSQL: one call of `kura_append_audit` (migration 0013) locks the organisation's row and appends the
    /// event after the head of its chain. The hash the database computed is checked against ``AuditEvent``'s own
    /// before the unit goes on: a difference (a changed function, another encoding) fails the unit, never the chain.
    private static func appendAuditInDatabase(
        _ organization: OrganizationID, _ kind: String, _ subject: String, _ payload: [UInt8], _ at: Timestamp,
        on db: any SQLDatabase
    ) async throws -> AuditEvent {
        let audit: PendingAudit = (organization, kind, subject, payload, at)
        guard let row = try await db.raw(auditAppendCall(audit)).first() else {
            throw StorageError(.backend, "kura_append_audit returned no row")
        }
        return try checkedAuditEvent(row, audit)
    }

    /// PostgreSQL: before a process uses `kura_append_audit`, two events it appends to a scratch organisation
    /// (rolled back to a savepoint) must equal ``AuditEvent``'s, text and bytes beyond ASCII included; otherwise
    /// the store does not open (`schemaMismatch`). Runs in ``migrate()``, which every `kura serve` runs at start.
    static func checkAuditFunction(_ db: any SQLDatabase) async throws {
        let org = try OrganizationID("kura-audit-check-\(UInt64.random(in: 0...UInt64.max))")
        let at = try Timestamp(seconds: 1_700_000_000)
        try await db.raw("SAVEPOINT kura_audit_check").run()
        try await db.raw(
            """
            INSERT INTO organizations (id, name, genesis_hash, created_at)
            VALUES (\(bind: org.value), 'audit function check', \(bind: Data(repeating: 0, count: 32)), 0)
            """
        ).run()
        var previous: AuditEvent?
        var differs = false
        let events: [PendingAudit] = [
            (org, "check.first", "intent-é-日本-\u{1F511}", [0, 1, 0x27, 0x5C, 0xFF], at),
            (org, "check.second", "", (0...255).map { UInt8($0) }, at.adding(seconds: 1)),
        ]
        for a in events {
            // A function that fails counts as one that differs (the savepoint undoes its aborted statement).
            let row = try? await db.raw(auditAppendCall(a)).first()
            let expected = AuditEvent(
                following: previous, organization: a.organization, kind: a.kind, subject: a.subject,
                payload: a.payload, at: a.at)
            guard let row, (try? checkedAuditEvent(row, a)) == expected else {
                differs = true
                break
            }
            previous = expected
        }
        try await db.raw("ROLLBACK TO SAVEPOINT kura_audit_check").run()
        if differs {
            throw StorageError(
                .schemaMismatch, "the database's kura_append_audit does not compute AuditEvent's links and hashes")
        }
    }

    private static func auditAppendCall(_ a: PendingAudit) -> SQLQueryString {
        "SELECT out_seq, out_previous, out_hash FROM " + auditAppendFunction(a)
    }

    private static func auditAppendFunction(_ a: PendingAudit) -> SQLQueryString {
        """
        kura_append_audit(
            \(bind: a.organization.value), \(bind: a.kind), \(bind: a.subject), \(bind: Data(a.payload)),
            \(bind: a.at.seconds))
        """
    }

    /// The event the database appended, refused (the unit rolled back) unless its hash is ``AuditEvent``'s.
    private static func checkedAuditEvent(_ row: any SQLRow, _ a: PendingAudit, prefix: String = "out") throws
        -> AuditEvent
    {
        let event = AuditEvent(
            stored: a.organization, sequence: try row.decode(column: "\(prefix)_seq", as: Int64.self), kind: a.kind,
            subject: a.subject, payload: a.payload, at: a.at, previousHash: try row.hash("\(prefix)_previous"),
            hash: try row.hash("\(prefix)_hash"))
        guard event.hasValidHash else {
            throw StorageError(.backend, "the database's audit hash differs from AuditEvent's; nothing was stored")
        }
        return event
    }

    private static func appendPolicy(
        _ policy: PolicyVersionRecord, members: [MemberRecord], credentials: [CredentialRecord],
        on db: any SQLDatabase
    ) async throws {
        let org = policy.organization
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
                    .conflict, "policy version \(policy.version) does not follow the current version \(headVersion)")
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

    // MARK: Tokens, idempotency, addresses

    public func token(_ organization: OrganizationID, id: String) async throws(StorageError) -> TokenRecord? {
        try await read { db in
            try await db.raw(
                """
                SELECT \(Self.tokenColumns) FROM api_tokens
                WHERE org_id = \(bind: organization.value) AND id = \(bind: id)
                """
            ).first().map(Self.tokenRecord)
        }
    }

    public func authentication(_ organization: OrganizationID, token id: String, idempotencyKey: String?)
        async throws(StorageError) -> (token: TokenRecord?, policyHead: PolicyHead?, idempotency: IdempotencyRecord?)
    {
        let query = Self.authenticationQuery(
            sessions.flavor, organization: organization, token: id, idempotencyKey: idempotencyKey)
        return try await read { db in
            guard let row = try await db.raw(query).first() else {
                throw StorageError(.backend, "the authentication read returned no row")
            }
            let token = try row.decodeNil(column: "id") ? nil : Self.tokenRecord(row)
            let head =
                try row.decodeNil(column: "head_version")
                ? nil
                : PolicyHead(
                    version: try row.decode(column: "head_version", as: Int64.self), hash: try row.hash("head_hash"))
            var stored: IdempotencyRecord?
            if let token, let idempotencyKey, try !row.decodeNil(column: "idem_status") {
                stored = IdempotencyRecord(
                    organization: organization, member: token.member, key: idempotencyKey,
                    requestHash: try row.bytes("idem_request_hash"),
                    status: try row.decode(column: "idem_status", as: Int.self),
                    response: try row.bytes("idem_response"),
                    createdAt: try row.timestamp("idem_created_at"))
            }
            return (token, head, stored)
        }
    }

    /// One row always: the token's columns are NULL when there is no such token, the head's when there is no policy
    /// yet, the idempotency record's when the token's member stored no create under the key (or there is no key).
    /// PostgreSQL: the same query inside a function (migration 0015), whose plan is kept between calls.
    private static func authenticationQuery(
        _ flavor: SQLFlavor, organization: OrganizationID, token id: String, idempotencyKey: String?
    ) -> SQLQueryString {
        if flavor == .postgres {
            return """
                SELECT * FROM kura_authentication(\(bind: organization.value), \(bind: id), \(bind: idempotencyKey))
                """
        }
        var query: SQLQueryString = """
            SELECT api_tokens.org_id, api_tokens.id, api_tokens.member_id, api_tokens.secret_hash,
                   api_tokens.request_digest, api_tokens.created_at, api_tokens.expires_at, api_tokens.revoked_at,
                   head.version AS head_version, head.hash AS head_hash
            """
        if idempotencyKey != nil {
            query += """
                , idem.request_hash AS idem_request_hash, idem.status AS idem_status,
                  idem.response AS idem_response, idem.created_at AS idem_created_at
                """
        }
        query += """
             FROM (SELECT 1 AS one) AS one
            LEFT JOIN api_tokens ON api_tokens.org_id = \(bind: organization.value) AND api_tokens.id = \(bind: id)
            LEFT JOIN (
                SELECT version, hash FROM policy_versions WHERE org_id = \(bind: organization.value)
                ORDER BY version DESC LIMIT 1
            ) AS head ON 1 = 1
            """
        if let idempotencyKey {
            query += """
                 LEFT JOIN idempotency_keys AS idem ON idem.org_id = api_tokens.org_id
                    AND idem.member_id = api_tokens.member_id AND idem.idem_key = \(bind: idempotencyKey)
                """
        }
        return query
    }

    public func tokens(_ organization: OrganizationID, member: MemberID?) async throws(StorageError) -> [TokenRecord] {
        try await read { db in
            let query: SQLQueryString
            if let member {
                query = """
                    SELECT \(Self.tokenColumns) FROM api_tokens
                    WHERE org_id = \(bind: organization.value) AND member_id = \(bind: member.value)
                    ORDER BY created_at DESC, id
                    """
            } else {
                query = """
                    SELECT \(Self.tokenColumns) FROM api_tokens WHERE org_id = \(bind: organization.value)
                    ORDER BY created_at DESC, id
                    """
            }
            return try await db.raw(query).all().map(Self.tokenRecord)
        }
    }

    private static let tokenColumns: SQLQueryString =
        "org_id, id, member_id, secret_hash, request_digest, created_at, expires_at, revoked_at"

    private static func tokenRecord(_ row: any SQLRow) throws -> TokenRecord {
        TokenRecord(
            organization: try row.organization(), id: try row.decode(column: "id", as: String.self),
            member: try MemberID(row.decode(column: "member_id", as: String.self)),
            secretHash: try row.bytes("secret_hash"), requestDigest: try row.hash("request_digest"),
            createdAt: try row.timestamp("created_at"), expiresAt: try row.timestamp("expires_at"),
            revokedAt: try row.decodeNil(column: "revoked_at") ? nil : row.timestamp("revoked_at"))
    }

    public func idempotency(_ organization: OrganizationID, member: MemberID, key: String) async throws(StorageError)
        -> IdempotencyRecord?
    {
        try await read { db in
            try await db.raw(
                """
                SELECT org_id, member_id, idem_key, request_hash, status, response, created_at FROM idempotency_keys
                WHERE org_id = \(bind: organization.value) AND member_id = \(bind: member.value)
                  AND idem_key = \(bind: key)
                """
            ).first().map { row in
                IdempotencyRecord(
                    organization: try row.organization(),
                    member: try MemberID(row.decode(column: "member_id", as: String.self)),
                    key: try row.decode(column: "idem_key", as: String.self),
                    requestHash: try row.bytes("request_hash"),
                    status: try row.decode(column: "status", as: Int.self), response: try row.bytes("response"),
                    createdAt: try row.timestamp("created_at"))
            }
        }
    }

    public func addresses(_ organization: OrganizationID, wallet: WalletID, branch: Int) async throws(StorageError)
        -> [AddressRecord]
    {
        try await read { db in
            try await db.raw(
                """
                SELECT org_id, wallet_id, branch, idx, address, label, created_at, used FROM addresses
                WHERE org_id = \(bind: organization.value) AND wallet_id = \(bind: wallet.value)
                  AND branch = \(bind: branch)
                ORDER BY idx
                """
            ).all().map { row in
                AddressRecord(
                    organization: try row.organization(),
                    wallet: try WalletID(row.decode(column: "wallet_id", as: String.self)),
                    branch: try row.decode(column: "branch", as: Int.self),
                    index: try row.decode(column: "idx", as: Int64.self),
                    address: try row.decode(column: "address", as: String.self),
                    label: try row.decode(column: "label", as: String.self),
                    createdAt: try row.timestamp("created_at"),
                    used: try row.decode(column: "used", as: Int64.self) != 0)
            }
        }
    }
}
