public import CoordinatorCore
import Crypto
import Foundation
public import Governance
public import Hummingbird
import NIOCore

/// Who may call a route.
public enum RouteAccess: Sendable, Hashable {
    /// Anyone (health, metrics, the OpenAPI document).
    case open
    /// The deployment's bootstrap secret (creating organisations).
    case bootstrap
    /// A signed session request in the body (getting a token).
    case sessionRequest
    /// A member's API token, holding one of these roles in the current policy.
    case member(Set<Role>)
}

/// One route of the API, as data: the role-matrix test and the OpenAPI check read this table.
public struct RouteSpec: Sendable, Hashable {
    public let method: HTTPRequest.Method
    /// The path in OpenAPI form (`/v1/orgs/{org}/intents`).
    public let path: String
    public let access: RouteAccess
    /// Whether the route creates something (and takes an `Idempotency-Key`).
    public let creates: Bool
}

/// Deployment settings of the HTTP layer.
public struct HTTPSettings: Sendable {
    /// SHA-256 of the bootstrap secret (the secret itself is never kept), or `nil` to disable bootstrap.
    public var bootstrapSecretHash: [UInt8]?
    /// The largest request body accepted.
    public var maxBodyBytes: Int
    /// Session requests and failed authentications allowed per second per peer, and the burst.
    public var authRatePerSecond: Double
    public var authBurst: Double
    /// The OpenAPI document served at `/openapi.json`.
    public var openAPIDocument: [UInt8]
    /// Renders `/metrics` (Prometheus text), when metrics are on.
    public var metrics: (@Sendable () -> [UInt8])?
    /// The operator console served at `/console/`, or `nil` for an API-only coordinator.
    public var console: ConsoleAssets?

    public init(
        bootstrapSecretHash: [UInt8]?, maxBodyBytes: Int = 1 << 20, authRatePerSecond: Double = 5,
        authBurst: Double = 20, openAPIDocument: [UInt8], metrics: (@Sendable () -> [UInt8])? = nil,
        console: ConsoleAssets? = nil
    ) {
        self.console = console
        self.bootstrapSecretHash = bootstrapSecretHash
        self.maxBodyBytes = maxBodyBytes
        self.authRatePerSecond = authRatePerSecond
        self.authBurst = authBurst
        self.openAPIDocument = openAPIDocument
        self.metrics = metrics
    }

    /// The hash under which a bootstrap secret is compared.
    public static func hashBootstrapSecret(_ secret: String) -> [UInt8] {
        Array(SHA256.hash(data: Array("kura/bootstrap-secret/v1:\(secret)".utf8)))
    }
}

/// The coordinator's HTTP API (JSON over HTTP, described by docs/openapi.json).
public struct CoordinatorAPI: Sendable {
    let service: CoordinatorService
    let settings: HTTPSettings
    let authLimiter: RateLimiter

    public init(service: CoordinatorService, settings: HTTPSettings) {
        self.service = service
        self.settings = settings
        self.authLimiter = RateLimiter(perSecond: settings.authRatePerSecond, burst: settings.authBurst)
    }

    static let anyMember: Set<Role> = [.admin, .initiator, .approver, .viewer]
    static let operators: Set<Role> = [.admin, .initiator, .approver]

    /// Every route the API serves.
    public static let routes: [RouteSpec] = {
        var r: [RouteSpec] = []
        func add(_ m: HTTPRequest.Method, _ path: String, _ access: RouteAccess, creates: Bool = false) {
            r.append(RouteSpec(method: m, path: path, access: access, creates: creates))
        }
        let org = "/v1/orgs/{org}"
        add(.get, "/health", .open)
        add(.get, "/metrics", .open)
        add(.get, "/openapi.json", .open)
        add(.get, "/v1/console/config", .open)
        add(.post, "/v1/organizations", .bootstrap, creates: true)
        add(.get, org, .member(anyMember))
        add(.post, org + "/sessions", .sessionRequest, creates: true)
        add(.post, org + "/console/session", .sessionRequest, creates: true)
        add(.get, org + "/console/session", .member(anyMember))
        add(.delete, org + "/console/session", .member(anyMember))
        add(.get, org + "/tokens", .member(anyMember))
        add(.delete, org + "/tokens/{token}", .member(anyMember))
        add(.get, org + "/policies", .member(anyMember))
        add(.post, org + "/policies", .member([.admin]), creates: true)
        add(.get, org + "/policies/{version}", .member(anyMember))
        add(.get, org + "/proposals", .member(anyMember))
        add(.post, org + "/proposals", .member([.admin]), creates: true)
        add(.get, org + "/proposals/{proposal}", .member(anyMember))
        add(.post, org + "/proposals/{proposal}/signatures", .member([.admin]), creates: true)
        add(.get, org + "/members", .member(anyMember))
        add(.get, org + "/wallets", .member(anyMember))
        add(.get, org + "/wallets/{wallet}/balances", .member(anyMember))
        add(.get, org + "/wallets/{wallet}/addresses", .member(anyMember))
        add(.post, org + "/wallets/{wallet}/addresses", .member([.admin, .initiator]), creates: true)
        add(.get, org + "/intents", .member(anyMember))
        add(.post, org + "/intents", .member([.initiator]), creates: true)
        add(.get, org + "/intents/{intent}", .member(anyMember))
        add(.post, org + "/intents/{intent}/approvals", .member([.approver]), creates: true)
        add(.post, org + "/intents/{intent}/transaction", .member(operators), creates: true)
        add(.get, org + "/intents/{intent}/transaction", .member(anyMember))
        add(.get, org + "/intents/{intent}/bundle", .member(operators))
        add(.post, org + "/intents/{intent}/results", .member(operators), creates: true)
        add(.get, org + "/history", .member(anyMember))
        add(.get, org + "/audit", .member(anyMember))
        add(.get, org + "/audit/export", .member(anyMember))
        return r
    }()

    /// The router: every route of ``routes`` and the middleware.
    public func router() -> Router<KuraRequestContext> {
        let router = Router(context: KuraRequestContext.self)
        router.add(middleware: RequestMiddleware())
        router.add(middleware: MetricsMiddleware())
        let api = self
        router.get("/health") { _, _ in try await api.health() }
        router.get("/metrics") { _, _ in api.metrics() }
        router.get("/openapi.json") { _, _ in JSONResponse.make(.ok, bytes: api.settings.openAPIDocument) }
        router.get("/") { _, _ in Self.redirect("/console/") }
        // `/console` and `/console/` are one route here: the page needs the trailing slash (relative URLs).
        router.get("/console") { req, _ in
            req.uri.path.hasSuffix("/") ? try api.consoleFile("") : Self.redirect("/console/")
        }
        router.get("/console/**") { _, ctx in try api.consoleFile(ctx.parameters.getCatchAll().joined(separator: "/")) }
        router.get("/v1/console/config") { _, _ in api.consoleConfig() }
        router.post("/v1/orgs/:org/console/session") { req, ctx in try await api.createConsoleSession(req, ctx) }
        router.get("/v1/orgs/:org/console/session") { req, ctx in try await api.getConsoleSession(req, ctx) }
        router.delete("/v1/orgs/:org/console/session") { req, ctx in try await api.endConsoleSession(req, ctx) }
        router.post("/v1/organizations") { req, ctx in try await api.bootstrap(req, ctx) }
        router.get("/v1/orgs/:org") { req, ctx in try await api.getOrganization(req, ctx) }
        router.post("/v1/orgs/:org/sessions") { req, ctx in try await api.createSession(req, ctx) }
        router.get("/v1/orgs/:org/tokens") { req, ctx in try await api.listTokens(req, ctx) }
        router.delete("/v1/orgs/:org/tokens/:token") { req, ctx in try await api.revokeToken(req, ctx) }
        router.get("/v1/orgs/:org/policies") { req, ctx in try await api.listPolicies(req, ctx) }
        router.post("/v1/orgs/:org/policies") { req, ctx in try await api.appendPolicy(req, ctx) }
        router.get("/v1/orgs/:org/policies/:version") { req, ctx in try await api.getPolicy(req, ctx) }
        router.get("/v1/orgs/:org/proposals") { req, ctx in try await api.listProposals(req, ctx) }
        router.post("/v1/orgs/:org/proposals") { req, ctx in try await api.createProposal(req, ctx) }
        router.get("/v1/orgs/:org/proposals/:proposal") { req, ctx in try await api.getProposal(req, ctx) }
        router.post("/v1/orgs/:org/proposals/:proposal/signatures") { req, ctx in try await api.signProposal(req, ctx) }
        router.get("/v1/orgs/:org/members") { req, ctx in try await api.listMembers(req, ctx) }
        router.get("/v1/orgs/:org/wallets") { req, ctx in try await api.listWallets(req, ctx) }
        router.get("/v1/orgs/:org/wallets/:wallet/balances") { req, ctx in try await api.walletBalances(req, ctx) }
        router.get("/v1/orgs/:org/wallets/:wallet/addresses") { req, ctx in try await api.listAddresses(req, ctx) }
        router.post("/v1/orgs/:org/wallets/:wallet/addresses") { req, ctx in try await api.createAddress(req, ctx) }
        router.get("/v1/orgs/:org/intents") { req, ctx in try await api.listIntents(req, ctx) }
        router.post("/v1/orgs/:org/intents") { req, ctx in try await api.submitIntent(req, ctx) }
        router.get("/v1/orgs/:org/intents/:intent") { req, ctx in try await api.getIntent(req, ctx) }
        router.post("/v1/orgs/:org/intents/:intent/approvals") { req, ctx in try await api.submitApproval(req, ctx) }
        router.post("/v1/orgs/:org/intents/:intent/transaction") { req, ctx in try await api.buildTransaction(req, ctx)
        }
        router.get("/v1/orgs/:org/intents/:intent/transaction") { req, ctx in try await api.getTransaction(req, ctx) }
        router.get("/v1/orgs/:org/intents/:intent/bundle") { req, ctx in try await api.getBundle(req, ctx) }
        router.post("/v1/orgs/:org/intents/:intent/results") { req, ctx in try await api.submitResult(req, ctx) }
        router.get("/v1/orgs/:org/history") { req, ctx in try await api.listHistory(req, ctx) }
        router.get("/v1/orgs/:org/audit") { req, ctx in try await api.listAudit(req, ctx) }
        router.get("/v1/orgs/:org/audit/export") { req, ctx in try await api.exportAudit(req, ctx) }
        return router
    }

    // MARK: Request plumbing

    func body(_ request: Request) async throws(CoordinatorError) -> [UInt8] {
        do {
            let buffer = try await request.body.collect(upTo: settings.maxBodyBytes)
            return Array(buffer.readableBytesView)
        } catch {
            throw CoordinatorError(.tooLarge, "the request body exceeds \(settings.maxBodyBytes) bytes")
        }
    }

    func orgID(_ context: KuraRequestContext) throws(CoordinatorError) -> OrganizationID {
        guard let text = context.parameters.get("org"), let id = try? OrganizationID(text) else {
            throw CoordinatorError(.malformed, "the organisation id in the path is not valid")
        }
        return id
    }

    func bearer(_ request: Request) -> String? {
        guard let value = request.headers[.authorization], value.hasPrefix("Bearer ") else { return nil }
        return String(value.dropFirst(7))
    }

    /// Authenticates the request in the path's organisation and checks the route's roles: an API token
    /// (`Authorization: Bearer`), or the console's session cookie — then a request that changes something must
    /// also carry the session's CSRF value (`X-Kura-CSRF`) and come from this origin.
    func principal(_ request: Request, _ context: KuraRequestContext, roles: Set<Role>, action: String)
        async throws(CoordinatorError) -> Principal
    {
        let principal: Principal
        if let bearer = bearer(request) {
            principal = try await authenticated(request, context, credential: bearer)
        } else if let token = ConsoleSession.token(request) {
            principal = try await authenticated(request, context, credential: token)
            if request.method != .get && request.method != .head {
                try ConsoleSession.checkMutation(request, token: token)
            }
        } else {
            _ = try orgID(context)
            throw CoordinatorError(.unauthenticated, "this route needs an API token (Authorization: Bearer ...)")
        }
        try principal.require(roles, to: action)
        return principal
    }

    /// The member an API token acts for in the path's organisation; failures are rate limited per peer.
    func authenticated(_ request: Request, _ context: KuraRequestContext, credential: String)
        async throws(CoordinatorError) -> Principal
    {
        let org = try orgID(context)
        let result: Result<Principal, CoordinatorError>
        do {
            // A create's Idempotency-Key is looked up in the same read (a malformed one is refused later).
            let key = request.headers[.init("Idempotency-Key")!].flatMap { IdempotencyRecord.isValidKey($0) ? $0 : nil }
            result = .success(try await service.authenticate(org, bearer: credential, idempotencyKey: key))
        } catch {
            result = .failure(error)
        }
        switch result {
        case .success(let p): return p
        case .failure(let error):
            guard error.code == .unauthenticated || error.code == .notFound else { throw error }
            // Failed authentications are rate limited per peer (guessing tokens is slow).
            guard authLimiter.allow(context.peer) else {
                throw CoordinatorError(.rateLimited, "too many failed authentications; slow down")
            }
            throw CoordinatorError(.unauthenticated, error.code == .notFound ? "unknown API token" : error.reason)
        }
    }

    /// The `Idempotency-Key` of a create and the hash of its method, path and body.
    struct IdempotencyContext {
        let key: String?
        let requestHash: [UInt8]
    }

    func idempotency(_ request: Request, body: [UInt8]) throws -> IdempotencyContext {
        let key = request.headers[.init("Idempotency-Key")!]
        if let key, !IdempotencyRecord.isValidKey(key) {
            throw CoordinatorError(.malformed, "Idempotency-Key must be 1 to 200 printable ASCII characters")
        }
        var h = SHA256()
        h.update(data: Array("\(request.method.rawValue) \(request.uri.path)\n".utf8))
        h.update(data: body)
        return IdempotencyContext(key: key, requestHash: Array(h.finalize()))
    }

    /// The stored response of an earlier create with the same key (`Idempotency-Replayed: true`), or `nil`;
    /// the key with another request is refused. The record read with the token is used unless `fresh`.
    func replay(_ context: IdempotencyContext, principal: Principal, fresh: Bool = false) async throws -> Response? {
        guard let key = context.key else { return nil }
        let stored: IdempotencyRecord?
        if !fresh, let read = principal.idempotency, read.key == key {
            stored = read.stored
        } else {
            stored = try await service.store.idempotency(principal.organization, member: principal.member, key: key)
        }
        guard let stored else { return nil }
        guard stored.requestHash == context.requestHash else {
            throw CoordinatorError(.idempotencyMismatch, "this Idempotency-Key was used for another request")
        }
        var headers = HTTPFields()
        headers[.init("Idempotency-Replayed")!] = "true"
        return JSONResponse.make(HTTPResponse.Status(code: stored.status), bytes: stored.response, headers: headers)
    }

    /// Commits a create's changes with its idempotency record in one transaction and answers `response`. A
    /// concurrent first attempt with the same key that committed first is answered with its stored response.
    func commitCreate(
        _ context: IdempotencyContext, principal: Principal, status: HTTPResponse.Status, response: JSONValue,
        changes: [StoreChange]
    ) async throws -> Response {
        try await commitCreateReporting(
            context, principal: principal, status: status, response: response, changes: changes
        ).response
    }

    /// ``commitCreate(_:principal:status:response:changes:)``, and whether `changes` were committed (`false`: an
    /// earlier attempt's stored response answers).
    func commitCreateReporting(
        _ context: IdempotencyContext, principal: Principal, status: HTTPResponse.Status, response: JSONValue,
        changes: [StoreChange]
    ) async throws -> (response: Response, committed: Bool) {
        let bytes = try Self.canonicalBytes(response)
        var all = changes
        if let key = context.key {
            all.append(
                .insertIdempotency(
                    IdempotencyRecord(
                        organization: principal.organization, member: principal.member, key: key,
                        requestHash: context.requestHash, status: status.code, response: bytes,
                        createdAt: service.now)))
        }
        var failure: CoordinatorError?
        do {
            try await service.commit(all)
        } catch {
            failure = error
        }
        if let failure {
            guard failure.code == .duplicate || failure.code == .conflict else { throw failure }
            if let earlier = try await replay(context, principal: principal, fresh: true) { return (earlier, false) }
            throw failure
        }
        return (JSONResponse.make(status, bytes: bytes), true)
    }

    static func parseObject(_ bytes: [UInt8], what: String) throws(CoordinatorError) -> JSONObjectReader {
        do {
            return try JSONObjectReader(try JSONParser.parse(bytes, limits: .init(maxBytes: 4 << 20)), path: what)
        } catch {
            throw CoordinatorError(.malformed, "\(what): \(error.reason)")
        }
    }

    static func canonicalBytes(_ value: JSONValue) throws(CoordinatorError) -> [UInt8] {
        do { return try CanonicalJSON.encode(value) } catch { throw CoordinatorError(error) }
    }

    static func stored(_ bytes: [UInt8]) -> JSONValue {
        (try? JSONParser.parse(bytes, limits: .init(maxBytes: 8 << 20))) ?? .null
    }
}
