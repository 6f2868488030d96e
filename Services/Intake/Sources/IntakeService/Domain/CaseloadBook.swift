import Foundation

/// The free places of some family managers and the queues of their areas, in memory: the
/// assignment rules without I/O, so a whole batch of referrals (or a freed place) is decided
/// with a few reads and writes instead of a query per case.
///
/// The rules (issue 3): a case goes to the manager of its area with the most free places,
/// ties to the lowest id (byte order), so assignment is deterministic; a re-referred family's
/// previous manager (`preferredManagerId`) is tried first. When nobody has room the case
/// waits; the queue is served urgent cases first, then in the order they arrived (then by
/// case id), as soon as a place frees up.
public struct CaseloadBook: Sendable, Equatable {
    /// A case without a manager, in an area's queue.
    public struct WaitingCase: Sendable, Equatable {
        public var caseId: UUID
        public var urgent: Bool
        public var queuedAt: Date
        public var preferredManagerId: String?

        public init(caseId: UUID, urgent: Bool, queuedAt: Date, preferredManagerId: String? = nil) {
            self.caseId = caseId
            self.urgent = urgent
            self.queuedAt = queuedAt
            self.preferredManagerId = preferredManagerId
        }

        /// First in line first: urgent before normal, then the longest waiting.
        func isAhead(of other: WaitingCase) -> Bool {
            if urgent != other.urgent { return urgent }
            if queuedAt != other.queuedAt { return queuedAt < other.queuedAt }
            return caseId.uuidString < other.caseId.uuidString
        }
    }

    public struct Assignment: Sendable, Equatable {
        public var caseId: UUID
        public var managerId: String
        public var area: String
        public var waitedSeconds: Int

        public init(caseId: UUID, managerId: String, area: String, waitedSeconds: Int) {
            self.caseId = caseId
            self.managerId = managerId
            self.area = area
            self.waitedSeconds = waitedSeconds
        }
    }

    /// Free places per manager, shared by all the areas they work in (never below zero).
    public private(set) var freePlaces: [String: Int]
    /// The managers of each area, in id order.
    public private(set) var managers: [String: [String]]
    /// The waiting cases of each area. Complete for every area where a manager has room;
    /// where nobody has, only `queueLengths` is needed (nothing can be assigned there).
    private var queues: [String: [WaitingCase]]
    private var queueLengths: [String: Int]

    /// - Parameters:
    ///   - freePlaces: per manager, their maximum caseload minus their open cases.
    ///   - areasOfManager: the areas each manager works in.
    ///   - queueLengths: the number of waiting cases per area.
    ///   - waiting: the waiting cases of the areas where a manager has room.
    public init(
        freePlaces: [String: Int], areasOfManager: [String: [String]], queueLengths: [String: Int] = [:],
        waiting: [String: [WaitingCase]] = [:]
    ) {
        self.freePlaces = freePlaces.mapValues { max(0, $0) }
        var managers: [String: [String]] = [:]
        for (manager, areas) in areasOfManager {
            for area in Set(areas) { managers[area, default: []].append(manager) }
        }
        self.managers = managers.mapValues { $0.sorted() }
        self.queues = waiting
        self.queueLengths = queueLengths
        for (area, cases) in waiting { self.queueLengths[area] = max(self.queueLengths[area] ?? 0, cases.count) }
    }

    /// Whether some manager of `area` has a free place (then its queue must be complete).
    public func hasRoom(in area: String) -> Bool {
        managers[area, default: []].contains { freePlaces[$0, default: 0] > 0 }
    }

    public func queueLength(of area: String) -> Int { queueLengths[area] ?? 0 }

    /// A new case joins the end of its area's queue.
    public mutating func enqueue(_ waiting: WaitingCase, in area: String) {
        queues[area, default: []].append(waiting)
        queueLengths[area, default: 0] += 1
    }

    /// Assigns waiting cases of `area` while a manager there has room, first in line first.
    public mutating func serve(_ area: String, now: Date) -> [Assignment] {
        var assignments: [Assignment] = []
        while hasRoom(in: area), var queue = queues[area], let next = queue.indices.min(by: { queue[$0].isAhead(of: queue[$1]) }),
            let managerId = manager(for: queue[next], in: area)
        {
            let waiting = queue.remove(at: next)
            queues[area] = queue
            queueLengths[area, default: 1] -= 1
            freePlaces[managerId, default: 1] -= 1
            assignments.append(
                Assignment(
                    caseId: waiting.caseId, managerId: managerId, area: area,
                    waitedSeconds: max(0, Int(now.timeIntervalSince(waiting.queuedAt)))))
        }
        return assignments
    }

    /// The preferred manager when they work here and have room; otherwise the one with the
    /// most free places (ties: lowest id); nil when nobody has room.
    private func manager(for waiting: WaitingCase, in area: String) -> String? {
        let candidates = managers[area, default: []].filter { freePlaces[$0, default: 0] > 0 }
        if let preferred = waiting.preferredManagerId, candidates.contains(preferred) { return preferred }
        // `candidates` is in id order and `max` keeps the first of equals only with `>`.
        var best: String?
        for candidate in candidates where best.map({ freePlaces[candidate]! > freePlaces[$0]! }) ?? true {
            best = candidate
        }
        return best
    }
}
