import AsyncHTTPClient
import CoordinatorCore
import Logging
import NIOCore
import NIOHTTP1

/// Timeouts, retries and bounds of a chain adapter's HTTP exchanges (the same for every adapter).
public struct ChainHTTPOptions: Sendable, Hashable {
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

    /// Creates options; the defaults are a 10 s timeout, 3 retries from 250 ms to 4 s, and 4 MiB answers.
    public init(
        requestTimeout: Duration = .seconds(10), retries: Int = 3, initialBackoff: Duration = .milliseconds(250),
        maxBackoff: Duration = .seconds(4), maxResponseBytes: Int = 4 << 20
    ) {
        self.requestTimeout = requestTimeout
        self.retries = retries
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.maxResponseBytes = maxResponseBytes
    }
}

/// The transport every chain adapter shares: one request at a time to one base URL, each attempt bounded in time
/// (body included) and in size, retried with exponential backoff while the failure is transient, credentials from
/// the URL's userinfo sent as basic authentication and never named in an error.
struct ChainHTTP: Sendable {
    /// An answer: its status code and its body (at most `maxResponseBytes`).
    struct Response: Sendable {
        var status: Int
        var body: [UInt8]
    }

    /// What one request came to after its retries: the last answer or failure, and how many attempts it took.
    struct Outcome: Sendable {
        var result: Result<Response, ChainError>
        var attempts: Int
    }

    let baseURL: ChainBaseURL
    let options: ChainHTTPOptions
    let client: HTTPClient
    let logger: Logger
    /// The adapter's name in log lines (`esplora`, `bitcoind`, …).
    let name: String
    /// Headers sent with every request (an API key), never named in an error or a log line.
    var headers: [(name: String, value: String)] = []
    /// The chain source as errors name it (by default the base URL without credentials; an adapter whose URL path
    /// may hold an API key names scheme, host and port only).
    var redacted: String

    init(
        baseURL: ChainBaseURL, options: ChainHTTPOptions, client: HTTPClient, logger: Logger, name: String,
        headers: [(name: String, value: String)] = [], redacted: String? = nil
    ) {
        self.baseURL = baseURL
        self.options = options
        self.client = client
        self.logger = logger
        self.name = name
        self.headers = headers
        self.redacted = redacted ?? baseURL.redacted
    }

    /// Sends one request, retrying (with backoff) while `transient` says the answer is a passing failure (by default
    /// HTTP 429 and 5xx), and on no connection or a timeout. Only idempotent requests may be sent here. An oversize
    /// body is not retried. A transient answer left after the last attempt becomes ``ChainError/Code/unavailable``.
    func send(
        _ method: HTTPMethod, _ path: String, body: [UInt8]?, contentType: String = "text/plain",
        transient: @Sendable (Response) -> Bool = { $0.status == 429 || (500..<600).contains($0.status) }
    ) async -> Outcome {
        var backoff = options.initialBackoff
        var attempt = 0
        while true {
            attempt += 1
            let result = await once(method, path, body: body, contentType: contentType)
            let retry: Bool
            switch result {
            case .success(let response): retry = transient(response)
            case .failure(let error): retry = error.code == .unavailable
            }
            guard retry, attempt <= options.retries, !Task.isCancelled else {
                if retry, case .success(let response) = result {
                    let error = bounded(
                        .unavailable,
                        "\(method) \(path) at \(redacted) answered HTTP \(response.status) after \(attempt) "
                            + "attempt(s): \(EsploraCodec.message(response.body))")
                    return Outcome(result: .failure(error), attempts: attempt)
                }
                if case .failure(let error) = result, error.code == .unavailable {
                    let reason = "\(error.reason) (after \(attempt) attempt(s))"
                    return Outcome(result: .failure(bounded(.unavailable, reason)), attempts: attempt)
                }
                return Outcome(result: result, attempts: attempt)
            }
            logger.debug(
                "\(name) request failed, retrying",
                metadata: ["request": "\(method) \(path)", "attempt": "\(attempt)", "backoff": "\(backoff)"])
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, options.maxBackoff)
        }
    }

    /// One attempt of one request within ``ChainHTTPOptions/requestTimeout``, body included: AsyncHTTPClient's
    /// deadline bounds the head of the answer but not a body that trickles in, so the attempt races a timer.
    func once(
        _ method: HTTPMethod, _ path: String, body: [UInt8]?, contentType: String, label: String? = nil
    ) async -> Result<Response, ChainError> {
        let timeout = options.requestTimeout
        let label = label ?? "\(method) \(path)"
        return await withTaskGroup(of: Result<Response, ChainError>?.self) { group in
            group.addTask { await self.exchange(method, path, body: body, contentType: contentType, label: label) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next()
            group.cancelAll()
            if case .some(.some(let result)) = first { return result }
            return .failure(bounded(.unavailable, "\(label) at \(redacted): timed out"))
        }
    }

    /// One exchange, its failures mapped: no answer in time or no connection is `unavailable`, a body over the limit
    /// `invalidResponse`.
    private func exchange(
        _ method: HTTPMethod, _ path: String, body: [UInt8]?, contentType: String, label: String
    ) async -> Result<Response, ChainError> {
        var request = HTTPClientRequest(url: baseURL.url(path))
        request.method = method
        if let credentials = baseURL.credentials {
            request.setBasicAuth(username: credentials.user, password: credentials.password)
        }
        for header in headers { request.headers.replaceOrAdd(name: header.name, value: header.value) }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(body)
        }
        let limit = options.maxResponseBytes
        do {
            let response = try await client.execute(request, timeout: Self.timeAmount(options.requestTimeout))
            let buffer = try await response.body.collect(upTo: limit)
            return .success(Response(status: Int(response.status.code), body: Array(buffer.readableBytesView)))
        } catch is NIOTooManyBytesError {
            return .failure(
                bounded(
                    .invalidResponse, "\(label) at \(redacted): answer exceeds \(limit) bytes"))
        } catch {
            return .failure(
                bounded(.unavailable, "\(label) at \(redacted): \(Self.describe(error))"))
        }
    }

    /// A transport failure in a few words (no URL: AsyncHTTPClient's errors may repeat the request's).
    private static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            let timeouts: [HTTPClientError] = [.deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout]
            if timeouts.contains(error) { return "timed out" }
            if error == .remoteConnectionClosed { return "the server closed the connection" }
            return "HTTP client error \(EsploraCodec.sanitised(String(describing: error), limit: 80))"
        }
        let text = String(describing: error)
        if text.contains("onnection refused") || text.contains("ECONNREFUSED") { return "connection refused" }
        return "no answer: \(EsploraCodec.sanitised(String(describing: type(of: error)), limit: 60))"
    }

    private static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !nanoseconds.overflow else { return .hours(24) }
        return .nanoseconds(max(1, nanoseconds.partialValue + attoseconds / 1_000_000_000))
    }
}

/// A ChainError whose reason is sanitised and bounded (``EsploraCodec/sanitised(_:limit:)``), whatever went into it: a
/// long base URL or a node's message never makes an error unbounded.
func bounded(_ code: ChainError.Code, _ reason: String) -> ChainError {
    ChainError(code, EsploraCodec.sanitised(reason, limit: 2 * EsploraCodec.maxReasonLength))
}
