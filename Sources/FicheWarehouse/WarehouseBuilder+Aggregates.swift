// Stage 3, aggregates: encounters grouped per patient (counting sort); one pass over the
// patients (PatientPass.swift) fills counting arrays indexed by dense group ids; from them
// dim_patient's visit columns, mv_monthly_encounters, mv_diagnosis_by_age_group and
// mv_procedure_volume.

import FicheLake

extension WarehouseBuilder {
    struct Aggregates {
        var dimPatient: Batch
        var dimTime: Batch
        var monthly: Batch
        var diagnosisByAgeGroup: Batch
        var procedureVolume: Batch
    }

    mutating func buildAggregates(fact: Fact, patients: PatientMap, procedures: ProcedureMap,
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
        let ranges = Workers.ranges(nPatients, minPerWorker: 1 << 12)
        let totals = ranges.map { _ in GroupTotals(months: nMonths, procedures: nProc, diagnoses: nDiag) }
        let pass = PatientPassColumns(
            dates: fact.dates, months: fact.monthIndex, numProcedures: fact.numProcedures,
            numDiagnoses: fact.numDiagnoses, hasReport: fact.hasReport,
            procOffsets: fact.procOffsets, procPos: fact.procPos, procQuantity: fact.procQuantity,
            diagOffsets: fact.diagOffsets, diagPos: fact.diagPos,
            patientOffsets: patientOffsets, patientFacts: patientFacts, ageGroup: ageGroup,
            monthBase: monthBase, nMonths: nMonths, nDiagnoses: nDiag)
        let (firstDate, lastDate) = pass.run(ranges, into: totals)
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
}
