public import CoordinatorCore
public import Logging
public import PostgresKit

/// PostgreSQL connection pools as `kura serve` makes them (also the load benchmark's ceiling, so that both use one
/// driver with one configuration).
public enum PostgresPool {
    /// A `PostgresClient` for a URL `postgres://user[:password]@host:port/database[?sslmode=…]` (or PostgresKit's
    /// Unix-socket form), at most `maxConnections` open; not yet running (call its `run()` in a task of its own).
    public static func client(url: String, maxConnections: Int, logger: Logger) throws(StorageError)
        -> PostgresClient
    {
        let core: PostgresConnection.Configuration
        do {
            core = try SQLPostgresConfiguration(url: url).coreConfiguration
        } catch {
            throw StorageError(.backend, "the PostgreSQL URL is not valid")
        }
        let tls: PostgresClient.Configuration.TLS =
            core.tls.isEnforced
            ? .require(.makeClientConfiguration())
            : core.tls.isAllowed ? .prefer(.makeClientConfiguration()) : .disable
        var configuration: PostgresClient.Configuration
        if let host = core.host {
            configuration = PostgresClient.Configuration(
                host: host, port: core.port ?? 5432, username: core.username, password: core.password,
                database: core.database, tls: tls)
        } else if let path = core.unixSocketPath {
            configuration = PostgresClient.Configuration(
                unixSocketPath: path, username: core.username, password: core.password, database: core.database)
        } else {
            throw StorageError(.backend, "the PostgreSQL URL names neither a host nor a socket")
        }
        configuration.options.maximumConnections = max(1, maxConnections)
        return PostgresClient(configuration: configuration, backgroundLogger: logger)
    }
}
