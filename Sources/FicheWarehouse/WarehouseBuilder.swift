// The transform from the clinical model to the star schema, column at a time.
//
// Stage 1, key mapping: each dimension's ids get their stable keys (KeyRegistry) and a dense
//   position = rank in key order; encounters are joined to patients and facilities and
//   procedures/diagnoses/reports to encounters through UUID hash maps, giving dense indexes.
// Stage 2, fact and bridges: dates → date keys (SIMD), per-encounter counts (histograms),
//   procedures and diagnoses grouped per encounter (counting sort, then each small run sorted
//   and run-length encoded into bridge rows), ages at the encounter (SIMD).
// Stage 3, aggregates: encounters grouped per patient (counting sort); one pass over the
//   patients fills counting arrays indexed by dense group ids (month, procedure×month,
//   age group×diagnosis), with distinct patients counted by a last-seen-patient array per
//   group; both cores each take half of the patients and their counts are summed.

import Dispatch
import FicheLake
import FicheSources

/// Builds every warehouse table from in-memory clinical batches, assigning keys through
/// (and adding new ones to) `registry`.
public func buildWarehouse(_ input: ClinicalInput, registry: inout KeyRegistry,
                           options: BuildOptions = BuildOptions()) throws -> WarehouseTables {
    var builder = WarehouseBuilder(options: options)
    return try builder.build(input, registry: &registry)
}

/// Dense age-group index: 0 … 4 as `Warehouse.ageGroups`, 5 = unknown.
let unknownAgeGroup = 5
let ageGroupLabels = Warehouse.ageGroups + ["unknown"]

struct WarehouseBuilder {
    let options: BuildOptions
    var report = BuildReport()
    private var clock = DispatchTime.now().uptimeNanoseconds

    init(options: BuildOptions) { self.options = options }

    private mutating func lap(_ stage: String) {
        let now = DispatchTime.now().uptimeNanoseconds
        report.stageSeconds.append((stage, Double(now - clock) / 1e9))
        clock = now
        traceMemory(stage)
    }

    // MARK: - The build

    mutating func build(_ input: ClinicalInput, registry: inout KeyRegistry) throws -> WarehouseTables {
        try build(facilities: input.facilities, patients: input.patients, encounters: input.encounters,
                  diagnosisCodes: input.diagnosisCodes,
                  procedures: TableChunks(table: ClinicalModel.procedures, batches: [input.procedures]),
                  diagnoses: TableChunks(table: ClinicalModel.diagnoses, batches: [input.diagnoses]),
                  reports: TableChunks(table: ClinicalModel.reports, batches: [input.reports]),
                  registry: &registry)
    }

    /// The build with the per-encounter tables streamed chunk by chunk.
    mutating func build(facilities facilityBatch: Batch, patients patientBatch: Batch, encounters encounterBatch: Batch,
                        diagnosisCodes: Batch, procedures procedureChunks: TableChunks, diagnoses diagnosisChunks: TableChunks,
                        reports reportChunks: TableChunks, registry: inout KeyRegistry) throws -> WarehouseTables {
        clock = DispatchTime.now().uptimeNanoseconds
        for b in [facilityBatch, patientBatch, encounterBatch, diagnosisCodes] {
            report.inputRows += b.rowCount
            report.inputBytes += b.bufferBytes
        }

        // ---- Stage 1: key mapping ----
        let facilities = try mapFacilities(facilityBatch, &registry.facilities)
        let patients = try mapPatients(patientBatch, &registry.patients)
        traceMemory("patients")
        let encounters = try mapEncounters(encounterBatch, &registry.encounters, patients: patients, facilities: facilities)
        traceMemory("encounters")
        let catalog = try mapDiagnosisCodes(diagnosisCodes, &registry.diagnoses)
        let streamed = try mapEncounterRows(procedures: procedureChunks, diagnoses: diagnosisChunks, reports: reportChunks,
                                            encounters: encounters, catalog: catalog)
        traceMemory("procedures, diagnoses, reports")
        let procedures = try mapProcedures(streamed.procedures, &registry.procedures)
        let diagnoses = streamed.diagnoses
        let reportFacts = streamed.reportFacts
        lap("key mapping")

        // ---- Stage 2: fact and bridges ----
        let fact = try buildFact(encounters, patients: patients, facilities: facilities,
                                 procedures: procedures, diagnoses: diagnoses, reportFacts: reportFacts)
        lap("fact and bridges")

        // ---- Stage 3: aggregates (and the dimensions that need them) ----
        let aggregates = try buildAggregates(fact: fact, patients: patients, procedures: procedures, diagnoses: diagnoses)
        lap("aggregates")

        return WarehouseTables(tables: [
            (Warehouse.dimPatient, aggregates.dimPatient),
            (Warehouse.dimFacility, facilities.dim),
            (Warehouse.dimProcedure, procedures.dim),
            (Warehouse.dimDiagnosis, diagnoses.dim),
            (Warehouse.dimTime, aggregates.dimTime),
            (Warehouse.factEncounters, fact.batch),
            (Warehouse.bridgeEncounterProcedure, fact.bridgeProcedure),
            (Warehouse.bridgeEncounterDiagnosis, fact.bridgeDiagnosis),
            (Warehouse.mvMonthlyEncounters, aggregates.monthly),
            (Warehouse.mvDiagnosisByAgeGroup, aggregates.diagnosisByAgeGroup),
            (Warehouse.mvProcedureVolume, aggregates.procedureVolume),
        ], report: report)
    }

    // MARK: - Stage 1

    struct FacilityMap {
        var assignment: IdAssignment
        var posOfRow: [Int32]
        var keyOfPos: [Int32]
        var dim: Batch
    }

    private mutating func mapFacilities(_ batch: Batch, _ keys: inout KeyRegistry.IdKeys) throws -> FacilityMap {
        let r = ColumnReader(table: ClinicalModel.facilities, batch: batch)
        let ids = try r.uuids("facility_id")
        let a = keys.assign(ids)
        report.duplicateFacilities = a.duplicateCount
        let live = canonicalFlags(a.canonicalRow)
        let rows = rowsInKeyOrder(keys: a.rowKey, live: live, maxKey: keys.maxKey)
        let posOfRow = positions(of: rows, count: ids.count)
        let keyOfPos = try int32Keys(a.rowKey.gathered(rows), "facility_key")
        let dim = try makeBatch(Warehouse.dimFacilitySchema, [
            Column(.int32(keyOfPos)),
            Column(.uuid(ids.gathered(rows))),
            try r.strings("source", required: true).gathered(rows),
            try r.strings("facility_name", required: true).gathered(rows),
            try r.strings("facility_type", required: true).gathered(rows),
            try r.strings("district").gathered(rows),
            try r.strings("province").gathered(rows),
            try r.strings("country", required: true).gathered(rows),
        ])
        return FacilityMap(assignment: a, posOfRow: posOfRow, keyOfPos: keyOfPos, dim: dim)
    }

    struct PatientMap {
        var assignment: IdAssignment
        /// patient_id of every input row.
        var ids: [UUID16]
        var posOfRow: [Int32]
        var keyOfPos: [Int32]
        /// Input rows in key order (dim_patient's rows).
        var rows: [Int32]
        var reader: ColumnReader
        /// Birth year per position (valid where `birthKnown`), and month·32+day of the birth
        /// date (0 when only the year is known, so no birthday is ever "still to come").
        var birthYear: [Int32]
        var birthMonthDay: [Int32]
        var birthKnown: [Bool]
    }

    private mutating func mapPatients(_ batch: Batch, _ keys: inout KeyRegistry.IdKeys) throws -> PatientMap {
        let r = ColumnReader(table: ClinicalModel.patients, batch: batch)
        let ids = try r.uuids("patient_id")
        let a = keys.assign(ids)
        report.duplicatePatients = a.duplicateCount
        let rows = rowsInKeyOrder(keys: a.rowKey, live: canonicalFlags(a.canonicalRow), maxKey: keys.maxKey)
        let posOfRow = positions(of: rows, count: ids.count)
        let keyOfPos = try int32Keys(a.rowKey.gathered(rows), "patient_key")

        let yearCol = try r.column("birth_year", of: .int16).gathered(rows)
        let dateCol = try r.column("birth_date", of: .date).gathered(rows)
        guard case .int16(let years) = yearCol.values, case .date(let dates) = dateCol.values else {
            throw WarehouseError("patients: birth columns have unexpected types")
        }
        let n = rows.count
        var birthYear = [Int32](repeating: 0, count: n)
        var birthMonthDay = [Int32](repeating: 0, count: n)
        var birthKnown = [Bool](repeating: false, count: n)
        for p in 0..<n where !dateCol.isNull(p) {
            guard CivilCalendar.supportedDays.contains(dates[p]) else {
                throw WarehouseError("patients: birth_date at row \(rows[p]) is outside 0001-01-01 … 9999-12-31")
            }
        }
        // Birth dates decomposed eight at a time; null dates read as day 0 and are ignored.
        dates.withUnsafeBufferPointer { d in
            var i = 0
            while i < n {
                let v = load8(d.baseAddress!, i, n)
                let c = CivilCalendar.decompose(v)
                let md = c.month &* 32 &+ c.day
                for k in 0..<min(8, n - i) {
                    let p = i + k
                    if !dateCol.isNull(p) {
                        birthYear[p] = c.year[k]
                        birthMonthDay[p] = md[k]
                        birthKnown[p] = true
                    } else if !yearCol.isNull(p) {
                        birthYear[p] = Int32(years[p])
                        birthKnown[p] = true
                    }
                }
                i += 8
            }
        }
        return PatientMap(assignment: a, ids: ids, posOfRow: posOfRow, keyOfPos: keyOfPos, rows: rows, reader: r,
                          birthYear: birthYear, birthMonthDay: birthMonthDay, birthKnown: birthKnown)
    }

    struct EncounterMap {
        var assignment: IdAssignment
        /// Input rows (after the date filter) in key order: fact row f is encounter row factRows[f].
        var factRows: [Int32]
        var factOfRow: [Int32]
        var ids: [UUID16]
        var dates: [Int32]
        var patientPos: [Int32]
        var facilityPos: [Int32]
        var types: Column
        var sources: Column
        var rowsIdentity: Bool
    }

    private mutating func mapEncounters(_ batch: Batch, _ keys: inout KeyRegistry.IdKeys,
                                        patients: PatientMap, facilities: FacilityMap) throws -> EncounterMap {
        let r = ColumnReader(table: ClinicalModel.encounters, batch: batch)
        var ids = try r.uuids("encounter_id")
        var dates = try r.dates("encounter_date")
        var patientIds = try r.uuids("patient_id")
        var facilityIds = try r.uuids("facility_id")
        var types = try r.strings("encounter_type", required: true)
        var sources = try r.strings("source", required: true)
        if let range = options.dateRange {
            var keep = [Int32]()
            keep.reserveCapacity(dates.count)
            for i in dates.indices where range.contains(dates[i]) { keep.append(Int32(i)) }
            report.encountersOutsideRange = dates.count - keep.count
            if keep.count != dates.count {
                ids = ids.gathered(keep)
                dates = dates.gathered(keep)
                patientIds = patientIds.gathered(keep)
                facilityIds = facilityIds.gathered(keep)
                types = types.gathered(keep)
                sources = sources.gathered(keep)
            }
        }
        let supported = CivilCalendar.supportedDays
        for i in dates.indices where !supported.contains(dates[i]) {
            throw WarehouseError("encounters: encounter_date at row \(i) is outside 0001-01-01 … 9999-12-31")
        }
        let a = keys.assign(ids)
        report.duplicateEncounters = a.duplicateCount
        let n = ids.count

        var patientRow = [Int32]()
        patients.assignment.rows(of: patientIds, inputIds: patients.ids, into: &patientRow)
        var facilityRow = [Int32]()
        facilities.assignment.rows(of: facilityIds, into: &facilityRow)
        var patientPos = [Int32](repeating: -1, count: n)
        var facilityPos = [Int32](repeating: -1, count: n)
        var live = [Bool](repeating: false, count: n)
        for i in 0..<n {
            let pr = patientRow[i], fr = facilityRow[i]
            let pp: Int32 = pr >= 0 ? patients.posOfRow[Int(pr)] : -1
            let fp: Int32 = fr >= 0 ? facilities.posOfRow[Int(fr)] : -1
            patientPos[i] = pp
            facilityPos[i] = fp
            let canonical = a.canonicalRow[i] == Int32(i)
            if canonical && pp < 0 { report.encountersWithoutPatient += 1 }
            if canonical && pp >= 0 && fp < 0 { report.encountersWithoutFacility += 1 }
            live[i] = canonical && pp >= 0 && fp >= 0
        }
        let factRows = rowsInKeyOrder(keys: a.rowKey, live: live, maxKey: keys.maxKey)
        let factOfRow = positions(of: factRows, count: n)
        return EncounterMap(assignment: a, factRows: factRows, factOfRow: factOfRow, ids: ids, dates: dates,
                            patientPos: patientPos, facilityPos: facilityPos, types: types, sources: sources,
                            rowsIdentity: isIdentity(factRows, count: n))
    }

    /// Fact row of each encounter id, or −1 (unknown, orphaned or filtered out).
    private static func factRows(of encounterIds: [UUID16], _ encounters: EncounterMap, parallel: Bool) -> [Int32] {
        var rows = [Int32]()
        encounters.assignment.rows(of: encounterIds, inputIds: encounters.ids, into: &rows, parallel: parallel)
        let factOfRow = encounters.factOfRow
        for i in rows.indices where rows[i] >= 0 { rows[i] = factOfRow[Int(rows[i])] }
        return rows
    }

    struct ProcedureMap {
        /// Per procedure row: its fact row (−1 = none) and its procedure's dense position.
        var fact: [Int32]
        var pos: [Int32]
        var keyOfPos: [Int32]
        var codes: StringArray
        var modalities: StringArray
        var names: StringArray
        var dim: Batch
    }

    struct DiagnosisMap {
        /// Per diagnosis row: fact row (−1 = none or unknown code), diagnosis position, primary flag.
        var fact: [Int32]
        var pos: [Int32]
        var primary: [Bool]
        var keyOfPos: [Int32]
        var codes: StringArray
        var descriptions: StringArray
        var dim: Batch
    }

    /// The diagnosis catalog: dim_diagnosis and the code → position map.
    struct DiagnosisCatalog: Sendable {
        var map: CodeIndexMap
        var posOfDistinct: [Int32]
        var keyOfPos: [Int32]
        var codes: StringArray
        var descriptions: StringArray
        var dim: Batch
    }

    private mutating func mapDiagnosisCodes(_ catalog: Batch, _ keys: inout KeyRegistry.CodeKeys) throws -> DiagnosisCatalog {
        let c = ColumnReader(table: ClinicalModel.diagnosisCodes, batch: catalog)
        let distinct = DistinctCodes(try c.stringValues("code"))
        let distinctKeys = keys.assign(distinct.map.codes)
        let (order, posOfDistinct) = keyOrder(distinctKeys)
        let firstRows = distinct.firstRow.gathered(order)
        let codes = distinct.map.codes.gathered(order)
        let descriptions = try c.stringValues("description").gathered(firstRows)
        let keyOfPos = try int32Keys(distinctKeys.gathered(order), "diagnosis_key")
        let dim = try makeBatch(Warehouse.dimDiagnosisSchema, [
            Column(.int32(keyOfPos)), Column(.string(codes)), Column(.string(descriptions)),
            Column(.string(try c.stringValues("category").gathered(firstRows))),
            Column(.string(try c.stringValues("coding_system").gathered(firstRows))),
            try c.strings("umls_cui").gathered(firstRows),
        ])
        return DiagnosisCatalog(map: distinct.map, posOfDistinct: posOfDistinct, keyOfPos: keyOfPos, codes: codes,
                                descriptions: descriptions, dim: dim)
    }

    /// What one chunk of a per-encounter table leaves behind: dense integers only.
    struct ChunkResult: Sendable {
        var rows = 0
        var bytes = 0
        var fact: [Int32] = []
        /// Procedures: per row the chunk-local code index; diagnoses: the catalog position (−1 unknown).
        var code: [Int32] = []
        var primary: [Bool] = []
        /// Procedures: the chunk's distinct codes with the name and modality of their first row.
        var codes = StringArray()
        var names = StringArray()
        var modalities = StringArray()
    }

    struct StreamedRows {
        /// Procedures concatenated in chunk order: fact rows, codes numbered in first-appearance
        /// order over the whole table, and each code's first name and modality.
        var procedures: (fact: [Int32], code: [Int32], codes: StringArray, names: StringArray, modalities: StringArray)
        var diagnoses: DiagnosisMap
        var reportFacts: [Int32]
    }

    /// Decodes and maps every chunk of procedures, diagnoses and reports, both cores taking
    /// chunks from one queue (largest table first); then concatenates the results in order.
    private mutating func mapEncounterRows(procedures: TableChunks, diagnoses: TableChunks, reports: TableChunks,
                                           encounters: EncounterMap, catalog: DiagnosisCatalog) throws -> StreamedRows {
        var tasks: [(table: Int, chunk: Int)] = []
        for (t, chunks) in [procedures, diagnoses, reports].enumerated() {
            for i in 0..<chunks.count { tasks.append((t, i)) }
        }
        let out = TaskSlots<ChunkResult>(tasks.count)
        let next = WorkCounter()
        let sources = [procedures, diagnoses, reports]
        let innerParallel = tasks.count < Workers.count
        let workers = min(Workers.count, max(1, tasks.count))
        let taskList = tasks
        Workers.run(workers) { _ in
            while true {
                let k = next.increment()
                if k >= taskList.count { return }
                let (t, i) = taskList[k]
                do {
                    let batch = try sources[t].chunk(i)
                    switch t {
                    case 0: out.set(k, try Self.mapProcedureChunk(batch, encounters, parallel: innerParallel))
                    case 1: out.set(k, try Self.mapDiagnosisChunk(batch, encounters, catalog, parallel: innerParallel))
                    default: out.set(k, try Self.mapReportChunk(batch, encounters, parallel: innerParallel))
                    }
                } catch {
                    out.fail(k, error)
                }
            }
        }
        if let e = out.firstError() { throw e }
        var results = (0..<tasks.count).map { out.take($0) ?? ChunkResult() }

        // Concatenate in table and chunk order; procedure codes renumbered over the whole table.
        var pFact = [Int32](), pCode = [Int32](), dFact = [Int32](), dPos = [Int32](), dPrimary = [Bool](), rFact = [Int32]()
        var rows = [0, 0, 0]
        for (k, task) in tasks.enumerated() { rows[task.table] += results[k].rows }
        pFact.reserveCapacity(rows[0])
        pCode.reserveCapacity(rows[0])
        dFact.reserveCapacity(rows[1])
        dPos.reserveCapacity(rows[1])
        dPrimary.reserveCapacity(rows[1])
        rFact.reserveCapacity(rows[2])
        var global = CodeIndexMap()
        var names = StringArray(), modalities = StringArray()
        for (k, task) in tasks.enumerated() {
            let r = results[k]
            results[k] = ChunkResult()
            report.inputRows += r.rows
            report.inputBytes += r.bytes
            switch task.table {
            case 0:
                var translate = [Int32](repeating: 0, count: r.codes.count)
                r.codes.bytes.withUnsafeBufferPointer { b in
                    for v in 0..<r.codes.count {
                        let rg = r.codes.range(v)
                        let g = global.findOrInsert(b, rg.lowerBound, rg.count)
                        if Int(g) == names.count {
                            names.append(r.names.bytes[r.names.range(v)])
                            modalities.append(r.modalities.bytes[r.modalities.range(v)])
                        }
                        translate[v] = g
                    }
                }
                pFact.append(contentsOf: r.fact)
                for c in r.code { pCode.append(translate[Int(c)]) }
            case 1:
                dFact.append(contentsOf: r.fact)
                dPos.append(contentsOf: r.code)
                dPrimary.append(contentsOf: r.primary)
            default:
                rFact.append(contentsOf: r.fact)
            }
        }
        report.proceduresWithoutEncounter = countNegative(pFact)
        report.reportsWithoutEncounter = countNegative(rFact)
        for i in dFact.indices {
            if dPos[i] < 0 {
                report.diagnosesWithUnknownCode += 1
                dFact[i] = -1
            } else if dFact[i] < 0 {
                report.diagnosesWithoutEncounter += 1
            }
        }
        let diagnosisMap = DiagnosisMap(fact: dFact, pos: dPos, primary: dPrimary, keyOfPos: catalog.keyOfPos,
                                        codes: catalog.codes, descriptions: catalog.descriptions, dim: catalog.dim)
        return StreamedRows(procedures: (pFact, pCode, global.codes, names, modalities), diagnoses: diagnosisMap,
                            reportFacts: rFact)
    }

    private static func mapProcedureChunk(_ batch: Batch, _ encounters: EncounterMap, parallel: Bool) throws -> ChunkResult {
        let r = ColumnReader(table: ClinicalModel.procedures, batch: batch)
        var out = ChunkResult(rows: batch.rowCount, bytes: batch.bufferBytes)
        out.fact = factRows(of: try r.uuids("encounter_id"), encounters, parallel: parallel)
        let distinct = DistinctCodes(try r.stringValues("procedure_code"), maxWorkers: parallel ? Workers.count : 1)
        out.code = distinct.rowCode
        out.codes = distinct.map.codes
        out.names = try r.stringValues("procedure_name").gathered(distinct.firstRow)
        out.modalities = try r.stringValues("modality").gathered(distinct.firstRow)
        return out
    }

    private static func mapDiagnosisChunk(_ batch: Batch, _ encounters: EncounterMap, _ catalog: DiagnosisCatalog,
                                          parallel: Bool) throws -> ChunkResult {
        let r = ColumnReader(table: ClinicalModel.diagnoses, batch: batch)
        var out = ChunkResult(rows: batch.rowCount, bytes: batch.bufferBytes)
        out.fact = factRows(of: try r.uuids("encounter_id"), encounters, parallel: parallel)
        out.primary = try r.bools("is_primary")
        let rowCodes = try r.stringValues("code")
        var pos = [Int32](repeating: -1, count: rowCodes.count)
        let map = catalog.map
        let posOfDistinct = catalog.posOfDistinct
        rowCodes.offsets.withUnsafeBufferPointer { off in
            rowCodes.bytes.withUnsafeBufferPointer { bytes in
                pos.withUnsafeMutableBufferPointer { dst in
                    guard let base = dst.baseAddress else { return }
                    let o = SharedPointer(base), offs = SharedBuffer(off), b = SharedBuffer(bytes)
                    let ranges = parallel ? Workers.ranges(dst.count) : [0..<dst.count]
                    Workers.run(ranges.count) { w in
                        for i in ranges[w] {
                            let s = Int(offs[i]), e = Int(offs[i + 1])
                            let v = map.find(b.buffer, s, e - s)
                            o[i] = v < 0 ? -1 : posOfDistinct[Int(v)]
                        }
                    }
                }
            }
        }
        out.code = pos
        return out
    }

    private static func mapReportChunk(_ batch: Batch, _ encounters: EncounterMap, parallel: Bool) throws -> ChunkResult {
        let r = ColumnReader(table: ClinicalModel.reports, batch: batch)
        var out = ChunkResult(rows: batch.rowCount, bytes: batch.bufferBytes)
        out.fact = factRows(of: try r.uuids("encounter_id"), encounters, parallel: parallel)
        return out
    }

    /// dim_procedure from the streamed procedure codes; keys through the registry.
    private mutating func mapProcedures(
        _ p: (fact: [Int32], code: [Int32], codes: StringArray, names: StringArray, modalities: StringArray),
        _ keys: inout KeyRegistry.CodeKeys
    ) throws -> ProcedureMap {
        let distinctKeys = keys.assign(p.codes)
        let (order, posOfDistinct) = keyOrder(distinctKeys)
        var rowPos = p.code
        rowPos.withUnsafeMutableBufferPointer { q in
            for i in 0..<q.count { q[i] = posOfDistinct[Int(q[i])] }
        }
        let codes = p.codes.gathered(order)
        let names = p.names.gathered(order)
        let modalities = p.modalities.gathered(order)
        let keyOfPos = try int32Keys(distinctKeys.gathered(order), "procedure_key")
        let dim = try makeBatch(Warehouse.dimProcedureSchema, [
            Column(.int32(keyOfPos)), Column(.string(codes)), Column(.string(names)), Column(.string(modalities)),
        ])
        return ProcedureMap(fact: p.fact, pos: rowPos, keyOfPos: keyOfPos, codes: codes, modalities: modalities,
                            names: names, dim: dim)
    }

    // MARK: - Stage 2

    struct Fact {
        var batch: Batch
        var bridgeProcedure: Batch
        var bridgeDiagnosis: Batch
        var dates: [Int32]
        var monthIndex: [Int32]  // year·12 + month − 1
        var patientPos: [Int32]
        var numProcedures: [Int32]
        var numDiagnoses: [Int32]
        var hasReport: [Bool]
        /// Bridge rows of fact row f: procedures procOffsets[f] ..< procOffsets[f+1] (dense positions
        /// in procPos, quantities in procQuantity), likewise diagnoses.
        var procOffsets: [Int32]
        var procPos: [Int32]
        var procQuantity: [Int32]
        var diagOffsets: [Int32]
        var diagPos: [Int32]
    }

    private mutating func buildFact(_ e: EncounterMap, patients: PatientMap, facilities: FacilityMap,
                                    procedures: ProcedureMap, diagnoses: DiagnosisMap,
                                    reportFacts: [Int32]) throws -> Fact {
        let n = e.factRows.count
        let dates = e.dates.gathered(e.factRows)
        let patientPos = e.patientPos.gathered(e.factRows)
        let facilityPos = e.facilityPos.gathered(e.factRows)
        let birthYear = patients.birthYear.gathered(patientPos)
        let birthMonthDay = patients.birthMonthDay.gathered(patientPos)
        let birthKnown = patients.birthKnown.gathered(patientPos)

        // Dates → date_key, month index, age at the encounter: eight rows per step, both cores.
        var dateKey = [Int32](repeating: 0, count: n)
        var monthIndex = [Int32](repeating: 0, count: n)
        var age = [Int32](repeating: 0, count: n)
        dates.withUnsafeBufferPointer { d in
            birthYear.withUnsafeBufferPointer { by in
                birthMonthDay.withUnsafeBufferPointer { bmd in
                    dateKey.withUnsafeMutableBufferPointer { dk in
                        monthIndex.withUnsafeMutableBufferPointer { mi in
                            age.withUnsafeMutableBufferPointer { ag in
                                guard n > 0 else { return }
                                let src = SharedBuffer(d), sby = SharedBuffer(by), sbmd = SharedBuffer(bmd)
                                let odk = SharedPointer(dk.baseAddress!), omi = SharedPointer(mi.baseAddress!)
                                let oag = SharedPointer(ag.baseAddress!)
                                let ranges = Workers.ranges(n / 8, minPerWorker: 1 << 13).map { $0.lowerBound * 8..<$0.upperBound * 8 }
                                Workers.run(ranges.count) { w in
                                    var i = ranges[w].lowerBound
                                    let end = w == ranges.count - 1 ? n : ranges[w].upperBound
                                    while i < end {
                                        let c = CivilCalendar.decompose(load8(src.base!, i, end))
                                        store8(CivilCalendar.dateKey(year: c.year, month: c.month, day: c.day), odk.base, i, end)
                                        store8(c.year &* 12 &+ c.month &- 1, omi.base, i, end)
                                        let md = c.month &* 32 &+ c.day
                                        let notYet = SIMD8<Int32>(repeating: 0).replacing(with: 1, where: md .< load8(sbmd.base!, i, end))
                                        store8(c.year &- load8(sby.base!, i, end) &- notYet, oag.base, i, end)
                                        i += 8
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        var ageValid = [Bool](repeating: false, count: n)
        var ageAtEncounter = [Int16](repeating: 0, count: n)
        for f in 0..<n where birthKnown[f] && age[f] >= 0 && age[f] <= Int32(Int16.max) {
            ageValid[f] = true
            ageAtEncounter[f] = Int16(age[f])
        }

        // Per-encounter counts and the bridges.
        let encounterKey = e.assignment.rowKey.gathered(e.factRows)
        var hasReport = [Bool](repeating: false, count: n)
        for f in reportFacts where f >= 0 { hasReport[Int(f)] = true }

        let procGroups = groupByFact(fact: procedures.fact, value: procedures.pos, factCount: n)
        var diagPacked = diagnoses.pos
        for i in diagPacked.indices where diagPacked[i] >= 0 { diagPacked[i] = diagPacked[i] &* 2 &+ (diagnoses.primary[i] ? 1 : 0) }
        let diagGroups = groupByFact(fact: diagnoses.fact, value: diagPacked, factCount: n)

        // Procedures: a run of equal positions is one bridge row with its quantity.
        let procRuns = runs(procGroups, factCount: n, keyShift: 0)
        // Diagnoses: values are position·2 + primary, so a run of one position may mix
        // primary and not; the bridge row is primary if any row was.
        let diagRuns = runs(diagGroups, factCount: n, keyShift: 1)

        // Bridge columns straight from the runs: per-row encounter key and date key repeated
        // over each encounter's runs, keys gathered by dense position.
        let bpEncounter = repeatPerFact(encounterKey, procRuns.offsets)
        let bpDate = repeatPerFact(dateKey, procRuns.offsets)
        let bpKey = procedures.keyOfPos.gathered(procRuns.values)
        let bpQty = clampedInt16(procRuns.counts)
        var diagPos = diagRuns.values
        for i in diagPos.indices { diagPos[i] >>= 1 }
        let bdEncounter = repeatPerFact(encounterKey, diagRuns.offsets)
        let bdDate = repeatPerFact(dateKey, diagRuns.offsets)
        let bdKey = diagnoses.keyOfPos.gathered(diagPos)
        let bdPrimary = diagRuns.anyOdd

        var numProcedures = [Int32](repeating: 0, count: n)
        var numDiagnoses = [Int32](repeating: 0, count: n)
        for f in 0..<n {
            numProcedures[f] = procGroups.offsets[f + 1] - procGroups.offsets[f]
            numDiagnoses[f] = diagGroups.offsets[f + 1] - diagGroups.offsets[f]
        }

        let batch = try makeBatch(Warehouse.factEncountersSchema, [
            Column(.int64(encounterKey)),
            Column(.uuid(e.ids.gathered(e.factRows))),
            Column(.int32(patients.keyOfPos.gathered(patientPos))),
            Column(.int32(facilities.keyOfPos.gathered(facilityPos))),
            Column(.int32(dateKey)),
            e.types.gathered(e.factRows, identity: e.rowsIdentity),
            e.sources.gathered(e.factRows, identity: e.rowsIdentity),
            Column(.int16(ageAtEncounter), validity: validity(ageValid)),
            Column(.int16(clampedInt16(numProcedures))),
            Column(.int16(clampedInt16(numDiagnoses))),
            Column(.bool(hasReport)),
        ])
        let bridgeProcedure = try makeBatch(Warehouse.bridgeEncounterProcedureSchema, [
            Column(.int64(bpEncounter)), Column(.int32(bpKey)), Column(.int32(bpDate)), Column(.int16(bpQty)),
        ])
        let bridgeDiagnosis = try makeBatch(Warehouse.bridgeEncounterDiagnosisSchema, [
            Column(.int64(bdEncounter)), Column(.int32(bdKey)), Column(.int32(bdDate)), Column(.bool(bdPrimary)),
        ])
        return Fact(batch: batch, bridgeProcedure: bridgeProcedure, bridgeDiagnosis: bridgeDiagnosis,
                    dates: dates, monthIndex: monthIndex, patientPos: patientPos,
                    numProcedures: numProcedures, numDiagnoses: numDiagnoses, hasReport: hasReport,
                    procOffsets: procRuns.offsets, procPos: procRuns.values, procQuantity: procRuns.counts,
                    diagOffsets: diagRuns.offsets, diagPos: diagPos)
    }

    // MARK: - Stage 3

    struct Aggregates {
        var dimPatient: Batch
        var dimTime: Batch
        var monthly: Batch
        var diagnosisByAgeGroup: Batch
        var procedureVolume: Batch
    }

    private mutating func buildAggregates(fact: Fact, patients: PatientMap, procedures: ProcedureMap,
                                          diagnoses: DiagnosisMap) throws -> Aggregates {
        let nFacts = fact.dates.count
        let nPatients = patients.rows.count
        let nProc = procedures.keyOfPos.count
        let nDiag = diagnoses.keyOfPos.count

        // As-of date, and each patient's age and age group then.
        var asOf = options.asOf
        if asOf == nil, nFacts > 0 { asOf = fact.dates.max() }
        report.asOf = asOf
        var age = [Int16](repeating: 0, count: nPatients)
        var ageValid = [Bool](repeating: false, count: nPatients)
        var ageGroup = [Int32](repeating: Int32(unknownAgeGroup), count: nPatients)
        if let asOf {
            guard CivilCalendar.supportedDays.contains(asOf) else {
                throw WarehouseError("the as-of date is outside 0001-01-01 … 9999-12-31")
            }
            let c = CivilCalendar.civil(asOf)
            let asOfYear = SIMD8<Int32>(repeating: c.year)
            let asOfMonthDay = SIMD8<Int32>(repeating: c.month * 32 + c.day)
            patients.birthYear.withUnsafeBufferPointer { by in
                patients.birthMonthDay.withUnsafeBufferPointer { bmd in
                    var i = 0
                    while i < nPatients {
                        let notYet = SIMD8<Int32>(repeating: 0).replacing(with: 1, where: asOfMonthDay .< load8(bmd.baseAddress!, i, nPatients))
                        let a = asOfYear &- load8(by.baseAddress!, i, nPatients) &- notYet
                        let g = ageGroupIndex(a)
                        for k in 0..<min(8, nPatients - i) where patients.birthKnown[i + k] && a[k] >= 0 && a[k] <= Int32(Int16.max) {
                            age[i + k] = Int16(a[k])
                            ageValid[i + k] = true
                            ageGroup[i + k] = g[k]
                        }
                        i += 8
                    }
                }
            }
        }

        // Encounters grouped per patient (counting sort; fact order kept within a patient).
        var patientOffsets = [Int32](repeating: 0, count: nPatients + 1)
        for p in fact.patientPos { patientOffsets[Int(p) + 1] += 1 }
        for p in 0..<nPatients { patientOffsets[p + 1] += patientOffsets[p] }
        var patientFacts = [Int32](repeating: 0, count: nFacts)
        do {
            var next = patientOffsets
            for f in 0..<nFacts {
                let p = Int(fact.patientPos[f])
                patientFacts[Int(next[p])] = Int32(f)
                next[p] += 1
            }
        }

        // Dense month range of the build.
        var minMonth = Int32.max, maxMonth = Int32.min
        for m in fact.monthIndex {
            minMonth = min(minMonth, m)
            maxMonth = max(maxMonth, m)
        }
        let nMonths = nFacts == 0 ? 0 : Int(maxMonth - minMonth) + 1
        let monthBase = nFacts == 0 ? 0 : minMonth

        // One pass over the patients, half of them per core.
        var firstDate = [Int32](repeating: 0, count: nPatients)
        var lastDate = [Int32](repeating: 0, count: nPatients)
        let ranges = Workers.ranges(nPatients, minPerWorker: 1 << 12)
        let totals = ranges.map { _ in GroupTotals(months: nMonths, procedures: nProc, diagnoses: nDiag) }
        fact.dates.withUnsafeBufferPointer { dates in
        fact.monthIndex.withUnsafeBufferPointer { months in
        fact.numProcedures.withUnsafeBufferPointer { numProc in
        fact.numDiagnoses.withUnsafeBufferPointer { numDiag in
        fact.hasReport.withUnsafeBufferPointer { hasReport in
        fact.procOffsets.withUnsafeBufferPointer { procOffsets in
        fact.procPos.withUnsafeBufferPointer { procPos in
        fact.procQuantity.withUnsafeBufferPointer { procQty in
        fact.diagOffsets.withUnsafeBufferPointer { diagOffsets in
        fact.diagPos.withUnsafeBufferPointer { diagPos in
        patientOffsets.withUnsafeBufferPointer { pOff in
        patientFacts.withUnsafeBufferPointer { pFacts in
        ageGroup.withUnsafeBufferPointer { groups in
        firstDate.withUnsafeMutableBufferPointer { first in
        lastDate.withUnsafeMutableBufferPointer { last in
            let v = PatientPassInput(
                dates: SharedBuffer(dates), months: SharedBuffer(months), numProc: SharedBuffer(numProc),
                numDiag: SharedBuffer(numDiag), hasReport: SharedBuffer(hasReport),
                procOffsets: SharedBuffer(procOffsets), procPos: SharedBuffer(procPos), procQty: SharedBuffer(procQty),
                diagOffsets: SharedBuffer(diagOffsets), diagPos: SharedBuffer(diagPos),
                patientOffsets: SharedBuffer(pOff), patientFacts: SharedBuffer(pFacts), ageGroup: SharedBuffer(groups),
                first: first.baseAddress.map { SharedPointer($0) }, last: last.baseAddress.map { SharedPointer($0) },
                monthBase: monthBase, nMonths: nMonths, nDiag: nDiag)
            Workers.run(ranges.count) { w in
                patientPass(v, ranges[w], totals[w])
            }
        }}}}}}}}}}}}}}}
        let t = totals.dropFirst().reduce(into: totals[0]) { $0.add($1) }

        var totalEncounters = [Int32](repeating: 0, count: nPatients)
        var hasEncounters = [Bool](repeating: false, count: nPatients)
        for p in 0..<nPatients {
            totalEncounters[p] = patientOffsets[p + 1] - patientOffsets[p]
            hasEncounters[p] = totalEncounters[p] > 0
        }
        let encountered = validity(hasEncounters)
        let dimPatient = try makeBatch(Warehouse.dimPatientSchema, [
            Column(.int32(patients.keyOfPos)),
            Column(.uuid(try patients.reader.uuids("patient_id").gathered(patients.rows))),
            try patients.reader.strings("source", required: true).gathered(patients.rows),
            try patients.reader.strings("source_id").gathered(patients.rows),
            try patients.reader.strings("sex").gathered(patients.rows),
            try patients.reader.column("birth_year", of: .int16).gathered(patients.rows),
            try patients.reader.column("birth_date", of: .date).gathered(patients.rows),
            Column(.int16(age), validity: validity(ageValid)),
            stringColumn(ageGroup, labels: ageGroupLabels, nullIndex: Int32(unknownAgeGroup)),
            try patients.reader.strings("district").gathered(patients.rows),
            try patients.reader.strings("province").gathered(patients.rows),
            Column(.date(firstDate), validity: encountered),
            Column(.date(lastDate), validity: encountered),
            Column(.int32(totalEncounters)),
        ])

        // mv_monthly_encounters: one row per month with encounters.
        var mYear = [Int16](), mMonth = [Int8](), mName = StringArray()
        var mTotal = [Int64](), mUnique = [Int64](), mProc = [Int64](), mDiag = [Int64](), mReport = [Int64]()
        var years = Set<Int32>()
        for g in 0..<nMonths where t.monthEncounters[g] > 0 {
            let idx = monthBase + Int32(g)
            let y = idx / 12, m = idx % 12 + 1
            years.insert(y)
            mYear.append(Int16(clamping: y))
            mMonth.append(Int8(m))
            mName.append(CivilCalendar.monthNames[Int(m) - 1])
            mTotal.append(t.monthEncounters[g])
            mUnique.append(t.monthPatients[g])
            mProc.append(t.monthProcedures[g])
            mDiag.append(t.monthDiagnoses[g])
            mReport.append(t.monthReports[g])
        }
        let monthly = try makeBatch(Warehouse.mvMonthlyEncountersSchema, [
            Column(.int16(mYear)), Column(.int8(mMonth)), Column(.string(mName)), Column(.int64(mTotal)),
            Column(.int64(mUnique)), Column(.int64(mProc)), Column(.int64(mDiag)), Column(.int64(mReport)),
        ])

        // mv_diagnosis_by_age_group: age group order (unknown last), then diagnosis code bytes.
        let diagByCode = byteOrder(diagnoses.codes)
        var dgGroup = StringArray(), dgCode = StringArray(), dgName = StringArray()
        var dgCount = [Int64](), dgPatients = [Int64]()
        for g in 0...unknownAgeGroup {
            for d in diagByCode {
                let cell = g * nDiag + d
                guard t.diagnosisRows[cell] > 0 else { continue }
                dgGroup.append(ageGroupLabels[g])
                dgCode.append(diagnoses.codes.bytes[diagnoses.codes.range(d)])
                dgName.append(diagnoses.descriptions.bytes[diagnoses.descriptions.range(d)])
                dgCount.append(t.diagnosisRows[cell])
                dgPatients.append(t.diagnosisPatients[cell])
            }
        }
        let diagnosisByAgeGroup = try makeBatch(Warehouse.mvDiagnosisByAgeGroupSchema, [
            Column(.string(dgGroup)), Column(.string(dgCode)), Column(.string(dgName)),
            Column(.int64(dgCount)), Column(.int64(dgPatients)),
        ])

        // mv_procedure_volume: modality, then procedure code (bytes), then year and month.
        let procOrder = (0..<nProc).sorted { a, b in
            let ma = procedures.modalities.bytes[procedures.modalities.range(a)]
            let mb = procedures.modalities.bytes[procedures.modalities.range(b)]
            if ma != mb { return ma.lexicographicallyPrecedes(mb) }
            return procedures.codes.bytes[procedures.codes.range(a)]
                .lexicographicallyPrecedes(procedures.codes.bytes[procedures.codes.range(b)])
        }
        var pvModality = StringArray(), pvCode = StringArray(), pvName = StringArray()
        var pvYear = [Int16](), pvMonth = [Int8](), pvCount = [Int64](), pvEnc = [Int64](), pvPatients = [Int64]()
        for p in procOrder {
            for g in 0..<nMonths {
                let cell = p * nMonths + g
                guard t.procedureEncounters[cell] > 0 else { continue }
                let idx = monthBase + Int32(g)
                pvModality.append(procedures.modalities.bytes[procedures.modalities.range(p)])
                pvCode.append(procedures.codes.bytes[procedures.codes.range(p)])
                pvName.append(procedures.names.bytes[procedures.names.range(p)])
                pvYear.append(Int16(clamping: idx / 12))
                pvMonth.append(Int8(idx % 12 + 1))
                pvCount.append(t.procedureRows[cell])
                pvEnc.append(t.procedureEncounters[cell])
                pvPatients.append(t.procedurePatients[cell])
            }
        }
        let procedureVolume = try makeBatch(Warehouse.mvProcedureVolumeSchema, [
            Column(.string(pvModality)), Column(.string(pvCode)), Column(.string(pvName)),
            Column(.int16(pvYear)), Column(.int8(pvMonth)),
            Column(.int64(pvCount)), Column(.int64(pvEnc)), Column(.int64(pvPatients)),
        ])

        return Aggregates(dimPatient: dimPatient, dimTime: try buildDimTime(years: years.sorted()),
                          monthly: monthly, diagnosisByAgeGroup: diagnosisByAgeGroup, procedureVolume: procedureVolume)
    }

    /// dim_time: every day of every year that has encounters.
    private func buildDimTime(years: [Int32]) throws -> Batch {
        var days = [Int32]()
        var weekOfYear = [Int8]()
        var jan1 = [Int32]()
        for y in years {
            let start = CivilCalendar.days(year: Int(y), month: 1, day: 1)
            let end = CivilCalendar.days(year: Int(y) + 1, month: 1, day: 1)
            for d in start..<end { days.append(d) }
            jan1.append(start)
        }
        let n = days.count
        var dateKey = [Int32](repeating: 0, count: n), year = [Int16](repeating: 0, count: n)
        var quarter = [Int8](repeating: 0, count: n), month = [Int8](repeating: 0, count: n)
        var day = [Int8](repeating: 0, count: n), weekday = [Int8](repeating: 0, count: n)
        var weekend = [Bool](repeating: false, count: n)
        var monthName = StringArray(), dayName = StringArray()
        weekOfYear.reserveCapacity(n)
        days.withUnsafeBufferPointer { d in
            var i = 0
            while i < n {
                let c = CivilCalendar.decompose(load8(d.baseAddress!, i, n))
                let dk = CivilCalendar.dateKey(year: c.year, month: c.month, day: c.day)
                for k in 0..<min(8, n - i) {
                    dateKey[i + k] = dk[k]
                    year[i + k] = Int16(clamping: c.year[k])
                    month[i + k] = Int8(c.month[k])
                    quarter[i + k] = Int8((c.month[k] + 2) / 3)
                    day[i + k] = Int8(c.day[k])
                    weekday[i + k] = Int8(c.weekday[k])
                    weekend[i + k] = c.weekday[k] >= 6
                }
                i += 8
            }
        }
        var yi = 0
        var weeksThis = 0, weeksPrev = 0
        for i in 0..<n {
            let y = Int(year[i])
            if i == 0 || Int(year[i - 1]) != y {
                weeksThis = CivilCalendar.isoWeeksInYear(y)
                weeksPrev = CivilCalendar.isoWeeksInYear(y - 1)
                if i > 0 { yi += 1 }
            }
            let ordinal = Int(days[i] - jan1[yi]) + 1
            var w = (ordinal - Int(weekday[i]) + 10) / 7
            if w < 1 { w = weeksPrev } else if w > weeksThis { w = 1 }
            weekOfYear.append(Int8(w))
            monthName.append(CivilCalendar.monthNames[Int(month[i]) - 1])
            dayName.append(CivilCalendar.dayNames[Int(weekday[i]) - 1])
        }
        return try makeBatch(Warehouse.dimTimeSchema, [
            Column(.int32(dateKey)), Column(.date(days)), Column(.int16(year)), Column(.int8(quarter)),
            Column(.int8(month)), Column(.string(monthName)), Column(.int8(weekOfYear)), Column(.int8(day)),
            Column(.int8(weekday)), Column(.string(dayName)), Column(.bool(weekend)),
        ])
    }
}

// MARK: - The patient pass

/// Counting arrays of one worker, indexed by dense group ids.
final class GroupTotals: @unchecked Sendable {
    let nMonths: Int
    var monthEncounters: [Int64], monthPatients: [Int64], monthProcedures: [Int64]
    var monthDiagnoses: [Int64], monthReports: [Int64]
    /// procedure position · months + month
    var procedureRows: [Int64], procedureEncounters: [Int64], procedurePatients: [Int64]
    /// age group · diagnoses + diagnosis position
    var diagnosisRows: [Int64], diagnosisPatients: [Int64]

    init(months: Int, procedures: Int, diagnoses: Int) {
        nMonths = months
        monthEncounters = Array(repeating: 0, count: months)
        monthPatients = monthEncounters
        monthProcedures = monthEncounters
        monthDiagnoses = monthEncounters
        monthReports = monthEncounters
        procedureRows = Array(repeating: 0, count: procedures * months)
        procedureEncounters = procedureRows
        procedurePatients = procedureRows
        diagnosisRows = Array(repeating: 0, count: (unknownAgeGroup + 1) * diagnoses)
        diagnosisPatients = diagnosisRows
    }

    func add(_ o: GroupTotals) {
        func sum(_ a: inout [Int64], _ b: [Int64]) { for i in a.indices { a[i] &+= b[i] } }
        sum(&monthEncounters, o.monthEncounters)
        sum(&monthPatients, o.monthPatients)
        sum(&monthProcedures, o.monthProcedures)
        sum(&monthDiagnoses, o.monthDiagnoses)
        sum(&monthReports, o.monthReports)
        sum(&procedureRows, o.procedureRows)
        sum(&procedureEncounters, o.procedureEncounters)
        sum(&procedurePatients, o.procedurePatients)
        sum(&diagnosisRows, o.diagnosisRows)
        sum(&diagnosisPatients, o.diagnosisPatients)
    }
}

struct PatientPassInput: Sendable {
    var dates, months, numProc, numDiag: SharedBuffer<Int32>
    var hasReport: SharedBuffer<Bool>
    var procOffsets, procPos, procQty, diagOffsets, diagPos: SharedBuffer<Int32>
    var patientOffsets, patientFacts, ageGroup: SharedBuffer<Int32>
    var first, last: SharedPointer<Int32>?
    var monthBase: Int32
    var nMonths: Int
    var nDiag: Int
}

/// For patients in `range`: first/last encounter date, and every group total, counting a
/// patient once per group through a last-seen-patient array per group.
func patientPass(_ v: PatientPassInput, _ range: Range<Int>, _ t: GroupTotals) {
    let nMonths = v.nMonths
    var seenMonth = [Int32](repeating: -1, count: nMonths)
    var seenProc = [Int32](repeating: -1, count: t.procedureRows.count)
    var seenDiag = [Int32](repeating: -1, count: t.diagnosisRows.count)
    t.monthEncounters.withUnsafeMutableBufferPointer { mEnc in
    t.monthPatients.withUnsafeMutableBufferPointer { mPat in
    t.monthProcedures.withUnsafeMutableBufferPointer { mProc in
    t.monthDiagnoses.withUnsafeMutableBufferPointer { mDiag in
    t.monthReports.withUnsafeMutableBufferPointer { mRep in
    t.procedureRows.withUnsafeMutableBufferPointer { pRows in
    t.procedureEncounters.withUnsafeMutableBufferPointer { pEnc in
    t.procedurePatients.withUnsafeMutableBufferPointer { pPat in
    t.diagnosisRows.withUnsafeMutableBufferPointer { dRows in
    t.diagnosisPatients.withUnsafeMutableBufferPointer { dPat in
    seenMonth.withUnsafeMutableBufferPointer { sMonth in
    seenProc.withUnsafeMutableBufferPointer { sProc in
    seenDiag.withUnsafeMutableBufferPointer { sDiag in
        for p in range {
            let me = Int32(p)
            let lo = Int(v.patientOffsets[p]), hi = Int(v.patientOffsets[p + 1])
            if lo == hi { continue }
            var first = Int32.max, last = Int32.min
            let diagBase = Int(v.ageGroup[p]) * v.nDiag
            for j in lo..<hi {
                let f = Int(v.patientFacts[j])
                let d = v.dates[f]
                first = min(first, d)
                last = max(last, d)
                let g = Int(v.months[f] - v.monthBase)
                mEnc[g] &+= 1
                mProc[g] &+= Int64(v.numProc[f])
                mDiag[g] &+= Int64(v.numDiag[f])
                if v.hasReport[f] { mRep[g] &+= 1 }
                if sMonth[g] != me {
                    sMonth[g] = me
                    mPat[g] &+= 1
                }
                for b in Int(v.procOffsets[f])..<Int(v.procOffsets[f + 1]) {
                    let cell = Int(v.procPos[b]) * nMonths + g
                    pRows[cell] &+= Int64(v.procQty[b])
                    pEnc[cell] &+= 1
                    if sProc[cell] != me {
                        sProc[cell] = me
                        pPat[cell] &+= 1
                    }
                }
                for b in Int(v.diagOffsets[f])..<Int(v.diagOffsets[f + 1]) {
                    let cell = diagBase + Int(v.diagPos[b])
                    dRows[cell] &+= 1
                    if sDiag[cell] != me {
                        sDiag[cell] = me
                        dPat[cell] &+= 1
                    }
                }
            }
            v.first?[p] = first
            v.last?[p] = last
        }
    }}}}}}}}}}}}}
}

// MARK: - Helpers

/// Rows grouped by fact row: values of fact f are values[offsets[f] ..< offsets[f+1]],
/// in input order. Rows with fact −1 are left out.
struct FactGroups {
    var offsets: [Int32]
    var values: [Int32]
}

func groupByFact(fact: [Int32], value: [Int32], factCount n: Int) -> FactGroups {
    var offsets = [Int32](repeating: 0, count: n + 1)
    var live = 0
    for f in fact where f >= 0 {
        offsets[Int(f) + 1] += 1
        live += 1
    }
    for f in 0..<n { offsets[f + 1] += offsets[f] }
    var values = [Int32](repeating: 0, count: live)
    var next = offsets
    fact.withUnsafeBufferPointer { fa in
        value.withUnsafeBufferPointer { va in
            values.withUnsafeMutableBufferPointer { out in
                next.withUnsafeMutableBufferPointer { nx in
                    for i in 0..<fa.count {
                        let f = Int(fa[i])
                        if f < 0 { continue }
                        out[Int(nx[f])] = va[i]
                        nx[f] += 1
                    }
                }
            }
        }
    }
    return FactGroups(offsets: offsets, values: values)
}

/// Each fact's values sorted and run-length encoded by `value >> keyShift`: one run per distinct key,
/// with its smallest value, its length, and whether any value in it was odd.
struct FactRuns {
    var offsets: [Int32]
    var values: [Int32]
    var counts: [Int32]
    var anyOdd: [Bool]
}

func runs(_ groups: FactGroups, factCount n: Int, keyShift: Int32) -> FactRuns {
    var offsets = [Int32](repeating: 0, count: n + 1)
    var values = [Int32](), counts = [Int32](), anyOdd = [Bool]()
    values.reserveCapacity(groups.values.count)
    counts.reserveCapacity(groups.values.count)
    anyOdd.reserveCapacity(groups.values.count)
    var scratch = [Int32](repeating: 0, count: 64)
    for f in 0..<n {
        let lo = Int(groups.offsets[f]), hi = Int(groups.offsets[f + 1])
        let m = hi - lo
        if m > scratch.count { scratch = [Int32](repeating: 0, count: m) }
        // Insertion sort: an encounter has a handful of procedures or diagnoses.
        for j in 0..<m {
            let x = groups.values[lo + j]
            var k = j
            while k > 0 && scratch[k - 1] > x {
                scratch[k] = scratch[k - 1]
                k -= 1
            }
            scratch[k] = x
        }
        var j = 0
        while j < m {
            let k0 = scratch[j] >> keyShift
            var odd = false
            var c: Int32 = 0
            let v = scratch[j]
            while j < m && scratch[j] >> keyShift == k0 {
                if scratch[j] & 1 == 1 { odd = true }
                c += 1
                j += 1
            }
            values.append(v)
            counts.append(c)
            anyOdd.append(odd)
        }
        offsets[f + 1] = Int32(values.count)
    }
    return FactRuns(offsets: offsets, values: values, counts: counts, anyOdd: anyOdd)
}

@inline(__always)
func load8(_ p: UnsafePointer<Int32>, _ i: Int, _ n: Int) -> SIMD8<Int32> {
    if i + 8 <= n { return UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Int32>.self) }
    var v = SIMD8<Int32>(repeating: 0)
    for k in 0..<(n - i) { v[k] = p[i + k] }
    return v
}

@inline(__always)
func store8(_ v: SIMD8<Int32>, _ p: UnsafeMutablePointer<Int32>, _ i: Int, _ n: Int) {
    if i + 8 <= n {
        UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD8<Int32>.self)
    } else {
        for k in 0..<(n - i) { p[i + k] = v[k] }
    }
}

/// Age → 0 … 4 as `Warehouse.ageGroups` (0-17, 18-30, 31-50, 51-70, 71+).
@inline(__always)
func ageGroupIndex(_ age: SIMD8<Int32>) -> SIMD8<Int32> {
    let zero = SIMD8<Int32>(repeating: 0)
    return zero.replacing(with: 1, where: age .>= 18) &+ zero.replacing(with: 1, where: age .>= 31)
        &+ zero.replacing(with: 1, where: age .>= 51) &+ zero.replacing(with: 1, where: age .>= 71)
}

func canonicalFlags(_ canonical: [Int32]) -> [Bool] {
    var out = [Bool](repeating: false, count: canonical.count)
    for i in canonical.indices where canonical[i] == Int32(i) { out[i] = true }
    return out
}

/// Inverse of a row selection: position of each row in `rows`, −1 if absent.
func positions(of rows: [Int32], count: Int) -> [Int32] {
    var out = [Int32](repeating: -1, count: count)
    for (p, r) in rows.enumerated() { out[Int(r)] = Int32(p) }
    return out
}

/// Distinct entries sorted by key: (order, position of each distinct entry).
func keyOrder(_ keys: [Int64]) -> (order: [Int32], posOf: [Int32]) {
    let order = keys.indices.sorted { keys[$0] < keys[$1] }.map { Int32($0) }
    return (order, positions(of: order, count: keys.count))
}

/// Indexes of a StringArray's values in byte order.
func byteOrder(_ s: StringArray) -> [Int] {
    (0..<s.count).sorted { s.bytes[s.range($0)].lexicographicallyPrecedes(s.bytes[s.range($1)]) }
}

func int32Keys(_ keys: [Int64], _ column: String) throws -> [Int32] {
    var out = [Int32](repeating: 0, count: keys.count)
    for i in keys.indices {
        guard let k = Int32(exactly: keys[i]) else {
            throw WarehouseError("\(column) \(keys[i]) does not fit the warehouse's int32 key column")
        }
        out[i] = k
    }
    return out
}

func validity(_ flags: [Bool]) -> Bitmap? {
    guard flags.contains(false) else { return nil }
    var b = Bitmap(repeating: true, count: flags.count)
    for i in flags.indices where !flags[i] { b[i] = false }
    return b
}

/// A string column from label indexes; `nullIndex` becomes null.
func stringColumn(_ indexes: [Int32], labels: [String], nullIndex: Int32) -> Column {
    var s = StringArray()
    let utf8 = labels.map { Array($0.utf8) }
    s.reserveCapacity(rows: indexes.count, bytes: indexes.count * 5)
    var valid = [Bool](repeating: true, count: indexes.count)
    for i in indexes.indices {
        let x = indexes[i]
        if x == nullIndex {
            s.appendEmpty()
            valid[i] = false
        } else {
            s.append(utf8[Int(x)][...])
        }
    }
    return Column(.string(s), validity: validity(valid))
}

/// values[f] repeated offsets[f+1] − offsets[f] times, for every f.
func repeatPerFact<T>(_ values: [T], _ offsets: [Int32]) -> [T] {
    let total = Int(offsets.last ?? 0)
    return [T](unsafeUninitializedCapacity: total) { out, n in
        values.withUnsafeBufferPointer { v in
            offsets.withUnsafeBufferPointer { o in
                for f in 0..<v.count {
                    for j in Int(o[f])..<Int(o[f + 1]) { (out.baseAddress! + j).initialize(to: v[f]) }
                }
            }
        }
        n = total
    }
}

func countNegative(_ v: [Int32]) -> Int {
    var n = 0
    for x in v where x < 0 { n += 1 }
    return n
}

func clampedInt16(_ v: [Int32]) -> [Int16] {
    var out = [Int16](repeating: 0, count: v.count)
    for i in v.indices { out[i] = Int16(clamping: v[i]) }
    return out
}

func makeBatch(_ schema: Schema, _ columns: [Column]) throws -> Batch {
    for (f, c) in zip(schema.fields, columns) where f.type != c.type {
        throw WarehouseError("internal: column `\(f.name)` built as \(c.type), schema says \(f.type)")
    }
    return Batch(schema: schema, columns: columns)
}
