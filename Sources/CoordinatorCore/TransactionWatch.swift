public import Governance

/// The coordinator's follow-up of a finalised transaction until it is confirmed: where it is to be broadcast, how
/// the attempts went, what the chain last said, and which coordinator process holds it right now (a lease, so that
/// several replicas on one database never work on one transaction at once).
public struct TransactionWatchRecord: Sendable, Hashable {
    /// The organisation.
    public let organization: OrganizationID
    /// The intent whose finalised transaction this is.
    public let intent: IntentID
    /// The network: `bitcoin:NETWORK` (`bitcoin:regtest`) or `ethereum:CHAIN-ID` (`ethereum:1337`).
    public let network: String
    /// Broadcast attempts so far.
    public let attempts: Int
    /// The last failure (the node's refusal, or why the chain source could not be asked), `nil` after a success.
    public let lastError: String?
    /// The height of the block that includes it, when the chain source last said so.
    public let blockHeight: Int64?
    /// Its confirmations when last checked (0 while unconfirmed).
    public let confirmations: Int64
    /// When it is next due for a check.
    public let nextCheckAt: Timestamp
    /// Whether the follow-up is over (confirmed or failed).
    public let done: Bool
    /// When the record last changed.
    public let updatedAt: Timestamp

    /// Creates a record.
    public init(
        organization: OrganizationID, intent: IntentID, network: String, attempts: Int = 0, lastError: String? = nil,
        blockHeight: Int64? = nil, confirmations: Int64 = 0, nextCheckAt: Timestamp, done: Bool = false,
        updatedAt: Timestamp
    ) {
        self.organization = organization
        self.intent = intent
        self.network = network
        self.attempts = attempts
        self.lastError = lastError
        self.blockHeight = blockHeight
        self.confirmations = confirmations
        self.nextCheckAt = nextCheckAt
        self.done = done
        self.updatedAt = updatedAt
    }

    /// The longest ``lastError`` stored, in bytes.
    public static let maxErrorLength = 500

    /// The network name of a Bitcoin network or an Ethereum chain id.
    public static func networkName(bitcoin network: String) -> String { "bitcoin:\(network)" }
    /// The network name of an Ethereum chain id.
    public static func networkName(ethereumChainID id: UInt64) -> String { "ethereum:\(id)" }
}

/// A transaction claimed for follow-up: its watch record, the finalised transaction and the intent's state when
/// it was claimed.
public struct ClaimedTransaction: Sendable, Hashable {
    /// The follow-up record.
    public let watch: TransactionWatchRecord
    /// The finalised transaction.
    public let transaction: SignedTransactionRecord
    /// The intent's state at the claim (`signed`: to broadcast; `broadcast`: to follow).
    public let state: IntentLifecycle.State

    /// Creates a claimed transaction.
    public init(watch: TransactionWatchRecord, transaction: SignedTransactionRecord, state: IntentLifecycle.State) {
        self.watch = watch
        self.transaction = transaction
        self.state = state
    }
}

/// What one check of a claimed transaction records: the watch record as it now stands (its ``TransactionWatchRecord/
/// network`` is not changed). Applying it also ends the lease, and is refused (`.conflict`) when the lease is no
/// longer the claimer's.
public struct TransactionWatchUpdate: Sendable, Hashable {
    /// The process that claimed it (its lease must still be held).
    public let owner: String
    /// The record after the check (``TransactionWatchRecord/lastError`` cut to its longest length).
    public let record: TransactionWatchRecord

    /// Creates an update.
    public init(owner: String, record r: TransactionWatchRecord) {
        self.owner = owner
        self.record = TransactionWatchRecord(
            organization: r.organization, intent: r.intent, network: r.network, attempts: r.attempts,
            lastError: r.lastError.map {
                String(decoding: Array($0.utf8.prefix(TransactionWatchRecord.maxErrorLength)), as: UTF8.self)
            }, blockHeight: r.blockHeight, confirmations: r.confirmations, nextCheckAt: r.nextCheckAt, done: r.done,
            updatedAt: r.updatedAt)
    }
}

/// Where finalised transactions are followed until confirmed.
public protocol TransactionWatchStore: Sendable {
    /// Claims up to `limit` transactions due for a check at `now` (not done, `nextCheckAt` passed, no lease held
    /// or an expired one) for `owner` until `leaseUntil`, across organisations, oldest due first. Two concurrent
    /// claimers never get the same transaction.
    func claimTransactionWatches(owner: String, now: Timestamp, leaseUntil: Timestamp, limit: Int)
        async throws(StorageError) -> [ClaimedTransaction]
    /// The follow-up record of an intent's transaction, or `nil`.
    func transactionWatch(_ organization: OrganizationID, intent: IntentID) async throws(StorageError)
        -> TransactionWatchRecord?
}
