import CoordinatorCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// An exclusive lock on an SQLite data file, held by one open store for its lifetime: a second `kura serve` (or a
/// second store in one process) on the same file is refused at start with ``StorageError/Code/inUse`` instead of
/// sharing it. Several processes on one SQLite file would each keep their own writer and group commit, and wait on
/// each other's locks inside SQLite's `busy_timeout` on their cooperative threads (ADR 0018); several replicas take
/// PostgreSQL.
///
/// The lock is `flock(2)` on a sibling file, `<path>.lock`, never on the database file itself: SQLite's own locks
/// are POSIX record locks, which a process loses when it closes *any* descriptor of that file. The kernel drops the
/// lock when its process ends, however it ends, so a crash leaves nothing to clean up. The file holds the pid of the
/// holder, for the refusal's message only.
final class DataFileLock: Sendable {
    /// The lock file's descriptor; -1 once released.
    private let descriptor: Atomic<Int32>

    private init(descriptor: Int32) { self.descriptor = Atomic(descriptor) }

    /// Takes the lock for the database file at `path`, or throws: `.inUse` if another store holds it, `.backend` if
    /// the lock file cannot be opened.
    static func acquire(for path: String) throws(StorageError) -> DataFileLock {
        let lockPath = path + ".lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw StorageError(.backend, "cannot open the lock file \(lockPath): \(reason)")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let failure = errno
            let holder = Self.holder(fd)
            close(fd)
            guard failure == EWOULDBLOCK else {
                throw StorageError(
                    .backend, "cannot lock \(lockPath): \(String(cString: strerror(failure)))")
            }
            throw StorageError(
                .inUse,
                "the SQLite database \(path) is in use by another process\(holder.map { " (pid \($0))" } ?? ""): "
                    + "one kura serve per SQLite data directory; several replicas take PostgreSQL (--database-url)")
        }
        let pid = Array("\(getpid())\n".utf8)
        if ftruncate(fd, 0) == 0 {
            _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        }
        return DataFileLock(descriptor: fd)
    }

    /// The pid the holder wrote, if it reads as one.
    private static func holder(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 16)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[..<count], as: UTF8.self)
        return Int32(text.prefix { $0 != "\n" })
    }

    /// Releases the lock (closing the descriptor; a second call does nothing). The file stays: the next holder
    /// overwrites it.
    func release() {
        let fd = descriptor.exchange(-1, ordering: .relaxed)
        if fd >= 0 { close(fd) }
    }
}
