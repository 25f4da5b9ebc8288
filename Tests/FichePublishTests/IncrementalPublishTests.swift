// Incremental rebuilds against the real PostgreSQL: after appends, late-arriving rows for an
// old month, a rebuild that changes nothing and a publisher killed halfway, the warehouse
// equals a full rebuild of the same tables, table for table and row for row; untouched
// partitions are the very same tables; what cannot be proved safe falls back to full.

import FicheLake
import FicheWarehouse
@testable import FichePublish
import Foundation
import Testing

/// Every warehouse table of `schema` equals `reference`'s (row counts and an ordered digest).
func expectSameWarehouse(_ c: PostgresConnection, _ schema: String, _ reference: String,
                         sourceLocation: SourceLocation = #_sourceLocation) throws {
    for (table, _) in Warehouse.tables {
        #expect(try digest(c, schema, table) == digest(c, reference, table), "\(table) differs from a full rebuild", sourceLocation: sourceLocation)
    }
}

func incremental(_ schema: String, partitionRows: Int = 100_000, app: String = "fiche publish") -> PublishOptions {
    var o = options(schema, app: app)
    o.incremental = true
    o.partitionRows = partitionRows
    o.lakeVersions = ["_keys_encounter": 1, "encounters": 1]
    return o
}

/// The oid of each partition of the fact, by name.
func partitionOids(_ c: PostgresConnection, _ schema: String) throws -> [String: String] {
    var out: [String: String] = [:]
    for row in try c.query("SELECT c.relname, c.oid::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass",
                           ["\(schema).fact_encounters"]).rows {
        if let name = row[0] ?? nil, let oid = row[1] ?? nil { out[name] = oid }
    }
    return out
}

@Suite struct IncrementalPublishTests {
    @Test(arguments: [0, 100_000])
    func appendsLateRowsAndNoChangeEqualAFullRebuild(partitionRows: Int) throws {
        let schema = TestDatabase.uniqueSchema("t_incr")
        let reference = TestDatabase.uniqueSchema("t_incr_ref")
        defer { TestDatabase.drop(schema); TestDatabase.drop(reference) }
        let c = try TestDatabase.connect()
        let months = [201501, 201502, 201503, 201504]
        let first = try WarehousePublisher.publish(tables: WarehouseFixture(seed: 30, months: months).tables, to: TestDatabase.target(),
                                                   options: incremental(schema, partitionRows: partitionRows))
        #expect(first.mode == "full" && first.note?.contains("no warehouse is published") == true)

        // 1. Appended months (and more patients).
        let appended = WarehouseFixture(seed: 30, months: months + [201505, 201506])
        let before = try partitionOids(c, schema)
        let r1 = try WarehousePublisher.publish(tables: appended.tables, to: TestDatabase.target(), options: incremental(schema, partitionRows: partitionRows))
        #expect(r1.mode == "incremental", "\(r1.note ?? "")")
        try WarehousePublisher.publish(tables: appended.tables, to: TestDatabase.target(), options: options(reference))
        try expectSameWarehouse(c, schema, reference)
        // Untouched partitions are the same tables as before (not reloaded).
        let after = try partitionOids(c, schema)
        let kept = before.filter { after[$0.key] == $0.value }.keys.sorted()
        #expect(kept.count == before.count, "every earlier partition kept: \(kept) of \(before.keys.sorted())")

        // 2. Late-arriving rows for an old month.
        let late = WarehouseFixture(seed: 30, months: months + [201505, 201506], extraEncountersIn: 201502)
        let r2 = try WarehousePublisher.publish(tables: late.tables, to: TestDatabase.target(), options: incremental(schema, partitionRows: partitionRows))
        #expect(r2.mode == "incremental", "\(r2.note ?? "")")
        #expect(r2.note?.contains(partitionRows == 0 ? "(2015-02)" : "(2015-01..2015-04)") == true, "\(r2.note ?? "")")
        try WarehousePublisher.publish(tables: late.tables, to: TestDatabase.target(), options: options(reference))
        try expectSameWarehouse(c, schema, reference)
        if partitionRows == 0 {
            let now = try partitionOids(c, schema)
            #expect(now["fact_encounters_p201501"] == after["fact_encounters_p201501"], "201501 untouched")
            #expect(now["fact_encounters_p201502"] != after["fact_encounters_p201502"], "201502 replaced")
        }

        // 3. The same build again: nothing to replace.
        let r3 = try WarehousePublisher.publish(tables: late.tables, to: TestDatabase.target(), options: incremental(schema, partitionRows: partitionRows))
        #expect(r3.mode == "incremental" && r3.note == "nothing changed" && r3.partitions == 0, "\(r3.note ?? "")")
        try expectSameWarehouse(c, schema, reference)

        // 4. Changed values in every month (same keys): all replaced, still equal.
        let variant = WarehouseFixture(seed: 30, months: months + [201505, 201506], variant: 1, extraEncountersIn: 201502)
        let r4 = try WarehousePublisher.publish(tables: variant.tables, to: TestDatabase.target(), options: incremental(schema, partitionRows: partitionRows))
        try WarehousePublisher.publish(tables: variant.tables, to: TestDatabase.target(), options: options(reference))
        try expectSameWarehouse(c, schema, reference)
        #expect(r4.note != nil)
        // The in-database recomputation agrees with the published aggregates.
        let mv = WarehouseDDL.aggregateQueries.map(\.table)
        let published = try mv.map { try digest(c, schema, $0) }
        try c.execute("SELECT \(schema).refresh_all_warehouse_views()")
        #expect(try mv.map { try digest(c, schema, $0) } == published)
    }

    @Test func whatCannotBeProvedSafeFallsBackToFullAndSaysWhy() throws {
        let schema = TestDatabase.uniqueSchema("t_fallback")
        defer { TestDatabase.drop(schema) }
        let c = try TestDatabase.connect()
        let a = WarehouseFixture(seed: 31, months: [201501, 201502])
        try WarehousePublisher.publish(tables: a.tables, to: TestDatabase.target(), options: incremental(schema))
        // A backfill changed months behind the record's back.
        try WarehousePublisher.publishBackfill(tables: a.tables, months: [201502], to: TestDatabase.target(), options: options(schema))
        let r1 = try WarehousePublisher.publish(tables: a.tables, to: TestDatabase.target(), options: incremental(schema))
        #expect(r1.mode == "full" && r1.note?.contains("backfill") == true, "\(r1.note ?? "")")
        // No record (an earlier Fiche's warehouse).
        try c.execute("DROP TABLE \(schema).\(PublishRecord.table)")
        let r2 = try WarehousePublisher.publish(tables: a.tables, to: TestDatabase.target(), options: incremental(schema))
        #expect(r2.mode == "full" && r2.note?.contains("no publish record") == true, "\(r2.note ?? "")")
        // A key registry older than the one published from.
        var older = incremental(schema)
        older.lakeVersions["_keys_encounter"] = 0
        let r3 = try WarehousePublisher.publish(tables: a.tables, to: TestDatabase.target(), options: older)
        #expect(r3.mode == "full" && r3.note?.contains("key registry") == true, "\(r3.note ?? "")")
        // Every partition changed.
        let b = WarehouseFixture(seed: 31, months: [201501, 201502], variant: 1)
        let r4 = try WarehousePublisher.publish(tables: b.tables, to: TestDatabase.target(), options: incremental(schema, partitionRows: 0))
        #expect(r4.mode == "full" && r4.note?.contains("every partition changed") == true, "\(r4.note ?? "")")
        // And after all that, a plain incremental run with no change changes nothing.
        let r5 = try WarehousePublisher.publish(tables: b.tables, to: TestDatabase.target(), options: incremental(schema, partitionRows: 0))
        #expect(r5.mode == "incremental" && r5.note == "nothing changed", "\(r5.note ?? "")")
    }

    @Test func aPublisherKilledMidwayLeavesTheOldWarehouseAndTheRerunEqualsAFullRebuild() throws {
        let schema = TestDatabase.uniqueSchema("t_incr_kill")
        let reference = TestDatabase.uniqueSchema("t_incr_kill_ref")
        defer { TestDatabase.drop(schema); TestDatabase.drop(reference) }
        let app = "fiche publish \(schema)"
        let months = Array(201501...201506)
        let a = WarehouseFixture(seed: 32, patients: 500, encountersPerMonth: 15_000, months: months)
        try WarehousePublisher.publish(tables: a.tables, to: TestDatabase.target(), options: incremental(schema, partitionRows: 0, app: app))
        let c = try TestDatabase.connect()
        let oldCounts = try liveCounts(c, schema)
        let b = WarehouseFixture(seed: 32, patients: 500, encountersPerMonth: 15_000, months: months + [201507])
        let killed = Flag()
        let killer = Thread {
            guard let k = try? TestDatabase.connect("fiche test killer") else { return }
            for _ in 0..<4000 {
                if let pid = try? k.scalar("SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'COPY%' AND state = 'active' LIMIT 1", [app]),
                   (try? k.scalar("SELECT pg_terminate_backend($1::int)", [pid])) == "t" {
                    killed.set()
                    return
                }
                Thread.sleep(forTimeInterval: 0.002)
            }
        }
        killer.start()
        #expect(throws: PublishError.self) {
            try WarehousePublisher.publish(tables: b.tables, to: TestDatabase.target(), options: incremental(schema, partitionRows: 0, app: app))
        }
        while !killer.isFinished { Thread.sleep(forTimeInterval: 0.01) }
        #expect(killed.isSet)
        #expect(try liveCounts(c, schema) == oldCounts, "the old warehouse still serves, whole")
        let rerun = try WarehousePublisher.publish(tables: b.tables, to: TestDatabase.target(), options: incremental(schema, partitionRows: 0, app: app))
        #expect(rerun.mode == "incremental", "\(rerun.note ?? "")")
        try WarehousePublisher.publish(tables: b.tables, to: TestDatabase.target(), options: options(reference))
        try expectSameWarehouse(c, schema, reference)
        #expect(try c.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = $1", [schema + "_backfill"]) == "0")
    }
}
