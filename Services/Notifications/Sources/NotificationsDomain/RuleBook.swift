import Foundation
import Mustache
import SamenplanDomain
import Yams

/// The notification rules and their templates, loaded and checked together (issue 6, items
/// 1 and 2). Loading finds every problem at once (`RuleBookError`), so a rule book that
/// loads renders every rule's message in both languages from its event's data alone:
/// a template cannot name a field the event does not carry.
///
/// Rendering is plain text: the loader puts the library's `{{% CONTENT_TYPE: TEXT}}` pragma
/// in front of every template, so `{{x}}` prints `&`, `<` and quotes as they are (there is
/// no HTML to protect; `{{{x}}}` means the same). Templates themselves may not use pragmas,
/// partials or inheritance.
public struct RuleBook: Sendable {
    struct CompiledTemplate: Sendable {
        var subject: MustacheTemplate
        var body: MustacheTemplate
        /// The data paths the template reads, checked again on every render.
        var paths: [FieldPath]
    }

    /// Every rule, in the order of the rules file.
    public let allRules: [NotificationRule]
    private let rulesByType: [EventType: [NotificationRule]]
    private let templates: [String: [Language: CompiledTemplate]]
    private let digest: [Language: CompiledTemplate]

    /// Loads `rules` (a rules.yaml) and the templates under `templates`
    /// (`<language>/<name>.mustache`), or throws every problem found in them.
    public static func load(rules: URL, templates: URL) throws(RuleBookError) -> RuleBook {
        var loader = Loader(rulesURL: rules, templatesURL: templates)
        loader.run()
        guard loader.problems.isEmpty else { throw RuleBookError(problems: loader.problems) }
        return RuleBook(
            allRules: loader.rules, rulesByType: Dictionary(grouping: loader.rules, by: \.eventType),
            templates: loader.templates, digest: loader.digest)
    }

    /// The rules for events of `type`, in file order; empty when the type gives no message.
    public func rules(for type: EventType) -> [NotificationRule] { rulesByType[type] ?? [] }

    /// The event types some rule acts on.
    public var eventTypes: Set<EventType> { Set(rulesByType.keys) }

    /// The message `rule` gives for an event with this `data`, in `language`. Throws when
    /// the event lacks a field the template prints although its type says it is always there
    /// (an event older or newer than the catalogue): a message is never sent with a blank.
    public func render(_ rule: NotificationRule, language: Language, data: JSON) throws(RenderError)
        -> RenderedMessage
    {
        guard let template = templates[rule.template]?[language] else { throw .unknownTemplate(rule.template) }
        guard case .object = data else { throw .dataNotAnObject(rule.eventType) }
        if let shape = EventFields.shape(for: rule.eventType) {
            for path in template.paths where Self.isMissing(path.segments[...], in: data, shape: shape) {
                throw .missingField(
                    template: rule.template, language: language, eventType: rule.eventType, path: path.description)
            }
        }
        return Self.render(template, Self.mustacheValue(data) ?? [String: Any]())
    }

    /// The daily digest of non-urgent messages (the `digest` template): the day it covers
    /// (`yyyy-MM-dd`) and its messages, in order.
    public func renderDigest(language: Language, messages: [RenderedMessage], date: String) -> RenderedMessage {
        let value: [String: Any] = [
            "date": date, "count": messages.count, "single": messages.count == 1,
            "messages": messages.map { ["subject": $0.subject, "body": $0.body] as [String: Any] },
        ]
        guard let template = digest[language] ?? digest[.default] else {
            // Unreachable: a rule book without both digests does not load.
            return RenderedMessage(
                subject: date, body: messages.map { $0.subject + "\n\n" + $0.body }.joined(separator: "\n\n"))
        }
        return Self.render(template, value)
    }

    // MARK: - Rendering

    private static func render(_ template: CompiledTemplate, _ value: Any) -> RenderedMessage {
        RenderedMessage(subject: oneLine(template.subject.render(value)), body: trimmed(template.body.render(value)))
    }

    /// A subject is one line: line breaks and other control characters (from data) become
    /// spaces, runs of spaces one.
    private static func oneLine(_ text: String) -> String {
        let words = text.unicodeScalars.map { CharacterSet.controlCharacters.contains($0) ? " " : String($0) }.joined()
        return words.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    /// A body without blank lines before it or white space after it.
    private static func trimmed(_ text: String) -> String {
        var text = Substring(text)
        while let first = text.first, first.isNewline { text = text.dropFirst() }
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return String(text)
    }

    /// Event data as the Mustache engine reads it: objects as `[String: Any]` (absent and
    /// null fields alike missing, so a section on them is false), whole numbers as `Int` (so
    /// `2` prints as `2`, not `2.0`).
    static func mustacheValue(_ json: JSON) -> Any? {
        switch json {
        case .null: nil
        case .bool(let value): value
        case .number(let value): value.rounded() == value && abs(value) < 9e15 ? Int(value) : value
        case .string(let value): value
        case .array(let items): items.compactMap(mustacheValue)
        case .object(let members): members.compactMapValues(mustacheValue)
        }
    }

    /// Whether `data` lacks a field on `path` that `shape` says is always there.
    static func isMissing(_ path: ArraySlice<PathSegment>, in data: JSON, shape: FieldShape) -> Bool {
        guard let segment = path.first else { return false }
        switch segment {
        case .key(let key):
            guard case .object(let fields) = shape, let field = fields[key] else { return false }
            guard let child = data[key], child != .null else { return !field.optional }
            return isMissing(path.dropFirst(), in: child, shape: field.shape)
        case .elements:
            guard case .list(let element) = shape, case .array(let items) = data else { return false }
            return items.contains { isMissing(path.dropFirst(), in: $0, shape: element) }
        }
    }

    // MARK: - Loading

    private struct Loader {
        typealias Problem = RuleBookError.Problem

        let rulesURL: URL
        let templatesURL: URL
        var problems: [Problem] = []
        var rules: [NotificationRule] = []
        var templates: [String: [Language: CompiledTemplate]] = [:]
        var digest: [Language: CompiledTemplate] = [:]
        /// Every template name a rule uses, in order of first use, with the event types whose
        /// data it is rendered from (only the types that are valid).
        var templateUses: [(name: String, types: [EventType])] = []

        init(rulesURL: URL, templatesURL: URL) {
            self.rulesURL = rulesURL
            self.templatesURL = templatesURL
        }

        var rulesFile: String { rulesURL.lastPathComponent }

        mutating func run() {
            guard let text = read(rulesURL, as: rulesFile) else { return }
            let root: Node?
            do {
                root = try Yams.compose(yaml: text)
            } catch {
                problems.append(Self.yamlProblem(error, file: rulesFile))
                return
            }
            readRules(root)
            readTemplates()
        }

        func location(_ node: Node?) -> String {
            guard let mark = node?.mark else { return rulesFile }
            return "\(rulesFile):\(mark.line):\(mark.column)"
        }

        mutating func problem(_ kind: Problem.Kind, _ node: Node?, _ message: String) {
            problems.append(Problem(kind, at: location(node), message))
        }

        mutating func read(_ url: URL, as name: String) -> String? {
            do {
                return try String(contentsOf: url, encoding: .utf8).replacingOccurrences(of: "\r\n", with: "\n")
            } catch {
                problems.append(
                    Problem(.unreadable, at: name, "cannot read \(url.path): \(error.localizedDescription)"))
                return nil
            }
        }

        static func yamlProblem(_ error: any Error, file: String) -> Problem {
            guard let error = error as? YamlError else {
                return Problem(.yamlSyntax, at: file, "not valid YAML: \(error)")
            }
            switch error {
            case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
                .composer(let context, let problem, let mark, _):
                let during = context.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? ""
                return Problem(
                    .yamlSyntax, at: "\(file):\(mark.line):\(mark.column)", "YAML syntax error: \(problem)\(during)")
            case .reader(let problem, let offset, _, _):
                return Problem(
                    .yamlSyntax, at: file,
                    "not readable as YAML: \(problem)" + (offset.map { " at character \($0)" } ?? ""))
            default:
                return Problem(.yamlSyntax, at: file, "not valid YAML: \(error)")
            }
        }

        // MARK: rules.yaml

        mutating func readRules(_ root: Node?) {
            guard case .mapping(let top)? = root else {
                problem(.format, root, "the rules file must be a mapping with the key `rules` (a list of rules)")
                return
            }
            checkKeys(top, allowed: ["rules"], in: "the rules file")
            guard let list = top["rules"] else {
                problem(.format, root, "the key `rules` (a list of rules) is missing")
                return
            }
            guard case .sequence(let items) = list else {
                problem(.format, list, "`rules` must be a list of rules")
                return
            }
            var seen: Set<[String]> = []
            for item in items {
                guard let rule = readRule(item) else { continue }
                guard seen.insert([rule.eventType.rawValue, rule.template]).inserted else {
                    problem(
                        .format, item,
                        "a second rule for \(rule.eventType) with template \(rule.template): give each rule of an event its own template"
                    )
                    continue
                }
                rules.append(rule)
            }
        }

        /// Reports keys outside `allowed` and keys given twice.
        mutating func checkKeys(_ mapping: Node.Mapping, allowed: [String], in what: String) {
            var seen: Set<String> = []
            for (key, _) in mapping {
                let name = key.scalar?.string ?? "\(key)"
                if !allowed.contains(name) {
                    problem(
                        .format, key,
                        "unknown key `\(name)` in \(what) (allowed: \(allowed.joined(separator: ", ")))")
                } else if !seen.insert(name).inserted {
                    problem(.format, key, "`\(name)` is given twice in \(what)")
                }
            }
        }

        mutating func string(_ node: Node?, key: String, in what: String, parent: Node) -> String? {
            guard let node else {
                problem(.format, parent, "\(what) has no `\(key)`")
                return nil
            }
            guard let text = node.scalar?.string, !text.isEmpty else {
                problem(.format, node, "`\(key)` of \(what) must be a text")
                return nil
            }
            return text
        }

        mutating func readRule(_ node: Node) -> NotificationRule? {
            guard case .mapping(let mapping) = node else {
                problem(.format, node, "a rule must be a mapping with event, template, urgency and recipients")
                return nil
            }
            checkKeys(mapping, allowed: ["event", "template", "urgency", "recipients"], in: "a rule")

            var type: EventType?
            var fields: FieldShape?
            if let name = string(mapping["event"], key: "event", in: "a rule", parent: node) {
                let candidate: EventType =
                    name.hasPrefix("nl.samenplan.")
                    ? EventType(rawValue: name) : EventType(rawValue: "nl.samenplan.\(name).v1")
                if !EventType.catalogue.contains(candidate) {
                    problem(
                        .unknownEventType, mapping["event"],
                        "unknown event type \(name): \(candidate) is not in the catalogue of the suite")
                } else if let shape = EventFields.shape(for: candidate) {
                    type = candidate
                    fields = shape
                } else {
                    problem(
                        .unsupportedEventType, mapping["event"],
                        "\(candidate) events never reach notifications (it consumes the intake, planning and volunteers topics)"
                    )
                }
            }
            let what = "the rule for \(type?.rawValue ?? "an unknown event type")"

            var template: String?
            if let name = string(mapping["template"], key: "template", in: what, parent: node) {
                if !Self.isTemplateName(name) {
                    problem(
                        .format, mapping["template"],
                        "template name \(name) must be lower-case letters, digits and single dashes, and not `digest`")
                } else {
                    template = name
                    if let index = templateUses.firstIndex(where: { $0.name == name }) {
                        if let type, !templateUses[index].types.contains(type) {
                            templateUses[index].types.append(type)
                        }
                    } else {
                        templateUses.append((name, type.map { [$0] } ?? []))
                    }
                }
            }

            var urgency: Urgency?
            if let text = string(mapping["urgency"], key: "urgency", in: what, parent: node) {
                urgency = Urgency(rawValue: text)
                if urgency == nil {
                    problem(.format, mapping["urgency"], "urgency of \(what) must be normal or urgent, not \(text)")
                }
            }

            let recipients = readRecipients(mapping["recipients"], parent: node, type: type, fields: fields, what: what)
            guard let type, let template, let urgency, let recipients else { return nil }
            return NotificationRule(eventType: type, template: template, urgency: urgency, recipients: recipients)
        }

        mutating func readRecipients(
            _ node: Node?, parent: Node, type: EventType?, fields: FieldShape?, what: String
        ) -> [RecipientSelector]? {
            guard let node else {
                problem(.format, parent, "\(what) has no `recipients`")
                return nil
            }
            guard case .sequence(let items) = node, !items.isEmpty else {
                problem(.format, node, "`recipients` of \(what) must be a list of `field:` or `role:` entries")
                return nil
            }
            var selectors: [RecipientSelector] = []
            var valid = true
            for item in items {
                guard case .mapping(let mapping) = item else {
                    problem(
                        .format, item,
                        "a recipient of \(what) must be `field: <key>` or `role: <role>` (with `area: <key>`)")
                    valid = false
                    continue
                }
                checkKeys(mapping, allowed: ["field", "role", "area"], in: "a recipient of \(what)")
                switch (mapping["field"], mapping["role"]) {
                case (let field?, nil):
                    if let area = mapping["area"] {
                        problem(.format, area, "`area` goes with `role`, not with `field`")
                        valid = false
                    }
                    guard let key = string(field, key: "field", in: "a recipient of \(what)", parent: item),
                        checkField(key, node: field, accepting: .recipientId, type: type, fields: fields)
                    else {
                        valid = false
                        continue
                    }
                    selectors.append(.field(key))
                case (nil, let roleNode?):
                    guard let name = string(roleNode, key: "role", in: "a recipient of \(what)", parent: item) else {
                        valid = false
                        continue
                    }
                    let role = Role(rawValue: name)
                    if role == nil {
                        problem(
                            .unknownRole, roleNode,
                            "unknown role \(name) in \(what) (roles: \(Role.allCases.map(\.rawValue).joined(separator: ", ")))"
                        )
                    }
                    var areaField: String?
                    if let areaNode = mapping["area"] {
                        guard let key = string(areaNode, key: "area", in: "a recipient of \(what)", parent: item),
                            checkField(key, node: areaNode, accepting: .area, type: type, fields: fields)
                        else {
                            valid = false
                            continue
                        }
                        areaField = key
                    }
                    guard let role else {
                        valid = false
                        continue
                    }
                    selectors.append(.role(role, areaField: areaField))
                default:
                    problem(.format, item, "a recipient of \(what) has either `field:` or `role:`, exactly one")
                    valid = false
                }
            }
            return valid ? selectors : nil
        }

        enum FieldUse { case recipientId, area }

        /// Whether `key` is a field of the event's data that can serve as `use`.
        mutating func checkField(
            _ key: String, node: Node, accepting use: FieldUse, type: EventType?, fields: FieldShape?
        )
            -> Bool
        {
            guard let type, let fields else { return true }  // the event type is already reported
            guard case .object(let members) = fields, let field = members[key] else {
                problem(
                    .unknownField, node,
                    "the data of \(type) events has no field \(key) (it has: \(fields.keys.joined(separator: ", ")))")
                return false
            }
            switch (use, field.shape) {
            case (.recipientId, .string), (.area, .string), (.area, .list(.string)):
                return true
            case (.recipientId, _):
                problem(.unknownField, node, "\(key) of \(type) events is a \(field.shape), not a recipient's id")
            case (.area, _):
                problem(
                    .unknownField, node, "\(key) of \(type) events is a \(field.shape), not an area or a list of areas")
            }
            return false
        }

        static func isTemplateName(_ name: String) -> Bool {
            name != "digest" && !name.hasPrefix("-") && !name.hasSuffix("-") && !name.contains("--")
                && name.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
        }

        // MARK: templates

        var templatesFolder: String { templatesURL.lastPathComponent }

        mutating func readTemplates() {
            for (name, types) in templateUses {
                for language in Language.allCases {
                    let checks = types.compactMap { type in
                        EventFields.shape(for: type).map { (shape: $0, data: "\(type) events") }
                    }
                    if let compiled = readTemplate(name, language: language, checks: checks) {
                        templates[name, default: [:]][language] = compiled
                    }
                }
            }
            for language in Language.allCases {
                let checks = [(shape: EventFields.digest, data: "the digest's data")]
                if let compiled = readTemplate("digest", language: language, checks: checks) {
                    digest[language] = compiled
                }
            }
            findStrayFiles()
        }

        static let languageNames: [Language: String] = [.nl: "Dutch", .en: "English"]

        /// Reads, parses and checks `<language>/<name>.mustache` against the data of each of
        /// `checks`.
        mutating func readTemplate(_ name: String, language: Language, checks: [(shape: FieldShape, data: String)])
            -> CompiledTemplate?
        {
            let file = "\(templatesFolder)/\(language.rawValue)/\(name).mustache"
            let url = templatesURL.appendingPathComponent(language.rawValue).appendingPathComponent("\(name).mustache")
            guard FileManager.default.fileExists(atPath: url.path) else {
                problems.append(
                    Problem(
                        .missingTemplate, at: file,
                        "template \(name) has no \(Self.languageNames[language] ?? language.rawValue) version: \(file) is missing"
                    ))
                return nil
            }
            guard let text = read(url, as: file) else { return nil }

            // `Subject: …`, one blank line, the body.
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            guard let first = lines.first, first.hasPrefix("Subject:") else {
                problems.append(Problem(.templateFormat, at: "\(file):1:1", "the first line must be `Subject: …`"))
                return nil
            }
            let afterLabel = first.dropFirst("Subject:".count)
            let subjectText = String(afterLabel.drop(while: { $0 == " " || $0 == "\t" }))
            let subjectColumn = first.count - subjectText.count  // columns before the subject's text
            guard !subjectText.trimmingCharacters(in: .whitespaces).isEmpty else {
                problems.append(Problem(.templateFormat, at: "\(file):1:1", "the subject is empty"))
                return nil
            }
            guard lines.count >= 3, lines[1].trimmingCharacters(in: .whitespaces).isEmpty else {
                problems.append(
                    Problem(
                        .templateFormat, at: "\(file):2:1",
                        "the subject line must be followed by one blank line and the body"))
                return nil
            }
            var bodyLines = lines[2...]
            while let last = bodyLines.last, last.trimmingCharacters(in: .whitespaces).isEmpty {
                bodyLines.removeLast()
            }
            guard !bodyLines.isEmpty else {
                problems.append(Problem(.templateFormat, at: "\(file):3:1", "the body is empty"))
                return nil
            }
            let bodyText = bodyLines.joined(separator: "\n")

            let label = "template \(name) (\(language.rawValue))"
            let parts = [
                (text: subjectText, line: 0, column: subjectColumn), (text: bodyText, line: 2, column: 0),
            ]
            var compiled: [MustacheTemplate] = []
            var paths: Set<FieldPath> = []
            for part in parts {
                do {
                    _ = try MustacheTemplate(string: part.text)
                } catch {
                    problems.append(
                        Self.syntaxProblem(error, file: file, label: label, offset: (part.line, part.column)))
                    continue
                }
                for check in checks {
                    let result = TemplateCheck.check(part.text, root: check.shape, template: label, data: check.data)
                    paths.formUnion(result.paths)
                    for finding in result.findings {
                        let line = finding.line + part.line
                        let column = finding.column + (finding.line == 1 ? part.column : 0)
                        problems.append(Problem(finding.kind, at: "\(file):\(line):\(column)", finding.message))
                    }
                }
                // Plain text: the pragma turns HTML escaping off for the whole template. It
                // stands on a line of its own, which the engine drops with its line break.
                do {
                    compiled.append(try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}\n" + part.text))
                } catch {
                    problems.append(
                        Self.syntaxProblem(error, file: file, label: label, offset: (part.line, part.column)))
                }
            }
            guard compiled.count == 2 else { return nil }
            return CompiledTemplate(
                subject: compiled[0], body: compiled[1], paths: paths.sorted { $0.description < $1.description })
        }

        static func syntaxProblem(_ error: any Error, file: String, label: String, offset: (line: Int, column: Int))
            -> Problem
        {
            guard let error = error as? MustacheTemplate.ParserError else {
                return Problem(.templateSyntax, at: file, "\(label) cannot be parsed: \(error)")
            }
            let line = error.context.lineNumber + offset.line
            let column = error.context.columnNumber + (error.context.lineNumber == 1 ? offset.column : 0)
            let what: String =
                switch error.error as? MustacheTemplate.Error {
                case .sectionCloseNameIncorrect?: "a section is closed with another name than it was opened with"
                case .unfinishedName?: "a tag is not closed, or its name has characters a name cannot have"
                case .expectedSectionEnd?: "a section is never closed"
                case .invalidSetDelimiter?: "a delimiter change is malformed"
                case .invalidConfigVariableSyntax?, .unrecognisedConfigVariable?: "a pragma is malformed"
                default: "\(error.error)"
                }
            return Problem(.templateSyntax, at: "\(file):\(line):\(column)", "\(label) cannot be parsed: \(what)")
        }

        /// Template files no rule uses and folders that are no language: most likely a typo
        /// in a name.
        mutating func findStrayFiles() {
            let manager = FileManager.default
            guard let folders = try? manager.contentsOfDirectory(atPath: templatesURL.path) else {
                problems.append(
                    Problem(.unreadable, at: templatesFolder, "cannot read the folder \(templatesURL.path)"))
                return
            }
            let used = Set(templateUses.map(\.name) + ["digest"])
            for folder in folders.sorted() where !folder.hasPrefix(".") {
                guard let language = Language(rawValue: folder) else {
                    problems.append(
                        Problem(
                            .templateFormat, at: "\(templatesFolder)/\(folder)",
                            "not a language folder (languages: \(Language.allCases.map(\.rawValue).joined(separator: ", ")))"
                        ))
                    continue
                }
                let files =
                    (try? manager.contentsOfDirectory(atPath: templatesURL.appendingPathComponent(folder).path)) ?? []
                for file in files.sorted() where !file.hasPrefix(".") {
                    let location = "\(templatesFolder)/\(language.rawValue)/\(file)"
                    guard file.hasSuffix(".mustache") else {
                        problems.append(
                            Problem(.templateFormat, at: location, "not a template (templates end in .mustache)"))
                        continue
                    }
                    let name = String(file.dropLast(".mustache".count))
                    if !used.contains(name) {
                        problems.append(Problem(.templateFormat, at: location, "template \(name) is used by no rule"))
                    }
                }
            }
        }
    }
}
