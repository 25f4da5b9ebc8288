// A line per series over calendar months on a real time axis. A month a series has no row for
// breaks its line (the line is drawn as one path per run of consecutive months), so a gap in
// the data shows as a gap, never as a slope between distant months.

struct MonthlySeries {
    var name: String
    /// Sorted by month, one value per month at most.
    var points: [(month: MonthIndex, value: Double)]

    /// Runs of consecutive months.
    var runs: [ArraySlice<(month: MonthIndex, value: Double)>] {
        var out: [ArraySlice<(month: MonthIndex, value: Double)>] = []
        var start = points.startIndex
        for i in points.indices.dropFirst() where points[i].month.value != points[i - 1].month.value + 1 {
            out.append(points[start..<i])
            start = i
        }
        if !points.isEmpty { out.append(points[start...]) }
        return out
    }
}

struct MonthlyLineChart {
    var id: String
    var title: String
    var summary: String
    var series: [MonthlySeries]
    /// The y axis title, with its unit, e.g. "Encounters per month".
    var valueTitle: String
    var timeTitle = "Encounter date (month)"
    /// The noun in tooltips, e.g. "encounters".
    var unit: String
    var plotHeight: Double = 300

    func chart(table: DataTable) -> Chart {
        let width = ChartStyle.width
        let all = series.flatMap(\.points)
        let first = all.map(\.month).min() ?? MonthIndex(year: 2000, month: 1)
        let last = all.map(\.month).max() ?? first
        let maxValue = all.map(\.value).max() ?? 1
        let legend = Legend(entries: series.enumerated().map { ($1.name, ChartStyle.color($0)) }, mark: .line)

        // Left margin: the widest tick label plus room for the rotated axis title.
        let probe = LinearScale(maximum: maxValue, range: (0, 1), integers: true)
        let labelWidth = probe.ticks().map { ChartStyle.textWidth($0.label, size: ChartStyle.smallFontSize) }.max() ?? 20
        let left = 24 + labelWidth + 12
        let legendTop = 10.0
        let top = legendTop + legend.height(width: width - left - 20) + 12
        let plot = PlotRect(x: left, y: top, width: width - left - 20, height: plotHeight)
        let y = LinearScale(maximum: maxValue, range: (plot.maxY, plot.y), integers: true)
        let x = MonthScale(first: first, last: last, range: (plot.x, plot.maxX))

        var m = Markup()
        legend.draw(&m, x: plot.x, y: legendTop, width: plot.width)
        Axis(edge: .left, ticks: y.ticks(), title: valueTitle).draw(&m, plot: plot, titleOffset: labelWidth + 16)
        Axis(edge: .bottom, ticks: x.ticks(), title: timeTitle, grid: true).draw(&m, plot: plot)

        for (i, s) in series.enumerated() {
            let color = ChartStyle.color(i)
            m.start("g", [("class", "series"), ("data-series", s.name)])
            for run in s.runs {
                let d = run.enumerated().map { j, p in "\(j == 0 ? "M" : "L")\(svgNumber(x(p.month))),\(svgNumber(y(p.value)))" }.joined(separator: " ")
                m.empty("path", [("class", "run"), ("d", d), ("fill", "none"), ("stroke", color), ("stroke-width", "2"), ("stroke-linejoin", "round"),
                                 ("data-from", run.first?.month.label), ("data-to", run.last?.month.label)])
            }
            for p in s.points {
                m.start("circle", [("class", "point"), ("cx", svgNumber(x(p.month))), ("cy", svgNumber(y(p.value))), ("r", "2.2"), ("fill", color),
                                   ("data-series", s.name), ("data-month", p.month.label), ("data-value", dataValue(p.value))])
                m.leaf("title", [], "\(s.name), \(p.month.longLabel): \(NumberText.grouped(Int(p.value))) \(unit)")
                m.close()
            }
            m.close()
        }
        return Chart(id: id, title: title, summary: summary, table: table, width: width, height: plot.maxY + 44, body: m.text)
    }
}

/// A value as machine-readable text for `data-value` attributes: integers without a decimal
/// point, other numbers in Swift's shortest round-trip form ("1.46").
func dataValue(_ v: Double) -> String {
    v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
}
