import Ethereum
import Testing

// Independent reference arithmetic for the tests: slow schoolbook big integers over base-256
// digits, sharing no code with the UInt256 under test.

/// A non-negative integer as big-endian bytes without leading zeros (empty for zero).
struct ReferenceInteger: Equatable, CustomStringConvertible {
    var bytes: [UInt8]

    init(bytes: [UInt8]) { self.bytes = Array(bytes.drop { $0 == 0 }) }

    init(decimal: String) {
        var out = [UInt8]()  // little-endian while building
        for c in decimal.utf8 {
            var carry = Int(c - 48)
            for i in 0..<out.count {
                let v = Int(out[i]) * 10 + carry
                out[i] = UInt8(v & 0xff)
                carry = v >> 8
            }
            while carry > 0 {
                out.append(UInt8(carry & 0xff))
                carry >>= 8
            }
        }
        self.init(bytes: out.reversed())
    }

    static func + (a: ReferenceInteger, b: ReferenceInteger) -> ReferenceInteger {
        let x = Array(a.bytes.reversed())
        let y = Array(b.bytes.reversed())
        var out = [UInt8]()
        var carry = 0
        for i in 0..<max(x.count, y.count) {
            let v = (i < x.count ? Int(x[i]) : 0) + (i < y.count ? Int(y[i]) : 0) + carry
            out.append(UInt8(v & 0xff))
            carry = v >> 8
        }
        if carry > 0 { out.append(UInt8(carry)) }
        return ReferenceInteger(bytes: out.reversed())
    }

    static func * (a: ReferenceInteger, b: ReferenceInteger) -> ReferenceInteger {
        let x = Array(a.bytes.reversed())
        let y = Array(b.bytes.reversed())
        var acc = [Int](repeating: 0, count: x.count + y.count + 1)
        for i in 0..<x.count {
            for j in 0..<y.count { acc[i + j] += Int(x[i]) * Int(y[j]) }
            // Normalise as we go so that the sums stay small.
            var carry = 0
            for k in 0..<acc.count {
                let v = acc[k] + carry
                acc[k] = v & 0xff
                carry = v >> 8
            }
        }
        return ReferenceInteger(bytes: acc.map { UInt8($0) }.reversed())
    }

    /// `a − b` for `a ≥ b`, otherwise nil.
    static func - (a: ReferenceInteger, b: ReferenceInteger) -> ReferenceInteger? {
        if a < b { return nil }
        let x = Array(a.bytes.reversed())
        let y = Array(b.bytes.reversed())
        var out = [UInt8]()
        var borrow = 0
        for i in 0..<x.count {
            var v = Int(x[i]) - (i < y.count ? Int(y[i]) : 0) - borrow
            borrow = v < 0 ? 1 : 0
            if v < 0 { v += 256 }
            out.append(UInt8(v))
        }
        return ReferenceInteger(bytes: out.reversed())
    }

    static func < (a: ReferenceInteger, b: ReferenceInteger) -> Bool {
        if a.bytes.count != b.bytes.count { return a.bytes.count < b.bytes.count }
        return a.bytes.lexicographicallyPrecedes(b.bytes)
    }

    var fits256: Bool { bytes.count <= 32 }

    var decimal: String {
        if bytes.isEmpty { return "0" }
        var digits = [UInt8]()
        var n = bytes
        while !n.isEmpty {
            var rem = 0
            var q = [UInt8]()
            for b in n {
                let v = rem * 256 + Int(b)
                q.append(UInt8(v / 10))
                rem = v % 10
            }
            digits.append(UInt8(rem) + 48)
            n = Array(q.drop { $0 == 0 })
        }
        return String(decoding: digits.reversed(), as: UTF8.self)
    }

    var description: String { decimal }
}

/// A deterministic pseudo-random generator (SplitMix64) so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random big-endian bytes of a random length up to `maxCount`, biased towards edge values.
func randomBytes(_ rng: inout SplitMix64, maxCount: Int = 32) -> [UInt8] {
    let count = Int.random(in: 0...maxCount, using: &rng)
    let style = Int.random(in: 0..<4, using: &rng)
    return (0..<count).map { _ in
        switch style {
        case 0: return 0xff
        case 1: return UInt8.random(in: 0...1, using: &rng) == 0 ? 0 : 0xff
        default: return UInt8.random(in: 0...255, using: &rng)
        }
    }
}

/// Runs `body` and records an issue unless it throws an ``EthereumError`` with `code`.
func expectError<T>(
    _ code: EthereumError.Code, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> T
) {
    do {
        _ = try body()
        Issue.record(
            "expected \(code), but nothing was thrown \(comment.map { "(\($0))" } ?? "")",
            sourceLocation: sourceLocation)
    } catch let error as EthereumError {
        #expect(error.code == code, "\(error) \(comment.map { "(\($0))" } ?? "")", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected \(code), got \(error)", sourceLocation: sourceLocation)
    }
}
