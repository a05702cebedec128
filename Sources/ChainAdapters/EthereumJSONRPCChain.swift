public import AsyncHTTPClient
public import CoordinatorCore
public import Ethereum
import Governance
public import Logging
import NIOCore
import NIOHTTP1
import WalletCrypto

/// How the adapter authenticates to a JSON-RPC provider beyond the URL's userinfo: a header carrying a bearer token
/// or an API key. It is a secret: not `Equatable`, not printable (its description is `<redacted>`), and it never
/// appears in an error or a log line.
public struct EthereumRPCAuthorization: Sendable, CustomStringConvertible, CustomReflectable {
    let name: String
    let value: String

    private init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// `Authorization: Bearer <token>`.
    public static func bearer(_ token: String) throws(ChainError) -> Self {
        try header(name: "Authorization", value: "Bearer " + token)
    }

    /// A header of the caller's (`X-API-Key: <key>`, …). The name must be an HTTP token and the value printable
    /// ASCII; what is wrong is ``ChainError/Code/unavailable`` with a reason that never repeats the value.
    public static func header(name: String, value: String) throws(ChainError) -> Self {
        let symbols = Set("!#$%&'*+-.^_`|~".utf8)
        let isTokenByte: (UInt8) -> Bool = {
            (0x30...0x39).contains($0) || (0x41...0x5a).contains($0) || (0x61...0x7a).contains($0)
                || symbols.contains($0)
        }
        guard !name.isEmpty, name.utf8.count <= 64, name.utf8.allSatisfy(isTokenByte) else {
            throw ChainError(.unavailable, "invalid API key header name")
        }
        guard !value.isEmpty, value.utf8.count <= 4096, value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) else {
            throw ChainError(.unavailable, "invalid API key: empty, too long, or not printable ASCII")
        }
        return Self(name: name, value: value)
    }

    public var description: String { "<redacted>" }

    /// No children: `dump` and debuggers do not show the header either.
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}

/// The ``EthereumChainPort`` over a node's standard JSON-RPC 2.0 interface (geth, Erigon, Nethermind, Reth, a
/// provider, or the dev chain), with the node treated as untrusted: every answer goes through ``EthereumRPCCodec``.
///
/// Each request is one `POST` of one JSON-RPC call to the URL (no batches). Each attempt has its own timeout
/// bounding the whole exchange; an attempt that fails to connect, times out, answers HTTP 429 or 5xx, or answers a
/// JSON-RPC error the codec deems transient (``EthereumRPCCodec/failure(_:method:)``) is retried with exponential
/// backoff, then fails with ``ChainError/Code/unavailable``. Every call is idempotent, `eth_sendRawTransaction`
/// included: a node that already has a transaction says so, and the adapter then checks it knows it.
///
/// The URL is `http` or `https`; userinfo credentials are sent as HTTP basic authentication, an optional
/// ``EthereumRPCAuthorization`` as its header. Errors and logs name the URL's scheme, host and port only: its path
/// (where Infura and Alchemy put the API key), userinfo and the authorization header never appear.
///
/// The `HTTPClient` belongs to the caller, as for ``EsploraBitcoinChain``.
public struct EthereumJSONRPCChain: EthereumChainPort {
    /// Timeouts, retries and bounds.
    public struct Options: Sendable, Hashable {
        /// The time one attempt of one request may take, body included.
        public var requestTimeout: Duration
        /// How many times a failed request is tried again (0: once in all).
        public var retries: Int
        /// The wait before the first retry; each further retry waits twice as long, up to ``maxBackoff``.
        public var initialBackoff: Duration
        /// The longest wait between two attempts.
        public var maxBackoff: Duration
        /// The largest answer accepted, in bytes.
        public var maxResponseBytes: Int
        /// The most elements of one array in an answer (transactions of a block, logs of one query).
        public var maxArrayElements: Int
        /// The most blocks one `eth_getLogs` query spans; a longer range is split.
        public var maxBlocksPerLogQuery: UInt64
        /// The most recipients one `eth_getLogs` query names; more are split over several queries.
        public var maxRecipientsPerLogQuery: Int
        /// The most transfers one ``EthereumJSONRPCChain/tokenTransfers(token:recipients:fromBlock:toBlock:)`` call
        /// may report.
        public var maxTokenTransfers: Int
        /// The chain id the node must be on, if known: ``EthereumJSONRPCChain/chainID()`` refuses another as
        /// `invalidResponse`, and a transaction for another chain is not broadcast.
        public var expectedChainID: ChainID?

        /// Creates options; the defaults are a 10 s timeout, 3 retries from 250 ms to 4 s, 4 MiB answers, 10,000
        /// array elements, log queries of 2,000 blocks and 100 recipients, 10,000 transfers per call, no expected
        /// chain id.
        public init(
            requestTimeout: Duration = .seconds(10), retries: Int = 3, initialBackoff: Duration = .milliseconds(250),
            maxBackoff: Duration = .seconds(4), maxResponseBytes: Int = 4 << 20, maxArrayElements: Int = 10_000,
            maxBlocksPerLogQuery: UInt64 = 2_000, maxRecipientsPerLogQuery: Int = 100, maxTokenTransfers: Int = 10_000,
            expectedChainID: ChainID? = nil
        ) {
            self.requestTimeout = requestTimeout
            self.retries = retries
            self.initialBackoff = initialBackoff
            self.maxBackoff = maxBackoff
            self.maxResponseBytes = maxResponseBytes
            self.maxArrayElements = maxArrayElements
            self.maxBlocksPerLogQuery = maxBlocksPerLogQuery
            self.maxRecipientsPerLogQuery = maxRecipientsPerLogQuery
            self.maxTokenTransfers = maxTokenTransfers
            self.expectedChainID = expectedChainID
        }
    }

    /// The options in force.
    public let options: Options
    /// The codec that checks every answer.
    public let codec: EthereumRPCCodec
    /// The node as errors name it: scheme, host and port, never the path, userinfo or API key.
    public let redactedURL: String
    private let logger: Logger
    private let http: ChainHTTP

    /// Creates an adapter for the node at `url` (`http` or `https`, an optional path and userinfo credentials) with
    /// an optional authorization header. ``ChainError/Code/unavailable`` when the URL is not a valid one, or when it
    /// has userinfo and `authorization` is an `Authorization` header too.
    public init(
        url: String, authorization: EthereumRPCAuthorization? = nil, client: HTTPClient = .shared,
        options: Options = Options(), logger: Logger = Logger(label: "kura.chain.ethereum")
    ) throws(ChainError) {
        let parsed: ChainBaseURL
        do {
            parsed = try ChainBaseURL(url)
        } catch {
            // The same rules as an Esplora base URL; the reason never repeats the URL.
            let why = error.reason.split(separator: ":", maxSplits: 1).last.map(String.init) ?? ""
            throw ChainError(.unavailable, "invalid JSON-RPC URL:\(why)")
        }
        if parsed.credentials != nil, authorization?.name.lowercased() == "authorization" {
            throw ChainError(.unavailable, "the URL's userinfo and the bearer token both want the Authorization header")
        }
        self.redactedURL = "\(parsed.scheme)://\(parsed.authority)"
        self.options = options
        self.codec = EthereumRPCCodec(
            maxResponseBytes: max(1, options.maxResponseBytes), maxArrayElements: max(1, options.maxArrayElements))
        self.logger = logger
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        if let authorization { headers.append((authorization.name, authorization.value)) }
        self.http = ChainHTTP(
            baseURL: parsed,
            options: ChainHTTPOptions(
                requestTimeout: options.requestTimeout, retries: options.retries,
                initialBackoff: options.initialBackoff, maxBackoff: options.maxBackoff,
                maxResponseBytes: max(1, options.maxResponseBytes)),
            client: client, logger: logger, name: "ethereum", headers: headers, redacted: self.redactedURL)
    }

    // MARK: - EthereumChainPort

    public func chainID() async throws(ChainError) -> ChainID {
        let id = try codec.chainID(try await call(.chainID))
        if let expected = options.expectedChainID, id != expected {
            throw bounded(.invalidResponse, "\(redactedURL) is on chain \(id), not the expected \(expected)")
        }
        return id
    }

    public func pendingNonce(of account: EthereumAddress) async throws(ChainError) -> Nonce {
        try codec.nonce(try await call(.pendingTransactionCount(account)))
    }

    /// The base fee of the pending block (`eth_getBlockByNumber("pending")`; when the node has none, EIP-1559's
    /// next base fee computed from the latest block) and the node's own priority fee suggestion
    /// (`eth_maxPriorityFeePerGas`, geth's gas price oracle over recent blocks).
    public func feeSuggestion() async throws(ChainError) -> EthereumFeeSuggestion {
        let base: WeiPerGas
        if let pending = try codec.pendingBaseFee(try await call(.blockHeader(tag: "pending"))) {
            base = pending
        } else {
            base = try codec.nextBaseFee(latestBlock: try await call(.blockHeader(tag: "latest")))
        }
        let tip = try codec.priorityFee(try await call(.maxPriorityFeePerGas))
        return EthereumFeeSuggestion(baseFeePerGas: base, maxPriorityFeePerGas: tip)
    }

    public func estimateGas(_ call: EthereumCall) async throws(ChainError) -> Gas {
        try codec.gasEstimate(try await self.call(.estimateGas(call)))
    }

    /// Decodes the transaction first (it is not sent unless it is one strict EIP-2718 transaction with a chain id,
    /// the expected one if set, and the node's), then sends it and checks the node answers its hash. A refusal that
    /// may mean the node already has it (``EthereumRPCCodec/mayBeAlreadySent(_:)``), or any refusal of a retried
    /// attempt, is a success when the node has its receipt or knows it.
    public func broadcast(_ rawTransaction: [UInt8]) async throws(ChainError) -> TransactionHash {
        let transaction: SignedTransaction
        do { transaction = try SignedTransaction(bytes: rawTransaction) } catch {
            throw bounded(.rejected, "not sent: the transaction does not decode: \(error.reason)")
        }
        let hash = transaction.computeHash()
        guard let chain = transaction.chainID else {
            throw bounded(.rejected, "not sent: the transaction has no chain id (not replay-protected, EIP-155)")
        }
        if let expected = options.expectedChainID, chain != expected {
            throw bounded(.rejected, "not sent: the transaction is for chain \(chain), not the expected \(expected)")
        }
        let nodeChain = try await chainID()
        guard nodeChain == chain else {
            throw bounded(
                .rejected, "not sent: \(redactedURL) is on chain \(nodeChain), the transaction is for chain \(chain)")
        }
        let outcome = await send(.sendRawTransaction(rawTransaction))
        switch outcome.result {
        case .success(let result):
            return try codec.broadcastAnswer(result, expected: hash)
        case .failure(let error) where error.code == .rejected:
            if outcome.attempts > 1 || EthereumRPCCodec.mayBeAlreadySent(error.reason), await isKnown(hash) {
                return hash
            }
            throw error
        case .failure(let error):
            throw error
        }
    }

    public func receipt(_ hash: TransactionHash) async throws(ChainError) -> EthereumReceipt? {
        guard let claim = try codec.receipt(try await call(.transactionReceipt(hash)), hash: hash) else { return nil }
        return try codec.receipt(claim, tip: try await blockNumber())
    }

    public func balance(of account: EthereumAddress) async throws(ChainError) -> Wei {
        try codec.balance(try await call(.balance(account)))
    }

    public func tokenBalance(token: EthereumAddress, owner: EthereumAddress) async throws(ChainError) -> UInt256 {
        try codec.tokenBalance(try await call(.tokenBalance(token: token, owner: owner)))
    }

    public func blockNumber() async throws(ChainError) -> UInt64 {
        try codec.blockNumber(try await call(.blockNumber))
    }

    public func block(number: UInt64) async throws(ChainError) -> EthereumBlock {
        guard let block = try codec.block(try await call(.fullBlock(number: number)), number: number) else {
            throw bounded(.notFound, "block \(number) is not known to \(redactedURL) (above its latest block)")
        }
        return block
    }

    /// One `eth_getLogs` query per span of at most ``Options/maxBlocksPerLogQuery`` blocks and group of at most
    /// ``Options/maxRecipientsPerLogQuery`` recipients; more than ``Options/maxTokenTransfers`` in all is
    /// `invalidResponse`.
    public func tokenTransfers(
        token: EthereumAddress, recipients: [EthereumAddress], fromBlock: UInt64, toBlock: UInt64
    ) async throws(ChainError) -> [EthereumTokenTransfer] {
        var unique: [EthereumAddress] = []
        for recipient in recipients where !unique.contains(recipient) { unique.append(recipient) }
        guard !unique.isEmpty, fromBlock <= toBlock else { return [] }
        let span = max(1, options.maxBlocksPerLogQuery)
        let group = max(1, options.maxRecipientsPerLogQuery)
        var out: [EthereumTokenTransfer] = []
        var start = fromBlock
        while true {
            let end = toBlock - start < span ? toBlock : start + span - 1
            for first in stride(from: 0, to: unique.count, by: group) {
                let some = Array(unique[first..<min(first + group, unique.count)])
                let result = try await call(
                    .transferLogs(token: token, recipients: some, fromBlock: start, toBlock: end))
                out += try codec.tokenTransfers(
                    result, token: token, recipients: Set(some), fromBlock: start, toBlock: end)
                guard out.count <= options.maxTokenTransfers else {
                    throw bounded(
                        .invalidResponse, "more than \(options.maxTokenTransfers) token transfers (the adapter's limit)"
                    )
                }
            }
            guard end < toBlock else { break }
            start = end + 1
        }
        out.sort { ($0.blockNumber, $0.logIndex) < ($1.blockNumber, $1.logIndex) }
        // Queries for different recipients must not report the same log (it has one recipient).
        for (a, b) in zip(out, out.dropFirst()) where a.blockNumber == b.blockNumber && a.logIndex == b.logIndex {
            throw bounded(.invalidResponse, "block \(a.blockNumber) log \(a.logIndex) is reported twice")
        }
        return out
    }

    /// Whether the node has a receipt for `hash` or knows it as a transaction; a failure to find out is "no".
    private func isKnown(_ hash: TransactionHash) async -> Bool {
        if (try? await receipt(hash)) != nil { return true }
        guard case .success(let result) = await send(.transactionByHash(hash)).result else { return false }
        return (try? codec.transactionKnown(result, hash: hash)) == true
    }

    // MARK: - JSON-RPC over HTTP

    /// What one call came to after its retries: the result or failure, and how many attempts it took.
    struct Outcome {
        var result: Result<JSONValue, ChainError>
        var attempts: Int
    }

    private func call(_ request: EthereumRPCRequest) async throws(ChainError) -> JSONValue {
        switch await send(request).result {
        case .success(let result): return result
        case .failure(let error): throw error
        }
    }

    /// Sends one call, retrying (with backoff) while the failure is ``ChainError/Code/unavailable``: no connection, a
    /// timeout, HTTP 429 or 5xx, or a transient JSON-RPC error. Each attempt has a fresh id.
    private func send(_ request: EthereumRPCRequest) async -> Outcome {
        var backoff = options.initialBackoff
        var attempt = 0
        while true {
            attempt += 1
            let id = Int.random(in: 1...Int(UInt32.max))
            let result = await attemptOnce(request, id: id)
            let transient: Bool
            if case .failure(let error) = result { transient = error.code == .unavailable } else { transient = false }
            guard transient, attempt <= options.retries, !Task.isCancelled else {
                if case .failure(let error) = result, error.code == .unavailable {
                    let reason = "\(error.reason) (after \(attempt) attempt(s))"
                    return Outcome(result: .failure(bounded(.unavailable, reason)), attempts: attempt)
                }
                return Outcome(result: result, attempts: attempt)
            }
            logger.debug(
                "ethereum json-rpc request failed, retrying",
                metadata: ["method": "\(request.method)", "attempt": "\(attempt)", "backoff": "\(backoff)"])
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, options.maxBackoff)
        }
    }

    /// One attempt: the exchange, then the HTTP status and the JSON-RPC envelope read.
    private func attemptOnce(_ request: EthereumRPCRequest, id: Int) async -> Result<JSONValue, ChainError> {
        let method = request.method
        let response: ChainHTTP.Response
        let body = codec.encode(request, id: id)
        switch await http.once(.POST, "", body: body, contentType: "application/json", label: method) {
        case .success(let r): response = r
        case .failure(let error): return .failure(error)
        }
        guard response.status == 200 else {
            let transient = response.status == 429 || (500..<600).contains(response.status)
            return .failure(
                bounded(
                    transient ? .unavailable : .invalidResponse,
                    "\(method) at \(redactedURL) answered HTTP \(response.status): \(EsploraCodec.message(response.body))"
                ))
        }
        do {
            switch try codec.answer(response.body, id: id) {
            case .result(let result): return .success(result)
            // Already bounded: the node's message is cut to 240 characters by the codec.
            case .error(let object): return .failure(codec.failure(object, method: method))
            }
        } catch {
            return .failure(bounded(error.code, "\(method) at \(redactedURL): \(error.reason)"))
        }
    }
}
