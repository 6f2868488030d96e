import Foundation

/// Rows for a set-based statement, passed as one `jsonb` parameter and unpacked in SQL with
/// `jsonb_to_recordset` or `jsonb_array_elements ... WITH ORDINALITY`: one round trip writes a
/// whole batch, and nullable columns need no special encoding.
public enum BulkRows {
    /// The rows as a JSON array. Dates are not encoded here: a batch passes its one `now`
    /// as a parameter of its own.
    public static func json(_ rows: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return String(decoding: try encoder.encode(rows), as: UTF8.self)
    }
}
