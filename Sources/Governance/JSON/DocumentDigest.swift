import WalletCrypto

/// The digest of a governance document: the BIP-0340-style tagged SHA-256 of its RFC 8785 canonical
/// bytes, `SHA256(SHA256(tag) ‖ SHA256(tag) ‖ canonical)`.
///
/// The tag names the document kind and version (`kura/policy/v1`, `kura/intent/v1`,
/// `kura/approval/v1`, …), so equal bytes of two different kinds never share a digest and a signature
/// over one kind cannot be replayed as another.
public enum DocumentDigest {
    /// The tagged SHA-256 of `canonical`, which must be the output of ``CanonicalJSON/encode(_:)``.
    public static func digest(tag: String, canonical: [UInt8]) -> [UInt8] { Hash.tagged(tag, canonical) }

    /// Canonicalises `value` (RFC 8785) and returns its tagged digest.
    public static func digest(tag: String, value: JSONValue) throws(GovernanceError) -> [UInt8] {
        digest(tag: tag, canonical: try CanonicalJSON.encode(value))
    }
}
