// Data tests over the lake and the built warehouse, in the spirit of dbt's and Great
// Expectations': not null, unique, relationships, accepted values, ranges, freshness, volume
// and reconciliation. They run before anything is published (write-audit-publish).
//
// Cost: the lake side is judged from the build's own row accounting (the build joins every
// lake row and counts each duplicate and orphan it leaves out, see WarehouseDefinitions.md),
// so nothing is hashed twice; the warehouse side is column-at-a-time over the built buffers:
// keys are sorted, so uniqueness is one pass, and membership is a bitmap over the key range.
// Only a check that fails reads the lake again, to show a few of its rows.

import FicheLake
import FicheModel
import Foundation

public enum QualityGate {
    /// What the checks look at.
    public struct Input {
        public var lake: Lake
        /// The warehouse tables about to be published (built now, or read from the lake).
        public var tables: [(name: String, batch: Batch)]
        /// The build's row accounting of the lake snapshot it read.
        public var build: BuildReport
        /// fact_encounters rows after each recent successful publish, oldest first (the run log).
        public var history: [Int]
        /// Today, days since 1970 (UTC).
        public var today: Int32

        public init(lake: Lake, tables: [(name: String, batch: Batch)], build: BuildReport, history: [Int] = [],
                    today: Int32 = QualityGate.today()) {
            self.lake = lake
            self.tables = tables
            self.build = build
            self.history = history
            self.today = today
        }
    }

    public static func today() -> Int32 { Int32((Date().timeIntervalSince1970 / 86_400).rounded(.down)) }

    /// Runs every check not switched off.
    public static func run(_ input: Input, config: QualityConfig = QualityConfig()) throws -> QualityReport {
        let start = DispatchTime.now().uptimeNanoseconds
        let run = CheckRun(input: input, config: config)
        try run.all()
        return QualityReport(results: run.results, seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}

/// One run of the checks, collecting results.
final class CheckRun {
    let input: Input
    let config: QualityConfig
    var results: [QualityCheckResult] = []
    typealias Input = QualityGate.Input

    init(input: Input, config: QualityConfig) {
        self.input = input
        self.config = config
    }

    func table(_ name: String) throws -> Batch {
        guard let b = input.tables.first(where: { $0.name == name })?.batch else {
            throw WarehouseError("the quality checks need warehouse table \(name)")
        }
        return b
    }

    func column(_ table: String, _ name: String) throws -> Column {
        guard let c = try self.table(table).column(name) else { throw WarehouseError.missing(table, name) }
        return c
    }

    /// The table's rows as the build read them (a commit since then is not in the warehouse
    /// either), else as the lake holds them now.
    func lakeRows(_ table: String) throws -> Int {
        try input.build.lakeRows[table] ?? input.lake.table(table).snapshot().rowCount
    }

    /// Records one check unless its severity is off; `examples` runs only if it failed.
    func check(_ rule: QualityRule, _ table: String, _ column: String?, expectation: String,
                        _ measure: () throws -> (failing: Int, checked: Int),
                        examples: (Int) throws -> [String] = { _ in [] }) throws {
        let name = rule.rawValue + "." + table + (column.map { "." + $0 } ?? "")
        let severity = config.severity(rule, name)
        guard severity != .off else { return }
        let (failing, checked) = try measure()
        let shown = failing > 0 && config.examples > 0 ? try examples(config.examples) : []
        results.append(QualityCheckResult(name: name, rule: rule, table: table, severity: severity, failing: failing,
                                          checked: checked, expectation: expectation, examples: Array(shown.prefix(config.examples))))
    }

    func all() throws {
        try lakeChecks()
        try notNull()
        try uniqueKeys()
        try relationships()
        try acceptedValues()
        try ranges()
        try freshness()
        try volume()
        try reconciliation()
    }

    // MARK: - The lake, from the build's accounting

    func lakeChecks() throws {
        let b = input.build, lake = input.lake, fact = try table(Warehouse.factEncounters)
        let encounters = try lakeRows(ClinicalModel.encounters)
        try check(.unique, ClinicalModel.patients, "patient_id", expectation: "each patient_id once",
                  { (b.duplicatePatients, try lakeRows(ClinicalModel.patients)) },
                  examples: { try LakeExamples.duplicates(lake, ClinicalModel.patients, "patient_id", limit: $0) })
        try check(.unique, ClinicalModel.facilities, "facility_id", expectation: "each facility_id once",
                  { (b.duplicateFacilities, try lakeRows(ClinicalModel.facilities)) },
                  examples: { try LakeExamples.duplicates(lake, ClinicalModel.facilities, "facility_id", limit: $0) })
        try check(.unique, ClinicalModel.encounters, "encounter_id", expectation: "each encounter_id once",
                  { (b.duplicateEncounters, encounters) },
                  examples: { try LakeExamples.duplicates(lake, ClinicalModel.encounters, "encounter_id", limit: $0) })
        try check(.relationships, ClinicalModel.encounters, "patient_id", expectation: "every patient_id is in patients",
                  { (b.encountersWithoutPatient, encounters) },
                  examples: { try LakeExamples.unresolved(lake, ClinicalModel.encounters, "patient_id",
                                                          in: LakeExamples.ids(lake, ClinicalModel.patients, "patient_id"),
                                                          "patients", limit: $0) })
        try check(.relationships, ClinicalModel.encounters, "facility_id", expectation: "every facility_id is in facilities",
                  { (b.encountersWithoutFacility, encounters) },
                  examples: { try LakeExamples.unresolved(lake, ClinicalModel.encounters, "facility_id",
                                                          in: LakeExamples.ids(lake, ClinicalModel.facilities, "facility_id"),
                                                          "facilities", limit: $0) })
        func factIds() throws -> UUIDSet {
            guard case .uuid(let ids) = try column(Warehouse.factEncounters, "encounter_id").values else { return UUIDSet() }
            var set = UUIDSet(minimumCapacity: ids.count)
            for id in ids { set.insert(id) }
            return set
        }
        for (t, without) in [(ClinicalModel.procedures, b.proceduresWithoutEncounter),
                             (ClinicalModel.diagnoses, b.diagnosesWithoutEncounter),
                             (ClinicalModel.reports, b.reportsWithoutEncounter)] {
            try check(.relationships, t, "encounter_id",
                      expectation: "every encounter_id is an encounter of the fact (known, not a duplicate, with a known patient and facility)",
                      { (without, try lakeRows(t)) },
                      examples: { try LakeExamples.unresolved(lake, t, "encounter_id", in: try factIds(), "fact_encounters", limit: $0) })
        }
        try check(.relationships, ClinicalModel.diagnoses, "code", expectation: "every code is in diagnosis_codes",
                  { (b.diagnosesWithUnknownCode, try lakeRows(ClinicalModel.diagnoses)) },
                  examples: { try LakeExamples.unknownCodes(lake, limit: $0) })
        _ = fact
    }

    // MARK: - The warehouse

    func notNull() throws {
        for (name, schema) in Warehouse.tables {
            let batch = try table(name)
            let required = schema.fields.filter { !$0.nullable }.map(\.name)
            try check(.notNull, name, nil, expectation: "no NULL in \(required.joined(separator: ", "))", {
                var nulls = 0
                for f in required { nulls += batch.column(f)?.nullCount ?? batch.rowCount }
                return (nulls, batch.rowCount)
            }, examples: { limit in
                var out: [String] = []
                for f in required {
                    guard let c = batch.column(f) else { out.append("column \(f) is missing"); continue }
                    guard c.nullCount > 0, let v = c.validity else { continue }
                    if let row = (0..<c.count).first(where: { !v[$0] }) {
                        out.append("\(f): \(grouped(c.nullCount)) NULLs, the first at row \(row)")
                    }
                }
                return Array(out.prefix(limit))
            })
        }
    }

    func uniqueKeys() throws {
        let keys: [(String, [String])] = [
            (Warehouse.dimPatient, ["patient_key"]), (Warehouse.dimFacility, ["facility_key"]),
            (Warehouse.dimProcedure, ["procedure_key"]), (Warehouse.dimDiagnosis, ["diagnosis_key"]),
            (Warehouse.dimTime, ["date_key"]), (Warehouse.factEncounters, ["encounter_key"]),
            (Warehouse.bridgeEncounterProcedure, ["encounter_key", "procedure_key"]),
            (Warehouse.bridgeEncounterDiagnosis, ["encounter_key", "diagnosis_key"]),
        ]
        for (t, cols) in keys {
            let a = try KeyColumn(try column(t, cols[0]), table: t, name: cols[0])
            let b = try cols.count > 1 ? KeyColumn(try column(t, cols[1]), table: t, name: cols[1]) : nil
            var dups: [Int] = []
            try check(.unique, t, cols.joined(separator: "_"), expectation: "each (\(cols.joined(separator: ", "))) once", {
                let found = KeyColumn.duplicateRows(a, b)
                dups = found.rows
                return (found.count, a.count)
            }, examples: { limit in
                dups.prefix(limit).map { r in "row \(r): " + ([a] + (b.map { [$0] } ?? [])).map { "\($0.name) \($0[r])" }.joined(separator: ", ") }
            })
        }
        for (t, c) in [(Warehouse.dimProcedure, "procedure_code"), (Warehouse.dimDiagnosis, "diagnosis_code")] {
            let col = try column(t, c)
            var dups: [Int] = []
            try check(.unique, t, c, expectation: "each \(c) once", {
                var seen = Set<String>()
                for i in 0..<col.count { if let s = col.text(at: i), !seen.insert(s).inserted { dups.append(i) } }
                return (dups.count, col.count)
            }, examples: { limit in dups.prefix(limit).map { "row \($0): \(c) \(col.text(at: $0) ?? "NULL")" } })
        }
    }

    func relationships() throws {
        let links: [(String, String, String, String)] = [
            (Warehouse.factEncounters, "patient_key", Warehouse.dimPatient, "patient_key"),
            (Warehouse.factEncounters, "facility_key", Warehouse.dimFacility, "facility_key"),
            (Warehouse.factEncounters, "date_key", Warehouse.dimTime, "date_key"),
            (Warehouse.bridgeEncounterProcedure, "encounter_key", Warehouse.factEncounters, "encounter_key"),
            (Warehouse.bridgeEncounterProcedure, "procedure_key", Warehouse.dimProcedure, "procedure_key"),
            (Warehouse.bridgeEncounterDiagnosis, "encounter_key", Warehouse.factEncounters, "encounter_key"),
            (Warehouse.bridgeEncounterDiagnosis, "diagnosis_key", Warehouse.dimDiagnosis, "diagnosis_key"),
        ]
        for (child, c, parent, p) in links {
            let values = try KeyColumn(try column(child, c), table: child, name: c)
            let keys = try KeyColumn(try column(parent, p), table: parent, name: p)
            var missing: [Int] = []
            try check(.relationships, child, c, expectation: "every \(c) is in \(parent).\(p)", {
                let found = KeyColumn.missingRows(values, in: keys)
                missing = found.rows
                return (found.count, values.count)
            }, examples: { limit in missing.prefix(limit).map { "row \($0): \(c) \(values[$0]) is not in \(parent)" } })
        }
    }

    func acceptedValues() throws {
        let lists: [(String, String, [String])] = [
            (Warehouse.dimPatient, "sex", config.acceptedSex),
            (Warehouse.factEncounters, "encounter_type", config.acceptedEncounterTypes),
            (Warehouse.dimPatient, "age_group", config.acceptedAgeGroups),
            (Warehouse.dimProcedure, "modality", config.acceptedModalities),
        ]
        for (t, c, accepted) in lists {
            let col = try column(t, c)
            var bad: [Int] = []
            try check(.acceptedValues, t, c, expectation: "\(c) in {\(accepted.joined(separator: ", "))} or NULL", {
                let found = StringMembership.rowsNotIn(col, accepted)
                bad = found.rows
                return (found.count, col.count)
            }, examples: { limit in bad.prefix(limit).map { "row \($0): \(c) \"\(col.text(at: $0) ?? "")\"" } })
        }
    }

    func ranges() throws {
        let lo = config.minAge, hi = config.maxAge
        for (t, c) in [(Warehouse.dimPatient, "age"), (Warehouse.factEncounters, "age_at_encounter")] {
            let col = try column(t, c)
            var bad: [Int] = []
            try check(.range, t, c, expectation: "\(c) in \(lo)…\(hi) or NULL", {
                let found = IntegerRange.rowsOutside(col, Int64(lo)...Int64(hi))
                bad = found.rows
                return (found.count, col.count)
            }, examples: { limit in bad.prefix(limit).map { "row \($0): \(c) \(col.text(at: $0) ?? "NULL")" } })
        }
        let first = dateKey(config.minDate), last = dateKey(input.today + Int32(config.maxFutureDays))
        let dates = try column(Warehouse.factEncounters, "date_key")
        let ids = try column(Warehouse.factEncounters, "encounter_id")
        var bad: [Int] = []
        try check(.range, Warehouse.factEncounters, "date_key",
                  expectation: "encounters dated \(keyText(first))…\(keyText(last)) (not before thresholds.min_date, not in the future)", {
            let found = IntegerRange.rowsOutside(dates, Int64(first)...Int64(last))
            bad = found.rows
            return (found.count, dates.count)
        }, examples: { limit in
            bad.prefix(limit).map { "row \($0): encounter \(ids.text(at: $0) ?? "?") dated \(keyText(Int32(dates.values.integerValue(at: $0) ?? 0)))" }
        })
    }

    func freshness() throws {
        let dates = try column(Warehouse.factEncounters, "date_key")
        let oldest = dateKey(input.today - Int32(config.freshnessMaxAgeDays))
        var newest: Int64?
        try check(.freshness, Warehouse.factEncounters, "date_key",
                  expectation: "the newest encounter dated \(keyText(oldest)) or later (thresholds.freshness_max_age_days = \(config.freshnessMaxAgeDays))", {
            newest = IntegerRange.max(dates)
            guard let n = newest else { return (1, 0) }
            return (n < Int64(oldest) ? 1 : 0, dates.count)
        }, examples: { _ in [newest.map { "the newest encounter is dated \(keyText(Int32($0)))" } ?? "no encounters at all"] })
    }

    func volume() throws {
        let rows = try table(Warehouse.factEncounters).rowCount
        let history = Array(input.history.suffix(config.volumeHistory + 1))
        var added = 0, median = 0.0
        try check(.volume, Warehouse.factEncounters, nil,
                  expectation: "the fact rows this run adds within ×/÷\(String(format: "%g", config.volumeFactor)) of the median of the last \(config.volumeHistory) runs' (judged after \(config.volumeMinHistory))", {
            guard let last = history.last else { return (0, rows) }
            added = rows - last
            let steps = zip(history.dropFirst(), history).map { $0 - $1 }
            guard steps.count >= config.volumeMinHistory else { return (0, rows) }
            let s = steps.sorted()
            median = s.count % 2 == 1 ? Double(s[s.count / 2]) : Double(s[s.count / 2 - 1] + s[s.count / 2]) / 2
            if added < 0 { return (1, rows) }
            if median <= 0 { return (0, rows) }  // nothing to compare with: runs that added nothing
            let ratio = Double(added) / median
            return (ratio > config.volumeFactor || ratio < 1 / config.volumeFactor ? 1 : 0, rows)
        }, examples: { _ in
            ["this run: \(grouped(added)) fact rows added (\(grouped(rows)) now); median of the last \(history.count - 1) runs: \(grouped(Int(median)))"]
        })
    }

    func reconciliation() throws {
        let b = input.build
        let fact = try table(Warehouse.factEncounters)
        let sumQuantity = IntegerRange.sum(try column(Warehouse.bridgeEncounterProcedure, "quantity"))
        let sumNumProcedures = IntegerRange.sum(try column(Warehouse.factEncounters, "num_procedures"))
        let sumNumDiagnoses = IntegerRange.sum(try column(Warehouse.factEncounters, "num_diagnoses"))
        let withReport = IntegerRange.countTrue(try column(Warehouse.factEncounters, "has_report"))
        let monthly = IntegerRange.sum(try column(Warehouse.mvMonthlyEncounters, "total_encounters"))
        func equation(_ table: String, _ lhs: (String, Int), _ rhs: [(String, Int)], _ expectation: String) throws {
            let total = rhs.reduce(0) { $0 + $1.1 }
            try check(.reconciliation, table, nil, expectation: expectation, { (abs(lhs.1 - total), lhs.1) }, examples: { _ in
                ["\(lhs.0) \(grouped(lhs.1)) ≠ " + rhs.map { "\($0.0) \(grouped($0.1))" }.joined(separator: " + ") + " = \(grouped(total))"]
            })
        }
        try equation(ClinicalModel.encounters, ("lake encounters", try lakeRows(ClinicalModel.encounters)),
                     [("fact rows", fact.rowCount), ("duplicates", b.duplicateEncounters), ("without patient", b.encountersWithoutPatient),
                      ("without facility", b.encountersWithoutFacility), ("outside the date range", b.encountersOutsideRange)],
                     "every lake encounter is a fact row or counted as duplicate or orphan")
        try equation(ClinicalModel.procedures, ("lake procedures", try lakeRows(ClinicalModel.procedures)),
                     [("bridge quantities", Int(sumQuantity)), ("without a fact encounter", b.proceduresWithoutEncounter)],
                     "every lake procedure is counted in bridge_encounter_procedure.quantity or as an orphan")
        try equation(Warehouse.factEncounters, ("sum of num_procedures", Int(sumNumProcedures)), [("bridge quantities", Int(sumQuantity))],
                     "num_procedures adds up to the procedure bridge's quantities")
        try equation(ClinicalModel.diagnoses, ("lake diagnoses", try lakeRows(ClinicalModel.diagnoses)),
                     [("sum of num_diagnoses", Int(sumNumDiagnoses)), ("without a fact encounter", b.diagnosesWithoutEncounter),
                      ("with an unknown code", b.diagnosesWithUnknownCode)],
                     "every lake diagnosis is counted in fact_encounters.num_diagnoses or as an orphan")
        let reports = try lakeRows(ClinicalModel.reports), matched = reports - b.reportsWithoutEncounter
        try check(.reconciliation, ClinicalModel.reports, nil,
                  expectation: "encounters with has_report are at least 1 and at most the reports matched to the fact (or both 0)", {
            let ok = matched == 0 ? withReport == 0 : (withReport >= 1 && withReport <= matched)
            return (ok ? 0 : abs(matched - withReport), reports)
        }, examples: { _ in ["lake reports \(grouped(reports)), of them without a fact encounter \(grouped(b.reportsWithoutEncounter)); fact rows with has_report \(grouped(withReport))"] })
        try equation(ClinicalModel.patients, ("lake patients", try lakeRows(ClinicalModel.patients)),
                     [("dim_patient rows", try table(Warehouse.dimPatient).rowCount), ("duplicates", b.duplicatePatients)],
                     "every lake patient is a dim_patient row or a duplicate")
        try equation(ClinicalModel.facilities, ("lake facilities", try lakeRows(ClinicalModel.facilities)),
                     [("dim_facility rows", try table(Warehouse.dimFacility).rowCount), ("duplicates", b.duplicateFacilities)],
                     "every lake facility is a dim_facility row or a duplicate")
        try equation(Warehouse.mvMonthlyEncounters, ("sum of total_encounters", Int(monthly)), [("fact rows", fact.rowCount)],
                     "the monthly aggregate counts every fact row once")
    }

    func dateKey(_ days: Int32) -> Int32 {
        let c = CivilDate.components(Int64(days))
        return Int32(clamping: c.year * 10000 + c.month * 100 + c.day)
    }

    func keyText(_ key: Int32) -> String {
        String(format: "%04d-%02d-%02d", key / 10000, key / 100 % 100, key % 100)
    }
}
