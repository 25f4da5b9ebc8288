// Every measure reconciles with its bridge: per encounter, num_procedures = the sum of its
// bridge_encounter_procedure quantities and num_diagnoses = the sum of its
// bridge_encounter_diagnosis quantities; so the totals agree too. Checked on real PadChest
// rows (among them studies whose labels map two findings to one code) and on generated data,
// in the warehouse tables `fiche build` writes to the lake and in PostgreSQL after
// `fiche rebuild`.

import FicheLake
import FichePublish
import FicheWarehouse
import Foundation
import Testing

@Suite("measures reconcile with their bridges", .serialized)
struct MeasureReconciliationTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FicheSourcesTests/Fixtures").path

    /// Per encounter key: (num_procedures, num_diagnoses) from the fact, and the quantity sums
    /// of each bridge, read from the lake's warehouse tables.
    struct Totals: Equatable {
        var fact: [Int64: (procedures: Int, diagnoses: Int)] = [:]
        var procedureQuantity: [Int64: Int] = [:]
        var diagnosisQuantity: [Int64: Int] = [:]
        var diagnosisBridgeRows = 0
        var largestDiagnosisQuantity = 0

        static func == (a: Totals, b: Totals) -> Bool {
            a.fact.mapValues { [$0.procedures, $0.diagnoses] } == b.fact.mapValues { [$0.procedures, $0.diagnoses] }
                && a.procedureQuantity == b.procedureQuantity && a.diagnosisQuantity == b.diagnosisQuantity
        }

        var sumNumProcedures: Int { fact.values.reduce(0) { $0 + $1.procedures } }
        var sumNumDiagnoses: Int { fact.values.reduce(0) { $0 + $1.diagnoses } }
        var sumProcedureQuantity: Int { procedureQuantity.values.reduce(0, +) }
        var sumDiagnosisQuantity: Int { diagnosisQuantity.values.reduce(0, +) }

        /// Encounters whose measure differs from its bridge's quantities.
        var mismatches: [Int64] {
            fact.compactMap { key, m in
                m.procedures != (procedureQuantity[key] ?? 0) || m.diagnoses != (diagnosisQuantity[key] ?? 0) ? key : nil
            }
        }
    }

    func lakeTotals(_ root: String) throws -> Totals {
        let lake = try Lake(root: root, create: false)
        var t = Totals()
        let fact = try lake.table(Warehouse.factEncounters).snapshot().readAll(columns: ["encounter_key", "num_procedures", "num_diagnoses"])
        guard case .int64(let keys) = fact.columns[0].values, case .int16(let np) = fact.columns[1].values,
              case .int16(let nd) = fact.columns[2].values else {
            Issue.record("fact column types")
            return t
        }
        for i in keys.indices { t.fact[keys[i]] = (Int(np[i]), Int(nd[i])) }
        let bp = try lake.table(Warehouse.bridgeEncounterProcedure).snapshot().readAll(columns: ["encounter_key", "quantity"])
        if case .int64(let e) = bp.columns[0].values, case .int16(let q) = bp.columns[1].values {
            for i in e.indices { t.procedureQuantity[e[i], default: 0] += Int(q[i]) }
        } else {
            Issue.record("bridge_encounter_procedure column types")
        }
        let bd = try lake.table(Warehouse.bridgeEncounterDiagnosis).snapshot().readAll(columns: ["encounter_key", "quantity"])
        if case .int64(let e) = bd.columns[0].values, case .int16(let q) = bd.columns[1].values {
            for i in e.indices { t.diagnosisQuantity[e[i], default: 0] += Int(q[i]) }
            t.diagnosisBridgeRows = e.count
            t.largestDiagnosisQuantity = Int(q.max() ?? 0)
        } else {
            Issue.record("bridge_encounter_diagnosis column types")
        }
        return t
    }

    func databaseTotals(_ c: PostgresConnection, _ schema: String) throws -> Totals {
        var t = Totals()
        for row in try c.query("SELECT encounter_key, num_procedures, num_diagnoses FROM \(schema).fact_encounters").rows {
            t.fact[Int64(row[0]!)!] = (Int(row[1]!)!, Int(row[2]!)!)
        }
        for row in try c.query("SELECT encounter_key, sum(quantity) FROM \(schema).bridge_encounter_procedure GROUP BY 1").rows {
            t.procedureQuantity[Int64(row[0]!)!] = Int(row[1]!)!
        }
        for row in try c.query("SELECT encounter_key, sum(quantity) FROM \(schema).bridge_encounter_diagnosis GROUP BY 1").rows {
            t.diagnosisQuantity[Int64(row[0]!)!] = Int(row[1]!)!
        }
        return t
    }

    /// Builds and publishes `root`, then checks both equalities in the lake and in PostgreSQL
    /// (the totals as one SQL statement too, the way an analyst would ask).
    func expectReconciled(_ root: String, label: String) throws -> Totals {
        let build = try FicheBinary.run(["build", "--lake", root])
        #expect(build.status == 0, "\(label): \(build.stderr)")
        let lake = try lakeTotals(root)
        #expect(!lake.fact.isEmpty, "\(label): no fact rows")
        #expect(lake.mismatches.isEmpty, "\(label): encounters whose measures differ from the bridges: \(lake.mismatches.prefix(5))")
        #expect(lake.sumNumProcedures == lake.sumProcedureQuantity, "\(label): lake procedures")
        #expect(lake.sumNumDiagnoses == lake.sumDiagnosisQuantity, "\(label): lake diagnoses")

        let schema = CLIDatabase.uniqueSchema("t_reconcile")
        defer { CLIDatabase.drop(schema) }
        let rebuild = try FicheBinary.run(["rebuild", "--lake", root, "--schema", schema, "--database", try CLIDatabase.url.get()])
        #expect(rebuild.status == 0, "\(label): \(rebuild.stderr)")
        let c = try CLIDatabase.connect()
        let published = try databaseTotals(c, schema)
        #expect(published == lake, "\(label): PostgreSQL holds what the lake build wrote")
        let sums = try c.query("""
            SELECT (SELECT sum(num_procedures) FROM \(schema).fact_encounters) = (SELECT sum(quantity) FROM \(schema).bridge_encounter_procedure),
                   (SELECT sum(num_diagnoses) FROM \(schema).fact_encounters) = (SELECT sum(quantity) FROM \(schema).bridge_encounter_diagnosis)
            """).rows
        #expect(sums.first == ["t", "t"], "\(label): sum(num_procedures) = sum(quantity) and sum(num_diagnoses) = sum(quantity) in PostgreSQL")
        return lake
    }

    @Test func onRealPadChestRows() throws {
        let root = try scratchDirectory("reconcile-padchest") + "/lake"
        for file in ["padchest_sample.csv", "padchest_repeated_codes.csv"] {
            let r = try FicheBinary.run(["ingest", "padchest", "--lake", root, Self.fixtures + "/" + file])
            #expect(r.status == 0, "\(file): \(r.stderr)")
        }
        let t = try expectReconciled(root, label: "PadChest")
        // 37 real images in 28 studies; the three studies of padchest_repeated_codes.csv
        // each carry one code twice (R91 twice, R91 twice, J98.1 twice), so the diagnosis rows
        // exceed the bridge rows by exactly 3 — the case the quantity exists for.
        #expect(t.fact.count == 28)
        #expect(t.sumNumProcedures == 37)
        #expect(t.largestDiagnosisQuantity == 2)
        #expect(t.sumDiagnosisQuantity == t.diagnosisBridgeRows + 3)
    }

    @Test func onGeneratedData() throws {
        let root = try scratchDirectory("reconcile-generated") + "/lake"
        let r = try FicheBinary.run(["generate", "--lake", root, "--patients", "400", "--seed", "17"])
        #expect(r.status == 0, "\(r.stderr)")
        let t = try expectReconciled(root, label: "generated")
        #expect(t.sumProcedureQuantity > t.fact.count, "several procedures per encounter")
    }
}
