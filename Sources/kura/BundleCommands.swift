// Building, signing bundles and signed results on the coordinator: the online half of the signing
// round trip (`kura-signer` is the offline half).
import ArgumentParser
import Foundation
import Governance
import WalletCrypto

extension IntentCommand {
    struct Build: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Have the coordinator build the unsigned transaction of an approved intent from its chain source."
        )
        @Argument var id: String
        @Option(help: "Idempotency key (retries with the same key are answered once).") var idempotencyKey: String?
        @OptionGroup var options: SessionOptions

        func run() async throws {
            try await Online.run {
                let client = try options.client()
                let reply = try await client.request(
                    "POST", client.orgPath("/intents/\(try IntentID(id).value)/transaction"), body: [],
                    idempotencyKey: idempotencyKey ?? APIClient.newIdempotencyKey())
                let t = reply["transaction"]
                Online.output(reply, json: options.json) {
                    "intent \(id) built: \(t?["chain"]?.string ?? "?") transaction \(t?["id"]?.string ?? "?")"
                        + "\nfee         \(t?["fee"]?.string ?? "?")"
                        + "\nsha256      \(t?["sha256"]?.string ?? "?")"
                        + "\nbundle      \(reply["bundleSha256"]?.string ?? "?")"
                }
            }
        }
    }

    struct TransactionCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "transaction", abstract: "Show the finalised signed transaction of an intent.")
        @Argument var id: String
        @OptionGroup var options: SessionOptions

        func run() async throws {
            try await Online.run {
                let client = try options.client()
                let reply = try await client.request(
                    "GET", client.orgPath("/intents/\(try IntentID(id).value)/transaction"))
                Online.output(reply, json: options.json) {
                    "\(reply["chain"]?.string ?? "?") \(reply["txid"]?.string ?? "?")\n\(reply["raw"]?.string ?? "")"
                }
            }
        }
    }
}

struct BundleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle", abstract: "Signing bundles: download one for a cold signer, upload its signed result.",
        subcommands: [Get.self, Put.self])

    /// Signed results and receipts are small; a larger file is refused before it is read.
    static let maxFile = 8 << 20

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download the signing bundle of a built intent for one signer (with its latest receipt).")
        @Argument var id: String
        @Option(help: "The signer (as the policy names it) that will sign the bundle.") var signer: String
        @Option(name: .shortAndLong, help: "Where to write the bundle.") var out: String
        @OptionGroup var options: SessionOptions

        func run() async throws {
            try await Online.run {
                let client = try options.client()
                let signerID = try SignerID(signer)
                let bytes = try await client.send(
                    "GET", client.orgPath("/intents/\(try IntentID(id).value)/bundle?signer=\(signerID.value)"))
                // The bundle is checked by the signer, not here; it is written exactly as served.
                try Data(bytes).write(to: URL(fileURLWithPath: out), options: .atomic)
                let sha = Hex.encode(Hash.sha256(bytes))
                Online.output(
                    ["file": .string(out), "bytes": .number(Double(bytes.count)), "sha256": .string(sha)],
                    json: options.json
                ) { "wrote \(out) (\(bytes.count) bytes, sha256 \(sha))" }
            }
        }
    }

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Upload a signer's result: FILE as `kura-signer sign` wrote it (a base64 PSBT or a 0x-hex Ethereum transaction) and its receipt (FILE.receipt.json)."
        )
        @Argument var id: String
        @Argument var file: String
        @Option(help: "The receipt file (default FILE.receipt.json).") var receipt: String?
        @Option(help: "Idempotency key (retries with the same key are answered once).") var idempotencyKey: String?
        @OptionGroup var options: SessionOptions

        func run() async throws {
            try await Online.run {
                let intent = try IntentID(id)
                let text = try Self.text(file)
                let receiptPath = receipt ?? file + ".receipt.json"
                let signedReceipt = try SignedReceipt(
                    json: try JSONParser.parse(try Self.read(receiptPath), limits: .init(maxBytes: Self.maxReceipt)))
                var body: [String: JSONValue] = ["receipt": signedReceipt.json]
                if text.hasPrefix("0x") {
                    body["chain"] = "ethereum"
                    body["signed"] = .string(text)
                } else {
                    body["chain"] = "bitcoin"
                    body["psbt"] = .string(text)
                }
                let client = try options.client()
                let reply = try await client.request(
                    "POST", client.orgPath("/intents/\(intent.value)/results"),
                    body: try CanonicalJSON.encode(.object(body)),
                    idempotencyKey: idempotencyKey ?? APIClient.newIdempotencyKey())
                let detail = try await client.request("GET", client.orgPath("/intents/\(intent.value)"))
                let state = detail["intent"]?["state"]?.string ?? "?"
                var out = reply
                if case .object(var o) = reply {
                    o["state"] = .string(state)
                    out = .object(o)
                }
                Online.output(out, json: options.json) {
                    "receipt \(reply["receipt"]?["sequence"]?.int ?? 0) of \(signedReceipt.receipt.signer) recorded; intent \(intent) is \(state)"
                }
            }
        }

        static let maxReceipt = 64 << 10

        static func read(_ path: String) throws -> [UInt8] {
            do { return try AuditIO.read(path, limit: BundleCommand.maxFile) } catch let e as AuditIO.Unreadable {
                throw CLIError(e.reason)
            }
        }

        /// The result file's text, surrounding whitespace removed.
        static func text(_ path: String) throws -> String {
            guard let text = String(validating: try read(path), as: UTF8.self) else {
                throw CLIError("\(path) is not text")
            }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }
}
