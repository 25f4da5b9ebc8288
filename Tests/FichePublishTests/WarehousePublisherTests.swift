// The nightly rebuild against the real PostgreSQL: content, in-database aggregates,
// readers during the swap, a backend killed mid-load, bad data refused up front.

import FicheLake
import FicheWarehouse
@testable import FichePublish
import Foundation
import Testing

/// Row counts of the tables a reader would join, read in one statement.
func liveCounts(_ c: PostgresConnection, _ schema: String) throws -> [String] {
    let row = try c.query("""
        SELECT (SELECT count(*) FROM \(schema).fact_encounters), (SELECT count(*) FROM \(schema).bridge_encounter_procedure),
               (SELECT count(*) FROM \(schema).bridge_encounter_diagnosis), (SELECT count(*) FROM \(schema).dim_time),
               (SELECT sum(total_encounters) FROM \(schema).mv_monthly_encounters)
        """).rows.first ?? []
    return row.map { $0 ?? "NULL" }
}

func expectedCounts(_ f: WarehouseFixture) -> [String] {
    let n = { (t: String) in String(f.batch(t)?.rowCount ?? -1) }
    return [n(Warehouse.factEncounters), n(Warehouse.bridgeEncounterProcedure), n(Warehouse.bridgeEncounterDiagnosis),
            n(Warehouse.dimTime), n(Warehouse.factEncounters)]
}

func options(_ schema: String, app: String = "fiche publish") -> PublishOptions {
    var o = PublishOptions()
    o.schema = schema
    o.applicationName = app
    return o
}

@Suite struct WarehousePublisherTests {
    @Test func publishesEveryTableWithKeysAndPartitions() throws {
        let schema = TestDatabase.uniqueSchema("t_publish")
        defer { TestDatabase.drop(schema) }
        let fixture = WarehouseFixture(seed: 1, months: [201412, 201501, 201502, 201603])
        var o = options(schema)
        o.waitForOldSchemaDrop = true
        o.partitionRows = 0  // a partition per month
        try WarehousePublisher.publish(tables: fixture.tables, to: TestDatabase.target(), options: o)  // the old schema: none yet
        let report = try WarehousePublisher.publish(tables: fixture.tables, to: TestDatabase.target(), options: o)
        #expect(report.partitions == 12)
        let c = try TestDatabase.connect()
        for (name, batch) in fixture.tables {
            #expect(try c.scalar("SELECT count(*) FROM \(schema).\(name)") == String(batch.rowCount), "\(name)")
        }
        // Month partitions hold exactly their month's rows.
        #expect(try c.scalar("SELECT count(*) FROM \(schema).fact_encounters_p201501 WHERE date_key / 100 <> 201501") == "0")
        #expect(try c.scalar("SELECT count(*) FROM \(schema).fact_encounters_p201501") == "30")
        #expect(try c.scalar("SELECT count(*) FROM \(schema).fact_encounters_default") == "0")
        // Keys and the foreign keys exist; comments too.
        #expect(try c.scalar("SELECT count(*) FROM pg_constraint WHERE connamespace = $1::regnamespace AND contype = 'f' AND NOT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = conrelid)", [schema]) == "5")
        // Each bridge month references its fact month (4 months + the default, 2 bridges).
        #expect(try c.scalar("""
            SELECT count(*) FROM pg_constraint WHERE connamespace = $1::regnamespace AND contype = 'f'
            AND replace(replace(conrelid::regclass::text, 'bridge_encounter_procedure', 'm'), 'bridge_encounter_diagnosis', 'm')
                = replace(confrelid::regclass::text, 'fact_encounters', 'm')
            """, [schema]) == "10")
        #expect(throws: PublishError.self) {
            try c.execute("INSERT INTO \(schema).bridge_encounter_procedure VALUES (1, 1, 20150105, 1)")
        }
        #expect(try c.scalar("SELECT obj_description($1::regclass)", ["\(schema).fact_encounters"])?.contains("encounter") == true)
        #expect(try c.scalar("SELECT count(*) FROM information_schema.columns c WHERE table_schema = $1 AND col_description((table_schema||'.'||table_name)::regclass, ordinal_position) IS NULL AND table_name NOT LIKE '%\\_p%' AND table_name NOT LIKE '%default'", [schema]) == "0")
        // No staging or old schema left behind.
        #expect(try c.scalar("SELECT count(*) FROM pg_namespace WHERE nspname IN ($1, $2)", [schema + "_staging", schema + "_old"]) == "0")
        // Text came through exactly.
        #expect(try c.scalar("SELECT description FROM \(schema).dim_diagnosis WHERE diagnosis_code = 'B54'") == "Malaria, unspecified\nnew line\ttab \\ back's")
    }

    @Test func sparseMonthsShareAPartitionAndBusyMonthsHaveTheirOwn() throws {
        #expect(PartitionUnit.layout([(201501, 10), (201502, 10), (201505, 10), (201506, 50), (201507, 5)], maxRows: 30)
                == [PartitionUnit(first: 201501, last: 201505), PartitionUnit(first: 201506, last: 201506), PartitionUnit(first: 201507, last: 201507)])
        #expect(PartitionUnit.layout([(201411, 1), (201502, 1)], maxRows: 0) == [PartitionUnit(month: 201411), PartitionUnit(month: 201502)])
        #expect(PartitionUnit(from: 20141100, to: 20150300) == PartitionUnit(first: 201411, last: 201502))
        #expect(PartitionUnit(first: 201411, last: 201502).months == [201411, 201412, 201501, 201502])
        let schema = TestDatabase.uniqueSchema("t_units")
        defer { TestDatabase.drop(schema) }
        // 30 encounters a month: with at most 70 rows a partition, two months share one (the
        // empty months between 201502 and 201603 too).
        let fixture = WarehouseFixture(seed: 1, months: [201412, 201501, 201502, 201603])
        var o = options(schema)
        o.partitionRows = 70
        let report = try WarehousePublisher.publish(tables: fixture.tables, to: TestDatabase.target(), options: o)
        #expect(report.partitions == 6)
        let c = try TestDatabase.connect()
        #expect(try WarehousePublisher.liveUnits(c, live: SQLIdentifier(schema))
                == [PartitionUnit(first: 201412, last: 201501), PartitionUnit(first: 201502, last: 201603)])
        #expect(try c.scalar("SELECT count(*) FROM \(schema).fact_encounters_p201502_201603") == "60")
        #expect(try c.scalar("SELECT count(*) FROM \(schema).bridge_encounter_procedure_p201412_201501 WHERE date_key / 100 NOT IN (201412, 201501)") == "0")
        #expect(try liveCounts(c, schema) == expectedCounts(fixture))
        // A bridge row cannot reference an encounter of another partition.
        #expect(throws: PublishError.self) {
            try c.execute("INSERT INTO \(schema).bridge_encounter_procedure SELECT encounter_key, 1, 20150105, 1 FROM \(schema).fact_encounters WHERE date_key / 100 = 201502 LIMIT 1")
        }
    }

    @Test func publishedAggregatesEqualTheInDatabaseRecomputation() throws {
        let schema = TestDatabase.uniqueSchema("t_mv")
        defer { TestDatabase.drop(schema) }
        let fixture = WarehouseFixture(seed: 2, patients: 60, encountersPerMonth: 40, months: [201511, 201512, 201601, 201602])
        try WarehousePublisher.publish(tables: fixture.tables, to: TestDatabase.target(), options: options(schema))
        let c = try TestDatabase.connect()
        let mvs = [Warehouse.mvMonthlyEncounters, Warehouse.mvDiagnosisByAgeGroup, Warehouse.mvProcedureVolume]
        for mv in mvs { try c.execute("CREATE TEMP TABLE published_\(mv) AS SELECT * FROM \(schema).\(mv)") }
        try c.execute("SELECT \(schema).refresh_all_warehouse_views()")
        for mv in mvs {
            let published = try c.scalar("SELECT count(*) FROM published_\(mv)")
            #expect(published != "0", "\(mv) is not empty")
            #expect(try c.scalar("SELECT count(*) FROM \(schema).\(mv)") == published, "\(mv) row count")
            let diff = try c.scalar("""
                SELECT count(*) FROM ((TABLE published_\(mv) EXCEPT ALL TABLE \(schema).\(mv))
                                UNION ALL (TABLE \(schema).\(mv) EXCEPT ALL TABLE published_\(mv))) d
                """)
            #expect(diff == "0", "\(mv) differs from refresh_all_warehouse_views()")
        }
    }

    @Test func nulByteIsRefusedBeforeAnythingIsPublished() throws {
        let schema = TestDatabase.uniqueSchema("t_nul")
        defer { TestDatabase.drop(schema) }
        let good = WarehouseFixture(seed: 3, months: [201501])
        try WarehousePublisher.publish(tables: good.tables, to: TestDatabase.target(), options: options(schema))
        var bad = WarehouseFixture(seed: 3, months: [201501, 201502])
        let i = try #require(bad.tables.firstIndex { $0.name == Warehouse.dimFacility })
        var names = StringArray(["a", "b", "c\u{0}d", "e"])
        names.reserveCapacity(rows: 4, bytes: 8)
        bad.tables[i].batch.columns[3] = Column(.string(names))
        #expect {
            try WarehousePublisher.publish(tables: bad.tables, to: TestDatabase.target(), options: options(schema))
        } throws: { e in
            "\(e)".contains("table dim_facility, column facility_name, row 2") && "\(e)".contains("NUL")
        }
        let c = try TestDatabase.connect()
        #expect(try liveCounts(c, schema) == expectedCounts(good))
        #expect(try c.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = $1", [schema + "_staging"]) == "0")
    }

    @Test func readersDuringRebuildsSeeTheOldOrTheNewWarehouseNeverAMix() throws {
        let schema = TestDatabase.uniqueSchema("t_swap")
        defer { TestDatabase.drop(schema) }
        let a = WarehouseFixture(seed: 4, patients: 80, encountersPerMonth: 200, months: [201501, 201502, 201503])
        let b = WarehouseFixture(seed: 5, patients: 80, encountersPerMonth: 150, months: [201501, 201502, 201503, 201504, 201505])
        try WarehousePublisher.publish(tables: a.tables, to: TestDatabase.target(), options: options(schema))
        let allowed = [expectedCounts(a), expectedCounts(b)]
        #expect(allowed[0] != allowed[1])
        let seen = Observations()
        let done = Flag()
        let reader = Thread {
            guard let c = try? TestDatabase.connect("fiche test reader") else { seen.fail("reader could not connect"); return }
            while !done.isSet {
                do { seen.add(try liveCounts(c, schema)) } catch { seen.fail("\(error)") }
            }
        }
        reader.start()
        for fixture in [b, a, b, a] {
            try WarehousePublisher.publish(tables: fixture.tables, to: TestDatabase.target(), options: options(schema))
        }
        done.set()
        while !seen.finished(reader) { Thread.sleep(forTimeInterval: 0.01) }
        #expect(seen.errors.isEmpty, "reader errors: \(seen.errors.prefix(3))")
        #expect(seen.samples.count > 10, "the reader ran throughout")
        let unexpected = seen.samples.filter { !allowed.contains($0) }
        #expect(unexpected.isEmpty, "partial or mixed warehouse seen: \(unexpected.prefix(3))")
        #expect(Set(seen.samples).count == 2, "the reader saw both warehouses")
    }

    @Test func backendTerminatedMidLoadLeavesTheOldWarehouseAndTheNextRunSucceeds() throws {
        let schema = TestDatabase.uniqueSchema("t_kill")
        defer { TestDatabase.drop(schema) }
        let app = "fiche publish \(schema)"
        let old = WarehouseFixture(seed: 6, months: [201501])
        try WarehousePublisher.publish(tables: old.tables, to: TestDatabase.target(), options: options(schema, app: app))
        let big = WarehouseFixture(seed: 7, patients: 500, encountersPerMonth: 20_000, months: Array(201501...201512))
        let killed = Flag(), finished = Flag()
        let killer = Thread {
            guard let c = try? TestDatabase.connect("fiche test killer") else { return }
            // Until the publish ends (under a sanitizer its validation alone can take a minute),
            // at most ten minutes.
            let deadline = Date().addingTimeInterval(600)
            while !finished.isSet && Date() < deadline {
                if let pid = try? c.scalar("SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'COPY%' AND state = 'active' LIMIT 1", [app]),
                   (try? c.scalar("SELECT pg_terminate_backend($1::int)", [pid])) == "t" {
                    killed.set()
                    return
                }
                Thread.sleep(forTimeInterval: 0.005)
            }
        }
        killer.start()
        #expect {
            defer { finished.set() }
            try WarehousePublisher.publish(tables: big.tables, to: TestDatabase.target(), options: options(schema, app: app))
        } throws: { e in
            (e as? PublishError)?.isConnectionLoss == true
        }
        #expect(killed.isSet)
        let c = try TestDatabase.connect()
        #expect(try liveCounts(c, schema) == expectedCounts(old), "the old warehouse is intact")
        // The next run succeeds (and clears the leftover staging schema).
        let next = WarehouseFixture(seed: 8, months: [201501, 201502])
        try WarehousePublisher.publish(tables: next.tables, to: TestDatabase.target(), options: options(schema, app: app))
        #expect(try liveCounts(c, schema) == expectedCounts(next))
    }

    @Test func aBridgeRowInAMonthWithoutEncountersIsRefusedUpFront() throws {
        var fixture = WarehouseFixture(seed: 13, months: [201501])
        let i = try #require(fixture.tables.firstIndex { $0.name == Warehouse.bridgeEncounterDiagnosis })
        var batch = fixture.tables[i].batch
        guard case .int32(var keys) = batch.columns[2].values, !keys.isEmpty else { Issue.record("no bridge rows"); return }
        keys[0] = 20990105
        batch.columns[2] = Column(.int32(keys))
        fixture.tables[i].batch = batch
        #expect {
            try WarehousePublisher.publish(tables: fixture.tables, to: TestDatabase.target(), options: options("t_never_created"))
        } throws: { e in
            "\(e)" == "table bridge_encounter_diagnosis, row 0: date_key in 2099-01, a month without encounters in fact_encounters"
        }
    }

    @Test func aSecondPublisherWithNoWaitFailsClearly() throws {
        let schema = TestDatabase.uniqueSchema("t_lock")
        defer { TestDatabase.drop(schema) }
        let holder = try TestDatabase.connect()
        try holder.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", ["fiche publish \(schema)"])
        var o = options(schema)
        o.waitForLock = false
        #expect {
            try WarehousePublisher.publish(tables: WarehouseFixture(seed: 9, months: [201501]).tables, to: TestDatabase.target(), options: o)
        } throws: { e in
            (e as? PublishError)?.kind == .busy && "\(e)".contains("another publisher")
        }
    }

    @Test func sqlWarehouseFileIsTheGeneratedDDL() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let file = try String(contentsOf: repo.appendingPathComponent("sql/warehouse.sql"), encoding: .utf8)
        #expect(file == WarehouseDDL.script(liveSchema: try SQLIdentifier("warehouse")), "regenerate with: fiche publish --print-ddl > sql/warehouse.sql")
    }
}

/// What the concurrent reader saw.
final class Observations: @unchecked Sendable {
    private let lock = NSLock()
    private var _samples: [[String]] = []
    private var _errors: [String] = []
    var samples: [[String]] { lock.withLock { _samples } }
    var errors: [String] { lock.withLock { _errors } }
    func add(_ s: [String]) { lock.withLock { _samples.append(s) } }
    func fail(_ e: String) { lock.withLock { _errors.append(e) } }
    func finished(_ t: Thread) -> Bool { t.isFinished }
}

final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
