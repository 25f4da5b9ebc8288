// A small, internally consistent warehouse generated from a seed, with the mv_* aggregates
// computed by a plain reference (dictionaries and loops) following the documented SQL.

import FicheLake
import FicheWarehouse

struct WarehouseFixture {
    var tables: [(name: String, batch: Batch)]

    func batch(_ name: String) -> Batch? { tables.first { $0.name == name }?.batch }

    /// `months`: YYYYMM values the encounters fall in. `variant` changes has_report and the
    /// encounter type of every encounter (same keys), so a republish is observable.
    init(seed: UInt64, patients: Int = 40, encountersPerMonth: Int = 30, months: [Int], variant: Int = 0,
         extraEncountersIn extraMonth: Int? = nil) {
        var rng = SplitMix64(seed: seed)
        let ageGroups = Warehouse.ageGroups
        // dim_patient
        var pKey: [Int32] = [], pId: [UUID16] = [], pSource = StringArray(), pSourceId = StringArray(), pSex = StringArray()
        var pSexValid = Bitmap(), pBirthYear: [Int16] = [], pBirthValid = Bitmap(), pAge: [Int16] = [], pAgeGroup = StringArray()
        var pTotal: [Int32] = []
        for i in 0..<patients {
            pKey.append(Int32(i + 1))
            pId.append(.derived(seed, UInt64(i)))
            pSource.append(i % 3 == 0 ? "padchest" : "synthetic")
            pSourceId.append("P\(i)\t'\"\\")
            let sexKnown = i % 7 != 3
            pSex.append(sexKnown ? ["M", "F", "O"][i % 3] : "")
            pSexValid.append(sexKnown)
            let known = i % 5 != 4
            let age = Int(rng.next() % 95)
            pBirthYear.append(known ? Int16(2017 - age) : 0)
            pBirthValid.append(known)
            pAge.append(known ? Int16(age) : 0)
            pAgeGroup.append(known ? ageGroups[age < 18 ? 0 : age <= 30 ? 1 : age <= 50 ? 2 : age <= 70 ? 3 : 4] : "")
            pTotal.append(0)
        }
        // dim_facility, dim_procedure, dim_diagnosis
        let facilities = 4
        let procedures: [(String, String, String)] = [
            ("71045", "Chest X-ray, 1 view", "XR"), ("71046", "Chest X-ray, 2 views", "XR"),
            ("71250", "CT thorax", "CT"), ("76604", "Ultrasound chest", "US"), ("85025", "Complete blood count", "LAB"),
        ]
        let diagnoses: [(String, String, String, String, String?)] = [
            ("J18.9", "Pneumonia, unspecified", "Respiratory", "ICD-10", "C0032285"),
            ("A15.0", "Tuberculosis of lung", "Infectious", "ICD-10", nil),
            ("I50.9", "Heart failure, \"unspecified\"", "Circulatory", "ICD-10", "C0018801"),
            ("cardiomegaly", "Cardiomegaly", "finding", "PADCHEST-FINDING", "C0018800"),
            ("normal", "Normal — no finding 🫁", "finding", "PADCHEST-FINDING", nil),
            ("B54", "Malaria, unspecified\nnew line\ttab \\ back's", "Infectious", "ICD-10", nil),
        ]
        // fact + bridges
        var eKey: [Int64] = [], eId: [UUID16] = [], ePatient: [Int32] = [], eFacility: [Int32] = [], eDate: [Int32] = []
        var eType = StringArray(), eSource = StringArray(), eAge: [Int16] = [], eAgeValid = Bitmap()
        var eNumP: [Int16] = [], eNumD: [Int16] = [], eReport: [Bool] = []
        var bpE: [Int64] = [], bpP: [Int32] = [], bpD: [Int32] = [], bpQ: [Int16] = []
        var bdE: [Int64] = [], bdD: [Int32] = [], bdDate: [Int32] = [], bdPrimary: [Bool] = [], bdQ: [Int16] = []
        var days = Set<Int32>()
        for month in months.sorted() {
            let count = encountersPerMonth + (month == extraMonth ? 7 : 0)
            var mrng = SplitMix64(seed: seed ^ UInt64(month) &* 0x9E37_79B9)
            for j in 0..<count {
                let y = month / 100, m = month % 100
                let day = Int(mrng.next() % UInt64(daysInMonth(y, m))) + 1
                let dateKey = Int32(y * 10000 + m * 100 + day)
                days.insert(dateKey)
                let key = Int64(month) * 1000 + Int64(j)
                let patient = Int(mrng.next() % UInt64(patients))
                eKey.append(key)
                eId.append(.derived(UInt64(month), UInt64(j)))
                ePatient.append(Int32(patient + 1))
                pTotal[patient] += 1
                eFacility.append(Int32(mrng.next() % UInt64(facilities)) + 1)
                eDate.append(dateKey)
                eType.append(["outpatient", "inpatient", "emergency"][(j + variant) % 3])
                eSource.append(pSource[patient])
                let known = pBirthValid[patient]
                eAge.append(known ? pAge[patient] : 0)
                eAgeValid.append(known)
                // procedures: up to 3 distinct codes
                let np = Int(mrng.next() % 4)
                var total: Int16 = 0
                for (k, code) in Array(0..<procedures.count).shuffled(using: &mrng).prefix(np).enumerated() {
                    let q = Int16(1 + (k + j) % 2)
                    bpE.append(key); bpP.append(Int32(code + 1)); bpD.append(dateKey); bpQ.append(q)
                    total += q
                }
                let nd = Int(mrng.next() % 4)
                var diagnosisRows: Int16 = 0
                for (k, code) in Array(0..<diagnoses.count).shuffled(using: &mrng).prefix(nd).enumerated() {
                    let q = Int16(1 + (k + j + 1) % 2)
                    bdE.append(key); bdD.append(Int32(code + 1)); bdDate.append(dateKey); bdPrimary.append(k == 0); bdQ.append(q)
                    diagnosisRows += q
                }
                eNumP.append(total)
                eNumD.append(diagnosisRows)
                eReport.append((mrng.next() + UInt64(variant)) % 3 != 0)
            }
        }
        // dim_time: every day of every year with encounters
        let years = Set(days.map { Int($0) / 10000 }).sorted()
        var tKey: [Int32] = [], tDate: [Int32] = [], tYear: [Int16] = [], tQuarter: [Int8] = [], tMonth: [Int8] = []
        var tMonthName = StringArray(), tWeek: [Int8] = [], tDay: [Int8] = [], tDow: [Int8] = [], tDayName = StringArray(), tWeekend: [Bool] = []
        let monthNames = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
        let dayNames = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
        for y in years {
            for m in 1...12 {
                for d in 1...daysInMonth(y, m) {
                    let dn = daysFromCivil(y, m, d)
                    let dow = Int(((dn % 7) + 7 + 3) % 7) + 1  // 1970-01-01 was a Thursday (4)
                    tKey.append(Int32(y * 10000 + m * 100 + d)); tDate.append(Int32(dn)); tYear.append(Int16(y))
                    tQuarter.append(Int8((m - 1) / 3 + 1)); tMonth.append(Int8(m)); tMonthName.append(monthNames[m - 1])
                    tWeek.append(Int8(1 + (d + 31 * (m - 1)) / 7 % 53)); tDay.append(Int8(d)); tDow.append(Int8(dow))
                    tDayName.append(dayNames[dow - 1]); tWeekend.append(dow >= 6)
                }
            }
        }
        // patient first/last encounter dates
        var first = [Int32](repeating: Int32.max, count: patients), last = [Int32](repeating: Int32.min, count: patients)
        for i in 0..<eKey.count {
            let p = Int(ePatient[i]) - 1
            let d = Int32(daysFromCivil(Int(eDate[i]) / 10000, Int(eDate[i]) / 100 % 100, Int(eDate[i]) % 100))
            first[p] = min(first[p], d); last[p] = max(last[p], d)
        }
        let hasEnc = Bitmap(bytes: Self.bits(pTotal.map { $0 > 0 }), count: patients)

        func col(_ v: ColumnValues, _ valid: Bitmap? = nil) -> Column { Column(v, validity: valid) }
        let strs = { (a: [String]) in ColumnValues.string(StringArray(a)) }
        var t: [(String, Batch)] = []
        t.append((Warehouse.dimPatient, Batch(schema: Warehouse.dimPatientSchema, columns: [
            col(.int32(pKey)), col(.uuid(pId)), col(.string(pSource)), col(.string(pSourceId)), col(.string(pSex), pSexValid),
            col(.int16(pBirthYear), pBirthValid), Column.nulls(.date, count: patients), col(.int16(pAge), pBirthValid),
            col(.string(pAgeGroup), pBirthValid), col(strs((0..<patients).map { "District \($0 % 4)" })), Column.nulls(.string, count: patients),
            col(.date(first.map { $0 == Int32.max ? 0 : $0 }), hasEnc), col(.date(last.map { $0 == Int32.min ? 0 : $0 }), hasEnc),
            col(.int32(pTotal)),
        ])))
        t.append((Warehouse.dimFacility, Batch(schema: Warehouse.dimFacilitySchema, columns: [
            col(.int32((1...Int32(facilities)).map { $0 })), col(.uuid((0..<facilities).map { .derived(99, UInt64($0)) })),
            col(strs(Array(repeating: "synthetic", count: facilities))), col(strs((0..<facilities).map { "Clinic \($0) — Kigali's \"best\"" })),
            col(strs(Array(repeating: "health centre", count: facilities))), col(strs(Array(repeating: "Gasabo", count: facilities))),
            Column.nulls(.string, count: facilities), col(strs(Array(repeating: "Rwanda", count: facilities))),
        ])))
        t.append((Warehouse.dimProcedure, Batch(schema: Warehouse.dimProcedureSchema, columns: [
            col(.int32((1...Int32(procedures.count)).map { $0 })), col(strs(procedures.map(\.0))), col(strs(procedures.map(\.1))), col(strs(procedures.map(\.2))),
        ])))
        t.append((Warehouse.dimDiagnosis, Batch(schema: Warehouse.dimDiagnosisSchema, columns: [
            col(.int32((1...Int32(diagnoses.count)).map { $0 })), col(strs(diagnoses.map(\.0))), col(strs(diagnoses.map(\.1))),
            col(strs(diagnoses.map(\.2))), col(strs(diagnoses.map(\.3))),
            col(strs(diagnoses.map { $0.4 ?? "" }), Bitmap(bytes: Self.bits(diagnoses.map { $0.4 != nil }), count: diagnoses.count)),
        ])))
        t.append((Warehouse.dimTime, Batch(schema: Warehouse.dimTimeSchema, columns: [
            col(.int32(tKey)), col(.date(tDate)), col(.int16(tYear)), col(.int8(tQuarter)), col(.int8(tMonth)), col(.string(tMonthName)),
            col(.int8(tWeek)), col(.int8(tDay)), col(.int8(tDow)), col(.string(tDayName)), col(.bool(tWeekend)),
        ])))
        t.append((Warehouse.factEncounters, Batch(schema: Warehouse.factEncountersSchema, columns: [
            col(.int64(eKey)), col(.uuid(eId)), col(.int32(ePatient)), col(.int32(eFacility)), col(.int32(eDate)), col(.string(eType)),
            col(.string(eSource)), col(.int16(eAge), eAgeValid), col(.int16(eNumP)), col(.int16(eNumD)), col(.bool(eReport)),
        ])))
        t.append((Warehouse.bridgeEncounterProcedure, Batch(schema: Warehouse.bridgeEncounterProcedureSchema, columns: [
            col(.int64(bpE)), col(.int32(bpP)), col(.int32(bpD)), col(.int16(bpQ)),
        ])))
        t.append((Warehouse.bridgeEncounterDiagnosis, Batch(schema: Warehouse.bridgeEncounterDiagnosisSchema, columns: [
            col(.int64(bdE)), col(.int32(bdD)), col(.int32(bdDate)), col(.bool(bdPrimary)), col(.int16(bdQ)),
        ])))

        // Reference aggregates.
        var monthly: [Int: (enc: Int64, patients: Set<Int32>, proc: Int64, diag: Int64, rep: Int64)] = [:]
        for i in 0..<eKey.count {
            let ym = Int(eDate[i]) / 100
            var a = monthly[ym] ?? (0, [], 0, 0, 0)
            a.enc += 1; a.patients.insert(ePatient[i]); a.proc += Int64(eNumP[i]); a.diag += Int64(eNumD[i]); a.rep += eReport[i] ? 1 : 0
            monthly[ym] = a
        }
        let mk = monthly.keys.sorted()
        t.append((Warehouse.mvMonthlyEncounters, Batch(schema: Warehouse.mvMonthlyEncountersSchema, columns: [
            col(.int16(mk.map { Int16($0 / 100) })), col(.int8(mk.map { Int8($0 % 100) })), col(strs(mk.map { monthNames[$0 % 100 - 1] })),
            col(.int64(mk.map { monthly[$0]!.enc })), col(.int64(mk.map { Int64(monthly[$0]!.patients.count) })),
            col(.int64(mk.map { monthly[$0]!.proc })), col(.int64(mk.map { monthly[$0]!.diag })), col(.int64(mk.map { monthly[$0]!.rep })),
        ])))
        var encIndex: [Int64: Int] = [:]
        for i in 0..<eKey.count { encIndex[eKey[i]] = i }
        var byAge: [String: (count: Int64, patients: Set<Int32>)] = [:]  // "group\u{1}diagnosisIndex"
        for i in 0..<bdE.count {
            guard let e = encIndex[bdE[i]] else { continue }
            let p = Int(ePatient[e]) - 1
            let group = pBirthValid[p] ? pAgeGroup[p] : "unknown"
            let k = group + "\u{1}" + String(bdD[i] - 1)
            var a = byAge[k] ?? (0, [])
            a.count += 1; a.patients.insert(ePatient[e]); byAge[k] = a
        }
        let ak = byAge.keys.sorted()
        let akParts = ak.map { $0.split(separator: "\u{1}").map(String.init) }
        t.append((Warehouse.mvDiagnosisByAgeGroup, Batch(schema: Warehouse.mvDiagnosisByAgeGroupSchema, columns: [
            col(strs(akParts.map { $0[0] })), col(strs(akParts.map { diagnoses[Int($0[1])!].0 })), col(strs(akParts.map { diagnoses[Int($0[1])!].1 })),
            col(.int64(ak.map { byAge[$0]!.count })), col(.int64(ak.map { Int64(byAge[$0]!.patients.count) })),
        ])))
        var volume: [Int: (count: Int64, enc: Set<Int64>, patients: Set<Int32>)] = [:]  // procIndex*1_000_000 + yyyymm
        for i in 0..<bpE.count {
            guard let e = encIndex[bpE[i]] else { continue }
            let k = Int(bpP[i] - 1) * 1_000_000 + Int(bpD[i]) / 100
            var a = volume[k] ?? (0, [], [])
            a.count += Int64(bpQ[i]); a.enc.insert(bpE[i]); a.patients.insert(ePatient[e]); volume[k] = a
        }
        let vk = volume.keys.sorted()
        t.append((Warehouse.mvProcedureVolume, Batch(schema: Warehouse.mvProcedureVolumeSchema, columns: [
            col(strs(vk.map { procedures[$0 / 1_000_000].2 })), col(strs(vk.map { procedures[$0 / 1_000_000].0 })),
            col(strs(vk.map { procedures[$0 / 1_000_000].1 })), col(.int16(vk.map { Int16($0 % 1_000_000 / 100) })),
            col(.int8(vk.map { Int8($0 % 100) })), col(.int64(vk.map { volume[$0]!.count })),
            col(.int64(vk.map { Int64(volume[$0]!.enc.count) })), col(.int64(vk.map { Int64(volume[$0]!.patients.count) })),
        ])))
        tables = t
    }

    static func bits(_ flags: [Bool]) -> [UInt8] {
        var b = Bitmap()
        for f in flags { b.append(f) }
        return b.bytes
    }
}

func daysInMonth(_ y: Int, _ m: Int) -> Int {
    switch m {
    case 2: (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: 30
    default: 31
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
    let y = m <= 2 ? y0 - 1 : y0
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146097 + doe - 719468
}
