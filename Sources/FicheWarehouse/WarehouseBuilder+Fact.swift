// Stage 2, fact and bridges: dates → date keys (SIMD), per-encounter counts (histograms),
// procedures and diagnoses grouped per encounter (counting sort, then each small run sorted
// and run-length encoded into bridge rows), ages at the encounter (SIMD).

import FicheLake

extension WarehouseBuilder {
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

    mutating func buildFact(_ e: EncounterMap, patients: PatientMap, facilities: FacilityMap,
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
}
