// Query results as aligned text tables, CSV (RFC 4180) or JSON.

import Foundation

public enum ReportFormat: String, Sendable, CaseIterable {
    case table, csv, json
}

public enum ReportFormatter {
    /// An aligned table: numbers right-aligned, text left-aligned, NULL shown empty.
    public static func table(_ result: QueryResult) -> String {
        let cells = result.rows.map { $0.map { $0 ?? "" } }
        var widths = result.columns.map(\.count)
        for row in cells { for (i, v) in row.enumerated() { widths[i] = max(widths[i], v.count) } }
        let numeric = result.columns.indices.map { i in
            !cells.isEmpty && cells.allSatisfy { $0[i].isEmpty || Double($0[i]) != nil }
        }
        func line(_ values: [String]) -> String {
            values.enumerated().map { i, v in
                let pad = String(repeating: " ", count: widths[i] - v.count)
                return numeric[i] ? pad + v : v + pad
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        var out = line(result.columns) + "\n"
        out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
        for row in cells { out += line(row) + "\n" }
        out += "(\(cells.count) row\(cells.count == 1 ? "" : "s"))\n"
        return out
    }

    public static func csv(_ result: QueryResult) -> String {
        func field(_ v: String?) -> String {
            guard let v else { return "" }
            if v.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
                return "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            }
            return v
        }
        var out = result.columns.map(field).joined(separator: ",") + "\r\n"
        for row in result.rows { out += row.map(field).joined(separator: ",") + "\r\n" }
        return out
    }

    /// An array of objects; values stay strings (PostgreSQL's text form) except NULL → null.
    public static func jsonObjects(_ result: QueryResult) -> [[String: Any]] {
        result.rows.map { row in
            var o: [String: Any] = [:]
            for (c, v) in zip(result.columns, row) { o[c] = v ?? NSNull() }
            return o
        }
    }
}
