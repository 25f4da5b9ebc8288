// Mapping data to positions: a linear scale with "nice" ticks, a calendar-month time scale,
// and a band scale for categories. Each produces the ticks one Axis draws.

import Foundation

/// A tick: where it is along the axis and what it says.
struct Tick {
    var position: Double
    var label: String
    /// Shown as a tooltip when the label had to be shortened.
    var fullLabel: String? = nil
}

/// A plot area in chart coordinates.
struct PlotRect {
    var x: Double, y: Double, width: Double, height: Double
    var maxX: Double { x + width }
    var maxY: Double { y + height }
}

/// Values to positions, linearly, over a domain widened to round tick values.
struct LinearScale {
    let lower: Double, upper: Double
    let rangeStart: Double, rangeEnd: Double
    let step: Double

    /// A scale from 0 (or `minimum`) to at least `maximum`, with about `ticks` round steps
    /// (1, 2 or 5 × 10ⁿ).
    /// `integers`: counts, so the step is at least 1 (no "0.5 diagnoses" tick).
    init(minimum: Double = 0, maximum: Double, range: (Double, Double), ticks: Int = 5, integers: Bool = false) {
        let span = max(maximum - minimum, 1e-9)
        let raw = span / Double(max(ticks, 1))
        let magnitude = pow(10, floor(log10(raw)))
        var step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        if integers { step = max(1, step.rounded(.up)) }
        self.step = step
        lower = floor(minimum / step) * step
        upper = max(ceil(maximum / step) * step, lower + step)
        (rangeStart, rangeEnd) = range
    }

    /// A fixed domain (e.g. 0–100 %) with the given step.
    init(fixed lower: Double, _ upper: Double, step: Double, range: (Double, Double)) {
        self.lower = lower
        self.upper = upper
        self.step = step
        (rangeStart, rangeEnd) = range
    }

    func callAsFunction(_ v: Double) -> Double {
        rangeStart + (v - lower) / (upper - lower) * (rangeEnd - rangeStart)
    }

    func ticks(suffix: String = "") -> [Tick] {
        var out: [Tick] = []
        var v = lower
        while v <= upper + step / 1000 {
            out.append(Tick(position: self(v), label: NumberText.tick(v, step: step) + suffix))
            v += step
        }
        return out
    }
}

/// A calendar month as a count of months since year 0, so months subtract and sort.
struct MonthIndex: Hashable, Comparable {
    let value: Int
    init(year: Int, month: Int) { value = year * 12 + (month - 1) }
    init(_ value: Int) { self.value = value }
    var year: Int { value / 12 }
    var month: Int { value % 12 + 1 }
    /// "2014-03"
    var label: String { String(format: "%04d-%02d", year, month) }
    static func < (a: MonthIndex, b: MonthIndex) -> Bool { a.value < b.value }

    static let names = ["January", "February", "March", "April", "May", "June", "July", "August",
                        "September", "October", "November", "December"]
    /// "March 2014"
    var longLabel: String { "\(Self.names[month - 1]) \(year)" }
}

/// Months to positions: a real time axis (every month the same width, missing months too).
/// A month is drawn at its middle.
struct MonthScale {
    let first: MonthIndex, last: MonthIndex
    let rangeStart: Double, rangeEnd: Double

    init(first: MonthIndex, last: MonthIndex, range: (Double, Double)) {
        self.first = first
        self.last = max(last, first)
        (rangeStart, rangeEnd) = range
    }

    private var monthWidth: Double { (rangeEnd - rangeStart) / Double(last.value - first.value + 1) }

    func callAsFunction(_ m: MonthIndex) -> Double {
        rangeStart + (Double(m.value - first.value) + 0.5) * monthWidth
    }

    /// Year boundaries (the start of each January), labelled with the year, thinned to at
    /// most `maxLabels` labels; short spans get quarter ticks instead.
    func ticks(maxLabels: Int = 10) -> [Tick] {
        let months = last.value - first.value + 1
        if months <= 24 {
            return stride(from: first.value, through: last.value, by: 1)
                .map(MonthIndex.init)
                .filter { ($0.month - 1) % 3 == 0 }
                .map { Tick(position: self($0), label: $0.month == 1 ? "\($0.year)" : String(MonthIndex.names[$0.month - 1].prefix(3))) }
        }
        let years = last.year - first.year + 1
        let every = [1, 2, 5, 10, 20, 50].first { (years + $0 - 1) / $0 <= maxLabels } ?? 100
        return (first.year...(last.year + 1)).filter { $0 % every == 0 }.compactMap { year in
            let start = MonthIndex(year: year, month: 1)
            guard start >= first, start.value <= last.value + 1 else { return nil }
            let x = rangeStart + Double(start.value - first.value) * monthWidth
            return Tick(position: x, label: "\(year)")
        }
    }
}

/// Categories to bands of equal height; the position of a category is its band's middle.
struct BandScale {
    let count: Int
    let rangeStart: Double, rangeEnd: Double

    var bandwidth: Double { count == 0 ? 0 : (rangeEnd - rangeStart) / Double(count) }
    func start(_ i: Int) -> Double { rangeStart + Double(i) * bandwidth }
    func middle(_ i: Int) -> Double { start(i) + bandwidth / 2 }
}
