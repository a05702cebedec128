/// Decoding of an Ed25519 public key as a point (RFC 8032 §5.1.3), used to refuse invalid keys when a
/// ``Credential`` is made.
///
/// swift-crypto's `Curve25519.Signing.PublicKey(rawRepresentation:)` checks only the length, so a
/// policy could otherwise name 32 bytes that are not a point at all and learn it only when every
/// signature fails. This file decides, for public data only (variable time is fine):
/// - the encoding is canonical (y < p),
/// - y names a point of the curve (x² = (y² − 1) / (d·y² + 1) has a root),
/// - the sign bit is not set when x = 0,
/// - the point is not one of the eight points of small order (whose "signatures" anyone can make).
enum Ed25519Point {
    /// Why 32 bytes are not an acceptable Ed25519 public key.
    enum Refusal: Equatable {
        case nonCanonical
        case notOnCurve
        case negativeZero
        case smallOrder
    }

    /// Returns why `encoding` is refused, or `nil` when it is a valid public key.
    static func refusal(_ encoding: [UInt8]) -> Refusal? {
        precondition(encoding.count == 32)
        var yBytes = encoding
        let sign = yBytes[31] >> 7
        yBytes[31] &= 0x7f
        if isAtLeastP(yBytes) { return .nonCanonical }
        let y = Field25519(littleEndian: yBytes)
        let yy = y.squared()
        let u = yy - .one
        let v = Field25519.d * yy + .one
        // x = u·v³·(u·v⁷)^((p−5)/8); then v·x² is u or −u exactly when u/v is a square.
        let v3 = v.squared() * v
        let x = u * v3 * (u * v3 * v3 * v).power(Field25519.pMinus5Over8)
        let vxx = v * x.squared()
        guard vxx == u || vxx == Field25519.zero - u else { return .notOnCurve }
        if u == .zero && sign == 1 { return .negativeZero }
        return smallOrderY.contains(yBytes) ? .smallOrder : nil
    }

    /// Whether the 255-bit little-endian integer is ≥ p = 2^255 − 19.
    private static func isAtLeastP(_ y: [UInt8]) -> Bool {
        guard y[31] == 0x7f, y[0] >= 0xed else { return false }
        return y[1..<31].allSatisfy { $0 == 0xff }
    }

    /// The y coordinates (sign bit cleared) of the eight points of small order: 1 (the identity),
    /// p − 1 (order 2), 0 (order 4, both signs) and the two order-8 values (both signs). The same set
    /// as libsodium's `ge25519_has_small_order` list, restricted to canonical encodings.
    private static let smallOrderY: Set<[UInt8]> = [
        [UInt8](repeating: 0, count: 32),
        [1] + [UInt8](repeating: 0, count: 31),
        [0xec] + [UInt8](repeating: 0xff, count: 30) + [0x7f],
        [
            0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
            0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05,
        ],
        [
            0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
            0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a,
        ],
    ]
}

/// An element of GF(2^255 − 19) in five 51-bit limbs, with only what ``Ed25519Point`` needs.
/// Variable time: it handles public keys only.
struct Field25519: Equatable {
    private var limbs: [UInt64]
    private static let mask: UInt64 = (1 << 51) - 1

    private init(limbs: [UInt64]) { self.limbs = limbs }

    init(_ small: UInt64) { self.init(limbs: [small, 0, 0, 0, 0]) }

    /// Reads 32 little-endian bytes; bit 255 is ignored.
    init(littleEndian bytes: [UInt8]) {
        var w = [UInt64](repeating: 0, count: 4)
        for i in 0..<32 { w[i / 8] |= UInt64(bytes[i]) << (8 * UInt64(i % 8)) }
        let m = Self.mask
        self.init(limbs: [
            w[0] & m, (w[0] >> 51 | w[1] << 13) & m, (w[1] >> 38 | w[2] << 26) & m, (w[2] >> 25 | w[3] << 39) & m,
            (w[3] >> 12) & m,
        ])
    }

    static let zero = Field25519(0)
    static let one = Field25519(1)
    /// The curve constant d = −121665 / 121666.
    static let d = zero - Field25519(121_665) * Field25519(121_666).inverse()
    /// (p − 5) / 8 = 2^252 − 3, as four little-endian 64-bit words.
    static let pMinus5Over8: [UInt64] = [0xffff_ffff_ffff_fffd, .max, .max, 0x0fff_ffff_ffff_ffff]
    /// p − 2 = 2^255 − 21 (Fermat inversion).
    private static let pMinus2: [UInt64] = [0xffff_ffff_ffff_ffeb, .max, .max, 0x7fff_ffff_ffff_ffff]
    /// 2p in the limb radix, added before subtracting so that no limb goes negative.
    private static let twoP: [UInt64] = [
        0xf_ffff_ffff_ffda, 0xf_ffff_ffff_fffe, 0xf_ffff_ffff_fffe,
        0xf_ffff_ffff_fffe, 0xf_ffff_ffff_fffe,
    ]

    /// Propagates carries so that every limb is below 2^51 (the value stays below 2p).
    private static func carried(_ wide: [UInt128]) -> Field25519 {
        var r = wide
        for _ in 0..<2 {
            for i in 0..<4 {
                r[i + 1] += r[i] >> 51
                r[i] &= UInt128(mask)
            }
            r[0] += (r[4] >> 51) * 19
            r[4] &= UInt128(mask)
        }
        return Field25519(limbs: r.map { UInt64($0) })
    }

    static func + (a: Field25519, b: Field25519) -> Field25519 {
        carried((0..<5).map { UInt128(a.limbs[$0]) + UInt128(b.limbs[$0]) })
    }

    static func - (a: Field25519, b: Field25519) -> Field25519 {
        carried((0..<5).map { UInt128(a.limbs[$0]) + UInt128(twoP[$0]) - UInt128(b.limbs[$0]) })
    }

    static func * (a: Field25519, b: Field25519) -> Field25519 {
        var r = [UInt128](repeating: 0, count: 5)
        for i in 0..<5 {
            for j in 0..<5 {
                let product = UInt128(a.limbs[i]) * UInt128(b.limbs[j])
                if i + j < 5 { r[i + j] += product } else { r[i + j - 5] += product * 19 }
            }
        }
        return carried(r)
    }

    func squared() -> Field25519 { self * self }

    /// `self` raised to an exponent given as little-endian 64-bit words (square and multiply).
    func power(_ exponent: [UInt64]) -> Field25519 {
        var result = Field25519.one
        for word in exponent.reversed() {
            for bit in (0..<64).reversed() {
                result = result.squared()
                if (word >> UInt64(bit)) & 1 == 1 { result = result * self }
            }
        }
        return result
    }

    func inverse() -> Field25519 { power(Self.pMinus2) }

    /// The canonical value (fully reduced below p), as limbs.
    private var canonicalLimbs: [UInt64] {
        // `carried` leaves the value below 2^255 + 2^6, so below 2p: one conditional subtraction of p
        // suffices. Adding 19 carries into bit 255 exactly when the value is at least p, and then the
        // sum without that bit is the value minus p.
        var t = limbs.map { UInt128($0) }
        var s = t
        s[0] += 19
        for i in 0..<4 {
            s[i + 1] += s[i] >> 51
            s[i] &= UInt128(Self.mask)
            t[i + 1] += t[i] >> 51
            t[i] &= UInt128(Self.mask)
        }
        if s[4] >> 51 != 0 {
            s[4] &= UInt128(Self.mask)
            return s.map { UInt64($0) }
        }
        return t.map { UInt64($0) }
    }

    static func == (a: Field25519, b: Field25519) -> Bool { a.canonicalLimbs == b.canonicalLimbs }
}
