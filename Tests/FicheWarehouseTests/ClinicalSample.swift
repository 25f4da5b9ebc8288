// Seeded random clinical tables for the warehouse tests, built row by row from plain Swift
// values and full of the awkward cases: patients without encounters, encounters without
// procedures, diagnoses or report, unknown sex or birth year, leap days, year and ISO-week
// boundaries, dates before 1970, a study id shared by two patients, duplicated ids, rows
// pointing at unknown encounters or codes.

import FicheLake
import FicheModel
import FicheSources
@testable import FicheWarehouse

struct FacilityRow { var id: UUID16; var source: String; var name: String; var type: String; var district: String?; var province: String?; var country: String }
struct PatientRow { var id: UUID16; var source: String; var sourceId: String?; var sex: String?; var birthYear: Int16?; var birthDate: Int32?; var district: String?; var province: String? }
struct EncounterRow { var id: UUID16; var source: String; var sourceId: String?; var patient: UUID16; var facility: UUID16; var date: Int32; var type: String }
struct ProcedureRow { var id: UUID16; var encounter: UUID16; var source: String; var code: String; var name: String; var modality: String; var date: Int32 }
struct DiagnosisCodeRow { var code: String; var description: String; var category: String; var system: String; var cui: String? }
struct DiagnosisRow { var id: UUID16; var encounter: UUID16; var source: String; var code: String; var primary: Bool }
struct ReportRow { var id: UUID16; var encounter: UUID16; var source: String; var text: String }

/// The clinical tables as plain rows.
struct ClinicalSample {
    var facilities: [FacilityRow] = []
    var patients: [PatientRow] = []
    var encounters: [EncounterRow] = []
    var procedures: [ProcedureRow] = []
    var codes: [DiagnosisCodeRow] = []
    var diagnoses: [DiagnosisRow] = []
    var reports: [ReportRow] = []

    static func day(_ y: Int, _ m: Int, _ d: Int) -> Int32 { CivilCalendar.days(year: y, month: m, day: d) }

    static let edgeDates: [Int32] = [
        day(2016, 2, 29), day(2020, 2, 29), day(2015, 12, 31), day(2016, 1, 1), day(2016, 1, 3), day(2016, 1, 4),
        day(2020, 12, 31), day(2021, 1, 1), day(2021, 1, 3), day(2021, 1, 4), day(2018, 12, 31), day(2019, 12, 30),
        day(1969, 12, 31), day(1965, 7, 4),
    ]

    static let procedureCatalog: [(code: String, name: String, modality: String)] = [
        ("71045", "Chest X-ray, single view", "XR"), ("71046", "Chest X-ray, 2 views", "XR"),
        ("74176", "CT abdomen and pelvis", "CT"), ("70551", "MRI brain without contrast", "MR"),
        ("76700", "Abdominal ultrasound, complete", "US"), ("85025", "Complete blood count", "LAB"),
        ("CR-PA", "Chest radiograph PA — long name that is longer than sixteen bytes", "CR"),
    ]

    static let diagnosisCatalog: [DiagnosisCodeRow] = [
        .init(code: "J18.9", description: "Pneumonia, unspecified organism", category: "Respiratory", system: "ICD-10", cui: "C0032285"),
        .init(code: "I51.7", description: "Cardiomegaly", category: "Circulatory", system: "ICD-10", cui: "C0018800"),
        .init(code: "J90", description: "Pleural effusion", category: "Respiratory", system: "ICD-10", cui: nil),
        .init(code: "B54", description: "Unspecified malaria", category: "Infectious", system: "ICD-10", cui: nil),
        .init(code: "E11.9", description: "Type 2 diabetes mellitus", category: "Endocrine", system: "ICD-10", cui: "C0011860"),
        .init(code: "PADCHEST:normal", description: "normal", category: "Finding", system: "PADCHEST-FINDING", cui: "C1550457"),
        .init(code: "PADCHEST:a-finding-code-longer-than-16", description: "long code", category: "Finding", system: "PADCHEST-FINDING", cui: nil),
    ]

    /// A random sample; `patients` patients, about `encounters` encounters.
    static func random(seed: UInt64, patients nPatients: Int = 60, encounters nEncounters: Int = 300,
                       idSalt: UInt64 = 0) -> ClinicalSample {
        var rng = SplitMix64(seed: seed)
        var s = ClinicalSample()
        var serial: UInt64 = idSalt << 40
        func newId() -> UUID16 {
            serial += 1
            return UUID16.derived(seed, serial)
        }
        func chance(_ p: Double) -> Bool { Double(rng.next() % 10_000) < p * 10_000 }
        func pick<T>(_ a: [T]) -> T { a[Int(rng.next() % UInt64(a.count))] }

        for i in 0..<4 {
            s.facilities.append(FacilityRow(id: newId(), source: "synthetic", name: "Facility \(i)", type: pick(["referral hospital", "district hospital", "health centre"]),
                                            district: chance(0.2) ? nil : pick(["Gasabo", "Huye", "Musanze"]), province: chance(0.2) ? nil : "Kigali", country: "Rwanda"))
        }
        s.facilities.append(s.facilities[1])  // a duplicated facility row

        for i in 0..<nPatients {
            var birthYear: Int16? = Int16(1925 + Int(rng.next() % 95))
            var birthDate: Int32?
            if chance(0.15) { birthYear = nil }
            if let y = birthYear, chance(0.5) {
                birthDate = day(Int(y), 1 + Int(rng.next() % 12), 1 + Int(rng.next() % 28))
            }
            if i == 1 { birthYear = 2016; birthDate = day(2016, 2, 29) }  // a leap-day birthday
            if i == 2 { birthYear = 1969; birthDate = day(1969, 12, 31) }
            if i == 3 { birthYear = 2021; birthDate = day(2021, 1, 4) }  // born after some encounters
            s.patients.append(PatientRow(id: newId(), source: i % 7 == 0 ? "padchest" : "synthetic", sourceId: i % 7 == 0 ? "P\(i)" : nil,
                                         sex: chance(0.1) ? nil : pick(["M", "F", "O"]), birthYear: birthYear, birthDate: birthDate,
                                         district: chance(0.3) ? nil : "Huye", province: chance(0.3) ? nil : "Southern"))
        }
        s.patients.append(s.patients[5])  // a duplicated patient row (the first wins)
        s.patients[s.patients.count - 1].sex = "changed"

        s.codes = diagnosisCatalog
        s.codes.append(DiagnosisCodeRow(code: "J90", description: "duplicate row, ignored", category: "x", system: "ICD-10", cui: nil))

        let start = day(2015, 1, 1), span: UInt64 = 6 * 366
        // Patients with index ≥ 90% of the list never have an encounter.
        let active = max(1, nPatients * 9 / 10)
        for i in 0..<nEncounters {
            let patient = s.patients[Int(rng.next() % UInt64(active))].id
            let date = i < edgeDates.count ? edgeDates[i] : start + Int32(rng.next() % span)
            let e = EncounterRow(id: newId(), source: "synthetic", sourceId: chance(0.1) ? "S\(i)" : nil, patient: patient,
                                 facility: s.facilities[Int(rng.next() % 4)].id, date: date,
                                 type: pick(["outpatient", "inpatient", "emergency"]))
            s.encounters.append(e)
            let nProc = chance(0.2) ? 0 : Int(rng.next() % 4)
            for _ in 0..<nProc {
                let p = pick(procedureCatalog)
                s.procedures.append(ProcedureRow(id: newId(), encounter: e.id, source: "synthetic", code: p.code, name: p.name, modality: p.modality, date: date))
            }
            if nProc > 0 && chance(0.2) {  // the same code twice in one encounter
                let last = s.procedures[s.procedures.count - 1]
                s.procedures.append(ProcedureRow(id: newId(), encounter: e.id, source: "synthetic", code: last.code, name: "another name, ignored", modality: last.modality, date: date))
            }
            let nDiag = chance(0.25) ? 0 : Int(rng.next() % 3)
            for k in 0..<nDiag {
                s.diagnoses.append(DiagnosisRow(id: newId(), encounter: e.id, source: "synthetic", code: pick(diagnosisCatalog).code, primary: k == 0))
            }
            if nDiag > 0 && chance(0.2) {  // a repeated code, primary on one row only
                let last = s.diagnoses[s.diagnoses.count - 1]
                s.diagnoses.append(DiagnosisRow(id: newId(), encounter: e.id, source: "synthetic", code: last.code, primary: !last.primary))
            }
            if chance(0.7) {
                s.reports.append(ReportRow(id: newId(), encounter: e.id, source: "synthetic", text: "report \(i)"))
                if chance(0.1) { s.reports.append(ReportRow(id: newId(), encounter: e.id, source: "synthetic", text: "addendum")) }
            }
        }
        // A study id shared by two patients (as in PadChest): two encounters, same source id.
        if s.encounters.count > 20 {
            s.encounters[20].sourceId = "STUDY-SHARED"
            s.encounters[21].sourceId = "STUDY-SHARED"
            s.encounters[21].patient = s.patients[0].id
            s.encounters[20].patient = s.patients[1].id
        }
        // An encounter repeated (the first row wins), one with an unknown patient, one with an
        // unknown facility; rows pointing at an unknown encounter or an unknown code.
        if let first = s.encounters.first {
            var dup = first
            dup.type = "duplicate"
            s.encounters.append(dup)
        }
        s.encounters.append(EncounterRow(id: newId(), source: "synthetic", sourceId: nil, patient: newId(), facility: s.facilities[0].id, date: start, type: "outpatient"))
        s.encounters.append(EncounterRow(id: newId(), source: "synthetic", sourceId: nil, patient: s.patients[0].id, facility: newId(), date: start, type: "outpatient"))
        let stray = newId()
        s.procedures.append(ProcedureRow(id: newId(), encounter: stray, source: "synthetic", code: "99999", name: "orphan procedure", modality: "XR", date: start))
        s.diagnoses.append(DiagnosisRow(id: newId(), encounter: stray, source: "synthetic", code: "J18.9", primary: true))
        if let e = s.encounters.first {
            s.diagnoses.append(DiagnosisRow(id: newId(), encounter: e.id, source: "synthetic", code: "NOT-A-CODE", primary: true))
        }
        s.reports.append(ReportRow(id: newId(), encounter: stray, source: "synthetic", text: "orphan"))
        return s
    }

    // MARK: - As batches

    var input: ClinicalInput {
        ClinicalInput(
            facilities: Batch(schema: ClinicalModel.facilitySchema, columns: [
                uuidColumn(facilities.map(\.id)), stringColumn(facilities.map(\.source)), stringColumn(facilities.map { _ in nil }),
                stringColumn(facilities.map(\.name)), stringColumn(facilities.map(\.type)), stringColumn(facilities.map(\.district)),
                stringColumn(facilities.map(\.province)), stringColumn(facilities.map(\.country)),
            ]),
            patients: Batch(schema: ClinicalModel.patientSchema, columns: [
                uuidColumn(patients.map(\.id)), stringColumn(patients.map(\.source)), stringColumn(patients.map(\.sourceId)),
                stringColumn(patients.map(\.sex)), int16Column(patients.map(\.birthYear)), dateColumn(patients.map(\.birthDate)),
                stringColumn(patients.map(\.district)), stringColumn(patients.map(\.province)),
            ]),
            encounters: Batch(schema: ClinicalModel.encounterSchema, columns: [
                uuidColumn(encounters.map(\.id)), stringColumn(encounters.map(\.source)), stringColumn(encounters.map(\.sourceId)),
                uuidColumn(encounters.map(\.patient)), uuidColumn(encounters.map(\.facility)), dateColumn(encounters.map(\.date)),
                stringColumn(encounters.map(\.type)),
            ]),
            procedures: Batch(schema: ClinicalModel.procedureSchema, columns: [
                uuidColumn(procedures.map(\.id)), uuidColumn(procedures.map(\.encounter)), stringColumn(procedures.map(\.source)),
                stringColumn(procedures.map { _ in nil }), stringColumn(procedures.map(\.code)), stringColumn(procedures.map(\.name)),
                stringColumn(procedures.map(\.modality)), dateColumn(procedures.map(\.date)),
            ]),
            diagnosisCodes: Batch(schema: ClinicalModel.diagnosisCodeSchema, columns: [
                stringColumn(codes.map(\.code)), stringColumn(codes.map(\.description)), stringColumn(codes.map(\.category)),
                stringColumn(codes.map(\.system)), stringColumn(codes.map(\.cui)),
            ]),
            diagnoses: Batch(schema: ClinicalModel.diagnosisSchema, columns: [
                uuidColumn(diagnoses.map(\.id)), uuidColumn(diagnoses.map(\.encounter)), stringColumn(diagnoses.map(\.source)),
                stringColumn(diagnoses.map(\.code)), Column(.bool(diagnoses.map(\.primary))), stringColumn(diagnoses.map { _ in nil }),
                stringColumn(diagnoses.map { _ in nil }),
            ]),
            reports: Batch(schema: ClinicalModel.reportSchema, columns: [
                uuidColumn(reports.map(\.id)), uuidColumn(reports.map(\.encounter)), stringColumn(reports.map(\.source)),
                stringColumn(reports.map { _ in nil }), stringColumn(reports.map { _ in "radiology" }), stringColumn(reports.map(\.text)),
                stringColumn(reports.map { _ in "en" }),
            ]))
    }
}

func validityOf<T>(_ v: [T?]) -> Bitmap? {
    guard v.contains(where: { $0 == nil }) else { return nil }
    var b = Bitmap(repeating: true, count: v.count)
    for i in v.indices where v[i] == nil { b[i] = false }
    return b
}

func uuidColumn(_ v: [UUID16]) -> Column { Column(.uuid(v)) }
func stringColumn(_ v: [String?]) -> Column { Column(.string(StringArray(v.map { $0 ?? "" })), validity: validityOf(v)) }
func stringColumn(_ v: [String]) -> Column { Column(.string(StringArray(v))) }
func int16Column(_ v: [Int16?]) -> Column { Column(.int16(v.map { $0 ?? 0 }), validity: validityOf(v)) }
func dateColumn(_ v: [Int32?]) -> Column { Column(.date(v.map { $0 ?? 0 }), validity: validityOf(v)) }
func dateColumn(_ v: [Int32]) -> Column { Column(.date(v)) }
