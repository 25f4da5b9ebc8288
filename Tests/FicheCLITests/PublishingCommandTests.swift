// fiche rebuild, publish and publish --backfill run through the binary from a real built lake
// (real PadChest rows), against the real PostgreSQL: month parsing, the lake's month filter,
// the build's aggregates against refresh_all_warehouse_views(), JSON output, exit codes.

import FicheLake
import FichePublish
import FicheWarehouse
import Foundation
import Testing

@Suite("fiche rebuild, publish and report", .serialized)
struct PublishingCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FicheSourcesTests/Fixtures").path

    func json(_ r: FicheBinary.Result, sourceLocation: SourceLocation = #_sourceLocation) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
    }

    /// Fact rows per month (YYYYMM) of the lake's built warehouse.
    func lakeMonths(_ root: String) throws -> [Int: Int] {
        let fact = try Lake(root: root, create: false).table(Warehouse.factEncounters).snapshot().readAll(columns: ["date_key"])
        guard case .int32(let keys) = fact.columns[0].values else { throw CLIDatabaseError(message: "date_key type") }
        return keys.reduce(into: [:]) { $0[Int($1) / 100, default: 0] += 1 }
    }

    func databaseMonths(_ c: PostgresConnection, _ schema: String) throws -> [Int: Int] {
        Dictionary(uniqueKeysWithValues: try c.query("SELECT date_key / 100, count(*) FROM \(schema).fact_encounters GROUP BY 1").rows
            .map { (Int($0[0]!)!, Int($0[1]!)!) })
    }

    /// Every aggregate's rows as text, before and after refresh_all_warehouse_views(): what the
    /// build computed in Swift must be what PostgreSQL's own SQL computes from the published rows.
    func expectAggregatesEqualRefresh(_ c: PostgresConnection, _ schema: String, _ label: String,
                                      sourceLocation: SourceLocation = #_sourceLocation) throws {
        func snapshot() throws -> [String] {
            try ["mv_monthly_encounters", "mv_diagnosis_by_age_group", "mv_procedure_volume"].map {
                try c.scalar("SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM \(schema).\($0) t") ?? ""
            }
        }
        let published = try snapshot()
        #expect(published.allSatisfy { !$0.hasPrefix("0:") }, "\(label): empty aggregates", sourceLocation: sourceLocation)
        try c.execute("SELECT \(schema).refresh_all_warehouse_views()")
        #expect(try snapshot() == published, "\(label): the build's aggregates differ from refresh_all_warehouse_views()",
                sourceLocation: sourceLocation)
    }

    @Test func rebuildPublishAndBackfillFromABuiltLake() throws {
        let root = try scratchDirectory("publishing") + "/lake"
        let url = try CLIDatabase.url.get()
        let schema = CLIDatabase.uniqueSchema("t_cli_publish")
        defer { CLIDatabase.drop(schema) }
        #expect(try FicheBinary.run(["ingest", "padchest", "--lake", root, Self.fixtures + "/padchest_sample.csv"]).status == 0)
        #expect(try FicheBinary.run(["generate", "--lake", root, "--patients", "40", "--seed", "23"]).status == 0)
        let c = try CLIDatabase.connect()

        // rebuild: build in memory and publish, JSON summary.
        let rebuild = try FicheBinary.run(["rebuild", "--lake", root, "--schema", schema, "--database", url, "--json"])
        #expect(rebuild.status == 0, "\(rebuild.stderr)")
        let summary = try #require(try json(rebuild) as? [String: Any])
        #expect(summary["schema"] as? String == schema)
        let tables = try #require(summary["tables"] as? [[String: Any]])
        #expect(Set(tables.compactMap { $0["table"] as? String }) == Set(Warehouse.tables.map(\.name)))
        let factRows = try #require(tables.first { $0["table"] as? String == "fact_encounters" }?["rows"] as? Int)
        #expect(try c.scalar("SELECT count(*) FROM \(schema).fact_encounters") == String(factRows))
        try expectAggregatesEqualRefresh(c, schema, "rebuild")

        // publish: what `fiche build` wrote to the lake, as it is.
        #expect(try FicheBinary.run(["build", "--lake", root]).status == 0)
        let before = try lakeMonths(root)
        #expect(before.values.reduce(0, +) == factRows)
        let publish = try FicheBinary.run(["publish", "--lake", root, "--schema", schema, "--database", url, "--json"])
        #expect(publish.status == 0, "\(publish.stderr)")
        #expect((try json(publish) as? [String: Any])?["rows"] as? Int ?? 0 > factRows)
        #expect(try databaseMonths(c, schema) == before)
        try expectAggregatesEqualRefresh(c, schema, "publish")

        // New real rows in three months (2009-01, 2013-10, 2015-04), built into the lake.
        #expect(try FicheBinary.run(["ingest", "padchest", "--lake", root, Self.fixtures + "/padchest_repeated_codes.csv"]).status == 0)
        #expect(try FicheBinary.run(["build", "--lake", root]).status == 0)
        let after = try lakeMonths(root)
        #expect(after[201504] == (before[201504] ?? 0) + 1 && after[201310] == (before[201310] ?? 0) + 1
                && after[200901] == (before[200901] ?? 0) + 1, "\(after)")

        // A backfill of one month takes just that month from the lake.
        let one = try FicheBinary.run(["publish", "--lake", root, "--schema", schema, "--database", url, "--backfill", "2015-04"])
        #expect(one.status == 0, "\(one.stderr)")
        var expected = before
        expected[201504] = after[201504]
        #expect(try databaseMonths(c, schema) == expected, "only 2015-04 replaced")
        try expectAggregatesEqualRefresh(c, schema, "backfill 2015-04")

        // A range across years: 2009-01 … 2013-10 inclusive, both ends.
        let range = try FicheBinary.run(["publish", "--lake", root, "--schema", schema, "--database", url,
                                         "--backfill", "2009-01..2013-10", "--json"])
        #expect(range.status == 0, "\(range.stderr)")
        #expect(try json(range) is [String: Any])
        #expect(try databaseMonths(c, schema) == after, "every month now as in the lake")
        try expectAggregatesEqualRefresh(c, schema, "backfill 2009-01..2013-10")

        // Month ranges that cannot be: usage errors (exit 2) naming the flag, nothing changed.
        for bad in ["2015-4", "2015-13", "2015-00", "15-04", "2015-05..2015-01", "2015-01..", "april"] {
            let r = try FicheBinary.run(["publish", "--lake", root, "--schema", schema, "--database", url, "--backfill", bad])
            #expect(r.status == 2, "--backfill \(bad): \(r.stderr)")
            #expect(r.stderr.contains("--backfill"), "--backfill \(bad): \(r.stderr)")
        }
        #expect(try databaseMonths(c, schema) == after)

        // report: JSON parsed, every query answered.
        let report = try FicheBinary.run(["report", "--schema", schema, "--database", url, "--format", "json"])
        #expect(report.status == 0, "\(report.stderr)")
        let answers = try #require(try json(report) as? [[String: Any]])
        let known = Set(AnalyticsQueries.all.map(\.name))
        #expect(answers.count >= 4, "at least the original four questions")
        #expect(answers.allSatisfy { ($0["query"] as? String).map(known.contains) == true && $0["rows"] is [Any] }, "\(answers)")

        // A warehouse published by an older fiche (no diagnosis quantity yet): a backfill says
        // to publish it whole first and changes nothing; a whole publish then a backfill work.
        try c.execute("ALTER TABLE \(schema).bridge_encounter_diagnosis DROP COLUMN quantity")
        let old = try c.scalar("SELECT count(*) FROM \(schema).fact_encounters")
        let refused = try FicheBinary.run(["publish", "--lake", root, "--schema", schema, "--database", url, "--backfill", "2015-04"])
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("bridge_encounter_diagnosis") && refused.stderr.contains("publish it whole once"), "\(refused.stderr)")
        #expect(try c.scalar("SELECT count(*) FROM \(schema).fact_encounters") == old)
        #expect(try FicheBinary.run(["publish", "--lake", root, "--schema", schema, "--database", url]).status == 0)
        #expect(try FicheBinary.run(["publish", "--lake", root, "--schema", schema, "--database", url, "--backfill", "2015-04"]).status == 0)
    }

    @Test func exitCodesOfPublishRebuildReportAndVacuum() throws {
        let url = try CLIDatabase.url.get()
        let (host, port) = try CLIDatabase.address()
        let root = try scratchDirectory("exit-codes") + "/lake"
        #expect(try FicheBinary.run(["generate", "--lake", root, "--patients", "20", "--seed", "2"]).status == 0)
        #expect(try FicheBinary.run(["build", "--lake", root]).status == 0)
        let absent = CLIDatabase.uniqueSchema("t_absent")
        let nowhere = "host=\(host) port=\(port) user=fiche dbname=no_such_database_here"
        let cases: [(arguments: [String], status: Int32, says: String)] = [
            (["publish", "--lake", "/nonexistent/lake", "--database", url], 1, "no lake at /nonexistent/lake"),
            (["publish", "--lake", root, "--schema", absent, "--database", nowhere], 1, "no_such_database_here"),
            (["publish", "--lake", root, "--schema", "Bad-Name", "--database", url], 2, "--schema"),
            (["publish", "--lake", root, "--bogus-flag"], 2, "--bogus-flag"),
            (["rebuild", "--lake", "/nonexistent/lake", "--database", url], 1, "no lake at /nonexistent/lake"),
            (["rebuild", "--lake", root, "--schema", absent, "--database", nowhere], 1, "could not connect"),
            (["rebuild", "--lake", root, "--schema", "1starts_with_digit"], 2, "--schema"),
            (["report", "--schema", absent, "--database", url], 1, "no published warehouse in schema \(absent)"),
            (["report", "--schema", absent, "--database", nowhere], 1, "could not connect"),
            (["report", "--format", "xml", "--database", url], 2, "--format"),
            (["report", "--query", "no_such_question", "--database", url], 2, "no_such_question"),
            (["vacuum", "--lake", "/nonexistent/lake"], 1, "no lake at /nonexistent/lake"),
            (["vacuum", "--lake", root, "--retain", "5x"], 2, "--retain"),
            (["vacuum", "--lake", root, "--retain", "-1"], 2, "--retain"),
            (["vacuum", "--lake", root, "--dry-run"], 0, "would free"),
            (["vacuum", "--lake", root], 0, "freed"),
        ]
        for c in cases {
            let r = try FicheBinary.run(c.arguments)
            #expect(r.status == c.status, "\(c.arguments): exit \(r.status), stderr \(r.stderr)")
            #expect((r.status == 0 ? r.stdout : r.stderr).contains(c.says), "\(c.arguments): \(r.stdout) \(r.stderr)")
            if r.status == 1 { #expect(r.stderr.hasPrefix("fiche: error: "), "\(c.arguments): one clear line: \(r.stderr)") }
        }
        // A successful rebuild and report exit 0 (and the report command leaves the lake alone).
        let schema = CLIDatabase.uniqueSchema("t_exit")
        defer { CLIDatabase.drop(schema) }
        #expect(try FicheBinary.run(["rebuild", "--lake", root, "--schema", schema, "--database", url]).status == 0)
        #expect(try FicheBinary.run(["report", "--schema", schema, "--database", url]).status == 0)
    }
}
