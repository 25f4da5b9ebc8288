import FicheLake
import FichePublish
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Buffered writes to a file descriptor, flushed in large blocks (stdout can carry GBs of CSV).
final class FileOutput {
    static let standardOutput = FileOutput(fd: 1)
    static let standardError = FileOutput(fd: 2, unbuffered: true)

    let fd: Int32
    private var buffer: [UInt8] = []
    private let unbuffered: Bool

    init(fd: Int32, unbuffered: Bool = false) {
        self.fd = fd
        self.unbuffered = unbuffered
        buffer.reserveCapacity(1 << 16)
    }

    func write(_ s: String) {
        var s = s
        s.withUTF8 { buffer.append(contentsOf: $0) }
        if unbuffered || buffer.count >= 1 << 16 { flush() }
    }

    func write(bytes: ArraySlice<UInt8>) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    func flush() {
        var done = 0
        buffer.withUnsafeBytes { raw in
            while done < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    if errno == EPIPE { exit(0) }  // reader went away (| head): stop quietly
                    return
                }
                done += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    deinit { flush() }
}

enum Terminal {
    static var stderrIsTTY: Bool { isatty(2) != 0 }

    static func fail(_ message: String) -> Never {
        FileOutput.standardOutput.flush()
        FileOutput.standardError.write("fiche: error: \(scrubbed(message))\n")
        exit(1)
    }

    /// `message` without credentials: URL passwords and `password=` values masked, and every
    /// password this process was given (in its arguments, `DATABASE_URL` or `PGPASSWORD`)
    /// masked wherever it appears.
    static func scrubbed(_ message: String) -> String {
        let env = ProcessInfo.processInfo.environment
        var secrets = (CommandLine.arguments + [env["DATABASE_URL"] ?? ""]).flatMap(PublishError.passwords(in:))
        if let password = env["PGPASSWORD"] { secrets.append(password) }
        return PublishError.scrub(message, secrets: secrets)
    }

    /// Columns padded to their widest cell; numbers right-aligned.
    static func table(_ header: [String], _ rows: [[String]], rightAligned: Set<Int> = []) -> String {
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                let pad = String(repeating: " ", count: widths[i] - c.count)
                return rightAligned.contains(i) ? pad + c : c + pad
            }.joined(separator: "  ").replacingTrailingSpaces()
        }
        var out = line(header) + "\n"
        out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
        for r in rows { out += line(r) + "\n" }
        return out
    }

    static func bytes(_ n: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(n), u = 0
        while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
        return u == 0 ? "\(n) B" : String(format1: v) + " " + units[u]
    }

    static func count(_ n: Int) -> String {
        let s = String(n)
        var out = ""
        for (i, c) in s.reversed().enumerated() {
            if i > 0 && i % 3 == 0 && c != "-" { out.append(",") }
            out.append(c)
        }
        return String(out.reversed())
    }

    static func ratio(_ raw: Int, _ packed: Int) -> String {
        packed == 0 ? "-" : String(format1: Double(raw) / Double(packed)) + "x"
    }
}

extension String {
    /// A number with one decimal.
    init(format1 v: Double) {
        let r = (v * 10).rounded() / 10
        self = r == r.rounded() ? String(Int(r)) + ".0" : String(r)
    }

    func replacingTrailingSpaces() -> String {
        var s = self
        while s.hasSuffix(" ") { s.removeLast() }
        return s
    }

    /// JSON string literal.
    var jsonQuoted: String {
        var out = "\""
        for u in unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    /// CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF, and when empty
    /// (an unquoted empty field is NULL, as in PostgreSQL's CSV format).
    var csvQuoted: String {
        if isEmpty { return "\"\"" }
        if contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) || hasPrefix(" ") || hasSuffix(" ") {
            return "\"" + replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return self
    }
}

/// JSON value of a cell.
func jsonCell(_ c: Column, _ row: Int) -> String {
    guard let t = c.text(at: row) else { return "null" }
    if case .float64(let v) = c.values, !v[row].isFinite { return t.jsonQuoted }
    return c.isJSONScalar ? t : t.jsonQuoted
}
