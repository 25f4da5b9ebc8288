import Testing
@testable import FicheWarehouse

@Suite("Civil calendar")
struct CivilCalendarTests {
    /// Walks every day of the supported range one at a time (the naive way: month lengths and
    /// leap rules) and checks the vector decomposition and the scalar inverse against it.
    @Test("every day from 0001-01-01 to 9999-12-31 decomposes exactly")
    func everyDay() {
        let lengths = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        var y = 1, m = 1, d = 1
        var weekday = 1  // 0001-01-01 was a Monday (proleptic Gregorian)
        var day = CivilCalendar.supportedDays.lowerBound
        var mismatches = 0
        var lanes = SIMD8<Int32>(), expect = [(Int, Int, Int, Int)]()
        while day <= CivilCalendar.supportedDays.upperBound {
            lanes[expect.count] = day
            expect.append((y, m, d, weekday))
            if expect.count == 8 || day == CivilCalendar.supportedDays.upperBound {
                let r = CivilCalendar.decompose(lanes)
                let k = CivilCalendar.dateKey(year: r.year, month: r.month, day: r.day)
                for i in expect.indices {
                    let e = expect[i]
                    if Int(r.year[i]) != e.0 || Int(r.month[i]) != e.1 || Int(r.day[i]) != e.2 || Int(r.weekday[i]) != e.3
                        || Int(k[i]) != e.0 * 10_000 + e.1 * 100 + e.2 {
                        mismatches += 1
                    }
                }
                expect.removeAll(keepingCapacity: true)
            }
            if mismatches > 0 { break }
            if day % 9_973 == 0 {
                #expect(CivilCalendar.days(year: y, month: m, day: d) == day)
            }
            // Advance the naive calendar.
            let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
            let len = m == 2 && leap ? 29 : lengths[m - 1]
            d += 1
            if d > len { d = 1; m += 1 }
            if m > 12 { m = 1; y += 1 }
            weekday = weekday % 7 + 1
            day += 1
        }
        #expect(mismatches == 0, "first mismatch near day \(day)")
        #expect(y == 10_000)
    }

    @Test("known dates", arguments: [
        (0, 1970, 1, 1, 4), (-1, 1969, 12, 31, 3), (16_860, 2016, 2, 29, 1), (18_321, 2020, 2, 29, 6),
        (11_016, 2000, 2, 29, 2), (-25_567, 1900, 1, 1, 1),
    ])
    func knownDates(_ c: (Int32, Int32, Int32, Int32, Int32)) {
        let r = CivilCalendar.decompose(SIMD8<Int32>(repeating: c.0))
        #expect(r.year[3] == c.1 && r.month[3] == c.2 && r.day[3] == c.3 && r.weekday[3] == c.4)
        #expect(CivilCalendar.days(year: Int(c.1), month: Int(c.2), day: Int(c.3)) == c.0)
        #expect(CivilCalendar.isoWeekday(c.0) == c.4)
    }

    @Test("ISO weeks per year")
    func isoWeeks() {
        #expect(CivilCalendar.isoWeeksInYear(2015) == 53)
        #expect(CivilCalendar.isoWeeksInYear(2020) == 53)
        #expect(CivilCalendar.isoWeeksInYear(2016) == 52)
        #expect(CivilCalendar.isoWeeksInYear(2021) == 52)
        #expect(CivilCalendar.isoWeeksInYear(2004) == 53)
    }
}
