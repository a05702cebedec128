// `kura-signer reprovision`: resume a signer whose state is missing, damaged or rolled back, on a
// document signed by the admins' high quorum (docs/OPERATOR-GUIDE.md §4).
import ArgumentParser
import Governance
import Signer
import WalletCrypto

struct ReprovisionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reprovision",
        abstract:
            "Write a new ledger for this signer from an admin quorum's re-provisioning document (the old ledger is kept aside)."
    )
    @OptionGroup var options: HomeOptions
    @Argument(help: "The signed re-provisioning document (`kura reprovision new`, then `kura reprovision sign`).")
    var document: String
    @Option(help: "The genesis policy hash, read out at the key ceremony (64 hex digits).") var genesisHash: String
    @Option(name: .customLong("policy"), help: "Signed policy files, genesis first, in version order (repeat).")
    var policies: [String]

    func run() throws {
        var refusal: Refusal? = nil
        try guarded { () throws(SignerError) in
            let home = try SignerHome(explicit: options.home)
            let genesis: DocumentHash
            let chain: [SignedPolicy]
            let signed: SignedReprovision
            do throws(GovernanceError) {
                genesis = try DocumentHash(hex: genesisHash)
                func read(_ path: String) throws(GovernanceError) -> JSONValue {
                    let bytes: [UInt8]
                    do { bytes = try LocalFiles.read(path, limit: SigningBundle.maxSize) } catch {
                        throw GovernanceError(.tooLarge, .malformed, error.reason)
                    }
                    return try JSONParser.parse(bytes)
                }
                var list = [SignedPolicy]()
                for p in policies { list.append(try SignedPolicy(json: read(p))) }
                chain = list
                signed = try SignedReprovision(json: read(document))
            } catch {
                refusal = Refusal(error)
                return
            }
            let (_, contents) = try options.unlock()
            switch try SignerEngine.reprovision(
                home: home, contents: contents, genesis: genesis, chain: chain, document: signed, clock: clockNow())
            {
            case .done(let d, let replaced):
                emit(
                    "re-provisioned \(d.signer): the ledger resumes after sequence \(d.resumeSequence) under policy version \(d.policyVersion)"
                        + (replaced.map { "; the old ledger is kept at \($0)" } ?? ""))
            case .refused(let r):
                refusal = r
            }
        }
        if let refusal {
            refuse([refusal], json: false)
            throw ExitCode(RefusalFamily.exitCode(refusal.category))
        }
    }
}
