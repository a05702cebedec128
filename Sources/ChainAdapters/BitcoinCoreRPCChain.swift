public import AsyncHTTPClient
public import Bitcoin
public import CoordinatorCore
import Governance
public import Logging
import NIOHTTP1
import Synchronization
import WalletCrypto

/// The ``BitcoinChainPort`` over Bitcoin Core's JSON-RPC (`bitcoind`, no wallet needed), with the node treated as
/// untrusted: every answer goes through ``BitcoinCoreRPCCodec``, and every previous transaction is checked as the
/// Esplora adapter checks it.
///
/// Calls: `scantxoutset`, `gettxout`, `getblockhash`, `getrawtransaction`, `getblockheader`, `getblockcount`,
/// `estimatesmartfee`, `sendrawtransaction`. The node must run with `-txindex=1` (``transactionStatus(_:)`` reads
/// confirmed transactions by txid). Unlike Esplora, the UTXO-set scan lists **confirmed** outputs only: a deposit
/// still in the mempool is not offered to the planner until it is in a block. Credentials are the base URL's
/// userinfo (`http://user:password@127.0.0.1:8332`, or `__cookie__:HEX` from the node's `.cookie` file), sent as
/// basic authentication and never named in an error. Each call is retried like the Esplora adapter's requests on no
/// connection, a timeout, HTTP 429 or 5xx without a JSON-RPC error in its body (every call sent is idempotent;
/// `sendrawtransaction` of a transaction the node already has answers its txid).
public struct BitcoinCoreRPCChain: BitcoinChainPort {
    /// Where the node is (without credentials when printed).
    public let baseURL: ChainBaseURL
    /// The codec that checks every answer.
    public let codec: BitcoinCoreRPCCodec
    private let http: ChainHTTP
    private let esplora: EsploraCodec
    private let ids = CallIDs()

    /// Creates an adapter for the node at `baseURL`. ``ChainError/Code/unavailable`` when the URL is not valid.
    public init(
        baseURL: String, client: HTTPClient = .shared, options: ChainHTTPOptions = ChainHTTPOptions(),
        maxUnspentOutputs: Int = 1_000, logger: Logger = Logger(label: "kura.chain.bitcoind")
    ) throws(ChainError) {
        self.baseURL = try ChainBaseURL(baseURL)
        var options = options
        options.maxResponseBytes = max(1, options.maxResponseBytes)
        self.codec = BitcoinCoreRPCCodec(
            maxResponseBytes: options.maxResponseBytes, maxUnspentOutputs: max(0, maxUnspentOutputs))
        self.esplora = EsploraCodec(maxResponseBytes: options.maxResponseBytes)
        self.http = ChainHTTP(baseURL: self.baseURL, options: options, client: client, logger: logger, name: "bitcoind")
    }

    // MARK: - BitcoinChainPort

    public func unspentOutputs(paying scripts: [Script]) async throws(ChainError) -> [BitcoinUnspentOutput] {
        var unique: [Script] = []
        for script in scripts where !unique.contains(script) { unique.append(script) }
        guard !unique.isEmpty else { return [] }
        let asked = Set(unique)
        let descriptors = unique.map { JSONValue.string(BitcoinCoreRPCCodec.rawDescriptor($0)) }
        let scan = try codec.scan(
            try await result("scantxoutset", [.string("start"), .array(descriptors)]), asked: asked)
        var previous: [Txid: [UInt8]] = [:]
        var out: [BitcoinUnspentOutput] = []
        for output in scan.outputs {
            let outPoint = output.claim.outPoint
            // Spent since the scan, or by a mempool transaction: not offered.
            let current = try await result(
                "gettxout", [.string(outPoint.txid.description), .number(Double(outPoint.vout)), .bool(true)])
            guard try codec.stillUnspent(current, output) else { continue }
            let txid = outPoint.txid
            let hex: [UInt8]
            if let known = previous[txid] {
                hex = known
            } else {
                var blockHash = output.blockHash
                if blockHash == nil, let height = output.claim.blockHeight {
                    blockHash = try await result("getblockhash", [.number(Double(height))]).stringValue
                }
                var params: [JSONValue] = [.string(txid.description), .bool(false)]
                if let blockHash { params.append(.string(blockHash)) }
                // A -5 here contradicts the scan: invalidResponse, not notFound.
                hex = try codec.rawTransactionHex(
                    try await result("getrawtransaction", params), what: "previous transaction of \(outPoint)")
                previous[txid] = hex
            }
            out.append(
                try esplora.unspentOutput(
                    output.claim, script: output.script, asked: asked, previousTransactionHex: hex,
                    tipHeight: scan.height))
        }
        return out
    }

    public func feeRate(confirmationTarget: Int) async throws(ChainError) -> FeeRate {
        try codec.feeRate(
            try await result("estimatesmartfee", [.number(Double(min(max(1, confirmationTarget), 1008)))]))
    }

    public func broadcast(_ rawTransaction: [UInt8]) async throws(ChainError) -> Txid {
        let txid: Txid
        do { txid = try Transaction(bytes: rawTransaction).computeTxid() } catch {
            throw bounded(.rejected, "not sent: the transaction does not decode: \(error.reason)")
        }
        let (answer, attempts) = try await call("sendrawtransaction", [.string(Hex.encode(rawTransaction))])
        switch answer {
        case .result(let value):
            return try codec.broadcastAnswer(value, expected: txid)
        case .error(let code, _) where code == BitcoinCoreRPCCodec.ErrorCode.alreadyInChain:
            return txid  // already confirmed: what the caller wanted
        case .error(let code, let message):
            let rejection = bounded(.rejected, "\(message) (code \(code))")
            // A retried broadcast may be refused because an earlier, unanswered attempt got through.
            if attempts > 1, (try? await transactionStatus(txid)) != nil { return txid }
            throw rejection
        }
    }

    public func transactionStatus(_ txid: Txid) async throws(ChainError) -> BitcoinTransactionStatus {
        let (answer, _) = try await call("getrawtransaction", [.string(txid.description), .bool(true)])
        let verbose: JSONValue
        switch answer {
        case .result(let value): verbose = value
        case .error(let code, _) where code == BitcoinCoreRPCCodec.ErrorCode.invalidAddressOrKey:
            throw bounded(.notFound, "transaction \(txid) is not known to \(baseURL.redacted)")
        case .error(let code, let message): throw unexpected("getrawtransaction", code, message)
        }
        guard let blockHash = try codec.confirmingBlock(verbose, txid: txid) else { return .unconfirmed }
        let header = try await result("getblockheader", [.string(blockHash), .bool(true)])
        guard let height = try codec.blockHeight(header, hash: blockHash) else {
            // Its block left the best chain (a re-org) and the node has not put it back in a block yet.
            return .unconfirmed
        }
        return try esplora.transactionStatus(blockHeight: height, tipHeight: try await tipHeight())
    }

    public func tipHeight() async throws(ChainError) -> UInt32 {
        try codec.height(try await result("getblockcount", []), what: "getblockcount")
    }

    // MARK: - JSON-RPC

    /// The result of a call that must succeed: a node error is `invalidResponse` naming it.
    private func result(_ method: String, _ params: [JSONValue]) async throws(ChainError) -> JSONValue {
        switch try await call(method, params).answer {
        case .result(let value): return value
        case .error(let code, let message): throw unexpected(method, code, message)
        }
    }

    private func unexpected(_ method: String, _ code: Int, _ message: String) -> ChainError {
        if code == BitcoinCoreRPCCodec.ErrorCode.methodNotFound {
            return bounded(.invalidResponse, "\(method) at \(baseURL.redacted): the node has no such method")
        }
        return bounded(.invalidResponse, "\(method) at \(baseURL.redacted) failed: \(message) (code \(code))")
    }

    /// One call, retried while the transport says so; an HTTP error status with a JSON-RPC error in its body (Core
    /// before 28 answers every error that way) is the node's answer, not a transport failure.
    private func call(_ method: String, _ params: [JSONValue]) async throws(ChainError) -> (
        answer: BitcoinCoreRPCCodec.Answer, attempts: Int
    ) {
        let id = ids.next()
        let codec = self.codec
        let outcome = await http.send(
            .POST, "/", body: BitcoinCoreRPCCodec.request(id: id, method: method, params: params),
            contentType: "application/json",
            transient: { response in
                guard response.status == 429 || (500..<600).contains(response.status) else { return false }
                if case .error = try? codec.answer(response.body, id: id) { return false }
                return true
            })
        let response: ChainHTTP.Response
        switch outcome.result {
        case .success(let r): response = r
        case .failure(let error): throw error
        }
        if response.status == 401 || response.status == 403 {
            throw bounded(.unavailable, "\(method) at \(baseURL.redacted): the node refused the credentials")
        }
        guard response.status == 200 || response.status == 500 || response.status == 404 else {
            throw bounded(
                .invalidResponse,
                "\(method) at \(baseURL.redacted) answered HTTP \(response.status): "
                    + EsploraCodec.message(response.body))
        }
        return (try codec.answer(response.body, id: id), outcome.attempts)
    }
}

/// Call ids, unique per adapter (answers are matched to them).
private final class CallIDs: Sendable {
    private let counter = Atomic<Int>(0)
    func next() -> Int { counter.add(1, ordering: .relaxed).newValue }
}
