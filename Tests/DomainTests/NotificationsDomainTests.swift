import Foundation
import NotificationsDomain
import SamenplanDomain
import Testing

// The notification rules and templates (issue 6, items 1 and 2): the shipped ones load and
// give the right text to the right people in both languages; a broken rule or template is
// refused when loading, with every problem named.

private let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
private let shippedRules = repositoryRoot.appendingPathComponent(
    "Services/Notifications/Sources/NotificationsService/Rules")

private func loadShipped() throws -> RuleBook {
    try RuleBook.load(
        rules: shippedRules.appendingPathComponent("rules.yaml"),
        templates: shippedRules.appendingPathComponent("templates"))
}

// MARK: - Sample events

private let caseId = UUID(uuidString: "11111111-2222-4333-8444-555555555555")!
private let otherId = UUID(uuidString: "66666666-7777-4888-8999-000000000000")!
private let thirdId = UUID(uuidString: "22222222-3333-4444-8555-666666666666")!
private let at = Date(timeIntervalSince1970: 1_772_442_000)  // 2026-03-02T09:00:00Z
private let c = "11111111-2222-4333-8444-555555555555"
private let h = "66666666-7777-4888-8999-000000000000"
private let p = "22222222-3333-4444-8555-666666666666"
private let t = "2026-03-02T09:00:00.000Z"

private func encoded(_ payload: some Encodable) -> JSON { (try? JSON(encoding: payload)) ?? .null }

private func day(_ text: String) -> CalendarDate { CalendarDate(text)! }

/// One shipped rule applied to one sample event: who receives it and what they read.
struct ShippedCase: Sendable, CustomTestStringConvertible {
    var type: EventType
    var template: String
    var urgency: Urgency
    var recipients: [RecipientSelector]
    var data: JSON
    /// The recipient id each `.field` selector finds, the areas each `.role` selector
    /// limits to (nil: no limit), in selector order.
    var resolvedIds: [String?]
    var resolvedAreas: [[String]?]
    var nl: RenderedMessage
    var en: RenderedMessage

    var testDescription: String { "\(type) → \(template)" }
}

private let managerField: [RecipientSelector] = [.field("managerId")]

private let planVersion = PlanVersionChanged(
    caseId: caseId, version: 3, area: "noord", managerId: "m-17", goals: 4, safetyAgreements: 2, by: "tl-02", at: at)
private let endingStep = CaseEndingStep(caseId: caseId, area: "noord", managerId: "m-17", by: "m-17", at: at)
private let certificate = VolunteerCertificateExpiring(
    volunteerId: "v-08", areas: ["noord", "oost"], guideId: "g-02", issuedOn: day("2023-04-01"),
    expiresOn: day("2026-04-01"))

private let shippedCases: [ShippedCase] = [
    ShippedCase(
        type: .caseAssigned, template: "case-assigned", urgency: .normal, recipients: managerField,
        data: encoded(
            CaseAssigned(caseId: caseId, managerId: "m-17", area: "noord", assignedAt: at, previousManagerId: "m-03")),
        resolvedIds: ["m-17"], resolvedAreas: [nil],
        nl: RenderedMessage(
            subject: "Nieuw gezin voor jou: casus \(c)",
            body: """
                Er is een gezin aan je toegewezen in gebied noord: vanaf nu ben jij hun gezinsmanager.

                Casus: \(c)
                Toegewezen op: \(t)
                Je neemt het gezin over van gezinsmanager m-03.

                Maak snel kennis met het gezin en schrijf samen met hen het plan.
                """),
        en: RenderedMessage(
            subject: "A new family for you: case \(c)",
            body: """
                A family in area noord has been assigned to you: from now on you are their family manager.

                Case: \(c)
                Assigned on: \(t)
                You take the family over from family manager m-03.

                Get to know the family soon and write the plan together with them.
                """)),
    // The same rule for a first assignment: the optional line is left out, not left blank.
    ShippedCase(
        type: .caseAssigned, template: "case-assigned", urgency: .normal, recipients: managerField,
        data: encoded(CaseAssigned(caseId: caseId, managerId: "m-17", area: "noord", assignedAt: at)),
        resolvedIds: ["m-17"], resolvedAreas: [nil],
        nl: RenderedMessage(
            subject: "Nieuw gezin voor jou: casus \(c)",
            body: """
                Er is een gezin aan je toegewezen in gebied noord: vanaf nu ben jij hun gezinsmanager.

                Casus: \(c)
                Toegewezen op: \(t)

                Maak snel kennis met het gezin en schrijf samen met hen het plan.
                """),
        en: RenderedMessage(
            subject: "A new family for you: case \(c)",
            body: """
                A family in area noord has been assigned to you: from now on you are their family manager.

                Case: \(c)
                Assigned on: \(t)

                Get to know the family soon and write the plan together with them.
                """)),
    ShippedCase(
        type: .caseQueued, template: "case-queued", urgency: .normal,
        recipients: [.role(.teamLead, areaField: "area")],
        data: encoded(CaseQueued(caseId: caseId, area: "noord", urgency: .urgent, queuedAt: at, queueLength: 3)),
        resolvedIds: [nil], resolvedAreas: [["noord"]],
        nl: RenderedMessage(
            subject: "Casus \(c) wacht op een gezinsmanager in noord",
            body: """
                Niemand in gebied noord heeft op dit moment ruimte voor een nieuw gezin. Casus \(c) staat daarom sinds \(t) in de wachtrij (urgentie: urgent).

                Wachtrij in dit gebied: 3, deze casus meegeteld.

                Kun je ruimte maken of de casus aan iemand toewijzen?
                """),
        en: RenderedMessage(
            subject: "Case \(c) is waiting for a family manager in noord",
            body: """
                Nobody in area noord has room for a new family right now, so case \(c) has been waiting in the queue since \(t) (urgency: urgent).

                Queue in this area: 3, this case included.

                Can you make room or assign the case to someone?
                """)),
    ShippedCase(
        type: .courtOrderEnding, template: "court-order-ending", urgency: .urgent, recipients: managerField,
        data: encoded(
            CourtOrderEnding(
                caseId: caseId, framework: .childProtection, endsOn: "2026-04-15", managerId: "m-17", area: "noord")),
        resolvedIds: ["m-17"], resolvedAreas: [nil],
        nl: RenderedMessage(
            subject: "De maatregel van casus \(c) loopt af op 2026-04-15",
            body: """
                De maatregel (child-protection) van casus \(c) in gebied noord loopt af op 2026-04-15.

                Is verlenging nodig? Vraag die dan op tijd aan bij de rechter.
                """),
        en: RenderedMessage(
            subject: "The court order of case \(c) ends on 2026-04-15",
            body: """
                The court order (child-protection) of case \(c) in area noord ends on 2026-04-15.

                Is an extension needed? Then ask the court for it in time.
                """)),
    ShippedCase(
        type: .planVersionProposed, template: "plan-version-proposed", urgency: .normal,
        recipients: [.role(.teamLead, areaField: "area")],
        data: encoded(
            {
                var version = planVersion
                version.by = "m-17"
                return version
            }()),
        resolvedIds: [nil], resolvedAreas: [["noord"]],
        nl: RenderedMessage(
            subject: "Plan ter beoordeling: casus \(c), versie 3",
            body: """
                m-17 heeft op \(t) versie 3 van het gezinsplan van casus \(c) in gebied noord ingediend.

                Doelen: 4
                Veiligheidsafspraken: 2

                Wil je het plan beoordelen?
                """),
        en: RenderedMessage(
            subject: "Plan for review: case \(c), version 3",
            body: """
                m-17 submitted version 3 of the family plan of case \(c) in area noord on \(t).

                Goals: 4
                Safety agreements: 2

                Would you review the plan?
                """)),
    ShippedCase(
        type: .planVersionApproved, template: "plan-version-approved", urgency: .normal, recipients: managerField,
        data: encoded(planVersion), resolvedIds: ["m-17"], resolvedAreas: [nil],
        nl: RenderedMessage(
            subject: "Plan goedgekeurd: casus \(c), versie 3",
            body: """
                Versie 3 van het gezinsplan van casus \(c) is op \(t) goedgekeurd door tl-02.

                Doelen: 4
                Veiligheidsafspraken: 2

                Succes met de uitvoering, samen met het gezin!
                """),
        en: RenderedMessage(
            subject: "Plan approved: case \(c), version 3",
            body: """
                Version 3 of the family plan of case \(c) was approved by tl-02 on \(t).

                Goals: 4
                Safety agreements: 2

                Good luck carrying it out, together with the family!
                """)),
    ShippedCase(
        type: .planVersionSentBack, template: "plan-version-sent-back", urgency: .normal, recipients: managerField,
        data: encoded(planVersion), resolvedIds: ["m-17"], resolvedAreas: [nil],
        nl: RenderedMessage(
            subject: "Plan teruggestuurd: casus \(c), versie 3",
            body: """
                Versie 3 van het gezinsplan van casus \(c) is op \(t) teruggestuurd door tl-02.

                Lees de opmerkingen in Samenplan, pas het plan samen met het gezin aan en dien een nieuwe versie in.
                """),
        en: RenderedMessage(
            subject: "Plan sent back: case \(c), version 3",
            body: """
                Version 3 of the family plan of case \(c) was sent back by tl-02 on \(t).

                Read the comments in Samenplan, adjust the plan together with the family and submit a new version.
                """)),
    ShippedCase(
        type: .evaluationDue, template: "evaluation-due", urgency: .normal, recipients: managerField,
        data: encoded(
            EvaluationReminder(caseId: caseId, area: "noord", managerId: "m-17", lastHeldOn: "2026-01-12", since: at)),
        resolvedIds: ["m-17"], resolvedAreas: [nil],
        nl: RenderedMessage(
            subject: "Tijd voor een evaluatie: casus \(c)",
            body: """
                Het is tijd om het plan van casus \(c) met iedereen te evalueren (sinds \(t)).
                De vorige evaluatie was op 2026-01-12.

                Plan een moment met het gezin en hun netwerk.
                """),
        en: RenderedMessage(
            subject: "Time for an evaluation: case \(c)",
            body: """
                It is time to evaluate the plan of case \(c) with everyone (since \(t)).
                The previous evaluation was on 2026-01-12.

                Plan a moment with the family and their network.
                """)),
    ShippedCase(
        type: .evaluationOverdue, template: "evaluation-overdue", urgency: .urgent,
        recipients: [.role(.teamLead, areaField: "area")],
        data: encoded(EvaluationReminder(caseId: caseId, area: "noord", managerId: "m-17", lastHeldOn: nil, since: at)),
        resolvedIds: [nil], resolvedAreas: [["noord"]],
        nl: RenderedMessage(
            subject: "Evaluatie te laat: casus \(c)",
            body: """
                De evaluatie van casus \(c) in gebied noord is te laat (sinds \(t)).
                Sinds de start van de ondersteuning is er nog geen evaluatie geweest.
                Gezinsmanager: m-17

                Wil je met de gezinsmanager bespreken wat er nodig is?
                """),
        en: RenderedMessage(
            subject: "Evaluation overdue: case \(c)",
            body: """
                The evaluation of case \(c) in area noord is overdue (since \(t)).
                No evaluation has been held since support began.
                Family manager: m-17

                Would you discuss with the family manager what is needed?
                """)),
    ShippedCase(
        type: .continuationPlanProposed, template: "continuation-plan-proposed", urgency: .normal,
        recipients: [.role(.teamLead, areaField: "area")], data: encoded(endingStep),
        resolvedIds: [nil], resolvedAreas: [["noord"]],
        nl: RenderedMessage(
            subject: "Vervolgplan ter beoordeling: casus \(c)",
            body: """
                m-17 heeft op \(t) het vervolgplan van casus \(c) in gebied noord ingediend.

                Wil je het vervolgplan beoordelen?
                """),
        en: RenderedMessage(
            subject: "Continuation plan for review: case \(c)",
            body: """
                m-17 submitted the continuation plan of case \(c) in area noord on \(t).

                Would you review the continuation plan?
                """)),
    ShippedCase(
        type: .handoverOffered, template: "handover-offered", urgency: .normal,
        recipients: [.role(.neighbourhoodTeam, areaField: "area")], data: encoded(endingStep),
        resolvedIds: [nil], resolvedAreas: [["noord"]],
        nl: RenderedMessage(
            subject: "Overdracht aangeboden: casus \(c)",
            body: """
                m-17 biedt jullie op \(t) de overdracht aan van casus \(c) in gebied noord.

                Bekijk het vervolgplan en laat weten of jullie het gezin overnemen.
                """),
        en: RenderedMessage(
            subject: "Handover offered: case \(c)",
            body: """
                On \(t), m-17 offered you the handover of case \(c) in area noord.

                Look at the continuation plan and let us know whether you take the family on.
                """)),
    ShippedCase(
        type: .followUpDue, template: "follow-up-due", urgency: .normal,
        recipients: [.role(.neighbourhoodTeam, areaField: "area")],
        data: encoded(FollowUpDue(caseId: caseId, area: "noord", managerId: "m-17", months: 6, closedAt: at)),
        resolvedIds: [nil], resolvedAreas: [["noord"]],
        nl: RenderedMessage(
            subject: "Tijd voor nazorg: casus \(c)",
            body: """
                Casus \(c) in gebied noord is op \(t) afgesloten. In het vervolgplan is afgesproken dat jullie het gezin 6 maanden later opnieuw bezoeken: dat moment is nu.
                De vorige gezinsmanager was m-17.

                Hoe gaat het met het gezin? Leg het bezoek vast in Samenplan.
                """),
        en: RenderedMessage(
            subject: "Time for a follow-up: case \(c)",
            body: """
                Case \(c) in area noord was closed on \(t). The continuation plan agreed that you visit the family again 6 months later: that time is now.
                The previous family manager was m-17.

                How is the family doing? Record the visit in Samenplan.
                """)),
    ShippedCase(
        type: .helpRequestRaised, template: "help-request-raised", urgency: .normal,
        recipients: [.role(.volunteerCoordinator, areaField: "area")],
        data: encoded(
            HelpRequestRaised(
                helpRequestId: otherId, caseId: caseId, area: "noord", managerId: "m-17", kind: "practical",
                goalId: "g1", need: "Hulp bij de boodschappen")),
        resolvedIds: [nil], resolvedAreas: [["noord"]],
        nl: RenderedMessage(
            subject: "Een gezin in noord vraagt om een vrijwilliger",
            body: """
                Het gezin van casus \(c) in gebied noord zoekt een vrijwilliger.

                Hulpvraag: \(h)
                Soort hulp: practical

                Zoek je een vrijwilliger die past en doe je een voorstel?
                """),
        en: RenderedMessage(
            subject: "A family in noord asks for a volunteer",
            body: """
                The family of case \(c) in area noord is looking for a volunteer.

                Help request: \(h)
                Kind of help: practical

                Would you find a volunteer who fits and make a proposal?
                """)),
    ShippedCase(
        type: .volunteerMatchProposed, template: "volunteer-match-proposed", urgency: .normal, recipients: managerField,
        data: encoded(
            VolunteerMatchChanged(
                proposalId: thirdId, helpRequestId: otherId, caseId: caseId, managerId: "m-17", volunteerId: "v-08",
                at: at)),
        resolvedIds: ["m-17"], resolvedAreas: [nil],
        nl: RenderedMessage(
            subject: "Vrijwilliger voorgesteld voor casus \(c): vraag het gezin",
            body: """
                De vrijwilligerscoördinator stelt vrijwilliger v-08 voor bij hulpvraag \(h) van casus \(c) (voorstel \(p), \(t)).

                Wil je het gezin vragen of het met deze vrijwilliger wil kennismaken? Leg hun antwoord vast in Samenplan: de inzet begint pas als het gezin ermee instemt.
                """),
        en: RenderedMessage(
            subject: "Volunteer proposed for case \(c): ask the family",
            body: """
                The volunteer coordinator proposes volunteer v-08 for help request \(h) of case \(c) (proposal \(p), \(t)).

                Would you ask the family whether they want to meet this volunteer? Record their answer in Samenplan: the volunteer starts only once the family agrees.
                """)),
    ShippedCase(
        type: .volunteerConcernFlagged, template: "volunteer-concern-flagged", urgency: .urgent,
        recipients: managerField,
        data: encoded(
            VolunteerConcernFlagged(
                concernId: thirdId, assignmentId: otherId, caseId: caseId, managerId: "m-17", volunteerId: "v-08",
                raisedBy: "v-08", at: at)),
        resolvedIds: ["m-17"], resolvedAreas: [nil],
        nl: RenderedMessage(
            subject: "Zorg gemeld over het gezin van casus \(c)",
            body: """
                Op \(t) is een zorg gemeld over het gezin van casus \(c), waar vrijwilliger v-08 helpt.

                Melding: \(p)
                Gemeld door: v-08

                Lees de melding in Samenplan en neem vandaag nog contact op.
                """),
        en: RenderedMessage(
            subject: "Concern flagged about the family of case \(c)",
            body: """
                On \(t), a concern was flagged about the family of case \(c), where volunteer v-08 helps.

                Concern: \(p)
                Flagged by: v-08

                Read the concern in Samenplan and get in touch today.
                """)),
    ShippedCase(
        type: .volunteerCertificateExpiring, template: "volunteer-certificate-expiring", urgency: .normal,
        recipients: [.role(.volunteerCoordinator, areaField: "areas")], data: encoded(certificate),
        resolvedIds: [nil], resolvedAreas: [["noord", "oost"]],
        nl: RenderedMessage(
            subject: "De VOG van vrijwilliger v-08 verloopt op 2026-04-01",
            body: """
                De verklaring omtrent het gedrag (VOG) van vrijwilliger v-08 verloopt op 2026-04-01. Die is afgegeven op 2023-04-01.

                Gebieden: noord, oost
                Begeleider: g-02

                Vraag op tijd een nieuwe VOG aan, zodat de vrijwilliger kan blijven helpen.
                """),
        en: RenderedMessage(
            subject: "The VOG of volunteer v-08 expires on 2026-04-01",
            body: """
                The certificate of conduct (VOG) of volunteer v-08 expires on 2026-04-01. It was issued on 2023-04-01.

                Areas: noord, oost
                Guide: g-02

                Ask for a new VOG in time, so the volunteer can keep helping.
                """)),
    ShippedCase(
        type: .volunteerCertificateExpiring, template: "volunteer-certificate-expiring-volunteer", urgency: .normal,
        recipients: [.field("volunteerId")], data: encoded(certificate),
        resolvedIds: ["v-08"], resolvedAreas: [nil],
        nl: RenderedMessage(
            subject: "Je VOG verloopt op 2026-04-01",
            body: """
                Je verklaring omtrent het gedrag (VOG) verloopt op 2026-04-01. Vraag op tijd een nieuwe aan, dan kun je gezinnen blijven helpen. De vrijwilligerscoördinator helpt je daar graag bij.

                Dank je wel voor je inzet!
                """),
        en: RenderedMessage(
            subject: "Your VOG expires on 2026-04-01",
            body: """
                Your certificate of conduct (VOG) expires on 2026-04-01. Ask for a new one in time, so you can keep helping families. The volunteer coordinator is happy to help you with it.

                Thank you for all you do!
                """)),
    ShippedCase(
        type: .caseConsultationDue, template: "case-consultation-due", urgency: .normal,
        recipients: [.role(.volunteerCoordinator, areaField: "area"), .role(.teamLead, areaField: "area")],
        data: encoded(
            CaseConsultationDue(
                consultationId: thirdId, area: "noord", meetsOn: day("2026-03-05"), nextOn: day("2026-04-02"),
                familiesWithVolunteers: [caseId, otherId], openConcerns: 1, unmatchedRequests: [])),
        resolvedIds: [nil, nil], resolvedAreas: [["noord"], ["noord"]],
        nl: RenderedMessage(
            subject: "Casuïstiekoverleg noord vandaag, 2026-03-05",
            body: """
                Vandaag, 2026-03-05, is het casuïstiekoverleg van gebied noord (overleg \(p)). Op de agenda:

                Gezinnen met een vrijwilliger:
                - casus \(c)
                - casus \(h)

                Openstaande zorgen: 1

                Hulpvragen zonder vrijwilliger:
                - geen

                Het volgende overleg is op 2026-04-02.
                """),
        en: RenderedMessage(
            subject: "Case consultation noord today, 2026-03-05",
            body: """
                Today, 2026-03-05, is the case consultation of area noord (consultation \(p)). On the agenda:

                Families with a volunteer:
                - case \(c)
                - case \(h)

                Open concerns: 1

                Help requests without a volunteer:
                - none

                The next consultation is on 2026-04-02.
                """)),
]

// MARK: - Broken rule books, in temporary folders

/// A rule book written to a temporary folder: `rules.yaml` and `templates/<path>` files.
private struct Scratch {
    let folder: URL

    init(rules: String, templates: [String: String]) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("rulebook-\(UUID().uuidString)")
        let manager = FileManager.default
        try manager.createDirectory(at: folder, withIntermediateDirectories: true)
        try rules.write(to: folder.appendingPathComponent("rules.yaml"), atomically: true, encoding: .utf8)
        for language in Language.allCases {
            try manager.createDirectory(
                at: folder.appendingPathComponent("templates/\(language.rawValue)"), withIntermediateDirectories: true)
        }
        for (path, text) in templates {
            try text.write(to: folder.appendingPathComponent("templates/\(path)"), atomically: true, encoding: .utf8)
        }
    }

    func load() throws(RuleBookError) -> RuleBook {
        try RuleBook.load(
            rules: folder.appendingPathComponent("rules.yaml"), templates: folder.appendingPathComponent("templates"))
    }

    /// The problems loading finds (fails the test when it loads).
    func problems(sourceLocation: SourceLocation = #_sourceLocation) -> [RuleBookError.Problem] {
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            _ = try load()
            Issue.record("the rule book loaded", sourceLocation: sourceLocation)
            return []
        } catch {
            return error.problems
        }
    }
}

private let assignedRule = """
    rules:
      - event: case.assigned
        template: case-assigned
        urgency: normal
        recipients:
          - field: managerId
    """

private let digests = [
    "nl/digest.mustache": "Subject: Overzicht {{date}}\n\n{{#messages}}\n{{subject}}\n{{/messages}}\n",
    "en/digest.mustache": "Subject: Overview {{date}}\n\n{{#messages}}\n{{subject}}\n{{/messages}}\n",
]

private func assignedTemplates(nl: String? = nil, en: String? = nil) -> [String: String] {
    var templates = digests
    templates["nl/case-assigned.mustache"] = nl ?? "Subject: Nieuw gezin: {{caseId}}\n\nGebied {{area}}.\n"
    templates["en/case-assigned.mustache"] = en ?? "Subject: New family: {{caseId}}\n\nArea {{area}}.\n"
    return templates
}

// MARK: - Tests

@Suite("Notification rules and templates")
struct NotificationsDomainTests {
    @Test("the shipped rules and templates load without a problem")
    func shippedLoad() {
        do {
            let book = try loadShipped()
            #expect(!book.allRules.isEmpty)
        } catch {
            Issue.record("the shipped rule book does not load:\n\(error)")
        }
    }

    @Test("the shipped rule table: each event type's rules, templates, urgency and recipients")
    func shippedTable() throws {
        let book = try loadShipped()
        var expected: [String] = []
        var seen: Set<[String]> = []
        for item in shippedCases where seen.insert([item.type.rawValue, item.template]).inserted {
            expected.append("\(item.type) \(item.template) \(item.urgency.rawValue) \(item.recipients)")
        }
        let actual = book.allRules.map { "\($0.eventType) \($0.template) \($0.urgency.rawValue) \($0.recipients)" }
        #expect(actual.sorted() == expected.sorted())
        #expect(book.eventTypes == Set(shippedCases.map(\.type)))
        #expect(book.rules(for: .caseOpened).isEmpty)
        // Facts for reporting, not news for anyone: notifications skips them.
        #expect(book.rules(for: .followUpRecorded).isEmpty)
        #expect(book.rules(for: .volunteerHoursLogged).isEmpty)
        #expect(
            book.rules(for: .volunteerCertificateExpiring).map(\.template) == [
                "volunteer-certificate-expiring", "volunteer-certificate-expiring-volunteer",
            ])
    }

    @Test("each shipped rule: its recipients and its text in Dutch and English", arguments: shippedCases)
    func shippedRule(_ item: ShippedCase) throws {
        let book = try loadShipped()
        let rule = try #require(book.rules(for: item.type).first { $0.template == item.template })
        #expect(rule.urgency == item.urgency)
        #expect(rule.recipients == item.recipients)
        #expect(rule.recipients.map { $0.recipientId(in: item.data) } == item.resolvedIds)
        #expect(rule.recipients.map { $0.areas(in: item.data) } == item.resolvedAreas)
        let nl = try book.render(rule, language: .nl, data: item.data)
        #expect(nl.subject == item.nl.subject)
        #expect(nl.body == item.nl.body)
        let en = try book.render(rule, language: .en, data: item.data)
        #expect(en.subject == item.en.subject)
        #expect(en.body == item.en.body)
    }

    @Test("a field selector finds nobody when the event leaves the field out")
    func absentRecipient() throws {
        let data = encoded(
            CourtOrderEnding(
                caseId: caseId, framework: .juvenileProbation, endsOn: "2026-05-01", managerId: nil, area: "zuid"))
        #expect(RecipientSelector.field("managerId").recipientId(in: data) == nil)
        #expect(RecipientSelector.role(.teamLead, areaField: "area").areas(in: data) == ["zuid"])
        #expect(RecipientSelector.role(.teamLead, areaField: nil).areas(in: data) == nil)
        #expect(RecipientSelector.role(.teamLead, areaField: "missing").areas(in: data) == [])
    }

    @Test("the digest lists every message, numbered, in both languages")
    func digest() throws {
        let book = try loadShipped()
        let two = [
            RenderedMessage(subject: "Eerste", body: "Regel een.\nRegel twee."),
            RenderedMessage(subject: "Tweede", body: "Nog iets."),
        ]
        let nl = book.renderDigest(language: .nl, messages: two, date: "2026-03-02")
        #expect(nl.subject == "Je dagoverzicht van 2026-03-02: 2 berichten")
        #expect(
            nl.body == """
                Hallo,

                Dit zijn de berichten van 2026-03-02 die niet dringend waren.

                1. Eerste

                Regel een.
                Regel twee.

                2. Tweede

                Nog iets.

                Groet,
                Samenplan
                """)
        let en = book.renderDigest(language: .en, messages: [two[1]], date: "2026-03-02")
        #expect(en.subject == "Your daily overview of 2026-03-02: 1 message")
        #expect(
            en.body == """
                Hello,

                These are the messages of 2026-03-02 that were not urgent.

                1. Tweede

                Nog iets.

                Regards,
                Samenplan
                """)

        for count in [0, 1, 7] {
            let messages = (1...max(count, 1)).prefix(count).map {
                RenderedMessage(subject: "Onderwerp \($0)", body: "Tekst \($0)")
            }
            let digest = book.renderDigest(language: .nl, messages: messages, date: "2026-03-03")
            let numbered = digest.body.split(separator: "\n").filter { $0.contains(". Onderwerp ") }
            #expect(numbered == messages.indices.map { "\($0 + 1). Onderwerp \($0 + 1)"[...] }, "\(count) messages")
            #expect(digest.subject.hasSuffix(": \(count) \(count == 1 ? "bericht" : "berichten")"))
            #expect(digest.body.contains("Er waren geen berichten.") == (count == 0))
        }
    }

    @Test("messages are plain text: &, <, > and quotes are printed as they are")
    func noEscaping() throws {
        let book = try loadShipped()
        let rule = try #require(book.rules(for: .caseQueued).first)
        let area = "Noord & <Oost> \"x\" 'y'"
        let data = encoded(CaseQueued(caseId: caseId, area: area, urgency: .normal, queuedAt: at, queueLength: 1))
        let message = try book.render(rule, language: .nl, data: data)
        #expect(message.subject == "Casus \(c) wacht op een gezinsmanager in \(area)")
        #expect(message.body.hasPrefix("Niemand in gebied \(area) heeft"))
        let digest = book.renderDigest(language: .en, messages: [message], date: "2026-03-02")
        #expect(digest.body.contains("1. Casus \(c) wacht op een gezinsmanager in \(area)"))
        #expect(!digest.body.contains("&amp;") && !digest.body.contains("&lt;"))
    }

    @Test("a subject is one line, whatever the data holds")
    func oneLineSubject() throws {
        let book = try loadShipped()
        let rule = try #require(book.rules(for: .caseQueued).first)
        let data = encoded(
            CaseQueued(caseId: caseId, area: "noord\r\nBcc: x", urgency: .normal, queuedAt: at, queueLength: 1))
        let message = try book.render(rule, language: .en, data: data)
        #expect(message.subject == "Case \(c) is waiting for a family manager in noord Bcc: x")
    }

    @Test("rendering refuses an event that lacks a field its type always carries")
    func missingFieldAtRender() throws {
        let book = try loadShipped()
        let rule = try #require(book.rules(for: .caseAssigned).first)
        var fields = try #require(
            encoded(CaseAssigned(caseId: caseId, managerId: "m-1", area: "noord", assignedAt: at)).objectValue)
        fields["area"] = nil
        do {
            _ = try book.render(rule, language: .nl, data: .object(fields))
            Issue.record("rendered without area")
        } catch {
            #expect(
                error.description
                    == "template case-assigned (nl) needs area, which this nl.samenplan.case.assigned.v1 event does not carry"
            )
        }
        fields["area"] = .null
        #expect(throws: RenderError.self) { try book.render(rule, language: .en, data: .object(fields)) }
    }

    @Test("the field catalogue covers every type notifications receives, with every optional field")
    func fieldCatalogue() {
        #expect(EventFields.defects == [])
        let inbound: Set<EventType> = [
            .referralSubmitted, .nuisanceReported, .placementStarted, .placementEnded, .notificationDelivered,
            .notificationFailed,
        ]
        #expect(EventFields.eventTypes == EventType.catalogue.subtracting(inbound))
        #expect(EventFields.paths(for: .evaluationDue) == ["caseId", "area", "managerId", "lastHeldOn", "since"])
        #expect(EventFields.paths(for: .referralRejected)?.isSuperset(of: ["problems", "problems.rule"]) == true)
        #expect(EventFields.paths(for: .helpRequestRaised)?.contains("need") == false)
        #expect(EventFields.paths(for: .referralSubmitted) == nil)
        guard case .object(let fields)? = EventFields.shape(for: .caseAssigned) else {
            Issue.record("case.assigned has no fields")
            return
        }
        #expect(fields["previousManagerId"] == Field(.string, optional: true))
        #expect(fields["waitedSeconds"] == Field(.number))
    }

    // MARK: Refused at load

    @Test(
        "a template that looks up a variable the event lacks is refused, naming template, language, variable and type")
    func unknownVariable() throws {
        let scratch = try Scratch(
            rules: assignedRule,
            templates: assignedTemplates(
                en: "Subject: New family: {{caseId}}\n\nHello {{managerName}}, area {{area}}.\n"))
        let problems = scratch.problems()
        #expect(problems.map(\.kind) == [.unknownVariable])
        #expect(problems.first?.location == "templates/en/case-assigned.mustache:3:7")
        let message = problems.first?.message ?? ""
        for part in ["case-assigned", "(en)", "managerName", "nl.samenplan.case.assigned.v1"] {
            #expect(message.contains(part), "\(part) in \(message)")
        }
    }

    @Test("unknown names are found in the subject, in sections, after a dot and in every branch")
    func variablesEverywhere() throws {
        let scratch = try Scratch(
            rules: assignedRule,
            templates: assignedTemplates(
                nl: """
                    Subject: Casus {{caseNumber}}

                    {{#previousManagerId}}
                    Van {{previousManager}}.
                    {{/previousManagerId}}
                    {{^previousManagerId}}
                    Nieuw: {{newcomer}}.
                    {{/previousManagerId}}
                    {{area.name}}
                    {{#caseId}}{{.}} {{stillUnknown}}{{/caseId}}
                    """))
        let problems = scratch.problems()
        #expect(problems.map(\.kind) == Array(repeating: .unknownVariable, count: 5))
        #expect(
            problems.map(\.location) == [
                "templates/nl/case-assigned.mustache:1:16", "templates/nl/case-assigned.mustache:4:5",
                "templates/nl/case-assigned.mustache:7:8", "templates/nl/case-assigned.mustache:9:1",
                "templates/nl/case-assigned.mustache:10:18",
            ])
        #expect(problems.allSatisfy { $0.message.contains("template case-assigned (nl)") })
    }

    @Test("an optional field printed outside a section on it is refused")
    func unguardedOptional() throws {
        let scratch = try Scratch(
            rules: assignedRule,
            templates: assignedTemplates(nl: "Subject: Gezin {{caseId}}\n\nVan {{previousManagerId}}.\n"))
        let problems = scratch.problems()
        #expect(problems.map(\.kind) == [.unguardedOptional])
        #expect(problems.first?.message.contains("previousManagerId") == true)
    }

    @Test("lists, list positions and transforms are checked against the field they apply to")
    func listsAndTransforms() throws {
        let rules = """
            rules:
              - event: volunteer-certificate.expiring
                template: certificate
                urgency: normal
                recipients:
                  - field: volunteerId
            """
        let good =
            "Subject: VOG {{uppercased(volunteerId)}}\n\n{{#areas}}{{plusone(index())}} {{.}}{{^last()}}, {{/last()}}{{/areas}} ({{count(areas)}})\n"
        var templates = digests
        templates["nl/certificate.mustache"] = good
        templates["en/certificate.mustache"] = good
        let scratch = try Scratch(rules: rules, templates: templates)
        let book = try scratch.load()
        let rule = try #require(book.rules(for: .volunteerCertificateExpiring).first)
        let message = try book.render(rule, language: .en, data: encoded(certificate))
        #expect(message == RenderedMessage(subject: "VOG V-08", body: "1 noord, 2 oost (2)"))

        templates["en/certificate.mustache"] = """
            Subject: VOG {{uppercased(issuedOn)}} {{plusone(volunteerId)}}

            {{areas}} {{index()}} {{areas.first}}
            """
        try templates["en/certificate.mustache"]!.write(
            to: scratch.folder.appendingPathComponent("templates/en/certificate.mustache"), atomically: true,
            encoding: .utf8)
        let problems = scratch.problems()
        #expect(problems.map(\.kind) == [.invalidTransform, .notPrintable, .invalidTransform, .unknownVariable])
    }

    @Test("an unknown event type is refused")
    func unknownEventType() throws {
        let scratch = try Scratch(
            rules: assignedRule.replacingOccurrences(of: "case.assigned", with: "case.asigned"),
            templates: assignedTemplates())
        let problems = scratch.problems()
        #expect(problems.map(\.kind) == [.unknownEventType])
        #expect(problems.first?.location == "rules.yaml:2:12")
        #expect(problems.first?.message.contains("nl.samenplan.case.asigned.v1") == true)
    }

    @Test("an event type notifications never receives is refused")
    func unsupportedEventType() throws {
        let scratch = try Scratch(
            rules: assignedRule.replacingOccurrences(of: "case.assigned", with: "nl.samenplan.referral.submitted.v1"),
            templates: assignedTemplates())
        #expect(scratch.problems().map(\.kind) == [.unsupportedEventType])
    }

    @Test("a selector naming a field the event's data does not have is refused")
    func badSelectorField() throws {
        let scratch = try Scratch(
            rules: assignedRule.replacingOccurrences(of: "field: managerId", with: "field: managerld"),
            templates: assignedTemplates())
        let problems = scratch.problems()
        #expect(problems.map(\.kind) == [.unknownField])
        #expect(problems.first?.message.contains("managerld") == true)
        #expect(problems.first?.location == "rules.yaml:6:16")

        let wrongKind = try Scratch(
            rules: assignedRule.replacingOccurrences(
                of: "field: managerId", with: "role: team-lead\n        area: waitedSeconds"),
            templates: assignedTemplates())
        #expect(wrongKind.problems().map(\.kind) == [.unknownField])
    }

    @Test("an unknown role is refused")
    func unknownRole() throws {
        let scratch = try Scratch(
            rules: assignedRule.replacingOccurrences(
                of: "field: managerId", with: "role: teamlead\n        area: area"),
            templates: assignedTemplates())
        let problems = scratch.problems()
        #expect(problems.map(\.kind) == [.unknownRole])
        #expect(problems.first?.message.contains("teamlead") == true)
    }

    @Test("a template missing in English is refused")
    func missingEnglish() throws {
        var templates = assignedTemplates()
        templates["en/case-assigned.mustache"] = nil
        let scratch = try Scratch(rules: assignedRule, templates: templates)
        let problems = scratch.problems()
        #expect(problems.map(\.kind) == [.missingTemplate])
        #expect(
            problems.first?.message
                == "template case-assigned has no English version: templates/en/case-assigned.mustache is missing")
    }

    @Test("a missing digest, a template without subject line and a template no rule uses are refused")
    func templateFiles() throws {
        var templates = assignedTemplates(nl: "Nieuw gezin {{caseId}}\n")
        templates["en/digest.mustache"] = nil
        templates["en/case-asigned.mustache"] = "Subject: x\n\ny\n"
        let scratch = try Scratch(rules: assignedRule, templates: templates)
        let problems = scratch.problems()
        #expect(problems.map(\.kind) == [.templateFormat, .missingTemplate, .templateFormat])
        #expect(
            problems.map(\.location) == [
                "templates/nl/case-assigned.mustache:1:1", "templates/en/digest.mustache",
                "templates/en/case-asigned.mustache",
            ])
    }

    @Test("a template the Mustache engine cannot parse is refused with its position")
    func templateSyntax() throws {
        let scratch = try Scratch(
            rules: assignedRule,
            templates: assignedTemplates(
                nl: "Subject: Gezin {{caseId}}\n\n{{#previousManagerId}}\nVan {{previousManagerId}}.\n{{/caseId}}\n"))
        let problems = scratch.problems()
        #expect(problems.map(\.kind) == [.templateSyntax])
        #expect(problems.first?.location.hasPrefix("templates/nl/case-assigned.mustache:5:") == true)
    }

    @Test("YAML syntax errors are reported with their position")
    func yamlSyntax() throws {
        let scratch = try Scratch(
            rules: "rules:\n  - event: [case.assigned\n    template: case-assigned\n", templates: assignedTemplates())
        let problems = scratch.problems()
        #expect(problems.map(\.kind) == [.yamlSyntax])
        let location = problems.first?.location ?? ""
        #expect(location.hasPrefix("rules.yaml:") && location.split(separator: ":").count == 3, "\(location)")
    }

    @Test("every problem is reported at once, not just the first")
    func everyProblem() throws {
        let rules = """
            rules:
              - event: case.asigned
                template: case-assigned
                urgency: normal
                recipients:
                  - field: managerId
              - event: case.assigned
                template: case-assigned
                urgency: soon
                recipients:
                  - field: managerld
                  - role: teamlead
              - event: evaluation.due
                template: evaluation-due
                urgency: normal
                colour: blue
                recipients:
                  - field: managerId
            """
        var templates = assignedTemplates(en: "Subject: New family {{caseId}}\n\nHello {{managerName}}.\n")
        templates["nl/evaluation-due.mustache"] = "Subject: Evaluatie {{caseId}}\n\nSinds {{since}}.\n"
        let scratch = try Scratch(rules: rules, templates: templates)
        let problems = scratch.problems()
        #expect(
            problems.map(\.kind) == [
                .unknownEventType, .format, .unknownField, .unknownRole, .format, .unknownVariable, .missingTemplate,
            ])
        let text = RuleBookError(problems: problems).description
        #expect(text.hasPrefix("7 problems in the notification rules and templates:\n"))
        for name in ["case.asigned", "soon", "managerld", "teamlead", "colour", "managerName", "evaluation-due"] {
            #expect(text.contains(name), "\(name) is named")
        }
    }
}
