/// Strict RFC 4648 base64 (standard alphabet, `=` padding required, no whitespace), written here
/// so that the signer needs no Foundation.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let table: [Int8] = {
        var t = [Int8](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = Int8(i) }
        return t
    }()

    /// Encodes bytes.
    public static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= bytes.count {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [
                alphabet[Int(v >> 18)], alphabet[Int(v >> 12 & 63)], alphabet[Int(v >> 6 & 63)], alphabet[Int(v & 63)],
            ]
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let v = UInt32(bytes[i]) << 16
            out += [alphabet[Int(v >> 18)], alphabet[Int(v >> 12 & 63)], 0x3d, 0x3d]
        } else if rest == 2 {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [alphabet[Int(v >> 18)], alphabet[Int(v >> 12 & 63)], alphabet[Int(v >> 6 & 63)], 0x3d]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes strict base64, or returns `nil`. Non-zero padding bits are refused, so every byte
    /// string has exactly one accepted encoding.
    public static func decode(_ text: String, maxBytes: Int) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 4 == 0, chars.count / 4 * 3 <= maxBytes + 2 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(chars.count / 4 * 3)
        var i = 0
        while i < chars.count {
            let last = i + 4 == chars.count
            let pad = last ? (chars[i + 3] == 0x3d ? (chars[i + 2] == 0x3d ? 2 : 1) : 0) : 0
            var v: UInt32 = 0
            for j in 0..<4 {
                let c = chars[i + j]
                if j >= 4 - pad {
                    guard c == 0x3d else { return nil }
                    v <<= 6
                    continue
                }
                let d = table[Int(c)]
                guard d >= 0 else { return nil }
                v = v << 6 | UInt32(d)
            }
            out.append(UInt8(v >> 16))
            if pad < 2 { out.append(UInt8(v >> 8 & 0xff)) } else if v & 0xffff != 0 { return nil }
            if pad < 1 { out.append(UInt8(v & 0xff)) } else if v & 0xff != 0 { return nil }
            i += 4
        }
        return out
    }
}
