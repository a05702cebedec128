// The operator CLI's client of the coordinator API, and the session file that holds its token.
import ArgumentParser
import Foundation
import Governance
import WalletCrypto

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Where the CLI keeps its coordinator session: `--session FILE`, `$KURA_SESSION`, or
/// `~/.config/kura/session.json` (mode 0600; it holds an API token).
struct SessionOptions: ParsableArguments {
    @Option(help: "The session file (default $KURA_SESSION or ~/.config/kura/session.json).")
    var session: String?
    @Flag(help: "Print JSON instead of text.") var json = false

    var path: String {
        if let session { return session }
        if let e = ProcessInfo.processInfo.environment["KURA_SESSION"], !e.isEmpty { return e }
        let home = ProcessInfo.processInfo.environment["HOME"] ?? "."
        return home + "/.config/kura/session.json"
    }

    func load() throws -> Session {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("no session at \(path): run `kura login` first")
        }
        let v = try JSONParser.parse([UInt8](data))
        var r = try JSONObjectReader(v, path: "session")
        let s = Session(
            server: try r.string("server"), organization: try r.string("organization"), member: try r.string("member"),
            token: try r.string("token"), expiresAt: Int64(try r.int("expiresAt")), genesis: try r.string("genesis"))
        try r.finish()
        return s
    }

    func client() throws -> APIClient { APIClient(session: try load()) }
}

/// A logged-in session.
struct Session {
    let server: String
    let organization: String
    let member: String
    let token: String
    let expiresAt: Int64
    /// The genesis policy hash the operator pinned at login (the chain the server sends is verified from it).
    let genesis: String

    var json: JSONValue {
        .object([
            "server": .string(server), "organization": .string(organization), "member": .string(member),
            "token": .string(token), "expiresAt": .number(Double(expiresAt)), "genesis": .string(genesis),
        ])
    }
}

/// An error of the CLI itself (exit 1 with the message).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A coordinator error answered by the server: printed as `kura: CODE: message (request id)`, exit 3 for a
/// refusal, 1 otherwise.
struct APIError: Error, CustomStringConvertible {
    let status: Int
    let code: String
    let message: String
    let category: String?
    let requestID: String?

    var description: String {
        "\(code)\(category.map { " \($0)" } ?? ""): \(message)\(requestID.map { " (request \($0))" } ?? "")"
    }
}

/// Minimal JSON-over-HTTP client of the coordinator (FoundationNetworking).
struct APIClient {
    let server: String
    let organization: String?
    let bearer: String?

    init(session: Session) {
        server = session.server
        organization = session.organization
        bearer = session.token
    }

    init(server: String, organization: String? = nil, bearer: String? = nil) {
        self.server = server
        self.organization = organization
        self.bearer = bearer
    }

    /// `/v1/orgs/{org}` + `path`.
    func orgPath(_ path: String) -> String { "/v1/orgs/\(organization ?? "-")\(path)" }

    /// Sends a request and returns the parsed JSON answer; a non-2xx answer throws its error body.
    func request(
        _ method: String, _ path: String, body: [UInt8]? = nil, idempotencyKey: String? = nil
    ) async throws -> JSONValue {
        let bytes = try await send(method, path, body: body, idempotencyKey: idempotencyKey)
        return (try? JSONParser.parse(bytes, limits: .init(maxBytes: 16 << 20))) ?? .null
    }

    /// Sends a request and returns the answer's bytes exactly as served; a non-2xx answer throws its error body.
    func send(
        _ method: String, _ path: String, body: [UInt8]? = nil, idempotencyKey: String? = nil
    ) async throws -> [UInt8] {
        guard let url = URL(string: server + path) else { throw CLIError("bad server URL \(server)") }
        var req = URLRequest(url: url)
        req.httpMethod = method
        req.timeoutInterval = 30
        if let bearer { req.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization") }
        if let body {
            req.httpBody = Data(body)
            req.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let idempotencyKey { req.setValue(idempotencyKey, forHTTPHeaderField: "Idempotency-Key") }
        let (data, response): (Data, URLResponse)
        do {
            (data, response) = try await URLSession.shared.data(for: req)
        } catch {
            throw CLIError("cannot reach the coordinator at \(server): \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            let value = (try? JSONParser.parse([UInt8](data), limits: .init(maxBytes: 1 << 20))) ?? .null
            if case .object(let o) = value, case .object(let e)? = o["error"] {
                func s(_ k: String) -> String? { if case .string(let v)? = e[k] { return v } else { return nil } }
                throw APIError(
                    status: status, code: s("code") ?? "error", message: s("message") ?? "", category: s("category"),
                    requestID: s("requestId"))
            }
            throw APIError(
                status: status, code: "http_\(status)", message: "unexpected response", category: nil, requestID: nil)
        }
        return [UInt8](data)
    }

    /// A fresh idempotency key for one logical create (retries of the same call reuse it).
    static func newIdempotencyKey() -> String { Hex.encode(SecretBytes.random(count: 16).unsafeCopy()) }
}

/// Runs an online command: API errors become `kura: ...` on stderr with exit 3 (refused) or 1.
enum Online {
    static func run(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let e as APIError {
            FileHandle.standardError.write(Data("kura: \(e)\n".utf8))
            throw ExitCode(e.code == "refused" || e.status == 422 ? 3 : 1)
        } catch let e as CLIError {
            FileHandle.standardError.write(Data("kura: \(e)\n".utf8))
            throw ExitCode(1)
        } catch let e as GovernanceError {
            FileHandle.standardError.write(
                Data("kura: refused: \(e.category.token) \(e.code.name): \(e.reason)\n".utf8))
            throw ExitCode(3)
        }
    }

    static func output(_ value: JSONValue, json: Bool, text: () -> String) {
        if json {
            let bytes = (try? CanonicalJSON.encode(value)) ?? []
            FileHandle.standardOutput.write(Data(bytes + [0x0a]))
        } else {
            GovernanceIO.print(text())
        }
    }
}

extension JSONValue {
    subscript(_ key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    var int: Int64? {
        if case .number(let n) = self { return Int64(exactly: n) }
        return nil
    }

    var array: [JSONValue] {
        if case .array(let a) = self { return a }
        return []
    }
}
