// Maps staged PadChest rows into the clinical model (FicheModel's ClinicalModel.swift):
//   PatientID            → patients (birth year, sex)
//   (PatientID, StudyID) → encounters, on the study date, at the one PadChest facility
//   ImageID              → procedures (a chest radiograph; CPT by projection; modality CR/DX)
//   (encounter, ReportID)→ reports (radiology, Spanish, as distributed: stemmed text)
//   (encounter, label)   → diagnoses (code from PadChestLabelCodes; first label of an image primary)
// Ids are UUIDs derived from the source ids, so re-ingests and rebuilds agree. Entities
// already in the lake (or earlier in the run) are not emitted again.

import FicheLake
import FicheModel

/// Stable ids for PadChest entities: FNV-1a 64 (`FNV1a64`) of a namespaced key, twice with
/// different offset bases, folded into a v4-shaped UUID with `UUID16.derived`.
public enum PadChestIDs {
    static let basisA: UInt64 = FNV1a64.offsetBasis
    static let basisB: UInt64 = 0x6C62_272E_07BB_0142

    @inline(__always)
    static func fnv(_ h: inout UInt64, _ bytes: some Sequence<UInt8>) { FNV1a64.combine(&h, bytes) }

    /// Hashes the parts separated by `/` (no part of a PadChest id contains one).
    struct Key {
        var a = basisA, b = basisB

        init(_ namespace: StaticString) {
            let ns = UnsafeBufferPointer(start: namespace.utf8Start, count: namespace.utf8CodeUnitCount)
            fnv(&a, ns)
            fnv(&b, ns)
        }

        mutating func add(_ part: some Sequence<UInt8>) {
            fnv(&a, CollectionOfOne(UInt8(ascii: "/")))
            fnv(&b, CollectionOfOne(UInt8(ascii: "/")))
            fnv(&a, part)
            fnv(&b, part)
        }

        mutating func add(_ id: UUID16) {
            var bytes = (id.high.bigEndian, id.low.bigEndian)
            withUnsafeBytes(of: &bytes) { add($0) }
        }

        var id: UUID16 { UUID16.derived(a, b) }
    }

    /// The key of an image; also its procedure's id.
    public static func imageKey(_ imageID: UnsafeBufferPointer<UInt8>) -> UUID16 {
        var k = Key("padchest/image")
        k.add(imageID)
        return k.id
    }

    public static func imageKey(_ imageID: String) -> UUID16 {
        var k = Key("padchest/image")
        k.add(imageID.utf8)
        return k.id
    }

    public static func patientID(_ patient: some Sequence<UInt8>) -> UUID16 {
        var k = Key("padchest/patient")
        k.add(patient)
        return k.id
    }

    public static func encounterID(patient: some Sequence<UInt8>, study: some Sequence<UInt8>) -> UUID16 {
        var k = Key("padchest/encounter")
        k.add(patient)
        k.add(study)
        return k.id
    }

    public static func reportID(encounter: UUID16, report: some Sequence<UInt8>) -> UUID16 {
        var k = Key("padchest/report")
        k.add(encounter)
        k.add(report)
        return k.id
    }

    public static func diagnosisID(encounter: UUID16, label: some Sequence<UInt8>) -> UUID16 {
        var k = Key("padchest/diagnosis")
        k.add(encounter)
        k.add(label)
        return k.id
    }

    public static let facilityName = "Hospital Universitario San Juan de Alicante"

    public static var facilityID: UUID16 {
        var k = Key("padchest/facility")
        k.add(facilityName.utf8)
        return k.id
    }
}

/// What the lake already holds from earlier PadChest ingests (ids are stable, so sets of
/// ids say which entities exist).
public struct PadChestKnownEntities: Sendable {
    public var images = UUIDSet()
    public var patients = UUIDSet()
    public var encounters = UUIDSet()
    public var reports = UUIDSet()
    public var diagnoses = UUIDSet()
    public var codes: Set<String> = []
    public var facility = false

    public init() {}
}

/// The procedure code and name for an image, by projection. One name per code, so the
/// procedure dimension is well defined; the projection itself stays in the staging table.
public enum PadChestProcedureCodes {
    /// CPT 71045: a chest radiograph of a single view (PA, AP, AP supine, lateral, or an
    /// unrecorded/excluded projection). Every PadChest image is one view.
    public static let chestSingleView = (code: "71045", name: "Radiologic examination, chest; single view")
    /// CPT 71100: rib views (PadChest projection `COSTAL`).
    public static let ribsUnilateral = (code: "71100", name: "Radiologic examination, ribs, unilateral; 2 views")
}

/// Counts from mapping, for the summary.
public struct PadChestMappingCounts: Sendable, Equatable {
    public var patients = 0, encounters = 0, procedures = 0, reports = 0
    public var diagnoses = 0, diagnosesICD10 = 0, diagnosesFinding = 0
    /// Distinct labels met that the mapping does not know (kept as findings).
    public var unknownLabels = 0
    /// Empty strings in a Labels list (`''`), which name no finding.
    public var emptyLabels = 0
    public var newCodes = 0
}

/// The clinical-model batches of one ingest.
public struct PadChestClinicalBatches: Sendable {
    public var facilities: Batch
    public var patients: Batch
    public var encounters: Batch
    public var procedures: Batch
    public var reports: Batch
    public var diagnoses: Batch
    public var diagnosisCodes: Batch
    public var counts: PadChestMappingCounts

    /// (table, batch) pairs in the order they are written.
    public var tables: [(String, Batch)] {
        [(ClinicalModel.facilities, facilities), (ClinicalModel.patients, patients),
         (ClinicalModel.encounters, encounters), (ClinicalModel.procedures, procedures),
         (ClinicalModel.reports, reports), (ClinicalModel.diagnoses, diagnoses),
         (ClinicalModel.diagnosisCodes, diagnosisCodes)]
    }
}

/// Maps staged rows to the clinical model, skipping entities already known.
public struct PadChestMapper {
    public var known: PadChestKnownEntities
    public let labelCodes: PadChestLabelCodes
    static let source = ClinicalModel.Source.padchest.rawValue

    /// Labels absent from `labelCodes`, met so far, with their finding codes.
    private var unknownCodes: [[UInt8]: Int] = [:]
    private var unknownList: [DiagnosisCode] = []
    /// Per code slot (known labels, then unknown ones): already checked against `known.codes`,
    /// and the code's parts as bytes (no String copies in the row loop).
    private var slotSeen: [Bool] = []
    private var slotICD10: [Bool] = []
    private var slotCode: [[UInt8]] = []
    private var slotCUI: [[UInt8]] = []

    func code(_ slot: Int) -> DiagnosisCode {
        slot < labelCodes.codes.count ? labelCodes.codes[slot] : unknownList[slot - labelCodes.codes.count]
    }

    private mutating func addSlots(upTo slot: Int) {
        while slotSeen.count <= slot {
            let c = code(slotSeen.count)
            slotSeen.append(false)
            slotICD10.append(c.codingSystem == PadChestLabelCodes.icd10System)
            slotCode.append(Array(c.code.utf8))
            slotCUI.append(Array((c.umlsCUI ?? "").utf8))
        }
    }

    public init(known: PadChestKnownEntities, labelCodes: PadChestLabelCodes) {
        self.known = known
        self.labelCodes = labelCodes
    }

    static let apHorizontal = StaticBytes("AP_horizontal")
    static let costal = StaticBytes("COSTAL")
    static let inpatient = StaticBytes("inpatient")
    static let outpatient = StaticBytes("outpatient")
    static let xr = StaticBytes("XR")
    static let chestCode = StaticBytes(PadChestProcedureCodes.chestSingleView.code)
    static let chestName = StaticBytes(PadChestProcedureCodes.chestSingleView.name)
    static let ribsCode = StaticBytes(PadChestProcedureCodes.ribsUnilateral.code)
    static let ribsName = StaticBytes(PadChestProcedureCodes.ribsUnilateral.name)

    @inline(__always)
    static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: StaticBytes) -> Bool {
        guard a.count == b.bytes.count else { return false }
        for i in 0..<a.count where a[i] != b.bytes[i] { return false }
        return true
    }

    @inline(__always)
    static func equal(_ a: some Collection<UInt8>, _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var i = a.startIndex
        for x in b {
            if a[i] != x { return false }
            i = a.index(after: i)
        }
        return true
    }

    static func appendDecimal(_ v: Int64, to out: inout [UInt8]) {
        if v < 0 { out.append(UInt8(ascii: "-")) }
        var m = v.magnitude
        let start = out.count
        repeat {
            out.append(UInt8(48 + m % 10))
            m /= 10
        } while m > 0
        out[start...].reverse()
    }

    static func strings(_ b: Batch, _ name: String) -> (StringArray, Bitmap?) {
        guard let c = b.column(name), case .string(let s) = c.values else { preconditionFailure("staging column \(name)") }
        return (s, c.validity)
    }

    /// Maps every row of a staging batch (`PadChestStaging.schema`).
    public mutating func map(_ staging: Batch) -> PadChestClinicalBatches {
        let n = staging.rowCount
        // String columns as raw memory: the row loop slices them without reference counting.
        let imageIDArray = Self.strings(staging, "ImageID").0
        let imageIDArrayBytes = imageIDArray.bytes.count
        let imageIDs = RawStrings(imageIDArray)
        let studyIDs = RawStrings(Self.strings(staging, "StudyID").0)
        let patientIDs = RawStrings(Self.strings(staging, "PatientID").0)
        let (sexArray, sexValid) = Self.strings(staging, "PatientSex_DICOM")
        let (projectionArray, projectionValid) = Self.strings(staging, "Projection")
        let (modalityArray, modalityValid) = Self.strings(staging, "Modality_DICOM")
        let (reportArray, reportValid) = Self.strings(staging, "Report")
        let (labelArray, labelsValid) = Self.strings(staging, "Labels_items")
        let sexes = RawStrings(sexArray), projections = RawStrings(projectionArray)
        let modalities = RawStrings(modalityArray), reportTexts = RawStrings(reportArray)
        let labelLists = RawStrings(labelArray)
        let rawLabels = Self.strings(staging, "Labels").0
        guard let dateCol = staging.column("StudyDate_DICOM"), case .date(let dates) = dateCol.values,
              let birthCol = staging.column("PatientBirth"), case .int16(let births) = birthCol.values,
              let reportIDCol = staging.column("ReportID"), case .int64(let reportIDs) = reportIDCol.values
        else { preconditionFailure("staging schema") }
        let birthValid = birthCol.validity, reportIDValid = reportIDCol.validity

        var counts = PadChestMappingCounts()
        let facilityID = PadChestIDs.facilityID
        let src = Self.source

        // Output columns.
        var patID = [UUID16](), patSourceID = StringArray(), patSex = StringArray(), patSexValid = Bitmap()
        var patBirth = [Int16](), patBirthValid = Bitmap()
        var encID = [UUID16](), encSourceID = StringArray(), encPatient = [UUID16](), encDate = [Int32]()
        var encType = StringArray()
        var procID = [UUID16](), procEncounter = [UUID16](), procSourceID = StringArray(), procCode = StringArray()
        var procName = StringArray(), procModality = StringArray(), procDate = [Int32]()
        var repID = [UUID16](), repEncounter = [UUID16](), repSourceID = StringArray(), repText = StringArray()
        var diagID = [UUID16](), diagEncounter = [UUID16](), diagCode = StringArray(), diagPrimary = [Bool]()
        var diagLabel = StringArray(), diagCUI = StringArray(), diagCUIValid = Bitmap()
        var usedCodes: [DiagnosisCode] = []
        let unknownBefore = unknownList.count
        procID.reserveCapacity(n)
        procEncounter.reserveCapacity(n)
        procDate.reserveCapacity(n)
        procSourceID.reserveCapacity(rows: n, bytes: imageIDArrayBytes)
        known.patients.reserveCapacity(known.patients.count + n)
        known.encounters.reserveCapacity(known.encounters.count + n)
        known.reports.reserveCapacity(known.reports.count + n)
        known.diagnoses.reserveCapacity(known.diagnoses.count + 2 * n)

        var reportIDText = [UInt8]()
        for r in 0..<n {
            let patient = patientIDs[r]
            let study = studyIDs[r]
            let patientID = PadChestIDs.patientID(patient)
            if known.patients.insert(patientID) {
                patID.append(patientID)
                patSourceID.append(patient)
                let sexPresent = sexValid?[r] ?? true
                if sexPresent { patSex.append(sexes[r]) } else { patSex.appendEmpty() }
                patSexValid.append(sexPresent)
                let birthPresent = birthValid?[r] ?? true
                patBirth.append(births[r])
                patBirthValid.append(birthPresent)
            }
            let encounterID = PadChestIDs.encounterID(patient: patient, study: study)
            let projection = (projectionValid?[r] ?? true) ? projections[r] : UnsafeBufferPointer(start: nil, count: 0)
            if known.encounters.insert(encounterID) {
                encID.append(encounterID)
                encSourceID.append(study)
                encPatient.append(patientID)
                encDate.append(dates[r])
                // A supine AP film is taken at the bedside: an inpatient; otherwise outpatient.
                encType.append(Self.equal(projection, Self.apHorizontal) ? Self.inpatient.bytes : Self.outpatient.bytes)
            }
            // Every staged image is new (staging dedupes by ImageID).
            let imageID = imageIDs[r]
            let ribs = Self.equal(projection, Self.costal)
            procID.append(PadChestIDs.imageKey(imageID))
            procEncounter.append(encounterID)
            procSourceID.append(imageID)
            procCode.append(ribs ? Self.ribsCode.bytes : Self.chestCode.bytes)
            procName.append(ribs ? Self.ribsName.bytes : Self.chestName.bytes)
            procModality.append((modalityValid?[r] ?? true) ? modalities[r] : Self.xr.bytes)
            procDate.append(dates[r])

            if (reportValid?[r] ?? true) && (reportIDValid?[r] ?? true) {
                reportIDText.removeAll(keepingCapacity: true)
                Self.appendDecimal(reportIDs[r], to: &reportIDText)
                let reportID = PadChestIDs.reportID(encounter: encounterID, report: reportIDText)
                if known.reports.insert(reportID) {
                    repID.append(reportID)
                    repEncounter.append(encounterID)
                    reportIDText.withUnsafeBufferPointer { repSourceID.append($0) }
                    repText.append(reportTexts[r])
                }
            }

            guard labelsValid?[r] ?? true else { continue }
            // Labels_items holds the trimmed labels joined by `|`.
            let items = labelLists[r]
            var primary = true
            var start = 0
            while start <= items.count {
                var end = start
                while end < items.count && items[end] != UInt8(ascii: "|") { end += 1 }
                let label = UnsafeBufferPointer(rebasing: items[start..<end])
                start = end + 1
                if label.isEmpty {
                    // `[]` has no items; `['']` has one, empty.
                    if !items.isEmpty || rawLabels.range(r).count > 2 { counts.emptyLabels += 1 }
                    continue
                }
                let isPrimary = primary
                primary = false
                let diagnosisID = PadChestIDs.diagnosisID(encounter: encounterID, label: label)
                guard known.diagnoses.insert(diagnosisID) else { continue }
                let slot: Int
                if let i = labelCodes.lookup(label) {
                    slot = i
                } else if let u = unknownCodes[Array(label)] {
                    slot = labelCodes.codes.count + u
                } else {
                    unknownCodes[Array(label)] = unknownList.count
                    slot = labelCodes.codes.count + unknownList.count
                    unknownList.append(PadChestLabelCodes.finding(label: Array(label)))
                }
                if slot >= slotSeen.count { addSlots(upTo: slot) }
                if !slotSeen[slot] {
                    slotSeen[slot] = true
                    let code = self.code(slot)
                    if known.codes.insert(code.code).inserted { usedCodes.append(code) }
                }
                if slotICD10[slot] {
                    counts.diagnosesICD10 += 1
                } else {
                    counts.diagnosesFinding += 1
                }
                diagID.append(diagnosisID)
                diagEncounter.append(encounterID)
                diagCode.bytes.append(contentsOf: slotCode[slot])
                diagCode.offsets.append(Int32(truncatingIfNeeded: diagCode.bytes.count))
                diagPrimary.append(isPrimary)
                diagLabel.append(label)
                let cui = slotCUI[slot]
                diagCUI.bytes.append(contentsOf: cui)
                diagCUI.offsets.append(Int32(truncatingIfNeeded: diagCUI.bytes.count))
                diagCUIValid.append(!cui.isEmpty)
            }
        }
        counts.unknownLabels = unknownList.count - unknownBefore
        counts.patients = patID.count
        counts.encounters = encID.count
        counts.procedures = procID.count
        counts.reports = repID.count
        counts.diagnoses = diagID.count
        counts.newCodes = usedCodes.count

        let emitFacility = !known.facility && n > 0
        if emitFacility { known.facility = true }
        let fac = emitFacility ? 1 : 0
        func constant(_ s: String, _ count: Int) -> Column {
            let one = Array(s.utf8)
            var bytes = [UInt8]()
            bytes.reserveCapacity(one.count * count)
            var offsets = [Int32](repeating: 0, count: count + 1)
            for i in 0..<count {
                bytes.append(contentsOf: one)
                offsets[i + 1] = Int32(truncatingIfNeeded: bytes.count)
            }
            return Column(.string(StringArray(offsets: offsets, bytes: bytes)))
        }
        func optional(_ values: StringArray, _ valid: Bitmap) -> Column {
            Column(.string(values), validity: valid.setCount == valid.count ? nil : valid)
        }
        func uuids(_ v: [UUID16]) -> Column { Column(.uuid(v)) }

        let facilities = Batch(schema: ClinicalModel.facilitySchema, columns: [
            uuids(emitFacility ? [facilityID] : []), constant(src, fac), Column.nulls(.string, count: fac),
            constant(PadChestIDs.facilityName, fac), constant("university hospital", fac),
            constant("Sant Joan d'Alacant", fac), constant("Alicante", fac), constant("Spain", fac),
        ])
        let patients = Batch(schema: ClinicalModel.patientSchema, columns: [
            uuids(patID), constant(src, patID.count), Column(.string(patSourceID)), optional(patSex, patSexValid),
            Column(.int16(patBirth), validity: patBirthValid.setCount == patBirthValid.count ? nil : patBirthValid),
            Column.nulls(.date, count: patID.count), Column.nulls(.string, count: patID.count),
            Column.nulls(.string, count: patID.count),
        ])
        let encounters = Batch(schema: ClinicalModel.encounterSchema, columns: [
            uuids(encID), constant(src, encID.count), Column(.string(encSourceID)), uuids(encPatient),
            uuids(Array(repeating: facilityID, count: encID.count)), Column(.date(encDate)), Column(.string(encType)),
        ])
        let procedures = Batch(schema: ClinicalModel.procedureSchema, columns: [
            uuids(procID), uuids(procEncounter), constant(src, procID.count), Column(.string(procSourceID)),
            Column(.string(procCode)), Column(.string(procName)), Column(.string(procModality)), Column(.date(procDate)),
        ])
        let reports = Batch(schema: ClinicalModel.reportSchema, columns: [
            uuids(repID), uuids(repEncounter), constant(src, repID.count), Column(.string(repSourceID)),
            constant("radiology", repID.count), Column(.string(repText)), constant("es", repID.count),
        ])
        let diagnoses = Batch(schema: ClinicalModel.diagnosisSchema, columns: [
            uuids(diagID), uuids(diagEncounter), constant(src, diagID.count), Column(.string(diagCode)),
            Column(.bool(diagPrimary)), Column(.string(diagLabel)), optional(diagCUI, diagCUIValid),
        ])
        var cuiValid = Bitmap()
        var cuis = StringArray()
        for c in usedCodes {
            if let u = c.umlsCUI { cuis.append(u) } else { cuis.appendEmpty() }
            cuiValid.append(c.umlsCUI != nil)
        }
        let codes = Batch(schema: ClinicalModel.diagnosisCodeSchema, columns: [
            Column(.string(StringArray(usedCodes.map(\.code)))), Column(.string(StringArray(usedCodes.map(\.description)))),
            Column(.string(StringArray(usedCodes.map(\.category)))), Column(.string(StringArray(usedCodes.map(\.codingSystem)))),
            optional(cuis, cuiValid),
        ])
        return PadChestClinicalBatches(facilities: facilities, patients: patients, encounters: encounters,
                                       procedures: procedures, reports: reports, diagnoses: diagnoses,
                                       diagnosisCodes: codes, counts: counts)
    }
}

/// The bytes of a constant string, allocated once for the life of the process.
struct StaticBytes: @unchecked Sendable {
    let bytes: UnsafeBufferPointer<UInt8>

    init(_ s: String) {
        let utf8 = Array(s.utf8)
        let p = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(utf8.count, 1))
        _ = p.initialize(from: utf8)
        bytes = UnsafeBufferPointer(rebasing: p[0..<utf8.count])
    }
}

/// A string column's bytes and offsets copied into raw memory, so a row loop can slice
/// values without reference counting. Freed with the object.
final class RawStrings {
    private let storage: UnsafeMutableBufferPointer<UInt8>
    private let offsets: UnsafeMutableBufferPointer<Int32>

    init(_ s: StringArray) {
        storage = .allocate(capacity: max(s.bytes.count, 1))
        _ = storage.initialize(from: s.bytes)
        offsets = .allocate(capacity: s.offsets.count)
        _ = offsets.initialize(from: s.offsets)
    }

    deinit {
        storage.deallocate()
        offsets.deallocate()
    }

    @inline(__always)
    subscript(i: Int) -> UnsafeBufferPointer<UInt8> {
        let start = Int(offsets[i])
        return UnsafeBufferPointer(start: storage.baseAddress.map { $0 + start }, count: Int(offsets[i + 1]) - start)
    }
}
