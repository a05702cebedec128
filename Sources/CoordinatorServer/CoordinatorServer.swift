import Bitcoin
import ChainAdapters
import CoordinatorCore
public import CoordinatorHTTP
import CoordinatorStorage
import Ethereum
import Foundation
import Governance
import Hummingbird
public import Logging
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle

/// How `kura serve` is configured: flags override environment variables, which override the file.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// The SQLite database directory (the embedded default).
    public var dataDirectory = "kura-data"
    /// A PostgreSQL URL (`postgres://...`); when set, SQLite is not used.
    public var databaseURL: String?
    /// SHA-256 of the bootstrap secret, or `nil` to disable bootstrap.
    public var bootstrapSecretHash: [UInt8]?
    public var audience = "kura-coordinator"
    public var tokenLifetime: Int64 = 12 * 3600
    public var gapLimit = 20
    /// Esplora chain sources by Bitcoin network name (`regtest` → `http://127.0.0.1:3002`).
    public var esplora: [String: String] = [:]
    /// Bitcoin Core JSON-RPC chain sources by Bitcoin network name (a network has one source, of either kind).
    public var bitcoind: [String: String] = [:]
    /// Ethereum JSON-RPC chain sources by chain id.
    public var ethereum: [UInt64: String] = [:]
    public var maxBodyBytes = 1 << 20
    /// Seconds between two rounds of the follow-up of finalised transactions (broadcast, confirmations); 0 turns
    /// it off (another replica, or none, broadcasts).
    public var followUpInterval = 5.0
    /// Confirmations after which a broadcast transaction is `confirmed`.
    public var requiredConfirmations = 6
    /// Seconds one attempt of one request to a chain source may take (each is retried 3 times with backoff).
    public var chainTimeout = 10.0
    /// The webhook receiver for deposit and withdrawal events, and the secret its requests are signed with.
    public var webhookURL: String?
    public var webhookSecret: [UInt8] = []
    public var authRatePerSecond = 5.0
    public var authBurst = 20.0
    public var logLevel: Logger.Level = .info
    /// Whether to serve the operator console at `/console/`, and from which directory (`nil`: the one built in).
    public var serveConsole = true
    public var consoleDirectory: String?
    /// A file to write the bound port to once the server listens (for `--port 0`).
    public var portFile: String?

    public init() {}
}

/// The wall clock.
struct SystemClock: CoordinatorClock {
    func now() -> Timestamp {
        (try? Timestamp(seconds: Int64(Date().timeIntervalSince1970))) ?? .epoch
    }
}

/// The composition root of the coordinator: storage adapter, use cases, HTTP API, metrics, logging and
/// graceful shutdown (SIGTERM/SIGINT through swift-service-lifecycle).
public enum CoordinatorServer {
    /// The OpenAPI 3.1 document of the API (Sources/CoordinatorServer/openapi.json).
    public static func openAPIDocument() throws -> [UInt8] {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json") else {
            throw CocoaError(.fileNoSuchFile)
        }
        return Array(try Data(contentsOf: url))
    }

    /// The console built into the executable (Sources/CoordinatorServer/Console, a SwiftPM resource).
    public static func builtInConsoleDirectory() throws -> String {
        guard let url = Bundle.module.url(forResource: "Console", withExtension: nil) else {
            throw CocoaError(.fileNoSuchFile)
        }
        return url.path
    }

    /// Reads a console directory into memory (regular files only; symbolic links and special files are
    /// skipped, so nothing outside the directory is served).
    public static func loadConsole(directory: String) throws -> ConsoleAssets {
        let root = URL(fileURLWithPath: directory, isDirectory: true).standardizedFileURL
        let fm = FileManager.default
        guard let walker = fm.enumerator(atPath: root.path) else {
            throw CoordinatorError(.notFound, "the console directory \(directory) cannot be read")
        }
        var files: [String: [UInt8]] = [:]
        while let relative = walker.nextObject() as? String {
            if relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }  // hidden files
            let full = root.appendingPathComponent(relative).path
            let attributes = try fm.attributesOfItem(atPath: full)
            guard (attributes[.type] as? FileAttributeType) == .typeRegular else { continue }
            guard files.count < ConsoleAssets.maxFiles else {
                throw CoordinatorError(
                    .malformed, "the console directory has more than \(ConsoleAssets.maxFiles) files")
            }
            files[relative] = Array(try Data(contentsOf: URL(fileURLWithPath: full)))
        }
        return try ConsoleAssets(files: files)
    }

    /// The chain sources of the configuration: an Esplora or Bitcoin Core RPC adapter per Bitcoin network named.
    static func chainSources(_ config: ServerConfiguration) throws -> ChainSources {
        let timeout = Duration.milliseconds(Int64(config.chainTimeout * 1000))
        var bitcoin: [Network: any BitcoinChainPort] = [:]
        for (name, url) in config.esplora {
            bitcoin[try Network(named: name)] = try EsploraBitcoinChain(
                baseURL: url, options: EsploraBitcoinChain.Options(requestTimeout: timeout))
        }
        for (name, url) in config.bitcoind {
            bitcoin[try Network(named: name)] = try BitcoinCoreRPCChain(
                baseURL: url, options: ChainHTTPOptions(requestTimeout: timeout))
        }
        var ethereum: [ChainID: any EthereumChainPort] = [:]
        for (id, url) in config.ethereum {
            // The node must be on the chain the policy names: checked before every build and broadcast.
            ethereum[ChainID(id)] = try EthereumJSONRPCChain(
                url: url, options: EthereumJSONRPCChain.Options(requestTimeout: timeout, expectedChainID: ChainID(id)))
        }
        return ChainSources(
            bitcoin: bitcoin, ethereum: ethereum, requiredConfirmations: config.requiredConfirmations)
    }

    /// Runs the server until it is asked to stop.
    public static func run(_ config: ServerConfiguration) async throws {
        LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: config.logLevel) }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "kura.serve")

        let store: SQLCoordinatorStore
        if let url = config.databaseURL {
            store = try SQLCoordinatorStore.connectPostgres(url: url)
        } else {
            try FileManager.default.createDirectory(
                atPath: config.dataDirectory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
            store = try await SQLCoordinatorStore.openSQLite(path: config.dataDirectory + "/coordinator.sqlite")
        }
        do {
            try await store.migrate()
            let service = CoordinatorService(
                store: store, clock: SystemClock(),
                configuration: CoordinatorConfiguration(
                    audience: config.audience, tokenLifetime: config.tokenLifetime, gapLimit: config.gapLimit,
                    webhooks: config.webhookURL != nil),
                chains: try chainSources(config))
            let api = CoordinatorAPI(
                service: service,
                settings: HTTPSettings(
                    bootstrapSecretHash: config.bootstrapSecretHash, maxBodyBytes: config.maxBodyBytes,
                    authRatePerSecond: config.authRatePerSecond, authBurst: config.authBurst,
                    openAPIDocument: try openAPIDocument(), metrics: { registry.emitToBuffer() },
                    console: config.serveConsole
                        ? try loadConsole(directory: config.consoleDirectory ?? builtInConsoleDirectory()) : nil))
            let portFile = config.portFile
            var app = Application(
                router: api.router(),
                configuration: .init(address: .hostname(config.host, port: config.port), serverName: "kura"),
                onServerRunning: { channel in
                    let port = channel.localAddress?.port ?? config.port
                    logger.info(
                        "listening",
                        metadata: ["url": .string("http://\(config.host):\(port)"), "backend": .string(store.backend)])
                    if let portFile {
                        try? Data("\(port)\n".utf8).write(to: URL(fileURLWithPath: portFile), options: .atomic)
                    }
                },
                logger: logger)
            if config.followUpInterval > 0 {
                let webhook = try config.webhookURL.map { url in
                    (sender: try HTTPWebhookSender(url: url) as any WebhookSender, secret: config.webhookSecret)
                }
                app.addServices(
                    FollowUpLoop(
                        service: service, interval: .milliseconds(Int64(config.followUpInterval * 1000)),
                        recheckSeconds: Int64(max(1, config.followUpInterval.rounded(.up))), webhook: webhook,
                        logger: logger))
            }
            try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
            logger.info("stopped")
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }
}

/// The follow-up of finalised transactions and the deposit scan as a background service: a round every `interval` until graceful
/// shutdown. Each process claims work under its own random owner name, so replicas on one PostgreSQL share it.
struct FollowUpLoop: Service {
    let service: CoordinatorService
    let interval: Duration
    let recheckSeconds: Int64
    let webhook: (sender: any WebhookSender, secret: [UInt8])?
    let logger: Logger
    let owner = "kura-\(ProcessInfo.processInfo.processIdentifier)-\(UInt64.random(in: 0...UInt64.max))"

    func run() async throws {
        let options = FollowUpOptions(recheckSeconds: recheckSeconds)
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let checked = try await service.followUp(owner: owner, options: options)
                    if checked > 0 { logger.debug("follow-up round", metadata: ["checked": "\(checked)"]) }
                } catch {
                    logger.warning("follow-up round failed", metadata: ["error": "\(error)"])
                }
                if let webhook {
                    do {
                        _ = try await service.deliverWebhooks(
                            owner: owner, sender: webhook.sender, secret: webhook.secret, options: options)
                    } catch {
                        logger.warning("webhook round failed", metadata: ["error": "\(error)"])
                    }
                }
                do {
                    let expired = try await service.expireIntents()
                    if expired > 0 { logger.info("intents expired", metadata: ["count": "\(expired)"]) }
                } catch {
                    logger.warning("expiry round failed", metadata: ["error": "\(error)"])
                }
                do {
                    let scanned = try await service.scanDeposits(owner: owner, options: options)
                    if scanned > 0 { logger.debug("deposit scan round", metadata: ["wallets": "\(scanned)"]) }
                } catch {
                    logger.warning("deposit scan round failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
