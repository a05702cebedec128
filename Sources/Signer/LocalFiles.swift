public import WalletCrypto

#if canImport(Glibc)
    import Glibc
#endif

/// File access at the signer's edge, on plain POSIX calls (no Foundation): bounded reads, and
/// new files written to a temporary name, flushed, then renamed into place with mode 0600.
public enum LocalFiles {
    /// Reads at most `limit` bytes; a longer file is an error (nothing is read past the bound).
    public static func read(_ path: String, limit: Int) throws(SignerError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SignerError(.io, "cannot open \(path): \(errnoText())") }
        defer { close(fd) }
        var out = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SignerError(.io, "cannot read \(path): \(errnoText())")
            }
            if n == 0 { break }
            guard out.count + n <= limit else { throw SignerError(.tooLarge, "\(path) is larger than \(limit) bytes") }
            out.append(contentsOf: buffer[0..<n])
        }
        return out
    }

    /// Reads a secret from a file (a passphrase or mnemonic for automation): at most `limit`
    /// bytes, one trailing newline removed.
    public static func readSecret(_ path: String, limit: Int = 4096) throws(SignerError) -> SecretBytes {
        var raw = try read(path, limit: limit)
        defer { for i in raw.indices { raw[i] = 0 } }
        if raw.last == 0x0a { raw.removeLast() }
        if raw.last == 0x0d { raw.removeLast() }
        return SecretBytes(raw)
    }

    /// Reads all of an open file (from offset 0) up to `limit` bytes; a longer file is an error.
    public static func read(fd: Int32, name: String, limit: Int) throws(SignerError) -> [UInt8] {
        var out = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(out.count)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SignerError(.io, "cannot read \(name): \(errnoText())")
            }
            if n == 0 { break }
            guard out.count + n <= limit else { throw SignerError(.io, "\(name) is larger than \(limit) bytes") }
            out.append(contentsOf: buffer[0..<n])
        }
        return out
    }

    /// Writes all of `bytes` at `offset` of an open file (no flush).
    public static func write(fd: Int32, name: String, _ bytes: [UInt8], at offset: Int) throws(SignerError) {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes {
                pwrite(fd, $0.baseAddress! + written, $0.count - written, off_t(offset + written))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw SignerError(.io, "cannot write \(name): \(errnoText())")
            }
            written += n
        }
    }

    /// Replaces the file at `path` atomically with `bytes` (mode 0600): writes `path.new`, `fsync`s
    /// it, renames it over `path` and `fsync`s the directory, so that after a crash `path` holds
    /// either the old or the new bytes. The caller must hold the lock that serialises writers (a
    /// stale `path.new` left by a crash is simply overwritten).
    public static func replace(_ path: String, _ bytes: [UInt8]) throws(SignerError) {
        let temp = path + ".new"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SignerError(.io, "cannot create \(temp): \(errnoText())") }
        do {
            try write(fd: fd, name: temp, bytes, at: 0)
        } catch {
            close(fd)
            throw error
        }
        guard fsync(fd) == 0 else {
            close(fd)
            throw SignerError(.io, "cannot flush \(temp): \(errnoText())")
        }
        close(fd)
        guard rename(temp, path) == 0 else { throw SignerError(.io, "cannot move \(temp) into place: \(errnoText())") }
        guard syncDirectory(of: path) else { throw SignerError(.io, "cannot flush the directory of \(path)") }
    }

    /// Whether `path` exists.
    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Creates a directory with mode 0700 if it does not exist.
    public static func ensureDirectory(_ path: String) throws(SignerError) {
        var st = stat()
        if stat(path, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFDIR else {
                throw SignerError(.io, "\(path) exists and is not a directory")
            }
            return
        }
        guard mkdir(path, 0o700) == 0 else { throw SignerError(.io, "cannot create \(path): \(errnoText())") }
        _ = syncDirectory(of: path)
    }

    /// Writes `bytes` to a new file at `path` with mode 0600: to a temporary name first, fsync,
    /// then an atomic rename. Refuses to replace an existing file unless `replace` is set. On any
    /// failure nothing is left at `path`.
    public static func writeNew(_ path: String, _ bytes: [UInt8], replace: Bool = false) throws(SignerError) {
        if !replace && exists(path) {
            throw SignerError(.alreadyExists, "\(path) already exists; refusing to overwrite it")
        }
        let temp = path + ".tmp-\(getpid())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SignerError(.io, "cannot create \(temp): \(errnoText())") }
        var ok = false
        defer {
            if !ok { unlink(temp) }
        }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                close(fd)
                throw SignerError(.io, "cannot write \(temp): \(errnoText())")
            }
            written += n
        }
        guard fsync(fd) == 0 else {
            close(fd)
            throw SignerError(.io, "cannot flush \(temp): \(errnoText())")
        }
        close(fd)
        if !replace && exists(path) {
            throw SignerError(.alreadyExists, "\(path) already exists; refusing to overwrite it")
        }
        guard rename(temp, path) == 0 else { throw SignerError(.io, "cannot move \(temp) into place: \(errnoText())") }
        ok = true
        syncDirectory(of: path)
    }

    /// `fsync`s the directory that holds `path` (so that a created or renamed entry is durable).
    @discardableResult
    static func syncDirectory(of path: String) -> Bool {
        let dir: String
        if let slash = path.lastIndex(of: "/") {
            dir = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            dir = "."
        }
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return fsync(fd) == 0
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// Process-wide hygiene for a program that holds secrets (ATTACKS C14).
public enum ProcessHygiene {
    /// Sets the core-file size limit to zero (soft and hard), so that a crash never writes the
    /// process memory — keys, seed, passphrase — to disk.
    public static func disableCoreDumps() {
        var none = rlimit(rlim_cur: 0, rlim_max: 0)
        _ = setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &none)
    }

    /// Restores the default action of every crash signal, replacing the handlers the Swift
    /// runtime's backtracer installs: that backtracer prints registers and the memory they point
    /// to on stderr, which may hold key material. A crash then ends the process silently (and,
    /// with ``disableCoreDumps()``, without a core file).
    public static func disableCrashReports() {
        for s in [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP] { _ = signal(s, SIG_DFL) }
    }
}

/// Interactive secret entry on the controlling terminal (`/dev/tty`) with echo turned off, so a
/// passphrase or mnemonic never passes through stdout, stderr or the shell's history.
public enum Terminal {
    /// Whether a controlling terminal is available.
    public static var isAvailable: Bool {
        let fd = open("/dev/tty", O_RDWR | O_CLOEXEC)
        if fd >= 0 { close(fd) }
        return fd >= 0
    }

    /// Shows `prompt` on the terminal and reads one line with echo off.
    public static func readSecret(prompt: String, limit: Int = 4096) throws(SignerError) -> SecretBytes {
        let fd = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else {
            throw SignerError(.noTerminal, "no terminal for an interactive prompt; pass the value in a file instead")
        }
        defer { close(fd) }
        write(fd: fd, prompt)
        var saved = termios()
        let haveTermios = tcgetattr(fd, &saved) == 0
        if haveTermios {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            _ = tcsetattr(fd, TCSAFLUSH, &quiet)
        }
        defer {
            if haveTermios { _ = tcsetattr(fd, TCSAFLUSH, &saved) }
            write(fd: fd, "\n")
        }
        var line = [UInt8]()
        defer { for i in line.indices { line[i] = 0 } }
        var byte: UInt8 = 0
        while true {
            let n = Glibc.read(fd, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 || byte == 0x0a { break }
            guard line.count < limit else { throw SignerError(.usage, "input longer than \(limit) bytes") }
            line.append(byte)
        }
        if line.last == 0x0d { line.removeLast() }
        return SecretBytes(line)
    }

    /// Writes text to the terminal (not stdout): used to show a new mnemonic for backup.
    public static func show(_ text: String) throws(SignerError) {
        let fd = open("/dev/tty", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SignerError(.noTerminal, "no terminal to show the backup words on") }
        defer { close(fd) }
        write(fd: fd, text)
    }

    /// Asks a yes/no question on the terminal; only "yes" counts.
    public static func confirm(_ question: String) throws(SignerError) -> Bool {
        let fd = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw SignerError(.noTerminal, "no terminal to confirm on") }
        defer { close(fd) }
        write(fd: fd, question)
        var line = [UInt8]()
        var byte: UInt8 = 0
        while line.count < 64 {
            let n = Glibc.read(fd, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 || byte == 0x0a { break }
            line.append(byte)
        }
        return String(decoding: line, as: UTF8.self).trimmingASCIIWhitespace().lowercased() == "yes"
    }

    private static func write(fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }
}

/// Reads all of standard input up to `limit` bytes (for a mnemonic piped in by automation).
public func readStandardInput(limit: Int) throws(SignerError) -> SecretBytes {
    var out = [UInt8]()
    defer { for i in out.indices { out[i] = 0 } }
    var buffer = [UInt8](repeating: 0, count: 1024)
    defer { for i in buffer.indices { buffer[i] = 0 } }
    while true {
        let n = buffer.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw SignerError(.io, "cannot read standard input: \(LocalFiles.errnoText())")
        }
        if n == 0 { break }
        guard out.count + n <= limit else { throw SignerError(.usage, "standard input is longer than \(limit) bytes") }
        out.append(contentsOf: buffer[0..<n])
    }
    return SecretBytes(out)
}

extension String {
    func trimmingASCIIWhitespace() -> String {
        let bytes = Array(utf8)
        var start = 0
        var end = bytes.count
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 || bytes[start] == 0x0d { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 || bytes[end - 1] == 0x0d { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}
