#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Bytes that must never be printed, logged, compared in variable time or serialised by accident:
/// seeds, private keys, chain codes of private keys, passphrases, mnemonic entropy.
///
/// `SecretBytes` is deliberately not `Equatable`, `Hashable`, `Codable` or printable: its
/// `description` is a fixed placeholder and `Mirror` shows nothing. The backing memory is
/// owned by one allocation that is wiped with `explicit_bzero` when the last copy goes away.
/// Use ``constantTimeEquals(_:)`` to compare two secrets.
public struct SecretBytes: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private final class Storage: @unchecked Sendable {
        let pointer: UnsafeMutableRawBufferPointer

        init(count: Int) {
            pointer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 16)
            pointer.initializeMemory(as: UInt8.self, repeating: 0)
            self.count = count
        }

        let count: Int

        deinit {
            #if canImport(Glibc)
                explicit_bzero(pointer.baseAddress!, pointer.count)
            #else
                memset_s(pointer.baseAddress, pointer.count, 0, pointer.count)
            #endif
            pointer.deallocate()
        }
    }

    private let storage: Storage

    /// Copies `bytes` into secret storage. The caller should drop its own copy promptly.
    public init<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        storage = Storage(count: bytes.count)
        var i = 0
        for b in bytes {
            storage.pointer[i] = b
            i += 1
        }
    }

    /// Creates secret storage of `count` bytes filled by `body`.
    public init<E: Error>(count: Int, _ body: (UnsafeMutableRawBufferPointer) throws(E) -> Void) throws(E) {
        storage = Storage(count: count)
        try body(UnsafeMutableRawBufferPointer(rebasing: storage.pointer[0..<count]))
    }

    /// Creates `count` bytes from the system's cryptographically secure generator.
    public static func random(count: Int) -> SecretBytes {
        var rng = SystemRandomNumberGenerator()
        return SecretBytes(count: count) { buf in
            for i in 0..<count { buf[i] = UInt8.random(in: .min ... .max, using: &rng) }
        }
    }

    /// The number of bytes.
    public var count: Int { storage.count }

    /// Calls `body` with read access to the secret bytes; the pointer must not escape.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(rebasing: storage.pointer[0..<storage.count]))
    }

    /// Returns a copy as an ordinary array, for passing to an API that needs one. Callers own the
    /// copy's lifetime; prefer ``withUnsafeBytes(_:)``.
    public func unsafeCopy() -> [UInt8] { withUnsafeBytes { Array($0) } }

    /// Compares two secrets in time that depends only on their lengths.
    public func constantTimeEquals(_ other: SecretBytes) -> Bool {
        guard count == other.count else { return false }
        return withUnsafeBytes { a in
            other.withUnsafeBytes { b in
                var diff: UInt8 = 0
                for i in 0..<a.count { diff |= a[i] ^ b[i] }
                return diff == 0
            }
        }
    }

    public var description: String { "SecretBytes(<redacted \(count) bytes>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

/// Compares two byte sequences in time that depends only on their lengths.
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var diff: UInt8 = 0
    for i in 0..<a.count { diff |= a[i] ^ b[i] }
    return diff == 0
}
