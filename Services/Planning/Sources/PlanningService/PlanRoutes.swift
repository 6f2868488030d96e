import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PostgresNIO
import SamenplanDomain
import SamenplanEventing
import SamenplanServer
import SamenplanStorage

/// The family plan over HTTP (docs/openapi/planning.yaml): versions with ETags, the team
/// lead's decision, and the phase change whose guards are the method's rules.
///
/// Concurrency: the ETag of a case's plan is its latest version number. A change must name
/// the version it was made on (`If-Match`), or `If-None-Match: *` for the first one; the
/// case row is locked while the version is written, so of two edits made on the same
/// version exactly one wins and the other gets `412`.
enum PlanRoutes {
    struct Proposal: Decodable, Sendable {
        var plan: PlanContent
        var reason: String
    }

    struct Decision: Decodable, Sendable {
        enum Verdict: String, Decodable, Sendable {
            case approve
            case sendBack = "send-back"
        }

        var decision: Verdict
        var comment: String?

        /// The comment, trimmed (nil when there is none); sending back needs one.
        func checkedComment() throws -> String? {
            let comment = comment?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            if decision == .sendBack && comment.isEmpty {
                throw Problem.badRequest(
                    "Sending back needs a comment.",
                    problems: [.init(rule: "required", pointer: "/comment", detail: "say what to change")])
            }
            return comment.isEmpty ? nil : comment
        }
    }

    struct PhaseChange: Decodable, Sendable {
        var phase: Phase
    }

    static func add(
        to group: RouterGroup<SamenplanRequestContext>, environment: ServiceEnvironment, evaluationClock: EvaluationClock
    ) {
        let database = environment.database
        let source = environment.source
        let clock = environment.clock

        group.get("cases/:id/plan") { _, context -> Response in
            try await readingPlan(context, database) { id, connection, logger in
                guard let latest = try await PlanStore.versions(of: id, on: connection, logger: logger, number: nil).last
                else { throw Problem.notFound("The case has no plan yet.") }
                let approved = try await PlanStore.latestApproved(of: id, on: connection, logger: logger)
                var body = latest.json(withContent: true)
                body["approvedVersion"] = approved.map { .number(Double($0.version)) } ?? .null
                // Volunteers at work on the plan's goals (help requests the volunteers service matched).
                body["goalVolunteers"] = .array(try await HelpRequests.goalVolunteers(of: id, on: connection, logger: logger))
                return try Response.json(.object(body)).withETag(latest.version)
            }
        }

        group.get("cases/:id/plan/versions") { _, context -> Response in
            try await readingPlan(context, database) { id, connection, logger in
                let versions = try await PlanStore.versions(of: id, on: connection, logger: logger, number: nil)
                return try Response.json(.object(["items": .array(versions.map { .object($0.json(withContent: false)) })]))
            }
        }

        group.get("cases/:id/plan/versions/:version") { _, context -> Response in
            let number = try versionNumber(context)
            return try await readingPlan(context, database) { id, connection, logger in
                guard let version = try await PlanStore.versions(of: id, on: connection, logger: logger, number: number).first
                else { throw Problem.notFound("The plan has no version \(number).") }
                return try Response.json(.object(version.json(withContent: true)))
            }
        }

        // A new version of the plan, proposed by the family's manager.
        group.put("cases/:id/plan") { request, context -> Response in
            let caller = try context.require(.familyManager, .admin)
            let id = try caseID(context)
            let precondition = try Precondition(request.headers)
            let proposal = try await request.decode(as: Proposal.self, context: context)
            let reason = proposal.reason.trimmingCharacters(in: .whitespacesAndNewlines)
            var problems = proposal.plan.problems().map {
                Problem.Item(rule: $0.rule, pointer: "/plan" + $0.pointer, detail: $0.detail)
            }
            if !(1...2000).contains(reason.count) {
                problems.append(.init(rule: "length", pointer: "/reason", detail: "1–2000 characters: why this change"))
            }
            guard problems.isEmpty else {
                throw Problem.badRequest("The plan breaks \(problems.count) rule(s).", problems: problems)
            }
            let now = clock.now()
            let logger = context.logger
            return try await CaseAccess.withCase(
                id, for: caller, purpose: .manage, action: "propose", resourceType: "plan", lock: true,
                database: database, logger: logger
            ) { found, connection in
                guard found.phase != .closed else { throw Problem.conflict("The case is closed; its plan no longer changes.") }
                let current = try await PlanStore.latestVersionNumber(of: id, on: connection, logger: logger)
                try precondition.check(current: current)
                // A plan changes at every evaluation, every 6–8 weeks, for a few years at most:
                // more versions than this is a client in a loop, not casework.
                guard current < PlanStore.maxVersions else {
                    throw Problem.conflict("The plan has \(PlanStore.maxVersions) versions, the most a plan keeps.")
                }
                let version = current + 1
                let content = String(decoding: try JSONCoding.encoder.encode(proposal.plan), as: UTF8.self)
                _ = try await connection.execute(
                    PlanStore.InsertVersion(
                        caseId: id, version: version, content: content, reason: reason, author: caller.subject,
                        createdAt: now),
                    logger: logger)
                try await EventContext(connection: connection, logger: logger, source: source).emit(
                    .planVersionProposed,
                    payload: PlanVersionChanged(
                        caseId: id, version: version, area: found.area, managerId: found.managerId,
                        goals: proposal.plan.goals.count, safetyAgreements: proposal.plan.safetyAgreements.count,
                        by: caller.subject, at: now),
                    on: Topic.planning, key: id.uuidString.lowercased(), traceparent: nil)
                let stored = PlanStore.Version(
                    version: version, status: "proposed", content: proposal.plan, reason: reason, author: caller.subject,
                    createdAt: now)
                return try Response.json(.object(stored.json(withContent: true)), status: .created).withETag(version)
            }
        }

        // The team lead approves a proposed version, or sends it back with a comment.
        group.post("cases/:id/plan/versions/:version/decision") { request, context -> Response in
            let caller = try context.require(.teamLead, .admin)
            let id = try caseID(context)
            let number = try versionNumber(context)
            let decision = try await request.decode(as: Decision.self, context: context)
            let comment = try decision.checkedComment()
            let now = clock.now()
            let logger = context.logger
            return try await CaseAccess.withCase(
                id, for: caller, purpose: .decide, action: "decide", resourceType: "plan", lock: true,
                database: database, logger: logger
            ) { found, connection in
                guard var version = try await PlanStore.versions(of: id, on: connection, logger: logger, number: number).first
                else { throw Problem.notFound("The plan has no version \(number).") }
                guard version.status == "proposed" else {
                    throw Problem.conflict("Version \(number) was decided on already (\(version.status)).")
                }
                let latest = try await PlanStore.latestVersionNumber(of: id, on: connection, logger: logger)
                guard latest == number else {
                    throw Problem.conflict("Version \(number) is not the latest (\(latest)); decide on the latest.")
                }
                // The plan in effect until now, to tell which goals this version changes.
                let previous = try await PlanStore.latestApproved(of: id, on: connection, logger: logger)
                version.status = decision.decision == .approve ? "approved" : "sent-back"
                try await connection.query(
                    """
                    UPDATE plan_versions SET status = \(version.status), decided_by = \(caller.subject), decided_at = \(now),
                                             decision_comment = \(comment)
                    WHERE case_id = \(id) AND version = \(number)
                    """, logger: logger)
                // An approved version takes effect: each goal it changes is an event of its own.
                if version.status == "approved" {
                    let emitter = EventContext(connection: connection, logger: logger, source: source)
                    for change in version.content.goalChanges(from: previous?.content) {
                        let goal = version.content.goals.first { $0.id == change.goalId }
                        try await emitter.emit(
                            .goalChanged,
                            payload: GoalChanged(
                                caseId: id, version: number, goalId: change.goalId, change: change.kind.rawValue,
                                responsibleKind: goal?.responsible.kind.rawValue, dueOn: goal?.dueOn),
                            on: Topic.planning, key: id.uuidString.lowercased(), traceparent: nil)
                    }
                }
                version.decidedBy = caller.subject
                version.decidedAt = now
                version.comment = comment
                try await EventContext(connection: connection, logger: logger, source: source).emit(
                    decision.decision == .approve ? .planVersionApproved : .planVersionSentBack,
                    payload: PlanVersionChanged(
                        caseId: id, version: number, area: found.area, managerId: found.managerId,
                        goals: version.content.goals.count, safetyAgreements: version.content.safetyAgreements.count,
                        by: caller.subject, at: now,
                        // Compared with the plan in effect until now; a version sent back moved nothing.
                        talentsMovedOn: version.status == "approved"
                            ? version.content.talentsMovedOn(since: previous?.content) : nil),
                    on: Topic.planning, key: id.uuidString.lowercased(), traceparent: nil)
                return try Response.json(.object(version.json(withContent: false)))
            }
        }

        // The case moves to its next phase when the method's conditions are met.
        group.post("cases/:id/phase") { request, context -> Response in
            let caller = try context.require(.familyManager, .admin)
            let id = try caseID(context)
            let change = try await request.decode(as: PhaseChange.self, context: context)
            let now = clock.now()
            let logger = context.logger
            return try await CaseAccess.withCase(
                id, for: caller, purpose: .manage, action: "change-phase", lock: true, database: database, logger: logger
            ) { found, connection in
                try await PhaseChanges.move(
                    found, to: change.phase, at: now, evaluationClock: evaluationClock,
                    in: EventContext(connection: connection, logger: logger, source: source))
                return try Response.json(
                    .object([
                        "id": .string(id.uuidString.lowercased()), "phase": .string(change.phase.rawValue),
                        "previousPhase": .string(found.phase.rawValue), "phaseChangedAt": .string(Timestamp.format(now)),
                    ]))
            }
        }
    }

    /// A read of the case's plan, by whoever may see the case (audited as a `plan` read).
    static func readingPlan(
        _ context: SamenplanRequestContext, _ database: Database,
        _ body: @Sendable (UUID, PostgresConnection, Logger) async throws -> Response
    ) async throws -> Response {
        let caller = try context.require(.familyManager, .teamLead, .admin)
        let id = try caseID(context)
        let logger = context.logger
        return try await CaseAccess.withCase(
            id, for: caller, action: "read", resourceType: "plan", database: database, logger: logger
        ) { _, connection in try await body(id, connection, logger) }
    }

    static func caseID(_ context: SamenplanRequestContext) throws -> UUID {
        try context.uuid(describedAs: "case id")
    }

    static func versionNumber(_ context: SamenplanRequestContext) throws -> Int {
        // Versions are stored as PostgreSQL integers: a number past Int32 would fail in the
        // database (a 500) instead of here.
        guard let number = context.parameters.get("version").flatMap(Int.init), (1...Int(Int32.max)).contains(number) else {
            throw Problem.badRequest(
                "The version must be a whole number from 1 to 2147483647.",
                problems: [.init(rule: "range", pointer: "version", detail: "a whole number from 1 to 2147483647")])
        }
        return number
    }
}

/// What a change to the plan was made on: `If-Match: "<version>"`, or `If-None-Match: *`
/// for the first version. Without either the change is refused (`428`): a client must say
/// which version it saw.
struct Precondition: Sendable {
    enum Expected: Sendable, Equatable {
        case noPlanYet
        case version(Int)
    }

    var expected: Expected

    init(_ headers: HTTPFields) throws {
        if let match = headers[.ifMatch] {
            let tag = match.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "W/", with: "")
                .trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            guard let version = Int(tag), version > 0 else {
                throw Problem.badRequest("If-Match must be the plan's ETag, for example \"3\".")
            }
            expected = .version(version)
        } else if headers[.ifNoneMatch]?.trimmingCharacters(in: .whitespaces) == "*" {
            expected = .noPlanYet
        } else {
            throw Problem(
                .preconditionRequired, type: "precondition-required", title: "Say which version you changed",
                detail: "Send If-Match with the plan's ETag, or If-None-Match: * for the first version.")
        }
    }

    /// `412` when the plan moved on since the client read it.
    func check(current: Int) throws {
        let matches =
            switch expected {
            case .noPlanYet: current == 0
            case .version(let version): version == current
            }
        guard matches else {
            throw Problem(
                .preconditionFailed, type: "plan-changed", title: "The plan changed meanwhile",
                detail: current == 0
                    ? "The case has no plan yet: send If-None-Match: * for the first version."
                    : "The latest version is \(current): read it, and make your change on that one.",
                headers: [.eTag: "\"\(current)\""])
        }
    }
}

extension Response {
    /// The plan version's ETag.
    func withETag(_ version: Int) -> Response {
        var response = self
        response.headers[.eTag] = "\"\(version)\""
        return response
    }
}
