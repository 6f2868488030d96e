import Foundation
import SamenplanDomain
import SamenplanLoad

/// A family manager's and a team lead's first work on a case, over planning's HTTP API:
/// propose the plan, approve it, start support. Every step is safe to try again after an
/// answer was lost (a service killed mid-request): the first proposal is conditional
/// (`If-None-Match: *`), and a refusal is checked against the case before it counts as one.
struct PlanWork: Sendable {
    let http: LoadHTTP
    let suite: SuiteOptions
    let tokens: SuiteTokens

    /// True when the case reached support with its plan approved before `deadline`.
    func run(referralId: String, until deadline: ContinuousClock.Instant) async -> Bool {
        guard let (caseId, managerId) = await caseOf(referralId: referralId, until: deadline),
            let manager = tokens.managers[managerId]
        else { return false }
        let planURL = "\(suite.planning)/v1/cases/\(caseId)/plan"
        let caseURL = "\(suite.planning)/v1/cases/\(caseId)"

        let proposed = await http.retry(until: deadline) {
            guard let answer = await http.call(.PUT, planURL, token: manager, body: Self.plan, headers: [("If-None-Match", "*")])
            else { return false }
            if answer.status == 201 { return true }
            // 412: a version exists; it is ours if an earlier try went through unanswered.
            guard answer.status == 412 else { return false }
            return (await http.call(.GET, planURL, token: manager)?.body?["version"]?.numberValue ?? 0) >= 1
        }
        guard proposed else { return false }

        let approved = await http.retry(until: deadline) {
            let answer = await http.call(.POST, "\(planURL)/versions/1/decision", token: tokens.teamLead, body: ["decision": "approve"])
            if answer?.status == 200 { return true }
            return await http.call(.GET, planURL, token: manager)?.body?["approvedVersion"]?.numberValue == 1
        }
        guard approved else { return false }

        return await http.retry(until: deadline) {
            let answer = await http.call(.POST, "\(caseURL)/phase", token: manager, body: ["phase": "support"])
            if answer?.status == 200 { return true }
            return await http.call(.GET, caseURL, token: manager)?.body?["phase"]?.stringValue == "support"
        }
    }

    /// The case intake gave the referral, and its family manager, once planning serves the
    /// case (planning learns of it from intake's events).
    private func caseOf(referralId: String, until deadline: ContinuousClock.Instant) async -> (String, String)? {
        var found: (String, String)?
        let query = "source=\(LoadManifest.source.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)&referralId=\(referralId)"
        _ = await http.retry(until: deadline) {
            guard let body = await http.call(.GET, "\(suite.intake)/v1/referrals?\(query)", token: tokens.admin)?.body,
                body["status"]?.stringValue == "accepted", let caseId = body["caseId"]?.stringValue
            else { return false }
            guard let managerId = await http.call(.GET, "\(suite.planning)/v1/cases/\(caseId.lowercased())", token: tokens.admin)?
                .body?["managerId"]?.stringValue
            else { return false }
            found = (caseId.lowercased(), managerId)
            return true
        }
        return found
    }

    /// A first plan that meets every rule for entering support: a goal and a safety agreement.
    static let plan: JSON = [
        "reason": "Eerste plan",
        "plan": [
            "currentSituation": "Moeder alleen met een kind; veel spanning thuis.", "concerns": [], "strengths": [], "talents": [],
            "goals": [["id": "g1", "what": "Rust in huis", "dueOn": "2027-12-01", "responsible": ["kind": "member", "who": "p1"]]],
            "safetyAgreements": ["Bij ruzie belt moeder de buurvrouw"],
        ],
    ]
}
