import Foundation
import SamenplanDomain
import SamenplanEventing
import SamenplanServer
import SamenplanStorage

/// The volunteers service. It follows planning's events; help requests are its first real
/// work (issue 5). Until then it stores nothing it does not own: only its inbox.
public enum Volunteers {
    public static func definition() throws -> ServiceDefinition {
        ServiceDefinition(
            name: "volunteers",
            defaultPort: 8083,
            migrations: try Migration.load(from: Bundle.module.resourceURL!.appendingPathComponent("Migrations")),
            consumer: { _ in .init(topics: [Topic.planning], handler: VolunteersEventHandler()) })
    }
}

struct VolunteersEventHandler: EventHandler {
    var handledTypes: Set<EventType> { [] }

    func handle(_ event: CloudEvent, in context: EventContext) async throws {}
}
