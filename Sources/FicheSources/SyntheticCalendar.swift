// The synthetic clinic's calendar: the three years encounters fall in, Rwanda's two
// rainy seasons, and how busy each day is. Dates are days since 1970-01-01.

import FicheLake

enum SyntheticCalendar {
    /// 2022-01-01.
    static let firstDay: Int32 = 18_993
    /// 2024-12-31.
    static let lastDay: Int32 = 20_088
    static var dayCount: Int { Int(lastDay - firstDay) + 1 }
    static let firstYear = 2022
    static let years = 3

    /// Days from 1970-01-01 to January 1st of `year` (proleptic Gregorian).
    static func yearStart(_ year: Int) -> Int {
        func leapsThrough(_ y: Int) -> Int {  // leap years in 1...y (floor division)
            floorDiv(y, 4) - floorDiv(y, 100) + floorDiv(y, 400)
        }
        return 365 * (year - 1970) + leapsThrough(year - 1) - leapsThrough(1969)
    }

    /// The calendar year and month (1-12) of a day.
    static func yearMonth(_ day: Int) -> (year: Int, month: Int) {
        var y = 1970 + floorDiv(day, 365)
        while yearStart(y) > day { y -= 1 }
        while yearStart(y + 1) <= day { y += 1 }
        var rest = day - yearStart(y)
        let lengths = [31, CivilDate.isLeapYear(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        var m = 0
        while rest >= lengths[m] {
            rest -= lengths[m]
            m += 1
        }
        return (y, m + 1)
    }

    /// The year of a day, for birth years (any day from 1800 to 2200).
    static func year(_ day: Int) -> Int {
        var y = 1970 + floorDiv(day, 365)
        while yearStart(y) > day { y -= 1 }
        while yearStart(y + 1) <= day { y += 1 }
        return y
    }

    /// 0 = Sunday ... 6 = Saturday (1970-01-01 was a Thursday).
    static func weekday(_ day: Int) -> Int { ((day + 4) % 7 + 7) % 7 }

    /// Long rains March-May, short rains September-December.
    static func isRainy(month: Int) -> Bool { (3...5).contains(month) || month >= 9 }

    /// Relative clinic attendance on a day: busier in the rainy seasons, quiet at
    /// weekends, growing a little each year.
    static func attendance(_ day: Int) -> Double {
        let (y, m) = yearMonth(day)
        let season = isRainy(month: m) ? 1.15 : 0.85
        let week: Double
        switch weekday(day) {
        case 0: week = 0.35
        case 6: week = 0.55
        default: week = 1.0
        }
        return season * week * (1.0 + 0.05 * Double(y - 2022))
    }

    static func floorDiv(_ a: Int, _ b: Int) -> Int {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}
