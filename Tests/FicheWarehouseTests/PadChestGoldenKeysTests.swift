// Golden ids and keys of real PadChest rows: the UUIDs ingest derives from PadChest's own ids,
// the dedupe key of an ImageID, and the warehouse surrogate keys a build gives them. Written
// out by hand, so a change to the id derivation (which would re-key every returning patient
// and ingest every image again) or to key assignment fails here, not in a hospital.

import FicheLake
import FicheSources
import Foundation
import Testing
@testable import FicheWarehouse

@Suite("golden PadChest ids and keys")
struct PadChestGoldenKeysTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FicheSourcesTests/Fixtures").path

    func column(_ lake: Lake, _ table: String, _ key: String, _ value: String) throws -> [String: String] {
        let batch = try lake.table(table).snapshot().readAll()
        let k = try #require(batch.schema.fields.firstIndex { $0.name == key })
        let row = try #require((0..<batch.rowCount).first { batch.columns[k].text(at: $0) == value }, "\(table).\(key) = \(value)")
        var out: [String: String] = [:]
        for (i, f) in batch.schema.fields.enumerated() { out[f.name] = batch.columns[i].text(at: row) }
        return out
    }

    @Test func realRowsKeepTheirIdsAndKeysForever() throws {
        let lake = try temporaryLake()
        defer { try? FileManager.default.removeItem(atPath: lake.root) }
        _ = try PadChestIngest.run(path: Self.fixtures + "/padchest_sample.csv", lake: lake)

        // The first row of the real file: image, study, patient, report, its one label.
        // The dedupe key of an ImageID is also its procedure's id.
        #expect(PadChestIDs.imageKey("20536686640136348236148679891455886468_k6ga29.png").text == "ca29b64b-08f7-4c60-9b73-e22f6ef8d3f0")
        let p1 = try column(lake, "procedures", "source_id", "20536686640136348236148679891455886468_k6ga29.png")
        #expect(p1["procedure_id"] == "ca29b64b-08f7-4c60-9b73-e22f6ef8d3f0")
        #expect(p1["encounter_id"] == "b4898d56-e040-4c83-9cc6-c3ab079f8f59")
        let e1 = try column(lake, "encounters", "encounter_id", "b4898d56-e040-4c83-9cc6-c3ab079f8f59")
        #expect(e1["patient_id"] == "d946f512-677d-4b47-8151-2837f32dbf89")
        #expect(e1["source_id"] == "20536686640136348236148679891455886468")
        #expect(try column(lake, "patients", "patient_id", "d946f512-677d-4b47-8151-2837f32dbf89")["source_id"]
                == "839860488694292331637988235681460987")
        #expect(try column(lake, "reports", "source_id", "4765777")["report_id"] == "366948fd-75e6-4c6a-81f5-9a3f3b17eb0c")
        #expect(try column(lake, "diagnoses", "diagnosis_id", "b664a31e-1045-424b-9c84-27f798d6d11e")["code"] == "PADCHEST:normal")
        // Row 2 (a lateral view with five labels) and the DX image whose CUIs span two lines.
        #expect(try column(lake, "diagnoses", "diagnosis_id", "700d8e87-cbf9-4e30-85cc-6d08443c987f")["code"] == "J84.1")
        let dx = try column(lake, "procedures", "source_id", "105529804483623054726294337265160703666_6zn76a.png")
        #expect(dx["procedure_id"] == "3569253a-3445-4682-80dd-249e43b169ee")
        #expect(dx["encounter_id"] == "afad7155-2b3d-4acd-9bb4-0eda6fe3d0d0")
        #expect(try column(lake, "encounters", "encounter_id", "afad7155-2b3d-4acd-9bb4-0eda6fe3d0d0")["patient_id"]
                == "3d227302-1fcc-4aa8-a487-351cbc5a8eda")

        // Surrogate keys of a first build of these rows…
        try writeWarehouse(try buildWarehouse(lake: lake), to: lake)
        func keys() throws -> [String] {
            let f1 = try column(lake, Warehouse.factEncounters, "encounter_id", "b4898d56-e040-4c83-9cc6-c3ab079f8f59")
            let f2 = try column(lake, Warehouse.factEncounters, "encounter_id", "afad7155-2b3d-4acd-9bb4-0eda6fe3d0d0")
            return [f1["encounter_key"], f1["patient_key"], f2["encounter_key"], f2["patient_key"]].map { $0 ?? "nil" }
        }
        #expect(try keys() == ["1", "1", "10", "6"])
        // … kept when more patients arrive and the warehouse is built again.
        _ = try PadChestIngest.run(path: Self.fixtures + "/padchest_repeated_codes.csv", lake: lake)
        try writeWarehouse(try buildWarehouse(lake: lake), to: lake)
        #expect(try keys() == ["1", "1", "10", "6"])
        #expect(try lake.table(Warehouse.factEncounters).snapshot().rowCount == 28)
    }
}
