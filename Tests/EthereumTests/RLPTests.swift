import Ethereum
import KuraTestSupport
import Testing
import WalletCrypto

@Suite("RLP (Yellow Paper Appendix B) against ethereum/tests")
struct RLPTests {
    /// Converts an rlptest.json input into the item it describes: strings are raw bytes, a
    /// leading "#" marks a decimal big integer, JSON numbers are integers, arrays are lists.
    static func item(_ json: Any) -> RLP.Item {
        if let list = json as? [Any] { return .list(list.map(item)) }
        if let text = json as? String {
            if text.hasPrefix("#") { return .bytes(ReferenceInteger(decimal: String(text.dropFirst())).bytes) }
            return .bytes(Array(text.utf8))
        }
        let number = json as! Int
        return .bytes(ReferenceInteger(decimal: String(number)).bytes)
    }

    @Test func validVectorsEncodeDecodeAndRoundTrip() throws {
        let cases = try #require(try Vectors.json("eth_rlp/rlptest.json") as? [String: [String: Any]])
        #expect(cases.count == 28)
        for (name, c) in cases.sorted(by: { $0.key < $1.key }) {
            let expected = hexBytes(c["out"] as! String)
            let item = Self.item(c["in"]!)
            #expect(RLP.encode(item) == expected, "encode \(name)")
            #expect(try RLP.decode(expected) == item, "decode \(name)")
        }
    }

    /// The code each invalid vector must be refused with.
    static let invalidCodes: [String: EthereumError.Code] = [
        "int32Overflow": .truncated, "int32Overflow2": .truncated,
        "wrongSizeList": .nonCanonicalRLP, "wrongSizeList2": .nonCanonicalRLP,
        "incorrectLengthInArray": .nonCanonicalRLP, "randomRLP": .nonCanonicalRLP,
        "bytesShouldBeSingleByte00": .nonCanonicalRLP, "bytesShouldBeSingleByte01": .nonCanonicalRLP,
        "bytesShouldBeSingleByte7F": .nonCanonicalRLP,
        "leadingZerosInLongLengthArray1": .nonCanonicalRLP, "leadingZerosInLongLengthArray2": .nonCanonicalRLP,
        "leadingZerosInLongLengthList1": .nonCanonicalRLP, "leadingZerosInLongLengthList2": .nonCanonicalRLP,
        "nonOptimalLongLengthArray1": .nonCanonicalRLP, "nonOptimalLongLengthArray2": .nonCanonicalRLP,
        "nonOptimalLongLengthList1": .nonCanonicalRLP, "nonOptimalLongLengthList2": .nonCanonicalRLP,
        "emptyEncoding": .truncated,
        "lessThanShortLengthArray1": .truncated, "lessThanShortLengthArray2": .truncated,
        "lessThanShortLengthList1": .truncated, "lessThanShortLengthList2": .truncated,
        "lessThanLongLengthArray1": .truncated, "lessThanLongLengthArray2": .truncated,
        "lessThanLongLengthList1": .truncated, "lessThanLongLengthList2": .truncated,
    ]

    @Test func invalidVectorsAreAllRefusedWithTheirCode() throws {
        let cases = try #require(try Vectors.json("eth_rlp/invalidRLPTest.json") as? [String: [String: Any]])
        #expect(cases.count == 26)
        #expect(Set(cases.keys) == Set(Self.invalidCodes.keys))
        for (name, c) in cases.sorted(by: { $0.key < $1.key }) {
            let input = hexBytes(c["out"] as! String)
            expectError(Self.invalidCodes[name]!, "\(name)") { try RLP.decode(input) }
        }
    }

    @Test func everyStrictPrefixOfAValidEncodingIsRefused() throws {
        let cases = try #require(try Vectors.json("eth_rlp/rlptest.json") as? [String: [String: Any]])
        var prefixes = 0
        for (name, c) in cases {
            let full = hexBytes(c["out"] as! String)
            for n in 0..<full.count {
                expectError(.truncated, "\(name) cut at \(n)") { try RLP.decode(Array(full.prefix(n))) }
                prefixes += 1
            }
        }
        #expect(prefixes > 1000)
    }

    @Test func trailingBytesAreRefused() throws {
        #expect(try RLP.decode([0x83, 0x64, 0x6f, 0x67]) == .bytes(Array("dog".utf8)))  // positive control
        expectError(.trailingBytes) { try RLP.decode([0x83, 0x64, 0x6f, 0x67, 0x00]) }
        expectError(.trailingBytes) { try RLP.decode([0xc0, 0xc0]) }
    }

    @Test func singleBytesAreNeverWrapped() throws {
        for b in UInt8(0)...UInt8(0x7f) {
            #expect(RLP.encode(.bytes([b])) == [b])
            expectError(.nonCanonicalRLP, "0x81 \(b)") { try RLP.decode([0x81, b]) }
        }
        #expect(try RLP.decode([0x81, 0x80]) == .bytes([0x80]))  // positive control: 0x80 must be wrapped
        #expect(RLP.encode(.bytes([0x80])) == [0x81, 0x80])
    }

    @Test func depthIsBounded() throws {
        let limits = RLP.Limits(maxBytes: 1 << 20, maxDepth: 32, maxItems: 100_000)
        func nested(_ depth: Int) -> [UInt8] {
            // depth lists, innermost empty: c1 c1 … c0 (each wrapper adds one byte of payload,
            // so use the long form past 55 bytes by building the tree and encoding it).
            var item = RLP.Item.list([])
            for _ in 1..<depth { item = .list([item]) }
            return RLP.encode(item)
        }
        #expect(try RLP.decode(nested(32), limits: limits) != .bytes([]))  // positive control
        expectError(.resourceLimit) { try RLP.decode(nested(33), limits: limits) }
        // Nesting far past the limit stops at the limit (no deep recursion, no crash).
        expectError(.resourceLimit) { try RLP.decode(nested(10_000), limits: limits) }
    }

    @Test func sizeAndItemCountAreBounded() throws {
        let small = RLP.Limits(maxBytes: 64, maxDepth: 4, maxItems: 10)
        #expect(try RLP.decode(RLP.encode(.bytes([UInt8](repeating: 0xaa, count: 60))), limits: small) != .list([]))
        expectError(.resourceLimit) {
            try RLP.decode(RLP.encode(.bytes([UInt8](repeating: 0xaa, count: 70))), limits: small)
        }
        let nine = RLP.encode(.list([RLP.Item](repeating: .bytes([1]), count: 9)))
        let ten = RLP.encode(.list([RLP.Item](repeating: .bytes([1]), count: 10)))
        #expect(try RLP.decode(nine, limits: small) != .list([]))  // 10 items with the outer list
        expectError(.resourceLimit) { try RLP.decode(ten, limits: small) }
        // A length prefix claiming 2^64 − 1 bytes is refused before anything is allocated.
        expectError(.truncated) { try RLP.decode([0xbf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]) }
    }

    @Test func longFormBoundaryAt56Bytes() throws {
        let fiftyFive = [UInt8](repeating: 0x61, count: 55)
        let fiftySix = [UInt8](repeating: 0x61, count: 56)
        #expect(RLP.encode(.bytes(fiftyFive)).prefix(1) == [0xb7])
        #expect(RLP.encode(.bytes(fiftySix)).prefix(2) == [0xb8, 56])
        expectError(.nonCanonicalRLP) { try RLP.decode([0xb8, 55] + fiftyFive) }
        #expect(try RLP.decode([0xb8, 56] + fiftySix) == .bytes(fiftySix))
    }

    @Test func integerFieldsAreMinimal() throws {
        #expect(try RLP.Item.bytes([0x01, 0x00]).uint256(field: "x") == UInt256(256))
        expectError(.nonCanonicalInteger) { try RLP.Item.bytes([0x00, 0x01]).uint256(field: "x") }
        expectError(.nonCanonicalInteger) { try RLP.Item.bytes([0x00]).uint256(field: "x") }
        #expect(try RLP.Item.bytes([]).uint256(field: "x") == .zero)
        expectError(.integerOverflow) { try RLP.Item.bytes([UInt8](repeating: 1, count: 33)).uint256(field: "x") }
        expectError(.integerOverflow) { try RLP.Item.bytes([UInt8](repeating: 1, count: 9)).uint64(field: "x") }
        #expect(try RLP.Item.bytes([UInt8](repeating: 0xff, count: 8)).uint64(field: "x") == .max)
        expectError(.unexpectedRLPType) { try RLP.Item.list([]).uint256(field: "x") }
        #expect(RLP.Item.integer(UInt256.zero) == .bytes([]))
        #expect(RLP.Item.integer(UInt64(1024)) == .bytes([0x04, 0x00]))
    }

    @Test func codecShapeReadsOneItemAndStops() throws {
        var reader = ByteReader([0x82, 0x01, 0x02, 0xc0])
        #expect(try RLP.Item(reading: &reader) == .bytes([1, 2]))
        #expect(try RLP.Item(reading: &reader) == .list([]))
        #expect(reader.isAtEnd)
        var writer = ByteWriter()
        RLP.Item.list([.bytes([1, 2]), .list([])]).write(to: &writer)
        #expect(writer.bytes == [0xc4, 0x82, 0x01, 0x02, 0xc0])
        // The size limit applies to the item, not to what follows it in the reader.
        var long = ByteReader([0x82, 0x01, 0x02] + [UInt8](repeating: 0xc0, count: 100))
        #expect(
            try RLP.Item(reading: &long, limits: RLP.Limits(maxBytes: 8, maxDepth: 2, maxItems: 8)) == .bytes([1, 2]))
        #expect(long.remaining == 100)
    }
}
