// The analytics queries run against a published warehouse and answer what the fixture holds.

import FicheWarehouse
@testable import FichePublish
import Foundation
import Testing

@Suite struct AnalyticsQueriesTests {
    @Test func everyQueryRunsAndTheOriginalQuestionsAgreeWithTheData() throws {
        let schema = TestDatabase.uniqueSchema("t_report")
        defer { TestDatabase.drop(schema) }
        // Few patients, many encounters: most patients have 5 or more visits.
        let fixture = WarehouseFixture(seed: 12, patients: 10, encountersPerMonth: 20, months: [201501, 201502])
        try WarehousePublisher.publish(tables: fixture.tables, to: TestDatabase.target(), options: options(schema))
        let c = try TestDatabase.connect()
        try c.execute("SET search_path = \(schema)")
        var results: [String: QueryResult] = [:]
        for q in AnalyticsQueries.all { results[q.name] = try c.query(q.sql) }
        for q in AnalyticsQueries.all { #expect(results[q.name]?.rows.isEmpty == false, "\(q.name) returned rows") }

        let monthly = try #require(results["monthly_encounter_trends"])
        #expect(monthly.rows.map { $0[3] } == ["20", "20"])
        let visits = try #require(fixture.batch(Warehouse.dimPatient)?.column("total_encounters"))
        guard case .int32(let totals) = visits.values else { Issue.record("total_encounters type"); return }
        let highVolume = try #require(results["high_volume_patients"])
        #expect(highVolume.rows.count == totals.filter { $0 >= 5 }.count)
        let average = try #require(results["average_procedures_per_encounter"])
        #expect(average.rows.last?[2] == "40", "the grand total row counts every encounter")
    }

    @Test func sqlAnalyticsFileIsTheGeneratedScript() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let file = try String(contentsOf: repo.appendingPathComponent("sql/analytics_queries.sql"), encoding: .utf8)
        #expect(file == AnalyticsQueries.script(), "regenerate with: fiche report --print-sql > sql/analytics_queries.sql")
    }

    @Test func tablesAlignAndCSVQuotes() {
        let r = QueryResult(columns: ["name", "n"], rows: [["a,b", "7"], [nil, "12"], ["say \"hi\"", nil]])
        #expect(ReportFormatter.table(r) == "name       n\n--------  --\na,b        7\n          12\nsay \"hi\"\n(3 rows)\n")
        #expect(ReportFormatter.csv(r) == "name,n\r\n\"a,b\",7\r\n,12\r\n\"say \"\"hi\"\"\",\r\n")
    }
}
