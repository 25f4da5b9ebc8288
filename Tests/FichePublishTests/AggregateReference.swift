// The three mv_* aggregates recomputed in Swift from the published fact, bridge and
// dimension rows (plain SELECTs, dictionaries and loops, following WarehouseDefinitions.md):
// a reference independent of the SQL that publishing and refresh_all_warehouse_views() run.

@testable import FichePublish

enum AggregateReference {
    /// Each aggregate's rows as text in table column order, sorted.
    static func compute(_ c: PostgresConnection, _ schema: String) throws -> [String: [[String]]] {
        func rows(_ sql: String) throws -> [[String]] { try c.query(sql).rows.map { $0.map { $0 ?? "NULL" } } }
        let time = Dictionary(uniqueKeysWithValues: try rows("SELECT date_key, year, month, month_name FROM \(schema).dim_time")
            .map { ($0[0], ($0[1], $0[2], $0[3])) })
        let ageGroup = Dictionary(uniqueKeysWithValues: try rows("SELECT patient_key, age_group FROM \(schema).dim_patient")
            .map { ($0[0], $0[1] == "NULL" ? "unknown" : $0[1]) })
        let diagnosis = Dictionary(uniqueKeysWithValues: try rows("SELECT diagnosis_key, diagnosis_code, description FROM \(schema).dim_diagnosis")
            .map { ($0[0], ($0[1], $0[2])) })
        let procedure = Dictionary(uniqueKeysWithValues: try rows("SELECT procedure_key, modality, procedure_code, procedure_name FROM \(schema).dim_procedure")
            .map { ($0[0], ($0[1], $0[2], $0[3])) })
        let fact = try rows("SELECT encounter_key, date_key, patient_key, num_procedures, num_diagnoses, has_report FROM \(schema).fact_encounters")
        var patientOf: [String: String] = [:]
        for f in fact { patientOf[f[0] + "/" + f[1]] = f[2] }

        struct Monthly { var encounters = 0, procedures = 0, diagnoses = 0, reports = 0; var patients = Set<String>() }
        var monthly: [[String]: Monthly] = [:]
        for f in fact {
            let t = time[f[1]]!
            var m = monthly[[t.0, t.1, t.2], default: Monthly()]
            m.encounters += 1
            m.patients.insert(f[2])
            m.procedures += Int(f[3])!
            m.diagnoses += Int(f[4])!
            if f[5] == "t" { m.reports += 1 }
            monthly[[t.0, t.1, t.2]] = m
        }
        var byAge: [[String]: (count: Int, patients: Set<String>)] = [:]
        for b in try rows("SELECT encounter_key, diagnosis_key, date_key FROM \(schema).bridge_encounter_diagnosis") {
            let patient = patientOf[b[0] + "/" + b[2]]!
            let d = diagnosis[b[1]]!
            var a = byAge[[ageGroup[patient]!, d.0, d.1], default: (0, [])]
            a.count += 1
            a.patients.insert(patient)
            byAge[[ageGroup[patient]!, d.0, d.1]] = a
        }
        var volume: [[String]: (count: Int, encounters: Set<String>, patients: Set<String>)] = [:]
        for b in try rows("SELECT encounter_key, procedure_key, date_key, quantity FROM \(schema).bridge_encounter_procedure") {
            let p = procedure[b[1]]!, t = time[b[2]]!
            let key = [p.0, p.1, p.2, t.0, t.1]
            var v = volume[key, default: (0, [], [])]
            v.count += Int(b[3])!
            v.encounters.insert(b[0])
            v.patients.insert(patientOf[b[0] + "/" + b[2]]!)
            volume[key] = v
        }
        let sorted = { (r: [[String]]) in r.sorted { $0.lexicographicallyPrecedes($1) } }
        return [
            "mv_monthly_encounters": sorted(monthly.map { k, m in
                k + [String(m.encounters), String(m.patients.count), String(m.procedures), String(m.diagnoses), String(m.reports)]
            }),
            "mv_diagnosis_by_age_group": sorted(byAge.map { k, a in k + [String(a.count), String(a.patients.count)] }),
            "mv_procedure_volume": sorted(volume.map { k, v in k + [String(v.count), String(v.encounters.count), String(v.patients.count)] }),
        ]
    }

    /// What the schema's mv_* tables hold, in the same form.
    static func published(_ c: PostgresConnection, _ schema: String) throws -> [String: [[String]]] {
        var out: [String: [[String]]] = [:]
        for table in ["mv_monthly_encounters", "mv_diagnosis_by_age_group", "mv_procedure_volume"] {
            out[table] = try c.query("SELECT * FROM \(schema).\(table)").rows.map { $0.map { $0 ?? "NULL" } }
                .sorted { $0.lexicographicallyPrecedes($1) }
        }
        return out
    }
}
