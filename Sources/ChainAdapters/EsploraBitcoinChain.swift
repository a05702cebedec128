public import AsyncHTTPClient
public import Bitcoin
public import CoordinatorCore
public import Logging
import NIOCore
import NIOHTTP1
import WalletCrypto

/// The ``BitcoinChainPort`` over an Esplora server's REST API (Blockstream's esplora, mempool.space's, or the dev
/// chain's subset), with the chain source treated as untrusted: every answer goes through ``EsploraCodec``.
///
/// Endpoints: `GET /scripthash/:hash/utxo`, `GET /tx/:txid/hex`, `GET /tx/:txid/status`, `GET /fee-estimates`,
/// `POST /tx`, `GET /blocks/tip/height`. Each request has its own timeout; a request that fails to connect, times
/// out, or answers 429 or 5xx is retried with exponential backoff (GETs, and the broadcast: sending a transaction the
/// node already has is not an error), then fails with ``ChainError/Code/unavailable``. Bodies are collected with a
/// limit, so an oversize answer is refused before it is buffered.
///
/// The `HTTPClient` belongs to the caller: the adapter never shuts it down. The default, `HTTPClient.shared`, lives
/// as long as the process and needs no shutdown; a client the caller made must be shut down by the caller after the
/// last request (`try await client.shutdown()`).
public struct EsploraBitcoinChain: BitcoinChainPort {
    /// Timeouts, retries and bounds.
    public struct Options: Sendable, Hashable {
        /// The time one attempt of one request may take, body included.
        public var requestTimeout: Duration
        /// How many times a failed idempotent request is tried again (0: once in all).
        public var retries: Int
        /// The wait before the first retry; each further retry waits twice as long, up to ``maxBackoff``.
        public var initialBackoff: Duration
        /// The longest wait between two attempts.
        public var maxBackoff: Duration
        /// The largest answer accepted, in bytes.
        public var maxResponseBytes: Int
        /// The most unspent outputs one ``EsploraBitcoinChain/unspentOutputs(paying:)`` call may report.
        public var maxUnspentOutputs: Int

        /// Creates options; the defaults are a 10 s timeout, 3 retries from 250 ms to 4 s, 4 MiB answers and
        /// 1,000 unspent outputs.
        public init(
            requestTimeout: Duration = .seconds(10), retries: Int = 3, initialBackoff: Duration = .milliseconds(250),
            maxBackoff: Duration = .seconds(4), maxResponseBytes: Int = 4 << 20, maxUnspentOutputs: Int = 1_000
        ) {
            self.requestTimeout = requestTimeout
            self.retries = retries
            self.initialBackoff = initialBackoff
            self.maxBackoff = maxBackoff
            self.maxResponseBytes = maxResponseBytes
            self.maxUnspentOutputs = maxUnspentOutputs
        }
    }

    /// Where the server is (without credentials when printed).
    public let baseURL: EsploraBaseURL
    /// The options in force.
    public let options: Options
    /// The codec that checks every answer.
    public let codec: EsploraCodec
    private let http: ChainHTTP

    /// Creates an adapter for the Esplora server at `baseURL` (`http` or `https`, optionally with a path prefix and
    /// userinfo credentials). ``ChainError/Code/unavailable`` when the URL is not a valid one.
    public init(
        baseURL: String, client: HTTPClient = .shared, options: Options = Options(),
        logger: Logger = Logger(label: "kura.chain.esplora")
    ) throws(ChainError) {
        self.baseURL = try EsploraBaseURL(baseURL)
        self.options = options
        self.codec = EsploraCodec(
            maxResponseBytes: max(1, options.maxResponseBytes), maxUnspentOutputs: max(0, options.maxUnspentOutputs))
        self.http = ChainHTTP(
            baseURL: self.baseURL,
            options: ChainHTTPOptions(
                requestTimeout: options.requestTimeout, retries: options.retries,
                initialBackoff: options.initialBackoff, maxBackoff: options.maxBackoff,
                maxResponseBytes: max(1, options.maxResponseBytes)),
            client: client, logger: logger, name: "esplora")
    }

    // MARK: - BitcoinChainPort

    public func unspentOutputs(paying scripts: [Script]) async throws(ChainError) -> [BitcoinUnspentOutput] {
        var unique: [Script] = []
        for script in scripts where !unique.contains(script) { unique.append(script) }
        let asked = Set(unique)
        var listed: [(claim: EsploraUnverifiedOutput, script: Script)] = []
        for script in unique {
            let path = "/scripthash/\(EsploraCodec.scriptHash(script))/utxo"
            let body = try await get(path, notFound: nil)
            let room = codec.maxUnspentOutputs - listed.count
            for claim in try codec.unspentOutputs(body, limit: room) { listed.append((claim, script)) }
        }
        guard !listed.isEmpty else { return [] }
        // The tip after the listings, so every block they name is at or below it.
        let tip = try await tipHeight()
        var previous: [Txid: [UInt8]] = [:]
        var out: [BitcoinUnspentOutput] = []
        for (claim, script) in listed {
            let txid = claim.outPoint.txid
            let hex: [UInt8]
            if let known = previous[txid] {
                hex = known
            } else {
                // A 404 here contradicts the listing: invalidResponse, not notFound.
                hex = try await get("/tx/\(txid)/hex", notFound: nil)
                previous[txid] = hex
            }
            out.append(
                try codec.unspentOutput(
                    claim, script: script, asked: asked, previousTransactionHex: hex, tipHeight: tip))
        }
        return out
    }

    public func feeRate(confirmationTarget: Int) async throws(ChainError) -> FeeRate {
        let body = try await get("/fee-estimates", notFound: nil)
        return try codec.feeRate(body, confirmationTarget: max(1, confirmationTarget))
    }

    public func broadcast(_ rawTransaction: [UInt8]) async throws(ChainError) -> Txid {
        let txid: Txid
        do { txid = try Transaction(bytes: rawTransaction).computeTxid() } catch {
            throw bounded(.rejected, "not sent: the transaction does not decode: \(error.reason)")
        }
        let outcome = await send(.POST, "/tx", body: Array(Hex.encode(rawTransaction).utf8))
        switch outcome.result {
        case .success(let response) where (200..<300).contains(response.status):
            return try codec.broadcastAnswer(response.body, expected: txid)
        case .success(let response) where response.status == 400:
            let rejection = bounded(.rejected, EsploraCodec.message(response.body))
            // A retried broadcast may be refused because an earlier, unanswered attempt got through; the node then
            // knows the transaction, which is what the caller wanted.
            if outcome.attempts > 1, (try? await transactionStatus(txid)) != nil { return txid }
            throw rejection
        case .success(let response):
            throw unexpected(response, "POST /tx")
        case .failure(let error):
            throw error
        }
    }

    public func transactionStatus(_ txid: Txid) async throws(ChainError) -> BitcoinTransactionStatus {
        let body = try await get("/tx/\(txid)/status", notFound: "transaction \(txid)")
        guard let height = try codec.confirmationHeight(body) else { return .unconfirmed }
        return try codec.transactionStatus(blockHeight: height, tipHeight: try await tipHeight())
    }

    public func tipHeight() async throws(ChainError) -> UInt32 {
        try codec.tipHeight(try await get("/blocks/tip/height", notFound: nil))
    }

    // MARK: - HTTP

    /// The body of a `GET` that must answer 200. A 404 is ``ChainError/Code/notFound`` naming `notFound` when that is
    /// given, `invalidResponse` otherwise (the chain source contradicts what it said before).
    private func get(_ path: String, notFound: String?) async throws(ChainError) -> [UInt8] {
        let outcome = await send(.GET, path, body: nil)
        let response: ChainHTTP.Response
        switch outcome.result {
        case .success(let r): response = r
        case .failure(let error): throw error
        }
        if response.status == 200 { return response.body }
        if response.status == 404, let notFound {
            throw bounded(.notFound, "\(notFound) is not known to \(baseURL.redacted)")
        }
        throw unexpected(response, "GET \(path)")
    }

    private func unexpected(_ response: ChainHTTP.Response, _ request: String) -> ChainError {
        bounded(
            .invalidResponse,
            "\(request) at \(baseURL.redacted) answered HTTP \(response.status): \(EsploraCodec.message(response.body))"
        )
    }

    private func send(_ method: HTTPMethod, _ path: String, body: [UInt8]?) async -> ChainHTTP.Outcome {
        await http.send(method, path, body: body)
    }
}
