import Foundation
import SamenplanDomain

/// The shape of one field of an event's `data`, as a template sees it.
public indirect enum FieldShape: Sendable, Hashable, CustomStringConvertible {
    case string
    case number
    case bool
    case list(FieldShape)
    case object([String: Field])

    public var description: String {
        switch self {
        case .string: "string"
        case .number: "number"
        case .bool: "boolean"
        case .list(let element): "list of \(element)"
        case .object: "object"
        }
    }

    /// The keys of an object, sorted; empty for anything else.
    public var keys: [String] {
        if case .object(let fields) = self { return fields.keys.sorted() }
        return []
    }
}

/// A field and whether an event may leave it out (an `Optional` property of the payload).
public struct Field: Sendable, Hashable {
    public var shape: FieldShape
    public var optional: Bool

    public init(_ shape: FieldShape, optional: Bool = false) {
        self.shape = shape
        self.optional = optional
    }
}

/// Which fields each event type's `data` carries: what a rule's selectors and a template's
/// tags may name, checked when the rules are loaded.
///
/// The catalogue is not written by hand: it encodes one sample of each payload type of
/// `Shared/Domain/Payloads.swift` with the suite's own encoder (`JSON(encoding:)`) and takes
/// the keys it finds, nested objects and the elements of lists included. Which fields are
/// optional comes from the Swift type itself (a `Mirror` of the sample), so every optional
/// property of a sample must be set, or its key would be missing from the catalogue:
/// `defects` lists any sample that breaks this, and the tests keep it empty.
///
/// Messages carry ids, dates and codes only: the one free text of an event (a help request's
/// `need`) is withheld from the catalogue, so no template can use it.
///
/// It covers every type on the topics notifications consumes (intake, planning, volunteers).
/// The integrators' inbound types and notifications' own outcomes never reach the service,
/// so a rule naming one is refused.
public enum EventFields {
    /// The fields of `type`'s data, or nil when notifications never sees that type.
    public static func shape(for type: EventType) -> FieldShape? { catalogue[type]?.shape }

    /// The sample `data` the catalogue was built from (every optional field set).
    public static func sample(for type: EventType) -> JSON? { catalogue[type]?.sample }

    /// Every path a template may name for `type`: `caseId`, `problems.rule` (the fields of a
    /// list's elements are written with a dot here, though a template reaches them inside a
    /// `{{#problems}}` section).
    public static func paths(for type: EventType) -> Set<String>? {
        guard let shape = shape(for: type) else { return nil }
        var paths: Set<String> = []
        func collect(_ shape: FieldShape, prefix: String) {
            switch shape {
            case .object(let fields):
                for (key, field) in fields {
                    let path = prefix.isEmpty ? key : prefix + "." + key
                    paths.insert(path)
                    collect(field.shape, prefix: path)
                }
            case .list(let element): collect(element, prefix: prefix)
            case .string, .number, .bool: break
            }
        }
        collect(shape, prefix: "")
        return paths
    }

    /// The event types notifications can write rules for.
    public static var eventTypes: Set<EventType> { Set(catalogue.keys) }

    /// Samples that cannot describe their type completely (an optional left nil, an empty
    /// list, a key the encoder renamed). Empty, or the catalogue is wrong.
    public static var defects: [String] { built.defects }

    /// The data of the daily digest (`RuleBook.renderDigest`): the day, how many messages,
    /// whether it is exactly one, and the messages themselves.
    static let digest: FieldShape = .object([
        "date": Field(.string),
        "count": Field(.number),
        "single": Field(.bool),
        "messages": Field(.list(.object(["subject": Field(.string), "body": Field(.string)]))),
    ])

    // MARK: - The samples

    private static let caseId = UUID(uuidString: "3f2b8c1e-9d4a-4e6b-8a7c-1b2c3d4e5f60")!
    private static let otherId = UUID(uuidString: "7a1e5c2d-4b3f-4a9e-9c8d-0e1f2a3b4c5d")!
    private static let instant = Date(timeIntervalSince1970: 1_772_442_000)  // 2026-03-02T09:00:00Z
    private static let day = CalendarDate(year: 2026, month: 3, day: 2)!

    private static var samples: [(EventType, any Encodable & Sendable)] {
        let problem = ReferralRejected.Problem(rule: "child-required", pointer: "/members", detail: "no child")
        let planVersion = PlanVersionChanged(
            caseId: caseId, version: 2, area: "noord", managerId: "m-1", goals: 3, safetyAgreements: 1, by: "tl-1",
            at: instant, talentsMovedOn: 1)
        let endingStep = CaseEndingStep(
            caseId: caseId, area: "noord", managerId: "m-1", by: "m-1", at: instant, childrenSafe: true)
        let reminder = EvaluationReminder(
            caseId: caseId, area: "noord", managerId: "m-1", lastHeldOn: "2026-01-12", since: instant)
        let assignment = VolunteerAssignmentChanged(
            assignmentId: otherId, helpRequestId: otherId, caseId: caseId, volunteerId: "v-1", at: instant,
            reason: "goal-reached")
        let volunteer = VolunteerChanged(
            volunteerId: "v-1", status: "active", areas: ["noord"], guideId: "g-1", reason: "certificate-expired",
            at: instant, sequence: 2)
        let match = VolunteerMatchChanged(
            proposalId: otherId, helpRequestId: otherId, caseId: caseId, managerId: "m-1", volunteerId: "v-1",
            at: instant)
        return [
            (
                .referralRejected,
                ReferralRejected(eventSource: "/desk", eventId: "e-1", referralId: "r-1", problems: [problem])
            ),
            (
                .referralAccepted,
                ReferralAccepted(
                    eventSource: "/desk", eventId: "e-1", referralId: "r-1", caseId: caseId, joinedExistingCase: false)
            ),
            (
                .caseOpened,
                CaseOpened(
                    caseId: caseId, familyId: otherId, referralId: "r-1", framework: .childProtection,
                    urgency: .normal, area: "noord", courtOrderEndsOn: "2026-09-01", childCount: 2, openedAt: instant,
                    reReferral: true, previousCaseId: otherId)
            ),
            (
                .caseAssigned,
                CaseAssigned(
                    caseId: caseId, managerId: "m-1", area: "noord", assignedAt: instant, previousManagerId: "m-0",
                    waitedSeconds: 60)
            ),
            (
                .caseQueued,
                CaseQueued(caseId: caseId, area: "noord", urgency: .urgent, queuedAt: instant, queueLength: 2)
            ),
            (
                .managerRegistered,
                ManagerRegistered(managerId: "m-1", areas: ["noord"], maxCaseload: 20, at: instant, team: "team-noord")
            ),
            (
                .courtOrderEnding,
                CourtOrderEnding(
                    caseId: caseId, framework: .childProtection, endsOn: "2026-04-01", managerId: "m-1", area: "noord")
            ),
            (
                .signalRejected,
                SignalRejected(
                    eventSource: "/police", eventId: "e-1", eventType: EventType.nuisanceReported.rawValue,
                    problems: [problem])
            ),
            (
                .nuisanceRecorded,
                NuisanceRecorded(
                    reportId: "n-1", area: "noord", reportedOn: "2026-03-01", category: "noise", caseId: caseId)
            ),
            (
                .placementRecorded,
                PlacementRecorded(
                    caseId: caseId, memberRef: "c1", kind: "foster-care", on: "2026-03-01", change: .started,
                    area: "noord")
            ),
            (
                .casePhaseChanged,
                CasePhaseChanged(
                    caseId: caseId, phase: .support, previousPhase: .connect, area: "noord", managerId: "m-1",
                    changedAt: instant)
            ),
            (
                .caseManagerChanged,
                CaseManagerChanged(caseId: caseId, managerId: "m-1", previousManagerId: "m-0", changedAt: instant)
            ),
            (.planVersionProposed, planVersion),
            (.planVersionApproved, planVersion),
            (.planVersionSentBack, planVersion),
            (
                .goalChanged,
                GoalChanged(
                    caseId: caseId, version: 2, goalId: "g1", change: "added", responsibleKind: "member",
                    dueOn: "2026-06-01")
            ),
            (
                .evaluationRecorded,
                EvaluationRecorded(
                    caseId: caseId, area: "noord", managerId: "m-1", heldOn: "2026-03-01", attendees: 4,
                    planAdjusted: true, nextDueAt: instant)
            ),
            (.evaluationDue, reminder),
            (.evaluationOverdue, reminder),
            (.continuationPlanProposed, endingStep),
            (.continuationPlanApproved, endingStep),
            (.continuationPlanSentBack, endingStep),
            (.safetyAssessed, endingStep),
            (.handoverOffered, endingStep),
            (.handoverAccepted, endingStep),
            (.handoverDeclined, endingStep),
            (.followUpDue, FollowUpDue(caseId: caseId, area: "noord", managerId: "m-1", months: 6, closedAt: instant)),
            (
                .followUpRecorded,
                FollowUpRecorded(
                    caseId: caseId, area: "noord", managerId: "m-1", months: 6, dueOn: "2026-09-02",
                    heldOn: "2026-09-10", at: instant)
            ),
            (
                .helpRequestRaised,
                HelpRequestRaised(
                    helpRequestId: otherId, caseId: caseId, area: "noord", managerId: "m-1", kind: "practical",
                    goalId: "g1", need: "help")
            ),
            (.volunteerAssignmentStarted, assignment),
            (.volunteerAssignmentEnded, assignment),
            (.volunteerRegistered, volunteer),
            (.volunteerStatusChanged, volunteer),
            (
                .volunteerCertificateExpiring,
                VolunteerCertificateExpiring(
                    volunteerId: "v-1", areas: ["noord"], guideId: "g-1", issuedOn: day, expiresOn: day)
            ),
            (.volunteerMatchProposed, match),
            (.volunteerMatchRefused, match),
            (
                .volunteerConcernFlagged,
                VolunteerConcernFlagged(
                    concernId: otherId, assignmentId: otherId, caseId: caseId, managerId: "m-1", volunteerId: "v-1",
                    raisedBy: "v-1", at: instant)
            ),
            (
                .caseConsultationDue,
                CaseConsultationDue(
                    consultationId: otherId, area: "noord", meetsOn: day, nextOn: day, familiesWithVolunteers: [caseId],
                    openConcerns: 1, unmatchedRequests: [otherId])
            ),
            (
                .volunteerHoursLogged,
                VolunteerHoursLogged(
                    hoursId: otherId, assignmentId: otherId, helpRequestId: otherId, caseId: caseId, volunteerId: "v-1",
                    area: "noord", workedOn: "2026-03-01", hours: 2.5, at: instant)
            ),
        ]
    }

    /// Fields a message must not repeat: a help request's `need` is the one free text that
    /// leaves planning, shared by the family with the volunteers service only.
    private static let withheld: [EventType: Set<String>] = [.helpRequestRaised: ["need"]]

    // MARK: - Building the catalogue

    private struct Entry: Sendable {
        var shape: FieldShape
        var sample: JSON
    }

    private struct Built: Sendable {
        var entries: [EventType: Entry] = [:]
        var defects: [String] = []
    }

    private static let built: Built = {
        var built = Built()
        for (type, payload) in samples {
            let name = type.rawValue
            guard let json = try? JSON(encoding: payload) else {
                built.defects.append("\(name): the sample does not encode")
                continue
            }
            var shape = shape(of: json, mirroring: payload, path: name, defects: &built.defects)
            if case .object(var fields) = shape, let keys = withheld[type] {
                for key in keys { fields[key] = nil }
                shape = .object(fields)
            }
            built.entries[type] = Entry(shape: shape, sample: json)
        }
        return built
    }()

    private static var catalogue: [EventType: Entry] { built.entries }

    /// The shape of `json`, with each object's optional keys taken from the Swift value it
    /// was encoded from.
    private static func shape(of json: JSON, mirroring value: Any?, path: String, defects: inout [String]) -> FieldShape
    {
        switch json {
        case .null:
            defects.append("\(path): null in the sample")
            return .string
        case .bool: return .bool
        case .number: return .number
        case .string: return .string
        case .array(let items):
            guard let first = items.first else {
                defects.append("\(path): an empty list in the sample, so its elements are unknown")
                return .list(.string)
            }
            let element = value.flatMap { Mirror(reflecting: $0).children.first?.value }
            return .list(shape(of: first, mirroring: element, path: path + "[]", defects: &defects))
        case .object(let members):
            var children: [String: Any] = [:]
            if let value {
                for child in Mirror(reflecting: value).children {
                    if let label = child.label { children[label] = child.value }
                }
            }
            var fields: [String: Field] = [:]
            for (key, member) in members {
                let child = children[key]
                let (optional, unwrapped) = child.map(unwrap) ?? (false, nil)
                if child == nil, value != nil {
                    defects.append("\(path).\(key): not a property of the Swift type")
                }
                fields[key] = Field(
                    shape(of: member, mirroring: unwrapped, path: path + "." + key, defects: &defects),
                    optional: optional)
            }
            for (label, child) in children where members[label] == nil {
                let (optional, unwrapped) = unwrap(child)
                if optional && unwrapped == nil {
                    defects.append("\(path).\(label): optional and nil in the sample, so the catalogue misses it")
                } else {
                    defects.append("\(path).\(label): a property missing from the encoded sample")
                }
            }
            return .object(fields)
        }
    }

    /// Whether `value` is an `Optional`, and what it holds.
    private static func unwrap(_ value: Any) -> (optional: Bool, value: Any?) {
        let mirror = Mirror(reflecting: value)
        guard mirror.displayStyle == .optional else { return (false, value) }
        return (true, mirror.children.first?.value)
    }
}
