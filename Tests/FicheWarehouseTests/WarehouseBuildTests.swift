import FicheLake
import Foundation
import FicheSources
import Testing
@testable import FicheWarehouse

/// Compares every warehouse table with the reference, row for row, naming the first difference.
func expectMatchesReference(_ built: WarehouseTables, _ expected: [String: Rows],
                            sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(built.tables.map(\.name) == Warehouse.tables.map(\.name), sourceLocation: sourceLocation)
    for (name, schema) in Warehouse.tables {
        guard let batch = built.table(name) else {
            Issue.record("missing table \(name)", sourceLocation: sourceLocation)
            continue
        }
        #expect(batch.schema == schema, "\(name) schema", sourceLocation: sourceLocation)
        let got = rows(of: batch)
        let want = expected[name] ?? []
        #expect(got.count == want.count, "\(name): \(got.count) rows, reference \(want.count)", sourceLocation: sourceLocation)
        if let i = (0..<min(got.count, want.count)).first(where: { got[$0] != want[$0] }) {
            Issue.record("\(name) row \(i): got \(got[i]), reference \(want[i])", sourceLocation: sourceLocation)
        }
    }
}

@Suite("Warehouse build against the reference")
struct WarehouseBuildTests {
    @Test("seeded samples match the reference in every table", arguments: [1, 2, 3, 42, 977] as [UInt64])
    func seededSamples(seed: UInt64) throws {
        let sample = ClinicalSample.random(seed: seed, patients: 40 + Int(seed % 50), encounters: 150 + Int(seed % 300))
        var registry = KeyRegistry()
        let built = try buildWarehouse(sample.input, registry: &registry)
        var refKeys = ReferenceKeys()
        expectMatchesReference(built, ReferenceWarehouse.build(sample, keys: &refKeys))
    }

    @Test("rows in any order: shuffled children and parents take the hash path and still match")
    func shuffledRows() throws {
        var sample = ClinicalSample.random(seed: 77, patients: 300, encounters: 3_000)
        var rng = SplitMix64(seed: 77)
        sample.procedures.shuffle(using: &rng)
        sample.diagnoses.shuffle(using: &rng)
        sample.reports.shuffle(using: &rng)
        sample.encounters.shuffle(using: &rng)
        var registry = KeyRegistry()
        let built = try buildWarehouse(sample.input, registry: &registry)
        var refKeys = ReferenceKeys()
        expectMatchesReference(built, ReferenceWarehouse.build(sample, keys: &refKeys))
    }

    @Test("a sample large enough to use both cores matches the reference")
    func parallelSample() throws {
        let sample = ClinicalSample.random(seed: 7, patients: 3_000, encounters: 40_000)
        var registry = KeyRegistry()
        let built = try buildWarehouse(sample.input, registry: &registry)
        var refKeys = ReferenceKeys()
        expectMatchesReference(built, ReferenceWarehouse.build(sample, keys: &refKeys))
    }

    @Test("the edge cases are present and come out as specified")
    func edgeCases() throws {
        let sample = ClinicalSample.random(seed: 5)
        var registry = KeyRegistry()
        let built = try buildWarehouse(sample.input, registry: &registry)
        let r = built.report
        #expect(r.duplicatePatients == 1)
        #expect(r.duplicateFacilities == 1)
        #expect(r.duplicateEncounters == 1)
        #expect(r.encountersWithoutPatient == 1)
        #expect(r.encountersWithoutFacility == 1)
        #expect(r.proceduresWithoutEncounter == 1)
        #expect(r.diagnosesWithoutEncounter == 1)
        #expect(r.diagnosesWithUnknownCode == 1)
        #expect(r.reportsWithoutEncounter == 1)

        let patients = rows(of: try #require(built.table(Warehouse.dimPatient)))
        #expect(patients.contains { $0[13] == "0" && $0[11] == nullCell && $0[12] == nullCell }, "a patient without encounters")
        #expect(patients.contains { $0[4] == nullCell }, "unknown sex")
        #expect(patients.contains { $0[5] == nullCell && $0[8] == nullCell }, "unknown birth year: no age group")
        let fact = rows(of: try #require(built.table(Warehouse.factEncounters)))
        #expect(fact.contains { $0[8] == "0" && $0[9] == "0" && $0[10] == "false" }, "an encounter with nothing attached")
        #expect(fact.contains { $0[4] == "20160229" } && fact.contains { $0[4] == "20200229" }, "leap days")
        #expect(fact.contains { $0[4] == "19691231" }, "a date before 1970")
        let time = rows(of: try #require(built.table(Warehouse.dimTime)))
        // ISO weeks at year boundaries: 2015-12-31 is in week 53, 2016-01-03 too, 2016-01-04 starts week 1;
        // 2020-12-31 is week 53, 2021-01-03 week 53, 2021-01-04 week 1; 2019-12-30 is week 1 of 2020.
        let week = Dictionary(time.map { ($0[0], $0[6]) }, uniquingKeysWith: { a, _ in a })
        #expect(week["20151231"] == "53" && week["20160103"] == "53" && week["20160104"] == "1")
        #expect(week["20201231"] == "53" && week["20210103"] == "53" && week["20210104"] == "1")
        #expect(week["20191230"] == "1" && week["20181231"] == "1")
        // Every day of every year present, counted by Foundation's Gregorian calendar (not ours).
        var gregorian = Calendar(identifier: .gregorian)
        gregorian.timeZone = TimeZone(identifier: "UTC")!
        let yearDays = try Set(time.map { $0[2] }).map { year in
            let jan1 = try #require(gregorian.date(from: DateComponents(year: Int(year)!, month: 1, day: 1)))
            return try #require(gregorian.range(of: .day, in: .year, for: jan1)).count
        }
        #expect(time.count == yearDays.reduce(0, +))
        #expect(yearDays.contains(366), "a leap year among the built years")
        let ages = rows(of: try #require(built.table(Warehouse.mvDiagnosisByAgeGroup)))
        #expect(ages.contains { $0[0] == "unknown" })
    }

    @Test("an as-of date and a date range change exactly what they should", arguments: [11, 12] as [UInt64])
    func asOfAndDateRange(seed: UInt64) throws {
        let sample = ClinicalSample.random(seed: seed)
        let asOf = ClinicalSample.day(2030, 6, 15)
        let range = ClinicalSample.day(2016, 1, 1)...ClinicalSample.day(2018, 12, 31)
        var registry = KeyRegistry()
        let built = try buildWarehouse(sample.input, registry: &registry, options: BuildOptions(asOf: asOf, dateRange: range))
        var refKeys = ReferenceKeys()
        expectMatchesReference(built, ReferenceWarehouse.build(sample, keys: &refKeys, asOf: asOf, dateRange: range))
        #expect(built.report.encountersOutsideRange > 0)
        #expect(built.report.asOf == asOf)
    }

    @Test("empty input builds empty tables")
    func emptyInput() throws {
        let sample = ClinicalSample()
        var registry = KeyRegistry()
        let built = try buildWarehouse(sample.input, registry: &registry)
        #expect(built.rowCount == 0)
        #expect(built.report.asOf == nil)
    }

    @Test("keys are stable: a rebuild with new patients and encounters keeps every old key")
    func keyStability() throws {
        let first = ClinicalSample.random(seed: 21, patients: 50, encounters: 200)
        var registry = KeyRegistry()
        var refKeys = ReferenceKeys()
        let built1 = try buildWarehouse(first.input, registry: &registry)
        expectMatchesReference(built1, ReferenceWarehouse.build(first, keys: &refKeys))
        let oldPatients = Dictionary(uniqueKeysWithValues: rows(of: built1.table(Warehouse.dimPatient)!).map { ($0[1], $0[0]) })
        let oldEncounters = Dictionary(uniqueKeysWithValues: rows(of: built1.table(Warehouse.factEncounters)!).map { ($0[1], $0[0]) })
        let oldMax = oldPatients.values.compactMap { Int($0) }.max() ?? 0

        // New rows of a later ingest, with new patients placed before the old ones in the input.
        let later = ClinicalSample.random(seed: 22, patients: 30, encounters: 100, idSalt: 1)
        var second = first
        second.patients = later.patients + first.patients
        second.encounters = first.encounters + later.encounters.filter { e in later.patients.contains { $0.id == e.patient } }
        second.procedures += later.procedures
        second.diagnoses += later.diagnoses
        second.reports += later.reports
        second.facilities += later.facilities
        let built2 = try buildWarehouse(second.input, registry: &registry)
        expectMatchesReference(built2, ReferenceWarehouse.build(second, keys: &refKeys))
        let newPatients = rows(of: built2.table(Warehouse.dimPatient)!)
        for row in newPatients {
            if let old = oldPatients[row[1]] {
                #expect(row[0] == old, "patient \(row[1]) changed key")
            } else {
                #expect(Int(row[0])! > oldMax, "a new patient got a key at or below the old maximum")
            }
        }
        for row in rows(of: built2.table(Warehouse.factEncounters)!) {
            if let old = oldEncounters[row[1]] { #expect(row[0] == old) }
        }
        #expect(newPatients.count == oldPatients.count + later.patients.count - 1)
    }

    @Test("the same input gives identical output")
    func deterministic() throws {
        let sample = ClinicalSample.random(seed: 31, patients: 500, encounters: 30_000)
        var r1 = KeyRegistry(), r2 = KeyRegistry()
        let a = try buildWarehouse(sample.input, registry: &r1)
        let b = try buildWarehouse(sample.input, registry: &r2)
        for ((n1, b1), (n2, b2)) in zip(a.tables, b.tables) {
            #expect(n1 == n2)
            #expect(b1.columns == b2.columns, "\(n1) differs between two builds")
        }
    }

    @Test("a clear error for a missing column and for a date the calendar cannot take")
    func errors() throws {
        var input = ClinicalSample.random(seed: 3).input
        var registry = KeyRegistry()
        let broken = Batch(schema: Schema([Field("encounter_id", .uuid)]), columns: [Column(.uuid([]))])
        input.procedures = broken
        #expect(throws: WarehouseError.missing("procedures", "procedure_code")) {
            try buildWarehouse(input, registry: &registry)
        }
        var sample = ClinicalSample.random(seed: 3)
        sample.encounters[2].date = Int32.max
        #expect(throws: WarehouseError.self) { try buildWarehouse(sample.input, registry: &registry) }
    }
}
