/// Keccak-256 as Ethereum uses it: the Keccak sponge with rate 1088 bits, capacity 512 and the
/// original `0x01` domain padding (FIPS-202 SHA3-256 uses `0x06` and gives different digests).
///
/// Written here because swift-crypto exposes no Keccak-256; proven by the Keccak team's
/// known-answer values and ethers' 257 hashes (Tests/Vectors/keccak256).
public enum Keccak256 {
    private static let roundConstants: [UInt64] = [
        0x0000_0000_0000_0001, 0x0000_0000_0000_8082, 0x8000_0000_0000_808A, 0x8000_0000_8000_8000,
        0x0000_0000_0000_808B, 0x0000_0000_8000_0001, 0x8000_0000_8000_8081, 0x8000_0000_0000_8009,
        0x0000_0000_0000_008A, 0x0000_0000_0000_0088, 0x0000_0000_8000_8009, 0x0000_0000_8000_000A,
        0x0000_0000_8000_808B, 0x8000_0000_0000_008B, 0x8000_0000_0000_8089, 0x8000_0000_0000_8003,
        0x8000_0000_0000_8002, 0x8000_0000_0000_0080, 0x0000_0000_0000_800A, 0x8000_0000_8000_000A,
        0x8000_0000_8000_8081, 0x8000_0000_0000_8080, 0x0000_0000_8000_0001, 0x8000_0000_8000_8008,
    ]
    private static let rate = 136

    @inline(__always) private static func rotl(_ x: UInt64, _ n: UInt64) -> UInt64 { (x << n) | (x >> (64 - n)) }

    /// Keccak-f[1600] on a 25-lane state, unrolled by lanes (round constants, ρ offsets, π moves).
    private static func permute(_ a: UnsafeMutablePointer<UInt64>) {
        for round in 0..<24 {
            // θ
            let c0 = a[0] ^ a[5] ^ a[10] ^ a[15] ^ a[20]
            let c1 = a[1] ^ a[6] ^ a[11] ^ a[16] ^ a[21]
            let c2 = a[2] ^ a[7] ^ a[12] ^ a[17] ^ a[22]
            let c3 = a[3] ^ a[8] ^ a[13] ^ a[18] ^ a[23]
            let c4 = a[4] ^ a[9] ^ a[14] ^ a[19] ^ a[24]
            let d0 = c4 ^ rotl(c1, 1)
            let d1 = c0 ^ rotl(c2, 1)
            let d2 = c1 ^ rotl(c3, 1)
            let d3 = c2 ^ rotl(c4, 1)
            let d4 = c3 ^ rotl(c0, 1)
            // θ applied, then ρ and π into b (b[y, 2x+3y] = rot(a[x, y] ^ d[x], r[x, y]))
            let b0 = a[0] ^ d0
            let b10 = rotl(a[1] ^ d1, 1)
            let b20 = rotl(a[2] ^ d2, 62)
            let b5 = rotl(a[3] ^ d3, 28)
            let b15 = rotl(a[4] ^ d4, 27)
            let b16 = rotl(a[5] ^ d0, 36)
            let b1 = rotl(a[6] ^ d1, 44)
            let b11 = rotl(a[7] ^ d2, 6)
            let b21 = rotl(a[8] ^ d3, 55)
            let b6 = rotl(a[9] ^ d4, 20)
            let b7 = rotl(a[10] ^ d0, 3)
            let b17 = rotl(a[11] ^ d1, 10)
            let b2 = rotl(a[12] ^ d2, 43)
            let b12 = rotl(a[13] ^ d3, 25)
            let b22 = rotl(a[14] ^ d4, 39)
            let b23 = rotl(a[15] ^ d0, 41)
            let b8 = rotl(a[16] ^ d1, 45)
            let b18 = rotl(a[17] ^ d2, 15)
            let b3 = rotl(a[18] ^ d3, 21)
            let b13 = rotl(a[19] ^ d4, 8)
            let b14 = rotl(a[20] ^ d0, 18)
            let b24 = rotl(a[21] ^ d1, 2)
            let b9 = rotl(a[22] ^ d2, 61)
            let b19 = rotl(a[23] ^ d3, 56)
            let b4 = rotl(a[24] ^ d4, 14)
            // χ
            a[0] = b0 ^ (~b1 & b2)
            a[1] = b1 ^ (~b2 & b3)
            a[2] = b2 ^ (~b3 & b4)
            a[3] = b3 ^ (~b4 & b0)
            a[4] = b4 ^ (~b0 & b1)
            a[5] = b5 ^ (~b6 & b7)
            a[6] = b6 ^ (~b7 & b8)
            a[7] = b7 ^ (~b8 & b9)
            a[8] = b8 ^ (~b9 & b5)
            a[9] = b9 ^ (~b5 & b6)
            a[10] = b10 ^ (~b11 & b12)
            a[11] = b11 ^ (~b12 & b13)
            a[12] = b12 ^ (~b13 & b14)
            a[13] = b13 ^ (~b14 & b10)
            a[14] = b14 ^ (~b10 & b11)
            a[15] = b15 ^ (~b16 & b17)
            a[16] = b16 ^ (~b17 & b18)
            a[17] = b17 ^ (~b18 & b19)
            a[18] = b18 ^ (~b19 & b15)
            a[19] = b19 ^ (~b15 & b16)
            a[20] = b20 ^ (~b21 & b22)
            a[21] = b21 ^ (~b22 & b23)
            a[22] = b22 ^ (~b23 & b24)
            a[23] = b23 ^ (~b24 & b20)
            a[24] = b24 ^ (~b20 & b21)
            // ι
            a[0] ^= roundConstants[round]
        }
    }

    /// Returns the 32-byte Keccak-256 digest of `message`.
    public static func hash(_ message: [UInt8]) -> [UInt8] {
        let state = UnsafeMutablePointer<UInt64>.allocate(capacity: 25)
        state.initialize(repeating: 0, count: 25)
        defer { state.deallocate() }
        var offset = 0
        let full = message.count - message.count % rate
        message.withUnsafeBytes { raw in
            while offset < full {
                for i in 0..<(rate / 8) {
                    state[i] ^= raw.loadUnaligned(fromByteOffset: offset + 8 * i, as: UInt64.self).littleEndian
                }
                permute(state)
                offset += rate
            }
        }
        var last = [UInt8](repeating: 0, count: rate)
        for i in 0..<(message.count - full) { last[i] = message[full + i] }
        last[message.count - full] ^= 0x01
        last[rate - 1] ^= 0x80
        last.withUnsafeBytes { raw in
            for i in 0..<(rate / 8) {
                state[i] ^= raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self).littleEndian
            }
        }
        permute(state)
        var out = [UInt8](repeating: 0, count: 32)
        for i in 0..<4 {
            let lane = state[i].littleEndian
            for j in 0..<8 { out[8 * i + j] = UInt8(truncatingIfNeeded: lane >> (8 * UInt64(j))) }
        }
        return out
    }
}
