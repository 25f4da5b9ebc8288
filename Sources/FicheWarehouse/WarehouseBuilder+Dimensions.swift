// Stage 1, the dimensions: each dimension's ids (or codes) get their stable keys from the
// KeyRegistry and a dense position = rank in key order; encounters are joined to patients
// and facilities through UUID hash maps. Each mapper also builds its dim_ table.

import FicheLake
import FicheModel

extension WarehouseBuilder {
    struct FacilityMap {
        var assignment: IdAssignment
        var posOfRow: [Int32]
        var keyOfPos: [Int32]
        var dim: Batch
    }

    mutating func mapFacilities(_ batch: Batch, _ keys: inout KeyRegistry.IdKeys) throws -> FacilityMap {
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

    mutating func mapPatients(_ batch: Batch, _ keys: inout KeyRegistry.IdKeys) throws -> PatientMap {
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
            throw WarehouseError("patients: birth columns have unexpected types", code: .internal, table: ClinicalModel.patients)
        }
        let n = rows.count
        var birthYear = [Int32](repeating: 0, count: n)
        var birthMonthDay = [Int32](repeating: 0, count: n)
        var birthKnown = [Bool](repeating: false, count: n)
        for p in 0..<n where !dateCol.isNull(p) {
            guard CivilCalendar.supportedDays.contains(dates[p]) else {
                throw WarehouseError("patients: birth_date at row \(rows[p]) is outside 0001-01-01 … 9999-12-31",
                                     table: ClinicalModel.patients, column: "birth_date", row: Int(rows[p]))
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

    mutating func mapEncounters(_ batch: Batch, _ keys: inout KeyRegistry.IdKeys,
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
            throw WarehouseError("encounters: encounter_date at row \(i) is outside 0001-01-01 … 9999-12-31",
                                 table: ClinicalModel.encounters, column: "encounter_date", row: i)
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

    /// The diagnosis catalog: dim_diagnosis and the code → position map.
    struct DiagnosisCatalog: Sendable {
        var map: CodeIndexMap
        var posOfDistinct: [Int32]
        var keyOfPos: [Int32]
        var codes: StringArray
        var descriptions: StringArray
        var dim: Batch
    }

    mutating func mapDiagnosisCodes(_ catalog: Batch, _ keys: inout KeyRegistry.CodeKeys) throws -> DiagnosisCatalog {
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

    /// dim_procedure from the streamed procedure codes; keys through the registry.
    mutating func mapProcedures(
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
}
