import Bitcoin
import Crypto
public import Governance
import Synchronization
import WalletCrypto

/// Where the coordinator's time comes from (injected, so tests can move it).
public protocol CoordinatorClock: Sendable {
    func now() -> Timestamp
}

/// How a coordinator deployment behaves.
public struct CoordinatorConfiguration: Sendable, Hashable {
    /// The audience session requests must name (one per deployment, e.g. `kura-coordinator:acme-prod`).
    public var audience: String
    /// How long an API token lives, in seconds.
    public var tokenLifetime: Int64
    /// How many unused receive addresses a wallet may have beyond its last used one.
    public var gapLimit: Int
    /// Whether deposit and withdrawal changes are queued for the webhook (a ``WebhookSender`` is configured).
    public var webhooks: Bool

    public init(
        audience: String = "kura-coordinator", tokenLifetime: Int64 = 12 * 3600, gapLimit: Int = 20,
        webhooks: Bool = false
    ) {
        self.audience = audience
        self.tokenLifetime = tokenLifetime
        self.gapLimit = gapLimit
        self.webhooks = webhooks
    }
}

/// A decided write: the value to answer with and the store changes that make it true, committed
/// together (with the idempotency record, when the request carries a key) by ``CoordinatorService/commit(_:)``.
public struct Prepared<Value: Sendable>: Sendable {
    public let value: Value
    public let changes: [StoreChange]
}

/// An intent with everything stored about it.
public struct IntentDetail: Sendable {
    public let record: IntentRecord
    public let approvals: [ApprovalRecord]
    public let bundle: BundleRecord?
    public let receipts: [ReceiptRecord]
}

/// The coordinator's use cases. Every document that comes in is verified with the governance core
/// against the organisation's own verified policy chain before it is stored, so the coordinator
/// refuses what the signer would refuse — but it is never trusted: the signer checks everything again.
public final class CoordinatorService: Sendable {
    public let store: any CoordinatorStore
    public let configuration: CoordinatorConfiguration
    /// Where transactions are built from and sent to, per network.
    public let chains: ChainSources
    private let clock: any CoordinatorClock
    private let verified = Mutex<[DocumentHash: VerifiedPolicy]>([:])
    /// Signed intents this process verified, by intent and policy hash (see ``verify(_:policy:)``).
    private let verifiedIntents = Memo<VerifiedIntentKey, VerifiedIntent>(capacity: verifiedIntentsKept)
    /// Stored intent documents this process parsed or stored, by their bytes (see ``signedIntent(_:)``).
    private let parsedIntents = Memo<[UInt8], SignedIntent>(capacity: verifiedIntentsKept)
    /// The most verified (and parsed) intents remembered (beyond it the memo starts over).
    static let verifiedIntentsKept = 4_096
    /// The policy versions whose wallets this process has already registered for deposit scans.
    let scansRegistered = Mutex<Set<DocumentHash>>([])

    public init(
        store: any CoordinatorStore, clock: any CoordinatorClock, configuration: CoordinatorConfiguration,
        chains: ChainSources = ChainSources()
    ) {
        self.store = store
        self.clock = clock
        self.configuration = configuration
        self.chains = chains
    }

    public var now: Timestamp { clock.now() }

    // MARK: Unit of work

    /// Applies the changes of a prepared write in one transaction.
    public func commit(_ changes: [StoreChange]) async throws(CoordinatorError) {
        do { _ = try await store.apply(changes) } catch { throw CoordinatorError(error) }
    }

    func call<R>(_ body: () async throws(StorageError) -> R) async throws(CoordinatorError) -> R {
        do { return try await body() } catch { throw CoordinatorError(error) }
    }

    /// The audit change of a typed record (docs/AUDIT.md).
    static func audit(_ org: OrganizationID, _ record: AuditRecord, at: Timestamp) -> StoreChange {
        .audit(org, kind: record.kind, subject: record.subject, payload: record.payload, at: at)
    }

    static func parse(_ bytes: [UInt8], what: String) throws(CoordinatorError) -> JSONValue {
        do {
            return try JSONParser.parse(bytes, limits: JSONParser.Limits(maxBytes: 4 << 20))
        } catch {
            throw CoordinatorError(.malformed, "\(what): \(error.reason)", category: error.category)
        }
    }

    // MARK: Organisations and policies

    /// Bootstraps an organisation from its genesis policy, signed by a quorum of its own admins.
    public func prepareBootstrap(name: String, genesis bytes: [UInt8]) async throws(CoordinatorError)
        -> Prepared<OrganizationRecord>
    {
        guard (1...200).contains(name.utf8.count) else {
            throw CoordinatorError(.malformed, "the organisation name must be 1 to 200 bytes")
        }
        let now = self.now
        let signed: SignedPolicy
        do {
            signed = try SignedPolicy(json: try Self.parse(bytes, what: "genesis policy"))
            _ = try PolicyChain.verify(
                [signed], trust: PolicyTrust(genesis: signed.policy.hash, highWater: nil), now: now)
        } catch let e as CoordinatorError {
            throw e
        } catch let e as GovernanceError {
            throw CoordinatorError(e)
        } catch {
            throw CoordinatorError(.malformed, "the genesis policy could not be read")
        }
        let p = signed.policy
        let org = OrganizationRecord(id: p.organization, name: name, genesisHash: p.hash, createdAt: now)
        let canonical: [UInt8]
        do { canonical = try CanonicalJSON.encode(signed.json) } catch { throw CoordinatorError(error) }
        var changes: [StoreChange] = [.createOrganization(org)]
        changes.append(policyChange(p, document: canonical, at: now).change)
        changes.append(
            Self.audit(
                p.organization, .organizationBootstrapped(organization: p.organization, genesis: p.hash, name: name),
                at: now))
        changes.append(
            Self.audit(p.organization, .policyAppended(version: p.version, hash: p.hash), at: now))
        return Prepared(value: org, changes: changes)
    }

    private func policyChange(_ p: Policy, document: [UInt8], at now: Timestamp) -> (
        record: PolicyVersionRecord, change: StoreChange
    ) {
        let record = PolicyVersionRecord(
            organization: p.organization, version: p.version, hash: p.hash, previousHash: p.previous,
            document: document, storedAt: now)
        let members = p.members.map {
            MemberRecord(
                organization: p.organization, policyVersion: p.version, member: $0.id, name: $0.name,
                roles: $0.roles.map(\.name))
        }
        let credentials = p.members.flatMap { m in
            m.credentials.compactMap { c -> CredentialRecord? in
                guard let id = try? CredentialID(c.id) else { return nil }
                return CredentialRecord(
                    organization: p.organization, policyVersion: p.version, member: m.id, credential: id,
                    kind: c.scheme.rawValue, publicKey: c.publicKey)
            }
        }
        return (record, .appendPolicyVersion(record, members: members, credentials: credentials))
    }

    /// The organisation, or `notFound`.
    public func organization(_ id: OrganizationID) async throws(CoordinatorError) -> OrganizationRecord {
        guard let org = try await call({ () async throws(StorageError) in try await store.organization(id) }) else {
            throw CoordinatorError(.notFound, "no organisation '\(id)'")
        }
        return org
    }

    /// The stored policy chain, parsed, oldest first.
    public func policyChain(_ org: OrganizationID) async throws(CoordinatorError) -> [SignedPolicy] {
        let records = try await call { () async throws(StorageError) in try await store.policyVersions(org) }
        var chain: [SignedPolicy] = []
        for r in records {
            do {
                chain.append(try SignedPolicy(json: try JSONParser.parse(r.document, limits: .init(maxBytes: 4 << 20))))
            } catch { throw CoordinatorError(.unavailable, "stored policy version \(r.version) does not parse") }
        }
        return chain
    }

    /// The organisation's policy in force: the newest stored version that has taken effect, verified as a
    /// chain from the genesis hash the organisation was bootstrapped with (cached by hash).
    public func currentPolicy(_ orgID: OrganizationID) async throws(CoordinatorError) -> VerifiedPolicy {
        try await currentPolicy(
            orgID, head: try await call { () async throws(StorageError) in try await store.policyHead(orgID) })
    }

    /// ``currentPolicy(_:)`` for a head already read (authentication reads it with the token).
    func currentPolicy(_ orgID: OrganizationID, head: PolicyHead?) async throws(CoordinatorError) -> VerifiedPolicy {
        guard let head else {
            _ = try await organization(orgID)  // `notFound` naming the organisation when it does not exist
            throw CoordinatorError(.notFound, "organisation '\(orgID)' has no policy")
        }
        let now = self.now
        if let cached = verified.withLock({ $0[head.hash] }), cached.policy.effectiveFrom <= now,
            now < cached.policy.expires
        {
            return cached  // the hot path: one read of the head, no chain verification
        }
        let org = try await organization(orgID)
        let chain = try await policyChain(orgID)
        var end = chain.count
        while end > 0 {
            do {
                let v = try PolicyChain.verify(
                    Array(chain[..<end]), trust: PolicyTrust(genesis: org.genesisHash, highWater: nil), now: now)
                verified.withLock { $0[v.hash] = v }
                return v
            } catch  where error.category == .timelockPending {
                end -= 1  // signed, not yet in force: the previous version governs until then
            } catch {
                throw CoordinatorError(error)
            }
        }
        throw CoordinatorError(.refused, "no policy version of '\(orgID)' is in force", category: .timelockPending)
    }

    /// The policy in force for a request: the one its authentication verified, else read again.
    func policy(for principal: Principal) async throws(CoordinatorError) -> VerifiedPolicy {
        if let p = principal.policy { return p }
        return try await currentPolicy(principal.organization)
    }

    /// Appends a policy version signed by a quorum of the current version's admins. A version that is
    /// not yet in force (a high change waiting out its delay) is stored and governs from its time.
    public func prepareAppendPolicy(_ principal: Principal, document bytes: [UInt8]) async throws(CoordinatorError)
        -> Prepared<PolicyVersionRecord>
    {
        try principal.require([.admin], to: "propose policy versions")
        let now = self.now
        let org = try await organization(principal.organization)
        let chain = try await policyChain(principal.organization)
        let signed: SignedPolicy
        do {
            signed = try SignedPolicy(json: try Self.parse(bytes, what: "policy"))
            let p = signed.policy
            guard now < p.expires else {
                throw GovernanceError(.invalidValue, .policyRollback, "policy version \(p.version) has expired")
            }
            // Verified at the time it takes effect: every step's signatures and delays, and its validity then.
            _ = try PolicyChain.verify(
                chain + [signed], trust: PolicyTrust(genesis: org.genesisHash, highWater: nil),
                now: max(now, p.effectiveFrom))
        } catch let e as CoordinatorError {
            throw e
        } catch let e as GovernanceError {
            throw CoordinatorError(e)
        } catch {
            throw CoordinatorError(.malformed, "the policy could not be read")
        }
        let p = signed.policy
        let canonical: [UInt8]
        do { canonical = try CanonicalJSON.encode(signed.json) } catch { throw CoordinatorError(error) }
        let (record, change) = policyChange(p, document: canonical, at: now)
        return Prepared(
            value: record,
            changes: [
                change,
                Self.audit(p.organization, .policyAppended(version: p.version, hash: p.hash), at: now),
            ])
    }

    // MARK: Sessions and tokens

    /// A token issued for a signed session request.
    public struct Session: Sendable {
        public let token: APIToken
        public let record: TokenRecord
        public let roles: Set<Role>
    }

    /// Verifies a session request signed by a member of the current policy and issues an API token.
    public func prepareSession(_ orgID: OrganizationID, request bytes: [UInt8]) async throws(CoordinatorError)
        -> Prepared<Session>
    {
        let policy = try await currentPolicy(orgID)
        let now = self.now
        let verified: VerifiedSessionRequest
        do {
            let signed = try SignedSessionRequest(json: try Self.parse(bytes, what: "session request"))
            verified = try Authorization.verify(signed, policy: policy, audience: configuration.audience, now: now)
        } catch let e as CoordinatorError {
            throw CoordinatorError(.unauthenticated, e.reason)
        } catch let e as GovernanceError {
            throw CoordinatorError(.unauthenticated, "session request refused: \(e.reason)")
        } catch {
            throw CoordinatorError(.unauthenticated, "session request refused")
        }
        let token = APIToken.generate()
        let expires = now.adding(seconds: configuration.tokenLifetime)
        let record = TokenRecord(
            organization: orgID, id: token.id, member: verified.request.member, secretHash: token.secretHash,
            requestDigest: verified.request.digest, createdAt: now, expiresAt: expires, revokedAt: nil)
        return Prepared(
            value: Session(token: token, record: record, roles: verified.roles),
            changes: [
                .insertToken(record),
                Self.audit(orgID, .tokenIssued(member: verified.request.member, token: token.id), at: now),
            ])
    }

    /// The member a bearer token acts for, with their roles in the current policy; with an `Idempotency-Key`,
    /// also their stored create under it (``Principal/idempotency``), in the same read.
    public func authenticate(_ orgID: OrganizationID, bearer: String, idempotencyKey: String? = nil)
        async throws(CoordinatorError) -> Principal
    {
        guard let token = APIToken(parsing: bearer) else {
            throw CoordinatorError(.unauthenticated, "the bearer token is not a Kura API token")
        }
        // The token and the policy head in one read: the head usually names a policy verified before (cached).
        let read = try await call { () async throws(StorageError) in
            try await store.authentication(orgID, token: token.id, idempotencyKey: idempotencyKey)
        }
        guard let record = read.token, token.matches(record) else {
            throw CoordinatorError(.unauthenticated, "unknown API token")
        }
        guard record.isActive(at: now) else {
            throw CoordinatorError(.unauthenticated, "the API token has expired or was revoked")
        }
        let policy = try await currentPolicy(orgID, head: read.policyHead)
        guard let member = policy.policy.member(record.member) else {
            throw CoordinatorError(.unauthenticated, "\(record.member) is no longer a member")
        }
        return Principal(
            organization: orgID, member: member.id, roles: member.roles, tokenID: record.id,
            tokenExpiresAt: record.expiresAt, policy: policy, idempotency: idempotencyKey.map { ($0, read.idempotency) }
        )
    }

    /// Revokes a token: the member's own, or anyone's by an admin.
    public func prepareRevoke(_ principal: Principal, tokenID: String) async throws(CoordinatorError)
        -> Prepared<TokenRecord>
    {
        guard
            let record = try await call({ () async throws(StorageError) in
                try await store.token(principal.organization, id: tokenID)
            })
        else { throw CoordinatorError(.notFound, "no token '\(tokenID.prefix(20))'") }
        if record.member != principal.member { try principal.require([.admin], to: "revoke other members' tokens") }
        let now = self.now
        return Prepared(
            value: record,
            changes: [
                .revokeToken(principal.organization, id: tokenID, at: now),
                Self.audit(principal.organization, .tokenRevoked(member: record.member, token: tokenID), at: now),
            ])
    }

    // MARK: Intents and approvals

    /// What the organisation spent in the last 24 hours (intents signed and later), for the daily limits.
    func history(_ orgID: OrganizationID, now: Timestamp) async throws(CoordinatorError) -> SpendHistory {
        let since = now.adding(seconds: -Evaluation.window)
        return SpendHistory(
            spends: try await call { () async throws(StorageError) in try await store.recentSpends(orgID, since: since)
            })
    }

    /// An intent with its approvals and the spends ``history(_:now:)`` reads, in one read; `notFound` naming the
    /// intent when there is none.
    func approvalContext(_ orgID: OrganizationID, intent id: IntentID, now: Timestamp) async throws(CoordinatorError)
        -> ApprovalContext
    {
        let since = now.adding(seconds: -Evaluation.window)
        guard
            let context = try await call({ () async throws(StorageError) in
                try await store.approvalContext(orgID, intent: id, spendsSince: since)
            })
        else { throw Self.noIntent(id) }
        return context
    }

    /// `notFound` naming an intent the organisation does not have.
    static func noIntent(_ id: IntentID) -> CoordinatorError {
        CoordinatorError(.notFound, "no intent '\(id)'")
    }

    /// Verifies a signed intent (initiator's signature, policy rules except approvals) and stores it
    /// awaiting approvals.
    public func prepareSubmitIntent(_ principal: Principal, document bytes: [UInt8]) async throws(CoordinatorError)
        -> Prepared<IntentRecord>
    {
        try principal.require([.initiator], to: "submit intents")
        let policy = try await policy(for: principal)
        let now = self.now
        let signed: SignedIntent
        let verified: VerifiedIntent
        do {
            signed = try SignedIntent(json: try Self.parse(bytes, what: "intent"))
            verified = try verify(signed, policy: policy)
        } catch let e as CoordinatorError {
            throw e
        } catch let e as GovernanceError {
            throw CoordinatorError(e)
        } catch {
            throw CoordinatorError(.malformed, "the intent could not be read")
        }
        guard signed.signature.member == principal.member else {
            throw CoordinatorError(.forbidden, "an initiator submits only intents they signed")
        }
        let verdict = Evaluation.evaluate(
            intent: verified, approvals: [], policy: policy,
            history: try await history(principal.organization, now: now),
            now: now)
        // With no approvals yet, the only approval refusal is the missing quorum, which approvals will bring.
        if let refusal = verdict.refusals.first(where: { $0.category != .approvalInvalid }) {
            throw CoordinatorError(.refused, refusal.reason, category: refusal.category)
        }
        let i = signed.intent
        let canonical: [UInt8]
        do { canonical = try CanonicalJSON.encode(signed.json) } catch { throw CoordinatorError(error) }
        let record = IntentRecord(
            organization: principal.organization, id: i.id, digest: i.digest, policyVersion: policy.policy.version,
            initiator: i.initiator, wallet: i.wallet, asset: i.asset, destination: i.destinationAddress,
            amount: i.amount, state: .awaitingApprovals, document: canonical, createdAt: i.created,
            expiresAt: i.expires)
        remember(signed, stored: canonical)
        return Prepared(
            value: record,
            changes: [
                .insertIntent(record),
                Self.audit(
                    principal.organization,
                    .intentSubmitted(
                        intent: i.id, digest: i.digest, initiator: i.initiator, wallet: i.wallet, asset: i.asset,
                        amount: i.amount, destination: i.destinationAddress), at: now),
            ])
    }

    /// The intent, or `notFound`.
    public func intent(_ orgID: OrganizationID, id: IntentID) async throws(CoordinatorError) -> IntentRecord {
        guard let r = try await call({ () async throws(StorageError) in try await store.intent(orgID, id: id) }) else {
            throw Self.noIntent(id)
        }
        return r
    }

    /// Everything stored about an intent.
    public func intentDetail(_ orgID: OrganizationID, id: IntentID) async throws(CoordinatorError) -> IntentDetail {
        let record = try await intent(orgID, id: id)
        return try await call { () async throws(StorageError) in
            IntentDetail(
                record: record, approvals: try await store.approvals(orgID, intent: id),
                bundle: try await store.bundle(orgID, intent: id), receipts: try await store.receipts(orgID, intent: id)
            )
        }
    }

    /// The parsed signed documents of an intent and its approvals.
    public func signedDocuments(_ detail: IntentDetail) throws(CoordinatorError) -> (SignedIntent, [SignedApproval]) {
        (try signedIntent(detail.record), try signedApprovals(detail.record.id, detail.approvals))
    }

    /// The parsed signed intent of a stored intent, remembered by the stored bytes themselves: parsing depends on
    /// nothing else, so bytes seen before (stored by this process, or read before) are not parsed again, and a
    /// document edited in the database is other bytes, parsed afresh.
    func signedIntent(_ record: IntentRecord) throws(CoordinatorError) -> SignedIntent {
        if let known = parsedIntents[record.document] { return known }
        let signed: SignedIntent
        do {
            signed = try SignedIntent(json: try JSONParser.parse(record.document, limits: .init(maxBytes: 4 << 20)))
        } catch {
            throw CoordinatorError(.unavailable, "the stored document of intent \(record.id) does not parse")
        }
        remember(signed, stored: record.document)
        return signed
    }

    /// Remembers what a stored intent document parses to (its canonical encoding parses back to the same value).
    func remember(_ signed: SignedIntent, stored document: [UInt8]) {
        parsedIntents.remember(signed, for: document)
    }

    /// ``Authorization/verify(_:policy:)`` for a signed intent, remembered: the verdict depends on nothing but the
    /// signed intent and the policy, so one verified here before under the same policy (at its creation, when it
    /// is approved, built, signed) is not verified again. Only values `Authorization` made are remembered, and
    /// the memo holds no state another replica needs: one that never saw the intent verifies it.
    func verify(_ signed: SignedIntent, policy: VerifiedPolicy) throws(GovernanceError) -> VerifiedIntent {
        let key = VerifiedIntentKey(intent: signed, policy: policy.hash)
        if let known = verifiedIntents[key] { return known }
        let verified = try Authorization.verify(signed, policy: policy)
        verifiedIntents.remember(verified, for: key)
        return verified
    }

    /// The parsed signed approvals of a stored intent.
    func signedApprovals(_ id: IntentID, _ records: [ApprovalRecord]) throws(CoordinatorError) -> [SignedApproval] {
        do {
            return try records.map { a throws(GovernanceError) in
                try SignedApproval(json: try JSONParser.parse(a.document))
            }
        } catch {
            throw CoordinatorError(.unavailable, "a stored approval of intent \(id) does not parse")
        }
    }

    /// Verifies a signed approval of an intent awaiting approvals and stores it; a rejection ends the intent.
    public func prepareApproval(_ principal: Principal, intent id: IntentID, document bytes: [UInt8])
        async throws(CoordinatorError) -> Prepared<ApprovalRecord>
    {
        try principal.require([.approver], to: "approve intents")
        let now = self.now
        let context = try await approvalContext(principal.organization, intent: id, now: now)
        let record = context.intent
        guard record.state == .awaitingApprovals || record.state == .approved else {
            throw CoordinatorError(.conflict, "intent \(id) is \(record.state.rawValue); it takes no approvals")
        }
        let policy = try await policy(for: principal)
        let signed: SignedApproval
        let verifiedApproval: VerifiedApproval
        do {
            signed = try SignedApproval(json: try Self.parse(bytes, what: "approval"))
            verifiedApproval = try Authorization.verify(signed, policy: policy)
        } catch let e as CoordinatorError {
            throw e
        } catch let e as GovernanceError {
            throw CoordinatorError(e)
        } catch {
            throw CoordinatorError(.malformed, "the approval could not be read")
        }
        let intent = try signedIntent(record)
        guard intent.intent.policy == policy.hash else {
            throw CoordinatorError(
                .refused, "the policy changed since intent \(id) was made; it needs a new intent",
                category: .intentMismatch)
        }
        guard signed.approval.intent == record.digest else {
            throw CoordinatorError(.refused, "the approval is for another intent digest", category: .approvalMismatch)
        }
        guard signed.signature.member == principal.member else {
            throw CoordinatorError(.forbidden, "an approver submits only approvals they signed")
        }
        guard signed.approval.approver != record.initiator else {
            throw CoordinatorError(
                .refused, "the initiator cannot approve their own intent", category: .approvalInvalid)
        }
        let canonical: [UInt8]
        do { canonical = try CanonicalJSON.encode(signed.json) } catch { throw CoordinatorError(error) }
        let approval = ApprovalRecord(
            organization: principal.organization, intent: id, approver: signed.approval.approver,
            credential: signed.signature.credential, document: canonical, storedAt: now)
        var changes: [StoreChange] = [
            .insertApproval(approval),
            Self.audit(
                principal.organization,
                .approvalRecorded(
                    intent: id, approver: signed.approval.approver, decision: signed.approval.decision,
                    digest: signed.approval.digest), at: now),
        ]
        if signed.approval.decision == .reject {
            changes += transition(principal.organization, id, from: record.state, to: .rejected, at: now)
        } else if record.state == .awaitingApprovals,
            let verified = try? verify(intent, policy: policy)
        {
            // If this approval completes the quorum, the same unit moves the intent on (if it still awaits
            // approvals when the unit applies): one write instead of two. Approvals committed meanwhile by others
            // are not seen here; `advance` after the commit (``movesOn(_:)`` false) covers that case.
            let stored = try signedApprovals(id, context.approvals)
            if case .allow = Evaluation.evaluate(
                intent: verified, approvals: stored, verified: [verifiedApproval], policy: policy,
                history: SpendHistory(spends: context.spends), now: now)
            {
                changes.append(
                    Self.advancing(principal.organization, id, from: .awaitingApprovals, to: .approved, at: now))
            }
        }
        return Prepared(value: approval, changes: changes)
    }

    /// Whether a unit moves its intent on by itself (``prepareApproval(_:intent:document:)`` saw the quorum).
    public static func movesOn(_ changes: [StoreChange]) -> Bool {
        changes.contains { if case .advanceIntent = $0 { true } else { false } }
    }

    /// An intent moved from `from` to `to` with its audit event, if it is still in `from` when the unit applies.
    static func advancing(
        _ org: OrganizationID, _ id: IntentID, from: IntentLifecycle.State, to: IntentLifecycle.State,
        at now: Timestamp
    ) -> StoreChange {
        let record = AuditRecord.intentState(intent: id, from: from, to: to)
        return .advanceIntent(
            org, id, from: from, to: to, kind: record.kind, subject: record.subject, payload: record.payload, at: now)
    }

    func transition(
        _ org: OrganizationID, _ id: IntentID, from: IntentLifecycle.State, to: IntentLifecycle.State, at now: Timestamp
    ) -> [StoreChange] {
        [
            .transitionIntent(org, id, from: from, to: to),
            Self.audit(org, .intentState(intent: id, from: from, to: to), at: now),
        ]
    }

    /// Moves an intent awaiting approvals to `approved` once its stored approvals satisfy the policy
    /// (called after every approval commits, so concurrent approvals never leave it stranded). Returns
    /// the intent's state afterwards.
    @discardableResult
    public func advance(_ orgID: OrganizationID, intent id: IntentID, policy given: VerifiedPolicy? = nil)
        async throws(CoordinatorError) -> IntentLifecycle.State
    {
        let now = self.now
        let context = try await approvalContext(orgID, intent: id, now: now)
        let record = context.intent
        guard record.state == .awaitingApprovals else { return record.state }
        let policy: VerifiedPolicy
        if let given { policy = given } else { policy = try await currentPolicy(orgID) }
        let signedIntent = try signedIntent(record)
        let approvals = try signedApprovals(id, context.approvals)
        let verified: VerifiedIntent
        do { verified = try verify(signedIntent, policy: policy) } catch { return record.state }
        guard
            case .allow = Evaluation.evaluate(
                intent: verified, approvals: approvals, policy: policy, history: SpendHistory(spends: context.spends),
                now: now)
        else { return record.state }
        let events = try await call { () async throws(StorageError) in
            try await store.apply([Self.advancing(orgID, id, from: .awaitingApprovals, to: .approved, at: now)])
        }
        // No event: another request moved it first.
        return events.isEmpty ? try await intent(orgID, id: id).state : .approved
    }

    /// Intents of the organisation, newest first.
    public func intents(_ orgID: OrganizationID, state: IntentLifecycle.State?, limit: Int)
        async throws(CoordinatorError)
        -> [IntentRecord]
    {
        _ = try await organization(orgID)
        return try await call { () async throws(StorageError) in
            try await store.intents(orgID, state: state, limit: limit)
        }
    }

    // MARK: Wallets and addresses

    /// Hands out the next receive address of a Bitcoin wallet, derived from its signed descriptor, within the
    /// gap limit of unused addresses.
    public func prepareAddress(_ principal: Principal, wallet walletID: WalletID, label: String)
        async throws(CoordinatorError) -> Prepared<AddressRecord>
    {
        try principal.require([.admin, .initiator], to: "hand out deposit addresses")
        guard label.utf8.count <= 200 else { throw CoordinatorError(.malformed, "the label exceeds 200 bytes") }
        let policy = try await policy(for: principal)
        guard let wallet = policy.policy.wallet(walletID) else {
            throw CoordinatorError(.notFound, "no wallet '\(walletID)' in the policy")
        }
        guard let walletPolicy = wallet.bitcoinPolicy else {
            throw CoordinatorError(
                .conflict, "wallet \(walletID) is an Ethereum account: its one address is in the policy")
        }
        let existing = try await call { () async throws(StorageError) in
            try await store.addresses(principal.organization, wallet: walletID, branch: 0)
        }
        let lastUsed = existing.last(where: \.used)?.index ?? -1
        let unusedTail = existing.filter { $0.index > lastUsed }.count
        guard unusedTail < configuration.gapLimit else {
            throw CoordinatorError(
                .conflict,
                "wallet \(walletID) already has \(unusedTail) unused addresses (gap limit \(configuration.gapLimit))")
        }
        let index = (existing.last?.index ?? -1) + 1
        let address: String
        do {
            address = try walletPolicy.descriptor.address(index: UInt32(index), branch: 0).text
        } catch {
            throw CoordinatorError(.conflict, "address \(index) of wallet \(walletID) cannot be derived")
        }
        let now = self.now
        let record = AddressRecord(
            organization: principal.organization, wallet: walletID, branch: 0, index: index, address: address,
            label: label, createdAt: now, used: false)
        return Prepared(
            value: record,
            changes: [
                .insertAddress(record),
                Self.audit(
                    principal.organization,
                    .other(
                        kind: "address.issued", subject: walletID.value,
                        payload: ["index": .number(Double(index)), "address": .string(address)]), at: now),
            ])
    }

    // MARK: Audit

    /// The organisation's audit log with the stored documents its events refer to (docs/AUDIT.md), for
    /// `kura audit verify` offline. A stored document that no longer parses is left out (the verifier then
    /// reports its event without a document).
    public func auditExport(_ orgID: OrganizationID) async throws(CoordinatorError) -> AuditExport {
        let org = try await organization(orgID)
        var events: [AuditEvent] = []
        while true {
            let after = events.last?.sequence ?? 0
            let page = try await call { () async throws(StorageError) in
                try await store.auditEvents(orgID, after: after, limit: 10_000)
            }
            events += page
            if page.count < 10_000 { break }
        }
        let policies = try await policyChain(orgID)
        var intents: [AuditExport.IntentDocument] = []
        var approvals: [AuditExport.ApprovalDocument] = []
        var receipts: [SignedReceipt] = []
        var bundles: [AuditExport.BundleDocument] = []
        var seen = Set<IntentID>()
        for event in events where event.kind == "intent.submitted" {
            guard let id = try? IntentID(event.subject), seen.insert(id).inserted else { continue }
            guard
                let record = try await call({ () async throws(StorageError) in try await store.intent(orgID, id: id) })
            else { continue }
            if let doc = try? SignedIntent(
                json: try JSONParser.parse(record.document, limits: .init(maxBytes: 4 << 20)))
            {
                intents.append(AuditExport.IntentDocument(id: id, document: doc))
            }
            for a in try await call({ () async throws(StorageError) in try await store.approvals(orgID, intent: id) }) {
                if let doc = try? SignedApproval(json: try JSONParser.parse(a.document)) {
                    approvals.append(AuditExport.ApprovalDocument(intent: id, document: doc))
                }
            }
            for r in try await call({ () async throws(StorageError) in try await store.receipts(orgID, intent: id) }) {
                if let doc = try? SignedReceipt(json: try JSONParser.parse(r.document)) { receipts.append(doc) }
            }
            // The hash is of the bytes as stored now, so an edited bundle shows against its `bundle.issued`.
            if let b = try await call({ () async throws(StorageError) in try await store.bundle(orgID, intent: id) }),
                let parsed = try? SigningBundle(bytes: b.bytes)
            {
                let tx: AuditExport.Transaction
                switch parsed.payload {
                case .bitcoin: tx = .bitcoin(psbt: parsed.payload.bytes)
                case .ethereum: tx = .ethereum(unsigned: parsed.payload.bytes)
                }
                bundles.append(
                    AuditExport.BundleDocument(intent: id, sha256: AuditExport.sha256(b.bytes), transaction: tx))
            }
        }
        return AuditExport(
            organization: orgID, genesis: org.genesisHash, exportedAt: now, events: events,
            documents: AuditExport.Documents(
                policies: policies, intents: intents, approvals: approvals, bundles: bundles, receipts: receipts))
    }
}

/// A signed intent and the hash of the policy it was verified under.
struct VerifiedIntentKey: Hashable, Sendable {
    let intent: SignedIntent
    let policy: DocumentHash
}
