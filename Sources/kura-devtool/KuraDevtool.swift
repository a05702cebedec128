// kura-devtool: a development and test tool, not shipped to operators. It signs raw test
// transactions with throw-away keys so that interop tests can drive a built binary, and it never
// links the Signer module or touches a keystore. Custody signing happens only in kura-signer.
import ArgumentParser

@main
struct KuraDevtool: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kura-devtool",
        abstract: "Development and test tool: throw-away keys only, never for custody.",
        subcommands: [Btc.self, Eth.self, CredentialCommands.self, Json.self, Plan.self, ChainCommands.self]
    )
}
