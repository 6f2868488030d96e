import Foundation
import SamenplanDomain
import Testing
import Yams

/// DESIGN.md, Events: every event type has a JSON Schema and is listed in one AsyncAPI
/// document. Checked against the catalogue, so a type cannot be added to the code alone.
struct EventContractTests {
    static let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs")

    @Test func everyCatalogueTypeIsInTheAsyncAPIDocumentWithItsSchema() throws {
        let text = try String(contentsOf: Self.docs.appendingPathComponent("asyncapi.yaml"), encoding: .utf8)
        let document = try #require(try Yams.load(yaml: text) as? [String: Any])
        let messages = try #require(
            (document["components"] as? [String: Any])?["messages"] as? [String: [String: Any]])
        // Each message's type and the schema its `data` refers to.
        var schemas: [String: String] = [:]
        for message in messages.values {
            guard let name = message["name"] as? String else { continue }
            let parts = (message["payload"] as? [String: Any])?["allOf"] as? [[String: Any]] ?? []
            schemas[name] = parts.lazy.compactMap {
                (($0["properties"] as? [String: Any])?["data"] as? [String: Any])?["$ref"] as? String
            }.first
        }
        for type in EventType.catalogue.sorted(by: { $0.rawValue < $1.rawValue }) {
            guard let reference = schemas[type.rawValue] else {
                Issue.record("\(type) has no message with a data schema in docs/asyncapi.yaml")
                continue
            }
            let file = Self.docs.appendingPathComponent(reference)
            let schema = try? JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any]
            #expect(schema?["type"] as? String == "object", "\(type): \(reference) is not a JSON Schema of an object")
        }
    }
}
