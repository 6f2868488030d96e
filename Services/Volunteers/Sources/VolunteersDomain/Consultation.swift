import SamenplanDomain

/// How often an area's case consultation meets (issue 5, item 4). The seeds' Borsele project met
/// every three to six weeks, so that is the range a coordinator may choose from; the next
/// meeting is always whole weeks later, on the same weekday.
public struct ConsultationRhythm: Sendable, Hashable, Codable {
    /// The weeks a coordinator may choose from.
    public static let allowedWeeks: ClosedRange<Int> = 3...6

    /// Weeks between two meetings, within ``allowedWeeks``.
    public let weeks: Int

    /// Nil when `weeks` is outside ``allowedWeeks``.
    public init?(weeks: Int) {
        guard Self.allowedWeeks.contains(weeks) else { return nil }
        self.weeks = weeks
    }

    /// The meeting after the one on `date`.
    public func next(after date: CalendarDate) -> CalendarDate {
        date.addingDays(weeks * 7)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let weeks = try container.decode(Int.self)
        guard let rhythm = ConsultationRhythm(weeks: weeks) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "a consultation meets every \(Self.allowedWeeks.lowerBound)–\(Self.allowedWeeks.upperBound) weeks")
        }
        self = rhythm
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(weeks)
    }
}

/// An assignment that is running: a volunteer with a family, for one of its help requests.
public struct AgendaAssignment: Sendable, Hashable, Codable {
    public var assignmentId: String
    /// The family's case.
    public var caseId: String
    public var volunteerId: String
    public var helpRequestId: String
    public var startedOn: CalendarDate

    public init(assignmentId: String, caseId: String, volunteerId: String, helpRequestId: String, startedOn: CalendarDate) {
        self.assignmentId = assignmentId
        self.caseId = caseId
        self.volunteerId = volunteerId
        self.helpRequestId = helpRequestId
        self.startedOn = startedOn
    }
}

/// A concern flagged at a check-in and not yet resolved.
public struct AgendaConcern: Sendable, Hashable, Codable {
    public var concernId: String
    public var assignmentId: String
    public var caseId: String
    public var raisedOn: CalendarDate

    public init(concernId: String, assignmentId: String, caseId: String, raisedOn: CalendarDate) {
        self.concernId = concernId
        self.assignmentId = assignmentId
        self.caseId = caseId
        self.raisedOn = raisedOn
    }
}

/// A help request that wants a volunteer.
public struct AgendaRequest: Sendable, Hashable, Codable {
    public var helpRequestId: String
    public var caseId: String
    /// The day planning raised it.
    public var raisedOn: CalendarDate
    /// Whether a volunteer is assigned to it (consented by the family) already.
    public var hasAssignment: Bool

    public init(helpRequestId: String, caseId: String, raisedOn: CalendarDate, hasAssignment: Bool = false) {
        self.helpRequestId = helpRequestId
        self.caseId = caseId
        self.raisedOn = raisedOn
        self.hasAssignment = hasAssignment
    }
}

/// The generated agenda of one case consultation: what the family managers and the local field
/// talk about. Ids and dates only; names and notes stay where they are kept.
public struct Agenda: Sendable, Hashable, Codable {
    /// A family with a volunteer at work, and the assignments running there.
    public struct Family: Sendable, Hashable, Codable {
        public var caseId: String
        /// Oldest first (by start, then id).
        public var assignments: [AgendaAssignment]

        public init(caseId: String, assignments: [AgendaAssignment]) {
            self.caseId = caseId
            self.assignments = assignments
        }
    }

    /// A help request still without a volunteer, and how long it has waited.
    public struct UnmatchedRequest: Sendable, Hashable, Codable {
        public var helpRequestId: String
        public var caseId: String
        public var raisedOn: CalendarDate
        /// Days from `raisedOn` to the meeting.
        public var daysWaiting: Int

        public init(helpRequestId: String, caseId: String, raisedOn: CalendarDate, daysWaiting: Int) {
            self.helpRequestId = helpRequestId
            self.caseId = caseId
            self.raisedOn = raisedOn
            self.daysWaiting = daysWaiting
        }
    }

    public var area: String
    /// The meeting's date.
    public var date: CalendarDate
    /// By case id.
    public var families: [Family]
    /// Oldest first (by the day raised, then id).
    public var openConcerns: [AgendaConcern]
    /// Longest waiting first (by the day raised, then id).
    public var unmatchedRequests: [UnmatchedRequest]

    public init(
        area: String, date: CalendarDate, families: [Family], openConcerns: [AgendaConcern],
        unmatchedRequests: [UnmatchedRequest]
    ) {
        self.area = area
        self.date = date
        self.families = families
        self.openConcerns = openConcerns
        self.unmatchedRequests = unmatchedRequests
    }

    /// Nothing to discuss.
    public var isEmpty: Bool { families.isEmpty && openConcerns.isEmpty && unmatchedRequests.isEmpty }
}

/// Builds a case consultation's agenda (issue 5, item 4): the families with active volunteers,
/// the open concerns, and the help requests that have waited more than two weeks for a match.
/// The caller passes what belongs to the meeting's area; everything comes out sorted, so the
/// same facts always give the same agenda.
public enum ConsultationAgenda {
    /// The agenda for the meeting of `area` on `date`. A help request is on it when it has no
    /// assignment and was raised more than `unmatchedAfterDays` days before `date`: with the
    /// default 14, one raised 15 days before is, one raised exactly 14 days before is not yet.
    public static func build(
        area: String, on date: CalendarDate, activeAssignments: [AgendaAssignment], openConcerns: [AgendaConcern],
        openRequests: [AgendaRequest], unmatchedAfterDays: Int = 14
    ) -> Agenda {
        let families = Dictionary(grouping: activeAssignments, by: \.caseId)
            .map { caseId, assignments in
                Agenda.Family(
                    caseId: caseId,
                    assignments: assignments.sorted { ($0.startedOn, $0.assignmentId) < ($1.startedOn, $1.assignmentId) })
            }
            .sorted { $0.caseId < $1.caseId }
        let concerns = openConcerns.sorted { ($0.raisedOn, $0.concernId) < ($1.raisedOn, $1.concernId) }
        let unmatched = openRequests
            .filter { !$0.hasAssignment && $0.raisedOn.days(until: date) > unmatchedAfterDays }
            .sorted { ($0.raisedOn, $0.helpRequestId) < ($1.raisedOn, $1.helpRequestId) }
            .map {
                Agenda.UnmatchedRequest(
                    helpRequestId: $0.helpRequestId, caseId: $0.caseId, raisedOn: $0.raisedOn,
                    daysWaiting: $0.raisedOn.days(until: date))
            }
        return Agenda(
            area: area, date: date, families: families, openConcerns: concerns, unmatchedRequests: unmatched)
    }
}
