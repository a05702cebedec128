// kura: the operator CLI (and, in a later milestone, `kura serve`). Thin: the logic lives in the
// libraries below it.
import ArgumentParser

@main
struct Kura: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kura",
        abstract:
            "Kura operator CLI: descriptors, PSBTs, intents and approvals (more commands arrive with each milestone).",
        version: "0.1.0"
    )
}
