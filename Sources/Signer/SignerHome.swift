public import Bitcoin
public import WalletCrypto

#if canImport(Glibc)
    import Glibc
#endif

/// The signer's own directory: its keystore, and its state (the ledger and its head). Chosen by
/// `--home`, else `$KURA_SIGNER_HOME`, else `$HOME/.kura-signer`.
public struct SignerHome: Sendable {
    /// The directory.
    public let path: String

    /// Resolves the directory.
    public init(explicit: String?) throws(SignerError) {
        if let explicit, !explicit.isEmpty {
            path = explicit
        } else if let env = getenv("KURA_SIGNER_HOME"), env.pointee != 0 {
            path = String(cString: env)
        } else if let home = getenv("HOME"), home.pointee != 0 {
            path = String(cString: home) + "/.kura-signer"
        } else {
            throw SignerError(.usage, "no signer home: pass --home or set KURA_SIGNER_HOME")
        }
    }

    /// The keystore file.
    public var keystorePath: String { path + "/keystore.kura" }

    /// The signer's ledger (state) file; its committed head is `ledger.kura.head` beside it.
    public var ledgerPath: String { path + "/ledger.kura" }

    /// Encrypts and writes a new keystore (refusing to replace one) and returns it.
    public func create(
        contents: Keystore.Contents, network: Network, passphrase: SecretBytes, kdf: Keystore.KDFParameters
    ) throws(SignerError) -> Keystore {
        if LocalFiles.exists(keystorePath) {
            throw SignerError(.alreadyExists, "a keystore already exists at \(keystorePath); refusing to overwrite it")
        }
        // Derive once before writing, so a seed that cannot be used never lands on disk.
        let identity = try SignerIdentity.keypair(master: contents.masterKey())
        let keystore = try Keystore.seal(contents, network: network, passphrase: passphrase, kdf: kdf)
        try LocalFiles.ensureDirectory(path)
        try LocalFiles.writeNew(keystorePath, keystore.bytes)
        // The ledger starts with the keystore: its first record is the signer's identity, so that a
        // keystore later swapped for another seed is recognised (K02); the genesis pin follows.
        let seed: SecretBytes
        do { seed = try contents.mnemonic.seed(passphrase: contents.bip39Passphrase) } catch {
            throw SignerError(error)
        }
        try Ledger.create(path: ledgerPath, key: Ledger.key(seed: seed), identity: identity)
        return keystore
    }

    /// Reads and checks the keystore file (no decryption).
    public func loadKeystore() throws(SignerError) -> Keystore {
        guard LocalFiles.exists(keystorePath) else {
            throw SignerError(.io, "no keystore at \(keystorePath); run `kura-signer init` first")
        }
        return try Keystore(bytes: LocalFiles.read(keystorePath, limit: Keystore.maxFileSize + 1))
    }
}

/// The single-signature accounts a signer exports for policy authors and watch-only wallets.
public enum AccountExport {
    /// BIP-0084 and BIP-0086 accounts `account` of the keystore's network.
    public static func singleSig(master: ExtendedPrivateKey, network: Network, account: UInt32) throws(SignerError)
        -> [SingleSigAccount]
    {
        do {
            return [
                try SingleSigAccount(master: master, purpose: .bip84, network: network, account: account),
                try SingleSigAccount(master: master, purpose: .bip86, network: network, account: account),
            ]
        } catch {
            throw SignerError(error)
        }
    }
}
