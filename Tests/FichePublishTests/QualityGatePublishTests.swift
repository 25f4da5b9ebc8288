// The quality gates in front of the real PostgreSQL: a broken lake stops the nightly before
// the swap, the old warehouse keeps serving, and the report names table, rule and rows.

import FicheLake
import FicheModel
import FicheSources
import FicheWarehouse
@testable import FichePublish
import Foundation
import Testing

/// A small synthetic lake, published once (the warehouse that must survive a bad night).
final class PublishedLake {
    let root: String
    let lake: Lake
    let schema: String

    init(_ label: String) throws {
        root = NSTemporaryDirectory() + "fiche-gates-\(label)-" + UUID().uuidString
        lake = try Lake(root: root)
        schema = TestDatabase.uniqueSchema("t_gates")
        _ = try SyntheticClinic(seed: 21, patients: 300, facilities: 5, blockPatients: 300).write(to: lake)
    }

    deinit {
        TestDatabase.drop(schema)
        try? FileManager.default.removeItem(atPath: root)
    }

    var options: PublishOptions {
        var o = PublishOptions()
        o.schema = schema
        o.waitForOldSchemaDrop = true
        return o
    }

    func rebuild() throws -> GatedPublishResult {
        try GatedPublish.rebuild(lake: lake, to: TestDatabase.target(), options: options, config: QualityConfig())
    }

    /// One existing encounter row, changed by `edit`, appended to the lake's encounters.
    func appendEncounter(_ edit: (inout Batch) -> Void) throws {
        var row = try lake.table(ClinicalModel.encounters).snapshot().readAll().slice(0..<1)
        edit(&row)
        let txn = LakeTransaction(lake: lake, source: "test", operation: "append")
        try txn.append(row, to: ClinicalModel.encounters)
        try txn.commit()
    }

    func liveFactRows() throws -> String? {
        try TestDatabase.connect().scalar("SELECT count(*) FROM \(schema).fact_encounters")
    }

    func stagingExists() throws -> Bool {
        try TestDatabase.connect().scalar("SELECT count(*) FROM pg_namespace WHERE nspname = $1", [schema + "_staging"]) == "1"
    }
}

func setColumn(_ batch: inout Batch, _ name: String, _ values: ColumnValues) {
    if let i = batch.schema.index(of: name) { batch.columns[i] = Column(values) }
}

@Suite(.serialized) struct QualityGatePublishTests {
    /// Publishes a good night, breaks the lake with `breakIt`, and expects the next rebuild to
    /// stop at `check` with the old warehouse still serving.
    func expectStopped(_ label: String, check: String, example: String, _ breakIt: (PublishedLake) throws -> Void) throws {
        let l = try PublishedLake(label)
        let first = try l.rebuild()
        #expect(first.quality.passed)
        #expect(first.quality.results.contains { $0.name == "reconciliation.postgres.fact_encounters" && $0.passed })
        let before = try l.liveFactRows()
        #expect(before == String(first.rows.first { $0.table == Warehouse.factEncounters }?.rows ?? -1))

        try breakIt(l)
        do {
            _ = try l.rebuild()
            Issue.record("\(label): the rebuild published a broken warehouse")
        } catch let e as QualityGateFailure {
            let failed = e.report.errors.map(\.name)
            #expect(failed.contains(check), "\(label): failed checks \(failed)")
            let result = e.report.results.first { $0.name == check }
            #expect(result?.failing == 1, "\(label)")
            #expect(result?.examples.contains { $0.contains(example) } == true, "\(label): examples \(result?.examples ?? [])")
            #expect(e.report.text().contains(check))
            #expect(e.report.json.contains("\"\(check)\""))
        }
        #expect(try l.liveFactRows() == before, "\(label): the old warehouse still serves every row")
        #expect(try !l.stagingExists(), "\(label): nothing was loaded")
    }

    @Test func anEncounterOfAnUnknownPatientStopsThePublish() throws {
        try expectStopped("orphan", check: "relationships.encounters.patient_id", example: "is not in patients") { l in
            try l.appendEncounter { b in
                setColumn(&b, "encounter_id", .uuid([.derived(99, 1)]))
                setColumn(&b, "patient_id", .uuid([.derived(99, 2)]))
            }
        }
    }

    @Test func aDuplicatedEncounterIdStopsThePublish() throws {
        try expectStopped("duplicate", check: "unique.encounters.encounter_id", example: "repeats row 0") { l in
            try l.appendEncounter { _ in }
        }
    }

    @Test func anEncounterIn2090StopsThePublish() throws {
        try expectStopped("future", check: "range.fact_encounters.date_key", example: "dated 2090-06-01") { l in
            try l.appendEncounter { b in
                setColumn(&b, "encounter_id", .uuid([.derived(99, 3)]))
                setColumn(&b, "encounter_date", .date([Int32(CivilDate.days(year: 2090, month: 6, day: 1))]))
            }
        }
    }

    @Test func aWarningReportsButPublishes() throws {
        let l = try PublishedLake("warn")
        _ = try l.rebuild()
        try l.appendEncounter { b in
            setColumn(&b, "encounter_id", .uuid([.derived(99, 4)]))
            setColumn(&b, "patient_id", .uuid([.derived(99, 5)]))
        }
        var config = try QualityConfig.parse("""
            [checks]
            "relationships.encounters.patient_id" = "warn"
            [rules]
            reconciliation = "error"
            """)
        config.examples = 2
        let result = try GatedPublish.rebuild(lake: l.lake, to: TestDatabase.target(), options: l.options, config: config)
        #expect(result.quality.passed)
        #expect(result.quality.warnings.map(\.name) == ["relationships.encounters.patient_id"])
    }

    @Test func postgresRowCountsAreReconciledBeforeTheSwap() throws {
        let l = try PublishedLake("counts")
        let published = try l.rebuild()
        let c = try TestDatabase.connect()
        let schema = try SQLIdentifier(l.schema)
        let right = try PublishedRowCounts.check(c, schema: schema, expected: published.rows.map { ($0.table, $0.rows) },
                                                 config: QualityConfig())
        #expect(right.count == Warehouse.tables.count)
        #expect(right.allSatisfy { $0.passed })
        let wrong = try PublishedRowCounts.check(c, schema: schema, expected: [(Warehouse.factEncounters, 7)], config: QualityConfig())
        #expect(wrong.first?.passed == false)
        #expect(wrong.first?.examples.first?.contains("the build made 7") == true)

        // A hook that fails before the swap leaves the live schema as it was.
        let before = try l.liveFactRows()
        var o = l.options
        o.beforeSwap = { _, _ in throw QualityGateFailure(report: QualityReport(results: wrong, seconds: 0)) }
        #expect(throws: QualityGateFailure.self) {
            try WarehousePublisher.publish(tables: try buildWarehouse(lake: l.lake).tables, to: TestDatabase.target(), options: o)
        }
        #expect(try l.liveFactRows() == before)
        #expect(try !l.stagingExists())
    }
}
