// Numbers as people read them: thousands separators, fixed decimals, no locale surprises
// (the report reads the same wherever it is built).

import Foundation

public enum NumberText {
    /// 1234567 → "1,234,567"; -1234 → "-1,234".
    public static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return n < 0 ? "-" + out : out
    }

    /// 12345.678 with 2 decimals → "12,345.68".
    public static func grouped(_ v: Double, decimals: Int) -> String {
        guard v.isFinite else { return "–" }
        let scale = pow(10.0, Double(decimals))
        let scaled = (abs(v) * scale).rounded()
        let whole = Int(scaled / scale)
        let frac = Int(scaled) - whole * Int(scale)
        var s = grouped(whole)
        if decimals > 0 {
            let f = String(frac)
            s += "." + String(repeating: "0", count: max(0, decimals - f.count)) + f
        }
        return v < 0 && scaled > 0 ? "-" + s : s
    }

    /// A tick value: integers grouped, fractions with as many decimals as the tick step needs.
    static func tick(_ v: Double, step: Double) -> String {
        if step >= 1 && v == v.rounded() { return grouped(Int(v)) }
        let decimals = max(0, min(6, Int((-log10(step)).rounded(.up))))
        return grouped(v, decimals: decimals)
    }
}
