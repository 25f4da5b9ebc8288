// A run's outcome as Prometheus metrics, in the text exposition format node_exporter's
// textfile collector reads: written to PATH.tmp in the same folder, fsynced, then renamed
// onto PATH, so the collector never reads half a file. Gauges only (a file holds the last
// run's values, nothing accumulates), base units, a `fiche_` prefix, labels of few values.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

public enum RunMetrics {
    /// The exposition text for `record`. `lastSuccessEnd` is when the last successful run of the
    /// command ended (this one if it succeeded), from the run log; nil if there was none.
    public static func text(_ record: RunRecord, lastSuccessEnd: Date?) -> String {
        var out = ""
        let command = ["command": record.command]
        func family(_ name: String, _ help: String, _ samples: [([String: String], Double)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
            for (labels, value) in samples { out += name + labelText(command.merging(labels) { a, _ in a }) + " " + number(value) + "\n" }
        }
        family("fiche_last_run_success", "1 if the last run of the command succeeded, 0 if it failed.",
               [([:], record.succeeded ? 1 : 0)])
        family("fiche_last_run_timestamp_seconds", "Unix time the last run of the command ended.",
               [([:], (parse(record.end) ?? Date()).timeIntervalSince1970)])
        family("fiche_last_success_timestamp_seconds", "Unix time the last successful run of the command ended.",
               lastSuccessEnd.map { [([:], $0.timeIntervalSince1970)] } ?? [])
        family("fiche_last_run_duration_seconds", "Wall-clock seconds the last run of the command took.",
               [([:], record.seconds)])
        family("fiche_stage_duration_seconds", "Seconds each stage of the last run took.",
               record.stages.map { (["stage": labelName($0.stage)], $0.seconds) })
        family("fiche_rows", "Rows per table after the last run (warehouse tables built or published, lake tables written).",
               record.rows.sorted { $0.key < $1.key }.map { (["table": $0.key], Double($0.value)) })
        var failures: [String: Int] = [:]
        for g in record.gates { failures[g.rule, default: 0] += g.passed ? 0 : 1 }
        family("fiche_quality_gate_failures", "Quality checks of each rule that failed in the last run (any severity).",
               failures.sorted { $0.key < $1.key }.map { (["rule": $0.key], Double($0.value)) })
        return out
    }

    /// Writes the metrics of `record` to `path` atomically (`path.tmp`, fsync, rename).
    public static func write(_ record: RunRecord, lastSuccessEnd: Date?, to path: String) throws {
        let tmp = path + ".tmp"
        let bytes = Array(text(record, lastSuccessEnd: lastSuccessEnd).utf8)
        // Readable by the node_exporter user: metrics hold no patient data and no secret.
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw FileIO.errorText("create", tmp) }
        try FileIO.closeAfter(fd, path: tmp) {
            // 0644 whatever the umask (the nightly unit runs with UMask=0077).
            if fchmod(fd, 0o644) != 0 { throw FileIO.errorText("chmod", tmp) }
            try FileIO.writeAll(fd, bytes, path: tmp)
            try FileIO.sync(fd, path: tmp)
        }
        if rename(tmp, path) != 0 {
            let e = FileIO.errorText("rename onto \(path)", tmp)
            _ = unlink(tmp)
            throw e
        }
    }

    /// A stage name as a label value: lower case, words joined by `_` ("key mapping" → "key_mapping").
    static func labelName(_ s: String) -> String {
        var out = ""
        for u in s.lowercased().unicodeScalars {
            if CharacterSet.alphanumerics.contains(u) && u.isASCII { out.unicodeScalars.append(u) } else if !out.hasSuffix("_") { out += "_" }
        }
        while out.hasSuffix("_") { out.removeLast() }
        return out.isEmpty ? "unnamed" : out
    }

    static func labelText(_ labels: [String: String]) -> String {
        guard !labels.isEmpty else { return "" }
        return "{" + labels.sorted { $0.key < $1.key }.map { k, v in
            var e = ""
            for c in v {
                switch c {
                case "\\": e += "\\\\"
                case "\"": e += "\\\""
                case "\n": e += "\\n"
                default: e.append(c)
                }
            }
            return "\(k)=\"\(e)\""
        }.joined(separator: ",") + "}"
    }

    static func number(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }

    static func parse(_ iso: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: iso)
    }

    /// When the last successful run of `record.command` ended: this run if it succeeded, else
    /// the run log's last success.
    public static func lastSuccessEnd(_ record: RunRecord, lake: Lake?) -> Date? {
        if record.succeeded { return parse(record.end) }
        guard let lake, let last = RunLog.lastSuccess(lake, command: record.command) else { return nil }
        return parse(last.end)
    }
}
