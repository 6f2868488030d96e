import Foundation
import SamenplanDomain

// The notification rules as data (issue 6, item 1). The format of `rules.yaml` is documented
// in its header comment (Services/Notifications/Sources/NotificationsService/Rules/rules.yaml).
//
// A rule's urgency is `SamenplanDomain.Urgency` (`normal`, `urgent`), the type the case
// events already use; a second enum of the same name here would make `Urgency` ambiguous in
// every file that imports both modules.

/// The languages messages are written in. Dutch unless the recipient chose English.
public enum Language: String, Codable, Sendable, CaseIterable {
    case nl
    case en

    public static let `default`: Language = .nl
}

/// Who a rule's message goes to, resolved from the event's `data` and the recipients the
/// service knows.
public enum RecipientSelector: Sendable, Hashable, CustomStringConvertible {
    /// The recipient's id is the string at this key of the event data (`managerId`); an
    /// absent or null value means nobody.
    case field(String)
    /// Every known recipient with this role; when `areaField` is given, only those serving
    /// the area(s) at that key of the event data (a string, or a list of strings: any of them).
    case role(Role, areaField: String?)

    /// `.field`: the recipient's id in `data`, or nil (absent, null, not a string, empty).
    /// Nil for `.role`.
    public func recipientId(in data: JSON) -> String? {
        guard case .field(let key) = self, let id = data[key]?.stringValue, !id.isEmpty else { return nil }
        return id
    }

    /// `.role` with an area field: the areas the event is about. A recipient with the role
    /// receives the message when they serve one of them; an event without a usable area
    /// gives an empty list, so nobody (never everyone). Nil means no limit: every recipient
    /// with the role (`.role` without an area field), and for `.field`.
    public func areas(in data: JSON) -> [String]? {
        guard case .role(_, let areaField?) = self else { return nil }
        switch data[areaField] {
        case .string(let area)?: return [area]
        case .array(let items)?: return items.compactMap(\.stringValue)
        default: return []
        }
    }

    public var description: String {
        switch self {
        case .field(let key): "field \(key)"
        case .role(let role, let area?): "role \(role.rawValue) in area \(area)"
        case .role(let role, nil): "role \(role.rawValue)"
        }
    }
}

/// One row of the table: events of `eventType` give a message from `template`, with this
/// urgency, to these recipients. An event type can have several rules (a different text for
/// different people); within one event type each rule has its own template, so
/// (event id, template, recipient) names one message.
public struct NotificationRule: Sendable, Hashable {
    public var eventType: EventType
    public var template: String
    public var urgency: Urgency
    public var recipients: [RecipientSelector]

    public init(eventType: EventType, template: String, urgency: Urgency, recipients: [RecipientSelector]) {
        self.eventType = eventType
        self.template = template
        self.urgency = urgency
        self.recipients = recipients
    }
}

/// A message ready for a channel: a one-line subject and a plain-text body.
public struct RenderedMessage: Sendable, Hashable, Codable {
    public var subject: String
    public var body: String

    public init(subject: String, body: String) {
        self.subject = subject
        self.body = body
    }
}

/// Everything wrong with the rules and templates, found in one pass.
public struct RuleBookError: Error, Sendable, CustomStringConvertible {
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        public enum Kind: String, Sendable, Hashable {
            /// A file could not be read, or rules.yaml is not valid YAML.
            case unreadable
            case yamlSyntax
            /// rules.yaml is YAML but not in the rules format (a missing or unknown key, a
            /// wrong type, an unknown urgency, a duplicate rule).
            case format
            /// Not in `EventType.catalogue`.
            case unknownEventType
            /// In the catalogue, but never reaching notifications (no field catalogue).
            case unsupportedEventType
            /// A selector names a key the event's data does not have (or not of the right kind).
            case unknownField
            case unknownRole
            /// A rule's template is missing in a language.
            case missingTemplate
            /// A template file without `Subject:` line, blank line or body, or a template
            /// file that no rule uses.
            case templateFormat
            /// The Mustache engine cannot parse the template, or it uses a tag notifications
            /// does not allow (partials, inheritance, pragmas).
            case templateSyntax
            /// A template looks up a variable the event's data does not carry.
            case unknownVariable
            /// A template prints an optional field outside a section on that field.
            case unguardedOptional
            /// A transform such as `uppercased()` that does not apply to the field, or a list
            /// position (`index()`) outside a list section.
            case invalidTransform
            /// A variable tag that would print a whole list or object.
            case notPrintable
        }

        public var kind: Kind
        /// `file:line:column`, or just the file.
        public var location: String
        public var message: String

        public init(_ kind: Kind, at location: String, _ message: String) {
            self.kind = kind
            self.location = location
            self.message = message
        }

        public var description: String { "\(location): \(message)" }
    }

    public var problems: [Problem]

    public init(problems: [Problem]) { self.problems = problems }

    public var description: String {
        let count = problems.count == 1 ? "1 problem" : "\(problems.count) problems"
        return "\(count) in the notification rules and templates:\n"
            + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}

/// Rendering a loaded rule failed: the event does not carry what the template needs.
public enum RenderError: Error, Sendable, CustomStringConvertible {
    /// The rule's template is not in this rule book.
    case unknownTemplate(String)
    /// The event's data is not a JSON object.
    case dataNotAnObject(EventType)
    /// A field the template prints is absent or null in this event although its type says it
    /// is always there (an event older or newer than the catalogue).
    case missingField(template: String, language: Language, eventType: EventType, path: String)

    public var description: String {
        switch self {
        case .unknownTemplate(let name): "no template \(name) in the rule book"
        case .dataNotAnObject(let type): "the data of a \(type) event is not a JSON object"
        case .missingField(let template, let language, let type, let path):
            "template \(template) (\(language.rawValue)) needs \(path), which this \(type) event does not carry"
        }
    }
}
