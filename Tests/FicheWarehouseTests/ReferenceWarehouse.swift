// The warehouse built the plain way: dictionaries, loops, Foundation's calendar. Every
// table comes out as rows of text cells, to compare with the real build's batches.

import Foundation
import FicheLake
@testable import FicheWarehouse

/// The reference's own key registry (same rules: new ids numbered in first-appearance
/// order, new codes in byte order, max+1 on).
struct ReferenceKeys {
    var patients: [UUID16: Int64] = [:]
    var facilities: [UUID16: Int64] = [:]
    var encounters: [UUID16: Int64] = [:]
    var procedures: [String: Int64] = [:]
    var diagnoses: [String: Int64] = [:]

    static func assign(_ ids: [UUID16], _ keys: inout [UUID16: Int64]) {
        var next = keys.values.max() ?? 0
        for id in ids where keys[id] == nil {
            next += 1
            keys[id] = next
        }
    }

    static func assign(_ codes: [String], _ keys: inout [String: Int64]) {
        var next = keys.values.max() ?? 0
        let fresh = Set(codes.filter { keys[$0] == nil }).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        for c in fresh {
            next += 1
            keys[c] = next
        }
    }
}

typealias Rows = [[String]]

let nullCell = "∅"

func cell<T>(_ v: T?) -> String { v.map { "\($0)" } ?? nullCell }

struct ReferenceWarehouse {
    static let utc: Calendar = {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "UTC")!
        return c
    }()
    static let iso: Calendar = {
        var c = Calendar(identifier: .iso8601)
        c.timeZone = TimeZone(identifier: "UTC")!
        return c
    }()

    static func ymd(_ days: Int32) -> (y: Int, m: Int, d: Int) {
        let c = utc.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: Double(days) * 86_400))
        return (c.year!, c.month!, c.day!)
    }

    static func dateKey(_ days: Int32) -> Int {
        let c = ymd(days)
        return c.y * 10_000 + c.m * 100 + c.d
    }

    /// Whole years from a birth date (or year) to a date; nil if unknown or negative.
    static func age(birthYear: Int16?, birthDate: Int32?, at day: Int32) -> Int? {
        let at = ymd(day)
        var a: Int
        if let bd = birthDate {
            let b = ymd(bd)
            a = at.y - b.y
            if (at.m, at.d) < (b.m, b.d) { a -= 1 }
        } else if let by = birthYear {
            a = at.y - Int(by)
        } else {
            return nil
        }
        return a >= 0 ? a : nil
    }

    static func ageGroup(_ age: Int?) -> String? {
        guard let a = age else { return nil }
        switch a {
        case ..<18: return "0-17"
        case 18...30: return "18-30"
        case 31...50: return "31-50"
        case 51...70: return "51-70"
        default: return "71+"
        }
    }

    static func build(_ s: ClinicalSample, keys: inout ReferenceKeys, asOf: Int32? = nil,
                      dateRange: ClosedRange<Int32>? = nil) -> [String: Rows] {
        var out: [String: Rows] = [:]

        // Dimensions: the first row of each id wins.
        ReferenceKeys.assign(s.facilities.map(\.id), &keys.facilities)
        var facility: [UUID16: FacilityRow] = [:]
        for f in s.facilities where facility[f.id] == nil { facility[f.id] = f }
        ReferenceKeys.assign(s.patients.map(\.id), &keys.patients)
        var patient: [UUID16: PatientRow] = [:]
        for p in s.patients where patient[p.id] == nil { patient[p.id] = p }

        let inRange = s.encounters.filter { dateRange?.contains($0.date) ?? true }
        ReferenceKeys.assign(inRange.map(\.id), &keys.encounters)
        var encounter: [UUID16: EncounterRow] = [:]
        var seen = Set<UUID16>()
        for e in inRange where seen.insert(e.id).inserted {
            if patient[e.patient] != nil && facility[e.facility] != nil { encounter[e.id] = e }
        }

        ReferenceKeys.assign(s.procedures.map(\.code), &keys.procedures)
        var procedureInfo: [String: ProcedureRow] = [:]
        for p in s.procedures where procedureInfo[p.code] == nil { procedureInfo[p.code] = p }
        ReferenceKeys.assign(s.codes.map(\.code), &keys.diagnoses)
        var codeInfo: [String: DiagnosisCodeRow] = [:]
        for c in s.codes where codeInfo[c.code] == nil { codeInfo[c.code] = c }

        out[Warehouse.dimFacility] = facility.values.sorted { keys.facilities[$0.id]! < keys.facilities[$1.id]! }.map { f in
            [cell(keys.facilities[f.id]), f.id.text, f.source, f.name, f.type, cell(f.district), cell(f.province), f.country]
        }
        out[Warehouse.dimProcedure] = procedureInfo.values.sorted { keys.procedures[$0.code]! < keys.procedures[$1.code]! }.map { p in
            [cell(keys.procedures[p.code]), p.code, p.name, p.modality]
        }
        out[Warehouse.dimDiagnosis] = codeInfo.values.sorted { keys.diagnoses[$0.code]! < keys.diagnoses[$1.code]! }.map { c in
            [cell(keys.diagnoses[c.code]), c.code, c.description, c.category, c.system, cell(c.cui)]
        }

        // Per-encounter procedures, diagnoses, reports.
        var procsOf: [UUID16: [String]] = [:]
        for p in s.procedures where encounter[p.encounter] != nil { procsOf[p.encounter, default: []].append(p.code) }
        var diagsOf: [UUID16: [(String, Bool)]] = [:]
        for d in s.diagnoses where encounter[d.encounter] != nil && codeInfo[d.code] != nil {
            diagsOf[d.encounter, default: []].append((d.code, d.primary))
        }
        var reported = Set<UUID16>()
        for r in s.reports where encounter[r.encounter] != nil { reported.insert(r.encounter) }

        let facts = encounter.values.sorted { keys.encounters[$0.id]! < keys.encounters[$1.id]! }
        var factRows: Rows = []
        var bridgeP: Rows = []
        var bridgeD: Rows = []
        for e in facts {
            let p = patient[e.patient]!
            let ek = keys.encounters[e.id]!
            let dk = dateKey(e.date)
            factRows.append([cell(ek), e.id.text, cell(keys.patients[e.patient]), cell(keys.facilities[e.facility]), cell(dk),
                             e.type, e.source, cell(age(birthYear: p.birthYear, birthDate: p.birthDate, at: e.date)),
                             cell(procsOf[e.id]?.count ?? 0), cell(diagsOf[e.id]?.count ?? 0), cell(reported.contains(e.id))])
            var qty: [Int64: Int] = [:]
            for c in procsOf[e.id] ?? [] { qty[keys.procedures[c]!, default: 0] += 1 }
            for (k, q) in qty.sorted(by: { $0.key < $1.key }) { bridgeP.append([cell(ek), cell(k), cell(dk), cell(q)]) }
            var primary: [Int64: Bool] = [:]
            var diagnosisRows: [Int64: Int] = [:]
            for (c, isPrimary) in diagsOf[e.id] ?? [] {
                primary[keys.diagnoses[c]!] = (primary[keys.diagnoses[c]!] ?? false) || isPrimary
                diagnosisRows[keys.diagnoses[c]!, default: 0] += 1
            }
            for (k, pr) in primary.sorted(by: { $0.key < $1.key }) {
                bridgeD.append([cell(ek), cell(k), cell(dk), cell(pr), cell(diagnosisRows[k]!)])
            }
        }
        out[Warehouse.factEncounters] = factRows
        out[Warehouse.bridgeEncounterProcedure] = bridgeP
        out[Warehouse.bridgeEncounterDiagnosis] = bridgeD

        // dim_patient, as of the given date or the latest encounter.
        let asOfDay = asOf ?? facts.map(\.date).max()
        var patientAgeGroup: [UUID16: String] = [:]
        var factsOf: [UUID16: [EncounterRow]] = [:]
        for e in facts { factsOf[e.patient, default: []].append(e) }
        out[Warehouse.dimPatient] = patient.values.sorted { keys.patients[$0.id]! < keys.patients[$1.id]! }.map { p in
            let mine = factsOf[p.id] ?? []
            let a = asOfDay.flatMap { age(birthYear: p.birthYear, birthDate: p.birthDate, at: $0) }
            patientAgeGroup[p.id] = ageGroup(a) ?? "unknown"
            return [cell(keys.patients[p.id]), p.id.text, p.source, cell(p.sourceId), cell(p.sex), cell(p.birthYear),
                    cell(p.birthDate), cell(a), cell(ageGroup(a)), cell(p.district), cell(p.province),
                    cell(mine.map(\.date).min()), cell(mine.map(\.date).max()), cell(mine.count)]
        }

        // dim_time: every day of every year with encounters.
        let years = Set(facts.map { ymd($0.date).y }).sorted()
        var time: Rows = []
        let monthNames = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
        let dayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
        for y in years {
            var date = utc.date(from: DateComponents(year: y, month: 1, day: 1))!
            while utc.component(.year, from: date) == y {
                let c = utc.dateComponents([.year, .month, .day, .weekday], from: date)
                let days = Int32((date.timeIntervalSince1970 / 86_400).rounded())
                let isoWeekday = c.weekday! == 1 ? 7 : c.weekday! - 1
                time.append([cell(c.year! * 10_000 + c.month! * 100 + c.day!), cell(days), cell(c.year!), cell((c.month! + 2) / 3),
                             cell(c.month!), monthNames[c.month! - 1], cell(iso.component(.weekOfYear, from: date)), cell(c.day!),
                             cell(isoWeekday), dayNames[c.weekday! - 1], cell(isoWeekday >= 6)])
                date = utc.date(byAdding: .day, value: 1, to: date)!
            }
        }
        out[Warehouse.dimTime] = time

        // mv_monthly_encounters.
        struct Month: Hashable { var y: Int; var m: Int }
        var byMonth: [Month: [EncounterRow]] = [:]
        for e in facts {
            let c = ymd(e.date)
            byMonth[Month(y: c.y, m: c.m), default: []].append(e)
        }
        out[Warehouse.mvMonthlyEncounters] = byMonth.keys.sorted { ($0.y, $0.m) < ($1.y, $1.m) }.map { k in
            let es = byMonth[k]!
            return [cell(k.y), cell(k.m), monthNames[k.m - 1], cell(es.count), cell(Set(es.map(\.patient)).count),
                    cell(es.reduce(0) { $0 + (procsOf[$1.id]?.count ?? 0) }), cell(es.reduce(0) { $0 + (diagsOf[$1.id]?.count ?? 0) }),
                    cell(es.filter { reported.contains($0.id) }.count)]
        }

        // mv_diagnosis_by_age_group: bridge rows by (age group, code).
        struct AgeCode: Hashable { var group: String; var code: String }
        var dg: [AgeCode: (rows: Int, patients: Set<UUID16>)] = [:]
        for e in facts {
            for code in Set((diagsOf[e.id] ?? []).map(\.0)) {
                let k = AgeCode(group: patientAgeGroup[e.patient]!, code: code)
                var v = dg[k] ?? (0, [])
                v.rows += 1
                v.patients.insert(e.patient)
                dg[k] = v
            }
        }
        let groupOrder = Warehouse.ageGroups + ["unknown"]
        out[Warehouse.mvDiagnosisByAgeGroup] = dg.keys.sorted {
            let a = groupOrder.firstIndex(of: $0.group)!, b = groupOrder.firstIndex(of: $1.group)!
            return a != b ? a < b : Array($0.code.utf8).lexicographicallyPrecedes(Array($1.code.utf8))
        }.map { k in
            [k.group, k.code, codeInfo[k.code]!.description, cell(dg[k]!.rows), cell(dg[k]!.patients.count)]
        }

        // mv_procedure_volume: bridge rows by (procedure, month).
        struct ProcMonth: Hashable { var code: String; var y: Int; var m: Int }
        var pv: [ProcMonth: (count: Int, encounters: Int, patients: Set<UUID16>)] = [:]
        for e in facts {
            let c = ymd(e.date)
            var qty: [String: Int] = [:]
            for code in procsOf[e.id] ?? [] { qty[code, default: 0] += 1 }
            for (code, q) in qty {
                let k = ProcMonth(code: code, y: c.y, m: c.m)
                var v = pv[k] ?? (0, 0, [])
                v.count += q
                v.encounters += 1
                v.patients.insert(e.patient)
                pv[k] = v
            }
        }
        out[Warehouse.mvProcedureVolume] = pv.keys.sorted { a, b in
            let ma = Array(procedureInfo[a.code]!.modality.utf8), mb = Array(procedureInfo[b.code]!.modality.utf8)
            if ma != mb { return ma.lexicographicallyPrecedes(mb) }
            if a.code != b.code { return Array(a.code.utf8).lexicographicallyPrecedes(Array(b.code.utf8)) }
            return (a.y, a.m) < (b.y, b.m)
        }.map { k in
            let p = procedureInfo[k.code]!
            return [p.modality, p.code, p.name, cell(k.y), cell(k.m), cell(pv[k]!.count), cell(pv[k]!.encounters), cell(pv[k]!.patients.count)]
        }
        return out
    }
}

/// A batch as rows of text cells in the reference's notation.
func rows(of batch: Batch) -> Rows {
    (0..<batch.rowCount).map { i in
        batch.columns.map { c -> String in
            if c.isNull(i) { return nullCell }
            switch c.values {
            case .bool(let v): return "\(v[i])"
            case .int8(let v): return "\(v[i])"
            case .int16(let v): return "\(v[i])"
            case .int32(let v): return "\(v[i])"
            case .int64(let v): return "\(v[i])"
            case .float64(let v): return "\(v[i])"
            case .date(let v): return "\(v[i])"
            case .timestamp(let v): return "\(v[i])"
            case .uuid(let v): return v[i].text
            case .string(let s): return s[i]
            }
        }
    }
}
