/// Base58 and Base58Check as Bitcoin uses them (Bitcoin Core `src/base58.cpp` semantics):
/// leading zero bytes map to leading `1`s, no whitespace is accepted, and Base58Check appends
/// the first four bytes of double SHA-256.
public enum Base58 {
    private static let alphabet: [UInt8] = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)
    private static let table: [Int8] = {
        var t = [Int8](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = Int8(i) }
        return t
    }()

    /// The longest text Kura ever decodes; longer input is refused before any work.
    public static let defaultMaxLength = 200

    /// Encodes bytes as Base58.
    public static func encode(_ bytes: [UInt8]) -> String {
        let zeros = bytes.prefix(while: { $0 == 0 }).count
        // log(256)/log(58) ≈ 1.365
        var b58 = [UInt8](repeating: 0, count: (bytes.count - zeros) * 138 / 100 + 1)
        var length = 0
        for byte in bytes[zeros...] {
            var carry = Int(byte)
            var i = 0
            var j = b58.count - 1
            while (carry != 0 || i < length) && j >= 0 {
                carry += 256 * Int(b58[j])
                b58[j] = UInt8(carry % 58)
                carry /= 58
                i += 1
                j -= 1
            }
            length = i
        }
        let digits = b58.drop(while: { $0 == 0 })
        var out = [UInt8](repeating: UInt8(ascii: "1"), count: zeros)
        out.reserveCapacity(zeros + digits.count)
        for d in digits { out.append(alphabet[Int(d)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes Base58 text. Whitespace and characters outside the alphabet are errors.
    public static func decode(_ text: String, maxLength: Int = defaultMaxLength) throws(WalletCryptoError) -> [UInt8] {
        let chars = Array(text.utf8)
        guard chars.count <= maxLength else {
            throw WalletCryptoError(.invalidLength, "Base58 text of \(chars.count) characters exceeds \(maxLength)")
        }
        let zeros = chars.prefix(while: { $0 == UInt8(ascii: "1") }).count
        // log(58)/log(256) ≈ 0.733
        var b256 = [UInt8](repeating: 0, count: (chars.count - zeros) * 733 / 1000 + 1)
        var length = 0
        for (position, c) in chars.enumerated().dropFirst(zeros) {
            let v = table[Int(c)]
            guard v >= 0 else {
                throw WalletCryptoError(.invalidBase58, "invalid Base58 character at position \(position)")
            }
            var carry = Int(v)
            var i = 0
            var j = b256.count - 1
            while (carry != 0 || i < length) && j >= 0 {
                carry += 58 * Int(b256[j])
                b256[j] = UInt8(carry % 256)
                carry /= 256
                i += 1
                j -= 1
            }
            length = i
        }
        return [UInt8](repeating: 0, count: zeros) + b256.drop(while: { $0 == 0 })
    }

    /// Encodes `payload` with a 4-byte double-SHA-256 checksum.
    public static func checkEncode(_ payload: [UInt8]) -> String {
        encode(payload + Array(Hash.doubleSHA256(payload).prefix(4)))
    }

    /// Decodes Base58Check text and verifies its checksum; returns the payload.
    public static func checkDecode(_ text: String, maxLength: Int = defaultMaxLength) throws(WalletCryptoError)
        -> [UInt8]
    {
        let raw = try decode(text, maxLength: maxLength)
        guard raw.count >= 4 else {
            throw WalletCryptoError(.invalidLength, "Base58Check data shorter than its checksum")
        }
        let payload = Array(raw.dropLast(4))
        guard Array(Hash.doubleSHA256(payload).prefix(4)) == Array(raw.suffix(4)) else {
            throw WalletCryptoError(.badChecksum, "Base58Check checksum does not match")
        }
        return payload
    }
}
