// What the quality gates found: one result per check, and the report people and machines read.

import FicheLake
import Foundation

public struct QualityCheckResult: Sendable, Equatable {
    /// Unique name, `<rule>.<table>[.<column>]`, e.g. `relationships.encounters.patient_id`.
    public var name: String
    public var rule: QualityRule
    public var table: String
    public var severity: CheckSeverity
    /// Rows (or, for volume and freshness, runs/days) that fail; 0 = passed.
    public var failing: Int
    /// Rows the check looked at.
    public var checked: Int
    /// What the check asserts, in words.
    public var expectation: String
    /// A few failing rows (table, row number in lake order, values), or the numbers that disagree.
    public var examples: [String]

    public var passed: Bool { failing == 0 }

    public init(name: String, rule: QualityRule, table: String, severity: CheckSeverity, failing: Int, checked: Int,
                expectation: String, examples: [String] = []) {
        self.name = name
        self.rule = rule
        self.table = table
        self.severity = severity
        self.failing = failing
        self.checked = checked
        self.expectation = expectation
        self.examples = examples
    }
}

public struct QualityReport: Sendable {
    public var results: [QualityCheckResult]
    public var seconds: Double

    public init(results: [QualityCheckResult], seconds: Double) {
        self.results = results
        self.seconds = seconds
    }

    /// Failed checks of severity error: any of them stops publishing.
    public var errors: [QualityCheckResult] { results.filter { !$0.passed && $0.severity == .error } }
    public var warnings: [QualityCheckResult] { results.filter { !$0.passed && $0.severity == .warn } }
    public var passed: Bool { errors.isEmpty }

    /// Failed checks per rule (every rule present, 0 where none failed): the metrics' numbers.
    public var failuresByRule: [(rule: String, failures: Int)] {
        QualityRule.allCases.map { r in (r.rawValue, results.filter { $0.rule == r && !$0.passed }.count) }
    }

    /// One line: passed or not, with counts.
    public var summary: String {
        let e = errors.count, w = warnings.count
        let head = passed ? "quality gates passed" : "quality gates FAILED"
        var parts = ["\(results.count) checks"]
        if e > 0 { parts.append("\(e) error\(e == 1 ? "" : "s")") }
        if w > 0 { parts.append("\(w) warning\(w == 1 ? "" : "s")") }
        return head + ": " + parts.joined(separator: ", ") + String(format: " (%.2f s)", seconds)
    }

    /// The failed checks as a table (errors first), each followed by its examples; with
    /// `all`, every check.
    public func text(all: Bool = false) -> String {
        var out = summary + "\n"
        let shown = (all ? results : results.filter { !$0.passed })
            .sorted { ($0.severity == .error ? 0 : 1, $0.passed ? 1 : 0) < ($1.severity == .error ? 0 : 1, $1.passed ? 1 : 0) }
        guard !shown.isEmpty else { return out }
        let header = ["severity", "rule", "table", "check", "failing", "of rows"]
        let rows = shown.map { r in
            [r.passed ? "ok" : r.severity.rawValue, r.rule.rawValue, r.table, r.name, grouped(r.failing), grouped(r.checked)]
        }
        var widths = header.map(\.count)
        for row in rows { for (i, c) in row.enumerated() { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                let pad = String(repeating: " ", count: widths[i] - c.count)
                return i >= 4 ? pad + c : c + pad
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        out += "\n" + line(header) + "\n" + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
        for (r, cells) in zip(shown, rows) {
            out += line(cells) + "\n"
            if !r.passed {
                out += "    expected: \(r.expectation)\n"
                for e in r.examples { out += "    e.g. \(e)\n" }
            }
        }
        return out
    }

    /// Every check as JSON (sorted keys).
    public var json: String {
        let object: [String: Any] = [
            "passed": passed,
            "errors": errors.count,
            "warnings": warnings.count,
            "seconds": seconds,
            "checks": results.map { r -> [String: Any] in
                ["name": r.name, "rule": r.rule.rawValue, "table": r.table, "severity": r.severity.rawValue,
                 "passed": r.passed, "failing": r.failing, "checked": r.checked, "expectation": r.expectation,
                 "examples": r.examples]
            },
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

/// The gates stopped a publish: the report says why. The live warehouse was not touched.
public struct QualityGateFailure: Error, CustomStringConvertible, Sendable {
    public var report: QualityReport
    public init(report: QualityReport) { self.report = report }
    public var description: String {
        let names = report.errors.prefix(3).map { "\($0.name) (\(grouped($0.failing)))" }.joined(separator: ", ")
        return "quality gates failed: \(report.errors.count) error\(report.errors.count == 1 ? "" : "s") (\(names)"
            + (report.errors.count > 3 ? ", …" : "") + "); nothing was published, the live warehouse is unchanged"
    }
}

/// 1234567 → "1,234,567".
func grouped(_ n: Int) -> String {
    let s = String(n.magnitude)
    var out = ""
    for (i, c) in s.reversed().enumerated() {
        if i > 0 && i % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return (n < 0 ? "-" : "") + String(out.reversed())
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.hasSuffix(" ") { s.removeLast() }
        return s
    }
}
