// The quality gates' last check, run on the loaded staging schema just before the swap:
// every warehouse table holds in PostgreSQL exactly the rows the lake's build gave it.

import FicheLake
import FicheWarehouse
import Foundation

public enum PublishedRowCounts {
    /// count(*) of every table of `expected` in `schema` (one statement), as reconciliation
    /// results named `reconciliation.postgres.<table>`.
    public static func check(_ connection: PostgresConnection, schema: SQLIdentifier, expected: [(name: String, rows: Int)],
                             config: QualityConfig) throws -> [QualityCheckResult] {
        let checked = expected.filter { config.severity(.reconciliation, name($0.name)) != .off }
        guard !checked.isEmpty else { return [] }
        let tables = try checked.map { try SQLIdentifier($0.name) }
        let sql = "SELECT " + tables.map { "(SELECT count(*) FROM \(schema.quoted).\($0.quoted))" }.joined(separator: ", ")
        let row = try connection.query(sql).rows.first ?? []
        return zip(checked, row.indices).map { table, i in
            let loaded = Int(row[i] ?? "") ?? -1
            let failing = abs(loaded - table.rows)
            return QualityCheckResult(
                name: name(table.name), rule: .reconciliation, table: table.name,
                severity: config.severity(.reconciliation, name(table.name)), failing: failing, checked: table.rows,
                expectation: "PostgreSQL holds as many \(table.name) rows as the build made from the lake",
                examples: failing == 0 ? [] : ["\(schema.name).\(table.name): count(*) = \(loaded), the build made \(table.rows)"])
        }
    }

    static func name(_ table: String) -> String { "reconciliation.postgres.\(table)" }
}
