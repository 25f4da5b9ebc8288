// Days since 1970-01-01 → proleptic Gregorian year, month, day, YYYYMMDD date key and ISO
// day of week, eight dates at a time. The arithmetic is Howard Hinnant's civil-from-days with
// every division by a constant replaced by a multiply and a shift on 64-bit lanes, so the
// loop has no per-lane branches or traps and the compiler keeps it in vector registers.

import FicheLake

/// The calendar arithmetic the warehouse needs, vectorised where it runs per row.
public enum CivilCalendar {
    /// First and last day the vector path handles exactly: 0001-01-01 … 9999-12-31.
    public static let supportedDays: ClosedRange<Int32> = -719_162...2_932_896

    public static let monthNames = [
        "January", "February", "March", "April", "May", "June", "July", "August",
        "September", "October", "November", "December",
    ]
    /// ISO order: index 0 = Monday.
    public static let dayNames = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

    /// Days since 1970 of a civil date (scalar; used per year, not per row).
    public static func days(year: Int, month: Int, day: Int) -> Int32 {
        Int32(truncatingIfNeeded: CivilDate.days(year: Int64(year), month: Int64(month), day: Int64(day)))
    }

    /// ISO 8601 weeks in a year: 53 when it starts on a Thursday, or on a Wednesday in a leap year.
    public static func isoWeeksInYear(_ y: Int) -> Int {
        let jan1 = Int(isoWeekday(days(year: y, month: 1, day: 1)))
        return jan1 == 4 || (jan1 == 3 && CivilDate.isLeapYear(y)) ? 53 : 52
    }

    /// ISO day of week of one day, 1 = Monday … 7 = Sunday (1970-01-01 was a Thursday).
    public static func isoWeekday(_ d: Int32) -> Int32 {
        let r = (Int64(d) + 3) % 7
        return Int32(r < 0 ? r + 7 : r) + 1
    }

    /// x / c for 0 <= x < 2^30 as (x * m) >> s with s = 32 + ceil(log2 c), m = floor(2^s / c) + 1:
    /// the error m*c - 2^s is at most c, so x * error < 2^s and the quotient is exact, and
    /// x * m stays below 2^63. (`CivilCalendarTests` checks every date of the supported range.)
    @inline(__always) @usableFromInline
    static func div(_ x: SIMD8<Int64>, _ m: Int64, _ s: Int64) -> SIMD8<Int64> { (x &* m) &>> s }

    /// Eight dates decomposed; every lane must lie in `supportedDays`.
    @inline(__always)
    public static func decompose(_ days: SIMD8<Int32>)
        -> (year: SIMD8<Int32>, month: SIMD8<Int32>, day: SIMD8<Int32>, weekday: SIMD8<Int32>)
    {
        let d64 = SIMD8<Int64>(truncatingIfNeeded: days)
        // Shift by five 400-year eras so every lane is positive from year 1 on.
        let z = d64 &+ (719_468 + 5 * 146_097)
        let era = div(z, 7706523111, 50)
        let doe = z &- era &* 146_097
        let yoe = div(doe &- div(doe, 6024721249, 43) &+ div(doe, 7706575861, 48) &- div(doe, 7706575861, 50), 6024721249, 41)
        let doy = doe &- (yoe &* 365 &+ (yoe &>> 2) &- div(yoe, 5497558139, 39))
        let mp = div(doy &* 5 &+ 2, 7186350509, 40)
        let day = doy &- div(mp &* 153 &+ 2, 6871947674, 35) &+ 1
        let late = mp .>= 10
        let month = (mp &+ 3).replacing(with: mp &- 9, where: late)
        let year = (yoe &+ era &* 400 &- 5 * 400).replacing(with: yoe &+ era &* 400 &- 5 * 400 &+ 1, where: late)
        // Weekday: 1970-01-01 (day 0) is a Thursday; shift to a positive multiple of 7 first.
        let w = d64 &+ (3 + 7 * 1_000_000)
        let weekday = w &- div(w, 4908534053, 35) &* 7 &+ 1
        return (SIMD8<Int32>(truncatingIfNeeded: year), SIMD8<Int32>(truncatingIfNeeded: month),
                SIMD8<Int32>(truncatingIfNeeded: day), SIMD8<Int32>(truncatingIfNeeded: weekday))
    }

    /// Scalar form of `decompose`, for reference and for tails.
    public static func civil(_ d: Int32) -> (year: Int32, month: Int32, day: Int32) {
        let r = decompose(SIMD8<Int32>(repeating: d))
        return (r.year[0], r.month[0], r.day[0])
    }

    /// YYYYMMDD of a civil date.
    @inline(__always)
    public static func dateKey(year: SIMD8<Int32>, month: SIMD8<Int32>, day: SIMD8<Int32>) -> SIMD8<Int32> {
        year &* 10_000 &+ month &* 100 &+ day
    }
}
