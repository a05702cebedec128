/// The BIP-0380 descriptor checksum: eight characters over the descriptor text, appended after `#`.
public enum DescriptorChecksum {
    private static let inputCharset = Array(
        "0123456789()[],'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~ijklmnopqrstuvwxyzABCDEFGH`#\"\\ ".utf8)
    private static let checksumCharset = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)
    private static let position: [Int] = {
        var t = [Int](repeating: -1, count: 128)
        for (i, c) in inputCharset.enumerated() { t[Int(c)] = i }
        return t
    }()

    private static func polymod(_ c: UInt64, _ val: Int) -> UInt64 {
        let c0 = c >> 35
        var c = (c & 0x7_ffff_ffff) << 5 ^ UInt64(val)
        if c0 & 1 != 0 { c ^= 0xf5_dee5_1989 }
        if c0 & 2 != 0 { c ^= 0xa9_fdca_3312 }
        if c0 & 4 != 0 { c ^= 0x1b_ab10_e32d }
        if c0 & 8 != 0 { c ^= 0x37_06b1_677a }
        if c0 & 16 != 0 { c ^= 0x64_4d62_6ffd }
        return c
    }

    /// The checksum of `descriptor` (without any `#…` suffix), or `nil` if it contains a character
    /// outside the descriptor charset.
    public static func compute(_ descriptor: String) -> String? {
        var c: UInt64 = 1
        var cls = 0
        var clscount = 0
        for ch in descriptor.utf8 {
            guard ch < 128, position[Int(ch)] >= 0 else { return nil }
            let pos = position[Int(ch)]
            c = polymod(c, pos & 31)
            cls = cls * 3 + (pos >> 5)
            clscount += 1
            if clscount == 3 {
                c = polymod(c, cls)
                cls = 0
                clscount = 0
            }
        }
        if clscount > 0 { c = polymod(c, cls) }
        for _ in 0..<8 { c = polymod(c, 0) }
        c ^= 1
        let out = (0..<8).map { checksumCharset[Int((c >> (5 * (7 - UInt64($0)))) & 31)] }
        return String(decoding: out, as: UTF8.self)
    }

    /// `descriptor#checksum`.
    public static func append(to descriptor: String) -> String {
        guard let sum = compute(descriptor) else { return descriptor }
        return descriptor + "#" + sum
    }

    /// Splits `text` into descriptor and checksum and verifies the checksum if present (or
    /// requires it when `required`).
    public static func verify(_ text: String, required: Bool = false) throws(BitcoinError) -> String {
        let parts = text.split(separator: "#", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { throw BitcoinError(.invalidDescriptor, "multiple '#' separators") }
        let body = String(parts[0])
        guard let expected = compute(body) else {
            throw BitcoinError(.invalidDescriptor, "invalid character in descriptor")
        }
        if parts.count == 2 {
            let given = String(parts[1])
            guard given.utf8.count == 8 else {
                throw BitcoinError(.invalidDescriptor, "checksum must be 8 characters, got \(given.utf8.count)")
            }
            guard given == expected else {
                throw BitcoinError(.invalidDescriptor, "checksum '\(given)' does not match; expected '\(expected)'")
            }
        } else if required {
            throw BitcoinError(.invalidDescriptor, "missing checksum")
        }
        return body
    }
}
