// `kura-devtool json …`: governance JSON for the interop tests, which compare Kura's RFC 8785 encoder
// and strict parser with an independent implementation through this built binary. No keys involved.
import ArgumentParser
import Foundation
import Governance
import WalletCrypto

struct Json: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "json", abstract: "Governance JSON: RFC 8785 canonical form through the strict parser.",
        subcommands: [JsonCanonicalize.self])
}

struct JsonCanonicalize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "canonicalize",
        abstract: "Read a JSON array of documents; print each one's RFC 8785 canonical bytes as hex, one per line.")

    enum Numbers: String, ExpressibleByArgument, CaseIterable {
        case any, integers
    }

    @Option(help: "Numbers the parser accepts: 'integers' (the document policy) or 'any' (general JSON numbers).")
    var numbers: Numbers = .integers

    @Option(help: "Largest input file, in bytes.")
    var maxBytes: Int = 64 << 20

    @Argument(help: "File holding a JSON array whose elements are the documents.")
    var file: String

    func validate() throws {
        guard maxBytes > 0 else { throw ValidationError("--max-bytes must be positive") }
    }

    func run() throws {
        try devtoolGuarded {
            let bytes = try readBytes(file, limit: maxBytes)
            // The wrapping array is one level more and holds many documents; every other limit is the
            // document default.
            let defaults = JSONParser.Limits()
            let limits = JSONParser.Limits(
                maxBytes: maxBytes, maxDepth: defaults.maxDepth + 1, maxStringBytes: defaults.maxStringBytes,
                maxArrayElements: max(defaults.maxArrayElements, maxBytes / 2),
                maxObjectMembers: defaults.maxObjectMembers)
            let policy: JSONParser.NumberPolicy = numbers == .any ? .any : .integersOnly
            let lines: [String]
            do {
                guard case .array(let documents) = try JSONParser.parse(bytes, limits: limits, numbers: policy) else {
                    throw DevtoolError("wrong_type", "\(file) must hold a JSON array of documents")
                }
                lines = try documents.map { document throws(GovernanceError) in
                    Hex.encode(try CanonicalJSON.encode(document))
                }
            } catch let error as GovernanceError {
                throw DevtoolError(error.code.name, "\(file): \(error.reason)")
            }
            print(lines.joined(separator: "\n"))
        }
    }

    private func readBytes(_ path: String, limit: Int) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DevtoolError("io_error", "cannot open \(path)")
        }
        defer { try? handle.close() }
        let data = try handle.read(upToCount: limit + 1) ?? Data()
        guard data.count <= limit else { throw DevtoolError("resource_limit", "\(path) exceeds \(limit) bytes") }
        return [UInt8](data)
    }
}
