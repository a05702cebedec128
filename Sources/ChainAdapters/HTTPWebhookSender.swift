public import AsyncHTTPClient
public import CoordinatorCore
public import Logging
import NIOHTTP1

/// The webhook's HTTP side: one `POST` per attempt to the receiver's URL (`http`/`https`, optional port and path,
/// userinfo sent as basic authentication and never shown), bounded in time and in the answer read; retries are the
/// outbox's (``CoordinatorService/deliverWebhooks(owner:sender:secret:options:)``), not this adapter's.
public struct HTTPWebhookSender: WebhookSender {
    private let http: ChainHTTP

    /// Creates a sender. ``ChainError/Code/unavailable`` when the URL is not a valid one.
    public init(
        url: String, client: HTTPClient = .shared, timeout: Duration = .seconds(10),
        logger: Logger = Logger(label: "kura.webhook")
    ) throws(ChainError) {
        let base = try ChainBaseURL(url)
        http = ChainHTTP(
            baseURL: base,
            options: ChainHTTPOptions(requestTimeout: timeout, retries: 0, maxResponseBytes: 64 << 10), client: client,
            logger: logger, name: "webhook", redacted: "\(base.scheme)://\(base.authority)")
    }

    public func send(body: [UInt8], headers: [(name: String, value: String)]) async -> Result<Int, WebhookFailure> {
        var sender = http
        sender.headers = headers.filter { $0.name.lowercased() != "content-type" }
        let outcome = await sender.send(
            .POST, "", body: body, contentType: "application/json", transient: { _ in false })
        switch outcome.result {
        case .success(let response): return .success(response.status)
        case .failure(let error): return .failure(WebhookFailure(error.reason))
        }
    }
}
