public import WalletCrypto

/// Bitcoin's wire primitives over Kura's `ByteReader`/`ByteWriter`, with errors mapped to
/// ``BitcoinError`` codes.
extension ByteReader {
    static func mapped(_ error: WalletCryptoError) -> BitcoinError {
        BitcoinError(error.code == .truncated ? .truncated : .trailingBytes, error.reason)
    }

    /// Reads a CompactSize integer and refuses non-minimal encodings (Bitcoin Core
    /// `ReadCompactSize` with range check).
    public mutating func readCompactSize() throws(BitcoinError) -> UInt64 {
        let first = try readByte()
        switch first {
        case 0..<0xfd:
            return UInt64(first)
        case 0xfd:
            let v: UInt64
            do { v = UInt64(try readUInt16LE()) } catch { throw Self.mapped(error) }
            guard v >= 0xfd else { throw BitcoinError(.nonCanonicalCompactSize, "CompactSize \(v) uses 3 bytes") }
            return v
        case 0xfe:
            let v = UInt64(try readLE32())
            guard v > 0xffff else { throw BitcoinError(.nonCanonicalCompactSize, "CompactSize \(v) uses 5 bytes") }
            return v
        default:
            let v = try readLE64()
            guard v > 0xffff_ffff else { throw BitcoinError(.nonCanonicalCompactSize, "CompactSize \(v) uses 9 bytes") }
            return v
        }
    }

    /// Reads a count of items each at least `minimumItemSize` bytes long, refusing counts that the
    /// remaining input cannot hold (so nothing is allocated for a lying length) or above `limit`.
    public mutating func readCount(minimumItemSize: Int, limit: Int, what: String) throws(BitcoinError) -> Int {
        let n = try readCompactSize()
        guard n <= UInt64(limit) else {
            throw BitcoinError(.resourceLimit, "\(n) \(what) exceeds the limit of \(limit)")
        }
        guard n * UInt64(max(minimumItemSize, 0)) <= UInt64(remaining) else {
            throw BitcoinError(.truncated, "\(n) \(what) cannot fit in the remaining \(remaining) bytes")
        }
        return Int(n)
    }

    /// Reads a CompactSize length and that many bytes.
    public mutating func readVarBytes(limit: Int, what: String) throws(BitcoinError) -> [UInt8] {
        let n = try readCount(minimumItemSize: 1, limit: limit, what: "bytes of \(what)")
        return try readBytes(n)
    }

    /// Reads exactly `count` bytes.
    public mutating func readBytes(_ count: Int) throws(BitcoinError) -> [UInt8] {
        do { return try read(count) } catch { throw Self.mapped(error) }
    }
    /// Reads a byte.
    public mutating func readByte() throws(BitcoinError) -> UInt8 {
        do { return try readUInt8() } catch { throw Self.mapped(error) }
    }
    /// Reads a little-endian UInt32.
    public mutating func readLE32() throws(BitcoinError) -> UInt32 {
        do { return try readUInt32LE() } catch { throw Self.mapped(error) }
    }
    /// Reads a little-endian UInt64.
    public mutating func readLE64() throws(BitcoinError) -> UInt64 {
        do { return try readUInt64LE() } catch { throw Self.mapped(error) }
    }

    /// Fails unless all input was consumed.
    public func expectEndOfInput() throws(BitcoinError) {
        guard isAtEnd else {
            throw BitcoinError(.trailingBytes, "\(remaining) unexpected bytes after offset \(offset)")
        }
    }
}

extension ByteWriter {
    /// Writes a minimal CompactSize.
    public mutating func writeCompactSize(_ n: UInt64) {
        switch n {
        case 0..<0xfd: writeUInt8(UInt8(n))
        case 0xfd...0xffff:
            writeUInt8(0xfd)
            writeUInt16LE(UInt16(n))
        case 0x10000...0xffff_ffff:
            writeUInt8(0xfe)
            writeUInt32LE(UInt32(n))
        default:
            writeUInt8(0xff)
            writeUInt64LE(n)
        }
    }

    /// Writes a CompactSize length followed by the bytes.
    public mutating func writeVarBytes(_ bytes: [UInt8]) {
        writeCompactSize(UInt64(bytes.count))
        write(bytes)
    }
}

/// The size a CompactSize encoding of `n` takes.
public func compactSizeLength(_ n: Int) -> Int {
    switch n {
    case 0..<0xfd: return 1
    case 0xfd...0xffff: return 3
    case 0x10000...0xffff_ffff: return 5
    default: return 9
    }
}
