// `kura serve`: runs the coordinator. Thin: configuration in, CoordinatorServer.run out.
import ArgumentParser
import CoordinatorHTTP
import CoordinatorServer
import Foundation
import Governance
import Logging

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the coordinator (API on HTTP; SQLite by default, PostgreSQL with --database-url).",
        discussion: """
            Settings come from flags, then KURA_* environment variables, then a JSON file (--config), then
            defaults. Environment: KURA_HOST, KURA_PORT, KURA_DATA_DIR, KURA_DATABASE_URL, KURA_AUDIENCE,
            KURA_BOOTSTRAP_SECRET, KURA_LOG_LEVEL. The bootstrap secret may instead be read from a file
            (--bootstrap-secret-file); it is never logged.
            """)

    @Option(
        help:
            "A JSON configuration file (keys: host, port, dataDir, databaseURL, audience, bootstrapSecretFile, tokenLifetime, gapLimit, maxBodyBytes, logLevel, esplora, bitcoind, ethereum, followInterval, confirmations)."
    )
    var config: String?
    @Option(help: "Address to listen on (default 127.0.0.1).") var host: String?
    @Option(help: "Port to listen on (default 8080; 0 picks a free port).") var port: Int?
    @Option(help: "Write the bound port to this file once listening.") var portFile: String?
    @Option(help: "SQLite data directory (default ./kura-data).") var dataDir: String?
    @Option(help: "PostgreSQL URL (postgres://user@host:port/db?sslmode=disable); replaces SQLite.")
    var databaseURL: String?
    @Option(help: "The audience members' session requests must name (default kura-coordinator).")
    var audience: String?
    @Option(help: "A file holding the bootstrap secret that allows creating organisations.")
    var bootstrapSecretFile: String?
    @Option(help: "API token lifetime in seconds (default 43200).") var tokenLifetime: Int64?
    @Option(help: "Unused receive addresses allowed per wallet (default 20).") var gapLimit: Int?
    @Option(
        help: ArgumentHelp(
            "Seconds between two rounds of the follow-up that broadcasts signed transactions and watches them until "
                + "confirmed (default 5; 0: off)."))
    var followInterval: Double?
    @Option(help: "Confirmations after which a broadcast transaction is confirmed (default 6).")
    var confirmations: Int?
    @Option(help: "Seconds one attempt of one request to a chain source may take (default 10; 3 retries).")
    var chainTimeout: Double?
    @Option(help: "A URL that receives deposit and withdrawal events (signed POSTs; needs --webhook-secret-file).")
    var webhook: String?
    @Option(help: "A file holding the secret webhook requests are signed with (HMAC-SHA256, at least 32 bytes).")
    var webhookSecretFile: String?
    @Option(
        name: .customLong("esplora"),
        help:
            "A Bitcoin chain source as NETWORK=URL (an Esplora REST API, e.g. regtest=http://127.0.0.1:3002); repeatable."
    )
    var esplora: [String] = []
    @Option(
        name: .customLong("bitcoind"),
        help: ArgumentHelp(
            "A Bitcoin chain source as NETWORK=URL (Bitcoin Core JSON-RPC with -txindex=1, e.g. "
                + "regtest=http://user:password@127.0.0.1:18443; prefer KURA_BITCOIND or the file for credentials); "
                + "repeatable."))
    var bitcoind: [String] = []
    @Option(
        name: .customLong("ethereum"),
        help: ArgumentHelp(
            "An Ethereum chain source as CHAIN-ID=URL (standard JSON-RPC, e.g. 1=https://node.example/KEY; prefer "
                + "KURA_ETHEREUM or the file when the URL holds a key); repeatable."))
    var ethereum: [String] = []
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (default info).")
    var logLevel: String?
    @Option(help: "Serve the operator console from this directory instead of the one built in.")
    var consoleDir: String?
    @Flag(help: "Serve the API only (no operator console at /console/).")
    var noConsole = false

    /// NETWORK=URL pairs of one kind of chain source: the flags, else the environment variable (comma-separated),
    /// else the configuration file's list.
    private func chainSources(_ flags: [String], env: String?, file: Any?, kind: String) throws -> [String: String] {
        var pairs = flags
        if pairs.isEmpty, let env, !env.isEmpty {
            pairs = env.split(separator: ",").map(String.init)
        } else if pairs.isEmpty, let file {
            guard let list = file as? [String] else {
                throw ValidationError("'\(kind)' in the configuration must be a list of NETWORK=URL strings")
            }
            pairs = list
        }
        var sources: [String: String] = [:]
        for pair in pairs {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            let names = kind == "ethereum" ? [parts.first ?? ""] : ["mainnet", "testnet", "signet", "regtest"]
            guard parts.count == 2, names.contains(parts[0]),
                parts[1].hasPrefix("http://") || parts[1].hasPrefix("https://")
            else {
                throw ValidationError(
                    kind == "ethereum"
                        ? "an ethereum source is CHAIN-ID=URL (http or https)"
                        : "a \(kind) source is NETWORK=URL (mainnet, testnet, signet or regtest; http or https)")
            }
            guard sources[parts[0]] == nil else { throw ValidationError("two \(kind) sources for \(parts[0])") }
            sources[parts[0]] = parts[1]
        }
        return sources
    }

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        var file: [String: Any] = [:]
        if let config {
            guard let data = FileManager.default.contents(atPath: config),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            else { throw ValidationError("cannot read the configuration file \(config) as a JSON object") }
            let known: Set<String> = [
                "host", "port", "dataDir", "databaseURL", "audience", "bootstrapSecretFile", "tokenLifetime",
                "gapLimit", "maxBodyBytes", "logLevel", "esplora", "bitcoind", "ethereum", "followInterval",
                "confirmations", "chainTimeout", "webhook", "webhookSecretFile", "consoleDir",
            ]
            if let unknown = object.keys.first(where: { !known.contains($0) }) {
                throw ValidationError("unknown key '\(unknown)' in \(config)")
            }
            file = object
        }
        func pick<T>(_ flag: T?, _ envKey: String, _ fileKey: String, _ parse: (String) -> T?) throws -> T? {
            if let flag { return flag }
            if let e = env[envKey], !e.isEmpty {
                guard let v = parse(e) else { throw ValidationError("\(envKey) is not valid") }
                return v
            }
            if let f = file[fileKey] {
                guard let v = parse("\(f)") else {
                    throw ValidationError("'\(fileKey)' in the configuration is not valid")
                }
                return v
            }
            return nil
        }
        var c = ServerConfiguration()
        c.host = try pick(host, "KURA_HOST", "host", { $0 }) ?? c.host
        c.port =
            try pick(port, "KURA_PORT", "port", { Int($0).flatMap { (0...65535).contains($0) ? $0 : nil } }) ?? c.port
        c.dataDirectory = try pick(dataDir, "KURA_DATA_DIR", "dataDir", { $0 }) ?? c.dataDirectory
        c.databaseURL = try pick(databaseURL, "KURA_DATABASE_URL", "databaseURL", { $0 })
        c.audience = try pick(audience, "KURA_AUDIENCE", "audience", { $0 }) ?? c.audience
        c.tokenLifetime =
            try pick(tokenLifetime, "KURA_TOKEN_LIFETIME", "tokenLifetime", { Int64($0).flatMap { $0 > 0 ? $0 : nil } })
            ?? c.tokenLifetime
        c.gapLimit =
            try pick(gapLimit, "KURA_GAP_LIMIT", "gapLimit", { Int($0).flatMap { (1...1000).contains($0) ? $0 : nil } })
            ?? c.gapLimit
        c.followUpInterval =
            try pick(
                followInterval, "KURA_FOLLOW_INTERVAL", "followInterval",
                { Double($0).flatMap { $0 >= 0 && $0 <= 3600 ? $0 : nil } }) ?? c.followUpInterval
        c.requiredConfirmations =
            try pick(
                confirmations, "KURA_CONFIRMATIONS", "confirmations",
                { Int($0).flatMap { (1...1000).contains($0) ? $0 : nil } }) ?? c.requiredConfirmations
        c.chainTimeout =
            try pick(chainTimeout, "KURA_CHAIN_TIMEOUT", "chainTimeout", { Double($0) }) ?? c.chainTimeout
        guard c.chainTimeout >= 0.1, c.chainTimeout <= 300 else {
            throw ValidationError("--chain-timeout must be 0.1…300 seconds")
        }
        c.webhookURL = try pick(webhook, "KURA_WEBHOOK", "webhook", { $0 })
        if let url = c.webhookURL {
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw ValidationError("--webhook must be an http or https URL")
            }
            guard let path = try pick(webhookSecretFile, "KURA_WEBHOOK_SECRET_FILE", "webhookSecretFile", { $0 }),
                let data = FileManager.default.contents(atPath: path)
            else { throw ValidationError("--webhook needs --webhook-secret-file, a readable file") }
            let secret = Array(
                (String(data: data, encoding: .utf8) ?? "").trimmingCharacters(in: .whitespacesAndNewlines).utf8)
            guard secret.count >= 32 else {
                throw ValidationError("the webhook secret must be at least 32 bytes (e.g. 64 hex digits)")
            }
            c.webhookSecret = secret
        }
        guard (0...3600).contains(c.followUpInterval), (1...1000).contains(c.requiredConfirmations) else {
            throw ValidationError("--follow-interval must be 0…3600 seconds and --confirmations 1…1000")
        }
        if let m = try pick(
            Int?.none, "KURA_MAX_BODY_BYTES", "maxBodyBytes",
            { Int($0).flatMap { (1024...(64 << 20)).contains($0) ? $0 : nil } })
        {
            c.maxBodyBytes = m
        }
        if let l = try pick(logLevel, "KURA_LOG_LEVEL", "logLevel", { Logger.Level(rawValue: $0).map { $0.rawValue } })
        {
            guard let level = Logger.Level(rawValue: l) else { throw ValidationError("unknown log level '\(l)'") }
            c.logLevel = level
        }
        c.portFile = portFile
        c.consoleDirectory = try pick(consoleDir, "KURA_CONSOLE_DIR", "consoleDir", { $0 })
        c.serveConsole = !noConsole
        c.esplora = try chainSources(esplora, env: env["KURA_ESPLORA"], file: file["esplora"], kind: "esplora")
        c.bitcoind = try chainSources(bitcoind, env: env["KURA_BITCOIND"], file: file["bitcoind"], kind: "bitcoind")
        for (id, url) in try chainSources(ethereum, env: env["KURA_ETHEREUM"], file: file["ethereum"], kind: "ethereum")
        {
            guard let chainID = UInt64(id), chainID > 0 else {
                throw ValidationError("an ethereum source is CHAIN-ID=URL with a decimal chain id")
            }
            c.ethereum[chainID] = url
        }
        if let both = c.esplora.keys.first(where: { c.bitcoind[$0] != nil }) {
            throw ValidationError("two Bitcoin chain sources for \(both): name Esplora or Bitcoin Core, not both")
        }
        var secret: String?
        if let path = try pick(bootstrapSecretFile, "KURA_BOOTSTRAP_SECRET_FILE", "bootstrapSecretFile", { $0 }) {
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
            else { throw ValidationError("cannot read the bootstrap secret file") }
            secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
        } else if let e = env["KURA_BOOTSTRAP_SECRET"], !e.isEmpty {
            secret = e
        }
        if let secret {
            guard secret.utf8.count >= 16 else {
                throw ValidationError("the bootstrap secret must be at least 16 bytes")
            }
            c.bootstrapSecretHash = HTTPSettings.hashBootstrapSecret(secret)
        }
        try await CoordinatorServer.run(c)
    }
}
