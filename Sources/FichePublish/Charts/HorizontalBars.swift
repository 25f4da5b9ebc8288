// Horizontal bars, one band per category: grouped (a bar per series side by side) or stacked
// to 100 % (each series a share of the category's total). Used whole, or as the panels of a
// small-multiples chart, so every bar chart shares the band axis, the value axis and labels.

struct BarCategory {
    var label: String
    /// One value per series (grouped) or one part per series (stacked); NaN = no bar.
    var values: [Double]
    /// The hover text of each bar or segment.
    var tooltips: [String]
    /// `data-*` attributes of each bar or segment (what tests read back).
    var attributes: [[Markup.Attribute]]
}

struct HorizontalBarPanel {
    enum Mode { case grouped, stackedPercent }
    var categories: [BarCategory]
    var colors: [String]
    var mode: Mode
    /// The value axis title with its unit.
    var valueTitle: String
    /// Text at the end of each grouped bar.
    var valueLabel: (Double) -> String = { NumberText.grouped(Int($0.rounded())) }
    /// Room for category labels; longer ones are cut with "…" and the full name in a tooltip.
    var labelWidth: Double = 170
    var barHeight: Double = 18
    var ticks = 5
    /// The values are counts (integer ticks only).
    var counts = true

    private var bandHeight: Double { mode == .grouped ? Double(max(colors.count, 1)) * barHeight + 8 : barHeight + 10 }
    /// The height `draw` takes, the axis below the bars included.
    var height: Double { Double(categories.count) * bandHeight + 44 }

    func draw(_ m: inout Markup, x: Double, y: Double, width: Double) {
        let endLabelRoom: Double = mode == .grouped ? 48 : 6
        let plot = PlotRect(x: x + labelWidth + 8, y: y, width: width - labelWidth - 8 - endLabelRoom, height: Double(categories.count) * bandHeight)
        let bands = BandScale(count: categories.count, rangeStart: plot.y, rangeEnd: plot.maxY)
        let scale: LinearScale
        switch mode {
        case .grouped:
            let maxValue = categories.flatMap(\.values).filter { !$0.isNaN }.max() ?? 1
            scale = LinearScale(maximum: maxValue, range: (plot.x, plot.maxX), ticks: ticks, integers: counts)
        case .stackedPercent:
            scale = LinearScale(fixed: 0, 100, step: 20, range: (plot.x, plot.maxX))
        }
        let labels = categories.enumerated().map { i, c -> Tick in
            let (short, cut) = ChartStyle.truncate(c.label, toWidth: labelWidth - 4, size: ChartStyle.smallFontSize)
            return Tick(position: bands.middle(i), label: short, fullLabel: cut ? c.label : nil)
        }
        Axis(edge: .bottom, ticks: scale.ticks(suffix: mode == .stackedPercent ? " %" : ""), title: valueTitle).draw(&m, plot: plot)
        Axis(edge: .left, ticks: labels, title: "", grid: false, isBand: true).draw(&m, plot: plot)

        for (i, c) in categories.enumerated() {
            m.start("g", [("class", "category"), ("data-category", c.label)])
            switch mode {
            case .grouped:
                for (s, v) in c.values.enumerated() where !v.isNaN {
                    let top = bands.start(i) + 4 + Double(s) * barHeight
                    let w = max(scale(v) - plot.x, v > 0 ? 1 : 0)
                    bar(&m, c, s, x: plot.x, y: top, width: w, height: barHeight - 2, color: colors[s % colors.count])
                    m.leaf("text", [("x", svgNumber(plot.x + w + 4)), ("y", svgNumber(top + barHeight / 2 + 3)), ("font-size", svgNumber(ChartStyle.smallFontSize)),
                                    ("fill", ChartStyle.ink), ("aria-hidden", "true")], valueLabel(v))
                }
            case .stackedPercent:
                let total = c.values.filter { !$0.isNaN }.reduce(0, +)
                var cumulative = 0.0
                for (s, v) in c.values.enumerated() where !v.isNaN && v > 0 && total > 0 {
                    let x0 = scale(100 * cumulative / total)
                    cumulative += v
                    let x1 = scale(100 * cumulative / total)
                    let top = bands.start(i) + 5
                    let color = colors[s % colors.count]
                    bar(&m, c, s, x: x0, y: top, width: x1 - x0, height: barHeight, color: color)
                    let share = 100 * v / total
                    let text = "\(Int(share.rounded())) %"
                    if x1 - x0 >= ChartStyle.textWidth(text, size: ChartStyle.smallFontSize) + 6 {
                        m.leaf("text", [("x", svgNumber((x0 + x1) / 2)), ("y", svgNumber(top + barHeight / 2 + 4)), ("text-anchor", "middle"),
                                        ("font-size", svgNumber(ChartStyle.smallFontSize)), ("fill", ChartStyle.textColor(on: color)),
                                        ("pointer-events", "none"), ("aria-hidden", "true")], text)
                    }
                }
            }
            m.close()
        }
    }

    private func bar(_ m: inout Markup, _ c: BarCategory, _ s: Int, x: Double, y: Double, width: Double, height: Double, color: String) {
        let attrs: [Markup.Attribute] = [("class", "bar"), ("x", svgNumber(x)), ("y", svgNumber(y)), ("width", svgNumber(width)), ("height", svgNumber(height)), ("fill", color)]
        m.start("rect", attrs + (s < c.attributes.count ? c.attributes[s] : []))
        if s < c.tooltips.count { m.leaf("title", [], c.tooltips[s]) }
        m.close()
    }
}

/// A chart of one or more bar panels: a legend (when there are several series) above panels
/// laid out in `columns` columns, each panel with its own heading.
struct BarChart {
    var id: String
    var title: String
    var summary: String
    var legend: Legend?
    var panels: [(heading: String?, panel: HorizontalBarPanel)]
    var columns = 1

    func chart(table: DataTable) -> Chart {
        let width = ChartStyle.width
        var m = Markup()
        var y = 10.0
        if let legend {
            legend.draw(&m, x: 12, y: y, width: width - 24)
            y += legend.height(width: width - 24) + 12
        }
        let gap = 24.0
        let columnWidth = (width - 24 - gap * Double(columns - 1)) / Double(columns)
        var index = 0
        while index < panels.count {
            let row = panels[index..<min(index + columns, panels.count)]
            let headed = row.contains { $0.heading != nil }
            var rowHeight = 0.0
            for (j, p) in row.enumerated() {
                let px = 12 + Double(j) * (columnWidth + gap)
                var py = y
                m.start("g", [("class", "panel"), ("data-panel", p.heading)])
                if let heading = p.heading {
                    m.leaf("text", [("x", svgNumber(px)), ("y", svgNumber(py + 13)), ("font-weight", "600"), ("font-size", "13")], heading)
                }
                if headed { py += 22 }
                p.panel.draw(&m, x: px, y: py, width: columnWidth)
                m.close()
                rowHeight = max(rowHeight, (headed ? 22 : 0) + p.panel.height)
            }
            y += rowHeight + 14
            index += columns
        }
        return Chart(id: id, title: title, summary: summary, table: table, width: width, height: y, body: m.text)
    }
}
