public import CoordinatorCore
import Crypto
import Governance
import Hummingbird
import NIOCore

/// The operator console's static files (HTML, CSS, JavaScript modules), held in memory: loaded once at start
/// by the composition root, so what is served cannot change under a running process and no request touches
/// the file system.
public struct ConsoleAssets: Sendable {
    /// A file: its bytes and media type.
    public struct File: Sendable {
        public let bytes: [UInt8]
        public let contentType: String
    }

    /// Files by their path below `/console/` (`index.html`, `js/app.js`).
    public let files: [String: File]

    /// The media type of each extension the console may serve; anything else is refused.
    public static let contentTypes: [String: String] = [
        "html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8",
        "json": "application/json", "svg": "image/svg+xml", "png": "image/png", "ico": "image/x-icon",
        "txt": "text/plain; charset=utf-8",
    ]

    /// The largest file and the most files accepted (the console is small; a bigger tree is a mistake).
    public static let maxFileBytes = 4 << 20
    public static let maxFiles = 500

    /// Takes the files of a console directory by relative path. Refuses paths that are not plain relative
    /// names of the served kinds (no `..`, no hidden files), oversize files and a tree without `index.html`.
    public init(files: [String: [UInt8]]) throws(CoordinatorError) {
        guard files.count <= Self.maxFiles else {
            throw CoordinatorError(.malformed, "the console has more than \(Self.maxFiles) files")
        }
        var out: [String: File] = [:]
        for (path, bytes) in files {
            guard let type = Self.contentType(path) else { continue }  // sources, docs: not served
            guard Self.isServablePath(path) else {
                throw CoordinatorError(.malformed, "the console path '\(path.prefix(80))' is not a plain relative name")
            }
            guard bytes.count <= Self.maxFileBytes else {
                throw CoordinatorError(.tooLarge, "the console file '\(path)' exceeds \(Self.maxFileBytes) bytes")
            }
            out[path] = File(bytes: bytes, contentType: type)
        }
        guard out["index.html"] != nil else {
            throw CoordinatorError(.malformed, "the console has no index.html")
        }
        self.files = out
    }

    static func contentType(_ path: String) -> String? {
        guard let dot = path.lastIndex(of: ".") else { return nil }
        return contentTypes[String(path[path.index(after: dot)...])]
    }

    /// `a-z A-Z 0-9 . _ -` segments separated by `/`, none empty, none starting with a dot.
    static func isServablePath(_ path: String) -> Bool {
        guard (1...200).contains(path.utf8.count) else { return false }
        for segment in path.split(separator: "/", omittingEmptySubsequences: false) {
            guard let first = segment.utf8.first, first != UInt8(ascii: ".") else { return false }
            let ok = segment.utf8.allSatisfy { c in
                c == 45 || c == 46 || c == 95 || (48...57).contains(c) || (65...90).contains(c)
                    || (97...122).contains(c)
            }
            guard ok else { return false }
        }
        return true
    }

    /// The Content-Security-Policy of every console response: scripts, styles and connections to this origin
    /// only, no inline script or style, no plugins, no framing, and Trusted Types with no policy (so no string
    /// ever becomes HTML or script).
    public static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
        + "require-trusted-types-for 'script'; trusted-types 'none'"

    static func securityHeaders(_ headers: inout HTTPFields) {
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.init("X-Content-Type-Options")!] = "nosniff"
        headers[.init("Referrer-Policy")!] = "no-referrer"
        headers[.init("Cross-Origin-Opener-Policy")!] = "same-origin"
        headers[.init("Cross-Origin-Resource-Policy")!] = "same-origin"
        headers[.init("X-Frame-Options")!] = "DENY"
        headers[.init("Permissions-Policy")!] =
            "publickey-credentials-get=(self), publickey-credentials-create=(self), camera=(), microphone=(), "
            + "geolocation=(), payment=()"
        headers[.cacheControl] = "no-cache"
    }

    func response(_ path: String, head: Bool = false) throws(CoordinatorError) -> Response {
        guard let file = files[path] else {
            throw CoordinatorError(.notFound, "no such console file")
        }
        var headers: HTTPFields = [:]
        Self.securityHeaders(&headers)
        headers[.contentType] = file.contentType
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: file.bytes)))
    }
}

/// The console's browser session: the API token of a passkey-signed session request, held in an HttpOnly
/// cookie the page's scripts cannot read, and a CSRF value derived from it that they must echo on every
/// mutation.
enum ConsoleSession {
    /// `__Host-`: the browser keeps it only when set `Secure`, `Path=/` and without `Domain` (so no sibling
    /// host can plant or read it).
    static let cookieName = "__Host-kura-session"

    static func setCookie(token: String, maxAge: Int64) -> String {
        "\(cookieName)=\(token); Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=\(max(0, maxAge))"
    }

    static let clearCookie = "\(cookieName)=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"

    /// The token in the request's cookies, if any.
    static func token(_ request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let pair = part.drop { $0 == " " }
                guard let eq = pair.firstIndex(of: "=") else { continue }
                if pair[..<eq] == cookieName {
                    let value = String(pair[pair.index(after: eq)...])
                    return value.isEmpty ? nil : value
                }
            }
        }
        return nil
    }

    /// The CSRF value of a session: an HMAC of a fixed label under the token, base64url. Knowing it reveals
    /// nothing of the token; another session's value does not fit; no state is kept (replicas agree).
    static func csrf(token: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array("kura/console-csrf/v1".utf8), using: SymmetricKey(data: Array(token.utf8)))
        return Base64URL.encode(Array(mac))
    }

    /// Checks a cookie-authenticated mutation: the `X-Kura-CSRF` header must carry the session's value, and an
    /// `Origin` header, when sent, must be this server's own origin.
    static func checkMutation(_ request: Request, token: String) throws(CoordinatorError) {
        let expected = Array(csrf(token: token).utf8)
        guard let given = request.headers[.init("X-Kura-CSRF")!] else {
            throw CoordinatorError(.forbidden, "csrf: a console request that changes something needs X-Kura-CSRF")
        }
        let g = Array(given.utf8)
        var diff = UInt8(g.count == expected.count ? 0 : 1)
        for i in 0..<min(g.count, expected.count) { diff |= g[i] ^ expected[i] }
        guard diff == 0 else { throw CoordinatorError(.forbidden, "csrf: X-Kura-CSRF does not match the session") }
        if let origin = request.headers[.origin] {
            guard let host = request.head.authority,
                origin == "http://\(host)" || origin == "https://\(host)"
            else { throw CoordinatorError(.forbidden, "csrf: the request's Origin is not this console's") }
        }
    }
}

extension CoordinatorAPI {
    /// `GET /console/...`: a console file, with the console's security headers.
    func consoleFile(_ path: String) throws(CoordinatorError) -> Response {
        guard let console = settings.console else {
            throw CoordinatorError(.notFound, "the console is not served by this coordinator")
        }
        return try console.response(path.isEmpty ? "index.html" : path)
    }

    static func redirect(_ location: String) -> Response {
        var headers: HTTPFields = [:]
        headers[.location] = location
        headers[.cacheControl] = "no-cache"
        return Response(status: .found, headers: headers)
    }

    /// `GET /v1/console/config`: what the console needs before signing in.
    func consoleConfig() -> Response {
        JSONResponse.make(.ok, .object(["audience": .string(service.configuration.audience)]))
    }

    /// `POST /v1/orgs/{org}/console/session`: a passkey-signed session request, answered with the session in a
    /// cookie and its CSRF value in the body.
    func createConsoleSession(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        let s = try await issueSession(request, context)
        var headers: HTTPFields = [:]
        headers[.setCookie] = ConsoleSession.setCookie(
            token: s.token.text, maxAge: s.record.expiresAt.seconds - s.record.createdAt.seconds)
        return JSONResponse.make(
            .created,
            Self.consoleSessionView(
                member: s.record.member.value, roles: s.roles.map(\.name), expiresAt: s.record.expiresAt.seconds,
                tokenID: s.record.id, csrf: ConsoleSession.csrf(token: s.token.text)),
            headers: headers)
    }

    /// `GET /v1/orgs/{org}/console/session`: the cookie's session (member, roles, CSRF value).
    func getConsoleSession(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        let (p, token) = try await consolePrincipal(request, context)
        return JSONResponse.make(
            .ok,
            Self.consoleSessionView(
                member: p.member.value, roles: p.roles.map(\.name), expiresAt: p.tokenExpiresAt.seconds,
                tokenID: p.tokenID, csrf: ConsoleSession.csrf(token: token)))
    }

    /// `DELETE /v1/orgs/{org}/console/session`: signs out (revokes the token, clears the cookie).
    func endConsoleSession(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        let (p, token) = try await consolePrincipal(request, context)
        try ConsoleSession.checkMutation(request, token: token)
        let prepared = try await service.prepareRevoke(p, tokenID: p.tokenID)
        try await service.commit(prepared.changes)
        var headers: HTTPFields = [:]
        headers[.setCookie] = ConsoleSession.clearCookie
        return JSONResponse.make(.ok, .object(["revoked": .string(p.tokenID)]), headers: headers)
    }

    /// The principal of a console route: the session cookie only (an API token in a header is not a console
    /// session, and must not be ended by one).
    func consolePrincipal(_ request: Request, _ context: KuraRequestContext) async throws(CoordinatorError)
        -> (Principal, String)
    {
        guard bearer(request) == nil, let token = ConsoleSession.token(request) else {
            throw CoordinatorError(.unauthenticated, "this route needs a console session (sign in with a passkey)")
        }
        let p = try await authenticated(request, context, credential: token)
        return (p, token)
    }

    static func consoleSessionView(member: String, roles: [String], expiresAt: Int64, tokenID: String, csrf: String)
        -> JSONValue
    {
        var b = JSONBuilder()
        b["member"] = member
        b.set("roles", strings: roles.sorted())
        b.set("expiresAt", expiresAt)
        b["tokenId"] = tokenID
        b["csrf"] = csrf
        return b.value
    }
}
