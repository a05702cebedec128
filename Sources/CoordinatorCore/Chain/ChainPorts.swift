public import Bitcoin
public import Ethereum
import WalletCrypto

/// A failure of a chain adapter, the same for every adapter (Esplora, Bitcoin Core RPC, Ethereum JSON-RPC):
/// callers match on ``code`` and never parse ``reason``.
public struct ChainError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, extensible like `NIOFS.FileSystemError.Code`.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The chain source could not be reached or did not answer in time; retrying later may help.
        public static let unavailable = Code("unavailable")
        /// The chain source answered with something the adapter cannot decode, or that contradicts itself
        /// (for example a previous transaction that does not hash to its txid). Never retried blindly.
        public static let invalidResponse = Code("invalidResponse")
        /// The chain source does not know the transaction, block or account asked for.
        public static let notFound = Code("notFound")
        /// The chain source refused a broadcast (policy, fee, conflict, invalid signature); ``ChainError/reason``
        /// carries its message.
        public static let rejected = Code("rejected")

        public var description: String { name }
    }

    /// The kind of failure.
    public let code: Code
    /// A reason for people: the adapter's or the node's message, never a credential or an API key.
    public let reason: String

    /// Creates an error.
    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code): \(reason)" }
}

// MARK: - Bitcoin

/// An unspent output as a chain source reports it, with the proof Kura's signer needs to spend it.
public struct BitcoinUnspentOutput: Sendable, Hashable {
    /// Where the output is.
    public let outPoint: OutPoint
    /// Its value.
    public let value: Amount
    /// The script it pays.
    public let scriptPubKey: Script
    /// Blocks on top of (and including) the one that confirmed it; 0 while it is in the mempool.
    public let confirmations: UInt32
    /// The full previous transaction, serialised (witness included or not). The signer refuses segwit v0 inputs
    /// without it (BIP-0174 non-witness UTXO, against the fee attack on segwit v0 amounts), and the planner checks
    /// that it hashes to ``outPoint``'s txid and holds this value and script.
    public let previousTransaction: [UInt8]

    /// Creates an unspent output record (checked by the planner, not here: adapters report what they saw).
    public init(
        outPoint: OutPoint, value: Amount, scriptPubKey: Script, confirmations: UInt32, previousTransaction: [UInt8]
    ) {
        self.outPoint = outPoint
        self.value = value
        self.scriptPubKey = scriptPubKey
        self.confirmations = confirmations
        self.previousTransaction = previousTransaction
    }
}

/// Where a Bitcoin transaction stands on the chain source's best chain.
public enum BitcoinTransactionStatus: Sendable, Hashable {
    /// In the mempool, not yet in a block.
    case unconfirmed
    /// In the block at `blockHeight`; `confirmations` counts that block and every one on top of it (≥ 1).
    case confirmed(blockHeight: UInt32, confirmations: UInt32)
}

/// What the coordinator asks of a Bitcoin chain source. Adapters (Esplora, Bitcoin Core RPC) live outside
/// CoordinatorCore; this module only states the contract. Every method may fail with
/// ``ChainError/Code/unavailable`` or ``ChainError/Code/invalidResponse``; other codes are listed per method.
public protocol BitcoinChainPort: Sendable {
    /// The unspent outputs paying any of `scripts` (each a scriptPubKey the caller derived from a wallet's
    /// descriptor), confirmed or in the mempool, each with its full previous transaction. Outputs already spent by
    /// a mempool transaction are left out. The order is unspecified; an empty list means none.
    func unspentOutputs(paying scripts: [Script]) async throws(ChainError) -> [BitcoinUnspentOutput]

    /// The fee rate expected to confirm a transaction within `confirmationTarget` blocks (≥ 1), rounded up to
    /// whole sat/kvB.
    func feeRate(confirmationTarget: Int) async throws(ChainError) -> FeeRate

    /// Broadcasts a signed, finalised transaction given in its network serialisation and returns its txid.
    /// ``ChainError/Code/rejected`` when the node refuses it; broadcasting a transaction the node already has is
    /// not an error.
    func broadcast(_ rawTransaction: [UInt8]) async throws(ChainError) -> Txid

    /// Where the transaction `txid` stands. ``ChainError/Code/notFound`` when the chain source knows it neither in
    /// a block nor in its mempool (never broadcast, evicted or replaced).
    func transactionStatus(_ txid: Txid) async throws(ChainError) -> BitcoinTransactionStatus

    /// The height of the chain source's best block.
    func tipHeight() async throws(ChainError) -> UInt32
}

// MARK: - Ethereum

/// A fee suggestion for an EIP-1559 transaction: the base fee of the pending block and a priority fee (tip).
public struct EthereumFeeSuggestion: Sendable, Hashable {
    /// The base fee per gas of the next block (burnt; EIP-1559).
    public let baseFeePerGas: WeiPerGas
    /// A priority fee per gas likely to get the transaction included soon (paid to the block producer).
    public let maxPriorityFeePerGas: WeiPerGas

    /// Creates a suggestion.
    public init(baseFeePerGas: WeiPerGas, maxPriorityFeePerGas: WeiPerGas) {
        self.baseFeePerGas = baseFeePerGas
        self.maxPriorityFeePerGas = maxPriorityFeePerGas
    }
}

/// A call to estimate gas for (`eth_estimateGas`): who sends what to whom with which call data.
public struct EthereumCall: Sendable, Hashable {
    /// The sending account (the wallet's address).
    public let from: EthereumAddress
    /// The recipient: the destination for ether, the token contract for an ERC-20 transfer.
    public let to: EthereumAddress
    /// The ether sent.
    public let value: Wei
    /// The call data (empty for a plain payment).
    public let data: [UInt8]

    /// Creates a call.
    public init(from: EthereumAddress, to: EthereumAddress, value: Wei, data: [UInt8]) {
        self.from = from
        self.to = to
        self.value = value
        self.data = data
    }
}

/// The receipt of a mined Ethereum transaction.
public struct EthereumReceipt: Sendable, Hashable {
    /// The block that includes it.
    public let blockNumber: UInt64
    /// Whether the transaction succeeded (receipt status 1) or reverted (0); a reverted transaction still
    /// consumed its nonce and paid its gas.
    public let succeeded: Bool
    /// The gas it used.
    public let gasUsed: Gas
    /// That block and every block on top of it (≥ 1).
    public let confirmations: UInt64

    /// Creates a receipt.
    public init(blockNumber: UInt64, succeeded: Bool, gasUsed: Gas, confirmations: UInt64) {
        self.blockNumber = blockNumber
        self.succeeded = succeeded
        self.gasUsed = gasUsed
        self.confirmations = confirmations
    }
}

/// What the coordinator asks of an Ethereum chain source (an Ethereum JSON-RPC adapter lives outside
/// CoordinatorCore). Every method may fail with ``ChainError/Code/unavailable`` or
/// ``ChainError/Code/invalidResponse``; other codes are listed per method.
public protocol EthereumChainPort: Sendable {
    /// The EIP-155 chain id the node is on (`eth_chainId`); the planner refuses to plan when it is not the
    /// policy's.
    func chainID() async throws(ChainError) -> ChainID

    /// The next nonce of `account`, counting its pending transactions (`eth_getTransactionCount(…, "pending")`).
    func pendingNonce(of account: EthereumAddress) async throws(ChainError) -> Nonce

    /// The base fee of the pending block and a suggested priority fee.
    func feeSuggestion() async throws(ChainError) -> EthereumFeeSuggestion

    /// The gas `call` needs at the pending block (`eth_estimateGas`). ``ChainError/Code/rejected`` when the call
    /// would revert (for example a token transfer above the balance).
    func estimateGas(_ call: EthereumCall) async throws(ChainError) -> Gas

    /// Broadcasts a signed transaction given in its EIP-2718 serialisation (`eth_sendRawTransaction`) and returns
    /// its hash. ``ChainError/Code/rejected`` when the node refuses it (nonce too low, fee too low, bad
    /// signature).
    func broadcast(_ rawTransaction: [UInt8]) async throws(ChainError) -> TransactionHash

    /// The receipt of transaction `hash`, or `nil` while it is not in a block (pending, or unknown to the node:
    /// JSON-RPC does not tell the two apart).
    func receipt(_ hash: TransactionHash) async throws(ChainError) -> EthereumReceipt?

    /// The ether balance of `account` at the latest block (`eth_getBalance`), for the console's dashboard.
    func balance(of account: EthereumAddress) async throws(ChainError) -> Wei

    /// The ERC-20 balance `token` holds for `owner` at the latest block (`balanceOf`, by `eth_call`).
    func tokenBalance(token: EthereumAddress, owner: EthereumAddress) async throws(ChainError) -> UInt256

    // Reading blocks and token transfers, for the deposit watcher.

    /// The number of the chain source's latest block (`eth_blockNumber`).
    func blockNumber() async throws(ChainError) -> UInt64

    /// The block `number` of the chain source's best chain with its transactions, for incoming ether.
    /// ``ChainError/Code/notFound`` when `number` is above the latest block.
    func block(number: UInt64) async throws(ChainError) -> EthereumBlock

    /// The ERC-20 `Transfer` events of contract `token` paying any of `recipients` in blocks `fromBlock` through
    /// `toBlock` (both included), in chain order (block, then log index). An empty `recipients` or a `fromBlock`
    /// above `toBlock` is an empty list.
    func tokenTransfers(
        token: EthereumAddress, recipients: [EthereumAddress], fromBlock: UInt64, toBlock: UInt64
    ) async throws(ChainError) -> [EthereumTokenTransfer]
}

/// The hash of an Ethereum block: Keccak-256 of its RLP header. A type of its own, never a ``TransactionHash``.
public struct EthereumBlockHash: Sendable, Hashable, CustomStringConvertible {
    /// The 32 hash bytes.
    public let bytes: [UInt8]

    /// Wraps exactly 32 bytes; any other length is ``EthereumError/Code/invalidField``.
    public init(bytes: [UInt8]) throws(EthereumError) {
        guard bytes.count == 32 else {
            throw EthereumError(.invalidField, "a block hash is 32 bytes, not \(bytes.count)")
        }
        self.bytes = bytes
    }

    /// `0x` and 64 lowercase hex digits.
    public var description: String { "0x" + Hex.encode(bytes) }
}

/// A block of the chain source's best chain as the deposit watcher needs it: where it sits and the ether its
/// transactions carry. The chain source is not proven honest by this value (no header is verified); the watcher
/// waits for confirmations and checks each candidate's receipt.
public struct EthereumBlock: Sendable, Hashable {
    /// One transaction of the block: who sent how much ether to whom.
    public struct Transaction: Sendable, Hashable {
        /// Its hash.
        public let hash: TransactionHash
        /// The sender the chain source reports.
        public let from: EthereumAddress
        /// The recipient, `nil` for a contract creation.
        public let to: EthereumAddress?
        /// The ether it sends. It moves only if the transaction succeeded: a reverted transaction keeps its value
        /// field, so a deposit needs ``EthereumReceipt/succeeded`` as well. Ether sent by contracts (internal
        /// transfers) does not appear here.
        public let value: Wei

        /// Creates a transaction record.
        public init(hash: TransactionHash, from: EthereumAddress, to: EthereumAddress?, value: Wei) {
            self.hash = hash
            self.from = from
            self.to = to
            self.value = value
        }
    }

    /// Its number (height).
    public let number: UInt64
    /// Its hash.
    public let hash: EthereumBlockHash
    /// Its parent's hash, which lets a watcher notice a re-organisation.
    public let parentHash: EthereumBlockHash
    /// Its transactions, in block order.
    public let transactions: [Transaction]

    /// Creates a block record.
    public init(
        number: UInt64, hash: EthereumBlockHash, parentHash: EthereumBlockHash, transactions: [Transaction]
    ) {
        self.number = number
        self.hash = hash
        self.parentHash = parentHash
        self.transactions = transactions
    }
}

/// An ERC-20 `Transfer(address indexed from, address indexed to, uint256 value)` event (EIP-20) as a chain source
/// reports it: which contract moved how many base units to whom, and where in the chain.
public struct EthereumTokenTransfer: Sendable, Hashable {
    /// The token contract that emitted the event.
    public let token: EthereumAddress
    /// The account the tokens left.
    public let from: EthereumAddress
    /// The account the tokens reached.
    public let to: EthereumAddress
    /// The amount in the token's base units (no decimals applied).
    public let amount: UInt256
    /// The transaction that emitted it.
    public let transactionHash: TransactionHash
    /// Its position among the block's logs.
    public let logIndex: UInt64
    /// The block that includes it.
    public let blockNumber: UInt64
    /// That block's hash.
    public let blockHash: EthereumBlockHash

    /// Creates a transfer record.
    public init(
        token: EthereumAddress, from: EthereumAddress, to: EthereumAddress, amount: UInt256,
        transactionHash: TransactionHash, logIndex: UInt64, blockNumber: UInt64, blockHash: EthereumBlockHash
    ) {
        self.token = token
        self.from = from
        self.to = to
        self.amount = amount
        self.transactionHash = transactionHash
        self.logIndex = logIndex
        self.blockNumber = blockNumber
        self.blockHash = blockHash
    }
}
