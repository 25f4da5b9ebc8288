import ArgumentParser
import FicheLake
import Foundation

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List the lake's tables: chunks, rows, sizes, compression ratio and last commit.")

    @OptionGroup var lakeOptions: LakeOptions
    @OptionGroup var output: JSONOption
    var json: Bool { output.json }

    func run() throws {
        let lake = try lakeOptions.open()
        var rows: [[String]] = []
        var objects: [[String: Any]] = []
        for name in try lake.tableNames() {
            let s = try lake.table(name).snapshot()
            let last = s.history.last
            rows.append([name, Terminal.count(s.chunks.count), Terminal.count(s.rowCount), Terminal.bytes(s.bytes),
                         Terminal.bytes(s.rawBytes), Terminal.ratio(s.rawBytes, s.bytes),
                         last.map { "v\($0.version) \($0.time.prefix(19)) \($0.operation)" } ?? "-"])
            objects.append(["table": name, "version": s.version, "chunks": s.chunks.count, "rows": s.rowCount, "bytes": s.bytes,
                            "raw_bytes": s.rawBytes, "last_commit": JSONText.orNull(last?.time)])
        }
        let out = FileOutput.standardOutput
        if json {
            out.write(JSONText.document(objects) + "\n")
        } else if rows.isEmpty {
            out.write("no tables in \(lake.root)\n")
        } else {
            out.write(Terminal.table(["table", "chunks", "rows", "compressed", "raw", "ratio", "last commit"], rows,
                                     rightAligned: [1, 2, 3, 4, 5]))
        }
        out.flush()
    }
}

/// What `dump` and `verify` point at: one chunk file, or a table's chunks.
enum DumpTarget {
    case chunk(String)
    case table(TableSnapshot)

    static func resolve(_ argument: String, lakeOptions: LakeOptions) throws -> DumpTarget {
        if argument.hasSuffix(".fchk") || (FileSystem.isFile(argument) && !FileSystem.isDirectory(argument)) {
            guard FileSystem.isFile(argument) else { throw CommandFailure("no chunk file at \(argument)") }
            return .chunk(argument)
        }
        if FileSystem.isDirectory(argument + "/_log") {
            var path = argument
            while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
            let name = path.split(separator: "/").last.map(String.init) ?? path
            let parent = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
            return .table(try Lake(root: parent.isEmpty ? "/" : parent, create: false).table(name).snapshot())
        }
        if let root = lakeRoot(argument) {
            throw CommandFailure("`\(argument)` is a whole lake (\(try root.tableNames().count) tables); name one of its tables, e.g. `fiche dump TABLE --lake \(argument)`")
        }
        let lake = try lakeOptions.open()
        guard Lake.isValidTableName(argument), try lake.tableNames().contains(argument) else {
            throw CommandFailure("`\(argument)` is neither a chunk file, a table folder, nor a table of the lake at \(lake.root)")
        }
        return .table(try lake.table(argument).snapshot())
    }

    /// The lake whose root folder `argument` is (a folder holding tables or committed
    /// transactions, not itself a table), else nil.
    static func lakeRoot(_ argument: String) -> Lake? {
        guard FileSystem.isDirectory(argument), !FileSystem.isDirectory(argument + "/_log"),
              let lake = try? Lake(root: argument, create: false) else { return nil }
        let hasTables = (try? lake.tableNames().isEmpty == false) ?? false
        return hasTables || FileSystem.isDirectory(argument + "/_txn") ? lake : nil
    }
}

struct DumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Show a chunk file or a table: format, rows, and per column its type, encoding, sizes, nulls, min and max.",
        discussion: """
            TARGET is a chunk file (.fchk), a table folder, or a table name in the lake.

            With --format table (the default) it prints the summary, then the first --rows N rows \
            as an aligned table. With csv, json or jsonl it prints rows instead: every row of the \
            target unless --rows limits them, streamed chunk by chunk, so a table of any size can \
            be piped to another tool:

              fiche dump encounters --format csv > encounters.csv
              fiche dump patients --rows 5 --columns patient_id,sex,birth_year
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, csv, json, jsonl }

    @Argument(help: "A chunk file, a table folder, or a table name.") var target: String
    @OptionGroup var lakeOptions: LakeOptions
    @Option(help: "Print this many rows (all rows for csv/json/jsonl when omitted).") var rows: Int?
    @Option(help: ArgumentHelp("Only these columns, comma-separated.", valueName: "a,b")) var columns: String?
    @Option(help: "table, csv, json or jsonl.") var format: Format = .table
    @OptionGroup var output: JSONOption
    var json: Bool { output.json }

    func validate() throws {
        if let rows, rows < 0 { throw ValidationError("--rows must be 0 or more") }
        if json && format != .table { throw ValidationError("--json prints the summary; it does not combine with --format \(format.rawValue)") }
    }

    var selected: [String]? {
        columns.map { $0.split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty } }
    }

    func run() throws {
        let target = try DumpTarget.resolve(self.target, lakeOptions: lakeOptions)
        let out = FileOutput.standardOutput
        defer { out.flush() }
        if format == .table {
            let summary = try DumpSummary(target)
            out.write(json ? summary.json() : summary.text())
            if let rows, rows > 0 {
                out.write("\n")
                try printRows(target, limit: rows, out)
            }
        } else {
            try printRows(target, limit: rows, out)
        }
    }

    /// Streams rows chunk by chunk; stops reading once `limit` rows are out.
    func printRows(_ target: DumpTarget, limit: Int?, _ out: FileOutput) throws {
        var printed = 0
        var header: [String]?
        var numeric = Set<Int>()
        var tableRows: [[String]] = []
        var first = true
        if format == .json { out.write("[") }
        func emit(_ batch: Batch) {
            if header == nil {
                header = batch.schema.names
                numeric = Set(batch.schema.fields.indices.filter {
                    [.int8, .int16, .int32, .int64, .float64].contains(batch.schema.fields[$0].type)
                })
                if format == .csv { out.write(batch.schema.names.map(\.csvQuoted).joined(separator: ",") + "\n") }
            }
            let n = min(batch.rowCount, limit.map { $0 - printed } ?? Int.max)
            for r in 0..<n {
                switch format {
                case .table:
                    tableRows.append(batch.columns.map { $0.text(at: r).map(DumpCommand.displayCell) ?? "NULL" })
                case .csv:
                    out.write(batch.columns.map { $0.text(at: r)?.csvQuoted ?? "" }.joined(separator: ",") + "\n")
                case .json, .jsonl:
                    let fields = zip(batch.schema.names, batch.columns).map { $0.jsonQuoted + ":" + jsonCell($1, r) }
                    let object = "{" + fields.joined(separator: ",") + "}"
                    if format == .jsonl { out.write(object + "\n") } else { out.write((first ? "\n" : ",\n") + object) }
                    first = false
                }
            }
            printed += n
        }
        switch target {
        case .chunk(let path):
            emit(try ChunkFile(path: path).read(columns: selected))
        case .table(let snap):
            guard snap.schema != nil else { break }
            struct Done: Error {}
            do {
                try snap.forEachChunk(columns: selected) { batch in
                    emit(batch)
                    if let limit, printed >= limit { throw Done() }
                }
            } catch is Done {}
        }
        if format == .json { out.write(printed == 0 ? "]\n" : "\n]\n") }
        if format == .table, let header {
            out.write(Terminal.table(header, tableRows, rightAligned: numeric))
        }
    }

    /// One line per cell, long text cut, so the table stays readable.
    static func displayCell(_ s: String) -> String {
        var t = s.map { $0 == "\n" || $0 == "\t" || $0 == "\r" ? " " : $0 }
        if t.count > 60 { t = Array(t.prefix(59)) + ["…"] }
        return String(t)
    }
}

/// The per-column summary of a chunk or of a whole table (its chunks' footers combined).
struct DumpSummary {
    struct ColumnLine {
        var field: Field
        var encodings: [String] = []
        var compressed = 0
        var raw = 0
        var nulls = 0
        var min: String?
        var max: String?
        var minStats: ColumnStats = .none
    }

    var title: String
    var version: UInt16
    var rows = 0
    var chunks = 0
    var bytes = 0
    var columns: [ColumnLine] = []

    init(_ target: DumpTarget) throws {
        switch target {
        case .chunk(let path):
            title = "chunk \(path)"
            version = ChunkFormat.version
            let f = try ChunkFile(path: path)
            try add(f, schema: f.schema)
        case .table(let snap):
            title = "table \(snap.table.name) (\(snap.table.directory), version \(snap.version))"
            version = ChunkFormat.version
            for c in snap.chunks { try add(try ChunkFile(path: snap.path(of: c)), schema: snap.schema ?? Schema([])) }
            if columns.isEmpty, let schema = snap.schema { columns = schema.fields.map { ColumnLine(field: $0) } }
        }
    }

    mutating func add(_ f: ChunkFile, schema: Schema) throws {
        if columns.isEmpty { columns = schema.fields.map { ColumnLine(field: $0) } }
        rows += f.rowCount
        chunks += 1
        bytes += f.fileSize
        version = f.formatVersion
        for (i, line) in columns.enumerated() {
            guard let info = f.columns.first(where: { $0.field.name == line.field.name }) else {
                columns[i].nulls += f.rowCount  // a column added after this chunk was written
                continue
            }
            var l = line
            if !l.encodings.contains(info.encoding.description) { l.encodings.append(info.encoding.description) }
            l.compressed += info.compressedSize
            l.raw += info.uncompressedSize
            l.nulls += info.nullCount
            if let (lo, hi) = info.stats.text(for: info.field.type) {
                l.min = Self.smaller(l.min, lo, info.field.type, keepFirst: true)
                l.max = Self.smaller(l.max, hi, info.field.type, keepFirst: false)
            }
            columns[i] = l
        }
    }

    /// Merges min (keepFirst) or max across chunks, comparing numbers as numbers.
    static func smaller(_ current: String?, _ new: String, _ type: ColumnType, keepFirst: Bool) -> String {
        guard let current else { return new }
        let less: Bool
        switch type {
        case .int8, .int16, .int32, .int64: less = (Int64(new) ?? 0) < (Int64(current) ?? 0)
        case .float64: less = (Double(new) ?? 0) < (Double(current) ?? 0)
        default: less = new < current  // dates and timestamps sort as text
        }
        return keepFirst ? (less ? new : current) : (less ? current : new)
    }

    func text() -> String {
        var out = "\(title)\nformat version \(version), \(Terminal.count(rows)) rows"
        if chunks != 1 { out += " in \(chunks) chunks" }
        out += ", \(Terminal.bytes(bytes))\n\n"
        let lines = columns.map { c in
            [c.field.name, c.field.type.description + (c.field.nullable ? "" : " not null"),
             c.encodings.joined(separator: ","), Terminal.bytes(c.compressed), Terminal.bytes(c.raw),
             Terminal.ratio(c.raw, c.compressed), Terminal.count(c.nulls),
             c.min.map(DumpCommand.displayCell) ?? "", c.max.map(DumpCommand.displayCell) ?? ""]
        }
        return out + Terminal.table(["column", "type", "encoding", "compressed", "raw", "ratio", "nulls", "min", "max"],
                                    lines, rightAligned: [3, 4, 5, 6])
    }

    func json() -> String {
        let cols = columns.map { c -> [String: Any] in
            ["name": c.field.name, "type": c.field.type.description, "nullable": c.field.nullable, "encodings": c.encodings,
             "compressed_bytes": c.compressed, "raw_bytes": c.raw, "nulls": c.nulls,
             "min": JSONText.orNull(c.min), "max": JSONText.orNull(c.max)]
        }
        let object: [String: Any] = ["target": title, "format_version": version, "rows": rows, "chunks": chunks, "bytes": bytes,
                                     "columns": cols]
        return JSONText.document(object) + "\n"
    }
}

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every checksum and decode every value; exit 1 naming the first problem.",
        discussion: "TARGET is a chunk file, a table folder, a table name or a lake folder; without it, the whole lake.")

    @Argument(help: "A chunk file, a table folder, a table name or a lake folder (default: the whole lake).") var target: String?
    @OptionGroup var lakeOptions: LakeOptions
    @Flag(help: "Report every problem, not just the first.") var all = false
    @OptionGroup var output: JSONOption
    var json: Bool { output.json }

    func run() throws {
        var report = VerifyReport()
        if let target, let lake = DumpTarget.lakeRoot(target) {
            report = try LakeVerifier.verify(lake: lake, all: all)
        } else if let target {
            switch try DumpTarget.resolve(target, lakeOptions: lakeOptions) {
            case .chunk(let path):
                do {
                    report.rows = try LakeVerifier.verifyChunk(path)
                    report.chunks = 1
                } catch let e as LakeError {
                    report.problems.append(VerifyProblem(table: nil, error: e))
                }
            case .table(let snap):
                report = try LakeVerifier.verify(lake: snap.table.lake, tables: [snap.table.name], all: all)
            }
        } else {
            report = try LakeVerifier.verify(lake: try lakeOptions.open(), all: all)
        }
        let out = FileOutput.standardOutput
        if json {
            let object: [String: Any] = ["ok": report.problems.isEmpty, "tables": report.tables, "chunks": report.chunks,
                                         "rows": report.rows, "problems": report.problems.map(\.description)]
            out.write(JSONText.document(object) + "\n")
        } else if report.problems.isEmpty {
            out.write("ok: \(report.tables > 0 ? "\(report.tables) tables, " : "")\(Terminal.count(report.chunks)) chunks, \(Terminal.count(report.rows)) rows verified\n")
        }
        out.flush()
        if !report.problems.isEmpty {
            if !json { for p in report.problems { FileOutput.standardError.write("fiche: verify: \(p)\n") } }
            throw ExitCode.failure
        }
    }
}

struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Show a table's commit log: the audit trail of who wrote what, when, and how many rows.")

    @Argument(help: "A table name.") var table: String
    @OptionGroup var lakeOptions: LakeOptions
    @OptionGroup var output: JSONOption
    var json: Bool { output.json }

    func run() throws {
        let lake = try lakeOptions.open()
        let snap = try lake.table(table).snapshot()
        guard snap.version > 0 else { throw CommandFailure("table `\(table)` has no commits in \(lake.root)") }
        let out = FileOutput.standardOutput
        if json {
            out.write(JSONText.document(snap.history.map { c -> [String: Any] in
                ["version": c.version, "time": c.time, "user": c.user, "host": c.host, "operation": c.operation, "source": c.source,
                 "rows_added": c.rowsAdded, "rows_removed": c.rowsRemoved, "chunks_added": c.add.count, "chunks_removed": c.remove.count]
            }) + "\n")
        } else {
            out.write(Terminal.table(["version", "time (UTC)", "who", "operation", "rows +", "rows -", "source"],
                                     snap.history.map { c in
                                         [String(c.version), String(c.time.prefix(19)).replacingOccurrences(of: "T", with: " "),
                                          c.user + "@" + c.host, c.operation, Terminal.count(c.rowsAdded),
                                          Terminal.count(c.rowsRemoved), c.source]
                                     }, rightAligned: [0, 4, 5]))
        }
        out.flush()
    }
}

struct VacuumCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vacuum",
        abstract: "Delete files no commit names: leftovers of crashed or aborted writers and replaced chunks.",
        discussion: """
            Waits for active writers of each table. Readers take no lock, so a chunk that a \
            commit replaced (by a rebuild of the warehouse tables, say) is kept until that commit \
            is older than --retain: a `fiche rebuild` or `fiche dump` that opened the table \
            before the replace can still read it. Leftovers of crashed writers go at once.

            Examples:
              fiche vacuum --dry-run       what would go, and what is kept for readers
              fiche vacuum --retain 0      all that no commit names, now (when no reader runs)
            """)

    @OptionGroup var lakeOptions: LakeOptions
    @Flag(help: "Only list what would be removed.") var dryRun = false
    @Option(help: ArgumentHelp("Keep replaced chunks for this long after the commit that replaced them: 0, 90s, 30m, 12h or 7d.",
                               valueName: "duration"))
    var retain = "1h"
    @OptionGroup var output: JSONOption
    var json: Bool { output.json }

    func validate() throws {
        if Self.seconds(retain) == nil {
            throw ValidationError("--retain takes a number with s, m, h or d (or 0), got \(retain)")
        }
    }

    /// "90s", "30m", "12h", "7d" or a bare number of seconds.
    static func seconds(_ text: String) -> TimeInterval? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        var digits = Substring(text), unit = 1.0
        if let last = text.last, let u = units[last] { digits = text.dropLast(); unit = u }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let n = Double(digits), n >= 0, n.isFinite else { return nil }
        return n * unit
    }

    func run() throws {
        let report = try lakeOptions.open().vacuum(dryRun: dryRun, retain: Self.seconds(retain) ?? 3600)
        let out = FileOutput.standardOutput
        if json {
            let object: [String: Any] = ["dry_run": dryRun, "files": report.removedFiles, "bytes": report.removedBytes,
                                         "retained_files": report.retainedFiles, "retained_bytes": report.retainedBytes]
            out.write(JSONText.document(object) + "\n")
        } else {
            for f in report.removedFiles { out.write((dryRun ? "would remove " : "removed ") + f + "\n") }
            out.write("\(dryRun ? "would free" : "freed") \(Terminal.bytes(report.removedBytes)) in \(report.removedFiles.count) files\n")
            if !report.retainedFiles.isEmpty {
                out.write("kept \(Terminal.bytes(report.retainedBytes)) in \(report.retainedFiles.count) replaced files younger than --retain \(retain)\n")
            }
        }
        out.flush()
    }
}

/// Commits the same rows to two tables in a loop; the crash-safety tests SIGKILL it.
struct StressWriteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stress-write", abstract: "Write test transactions in a loop (for crash tests).",
        shouldDisplay: false)

    @OptionGroup var lakeOptions: LakeOptions
    @Option var commits = 1000
    @Option var rows = 1000

    func run() throws {
        let lake = try lakeOptions.openOrCreate()
        let schema = Schema([Field("id", .int64, nullable: false), Field("payload", .string)])
        let start = Int64(try lake.table("stress_a").snapshot().rowCount)  // ids continue across runs
        for c in 0..<commits {
            let t = LakeTransaction(lake: lake, source: "stress-write", operation: "append", chunkRows: max(1, rows / 3))
            let ids = (0..<Int64(rows)).map { start + Int64(c) * Int64(rows) + $0 }
            let batch = Batch(schema: schema, columns: [Column(.int64(ids)),
                                                        Column(.string(StringArray(ids.map { "row \($0)" })))])
            try t.append(batch, to: "stress_a")
            try t.append(batch, to: "stress_b")
            try t.commit()
        }
    }
}

enum FileSystem {
    static func isDirectory(_ p: String) -> Bool {
        var dir: ObjCBool = false
        return FileManager.default.fileExists(atPath: p, isDirectory: &dir) && dir.boolValue
    }

    static func isFile(_ p: String) -> Bool {
        var dir: ObjCBool = false
        return FileManager.default.fileExists(atPath: p, isDirectory: &dir) && !dir.boolValue
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
