// kura-signer: the offline cold signer. This file only parses arguments and prints; the logic
// lives in the Signer module. It links no networking code (see docs/adr/0003).
import ArgumentParser
import Bitcoin
import Signer
import WalletCrypto

#if canImport(FoundationEssentials)
    import FoundationEssentials
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// Exit codes: 0 success, 64 usage (ArgumentParser), 3 key or keystore error, 1 internal error.
enum Exit {
    static let keystore: Int32 = 3
}

func fail(_ error: SignerError) -> ExitCode {
    var stderrText = "kura-signer: error: \(error.code.name): \(error.reason)\n"
    _ = stderrText.withUTF8 { Glibc.write(2, $0.baseAddress, $0.count) }
    stderrText = ""
    return ExitCode(Exit.keystore)
}

/// Runs `body`, turning a `SignerError` into a one-line message on stderr and a non-zero exit.
func guarded(_ body: () throws(SignerError) -> Void) throws {
    do {
        try body()
    } catch {
        throw fail(error)
    }
}

struct HomeOptions: ParsableArguments {
    @Option(help: "The signer's directory (default: $KURA_SIGNER_HOME or ~/.kura-signer).")
    var home: String?

    @Option(help: "Read the keystore passphrase from this file instead of the terminal (automation).")
    var passphraseFile: String?

    func keystorePassphrase(confirm: Bool) throws(SignerError) -> SecretBytes {
        if let passphraseFile { return try LocalFiles.readSecret(passphraseFile) }
        let first = try Terminal.readSecret(prompt: "Keystore passphrase: ")
        if confirm {
            let second = try Terminal.readSecret(prompt: "Repeat the passphrase: ")
            guard first.constantTimeEquals(second) else {
                throw SignerError(.badPassphrase, "the two passphrases differ")
            }
        }
        return first
    }

    func unlock() throws(SignerError) -> (Keystore, Keystore.Contents) {
        let keystore = try SignerHome(explicit: home).loadKeystore()
        let contents = try keystore.open(passphrase: keystorePassphrase(confirm: false))
        return (keystore, contents)
    }
}

struct KuraSigner: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kura-signer",
        abstract: "Kura's offline cold signer: holds the seed, checks every instruction, signs only what was approved.",
        subcommands: [
            Init.self, XPub.self, Descriptors.self, EthAddress.self, Pin.self, Export.self, ReviewCommand.self,
            SignCommand.self, LedgerCommand.self, ReprovisionCommand.self,
        ]
    )
}

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a new keystore, or restore one from a BIP-0039 mnemonic (--restore).")

    @OptionGroup var options: HomeOptions

    @Option(help: "Bitcoin network: mainnet, testnet, signet or regtest.")
    var network: String = "mainnet"

    @Flag(help: "Restore from an existing mnemonic (read from --mnemonic-file, piped stdin, or the terminal).")
    var restore = false

    @Option(help: "File holding the mnemonic to restore (never pass the words as arguments).")
    var mnemonicFile: String?

    @Option(help: "Number of words for a new mnemonic (12, 15, 18, 21 or 24).")
    var words: Int = 24

    @Option(help: "File holding a BIP-0039 passphrase (the '25th word'); printable ASCII.")
    var bip39PassphraseFile: String?

    @Flag(help: "Ask for a BIP-0039 passphrase on the terminal.")
    var askBip39Passphrase = false

    @Option(
        help: "Write a new mnemonic to this new file (mode 0600) for printing, instead of showing it on the terminal.")
    var mnemonicOut: String?

    @Option(help: "scrypt cost as log2(N); at least 15, default 18.")
    var kdfLogN: UInt8 = Keystore.KDFParameters.standard.log2N

    func validate() throws {
        guard Mnemonic.allowedWordCounts.contains(words) else {
            throw ValidationError("--words must be 12, 15, 18, 21 or 24")
        }
        if !restore && mnemonicFile != nil { throw ValidationError("--mnemonic-file needs --restore") }
        if restore && mnemonicOut != nil { throw ValidationError("--mnemonic-out is for new mnemonics, not --restore") }
        if bip39PassphraseFile != nil && askBip39Passphrase {
            throw ValidationError("use either --bip39-passphrase-file or --ask-bip39-passphrase")
        }
    }

    func run() throws {
        try guarded { () throws(SignerError) in
            let home = try SignerHome(explicit: options.home)
            let net: Network
            do { net = try Network(named: network) } catch { throw SignerError(.usage, "\(error)") }
            let kdf = Keystore.KDFParameters(log2N: kdfLogN, r: 8, p: 1)
            try kdf.validate()
            if LocalFiles.exists(home.keystorePath) {
                throw SignerError(
                    .alreadyExists, "a keystore already exists at \(home.keystorePath); refusing to overwrite it")
            }

            let mnemonic: Mnemonic
            if restore {
                let phrase: SecretBytes
                if let mnemonicFile {
                    phrase = try LocalFiles.readSecret(mnemonicFile)
                } else if isatty(0) == 0 {
                    phrase = try readStandardInput(limit: 4096)
                } else {
                    phrase = try Terminal.readSecret(prompt: "Mnemonic words (input hidden): ")
                }
                do throws(WalletCryptoError) { mnemonic = try Mnemonic(phrase: phrase) } catch {
                    throw SignerError(error, as: .badMnemonic)
                }
            } else {
                do throws(WalletCryptoError) { mnemonic = try Mnemonic.generate(wordCount: words) } catch {
                    throw SignerError(error, as: .badMnemonic)
                }
            }

            let bip39: SecretBytes
            if let bip39PassphraseFile {
                bip39 = try LocalFiles.readSecret(bip39PassphraseFile, limit: 256)
            } else if askBip39Passphrase {
                bip39 = try Terminal.readSecret(prompt: "BIP-0039 passphrase (input hidden): ", limit: 256)
            } else {
                bip39 = SecretBytes([])
            }

            let passphrase = try options.keystorePassphrase(confirm: true)
            let contents = Keystore.Contents(mnemonic: mnemonic, bip39Passphrase: bip39)
            let master = try contents.masterKey()

            if !restore {
                // The words are shown once, before the keystore exists, on the terminal or in a new
                // 0600 file, never on stdout.
                var words = [String]()
                for (i, index) in mnemonic.wordIndices.enumerated() {
                    words.append("\(i + 1). \(Mnemonic.englishWordlist[index])")
                }
                if let mnemonicOut {
                    try LocalFiles.writeNew(mnemonicOut, Array((words.joined(separator: "\n") + "\n").utf8))
                } else {
                    try Terminal.show(
                        "\nWrite these words down in order and keep them offline:\n\n" + words.joined(separator: "\n")
                            + "\n\n")
                    guard try Terminal.confirm("Type 'yes' once the words are written down: ") else {
                        throw SignerError(.usage, "backup not confirmed; no keystore was written")
                    }
                }
            }

            _ = try home.create(contents: contents, network: net, passphrase: passphrase, kdf: kdf)
            print("keystore: \(home.keystorePath)")
            print("network: \(net)")
            print("master fingerprint: \(master.fingerprint)")
        }
    }
}

struct XPub: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xpub", abstract: "Print the extended public key at a path, with its key origin.")

    @OptionGroup var options: HomeOptions

    @Option(help: "A BIP-0032 path such as m/84h/0h/0h.")
    var path: String

    func run() throws {
        try guarded { () throws(SignerError) in
            let p: DerivationPath
            do { p = try DerivationPath(parsing: path) } catch { throw SignerError(.usage, "\(error)") }
            let (keystore, contents) = try options.unlock()
            let master = try contents.masterKey()
            do throws(WalletCryptoError) {
                let key = try master.derive(p).extendedPublicKey
                let origin = p.components.isEmpty ? "\(master.fingerprint)" : "\(master.fingerprint)/\(p.originForm)"
                print("[\(origin)]\(key.serialized(version: keystore.network.xpubVersion))")
            } catch {
                throw SignerError(error)
            }
        }
    }
}

struct Descriptors: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the BIP-0084 and BIP-0086 account descriptors (and first addresses) of the keystore.")

    @OptionGroup var options: HomeOptions

    @Option(help: "Account index.")
    var account: UInt32 = 0

    @Option(help: "How many receive addresses to show per account.")
    var addresses: UInt32 = 0

    @Flag(help: "Machine-readable JSON output.")
    var json = false

    struct Output: Encodable {
        struct Account: Encodable {
            let purpose: UInt32
            let path: String
            let xpub: String
            let keyExpression: String
            let descriptor: String
            let receiveDescriptor: String
            let changeDescriptor: String
            let receiveAddresses: [String]
            let changeAddress: String
        }
        let network: String
        let masterFingerprint: String
        let accounts: [Account]
    }

    func validate() throws {
        guard account < 0x8000_0000 else { throw ValidationError("--account must be below 2^31") }
        guard addresses <= 1000 else { throw ValidationError("--addresses is at most 1000") }
    }

    func run() throws {
        try guarded { () throws(SignerError) in
            let (keystore, contents) = try options.unlock()
            let master = try contents.masterKey()
            let accounts = try AccountExport.singleSig(master: master, network: keystore.network, account: account)
            var out = [Output.Account]()
            for a in accounts {
                do {
                    var receive = [String]()
                    for i in 0..<max(addresses, json ? 1 : 0) {
                        receive.append(try a.address(change: false, index: i).text)
                    }
                    out.append(
                        Output.Account(
                            purpose: a.purpose.number, path: a.path.description,
                            xpub: a.accountKey.serialized(version: keystore.network.xpubVersion),
                            keyExpression: a.keyExpression,
                            descriptor: a.descriptor, receiveDescriptor: a.descriptor(change: false),
                            changeDescriptor: a.descriptor(change: true), receiveAddresses: receive,
                            changeAddress: try a.address(change: true, index: 0).text))
                } catch {
                    throw SignerError(.key, "\(error)")
                }
            }
            let output = Output(
                network: keystore.network.name, masterFingerprint: master.fingerprint.description, accounts: out)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                guard let data = try? encoder.encode(output) else { throw SignerError(.io, "could not encode JSON") }
                print(String(decoding: data, as: UTF8.self))
                return
            }
            print("network: \(output.network)")
            print("master fingerprint: \(output.masterFingerprint)")
            for a in output.accounts {
                print("")
                print("BIP-00\(a.purpose) account \(account)  \(a.path)")
                print("  key:        \(a.keyExpression)")
                print("  descriptor: \(a.descriptor)")
                for (i, addr) in a.receiveAddresses.enumerated() { print("  receive \(i):  \(addr)") }
            }
        }
    }
}

// Top-level entry point rather than `@main`: SwiftPM compiles main.swift as top-level code once the
// target has more than one file, and `@main` is not allowed there.
// No core file or crash report may ever hold this process's memory (C14).
ProcessHygiene.disableCoreDumps()
ProcessHygiene.disableCrashReports()
KuraSigner.main()
