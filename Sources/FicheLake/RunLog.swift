// The run log: one JSON object per line in `<lake>/_runs/runs.jsonl`, one line per run of
// `ingest`, `generate`, `build`, `rebuild` and `publish`. Append-only, private (0600 in a
// 0700 folder), and safe under concurrent runs: each record is one write(2) to a file opened
// with O_APPEND, so lines never interleave. No credential is ever written (arguments and
// errors go through `Credentials.scrub`).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A stage of a run and how long it took.
public struct RunStage: Codable, Sendable, Equatable {
    public var stage: String
    public var seconds: Double
    public init(stage: String, seconds: Double) {
        self.stage = stage
        self.seconds = seconds
    }
}

/// One quality check's outcome in a run.
public struct RunGate: Codable, Sendable, Equatable {
    public var check: String
    public var rule: String
    public var table: String
    public var severity: String
    public var failing: Int
    public var passed: Bool
    public init(check: String, rule: String, table: String, severity: String, failing: Int, passed: Bool) {
        self.check = check
        self.rule = rule
        self.table = table
        self.severity = severity
        self.failing = failing
        self.passed = passed
    }
}

/// One line of the run log.
public struct RunRecord: Codable, Sendable, Equatable {
    public var id: String
    /// `rebuild`, `publish`, `build`, `generate`, `ingest padchest`.
    public var command: String
    /// The command line after the subcommand, credentials scrubbed.
    public var arguments: [String]
    /// ISO 8601, UTC.
    public var start: String
    public var end: String
    public var seconds: Double
    /// `success` or `failure`.
    public var outcome: String
    public var error: String?
    /// Lake table versions when the run started (what it could read).
    public var lakeVersionsRead: [String: Int]
    /// Lake tables the run committed to, with their new versions.
    public var lakeVersionsWritten: [String: Int]
    /// Rows per table: the warehouse tables built or published, or the lake tables written.
    public var rows: [String: Int]
    public var stages: [RunStage]
    /// The quality gates' results (rebuild, publish).
    public var gates: [RunGate]
    public var user: String
    public var host: String
    public var pid: Int32

    public var succeeded: Bool { outcome == RunRecord.success }
    public static let success = "success"
    public static let failure = "failure"

    enum CodingKeys: String, CodingKey {
        case id, command, arguments, start, end, seconds, outcome, error
        case lakeVersionsRead = "lake_versions_read"
        case lakeVersionsWritten = "lake_versions_written"
        case rows, stages, gates, user, host, pid
    }
}

public enum RunLog {
    public static let folder = "_runs"
    public static let fileName = "runs.jsonl"

    public static func path(_ lake: Lake) -> String { lake.root + "/" + folder + "/" + fileName }

    /// Appends one record as one line, in a single write.
    public static func append(_ record: RunRecord, to lake: Lake) throws {
        let dir = lake.root + "/" + folder
        try FileIO.makeDirectory(dir)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var line = Array(try encoder.encode(record))
        line.append(10)
        let file = path(lake)
        let fd = open(file, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        if fd < 0 { throw FileIO.errorText("open", file) }
        try FileIO.closeAfter(fd, path: file) {
            // After a torn write (a full disk), start on a line of our own: appended to the torn
            // line, this record would be unreadable too.
            let size = try FileIO.fileSize(fd, path: file)
            if size > 0, try FileIO.readExactly(fd, count: 1, offset: size - 1, path: file) != [10] {
                line.insert(10, at: 0)
            }
            // One write(2): with O_APPEND the kernel places it whole at the end, so concurrent
            // runs never interleave their lines. A short write (disk full) is an error.
            let n = line.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
            if n < 0 { throw FileIO.errorText("write", file) }
            if n != line.count {
                throw LakeError(.io, "wrote \(n) of \(line.count) bytes of a run record (disk full?)", file: file)
            }
            try FileIO.sync(fd, path: file)
        }
    }

    /// Every record, oldest first. A line that is not a record (a torn write after a crash) is
    /// skipped and counted in `skipped`.
    public static func read(_ lake: Lake) throws -> (records: [RunRecord], skipped: Int) {
        let file = path(lake)
        guard FileIO.exists(file) else { return ([], 0) }
        let bytes = try FileIO.readFile(file)
        let decoder = JSONDecoder()
        var records: [RunRecord] = []
        var skipped = 0
        for line in bytes.split(separator: 10, omittingEmptySubsequences: true) {
            if let r = try? decoder.decode(RunRecord.self, from: Data(line)) { records.append(r) } else { skipped += 1 }
        }
        return (records, skipped)
    }

    /// `table`'s rows after each successful run of one of `commands`, oldest first.
    public static func rowsAfterSuccessfulRuns(_ lake: Lake, table: String, commands: Set<String>) -> [Int] {
        guard let records = try? read(lake).records else { return [] }
        return records.filter { $0.succeeded && commands.contains($0.command) }.compactMap { $0.rows[table] }
    }

    /// The end time of the last successful run of `command`, if any.
    public static func lastSuccess(_ lake: Lake, command: String) -> RunRecord? {
        (try? read(lake).records)?.last { $0.succeeded && $0.command == command }
    }
}

/// Builds one run's record as the command goes, and appends it when the command ends.
public final class RunRecorder: @unchecked Sendable {
    public let command: String
    public let arguments: [String]
    public let lakeRoot: String
    public var rows: [String: Int] = [:]
    public var stages: [RunStage] = []
    public var gates: [RunGate] = []
    let startDate = Date()
    let startNanos = DispatchTime.now().uptimeNanoseconds
    private let versionsBefore: [String: Int]

    /// Starts a run: notes the time and the lake's table versions.
    public init(command: String, arguments: [String], lakeRoot: String) {
        self.command = command
        self.arguments = arguments.map(Credentials.scrub)
        self.lakeRoot = lakeRoot
        versionsBefore = RunRecorder.versions(lakeRoot)
    }

    public func stage(_ name: String, seconds: Double) { stages.append(RunStage(stage: name, seconds: seconds)) }

    static func versions(_ root: String) -> [String: Int] {
        guard let lake = try? Lake(root: root, create: false), let names = try? lake.tableNames() else { return [:] }
        var out: [String: Int] = [:]
        for n in names { if let v = try? lake.table(n).snapshot().version { out[n] = v } }
        return out
    }

    /// The finished record (outcome from `error`), appended to the lake's run log if the lake
    /// exists. An append failure is returned, not thrown: the command's own outcome stands.
    public func finish(error: Error?) -> (record: RunRecord, appendError: Error?) {
        let after = RunRecorder.versions(lakeRoot)
        var written: [String: Int] = [:]
        for (t, v) in after where versionsBefore[t] != v { written[t] = v }
        if rows.isEmpty, error == nil, let lake = try? Lake(root: lakeRoot, create: false) {
            for t in written.keys { rows[t] = try? lake.table(t).snapshot().rowCount }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - startNanos) / 1e9
        let record = RunRecord(
            id: FileIO.randomHex(8), command: command, arguments: arguments,
            start: RunRecorder.iso(startDate), end: RunRecorder.iso(Date()), seconds: seconds,
            outcome: error == nil ? RunRecord.success : RunRecord.failure,
            error: error.map { Credentials.scrub(String(describing: $0)) },
            lakeVersionsRead: versionsBefore, lakeVersionsWritten: written, rows: rows, stages: stages, gates: gates,
            user: CommitLog.user, host: CommitLog.host, pid: CommitLog.pid)
        guard let lake = try? Lake(root: lakeRoot, create: false) else { return (record, nil) }
        do {
            try RunLog.append(record, to: lake)
            return (record, nil)
        } catch {
            return (record, error)
        }
    }

    static func iso(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: d)
    }
}
