// swift-tools-version:6.0
// Samenplan: five services (intake, planning, volunteers, notifications, reporting) on one
// shared platform. See README.md for the layout and docs/contract.md for the contract.
import PackageDescription

let package = Package(
    name: "Samenplan",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "intake", targets: ["intake"]),
        .executable(name: "planning", targets: ["planning"]),
        .executable(name: "volunteers", targets: ["volunteers"]),
        .executable(name: "notifications", targets: ["notifications"]),
        .executable(name: "reporting", targets: ["reporting"]),
        .executable(name: "kafka-dev-broker", targets: ["kafka-dev-broker"]),
        .executable(name: "samenplanctl", targets: ["samenplanctl"]),
        .executable(name: "samenplan-load", targets: ["samenplan-load"]),
        .executable(name: "samenplan-services", targets: ["samenplan-services"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.90.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-algorithms.git", from: "1.2.1"),
    ],
    targets: [
        // MARK: Shared platform

        /// librdkafka from Debian's `librdkafka-dev`, including the mock cluster header.
        .systemLibrary(name: "CRdKafka", path: "Shared/CRdKafka"),

        /// libcurl from Debian's `libcurl4-openssl-dev`: notifications sends mail with its SMTP client.
        .systemLibrary(name: "CCurl", path: "Shared/CCurl"),

        /// Vocabulary of the workflow and the events: CloudEvents envelope, topics, types. No I/O.
        .target(
            name: "SamenplanDomain",
            path: "Shared/Domain"
        ),

        /// A thin async wrapper around librdkafka: producer, consumer group, mock cluster.
        .target(
            name: "SamenplanKafka",
            dependencies: [
                "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Shared/Kafka"
        ),

        /// PostgreSQL: connection settings, migrations, outbox, inbox, audit log, timers.
        .target(
            name: "SamenplanStorage",
            dependencies: [
                "SamenplanDomain",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/Storage"
        ),

        /// Reliable event flow between Kafka and PostgreSQL: the outbox relay, the inbox-backed
        /// consumer with retries and the dead-letter topic.
        .target(
            name: "SamenplanEventing",
            dependencies: [
                "SamenplanDomain", "SamenplanKafka", "SamenplanStorage",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Shared/Eventing"
        ),

        /// Service bootstrap: configuration, logging, HTTP with problem+json, health, metrics, auth.
        .target(
            name: "SamenplanServer",
            dependencies: [
                "SamenplanDomain", "SamenplanKafka", "SamenplanStorage", "SamenplanEventing",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Shared/Server"
        ),

        .executableTarget(
            name: "kafka-dev-broker",
            dependencies: [
                "SamenplanKafka", "SamenplanDomain",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Shared/KafkaDevBroker"
        ),
        /// The load generator's traffic plan, manifest and reconciliation rules (issue 8), pure.
        .target(name: "SamenplanLoad", dependencies: ["SamenplanDomain"], path: "Shared/Load"),
        .executableTarget(
            name: "samenplan-load",
            dependencies: [
                "SamenplanLoad", "SamenplanDomain", "SamenplanKafka", "SamenplanStorage", "SamenplanServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/LoadCtl"
        ),
        .executableTarget(
            name: "samenplanctl",
            dependencies: [
                "SamenplanServer", "SamenplanStorage", "SamenplanDomain", "SamenplanKafka", "SamenplanEventing", "ReportingService",
                "CaseHistories",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Shared/Ctl"
        ),

        // MARK: Services (a library each, so tests run them in-process, plus a thin executable)

        .target(
            name: "IntakeService",
            dependencies: ["SamenplanServer"],
            path: "Services/Intake/Sources/IntakeService",
            resources: [.copy("Migrations")]
        ),
        .executableTarget(name: "intake", dependencies: ["IntakeService"], path: "Services/Intake/Sources/intake"),

        .target(
            name: "PlanningService",
            dependencies: ["SamenplanServer"],
            path: "Services/Planning/Sources/PlanningService",
            resources: [.copy("Migrations")]
        ),
        .executableTarget(name: "planning", dependencies: ["PlanningService"], path: "Services/Planning/Sources/planning"),

        /// The volunteer centre's rules, pure: certificate ages, eligibility, the ranked shortlist,
        /// the consultation rhythm and agenda. No I/O, so its tests run in milliseconds.
        .target(
            name: "VolunteersDomain",
            dependencies: ["SamenplanDomain"],
            path: "Services/Volunteers/Sources/VolunteersDomain"
        ),
        .target(
            name: "VolunteersService",
            dependencies: [
                "SamenplanServer", "VolunteersDomain",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Services/Volunteers/Sources/VolunteersService",
            resources: [.copy("Migrations")]
        ),
        .executableTarget(name: "volunteers", dependencies: ["VolunteersService"], path: "Services/Volunteers/Sources/volunteers"),

        /// Who hears about which event, and in what words: the rules (data) and the Mustache
        /// templates, checked when they are loaded. No I/O beyond reading its files.
        .target(
            name: "NotificationsDomain",
            dependencies: [
                "SamenplanDomain",
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Services/Notifications/Sources/NotificationsDomain"
        ),
        .target(
            name: "NotificationsService",
            dependencies: [
                "SamenplanServer", "NotificationsDomain", "CCurl",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Services/Notifications/Sources/NotificationsService",
            resources: [.copy("Migrations"), .copy("Rules")]
        ),
        .executableTarget(
            name: "notifications", dependencies: ["NotificationsService"],
            path: "Services/Notifications/Sources/notifications"
        ),

        /// Reporting's rules without I/O: which figures may leave the organisation (disclosure control).
        .target(name: "ReportingDomain", path: "Services/Reporting/Sources/ReportingDomain"),
        .target(
            name: "ReportingService",
            dependencies: ["SamenplanServer", "ReportingDomain"],
            path: "Services/Reporting/Sources/ReportingService",
            resources: [.copy("Migrations")]
        ),
        .executableTarget(name: "reporting", dependencies: ["ReportingService"], path: "Services/Reporting/Sources/reporting"),
        /// The five services in one executable, called by a service's name: the container
        /// image links their shared code once (docker/Dockerfile).
        .executableTarget(
            name: "samenplan-services",
            dependencies: ["IntakeService", "PlanningService", "VolunteersService", "NotificationsService", "ReportingService"],
            path: "Services/Suite/Sources/samenplan-services"
        ),
        /// Seeded synthetic event histories: the fixture of reporting's tests and its benchmark.
        .target(name: "CaseHistories", dependencies: ["SamenplanDomain"], path: "Services/Reporting/Sources/CaseHistories"),

        // MARK: Tests

        /// Shared test fixtures: a real PostgreSQL database per test and an in-process mock
        /// Kafka cluster reached over TCP.
        .target(
            name: "SamenplanTesting",
            dependencies: [
                "SamenplanServer", "SamenplanKafka", "SamenplanStorage", "SamenplanDomain",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            path: "Tests/Support"
        ),
        .testTarget(name: "KafkaTests", dependencies: ["SamenplanKafka", "SamenplanDomain"], path: "Tests/KafkaTests"),
        .testTarget(
            name: "DomainTests",
            dependencies: [
                "SamenplanDomain", "IntakeService", "PlanningService", "VolunteersDomain", "NotificationsDomain",
                "ReportingService", "ReportingDomain", "SamenplanLoad", "CaseHistories",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "Algorithms", package: "swift-algorithms"),
            ],
            path: "Tests/DomainTests"
        ),
        .testTarget(
            name: "PlatformTests",
            dependencies: [
                "SamenplanTesting", "SamenplanServer", "SamenplanKafka", "SamenplanStorage", "SamenplanEventing",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            path: "Tests/PlatformTests"
        ),
        .testTarget(
            name: "ServiceTests",
            dependencies: [
                "SamenplanTesting", "IntakeService", "PlanningService", "VolunteersService",
                "NotificationsService", "NotificationsDomain", "ReportingService", "CaseHistories",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                // AccessMatrixTests: the OpenAPI documents it checks its table against, and
                // the forged bearer tokens it expects every service to refuse.
                .product(name: "Yams", package: "Yams"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Algorithms", package: "swift-algorithms"),
            ],
            path: "Tests/ServiceTests"
        ),
    ]
)
