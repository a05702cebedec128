// `kura-devtool chain eth-…`: drives the Ethereum JSON-RPC adapter of the Ethereum chain port (ChainAdapters,
// docs/CHAINS.md) so that the tests can check it against the dev chain and against fault-injecting servers. Output
// is one JSON value on one line (JSON lines for `eth-transfers`). Failures print and exit as the Bitcoin `chain`
// commands do (ChainCommands.swift): 69 unavailable, 76 invalidResponse, 66 notFound, 65 rejected or a bad
// argument found after parsing, 64 usage.
import ArgumentParser
import ChainAdapters
import CoordinatorCore
import Ethereum
import Foundation
import WalletCrypto

/// The Ethereum commands of `kura-devtool chain`, registered by ``ChainCommands``.
let ethChainSubcommands: [any ParsableCommand.Type] = [
    EthChainID.self, EthBlockNumber.self, EthNonce.self, EthFees.self, EthEstimate.self, EthBroadcast.self,
    EthReceipt.self, EthBlock.self, EthTransfers.self,
]

/// The options every `chain eth-…` command takes: where the node is, how to authenticate, how patient to be.
struct EthereumRPCOptions: ParsableArguments {
    @Option(name: .customLong("rpc"), help: "The JSON-RPC URL (http or https).")
    var url: String

    @Option(help: "The chain id the node must be on (refused otherwise).")
    var chainId: UInt64?

    @Option(help: "A file holding an API key or bearer token (never printed).")
    var apiKeyFile: String?

    @Option(help: "The header carrying the API key (default: Authorization: Bearer KEY).")
    var apiKeyHeader: String?

    @OptionGroup var transport: ChainTransportOptions

    @Option(help: "The most blocks one eth_getLogs query spans.")
    var maxBlocksPerLogQuery: UInt64 = 2_000

    func validate() throws {
        guard maxBlocksPerLogQuery > 0 else { throw ValidationError("limits must be positive") }
        guard apiKeyHeader == nil || apiKeyFile != nil else {
            throw ValidationError("--api-key-header needs --api-key-file")
        }
    }

    /// The adapter, on the process-wide HTTP client (which needs no shutdown).
    func chain() throws -> EthereumJSONRPCChain {
        let t = transport.http
        let options = EthereumJSONRPCChain.Options(
            requestTimeout: t.requestTimeout, retries: t.retries, initialBackoff: t.initialBackoff,
            maxResponseBytes: t.maxResponseBytes,
            maxBlocksPerLogQuery: maxBlocksPerLogQuery, expectedChainID: chainId.map(ChainID.init))
        var authorization: EthereumRPCAuthorization?
        if let apiKeyFile {
            let key = try DevtoolFiles.readText(apiKeyFile, limit: 4096)
            if let apiKeyHeader {
                authorization = try .header(name: apiKeyHeader, value: key)
            } else {
                authorization = try .bearer(key)
            }
        }
        return try EthereumJSONRPCChain(url: url, authorization: authorization, options: options)
    }
}

private func address(_ text: String, _ what: String) throws -> EthereumAddress {
    do { return try EthereumAddress(parsing: text) } catch {
        throw DevtoolError("invalid_address", "\(what): \(error.reason)")
    }
}

private func hexBytes(_ text: String, _ what: String, maxBytes: Int) throws -> [UInt8] {
    let digits = text.hasPrefix("0x") ? String(text.dropFirst(2)) : text
    do { return try Hex.decode(digits, maxBytes: maxBytes) } catch {
        throw DevtoolError("invalid_hex", "\(what) is not hex: \(error.reason)")
    }
}

struct EthChainID: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eth-chain-id", abstract: "Print the node's chain id: {\"chain_id\": N}.")
    @OptionGroup var rpc: EthereumRPCOptions

    struct Line: Encodable { let chain_id: UInt64 }

    func run() async throws {
        try await chainGuarded { try printJSON(Line(chain_id: try await rpc.chain().chainID().value)) }
    }
}

struct EthBlockNumber: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eth-block-number", abstract: "Print the latest block's number: {\"block_number\": N}.")
    @OptionGroup var rpc: EthereumRPCOptions

    struct Line: Encodable { let block_number: UInt64 }

    func run() async throws {
        try await chainGuarded { try printJSON(Line(block_number: try await rpc.chain().blockNumber())) }
    }
}

struct EthNonce: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eth-nonce", abstract: "Print an account's next nonce, pending transactions counted.")
    @OptionGroup var rpc: EthereumRPCOptions

    @Argument(help: "The account (0x and 40 hex digits).")
    var account: String

    struct Line: Encodable { let nonce: UInt64 }

    func run() async throws {
        try await chainGuarded {
            let parsed = try address(account, "account")
            try printJSON(Line(nonce: try await rpc.chain().pendingNonce(of: parsed).value))
        }
    }
}

struct EthFees: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eth-fees",
        abstract: "Print the pending block's base fee and a priority fee, in wei per gas (decimal strings).")
    @OptionGroup var rpc: EthereumRPCOptions

    struct Line: Encodable {
        let base_fee_per_gas: String
        let max_priority_fee_per_gas: String
    }

    func run() async throws {
        try await chainGuarded {
            let fees = try await rpc.chain().feeSuggestion()
            try printJSON(
                Line(
                    base_fee_per_gas: fees.baseFeePerGas.amount.decimalString,
                    max_priority_fee_per_gas: fees.maxPriorityFeePerGas.amount.decimalString))
        }
    }
}

struct EthEstimate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eth-estimate", abstract: "Print the gas a call needs at the pending block: {\"gas\": N}.")
    @OptionGroup var rpc: EthereumRPCOptions

    @Option(help: "The sender.")
    var from: String

    @Option(help: "The recipient (the token contract for a token transfer).")
    var to: String

    @Option(help: "The ether sent, in wei (decimal).")
    var value: String = "0"

    @Option(help: "The call data in hex.")
    var data: String = ""

    struct Line: Encodable { let gas: UInt64 }

    func run() async throws {
        try await chainGuarded {
            let amount: UInt256
            do throws(EthereumError) { amount = try UInt256(decimal: value) } catch {
                throw DevtoolError("invalid_value", "--value: \(error.reason)")
            }
            let call = EthereumCall(
                from: try address(from, "--from"), to: try address(to, "--to"), value: Wei(amount),
                data: try hexBytes(data, "--data", maxBytes: SignedTransaction.maxSize))
            let gas = try await rpc.chain().estimateGas(call)
            try printJSON(Line(gas: gas.units.exactUInt64 ?? .max))
        }
    }
}

struct EthBroadcast: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eth-broadcast", abstract: "Broadcast a signed transaction (hex) and print {\"hash\": …}.")
    @OptionGroup var rpc: EthereumRPCOptions

    @Argument(help: "The signed transaction in its EIP-2718 serialisation, hex.")
    var transaction: String

    struct Line: Encodable { let hash: String }

    func run() async throws {
        try await chainGuarded {
            let raw = try hexBytes(transaction, "the transaction", maxBytes: SignedTransaction.maxSize)
            try printJSON(Line(hash: try await rpc.chain().broadcast(raw).description))
        }
    }
}

struct EthReceipt: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eth-receipt",
        abstract: "Print a transaction's receipt ({block_number, succeeded, gas_used, confirmations}), or null.")
    @OptionGroup var rpc: EthereumRPCOptions

    @Argument(help: "The transaction hash (0x and 64 hex digits).")
    var hash: String

    struct Line: Encodable {
        let block_number: UInt64
        let succeeded: Bool
        let gas_used: UInt64
        let confirmations: UInt64
    }

    func run() async throws {
        try await chainGuarded {
            let id: TransactionHash
            do {
                guard hash.hasPrefix("0x") else { throw DevtoolError("invalid_hash", "the hash must start with 0x") }
                id = try TransactionHash(bytes: try hexBytes(hash, "the hash", maxBytes: 32))
            } catch let error as EthereumError {
                throw DevtoolError("invalid_hash", error.reason)
            }
            guard let receipt = try await rpc.chain().receipt(id) else {
                printLine("null")
                return
            }
            try printJSON(
                Line(
                    block_number: receipt.blockNumber, succeeded: receipt.succeeded,
                    gas_used: receipt.gasUsed.units.exactUInt64 ?? .max, confirmations: receipt.confirmations))
        }
    }
}

struct EthBlock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eth-block", abstract: "Print a block: its number, hash, parent and transactions' ether.")
    @OptionGroup var rpc: EthereumRPCOptions

    @Argument(help: "The block number (decimal).")
    var number: UInt64

    struct Transaction: Encodable {
        let hash: String
        let from: String
        let to: String?
        let value: String

        enum CodingKeys: String, CodingKey { case hash, from, to, value }

        /// `to` is written as `null` for a contract creation, not left out.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(hash, forKey: .hash)
            try container.encode(from, forKey: .from)
            try container.encode(to, forKey: .to)
            try container.encode(value, forKey: .value)
        }
    }

    struct Line: Encodable {
        let number: UInt64
        let hash: String
        let parent_hash: String
        let transactions: [Transaction]
    }

    func run() async throws {
        try await chainGuarded {
            let block = try await rpc.chain().block(number: number)
            try printJSON(
                Line(
                    number: block.number, hash: block.hash.description, parent_hash: block.parentHash.description,
                    transactions: block.transactions.map {
                        Transaction(
                            hash: $0.hash.description, from: $0.from.checksummed, to: $0.to?.checksummed,
                            value: $0.value.amount.decimalString)
                    }))
        }
    }
}

struct EthTransfers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eth-transfers",
        abstract: "Print the ERC-20 transfers of a token to the recipients in a block range, one JSON object a line.")
    @OptionGroup var rpc: EthereumRPCOptions

    @Option(help: "The token contract.")
    var token: String

    @Option(name: .customLong("recipient"), help: "A recipient; repeatable.")
    var recipients: [String] = []

    @Option(help: "The first block (decimal).")
    var fromBlock: UInt64

    @Option(help: "The last block (decimal).")
    var toBlock: UInt64

    func validate() throws {
        guard !recipients.isEmpty else { throw ValidationError("give at least one --recipient") }
    }

    struct Line: Encodable {
        let token: String
        let from: String
        let to: String
        let amount: String
        let transaction_hash: String
        let log_index: UInt64
        let block_number: UInt64
        let block_hash: String
    }

    func run() async throws {
        try await chainGuarded {
            let contract = try address(token, "--token")
            let accounts = try recipients.map { try address($0, "--recipient") }
            let transfers = try await rpc.chain().tokenTransfers(
                token: contract, recipients: accounts, fromBlock: fromBlock, toBlock: toBlock)
            for t in transfers {
                try printJSON(
                    Line(
                        token: t.token.checksummed, from: t.from.checksummed, to: t.to.checksummed,
                        amount: t.amount.decimalString, transaction_hash: t.transactionHash.description,
                        log_index: t.logIndex, block_number: t.blockNumber, block_hash: t.blockHash.description))
            }
        }
    }
}
