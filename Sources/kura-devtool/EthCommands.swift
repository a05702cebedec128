// `kura-devtool eth …`: builds and signs EIP-1559 test transactions with throw-away keys, so that
// the interop tests can drive a built binary. Never for custody: kura-signer has no such command
// (ATTACKS C10), and this tool never opens a keystore.
import ArgumentParser
import Ethereum
import Foundation
import WalletCrypto

struct Eth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eth",
        abstract: "Ethereum test transactions (EIP-1559) signed with throw-away keys.",
        subcommands: [EthSign.self, EthSignBatch.self, EthAddressCommand.self]
    )
}

/// Where a throw-away key comes from: a hex private key, or a BIP-0039 mnemonic and an account.
struct EthKeyOptions: ParsableArguments {
    @Option(help: "File holding a 32-byte private key as hex (throw-away test keys only).")
    var keyFile: String?

    @Option(help: "File holding a BIP-0039 mnemonic; keys are m/44'/60'/0'/0/account.")
    var mnemonicFile: String?

    func validate() throws {
        guard (keyFile == nil) != (mnemonicFile == nil) else {
            throw ValidationError("give exactly one of --key-file and --mnemonic-file")
        }
    }

    /// Resolves the key for `account` (ignored with --key-file, where it must be absent or 0).
    final class Keys {
        private let single: PrivateKey?
        private let chain: ExtendedPrivateKey?
        private var cache: [UInt32: PrivateKey] = [:]

        init(_ options: EthKeyOptions) throws {
            if let keyFile = options.keyFile {
                var text = try DevtoolFiles.readText(keyFile, limit: 256)
                if text.hasPrefix("0x") { text.removeFirst(2) }
                guard let key = try? PrivateKey(bytes: SecretBytes(Hex.decode(text, maxBytes: 32))) else {
                    throw DevtoolError("key_error", "\(keyFile) does not hold a valid 32-byte hex private key")
                }
                single = key
                chain = nil
            } else {
                let phrase = try DevtoolFiles.readText(options.mnemonicFile!, limit: 4096)
                let master: ExtendedPrivateKey
                do {
                    let mnemonic = try Mnemonic(phrase: SecretBytes(Array(phrase.utf8)))
                    master = try ExtendedPrivateKey(seed: mnemonic.seed())
                } catch {
                    throw DevtoolError("key_error", "the mnemonic file does not hold a valid BIP-0039 mnemonic")
                }
                single = nil
                chain = try EthereumDerivation.externalChain(master: master)
            }
        }

        func key(account: UInt32?) throws -> PrivateKey {
            if let single {
                guard (account ?? 0) == 0 else { throw DevtoolError("usage", "account is only for --mnemonic-file") }
                return single
            }
            let index = account ?? 0
            if let cached = cache[index] { return cached }
            let key = try EthereumDerivation.privateKey(chain: chain!, index: index)
            cache[index] = key
            return key
        }
    }
}

/// The JSON line printed for each signed transaction.
struct SignedOutput: Encodable {
    let raw: String
    let hash: String
    let from: String
    let signingHash: String

    init(_ signed: SignedEIP1559Transaction, from key: PrivateKey) {
        raw = "0x" + Hex.encode(signed.serialized)
        hash = signed.computeHash().description
        from = EthereumAddress(publicKey: key.publicKey).checksummed
        signingHash = "0x" + Hex.encode(signed.transaction.computeSigningHash())
    }

    var line: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }
}

struct EthSign: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign", abstract: "Build and sign one EIP-1559 transaction given as JSON; print raw, hash, from.")

    @OptionGroup var keys: EthKeyOptions

    @Option(help: "The transaction as JSON (see EthTransactionRequest.swift for the fields).")
    var json: String

    func run() throws {
        try devtoolGuarded {
            let request = try EthTransactionRequest.parse(Array(json.utf8))
            let key = try EthKeyOptions.Keys(keys).key(account: request.account)
            print(SignedOutput(try request.transaction().sign(with: key), from: key).line)
        }
    }
}

struct EthSignBatch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign-batch",
        abstract: "Sign many transactions: one JSON object per input line, one JSON result per output line.")

    @OptionGroup var keys: EthKeyOptions

    @Option(help: "File with one transaction JSON object per line.")
    var input: String

    func run() throws {
        try devtoolGuarded {
            let resolver = try EthKeyOptions.Keys(keys)
            let text = try DevtoolFiles.readText(input, limit: 256 << 20)
            var out = [String]()
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                if line.allSatisfy(\.isWhitespace) { continue }
                do {
                    let request = try EthTransactionRequest.parse(Array(line.utf8))
                    let key = try resolver.key(account: request.account)
                    out.append(SignedOutput(try request.transaction().sign(with: key), from: key).line)
                } catch {
                    throw DevtoolError.wrapping(error, context: "line \(n + 1)")
                }
            }
            print(out.joined(separator: "\n"))
        }
    }
}

struct EthAddressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "address", abstract: "Print the EIP-55 address of the throw-away key.")

    @OptionGroup var keys: EthKeyOptions

    @Option(help: "Account index with --mnemonic-file.")
    var account: UInt32?

    func run() throws {
        try devtoolGuarded {
            let key = try EthKeyOptions.Keys(keys).key(account: account)
            print(EthereumAddress(publicKey: key.publicKey).checksummed)
        }
    }
}

/// A devtool failure with a stable code, printed as `kura-devtool: error: code: reason`.
struct DevtoolError: Error {
    let code: String
    let reason: String

    init(_ code: String, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    static func wrapping(_ error: any Error, context: String) -> DevtoolError {
        let inner = DevtoolError.from(error)
        return DevtoolError(inner.code, "\(context): \(inner.reason)")
    }

    static func from(_ error: any Error) -> DevtoolError {
        switch error {
        case let e as DevtoolError: return e
        case let e as EthereumError: return DevtoolError(e.code.name, e.reason)
        case let e as WalletCryptoError: return DevtoolError(e.code.name, e.reason)
        case let e as DecodingError: return DevtoolError("invalid_json", Self.describe(e))
        default: return DevtoolError("error", "\(error)")
        }
    }

    private static func describe(_ e: DecodingError) -> String {
        switch e {
        case .keyNotFound(let key, _): return "missing field \"\(key.stringValue)\""
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c):
            let path = c.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? c.debugDescription : "\(path): \(c.debugDescription)"
        @unknown default: return "\(e)"
        }
    }
}

/// Exit status for bad input (sysexits EX_DATAERR).
let devtoolDataError: Int32 = 65

/// Runs `body`; any error becomes one line on stderr and exit status 65.
func devtoolGuarded(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        let e = DevtoolError.from(error)
        FileHandle.standardError.write(Data("kura-devtool: error: \(e.code): \(e.reason)\n".utf8))
        throw ExitCode(devtoolDataError)
    }
}

enum DevtoolFiles {
    /// Reads a UTF-8 text file of at most `limit` bytes, trimmed of surrounding whitespace.
    static func readText(_ path: String, limit: Int) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DevtoolError("io_error", "cannot open \(path)")
        }
        defer { try? handle.close() }
        let data = try handle.read(upToCount: limit + 1) ?? Data()
        guard data.count <= limit else { throw DevtoolError("resource_limit", "\(path) exceeds \(limit) bytes") }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
