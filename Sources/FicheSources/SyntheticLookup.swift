// The Rwanda catalog compiled, once per generator, into what the hot loop needs:
// power-of-two lookup tables that turn random bits into weighted choices, flat
// attribute arrays indexed by small integers, and the text pool of every string.

import FicheLake

struct SyntheticLookup: Sendable {
    static let ageGroupDays: (Int32, Int32, Int32) = (1_826, 5_479, 18_263)  // 5, 15, 50 years
    static let ageFortyDays: Int32 = 14_610

    var pool = SyntheticTextPool()

    // Facilities of the network
    var facilityName: [String] = []
    var facilityType: [FacilityType] = []
    var facilityDistrict: [String] = []
    var facilityProvince: [String] = []
    var facilityIsHospital: [Bool] = []
    /// The thirty districts, province by province, as text.
    var districtText: [Int32] = []
    var districtProvinceText: [Int32] = []
    /// A facility's district (index into the districts), and the districts of its province.
    var facilityDistrictIndex: [UInt8] = []
    var facilityProvinceFirstDistrict: [UInt8] = []
    var facilityProvinceDistrictCount: [UInt8] = []
    var facilityIsReferral: [Bool] = []
    /// Home facility of a patient, by 12 random bits.
    var homeTable: [UInt16] = []
    /// Where an outpatient goes when not at home, by 12 bits.
    var referralTable: [UInt16] = []
    /// Hospitals only (empty when the network has none), by 12 bits.
    var hospitalTable: [UInt16] = []

    // Population
    var ageBandTable: [UInt8] = []  // 12 bits
    var ageBandFirstDay: [Int32] = []  // age in days at the band's start
    var ageBandDays: [Int32] = []
    var visitTable: [UInt8] = []  // visits of a patient without a chronic condition, 10 bits

    // Calendar
    var dayTable: [UInt16] = []  // day offset from firstDay, 16 bits
    var dayRainy: [UInt8] = []
    var dayYear: [UInt8] = []  // 0 = 2022

    // Diagnoses
    /// 16 tables of 14 bits each, at ((ageGroup * 2 + female) * 2 + rainy) << 14.
    var diagnosisTables: [UInt8] = []
    var chronicShare: [Double] = []  // by age group 0-14, 15-49, 50+
    var chronicTables: [UInt8] = []  // 3 tables of 10 bits
    var diagnosisInpatient: [Double] = []
    var diagnosisEmergency: [Double] = []
    var workupStart: [Int32] = []  // diagnosis d's workup is workupStart[d] ..< workupStart[d+1]
    var workupProcedure: [UInt8] = []
    var workupFinding: [Int32] = []
    var diagnosisCodeText: [Int32] = []
    var diagnosisIndicationText: [Int32] = []  // "description. "
    var abnormalImpressionText: [Int32] = []  // d * 3 + variant

    // Procedures
    var procedureTable: [UInt8] = []  // 12 bits
    var procedureIsImaging: [Bool] = []
    var procedureCodeText: [Int32] = []
    var procedureNameText: [Int32] = []
    var procedureModalityText: [Int32] = []
    var procedureNormalText: [Int32] = []
    var radiologyHeaderText: [Int32] = []  // "EXAMINATION: name. CLINICAL INDICATION: "
    var pathologyHeaderText: [Int32] = []  // "SPECIMEN: ... TEST: name. CLINICAL INDICATION: "
    var procedureCountTable: [UInt8] = []  // 1...4, 8 bits

    // Fixed fragments
    var comparisonText: [Int32] = []  // "COMPARISON: ... FINDINGS: "
    var normalImpressionText: [Int32] = []  // " IMPRESSION: ..."
    var commentText: [Int32] = []  // " COMMENT: ..."
    var routineIndicationText: Int32 = 0
    var resultLeadText: Int32 = 0
    var encounterTypeText: [Int32] = []  // outpatient, inpatient, emergency
    var sexText: [Int32] = []  // F, M
    var reportTypeText: [Int32] = []  // radiology, pathology
    var extraDiagnosisTable: [UInt8] = []  // 0, 1 or 2 secondary diagnoses, 8 bits

    init(facilities count: Int) {
        // Catalog indices are stored as UInt8 in the hot loop.
        precondition(RwandaCatalog.procedures.count < 256 && RwandaCatalog.diagnoses.count < 256, "catalog too large")
        precondition(count <= Int(UInt16.max), "too many facilities")
        buildFacilities(count)
        buildPopulation()
        buildCalendar()
        buildProcedures()
        buildDiagnoses()
        buildFixedText()
    }

    /// Maps `1 << bits` equally likely slots onto indices in proportion to `weights`.
    static func table(_ weights: [Double], bits: Int) -> [Int] {
        let size = 1 << bits
        let total = weights.reduce(0, +)
        guard total > 0 else { return [] }
        var out = [Int](repeating: 0, count: size)
        var i = 0, cumulative = weights[0]
        for s in 0..<size {
            let target = (Double(s) + 0.5) / Double(size) * total
            while cumulative <= target && i < weights.count - 1 {
                i += 1
                cumulative += weights[i]
            }
            out[s] = i
        }
        return out
    }

    private mutating func buildFacilities(_ count: Int) {
        let catalog = RwandaCatalog.facilities
        let districts = RwandaCatalog.provinces.flatMap { p in p.districts.map { ($0, p.province) } }
        for i in 0..<count {
            if i < catalog.count {
                let f = catalog[i]
                facilityName.append(f.name)
                facilityType.append(f.type)
                facilityDistrict.append(f.district)
                facilityProvince.append(RwandaCatalog.province(ofDistrict: f.district) ?? "")
            } else {
                // Beyond the named facilities: further health centres, district by district.
                let k = i - catalog.count
                let (district, province) = districts[k % districts.count]
                facilityName.append("\(district) Health Centre \(k / districts.count + 1)")
                facilityType.append(.healthCentre)
                facilityDistrict.append(district)
                facilityProvince.append(province)
            }
        }
        facilityIsHospital = facilityType.map(\.isHospital)
        districtText = districts.map { pool.add($0.0) }
        districtProvinceText = districts.map { pool.add($0.1) }
        for d in facilityDistrict {
            guard let i = districts.firstIndex(where: { $0.0 == d }),
                  let first = districts.firstIndex(where: { $0.1 == districts[i].1 }) else {
                preconditionFailure("facility district \(d) is not a Rwandan district")
            }
            facilityDistrictIndex.append(UInt8(i))
            facilityProvinceFirstDistrict.append(UInt8(first))
            facilityProvinceDistrictCount.append(UInt8(districts.filter { $0.1 == districts[i].1 }.count))
        }
        facilityIsReferral = facilityType.map { $0 == .referralHospital }
        homeTable = Self.table(facilityType.map(RwandaCatalog.homeWeight), bits: 12).map { UInt16($0) }
        referralTable = Self.table(facilityType.map { t -> Double in
            switch t {
            case .referralHospital: 3
            case .districtHospital: 2
            case .healthCentre: 1
            }
        }, bits: 12).map { UInt16($0) }
        hospitalTable = Self.table(facilityType.map { t -> Double in
            switch t {
            case .referralHospital: 2
            case .districtHospital: 3
            case .healthCentre: 0
            }
        }, bits: 12).map { UInt16($0) }
    }

    private mutating func buildPopulation() {
        let bands = RwandaCatalog.ageBands
        ageBandTable = Self.table(bands.map(\.share), bits: 12).map { UInt8($0) }
        // Age in days on 2022-01-01: whole years of the band plus a uniform day.
        ageBandFirstDay = bands.map { Int32($0.lo * 365 + $0.lo / 4) }
        ageBandDays = bands.map { Int32(($0.hi - $0.lo) * 365 + ($0.hi - $0.lo) / 4) }
        // Visits of a patient without a chronic condition: mostly one to four; 1% never come.
        let visits: [Double] = [1, 25, 22, 18, 14, 9, 6, 4, 2]  // 0...8
        visitTable = Self.table(visits, bits: 10).map { UInt8($0) }
    }

    private mutating func buildCalendar() {
        let first = Int(SyntheticCalendar.firstDay)
        let weights = (0..<SyntheticCalendar.dayCount).map { SyntheticCalendar.attendance(first + $0) }
        dayTable = Self.table(weights, bits: 16).map { UInt16($0) }
        dayYear = (0..<SyntheticCalendar.dayCount).map {
            UInt8(SyntheticCalendar.yearMonth(first + $0).year - SyntheticCalendar.firstYear)
        }
        dayRainy = (0..<SyntheticCalendar.dayCount).map {
            SyntheticCalendar.isRainy(month: SyntheticCalendar.yearMonth(first + $0).month) ? 1 : 0
        }
    }

    private mutating func buildProcedures() {
        let procs = RwandaCatalog.procedures
        procedureTable = Self.table(procs.map(\.weight), bits: 12).map { UInt8($0) }
        procedureIsImaging = procs.map(\.modality.isImaging)
        procedureCodeText = procs.map { pool.add($0.code) }
        procedureNameText = procs.map { pool.add($0.name) }
        procedureModalityText = procs.map { pool.add($0.modality.rawValue) }
        procedureNormalText = procs.map { pool.add($0.normal) }
        radiologyHeaderText = procs.map { pool.add("EXAMINATION: \($0.name). CLINICAL INDICATION: ") }
        pathologyHeaderText = procs.map {
            pool.add("SPECIMEN: \($0.region.specimen). TEST: \($0.name). CLINICAL INDICATION: ")
        }
        procedureCountTable = Self.table([0, 25, 35, 25, 15], bits: 8).map { UInt8($0) }
    }

    private mutating func buildDiagnoses() {
        let dxs = RwandaCatalog.diagnoses
        let procIndex = Dictionary(uniqueKeysWithValues: RwandaCatalog.procedures.enumerated().map { ($1.code, $0) })
        var tables = [UInt8]()
        for ageGroup in 0..<4 {
            for female in 0..<2 {
                for rainy in 0..<2 {
                    let w = dxs.map { d -> Double in
                        if d.sex == .female && female == 0 { return 0 }
                        if d.sex == .male && female == 1 { return 0 }
                        let base = [d.weights.0, d.weights.1, d.weights.2, d.weights.3][ageGroup]
                        return rainy == 1 ? base * d.rainy : base
                    }
                    tables += Self.table(w, bits: 14).map { UInt8($0) }
                }
            }
        }
        diagnosisTables = tables
        let dxIndex = Dictionary(uniqueKeysWithValues: dxs.enumerated().map { ($1.code, $0) })
        for group in RwandaCatalog.chronic {
            chronicShare.append(group.share)
            let w = dxs.map { d in group.conditions.first { $0.code == d.code }?.weight ?? 0 }
            precondition(group.conditions.allSatisfy { dxIndex[$0.code] != nil }, "chronic condition not in the catalog")
            chronicTables += Self.table(w, bits: 10).map { UInt8($0) }
        }
        diagnosisInpatient = dxs.map(\.inpatient)
        diagnosisEmergency = dxs.map(\.emergency)
        workupStart = [0]
        for d in dxs {
            for w in d.workup {
                guard let p = procIndex[w.code] else { preconditionFailure("workup \(w.code) not in the procedure catalog") }
                workupProcedure.append(UInt8(p))
                workupFinding.append(pool.add(w.finding))
            }
            workupStart.append(Int32(workupProcedure.count))
        }
        diagnosisCodeText = dxs.map { pool.add($0.code) }
        diagnosisIndicationText = dxs.map { pool.add("\($0.description). ") }
        for d in dxs {
            for lead in RwandaCatalog.abnormalImpressionLeads {
                abnormalImpressionText.append(pool.add(" \(lead)\(Self.inSentence(d.description))."))
            }
        }
        extraDiagnosisTable = Self.table([72, 22, 6], bits: 8).map { UInt8($0) }
    }

    private mutating func buildFixedText() {
        comparisonText = RwandaCatalog.comparisons.map { pool.add("\($0) FINDINGS: ") }
        normalImpressionText = RwandaCatalog.normalImpressions.map { pool.add(" \($0)") }
        commentText = RwandaCatalog.pathologyComments.map { pool.add(" \($0)") }
        routineIndicationText = pool.add("\(RwandaCatalog.routineIndication). ")
        resultLeadText = pool.add("RESULT: ")
        encounterTypeText = ["outpatient", "inpatient", "emergency"].map { pool.add($0) }
        sexText = ["F", "M"].map { pool.add($0) }
        reportTypeText = ["radiology", "pathology"].map { pool.add($0) }
    }

    /// A description as it reads inside a sentence: the first letter lowered unless the
    /// first word is an abbreviation ("HIV disease", "Plasmodium" stays a name).
    static func inSentence(_ s: String) -> String {
        guard let first = s.first else { return s }
        let word = s.prefix { $0 != " " }
        let isAbbreviation = word.count > 1 && word.dropFirst().first?.isUppercase == true
        if isAbbreviation || word == "Plasmodium" { return s }
        return first.lowercased() + s.dropFirst()
    }
}
