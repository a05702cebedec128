public import WalletCrypto

/// A single-signature BIP-0044-style account: BIP-0084 (`wpkh`, P2WPKH) or BIP-0086 (`tr`, P2TR
/// key path), given by its account-level extended public key and key origin.
public struct SingleSigAccount: Sendable, Hashable {
    /// The BIP-0043 purpose that fixes the output type.
    public struct Purpose: Sendable, Hashable, CustomStringConvertible {
        /// The purpose number (84 or 86).
        public let number: UInt32
        /// BIP-0084: native segwit v0 single-sig.
        public static let bip84 = Purpose(number: 84)
        /// BIP-0086: taproot key-path single-sig.
        public static let bip86 = Purpose(number: 86)
        public var description: String { "BIP-00\(number)" }
    }

    /// The output type.
    public let purpose: Purpose
    /// The network.
    public let network: Network
    /// The master key fingerprint.
    public let masterFingerprint: Fingerprint
    /// The account index (hardened in the path).
    public let account: UInt32
    /// The account-level extended public key (at `m/purpose'/coin'/account'`).
    public let accountKey: ExtendedPublicKey

    /// The account path `m/purpose'/coin'/account'`.
    public static func path(purpose: Purpose, network: Network, account: UInt32) throws(WalletCryptoError)
        -> DerivationPath
    {
        DerivationPath([try .hardened(purpose.number), try .hardened(network.coinType), try .hardened(account)])
    }

    /// Derives the account from a master key.
    public init(master: ExtendedPrivateKey, purpose: Purpose, network: Network, account: UInt32 = 0)
        throws(WalletCryptoError)
    {
        self.purpose = purpose
        self.network = network
        self.account = account
        masterFingerprint = master.fingerprint
        accountKey = try master.derive(Self.path(purpose: purpose, network: network, account: account))
            .extendedPublicKey
    }

    /// The account path.
    public var path: DerivationPath { try! Self.path(purpose: purpose, network: network, account: account) }

    /// The key expression `[fingerprint/purpose'/coin'/account']xpub…`.
    public var keyExpression: String {
        "[\(masterFingerprint)/\(path.originForm)]\(accountKey.serialized(version: network.xpubVersion))"
    }

    private var function: String { purpose == .bip84 ? "wpkh" : "tr" }

    /// The BIP-0389 multipath descriptor for receive and change, with checksum.
    public var descriptor: String { DescriptorChecksum.append(to: "\(function)(\(keyExpression)/<0;1>/*)") }

    /// The single-path descriptor for one chain (0 receive, 1 change), with checksum.
    public func descriptor(change: Bool) -> String {
        DescriptorChecksum.append(to: "\(function)(\(keyExpression)/\(change ? 1 : 0)/*)")
    }

    /// The address at `…/change/index`.
    public func address(change: Bool, index: UInt32) throws(BitcoinError) -> Address {
        let key: ExtendedPublicKey
        do {
            key = try accountKey.derive(.normal(change ? 1 : 0)).derive(.normal(index))
        } catch {
            throw BitcoinError(.keyError, error.description)
        }
        switch purpose {
        case .bip84: return .p2wpkh(key.publicKey, network: network)
        default: return try .p2trKeyPath(internalKey: key.publicKey.xOnly.key, network: network)
        }
    }
}
