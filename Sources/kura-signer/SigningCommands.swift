// The key ceremony and signing commands. Thin: every decision is in Signer.SignerEngine.
import ArgumentParser
import Bitcoin
import Ethereum
import Governance
import Signer
import WalletCrypto

#if canImport(Glibc)
    import Glibc
#endif

/// Writes a line to stdout or stderr without Foundation.
func emit(_ text: String, to fd: Int32 = 1) {
    var line = text + "\n"
    _ = line.withUTF8 { Glibc.write(fd, $0.baseAddress, $0.count) }
}

/// The signer's clock (wall time; the engine takes max(clock, its high-water mark)).
func clockNow() -> Timestamp {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return (try? Timestamp(seconds: Int64(ts.tv_sec))) ?? (try! Timestamp(seconds: 0))
}

/// Opens keystore and state for a signing command: state problems are STATE_INTEGRITY, a keystore
/// holding another seed than the state's is WALLET_MISMATCH, other keystore problems are
/// KEYSTORE_INVALID; each exits with its family's code. A state held by another process is an error.
func openContext(_ options: HomeOptions, json: Bool = false) throws -> SignerContext {
    do {
        let home = try SignerHome(explicit: options.home)
        let (keystore, contents) = try options.unlock()
        return try SignerContext.open(home: home, contents: contents, network: keystore.network)
    } catch {
        if error.code == .stateBusy { throw fail(error) }
        let category: RefusalCategory
        switch error.code {
        case .stateIntegrity: category = .stateIntegrity
        case .walletMismatch: category = .walletMismatch
        default: category = .keystoreInvalid
        }
        refuse([Refusal(category, "\(error.code.name): \(error.reason)")], json: json)
        throw ExitCode(RefusalFamily.exitCode(category))
    }
}

func refuse(_ refusals: [Refusal], json: Bool) {
    if json {
        let items: [JSONValue] = refusals.map {
            ["category": .string($0.category.token), "reason": .string($0.reason)]
        }
        emit(
            String(
                decoding: (try? CanonicalJSON.encode(["result": "refused", "refusals": .array(items)])) ?? [],
                as: UTF8.self))
    }
    for r in refusals { emit("kura-signer: refused: \(r.category.token): \(r.reason)", to: 2) }
}

func readBundle(_ path: String, json: Bool = false) throws -> [UInt8] {
    do { return try LocalFiles.read(path, limit: SigningBundle.maxSize + 1) } catch {
        // An oversize bundle is refused on its size, before any of it is parsed (B17).
        let category: RefusalCategory = error.code == .tooLarge ? .resourceLimit : .malformed
        refuse([Refusal(category, "cannot read the bundle: \(error.reason)")], json: json)
        throw ExitCode(RefusalFamily.malformedExit)
    }
}

struct Pin: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Key ceremony: pin the genesis policy (its hash becomes the root of every later version).")
    @OptionGroup var options: HomeOptions
    @Argument(help: "The signed genesis policy file.") var genesis: String

    func run() throws {
        var context = try openContext(options)
        try guarded { () throws(SignerError) in
            let bytes = try LocalFiles.read(genesis, limit: SigningBundle.maxSize)
            let signed: SignedPolicy
            do { signed = try SignedPolicy(json: try JSONParser.parse(bytes)) } catch {
                throw SignerError(.usage, "\(error)")
            }
            try SignerEngine.pin(genesis: signed, context: &context, clock: clockNow())
            emit("pinned genesis policy \(signed.policy.hash) (organisation \(signed.policy.organization))")
        }
    }
}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print this signer's card for policy authors: identity key, fingerprint, account keys with origins.")
    @OptionGroup var options: HomeOptions
    @Option(help: "Account index.") var account: UInt32 = 0

    func run() throws {
        try guarded { () throws(SignerError) in
            let (keystore, contents) = try options.unlock()
            let master = try contents.masterKey()
            let net = keystore.network
            let identity = try SignerIdentity.publicKey(master: master)
            func key(_ path: String) throws(SignerError) -> JSONValue {
                do {
                    let p = try DerivationPath(parsing: path)
                    return .string(
                        "[\(master.fingerprint)/\(p.originForm)]\(try master.derive(p).extendedPublicKey.serialized(version: net.xpubVersion))"
                    )
                } catch { throw SignerError(error) }
            }
            let coin = net.coinType
            let eth: String
            do {
                eth = EthereumAddressOf.address(master: master, index: account)
            }
            let card: JSONValue = [
                "kind": "kura.signer-card", "format": 1, "network": .string(net.name),
                "fingerprint": .string(master.fingerprint.description),
                "identityKey": .string(Hex.encode(identity.bytes)),
                "keys": [
                    "bip84": try key("m/84h/\(coin)h/\(account)h"), "bip86": try key("m/86h/\(coin)h/\(account)h"),
                    "bip48multisig": try key("m/48h/\(coin)h/\(account)h/2h"),
                ],
                "ethereum": ["address": .string(eth), "derivation": .string("m/44h/60h/0h/0/\(account)")],
            ]
            do { emit(String(decoding: try CanonicalJSON.encode(card), as: UTF8.self)) } catch {
                throw SignerError(.io, "\(error)")
            }
        }
    }
}

/// The Ethereum account address of a master key (BIP-0044 m/44'/60'/0'/0/i).
enum EthereumAddressOf {
    static func address(master: ExtendedPrivateKey, index: UInt32) -> String {
        guard let p = try? DerivationPath(parsing: "m/44h/60h/0h/0/\(index)"), let k = try? master.derive(p).privateKey
        else { return "" }
        return EthereumAddress(publicKey: k.publicKey).checksummed
    }
}

struct ReviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "Run every check on a signing bundle and print the review, or the refusal and its reason.")
    @OptionGroup var options: HomeOptions
    @Argument(help: "The signing bundle file.") var bundle: String
    @Flag(help: "Machine-readable JSON.") var json = false

    func run() throws {
        let context = try openContext(options, json: json)
        let bytes = try readBundle(bundle, json: json)
        switch SignerEngine.review(bundle: bytes, context: context, clock: clockNow()) {
        case .ready(let p):
            if json {
                emit(
                    String(
                        decoding: (try? CanonicalJSON.encode(["result": "ok", "review": p.review.json])) ?? [],
                        as: UTF8.self))
            } else {
                emit(p.review.text)
                emit("all checks passed")
            }
        case .refused(let r):
            refuse(r, json: json)
            throw ExitCode(RefusalFamily.exitCode(r[0].category))
        }
    }
}

struct SignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract:
            "Check a signing bundle, ask the operator to confirm, record it in the ledger, then write the signed transaction and a receipt."
    )
    @OptionGroup var options: HomeOptions
    @Argument(help: "The signing bundle file.") var bundle: String
    @Option(
        name: .shortAndLong,
        help:
            "Where to write the signed PSBT (base64) or Ethereum transaction (hex); the receipt goes to OUT.receipt.json."
    )
    var out: String
    @Flag(help: "Confirm without a prompt (scripted runs; needs --operator).") var yes = false
    @Option(name: .customLong("operator"), help: "The operator's name, recorded in the ledger.") var operatorName:
        String?

    func validate() throws {
        if yes && (operatorName ?? "").isEmpty { throw ValidationError("--yes needs --operator NAME") }
    }

    func run() throws {
        var context = try openContext(options)
        let bytes = try readBundle(bundle)
        let prepared: PreparedSignature
        switch SignerEngine.review(bundle: bytes, context: context, clock: clockNow()) {
        case .ready(let p): prepared = p
        case .refused(let r):
            refuse(r, json: false)
            throw ExitCode(RefusalFamily.exitCode(r[0].category))
        }
        emit(prepared.review.text)
        var who = operatorName ?? ""
        if !yes {
            do {
                guard try Terminal.confirm("Sign this transaction? Type 'yes': ") else {
                    emit("kura-signer: not signed (the operator declined)", to: 2)
                    throw ExitCode(1)
                }
                if who.isEmpty {
                    who = String(
                        decoding: try Terminal.readSecret(prompt: "Operator name: ").unsafeCopy(), as: UTF8.self)
                }
            } catch let e as SignerError {
                throw fail(e)
            }
        }
        try guarded { () throws(SignerError) in
            if LocalFiles.exists(out) || LocalFiles.exists(out + ".receipt.json") {
                throw SignerError(.alreadyExists, "\(out) or its receipt already exists")
            }
            let output = try SignerEngine.sign(prepared, operatorName: who, context: &context)
            try LocalFiles.writeNew(out, Array((output.transactionText + "\n").utf8))
            let receipt: [UInt8]
            do { receipt = try CanonicalJSON.encode(output.receipt.json) } catch { throw SignerError(.io, "\(error)") }
            try LocalFiles.writeNew(out + ".receipt.json", receipt + [0x0a])
            emit("signed: \(out) (receipt \(output.receipt.receipt.sequence): \(out).receipt.json)")
        }
    }
}
