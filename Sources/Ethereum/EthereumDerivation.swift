public import WalletCrypto

/// Ethereum account keys by BIP-0044 (`m/44'/60'/0'/0/i`; coin type 60 from SLIP-0044), the
/// path MetaMask, Ledger and eth-account use for account `i`.
public enum EthereumDerivation {
    /// The external chain `m/44'/60'/0'/0`, whose non-hardened children are the accounts.
    public static let externalChainPath = DerivationPath([
        try! .hardened(44), try! .hardened(60), try! .hardened(0), try! .normal(0),
    ])

    /// The path of account `index`: `m/44'/60'/0'/0/index` (index below 2^31).
    public static func path(index: UInt32) throws(EthereumError) -> DerivationPath {
        do throws(WalletCryptoError) {
            return externalChainPath.appending(try .normal(index))
        } catch {
            throw EthereumError(.keyError, "account index \(index): \(error.reason)")
        }
    }

    /// The external-chain key `m/44'/60'/0'/0`; derive many accounts from it with
    /// ``privateKey(chain:index:)`` without repeating the hardened steps.
    public static func externalChain(master: ExtendedPrivateKey) throws(EthereumError) -> ExtendedPrivateKey {
        do throws(WalletCryptoError) {
            return try master.derive(externalChainPath)
        } catch {
            throw EthereumError(.keyError, error.reason)
        }
    }

    /// The private key of account `index` under an external-chain key.
    public static func privateKey(chain: ExtendedPrivateKey, index: UInt32) throws(EthereumError) -> PrivateKey {
        do throws(WalletCryptoError) {
            return try chain.derive(.normal(index)).privateKey
        } catch {
            throw EthereumError(.keyError, "account index \(index): \(error.reason)")
        }
    }

    /// The private key of account `index` under a BIP-0032 master key.
    public static func privateKey(master: ExtendedPrivateKey, index: UInt32) throws(EthereumError) -> PrivateKey {
        try privateKey(chain: externalChain(master: master), index: index)
    }

    /// The address of account `index` under a BIP-0032 master key.
    public static func address(master: ExtendedPrivateKey, index: UInt32) throws(EthereumError) -> EthereumAddress {
        EthereumAddress(publicKey: try privateKey(master: master, index: index).publicKey)
    }
}
