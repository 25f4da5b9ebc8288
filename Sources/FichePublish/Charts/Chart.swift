// A finished chart: its SVG body, the text alternative (title, description, data table) and
// the way it is written, inline in the HTML report or as a standalone .svg file.

import Foundation

/// The rows behind a chart, shown as a table next to it (the text alternative a screen reader
/// or a printout can use) and written by `--svg` nowhere else.
public struct DataTable: Sendable {
    public var columns: [String]
    /// Right-aligned (numeric) columns.
    public var numeric: [Bool]
    public var rows: [[String]]
}

public struct Chart: Sendable {
    /// File name stem and element id prefix, e.g. `monthly-encounters`.
    public let id: String
    public let title: String
    /// One or two sentences saying what the chart shows and its main numbers.
    public let summary: String
    public let table: DataTable
    let width: Double
    let height: Double
    /// The drawing, in a coordinate system `width` × `height` (no root, title or desc).
    let body: String

    /// The chart as an `<svg>` element. Standalone: with the XML declaration and namespace
    /// declarations a file needs, and its title drawn as text above the chart (inline in the
    /// HTML report the figure's heading shows it).
    public func svg(standalone: Bool) -> String {
        let titleBand: Double = standalone ? 34 : 0
        let h = height + titleBand
        var m = Markup()
        m.start("svg", [
            ("xmlns", "http://www.w3.org/2000/svg"),
            ("viewBox", "0 0 \(svgNumber(width)) \(svgNumber(h))"),
            ("width", svgNumber(width)), ("height", svgNumber(h)),
            ("role", "img"), ("aria-labelledby", "\(id)-title \(id)-desc"),
            ("class", "chart"), ("data-chart", id),
            ("font-family", ChartStyle.fontFamily), ("font-size", svgNumber(ChartStyle.fontSize)),
            ("fill", ChartStyle.ink),
        ])
        m.leaf("title", [("id", "\(id)-title")], title)
        m.leaf("desc", [("id", "\(id)-desc")], summary)
        if standalone {
            m.empty("rect", [("width", svgNumber(width)), ("height", svgNumber(h)), ("fill", "#ffffff")])
            m.leaf("text", [("x", "12"), ("y", "24"), ("font-size", "17"), ("font-weight", "600"), ("aria-hidden", "true")], title)
            m.start("g", [("transform", "translate(0,\(svgNumber(titleBand)))")])
        }
        m.raw(body)
        if standalone { m.close() }
        m.close()
        return (standalone ? "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" : "") + m.text
    }
}

/// Sizes, fonts and colours every chart shares.
enum ChartStyle {
    static let fontFamily = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', 'DejaVu Sans', Arial, sans-serif"
    static let fontSize: Double = 12
    static let smallFontSize: Double = 11
    static let ink = "#222222"
    static let mutedInk = "#555555"
    static let grid = "#dddddd"
    static let axis = "#777777"
    static let width: Double = 760

    /// Okabe & Ito's palette, distinguishable with every common form of colour-blindness
    /// (M. Okabe, K. Ito, "Color Universal Design", 2008), ordered so that the first colours
    /// also contrast well with white as lines; yellow last.
    static let palette = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"]

    static func color(_ i: Int) -> String { palette[i % palette.count] }

    /// Black or white text, whichever reads better on `fill` (a #rrggbb colour).
    static func textColor(on fill: String) -> String {
        let hex = fill.dropFirst()
        guard hex.count == 6, let v = UInt32(hex, radix: 16) else { return ink }
        let r = Double((v >> 16) & 0xff), g = Double((v >> 8) & 0xff), b = Double(v & 0xff)
        return (0.299 * r + 0.587 * g + 0.114 * b) > 150 ? "#000000" : "#ffffff"
    }

    /// A generous estimate of how wide `text` is at `size` (no font metrics without a renderer:
    /// average sans-serif glyphs are about 0.55 em; wide letters and capitals count more).
    static func textWidth(_ text: String, size: Double = fontSize) -> Double {
        var em = 0.0
        for c in text {
            if c.isUppercase || "mwMW@%".contains(c) { em += 0.72 } else if "iljtf.,:;'|! ".contains(c) { em += 0.32 } else { em += 0.56 }
        }
        return em * size
    }

    /// `text` cut to fit `width` with an ellipsis; the second value says whether it was cut.
    static func truncate(_ text: String, toWidth width: Double, size: Double = fontSize) -> (String, Bool) {
        if textWidth(text, size: size) <= width { return (text, false) }
        var cut = text
        while !cut.isEmpty && textWidth(cut + "…", size: size) > width { cut.removeLast() }
        return (cut.trimmingCharacters(in: .whitespaces) + "…", true)
    }
}
