/// A bounded, strict cursor over bytes: the reading half of Kura's one codec shape
/// (`init(reading: inout ByteReader)`).
///
/// Every read checks the remaining length before it copies, so a decoder never allocates more
/// than its input can justify and a truncated input fails with ``WalletCryptoError/Code/truncated``.
public struct ByteReader: Sendable {
    /// The whole input.
    public let bytes: [UInt8]
    /// The index of the next unread byte.
    public private(set) var offset: Int

    /// Creates a reader positioned at the start of `bytes`.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.offset = 0
    }

    /// The number of unread bytes.
    public var remaining: Int { bytes.count - offset }
    /// Whether every byte has been read.
    public var isAtEnd: Bool { offset == bytes.count }

    /// Reads exactly `count` bytes.
    public mutating func read(_ count: Int) throws(WalletCryptoError) -> [UInt8] {
        guard count >= 0, count <= remaining else {
            throw WalletCryptoError(.truncated, "needed \(count) bytes at offset \(offset), \(remaining) left")
        }
        let out = Array(bytes[offset..<offset + count])
        offset += count
        return out
    }

    /// Reads one byte.
    public mutating func readUInt8() throws(WalletCryptoError) -> UInt8 {
        guard remaining >= 1 else { throw WalletCryptoError(.truncated, "needed 1 byte at offset \(offset)") }
        let b = bytes[offset]
        offset += 1
        return b
    }

    /// Reads a little-endian unsigned integer of `byteCount` bytes.
    private mutating func readLE(_ byteCount: Int) throws(WalletCryptoError) -> UInt64 {
        guard remaining >= byteCount else {
            throw WalletCryptoError(.truncated, "needed \(byteCount) bytes at offset \(offset), \(remaining) left")
        }
        var v: UInt64 = 0
        for i in 0..<byteCount { v |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        offset += byteCount
        return v
    }

    /// Reads a big-endian unsigned integer of `byteCount` bytes.
    private mutating func readBE(_ byteCount: Int) throws(WalletCryptoError) -> UInt64 {
        guard remaining >= byteCount else {
            throw WalletCryptoError(.truncated, "needed \(byteCount) bytes at offset \(offset), \(remaining) left")
        }
        var v: UInt64 = 0
        for i in 0..<byteCount { v = (v << 8) | UInt64(bytes[offset + i]) }
        offset += byteCount
        return v
    }

    /// Reads a little-endian `UInt16`.
    public mutating func readUInt16LE() throws(WalletCryptoError) -> UInt16 { UInt16(try readLE(2)) }
    /// Reads a little-endian `UInt32`.
    public mutating func readUInt32LE() throws(WalletCryptoError) -> UInt32 { UInt32(try readLE(4)) }
    /// Reads a little-endian `UInt64`.
    public mutating func readUInt64LE() throws(WalletCryptoError) -> UInt64 { try readLE(8) }
    /// Reads a big-endian `UInt16`.
    public mutating func readUInt16BE() throws(WalletCryptoError) -> UInt16 { UInt16(try readBE(2)) }
    /// Reads a big-endian `UInt32`.
    public mutating func readUInt32BE() throws(WalletCryptoError) -> UInt32 { UInt32(try readBE(4)) }

    /// Fails unless every byte has been consumed.
    public func expectEnd() throws(WalletCryptoError) {
        guard isAtEnd else {
            throw WalletCryptoError(.trailingBytes, "\(remaining) unexpected bytes after offset \(offset)")
        }
    }
}

/// The writing half of Kura's codec shape (`write(to: inout ByteWriter)`).
public struct ByteWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8]

    /// Creates an empty writer, optionally reserving capacity.
    public init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Appends raw bytes.
    public mutating func write<S: Sequence>(_ data: S) where S.Element == UInt8 { bytes.append(contentsOf: data) }
    /// Appends one byte.
    public mutating func writeUInt8(_ v: UInt8) { bytes.append(v) }
    /// Appends a little-endian `UInt16`.
    public mutating func writeUInt16LE(_ v: UInt16) {
        for i in 0..<2 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
    }
    /// Appends a little-endian `UInt32`.
    public mutating func writeUInt32LE(_ v: UInt32) {
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
    }
    /// Appends a little-endian `UInt64`.
    public mutating func writeUInt64LE(_ v: UInt64) {
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
    }
    /// Appends a big-endian `UInt16`.
    public mutating func writeUInt16BE(_ v: UInt16) {
        bytes.append(UInt8(v >> 8))
        bytes.append(UInt8(v & 0xff))
    }
    /// Appends a big-endian `UInt32`.
    public mutating func writeUInt32BE(_ v: UInt32) {
        for i in (0..<4).reversed() { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
    }
}
