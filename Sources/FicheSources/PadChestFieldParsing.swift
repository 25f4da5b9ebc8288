// Byte-level parsers for the PadChest field formats: integers, decimals, `1930.0` birth
// years, `YYYYMMDD` dates, missing-value markers, and Python/numpy list literals.
// They work on byte buffers and allocate nothing on the common path.

import FicheLake

/// Parsers for single PadChest field values.
public enum PadChestFieldParsing {
    /// `''`, `nan` and `None` mean a missing value in PadChest.
    @inlinable
    public static func isMissing(_ f: UnsafeBufferPointer<UInt8>) -> Bool {
        switch f.count {
        case 0: return true
        case 3: return f[0] == UInt8(ascii: "n") && f[1] == UInt8(ascii: "a") && f[2] == UInt8(ascii: "n")
        case 4:
            return f[0] == UInt8(ascii: "N") && f[1] == UInt8(ascii: "o") && f[2] == UInt8(ascii: "n")
                && f[3] == UInt8(ascii: "e")
        default: return false
        }
    }

    /// A base-10 integer with optional sign; nil on anything else or overflow.
    @inlinable
    public static func int64(_ f: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = 0
        var negative = false
        if f.count > 0 && (f[0] == UInt8(ascii: "-") || f[0] == UInt8(ascii: "+")) {
            negative = f[0] == UInt8(ascii: "-")
            i = 1
        }
        guard i < f.count else { return nil }
        var v: Int64 = 0
        while i < f.count {
            let d = f[i] &- 48
            guard d < 10 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(d))
            guard !o1 && !o2 else { return nil }
            v = a
            i += 1
        }
        return negative ? -v : v
    }

    /// A whole number written as an integer or with a zero fraction (`1930`, `1930.0`).
    @inlinable
    public static func wholeNumber(_ f: UnsafeBufferPointer<UInt8>) -> Int64? {
        var end = f.count
        if let dot = f.firstIndex(of: UInt8(ascii: ".")) {
            guard dot + 1 < f.count else { return nil }
            for k in (dot + 1)..<f.count where f[k] != UInt8(ascii: "0") { return nil }
            end = dot
        }
        return int64(UnsafeBufferPointer(rebasing: f[0..<end]))
    }

    private static let exactPowersOfTen: [Double] = (0...22).map { k in
        var p = 1.0
        for _ in 0..<k { p *= 10 }
        return p
    }

    /// A decimal number (`-1.42`, `0.2000000029802`, `2047`, `1e-3`). Exact (correctly
    /// rounded) when the digits fit in 2^53 and the exponent in ±22, else via the
    /// standard library's parser.
    public static func double(_ f: UnsafeBufferPointer<UInt8>) -> Double? {
        var i = 0
        var negative = false
        if f.count > 0 && (f[0] == UInt8(ascii: "-") || f[0] == UInt8(ascii: "+")) {
            negative = f[0] == UInt8(ascii: "-")
            i = 1
        }
        var mantissa: UInt64 = 0
        var digits = 0
        var significant = 0
        var scale = 0
        var sawDot = false
        var exact = true
        while i < f.count {
            let b = f[i]
            if b == UInt8(ascii: ".") {
                if sawDot { return nil }
                sawDot = true
            } else if b &- 48 < 10 {
                digits += 1
                if mantissa != 0 || b != 48 { significant += 1 }
                if significant > 19 { exact = false }
                mantissa = mantissa &* 10 &+ UInt64(b &- 48)
                if sawDot { scale -= 1 }
            } else {
                break
            }
            i += 1
        }
        guard digits > 0 else { return nil }
        if i < f.count {
            guard f[i] == UInt8(ascii: "e") || f[i] == UInt8(ascii: "E") else { return nil }
            i += 1
            var expNegative = false
            if i < f.count && (f[i] == UInt8(ascii: "-") || f[i] == UInt8(ascii: "+")) {
                expNegative = f[i] == UInt8(ascii: "-")
                i += 1
            }
            guard i < f.count else { return nil }
            var e = 0
            while i < f.count {
                let d = f[i] &- 48
                guard d < 10 else { return nil }
                e = min(e * 10 + Int(d), 100_000)
                i += 1
            }
            scale += expNegative ? -e : e
        }
        if exact && mantissa <= (1 << 53) && scale >= -22 && scale <= 22 {
            let m = Double(mantissa)
            let v = scale < 0 ? m / exactPowersOfTen[-scale] : m * exactPowersOfTen[scale]
            return negative ? -v : v
        }
        return Double(String(decoding: f, as: UTF8.self))
    }

    /// Days since 1970-01-01 of a valid `YYYYMMDD` date; nil otherwise.
    @inlinable
    public static func yyyymmdd(_ f: UnsafeBufferPointer<UInt8>) -> Int32? {
        guard f.count == 8 else { return nil }
        var v = 0
        for k in 0..<8 {
            let d = f[k] &- 48
            guard d < 10 else { return nil }
            v = v * 10 + Int(d)
        }
        let y = v / 10000, m = (v / 100) % 100, d = v % 100
        guard y >= 1800, m >= 1, m <= 12, d >= 1, d <= daysInMonth(year: y, month: m) else { return nil }
        return Int32(daysFromCivil(year: y, month: m, day: d))
    }

    @inlinable
    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: CivilDate.isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    @inlinable
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        Int(CivilDate.days(year: Int64(year), month: Int64(month), day: Int64(day)))
    }
}

/// Parses the list literals PadChest stores as text: Python lists (`['a', 'b']`), nested
/// lists (`[['a', 'loc x'], ['b']]`) and numpy arrays printed with spaces and line breaks
/// (`['C0024117' 'C0231819']`). Items are the quoted strings; nesting is kept as a
/// sentence number per item. A bare `nan` or `None` in a nested list is a sentence
/// without labels (PadChest writes `[nan, ['unchanged']]`).
public struct PythonListLiteral {
    /// Item text bytes, escapes undone, one after another.
    public private(set) var text: [UInt8] = []
    /// Per item: end offset in `text` (the start is the previous end).
    public private(set) var itemEnd: [Int32] = []
    /// Per item: index of the inner list holding it (0 for a flat list).
    public private(set) var itemGroup: [Int32] = []

    public init() {}

    public var count: Int { itemEnd.count }

    public func itemRange(_ i: Int) -> Range<Int> { (i == 0 ? 0 : Int(itemEnd[i - 1]))..<Int(itemEnd[i]) }

    /// Item `i` with leading and trailing spaces removed.
    public func trimmedItemRange(_ i: Int) -> Range<Int> {
        var r = itemRange(i)
        while r.lowerBound < r.upperBound && text[r.lowerBound] == UInt8(ascii: " ") { r = (r.lowerBound + 1)..<r.upperBound }
        while r.lowerBound < r.upperBound && text[r.upperBound - 1] == UInt8(ascii: " ") { r = r.lowerBound..<(r.upperBound - 1) }
        return r
    }

    /// Parses `f`, replacing the previous contents. False if `f` is not a list literal of
    /// strings (at most two levels deep).
    public mutating func parse(_ f: UnsafeBufferPointer<UInt8>) -> Bool {
        text.removeAll(keepingCapacity: true)
        itemEnd.removeAll(keepingCapacity: true)
        itemGroup.removeAll(keepingCapacity: true)
        var depth = 0
        var group: Int32 = -1
        var i = 0
        var sawTop = false
        while i < f.count {
            let b = f[i]
            switch b {
            case UInt8(ascii: "["):
                guard !sawTop || depth > 0 else { return false }
                depth += 1
                sawTop = true
                guard depth <= 2 else { return false }
                if depth == 2 { group += 1 }
                i += 1
            case UInt8(ascii: "]"):
                guard depth > 0 else { return false }
                depth -= 1
                i += 1
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                guard depth > 0 else { return false }
                let q = b
                i += 1
                var closed = false
                while i < f.count {
                    // Copy the run up to the next quote or backslash in one go.
                    var j = i
                    while j < f.count && f[j] != q && f[j] != UInt8(ascii: "\\") { j += 1 }
                    if j > i { text.append(contentsOf: UnsafeBufferPointer(rebasing: f[i..<j])) }
                    i = j
                    guard i < f.count else { break }
                    if f[i] == q {
                        closed = true
                        i += 1
                        break
                    }
                    if i + 1 < f.count {  // a backslash escape: keep the escaped byte
                        text.append(f[i + 1])
                        i += 2
                    } else {
                        text.append(f[i])
                        i += 1
                    }
                }
                guard closed else { return false }
                itemEnd.append(Int32(text.count))
                itemGroup.append(max(group, 0))
            case UInt8(ascii: ","), UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                i += 1
            case UInt8(ascii: "n"), UInt8(ascii: "N"):
                // A bare `nan`/`None` element: a missing inner list (a sentence without labels).
                guard depth == 1 else { return false }
                let rest = f.count - i
                if rest >= 3 && f[i + 1] == UInt8(ascii: "a") && f[i + 2] == UInt8(ascii: "n") {
                    i += 3
                } else if rest >= 4 && f[i + 1] == UInt8(ascii: "o") && f[i + 2] == UInt8(ascii: "n") && f[i + 3] == UInt8(ascii: "e") {
                    i += 4
                } else {
                    return false
                }
                group += 1
            default:
                return false
            }
        }
        return sawTop && depth == 0
    }

    /// Appends the items as `a|b|c`, inner lists separated by `;`, each item trimmed.
    public func appendJoined(to out: inout [UInt8]) {
        for k in 0..<count {
            if k > 0 {
                out.append(itemGroup[k] != itemGroup[k - 1] ? UInt8(ascii: ";") : UInt8(ascii: "|"))
            }
            out.append(contentsOf: text[trimmedItemRange(k)])
        }
    }

    /// Parses `f` and appends its items straight to `out` in the `appendJoined` form
    /// (trimmed, `|` within a list, `;` between inner lists) in one pass. On a malformed
    /// literal, `out` is left as it was and the result is false.
    public static func appendItems(of f: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) -> Bool {
        let mark = out.count
        var depth = 0
        var group = -1
        var lastGroup = -2  // group of the last item written; -2 = none yet
        var i = 0
        var sawTop = false
        let n = f.count
        func fail(_ out: inout [UInt8]) -> Bool {
            out.removeSubrange(mark...)
            return false
        }
        while i < n {
            let b = f[i]
            switch b {
            case UInt8(ascii: "["):
                guard !sawTop || depth > 0 else { return fail(&out) }
                depth += 1
                sawTop = true
                guard depth <= 2 else { return fail(&out) }
                if depth == 2 { group += 1 }
                i += 1
            case UInt8(ascii: "]"):
                guard depth > 0 else { return fail(&out) }
                depth -= 1
                i += 1
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                guard depth > 0 else { return fail(&out) }
                let g = max(group, 0)
                if lastGroup != -2 { out.append(g != lastGroup ? UInt8(ascii: ";") : UInt8(ascii: "|")) }
                lastGroup = g
                let itemStart = out.count
                i += 1
                while i < n && f[i] == UInt8(ascii: " ") { i += 1 }  // leading spaces
                var closed = false
                while i < n {
                    var j = i
                    while j < n && f[j] != b && f[j] != UInt8(ascii: "\\") { j += 1 }
                    if j > i { out.append(contentsOf: UnsafeBufferPointer(rebasing: f[i..<j])) }
                    i = j
                    guard i < n else { break }
                    if f[i] == b {
                        closed = true
                        i += 1
                        break
                    }
                    out.append(i + 1 < n ? f[i + 1] : f[i])  // a backslash escape: keep the escaped byte
                    i += 2
                }
                guard closed else { return fail(&out) }
                while out.count > itemStart && out[out.count - 1] == UInt8(ascii: " ") { out.removeLast() }
            case UInt8(ascii: ","), UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                i += 1
            case UInt8(ascii: "n"), UInt8(ascii: "N"):
                guard depth == 1 else { return fail(&out) }
                if n - i >= 3 && f[i + 1] == UInt8(ascii: "a") && f[i + 2] == UInt8(ascii: "n") {
                    i += 3
                } else if n - i >= 4 && f[i + 1] == UInt8(ascii: "o") && f[i + 2] == UInt8(ascii: "n") && f[i + 3] == UInt8(ascii: "e") {
                    i += 4
                } else {
                    return fail(&out)
                }
                group += 1
            default:
                return fail(&out)
            }
        }
        return sawTop && depth == 0 ? true : fail(&out)
    }
}
