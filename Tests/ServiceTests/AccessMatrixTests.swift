import Foundation
import Hummingbird
import HummingbirdTesting
import IntakeService
import JWTKit
import NIOCore
import NotificationsService
import PlanningService
import PostgresNIO
import ReportingService
import SamenplanDomain
import SamenplanKafka
import SamenplanServer
import SamenplanTesting
import Testing
import VolunteersService
import Yams

/// Issue 8, item 4: who may call what. One table names every `/v1` operation of the five
/// services, the roles that may call it and how far their reach goes (their own family or
/// area only, or every one). The matrix test walks every row × every role × the caller's own
/// family and another family, against all five services running on one fixture, and checks
/// that exactly the allowed cells succeed, that refusals are the documented 403 or 404 and
/// give nothing of a family away, and that every allowed access to family data is in the
/// owning service's audit log. A second test refuses forged and stale bearer tokens in every
/// service; a third keeps the table complete against the OpenAPI documents and the routes
/// the services register, so a new endpoint without a row fails.
@Suite(.serialized) struct AccessMatrixTests {
    @Test func theMatrixHasARowForEveryOperationOfEveryService() throws {
        let rows = Set(AccessMatrix.table.map(\.operation))
        let documented = try AccessMatrix.documentedOperations()
        let registered = try AccessMatrix.registeredOperations()
        let undocumented = Set(AccessMatrix.table.filter { !$0.documented }.map(\.operation))
        // Sanity of the parsers: each service documents and registers some operations.
        #expect(Set(documented.map(\.service)) == Set(AccessMatrix.Service.allCases))
        #expect(Set(registered.map(\.service)) == Set(AccessMatrix.Service.allCases))

        #expect(
            documented.subtracting(rows).isEmpty,
            "operations in docs/openapi without a row in the access matrix: \(documented.subtracting(rows).sorted())")
        #expect(
            registered.subtracting(rows).isEmpty,
            "routes the services register without a row in the access matrix: \(registered.subtracting(rows).sorted())")
        #expect(
            rows.subtracting(registered).isEmpty,
            "matrix rows for routes no service registers: \(rows.subtracting(registered).sorted())")
        // A row marked undocumented must really be missing from the OpenAPI documents (and
        // lose the mark once it is documented), every other row must be in them.
        #expect(
            rows.subtracting(documented) == undocumented,
            "rows not in docs/openapi: \(rows.subtracting(documented).sorted()); marked undocumented: \(undocumented.sorted())")

        // A row nobody may call would never show that its route works at all.
        for row in AccessMatrix.table {
            #expect(!row.allowed.isEmpty, "\(row): no caller is allowed")
        }
    }

    @Test func onlyTheAllowedCellsSucceedAndEveryAllowedAccessToFamilyDataIsAudited() async throws {
        try await AccessMatrix.withFixture { fixture in
            let outcome = try await AccessMatrix.run(fixture)
            #expect(outcome.problems.isEmpty, "\(outcome.problems.count) cell(s) wrong:\n\(outcome.problems.joined(separator: "\n"))")
            // The walk itself: every row ran for every caller, and the allowed cells that
            // change or read family data were there to be audited.
            #expect(outcome.cells == AccessMatrix.expectedCellCount)
            #expect(outcome.allowed > 0 && outcome.refused > outcome.allowed)
            #expect(outcome.audited > 100)
            print(
                "access matrix: \(Set(AccessMatrix.table.map(\.operation)).count) operations in \(AccessMatrix.table.count) rows × "
                    + "\(AccessMatrix.Caller.allCases.count) callers: "
                    + "\(outcome.cells) cells, \(outcome.allowed) allowed, \(outcome.refused) refused, "
                    + "\(outcome.audited) audited accesses to family data")
        }
    }

    @Test func forgedExpiredAndForeignTokensAreRefusedByEveryService() async throws {
        try await TestEnvironment.with { environment in
            let apps: [any ApplicationProtocol] = [
                try await ServiceRuntime.buildApplication(
                    try Intake.definition(), configuration: try environment.configuration(for: "intake")),
                try await ServiceRuntime.buildApplication(
                    try Planning.definition(), configuration: try environment.configuration(for: "planning")),
                try await ServiceRuntime.buildApplication(
                    try Volunteers.definition(), configuration: try environment.configuration(for: "volunteers")),
                try await ServiceRuntime.buildApplication(
                    try Notifications.definition(), configuration: try environment.configuration(for: "notifications")),
                try await ServiceRuntime.buildApplication(
                    try Reporting.definition(), configuration: try environment.configuration(for: "reporting")),
            ]
            try await withRunningApplications(apps) { clients in
                // A representative admin route of each service: the genuine token must get in,
                // so a 401 below is the token's fault and nothing else's.
                let routes: [(any TestClientProtocol, String)] = [
                    (clients[0], "/v1/managers"), (clients[1], "/v1/handovers"), (clients[2], "/v1/volunteers"),
                    (clients[3], "/v1/deliveries"), (clients[4], "/v1/reports/caseload"),
                ]
                let genuine = try await environment.token(role: .admin, subject: "matrix-admin")
                let forged = try await BadTokens.all(genuine: genuine)
                for (client, uri) in routes {
                    let control = try await client.execute(
                        uri: uri, method: .get, headers: [.authorization: "Bearer \(genuine)"])
                    #expect(control.status == .ok, "\(uri) with a genuine admin token")
                    for (name, authorization) in forged {
                        var headers: HTTPFields = [:]
                        if let authorization { headers[.authorization] = authorization }
                        let response = try await client.execute(uri: uri, method: .get, headers: headers)
                        #expect(response.status == .unauthorized, "\(uri) with \(name): \(response.status)")
                        #expect(response.headers[.contentType] == Problem.contentType, "\(uri) with \(name)")
                        #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true, "\(uri) with \(name)")
                    }
                }
            }
        }
    }
}

// MARK: - The table

enum AccessMatrix {
    enum Service: String, CaseIterable, Sendable, Comparable {
        case intake, planning, volunteers, notifications, reporting
        static func < (lhs: Service, rhs: Service) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    static let areaA = "borsele"
    static let areaB = "goes"
    /// Where the matrix's own referrals go: an area without managers, so they only queue.
    static let elsewhere = "tholen"

    /// Who calls: one identity per role, all on family A's side (its manager, the team lead
    /// and neighbourhood team of its area, the volunteer who helps it, the integrator that
    /// referred it). Two `service` callers: the volunteers service, whose job needs the
    /// families' first names, and reporting, whose job needs no family read at all.
    enum Caller: String, CaseIterable, Sendable, Hashable {
        case familyManager = "family-manager"
        case teamLead = "team-lead"
        case coordinator = "volunteer-coordinator"
        case volunteer
        case neighbourhoodTeam = "neighbourhood-team"
        case analyst
        case integrator
        case service = "service(volunteers)"
        case otherService = "service(reporting)"
        case admin

        var role: Role {
            switch self {
            case .familyManager: .familyManager
            case .teamLead: .teamLead
            case .coordinator: .volunteerCoordinator
            case .volunteer: .volunteer
            case .neighbourhoodTeam: .neighbourhoodTeam
            case .analyst: .analyst
            case .integrator: .integrator
            case .service, .otherService: .service
            case .admin: .admin
            }
        }

        var subject: String {
            switch self {
            case .familyManager: "fm-a"
            case .teamLead: "tl-a"
            case .coordinator: "coordinator-1"
            case .volunteer: "vol-a"
            case .neighbourhoodTeam: "wijkteam-a"
            case .analyst: "analyst-1"
            case .integrator: "/integrators/matrix-a"
            case .service: "volunteers"
            case .otherService: "reporting"
            case .admin: "matrix-admin"
            }
        }

        var areas: [String] {
            switch self {
            case .familyManager, .teamLead, .neighbourhoodTeam: [AccessMatrix.areaA]
            default: []
            }
        }

        /// What this role must never be shown, even by a call it may make (DESIGN.md, HTTP):
        /// the coordinator sees volunteers and help requests but no case contents, a volunteer
        /// the help request and the family's first names, the neighbourhood team the
        /// handover and its continuation plan, an analyst aggregates only.
        var hidden: Set<Secret> {
            switch self {
            case .coordinator: [.surname, .givenNames, .planText, .continuationText, .checkInNotes]
            case .volunteer, .service: [.surname, .planText, .continuationText, .checkInNotes]
            case .neighbourhoodTeam: [.surname, .givenNames, .planText, .checkInNotes]
            case .analyst, .integrator, .otherService: Set(Secret.allCases)
            case .familyManager, .teamLead, .admin: []
            }
        }
    }

    /// How far an allowed caller reaches.
    enum Reach: Sendable, Equatable {
        /// Their own family (area, record) and every other one.
        case both
        /// Their own only; another's gets this status: 404 where the route hides whether it
        /// exists (and audits the refusal), 403 where the caller names the scope themselves
        /// (an area, a source).
        case own(otherGets: HTTPResponse.Status)
        /// A list the route filters to what the caller may see: nothing of the other family
        /// may be in it.
        case filtered
    }

    /// What "own" and "other" mean for a row.
    enum Scope: Sendable {
        /// No target: the row runs once per caller.
        case none
        /// Family A's records (case, help request, assignment, volunteer) against family B's.
        case family
        /// Family A's area against family B's.
        case area
        /// Integrator A's CloudEvent source against integrator B's.
        case source
        /// The caller's own recipient record and messages against someone else's.
        case recipient
    }

    enum Target: String, Sendable { case own, other }

    /// Family data a response may carry, by kind; see `Caller.hidden`.
    enum Secret: CaseIterable, Sendable {
        case surname, givenNames, planText, continuationText, checkInNotes
    }

    struct Operation: Hashable, Sendable, Comparable, CustomStringConvertible {
        var service: Service
        var method: String
        var path: String
        var description: String { "\(service.rawValue) \(method) \(path)" }
        static func < (lhs: Operation, rhs: Operation) -> Bool { lhs.description < rhs.description }
    }

    /// One cell's request, made by the row for the cell's caller and target.
    struct Call: Sendable {
        var path: [String: String] = [:]
        var query: String?
        var json: JSON?
        var raw: [UInt8]?
        var contentType = "application/json"
        var headers: HTTPFields = [:]
        /// The case whose audit line an allowed call must leave.
        var auditCase: UUID?
    }

    struct Cell: Sendable {
        let fixture: Fixture
        let caller: Caller
        let target: Target
        /// Family A for the own target, family B for the other.
        var family: Family { target == .own ? fixture.a : fixture.b }
        /// The recipient record the cell is about.
        var recipient: String { target == .own ? caller.subject : Fixture.someoneElse }
    }

    struct Endpoint: Sendable, CustomStringConvertible {
        var service: Service
        var method: HTTPRequest.Method
        /// The path as the OpenAPI document writes it.
        var path: String
        /// Tells two rows of one operation apart.
        var variant: String?
        var scope: Scope
        /// Reads or changes a family's data: every allowed call must be audited.
        var familyData: Bool
        /// Audits one line per item listed rather than one per call.
        var auditsEachItem = false
        /// In docs/openapi; see the coverage test.
        var documented = true
        /// Callers not named get 403.
        var allowed: [Caller: Reach]
        var succeeds: Set<HTTPResponse.Status>
        /// Brings the target into the state in which the call would succeed (as an admin of
        /// the fixture, so a refused cell is refused for who calls, never for the state) and
        /// builds the request.
        var request: @Sendable (Cell) async throws -> Call

        var operation: Operation { Operation(service: service, method: method.rawValue, path: path) }
        var targets: [Target] { scope == .none ? [.own] : [.own, .other] }
        var description: String { operation.description + (variant.map { " (\($0))" } ?? "") }

        enum Expected: Equatable {
            case allowed(Reach)
            case refused(HTTPResponse.Status, scoped: Bool)
        }

        func expected(_ caller: Caller, _ target: Target) -> Expected {
            switch allowed[caller] {
            case nil: .refused(.forbidden, scoped: false)
            case .own(let status)?: target == .own ? .allowed(.own(otherGets: status)) : .refused(status, scoped: true)
            case let reach?: .allowed(reach)
            }
        }
    }

    static var expectedCellCount: Int { table.reduce(0) { $0 + $1.targets.count * Caller.allCases.count } }

    // Reaches shared by many rows.
    /// A case and its plan: its manager, the team lead of its area, an admin.
    static let caseReaders: [Caller: Reach] = [
        .familyManager: .own(otherGets: .notFound), .teamLead: .own(otherGets: .notFound), .admin: .both,
    ]
    /// The family's own manager (and an admin).
    static let familyManager: [Caller: Reach] = [.familyManager: .own(otherGets: .notFound), .admin: .both]
    /// The team lead of the family's area (and an admin).
    static let areaLead: [Caller: Reach] = [.teamLead: .own(otherGets: .notFound), .admin: .both]
    static let coordinatorOrAdmin: [Caller: Reach] = [.coordinator: .both, .admin: .both]
    static let reports: [Caller: Reach] = [.analyst: .both, .teamLead: .own(otherGets: .forbidden), .admin: .both]
    /// Everybody notifications writes to, each about themselves.
    static let recipients: [Caller] = [.familyManager, .teamLead, .coordinator, .volunteer, .neighbourhoodTeam, .admin]

    static let table: [Endpoint] = intake + planning + volunteers + notifications + reporting

    static let intake: [Endpoint] = [
        Endpoint(
            service: .intake, method: .post, path: "/v1/events", scope: .source, familyData: true,
            allowed: [.integrator: .own(otherGets: .forbidden), .admin: .both], succeeds: [.accepted]
        ) { cell in
            Call(
                raw: try cell.family.referral(referralId: "MX-EV-\(shortID())", child: "Kind\(shortID(letters: true))", area: elsewhere)
                    .structuredBytes(),
                contentType: CloudEvent.structuredContentType)
        },
        Endpoint(
            service: .intake, method: .post, path: "/v1/managers", variant: "a new manager", scope: .area,
            familyData: false, allowed: [.teamLead: .own(otherGets: .forbidden), .admin: .both], succeeds: [.created]
        ) { cell in
            Call(json: managerRegistration("fm-new-\(shortID())", areas: [cell.family.area]))
        },
        // The registration is an upsert. A team lead naming their own areas for a manager of
        // another area would take that manager over.
        Endpoint(
            service: .intake, method: .post, path: "/v1/managers", variant: "an existing manager again", scope: .family,
            familyData: false, allowed: [.teamLead: .own(otherGets: .forbidden), .admin: .both], succeeds: [.created]
        ) { cell in
            let areas = cell.caller.role == .teamLead ? cell.caller.areas : [cell.family.area]
            return Call(json: managerRegistration(cell.family.idleManager, areas: areas))
        },
        Endpoint(
            service: .intake, method: .get, path: "/v1/managers", scope: .none, familyData: false,
            allowed: [.teamLead: .filtered, .admin: .both], succeeds: [.ok]
        ) { _ in Call(query: "limit=200") },
        // The areas Samenplan serves (issue 18, finding 4): staff who plan read them, an admin
        // manages them.
        Endpoint(
            service: .intake, method: .get, path: "/v1/areas", scope: .none, familyData: false,
            allowed: [.teamLead: .both, .analyst: .both, .admin: .both], succeeds: [.ok]
        ) { _ in Call() },
        Endpoint(
            service: .intake, method: .put, path: "/v1/areas/{area}", scope: .none, familyData: false,
            allowed: [.admin: .both], succeeds: [.ok]
        ) { _ in Call(path: ["area": AccessMatrix.areaA], json: ["team": "team-matrix"]) },
        // The people joining referrals proposed (issue 18, finding 1): whoever may see the case.
        Endpoint(
            service: .intake, method: .get, path: "/v1/cases/{id}/member-proposals", scope: .family, familyData: true,
            allowed: caseReaders, succeeds: [.ok]
        ) { cell in Call(path: ["id": cell.family.support.lowercased], auditCase: cell.family.support) },
        // Deciding needs a proposal; the matrix's families have none, so an allowed caller is
        // told so (404, after an `allowed` audit line, which a refused caller never gets). The
        // decision itself is IntegratorProbeTests'.
        Endpoint(
            service: .intake, method: .post, path: "/v1/cases/{id}/member-proposals/{proposal}", scope: .family, familyData: true,
            allowed: caseReaders, succeeds: [.notFound]
        ) { cell in
            Call(
                path: ["id": cell.family.support.lowercased, "proposal": UUID().uuidString.lowercased()],
                json: ["decision": "confirm"], auditCase: cell.family.support)
        },
        Endpoint(
            service: .intake, method: .get, path: "/v1/areas/{area}/queue", scope: .area, familyData: false,
            allowed: [.teamLead: .own(otherGets: .forbidden), .admin: .both], succeeds: [.ok]
        ) { cell in Call(path: ["area": cell.family.area]) },
        Endpoint(
            service: .intake, method: .post, path: "/v1/cases/{id}/reassignment", scope: .family, familyData: true,
            allowed: areaLead, succeeds: [.ok]
        ) { cell in
            // Back and forth between the family's manager and the spare one, so every
            // allowed call really moves the family.
            let family = cell.family
            let current = try await cell.fixture.setup.scalar(
                String.self, "SELECT manager_id FROM intake.cases WHERE id = \(family.reassigned)")
            let to = current == family.manager ? family.spareManager : family.manager
            return Call(
                path: ["id": family.reassigned.lowercased], json: ["managerId": .string(to), "reason": "Matrix: verhuisd"],
                auditCase: family.reassigned)
        },
        Endpoint(
            service: .intake, method: .get, path: "/v1/cases/{id}/family", scope: .family, familyData: true,
            allowed: caseReaders, succeeds: [.ok]
        ) { cell in Call(path: ["id": cell.family.support.lowercased], auditCase: cell.family.support) },
        // Only for the volunteers service (it shows a volunteer the family's first names);
        // not in docs/openapi/intake.yaml.
        Endpoint(
            service: .intake, method: .get, path: "/v1/cases/{id}/first-names", scope: .family, familyData: true,
            documented: false, allowed: [.service: .both, .admin: .both], succeeds: [.ok]
        ) { cell in Call(path: ["id": cell.family.support.lowercased], auditCase: cell.family.support) },
        // The outcome of a referral: ids and codes only, documented without an audit line.
        // DESIGN.md names POST /v1/events as the integrator's only route; the project added
        // this one for the integrator's own referrals (docs/decisions.md).
        Endpoint(
            service: .intake, method: .get, path: "/v1/referrals", scope: .source, familyData: false,
            allowed: [.integrator: .own(otherGets: .forbidden), .admin: .both], succeeds: [.ok]
        ) { cell in
            Call(query: "source=\(cell.family.source.percentEncoded)&referralId=\(cell.family.referralId(.support))")
        },
        Endpoint(
            service: .intake, method: .get, path: "/v1/signals/nuisance", scope: .area, familyData: false,
            allowed: [.teamLead: .own(otherGets: .forbidden), .admin: .both], succeeds: [.ok]
        ) { cell in Call(query: "area=\(cell.family.area)") },
    ]

    static let planning: [Endpoint] = [
        Endpoint(
            service: .planning, method: .get, path: "/v1/cases/{id}", scope: .family, familyData: true,
            allowed: caseReaders, succeeds: [.ok]
        ) { cell in cell.onCase(\.support) },
        Endpoint(
            service: .planning, method: .get, path: "/v1/cases/{id}/plan", scope: .family, familyData: true,
            allowed: caseReaders, succeeds: [.ok]
        ) { cell in cell.onCase(\.support) },
        Endpoint(
            service: .planning, method: .put, path: "/v1/cases/{id}/plan", scope: .family, familyData: true,
            allowed: familyManager, succeeds: [.created]
        ) { cell in
            let version = try await cell.fixture.latestPlanVersion(of: cell.family.support)
            return cell.onCase(
                \.support, json: ["plan": cell.family.plan, "reason": "Matrix: bijgesteld"],
                headers: [.ifMatch: "\"\(version)\""])
        },
        Endpoint(
            service: .planning, method: .get, path: "/v1/cases/{id}/plan/versions", scope: .family, familyData: true,
            allowed: caseReaders, succeeds: [.ok]
        ) { cell in cell.onCase(\.support) },
        Endpoint(
            service: .planning, method: .get, path: "/v1/cases/{id}/plan/versions/{version}", scope: .family,
            familyData: true, allowed: caseReaders, succeeds: [.ok]
        ) { cell in cell.onCase(\.support, ["version": "1"]) },
        Endpoint(
            service: .planning, method: .post, path: "/v1/cases/{id}/plan/versions/{version}/decision", scope: .family,
            familyData: true, allowed: areaLead, succeeds: [.ok]
        ) { cell in
            let version = try await cell.fixture.proposedPlanVersion(of: cell.family.support)
            return cell.onCase(\.support, ["version": "\(version)"], json: ["decision": "send-back", "comment": "Matrix: aanvullen"])
        },
        Endpoint(
            service: .planning, method: .post, path: "/v1/cases/{id}/phase", scope: .family, familyData: true,
            allowed: familyManager, succeeds: [.ok]
        ) { cell in
            // A move is for good: each allowed call takes the next case of the family's pool.
            let id = try await cell.fixture.caseStillInConnect(cell.family.connectPool)
            return Call(path: ["id": id.lowercased], json: ["phase": "support"], auditCase: id)
        },
        Endpoint(
            service: .planning, method: .post, path: "/v1/cases/{id}/evaluations", scope: .family, familyData: true,
            allowed: familyManager, succeeds: [.created]
        ) { cell in
            cell.onCase(
                \.support,
                json: [
                    "heldOn": .string(cell.fixture.today), "attendees": ["m1", "m2"],
                    "outcome": .string("Het gaat beter \(cell.family.marker(.planText))"), "planAdjusted": false,
                ])
        },
        Endpoint(
            service: .planning, method: .get, path: "/v1/cases/{id}/evaluations", scope: .family, familyData: true,
            allowed: caseReaders, succeeds: [.ok]
        ) { cell in cell.onCase(\.support) },
        Endpoint(
            service: .planning, method: .put, path: "/v1/cases/{id}/continuation-plan", scope: .family, familyData: true,
            allowed: familyManager, succeeds: [.created]
        ) { cell in cell.onCase(\.secure, json: cell.family.continuationPlan) },
        Endpoint(
            service: .planning, method: .get, path: "/v1/cases/{id}/continuation-plan", scope: .family, familyData: true,
            allowed: caseReaders, succeeds: [.ok]
        ) { cell in cell.onCase(\.secure) },
        Endpoint(
            service: .planning, method: .post, path: "/v1/cases/{id}/continuation-plan/decision", scope: .family,
            familyData: true, allowed: areaLead, succeeds: [.ok]
        ) { cell in
            try await cell.fixture.continuationPlan(of: cell.family, proposed: true)
            return cell.onCase(\.secure, json: ["decision": "approve"])
        },
        Endpoint(
            service: .planning, method: .post, path: "/v1/cases/{id}/safety-assessments", scope: .family, familyData: true,
            allowed: familyManager, succeeds: [.created]
        ) { cell in
            cell.onCase(\.secure, json: ["childrenSafe": true, "explanation": .string("Rust in huis \(cell.family.marker(.planText))")])
        },
        Endpoint(
            service: .planning, method: .post, path: "/v1/cases/{id}/handover", scope: .family, familyData: true,
            allowed: familyManager, succeeds: [.ok]
        ) { cell in
            try await cell.fixture.handover(of: cell.family, offered: false)
            return cell.onCase(\.secure)
        },
        // Declined, so the case stays in `secure` and the next cell can offer it again.
        Endpoint(
            service: .planning, method: .post, path: "/v1/cases/{id}/handover/answer", scope: .family, familyData: true,
            allowed: [.neighbourhoodTeam: .own(otherGets: .notFound), .admin: .both], succeeds: [.ok]
        ) { cell in
            try await cell.fixture.handover(of: cell.family, offered: true)
            return cell.onCase(\.secure, json: ["accept": false, "reason": "Matrix: nog niet"])
        },
        // The first recording is 201, the same again 200.
        Endpoint(
            service: .planning, method: .post, path: "/v1/cases/{id}/follow-ups", scope: .family, familyData: true,
            allowed: caseReaders, succeeds: [.created, .ok]
        ) { cell in
            cell.onCase(\.closed, json: ["months": 6, "heldOn": .string(cell.fixture.today), "childrenSafe": true])
        },
        // Without a volunteer, so the volunteers service's fixture stays as it is.
        Endpoint(
            service: .planning, method: .post, path: "/v1/cases/{id}/help-requests", scope: .family, familyData: true,
            allowed: familyManager, succeeds: [.created]
        ) { cell in cell.onCase(\.support, json: ["need": "Hulp bij de administratie", "volunteer": "none"]) },
        Endpoint(
            service: .planning, method: .get, path: "/v1/cases/{id}/help-requests", scope: .family, familyData: true,
            allowed: caseReaders, succeeds: [.ok]
        ) { cell in cell.onCase(\.support) },
        Endpoint(
            service: .planning, method: .get, path: "/v1/handovers", scope: .none, familyData: true, auditsEachItem: true,
            allowed: [.neighbourhoodTeam: .filtered, .admin: .both], succeeds: [.ok]
        ) { _ in Call(query: "limit=200") },
    ]

    static let volunteers: [Endpoint] = [
        Endpoint(
            service: .volunteers, method: .post, path: "/v1/volunteers", scope: .none, familyData: false,
            allowed: coordinatorOrAdmin, succeeds: [.created]
        ) { cell in
            Call(json: volunteerRegistration(id: "vol-new-\(shortID())", area: areaA, certificate: cell.fixture.certificateIssuedOn))
        },
        Endpoint(
            service: .volunteers, method: .get, path: "/v1/volunteers", scope: .none, familyData: false,
            allowed: coordinatorOrAdmin, succeeds: [.ok]
        ) { _ in Call(query: "limit=200") },
        // A volunteer's own record: not family data (audited all the same).
        Endpoint(
            service: .volunteers, method: .get, path: "/v1/volunteers/{id}", scope: .family, familyData: false,
            allowed: [.coordinator: .both, .volunteer: .own(otherGets: .notFound), .admin: .both], succeeds: [.ok]
        ) { cell in Call(path: ["id": cell.family.volunteer]) },
        Endpoint(
            service: .volunteers, method: .put, path: "/v1/volunteers/{id}", scope: .family, familyData: false,
            allowed: coordinatorOrAdmin, succeeds: [.ok]
        ) { cell in
            Call(
                path: ["id": cell.family.volunteer],
                json: volunteerRegistration(id: nil, area: cell.family.area, certificate: cell.fixture.certificateIssuedOn))
        },
        Endpoint(
            service: .volunteers, method: .get, path: "/v1/catalogue", scope: .none, familyData: false,
            allowed: [.coordinator: .both, .familyManager: .both, .volunteer: .both, .admin: .both], succeeds: [.ok]
        ) { _ in Call() },
        Endpoint(
            service: .volunteers, method: .post, path: "/v1/catalogue", scope: .none, familyData: false,
            allowed: coordinatorOrAdmin, succeeds: [.created]
        ) { _ in Call(json: ["kind": "skill", "code": .string("matrix-\(shortID(letters: true))"), "label": "Matrix"]) },
        Endpoint(
            service: .volunteers, method: .get, path: "/v1/help-requests", scope: .none, familyData: true,
            auditsEachItem: true, allowed: [.coordinator: .both, .familyManager: .filtered, .admin: .both], succeeds: [.ok]
        ) { _ in Call(query: "limit=200") },
        Endpoint(
            service: .volunteers, method: .get, path: "/v1/help-requests/{id}", scope: .family, familyData: true,
            allowed: [.coordinator: .both, .familyManager: .own(otherGets: .notFound), .admin: .both], succeeds: [.ok]
        ) { cell in cell.onHelpRequest() },
        Endpoint(
            service: .volunteers, method: .patch, path: "/v1/help-requests/{id}", scope: .family, familyData: true,
            allowed: coordinatorOrAdmin, succeeds: [.ok]
        ) { cell in cell.onHelpRequest(json: ["skills": ["homework"]]) },
        Endpoint(
            service: .volunteers, method: .get, path: "/v1/help-requests/{id}/shortlist", scope: .family, familyData: true,
            allowed: coordinatorOrAdmin, succeeds: [.ok]
        ) { cell in cell.onHelpRequest() },
        Endpoint(
            service: .volunteers, method: .post, path: "/v1/help-requests/{id}/proposals", scope: .family, familyData: true,
            allowed: coordinatorOrAdmin, succeeds: [.created]
        ) { cell in
            try await cell.fixture.openHelpRequest(cell.family)
            return cell.onHelpRequest(json: ["volunteerId": .string(cell.family.volunteer)])
        },
        // Refused by the family, so the request is open again for the next cell.
        Endpoint(
            service: .volunteers, method: .post, path: "/v1/proposals/{id}/answer", scope: .family, familyData: true,
            allowed: familyManager, succeeds: [.ok]
        ) { cell in
            let proposal = try await cell.fixture.pendingProposal(cell.family)
            return Call(path: ["id": proposal.lowercased], json: ["consent": false], auditCase: cell.family.support)
        },
        Endpoint(
            service: .volunteers, method: .get, path: "/v1/assignments", scope: .none, familyData: true,
            auditsEachItem: true,
            allowed: [.volunteer: .filtered, .coordinator: .both, .familyManager: .filtered, .admin: .both], succeeds: [.ok]
        ) { _ in Call() },
        Endpoint(
            service: .volunteers, method: .get, path: "/v1/assignments/{id}", scope: .family, familyData: true,
            allowed: [
                .volunteer: .own(otherGets: .notFound), .coordinator: .both, .familyManager: .own(otherGets: .notFound),
                .admin: .both,
            ], succeeds: [.ok]
        ) { cell in cell.onAssignment(cell.family.assignment) },
        Endpoint(
            service: .volunteers, method: .post, path: "/v1/assignments/{id}/check-ins", scope: .family, familyData: true,
            allowed: familyManager, succeeds: [.created]
        ) { cell in
            cell.onAssignment(
                cell.family.assignment,
                json: [
                    "heldOn": .string(cell.fixture.today), "notes": .string("Goed gesprek \(cell.family.marker(.checkInNotes))"),
                    "concern": false,
                ])
        },
        Endpoint(
            service: .volunteers, method: .post, path: "/v1/assignments/{id}/hours", scope: .family, familyData: true,
            allowed: [.volunteer: .own(otherGets: .notFound), .coordinator: .both, .admin: .both], succeeds: [.created]
        ) { cell in cell.onAssignment(cell.family.assignment, json: ["workedOn": .string(cell.fixture.today), "hours": 1.5]) },
        Endpoint(
            service: .volunteers, method: .post, path: "/v1/assignments/{id}/concerns", scope: .family, familyData: true,
            allowed: [.volunteer: .own(otherGets: .notFound), .familyManager: .own(otherGets: .notFound), .admin: .both],
            succeeds: [.created]
        ) { cell in cell.onAssignment(cell.family.assignment, json: ["note": "Matrix: zorgen over de buren"]) },
        Endpoint(
            service: .volunteers, method: .post, path: "/v1/assignments/{id}/end", scope: .family, familyData: true,
            allowed: [.coordinator: .both, .familyManager: .own(otherGets: .notFound), .admin: .both], succeeds: [.ok]
        ) { cell in
            // An end is for good: each allowed call takes the next assignment of the pool.
            let id = try await cell.fixture.activeAssignment(cell.family.assignmentPool)
            return cell.onAssignment(id, json: ["reason": "goal-reached"])
        },
        Endpoint(
            service: .volunteers, method: .post, path: "/v1/concerns/{id}/resolve", scope: .family, familyData: true,
            allowed: familyManager, succeeds: [.ok]
        ) { cell in
            let concern = try await cell.fixture.newConcern(cell.family)
            return Call(path: ["id": concern.lowercased], auditCase: cell.family.support)
        },
        Endpoint(
            service: .volunteers, method: .put, path: "/v1/areas/{area}/consultations", scope: .area, familyData: false,
            allowed: coordinatorOrAdmin, succeeds: [.ok]
        ) { cell in
            Call(path: ["area": cell.family.area], json: ["everyWeeks": 4, "firstOn": .string(cell.fixture.today)])
        },
        Endpoint(
            service: .volunteers, method: .get, path: "/v1/consultations", scope: .area, familyData: false,
            allowed: [
                .coordinator: .both, .teamLead: .own(otherGets: .forbidden), .familyManager: .own(otherGets: .forbidden),
                .admin: .both,
            ], succeeds: [.ok]
        ) { cell in Call(query: "area=\(cell.family.area)") },
        // The agenda names the area's families with volunteers, concerns and waiting requests.
        Endpoint(
            service: .volunteers, method: .get, path: "/v1/consultations/{id}", scope: .area, familyData: true,
            allowed: [
                .coordinator: .both, .teamLead: .own(otherGets: .notFound), .familyManager: .own(otherGets: .notFound),
                .admin: .both,
            ], succeeds: [.ok]
        ) { cell in Call(path: ["id": try await cell.fixture.consultationToday(in: cell.family.area).lowercased]) },
        Endpoint(
            service: .volunteers, method: .put, path: "/v1/consultations/{id}/minutes", scope: .area, familyData: true,
            allowed: coordinatorOrAdmin, succeeds: [.ok]
        ) { cell in
            Call(
                path: ["id": try await cell.fixture.consultationToday(in: cell.family.area).lowercased],
                json: ["minutes": "Matrix: besproken"])
        },
    ]

    static let notifications: [Endpoint] = [
        // Staff set their own language and preferences only; an admin anyone's.
        Endpoint(
            service: .notifications, method: .put, path: "/v1/recipients/{id}", scope: .recipient, familyData: false,
            allowed: ownOnly(recipients, .forbidden, admin: .both), succeeds: [.ok]
        ) { cell in Call(path: ["id": cell.recipient], json: ["language": "nl"]) },
        Endpoint(
            service: .notifications, method: .get, path: "/v1/recipients/{id}", scope: .recipient, familyData: false,
            allowed: ownOnly(recipients, .notFound, admin: .both), succeeds: [.ok]
        ) { cell in Call(path: ["id": cell.recipient]) },
        Endpoint(
            service: .notifications, method: .get, path: "/v1/notifications", scope: .none, familyData: false,
            allowed: Dictionary(uniqueKeysWithValues: recipients.map { ($0, .both) }), succeeds: [.ok]
        ) { _ in Call() },
        // The feed is everyone's own, an admin's too.
        Endpoint(
            service: .notifications, method: .post, path: "/v1/notifications/{id}/read", scope: .recipient,
            familyData: false, allowed: ownOnly(recipients, .notFound, admin: .own(otherGets: .notFound)),
            succeeds: [.noContent]
        ) { cell in Call(path: ["id": cell.fixture.message(for: cell.recipient).lowercased]) },
        Endpoint(
            service: .notifications, method: .get, path: "/v1/deliveries", scope: .none, familyData: false,
            allowed: [.admin: .both], succeeds: [.ok]
        ) { _ in Call() },
        Endpoint(
            service: .notifications, method: .get, path: "/v1/deliveries/{id}/attempts", scope: .none, familyData: false,
            allowed: [.admin: .both], succeeds: [.ok]
        ) { cell in Call(path: ["id": cell.fixture.message(for: Fixture.someoneElse).lowercased]) },
    ]

    static let reporting: [Endpoint] = [
        // A team lead's figures are filtered to their areas; no family in any of them.
        Endpoint(
            service: .reporting, method: .get, path: "/v1/reports/caseload", scope: .none, familyData: false,
            allowed: [.analyst: .both, .teamLead: .filtered, .admin: .both], succeeds: [.ok]
        ) { _ in Call() },
    ]
        + ["flow", "rhythm", "outcomes", "volunteers"].map { report in
            Endpoint(
                service: .reporting, method: .get, path: "/v1/reports/\(report)", scope: .area, familyData: false,
                allowed: reports, succeeds: [.ok]
            ) { cell in Call(query: "period=\(cell.fixture.year)&area=\(cell.family.area)") }
        }

    static func ownOnly(_ callers: [Caller], _ otherGets: HTTPResponse.Status, admin: Reach) -> [Caller: Reach] {
        var reach = Dictionary(uniqueKeysWithValues: callers.map { ($0, Reach.own(otherGets: otherGets)) })
        reach[.admin] = admin
        return reach
    }

    static func managerRegistration(_ id: String, areas: [String]) -> JSON {
        // No places: registering a manager serves the area's queue, which must stay as it is.
        ["id": .string(id), "displayName": .string("Gezinsmanager \(id)"), "areas": .array(areas.map(JSON.string)), "maxCaseload": 0]
    }

    static func volunteerRegistration(id: String?, area: String, certificate: String) -> JSON {
        var body: [String: JSON] = [
            "name": "Vrijwilliger Matrix", "email": "matrix@example.nl", "areas": [.string(area)], "skills": ["homework"],
            "languages": ["nl"], "helpKinds": ["practical"], "status": "active", "consentGiven": true,
            "certificateIssuedOn": .string(certificate), "maxAssignments": 10,
        ]
        if let id { body["id"] = .string(id) }
        return .object(body)
    }

    /// Eight random characters; letters only for a name or a catalogue code, which must not
    /// look like an id.
    static func shortID(letters: Bool = false) -> String {
        letters
            ? String((0..<8).map { _ in "abcdefghijklmnopqrstuvwxyz".randomElement()! })
            : String(UUID().uuidString.lowercased().prefix(8))
    }
}

extension AccessMatrix.Cell {
    /// A call on one of the family's cases in planning.
    func onCase(
        _ kind: KeyPath<AccessMatrix.Family, UUID>, _ path: [String: String] = [:], json: JSON? = nil, headers: HTTPFields = [:]
    ) -> AccessMatrix.Call {
        let id = family[keyPath: kind]
        return AccessMatrix.Call(
            path: path.merging(["id": id.lowercased]) { $1 }, json: json, headers: headers, auditCase: id)
    }

    func onHelpRequest(json: JSON? = nil) -> AccessMatrix.Call {
        AccessMatrix.Call(path: ["id": family.helpRequest.lowercased], json: json, auditCase: family.support)
    }

    func onAssignment(_ id: UUID, json: JSON? = nil) -> AccessMatrix.Call {
        AccessMatrix.Call(path: ["id": id.lowercased], json: json, auditCase: family.support)
    }
}

// MARK: - The walk

extension AccessMatrix {
    struct Outcome: Sendable {
        var problems: [String] = []
        var cells = 0
        var allowed = 0
        var refused = 0
        var audited = 0
    }

    static func run(_ fixture: Fixture) async throws -> Outcome {
        var outcome = Outcome()
        for endpoint in table {
            for caller in Caller.allCases {
                for target in endpoint.targets {
                    let cell = Cell(fixture: fixture, caller: caller, target: target)
                    outcome.cells += 1
                    let label = "\(endpoint) as \(caller.rawValue)" + (endpoint.scope == .none ? "" : ", \(target) target")
                    do {
                        try await check(endpoint, cell, label: label, into: &outcome)
                    } catch {
                        outcome.problems.append("\(label): \(error)")
                    }
                }
            }
        }
        return outcome
    }

    static func check(_ endpoint: Endpoint, _ cell: Cell, label: String, into outcome: inout Outcome) async throws {
        let fixture = cell.fixture
        let call = try await endpoint.request(cell)
        let auditedBefore = try await fixture.setup.lastAuditLine(endpoint.service)
        let response = try await fixture.setup.send(
            endpoint, call, token: fixture.tokens[cell.caller]!)
        let body = String(buffer: response.body)
        var problems: [String] = []
        defer { outcome.problems += problems.map { "\(label): \($0)" } }
        let lines = try await fixture.setup.auditLines(endpoint.service, after: auditedBefore, actor: cell.caller.subject)
        let allowedLines = lines.filter { $0.outcome == "allowed" }

        switch endpoint.expected(cell.caller, cell.target) {
        case .allowed(let reach):
            outcome.allowed += 1
            guard endpoint.succeeds.contains(response.status) else {
                problems.append("\(response.status.code) instead of \(endpoint.succeeds.map(\.code).sorted()): \(body.prefix(400))")
                return
            }
            for secret in cell.caller.hidden {
                for marker in fixture.a.markers(secret) + fixture.b.markers(secret) where body.contains(marker) {
                    problems.append("shows \(secret) (\(marker)) to a \(cell.caller.role.rawValue)")
                }
            }
            if cell.caller == .analyst {
                for id in fixture.a.caseIds + fixture.b.caseIds where body.contains(id.lowercased) {
                    problems.append("shows case \(id.lowercased) to an analyst")
                }
            }
            if reach == .filtered {
                for id in fixture.b.ids where body.contains(id) {
                    problems.append("lists \(id) of another family")
                }
            }
            guard endpoint.familyData else { return }
            outcome.audited += 1
            if endpoint.auditsEachItem {
                let listed = try JSONCoding.decoder.decode(JSON.self, from: Data(buffer: response.body))["items"]?.arrayValue?.count
                if listed == nil || listed == 0 {
                    problems.append("the list is empty, so its audit says nothing: \(body.prefix(200))")
                } else if allowedLines.count != listed {
                    problems.append("\(listed!) item(s) listed but \(allowedLines.count) audit line(s) written")
                }
            } else if allowedLines.isEmpty {
                problems.append("no audit line for an allowed access to family data")
            } else if let auditCase = call.auditCase, !allowedLines.contains(where: { $0.caseId == auditCase }) {
                problems.append("audited, but not with case \(auditCase.lowercased): \(allowedLines.map(\.caseId))")
            }
        case .refused(let status, let scoped):
            outcome.refused += 1
            if response.status != status {
                problems.append("\(response.status.code) instead of \(status.code): \(body.prefix(400))")
            }
            if response.headers[.contentType] != Problem.contentType {
                problems.append("a refusal as \(response.headers[.contentType] ?? "no content type"), not problem+json")
            }
            for secret in Secret.allCases {
                for marker in fixture.a.markers(secret) + fixture.b.markers(secret) where body.contains(marker) {
                    problems.append("the refusal shows \(secret) (\(marker))")
                }
            }
            if !allowedLines.isEmpty {
                problems.append("refused, yet audited as allowed")
            }
            // A refusal for whose family it is (not for the role) was a look at the family:
            // the routes audit it (docs/openapi: "refused ones too").
            if endpoint.familyData && scoped && status == .notFound && !lines.contains(where: { $0.outcome == "denied" }) {
                problems.append("the refused look at another family is not audited as denied")
            }
        }
    }
}

// MARK: - The fixture

extension AccessMatrix {
    /// The cases each family has in planning, one per state the routes need.
    enum CaseKind: String, CaseIterable, Sendable {
        /// In `support`: plan, evaluations, help requests (and the family's volunteer work).
        case support
        /// In `secure`, ready to be handed over: continuation plan, assessment, handover.
        case secure
        /// Closed: follow-ups.
        case closed
        /// Moved between two managers by the reassignment row.
        case reassigned
        /// In `connect` with an approved plan, one per allowed phase change.
        case pool1, pool2, pool3
    }

    struct Family: Sendable {
        let name: String
        let area: String
        let manager: String
        /// Where the reassignment row moves the family, and back.
        let spareManager: String
        /// A manager without places, registered again by the re-registration row.
        let idleManager: String
        let source: String
        let volunteer: String
        let surname: String
        let parentName: String
        let childNames: [CaseKind: String]
        var cases: [CaseKind: UUID] = [:]
        /// The request the volunteer rows read, change, propose for and answer.
        var helpRequest = UUID()
        /// The volunteer's work with the family that rows check in on, log hours for, etc.
        var assignment = UUID()
        /// Assignments to end, one per allowed end.
        var assignmentPool: [UUID] = []
        var otherHelpRequests: [UUID] = []

        static func make(_ name: String, area: String, surname: String, parent: String, children: [String]) -> Family {
            let side = name.lowercased()
            return Family(
                name: name, area: area, manager: "fm-\(side)", spareManager: "fm-\(side)2", idleManager: "fm-\(side)3",
                source: "/integrators/matrix-\(side)", volunteer: "vol-\(side)", surname: surname, parentName: parent,
                childNames: Dictionary(uniqueKeysWithValues: zip(CaseKind.allCases, children)))
        }

        var support: UUID { cases[.support]! }
        var secure: UUID { cases[.secure]! }
        var closed: UUID { cases[.closed]! }
        var reassigned: UUID { cases[.reassigned]! }
        var connectPool: [UUID] { [CaseKind.pool1, .pool2, .pool3].map { cases[$0]! } }
        var caseIds: [UUID] { CaseKind.allCases.map { cases[$0]! } }

        func referralId(_ kind: CaseKind) -> String { "MX-\(name)-\(kind.rawValue)" }

        /// Text that is only in this family's records, by kind.
        func markers(_ secret: Secret) -> [String] {
            switch secret {
            case .surname: [surname]
            case .givenNames: [parentName] + CaseKind.allCases.map { childNames[$0]! }
            case .planText: [marker(.planText)]
            case .continuationText: [marker(.continuationText)]
            case .checkInNotes: [marker(.checkInNotes)]
            }
        }

        func marker(_ secret: Secret) -> String {
            switch secret {
            case .planText: "[plan-\(name)]"
            case .continuationText: "[borging-\(name)]"
            case .checkInNotes: "[checkin-\(name)]"
            case .surname: surname
            case .givenNames: parentName
            }
        }

        /// What identifies this family's records in a list.
        var ids: [String] {
            caseIds.map(\.lowercased) + ([helpRequest, assignment] + assignmentPool + otherHelpRequests).map(\.lowercased)
                + [manager, spareManager, idleManager, volunteer]
        }

        var plan: JSON {
            [
                "currentSituation": .string("Moeder werkt nachten \(marker(.planText))"), "concerns": [], "strengths": [],
                "talents": [],
                "goals": [["id": "g1", "what": "Rust in huis", "dueOn": "2027-06-01", "responsible": ["kind": "member", "who": "m1"]]],
                "safetyAgreements": ["Bij ruzie belt moeder oma"],
            ]
        }

        var continuationPlan: JSON {
            let tag = marker(.continuationText)
            return [
                "whatKeepsTheHomeSafe": .string("Oma kijkt mee \(tag)"), "warningSigns": .string("Slapeloosheid \(tag)"),
                "whatToDo": .string("Het wijkteam bellen \(tag)"), "whoToCall": .string("Wijkteam \(tag)"), "followUpMonths": [6, 12],
            ]
        }

        /// A referral of this family's integrator, as it would publish it.
        func referral(referralId: String, child: String, area: String? = nil, birthDate: String = "2015-04-02") -> CloudEvent {
            CloudEvent(
                id: UUID().uuidString, source: source, type: EventType.referralSubmitted.rawValue, subject: referralId,
                data: .object([
                    "referralId": .string(referralId), "framework": "voluntary", "urgency": "normal",
                    "area": .string(area ?? self.area), "referrer": ["organisation": "Veilig Thuis Zeeland"],
                    "members": [
                        ["memberRef": "m1", "role": "parent", "givenName": .string(parentName), "familyName": .string(surname)],
                        [
                            "memberRef": "m2", "role": "child", "givenName": .string(child), "familyName": .string(surname),
                            "birthDate": .string(birthDate),
                        ],
                    ],
                    "reason": "Zorgen over de veiligheid thuis.",
                ]))
        }
    }

    /// The services' clients and the fixture admin's helpers.
    struct Setup: Sendable {
        let environment: TestEnvironment
        let db: PostgresClient
        let clients: [Service: any TestClientProtocol]
        /// An admin of its own, so the fixture's calls are never mistaken for a cell's.
        let token: String

        func send(
            _ service: Service, _ method: HTTPRequest.Method, _ uri: String, token: String, body: [UInt8]? = nil,
            contentType: String = "application/json", headers: HTTPFields = [:]
        ) async throws -> TestResponse {
            var fields: HTTPFields = [.authorization: "Bearer \(token)"]
            if body != nil { fields[.contentType] = contentType }
            fields.append(contentsOf: headers)
            return try await clients[service]!.execute(uri: uri, method: method, headers: fields, body: body.map { ByteBuffer(bytes: $0) })
        }

        func send(_ endpoint: Endpoint, _ call: Call, token: String) async throws -> TestResponse {
            var uri = endpoint.path
            for (name, value) in call.path { uri = uri.replacingOccurrences(of: "{\(name)}", with: value.percentEncoded) }
            if let query = call.query { uri += "?" + query }
            let body = try call.raw ?? call.json.map { Array(try JSONCoding.encoder.encode($0)) }
            return try await send(
                endpoint.service, endpoint.method, uri, token: token, body: body, contentType: call.contentType, headers: call.headers)
        }

        /// `method` on `uri` as the fixture admin; anything but `expect` stops the test.
        @discardableResult
        func call(
            _ service: Service, _ method: HTTPRequest.Method, _ uri: String, _ json: JSON? = nil, headers: HTTPFields = [:],
            expect: Set<HTTPResponse.Status> = [.ok, .created]
        ) async throws -> JSON {
            let response = try await send(
                service, method, uri, token: token, body: try json.map { Array(try JSONCoding.encoder.encode($0)) }, headers: headers)
            guard expect.contains(response.status) else {
                throw FixtureFailed("\(method) \(uri) answered \(response.status.code): \(String(buffer: response.body))")
            }
            return response.body.readableBytes == 0 ? .null : try JSONCoding.decoder.decode(JSON.self, from: Data(buffer: response.body))
        }

        func scalar<T: PostgresDecodable & Sendable>(_ type: T.Type, _ query: PostgresQuery) async throws -> T? {
            try await db.query(query).collect().first?.decode(T.self)
        }

        func lastAuditLine(_ service: Service) async throws -> Int64 {
            try await scalar(Int64.self, "SELECT coalesce(max(id), 0)::bigint FROM \(unescaped: service.rawValue).audit_log") ?? 0
        }

        struct AuditLine: Sendable {
            var outcome: String
            var caseId: UUID?
        }

        func auditLines(_ service: Service, after id: Int64, actor: String) async throws -> [AuditLine] {
            try await db.query(
                "SELECT outcome, case_id FROM \(unescaped: service.rawValue).audit_log WHERE id > \(id) AND actor = \(actor) ORDER BY id"
            ).collect().map {
                let (outcome, caseId) = try $0.decode((String, UUID?).self)
                return AuditLine(outcome: outcome, caseId: caseId)
            }
        }

        /// Waits until `condition` holds; a fixture that never gets there stops the test.
        func waitUntil(_ what: String, _ condition: @Sendable () async throws -> Bool) async throws {
            guard try await eventually(timeout: .seconds(30), every: .milliseconds(50), condition) else {
                throw FixtureFailed("waited 30 s for \(what)")
            }
        }
    }

    struct FixtureFailed: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    struct Fixture: Sendable {
        static let someoneElse = "someone-else"

        let setup: Setup
        let tokens: [Caller: String]
        let a: Family
        let b: Family
        /// An in-app message of each recipient's.
        let messages: [String: UUID]
        let today: String
        let year: String
        let certificateIssuedOn: String

        func message(for recipient: String) -> UUID { messages[recipient] ?? messages[Self.someoneElse]! }

        // What rows call to bring a target into the state their call needs.

        func latestPlanVersion(of caseId: UUID) async throws -> Int {
            try await setup.scalar(Int.self, "SELECT coalesce(max(version), 0)::int FROM planning.plan_versions WHERE case_id = \(caseId)") ?? 0
        }

        /// The latest plan version, proposed (a new one when the latest was decided on).
        func proposedPlanVersion(of caseId: UUID) async throws -> Int {
            let latest = try await latestPlanVersion(of: caseId)
            let status = try await setup.scalar(
                String.self, "SELECT status FROM planning.plan_versions WHERE case_id = \(caseId) AND version = \(latest)")
            if status == "proposed" { return latest }
            let family = a.cases.values.contains(caseId) ? a : b
            try await setup.call(
                .planning, .put, "/v1/cases/\(caseId.lowercased)/plan", ["plan": family.plan, "reason": "Matrix: opnieuw"],
                headers: [.ifMatch: "\"\(latest)\""])
            return latest + 1
        }

        func caseStillInConnect(_ pool: [UUID]) async throws -> UUID {
            guard
                let id = try await setup.scalar(
                    UUID.self, "SELECT id FROM planning.cases WHERE id = ANY(\(pool)) AND phase = 'connect' ORDER BY id LIMIT 1")
            else { throw FixtureFailed("the pool of cases in connect ran out") }
            return id
        }

        /// The secure case's continuation plan, proposed or approved.
        func continuationPlan(of family: Family, proposed: Bool) async throws {
            let status = try await setup.scalar(
                String.self, "SELECT status FROM planning.continuation_plans WHERE case_id = \(family.secure)")
            let uri = "/v1/cases/\(family.secure.lowercased)/continuation-plan"
            if proposed, status != "proposed" {
                try await setup.call(.planning, .put, uri, family.continuationPlan)
            } else if !proposed, status != "approved" {
                if status != "proposed" { try await setup.call(.planning, .put, uri, family.continuationPlan) }
                try await setup.call(.planning, .post, uri + "/decision", ["decision": "approve"])
            }
        }

        /// The secure case's handover, waiting for the team's answer or not.
        func handover(of family: Family, offered: Bool) async throws {
            try await continuationPlan(of: family, proposed: false)
            let status = try await setup.scalar(String.self, "SELECT status FROM planning.handovers WHERE case_id = \(family.secure)")
            let uri = "/v1/cases/\(family.secure.lowercased)/handover"
            if offered, status != "offered" {
                try await setup.call(.planning, .post, uri)
            } else if !offered, status == "offered" {
                try await setup.call(.planning, .post, uri + "/answer", ["accept": false, "reason": "Matrix: nog niet"])
            }
        }

        func pendingProposalId(_ family: Family) async throws -> UUID? {
            try await setup.scalar(
                UUID.self, "SELECT id FROM volunteers.proposals WHERE help_request_id = \(family.helpRequest) AND status = 'proposed'")
        }

        /// The family's main help request, open for a proposal.
        func openHelpRequest(_ family: Family) async throws {
            if let pending = try await pendingProposalId(family) {
                try await setup.call(.volunteers, .post, "/v1/proposals/\(pending.lowercased)/answer", ["consent": false])
            }
        }

        /// A proposal for the family's main help request, waiting for the family's answer.
        func pendingProposal(_ family: Family) async throws -> UUID {
            if let pending = try await pendingProposalId(family) { return pending }
            let proposal = try await setup.call(
                .volunteers, .post, "/v1/help-requests/\(family.helpRequest.lowercased)/proposals",
                ["volunteerId": .string(family.volunteer)])
            return try proposal.uuid("id")
        }

        func activeAssignment(_ pool: [UUID]) async throws -> UUID {
            guard
                let id = try await setup.scalar(
                    UUID.self, "SELECT id FROM volunteers.assignments WHERE id = ANY(\(pool)) AND ended_at IS NULL ORDER BY id LIMIT 1")
            else { throw FixtureFailed("the pool of assignments ran out") }
            return id
        }

        func newConcern(_ family: Family) async throws -> UUID {
            try await setup.call(
                .volunteers, .post, "/v1/assignments/\(family.assignment.lowercased)/concerns", ["note": "Matrix: zorg"]
            ).uuid("id")
        }

        /// The area's consultation of today (the rhythm row plans it again and again).
        func consultationToday(in area: String) async throws -> UUID {
            guard
                let id = try await setup.scalar(
                    UUID.self, "SELECT id FROM volunteers.consultations WHERE area = \(area) AND meets_on = \(today)::date")
            else { throw FixtureFailed("no consultation in \(area) today") }
            return id
        }
    }

    /// Runs all five services (intake on a real port, as the volunteers service asks it for
    /// first names over HTTP) and builds the fixture once.
    static func withFixture(_ body: @Sendable (Fixture) async throws -> Void) async throws {
        try await TestEnvironment.with { environment in
            let intake = try await ServiceRuntime.buildApplication(
                try Intake.definition(), configuration: try environment.configuration(for: "intake"))
            try await intake.test(.live) { intakeClient in
                guard
                    try await eventually(timeout: .seconds(30), {
                        try await intakeClient.execute(uri: "/health/ready", method: .get).status == .ok
                    })
                else { throw FixtureFailed("intake did not become ready") }
                let intakeURL = "http://127.0.0.1:\(try #require(intakeClient.port))"
                let apps: [any ApplicationProtocol] = [
                    try await ServiceRuntime.buildApplication(
                        try Planning.definition(), configuration: try environment.configuration(for: "planning")),
                    try await ServiceRuntime.buildApplication(
                        try Volunteers.definition(),
                        configuration: try environment.configuration(
                            for: "volunteers", extra: ["VOLUNTEERS_INTAKE_URL": intakeURL])),
                    try await ServiceRuntime.buildApplication(
                        try Notifications.definition(), configuration: try environment.configuration(for: "notifications")),
                    try await ServiceRuntime.buildApplication(
                        try Reporting.definition(), configuration: try environment.configuration(for: "reporting")),
                ]
                try await withRunningApplications(apps) { clients in
                    try await environment.withAdminClient { db in
                        let setup = Setup(
                            environment: environment, db: db,
                            clients: [
                                .intake: intakeClient, .planning: clients[0], .volunteers: clients[1], .notifications: clients[2],
                                .reporting: clients[3],
                            ],
                            token: try await environment.token(role: .admin, subject: "fixture-admin"))
                        try await body(try await makeFixture(setup))
                    }
                }
            }
        }
    }

    static func makeFixture(_ setup: Setup) async throws -> Fixture {
        let environment = setup.environment
        let now = Date()
        let today = CalendarDate(now, in: CalendarDate.netherlands).description
        var tokens: [Caller: String] = [:]
        for caller in Caller.allCases {
            tokens[caller] = try await environment.token(role: caller.role, subject: caller.subject, areas: caller.areas)
        }
        var a = Family.make(
            "A", area: areaA, surname: "Kwakernaak", parent: "Aaltje",
            children: ["Anouk", "Amber", "Annelot", "Aukje", "Arwen", "Alida", "Agaath"])
        var b = Family.make(
            "B", area: areaB, surname: "Zwanenburg", parent: "Baukje",
            children: ["Bente", "Britt", "Bodil", "Beau", "Brecht", "Bauke", "Bram"])

        // Each family's cases, referred by its own integrator and assigned to its manager.
        for family in [a, b] {
            try await setup.call(.intake, .post, "/v1/managers", managerRegistration(family.manager, areas: [family.area]).with(["maxCaseload": 50]))
        }
        try await environment.withProducer { [a, b] producer in
            for family in [a, b] {
                for (index, kind) in CaseKind.allCases.enumerated() {
                    let event = family.referral(
                        referralId: family.referralId(kind), child: family.childNames[kind]!, birthDate: "2015-04-0\(index + 1)")
                    try await producer.send(
                        topic: Topic.referrals, key: Array(family.referralId(kind).utf8), value: try event.structuredBytes())
                }
            }
        }
        try await setup.waitUntil("intake to open the cases") {
            try await setup.db.count("SELECT count(*) FROM intake.referrals WHERE referral_id LIKE 'MX-%'") == 2 * CaseKind.allCases.count
        }
        for row in try await setup.db.query("SELECT referral_id, case_id FROM intake.referrals WHERE referral_id LIKE 'MX-%'").collect() {
            let (referralId, caseId) = try row.decode((String, UUID).self)
            let kind = CaseKind(rawValue: String(referralId.split(separator: "-")[2]))!
            if referralId.hasPrefix("MX-A-") { a.cases[kind] = caseId } else { b.cases[kind] = caseId }
        }
        let allCases = a.caseIds + b.caseIds
        try await setup.waitUntil("planning to know the cases and their managers") {
            try await setup.db.count("SELECT count(*) FROM planning.cases WHERE id = ANY(\(allCases)) AND manager_id IS NOT NULL")
                == allCases.count
        }
        // Registered only now, so that no referral went to them.
        for family in [a, b] {
            try await setup.call(.intake, .post, "/v1/managers", managerRegistration(family.spareManager, areas: [family.area]).with(["maxCaseload": 5]))
            try await setup.call(.intake, .post, "/v1/managers", managerRegistration(family.idleManager, areas: [family.area]))
        }

        // Every case with an approved plan; the first three on their way through the phases.
        for family in [a, b] {
            for id in family.caseIds {
                let uri = "/v1/cases/\(id.lowercased)"
                try await setup.call(.planning, .put, uri + "/plan", ["plan": family.plan, "reason": "Start"], headers: [.ifNoneMatch: "*"])
                try await setup.call(.planning, .post, uri + "/plan/versions/1/decision", ["decision": "approve"])
            }
            for id in [family.support, family.secure, family.closed] {
                try await setup.call(.planning, .post, "/v1/cases/\(id.lowercased)/phase", ["phase": "support"])
            }
            for id in [family.secure, family.closed] {
                let uri = "/v1/cases/\(id.lowercased)"
                try await setup.call(
                    .planning, .post, uri + "/evaluations",
                    [
                        "heldOn": .string(today), "attendees": ["m1"], "outcome": .string("Gaat goed \(family.marker(.planText))"),
                        "planAdjusted": false,
                    ])
                try await setup.call(.planning, .post, uri + "/phase", ["phase": "secure"])
                try await setup.call(.planning, .put, uri + "/continuation-plan", family.continuationPlan)
                try await setup.call(.planning, .post, uri + "/continuation-plan/decision", ["decision": "approve"])
                try await setup.call(
                    .planning, .post, uri + "/safety-assessments",
                    ["childrenSafe": true, "explanation": .string("Rust \(family.marker(.planText))")])
            }
            let closed = "/v1/cases/\(family.closed.lowercased)"
            try await setup.call(.planning, .post, closed + "/handover")
            try await setup.call(.planning, .post, closed + "/handover/answer", ["accept": true])
        }

        // The volunteer work: help requests raised in planning reach the volunteers service,
        // where each family's volunteer is matched to all but the first.
        let certificate = CalendarDate(now.addingTimeInterval(-10 * 24 * 3600), in: CalendarDate.netherlands).description
        var raised: [UUID] = []
        for family in [a, b] {
            try await setup.call(
                .volunteers, .post, "/v1/volunteers",
                volunteerRegistration(id: family.volunteer, area: family.area, certificate: certificate))
            for _ in 0..<6 {
                let request = try await setup.call(
                    .planning, .post, "/v1/cases/\(family.support.lowercased)/help-requests",
                    ["need": "Hulp bij de administratie", "volunteer": "practical"])
                raised.append(try request.uuid("id"))
            }
        }
        try await setup.waitUntil("the volunteers service to have the help requests") { [raised] in
            try await setup.db.count("SELECT count(*) FROM volunteers.help_requests WHERE id = ANY(\(raised))") == raised.count
        }
        for (index, family) in [a, b].enumerated() {
            var requests = Array(raised[(index * 6)..<(index * 6 + 6)])
            var family = family
            family.helpRequest = requests.removeFirst()
            var assignments: [UUID] = []
            for request in requests {
                let proposal = try await setup.call(
                    .volunteers, .post, "/v1/help-requests/\(request.lowercased)/proposals",
                    ["volunteerId": .string(family.volunteer)])
                let answer = try await setup.call(
                    .volunteers, .post, "/v1/proposals/\(try proposal.uuid("id").lowercased)/answer", ["consent": true])
                assignments.append(try answer.uuid("assignmentId"))
            }
            family.assignment = assignments.removeFirst()
            // Every kind of secret is on record before the walk, so a row that shows one to
            // the wrong role fails wherever it stands in the table.
            try await setup.call(
                .volunteers, .post, "/v1/assignments/\(family.assignment.lowercased)/check-ins",
                ["heldOn": .string(today), "notes": .string("Eerste gesprek \(family.marker(.checkInNotes))"), "concern": false])
            family.assignmentPool = assignments
            family.otherHelpRequests = requests
            if index == 0 { a = family } else { b = family }
            try await setup.call(
                .volunteers, .put, "/v1/areas/\(family.area)/consultations", ["everyWeeks": 4, "firstOn": .string(today)])
        }

        // Everyone notifications writes to, with one message in their feed.
        var messages: [String: UUID] = [:]
        for recipient in recipients.map(\.subject) + [Fixture.someoneElse] {
            try await setup.call(.notifications, .put, "/v1/recipients/\(recipient)", ["displayName": .string("Matrix \(recipient)")])
            let id = UUID()
            // Which events become whose messages is NotificationsDeliveryTests' subject; here
            // only a message of the recipient's own matters.
            try await setup.db.query(
                """
                INSERT INTO notifications.deliveries (id, event_source, event_id, event_type, recipient_id, channel, body, status, subject, message)
                VALUES (\(id), '/matrix', \(id.lowercased), 'nl.samenplan.case.assigned.v1', \(recipient), 'in-app', '', 'delivered',
                        'Matrix', 'Een bericht')
                """)
            messages[recipient] = id
        }

        // Reporting's figures must hold both families, or a team lead's filter shows nothing.
        try await setup.waitUntil("reporting to count the cases") {
            try await setup.db.count(
                "SELECT count(*) FROM reporting.case_projection WHERE case_id = ANY(\(allCases)) AND manager_id IS NOT NULL")
                == allCases.count
        }
        return Fixture(
            setup: setup, tokens: tokens, a: a, b: b, messages: messages, today: today, year: String(today.prefix(4)),
            certificateIssuedOn: certificate)
    }
}

// MARK: - The operations the documents and the code name

extension AccessMatrix {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Every operation under `/v1` in docs/openapi/<service>.yaml.
    static func documentedOperations() throws -> Set<Operation> {
        var operations: Set<Operation> = []
        for service in Service.allCases {
            let url = repository.appendingPathComponent("docs/openapi/\(service.rawValue).yaml")
            let document = try Yams.load(yaml: try String(contentsOf: url, encoding: .utf8)) as? [String: Any]
            let paths = document?["paths"] as? [String: Any] ?? [:]
            for (path, item) in paths where path.hasPrefix("/v1/") {
                for method in (item as? [String: Any] ?? [:]).keys
                where ["get", "put", "post", "patch", "delete"].contains(method) {
                    operations.insert(Operation(service: service, method: method.uppercased(), path: path))
                }
            }
        }
        return operations
    }

    /// Every route a service adds to its `/v1` group (`group.get("cases/:id")`), from the sources.
    static func registeredOperations() throws -> Set<Operation> {
        var operations: Set<Operation> = []
        let route = /group\.(get|put|post|patch|delete)\(\s*"([^"]+)"/
        for service in Service.allCases {
            let directory = repository.appendingPathComponent("Services/\(service.rawValue.capitalized)/Sources")
            let files = FileManager.default.enumerator(atPath: directory.path)?.compactMap { $0 as? String } ?? []
            for file in files where file.hasSuffix(".swift") {
                let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
                for match in text.matches(of: route) {
                    let path = match.output.2.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
                    operations.insert(
                        Operation(service: service, method: match.output.1.uppercased(), path: "/v1/" + path.joined(separator: "/")))
                }
            }
        }
        return operations
    }
}

// MARK: - Tokens a service must refuse

/// Bearer tokens that must get 401 however much they claim: each names an admin.
enum BadTokens {
    /// The claims of a Samenplan token, loosely typed so a test can leave some out.
    struct LooseClaims: JWTPayload {
        var sub: String
        var iss: String
        var exp: Int?
        var iat: Int
        var role: String
        var areas: [String]

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static func base64URL(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func claims(role: String = "admin", issuer: String = "samenplan", expires: Bool = true) -> LooseClaims {
        let now = Int(Date().timeIntervalSince1970)
        return LooseClaims(sub: "matrix-admin", iss: issuer, exp: expires ? now + 3600 : nil, iat: now, role: role, areas: [])
    }

    /// Signed with the services' own key and algorithm: only the claims are wrong.
    static func signed(_ claims: LooseClaims) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: TestEnvironment.jwtSecret), digestAlgorithm: .sha256)
        return try await keys.sign(claims)
    }

    /// Name and `Authorization` header (nil: none at all) of every token to refuse.
    static func all(genuine: String) async throws -> [(String, String?)] {
        let parts = genuine.split(separator: ".").map(String.init)
        let payload = base64URL(Array(try JSONCoding.encoder.encode(claims())))
        let noneHeader = base64URL(Array(#"{"alg":"none","typ":"JWT"}"#.utf8))
        let elevated = try await TokenAuthority(secret: TestEnvironment.jwtSecret, issuer: "samenplan").sign(
            subject: "matrix-admin", role: .familyManager)
        let elevatedParts = elevated.split(separator: ".").map(String.init)
        return [
            ("no token", nil),
            ("another scheme", "Basic \(base64URL(Array("matrix-admin:secret".utf8)))"),
            ("not a JWT", "Bearer not-a-token"),
            (
                "an expired token",
                "Bearer "
                    + (try await TokenAuthority(secret: TestEnvironment.jwtSecret, issuer: "samenplan").sign(
                        subject: "matrix-admin", role: .admin, lifetime: .seconds(-120)))
            ),
            (
                "a token signed with another key",
                "Bearer "
                    + (try await TokenAuthority(secret: "another-secret-another-secret-0123456789", issuer: "samenplan").sign(
                        subject: "matrix-admin", role: .admin))
            ),
            (
                "a token of another issuer",
                "Bearer "
                    + (try await TokenAuthority(secret: TestEnvironment.jwtSecret, issuer: "another-issuer").sign(
                        subject: "matrix-admin", role: .admin))
            ),
            ("an unsigned token (alg: none)", "Bearer \(noneHeader).\(payload)."),
            ("alg: none with a genuine token's signature", "Bearer \(noneHeader).\(parts[1]).\(parts[2])"),
            ("a family manager's token with its role changed to admin", "Bearer \(elevatedParts[0]).\(payload).\(elevatedParts[2])"),
            ("a token of an unknown role", "Bearer " + (try await signed(claims(role: "superuser")))),
            ("a token without an expiry", "Bearer " + (try await signed(claims(expires: false)))),
        ]
    }
}

// MARK: - Small helpers

extension UUID {
    var lowercased: String { uuidString.lowercased() }
}

extension String {
    /// For a path segment or a query value.
    var percentEncoded: String {
        addingPercentEncoding(withAllowedCharacters: CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? self
    }
}

extension JSON {
    func uuid(_ key: String) throws -> UUID {
        guard let id = self[key]?.stringValue.flatMap(UUID.init(uuidString:)) else {
            throw AccessMatrix.FixtureFailed("no \(key) in \(self)")
        }
        return id
    }

    func with(_ fields: [String: JSON]) -> JSON {
        .object((objectValue ?? [:]).merging(fields) { $1 })
    }
}
