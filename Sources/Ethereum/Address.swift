public import WalletCrypto

/// A 20-byte Ethereum account address: the last 20 bytes of the Keccak-256 hash of an
/// uncompressed secp256k1 public key (Ethereum Yellow Paper §7), written with the EIP-55
/// mixed-case checksum.
public struct EthereumAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The 20 address bytes.
    public let bytes: [UInt8]

    /// Wraps exactly 20 bytes.
    public init<C: Collection>(bytes: C) throws(EthereumError) where C.Element == UInt8 {
        guard bytes.count == 20 else {
            throw EthereumError(.invalidAddress, "an address is 20 bytes, not \(bytes.count)")
        }
        self.bytes = Array(bytes)
    }

    /// The address of a public key: `keccak256(x ‖ y)[12..<32]`.
    public init(publicKey: PublicKey) {
        bytes = Array(Hash.keccak256(publicKey.uncompressed.dropFirst()).suffix(20))
    }

    /// Parses `0x` and 40 hex digits under EIP-55: all-lowercase and all-uppercase text is
    /// accepted as it stands (no checksum to check); mixed case must match the checksum exactly,
    /// otherwise the text is refused with ``EthereumError/Code/badChecksum``.
    public init(parsing text: String) throws(EthereumError) {
        let chars = Array(text.utf8)
        guard chars.count == 42, chars[0] == UInt8(ascii: "0"), chars[1] == UInt8(ascii: "x") else {
            throw EthereumError(
                .invalidAddress, "an address is 0x followed by 40 hex digits, not \"\(text.prefix(64))\"")
        }
        let digits = Array(chars[2...])
        let decoded: [UInt8]
        do throws(WalletCryptoError) {
            decoded = try Hex.decode(String(decoding: digits, as: UTF8.self), maxBytes: 20)
        } catch {
            throw EthereumError(.invalidAddress, "\"\(text.prefix(64))\" is not hexadecimal")
        }
        try self.init(bytes: decoded)
        let hasLower = digits.contains { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f") }
        let hasUpper = digits.contains { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "F") }
        if hasLower && hasUpper && String(decoding: digits, as: UTF8.self) != checksummedDigits {
            throw EthereumError(.badChecksum, "\(text) does not match its EIP-55 checksum (\(checksummed))")
        }
    }

    /// The 40 hex digits with EIP-55 case: a letter is upper case when the matching nibble of
    /// `keccak256(lowercase hex)` is 8 or more.
    private var checksummedDigits: String {
        let lower = Array(Hex.encode(bytes).utf8)
        let hash = Hash.keccak256(lower)
        var out = lower
        for i in 0..<40 where lower[i] >= UInt8(ascii: "a") {
            let nibble = i % 2 == 0 ? hash[i / 2] >> 4 : hash[i / 2] & 0x0f
            if nibble >= 8 { out[i] = lower[i] - 32 }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The EIP-55 checksummed text, `0x…`.
    public var checksummed: String { "0x" + checksummedDigits }

    /// The all-lowercase text, `0x…`.
    public var lowercased: String { "0x" + Hex.encode(bytes) }

    public var description: String { checksummed }

    public static func < (a: EthereumAddress, b: EthereumAddress) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }
}
