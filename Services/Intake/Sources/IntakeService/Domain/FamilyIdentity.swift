import Foundation
import SamenplanDomain

/// Recognises "the same family" across referrals, so that a referral for a family that
/// already has an open case joins that case instead of opening a second one (DESIGN.md,
/// Inbound events).
public enum FamilyIdentity {
    /// The key that identifies "the same child": given name + family name + birth date.
    ///
    /// Names compare case-insensitively (`ß` matches `ss`), accent-insensitively (`ë` matches
    /// `e`) and width-insensitively; surrounding whitespace is ignored and inner whitespace
    /// collapses to one space; typographic apostrophes (`’`) count as `'` and dashes as `-`.
    /// Letters that case folding and accent removal leave apart although people write them
    /// for each other count as their plain letter: the dotless `ı` (`Kılıç` typed in capitals
    /// is `KILIÇ`, which folds to `kilic`), and `ø`, `ł`, `đ`, `ħ` with their stroke.
    /// So `Sanne` / `de Vries` and ` SANNE ` / ` De  Vriës ` give the same key for the same
    /// birth date, and a different birth date gives a different key.
    ///
    /// The key holds personal data in a readable form (`sanne|de vries|2015-04-02`): it is
    /// for intake's own tables and must not appear in events or logs.
    public static func childKey(givenName: String, familyName: String, birthDate: CalendarDate) -> String {
        "\(normalised(givenName))|\(normalised(familyName))|\(birthDate)"
    }

    /// The comparable form of one name. `|`, the key's separator, counts as whitespace, so
    /// the parts of a key can never run into each other.
    static func normalised(_ name: String) -> String {
        let folded = name.folding(
            options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
        var result = String.UnicodeScalarView()
        var spacePending = false
        for scalar in folded.unicodeScalars {
            let mapped: Unicode.Scalar =
                switch scalar {
                case "\u{2018}", "\u{2019}", "\u{201B}", "\u{02BC}", "\u{0060}", "\u{00B4}": "'"
                case "\u{2010}"..."\u{2015}", "\u{2212}": "-"
                case "\u{0131}": "i"  // ı
                case "\u{00F8}": "o"  // ø
                case "\u{0142}": "l"  // ł
                case "\u{0111}": "d"  // đ
                case "\u{0127}": "h"  // ħ
                default: scalar
                }
            if mapped.properties.isWhitespace || mapped == "|" || mapped.properties.generalCategory == .control {
                spacePending = !result.isEmpty
                continue
            }
            if spacePending {
                result.append(" ")
                spacePending = false
            }
            result.append(mapped)
        }
        return String(result).precomposedStringWithCanonicalMapping
    }
}
