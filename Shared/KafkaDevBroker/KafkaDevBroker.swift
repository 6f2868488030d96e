// `kafka-dev-broker`: librdkafka's mock cluster as a stand-alone process, so the suite runs
// on one machine without Docker or a JVM. It speaks the real Kafka protocol on 127.0.0.1
// ports that librdkafka picks; the chosen address is printed on stdout and optionally
// written to a file for scripts to read.

import ArgumentParser
import Dispatch
import Foundation
import SamenplanDomain
import SamenplanKafka

struct KafkaDevBroker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka-dev-broker",
        abstract: "Runs an in-process Kafka mock cluster with every Samenplan topic.",
        discussion: """
            Prints one line `bootstrap.servers=<servers>` on stdout once the topics exist, then \
            runs until SIGTERM or SIGINT. The mock cluster chooses its own ports. It keeps about \
            5 MB per partition: a development broker, not a store. For fault drills, SIGUSR1 takes \
            every broker down (connections drop, new ones are refused) and SIGUSR2 brings them back.
            """
    )

    @Option(help: "Number of mock brokers.")
    var brokers: Int = 1

    @Option(help: "Partitions of each topic.")
    var partitions: Int32 = 6

    @Option(help: "Also write the bootstrap servers (and a newline) to this file, atomically.")
    var bootstrapFile: String?

    func validate() throws {
        guard brokers >= 1 else { throw ValidationError("--brokers must be at least 1") }
        guard partitions >= 1 else { throw ValidationError("--partitions must be at least 1") }
    }

    func run() async throws {
        try await serve()
    }

    /// Starts the cluster and the topics, announces the address, waits for a signal.
    func serve() async throws {
        // Install the signal handling before anything else, so that a signal arriving while
        // the cluster starts is not lost to the default handler (which would skip close()).
        let signals = SignalWaiter(signals: [SIGTERM, SIGINT, SIGUSR1, SIGUSR2])

        let cluster = try KafkaMockCluster(brokers: brokers)
        let servers = cluster.bootstrapServers
        do {
            for topic in Topic.all {
                try cluster.createTopic(topic, partitions: partitions)
            }
            if let bootstrapFile {
                try writeAtomically(servers + "\n", to: bootstrapFile)
            }
        } catch {
            cluster.close()
            throw error
        }
        // FileHandle writes straight to the descriptor: nothing sits in a stdio buffer.
        FileHandle.standardOutput.write(Data("bootstrap.servers=\(servers)\n".utf8))

        let received = await signals.wait { received in
            // The chaos run's broker outage: the data stays, only the brokers are unreachable.
            let down = received == SIGUSR1
            for broker in 1...Int32(brokers) {
                down ? cluster.setBrokerDown(broker) : cluster.setBrokerUp(broker)
            }
            FileHandle.standardError.write(Data("kafka-dev-broker: brokers \(down ? "down" : "up")\n".utf8))
        }
        FileHandle.standardError.write(Data("kafka-dev-broker: signal \(received), stopping\n".utf8))
        cluster.close()
    }

    /// Writes to a temporary file in the same directory, then renames it over `path`:
    /// a reader sees the old file, no file, or the whole new one, never half of it.
    private func writeAtomically(_ text: String, to path: String) throws {
        let target = URL(fileURLWithPath: path)
        let temporary = target.deletingLastPathComponent()
            .appendingPathComponent(".\(target.lastPathComponent).\(getpid()).tmp")
        do {
            try Data(text.utf8).write(to: temporary)
        } catch {
            throw BrokerError(description: "cannot write \(temporary.path): \(error.localizedDescription)")
        }
        guard rename(temporary.path, target.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw BrokerError(description: "cannot write \(path): \(reason)")
        }
    }
}

struct BrokerError: Error, CustomStringConvertible {
    var description: String
}

/// Turns signals into values to await, through dispatch signal sources. The default
/// handlers are set to SIG_IGN first, as a dispatch source only observes signals.
final class SignalWaiter {
    private let sources: [any DispatchSourceSignal]
    private let received: AsyncStream<Int32>

    init(signals: [Int32]) {
        let (stream, continuation) = AsyncStream<Int32>.makeStream(bufferingPolicy: .unbounded)
        received = stream
        let queue = DispatchQueue(label: "kafka-dev-broker.signals")
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
    }

    /// Hands SIGUSR1 and SIGUSR2 to `control` as they come; returns the first other signal.
    func wait(control: (Int32) -> Void) async -> Int32 {
        for await number in received {
            guard number == SIGUSR1 || number == SIGUSR2 else { return number }
            control(number)
        }
        return SIGTERM
    }

    deinit {
        for source in sources {
            source.cancel()
        }
    }
}
