// dim_time: one row per day of every year that has encounters, calendar fields computed
// eight days at a time.

import FicheLake

extension WarehouseBuilder {
    /// dim_time: every day of every year that has encounters.
    func buildDimTime(years: [Int32]) throws -> Batch {
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
