// Continuing a synthetic clinic day by day (`fiche generate --days N`), the way the original
// pipeline's "continuous ingestion" meant: each new day brings visits of existing patients and
// a few new patients, dated after the last generated day.
//
// Determinism: whether patient p comes on day d, and everything about that visit, is drawn
// from a stream of its own (seed, p, d); the new patients of day d are counted from a stream of
// (seed, d) and numbered on from the clinic's last patient. So the same seed and lake give the
// same rows, and continuing by 2 days then 3 gives the rows of continuing by 5 at once.
// A patient's profile (sex, age, home facility, long-term condition, how often they come) is
// replayed from the patient's own stream, exactly as the first generation drew it.
//
// Where the clinic stands is read from the lake's commit log: the last synthetic commit's
// operation says `generate seed=S patients=P facilities=F[ through=YYYY-MM-DD]`.

import FicheLake

public enum SyntheticContinuationError: Error, CustomStringConvertible, Equatable {
    case noClinic
    case unreadableOperation(String)
    case seedMismatch(lake: UInt64, given: UInt64)
    case invalidDays(Int)

    public var description: String {
        switch self {
        case .noClinic:
            "the lake holds no synthetic clinic to continue; run `fiche generate` first"
        case .unreadableOperation(let op):
            "cannot tell where the synthetic clinic stands from its last commit (`\(op)`)"
        case .seedMismatch(let lake, let given):
            "the lake's synthetic clinic was generated with seed \(lake), not \(given): continue it with --seed \(lake) or without --seed"
        case .invalidDays(let n):
            "--days must be between 1 and \(SyntheticContinuation.maxDays) (got \(n))"
        }
    }
}

public struct SyntheticContinuation: Sendable {
    public static let maxDays = 3660
    /// New patients a day, as a share of the clinic's first population: about 0.05% (2.5 a
    /// day for the default 5,000 patients).
    public static let newPatientShare = 0.0005

    /// The clinic as it stands (its `patients` are every patient so far).
    public let clinic: SyntheticClinic
    /// Patients of the first generation (they set the new-patient rate).
    public let basePatients: Int
    public let firstDay: Int32
    public let days: Int
    public var lastDay: Int32 { firstDay + Int32(days) - 1 }

    /// Σ attendance over the base calendar: a patient with `visits` visits there comes on day d
    /// with probability visits · attendance(d) / this.
    let attendanceTotal: Double
    /// New patients of each day of the run, and the number of the first one of each day.
    let newPatients: [Int]
    let firstNewPatient: [Int]

    public init(clinic: SyntheticClinic, basePatients: Int, after lastGenerated: Int32, days: Int) throws(SyntheticContinuationError) {
        guard (1...Self.maxDays).contains(days) else { throw .invalidDays(days) }
        self.clinic = clinic
        self.basePatients = basePatients
        firstDay = lastGenerated + 1
        self.days = days
        var total = 0.0
        for d in SyntheticCalendar.firstDay...SyntheticCalendar.lastDay { total += SyntheticCalendar.attendance(Int(d)) }
        attendanceTotal = total
        let mean = Double(basePatients) * Self.newPatientShare
        var counts: [Int] = [], firsts: [Int] = [], next = clinic.patients
        for i in 0..<days {
            let day = firstDay + Int32(i)
            var r = SplitMix64(seed: clinic.seed ^ SyntheticClinic.Tag.newPatients.rawValue ^ (UInt64(bitPattern: Int64(day)) &* 0x9E37_79B9_7F4A_7C15))
            _ = r.next()
            // mean · (attendance relative to an average day), rounded at random
            let expected = mean * SyntheticCalendar.attendance(Int(day)) * Double(SyntheticCalendar.dayCount) / total
            let n = Int(expected) + (r.chance(expected - Double(Int(expected))) ? 1 : 0)
            counts.append(n)
            firsts.append(next)
            next += n
        }
        newPatients = counts
        firstNewPatient = firsts
    }

    /// Every patient after the run.
    public var patientsAfter: Int { clinic.patients + newPatients.reduce(0, +) }

    /// The commit log's operation text: where the clinic stands after this run.
    public var operation: String {
        "generate seed=\(clinic.seed) patients=\(patientsAfter) facilities=\(clinic.facilities) base_patients=\(basePatients) "
            + "through=\(CivilDate.text(Int64(lastDay))) days=\(days)"
    }

    /// Blocks: existing patients in blocks of `blockPatients`, then the new patients.
    public var blockCount: Int { (clinic.patients + clinic.blockPatients - 1) / clinic.blockPatients + 1 }

    /// The lake partition (year index from 2022) of every year the run touches.
    var yearCount: Int { SyntheticCalendar.yearMonth(Int(lastDay)).year - SyntheticCalendar.firstYear + 1 }

    /// Block `b`: the visits of existing patients of that block, or (the last block) the new
    /// patients with their rows and visits.
    public func generate(block b: Int) -> SyntheticBlock {
        let existingBlocks = blockCount - 1
        if b < existingBlocks {
            let first = b * clinic.blockPatients, last = min(clinic.patients, first + clinic.blockPatients)
            var builder = SyntheticBlockBuilder(clinic: clinic, firstPatient: first, patientCount: 0, years: yearCount,
                                                encountersPerYear: max(16, (last - first) * days / 100))
            builder.addContinuedVisits(first..<last, from: self, newPatients: false)
            return builder.finish()
        }
        let first = clinic.patients, last = patientsAfter
        var builder = SyntheticBlockBuilder(clinic: clinic, firstPatient: first, patientCount: last - first, years: yearCount,
                                            encountersPerYear: max(16, (last - first) * 2))
        builder.addContinuedVisits(first..<last, from: self, newPatients: true)
        return builder.finish()
    }

    /// The day new patient `p` comes first (within this run).
    func joinDay(_ p: Int) -> Int32 {
        var lo = 0, hi = days - 1
        while lo < hi {
            let m = (lo + hi + 1) / 2
            if firstNewPatient[m] <= p { lo = m } else { hi = m - 1 }
        }
        return firstDay + Int32(lo)
    }

    // MARK: Where the clinic stands

    /// The clinic in `lake` and the last day it covers, from the last synthetic commit.
    public static func state(of lake: Lake, blockPatients: Int = SyntheticClinic.defaultBlockPatients) throws
        -> (clinic: SyntheticClinic, basePatients: Int, lastDay: Int32) {
        var last: Commit?
        for name in SyntheticClinic.tableNames {
            if let c = try lake.table(name).snapshot().history.last(where: { $0.source == SyntheticClinic.source }),
               c.time > (last?.time ?? "") {
                last = c
            }
        }
        guard let op = last?.operation else { throw SyntheticContinuationError.noClinic }
        var fields: [String: String] = [:]
        for token in op.split(separator: " ") {
            let kv = token.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { fields[String(kv[0])] = String(kv[1]) }
        }
        guard let seed = fields["seed"].flatMap({ UInt64($0) }), let patients = fields["patients"].flatMap({ Int($0) }),
              let facilities = fields["facilities"].flatMap({ Int($0) }) else {
            throw SyntheticContinuationError.unreadableOperation(op)
        }
        var lastDay = SyntheticCalendar.lastDay
        if let through = fields["through"] {
            guard let d = CivilDate.parse(through) else { throw SyntheticContinuationError.unreadableOperation(op) }
            lastDay = d
        }
        let base = fields["base_patients"].flatMap { Int($0) } ?? patients
        do {
            let clinic = try SyntheticClinic(seed: seed, patients: patients, facilities: facilities, blockPatients: blockPatients)
            return (clinic, base, lastDay)
        } catch {
            throw SyntheticContinuationError.unreadableOperation(op)
        }
    }

    // MARK: Writing

    /// Generates every block and appends it to `lake` in one transaction (a failed run leaves
    /// the lake as it was); memory stays bounded by one block of patients.
    public func write(to lake: Lake, zstdLevel: Int = 3, progress: ((Int, Int) -> Void)? = nil) throws -> SyntheticWriteSummary {
        let clock = ContinuousClock()
        let start = clock.now
        var generating = Duration.zero, writing = Duration.zero
        let txn = LakeTransaction(lake: lake, source: SyntheticClinic.source, operation: operation, zstdLevel: zstdLevel)
        var rows = [Int](repeating: 0, count: SyntheticClinic.tableNames.count)
        for b in 0..<blockCount {
            var t = clock.now
            let block = generate(block: b)
            generating += clock.now - t
            t = clock.now
            try SyntheticClinic.append(block, to: txn, rows: &rows)
            writing += clock.now - t
            progress?(b + 1, blockCount)
        }
        let t = clock.now
        try txn.commit()
        writing += clock.now - t
        let bytes = try SyntheticClinic.bytesCommitted(lake) { $0.operation == operation }
        return SyntheticWriteSummary(seed: clinic.seed, patients: patientsAfter, facilities: clinic.facilities, blocks: blockCount,
                                     rows: Array(zip(SyntheticClinic.tableNames, rows)).map { ($0, $1) }, bytes: bytes,
                                     generateSeconds: SyntheticClinic.seconds(generating),
                                     writeSeconds: SyntheticClinic.seconds(writing),
                                     wallSeconds: SyntheticClinic.seconds(clock.now - start), replaced: false, written: true)
    }
}

extension SyntheticBlockBuilder {
    /// Visits on the continuation's days of patients `range`: existing ones (no patient rows),
    /// or, with `newPatients`, patients joining during the run (their rows, a first visit on the
    /// day they join, and the later days' visits).
    mutating func addContinuedVisits(_ range: Range<Int>, from c: SyntheticContinuation, newPatients: Bool) {
        let l = lookup
        let seed = clinic.seed
        l.pool.bytes.withUnsafeBufferPointer { pool in
            l.pool.starts.withUnsafeBufferPointer { starts in
                for p in range {
                    let key = UInt64(p)
                    var r = SplitMix64(seed: seed ^ SyntheticClinic.Tag.stream.rawValue ^ (key &* 0xD1B5_4A32_D192_ED03))
                    _ = r.next()
                    let pr = Self.profile(&r, l)
                    let pid = clinic.patientID(p)
                    var from = c.firstDay
                    if newPatients {
                        appendPatient(p, pid, pr)
                        let known = !r.chance(pr.ageDays >= SyntheticLookup.ageFortyDays ? 0.20 : 0.02)
                        patientBirthDateKnown.append(known)
                        if !known { patientBirthDate[patientBirthDate.count - 1] = 0 }
                        from = c.joinDay(p)
                    }
                    // A patient who never came in the base years still may now, rarely.
                    let rate = Double(max(pr.visits, 1)) / c.attendanceTotal
                    for day in from...c.lastDay {
                        let dayKey = UInt64(bitPattern: Int64(day))
                        var v = SplitMix64(seed: seed ^ SyntheticClinic.Tag.continued.rawValue
                                           ^ (key &* 0xD1B5_4A32_D192_ED03) ^ (dayKey &* 0x9E37_79B9_7F4A_7C15))
                        _ = v.next()
                        let joining = newPatients && day == from
                        guard joining || v.chance(rate * SyntheticCalendar.attendance(Int(day))) else { continue }
                        let (year, month) = SyntheticCalendar.yearMonth(Int(day))
                        // Ids: bit 57 set keeps them apart from the first generation's (key << 8 | visit).
                        let offset = UInt64(max(0, Int(day - SyntheticCalendar.firstDay))) & 0xFFFF
                        let encKey = 1 << 57 | offset << 40 | (key & 0xFF_FFFF_FFFF)
                        addVisit(&v, pr, pid: pid, encKey: encKey, day: day, year: year - SyntheticCalendar.firstYear,
                                 rainy: SyntheticCalendar.isRainy(month: month) ? 1 : 0, l, pool, starts)
                    }
                }
            }
        }
    }
}
