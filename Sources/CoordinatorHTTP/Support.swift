import CoordinatorCore
import Crypto
import Foundation
import Governance
public import Hummingbird
import Logging
import NIOCore
import Synchronization

/// The request context of the coordinator's API: the request id and the peer's address.
public struct KuraRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The request id (from a well-formed `X-Request-Id` header, or generated).
    public var requestID: String
    /// The peer's IP address, for rate limits.
    public let peer: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        requestID = ""
        peer = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}

/// A JSON object built one field at a time.
struct JSONBuilder {
    var fields: [String: JSONValue] = [:]

    subscript(_ key: String) -> String? {
        get { nil }
        set { if let newValue { fields[key] = .string(newValue) } }
    }

    mutating func set(_ key: String, _ value: Int64) { fields[key] = .number(Double(value)) }
    mutating func set(_ key: String, _ value: Int) { fields[key] = .number(Double(value)) }
    mutating func set(_ key: String, _ value: JSONValue) { fields[key] = value }
    mutating func set(_ key: String, strings: [String]) { fields[key] = .array(strings.map { JSONValue.string($0) }) }

    var value: JSONValue { .object(fields) }
}

/// Builds JSON responses from governance JSON values (RFC 8785 canonical bytes).
enum JSONResponse {
    static func make(_ status: HTTPResponse.Status, _ value: JSONValue, headers: HTTPFields = [:]) -> Response {
        let bytes = (try? CanonicalJSON.encode(value)) ?? Array(#"{"error":{"code":"internal"}}"#.utf8)
        return make(status, bytes: bytes, headers: headers)
    }

    static func make(_ status: HTTPResponse.Status, bytes: [UInt8], headers: HTTPFields = [:]) -> Response {
        var h = headers
        h[.contentType] = "application/json"
        h[.cacheControl] = "no-store"
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func int(_ v: Int64) -> JSONValue { .number(Double(v)) }
}

extension CoordinatorError.Code {
    /// The HTTP status of an error code.
    var status: HTTPResponse.Status {
        switch self {
        case .malformed: .badRequest
        case .refused, .idempotencyMismatch: .unprocessableContent
        case .unauthenticated: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .duplicate, .conflict: .conflict
        case .tooLarge: .contentTooLarge
        case .rateLimited: .tooManyRequests
        default: .serviceUnavailable
        }
    }
}

/// Gives every request an id, logs it, and turns every error into the stable error body
/// `{"error": {"code", "message", "category"?, "requestId"}}` — never a 500 with a stack or a secret.
struct RequestMiddleware: RouterMiddleware {
    typealias Context = KuraRequestContext

    func handle(
        _ request: Request, context: KuraRequestContext,
        next: (Request, KuraRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        if let given = request.headers[.init("X-Request-Id")!], Self.isValidID(given) {
            context.requestID = given
        } else {
            context.requestID = UUID().uuidString.lowercased()
        }
        context.logger[metadataKey: "request_id"] = .string(context.requestID)
        let started = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as CoordinatorError {
            response = Self.errorResponse(error, requestID: context.requestID)
        } catch let error as HTTPError {
            let code: CoordinatorError.Code =
                switch error.status {
                case .notFound: .notFound
                case .contentTooLarge: .tooLarge
                case .methodNotAllowed: .notFound
                default: .malformed
                }
            let message =
                error.status == .notFound ? "no such route" : (error.body ?? error.status.reasonPhrase)
            response = Self.errorResponse(CoordinatorError(code, message), requestID: context.requestID)
        } catch {
            context.logger.error("request failed: \(type(of: error))")
            response = Self.errorResponse(
                CoordinatorError(.unavailable, "the request could not be completed"), requestID: context.requestID)
        }
        response.headers[.init("X-Request-Id")!] = context.requestID
        let elapsed = (ContinuousClock.now - started).components
        let millis: Double = Double(elapsed.seconds) * 1000 + Double(elapsed.attoseconds) / 1e15
        var metadata = Logger.Metadata()
        metadata["method"] = .string(request.method.rawValue)
        metadata["path"] = .string(request.uri.path)
        metadata["status"] = .stringConvertible(response.status.code)
        metadata["ms"] = .stringConvertible(millis)
        context.logger.info("request", metadata: metadata)
        return response
    }

    static func isValidID(_ s: String) -> Bool {
        (1...64).contains(s.utf8.count)
            && s.utf8.allSatisfy {
                $0 == 45 || $0 == 95 || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0)
            }
    }

    private static func isIDByte(_ c: UInt8) -> Bool {
        if c == 45 || c == 95 { return true }
        if c >= 48 && c <= 57 { return true }
        if c >= 65 && c <= 90 { return true }
        return c >= 97 && c <= 122
    }

    static func errorResponse(_ error: CoordinatorError, requestID: String) -> Response {
        var body = JSONBuilder()
        body["code"] = error.code.name
        body["message"] = error.reason
        body["requestId"] = requestID
        if let c = error.category { body["category"] = c.token }
        var headers: HTTPFields = [:]
        if error.code == .unauthenticated { headers[.wwwAuthenticate] = "Bearer" }
        if error.code == .rateLimited { headers[.retryAfter] = "1" }
        return JSONResponse.make(error.code.status, .object(["error": body.value]), headers: headers)
    }
}

/// A token bucket per peer address (per process: with several replicas each limits on its own).
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var last: ContinuousClock.Instant
    }

    private let rate: Double
    private let burst: Double
    private let buckets = Mutex<[String: Bucket]>([:])

    init(perSecond rate: Double, burst: Double) {
        self.rate = rate
        self.burst = burst
    }

    /// Takes one token for `key`; false when the bucket is empty.
    func allow(_ key: String) -> Bool {
        let now = ContinuousClock.now
        return buckets.withLock { buckets in
            if buckets.count > 100_000 { buckets.removeAll() }  // bounded memory under address spraying
            var b = buckets[key] ?? Bucket(tokens: burst, last: now)
            let elapsed = now - b.last
            let whole: Double = Double(elapsed.components.seconds)
            let seconds: Double = whole + Double(elapsed.components.attoseconds) / 1e18
            b.tokens = min(burst, b.tokens + seconds * rate)
            b.last = now
            guard b.tokens >= 1 else {
                buckets[key] = b
                return false
            }
            b.tokens -= 1
            buckets[key] = b
            return true
        }
    }
}
