// The generator's hot loop: patient by patient, it appends straight into typed
// column arrays (ids, dates, small catalog indices); low-cardinality string columns
// are materialized from the indices at the end, column at a time.

import FicheLake
import FicheModel

struct SyntheticBlockBuilder {
    let clinic: SyntheticClinic
    let lookup: SyntheticLookup
    let firstPatient: Int
    let patientCount: Int
    let facilityIDs: [UUID16]

    // patients
    var patientID: [UUID16] = []
    var patientSex: [UInt8] = []
    var patientBirthYear: [Int16] = []
    var patientBirthDate: [Int32] = []
    /// Whether the full birth date is known (older patients often know only the year).
    var patientBirthDateKnown = Bitmap()
    var patientDistrict: [UInt8] = []
    var patientNumber: SyntheticTextColumn
    /// Encounters and what hangs off them, one set of columns per calendar year, so every
    /// chunk the lake writes covers one year (date-range reads skip the others).
    var years: [Events]

    struct Events {
        // encounters
        var encounterID: [UUID16] = []
        var encounterPatient: [UUID16] = []
        var encounterFacility: [UUID16] = []
        var encounterDate: [Int32] = []
        var encounterType: [UInt8] = []
        // procedures
        var procedureID: [UUID16] = []
        var procedureEncounter: [UUID16] = []
        var procedureCatalog: [UInt8] = []
        var procedureDate: [Int32] = []
        // diagnoses
        var diagnosisID: [UUID16] = []
        var diagnosisEncounter: [UUID16] = []
        var diagnosisCatalog: [UInt8] = []
        var diagnosisPrimary: [Bool] = []
        // reports
        var reportID: [UUID16] = []
        var reportEncounter: [UUID16] = []
        var reportType: [UInt8] = []
        var reportText: SyntheticTextColumn

        init(encounters e: Int) {
            let p = e * 2, d = e * 5 / 4, r = e
            reportText = SyntheticTextColumn(rows: r, bytesPerRow: 280)
            encounterID.reserveCapacity(e)
            encounterPatient.reserveCapacity(e)
            encounterFacility.reserveCapacity(e)
            encounterDate.reserveCapacity(e)
            encounterType.reserveCapacity(e)
            procedureID.reserveCapacity(p)
            procedureEncounter.reserveCapacity(p)
            procedureCatalog.reserveCapacity(p)
            procedureDate.reserveCapacity(p)
            diagnosisID.reserveCapacity(d)
            diagnosisEncounter.reserveCapacity(d)
            diagnosisCatalog.reserveCapacity(d)
            diagnosisPrimary.reserveCapacity(d)
            reportID.reserveCapacity(r)
            reportEncounter.reserveCapacity(r)
            reportType.reserveCapacity(r)
        }
    }

    /// Visit days of the current patient (reused).
    var days: [Int32] = []

    init(clinic: SyntheticClinic, firstPatient: Int, patientCount n: Int, years yearCount: Int = SyntheticCalendar.years,
         encountersPerYear: Int? = nil) {
        self.clinic = clinic
        lookup = clinic.lookup
        self.firstPatient = firstPatient
        self.patientCount = n
        facilityIDs = (0..<clinic.facilities).map(clinic.facilityID)
        patientNumber = SyntheticTextColumn(rows: n, bytesPerRow: 11)
        patientID.reserveCapacity(n)
        patientSex.reserveCapacity(n)
        patientBirthYear.reserveCapacity(n)
        patientBirthDate.reserveCapacity(n)
        patientBirthDateKnown.reserveCapacity(n)
        patientDistrict.reserveCapacity(n)
        years = (0..<yearCount).map { _ in Events(encounters: encountersPerYear ?? n * 2) }
        days.reserveCapacity(64)
    }

    /// Generates the patients numbered `range` (global numbers) and appends all their rows.
    mutating func addPatients(_ range: Range<Int>) {
        let l = lookup  // one copy for the whole block: no reference counting per patient
        l.pool.bytes.withUnsafeBufferPointer { pool in
            l.pool.starts.withUnsafeBufferPointer { starts in
                for p in range { addPatient(p, l, pool, starts) }
            }
        }
    }

    @inline(__always)
    private mutating func addPatient(_ p: Int, _ l: SyntheticLookup, _ pool: UnsafeBufferPointer<UInt8>,
                                     _ starts: UnsafeBufferPointer<Int32>) {
        let key = UInt64(p)
        var r = SplitMix64(seed: clinic.seed ^ SyntheticClinic.Tag.stream.rawValue ^ (key &* 0xD1B5_4A32_D192_ED03))
        _ = r.next()

        // Who they are
        let pr = Self.profile(&r, l)
        let pid = clinic.patientID(p)
        appendPatient(p, pid, pr)
        days.removeAll(keepingCapacity: true)
        for _ in 0..<pr.visits {
            let d = SyntheticCalendar.firstDay + Int32(l.dayTable[r.slot(16)])
            // insertion sort: a patient's visits are few
            var i = days.count
            days.append(d)
            while i > 0 && days[i - 1] > d {
                days[i] = days[i - 1]
                i -= 1
            }
            days[i] = d
        }

        for v in 0..<pr.visits {
            let day = days[v]
            let index = Int(day - SyntheticCalendar.firstDay)
            addVisit(&r, pr, pid: pid, encKey: key << 8 | UInt64(v), day: day, year: Int(l.dayYear[index]),
                     rainy: Int(l.dayRainy[index]), l, pool, starts)
        }

        // Only the birth year is on record for some: a fifth of those over forty, a few others.
        let known = !r.chance(pr.ageDays >= SyntheticLookup.ageFortyDays ? 0.20 : 0.02)
        patientBirthDateKnown.append(known)
        if !known { patientBirthDate[patientBirthDate.count - 1] = 0 }
    }

    /// Who a patient is and how often they come: the first draws of the patient's own stream,
    /// in the order the generator has always made them.
    struct Profile {
        var female: Int
        var ageDays: Int32
        var birth: Int32
        var home: Int
        var district: UInt8
        /// −1, or the long-term condition's diagnosis.
        var chronic: Int
        /// Visits over the three base years.
        var visits: Int
    }

    @inline(__always)
    static func profile(_ r: inout SplitMix64, _ l: SyntheticLookup) -> Profile {
        let female = r.chance(RwandaCatalog.femaleShare) ? 1 : 0
        let band = Int(l.ageBandTable[r.slot(12)])
        let ageDays = l.ageBandFirstDay[band] + Int32(r.below(Int(l.ageBandDays[band])))
        let home = Int(l.homeTable[r.slot(12)])
        // Patients live in their facility's district; a referral hospital draws on its whole province.
        var district = l.facilityDistrictIndex[home]
        if l.facilityIsReferral[home] && r.chance(0.6) {
            district = l.facilityProvinceFirstDistrict[home] &+ UInt8(r.below(Int(l.facilityProvinceDistrictCount[home])))
        }
        // How often they come
        let group = ageDays < SyntheticLookup.ageGroupDays.1 ? 0 : ageDays < SyntheticLookup.ageGroupDays.2 ? 1 : 2
        var chronic = -1
        let visits: Int
        if r.chance(l.chronicShare[group]) {
            chronic = Int(l.chronicTables[group << 10 | r.slot(10)])
            visits = 10 + r.below(23)
        } else {
            visits = Int(l.visitTable[r.slot(10)])
        }
        return Profile(female: female, ageDays: ageDays, birth: SyntheticCalendar.firstDay - ageDays, home: home,
                       district: district, chronic: chronic, visits: visits)
    }

    /// The patient's own row (its birth-date-known flag is appended by the caller).
    @inline(__always)
    mutating func appendPatient(_ p: Int, _ pid: UUID16, _ pr: Profile) {
        patientID.append(pid)
        patientSex.append(pr.female == 1 ? 0 : 1)
        patientBirthDate.append(pr.birth)
        patientBirthYear.append(Int16(SyntheticCalendar.year(Int(pr.birth))))
        patientDistrict.append(pr.district)
        appendPatientNumber(p + 1)
    }

    /// One visit on `day` (falling in year `year` of the builder, `rainy` 1 in a rainy season):
    /// the encounter, its procedures, diagnoses and report, ids derived from `encKey`.
    @inline(__always)
    mutating func addVisit(_ r: inout SplitMix64, _ pr: Profile, pid: UUID16, encKey: UInt64, day: Int32, year y: Int,
                           rainy: Int, _ l: SyntheticLookup, _ pool: UnsafeBufferPointer<UInt8>,
                           _ starts: UnsafeBufferPointer<Int32>) {
        let age = day - pr.birth
        let ageGroup = age < SyntheticLookup.ageGroupDays.0 ? 0 : age < SyntheticLookup.ageGroupDays.1 ? 1
            : age < SyntheticLookup.ageGroupDays.2 ? 2 : 3
        let tableBase = ((ageGroup * 2 + pr.female) * 2 + rainy) << 14
        let dx = pr.chronic >= 0 && r.chance(0.55) ? pr.chronic : Int(l.diagnosisTables[tableBase | r.slot(14)])

        // Encounter type and facility
        let x = r.unit()
        let inP = l.diagnosisInpatient[dx]
        let type: UInt8 = x < inP ? 1 : x < inP + l.diagnosisEmergency[dx] * (1 - inP) ? 2 : 0
        var facility = pr.home
        if type == 0 {
            if r.chance(0.15) { facility = Int(l.referralTable[r.slot(12)]) }
        } else if !l.hospitalTable.isEmpty {
            let stayHome = l.facilityIsHospital[pr.home] ? r.chance(0.85) : r.chance(0.25)
            if !stayHome { facility = Int(l.hospitalTable[r.slot(12)]) }
        }
        let eid = clinic.id(.encounter, encKey)
        years[y].encounterID.append(eid)
        years[y].encounterPatient.append(pid)
        years[y].encounterFacility.append(facilityIDs[facility])
        years[y].encounterDate.append(day)
        years[y].encounterType.append(type)

        // Procedures: most visits have one to four tests or images.
        let wStart = Int(l.workupStart[dx]), wCount = Int(l.workupStart[dx + 1]) - wStart
        var picked: (Int, Int, Int, Int) = (-1, -1, -1, -1)
        let count = r.chance(0.10) ? 0 : Int(l.procedureCountTable[r.slot(8)])
        var firstImaging = -1, firstLab = -1
        for j in 0..<count {
            var proc = -1
            for _ in 0..<3 {
                let c = wCount > 0 && r.chance(0.75)
                    ? Int(l.workupProcedure[wStart + r.below(wCount)])
                    : Int(l.procedureTable[r.slot(12)])
                if c != picked.0 && c != picked.1 && c != picked.2 && c != picked.3 {
                    proc = c
                    break
                }
            }
            guard proc >= 0 else { continue }
            switch j {
            case 0: picked.0 = proc
            case 1: picked.1 = proc
            case 2: picked.2 = proc
            default: picked.3 = proc
            }
            if l.procedureIsImaging[proc] {
                if firstImaging < 0 { firstImaging = proc }
            } else if firstLab < 0 {
                firstLab = proc
            }
            years[y].procedureID.append(clinic.id(.procedure, encKey << 4 | UInt64(j)))
            years[y].procedureEncounter.append(eid)
            years[y].procedureCatalog.append(UInt8(proc))
            years[y].procedureDate.append(type == 1 ? day + Int32(r.below(3)) : day)
        }

        // Diagnoses: the first is primary; some visits are left uncoded.
        if !r.chance(0.08) {
            years[y].diagnosisID.append(clinic.id(.diagnosis, encKey << 4))
            years[y].diagnosisEncounter.append(eid)
            years[y].diagnosisCatalog.append(UInt8(dx))
            years[y].diagnosisPrimary.append(true)
            var previous = dx
            let extra = Int(l.extraDiagnosisTable[r.slot(8)])
            for k in 0..<extra {
                let s = Int(l.diagnosisTables[tableBase | r.slot(14)])
                if s == dx || s == previous { continue }
                previous = s
                years[y].diagnosisID.append(clinic.id(.diagnosis, encKey << 4 | UInt64(k + 1)))
                years[y].diagnosisEncounter.append(eid)
                years[y].diagnosisCatalog.append(UInt8(s))
                years[y].diagnosisPrimary.append(false)
            }
        }

        // Report: a radiology report on the first image, else a pathology report on the first test.
        let reportOn: Int, pathology: Bool
        if firstImaging >= 0 && r.chance(0.92) {
            reportOn = firstImaging
            pathology = false
        } else if firstLab >= 0 && r.chance(0.85) {
            reportOn = firstLab
            pathology = true
        } else {
            return
        }
        var finding: Int32 = -1
        for w in wStart..<(wStart + wCount) where Int(l.workupProcedure[w]) == reportOn {
            finding = l.workupFinding[w]
            break
        }
        let abnormal = finding >= 0 && r.chance(0.85)
        let variant = r.below(3)
        years[y].reportID.append(clinic.id(.report, encKey))
        years[y].reportEncounter.append(eid)
        years[y].reportType.append(pathology ? 1 : 0)
        if pathology {
            years[y].reportText.add(pool, starts, l.pathologyHeaderText[reportOn])
            years[y].reportText.add(pool, starts, l.diagnosisIndicationText[dx])
            years[y].reportText.add(pool, starts, l.resultLeadText)
            years[y].reportText.add(pool, starts, abnormal ? finding : l.procedureNormalText[reportOn])
            years[y].reportText.add(pool, starts, l.commentText[variant])
        } else {
            years[y].reportText.add(pool, starts, l.radiologyHeaderText[reportOn])
            years[y].reportText.add(pool, starts, l.diagnosisIndicationText[dx])
            years[y].reportText.add(pool, starts, l.comparisonText[r.below(3)])
            years[y].reportText.add(pool, starts, abnormal ? finding : l.procedureNormalText[reportOn])
            years[y].reportText.add(pool, starts, abnormal ? l.abnormalImpressionText[dx * 3 + variant] : l.normalImpressionText[variant])
        }
        years[y].reportText.endValue()
    }

    /// A medical record number: "RW" and nine digits.
    private mutating func appendPatientNumber(_ n: Int) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var v = n
        var len = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[len] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
                len += 1
            } while v > 0 && len < 13
            while len < 9 {
                d[len] = UInt8(ascii: "0")
                len += 1
            }
        }
        patientNumber.bytes.append(UInt8(ascii: "R"))
        patientNumber.bytes.append(UInt8(ascii: "W"))
        withUnsafeBytes(of: digits) { d in
            for i in stride(from: len - 1, through: 0, by: -1) { patientNumber.bytes.append(d[i]) }
        }
        patientNumber.endValue()
    }

    func finish() -> SyntheticBlock {
        let l = lookup
        let np = patientID.count
        let patients = Batch(schema: ClinicalModel.patientSchema, columns: [
            Column(.uuid(patientID)),
            Self.constant(np),
            Column(.string(patientNumber.array)),
            Column(.string(l.pool.column(patientSex, ids: l.sexText))),
            Column(.int16(patientBirthYear)),
            Column(.date(patientBirthDate), validity: patientBirthDateKnown),
            Column(.string(l.pool.column(patientDistrict, ids: l.districtText))),
            Column(.string(l.pool.column(patientDistrict, ids: l.districtProvinceText))),
        ])
        let events = years.map { $0.batches(l) }
        return SyntheticBlock(firstPatient: firstPatient, patientCount: patientCount, patients: patients,
                              encountersByYear: events.map(\.encounters), proceduresByYear: events.map(\.procedures),
                              diagnosesByYear: events.map(\.diagnoses), reportsByYear: events.map(\.reports))
    }

    static func constant(_ n: Int) -> Column {
        Column(.string(SyntheticTextPool.constant(SyntheticClinic.source, count: n)))
    }
}

extension SyntheticBlockBuilder.Events {
    func batches(_ l: SyntheticLookup) -> (encounters: Batch, procedures: Batch, diagnoses: Batch, reports: Batch) {
        let constant = SyntheticBlockBuilder.constant
        let ne = encounterID.count, nq = procedureID.count, nd = diagnosisID.count, nr = reportID.count
        let encounters = Batch(schema: ClinicalModel.encounterSchema, columns: [
            Column(.uuid(encounterID)),
            constant(ne),
            Column.nulls(.string, count: ne),
            Column(.uuid(encounterPatient)),
            Column(.uuid(encounterFacility)),
            Column(.date(encounterDate)),
            Column(.string(l.pool.column(encounterType, ids: l.encounterTypeText))),
        ])
        let procedures = Batch(schema: ClinicalModel.procedureSchema, columns: [
            Column(.uuid(procedureID)),
            Column(.uuid(procedureEncounter)),
            constant(nq),
            Column.nulls(.string, count: nq),
            Column(.string(l.pool.column(procedureCatalog, ids: l.procedureCodeText))),
            Column(.string(l.pool.column(procedureCatalog, ids: l.procedureNameText))),
            Column(.string(l.pool.column(procedureCatalog, ids: l.procedureModalityText))),
            Column(.date(procedureDate)),
        ])
        let diagnoses = Batch(schema: ClinicalModel.diagnosisSchema, columns: [
            Column(.uuid(diagnosisID)),
            Column(.uuid(diagnosisEncounter)),
            constant(nd),
            Column(.string(l.pool.column(diagnosisCatalog, ids: l.diagnosisCodeText))),
            Column(.bool(diagnosisPrimary)),
            Column.nulls(.string, count: nd),
            Column.nulls(.string, count: nd),
        ])
        let reports = Batch(schema: ClinicalModel.reportSchema, columns: [
            Column(.uuid(reportID)),
            Column(.uuid(reportEncounter)),
            constant(nr),
            Column.nulls(.string, count: nr),
            Column(.string(l.pool.column(reportType, ids: l.reportTypeText))),
            Column(.string(reportText.array)),
            Column(.string(SyntheticTextPool.constant("en", count: nr))),
        ])
        return (encounters, procedures, diagnoses, reports)
    }
}
