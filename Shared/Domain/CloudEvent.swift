import Foundation

/// A CloudEvents 1.0 event as the suite publishes and consumes it (see DESIGN.md, Events).
///
/// `source` + `id` identifies an event uniquely; consumers use the pair to drop duplicates.
public struct CloudEvent: Sendable, Hashable {
    public static let specVersion = "1.0"
    public static let structuredContentType = "application/cloudevents+json"

    public var id: String
    public var source: String
    public var type: String
    public var time: Date?
    public var subject: String?
    public var dataContentType: String?
    /// W3C trace context, so one referral can be followed through every service's logs.
    public var traceparent: String?
    public var data: JSON

    public init(
        id: String = UUID.random().uuidString.lowercased(),
        source: String,
        type: String,
        time: Date? = Date(),
        subject: String? = nil,
        dataContentType: String? = "application/json",
        traceparent: String? = nil,
        data: JSON
    ) {
        self.id = id
        self.source = source
        self.type = type
        self.time = time
        self.subject = subject
        self.dataContentType = dataContentType
        self.traceparent = traceparent
        self.data = data
    }

    /// Builds an event whose `data` is a typed payload.
    public init(
        source: String, type: EventType, subject: String?, traceparent: String? = nil, payload: some Encodable
    ) throws {
        self.init(
            source: source, type: type.rawValue, subject: subject, traceparent: traceparent,
            data: try JSON(encoding: payload))
    }
}

// MARK: - Structured mode (the whole event as one JSON value)

extension CloudEvent {
    /// The structured-mode JSON object: the form the suite publishes and stores in outboxes.
    public var structuredJSON: JSON {
        var fields: [String: JSON] = [
            "specversion": .string(Self.specVersion),
            "id": .string(id),
            "source": .string(source),
            "type": .string(type),
            "data": data,
        ]
        if let time { fields["time"] = .string(Timestamp.format(time)) }
        if let subject { fields["subject"] = .string(subject) }
        if let dataContentType { fields["datacontenttype"] = .string(dataContentType) }
        if let traceparent { fields["traceparent"] = .string(traceparent) }
        return .object(fields)
    }

    public func structuredBytes() throws -> [UInt8] {
        Array(try JSONCoding.encoder.encode(structuredJSON))
    }
}

/// Why a message could not be read as a CloudEvent at all. Such a message has no answer of
/// its own and goes to the dead-letter topic.
public struct EnvelopeError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: String, Sendable {
        case notJSON = "not-json"
        case notACloudEvent = "not-a-cloudevent"
        case unsupportedSpecVersion = "unsupported-specversion"
        case missingAttribute = "missing-attribute"
        case unknownType = "unknown-type"
        /// A text holds U+0000, which PostgreSQL cannot store in any text: no service could
        /// ever handle the event, so it is refused at the door instead of failing in the
        /// database again and again.
        case nulCharacter = "nul-character"
    }

    public var reason: Reason
    public var detail: String

    public init(_ reason: Reason, _ detail: String) {
        self.reason = reason
        self.detail = detail
    }

    public var description: String { "\(reason.rawValue): \(detail)" }
}

extension CloudEvent {
    /// Reads a Kafka message as a CloudEvent in structured mode (`content-type:
    /// application/cloudevents+json`, or a JSON value with `specversion`) or binary mode
    /// (`ce_*` headers, `data` as the value), as the CloudEvents Kafka binding allows.
    public static func decode(value: [UInt8], headers: [(String, [UInt8])]) throws(EnvelopeError) -> CloudEvent {
        var headerMap: [String: String] = [:]
        for (name, bytes) in headers {
            headerMap[name.lowercased()] = String(decoding: bytes, as: UTF8.self)
        }
        let event = headerMap["ce_specversion"] != nil ? try decodeBinary(value: value, headers: headerMap) : try decodeStructured(value)
        guard !event.holdsNUL else {
            throw EnvelopeError(.nulCharacter, "a text of the event holds the character U+0000, which cannot be stored")
        }
        return event
    }

    /// Whether any attribute or any text of `data` (keys too) holds U+0000.
    var holdsNUL: Bool {
        let attributes = [id, source, type, subject ?? "", dataContentType ?? "", traceparent ?? ""]
        return attributes.contains(where: \.holdsNUL) || data.holdsNUL
    }

    public static func decodeStructured(_ bytes: [UInt8]) throws(EnvelopeError) -> CloudEvent {
        let json: JSON
        do {
            json = try JSON(parsing: Data(bytes))
        } catch {
            throw EnvelopeError(.notJSON, "the message is not valid JSON")
        }
        guard case .object(let fields) = json else {
            throw EnvelopeError(.notACloudEvent, "the message is JSON but not an object")
        }
        guard let specversion = fields["specversion"] else {
            throw EnvelopeError(.notACloudEvent, "no specversion attribute")
        }
        guard specversion.stringValue == specVersion else {
            throw EnvelopeError(.unsupportedSpecVersion, "specversion must be \"1.0\"")
        }
        func required(_ name: String) throws(EnvelopeError) -> String {
            guard let value = fields[name]?.stringValue, !value.isEmpty else {
                throw EnvelopeError(.missingAttribute, "the required attribute \(name) is missing or not a string")
            }
            return value
        }
        return CloudEvent(
            id: try required("id"),
            source: try required("source"),
            type: try required("type"),
            time: fields["time"]?.stringValue.flatMap(Timestamp.parse),
            subject: fields["subject"]?.stringValue,
            dataContentType: fields["datacontenttype"]?.stringValue,
            traceparent: fields["traceparent"]?.stringValue,
            data: fields["data"] ?? .null)
    }

    static func decodeBinary(value: [UInt8], headers: [String: String]) throws(EnvelopeError) -> CloudEvent {
        guard headers["ce_specversion"] == specVersion else {
            throw EnvelopeError(.unsupportedSpecVersion, "ce_specversion must be \"1.0\"")
        }
        func required(_ name: String) throws(EnvelopeError) -> String {
            guard let value = headers["ce_\(name)"], !value.isEmpty else {
                throw EnvelopeError(.missingAttribute, "the required header ce_\(name) is missing")
            }
            return value
        }
        let data: JSON
        if value.isEmpty {
            data = .null
        } else {
            do {
                data = try JSON(parsing: Data(value))
            } catch {
                throw EnvelopeError(.notJSON, "the binary-mode value is not valid JSON")
            }
        }
        return CloudEvent(
            id: try required("id"),
            source: try required("source"),
            type: try required("type"),
            time: headers["ce_time"].flatMap(Timestamp.parse),
            subject: headers["ce_subject"],
            dataContentType: headers["content-type"],
            traceparent: headers["ce_traceparent"] ?? headers["traceparent"],
            data: data)
    }
}

/// A structured-mode event whose `data` is a typed payload, encoded in one pass: the same
/// bytes as `CloudEvent(…, payload:).structuredBytes()`, without the detour through `JSON`
/// (which costs an extra encode and decode per event on the hot path).
public struct StructuredEvent<Payload: Encodable>: Encodable {
    public var id: String
    public var source: String
    public var type: String
    public var time: Date
    public var subject: String?
    public var traceparent: String?
    public var data: Payload

    public init(
        id: String = UUID.random().uuidString.lowercased(), source: String, type: EventType, time: Date = Date(),
        subject: String?, traceparent: String?, data: Payload
    ) {
        self.id = id
        self.source = source
        self.type = type.rawValue
        self.time = time
        self.subject = subject
        self.traceparent = traceparent
        self.data = data
    }

    enum CodingKeys: String, CodingKey {
        case specversion, id, source, type, time, subject, datacontenttype, traceparent, data
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(CloudEvent.specVersion, forKey: .specversion)
        try container.encode(id, forKey: .id)
        try container.encode(source, forKey: .source)
        try container.encode(type, forKey: .type)
        try container.encode(Timestamp.format(time), forKey: .time)
        try container.encodeIfPresent(subject, forKey: .subject)
        try container.encode("application/json", forKey: .datacontenttype)
        try container.encodeIfPresent(traceparent, forKey: .traceparent)
        try container.encode(data, forKey: .data)
    }

    public func bytes() throws -> [UInt8] { Array(try JSONCoding.encoder.encode(self)) }
}

/// An event built in one place and encoded in another (a batch encodes its events on a
/// second core while the database writes its rows).
extension StructuredEvent: Sendable where Payload: Sendable {}
