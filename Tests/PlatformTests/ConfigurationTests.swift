import SamenplanServer
import Testing

/// Start-up configuration: a clear message naming the variable that is wrong.
struct ConfigurationTests {
    let valid = [
        "DATABASE_URL": "postgres://intake:secret@db.internal:5432/samenplan?sslmode=require",
        "KAFKA_BOOTSTRAP_SERVERS": "kafka-1:9092,kafka-2:9092",
        "JWT_SECRET": String(repeating: "k", count: 32),
    ]

    func load(_ changes: [String: String?]) throws(ConfigurationError) -> ServiceConfiguration {
        var environment = valid
        for (name, value) in changes { environment[name] = value }
        return try ServiceConfiguration.load(service: "intake", defaultPort: 8081, environment: environment)
    }

    @Test func validEnvironmentGivesDefaults() throws {
        let configuration = try load([:])
        #expect(configuration.httpPort == 8081)
        #expect(configuration.httpHost == "127.0.0.1")
        #expect(configuration.databaseURL.host == "db.internal")
        #expect(configuration.databaseURL.password == "secret")
        #expect(configuration.databaseURL.sslMode == .require)
        #expect(configuration.jwtIssuer == "samenplan")
        #expect(configuration.kafkaClientProperties["bootstrap.servers"] == "kafka-1:9092,kafka-2:9092")
    }

    @Test(arguments: [
        ("DATABASE_URL", nil),
        ("DATABASE_URL", "mysql://x@y/z"),
        ("DATABASE_URL", "postgres://user@host"),
        ("KAFKA_BOOTSTRAP_SERVERS", nil),
        ("KAFKA_BOOTSTRAP_SERVERS", "kafka-without-port"),
        ("HTTP_PORT", "eighty"),
        ("HTTP_PORT", "70000"),
        ("LOG_LEVEL", "loud"),
        ("JWT_SECRET", "short"),
        ("JWT_SECRET", nil),
    ] as [(String, String?)])
    func badVariableIsNamed(variable: String, value: String?) {
        #expect(throws: ConfigurationError.self) { try load([variable: value]) }
        do {
            _ = try load([variable: value])
        } catch {
            #expect(error.variable == variable)
            #expect(error.description.contains(variable))
        }
    }

    @Test func librdkafkaSettingsPassThrough() throws {
        let configuration = try load([
            "KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISMS": "SCRAM-SHA-512",
            "KAFKA_SSL_CA_LOCATION": "/etc/ssl/ca.pem",
        ])
        let properties = configuration.kafkaClientProperties
        #expect(properties["security.protocol"] == "SASL_SSL")
        #expect(properties["sasl.mechanisms"] == "SCRAM-SHA-512")
        #expect(properties["ssl.ca.location"] == "/etc/ssl/ca.pem")
        #expect(properties["bootstrap.servers"] == "kafka-1:9092,kafka-2:9092")
    }

    @Test func serviceSpecificNumbersAreChecked() throws {
        let configuration = try load(["NOTIFICATIONS_MAX_ATTEMPTS": "0"])
        #expect(throws: ConfigurationError(variable: "NOTIFICATIONS_MAX_ATTEMPTS", problem: "must be a whole number in 1...50, got 0")) {
            try configuration.integer("NOTIFICATIONS_MAX_ATTEMPTS", default: 8, range: 1...50)
        }
        #expect(try load([:]).integer("NOTIFICATIONS_MAX_ATTEMPTS", default: 8, range: 1...50) == 8)
    }
}
