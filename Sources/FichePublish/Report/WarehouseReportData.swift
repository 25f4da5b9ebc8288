// Everything the HTML report shows, read from the published warehouse in one go: the answers
// of the analytics queries (the same SQL as sql/analytics_queries.sql) and what is known about
// the warehouse itself (when it was published, from which lake versions, how many rows).

import FicheWarehouse
import Foundation

public struct WarehouseReportData: Sendable {
    public var schema: String
    /// When this report was made (UTC).
    public var generatedAt: Date
    /// When the warehouse was published, as PostgreSQL prints it in UTC, if known.
    public var publishedAt: String?
    /// Where `publishedAt` comes from, said plainly.
    public var publishedAtSource: String
    /// The lake table versions the warehouse was built from, where the warehouse records them.
    public var lakeVersions: [(table: String, version: String)]
    /// Exact row counts of the warehouse tables, in the schema's order.
    public var rowCounts: [(table: String, rows: Int)]
    /// Results of the analytics queries, by query name.
    public var results: [String: QueryResult]

    /// The queries the report needs.
    public static let queryNames = ["monthly_encounters_by_source", "top_diagnoses_by_age_group", "modality_mix_by_facility",
                                    "average_procedures_per_encounter", "high_volume_patients", "high_volume_patient_visits"]

    /// Reads the report's data from `schema` (which must hold a published warehouse).
    public static func load(_ connection: PostgresConnection, schema: SQLIdentifier, now: Date = Date()) throws -> WarehouseReportData {
        guard try connection.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = $1", [schema.name]) == "1" else {
            throw PublishError(.usage, "no published warehouse in schema \(schema.name) (run `fiche rebuild` or `fiche publish` first)")
        }
        try connection.execute("SET search_path = \(schema.quoted)")
        var results: [String: QueryResult] = [:]
        for name in queryNames {
            guard let q = AnalyticsQueries.named(name) else { preconditionFailure("report query \(name) missing from AnalyticsQueries") }
            results[name] = try connection.query(q.sql)
        }
        let counts = try connection.query(Warehouse.tables.map {
            "SELECT \(literal($0.name)) AS table_name, count(*) AS rows FROM \(try SQLIdentifier($0.name).quoted)"
        }.joined(separator: "\nUNION ALL\n"))
        let rowCounts = counts.rows.map { (table: $0[0] ?? "", rows: Int($0[1] ?? "") ?? 0) }

        // PostgreSQL records no creation time for a schema. Publishing ends by ANALYZE-ing
        // every table of the new schema just before the swap, so the latest manual ANALYZE of
        // its tables is when this warehouse was published (statistics survive restarts, not a crash).
        let analysed = try connection.scalar("""
            SELECT to_char(max(last_analyze) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"')
            FROM pg_stat_user_tables WHERE schemaname = $1
            """, [schema.name])
        return WarehouseReportData(
            schema: schema.name, generatedAt: now, publishedAt: analysed,
            publishedAtSource: "time of the publish's ANALYZE of the schema's tables (PostgreSQL's statistics)",
            lakeVersions: try lakeVersions(connection, schema: schema), rowCounts: rowCounts, results: results)
    }

    /// The lake versions the publisher recorded in the schema's `_fiche_publish` table (one
    /// row `lake:<table>` per lake table, the version in `row_count`), or none when the
    /// warehouse was published by a Fiche that kept no such record.
    static func lakeVersions(_ connection: PostgresConnection, schema: SQLIdentifier) throws -> [(table: String, version: String)] {
        guard try connection.scalar("SELECT to_regclass($1) IS NOT NULL", ["\(schema.quoted)._fiche_publish"]) == "t" else { return [] }
        return try connection.query("""
            SELECT substr(item, 6) AS lake_table, row_count AS version
            FROM \(schema.quoted)._fiche_publish WHERE item LIKE 'lake:%' ORDER BY 1
            """).rows.map { (table: $0[0] ?? "", version: $0[1] ?? "") }
    }

    private static func literal(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }

    public func result(_ name: String) -> QueryResult { results[name] ?? QueryResult(columns: [], rows: []) }
}

extension QueryResult {
    /// The values of column `name` (nil where NULL or when there is no such column).
    func column(_ name: String) -> [String?] {
        guard let i = columns.firstIndex(of: name) else { return rows.map { _ in nil } }
        return rows.map { $0[i] }
    }

    /// Row `r`'s value of column `name`.
    func value(_ r: Int, _ name: String) -> String? {
        guard let i = columns.firstIndex(of: name), r < rows.count else { return nil }
        return rows[r][i]
    }
}
