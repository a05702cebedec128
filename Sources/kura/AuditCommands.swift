// `kura audit verify`: checks an exported audit log offline and reconciles it with signer receipts
// (docs/AUDIT.md). Thin: the format is CoordinatorCore's AuditExport, the checks its AuditVerifier.
import ArgumentParser
import CoordinatorCore
import Foundation
import Governance

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Audit logs exported by the coordinator.",
        subcommands: [Verify.self, Export.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify an exported audit log offline and reconcile it with signer receipts.",
            discussion: """
                Exit status: 0 when everything holds; 3 when something does not (each finding is printed with \
                its code and the event sequence where it shows); 2 when an input is malformed or unreadable.
                """)

        @Argument(help: "The export (kura.audit-export JSON).") var export: String
        @Option(
            name: .customLong("receipt"),
            help: "A signer receipt file (a signed receipt, or a JSON array of them) to reconcile with (repeat).")
        var receipts: [String] = []
        @Option(help: "The genesis policy hash you pinned (64 hex digits); without it the export's own is used.")
        var genesisHash: String?
        @Flag(help: "Print the report as JSON.") var json = false

        func validate() throws {
            if let genesisHash, (try? DocumentHash(hex: genesisHash)) == nil {
                throw ValidationError("--genesis-hash must be 64 lowercase hex digits")
            }
        }

        func run() throws {
            let parsed: (AuditExport, [SignedReceipt])
            do {
                let export = try AuditExport(bytes: try AuditIO.read(export, limit: AuditExport.Limits().maxBytes))
                var given = [SignedReceipt]()
                for file in receipts {
                    given += try AuditIO.receipts(
                        JSONParser.parse(try AuditIO.read(file, limit: 16 << 20), limits: .init(maxBytes: 16 << 20)),
                        file: file)
                }
                parsed = (export, given)
            } catch let e as AuditIO.Unreadable {
                AuditIO.fail(e.reason)
            } catch let e as GovernanceError {
                AuditIO.fail("malformed input: \(e.category.token) \(e.code.name): \(e.reason)")
            }
            let (export, given) = parsed
            let report = AuditVerifier.verify(
                export, receipts: given, pinnedGenesis: try genesisHash.map { try DocumentHash(hex: $0) })
            if json {
                var o = report.json.objectValue ?? [:]
                o["organization"] = .string(export.organization.value)
                o["genesis"] = .string(export.genesis.description)
                AuditIO.print(String(decoding: try CanonicalJSON.encode(.object(o)), as: UTF8.self))
            } else {
                AuditIO.print(AuditIO.text(report, export: export))
            }
            if !report.holds { throw ExitCode(3) }
        }
    }
}

enum AuditIO {
    /// A file that cannot be read (missing, too large): exit 2.
    struct Unreadable: Error { let reason: String }

    static func read(_ path: String, limit: Int) throws -> [UInt8] {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let size = attributes[.size] as? NSNumber
        else { throw Unreadable(reason: "cannot read \(path)") }
        guard size.intValue <= limit else { throw Unreadable(reason: "\(path) is larger than \(limit) bytes") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Unreadable(reason: "cannot read \(path)")
        }
        return [UInt8](data)
    }

    /// A receipt file: one signed receipt, or an array of them.
    static func receipts(_ value: JSONValue, file: String) throws -> [SignedReceipt] {
        do {
            if case .array(let list) = value { return try list.map { try SignedReceipt(json: $0) } }
            return [try SignedReceipt(json: value)]
        } catch let e as GovernanceError {
            throw GovernanceError(e.code, e.category, "\(file): \(e.reason)")
        }
    }

    static func text(_ report: AuditReport, export: AuditExport) -> String {
        var lines = [String]()
        lines.append(
            report.holds
                ? "kura audit verify: the log holds"
                : "kura audit verify: \(report.findings.count) finding(s)")
        for f in report.findings {
            lines.append(
                "  \(f.code) \(f.sequence.map { "event \($0)" } ?? "(no event)") [\(f.subject)]: \(f.reason)")
        }
        lines.append(
            "organisation \(export.organization), genesis \(export.genesis) (\(report.genesisPinned ? "pinned" : "taken from the export; pin it with --genesis-hash"))"
        )
        lines.append(
            "checked: \(report.events) events, \(report.verifiedPolicies)/\(report.policies) policies, \(report.intents) intents, \(report.approvals) approvals, \(report.bundles) bundles, \(report.receipts) receipts"
        )
        if let head = report.head { lines.append("head: event \(head.sequence) \(head.hash)") }
        return lines.joined(separator: "\n")
    }

    static func print(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }

    static func fail(_ reason: String) -> Never {
        FileHandle.standardError.write(Data("kura audit verify: \(reason)\n".utf8))
        Foundation.exit(2)
    }
}

extension AuditCommand {
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download the organisation's audit log with its documents (for `kura audit verify`).")
        @Option(name: .shortAndLong, help: "Where to write the export.") var out: String
        @OptionGroup var options: SessionOptions

        func run() async throws {
            try await Online.run {
                let client = try options.client()
                let reply = try await client.request("GET", client.orgPath("/audit/export"))
                let export = try AuditExport(json: reply)
                try Data(try export.encoded() + [0x0a]).write(to: URL(fileURLWithPath: out), options: .atomic)
                Online.output(
                    .object(["events": .number(Double(export.events.count)), "out": .string(out)]), json: options.json
                ) {
                    "\(export.events.count) events exported to \(out)"
                }
            }
        }
    }
}
