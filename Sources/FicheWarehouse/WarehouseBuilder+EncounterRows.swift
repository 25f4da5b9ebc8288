// Stage 1, the per-encounter tables: procedures, diagnoses and reports are decoded chunk by
// chunk on both cores, joined to their encounter's fact row, and reduced to dense integers
// (fact row, code index, primary flag), then concatenated in table and chunk order.

import FicheLake
import FicheModel

extension WarehouseBuilder {
    /// Fact row of each encounter id, or −1 (unknown, orphaned or filtered out).
    private static func factRows(of encounterIds: [UUID16], _ encounters: EncounterMap, parallel: Bool) -> [Int32] {
        var rows = [Int32]()
        encounters.assignment.rows(of: encounterIds, inputIds: encounters.ids, into: &rows, parallel: parallel)
        let factOfRow = encounters.factOfRow
        for i in rows.indices where rows[i] >= 0 { rows[i] = factOfRow[Int(rows[i])] }
        return rows
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
    mutating func mapEncounterRows(procedures: TableChunks, diagnoses: TableChunks, reports: TableChunks,
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
        var out = ChunkResult(rows: batch.rowCount, bytes: batch.memoryBytes)
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
        var out = ChunkResult(rows: batch.rowCount, bytes: batch.memoryBytes)
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
        var out = ChunkResult(rows: batch.rowCount, bytes: batch.memoryBytes)
        out.fact = factRows(of: try r.uuids("encounter_id"), encounters, parallel: parallel)
        return out
    }
}
