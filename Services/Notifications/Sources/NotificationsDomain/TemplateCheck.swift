import Foundation

// The load-time check of a template against the data it will be rendered with: every name a
// tag looks up must be a field of the event's data, every optional field must be printed
// inside a section on it, and every transform must apply to its field.
//
// swift-mustache keeps its parsed tokens internal and looks names up only while rendering,
// and a render takes one branch of every section: recording the lookups of a trial render
// would never see the other branch. So the check reads the tags itself, statically, after
// the library has parsed the same text (a template the library refuses never gets here), and
// follows the library's lookup rules (Template+Render.swift, `getChild`): a name's first
// part is searched from the innermost section's value down to the event data, the rest of a
// dotted name only inside what the first part found; a list section pushes each element, an
// object or a string section pushes the value, a boolean or inverted section pushes nothing;
// `first()`, `last()`, `index()`, `even()`, `odd()` read the list position of the innermost
// list section.

/// A step of a path into event data: an object's key, or every element of a list.
enum PathSegment: Hashable, Sendable {
    case key(String)
    case elements
}

/// Where a tag's value lives in the data: `caseId`, `problems[].rule`.
struct FieldPath: Hashable, Sendable, CustomStringConvertible {
    var segments: [PathSegment] = []

    func appending(_ segment: PathSegment) -> FieldPath { FieldPath(segments: segments + [segment]) }

    /// This path and every path it starts with, shortest first.
    var prefixes: [FieldPath] { (1...max(segments.count, 1)).map { FieldPath(segments: Array(segments.prefix($0))) } }

    var description: String {
        var text = ""
        for segment in segments {
            switch segment {
            case .key(let key): text += text.isEmpty ? key : "." + key
            case .elements: text += "[]"
            }
        }
        return text
    }
}

/// One tag of a template, as the library reads it.
struct TemplateTag {
    enum Kind {
        case variable, unescaped, section, inverted, close, comment, delimiters, pragma, partial, parent, block
    }

    var kind: Kind
    /// The name looked up, without transforms: `caseId`, `.`, `a.b`, `` (a sequence transform).
    var name: String
    /// As written, outermost first: `plusone(index())` is `["plusone", "index"]`.
    var transforms: [String]
    /// The tag's text between the delimiters, for messages.
    var text: String
    var line: Int
    var column: Int
}

/// A finding of the check, positioned in the template text (1-based).
struct TemplateFinding {
    var kind: RuleBookError.Problem.Kind
    var line: Int
    var column: Int
    var message: String
}

enum TemplateCheck {
    /// The result: what is wrong, and the paths the template reads (checked again at render
    /// time against the actual event, see `RuleBook.render`).
    struct Result {
        var findings: [TemplateFinding] = []
        var paths: Set<FieldPath> = []
    }

    /// Checks `text` (already parsed by the library) against `root`, the shape of the data.
    /// `template` and `data` name both in messages ("template case-assigned (en)",
    /// "nl.samenplan.case.assigned.v1 events").
    static func check(_ text: String, root: FieldShape, template: String, data: String) -> Result {
        var checker = Checker(root: root, template: template, data: data)
        for tag in scan(text) { checker.visit(tag) }
        return checker.result
    }

    // MARK: - Reading the tags

    /// The tags of `text`, with the library's delimiters and tag syntax
    /// (Template+Parser.swift). Text between tags is skipped.
    static func scan(_ text: String) -> [TemplateTag] {
        var tags: [TemplateTag] = []
        var open = "{{"
        var close = "}}"
        var cursor = text.startIndex
        while let start = text.range(of: open, range: cursor..<text.endIndex), start.upperBound < text.endIndex {
            var position = start.upperBound
            let sigil = text[position]
            let kind: TemplateTag.Kind =
                switch sigil {
                case "#": .section
                case "^": .inverted
                case "/": .close
                case "!": .comment
                case "{", "&": .unescaped
                case ">": .partial
                case "<": .parent
                case "$": .block
                case "=": .delimiters
                case "%": .pragma
                default: .variable
                }
            if kind != .variable { position = text.index(after: position) }
            let (line, column) = lineAndColumn(of: start.lowerBound, in: text)
            let terminator = kind == .delimiters ? "=" + close : close
            guard let end = text.range(of: terminator, range: position..<text.endIndex) else { break }
            let content = text[position..<end.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
            cursor = end.upperBound
            if sigil == "{", cursor < text.endIndex, text[cursor] == "}" { cursor = text.index(after: cursor) }
            if kind == .delimiters {
                let parts = content.split(whereSeparator: \.isWhitespace)
                if parts.count == 2 {
                    open = String(parts[0])
                    close = String(parts[1])
                }
            }
            let (name, transforms) = splitTransforms(content)
            tags.append(
                TemplateTag(
                    kind: kind, name: name, transforms: transforms, text: String(text[start.lowerBound..<cursor]),
                    line: line, column: column))
        }
        return tags
    }

    /// `plusone(index())` → (``, [`plusone`, `index`]); `caseId` → (`caseId`, []).
    static func splitTransforms(_ content: String) -> (String, [String]) {
        var rest = Substring(content)
        var transforms: [String] = []
        while let bracket = rest.firstIndex(of: "(") {
            transforms.append(String(rest[..<bracket]))
            rest = rest[rest.index(after: bracket)...]
        }
        while rest.last == ")" { rest = rest.dropLast() }
        return (String(rest), transforms)
    }

    static func lineAndColumn(of index: String.Index, in text: String) -> (Int, Int) {
        var line = 1
        var column = 1
        for character in text[..<index] {
            if character == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return (line, column)
    }

    // MARK: - Checking the tags

    /// What a section puts on the context stack while its content renders.
    private struct Scope {
        var name: String
        /// The shape of the value pushed (nil: nothing pushed).
        var pushed: FieldShape?
        /// Where the pushed value lives in the data.
        var path: FieldPath?
        /// A positive section renders only when its value is there: it guards this path.
        var guards: FieldPath?
        /// Pushes the elements of a list: `first()`, `index()` … work inside.
        var list: Bool
        /// Renders in the enclosing context (a boolean or inverted section), so a list
        /// position stays readable.
        var keepsPosition: Bool
    }

    private struct Resolved {
        var shape: FieldShape
        /// Nil for a list position (`index()`).
        var path: FieldPath?
        /// The optional fields on the way, which a printing tag needs guarded.
        var optional: [FieldPath]
    }

    private static let positionTransforms: [String: FieldShape] = [
        "first": .bool, "last": .bool, "index": .number, "even": .bool, "odd": .bool,
    ]

    /// What `transform` makes of a value of `shape` (swift-mustache's Transform.swift), or
    /// nil when it does not apply: the library would render nothing.
    private static func apply(_ transform: String, to shape: FieldShape) -> FieldShape? {
        switch (shape, transform) {
        case (.string, "empty"): .bool
        case (.string, "capitalized"), (.string, "lowercased"), (.string, "uppercased"), (.string, "reversed"): .string
        case (.list, "count"), (.object, "count"): .number
        case (.list, "empty"), (.object, "empty"): .bool
        case (.list(let element), "reversed"): .list(element)
        case (.number, "equalzero"), (.number, "even"), (.number, "odd"): .bool
        case (.number, "plusone"), (.number, "minusone"): .number
        default: nil
        }
    }

    private struct Checker {
        let template: String
        let data: String
        var scopes: [Scope]
        var result = Result()

        init(root: FieldShape, template: String, data: String) {
            self.template = template
            self.data = data
            self.scopes = [
                Scope(name: "", pushed: root, path: FieldPath(), guards: nil, list: false, keepsPosition: false)
            ]
        }

        mutating func report(_ kind: RuleBookError.Problem.Kind, _ tag: TemplateTag, _ message: String) {
            result.findings.append(TemplateFinding(kind: kind, line: tag.line, column: tag.column, message: message))
        }

        mutating func visit(_ tag: TemplateTag) {
            switch tag.kind {
            case .comment, .delimiters:
                return
            case .pragma:
                report(
                    .templateSyntax, tag,
                    "\(template): \(tag.text): pragmas are not allowed (notification templates are plain text, never HTML-escaped)"
                )
            case .partial, .parent, .block:
                report(
                    .templateSyntax, tag,
                    "\(template): \(tag.text): partials and template inheritance are not available in notification templates"
                )
            case .close:
                if scopes.count > 1 { scopes.removeLast() }
            case .variable, .unescaped:
                guard let resolved = resolve(tag) else { return }
                switch resolved.shape {
                case .list, .object:
                    report(
                        .notPrintable, tag,
                        "\(template) prints \(tag.text), which is a \(resolved.shape) in \(data): use a section to print its parts"
                    )
                case .string, .number, .bool:
                    break
                }
                let guarded = Set(scopes.compactMap(\.guards).flatMap(\.prefixes))
                for path in resolved.optional where !guarded.contains(path) {
                    report(
                        .unguardedOptional, tag,
                        "\(template) prints \(tag.text) outside a section on \(path), which \(data) may leave out: "
                            + "put it inside {{#\(path)}}…{{/\(path)}}")
                }
            case .section:
                guard let resolved = resolve(tag) else {
                    // Keep the stack balanced for the matching close tag.
                    scopes.append(Scope(name: tag.name, list: false, keepsPosition: true))
                    return
                }
                var scope = Scope(name: tag.name, guards: resolved.path, list: false, keepsPosition: false)
                switch resolved.shape {
                case .bool:
                    scope.keepsPosition = true
                case .list(let element):
                    scope.pushed = element
                    scope.path = resolved.path?.appending(.elements)
                    scope.list = true
                case .object, .string, .number:
                    scope.pushed = resolved.shape
                    scope.path = resolved.path
                }
                scopes.append(scope)
            case .inverted:
                let resolved = resolve(tag)
                var keepsPosition = true
                if case .list? = resolved?.shape { keepsPosition = false }
                scopes.append(Scope(name: tag.name, list: false, keepsPosition: keepsPosition))
            }
        }

        /// Follows the library's lookup of `tag`'s name, reporting what it cannot find.
        mutating func resolve(_ tag: TemplateTag) -> Resolved? {
            var resolved: Resolved
            var transforms = Array(tag.transforms.reversed())  // innermost first, as rendered
            if tag.name.isEmpty {
                guard let position = transforms.first, let shape = positionTransforms[position] else {
                    report(.invalidTransform, tag, "\(template): \(tag.text) names no variable")
                    return nil
                }
                guard positionAvailable else {
                    report(
                        .invalidTransform, tag,
                        "\(template): \(tag.text) reads a list position, which exists only directly inside a list section"
                    )
                    return nil
                }
                transforms.removeFirst()
                resolved = Resolved(shape: shape, path: nil, optional: [])
            } else if tag.name == "." {
                guard let top = scopes.last(where: { $0.pushed != nil }), let shape = top.pushed else { return nil }
                resolved = Resolved(shape: shape, path: top.path, optional: [])
            } else {
                let parts = tag.name.split(separator: ".").map(String.init)
                let start: Scope?
                if tag.name.hasPrefix(".") {
                    start = scopes.last(where: { $0.pushed != nil })
                } else {
                    start = scopes.last { scope in
                        if case .object(let fields)? = scope.pushed { return fields[parts[0]] != nil }
                        return false
                    }
                }
                guard let start, let startShape = start.pushed, var path = start.path else {
                    let carried = scopes.compactMap(\.pushed).flatMap(\.keys)
                    report(
                        .unknownVariable, tag,
                        "\(template) looks up \(tag.name), which \(data) do not carry (they carry: "
                            + Array(Set(carried)).sorted().joined(separator: ", ") + ")")
                    return nil
                }
                var shape = startShape
                var optional: [FieldPath] = []
                for part in parts {
                    guard case .object(let fields) = shape, let field = fields[part] else {
                        let what: String =
                            if case .list = shape {
                                "\(path) is a list: read its elements inside {{#\(path)}}…{{/\(path)}}"
                            } else if case .object = shape {
                                "\(path.segments.isEmpty ? "the data" : path.description) has no \(part) (it has: "
                                    + shape.keys.joined(separator: ", ") + ")"
                            } else {
                                "\(path) is a \(shape), it has no \(part)"
                            }
                        report(
                            .unknownVariable, tag,
                            "\(template) looks up \(tag.name), which \(data) do not carry: \(what)")
                        return nil
                    }
                    path = path.appending(.key(part))
                    if field.optional { optional.append(path) }
                    shape = field.shape
                }
                resolved = Resolved(shape: shape, path: path, optional: optional)
            }
            if let path = resolved.path { result.paths.insert(path) }
            for transform in transforms {
                guard let shape = TemplateCheck.apply(transform, to: resolved.shape) else {
                    report(
                        .invalidTransform, tag,
                        "\(template): \(tag.text): \(transform)() does not apply to a \(resolved.shape)")
                    return nil
                }
                resolved.shape = shape
            }
            return resolved
        }

        /// Whether the innermost scope that changes the context is a list section.
        var positionAvailable: Bool {
            for scope in scopes.reversed() {
                if scope.list { return true }
                if !scope.keepsPosition { return false }
            }
            return false
        }
    }
}
