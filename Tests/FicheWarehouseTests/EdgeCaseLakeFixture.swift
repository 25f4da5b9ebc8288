// The awkward-case clinical sample (ClinicalSample.swift: duplicated ids and codes, orphaned
// encounters and rows, unknown codes, leap days, ISO-week and year boundaries, dates before
// 1970) appended to a real lake, for suites outside Swift: scripts/test.d/60-spark builds
// that lake with `fiche build` and with Spark and compares the warehouses. Without
// FICHE_EDGE_CASE_LAKE it writes a temporary lake and checks it reads back whole.

import Foundation
import FicheLake
import FicheModel
import FicheSources
import Testing
@testable import FicheWarehouse

@Suite("Edge-case lake fixture")
struct EdgeCaseLakeFixture {
    @Test("the awkward-case sample lands in the lake named by FICHE_EDGE_CASE_LAKE, small chunks, every row")
    func appendEdgeCases() throws {
        let target = ProcessInfo.processInfo.environment["FICHE_EDGE_CASE_LAKE"]
        let lake = try target.map { try Lake(root: $0) } ?? temporaryLake()
        defer { if target == nil { try? FileManager.default.removeItem(atPath: lake.root) } }
        let before = try rowCounts(lake)
        let sample = ClinicalSample.random(seed: 4242, patients: 80, encounters: 400, idSalt: 7)
        // Chunks of 97 rows: a table spans several chunks, so lake order crosses chunk boundaries.
        try append(sample, to: lake, chunkRows: 97)
        let after = try rowCounts(lake)
        let input = sample.input
        #expect(after[ClinicalModel.encounters, default: 0] - before[ClinicalModel.encounters, default: 0] == input.encounters.rowCount)
        #expect(after[ClinicalModel.patients, default: 0] - before[ClinicalModel.patients, default: 0] == input.patients.rowCount)
        #expect(after[ClinicalModel.diagnoses, default: 0] - before[ClinicalModel.diagnoses, default: 0] == input.diagnoses.rowCount)
    }

    private func rowCounts(_ lake: Lake) throws -> [String: Int] {
        var out: [String: Int] = [:]
        for name in [ClinicalModel.patients, ClinicalModel.encounters, ClinicalModel.diagnoses] {
            out[name] = try lake.table(name).snapshot().rowCount
        }
        return out
    }
}
