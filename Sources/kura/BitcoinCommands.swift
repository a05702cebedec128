import ArgumentParser
import Bitcoin
import Foundation
import WalletCrypto

/// `kura descriptor …`: output descriptors.
struct DescriptorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "descriptor", abstract: "Output descriptors (BIP-0380…0389).", subcommands: [Derive.self])

    struct Derive: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the addresses of a descriptor, one per line (like Bitcoin Core's deriveaddresses).")

        @Argument(help: "The descriptor, with or without its #checksum.")
        var descriptor: String

        @Option(help: "First index.")
        var from: UInt32 = 0

        @Option(help: "How many addresses.")
        var count: UInt32 = 1

        @Option(help: "Multipath branch for <a;b> descriptors (0 = first).")
        var branch: Int?

        @Option(help: "Network: mainnet, testnet, signet or regtest.")
        var network: String = "mainnet"

        func validate() throws {
            guard count >= 1, count <= 100_000 else { throw ValidationError("--count must be 1 to 100000") }
            guard UInt64(from) + UInt64(count) <= 0x8000_0000 else {
                throw ValidationError("indexes must stay below 2^31")
            }
        }

        func run() throws {
            try reportingErrors {
                let net = try Network(named: network)
                let d = try Descriptor(descriptor, network: net)
                if d.branchCount > 1 && branch == nil {
                    throw BitcoinError(
                        .invalidDescriptor, "multipath descriptor: choose a branch with --branch 0…\(d.branchCount - 1)"
                    )
                }
                var out = ""
                for a in try d.deriveAddresses(from..<(from + count), branch: branch ?? 0) { out += a.text + "\n" }
                FileHandle.standardOutput.write(Data(out.utf8))
            }
        }
    }
}

/// `kura psbt …`: partially signed transactions.
struct PSBTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "psbt", abstract: "PSBTs (BIP-0174/0370/0371).", subcommands: [Decode.self])

    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a readable summary of a PSBT file (binary or base64).")

        @Argument(help: "The PSBT file ('-' for standard input).")
        var file: String

        @Option(help: "Network used to print addresses.")
        var network: String = "mainnet"

        @Flag(help: "Machine-readable JSON.")
        var json = false

        func run() throws {
            try reportingErrors {
                let net = try Network(named: network)
                let raw: Data
                if file == "-" {
                    raw = FileHandle.standardInput.readDataToEndOfFile()
                } else {
                    guard let d = FileManager.default.contents(atPath: file) else {
                        throw BitcoinError(.invalidPSBT, "cannot read \(file)")
                    }
                    raw = d
                }
                guard raw.count <= PSBT.maxSize * 2 else {
                    throw BitcoinError(.resourceLimit, "file is larger than a PSBT may be")
                }
                let bytes = [UInt8](raw)
                let psbt: PSBT
                if bytes.starts(with: [0x70, 0x73, 0x62, 0x74, 0xff]) {
                    psbt = try PSBT(bytes: bytes)
                } else {
                    let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                    psbt = try PSBT(base64: text)
                }
                let summary = try PSBTSummary(psbt, network: net)
                if json {
                    let e = JSONEncoder()
                    e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                    FileHandle.standardOutput.write(try e.encode(summary) + Data("\n".utf8))
                } else {
                    FileHandle.standardOutput.write(Data(summary.text.utf8))
                }
            }
        }
    }
}

/// A decoded view of a PSBT for people and machines.
struct PSBTSummary: Encodable {
    struct Input: Encodable {
        let outpoint: String
        let sequence: UInt32
        let value: Int64?
        let address: String?
        let scriptPubKey: String?
        let hasNonWitnessUTXO: Bool
        let sighashType: UInt32?
        let partialSignatures: Int
        let taprootKeySignature: Bool
        let derivations: [String]
        let finalized: Bool
    }
    struct Output: Encodable {
        let value: Int64
        let address: String?
        let scriptPubKey: String
        let derivations: [String]
    }
    let version: UInt32
    let txid: String
    let txVersion: Int32
    let lockTime: UInt32
    let inputs: [Input]
    let outputs: [Output]
    let fee: Int64?
    let unknownGlobalPairs: Int

    init(_ p: PSBT, network: Network) throws {
        let tx = try p.unsignedTx()
        version = p.version
        txid = tx.computeTxid().description
        txVersion = tx.version
        lockTime = tx.lockTime
        unknownGlobalPairs = p.globalUnknown.count
        inputs = tx.inputs.enumerated().map { i, input in
            let m = p.inputs[i]
            let spent = try? p.spentOutput(i)
            return Input(
                outpoint: input.previousOutput.description, sequence: input.sequence, value: spent?.value.sats,
                address: spent.flatMap { try? Address(scriptPubKey: $0.scriptPubKey, network: network).text },
                scriptPubKey: spent.map { Hex.encode($0.scriptPubKey.bytes) },
                hasNonWitnessUTXO: m.nonWitnessUTXO != nil,
                sighashType: m.sighashType, partialSignatures: m.partialSignatures.count,
                taprootKeySignature: m.tapKeySignature != nil,
                derivations: m.bip32Derivations.map { "[\($0.value)]\(Hex.encode($0.key))" }
                    + m.tapBIP32Derivations.map { "[\($0.value.origin)]\(Hex.encode($0.key))" },
                finalized: m.finalScriptSig != nil || m.finalScriptWitness != nil)
        }
        outputs = tx.outputs.enumerated().map { i, o in
            let m = p.outputs[i]
            return Output(
                value: o.value.sats, address: try? Address(scriptPubKey: o.scriptPubKey, network: network).text,
                scriptPubKey: Hex.encode(o.scriptPubKey.bytes),
                derivations: m.bip32Derivations.map { "[\($0.value)]\(Hex.encode($0.key))" }
                    + m.tapBIP32Derivations.map { "[\($0.value.origin)]\(Hex.encode($0.key))" })
        }
        fee = try? p.fee().sats
    }

    var text: String {
        var s = "PSBT version \(version), transaction \(txid) (version \(txVersion), locktime \(lockTime))\n"
        s += "inputs (\(inputs.count)):\n"
        for (i, input) in inputs.enumerated() {
            let value = input.value.map { "\(Amount.format($0)) BTC" } ?? "value unknown"
            s += "  #\(i) \(input.outpoint) \(value) \(input.address ?? input.scriptPubKey ?? "")"
            s +=
                input.finalized
                ? " [final]"
                : " [\(input.partialSignatures) partial signature(s)\(input.taprootKeySignature ? ", taproot key signature" : "")]"
            s += "\n"
            for d in input.derivations { s += "      key \(d)\n" }
        }
        s += "outputs (\(outputs.count)):\n"
        for (i, o) in outputs.enumerated() {
            s +=
                "  #\(i) \(Amount.format(o.value)) BTC to \(o.address ?? "script " + o.scriptPubKey)\(o.derivations.isEmpty ? "" : " [ours]")\n"
            for d in o.derivations { s += "      key \(d)\n" }
        }
        s += fee.map { "fee: \($0) sat\n" } ?? "fee: unknown (spent amounts missing)\n"
        return s
    }
}

extension Amount {
    /// BTC with eight decimals for a satoshi count.
    static func format(_ sats: Int64) -> String { (try? Amount(sats: sats))?.btcString ?? "\(sats) sat" }
}

/// Runs `body`; a Bitcoin error is printed as one line on stderr with its code, and exits 2.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let e as BitcoinError {
        FileHandle.standardError.write(Data("kura: error: \(e.code.name): \(e.reason)\n".utf8))
        throw ExitCode(2)
    }
}
