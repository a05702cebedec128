public import WalletCrypto

/// A Bitcoin network and its encoding parameters. Kura never guesses a network: every address,
/// key and descriptor operation names one.
public struct Network: Sendable, Hashable, CustomStringConvertible {
    /// The canonical name: `mainnet`, `testnet`, `signet` or `regtest`.
    public let name: String
    /// The bech32 human-readable part for segwit addresses.
    public let bech32HRP: String
    /// The Base58Check version byte of P2PKH addresses.
    public let p2pkhVersion: UInt8
    /// The Base58Check version byte of P2SH addresses.
    public let p2shVersion: UInt8
    /// The WIF prefix byte.
    public let wifPrefix: UInt8
    /// Whether this is mainnet (real money).
    public let isMainnet: Bool

    /// Bitcoin mainnet.
    public static let mainnet = Network(
        name: "mainnet", bech32HRP: "bc", p2pkhVersion: 0x00, p2shVersion: 0x05, wifPrefix: 0x80, isMainnet: true)
    /// testnet3 and testnet4 (they share every encoding).
    public static let testnet = Network(
        name: "testnet", bech32HRP: "tb", p2pkhVersion: 0x6f, p2shVersion: 0xc4, wifPrefix: 0xef, isMainnet: false)
    /// The default signet.
    public static let signet = Network(
        name: "signet", bech32HRP: "tb", p2pkhVersion: 0x6f, p2shVersion: 0xc4, wifPrefix: 0xef, isMainnet: false)
    /// Regression-test mode.
    public static let regtest = Network(
        name: "regtest", bech32HRP: "bcrt", p2pkhVersion: 0x6f, p2shVersion: 0xc4, wifPrefix: 0xef, isMainnet: false)

    /// Every network Kura supports.
    public static let all: [Network] = [.mainnet, .testnet, .signet, .regtest]

    /// Looks a network up by name (`mainnet`/`main`/`bitcoin`, `testnet`/`testnet3`/`testnet4`/`test`,
    /// `signet`, `regtest`).
    public init(named name: String) throws(BitcoinError) {
        switch name.lowercased() {
        case "mainnet", "main", "bitcoin": self = .mainnet
        case "testnet", "testnet3", "testnet4", "test": self = .testnet
        case "signet": self = .signet
        case "regtest": self = .regtest
        default:
            throw BitcoinError(.unknownNetwork, "unknown network '\(name)'; use mainnet, testnet, signet or regtest")
        }
    }

    private init(
        name: String, bech32HRP: String, p2pkhVersion: UInt8, p2shVersion: UInt8, wifPrefix: UInt8, isMainnet: Bool
    ) {
        self.name = name
        self.bech32HRP = bech32HRP
        self.p2pkhVersion = p2pkhVersion
        self.p2shVersion = p2shVersion
        self.wifPrefix = wifPrefix
        self.isMainnet = isMainnet
    }

    /// The BIP-0044 coin type: 0 on mainnet, 1 on every test network.
    public var coinType: UInt32 { isMainnet ? 0 : 1 }

    /// The plain extended public key version (`xpub` or `tpub`).
    public var xpubVersion: ExtendedKeyVersion { ExtendedKeyVersion.standard(mainnet: isMainnet, isPrivate: false) }
    /// The plain extended private key version (`xprv` or `tprv`).
    public var xprvVersion: ExtendedKeyVersion { ExtendedKeyVersion.standard(mainnet: isMainnet, isPrivate: true) }

    public var description: String { name }
}
