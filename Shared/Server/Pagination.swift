import Hummingbird
import SamenplanDomain

/// Keyset pagination for list endpoints: `?limit=` (1–200, default 50) and `?after=<cursor>`,
/// answered as `{"items": [...], "next": "<cursor>"}`; `next` is absent on the last page.
/// Keyset (not offset) pages stay stable while rows are added.
public struct Page: Sendable {
    public var limit: Int
    public var after: String?

    public init(_ request: Request) throws {
        let query = request.uri.queryParameters
        if let text = query.get("limit") {
            guard let value = Int(text), (1...200).contains(value) else {
                throw Problem.badRequest(
                    "limit must be a whole number from 1 to 200.",
                    problems: [.init(rule: "range", pointer: "limit", detail: "a whole number from 1 to 200")])
            }
            limit = value
        } else {
            limit = 50
        }
        after = query.get("after").flatMap { $0.isEmpty ? nil : $0 }
    }

    public func body(items: [JSON], last: String?) -> JSON {
        var body: [String: JSON] = ["items": .array(items)]
        if let last { body["next"] = .string(last) }
        return .object(body)
    }
}

extension Identity {
    /// Who may see a family's case: an admin; the family's own manager; the team lead of its
    /// area. Everyone else is told the case does not exist.
    public func maySeeCase(managedBy managerId: String?, inArea area: String) -> Bool {
        switch role {
        case .admin: true
        case .familyManager: managerId == subject
        case .teamLead: areas.contains(area)
        default: false
        }
    }
}
