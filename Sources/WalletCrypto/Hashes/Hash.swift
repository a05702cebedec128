import Crypto

#if canImport(FoundationEssentials)
    import FoundationEssentials
#endif

/// The hash functions Bitcoin and Ethereum use, over byte arrays.
///
/// SHA-2 and HMAC come from swift-crypto; RIPEMD-160 and Keccak-256, which swift-crypto does not
/// provide, are Kura's own (``RIPEMD160``, ``Keccak256``) and are proven by the published vectors.
public enum Hash {
    /// SHA-256 (FIPS 180-4).
    public static func sha256(_ data: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: data)) }

    /// SHA-512 (FIPS 180-4).
    public static func sha512(_ data: [UInt8]) -> [UInt8] { Array(SHA512.hash(data: data)) }

    /// SHA-256 applied twice, as Bitcoin uses for txids and Base58Check.
    public static func doubleSHA256(_ data: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: Array(SHA256.hash(data: data))))
    }

    /// RIPEMD-160 of SHA-256 ("HASH160"), as in P2PKH/P2WPKH and BIP-0032 key identifiers.
    public static func hash160(_ data: [UInt8]) -> [UInt8] {
        RIPEMD160.hash(Array(SHA256.hash(data: data)))
    }

    /// The BIP-0340 tagged hash `SHA256(SHA256(tag) ‖ SHA256(tag) ‖ data)`.
    public static func tagged(_ tag: String, _ data: [UInt8]) -> [UInt8] {
        let tagHash = SHA256.hash(data: Array(tag.utf8))
        var hasher = SHA256()
        hasher.update(data: Array(tagHash))
        hasher.update(data: Array(tagHash))
        hasher.update(data: data)
        return Array(hasher.finalize())
    }

    /// HMAC-SHA-512 (RFC 2104), the BIP-0032 derivation function.
    public static func hmacSHA512(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA512>.authenticationCode(for: data, using: SymmetricKey(data: key)))
    }

    /// HMAC-SHA-256 (RFC 2104).
    public static func hmacSHA256(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: key)))
    }

    /// Keccak-256 with Ethereum's original padding (not FIPS-202 SHA3-256).
    public static func keccak256<C: Collection>(_ data: C) -> [UInt8] where C.Element == UInt8 {
        Keccak256.hash(Array(data))
    }
}
