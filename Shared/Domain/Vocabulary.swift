/// The workflow's vocabulary (DESIGN.md, "The workflow, in the seeds' words and ours").

/// The legal frame of a case. The last two come with a court order that has an end date.
public enum Framework: String, Codable, Sendable, CaseIterable {
    case voluntary
    case childProtection = "child-protection"
    case juvenileProbation = "juvenile-probation"

    /// `child-protection` (OTS) and `juvenile-probation` are ordered by a court.
    public var requiresCourtOrder: Bool { self != .voluntary }
}

public enum Urgency: String, Codable, Sendable, CaseIterable {
    case normal
    case urgent
}

public enum MemberRole: String, Codable, Sendable, CaseIterable {
    case parent
    case child
    case carer
    case other
}

/// The three phases every case passes through, however short (*zo kort als mogelijk,
/// zo lang als nodig*), and the end.
public enum Phase: String, Codable, Sendable, CaseIterable {
    case connect
    case support
    case secure
    case closed
}

/// The roles a bearer token can carry (DESIGN.md, HTTP).
public enum Role: String, Codable, Sendable, CaseIterable {
    case familyManager = "family-manager"
    case teamLead = "team-lead"
    case volunteerCoordinator = "volunteer-coordinator"
    case volunteer
    case neighbourhoodTeam = "neighbourhood-team"
    case analyst
    case integrator
    case service
    case admin
}
