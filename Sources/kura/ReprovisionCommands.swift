// `kura reprovision`: the admins' side of recovering a cold signer whose state was lost, damaged
// or rolled back (docs/OPERATOR-GUIDE.md §4). Offline, on files.
import ArgumentParser
import Governance
import WalletCrypto

struct ReprovisionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reprovision",
        abstract: "Re-provision a cold signer's state: write the document, then each admin signs it.",
        subcommands: [New.self, Sign.self])

    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Write a re-provisioning document for a signer of the current policy, resuming after its last receipt.")
        @OptionGroup var chain: ChainOptions
        @Option(help: "The signer's id in the policy.") var signer: String
        @Option(help: "The signer's last receipt as the coordinator holds it (omit if it never signed).")
        var lastReceipt: String?
        @Option(help: "An intent that may have been signed and must never be signed again (repeat).")
        var usedIntent: [String] = []
        @Option(help: "ACCOUNT=NONCE: the highest Ethereum nonce that may have been signed for an account (repeat).")
        var ethNonce: [String] = []
        @Option(help: "Hours the document stays valid (at most 168).") var validHours: Int = 24
        @Option(help: "Output file.") var out: String

        func run() throws {
            try GovernanceIO.run {
                let now = try GovernanceIO.now()
                let policy = try chain.verified(now: now).policy
                var sequence: UInt64 = 0
                var receipt: DocumentHash?
                if let lastReceipt {
                    // The receipt as the signer issued it: its kura/receipt/v1 digest is what the signer
                    // checks when it resumes, and its identity signature must verify under this policy.
                    let last = try SignedReceipt(json: try GovernanceIO.readJSON(lastReceipt))
                    guard last.receipt.signer.value == signer else {
                        throw GovernanceError(
                            .invalidValue, .malformed,
                            "\(lastReceipt) is a receipt of \(last.receipt.signer), not of \(signer)")
                    }
                    try last.verify(in: policy)
                    sequence = last.receipt.sequence
                    receipt = last.receipt.digest
                }
                var nonces = [Reprovision.EthereumNonce]()
                for item in ethNonce {
                    let parts = item.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2, let n = UInt64(parts[1]) else {
                        throw GovernanceError(.invalidValue, .malformed, "--eth-nonce '\(item)' is not ACCOUNT=NONCE")
                    }
                    nonces.append(Reprovision.EthereumNonce(account: String(parts[0]).lowercased(), nonce: n))
                }
                guard (1...168).contains(validHours) else {
                    throw GovernanceError(.invalidValue, .malformed, "--valid-hours must be 1...168")
                }
                let doc = try Reprovision.document(
                    policy: policy, signer: try SignerID(signer), resumeSequence: sequence, resumeReceipt: receipt,
                    usedIntents: try usedIntent.map { s throws(GovernanceError) in try IntentID(s) },
                    ethereumNonces: nonces, created: now, expires: now.adding(seconds: Int64(validHours) * 3600))
                let signed = SignedReprovision(reprovision: try Reprovision(json: doc), signatures: [])
                try GovernanceIO.writeJSON(signed.json, to: out)
                GovernanceIO.print(
                    "re-provisioning document for \(signer) (resume after sequence \(sequence)): \(out); digest \(signed.reprovision.digest)"
                )
            }
        }
    }

    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add your admin signature to a re-provisioning document (in place).")
        @Argument var file: String
        @OptionGroup var signer: MemberSigningOptions

        func run() throws {
            try GovernanceIO.run {
                let signed = try SignedReprovision(json: try GovernanceIO.readJSON(file))
                let sig = try signer.sign(signed.reprovision.digest)
                let rest = signed.signatures.filter { $0.member != sig.member }
                try GovernanceIO.writeJSON(
                    SignedReprovision(reprovision: signed.reprovision, signatures: rest + [sig]).json, to: file)
                GovernanceIO.print("signed the re-provisioning document (\(rest.count + 1) signature(s))")
            }
        }
    }
}
