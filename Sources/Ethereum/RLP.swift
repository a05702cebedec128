public import WalletCrypto

/// Recursive Length Prefix, Ethereum's serialisation for transactions (Ethereum Yellow Paper,
/// Appendix B).
///
/// The decoder is strict: it accepts exactly one encoding of each value. A single byte below
/// 0x80 wrapped in a string header, a long-form length below 56, a length with leading zero
/// bytes, a declared length beyond the input and trailing bytes are all errors. Sizes, nesting
/// depth and item counts are bounded (``Limits``) before anything is allocated.
public enum RLP {
    /// An RLP value: a byte string or a list of values.
    public enum Item: Sendable, Hashable {
        /// A byte string (possibly empty).
        case bytes([UInt8])
        /// A list of items (possibly empty).
        case list([Item])
    }

    /// Bounds applied while decoding, so that hostile input cannot exhaust memory or the stack.
    public struct Limits: Sendable, Hashable {
        /// The largest input accepted, in bytes.
        public var maxBytes: Int
        /// The deepest list nesting accepted (a flat list has depth 1).
        public var maxDepth: Int
        /// The most items (strings and lists together) accepted in one value.
        public var maxItems: Int

        /// Creates limits.
        public init(maxBytes: Int, maxDepth: Int, maxItems: Int) {
            self.maxBytes = maxBytes
            self.maxDepth = maxDepth
            self.maxItems = maxItems
        }

        /// General-purpose limits: 1 MiB, depth 32, 100,000 items.
        public static let standard = Limits(maxBytes: 1 << 20, maxDepth: 32, maxItems: 100_000)
    }

    /// Encodes an item.
    public static func encode(_ item: Item) -> [UInt8] {
        var writer = ByteWriter()
        item.write(to: &writer)
        return writer.bytes
    }

    /// Decodes exactly one item from `bytes`; trailing bytes are an error.
    public static func decode(_ bytes: [UInt8], limits: Limits = .standard) throws(EthereumError) -> Item {
        var reader = ByteReader(bytes)
        let item = try Item(reading: &reader, limits: limits)
        guard reader.isAtEnd else {
            throw EthereumError(.trailingBytes, "\(reader.remaining) bytes after the RLP item")
        }
        return item
    }

    /// Appends the RLP header of a string of `length` bytes, or of a list whose payload is
    /// `length` bytes.
    static func writeHeader(length: Int, list: Bool, to writer: inout ByteWriter) {
        let shortBase: UInt8 = list ? 0xc0 : 0x80
        if length < 56 {
            writer.writeUInt8(shortBase + UInt8(length))
            return
        }
        let lengthBytes = UInt256(UInt64(length)).minimalBigEndianBytes
        writer.writeUInt8(shortBase + 55 + UInt8(lengthBytes.count))
        writer.write(lengthBytes)
    }

    /// Appends an integer as its minimal big-endian string (empty for zero).
    static func writeInteger(_ value: UInt256, to writer: inout ByteWriter) {
        writeString(value.minimalBigEndianBytes, to: &writer)
    }

    /// Appends a list whose items `body` writes, without building an ``Item`` tree (the hot
    /// path of transaction signing).
    static func writeList(to writer: inout ByteWriter, _ body: (inout ByteWriter) -> Void) {
        var payload = ByteWriter(capacity: 512)
        body(&payload)
        writeHeader(length: payload.bytes.count, list: true, to: &writer)
        writer.write(payload.bytes)
    }

    /// Appends a byte string.
    static func writeString<C: Collection>(_ bytes: C, to writer: inout ByteWriter) where C.Element == UInt8 {
        if bytes.count == 1, let only = bytes.first, only < 0x80 {
            writer.writeUInt8(only)
            return
        }
        writeHeader(length: bytes.count, list: false, to: &writer)
        writer.write(bytes)
    }
}

extension RLP.Item {
    /// A string item holding the minimal big-endian encoding of `value` (empty for zero).
    public static func integer(_ value: UInt256) -> RLP.Item { .bytes(value.minimalBigEndianBytes) }

    /// A string item holding the minimal big-endian encoding of `value` (empty for zero).
    public static func integer(_ value: UInt64) -> RLP.Item { .bytes(UInt256(value).minimalBigEndianBytes) }

    /// Appends the canonical encoding.
    public func write(to writer: inout ByteWriter) {
        switch self {
        case .bytes(let b):
            RLP.writeString(b, to: &writer)
        case .list(let items):
            var payload = ByteWriter()
            for item in items { item.write(to: &payload) }
            RLP.writeHeader(length: payload.bytes.count, list: true, to: &writer)
            writer.write(payload.bytes)
        }
    }

    /// The canonical encoding.
    public var encoded: [UInt8] { RLP.encode(self) }

    /// Reads one item from `reader`, leaving the reader after it. Bytes after the item stay
    /// unread; the item itself (header included) may not exceed `limits.maxBytes`.
    public init(reading reader: inout ByteReader, limits: RLP.Limits = .standard) throws(EthereumError) {
        var decoder = RLPDecoder(bytes: reader.bytes, position: reader.offset, limits: limits)
        self = try decoder.item(end: reader.bytes.count, depth: 0)
        do throws(WalletCryptoError) {
            _ = try reader.read(decoder.position - reader.offset)
        } catch {
            throw EthereumError(.truncated, error.reason)
        }
    }

    /// The byte string, or an ``EthereumError/Code/unexpectedRLPType`` error naming `field`.
    public func bytes(field: String) throws(EthereumError) -> [UInt8] {
        guard case .bytes(let b) = self else {
            throw EthereumError(.unexpectedRLPType, "\(field): expected a byte string, found a list")
        }
        return b
    }

    /// The list items, or an ``EthereumError/Code/unexpectedRLPType`` error naming `field`.
    public func list(field: String) throws(EthereumError) -> [RLP.Item] {
        guard case .list(let items) = self else {
            throw EthereumError(.unexpectedRLPType, "\(field): expected a list, found a byte string")
        }
        return items
    }

    /// A canonical RLP integer of at most 256 bits: no leading zero byte (zero is the empty string).
    public func uint256(field: String) throws(EthereumError) -> UInt256 {
        try UInt256(bigEndian: integerBytes(field: field, maxBits: 256))
    }

    /// A canonical RLP integer of at most 64 bits.
    public func uint64(field: String) throws(EthereumError) -> UInt64 {
        var v: UInt64 = 0
        for byte in try integerBytes(field: field, maxBits: 64) { v = v << 8 | UInt64(byte) }
        return v
    }

    /// The minimal big-endian bytes of an integer field of at most `maxBits` bits.
    private func integerBytes(field: String, maxBits: Int) throws(EthereumError) -> [UInt8] {
        let b = try bytes(field: field)
        guard b.first != 0 else {
            throw EthereumError(.nonCanonicalInteger, "\(field): integer has a leading zero byte")
        }
        guard b.count <= maxBits / 8 else {
            throw EthereumError(.integerOverflow, "\(field): integer of \(b.count) bytes exceeds \(maxBits) bits")
        }
        return b
    }
}

/// The strict recursive decoder behind ``RLP/Item/init(reading:limits:)``: it walks the input by
/// index and copies only the byte strings it returns.
private struct RLPDecoder {
    let bytes: [UInt8]
    var position: Int
    let limits: RLP.Limits
    var items = 0

    init(bytes: [UInt8], position: Int, limits: RLP.Limits) {
        self.bytes = bytes
        self.position = position
        self.limits = limits
    }

    /// Reads a big-endian length of `count` bytes that must be canonical and at least 56.
    private mutating func longLength(_ count: Int, end: Int) throws(EthereumError) -> Int {
        guard end - position >= count else {
            throw EthereumError(.truncated, "RLP length of \(count) bytes runs past the end of the input")
        }
        guard bytes[position] != 0 else {
            throw EthereumError(.nonCanonicalRLP, "RLP length at offset \(position) has a leading zero byte")
        }
        var length = 0
        for i in 0..<count {
            // A length that would overflow Int is far beyond any input: stop before it does.
            guard length <= Int.max >> 8 else {
                throw EthereumError(.truncated, "RLP length at offset \(position) exceeds the input")
            }
            length = length << 8 | Int(bytes[position + i])
        }
        position += count
        guard length >= 56 else {
            throw EthereumError(.nonCanonicalRLP, "RLP long-form length \(length) should use the short form")
        }
        return length
    }

    mutating func item(end: Int, depth: Int) throws(EthereumError) -> RLP.Item {
        guard position < end else { throw EthereumError(.truncated, "input ended where an RLP item was expected") }
        items += 1
        guard items <= limits.maxItems else {
            throw EthereumError(.resourceLimit, "more than \(limits.maxItems) RLP items")
        }
        let start = position
        let prefix = bytes[position]
        position += 1
        let length: Int
        let isList: Bool
        switch prefix {
        case 0x00...0x7f:
            return .bytes([prefix])
        case 0x80...0xb7:
            length = Int(prefix - 0x80)
            isList = false
        case 0xb8...0xbf:
            length = try longLength(Int(prefix - 0xb7), end: end)
            isList = false
        case 0xc0...0xf7:
            length = Int(prefix - 0xc0)
            isList = true
        default:
            length = try longLength(Int(prefix - 0xf7), end: end)
            isList = true
        }
        guard length <= end - position else {
            throw EthereumError(
                .truncated,
                "RLP \(isList ? "list" : "string") at offset \(start) declares \(length) bytes, \(end - position) remain"
            )
        }
        if depth == 0 && position - start + length > limits.maxBytes {
            throw EthereumError(
                .resourceLimit,
                "RLP item of \(position - start + length) bytes exceeds the limit of \(limits.maxBytes)")
        }
        let payloadEnd = position + length
        if !isList {
            if length == 1 && bytes[position] < 0x80 {
                throw EthereumError(
                    .nonCanonicalRLP, "single byte 0x\(Hex.encode([bytes[position]])) at offset \(start) is wrapped")
            }
            let out = Array(bytes[position..<payloadEnd])
            position = payloadEnd
            return .bytes(out)
        }
        guard depth < limits.maxDepth else {
            throw EthereumError(.resourceLimit, "RLP lists nested deeper than \(limits.maxDepth)")
        }
        var children = [RLP.Item]()
        while position < payloadEnd {
            children.append(try item(end: payloadEnd, depth: depth + 1))
        }
        return .list(children)
    }
}
