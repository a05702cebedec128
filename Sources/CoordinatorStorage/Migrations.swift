/// The SQL both adapters share, with the few spellings that differ filled in per back end.
enum SQLFlavor: Sendable {
    case sqlite, postgres

    /// Fills `{bytes}`, `{int}` and `{strict}` in a statement.
    func render(_ template: String) -> String {
        switch self {
        case .sqlite:
            template.replacing("{bytes}", with: "BLOB").replacing("{int}", with: "INTEGER")
                .replacing("{strict}", with: " STRICT")
        case .postgres:
            template.replacing("{bytes}", with: "BYTEA").replacing("{int}", with: "BIGINT")
                .replacing("{strict}", with: "")
        }
    }
}

/// A named schema change. Migrations are append-only: a released migration is never edited, renamed or
/// reordered; a change to the schema is a new migration at the end of ``Migration/all``.
struct Migration: Sendable {
    /// The name recorded in `kura_migrations`.
    let name: String
    /// The statements, applied in order in one transaction.
    let statements: [String]
    /// The one back end whose schema this migration changes (`nil`: both). The other back end records the
    /// migration's name and runs none of its statements, so both keep one list of names.
    var only: SQLFlavor? = nil

    /// Every migration, in the order it is applied.
    static let all: [Migration] = [
        Migration(
            name: "0001-organizations",
            statements: [
                """
                CREATE TABLE organizations (
                    id TEXT NOT NULL PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
                    name TEXT NOT NULL,
                    genesis_hash {bytes} NOT NULL CHECK (length(genesis_hash) = 32),
                    created_at {int} NOT NULL CHECK (created_at >= 0)
                ){strict}
                """
            ]),
        Migration(
            name: "0002-policy-versions-members-credentials",
            statements: [
                """
                CREATE TABLE policy_versions (
                    org_id TEXT NOT NULL REFERENCES organizations (id),
                    version {int} NOT NULL CHECK (version >= 0),
                    hash {bytes} NOT NULL CHECK (length(hash) = 32),
                    previous_hash {bytes} CHECK (previous_hash IS NULL OR length(previous_hash) = 32),
                    document {bytes} NOT NULL,
                    stored_at {int} NOT NULL,
                    PRIMARY KEY (org_id, version),
                    UNIQUE (org_id, hash)
                ){strict}
                """,
                """
                CREATE TABLE members (
                    org_id TEXT NOT NULL,
                    policy_version {int} NOT NULL,
                    member_id TEXT NOT NULL CHECK (length(member_id) BETWEEN 1 AND 64),
                    name TEXT NOT NULL,
                    roles TEXT NOT NULL,
                    PRIMARY KEY (org_id, policy_version, member_id),
                    FOREIGN KEY (org_id, policy_version) REFERENCES policy_versions (org_id, version)
                ){strict}
                """,
                """
                CREATE TABLE credentials (
                    org_id TEXT NOT NULL,
                    policy_version {int} NOT NULL,
                    credential_id TEXT NOT NULL CHECK (length(credential_id) BETWEEN 1 AND 64),
                    member_id TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    public_key {bytes} NOT NULL,
                    PRIMARY KEY (org_id, policy_version, credential_id),
                    FOREIGN KEY (org_id, policy_version, member_id)
                        REFERENCES members (org_id, policy_version, member_id)
                ){strict}
                """,
            ]),
        Migration(
            name: "0003-intents",
            statements: [
                """
                CREATE TABLE intents (
                    org_id TEXT NOT NULL,
                    id TEXT NOT NULL CHECK (length(id) BETWEEN 1 AND 64),
                    digest {bytes} NOT NULL CHECK (length(digest) = 32),
                    policy_version {int} NOT NULL,
                    initiator TEXT NOT NULL,
                    wallet TEXT NOT NULL,
                    asset TEXT NOT NULL,
                    destination TEXT NOT NULL CHECK (length(destination) > 0),
                    amount TEXT NOT NULL CHECK (length(amount) BETWEEN 1 AND 78),
                    state TEXT NOT NULL CHECK (state IN ('draft', 'awaitingApprovals', 'approved', 'built',
                        'signing', 'signed', 'broadcast', 'confirmed', 'rejected', 'expired', 'failed')),
                    document {bytes} NOT NULL,
                    created_at {int} NOT NULL,
                    expires_at {int} NOT NULL CHECK (expires_at >= created_at),
                    PRIMARY KEY (org_id, id),
                    UNIQUE (org_id, digest),
                    FOREIGN KEY (org_id, policy_version) REFERENCES policy_versions (org_id, version),
                    FOREIGN KEY (org_id, policy_version, initiator)
                        REFERENCES members (org_id, policy_version, member_id)
                ){strict}
                """,
                "CREATE INDEX intents_by_state ON intents (org_id, state, created_at)",
                "CREATE INDEX intents_by_time ON intents (org_id, created_at)",
            ]),
        Migration(
            name: "0004-approvals-bundles-receipts",
            statements: [
                """
                CREATE TABLE approvals (
                    org_id TEXT NOT NULL,
                    intent_id TEXT NOT NULL,
                    approver TEXT NOT NULL,
                    credential_id TEXT NOT NULL,
                    document {bytes} NOT NULL,
                    stored_at {int} NOT NULL,
                    PRIMARY KEY (org_id, intent_id, approver),
                    FOREIGN KEY (org_id, intent_id) REFERENCES intents (org_id, id)
                ){strict}
                """,
                """
                CREATE TABLE bundles (
                    org_id TEXT NOT NULL,
                    intent_id TEXT NOT NULL,
                    digest {bytes} NOT NULL CHECK (length(digest) = 32),
                    bytes {bytes} NOT NULL,
                    issued_at {int} NOT NULL,
                    PRIMARY KEY (org_id, intent_id),
                    FOREIGN KEY (org_id, intent_id) REFERENCES intents (org_id, id)
                ){strict}
                """,
                """
                CREATE TABLE receipts (
                    org_id TEXT NOT NULL,
                    intent_id TEXT NOT NULL,
                    signer_id TEXT NOT NULL,
                    document {bytes} NOT NULL,
                    stored_at {int} NOT NULL,
                    PRIMARY KEY (org_id, intent_id, signer_id),
                    FOREIGN KEY (org_id, intent_id) REFERENCES intents (org_id, id)
                ){strict}
                """,
            ]),
        Migration(
            name: "0005-audit-events",
            statements: [
                """
                CREATE TABLE audit_events (
                    org_id TEXT NOT NULL REFERENCES organizations (id),
                    seq {int} NOT NULL CHECK (seq >= 1),
                    kind TEXT NOT NULL CHECK (length(kind) > 0),
                    subject TEXT NOT NULL,
                    payload {bytes} NOT NULL,
                    at {int} NOT NULL,
                    previous_hash {bytes} NOT NULL CHECK (length(previous_hash) = 32),
                    hash {bytes} NOT NULL CHECK (length(hash) = 32),
                    PRIMARY KEY (org_id, seq),
                    UNIQUE (org_id, hash)
                ){strict}
                """
            ]),
        Migration(
            name: "0006-tokens-idempotency-addresses",
            statements: [
                """
                CREATE TABLE api_tokens (
                    org_id TEXT NOT NULL REFERENCES organizations (id),
                    id TEXT NOT NULL CHECK (length(id) = 16),
                    member_id TEXT NOT NULL CHECK (length(member_id) BETWEEN 1 AND 64),
                    secret_hash {bytes} NOT NULL CHECK (length(secret_hash) = 32),
                    request_digest {bytes} NOT NULL CHECK (length(request_digest) = 32),
                    created_at {int} NOT NULL,
                    expires_at {int} NOT NULL CHECK (expires_at > created_at),
                    revoked_at {int} CHECK (revoked_at IS NULL OR revoked_at >= created_at),
                    PRIMARY KEY (org_id, id),
                    UNIQUE (org_id, request_digest)
                ){strict}
                """,
                "CREATE INDEX api_tokens_by_member ON api_tokens (org_id, member_id, created_at)",
                """
                CREATE TABLE idempotency_keys (
                    org_id TEXT NOT NULL REFERENCES organizations (id),
                    member_id TEXT NOT NULL,
                    idem_key TEXT NOT NULL CHECK (length(idem_key) BETWEEN 1 AND 200),
                    request_hash {bytes} NOT NULL CHECK (length(request_hash) = 32),
                    status {int} NOT NULL CHECK (status BETWEEN 200 AND 599),
                    response {bytes} NOT NULL,
                    created_at {int} NOT NULL,
                    PRIMARY KEY (org_id, member_id, idem_key)
                ){strict}
                """,
                """
                CREATE TABLE addresses (
                    org_id TEXT NOT NULL REFERENCES organizations (id),
                    wallet_id TEXT NOT NULL CHECK (length(wallet_id) BETWEEN 1 AND 64),
                    branch {int} NOT NULL CHECK (branch IN (0, 1)),
                    idx {int} NOT NULL CHECK (idx >= 0 AND idx < 2147483648),
                    address TEXT NOT NULL CHECK (length(address) BETWEEN 1 AND 100),
                    label TEXT NOT NULL CHECK (length(label) <= 200),
                    created_at {int} NOT NULL,
                    used {int} NOT NULL CHECK (used IN (0, 1)),
                    PRIMARY KEY (org_id, wallet_id, branch, idx),
                    UNIQUE (org_id, address)
                ){strict}
                """,
            ]),
        Migration(
            name: "0007-receipt-results-signed-transactions",
            statements: [
                "ALTER TABLE receipts ADD COLUMN sequence {int} NOT NULL DEFAULT 0 CHECK (sequence >= 0)",
                "ALTER TABLE receipts ADD COLUMN result {bytes}",
                "CREATE INDEX receipts_by_signer ON receipts (org_id, signer_id, sequence)",
                """
                CREATE TABLE signed_transactions (
                    org_id TEXT NOT NULL,
                    intent_id TEXT NOT NULL,
                    chain TEXT NOT NULL CHECK (chain IN ('bitcoin', 'ethereum')),
                    txid TEXT NOT NULL CHECK (length(txid) BETWEEN 64 AND 66),
                    raw {bytes} NOT NULL,
                    signed_at {int} NOT NULL,
                    PRIMARY KEY (org_id, intent_id),
                    FOREIGN KEY (org_id, intent_id) REFERENCES intents (org_id, id)
                ){strict}
                """,
            ]),
        Migration(
            name: "0008-coin-reservations",
            statements: [
                """
                CREATE TABLE coin_reservations (
                    org_id TEXT NOT NULL,
                    txid TEXT NOT NULL CHECK (length(txid) = 64),
                    vout {int} NOT NULL CHECK (vout >= 0 AND vout < 4294967296),
                    intent_id TEXT NOT NULL,
                    PRIMARY KEY (org_id, txid, vout),
                    FOREIGN KEY (org_id, intent_id) REFERENCES intents (org_id, id)
                ){strict}
                """
            ]),
        Migration(
            name: "0009-transaction-watch",
            statements: [
                """
                CREATE TABLE transaction_watch (
                    org_id TEXT NOT NULL,
                    intent_id TEXT NOT NULL,
                    network TEXT NOT NULL CHECK (length(network) BETWEEN 9 AND 40),
                    attempts {int} NOT NULL CHECK (attempts >= 0),
                    last_error TEXT,
                    block_height {int} CHECK (block_height >= 0),
                    confirmations {int} NOT NULL CHECK (confirmations >= 0),
                    next_check_at {int} NOT NULL,
                    done {int} NOT NULL CHECK (done IN (0, 1)),
                    lease_owner TEXT,
                    lease_until {int},
                    updated_at {int} NOT NULL,
                    PRIMARY KEY (org_id, intent_id),
                    FOREIGN KEY (org_id, intent_id) REFERENCES signed_transactions (org_id, intent_id)
                ){strict}
                """,
                "CREATE INDEX transaction_watch_due ON transaction_watch (done, next_check_at)",
            ]),
        Migration(
            name: "0010-deposits",
            statements: [
                """
                CREATE TABLE deposits (
                    org_id TEXT NOT NULL,
                    wallet_id TEXT NOT NULL,
                    chain TEXT NOT NULL CHECK (chain IN ('bitcoin', 'ethereum')),
                    txid TEXT NOT NULL CHECK (length(txid) BETWEEN 64 AND 66),
                    position {int} NOT NULL CHECK (position >= -1),
                    asset TEXT NOT NULL,
                    address TEXT NOT NULL,
                    amount TEXT NOT NULL,
                    block_height {int} CHECK (block_height >= 0),
                    confirmations {int} NOT NULL CHECK (confirmations >= 0),
                    state TEXT NOT NULL CHECK (state IN ('pending', 'confirmed', 'removed')),
                    first_seen_at {int} NOT NULL,
                    updated_at {int} NOT NULL,
                    PRIMARY KEY (org_id, chain, txid, position),
                    FOREIGN KEY (org_id) REFERENCES organizations (id)
                ){strict}
                """,
                "CREATE INDEX deposits_by_wallet ON deposits (org_id, wallet_id, first_seen_at)",
                """
                CREATE TABLE deposit_scans (
                    org_id TEXT NOT NULL,
                    wallet_id TEXT NOT NULL,
                    next_block {int},
                    last_hash TEXT,
                    next_check_at {int} NOT NULL,
                    lease_owner TEXT,
                    lease_until {int},
                    updated_at {int} NOT NULL,
                    PRIMARY KEY (org_id, wallet_id),
                    FOREIGN KEY (org_id) REFERENCES organizations (id)
                ){strict}
                """,
            ]),
        Migration(
            name: "0011-webhook-deliveries",
            statements: [
                """
                CREATE TABLE webhook_deliveries (
                    id TEXT NOT NULL PRIMARY KEY CHECK (length(id) = 35),
                    org_id TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    body {bytes} NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
                    attempts {int} NOT NULL CHECK (attempts >= 0),
                    last_error TEXT,
                    next_attempt_at {int} NOT NULL,
                    created_at {int} NOT NULL,
                    lease_owner TEXT,
                    lease_until {int},
                    FOREIGN KEY (org_id) REFERENCES organizations (id)
                ){strict}
                """,
                "CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at)",
                "CREATE INDEX webhook_deliveries_by_org ON webhook_deliveries (org_id, created_at)",
            ]),
        Migration(
            name: "0012-policy-proposals",
            statements: [
                """
                CREATE TABLE policy_proposals (
                    org_id TEXT NOT NULL,
                    id TEXT NOT NULL CHECK (length(id) = 64),
                    version {int} NOT NULL CHECK (version >= 2),
                    document {bytes} NOT NULL,
                    proposer TEXT NOT NULL,
                    signatures {bytes} NOT NULL,
                    signature_count {int} NOT NULL CHECK (signature_count >= 0),
                    required {int} NOT NULL CHECK (required >= 1),
                    state TEXT NOT NULL CHECK (state IN ('open', 'applied', 'superseded')),
                    created_at {int} NOT NULL,
                    updated_at {int} NOT NULL,
                    PRIMARY KEY (org_id, id),
                    FOREIGN KEY (org_id) REFERENCES organizations (id)
                ){strict}
                """,
                "CREATE INDEX policy_proposals_by_org ON policy_proposals (org_id, created_at)",
            ]),
        Migration(
            name: "0013-postgres-audit-append",
            statements: [
                // One round trip appends an audit event: the function locks the organisation's row, reads the head of
                // its chain and inserts the next event with its link and hash computed here, so the row lock is held
                // from this call to COMMIT instead of across three round trips. The hash is the one
                // `AuditEvent.computeHash` defines (SHA-256 over a domain tag and big-endian length-prefixed fields);
                // the adapter recomputes it in Swift on every append and refuses the unit if the two differ.
                """
                CREATE FUNCTION kura_append_audit(p_org TEXT, p_kind TEXT, p_subject TEXT, p_payload BYTEA, p_at BIGINT)
                RETURNS TABLE (out_seq BIGINT, out_previous BYTEA, out_hash BYTEA)
                LANGUAGE plpgsql AS $$
                DECLARE
                    v_seq BIGINT;
                    v_previous BYTEA;
                    v_org BYTEA := convert_to(p_org, 'UTF8');
                    v_kind BYTEA := convert_to(p_kind, 'UTF8');
                    v_subject BYTEA := convert_to(p_subject, 'UTF8');
                    v_tag BYTEA := convert_to('kura/audit-event/v1', 'UTF8');
                BEGIN
                    PERFORM 1 FROM organizations o WHERE o.id = p_org FOR NO KEY UPDATE;
                    IF NOT FOUND THEN
                        RAISE EXCEPTION 'no organisation ''%''', p_org USING ERRCODE = 'foreign_key_violation';
                    END IF;
                    SELECT e.seq, e.hash INTO v_seq, v_previous FROM audit_events e
                    WHERE e.org_id = p_org ORDER BY e.seq DESC LIMIT 1;
                    IF NOT FOUND THEN
                        v_seq := 0;
                        v_previous := decode(repeat('00', 32), 'hex');
                    END IF;
                    out_seq := v_seq + 1;
                    out_previous := v_previous;
                    out_hash := sha256(
                        int8send(octet_length(v_tag)::BIGINT) || v_tag
                        || int8send(octet_length(v_org)::BIGINT) || v_org
                        || int8send(out_seq)
                        || int8send(octet_length(v_kind)::BIGINT) || v_kind
                        || int8send(octet_length(v_subject)::BIGINT) || v_subject
                        || int8send(p_at)
                        || int8send(octet_length(p_payload)::BIGINT) || p_payload
                        || out_previous);
                    INSERT INTO audit_events (org_id, seq, kind, subject, payload, at, previous_hash, hash)
                    VALUES (p_org, out_seq, p_kind, p_subject, p_payload, p_at, out_previous, out_hash);
                    RETURN NEXT;
                END
                $$
                """,
                // An intent's state change with its audit event, one round trip: compare-and-set on the state, and
                // the event appended only when the state changed (no row otherwise: nothing was written).
                """
                CREATE FUNCTION kura_transition_intent(p_org TEXT, p_id TEXT, p_expected TEXT, p_new TEXT,
                                                       p_kind TEXT, p_subject TEXT, p_payload BYTEA, p_at BIGINT)
                RETURNS TABLE (out_seq BIGINT, out_previous BYTEA, out_hash BYTEA)
                LANGUAGE plpgsql AS $$
                BEGIN
                    UPDATE intents SET state = p_new WHERE org_id = p_org AND id = p_id AND state = p_expected;
                    IF NOT FOUND THEN
                        RETURN;
                    END IF;
                    RETURN QUERY SELECT a.out_seq, a.out_previous, a.out_hash
                                 FROM kura_append_audit(p_org, p_kind, p_subject, p_payload, p_at) AS a;
                END
                $$
                """,
            ],
            only: .postgres),
        Migration(
            name: "0014-postgres-advance-intent",
            statements: [
                // `StoreChange.advanceIntent` in one call: `kura_transition_intent` (the compare-and-set and its event;
                // nothing when the intent is in another state: another request moved it first), and a foreign-key
                // error when there is no such intent, raised inside the statement, so a unit run as one statement
                // stays all or nothing.
                """
                CREATE FUNCTION kura_advance_intent(p_org TEXT, p_id TEXT, p_from TEXT, p_to TEXT,
                                                    p_kind TEXT, p_subject TEXT, p_payload BYTEA, p_at BIGINT)
                RETURNS TABLE (out_seq BIGINT, out_previous BYTEA, out_hash BYTEA)
                LANGUAGE plpgsql AS $$
                BEGIN
                    RETURN QUERY SELECT t.out_seq, t.out_previous, t.out_hash
                                 FROM kura_transition_intent(p_org, p_id, p_from, p_to, p_kind, p_subject, p_payload,
                                                             p_at) AS t;
                    IF NOT FOUND THEN
                        PERFORM 1 FROM intents i WHERE i.org_id = p_org AND i.id = p_id;
                        IF NOT FOUND THEN
                            RAISE EXCEPTION 'no intent ''%''', p_id USING ERRCODE = 'foreign_key_violation';
                        END IF;
                    END IF;
                END
                $$
                """
            ],
            only: .postgres),
        Migration(
            name: "0015-postgres-authentication-read",
            statements: [
                // The authentication read of every API request (``SQLCoordinatorStore/authentication(_:token:
                // idempotencyKey:)``) as a PL/pgSQL function: PL/pgSQL keeps its statements' plans per connection,
                // where the same query sent unnamed by PostgresKit was planned on every call — measured with
                // pg_stat_statements, planning took 0.26 ms per call against 0.04 ms executing it (ADR 0015).
                // One row always; columns as in the SQLite query, NULL where there is nothing.
                """
                CREATE FUNCTION kura_authentication(p_org TEXT, p_token TEXT, p_key TEXT)
                RETURNS TABLE (org_id TEXT, id TEXT, member_id TEXT, secret_hash BYTEA, request_digest BYTEA,
                               created_at BIGINT, expires_at BIGINT, revoked_at BIGINT, head_version BIGINT,
                               head_hash BYTEA, idem_request_hash BYTEA, idem_status BIGINT, idem_response BYTEA,
                               idem_created_at BIGINT)
                LANGUAGE plpgsql STABLE AS $$
                #variable_conflict use_column
                BEGIN
                    RETURN QUERY
                    SELECT t.org_id, t.id, t.member_id, t.secret_hash, t.request_digest, t.created_at, t.expires_at,
                           t.revoked_at, head.version, head.hash, i.request_hash, i.status, i.response, i.created_at
                    FROM (SELECT 1 AS one) AS one
                    LEFT JOIN api_tokens AS t ON t.org_id = p_org AND t.id = p_token
                    LEFT JOIN (
                        SELECT p.version, p.hash FROM policy_versions AS p WHERE p.org_id = p_org
                        ORDER BY p.version DESC LIMIT 1
                    ) AS head ON TRUE
                    LEFT JOIN idempotency_keys AS i ON p_key IS NOT NULL AND i.org_id = t.org_id
                        AND i.member_id = t.member_id AND i.idem_key = p_key;
                END
                $$
                """
            ],
            only: .postgres),
        Migration(
            name: "0016-postgres-approval-context",
            statements: [
                // ``SQLCoordinatorStore/approvalContext(_:intent:spendsSince:)``: the intent, its approvals and the
                // organisation's recent spends in one call (three round trips before, each planned afresh), in one
                // snapshot (STABLE). Rows tagged by `part`; each has the columns of the SQLite query it stands for,
                // NULL elsewhere. No row at all when there is no such intent.
                """
                CREATE FUNCTION kura_approval_context(p_org TEXT, p_intent TEXT, p_since BIGINT)
                RETURNS TABLE (part TEXT, org_id TEXT, id TEXT, digest BYTEA, policy_version BIGINT, initiator TEXT,
                               wallet TEXT, asset TEXT, destination TEXT, amount TEXT, state TEXT, document BYTEA,
                               created_at BIGINT, expires_at BIGINT, intent_id TEXT, approver TEXT,
                               credential_id TEXT, stored_at BIGINT)
                LANGUAGE plpgsql STABLE AS $$
                #variable_conflict use_column
                BEGIN
                    RETURN QUERY
                    SELECT 'intent'::TEXT, i.org_id, i.id, i.digest, i.policy_version, i.initiator, i.wallet, i.asset,
                           i.destination, i.amount, i.state, i.document, i.created_at, i.expires_at, NULL::TEXT,
                           NULL::TEXT, NULL::TEXT, NULL::BIGINT
                    FROM intents AS i WHERE i.org_id = p_org AND i.id = p_intent;
                    IF NOT FOUND THEN
                        RETURN;
                    END IF;
                    RETURN QUERY
                    SELECT 'approval'::TEXT, a.org_id, NULL::TEXT, NULL::BYTEA, NULL::BIGINT, NULL::TEXT, NULL::TEXT,
                           NULL::TEXT, NULL::TEXT, NULL::TEXT, NULL::TEXT, a.document, NULL::BIGINT, NULL::BIGINT,
                           a.intent_id, a.approver, a.credential_id, a.stored_at
                    FROM approvals AS a WHERE a.org_id = p_org AND a.intent_id = p_intent ORDER BY a.approver;
                    RETURN QUERY
                    SELECT 'spend'::TEXT, NULL::TEXT, NULL::TEXT, NULL::BYTEA, NULL::BIGINT, NULL::TEXT, s.wallet,
                           s.asset, NULL::TEXT, s.amount, NULL::TEXT, NULL::BYTEA, s.created_at, NULL::BIGINT,
                           NULL::TEXT, NULL::TEXT, NULL::TEXT, NULL::BIGINT
                    FROM intents AS s WHERE s.org_id = p_org AND s.state IN ('signed', 'broadcast', 'confirmed')
                      AND s.created_at > p_since;
                END
                $$
                """
            ],
            only: .postgres),
        Migration(
            name: "0017-postgres-move-intent",
            statements: [
                // An intent's compare-and-set alone (no event), for a unit that appends its events after it: an
                // approval completing the quorum moves the intent first and locks the organisation for its events
                // after, in the order every other state change takes the two rows. A foreign-key error when there
                // is no such intent, raised inside the statement (the unit stays all or nothing); `false` when it is
                // in another state.
                """
                CREATE FUNCTION kura_move_intent(p_org TEXT, p_id TEXT, p_from TEXT, p_to TEXT)
                RETURNS BOOLEAN
                LANGUAGE plpgsql AS $$
                BEGIN
                    UPDATE intents SET state = p_to WHERE org_id = p_org AND id = p_id AND state = p_from;
                    IF FOUND THEN
                        RETURN TRUE;
                    END IF;
                    PERFORM 1 FROM intents i WHERE i.org_id = p_org AND i.id = p_id;
                    IF NOT FOUND THEN
                        RAISE EXCEPTION 'no intent ''%''', p_id USING ERRCODE = 'foreign_key_violation';
                    END IF;
                    RETURN FALSE;
                END
                $$
                """,
                // The unit's second event only when its intent moved: a function of its own, because a condition in
                // the calling statement's WHERE would be checked after `kura_append_audit` had already appended.
                """
                CREATE FUNCTION kura_append_audit_if(p_append BOOLEAN, p_org TEXT, p_kind TEXT, p_subject TEXT,
                                                     p_payload BYTEA, p_at BIGINT)
                RETURNS TABLE (out_seq BIGINT, out_previous BYTEA, out_hash BYTEA)
                LANGUAGE plpgsql AS $$
                BEGIN
                    IF p_append THEN
                        RETURN QUERY SELECT a.out_seq, a.out_previous, a.out_hash
                                     FROM kura_append_audit(p_org, p_kind, p_subject, p_payload, p_at) AS a;
                    END IF;
                END
                $$
                """,
            ],
            only: .postgres),
        Migration(
            name: "0018-postgres-record-approval",
            statements: [
                // An approval's unit as one function, so that PostgreSQL keeps the plans of its statements (a
                // statement composed per call is parsed and planned at every call): the approval, its idempotency
                // record (none when `p_idem_key` is NULL), then — when `p_from` is not NULL, the approval completing
                // the quorum — the intent's move (`kura_move_intent`: the intent's row before the organisation's),
                // the approval's event, and the move's event only if it moved. The same steps, in the same order,
                // as the composed statement it replaces; one row, `moved_…` NULL when nothing moved.
                """
                CREATE FUNCTION kura_record_approval(
                    p_org TEXT, p_intent TEXT, p_approver TEXT, p_credential TEXT, p_document BYTEA,
                    p_stored_at BIGINT,
                    p_idem_member TEXT, p_idem_key TEXT, p_idem_request BYTEA, p_idem_status BIGINT,
                    p_idem_response BYTEA, p_idem_at BIGINT,
                    p_kind TEXT, p_subject TEXT, p_payload BYTEA, p_at BIGINT,
                    p_from TEXT, p_to TEXT, p_move_kind TEXT, p_move_subject TEXT, p_move_payload BYTEA,
                    p_move_at BIGINT)
                RETURNS TABLE (out_seq BIGINT, out_previous BYTEA, out_hash BYTEA,
                               moved_seq BIGINT, moved_previous BYTEA, moved_hash BYTEA)
                LANGUAGE plpgsql AS $$
                DECLARE
                    did BOOLEAN := FALSE;
                BEGIN
                    INSERT INTO approvals (org_id, intent_id, approver, credential_id, document, stored_at)
                    VALUES (p_org, p_intent, p_approver, p_credential, p_document, p_stored_at);
                    IF p_idem_key IS NOT NULL THEN
                        INSERT INTO idempotency_keys (org_id, member_id, idem_key, request_hash, status, response,
                                                      created_at)
                        VALUES (p_org, p_idem_member, p_idem_key, p_idem_request, p_idem_status, p_idem_response,
                                p_idem_at);
                    END IF;
                    IF p_from IS NOT NULL THEN
                        did := kura_move_intent(p_org, p_intent, p_from, p_to);
                    END IF;
                    SELECT a.out_seq, a.out_previous, a.out_hash INTO out_seq, out_previous, out_hash
                    FROM kura_append_audit(p_org, p_kind, p_subject, p_payload, p_at) AS a;
                    IF did THEN
                        SELECT m.out_seq, m.out_previous, m.out_hash INTO moved_seq, moved_previous, moved_hash
                        FROM kura_append_audit(p_org, p_move_kind, p_move_subject, p_move_payload, p_move_at) AS m;
                    END IF;
                    RETURN NEXT;
                END
                $$
                """
            ],
            only: .postgres),
    ]
}
