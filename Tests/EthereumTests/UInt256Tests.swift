import Ethereum
import KuraTestSupport
import Testing

@Suite("UInt256 against an independent schoolbook reference")
struct UInt256Tests {
    /// 2^256 − 1 as published in the ERC-20 vectors (approve of the maximum allowance).
    static let maxDecimal = "115792089237316195423570985008687907853269984665640564039457584007913129639935"

    @Test func randomArithmeticMatchesReference() throws {
        var rng = SplitMix64(seed: 0x4B55_5241)
        for _ in 0..<2000 {
            let xa = randomBytes(&rng)
            let xb = randomBytes(&rng)
            let a = try UInt256(bigEndian: xa)
            let b = try UInt256(bigEndian: xb)
            let ra = ReferenceInteger(bytes: xa)
            let rb = ReferenceInteger(bytes: xb)

            let sum = ra + rb
            #expect(a.checkedAdd(b).map { ReferenceInteger(bytes: $0.bigEndianBytes) } == (sum.fits256 ? sum : nil))
            #expect(a.addingReportingOverflow(b).overflow == !sum.fits256)

            let product = ra * rb
            #expect(
                a.checkedMultiply(b).map { ReferenceInteger(bytes: $0.bigEndianBytes) }
                    == (product.fits256 ? product : nil), "\(ra) × \(rb)")
            #expect(a.multipliedReportingOverflow(by: b).overflow == !product.fits256)

            let difference = ra - rb
            #expect(a.checkedSubtract(b).map { ReferenceInteger(bytes: $0.bigEndianBytes) } == difference)

            #expect(a.decimalString == ra.decimal)
            #expect(try UInt256(decimal: ra.decimal) == a)
            #expect((a < b) == (ra < rb))
            #expect(ReferenceInteger(bytes: a.minimalBigEndianBytes) == ra)
            #expect(a.minimalBigEndianBytes.first != 0)
            #expect(try UInt256(hexQuantity: a.hexQuantity) == a)
        }
    }

    @Test func wrappedProductKeepsTheLow256Bits() throws {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<500 {
            let xa = randomBytes(&rng)
            let xb = randomBytes(&rng)
            let full = ReferenceInteger(bytes: xa) * ReferenceInteger(bytes: xb)
            let low = ReferenceInteger(bytes: Array(full.bytes.suffix(32)))
            let got = try UInt256(bigEndian: xa).multipliedReportingOverflow(by: UInt256(bigEndian: xb)).partialValue
            #expect(ReferenceInteger(bytes: got.bigEndianBytes) == low)
        }
    }

    @Test func boundaries() throws {
        #expect(UInt256.max.decimalString == Self.maxDecimal)
        #expect(try UInt256(decimal: Self.maxDecimal) == .max)
        #expect(UInt256.max.checkedAdd(.one) == nil)
        #expect(UInt256.max.checkedAdd(.zero) == .max)
        #expect(UInt256.zero.checkedSubtract(.one) == nil)
        #expect(UInt256.max.checkedMultiply(UInt256(2)) == nil)
        #expect(UInt256.max.checkedMultiply(.one) == .max)
        #expect(UInt256.zero.minimalBigEndianBytes == [])
        #expect(UInt256.zero.hexQuantity == "0x0")
        #expect(UInt256(255).hexQuantity == "0xff")
        #expect(UInt256.max.hexQuantity == "0x" + String(repeating: "f", count: 64))
        #expect(UInt256(1 << 40).exactUInt64 == 1 << 40)
        #expect(UInt256.max.exactUInt64 == nil)
        let (q, r) = UInt256(1_000_000_007).quotientAndRemainder(dividingBy: 10)
        #expect(q == UInt256(100_000_000) && r == 7)
    }

    @Test func decimalParsingIsStrict() throws {
        // 2^256, from the RLP vectors' "bigint" case: one more than the maximum.
        let twoTo256 = "115792089237316195423570985008687907853269984665640564039457584007913129639936"
        expectError(.integerOverflow) { try UInt256(decimal: twoTo256) }
        for bad in ["", "01", "-1", "+1", " 1", "1 ", "1e3", "0x10", "1.0", "١"] {
            expectError(.invalidNumber, "\(bad)") { try UInt256(decimal: bad) }
        }
        #expect(try UInt256(decimal: "0") == .zero)
        #expect(try UInt256(decimal: "10") == UInt256(10))
        let tooLong = String(repeating: "9", count: 79)
        expectError(.integerOverflow) { try UInt256(decimal: tooLong) }
    }

    @Test func hexParsingIsStrict() throws {
        for bad in ["", "0x", "10", "0x01", "0X1", "0xG", "0xAB"] {
            expectError(.invalidNumber, "\(bad)") { try UInt256(hexQuantity: bad) }
        }
        expectError(.integerOverflow) { try UInt256(hexQuantity: "0x1" + String(repeating: "0", count: 64)) }
        #expect(try UInt256(hexQuantity: "0x0") == .zero)
        #expect(try UInt256(hexQuantity: "0x10") == UInt256(16))
        #expect(try UInt256(hexQuantity: "0x" + String(repeating: "f", count: 64)) == .max)
    }

    @Test func bigEndianBytesAtMost32() throws {
        expectError(.integerOverflow) { try UInt256(bigEndian: [UInt8](repeating: 1, count: 33)) }
        #expect(try UInt256(bigEndian: [UInt8](repeating: 0xff, count: 32)) == .max)
        #expect(try UInt256(bigEndian: [0, 0, 1]) == .one)
        #expect(try UInt256(bigEndian: []) == .zero)
    }
}

@Suite("Wei and gas units")
struct UnitsTests {
    @Test func gasBudgetOverflowIsAnError() throws {
        let gas = Gas(21_000)
        // ⌊(2^256 − 1) / 21000⌋ fits; one more does not (the ethereum/tests GasLimitPriceProduct cases).
        let limit = UInt256.max.quotientAndRemainder(dividingBy: 21_000).quotient
        let ok = try gas.cost(at: WeiPerGas(limit))
        #expect(ok.amount.checkedAdd(UInt256(21_000)) == nil)  // within 21000 of the maximum
        expectError(.arithmeticOverflow) { try gas.cost(at: WeiPerGas(limit.checkedAdd(.one)!)) }
        expectError(.arithmeticOverflow) { try gas.cost(at: WeiPerGas(.max)) }
    }

    @Test func weiSumsAreChecked() throws {
        #expect(try Wei(.max).adding(.zero) == Wei(.max))
        expectError(.arithmeticOverflow) { try Wei(.max).adding(Wei(.one)) }
        #expect(try Wei(UInt256(5)).subtracting(Wei(UInt256(3))) == Wei(UInt256(2)))
        expectError(.arithmeticOverflow) { try Wei(UInt256(3)).subtracting(Wei(UInt256(5))) }
    }

    @Test func exactDecimalFormatting() throws {
        #expect(Wei(try UInt256(decimal: "1500000000000000000")).etherString == "1.5")
        #expect(Wei(try UInt256(decimal: "1000000000000000000")).etherString == "1")
        #expect(Wei(.one).etherString == "0.000000000000000001")
        #expect(Wei(.zero).etherString == "0")
        #expect(WeiPerGas(UInt256(2_500_000_000)).gweiString == "2.5")
        #expect(WeiPerGas(UInt256(7)).gweiString == "0.000000007")
        #expect(
            Wei(.max).etherString == "115792089237316195423570985008687907853269984665640564039457.584007913129639935")
    }
}
