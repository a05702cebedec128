import Ethereum
import Testing
import WalletCrypto

@Suite("BIP-0044 Ethereum accounts")
struct DerivationTests {
    @Test func bip39TestMnemonicAccounts() throws {
        // The BIP-0039 test mnemonic, no passphrase; the addresses MetaMask, Ledger Live and
        // eth-account (Account.from_mnemonic, m/44'/60'/0'/0/i) publish for it.
        let words = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
        let mnemonic = try Mnemonic(phrase: SecretBytes(Array(words.utf8)))
        let master = try ExtendedPrivateKey(seed: mnemonic.seed(passphrase: SecretBytes([])))
        let expected = [
            "0x9858EfFD232B4033E47d90003D41EC34EcaEda94",
            "0x6Fac4D18c912343BF86fa7049364Dd4E424Ab9C0",
            "0xb6716976A3ebe8D39aCEB04372f22Ff8e6802D7A",
        ]
        for (i, address) in expected.enumerated() {
            #expect(try EthereumDerivation.address(master: master, index: UInt32(i)).checksummed == address)
        }
        #expect(try EthereumDerivation.path(index: 7).description == "m/44h/60h/0h/0/7")
        expectError(.keyError) { try EthereumDerivation.path(index: 0x8000_0000) }
    }
}
