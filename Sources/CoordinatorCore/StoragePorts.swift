public import Governance

/// Organisations: the tenants. Every other port takes the organisation id first, and no query of any adapter
/// reads or writes a row of another organisation.
public protocol OrganizationStore: Sendable {
    /// Stores a new organisation; `.duplicate` if the id is taken.
    func createOrganization(_ organization: OrganizationRecord) async throws(StorageError)
    /// The organisation, or `nil`.
    func organization(_ id: OrganizationID) async throws(StorageError) -> OrganizationRecord?
}

/// Policy versions and the member and credential snapshot each one lists. Append-only.
public protocol PolicyStore: Sendable {
    /// Appends a policy version with its members and credentials, in one transaction. The first version has no
    /// previous hash; every later one names the current head's hash and has the next version number, or the
    /// append fails with `.conflict` and stores nothing.
    func appendPolicyVersion(
        _ policy: PolicyVersionRecord, members: [MemberRecord], credentials: [CredentialRecord]
    ) async throws(StorageError)
    /// The newest policy version, or `nil` before bootstrap.
    func currentPolicy(_ organization: OrganizationID) async throws(StorageError) -> PolicyVersionRecord?
    /// The newest policy version's number and hash without its document (the hot path's check that a cached
    /// verified policy is still the head), or `nil` before bootstrap.
    func policyHead(_ organization: OrganizationID) async throws(StorageError) -> PolicyHead?
    /// Every policy version, oldest first.
    func policyVersions(_ organization: OrganizationID) async throws(StorageError) -> [PolicyVersionRecord]
    /// The members a policy version lists, by member id.
    func members(_ organization: OrganizationID, policyVersion: Int64) async throws(StorageError) -> [MemberRecord]
    /// The credentials a policy version lists, by credential id.
    func credentials(_ organization: OrganizationID, policyVersion: Int64) async throws(StorageError)
        -> [CredentialRecord]
}

/// Intents and their lifecycle state.
public protocol IntentStore: Sendable {
    /// Stores a new intent; `.duplicate` if its id or digest is taken in the organisation, `.missingReference` if
    /// its policy version is unknown there.
    func insertIntent(_ intent: IntentRecord) async throws(StorageError)
    /// The intent, or `nil`.
    func intent(_ organization: OrganizationID, id: IntentID) async throws(StorageError) -> IntentRecord?
    /// Intents, newest first (ties by id), optionally only those in `state`, at most `limit`.
    func intents(_ organization: OrganizationID, state: IntentLifecycle.State?, limit: Int) async throws(StorageError)
        -> [IntentRecord]
    /// What intents signed or later (`signed`, `broadcast`, `confirmed`) created after `since` spent: the daily
    /// limits' history, without reading whole intents.
    func recentSpends(_ organization: OrganizationID, since: Timestamp) async throws(StorageError) -> [Spend]
    /// Moves an intent from `expected` to `new` (compare-and-set); `.conflict` if it is not in `expected`,
    /// `.missingReference` if there is no such intent.
    func transitionIntent(
        _ organization: OrganizationID, id: IntentID, from expected: IntentLifecycle.State,
        to new: IntentLifecycle.State
    ) async throws(StorageError)
}

/// Approvals, bundles and signer receipts of intents. Append-only.
public protocol ApprovalStore: Sendable {
    /// Stores an approval; `.duplicate` if this approver already approved this intent.
    func insertApproval(_ approval: ApprovalRecord) async throws(StorageError)
    /// The approvals of an intent, by approver id.
    func approvals(_ organization: OrganizationID, intent: IntentID) async throws(StorageError) -> [ApprovalRecord]
    /// Stores the signing bundle of an intent; `.duplicate` if it already has one.
    func insertBundle(_ bundle: BundleRecord) async throws(StorageError)
    /// The signing bundle of an intent, or `nil`.
    func bundle(_ organization: OrganizationID, intent: IntentID) async throws(StorageError) -> BundleRecord?
    /// Stores a signer receipt; `.duplicate` if this signer already has a receipt for this intent.
    func insertReceipt(_ receipt: ReceiptRecord) async throws(StorageError)
    /// The receipts of an intent, by signer id.
    func receipts(_ organization: OrganizationID, intent: IntentID) async throws(StorageError) -> [ReceiptRecord]
    /// The receipt with the highest sequence of `signer` in the organisation, or `nil`.
    func latestReceipt(_ organization: OrganizationID, signer: SignerID) async throws(StorageError) -> ReceiptRecord?
    /// The coins reserved by built transactions of the organisation (each coin at most once), with the intent
    /// that spends it.
    func reservedCoins(_ organization: OrganizationID) async throws(StorageError) -> [CoinReservation]
    /// The finalised transaction of an intent, or `nil`.
    func signedTransaction(_ organization: OrganizationID, intent: IntentID) async throws(StorageError)
        -> SignedTransactionRecord?
}

/// The hash-chained audit log, one chain per organisation.
public protocol AuditStore: Sendable {
    /// Appends an event after the organisation's last one (serialised per organisation, so concurrent appenders
    /// never fork the chain) and returns it with its sequence and hash.
    func appendAuditEvent(
        _ organization: OrganizationID, kind: String, subject: String, payload: [UInt8], at: Timestamp
    ) async throws(StorageError) -> AuditEvent
    /// Events with a sequence greater than `after`, oldest first, at most `limit`.
    func auditEvents(_ organization: OrganizationID, after: Int64, limit: Int) async throws(StorageError)
        -> [AuditEvent]
}

/// API tokens and idempotency records.
public protocol AccessStore: Sendable {
    /// The token with this id, or `nil`.
    func token(_ organization: OrganizationID, id: String) async throws(StorageError) -> TokenRecord?
    /// What authenticating a request reads, in one read: the token with this id (or `nil`), the organisation's
    /// policy head (or `nil` before bootstrap) and, when the request carries an `Idempotency-Key`, the token's
    /// member's stored create under that key (or `nil`).
    func authentication(_ organization: OrganizationID, token id: String, idempotencyKey: String?)
        async throws(StorageError) -> (token: TokenRecord?, policyHead: PolicyHead?, idempotency: IdempotencyRecord?)
    /// A member's tokens (or every member's when `member` is `nil`), newest first.
    func tokens(_ organization: OrganizationID, member: MemberID?) async throws(StorageError) -> [TokenRecord]
    /// The stored outcome of a create request, or `nil`.
    func idempotency(_ organization: OrganizationID, member: MemberID, key: String) async throws(StorageError)
        -> IdempotencyRecord?
}

/// Watch-only addresses handed out per wallet.
public protocol AddressStore: Sendable {
    /// A wallet's addresses on `branch`, by index.
    func addresses(_ organization: OrganizationID, wallet: WalletID, branch: Int) async throws(StorageError)
        -> [AddressRecord]
}

/// One change of a unit of work (see ``CoordinatorStore/apply(_:)``).
public enum StoreChange: Sendable, Hashable {
    case createOrganization(OrganizationRecord)
    case appendPolicyVersion(PolicyVersionRecord, members: [MemberRecord], credentials: [CredentialRecord])
    case insertIntent(IntentRecord)
    /// Compare-and-set of an intent's state.
    case transitionIntent(OrganizationID, IntentID, from: IntentLifecycle.State, to: IntentLifecycle.State)
    /// Moves an intent on with the audit event that reports it, if it is still in state `from`; if it is not
    /// (another request moved it first), neither changes and the rest of the unit still applies
    /// (`.missingReference` if there is no such intent). `apply` returns the event only when it moved.
    case advanceIntent(
        OrganizationID, IntentID, from: IntentLifecycle.State, to: IntentLifecycle.State, kind: String,
        subject: String, payload: [UInt8], at: Timestamp)
    case insertApproval(ApprovalRecord)
    case insertBundle(BundleRecord)
    case insertReceipt(ReceiptRecord)
    /// Reserves the coins a built transaction spends: `.duplicate` if any of them is already reserved (two
    /// intents are never built on one coin, even by concurrent builds).
    case reserveCoins([CoinReservation])
    /// Stores the finalised transaction of an intent (`.duplicate` if it has one).
    case insertSignedTransaction(SignedTransactionRecord)
    case insertToken(TokenRecord)
    /// Revokes a token that is not yet revoked (`.conflict` if it is, `.missingReference` if unknown).
    case revokeToken(OrganizationID, id: String, at: Timestamp)
    case insertIdempotency(IdempotencyRecord)
    /// Hands out the next address of a branch: its index must be the next one (`.conflict` otherwise).
    case insertAddress(AddressRecord)
    /// Starts following a finalised transaction (`.duplicate` if it is followed already).
    case insertTransactionWatch(TransactionWatchRecord)
    /// Records a check of a claimed transaction and ends its lease (`.conflict` if the lease is not the owner's).
    case updateTransactionWatch(TransactionWatchUpdate)
    /// Starts scanning a wallet for deposits; nothing when it is scanned already.
    case ensureDepositScan(OrganizationID, WalletID, at: Timestamp)
    /// Records where a claimed scan got to and ends its lease (`.conflict` if the lease is not `owner`'s).
    case updateDepositScan(owner: String, DepositScanRecord)
    /// Records a deposit, or its new state (a confirmed deposit is never changed again).
    case upsertDeposit(DepositRecord)
    /// Releases the coins an intent's built transaction had reserved (nothing when it had none).
    case releaseCoins(OrganizationID, IntentID)
    /// Queues a webhook delivery.
    case enqueueWebhook(WebhookDelivery)
    /// Records an attempt of a claimed delivery and ends its lease (`.conflict` if the lease is not `owner`'s).
    case updateWebhook(owner: String, WebhookDelivery)
    /// Stores a new policy proposal (`.duplicate` if the same version was already proposed).
    case insertProposal(PolicyProposalRecord)
    /// Replaces a proposal's signatures and state, if it is still open with `expectedSignatures` signatures
    /// (`.conflict` otherwise: another admin signed or it was applied concurrently).
    case updateProposal(PolicyProposalRecord, expectedSignatures: Int)
    /// Appends an audit event (the chain link is filled in by the store).
    case audit(OrganizationID, kind: String, subject: String, payload: [UInt8], at: Timestamp)
}

/// Everything the coordinator stores. Adapters: `SQLCoordinatorStore.openSQLite(path:)` and
/// `SQLCoordinatorStore.connectPostgres(url:)` (CoordinatorStorage, ADR 0010); one conformance suite runs against
/// both.
public protocol CoordinatorStore: OrganizationStore, PolicyStore, IntentStore, ApprovalStore, AuditStore,
    AccessStore, AddressStore, TransactionWatchStore, DepositStore, WebhookStore, ProposalStore
{
    /// An intent with its approvals (as ``ApprovalStore/approvals(_:intent:)``) and the organisation's spends since
    /// `spendsSince` (as ``IntentStore/recentSpends(_:since:)``): what deciding on an approval reads, read in one
    /// round trip where the back end has them (PostgreSQL: one function call, one snapshot). `nil`, and nothing
    /// else read, if there is no such intent.
    func approvalContext(_ organization: OrganizationID, intent: IntentID, spendsSince: Timestamp)
        async throws(StorageError) -> ApprovalContext?

    /// Applies `changes` in order in one transaction: all of them or none. Returns the audit events appended.
    /// This is how every use case writes, so a record and the audit event that reports it never part.
    func apply(_ changes: [StoreChange]) async throws(StorageError) -> [AuditEvent]

    /// Applies the migrations this build knows that the database lacks; `.schemaMismatch` if the database
    /// has migrations this build does not know.
    func migrate() async throws(StorageError)
    /// The names of the migrations applied, in order.
    func appliedMigrations() async throws(StorageError) -> [String]
    /// Closes connections; the store must not be used afterwards.
    func close() async
}

/// What ``CoordinatorStore/approvalContext(_:intent:spendsSince:)`` reads.
public struct ApprovalContext: Sendable, Hashable {
    public let intent: IntentRecord
    /// The intent's approvals, by approver id.
    public let approvals: [ApprovalRecord]
    /// What intents signed or later created after the given time spent (order not significant).
    public let spends: [Spend]

    public init(intent: IntentRecord, approvals: [ApprovalRecord], spends: [Spend]) {
        self.intent = intent
        self.approvals = approvals
        self.spends = spends
    }
}
