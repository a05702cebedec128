// kura-load: the coordinator load benchmark's two Swift parts (Benchmarks/coordinator_load.py drives them).
//
//   kura-load ceiling (--sqlite FILE | --postgres URL) --port-file F
//       A bare Hummingbird 2 server whose one route, POST /insert, stores the request body as one row
//       (same SQLite settings as `kura serve`: WAL, synchronous=FULL; or the same PostgreSQL server):
//       the ceiling the coordinator's create-intent is compared with.
//   kura-load drive --plan FILE
//       Sends the plan's phases over keep-alive HTTP/1.1 connections from `clients` concurrent workers and
//       prints, per phase, requests per second, p50/p90/p99/max latency and the statuses seen (JSON).
//
// The plan: {"port": P, "clients": 32, "phases": [{"name": N, "port"?: P, "requests": [{"path", "body" (base64),
// "token"?, "key"?}], "rate"?: R}]}. Requests of a phase are taken in order by whichever worker is free; with
// "rate", request i is not sent before start + i / R seconds and its latency counts from that due time (an open
// loop at a fixed offered rate, as wrk2 does: latency at a given throughput, not at saturation).
import AsyncHTTPClient
import CoordinatorStorage
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import PostgresKit
import SQLiteKit
import Synchronization

@main
struct KuraLoad {
    static func main() async throws {
        let args = Array(CommandLine.arguments.dropFirst())
        guard let command = args.first else { usage() }
        func value(_ flag: String) -> String? {
            guard let i = args.firstIndex(of: flag), i + 1 < args.count else { return nil }
            return args[i + 1]
        }
        switch command {
        case "ceiling":
            guard let portFile = value("--port-file") else { usage() }
            try await Ceiling.run(sqlite: value("--sqlite"), postgres: value("--postgres"), portFile: portFile)
        case "drive":
            guard let plan = value("--plan") else { usage() }
            try await Driver.run(planPath: plan)
        default:
            usage()
        }
    }

    static func usage() -> Never {
        FileHandle.standardError.write(
            Data("usage: kura-load ceiling (--sqlite FILE | --postgres URL) --port-file F | drive --plan FILE\n".utf8))
        exit(64)
    }
}

// MARK: - The ceiling: one insert per request

/// Where the ceiling's rows go.
protocol InsertSink: Sendable {
    func insert(id: String, body: [UInt8]) async throws
}

/// One SQLite connection with `kura serve`'s driver and settings (CoordinatorStorage's `SQLiteFile`: a compiled
/// statement cache, statements run on the calling thread; WAL, synchronous=FULL); each insert is one autocommit
/// statement (its own transaction, durable when it returns). The connection runs one statement at a time.
final class SQLiteSink: InsertSink {
    let db: any SQLDatabase

    init(path: String) async throws {
        db = try SQLiteFile.open(path: path).sql(logger: Logger(label: "ceiling"))
        _ = try await db.raw("PRAGMA journal_mode = WAL").all()
        try await db.raw("PRAGMA synchronous = FULL").run()
        try await db.raw("CREATE TABLE IF NOT EXISTS ceiling (id TEXT PRIMARY KEY, body BLOB NOT NULL) STRICT").run()
    }

    func insert(id: String, body: [UInt8]) async throws {
        try await db.raw("INSERT INTO ceiling (id, body) VALUES (\(bind: id), \(bind: Data(body)))").run()
    }
}

/// A PostgreSQL connection pool as `kura serve` makes it (CoordinatorStorage's `PostgresPool`: PostgresNIO's
/// `PostgresClient`, at most 8 connections); each insert is one autocommit statement on a leased connection.
final class PostgresSink: InsertSink {
    let client: PostgresClient
    let running: Task<Void, Never>
    let logger = Logger(label: "ceiling")

    init(url: String) async throws {
        let client = try PostgresPool.client(url: url, maxConnections: 8, logger: logger)
        self.client = client
        running = Task { await client.run() }
        try await client.withConnection { connection in
            try await connection.sql(logger: logger).raw(
                "CREATE TABLE IF NOT EXISTS ceiling (id TEXT PRIMARY KEY, body BYTEA NOT NULL)"
            ).run()
        }
    }

    func insert(id: String, body: [UInt8]) async throws {
        try await client.withConnection { connection in
            try await connection.sql(logger: logger).raw(
                "INSERT INTO ceiling (id, body) VALUES (\(bind: id), \(bind: Data(body)))"
            ).run()
        }
    }
}

enum Ceiling {
    static func run(sqlite: String?, postgres: String?, portFile: String) async throws {
        let sink: any InsertSink
        if let sqlite {
            sink = try await SQLiteSink(path: sqlite)
        } else if let postgres {
            sink = try await PostgresSink(url: postgres)
        } else {
            KuraLoad.usage()
        }
        let router = Router()
        router.post("/insert") { request, _ -> Response in
            let buffer = try await request.body.collect(upTo: 1 << 20)
            try await sink.insert(id: UUID().uuidString, body: Array(buffer.readableBytesView))
            return Response(
                status: .created, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: "{\"ok\":true}")))
        }
        var logger = Logger(label: "ceiling")
        logger.logLevel = .warning
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                try? Data("\(port)\n".utf8).write(to: URL(fileURLWithPath: portFile), options: .atomic)
            }, logger: logger)
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }
}

// MARK: - The driver

struct PlannedRequest: Sendable {
    let path: String
    let body: [UInt8]
    let token: String?
    let key: String?
}

struct Phase: Sendable {
    let name: String
    let port: Int?
    /// Requests per second to send at (an open loop: request i is due at start + i / rate, whether or not
    /// earlier ones have been answered); nil sends each request as soon as a worker is free (a closed loop).
    let rate: Double?
    let requests: [PlannedRequest]
}

enum Driver {
    static func run(planPath: String) async throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: planPath))
        guard let plan = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let port = plan["port"] as? Int, let clients = plan["clients"] as? Int,
            let phaseList = plan["phases"] as? [[String: Any]]
        else { throw DriverError("the plan is not {port, clients, phases}") }
        var phases: [Phase] = []
        for p in phaseList {
            guard let name = p["name"] as? String, let list = p["requests"] as? [[String: Any]] else {
                throw DriverError("a phase is not {name, requests}")
            }
            phases.append(
                Phase(
                    name: name, port: p["port"] as? Int, rate: (p["rate"] as? NSNumber)?.doubleValue,
                    requests: try list.map { r in
                        guard let path = r["path"] as? String, let b64 = r["body"] as? String,
                            let body = Data(base64Encoded: b64)
                        else { throw DriverError("a request is not {path, body (base64)}") }
                        return PlannedRequest(
                            path: path, body: [UInt8](body), token: r["token"] as? String, key: r["key"] as? String)
                    }))
        }
        var config = HTTPClient.Configuration()
        config.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: clients)
        config.timeout = .init(connect: .seconds(10), read: .seconds(60))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
        var results: [String: Any] = [:]
        do {
            for phase in phases {
                results[phase.name] = try await drive(phase, port: phase.port ?? port, clients: clients, client: client)
            }
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
        let out = try JSONSerialization.data(
            withJSONObject: ["clients": clients, "phases": results], options: [.sortedKeys])
        FileHandle.standardOutput.write(out + Data("\n".utf8))
    }

    static func drive(_ phase: Phase, port: Int, clients: Int, client: HTTPClient) async throws -> [String: Any] {
        let next = Counter()
        let started = ContinuousClock.now
        let samples = try await withThrowingTaskGroup(of: [(Duration, UInt)].self) { group in
            for _ in 0..<clients {
                group.addTask {
                    var mine: [(Duration, UInt)] = []
                    while true {
                        let i = next.take()
                        guard i < phase.requests.count else { break }
                        let r = phase.requests[i]
                        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(r.path)")
                        request.method = .POST
                        request.headers.add(name: "Content-Type", value: "application/json")
                        if let token = r.token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
                        if let key = r.key { request.headers.add(name: "Idempotency-Key", value: key) }
                        request.body = .bytes(ByteBuffer(bytes: r.body))
                        // Paced: wait for the request's due time, and count its latency from then (so a server
                        // that falls behind is charged the queueing it causes: no coordinated omission).
                        var t0 = ContinuousClock.now
                        if let rate = phase.rate {
                            let due = started + .nanoseconds(Int64(Double(i) / rate * 1e9))
                            if due > t0 { try await Task.sleep(until: due, clock: .continuous) }
                            t0 = due
                        }
                        let response = try await client.execute(request, timeout: .seconds(60))
                        _ = try await response.body.collect(upTo: 1 << 20)
                        mine.append((ContinuousClock.now - t0, response.status.code))
                    }
                    return mine
                }
            }
            var all: [(Duration, UInt)] = []
            for try await part in group { all += part }
            return all
        }
        let elapsed = ContinuousClock.now - started
        let ms = samples.map { Double($0.0.components.attoseconds) / 1e15 + Double($0.0.components.seconds) * 1000 }
            .sorted()
        func pct(_ p: Double) -> Double {
            guard !ms.isEmpty else { return 0 }
            return (ms[min(ms.count - 1, Int(Double(ms.count) * p))] * 100).rounded() / 100
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        var statuses: [String: Int] = [:]
        for s in samples { statuses[String(s.1), default: 0] += 1 }
        var result: [String: Any] = [
            "requests": samples.count, "seconds": (seconds * 1000).rounded() / 1000,
            "rps": (Double(samples.count) / seconds * 10).rounded() / 10,
            "p50_ms": pct(0.50), "p90_ms": pct(0.90), "p99_ms": pct(0.99), "max_ms": pct(1.0),
            "statuses": statuses,
        ]
        if let rate = phase.rate { result["offered_rps"] = (rate * 10).rounded() / 10 }
        return result
    }
}

struct DriverError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// The next request index, shared by a phase's workers.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    func take() -> Int { value.add(1, ordering: .relaxed).oldValue }
}
