public import Governance

/// A payment into one of an organisation's wallets, seen on the chain: recorded once per output (Bitcoin: the
/// outpoint; Ethereum: the transaction and `position` −1 for the ether it carries, or the log index of an ERC-20
/// `Transfer`), followed until it has the required confirmations.
public struct DepositRecord: Sendable, Hashable {
    /// Where a deposit stands.
    public enum State: String, Sendable, Hashable, CaseIterable {
        /// Seen, not yet at the required depth (0 confirmations while in the mempool).
        case pending
        /// At the required depth: final for the coordinator.
        case confirmed
        /// Seen, then gone from the chain source's best chain before it was confirmed (a re-org, a double spend, an
        /// eviction); recorded again as pending should it come back.
        case removed
    }

    public let organization: OrganizationID
    public let wallet: WalletID
    /// `bitcoin` or `ethereum`.
    public let chain: String
    /// The Bitcoin txid or the Ethereum transaction hash (`0x`-hex).
    public let txid: String
    /// The output index (Bitcoin), the log index (an ERC-20 transfer), or −1 (the ether of an Ethereum transaction).
    public let position: Int64
    /// The asset received (an asset id of the policy).
    public let asset: AssetID
    /// The receiving address.
    public let address: String
    /// The amount in the asset's base units.
    public let amount: BaseUnits
    /// The block that holds it, when it is in one.
    public let blockHeight: Int64?
    /// Its confirmations when last checked.
    public let confirmations: Int64
    public let state: State
    /// When the coordinator first saw it.
    public let firstSeenAt: Timestamp
    /// When the record last changed.
    public let updatedAt: Timestamp

    /// Creates a record.
    public init(
        organization: OrganizationID, wallet: WalletID, chain: String, txid: String, position: Int64, asset: AssetID,
        address: String, amount: BaseUnits, blockHeight: Int64?, confirmations: Int64, state: State,
        firstSeenAt: Timestamp, updatedAt: Timestamp
    ) {
        self.organization = organization
        self.wallet = wallet
        self.chain = chain
        self.txid = txid
        self.position = position
        self.asset = asset
        self.address = address
        self.amount = amount
        self.blockHeight = blockHeight
        self.confirmations = confirmations
        self.state = state
        self.firstSeenAt = firstSeenAt
        self.updatedAt = updatedAt
    }

    /// What identifies a deposit: the chain, the transaction and the position in it.
    public var key: String { "\(chain):\(txid):\(position)" }
}

/// The scan of one wallet for deposits: where it got to (Ethereum: the next block and the hash of the last one
/// scanned, to notice a re-org), when it is next due, and which process holds it.
public struct DepositScanRecord: Sendable, Hashable {
    public let organization: OrganizationID
    public let wallet: WalletID
    /// The next block to scan (Ethereum), `nil` before the first scan.
    public let nextBlock: Int64?
    /// The hash of block `nextBlock − 1` as scanned, `nil` before the first scan.
    public let lastHash: String?
    public let nextCheckAt: Timestamp
    public let updatedAt: Timestamp

    /// Creates a record.
    public init(
        organization: OrganizationID, wallet: WalletID, nextBlock: Int64? = nil, lastHash: String? = nil,
        nextCheckAt: Timestamp, updatedAt: Timestamp
    ) {
        self.organization = organization
        self.wallet = wallet
        self.nextBlock = nextBlock
        self.lastHash = lastHash
        self.nextCheckAt = nextCheckAt
        self.updatedAt = updatedAt
    }
}

/// Where deposits and the scans that find them are kept.
public protocol DepositStore: Sendable {
    /// The organisations hosted (to find the wallets to scan).
    func organizationIDs() async throws(StorageError) -> [OrganizationID]
    /// Claims up to `limit` wallet scans due at `now` for `owner` until `leaseUntil` (never one claimed by another
    /// process whose lease has not expired).
    func claimDepositScans(owner: String, now: Timestamp, leaseUntil: Timestamp, limit: Int)
        async throws(StorageError) -> [DepositScanRecord]
    /// Intents of any organisation whose expiry has passed at `now` while they were still before `signed`
    /// (draft, awaiting approvals, approved, built, signing), at most `limit`, with their state.
    func lapsedIntents(now: Timestamp, limit: Int) async throws(StorageError) -> [IntentRecord]
    /// A wallet's deposits (all of them when `wallet` is `nil`), newest first, at most `limit`.
    func deposits(_ organization: OrganizationID, wallet: WalletID?, limit: Int) async throws(StorageError)
        -> [DepositRecord]
}
