// A word-sized chart for a table cell: a column per calendar month from the first to the last
// month, empty months left empty, scaled to the row's own busiest month.

struct Sparkline {
    /// Sorted by month; months with no visits may be left out.
    var points: [(month: MonthIndex, value: Int)]
    /// What is counted, e.g. "visits".
    var unit: String
    var label: String
    var width: Double = 150
    var height: Double = 26

    func svg() -> String {
        guard let first = points.first?.month, let last = points.last?.month else { return "" }
        let months = last.value - first.value + 1
        let maxValue = max(points.map(\.value).max() ?? 1, 1)
        let slot = width / Double(months)
        let gap = slot > 3 ? 1.0 : 0
        let values = points.map { "\($0.month.label): \(NumberText.grouped($0.value))" }.joined(separator: ", ")
        let text = "\(label): \(unit) per month from \(first.label) to \(last.label) — \(values)"
        var m = Markup()
        m.start("svg", [("xmlns", "http://www.w3.org/2000/svg"), ("class", "sparkline"), ("viewBox", "0 0 \(svgNumber(width)) \(svgNumber(height))"),
                        ("width", svgNumber(width)), ("height", svgNumber(height)), ("role", "img"), ("aria-label", text),
                        ("data-first", first.label), ("data-last", last.label)])
        m.leaf("title", [], text)
        m.empty("line", [("x1", "0"), ("x2", svgNumber(width)), ("y1", svgNumber(height - 0.5)), ("y2", svgNumber(height - 0.5)), ("stroke", ChartStyle.grid)])
        for p in points {
            let h = max(1.5, Double(p.value) / Double(maxValue) * (height - 2))
            let x = Double(p.month.value - first.value) * slot
            m.start("rect", [("x", svgNumber(x)), ("y", svgNumber(height - 1 - h)), ("width", svgNumber(max(slot - gap, 0.8))), ("height", svgNumber(h)),
                             ("fill", ChartStyle.palette[0]), ("data-month", p.month.label), ("data-value", String(p.value))])
            m.leaf("title", [], "\(p.month.longLabel): \(NumberText.grouped(p.value)) \(unit)")
            m.close()
        }
        m.close()
        return m.text
    }
}
