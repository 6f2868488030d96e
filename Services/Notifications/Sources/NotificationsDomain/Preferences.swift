import Foundation
import SamenplanDomain

/// A way a message reaches its recipient.
public enum DeliveryChannel: String, Sendable, Hashable, Codable, CaseIterable {
    /// The feed at `GET /v1/notifications`: always available, delivered when written.
    case inApp = "in-app"
    case email
    case webhook
}

/// A time of day in the Netherlands, `HH:MM`.
public struct LocalTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let minutes: Int

    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy({ $0.isASCII && $0.isNumber }) }),
            let hour = Int(parts[0]), let minute = Int(parts[1]),
            (0...23).contains(hour), (0...59).contains(minute)
        else { return nil }
        minutes = hour * 60 + minute
    }

    public init(hour: Int, minute: Int) { minutes = hour * 60 + minute }

    public var description: String {
        let hour = minutes / 60
        let minute = minutes % 60
        return (hour < 10 ? "0" : "") + "\(hour):" + (minute < 10 ? "0" : "") + "\(minute)"
    }

    public static func < (lhs: LocalTime, rhs: LocalTime) -> Bool { lhs.minutes < rhs.minutes }
}

/// Hours in which non-urgent messages wait. `from` 22:00 to `to` 07:00 wraps midnight; `from`
/// equal to `to` means no quiet hours at all.
public struct QuietHours: Sendable, Hashable {
    public var from: LocalTime
    public var to: LocalTime

    public init(from: LocalTime, to: LocalTime) {
        self.from = from
        self.to = to
    }

    public func contains(_ time: LocalTime) -> Bool {
        if from == to { return false }
        return from < to ? (from <= time && time < to) : (time >= from || time < to)
    }
}

/// What a recipient chose: the channels per urgency, quiet hours and a daily digest.
public struct Preferences: Sendable, Hashable {
    public var urgent: [DeliveryChannel]
    public var normal: [DeliveryChannel]
    public var quietHours: QuietHours?
    public var digest: Bool

    public init(urgent: [DeliveryChannel], normal: [DeliveryChannel], quietHours: QuietHours? = nil, digest: Bool = false) {
        self.urgent = urgent
        self.normal = normal
        self.quietHours = quietHours
        self.digest = digest
    }

    /// For a recipient the service knows nothing about (an id from an event, not registered):
    /// the suite's default webhook, at once, whatever the urgency.
    public static let unregistered = Preferences(urgent: [.webhook], normal: [.webhook])

    /// When and by which channels a message of `urgency` created at `now` goes out.
    /// - The in-app feed gets every message at once: it is a list the recipient reads when
    ///   they choose, so quiet hours and digests do not apply to it.
    /// - Urgent messages go out at once on every chosen channel, quiet hours or not.
    /// - Non-urgent e-mail and webhook messages wait for the digest when the recipient
    ///   chose one, otherwise for the end of quiet hours when `now` falls in them.
    public func plan(_ urgency: Urgency, at now: Date, in timeZone: TimeZone) -> [PlannedDelivery] {
        let channels = urgency == .urgent ? urgent : normal
        return channels.map { channel in
            if channel == .inApp || urgency == .urgent { return PlannedDelivery(channel: channel, timing: .now) }
            if digest { return PlannedDelivery(channel: channel, timing: .digest) }
            if let quietHours, let end = quietHours.end(containing: now, in: timeZone) {
                return PlannedDelivery(channel: channel, timing: .at(end))
            }
            return PlannedDelivery(channel: channel, timing: .now)
        }
    }
}

/// One message's channel and when it may go.
public struct PlannedDelivery: Sendable, Hashable {
    public enum Timing: Sendable, Hashable {
        case now
        /// Held until this moment (the end of quiet hours).
        case at(Date)
        /// Held for the recipient's next daily digest.
        case digest
    }

    public var channel: DeliveryChannel
    public var timing: Timing

    public init(channel: DeliveryChannel, timing: Timing) {
        self.channel = channel
        self.timing = timing
    }
}

extension QuietHours {
    /// The end of the quiet period `now` falls in, or nil when it falls in none.
    public func end(containing now: Date, in timeZone: TimeZone) -> Date? {
        let calendar = LocalCalendar(timeZone)
        guard contains(calendar.localTime(of: now)) else { return nil }
        // The next moment at `to` after now: today, or tomorrow when today's has passed.
        return calendar.next(to, after: now)
    }
}

/// The daily digest goes out at this local time.
public struct DigestSchedule: Sendable, Hashable {
    public var at: LocalTime

    public init(at: LocalTime) { self.at = at }

    /// The next digest moment strictly after `now`.
    public func next(after now: Date, in timeZone: TimeZone) -> Date {
        LocalCalendar(timeZone).next(at, after: now)
    }
}

/// Local times of day on the Gregorian calendar of one time zone.
struct LocalCalendar {
    let calendar: Calendar

    init(_ timeZone: TimeZone) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
    }

    func localTime(of date: Date) -> LocalTime {
        let parts = calendar.dateComponents([.hour, .minute], from: date)
        return LocalTime(hour: parts.hour ?? 0, minute: parts.minute ?? 0)
    }

    /// The first moment after `now` whose local time is `time` (DST-safe: the calendar picks
    /// the next existing such moment).
    func next(_ time: LocalTime, after now: Date) -> Date {
        calendar.nextDate(
            after: now, matching: DateComponents(hour: time.minutes / 60, minute: time.minutes % 60, second: 0),
            matchingPolicy: .nextTime) ?? now.addingTimeInterval(86_400)
    }
}
