/// Bech32 (BIP-0173) and Bech32m (BIP-0350) strings: human-readable part, separator `1`, data
/// in 5-bit groups and a six-character checksum. Decoding is strict: mixed case, characters
/// outside the charset, a missing or misplaced separator, an over-long string and a wrong
/// checksum are all errors.
public enum Bech32 {
    /// The checksum constant that distinguishes the two encodings.
    public enum Variant: Sendable, Hashable {
        /// BIP-0173 (segwit version 0).
        case bech32
        /// BIP-0350 (segwit version 1 and later).
        case bech32m

        var constant: UInt32 { self == .bech32 ? 1 : 0x2bc8_30a3 }
    }

    /// The result of decoding: the lowercase human-readable part, the 5-bit data (without the
    /// checksum) and which checksum matched.
    public struct Decoded: Sendable, Hashable {
        /// The human-readable part, lowercase.
        public let hrp: String
        /// Data values in 0...31, checksum removed.
        public let data: [UInt8]
        /// The checksum variant that validated.
        public let variant: Variant
    }

    private static let charset: [UInt8] = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)
    private static let reverse: [Int8] = {
        var t = [Int8](repeating: -1, count: 128)
        for (i, c) in charset.enumerated() { t[Int(c)] = Int8(i) }
        return t
    }()

    private static func polymod(_ values: [UInt8]) -> UInt32 {
        let gen: [UInt32] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3]
        var chk: UInt32 = 1
        for v in values {
            let top = chk >> 25
            chk = (chk & 0x1ff_ffff) << 5 ^ UInt32(v)
            for i in 0..<5 where (top >> i) & 1 == 1 { chk ^= gen[i] }
        }
        return chk
    }

    private static func hrpExpand(_ hrp: [UInt8]) -> [UInt8] {
        hrp.map { $0 >> 5 } + [0] + hrp.map { $0 & 31 }
    }

    /// Encodes 5-bit `data` under `hrp` with the chosen checksum.
    public static func encode(hrp: String, data: [UInt8], variant: Variant) -> String {
        let h = Array(hrp.lowercased().utf8)
        let values = hrpExpand(h) + data
        let mod = polymod(values + [0, 0, 0, 0, 0, 0]) ^ variant.constant
        let checksum = (0..<6).map { UInt8((mod >> (5 * (5 - UInt32($0)))) & 31) }
        var out = h
        out.append(UInt8(ascii: "1"))
        for d in data + checksum { out.append(charset[Int(d)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes and verifies a bech32 or bech32m string of at most `maxLength` characters.
    public static func decode(_ text: String, maxLength: Int = 90) throws(WalletCryptoError) -> Decoded {
        let bytes = Array(text.utf8)
        guard bytes.count <= maxLength else {
            throw WalletCryptoError(.invalidBech32, "string of \(bytes.count) characters exceeds \(maxLength)")
        }
        var hasLower = false
        var hasUpper = false
        for c in bytes {
            guard c >= 33 && c <= 126 else {
                throw WalletCryptoError(.invalidBech32, "character out of range (0x\(Hex.encode([c])))")
            }
            if c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z") { hasLower = true }
            if c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z") { hasUpper = true }
        }
        guard !(hasLower && hasUpper) else { throw WalletCryptoError(.invalidBech32, "mixed case") }
        let lower = bytes.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 + 32 : $0 }
        guard let sep = lower.lastIndex(of: UInt8(ascii: "1")) else {
            throw WalletCryptoError(.invalidBech32, "no separator character")
        }
        guard sep >= 1 else { throw WalletCryptoError(.invalidBech32, "empty human-readable part") }
        guard lower.count - sep - 1 >= 6 else { throw WalletCryptoError(.invalidBech32, "checksum too short") }
        let hrp = Array(lower[..<sep])
        var data = [UInt8]()
        data.reserveCapacity(lower.count - sep - 1)
        for c in lower[(sep + 1)...] {
            let v = c < 128 ? reverse[Int(c)] : -1
            guard v >= 0 else {
                throw WalletCryptoError(.invalidBech32, "invalid data character '\(Character(Unicode.Scalar(c)))'")
            }
            data.append(UInt8(v))
        }
        let check = polymod(hrpExpand(hrp) + data)
        let variant: Variant
        switch check {
        case Variant.bech32.constant: variant = .bech32
        case Variant.bech32m.constant: variant = .bech32m
        default: throw WalletCryptoError(.badChecksum, "bech32 checksum does not match")
        }
        return Decoded(hrp: String(decoding: hrp, as: UTF8.self), data: Array(data.dropLast(6)), variant: variant)
    }

    /// Regroups bits (BIP-0173 `convertbits`): 8→5 with padding, or 5→8 where leftover bits
    /// must be fewer than `from` and zero.
    public static func convertBits(_ input: [UInt8], from: Int, to: Int, pad: Bool) throws(WalletCryptoError) -> [UInt8]
    {
        var acc: UInt32 = 0
        var bits = 0
        var out = [UInt8]()
        let maxv: UInt32 = (1 << to) - 1
        for value in input {
            guard value >> from == 0 else {
                throw WalletCryptoError(.invalidBech32, "value out of range for \(from)-bit groups")
            }
            acc = (acc << from) | UInt32(value)
            bits += from
            while bits >= to {
                bits -= to
                out.append(UInt8((acc >> bits) & maxv))
            }
        }
        if pad {
            if bits > 0 { out.append(UInt8((acc << (to - bits)) & maxv)) }
        } else {
            guard bits < from else { throw WalletCryptoError(.invalidBech32, "too many padding bits") }
            guard (acc << (to - bits)) & maxv == 0 else { throw WalletCryptoError(.invalidBech32, "non-zero padding") }
        }
        return out
    }
}
