public import WalletCrypto

/// The signer's identity: a BIP-0340 key derived from its seed at a fixed hardened path, which
/// signs receipts. Policies name it (`signers[].identityKey`) so that the signer can tell which
/// signer of the policy it is, and auditors can check receipts.
public enum SignerIdentity {
    /// `m/7467'/0'` ("KU" in a hardened index; distinct from every BIP-0044 purpose).
    public static let path = try! DerivationPath(parsing: "m/7467h/0h")

    /// The identity keypair of a master key.
    public static func keypair(master: ExtendedPrivateKey) throws(SignerError) -> Keypair {
        do { return try Keypair(master.derive(path).privateKey) } catch { throw SignerError(error) }
    }

    /// The x-only identity key.
    public static func publicKey(master: ExtendedPrivateKey) throws(SignerError) -> XOnlyPublicKey {
        try keypair(master: master).xOnlyPublicKey.key
    }
}
