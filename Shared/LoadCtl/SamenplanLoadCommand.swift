// `samenplan-load`: the load generator and the reconciler of issue 8's proof under fire.
// `generate` publishes a seeded mix of traffic at a given rate and records what it sent;
// `reconcile` proves that every accepted input had exactly its expected effects.
import ArgumentParser

@main
struct SamenplanLoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "samenplan-load",
        abstract: "Generate realistic traffic into a running suite, and reconcile its effects.",
        subcommands: [Generate.self, Reconcile.self])
}
