// `kura-signer ledger verify|list`: the signer's own state, for operators, auditors and tests.
import ArgumentParser
import Governance
import Signer
import WalletCrypto

struct LedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract:
            "Verify or list the signer's ledger (needs the keystore passphrase: the ledger key comes from the seed).",
        subcommands: [LedgerVerify.self, LedgerList.self])
}

/// A summary of the open state.
func ledgerSummary(_ context: SignerContext) -> [String: JSONValue] {
    [
        "identityKey": .string(context.state.identity.map { Hex.encode($0.bytes) } ?? ""),
        "records": .number(Double(context.ledger.entries.count)),
        "sequence": .number(Double(context.state.sequence)),
        "policyVersion": .number(Double(context.state.policyVersion)),
        "uncommittedBytes": .number(Double(context.ledger.uncommittedBytes)),
    ]
}

struct LedgerVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify every record and the committed head; refuses (STATE_INTEGRITY, exit 6) if anything is wrong.")
    @OptionGroup var options: HomeOptions

    func run() throws {
        let context = try openContext(options)
        emit(
            "ledger verified: \(context.ledger.entries.count) records, \(context.state.sequence) signatures, policy version \(context.state.policyVersion), \(context.ledger.uncommittedBytes) uncommitted bytes"
        )
    }
}

struct LedgerList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Verify the ledger and list every entry (JSON with --json).")
    @OptionGroup var options: HomeOptions
    @Flag(help: "Machine-readable JSON.") var json = false

    func run() throws {
        let context = try openContext(options, json: json)
        if json {
            var o = ledgerSummary(context)
            o["result"] = "ok"
            o["entries"] = .array(context.ledger.entries.map(\.json))
            emit(String(decoding: (try? CanonicalJSON.encode(.object(o))) ?? [], as: UTF8.self))
            return
        }
        for (i, e) in context.ledger.entries.enumerated() {
            emit("\(i): " + String(decoding: (try? CanonicalJSON.encode(e.json)) ?? [], as: UTF8.self))
        }
        emit("\(context.ledger.entries.count) records, \(context.state.sequence) signatures")
    }
}
