import Foundation
import SamenplanDomain

/// Checks the `data` of the neighbourhood signals on `samenplan.signals.v1` (DESIGN.md,
/// Inbound events), with the referral validator's rule codes and its care not to repeat
/// submitted values in the details.
///
/// - `nl.samenplan.nuisance.reported.v1`: `reportId` (1–100), `area` (1–100, kept
///   lowercased), `reportedOn` (a date, not after today), `category` (a code, 1–100), and
///   optionally `referralId` (1–100) or `caseId` (a UUID) to link it to a family.
/// - `nl.samenplan.placement.started.v1` / `.ended.v1`: `caseId` (a UUID), `memberRef`
///   (1–50), `on` (a date, not after today), `kind` (a code, 1–100).
public enum SignalValidator {
    public struct Nuisance: Sendable, Hashable {
        public var reportId: String
        public var area: String
        public var reportedOn: CalendarDate
        public var category: String
        public var referralId: String?
        public var caseId: UUID?
    }

    public struct Placement: Sendable, Hashable {
        public var caseId: UUID
        public var memberRef: String
        public var on: CalendarDate
        public var kind: String
    }

    public static func nuisance(_ data: JSON, today: CalendarDate) -> Result<Nuisance, ReferralProblems> {
        guard case .object(let fields) = data else { return .failure(notAnObject(data)) }
        var checker = Checker()
        let reportId = checker.string(fields, "reportId", at: "", limit: 1...100)
        let area = checker.string(fields, "area", at: "", limit: 1...100)?.lowercased()
        let reportedOn = notInFuture(checker.date(fields, "reportedOn", at: "", required: true), "reportedOn", today, &checker)
        let category = checker.string(fields, "category", at: "", limit: 1...100)
        let referralId = checker.string(fields, "referralId", at: "", limit: 0...100)
        let caseId = uuid(fields, "caseId", required: false, &checker)
        guard checker.problems.isEmpty, let reportId, let area, let reportedOn, let category else {
            return .failure(ReferralProblems(problems: checker.problems, referralId: nil))
        }
        return .success(
            Nuisance(
                reportId: reportId, area: area, reportedOn: reportedOn, category: category, referralId: referralId,
                caseId: caseId))
    }

    public static func placement(_ data: JSON, today: CalendarDate) -> Result<Placement, ReferralProblems> {
        guard case .object(let fields) = data else { return .failure(notAnObject(data)) }
        var checker = Checker()
        let caseId = uuid(fields, "caseId", required: true, &checker)
        let memberRef = checker.string(fields, "memberRef", at: "", limit: 1...50)
        let on = notInFuture(checker.date(fields, "on", at: "", required: true), "on", today, &checker)
        let kind = checker.string(fields, "kind", at: "", limit: 1...100)
        guard checker.problems.isEmpty, let caseId, let memberRef, let on, let kind else {
            return .failure(ReferralProblems(problems: checker.problems, referralId: nil))
        }
        return .success(Placement(caseId: caseId, memberRef: memberRef, on: on, kind: kind))
    }

    private static func notAnObject(_ data: JSON) -> ReferralProblems {
        ReferralProblems(
            problems: [
                .init(
                    rule: ReferralValidator.Rule.dataObject.rawValue, pointer: "",
                    detail: "data must be a JSON object, got \(data.typeName)")
            ], referralId: nil)
    }

    private static func notInFuture(
        _ date: CalendarDate?, _ key: String, _ today: CalendarDate, _ checker: inout Checker
    ) -> CalendarDate? {
        guard let date else { return nil }
        guard date <= today else {
            checker.report(.dateInFuture, at: "/\(key)", "\(key) must not be after today")
            return nil
        }
        return date
    }

    private static func uuid(_ fields: [String: JSON], _ key: String, required: Bool, _ checker: inout Checker) -> UUID? {
        guard let text = checker.string(fields, key, at: "", limit: (required ? 1 : 0)...100) else { return nil }
        guard let id = UUID(uuidString: text) else {
            checker.report(.format, at: "/\(key)", "\(key) must be a UUID")
            return nil
        }
        return id
    }
}
