/// A day of the week. Raw values are the lowercase English names; the order is the Dutch
/// week's, Monday first.
public enum Weekday: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case monday, tuesday, wednesday, thursday, friday, saturday, sunday

    /// 0 for Monday … 6 for Sunday.
    public var index: Int { Self.allCases.firstIndex(of: self)! }

    public static func < (lhs: Weekday, rhs: Weekday) -> Bool { lhs.index < rhs.index }
}

/// A part of a day. Coarse on purpose: a volunteer says "Tuesday evenings", not "19:00–21:00",
/// and a family's help request is just as rough.
public enum DayPart: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case morning, afternoon, evening

    /// 0 for morning … 2 for evening.
    public var index: Int { Self.allCases.firstIndex(of: self)! }

    public static func < (lhs: DayPart, rhs: DayPart) -> Bool { lhs.index < rhs.index }
}

/// A recurring part of the week when a volunteer can help or a family wants help: one of the
/// 21 slots from Monday morning to Sunday evening.
///
/// Its text form is `<weekday>-<part>`, all lowercase (`monday-morning`), and that text is also
/// its `Codable` form, so availability travels in JSON as `["monday-morning", "friday-evening"]`.
/// Slots sort through the week: Monday morning, Monday afternoon, …, Sunday evening.
public struct WeeklySlot: Sendable, Hashable, Codable, Comparable, CaseIterable, CustomStringConvertible,
    LosslessStringConvertible
{
    public var day: Weekday
    public var part: DayPart

    public init(_ day: Weekday, _ part: DayPart) {
        self.day = day
        self.part = part
    }

    public init(day: Weekday, part: DayPart) {
        self.init(day, part)
    }

    /// Reads `<weekday>-<part>` exactly (`monday-morning`); anything else, including other case,
    /// spaces or a missing part, is not a slot.
    public init?(_ text: String) {
        let pieces = text.split(separator: "-", omittingEmptySubsequences: false)
        guard pieces.count == 2, let day = Weekday(rawValue: String(pieces[0])),
            let part = DayPart(rawValue: String(pieces[1]))
        else { return nil }
        self.init(day, part)
    }

    /// `monday-morning`.
    public var description: String { day.rawValue + "-" + part.rawValue }

    /// 0 for Monday morning … 20 for Sunday evening: the slot's place in the week.
    public var index: Int { day.index * DayPart.allCases.count + part.index }

    /// All 21 slots of the week, in order.
    public static let allCases: [WeeklySlot] = Weekday.allCases.flatMap { day in
        DayPart.allCases.map { WeeklySlot(day, $0) }
    }

    /// How many slots two sets of availability share: the times a volunteer could be with a
    /// family that wants help then.
    public static func overlap(_ first: Set<WeeklySlot>, _ second: Set<WeeklySlot>) -> Int {
        SlotMask(first).overlap(with: SlotMask(second))
    }

    public static func < (lhs: WeeklySlot, rhs: WeeklySlot) -> Bool { lhs.index < rhs.index }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let slot = WeeklySlot(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "not a weekly slot in the form <weekday>-<morning|afternoon|evening>")
        }
        self = slot
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension Set where Element == WeeklySlot {
    /// How many slots this set shares with `other`.
    public func overlapCount(with other: Set<WeeklySlot>) -> Int {
        WeeklySlot.overlap(self, other)
    }
}

/// A set of weekly slots as 21 bits, so that the shortlist compares availability of thousands
/// of volunteers without hashing.
struct SlotMask: Hashable, Sendable {
    var bits: UInt32

    init(_ slots: Set<WeeklySlot>) {
        var bits: UInt32 = 0
        for slot in slots { bits |= 1 << UInt32(slot.index) }
        self.bits = bits
    }

    func overlap(with other: SlotMask) -> Int { (bits & other.bits).nonzeroBitCount }
}
