import Foundation
import SamenplanDomain
import SamenplanServer
import Testing
import Yams

/// No Docker engine runs here: the compose file is checked as data instead.
struct DockerComposeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func compose() throws -> [String: Any] {
        let text = try String(contentsOf: Self.root.appendingPathComponent("docker/docker-compose.yml"), encoding: .utf8)
        return try #require(try Yams.load(yaml: text) as? [String: Any])
    }

    func services() throws -> [String: [String: Any]] {
        try #require(try compose()["services"] as? [String: [String: Any]])
    }

    @Test func everyServiceIsThereWithItsHealthCheckAndStartOrder() throws {
        let services = try services()
        for infrastructure in ["postgres", "kafka", "topic-setup", "database-setup"] {
            #expect(services[infrastructure] != nil, "\(infrastructure) is missing")
        }
        for (index, name) in Topic.serviceNames.enumerated() {
            let service = try #require(services[name], "\(name) is missing")
            #expect((service["command"] as? [String]) == [name])
            let healthcheck = try #require(service["healthcheck"] as? [String: Any], "\(name) has no healthcheck")
            let test = (healthcheck["test"] as? [String])?.joined(separator: " ") ?? ""
            #expect(test.contains("localhost:\(8081 + index)/health/ready"), "\(name) checks \(test)")
            let dependsOn = try #require(service["depends_on"] as? [String: [String: String]])
            #expect(dependsOn["database-setup"]?["condition"] == "service_completed_successfully")
            #expect(dependsOn["topic-setup"]?["condition"] == "service_completed_successfully")
            let environment = try #require(service["environment"] as? [String: Any])
            #expect("\(environment["HTTP_PORT"] ?? "")" == "\(8081 + index)")
            #expect((environment["DATABASE_URL"] as? String)?.hasPrefix("postgres://\(name):") == true)
        }
        #expect(((services["postgres"]?["healthcheck"]) as? [String: Any]) != nil)
        #expect(((services["kafka"]?["healthcheck"]) as? [String: Any]) != nil)
    }

    @Test func everyVariableSetIsOneTheConfigurationKnows() throws {
        for (name, service) in try services() where (service["image"] as? String)?.hasPrefix("samenplan") == true {
            let environment = try #require(service["environment"] as? [String: Any], "\(name) sets no environment")
            for variable in environment.keys {
                #expect(ServiceConfiguration.knows(variable), "\(name) sets \(variable), which no configuration reads")
            }
        }
    }

    @Test func theTopicSetupCreatesEveryTopicOfTheSuite() throws {
        let setup = try #require(try services()["topic-setup"])
        let script = (setup["command"] as? [String])?.joined(separator: " ") ?? ""
        for topic in Topic.all {
            #expect(script.contains(topic), "topic-setup does not create \(topic)")
        }
        // Reporting rebuilds its figures by replaying the topics from their first event.
        #expect(script.contains("--config retention.ms=-1"))
    }
}
