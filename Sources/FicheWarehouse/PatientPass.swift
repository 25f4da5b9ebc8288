// The patient pass of stage 3: for a range of patients, each patient's encounters are
// visited once and every group total (month, procedure × month, age group × diagnosis) is
// counted, distinct patients through a last-seen-patient array per group. Each worker has
// its own GroupTotals; they are summed afterwards.
//
// Unsafe access is in two places only, each a small type that owns or pins its buffers:
// GroupTotals allocates every counting array of one worker (and its last-seen arrays) and
// frees them when it goes; PatientPassColumns.run pins the pass's inputs once and hands the
// kernel a PatientPassHandle. Both check their invariants with `assert`, so debug builds (and
// the test suite) verify the shapes every index relies on, and release builds pay nothing.

/// Counting arrays of one worker, indexed by dense group ids, in one allocation this object
/// owns for its whole life, with the worker's last-seen-patient arrays.
final class GroupTotals: @unchecked Sendable {
    let nMonths: Int
    let monthEncounters, monthPatients, monthProcedures: UnsafeMutableBufferPointer<Int64>
    let monthDiagnoses, monthReports: UnsafeMutableBufferPointer<Int64>
    /// procedure position · months + month
    let procedureRows, procedureEncounters, procedurePatients: UnsafeMutableBufferPointer<Int64>
    /// age group · diagnoses + diagnosis position
    let diagnosisRows, diagnosisPatients: UnsafeMutableBufferPointer<Int64>
    /// The last patient counted in each month, procedure·month and age group·diagnosis cell (−1: none).
    let seenMonth, seenProcedure, seenDiagnosis: UnsafeMutableBufferPointer<Int32>

    private let counts: UnsafeMutableBufferPointer<Int64>
    private let seen: UnsafeMutableBufferPointer<Int32>

    init(months: Int, procedures: Int, diagnoses: Int) {
        nMonths = months
        let procedureCells = procedures * months
        let diagnosisCells = (unknownAgeGroup + 1) * diagnoses
        counts = .allocate(capacity: 5 * months + 3 * procedureCells + 2 * diagnosisCells)
        counts.initialize(repeating: 0)
        seen = .allocate(capacity: months + procedureCells + diagnosisCells)
        seen.initialize(repeating: -1)
        var at = 0
        func part<T>(_ whole: UnsafeMutableBufferPointer<T>, _ n: Int) -> UnsafeMutableBufferPointer<T> {
            defer { at += n }
            return UnsafeMutableBufferPointer(rebasing: whole[at..<at + n])
        }
        monthEncounters = part(counts, months)
        monthPatients = part(counts, months)
        monthProcedures = part(counts, months)
        monthDiagnoses = part(counts, months)
        monthReports = part(counts, months)
        procedureRows = part(counts, procedureCells)
        procedureEncounters = part(counts, procedureCells)
        procedurePatients = part(counts, procedureCells)
        diagnosisRows = part(counts, diagnosisCells)
        diagnosisPatients = part(counts, diagnosisCells)
        assert(at == counts.count)
        at = 0
        seenMonth = part(seen, months)
        seenProcedure = part(seen, procedureCells)
        seenDiagnosis = part(seen, diagnosisCells)
        assert(at == seen.count)
    }

    deinit {
        counts.deallocate()
        seen.deallocate()
    }

    /// Adds another worker's totals to these.
    func add(_ o: GroupTotals) {
        assert(o.counts.count == counts.count && o.nMonths == nMonths)
        for i in counts.indices { counts[i] &+= o.counts[i] }
    }

    /// Distinct patients never outnumber what they were counted from, and nothing is negative.
    func invariantsHold() -> Bool {
        for g in 0..<nMonths where monthPatients[g] > monthEncounters[g] || monthPatients[g] < 0 { return false }
        for c in procedureRows.indices
        where procedurePatients[c] > procedureEncounters[c] || procedureEncounters[c] > procedureRows[c]
            || procedurePatients[c] < 0 {
            return false
        }
        for c in diagnosisRows.indices where diagnosisPatients[c] > diagnosisRows[c] || diagnosisPatients[c] < 0 {
            return false
        }
        return true
    }
}

/// What the patient pass reads, as the fact and the aggregates computed it (the arrays are
/// shared, never copied), and the one place where they are pinned for it.
struct PatientPassColumns {
    var dates, months, numProcedures, numDiagnoses: [Int32]
    var hasReport: [Bool]
    var procOffsets, procPos, procQuantity, diagOffsets, diagPos: [Int32]
    /// Encounters grouped per patient: fact rows patientFacts[patientOffsets[p] ..< patientOffsets[p+1]].
    var patientOffsets, patientFacts: [Int32]
    var ageGroup: [Int32]
    var monthBase: Int32
    var nMonths: Int
    var nDiagnoses: Int

    /// Runs the pass over the patients of `ranges`, range w counted into `totals[w]`, the
    /// ranges in parallel; returns each patient's first and last encounter date (0 for a
    /// patient without encounters).
    func run(_ ranges: [Range<Int>], into totals: [GroupTotals]) -> (first: [Int32], last: [Int32]) {
        precondition(ranges.count == totals.count)
        let nPatients = ageGroup.count
        var first = [Int32](repeating: 0, count: nPatients)
        var last = [Int32](repeating: 0, count: nPatients)
        let int32Inputs = [dates, months, numProcedures, numDiagnoses, procOffsets, procPos, procQuantity,
                           diagOffsets, diagPos, patientOffsets, patientFacts, ageGroup]
        withUnsafeBuffers(int32Inputs) { b in
            hasReport.withUnsafeBufferPointer { hasReport in
                first.withUnsafeMutableBufferPointer { first in
                    last.withUnsafeMutableBufferPointer { last in
                        let h = PatientPassHandle(
                            dates: b[0], months: b[1], numProcedures: b[2], numDiagnoses: b[3], hasReport: hasReport,
                            procOffsets: b[4], procPos: b[5], procQuantity: b[6], diagOffsets: b[7], diagPos: b[8],
                            patientOffsets: b[9], patientFacts: b[10], ageGroup: b[11], first: first, last: last,
                            monthBase: monthBase, nMonths: nMonths, nDiagnoses: nDiagnoses)
                        assert(h.invariantsHold(), "patient pass: inputs of inconsistent shapes")
                        Workers.run(ranges.count) { w in
                            patientPass(h, ranges[w], totals[w])
                        }
                    }
                }
            }
        }
        assert(totals.allSatisfy { $0.invariantsHold() }, "patient pass: a distinct count exceeds its total")
        return (first, last)
    }
}

/// The pass's inputs pinned, and its two outputs; made only inside `PatientPassColumns.run`
/// and never kept beyond it.
struct PatientPassHandle: @unchecked Sendable {
    let dates, months, numProcedures, numDiagnoses: UnsafeBufferPointer<Int32>
    let hasReport: UnsafeBufferPointer<Bool>
    let procOffsets, procPos, procQuantity, diagOffsets, diagPos: UnsafeBufferPointer<Int32>
    let patientOffsets, patientFacts, ageGroup: UnsafeBufferPointer<Int32>
    let first, last: UnsafeMutableBufferPointer<Int32>
    let monthBase: Int32
    let nMonths: Int
    let nDiagnoses: Int

    /// Every index the pass computes stays inside its buffer: per-fact columns have one entry
    /// per fact row, offsets are non-decreasing and end at their values' count, months lie in
    /// monthBase ..< monthBase + nMonths, age groups in 0 … unknownAgeGroup.
    func invariantsHold() -> Bool {
        let nFacts = dates.count, nPatients = ageGroup.count
        guard months.count == nFacts, numProcedures.count == nFacts, numDiagnoses.count == nFacts,
              hasReport.count == nFacts, patientFacts.count == nFacts,
              procOffsets.count == nFacts + 1, diagOffsets.count == nFacts + 1,
              patientOffsets.count == nPatients + 1, first.count == nPatients, last.count == nPatients,
              procQuantity.count == procPos.count
        else { return false }
        func offsetsHold(_ o: UnsafeBufferPointer<Int32>, end: Int) -> Bool {
            guard o[0] == 0, Int(o[o.count - 1]) == end else { return false }
            for i in 1..<o.count where o[i] < o[i - 1] { return false }
            return true
        }
        guard offsetsHold(procOffsets, end: procPos.count), offsetsHold(diagOffsets, end: diagPos.count),
              offsetsHold(patientOffsets, end: nFacts)
        else { return false }
        for m in months where m < monthBase || Int(m - monthBase) >= nMonths { return false }
        for f in patientFacts where f < 0 || Int(f) >= nFacts { return false }
        for g in ageGroup where g < 0 || Int(g) > unknownAgeGroup { return false }
        return true
    }
}

/// For patients in `range`: first/last encounter date, and every group total, counting a
/// patient once per group through a last-seen-patient array per group.
func patientPass(_ v: PatientPassHandle, _ range: Range<Int>, _ t: GroupTotals) {
    let nMonths = v.nMonths
    let mEnc = t.monthEncounters, mPat = t.monthPatients, mProc = t.monthProcedures
    let mDiag = t.monthDiagnoses, mRep = t.monthReports
    let pRows = t.procedureRows, pEnc = t.procedureEncounters, pPat = t.procedurePatients
    let dRows = t.diagnosisRows, dPat = t.diagnosisPatients
    let sMonth = t.seenMonth, sProc = t.seenProcedure, sDiag = t.seenDiagnosis
    for p in range {
        let me = Int32(p)
        let lo = Int(v.patientOffsets[p]), hi = Int(v.patientOffsets[p + 1])
        if lo == hi { continue }
        var first = Int32.max, last = Int32.min
        let diagBase = Int(v.ageGroup[p]) * v.nDiagnoses
        for j in lo..<hi {
            let f = Int(v.patientFacts[j])
            let d = v.dates[f]
            first = min(first, d)
            last = max(last, d)
            let g = Int(v.months[f] - v.monthBase)
            mEnc[g] &+= 1
            mProc[g] &+= Int64(v.numProcedures[f])
            mDiag[g] &+= Int64(v.numDiagnoses[f])
            if v.hasReport[f] { mRep[g] &+= 1 }
            if sMonth[g] != me {
                sMonth[g] = me
                mPat[g] &+= 1
            }
            for b in Int(v.procOffsets[f])..<Int(v.procOffsets[f + 1]) {
                let cell = Int(v.procPos[b]) * nMonths + g
                pRows[cell] &+= Int64(v.procQuantity[b])
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
        v.first[p] = first
        v.last[p] = last
    }
}

/// Calls `body` with every array of `arrays` pinned, in order, none of them copied; the
/// buffers are valid only during `body`.
func withUnsafeBuffers<T, R>(_ arrays: [[T]], _ body: ([UnsafeBufferPointer<T>]) -> R) -> R {
    var pinned = [UnsafeBufferPointer<T>]()
    pinned.reserveCapacity(arrays.count)
    func pin(_ i: Int) -> R {
        if i == arrays.count { return body(pinned) }
        return arrays[i].withUnsafeBufferPointer { b in
            pinned.append(b)
            return pin(i + 1)
        }
    }
    return pin(0)
}
