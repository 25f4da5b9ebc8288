// The one axis, grid and legend every chart uses.

/// An axis along one edge of a plot rectangle: tick marks, tick labels, grid lines across the
/// plot, and the axis title (which names the quantity and its unit).
struct Axis {
    enum Edge { case bottom, left }
    var edge: Edge
    var ticks: [Tick]
    var title: String
    var grid = true
    /// Bands (categories): no tick marks or grid, labels beside the band.
    var isBand = false

    func draw(_ m: inout Markup, plot: PlotRect, titleOffset: Double? = nil) {
        m.start("g", [("class", "axis axis-\(edge == .bottom ? "x" : "y")"), ("font-size", svgNumber(ChartStyle.smallFontSize)), ("fill", ChartStyle.mutedInk)])
        switch edge {
        case .bottom:
            if grid {
                for t in ticks { m.empty("line", [("x1", svgNumber(t.position)), ("x2", svgNumber(t.position)), ("y1", svgNumber(plot.y)), ("y2", svgNumber(plot.maxY)), ("stroke", ChartStyle.grid)]) }
            }
            m.empty("line", [("x1", svgNumber(plot.x)), ("x2", svgNumber(plot.maxX)), ("y1", svgNumber(plot.maxY)), ("y2", svgNumber(plot.maxY)), ("stroke", ChartStyle.axis)])
            for t in ticks {
                m.empty("line", [("x1", svgNumber(t.position)), ("x2", svgNumber(t.position)), ("y1", svgNumber(plot.maxY)), ("y2", svgNumber(plot.maxY + 4)), ("stroke", ChartStyle.axis)])
                label(&m, t, [("x", svgNumber(t.position)), ("y", svgNumber(plot.maxY + 16)), ("text-anchor", "middle")])
            }
            m.leaf("text", [("class", "axis-title"), ("x", svgNumber(plot.x + plot.width / 2)), ("y", svgNumber(plot.maxY + (titleOffset ?? 34))),
                            ("text-anchor", "middle"), ("font-size", svgNumber(ChartStyle.fontSize)), ("fill", ChartStyle.ink)], title)
        case .left:
            if grid && !isBand {
                for t in ticks { m.empty("line", [("x1", svgNumber(plot.x)), ("x2", svgNumber(plot.maxX)), ("y1", svgNumber(t.position)), ("y2", svgNumber(t.position)), ("stroke", ChartStyle.grid)]) }
            }
            m.empty("line", [("x1", svgNumber(plot.x)), ("x2", svgNumber(plot.x)), ("y1", svgNumber(plot.y)), ("y2", svgNumber(plot.maxY)), ("stroke", ChartStyle.axis)])
            for t in ticks {
                if !isBand { m.empty("line", [("x1", svgNumber(plot.x - 4)), ("x2", svgNumber(plot.x)), ("y1", svgNumber(t.position)), ("y2", svgNumber(t.position)), ("stroke", ChartStyle.axis)]) }
                label(&m, t, [("x", svgNumber(plot.x - 7)), ("y", svgNumber(t.position + 4)), ("text-anchor", "end")])
            }
            if !title.isEmpty {
                let x = plot.x - (titleOffset ?? 50)
                let y = plot.y + plot.height / 2
                m.leaf("text", [("class", "axis-title"), ("transform", "translate(\(svgNumber(x)),\(svgNumber(y))) rotate(-90)"),
                                ("text-anchor", "middle"), ("font-size", svgNumber(ChartStyle.fontSize)), ("fill", ChartStyle.ink)], title)
            }
        }
        m.close()
    }

    private func label(_ m: inout Markup, _ t: Tick, _ attrs: [Markup.Attribute]) {
        if let full = t.fullLabel {
            m.leaf("text", attrs, t.label, tooltip: full)
        } else {
            m.leaf("text", attrs, t.label)
        }
    }
}

/// A row of legend entries (a swatch or a line sample, then the name), wrapping onto more
/// rows when they do not fit `width`.
struct Legend {
    enum Mark { case swatch, line }
    var entries: [(name: String, color: String)]
    var mark: Mark = .swatch

    /// How tall the legend is when laid out in `width`.
    func height(width: Double) -> Double { Double(layout(width: width).rows) * 18 }

    private func layout(width: Double) -> (positions: [(x: Double, row: Int)], rows: Int) {
        var x = 0.0, row = 0
        var out: [(Double, Int)] = []
        for e in entries {
            let w = 22 + ChartStyle.textWidth(e.name) + 18
            if x > 0 && x + w > width { x = 0; row += 1 }
            out.append((x, row))
            x += w
        }
        return (out, entries.isEmpty ? 0 : row + 1)
    }

    func draw(_ m: inout Markup, x: Double, y: Double, width: Double) {
        m.start("g", [("class", "legend"), ("aria-hidden", "true")])
        for (e, p) in zip(entries, layout(width: width).positions) {
            let ex = x + p.x, ey = y + Double(p.row) * 18
            switch mark {
            case .swatch:
                m.empty("rect", [("x", svgNumber(ex)), ("y", svgNumber(ey)), ("width", "14"), ("height", "12"), ("fill", e.color)])
            case .line:
                m.empty("line", [("x1", svgNumber(ex)), ("x2", svgNumber(ex + 16)), ("y1", svgNumber(ey + 6)), ("y2", svgNumber(ey + 6)), ("stroke", e.color), ("stroke-width", "3")])
            }
            m.leaf("text", [("x", svgNumber(ex + 21)), ("y", svgNumber(ey + 10.5))], e.name)
        }
        m.close()
    }
}
