// Text forms of values for people and for CSV/JSON: dates as YYYY-MM-DD, timestamps as
// ISO 8601 UTC, uuids in canonical form.

/// Proleptic Gregorian calendar arithmetic on days since 1970-01-01.
public enum CivilDate {
    /// (year, month 1-12, day 1-31) of a day number.
    @inlinable
    public static func components(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    /// Whether `year` has a February 29th (proleptic Gregorian: every fourth year, but not
    /// centuries unless divisible by 400).
    @inlinable
    public static func isLeapYear(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    /// Day number of a civil date (month 1-12).
    @inlinable
    public static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Parses `YYYY-MM-DD` (or `YYYYMMDD`), validating the day of the month.
    public static func parse(_ text: some StringProtocol) -> Int32? {
        let digits = text.utf8.filter { $0 != UInt8(ascii: "-") }
        guard digits.count == 8, digits.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        if text.utf8.count == 10 {
            let u = Array(text.utf8)
            guard u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-") else { return nil }
        } else if text.utf8.count != 8 {
            return nil
        }
        var v: [Int64] = []
        var acc: Int64 = 0
        for (i, d) in digits.enumerated() {
            acc = acc * 10 + Int64(d - 48)
            if i == 3 || i == 5 || i == 7 { v.append(acc); acc = 0 }
        }
        guard (1...12).contains(v[1]), v[2] >= 1 else { return nil }
        let n = days(year: v[0], month: v[1], day: v[2])
        guard components(n) == (v[0], v[1], v[2]) else { return nil }
        return Int32(truncatingIfNeeded: n)
    }

    public static func text(_ days: Int64) -> String {
        let (y, m, d) = components(days)
        return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2)
    }

    static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(abs(v))
        return (v < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - s.count)) + s
    }
}

extension Column {
    /// The value at `row` as text, or nil for null.
    public func text(at row: Int) -> String? {
        if isNull(row) { return nil }
        switch values {
        case .bool(let v): return v[row] ? "true" : "false"
        case .int8(let v): return String(v[row])
        case .int16(let v): return String(v[row])
        case .int32(let v): return String(v[row])
        case .int64(let v): return String(v[row])
        case .float64(let v): return "\(v[row])"
        case .date(let v): return CivilDate.text(Int64(v[row]))
        case .timestamp(let v):
            let us = v[row]
            let days = us >= 0 ? us / 86_400_000_000 : (us - 86_399_999_999) / 86_400_000_000
            let rem = us - days * 86_400_000_000
            let secs = rem / 1_000_000, micros = rem % 1_000_000
            return CivilDate.text(days) + "T" + CivilDate.pad(secs / 3600, 2) + ":" + CivilDate.pad(secs / 60 % 60, 2)
                + ":" + CivilDate.pad(secs % 60, 2) + "." + CivilDate.pad(micros, 6) + "Z"
        case .uuid(let v): return v[row].text
        case .string(let s): return s[row]
        }
    }

    /// True where the JSON form is a bare number or boolean rather than a string.
    public var isJSONScalar: Bool {
        switch type {
        case .bool, .int8, .int16, .int32, .int64: true
        case .float64: true
        default: false
        }
    }
}

extension ColumnStats {
    /// "min … max" for people, with `type` deciding how integers read (dates as dates).
    public func text(for type: ColumnType) -> (min: String, max: String)? {
        switch self {
        case .none: return nil
        case .integer(let lo, let hi):
            if type == .date { return (CivilDate.text(lo), CivilDate.text(hi)) }
            if type == .timestamp {
                let c = Column(.timestamp([lo, hi]))
                return (c.text(at: 0) ?? "", c.text(at: 1) ?? "")
            }
            return (String(lo), String(hi))
        case .float(let lo, let hi): return ("\(lo)", "\(hi)")
        case .string(let lo, let hi, let truncated):
            let suffix = truncated ? "…" : ""
            return (String(decoding: lo, as: UTF8.self) + suffix, String(decoding: hi, as: UTF8.self) + suffix)
        }
    }
}
