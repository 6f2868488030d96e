import Foundation

/// A JSON value as it arrived on the wire.
///
/// Inbound events are validated field by field so that a rejection can name *every* problem;
/// a `Decodable` struct would stop at the first. Services decode into typed payloads once
/// the value has passed validation.
public enum JSON: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    public subscript(key: String) -> JSON? {
        if case .object(let fields) = self { return fields[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var numberValue: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    public var objectValue: [String: JSON]? {
        if case .object(let value) = self { return value }
        return nil
    }

    public var arrayValue: [JSON]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The JSON type name used in validation messages ("expected a string, got a number").
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

extension JSON: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        // A single-value container cannot say which type it holds: each wrong guess costs a
        // thrown error, so the commonest types of the suite's events are tried first.
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([String: JSON].self) {
            self = .object(value)
        } else if let value = try? container.decode([JSON].self) {
            self = .array(value)
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else {
            self = .number(try container.decode(Double.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension JSON {
    /// Parses JSON text: how every Kafka message and `POST /v1/events` body is read.
    ///
    /// Foundation's `JSONSerialization` reads the text in one pass and says what each value
    /// is. Decoding `JSON` through `JSONDecoder` (the `Codable` conformance above) cannot ask
    /// and pays a thrown error for every wrong guess; reading a referral event that way took
    /// about three times as long, the largest single cost of intake's consumer (issue 3).
    /// Both accept and refuse the same texts (nesting deeper than 512 levels is refused) and
    /// give the same value, with one exception: `-0` reads as 0.
    ///
    /// Where JSONSerialization on Linux is not exact, the text takes the `JSONDecoder` path:
    /// a number it keeps as an NSDecimalNumber (a long mantissa, which `doubleValue` rounds
    /// differently), and a U+FEFF written as such at the start of a string (which it drops).
    public init(parsing bytes: Data) throws {
        if !Self.holdsByteOrderMark(bytes) {
            do {
                self = try JSON(foundation: JSONSerialization.jsonObject(with: bytes, options: [.fragmentsAllowed]))
                return
            } catch is NotExact {}
        }
        self = try JSONCoding.decoder.decode(JSON.self, from: bytes)
    }

    /// A value JSONSerialization read, but not exactly as `JSONDecoder` reads it.
    private struct NotExact: Error {}

    /// The value `JSONSerialization` made, as a `JSON` value.
    private init(foundation value: Any) throws {
        switch value {
        case let text as String:
            self = .string(text)
        case let fields as [String: Any]:
            self = .object(try fields.mapValues(JSON.init(foundation:)))
        case let items as [Any]:
            self = .array(try items.map(JSON.init(foundation:)))
        case is NSDecimalNumber:
            throw NotExact()
        case let number as NSNumber:
            // `true` and `false` arrive as NSNumbers of a class of their own; the others hold
            // a C integer or a double, each exact.
            if ObjectIdentifier(type(of: number)) == Self.booleanClass {
                self = .bool(number.boolValue)
            } else {
                switch UInt8(bitPattern: number.objCType.pointee) {
                case UInt8(ascii: "d"), UInt8(ascii: "f"): self = .number(number.doubleValue)
                case UInt8(ascii: "Q"): self = .number(Double(number.uint64Value))
                default: self = .number(Double(number.int64Value))
                }
            }
        case is NSNull:
            self = .null
        default:
            throw NotExact()
        }
    }

    private static let booleanClass = ObjectIdentifier(type(of: NSNumber(value: true)))

    /// Whether the UTF-8 of U+FEFF (EF BB BF) occurs anywhere in `bytes`.
    static func holdsByteOrderMark(_ bytes: Data) -> Bool {
        bytes.range(of: byteOrderMark) != nil
    }

    private static let byteOrderMark = Data([0xEF, 0xBB, 0xBF])

    /// Converts any `Encodable` payload into a `JSON` value (for the CloudEvent `data`).
    public init(encoding value: some Encodable) throws {
        self = try JSON(parsing: try JSONCoding.encoder.encode(value))
    }

    /// Decodes this value into a typed payload.
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        let bytes = try JSONCoding.encoder.encode(self)
        return try JSONCoding.decoder.decode(T.self, from: bytes)
    }
}

extension JSON {
    /// Whether a string or key anywhere in this value holds U+0000.
    var holdsNUL: Bool {
        switch self {
        case .string(let text): text.holdsNUL
        case .array(let items): items.contains { $0.holdsNUL }
        case .object(let fields): fields.contains { $0.key.holdsNUL || $0.value.holdsNUL }
        default: false
        }
    }
}

extension String {
    /// Whether the text holds U+0000. Its UTF-8 bytes are scanned: `contains("\u{0}")`
    /// goes through Foundation's locale-aware search, which cost intake 4% of its time.
    var holdsNUL: Bool { utf8.contains(0) }
}

/// The one JSON configuration the suite uses on the wire: ISO 8601 dates, sorted keys
/// (stable bytes make signatures and tests reproducible).
public enum JSONCoding {
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.format(date))
        }
        return encoder
    }

    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "not an RFC 3339 timestamp: \(text)")
            }
            return date
        }
        return decoder
    }
}

/// RFC 3339 timestamps, with or without fractional seconds, as CloudEvents `time` uses them.
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(date)
    }

    public static func parse(_ text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) {
            return date
        }
        return try? Date.ISO8601FormatStyle().parse(text)
    }
}

// Literals, so payloads and fixtures read like the JSON they stand for.
extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
}
