import CoordinatorCore
import CoordinatorStorage
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A loopback TCP port bound by this process but not listening: connecting to it is refused at once.
private final class RefusingPort {
    let descriptor: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(fd, generic, length) == 0 && getsockname(fd, generic, &length) == 0
            }
        }
        guard fd >= 0, bound else {
            if fd >= 0 { close(fd) }
            throw StorageError(.backend, "no loopback port for the test")
        }
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }
}

@Suite("PostgreSQL connection pool")
struct PostgresPoolTests {
    @Test("a server that cannot be reached fails the call within the lease deadline, with a clear error")
    func unreachableServerFailsWithinTheDeadline() async throws {
        let refusing = try RefusingPort()
        let store = try SQLCoordinatorStore.connectPostgres(
            url: "postgres://kura@127.0.0.1:\(refusing.port)/kura?sslmode=disable", leaseTimeout: .milliseconds(300))
        let started = ContinuousClock.now
        do {
            _ = try await store.appliedMigrations()
            Issue.record("a store on a refusing port answered")
        } catch {
            #expect(error.code == .backend)
            #expect(error.reason.contains("no PostgreSQL connection within"))
        }
        #expect(ContinuousClock.now - started < .seconds(5))
        await store.close()
    }

    @Test("positive control: the same deadline on a reachable server answers", .enabled(if: Backend.postgresURL != nil))
    func reachableServerAnswers() async throws {
        let url = try await createDatabase(on: try #require(Backend.postgresURL))
        let store = try SQLCoordinatorStore.connectPostgres(url: url, leaseTimeout: .milliseconds(300))
        try await store.migrate()
        #expect(try await store.appliedMigrations().count == 18)
        await store.close()
    }

    @Test("a URL that is not a PostgreSQL URL is refused before connecting")
    func invalidURLIsRefused() {
        #expect(throws: StorageError.self) {
            _ = try SQLCoordinatorStore.connectPostgres(url: "mysql://kura@127.0.0.1/kura")
        }
        #expect(throws: StorageError.self) {
            _ = try SQLCoordinatorStore.connectPostgres(url: "not a url")
        }
    }
}
