// The patient pass of stage 3: for a range of patients, each patient's encounters are
// visited once and every group total (month, procedure × month, age group × diagnosis) is
// counted, distinct patients through a last-seen-patient array per group. Each worker has
// its own GroupTotals; they are summed afterwards.

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
