import SamenplanDomain

/// The rules for a volunteer's certificate of conduct (VOG, *Verklaring Omtrent het Gedrag*),
/// which a volunteer needs before working with children (issue 5, item 1). Only the issue date
/// matters: a certificate says nothing about what happens after it was issued, so it ages.
///
/// By default a certificate counts for 36 months: a volunteer is matched only while theirs was
/// issued in the last 3 years, and *starts* only with one issued in the last 3 months. The
/// coordinator is warned 60 days before it runs out, so there is time to apply for a new one.
///
/// Every age is a half-open window counted in calendar months from the issue date: a
/// certificate issued on 2023-05-15 is valid up to and including 2026-05-14 and expired *on*
/// 2026-05-15, its third anniversary ("valid while today < expiresOn"). A certificate dated
/// after today does not exist yet (a typing error the registry should refuse) and counts as
/// missing.
public struct CertificatePolicy: Sendable, Hashable {
    /// How long a certificate counts for matching, in months from its issue date.
    public var maxAgeMonths: Int
    /// How recent a certificate must be when a volunteer starts, in months from its issue date.
    public var maxAgeAtStartMonths: Int
    /// How many days before it runs out the coordinator is warned.
    public var warningDays: Int

    public init(maxAgeMonths: Int = 36, maxAgeAtStartMonths: Int = 3, warningDays: Int = 60) {
        self.maxAgeMonths = maxAgeMonths
        self.maxAgeAtStartMonths = maxAgeAtStartMonths
        self.warningDays = warningDays
    }

    /// The first day the certificate no longer counts: the issue date plus ``maxAgeMonths``.
    public func expiresOn(issuedOn: CalendarDate) -> CalendarDate {
        issuedOn.addingMonths(maxAgeMonths)
    }

    /// The day the coordinator is warned: ``warningDays`` before ``expiresOn(issuedOn:)``.
    public func warnOn(issuedOn: CalendarDate) -> CalendarDate {
        expiresOn(issuedOn: issuedOn).addingDays(-warningDays)
    }

    /// The first day the certificate is too old for a volunteer to start: the issue date plus
    /// ``maxAgeAtStartMonths``.
    public func tooOldToStartOn(issuedOn: CalendarDate) -> CalendarDate {
        issuedOn.addingMonths(maxAgeAtStartMonths)
    }

    /// Where a certificate issued on `issuedOn` (nil: none on record) stands on `today`.
    public func standing(issuedOn: CalendarDate?, on today: CalendarDate) -> CertificateStanding {
        guard let issuedOn, issuedOn <= today else { return .missing }
        let expiresOn = expiresOn(issuedOn: issuedOn)
        if today >= expiresOn { return .expired(expiredOn: expiresOn) }
        if today >= warnOn(issuedOn: issuedOn) {
            return .expiringSoon(expiresOn: expiresOn, daysLeft: today.days(until: expiresOn))
        }
        return .valid(expiresOn: expiresOn)
    }

    /// Whether the certificate lets the volunteer be matched on `today`: it is on record and has
    /// not run out (the warning window still counts).
    public func allowsMatching(issuedOn: CalendarDate?, on today: CalendarDate) -> Bool {
        standing(issuedOn: issuedOn, on: today).allowsMatching
    }

    /// Whether the certificate lets the volunteer start on `today`: issued less than
    /// ``maxAgeAtStartMonths`` ago, and not run out.
    public func allowsStart(issuedOn: CalendarDate?, on today: CalendarDate) -> Bool {
        guard let issuedOn, allowsMatching(issuedOn: issuedOn, on: today) else { return false }
        return today < tooOldToStartOn(issuedOn: issuedOn)
    }
}

/// Where a volunteer's certificate of conduct stands on a given day.
public enum CertificateStanding: Sendable, Hashable {
    /// None on record (or one dated in the future).
    case missing
    /// Counts, and will for longer than the warning window.
    case valid(expiresOn: CalendarDate)
    /// Still counts, but runs out within the warning window: `daysLeft` (≥ 1) days from today.
    case expiringSoon(expiresOn: CalendarDate, daysLeft: Int)
    /// Ran out on `expiredOn` (today or earlier).
    case expired(expiredOn: CalendarDate)

    /// Whether a volunteer with this certificate may be matched.
    public var allowsMatching: Bool {
        switch self {
        case .valid, .expiringSoon: true
        case .missing, .expired: false
        }
    }

    /// Stable code for clients: `missing`, `valid`, `expiring-soon`, `expired`.
    public var code: String {
        switch self {
        case .missing: "missing"
        case .valid: "valid"
        case .expiringSoon: "expiring-soon"
        case .expired: "expired"
        }
    }

    /// The first day the certificate no longer counts (or did not), when there is one.
    public var expiresOn: CalendarDate? {
        switch self {
        case .missing: nil
        case .valid(let date), .expiringSoon(let date, _), .expired(let date): date
        }
    }
}
