import Foundation
import SamenplanDomain

/// Rows for a set-based statement, passed as one `jsonb` parameter and unpacked in SQL with
/// `jsonb_to_recordset` or `jsonb_array_elements ... WITH ORDINALITY`: one round trip writes a
/// whole batch, and nullable columns need no special encoding.
public enum BulkRows {
    /// The rows as a JSON array. Dates are RFC 3339 timestamps with fractional seconds, which
    /// a `timestamptz` column of the record set reads exactly. With `snakeCaseKeys`, a
    /// property `caseId` becomes the key `case_id`, so the record set's columns can carry the
    /// table's own names.
    public static func json(_ rows: some Encodable, snakeCaseKeys: Bool = false) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.format(date))
        }
        if snakeCaseKeys { encoder.keyEncodingStrategy = .convertToSnakeCase }
        return String(decoding: try encoder.encode(rows), as: UTF8.self)
    }
}
