import Foundation
import FicheLake
import FicheModel
import FicheSources
import Testing
@testable import FicheWarehouse

func temporaryLake() throws -> Lake {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fiche-warehouse-\(UInt64.random(in: 0...UInt64.max))").path
    return try Lake(root: dir)
}

func append(_ s: ClinicalSample, to lake: Lake, chunkRows: Int = 1 << 20) throws {
    let txn = LakeTransaction(lake: lake, source: "test", operation: "append", chunkRows: chunkRows)
    let input = s.input
    for (name, batch) in [(ClinicalModel.facilities, input.facilities), (ClinicalModel.patients, input.patients),
                          (ClinicalModel.encounters, input.encounters), (ClinicalModel.procedures, input.procedures),
                          (ClinicalModel.diagnosisCodes, input.diagnosisCodes), (ClinicalModel.diagnoses, input.diagnoses),
                          (ClinicalModel.reports, input.reports)] where batch.rowCount > 0 {
        try txn.append(batch, to: name)
    }
    try txn.commit()
}

@Suite("Warehouse build from and into a lake")
struct WarehouseLakeTests {
    @Test("a lake build matches the reference, writes the warehouse tables, and rebuilds identically")
    func lakeRoundTrip() throws {
        let lake = try temporaryLake()
        defer { try? FileManager.default.removeItem(atPath: lake.root) }
        let sample = ClinicalSample.random(seed: 101, patients: 80, encounters: 400)
        try append(sample, to: lake, chunkRows: 97)
        let built = try buildWarehouse(lake: lake)
        var refKeys = ReferenceKeys()
        expectMatchesReference(built, ReferenceWarehouse.build(sample, keys: &refKeys))
        #expect(built.report.seconds("read and decode") != nil)
        try writeWarehouse(built, to: lake)
        for (name, batch) in built.tables {
            let stored = try lake.table(name).snapshot().readAll()
            #expect(stored.schema == batch.schema)
            #expect(rows(of: stored) == rows(of: batch), "\(name) as stored in the lake")
        }
        // The registry now holds every key: a second build gives the very same tables.
        let registry = try loadKeyRegistry(lake: lake)
        #expect(registry.patients.ids.count == Set(sample.patients.map(\.id)).count)
        #expect(registry.newCount == 0)
        let again = try buildWarehouse(lake: lake)
        for ((n, a), (_, b)) in zip(built.tables, again.tables) {
            #expect(a.columns == b.columns, "\(n) differs on a rebuild of the same lake")
        }
        try writeWarehouse(again, to: lake)
        #expect(try lake.table(Warehouse.factEncounters).snapshot().rowCount == built.table(Warehouse.factEncounters)!.rowCount)
    }

    @Test("keys survive in the lake: an ingest of new patients keeps every old key")
    func keysPersist() throws {
        let lake = try temporaryLake()
        defer { try? FileManager.default.removeItem(atPath: lake.root) }
        let first = ClinicalSample.random(seed: 202, patients: 40, encounters: 150)
        try append(first, to: lake)
        var refKeys = ReferenceKeys()
        let built1 = try buildWarehouse(lake: lake)
        expectMatchesReference(built1, ReferenceWarehouse.build(first, keys: &refKeys))

        var later = ClinicalSample.random(seed: 203, patients: 20, encounters: 80, idSalt: 9)
        later.facilities = []
        later.codes = []
        let known = Set(later.patients.map(\.id))
        later.encounters = later.encounters.filter { known.contains($0.patient) }.map { e in
            var e = e
            e.facility = first.facilities[0].id
            return e
        }
        try append(later, to: lake)
        var combined = first
        combined.patients += later.patients
        combined.encounters += later.encounters
        combined.procedures += later.procedures
        combined.diagnoses += later.diagnoses
        combined.reports += later.reports
        let built2 = try buildWarehouse(lake: lake)
        expectMatchesReference(built2, ReferenceWarehouse.build(combined, keys: &refKeys))
        let old = Dictionary(uniqueKeysWithValues: rows(of: built1.table(Warehouse.dimPatient)!).map { ($0[1], $0[0]) })
        var kept = 0
        for row in rows(of: built2.table(Warehouse.dimPatient)!) where old[row[1]] != nil {
            #expect(old[row[1]] == row[0])
            kept += 1
        }
        #expect(kept == old.count)
    }

    @Test("a date range reads only the encounter chunks it needs and matches the reference")
    func dateRangePrunes() throws {
        let lake = try temporaryLake()
        defer { try? FileManager.default.removeItem(atPath: lake.root) }
        var sample = ClinicalSample.random(seed: 303, patients: 50, encounters: 300)
        sample.encounters.sort { $0.date < $1.date }  // so chunks cover distinct date ranges
        try append(sample, to: lake, chunkRows: 50)
        let range = ClinicalSample.day(2017, 1, 1)...ClinicalSample.day(2017, 12, 31)
        let input = try readClinicalInput(lake: lake, dateRange: range)
        #expect(input.encounters.rowCount < sample.encounters.count)
        let built = try buildWarehouse(lake: lake, options: BuildOptions(dateRange: range))
        var refKeys = ReferenceKeys()
        expectMatchesReference(built, ReferenceWarehouse.build(sample, keys: &refKeys, dateRange: range))
    }

    @Test("an empty lake builds an empty warehouse")
    func emptyLake() throws {
        let lake = try temporaryLake()
        defer { try? FileManager.default.removeItem(atPath: lake.root) }
        let built = try buildWarehouse(lake: lake)
        #expect(built.rowCount == 0)
        try writeWarehouse(built, to: lake)
        #expect(try lake.table(Warehouse.dimPatient).snapshot().schema == Warehouse.dimPatientSchema)
    }
}
