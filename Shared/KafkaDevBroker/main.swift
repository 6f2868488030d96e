// Entry point of `kafka-dev-broker`; the command is in KafkaDevBroker.swift.
//
// Parsed and started by hand: in top-level code, `await KafkaDevBroker.main()` and
// `command.run()` resolve to ParsableCommand's synchronous defaults (which only print the
// help), so the async work is called by a name of its own.
let command = KafkaDevBroker.parseOrExit()
do {
    try await command.serve()
} catch {
    KafkaDevBroker.exit(withError: error)
}
