import FicheLake
import Testing

@testable import FicheSources

// Column accessors for the tests.
extension Batch {
    func uuids(_ name: String) -> [UUID16] {
        guard case .uuid(let v)? = column(name)?.values else { Issue.record("no uuid column \(name)"); return [] }
        return v
    }
    func strings(_ name: String) -> [String] {
        guard case .string(let s)? = column(name)?.values else { Issue.record("no string column \(name)"); return [] }
        return (0..<s.count).map { s[$0] }
    }
    func dates(_ name: String) -> [Int32] {
        guard case .date(let v)? = column(name)?.values else { Issue.record("no date column \(name)"); return [] }
        return v
    }
    func int16s(_ name: String) -> [Int16] {
        guard case .int16(let v)? = column(name)?.values else { Issue.record("no int16 column \(name)"); return [] }
        return v
    }
    func bools(_ name: String) -> [Bool] {
        guard case .bool(let v)? = column(name)?.values else { Issue.record("no bool column \(name)"); return [] }
        return v
    }
}

/// Everything a generator produces, blocks concatenated by hand (no lake needed).
struct GeneratedClinic {
    var facilities: Batch
    var codes: Batch
    var blocks: [SyntheticBlock] = []

    init(_ clinic: SyntheticClinic) {
        facilities = clinic.facilityBatch()
        codes = clinic.diagnosisCodeBatch()
        clinic.forEachBlock { blocks.append($0) }
    }

    func all<T>(_ table: KeyPath<SyntheticBlock, Batch>, _ get: (Batch) -> [T]) -> [T] {
        blocks.flatMap { get($0[keyPath: table]) }
    }
    func count(_ table: KeyPath<SyntheticBlock, Batch>) -> Int { blocks.reduce(0) { $0 + $1[keyPath: table].rowCount } }
}

/// The defaults, generated once for the tests that only read them.
let defaultClinic: GeneratedClinic = {
    do { return GeneratedClinic(try SyntheticClinic()) } catch { fatalError("default clinic: \(error)") }
}()

@Suite struct SyntheticClinicTests {
    @Test func sameSeedSameValuesDifferentSeedDifferentValues() throws {
        let a = GeneratedClinic(try SyntheticClinic(seed: 7, patients: 800, facilities: 6))
        let b = GeneratedClinic(try SyntheticClinic(seed: 7, patients: 800, facilities: 6))
        let c = GeneratedClinic(try SyntheticClinic(seed: 8, patients: 800, facilities: 6))
        for (x, y) in zip(a.blocks, b.blocks) {
            for (tx, ty) in zip(x.tables, y.tables) {
                #expect(tx.batch.columns == ty.batch.columns, "table \(tx.name) differs for the same seed")
            }
        }
        #expect(a.facilities.columns == b.facilities.columns)
        #expect(a.all(\.patients) { $0.uuids("patient_id") } != c.all(\.patients) { $0.uuids("patient_id") })
        #expect(a.all(\.encounters) { $0.dates("encounter_date") } != c.all(\.encounters) { $0.dates("encounter_date") })
        #expect(a.all(\.reports) { $0.strings("report_text") } != c.all(\.reports) { $0.strings("report_text") })
    }

    @Test(arguments: [1, 97, 1000])
    func blockSizeDoesNotChangeTheData(blockPatients: Int) throws {
        let whole = GeneratedClinic(try SyntheticClinic(seed: 3, patients: 1000, blockPatients: 1000))
        let split = GeneratedClinic(try SyntheticClinic(seed: 3, patients: 1000, blockPatients: blockPatients))
        #expect(split.blocks.count == (1000 + blockPatients - 1) / blockPatients)
        // Rows are grouped by block, then by year: compare them keyed by their ids.
        #expect(whole.all(\.patients) { $0.uuids("patient_id") } == split.all(\.patients) { $0.uuids("patient_id") })
        func keyed(_ g: GeneratedClinic) -> [UUID16: String] {
            var m: [UUID16: String] = [:]
            for b in g.blocks {
                let e = b.encounters
                for (i, (p, (f, d))) in zip(e.uuids("encounter_id"),
                                            zip(e.uuids("patient_id"), zip(e.uuids("facility_id"), e.dates("encounter_date")))) {
                    m[i] = "\(p.text) \(f.text) \(d)"
                }
                let q = b.procedures
                for (i, (e, c)) in zip(q.uuids("procedure_id"), zip(q.uuids("encounter_id"), q.strings("procedure_code"))) {
                    m[i] = "\(e.text) \(c)"
                }
                let d = b.diagnoses
                for (i, (e, c)) in zip(d.uuids("diagnosis_id"), zip(d.uuids("encounter_id"), d.strings("code"))) {
                    m[i] = "\(e.text) \(c)"
                }
                let r = b.reports
                for (i, (e, t)) in zip(r.uuids("report_id"), zip(r.uuids("encounter_id"), r.strings("report_text"))) {
                    m[i] = "\(e.text) \(t)"
                }
            }
            return m
        }
        let a = keyed(whole), b = keyed(split)
        #expect(a.count > 10_000)
        #expect(a == b)
    }

    @Test func eachYearHasItsOwnBatch() {
        for b in defaultClinic.blocks {
            for (y, batch) in b.encountersByYear.enumerated() {
                let years = Set(batch.dates("encounter_date").map { SyntheticCalendar.yearMonth(Int($0)).year })
                #expect(years == [2022 + y])
            }
            #expect(b.proceduresByYear.count == 3 && b.diagnosesByYear.count == 3 && b.reportsByYear.count == 3)
        }
    }

    @Test func defaultsReproduceTheOriginalVolumes() {
        let g = defaultClinic
        #expect(g.facilities.rowCount == 10)
        #expect(g.count(\.patients) == 5_000)
        func within(_ n: Int, _ target: Double) -> Bool { abs(Double(n) - target) <= 0.10 * target }
        #expect(within(g.count(\.encounters), 27_000), "encounters \(g.count(\.encounters))")
        #expect(within(g.count(\.procedures), 50_000), "procedures \(g.count(\.procedures))")
        #expect(within(g.count(\.diagnoses), 33_000), "diagnoses \(g.count(\.diagnoses))")
        let perPatient = Double(g.count(\.encounters)) / 5_000
        #expect(abs(perPatient - SyntheticClinic.encountersPerPatient) < 0.1)
        #expect(SyntheticClinic.patients(forEncounters: 27_000) == 5_000)
    }

    @Test func everyReferenceResolves() {
        let g = defaultClinic
        let patients = Set(g.all(\.patients) { $0.uuids("patient_id") })
        let facilities = Set(g.facilities.uuids("facility_id"))
        let encounterIDs = g.all(\.encounters) { $0.uuids("encounter_id") }
        let encounters = Set(encounterIDs)
        let codes = Set(g.codes.strings("code"))
        #expect(patients.count == 5_000)
        #expect(encounters.count == encounterIDs.count, "encounter ids are unique")
        #expect(g.all(\.encounters) { $0.uuids("patient_id") }.allSatisfy(patients.contains))
        #expect(g.all(\.encounters) { $0.uuids("facility_id") }.allSatisfy(facilities.contains))
        for table in [\SyntheticBlock.procedures, \.diagnoses, \.reports] {
            #expect(g.all(table) { $0.uuids("encounter_id") }.allSatisfy(encounters.contains))
        }
        #expect(g.all(\.diagnoses) { $0.strings("code") }.allSatisfy(codes.contains))
        let procIDs = g.all(\.procedures) { $0.uuids("procedure_id") }
        #expect(Set(procIDs).count == procIDs.count, "procedure ids are unique")
        let dxIDs = g.all(\.diagnoses) { $0.uuids("diagnosis_id") }
        #expect(Set(dxIDs).count == dxIDs.count, "diagnosis ids are unique")
        #expect(Set(g.codes.strings("code")).count == g.codes.rowCount, "diagnosis codes are unique")
    }

    @Test func someEncountersLackProceduresDiagnosesOrReportsAndOneDiagnosisIsPrimary() {
        let g = defaultClinic
        let encounters = g.all(\.encounters) { $0.uuids("encounter_id") }
        let withProcedure = Set(g.all(\.procedures) { $0.uuids("encounter_id") })
        let withReport = g.all(\.reports) { $0.uuids("encounter_id") }
        let dxEncounter = g.all(\.diagnoses) { $0.uuids("encounter_id") }
        let primary = g.all(\.diagnoses) { $0.bools("is_primary") }
        let n = Double(encounters.count)
        #expect(Double(encounters.count - withProcedure.count) / n > 0.03)
        #expect(Double(encounters.count - Set(dxEncounter).count) / n > 0.03)
        #expect(Double(withReport.count) / n > 0.6, "most encounters have a report")
        #expect(withReport.count < encounters.count)
        #expect(Set(withReport).count == withReport.count, "one report per encounter at most")
        var primaries: [UUID16: Int] = [:]
        for (e, p) in zip(dxEncounter, primary) where p { primaries[e, default: 0] += 1 }
        #expect(primaries.count == Set(dxEncounter).count)
        #expect(primaries.values.allSatisfy { $0 == 1 })
    }

    @Test func malariaIsAChildhoodDiseaseAndHypertensionAnAdultOne() {
        let g = defaultClinic
        var birthYear: [UUID16: Int] = [:]
        for b in g.blocks {
            for (p, y) in zip(b.patients.uuids("patient_id"), b.patients.int16s("birth_year")) { birthYear[p] = Int(y) }
        }
        var encounterAge: [UUID16: Int] = [:]
        for b in g.blocks {
            for (e, (p, d)) in zip(b.encounters.uuids("encounter_id"),
                                   zip(b.encounters.uuids("patient_id"), b.encounters.dates("encounter_date"))) {
                encounterAge[e] = SyntheticCalendar.yearMonth(Int(d)).year - (birthYear[p] ?? 0)
            }
        }
        var child = [String: Int](), adult = [String: Int]()
        var children = 0, adults = 0
        for b in g.blocks {
            for (e, code) in zip(b.diagnoses.uuids("encounter_id"), b.diagnoses.strings("code")) {
                let age = encounterAge[e] ?? -1
                if age < 15 {
                    children += 1
                    child[code, default: 0] += 1
                } else if age >= 18 {
                    adults += 1
                    adult[code, default: 0] += 1
                }
            }
        }
        func share(_ m: [String: Int], _ total: Int, _ codes: [String]) -> Double {
            Double(codes.reduce(0) { $0 + (m[$1] ?? 0) }) / Double(max(total, 1))
        }
        let malaria = ["B54", "B50.9"]
        #expect(share(child, children, malaria) > 2 * share(adult, adults, malaria))
        #expect(share(child, children, ["A09"]) > share(adult, adults, ["A09"]))
        #expect(share(adult, adults, ["I10"]) > 5 * share(child, children, ["I10"]))
        #expect(share(adult, adults, ["O80", "O82", "Z34.9"]) > 0.02)
        #expect(share(child, children, ["O80", "O82"]) < 0.005)
    }

    @Test func malariaRisesInTheRainySeasons() {
        let g = defaultClinic
        var date: [UUID16: Int32] = [:]
        for b in g.blocks {
            for (e, d) in zip(b.encounters.uuids("encounter_id"), b.encounters.dates("encounter_date")) { date[e] = d }
        }
        var rainy = (malaria: 0, all: 0), dry = (malaria: 0, all: 0)
        for b in g.blocks {
            for (e, code) in zip(b.diagnoses.uuids("encounter_id"), b.diagnoses.strings("code")) {
                let month = SyntheticCalendar.yearMonth(Int(date[e] ?? 0)).month
                let isMalaria = code == "B54" || code == "B50.9"
                if SyntheticCalendar.isRainy(month: month) {
                    rainy.all += 1
                    if isMalaria { rainy.malaria += 1 }
                } else {
                    dry.all += 1
                    if isMalaria { dry.malaria += 1 }
                }
            }
        }
        #expect(Double(rainy.malaria) / Double(rainy.all) > 1.3 * Double(dry.malaria) / Double(dry.all))
    }

    @Test func aChronicMinorityVisitsOften() {
        let g = defaultClinic
        var visits: [UUID16: Int] = [:]
        for p in g.all(\.encounters, { $0.uuids("patient_id") }) { visits[p, default: 0] += 1 }
        let frequent = visits.values.filter { $0 >= 5 }.count
        #expect(frequent > 5_000 / 20, "a real group of high-volume patients")
        #expect(frequent < 5_000 / 2, "but a minority")
        #expect(visits.values.contains { $0 >= 20 })
        #expect(visits.count < 5_000, "some registered patients never visit")
    }

    @Test func datesCategoriesAndPlacesAreThoseOfTheRwandanNetwork() {
        let g = defaultClinic
        let dates = g.all(\.encounters) { $0.dates("encounter_date") }
        #expect(dates.min() == SyntheticCalendar.firstDay)
        #expect(dates.max() == SyntheticCalendar.lastDay)
        #expect(Set(dates.map { SyntheticCalendar.yearMonth(Int($0)).year }) == [2022, 2023, 2024])
        #expect(Set(g.all(\.encounters) { $0.strings("encounter_type") }) == ["outpatient", "inpatient", "emergency"])
        #expect(Set(g.all(\.procedures) { $0.strings("modality") }) == ["XR", "CT", "MR", "US", "LAB"])
        #expect(Set(g.facilities.strings("facility_type")) == Set(FacilityType.allCases.map(\.rawValue)))
        #expect(g.facilities.strings("facility_name").contains("CHUK"))
        for (d, p) in zip(g.facilities.strings("district"), g.facilities.strings("province")) {
            #expect(RwandaCatalog.province(ofDistrict: d) == p)
        }
        let districts = g.all(\.patients) { $0.strings("district") }
        let provinces = g.all(\.patients) { $0.strings("province") }
        #expect(zip(districts, provinces).allSatisfy { RwandaCatalog.province(ofDistrict: $0) == $1 })
        let sexes = g.all(\.patients) { $0.strings("sex") }
        let women = Double(sexes.filter { $0 == "F" }.count) / Double(sexes.count)
        #expect(women > 0.47 && women < 0.56)
        // A young population: the median age on 2022-01-01 is under 25.
        let ages = g.all(\.patients) { $0.int16s("birth_year") }.map { 2022 - Int($0) }.sorted()
        #expect(ages[ages.count / 2] < 25 && ages[ages.count / 2] > 12)
        #expect(g.all(\.patients) { $0.strings("source_id") }.first == "RW000000001")
        // Birth dates agree with birth years; some patients, older ones mostly, have only the year.
        var yearOnly = 0, yearOnlyOver40 = 0, over40 = 0
        for b in g.blocks {
            guard let date = b.patients.column("birth_date") else { continue }
            let years = b.patients.int16s("birth_year"), dates = b.patients.dates("birth_date")
            for i in 0..<b.patients.rowCount {
                let old = 2022 - Int(years[i]) > 41
                if old { over40 += 1 }
                if date.isNull(i) {
                    yearOnly += 1
                    if old { yearOnlyOver40 += 1 }
                } else {
                    #expect(SyntheticCalendar.yearMonth(Int(dates[i])).year == Int(years[i]))
                }
            }
        }
        #expect(yearOnly > 0 && yearOnly < 5_000 / 10)
        #expect(Double(yearOnlyOver40) / Double(over40) > 0.1)
        // Procedure dates are the encounter's day, or a day or two later for admissions.
        let procDates = g.all(\.procedures) { $0.dates("procedure_date") }
        #expect(procDates.allSatisfy { $0 >= SyntheticCalendar.firstDay && $0 <= SyntheticCalendar.lastDay + 2 })
    }

    @Test func reportsReadLikeReportsForTheirModality() {
        let g = defaultClinic
        let types = g.all(\.reports) { $0.strings("report_type") }
        let texts = g.all(\.reports) { $0.strings("report_text") }
        #expect(Set(types) == ["radiology", "pathology"])
        for (t, text) in zip(types, texts).prefix(2_000) {
            if t == "radiology" {
                #expect(text.hasPrefix("EXAMINATION: ") && text.contains(" FINDINGS: ") && text.contains(" IMPRESSION: "))
            } else {
                #expect(text.hasPrefix("SPECIMEN: ") && text.contains(" RESULT: ") && text.contains(" COMMENT: "))
            }
        }
        #expect(texts.contains { $0.contains("Plasmodium falciparum") })
        #expect(texts.contains { $0.contains("consolidation") })
        #expect(texts.contains { $0.contains("IMPRESSION: No acute abnormality.") })
        #expect(Set(texts).count > 500, "the texts vary")
    }

    @Test func badParametersAreRefused() {
        #expect(throws: SourceError.invalidFacilities(0)) { try SyntheticClinic(facilities: 0) }
        #expect(throws: SourceError.invalidPatients(-1)) { try SyntheticClinic(patients: -1) }
        #expect(throws: SourceError.invalidBlockSize(0)) { try SyntheticClinic(blockPatients: 0) }
    }

    @Test func noPatientsStillGivesTheReferenceTables() throws {
        let g = GeneratedClinic(try SyntheticClinic(patients: 0, facilities: 3))
        #expect(g.blocks.isEmpty)
        #expect(g.facilities.rowCount == 3)
        #expect(g.codes.rowCount == RwandaCatalog.diagnoses.count)
    }

    @Test func largeNetworksNameFacilitiesBeyondTheCatalog() throws {
        let clinic = try SyntheticClinic(patients: 2_000, facilities: 200)
        let f = clinic.facilityBatch()
        let names = f.strings("facility_name")
        #expect(Set(names).count == 200)
        #expect(Set(f.strings("source_id")).count == 200)
        #expect(zip(f.strings("district"), f.strings("province")).allSatisfy { RwandaCatalog.province(ofDistrict: $0) == $1 })
        let g = GeneratedClinic(clinic)
        #expect(Set(g.all(\.encounters) { $0.uuids("facility_id") }).count > 100, "patients spread over the network")
    }
}

@Suite struct SyntheticCalendarTests {
    /// Walks day by day from 1970-01-01 with plain month lengths and compares.
    @Test func yearMonthAgreesWithADayByDayWalk() {
        let lengths = { (y: Int, m: Int) -> Int in
            [31, (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
        }
        // forwards to 2101
        var (y, m, d) = (1970, 1, 1)
        for day in 0..<(131 * 366) {
            if day % 7 == 0 || d == 1 || d >= 28 {
                let got = SyntheticCalendar.yearMonth(day)
                #expect(got.year == y && got.month == m, "day \(day)")
                #expect(SyntheticCalendar.year(day) == y)
            }
            d += 1
            if d > lengths(y, m) { d = 1; m += 1 }
            if m > 12 { m = 1; y += 1 }
        }
        // backwards to 1899
        (y, m, d) = (1969, 12, 31)
        for day in stride(from: -1, through: -71 * 366, by: -1) {
            if d == 1 || d >= 28 {
                let got = SyntheticCalendar.yearMonth(day)
                #expect(got.year == y && got.month == m, "day \(day)")
            }
            d -= 1
            if d == 0 {
                m -= 1
                if m == 0 { m = 12; y -= 1 }
                d = lengths(y, m)
            }
        }
        #expect(SyntheticCalendar.yearStart(2022) == Int(SyntheticCalendar.firstDay))
        #expect(SyntheticCalendar.yearStart(2025) - 1 == Int(SyntheticCalendar.lastDay))
        #expect(SyntheticCalendar.weekday(Int(SyntheticCalendar.firstDay)) == 6, "2022-01-01 was a Saturday")
    }

    @Test(arguments: [[1.0], [1, 2, 3, 4], [0, 5, 0, 5], [0.1, 100, 0.1], [3, 0]])
    func lookupTablesFollowTheirWeights(weights: [Double]) {
        let bits = 12
        let t = SyntheticLookup.table(weights, bits: bits)
        #expect(t.count == 1 << bits)
        let total = weights.reduce(0, +)
        for (i, w) in weights.enumerated() {
            let expected = w / total * Double(1 << bits)
            let got = Double(t.filter { $0 == i }.count)
            #expect(abs(got - expected) <= 1.0, "index \(i): \(got) slots for \(expected)")
        }
        #expect(t == t.sorted(), "slots are in index order")
    }
}
