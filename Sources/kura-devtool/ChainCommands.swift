// `kura-devtool chain …`: drives an adapter of the Bitcoin chain port, Esplora (`--esplora URL`) or Bitcoin Core
// JSON-RPC (`--bitcoind URL`) (ChainAdapters, docs/CHAINS.md) so
// that the tests can check it against the dev chain and against fault-injecting servers. Output is one line (JSON
// lines for `utxos`). A port failure prints `kura-devtool: error: CODE: REASON` on stderr, CODE being the
// ChainError code, and exits with a status chosen by that code:
//   69 unavailable (EX_UNAVAILABLE), 76 invalidResponse (EX_PROTOCOL), 66 notFound (EX_NOINPUT),
//   65 rejected (EX_DATAERR; also a bad argument found after parsing), 64 usage (ArgumentParser).
import ArgumentParser
import Bitcoin
import ChainAdapters
import CoordinatorCore
import Foundation
import WalletCrypto

struct ChainCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chain",
        abstract: "Ask a chain source through Kura's chain ports (Esplora, Bitcoin Core RPC, Ethereum JSON-RPC).",
        subcommands: [ChainTip.self, ChainUtxos.self, ChainFeeRate.self, ChainBroadcast.self, ChainStatus.self]
            + ethChainSubcommands)
}

/// The options every `chain` command takes: where the chain source is (one of an Esplora server or a Bitcoin Core
/// node) and how patient to be.
struct EsploraOptions: ParsableArguments {
    @Option(name: .customLong("esplora"), help: "The Esplora base URL (http or https).")
    var url: String?

    @Option(
        name: .customLong("bitcoind"),
        help: "A Bitcoin Core JSON-RPC URL (http://user:password@host:port; the node needs -txindex=1).")
    var bitcoind: String?

    @OptionGroup var transport: ChainTransportOptions

    @Option(help: "The most unspent outputs one call may report.")
    var maxUtxos: Int = 1_000

    func validate() throws {
        guard maxUtxos >= 0 else { throw ValidationError("limits must be positive") }
        guard (url == nil) != (bitcoind == nil) else {
            throw ValidationError("name one chain source: --esplora URL or --bitcoind URL")
        }
    }

    /// The adapter, on the process-wide HTTP client (which needs no shutdown).
    func chain() throws -> any BitcoinChainPort {
        let t = transport.http
        if let bitcoind {
            return try BitcoinCoreRPCChain(baseURL: bitcoind, options: t, maxUnspentOutputs: maxUtxos)
        }
        let options = EsploraBitcoinChain.Options(
            requestTimeout: t.requestTimeout, retries: t.retries, initialBackoff: t.initialBackoff,
            maxResponseBytes: t.maxResponseBytes, maxUnspentOutputs: maxUtxos)
        return try EsploraBitcoinChain(baseURL: url ?? "", options: options)
    }
}

/// How patient every `chain` command is with its chain source (the same flags for every adapter).
struct ChainTransportOptions: ParsableArguments {
    @Option(help: "Seconds one attempt of one request may take.")
    var timeout: Double = 10

    @Option(help: "How many times a failed request is tried again.")
    var retries: Int = 3

    @Option(help: "Milliseconds before the first retry (doubling after).")
    var backoffMs: Int = 250

    @Option(help: "The largest answer accepted, in bytes.")
    var maxResponseBytes: Int = 4 << 20

    func validate() throws {
        guard timeout > 0, timeout <= 600 else { throw ValidationError("--timeout must be in (0, 600] seconds") }
        guard (0...10).contains(retries) else { throw ValidationError("--retries must be 0…10") }
        guard (0...60_000).contains(backoffMs) else { throw ValidationError("--backoff-ms must be 0…60000") }
        guard maxResponseBytes > 0 else { throw ValidationError("limits must be positive") }
    }

    /// The adapters' transport options.
    var http: ChainHTTPOptions {
        ChainHTTPOptions(
            requestTimeout: .milliseconds(Int64(timeout * 1000)), retries: retries,
            initialBackoff: .milliseconds(backoffMs), maxResponseBytes: maxResponseBytes)
    }
}

/// Exit statuses by ChainError code (sysexits).
func chainExitCode(_ code: ChainError.Code) -> Int32 {
    switch code {
    case .unavailable: return 69
    case .invalidResponse: return 76
    case .notFound: return 66
    default: return devtoolDataError
    }
}

/// Runs a command's body: a ChainError becomes `kura-devtool: error: CODE: REASON` and its code's exit status, any
/// other error the same line with exit status 65.
func chainGuarded(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let exit as ExitCode {
        throw exit
    } catch let error as ChainError {
        FileHandle.standardError.write(Data("kura-devtool: error: \(error.code): \(error.reason)\n".utf8))
        throw ExitCode(chainExitCode(error.code))
    } catch {
        let e = DevtoolError.from(error)
        FileHandle.standardError.write(Data("kura-devtool: error: \(e.code): \(e.reason)\n".utf8))
        throw ExitCode(devtoolDataError)
    }
}

func printLine(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

struct ChainTip: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tip", abstract: "Print the best block's height.")
    @OptionGroup var esplora: EsploraOptions

    func run() async throws {
        try await chainGuarded { printLine(String(try await esplora.chain().tipHeight())) }
    }
}

struct ChainUtxos: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "utxos",
        abstract: "Print the unspent outputs paying the scripts, one JSON object a line, each checked against its "
            + "previous transaction.")
    @OptionGroup var esplora: EsploraOptions

    @Option(name: .customLong("script"), help: "An output script (scriptPubKey) in hex; repeatable.")
    var scripts: [String] = []

    func validate() throws {
        guard !scripts.isEmpty else { throw ValidationError("give at least one --script") }
    }

    struct Line: Encodable {
        let txid: String
        let vout: UInt32
        let value: Int64
        let script: String
        let confirmations: UInt32
        let previous_transaction: String
        let previous_transaction_sha256: String
    }

    func run() async throws {
        try await chainGuarded {
            let parsed = try scripts.map { (hex: String) throws -> Script in
                do { return Script(try Hex.decode(hex, maxBytes: 10_000)) } catch {
                    throw DevtoolError("invalid_script", "--script \(hex.prefix(80)): \(error)")
                }
            }
            for o in try await esplora.chain().unspentOutputs(paying: parsed) {
                try printJSON(
                    Line(
                        txid: o.outPoint.txid.description, vout: o.outPoint.vout, value: o.value.sats,
                        script: Hex.encode(o.scriptPubKey.bytes), confirmations: o.confirmations,
                        previous_transaction: Hex.encode(o.previousTransaction),
                        previous_transaction_sha256: Hex.encode(Hash.sha256(o.previousTransaction))))
            }
        }
    }
}

struct ChainFeeRate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fee-rate", abstract: "Print the fee rate for a confirmation target, in sat/kvB.")
    @OptionGroup var esplora: EsploraOptions

    @Option(help: "The confirmation target in blocks (≥ 1).")
    var target: Int

    func validate() throws {
        guard target >= 1 else { throw ValidationError("--target must be at least 1") }
    }

    func run() async throws {
        try await chainGuarded {
            printLine(String(try await esplora.chain().feeRate(confirmationTarget: target).satsPerKvB))
        }
    }
}

struct ChainBroadcast: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broadcast", abstract: "Broadcast a signed transaction (hex) and print its txid.")
    @OptionGroup var esplora: EsploraOptions

    @Argument(help: "The signed transaction in hex.")
    var transaction: String

    func run() async throws {
        try await chainGuarded {
            let raw: [UInt8]
            do { raw = try Hex.decode(transaction, maxBytes: Transaction.maxSize) } catch {
                throw DevtoolError("invalid_transaction", "the transaction is not hex: \(error)")
            }
            printLine(try await esplora.chain().broadcast(raw).description)
        }
    }
}

struct ChainStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Print a transaction's status: {\"confirmed\": false} or its block height and confirmations.")
    @OptionGroup var esplora: EsploraOptions

    @Argument(help: "The txid (64 hex digits, as block explorers show it).")
    var txid: String

    struct Line: Encodable {
        let confirmed: Bool
        let block_height: UInt32?
        let confirmations: UInt32
    }

    func run() async throws {
        try await chainGuarded {
            let id: Txid
            do { id = try Txid(hex: txid) } catch { throw DevtoolError("invalid_txid", "\(error)") }
            switch try await esplora.chain().transactionStatus(id) {
            case .unconfirmed: try printJSON(Line(confirmed: false, block_height: nil, confirmations: 0))
            case .confirmed(let height, let confirmations):
                try printJSON(Line(confirmed: true, block_height: height, confirmations: confirmations))
            }
        }
    }
}
