/// Strict hexadecimal: an even number of `0-9a-fA-F` characters and nothing else (no `0x`
/// prefix, no whitespace). Encoding is lowercase.
public enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Encodes bytes as lowercase hex.
    public static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes strict hex; `maxBytes` bounds the output before anything is allocated.
    public static func decode(_ text: String, maxBytes: Int = 1 << 24) throws(WalletCryptoError) -> [UInt8] {
        let utf8 = text.utf8
        guard utf8.count % 2 == 0 else {
            throw WalletCryptoError(.invalidHex, "odd number of hex digits (\(utf8.count))")
        }
        guard utf8.count / 2 <= maxBytes else {
            throw WalletCryptoError(
                .invalidLength, "hex input of \(utf8.count / 2) bytes exceeds the limit of \(maxBytes)")
        }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var high: UInt8 = 0
        var index = 0
        for c in utf8 {
            guard let v = value(c) else {
                throw WalletCryptoError(.invalidHex, "invalid hex character at position \(index)")
            }
            if index % 2 == 0 { high = v } else { out.append(high << 4 | v) }
            index += 1
        }
        return out
    }

    private static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
