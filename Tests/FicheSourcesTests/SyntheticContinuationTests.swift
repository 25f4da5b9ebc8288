// `fiche generate --days N`: the clinic in the lake goes on, deterministically.

import FicheLake
import FicheModel
import Foundation
import Testing

@testable import FicheSources

@Suite struct SyntheticContinuationTests {
    func continueBy(_ days: Int, _ lake: Lake) throws -> SyntheticWriteSummary {
        let state = try SyntheticContinuation.state(of: lake, blockPatients: 150)
        return try SyntheticContinuation(clinic: state.clinic, basePatients: state.basePatients, after: state.lastDay, days: days)
            .write(to: lake)
    }

    /// Every row of a table as sorted CSV-ish lines (order-free comparison).
    func rows(_ lake: Lake, _ table: String) throws -> [String] {
        let b = try lake.table(table).snapshot().readAll()
        return (0..<b.rowCount).map { r in b.columns.map { $0.text(at: r) ?? "∅" }.joined(separator: "|") }.sorted()
    }

    @Test func twoDaysThenThreeIsFiveDaysAndTheSameForTheSameLake() throws {
        let a = try ScratchLake(), b = try ScratchLake(), c = try ScratchLake()
        let clinic = try SyntheticClinic(seed: 9, patients: 400, facilities: 6, blockPatients: 150)
        _ = try clinic.write(to: a.lake)
        _ = try clinic.write(to: b.lake)
        _ = try clinic.write(to: c.lake)
        _ = try continueBy(2, a.lake)
        let three = try continueBy(3, a.lake)
        let five = try continueBy(5, b.lake)
        _ = try continueBy(5, c.lake)
        #expect(five.patients == three.patients)
        for t in SyntheticClinic.tableNames {
            #expect(try rows(a.lake, t) == rows(b.lake, t), "\(t): 2 + 3 days = 5 days")
            #expect(try rows(b.lake, t) == rows(c.lake, t), "\(t): same seed, same lake, same rows")
        }
    }

    @Test func newRowsComeAfterTheLastDayAndHangTogether() throws {
        let s = try ScratchLake()
        let clinic = try SyntheticClinic(seed: 4, patients: 2_000, facilities: 8, blockPatients: 700)
        _ = try clinic.write(to: s.lake)
        let before = try s.lake.table(ClinicalModel.encounters).snapshot().readAll()
        let summary = try continueBy(7, s.lake)
        #expect(summary.rows(of: ClinicalModel.facilities) == 0 && summary.rows(of: ClinicalModel.diagnosisCodes) == 0)
        #expect(summary.encounters > 20, "a week of a 2,000-patient clinic has visits")
        #expect(summary.rows(of: ClinicalModel.patients) >= 1, "a few new patients")

        let all = try s.lake.table(ClinicalModel.encounters).snapshot().readAll()
        #expect(all.rowCount == before.rowCount + summary.encounters)
        guard case .date(let dates) = all.column("encounter_date")!.values,
              case .uuid(let ids) = all.column("encounter_id")!.values,
              case .uuid(let patientIds) = all.column("patient_id")!.values else { Issue.record("column types"); return }
        let first = Int32(CivilDate.days(year: 2025, month: 1, day: 1)), last = first + 6
        #expect(dates[before.rowCount...].allSatisfy { (first...last).contains($0) })
        #expect(Set(ids).count == ids.count, "encounter ids stay unique")
        // Every encounter's patient is a patient; the new patients have their rows.
        let patients = try s.lake.table(ClinicalModel.patients).snapshot().readAll()
        guard case .uuid(let known) = patients.column("patient_id")!.values else { return }
        let knownSet = Set(known)
        #expect(patientIds.allSatisfy { knownSet.contains($0) })
        #expect(patients.rowCount == 2_000 + summary.rows(of: ClinicalModel.patients))
        // Procedures, diagnoses and reports of the new days point at the new encounters.
        let newIds = Set(ids[before.rowCount...])
        let procedures = try s.lake.table(ClinicalModel.procedures).snapshot().readAll()
        guard case .uuid(let pe) = procedures.column("encounter_id")!.values else { return }
        #expect(pe.filter { newIds.contains($0) }.count == summary.rows(of: ClinicalModel.procedures))

        // The state moved on: the next continuation starts the day after.
        let state = try SyntheticContinuation.state(of: s.lake)
        #expect(state.lastDay == last)
        #expect(state.clinic.patients == summary.patients)
        #expect(state.basePatients == 2_000)
    }

    @Test func aLakeWithoutAClinicIsAClearError() throws {
        let s = try ScratchLake()
        #expect(throws: SyntheticContinuationError.noClinic) { try SyntheticContinuation.state(of: s.lake) }
        #expect(throws: SyntheticContinuationError.invalidDays(0)) {
            try SyntheticContinuation(clinic: try SyntheticClinic(), basePatients: 1, after: 0, days: 0)
        }
    }
}
