import Foundation
import NotificationsDomain
import SamenplanDomain
import Testing

// A recipient's preferences (issue 6, item 4): channels per urgency, quiet hours that urgent
// messages pass, a daily digest; the in-app feed is never held.

private let amsterdam = TimeZone(identifier: "Europe/Amsterdam")!

/// `local` in the Netherlands, e.g. "2026-11-23 23:30".
private func at(_ local: String) -> Date {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = amsterdam
    formatter.dateFormat = "yyyy-MM-dd HH:mm"
    return formatter.date(from: local)!
}

@Suite("Notification preferences")
struct NotificationPreferencesTests {
    let night = QuietHours(from: LocalTime("22:00")!, to: LocalTime("07:00")!)

    @Test func timesOfDayParseStrictly() {
        #expect(LocalTime("07:05")?.description == "07:05")
        #expect(LocalTime("23:59")?.minutes == 23 * 60 + 59)
        for bad in ["7:05", "24:00", "12:60", "12-00", "", "12:00:00", "ab:cd", "+1:00", "12:+5", "-0:00"] {
            #expect(LocalTime(bad) == nil, "\(bad)")
        }
    }

    @Test func quietHoursMayWrapMidnight() {
        #expect(night.contains(LocalTime("22:00")!))
        #expect(night.contains(LocalTime("03:00")!))
        #expect(!night.contains(LocalTime("07:00")!))
        #expect(!night.contains(LocalTime("12:00")!))
        let lunch = QuietHours(from: LocalTime("12:00")!, to: LocalTime("13:00")!)
        #expect(lunch.contains(LocalTime("12:30")!))
        #expect(!lunch.contains(LocalTime("13:00")!))
        #expect(!QuietHours(from: LocalTime("09:00")!, to: LocalTime("09:00")!).contains(LocalTime("09:00")!))
    }

    @Test func aNormalMessageInQuietHoursWaitsForTheirEndButTheFeedHasItAtOnce() {
        let preferences = Preferences(urgent: [.inApp, .email], normal: [.inApp, .email], quietHours: night)
        let plan = preferences.plan(.normal, at: at("2026-11-23 23:30"), in: amsterdam)
        #expect(plan == [
            PlannedDelivery(channel: .inApp, timing: .now),
            PlannedDelivery(channel: .email, timing: .at(at("2026-11-24 07:00"))),
        ])
        // After midnight the same night ends the same morning.
        #expect(preferences.plan(.normal, at: at("2026-11-24 02:00"), in: amsterdam).last?.timing == .at(at("2026-11-24 07:00")))
        // Outside quiet hours it goes at once.
        #expect(preferences.plan(.normal, at: at("2026-11-24 09:00"), in: amsterdam).last?.timing == .now)
    }

    @Test func urgentMessagesGoThroughQuietHoursAndDigests() {
        let preferences = Preferences(urgent: [.webhook, .email], normal: [.inApp], quietHours: night, digest: true)
        #expect(preferences.plan(.urgent, at: at("2026-11-23 23:30"), in: amsterdam) == [
            PlannedDelivery(channel: .webhook, timing: .now), PlannedDelivery(channel: .email, timing: .now),
        ])
        // The normal channels are the recipient's own choice: here only the feed.
        #expect(preferences.plan(.normal, at: at("2026-11-23 23:30"), in: amsterdam) == [PlannedDelivery(channel: .inApp, timing: .now)])
    }

    @Test func aDigestRecipientsNormalMessagesWaitForTheDigest() {
        let preferences = Preferences(urgent: [.email], normal: [.inApp, .email, .webhook], quietHours: night, digest: true)
        #expect(preferences.plan(.normal, at: at("2026-11-23 15:00"), in: amsterdam) == [
            PlannedDelivery(channel: .inApp, timing: .now), PlannedDelivery(channel: .email, timing: .digest),
            PlannedDelivery(channel: .webhook, timing: .digest),
        ])
    }

    @Test func theDigestGoesOutAtItsTimeEachDay() {
        let digest = DigestSchedule(at: LocalTime("08:00")!)
        #expect(digest.next(after: at("2026-11-23 07:59"), in: amsterdam) == at("2026-11-23 08:00"))
        #expect(digest.next(after: at("2026-11-23 08:00"), in: amsterdam) == at("2026-11-24 08:00"))
        #expect(digest.next(after: at("2026-11-23 15:00"), in: amsterdam) == at("2026-11-24 08:00"))
        // Across the change to summer time the digest stays at 08:00 local.
        #expect(digest.next(after: at("2027-03-27 09:00"), in: amsterdam) == at("2027-03-28 08:00"))
    }

    @Test func someoneUnregisteredGetsTheDefaultWebhookAtOnce() {
        #expect(Preferences.unregistered.plan(.normal, at: at("2026-11-23 23:30"), in: amsterdam) == [
            PlannedDelivery(channel: .webhook, timing: .now)
        ])
    }
}
