// kura: the operator CLI and `kura serve`, the coordinator. Thin: the logic lives in the
// libraries below it.
import ArgumentParser

@main
struct Kura: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kura",
        abstract:
            "Kura operator CLI: descriptors, PSBTs, intents and approvals (more commands arrive with each milestone).",
        version: "0.1.0",
        subcommands: [
            DescriptorCommand.self, PSBTCommand.self, Eth.self, Keys.self, PolicyCommand.self, IntentCommand.self,
            Approve.self, ReprovisionCommand.self, Serve.self, Login.self, OrgCommand.self, AuditCommand.self,
            BundleCommand.self,
        ]
    )
}
