// `kura-signer eth-address`: the keystore's Ethereum accounts (BIP-0044 m/44'/60'/0'/0/i).
// Read-only: it derives and prints addresses, never a key.
import ArgumentParser
import Ethereum
import Signer
import WalletCrypto

#if canImport(FoundationEssentials)
    import FoundationEssentials
#endif

struct EthAddress: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eth-address",
        abstract: "Print the keystore's Ethereum account addresses (BIP-0044 m/44'/60'/0'/0/i, EIP-55).")

    @OptionGroup var options: HomeOptions

    @Option(help: "The first account index.")
    var index: UInt32 = 0

    @Option(help: "How many consecutive accounts to print (1 to 1000).")
    var count: UInt32 = 1

    @Flag(help: "Machine-readable JSON output.")
    var json = false

    struct Account: Encodable {
        let index: UInt32
        let path: String
        let address: String
    }

    func validate() throws {
        guard index < 0x8000_0000 else { throw ValidationError("--index must be below 2^31") }
        guard (1...1000).contains(count) else { throw ValidationError("--count is 1 to 1000") }
        guard UInt64(index) + UInt64(count) <= 0x8000_0000 else {
            throw ValidationError("--index + --count must stay below 2^31")
        }
    }

    func run() throws {
        try guarded { () throws(SignerError) in
            let (_, contents) = try options.unlock()
            let master = try contents.masterKey()
            var accounts = [Account]()
            do throws(EthereumError) {
                let chain = try EthereumDerivation.externalChain(master: master)
                for i in index..<(index + count) {
                    let key = try EthereumDerivation.privateKey(chain: chain, index: i)
                    accounts.append(
                        Account(
                            index: i, path: try EthereumDerivation.path(index: i).description,
                            address: EthereumAddress(publicKey: key.publicKey).checksummed))
                }
            } catch {
                throw SignerError(.key, error.description)
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                guard let data = try? encoder.encode(accounts) else { throw SignerError(.io, "could not encode JSON") }
                print(String(decoding: data, as: UTF8.self))
                return
            }
            for a in accounts { print("\(a.path)  \(a.address)") }
        }
    }
}
