import Foundation
import SamenplanDomain
import SamenplanEventing

/// The events intake emits about a case's family manager.
enum CaseEvents {
    static func emitAssignments(
        _ assignments: [Caseload.Assignment], at date: Date, traceparent: String?, in context: EventContext
    ) async throws {
        for assignment in assignments {
            try await context.emit(
                .caseAssigned, payload: CaseAssigned(assignment, assignedAt: date), on: Topic.intake,
                key: assignment.caseId.uuidString.lowercased(), traceparent: traceparent)
        }
    }

    /// Serves the queues of every area of `managerId`, who has a free place now (a case of
    /// theirs closed, or they were registered or given more room).
    static func placeFreed(managerId: String, at date: Date, traceparent: String?, in context: EventContext) async throws {
        let areas = try await Caseload.areas(ofManager: managerId, on: context.connection, logger: context.logger)
        guard !areas.isEmpty else { return }
        // All the manager's areas at once: one set of locks, taken in the same order as a
        // batch of referrals takes them.
        var book = try await Caseload.load(areas: areas, on: context.connection, logger: context.logger)
        let assignments = areas.flatMap { book.serve($0, now: date) }
        try await Caseload.record(assignments, at: date, on: context.connection, logger: context.logger)
        try await emitAssignments(assignments, at: date, traceparent: traceparent, in: context)
    }
}

extension CaseAssigned {
    /// The `case.assigned` event of an assignment the caseload book decided.
    init(_ assignment: CaseloadBook.Assignment, assignedAt: Date) {
        self.init(
            caseId: assignment.caseId, managerId: assignment.managerId, area: assignment.area, assignedAt: assignedAt,
            waitedSeconds: assignment.waitedSeconds)
    }
}
