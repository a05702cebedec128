import Bitcoin
import Foundation
import KuraTestSupport
import Testing
import WalletCrypto

@Suite("Transactions: strict decoding, serialisation, ids and weight")
struct TransactionTests {
    /// Every transaction in Bitcoin Core's tx_valid.json decodes and re-serialises byte for byte.
    @Test func coreValidTransactionsRoundTrip() throws {
        let rows = try #require(try Vectors.json("bitcoin_core/tx_valid.json") as? [[Any]])
        var n = 0
        for row in rows where row.count >= 2 {
            guard let hex = row[1] as? String else { continue }
            let bytes = hexBytes(hex)
            let tx = try Transaction(bytes: bytes)
            #expect(tx.serialized == bytes)
            n += 1
        }
        #expect(n > 100)
    }

    static let segwitTx = hexBytes(
        "01000000000102fff7f7881a8099afa6940d42d1e7f6362bec38171ea3edf433541db4e4ad969f00000000494830450221008b9d1dc26ba6a9cb62127b02742fa9d754cd3bebf337f7a55d114c8e5cdd30be022040529b194ba3f9281a99f2b1c0a19c0489bc22ede944ccf4ecbab4cc618ef3ed01eeffffffef51e1b804cc89d182d279655c3aa89e815b1b309fe287d9b2b55d57b90ec68a0100000000ffffffff02202cb206000000001976a9148280b37df378db99f66f85c95a783a76ac7a6d5988ac9093510d000000001976a9143bde42dbee7e4dbe6a21b2d50ce2f0167faa815988ac000247304402203609e17b84f6a7d30c80bfa610b5b4542f32a8a0d5447a12fb1366d7f01cc44a0220573a954c4518331561406f90300e8f3358f51928d43c212a8caed02de67eebee0121025476c2e83188368da1ff3e292e7acafcdb3566bb0ad253f62fc70f07aeee635711000000"
    )

    @Test func segwitSerialisationAndIds() throws {
        let tx = try Transaction(bytes: Self.segwitTx)
        #expect(tx.hasWitness)
        #expect(tx.serialized == Self.segwitTx)
        #expect(tx.inputs.count == 2 && tx.outputs.count == 2)
        // The txid commits to the non-witness serialisation only.
        var stripped = tx
        for i in stripped.inputs.indices { stripped.inputs[i].witness = [] }
        #expect(stripped.computeTxid() == tx.computeTxid())
        #expect(tx.computeWtxid().bytes != tx.computeTxid().bytes)
        #expect(tx.weight.units == UInt64(3 * tx.serializedWithoutWitness.count + Self.segwitTx.count))
        #expect(tx.virtualSize.vbytes == (tx.weight.units + 3) / 4)
    }

    /// Drip-fed: every proper prefix of a valid transaction fails to decode.
    @Test func everyTruncatedPrefixFails() throws {
        for n in 0..<Self.segwitTx.count {
            #expect(throws: BitcoinError.self, "prefix \(n)") { try Transaction(bytes: Array(Self.segwitTx[0..<n])) }
        }
        #expect(throws: Never.self) { try Transaction(bytes: Self.segwitTx) }
    }

    @Test func trailingBytesAreRefused() {
        let e = #expect(throws: BitcoinError.self) { try Transaction(bytes: Self.segwitTx + [0]) }
        #expect(e?.code == .trailingBytes)
    }

    @Test func nonMinimalCompactSizeIsRefused() throws {
        // Re-encode the input count (1) as 0xfd 0x01 0x00.
        let legacy = try Transaction(bytes: Self.segwitTx).serializedWithoutWitness
        var bad = Array(legacy[0..<4]) + [0xfd, 0x02, 0x00] + Array(legacy[5...])
        let e = #expect(throws: BitcoinError.self) { try Transaction(bytes: bad) }
        #expect(e?.code == .nonCanonicalCompactSize)
        bad = Array(legacy[0..<4]) + [0xfe, 0x02, 0x00, 0x00, 0x00] + Array(legacy[5...])
        #expect((#expect(throws: BitcoinError.self) { try Transaction(bytes: bad) })?.code == .nonCanonicalCompactSize)
        #expect(throws: Never.self) { try Transaction(bytes: legacy) }
    }

    @Test func absurdCountsFailBeforeAllocation() throws {
        // Claims 2^32 inputs in a 20-byte input.
        let bytes: [UInt8] = [1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff] + [UInt8](repeating: 0, count: 11)
        let e = #expect(throws: BitcoinError.self) { try Transaction(bytes: bytes) }
        #expect(e?.code == .resourceLimit || e?.code == .truncated)
    }

    @Test func amountsAboveOrSummingPast21MAreRefused() throws {
        let base = try Transaction(bytes: Self.segwitTx)
        var over = base
        over.outputs[0] = TxOut(value: .max, scriptPubKey: base.outputs[0].scriptPubKey)
        over.outputs[1] = TxOut(value: try Amount(sats: 1), scriptPubKey: base.outputs[1].scriptPubKey)
        let e = #expect(throws: BitcoinError.self) { try Transaction(bytes: over.serialized) }
        #expect(e?.code == .amountOutOfRange)
        // A single output above MAX_MONEY.
        var bytes = base.serializedWithoutWitness
        let valueOffset = bytes.count - 4 - base.outputs[1].serializedSize
        for i in 0..<8 { bytes[valueOffset + i] = 0xff }
        #expect((#expect(throws: BitcoinError.self) { try Transaction(bytes: bytes) })?.code == .amountOutOfRange)
        #expect(throws: BitcoinError.self) { try Amount(sats: Amount.maxMoney + 1) }
        #expect(throws: BitcoinError.self) { try Amount.max.adding(try Amount(sats: 1)) }
        #expect(try Amount.max.subtracting(.max) == .zero)
    }

    @Test func witnessFlagRules() throws {
        let tx = try Transaction(bytes: Self.segwitTx)
        // Flag other than 1.
        var bad = Self.segwitTx
        bad[5] = 0x02
        #expect(throws: BitcoinError.self) { try Transaction(bytes: bad) }
        // Witness flag with every witness empty.
        var empty = tx
        for i in empty.inputs.indices { empty.inputs[i].witness = [] }
        let noWitness = empty.serializedWithoutWitness
        let superfluous =
            Array(noWitness[0..<4]) + [0, 1] + Array(noWitness[4..<(noWitness.count - 4)]) + [0, 0]
            + Array(noWitness.suffix(4))
        let e = #expect(throws: BitcoinError.self) { try Transaction(bytes: superfluous) }
        #expect(e?.code == .invalidTransaction)
    }

    @Test func amountParsingAndFormatting() throws {
        #expect(try Amount(btc: "0.015").sats == 1_500_000)
        #expect(try Amount(btc: "21000000").sats == Amount.maxMoney)
        #expect(try Amount(btc: "1.00000001").btcString == "1.00000001")
        for bad in ["", ".5", "1.", "1e3", "-1", "0.000000001", "21000000.00000001", "1,5", " 1"] {
            #expect(throws: BitcoinError.self, "\(bad)") { try Amount(btc: bad) }
        }
    }

    @Test func feeRateRoundsUp() throws {
        let rate = FeeRate(satsPerKvB: 1500)
        #expect(try rate.fee(for: VirtualSize(vbytes: 141)).sats == 212)  // 211.5 → 212
        #expect(try FeeRate(satsPerVByte: 2).fee(for: VirtualSize(vbytes: 100)).sats == 200)
        #expect(FeeRate.paid(try Amount(sats: 212), size: VirtualSize(vbytes: 141)).satsPerKvB == 1503)
        #expect(throws: BitcoinError.self) { try FeeRate(satsPerKvB: .max).fee(for: VirtualSize(vbytes: 1000)) }
    }

    @Test func txidDisplayIsByteReversed() throws {
        let t = try Txid(hex: "0000000000000000000000000000000000000000000000000000000000000001")
        #expect(t.bytes.first == 1)
        #expect(t.description == "0000000000000000000000000000000000000000000000000000000000000001")
        #expect(throws: BitcoinError.self) { try Txid(hex: "00") }
    }
}
