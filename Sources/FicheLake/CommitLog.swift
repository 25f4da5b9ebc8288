// The append-only commit log of a lake table. Each commit is one JSON file
// `_log/<20-digit version>.json`, created exclusively; a table's state is the replay of
// its visible commits. A commit that belongs to a multi-table transaction is visible only
// once the transaction's marker `<lake>/_txn/<id>` exists. The log is the audit trail.

import Foundation

/// One file a commit adds.
public struct ChunkEntry: Codable, Sendable, Equatable {
    public var file: String
    public var rows: Int
    public var bytes: Int
    public var rawBytes: Int
    /// Integer-column min/max (e.g. dates), for chunk pruning without opening the file.
    public var ranges: [String: [Int64]]?

    enum CodingKeys: String, CodingKey {
        case file, rows, bytes
        case rawBytes = "raw_bytes"
        case ranges
    }
}

public struct FieldRecord: Codable, Sendable, Equatable {
    public var name: String
    public var type: String
    public var nullable: Bool
}

/// One commit of one table.
public struct Commit: Codable, Sendable, Equatable {
    public var version: Int
    public var table: String
    public var operation: String
    public var source: String
    public var user: String
    public var host: String
    public var pid: Int32
    /// ISO 8601, UTC.
    public var time: String
    public var transaction: String?
    public var schema: [FieldRecord]
    public var add: [ChunkEntry]
    public var remove: [String]
    public var rowsAdded: Int
    public var rowsRemoved: Int

    enum CodingKeys: String, CodingKey {
        case version, table, operation, source, user, host, pid, time, transaction, schema, add, remove
        case rowsAdded = "rows_added"
        case rowsRemoved = "rows_removed"
    }

    public func decodedSchema() throws -> Schema {
        Schema(try schema.map { r in
            guard let t = ColumnType(name: r.type) else {
                throw LakeError(.corrupt, "commit \(version) names unknown column type `\(r.type)`", column: r.name)
            }
            return Field(r.name, t, nullable: r.nullable)
        })
    }
}

extension Schema {
    var records: [FieldRecord] { fields.map { FieldRecord(name: $0.name, type: $0.type.description, nullable: $0.nullable) } }
}

enum CommitLog {
    static let folder = "_log"

    static func fileName(_ version: Int) -> String {
        let s = String(version)
        return String(repeating: "0", count: max(0, 20 - s.count)) + s + ".json"
    }

    static func version(ofFile name: String) -> Int? {
        guard name.hasSuffix(".json"), name.count == 25 else { return nil }
        return Int(name.dropLast(5))
    }

    /// Every commit file in version order, visible or not, with the highest version seen.
    static func readAll(tableDir: String) throws -> [Commit] {
        let dir = tableDir + "/" + folder
        var commits: [Commit] = []
        for name in try FileIO.list(dir) {
            guard let v = version(ofFile: name) else { continue }
            let path = dir + "/" + name
            commits.append(try decode(try FileIO.readFile(path), version: v, path: path))
        }
        return commits
    }

    /// Decodes and checks the bytes of commit file `path`, whose name says `version`.
    static func decode(_ data: [UInt8], version v: Int, path: String) throws -> Commit {
        let c: Commit
        do {
            c = try JSONDecoder().decode(Commit.self, from: Data(data))
        } catch {
            throw LakeError(.corrupt, "commit log entry is not valid JSON: \(error)", file: path)
        }
        guard c.version == v else {
            throw LakeError(.corrupt, "file holds commit \(c.version), its name says \(v)", file: path)
        }
        // Its schema's types too, here, so that the error names this file.
        do {
            _ = try c.decodedSchema()
        } catch let e as LakeError {
            throw LakeError(e.code, e.message, file: path, column: e.column)
        }
        // Numbers a snapshot sums (so no table total can overflow) and names it opens (so
        // none leads out of the table's folder). A chunk of Int.max rows made
        // `TableSnapshot.rowCount` trap (found writing the commit-log fuzz target).
        for a in c.add {
            guard isChunkName(a.file) else {
                throw LakeError(.corrupt, "commit \(v) adds `\(a.file)`, which is not a file name", file: path)
            }
            guard (0...ChunkFormat.maxRows).contains(a.rows) else {
                throw LakeError(.corrupt, "commit \(v) gives \(a.file) \(a.rows) rows; a chunk has 0 to \(ChunkFormat.maxRows)", file: path)
            }
            guard (0...maxChunkBytes).contains(a.bytes), (0...maxChunkBytes).contains(a.rawBytes) else {
                throw LakeError(.corrupt, "commit \(v) gives \(a.file) \(a.bytes) bytes (\(a.rawBytes) raw); a chunk has 0 to \(maxChunkBytes)", file: path)
            }
        }
        if let r = c.remove.first(where: { !isChunkName($0) }) {
            throw LakeError(.corrupt, "commit \(v) removes `\(r)`, which is not a file name", file: path)
        }
        return c
    }

    /// More bytes than any chunk file can have (its string columns hold at most 2 GiB each).
    static let maxChunkBytes = 1 << 40

    /// A file directly in the table's folder: not empty, no `/`, not `.` or `..`, no NUL.
    static func isChunkName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.utf8.contains(UInt8(ascii: "/")) && !name.utf8.contains(0)
    }

    static func encode(_ c: Commit) throws -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        return Array(try e.encode(c)) + [10]
    }

    static func now() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date())
    }

    static var user: String {
        ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.userName
    }

    static var host: String { ProcessInfo.processInfo.hostName }
    static var pid: Int32 { ProcessInfo.processInfo.processIdentifier }
}
