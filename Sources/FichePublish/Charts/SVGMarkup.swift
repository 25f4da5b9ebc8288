// Writing SVG and XHTML text: escaping every string that goes into a document, and a small
// builder that opens, closes and nests elements so the output is always well-formed XML.

/// XML escaping for text and attribute values. Characters XML 1.0 cannot carry at all (C0
/// controls other than tab, newline and carriage return; unpaired surrogates cannot occur in
/// a Swift String) become U+FFFD, so a strange byte in the database cannot break a document.
public enum XMLText {
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                let v = scalar.value
                if v < 0x20 || v == 0xFFFE || v == 0xFFFF {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}

/// Builds markup as text. Attribute values and text are escaped here, once; callers pass
/// raw strings. Elements are closed in order (`close()` pops the innermost one).
struct Markup {
    private(set) var text = ""
    private var open: [String] = []
    private var indent: String { String(repeating: " ", count: open.count) }

    /// One attribute; nil values are left out.
    typealias Attribute = (name: String, value: String?)

    private func attributes(_ attrs: [Attribute]) -> String {
        attrs.compactMap { a in a.value.map { " \(a.name)=\"\(XMLText.escape($0))\"" } }.joined()
    }

    mutating func start(_ name: String, _ attrs: [Attribute] = []) {
        text += "\(indent)<\(name)\(attributes(attrs))>\n"
        open.append(name)
    }

    mutating func close() {
        guard let name = open.popLast() else { preconditionFailure("Markup.close() without an open element") }
        text += "\(indent)</\(name)>\n"
    }

    /// An element with no children.
    mutating func empty(_ name: String, _ attrs: [Attribute] = []) {
        text += "\(indent)<\(name)\(attributes(attrs))/>\n"
    }

    /// An element holding only text (escaped).
    mutating func leaf(_ name: String, _ attrs: [Attribute] = [], _ content: String) {
        text += "\(indent)<\(name)\(attributes(attrs))>\(XMLText.escape(content))</\(name)>\n"
    }

    /// An element holding text and a `<title>` child (the hover tooltip).
    mutating func leaf(_ name: String, _ attrs: [Attribute] = [], _ content: String, tooltip: String) {
        text += "\(indent)<\(name)\(attributes(attrs))><title>\(XMLText.escape(tooltip))</title>\(XMLText.escape(content))</\(name)>\n"
    }

    /// Markup produced elsewhere (already well-formed), e.g. an inline SVG inside HTML.
    mutating func raw(_ markup: String) {
        text += markup
        if !markup.hasSuffix("\n") { text += "\n" }
    }

    var isBalanced: Bool { open.isEmpty }
}

/// Coordinates written with at most two decimals and no trailing zeros.
func svgNumber(_ v: Double) -> String {
    guard v.isFinite else { return "0" }
    let r = (v * 100).rounded() / 100
    if r == r.rounded() { return String(Int(r)) }
    var s = String(format: "%.2f", r)
    while s.hasSuffix("0") { s.removeLast() }
    return s
}
