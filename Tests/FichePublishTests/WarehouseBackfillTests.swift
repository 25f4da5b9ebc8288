// Backfills against the real PostgreSQL: only the named months change, new dimension rows
// arrive, the aggregates follow, and a repeat changes nothing.

import FicheLake
import FicheWarehouse
@testable import FichePublish
import Foundation
import Testing

/// A digest of a table's rows in the given months (all rows when `months` is nil).
func digest(_ c: PostgresConnection, _ schema: String, _ table: String, months: [Int]? = nil, where condition: String? = nil) throws -> String {
    let filter = months.map { "WHERE date_key / 100 IN (\($0.map(String.init).joined(separator: ",")))" } ?? condition.map { "WHERE " + $0 } ?? ""
    return try c.scalar("SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM \(schema).\(table) t \(filter)") ?? ""
}

@Suite struct WarehouseBackfillTests {
    /// Monthly partitions (partitionRows 0), and all four sparse months in one partition, whose
    /// other months' rows the backfill carries over.
    @Test(arguments: [0, 100_000])
    func backfillReplacesOnlyItsMonthsAndIsRepeatable(partitionRows: Int) throws {
        let schema = TestDatabase.uniqueSchema("t_backfill")
        defer { TestDatabase.drop(schema) }
        let all = [201412, 201501, 201502, 201503]
        let a = WarehouseFixture(seed: 10, patients: 40, months: all)
        func options(_ schema: String) -> PublishOptions {
            var o = FichePublishTests.options(schema)
            o.partitionRows = partitionRows
            return o
        }
        try WarehousePublisher.publish(tables: a.tables, to: TestDatabase.target(), options: options(schema))
        let firstUnit = partitionRows == 0 ? "p201501" : "p201412_201503"
        let c = try TestDatabase.connect()
        let partitioned = WarehouseDDL.partitionedTables
        var before: [String: String] = [:]
        for t in partitioned { before[t] = try digest(c, schema, t, months: [201412, 201503]) }
        let dimsBefore = try digest(c, schema, Warehouse.dimPatient)

        // New data for 201501 and 201502: other encounter types and reports, 7 extra
        // encounters in 201502, and 5 more patients. It also carries 201412 rows, which must be ignored.
        let b = WarehouseFixture(seed: 10, patients: 45, months: all, variant: 1, extraEncountersIn: 201502)
        let backfill = [201501, 201502]
        try WarehousePublisher.publishBackfill(tables: b.tables, months: backfill, to: TestDatabase.target(), options: options(schema))

        for t in partitioned {
            #expect(try digest(c, schema, t, months: [201412, 201503]) == before[t], "\(t): other months untouched")
        }
        // The backfilled months hold exactly b's rows: compare with b published on its own.
        let reference = TestDatabase.uniqueSchema("t_backfill_ref")
        defer { TestDatabase.drop(reference) }
        try WarehousePublisher.publish(tables: b.tables, to: TestDatabase.target(), options: options(reference))
        for t in partitioned {
            #expect(try digest(c, schema, t, months: backfill) == digest(c, reference, t, months: backfill), "\(t): backfilled months")
        }
        #expect(try c.scalar("SELECT count(*) FROM \(schema).fact_encounters WHERE date_key / 100 = 201502") == "37")
        // Existing patients keep their rows; the 5 new ones are added.
        #expect(try c.scalar("SELECT count(*) FROM \(schema).dim_patient") == "45")
        #expect(try digest(c, schema, Warehouse.dimPatient, where: "patient_key <= 40") == dimsBefore)
        // Aggregates follow the new months.
        #expect(try c.scalar("SELECT total_encounters FROM \(schema).mv_monthly_encounters WHERE year = 2015 AND month = 2") == "37")
        // … exactly as a reference computed in Swift from the live fact, bridges and dimensions
        // has them (not the SQL text the backfill and refresh_all_warehouse_views() share).
        let expectedAggregates = try AggregateReference.compute(c, schema)
        #expect(expectedAggregates["mv_monthly_encounters"]?.count == 4)
        #expect(try AggregateReference.published(c, schema) == expectedAggregates)
        // … and refresh_all_warehouse_views() leaves them as they are.
        try c.execute("SELECT \(schema).refresh_all_warehouse_views()")
        #expect(try AggregateReference.published(c, schema) == expectedAggregates)

        // Repeating the backfill changes nothing.
        var snapshot: [String: String] = [:]
        for (t, _) in Warehouse.tables { snapshot[t] = try digest(c, schema, t) }
        try WarehousePublisher.publishBackfill(tables: b.tables, months: backfill, to: TestDatabase.target(), options: options(schema))
        for (t, _) in Warehouse.tables { #expect(try digest(c, schema, t) == snapshot[t], "\(t) after a repeat") }
        // Partitions stayed partitions of the live tables, with their keys.
        #expect(try c.scalar("SELECT count(*) FROM pg_inherits WHERE inhparent = $1::regclass", ["\(schema).fact_encounters"]) == (partitionRows == 0 ? "5" : "2"))
        #expect(try c.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = $1", [schema + "_backfill"]) == "0")
        // The new month's dimension keys were adopted by the parent's (checked once, not twice).
        #expect(try c.scalar("SELECT count(*) || '/' || count(*) FILTER (WHERE conparentid <> 0) FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'f' AND confrelid::regclass::text LIKE '%dim%'",
                             ["\(schema).fact_encounters_\(firstUnit)"]) == "3/3")
    }

    @Test func backfillOfANewMonthAddsItsPartition() throws {
        let schema = TestDatabase.uniqueSchema("t_backfill_new")
        defer { TestDatabase.drop(schema) }
        try WarehousePublisher.publish(tables: WarehouseFixture(seed: 11, months: [201501]).tables, to: TestDatabase.target(), options: options(schema))
        let more = WarehouseFixture(seed: 11, months: [201501, 201601])
        try WarehousePublisher.publishBackfill(tables: more.tables, months: [201601], to: TestDatabase.target(), options: options(schema))
        let c = try TestDatabase.connect()
        #expect(try c.scalar("SELECT count(*) FROM \(schema).fact_encounters_p201601") == "30")
        #expect(try c.scalar("SELECT count(*) FROM \(schema).dim_time WHERE year = 2016") == "366")
        #expect(try c.scalar("SELECT count(*) FROM \(schema).fact_encounters_default") == "0")
    }

    /// The backfill's month-of-a-date_key expression agrees with the partitions' bounds for
    /// every key around two year ends, day 00 and impossible months included.
    @Test func partitionMonthExpressionMatchesThePartitionBounds() throws {
        let c = try TestDatabase.connect()
        let months = try c.query("SELECT k, \(WarehouseDDL.partitionMonthExpression("k")) FROM generate_series(20141100, 20160250) k")
        #expect(months.rows.count == 20160250 - 20141100 + 1)
        var wrong: [String] = []
        for row in months.rows {
            guard let k = Int(row[0] ?? ""), let m = Int(row[1] ?? "") else { wrong.append("\(row)"); continue }
            let b = WarehouseDDL.partitionBounds(month: m)
            if !(b.from <= k && k < b.to) { wrong.append("\(k) → \(m)") }
        }
        #expect(wrong.isEmpty, "keys outside their month's bounds: \(wrong.prefix(5))")
    }

    /// A reader querying throughout backfills sees the months before or after, never a mix:
    /// the fact's row count always equals the aggregates' total (they are swapped together),
    /// and every sample is one of the two states.
    @Test func readersDuringBackfillsSeeTheMonthsBeforeOrAfterNeverAMix() throws {
        let schema = TestDatabase.uniqueSchema("t_backfill_read")
        defer { TestDatabase.drop(schema) }
        let months = [201501, 201502, 201503]
        let a = WarehouseFixture(seed: 30, patients: 60, encountersPerMonth: 300, months: months)
        let b = WarehouseFixture(seed: 30, patients: 60, encountersPerMonth: 300, months: months, variant: 1, extraEncountersIn: 201502)
        try WarehousePublisher.publish(tables: a.tables, to: TestDatabase.target(), options: options(schema))
        let backfill = { (f: WarehouseFixture) in
            _ = try WarehousePublisher.publishBackfill(tables: f.tables, months: [201502], to: TestDatabase.target(), options: options(schema))
        }
        let c = try TestDatabase.connect()
        // The two states (dimension rows only grow, so settle them first).
        try backfill(b)
        try backfill(a)
        let stateA = try liveCounts(c, schema)
        try backfill(b)
        let stateB = try liveCounts(c, schema)
        #expect(stateA != stateB)
        #expect(stateA[0] == stateA[4] && stateB[0] == stateB[4], "fact rows = the aggregates' total")

        let seen = Observations()
        let done = Flag()
        let reader = Thread {
            guard let c = try? TestDatabase.connect("fiche test reader") else { seen.fail("reader could not connect"); return }
            while !done.isSet {
                do { seen.add(try liveCounts(c, schema)) } catch { seen.fail("\(error)") }
            }
        }
        reader.start()
        for fixture in [a, b, a, b, a] { try backfill(fixture) }
        done.set()
        while !seen.finished(reader) { Thread.sleep(forTimeInterval: 0.01) }
        #expect(seen.errors.isEmpty, "reader errors: \(seen.errors.prefix(3))")
        #expect(seen.samples.count > 10, "the reader ran throughout")
        let unexpected = seen.samples.filter { $0 != stateA && $0 != stateB }
        #expect(unexpected.isEmpty, "a mix of months seen: \(unexpected.prefix(3))")
        #expect(Set(seen.samples).count == 2, "the reader saw both states")
        #expect(try liveCounts(c, schema) == stateA)
    }
}
