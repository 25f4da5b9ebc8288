// Removing what no commit names: chunk files of aborted or crashed writers, chunks that
// later commits removed, and temporary files. Waits for active writers of each table.
//
// Readers take no lock: a reader reads the chunks of the snapshot it opened, and a chunk a
// later commit replaced stays on disk for the retention period after that commit, so a
// reader that started before the replace finishes unharmed (as Delta Lake's VACUUM RETAIN).

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct VacuumReport: Sendable {
    public var removedFiles: [String] = []
    public var removedBytes = 0
    /// Replaced chunks kept because their replacing commit is younger than the retention.
    public var retainedFiles: [String] = []
    public var retainedBytes = 0
}

extension Lake {
    /// Deletes files that no visible commit of a table references (with `dryRun`, only lists
    /// them). A chunk that a commit replaced is deleted only once that commit is older than
    /// `retain` seconds (readers that opened a snapshot before it may still read the chunk, so
    /// `retain` must outlast the longest reader: a rebuild or a publish, say);
    /// files no commit ever named are leftovers of crashed or aborted writers and go at once.
    /// Takes each table's writer lock exclusively, so it never races a writer.
    public func vacuum(tables: [String]? = nil, dryRun: Bool = false, retain: TimeInterval = 0,
                       now: Date = Date()) throws -> VacuumReport {
        var report = VacuumReport()
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for name in try tables ?? tableNames() {
            let table = try self.table(name)
            guard let lock = try FileIO.lock(table.logDirectory + "/.writers", exclusive: true) else { continue }
            defer { _ = close(lock) }
            let snapshot = try table.snapshot()
            let live = Set(snapshot.chunks.map(\.file))
            // When each replaced chunk was replaced: the commit's time, else (a time that does
            // not parse) its file's, else now.
            var replacedAt: [String: Date] = [:]
            for commit in snapshot.history where !commit.remove.isEmpty {
                let file = table.logDirectory + "/" + CommitLog.fileName(commit.version)
                let when = iso.date(from: commit.time)
                    ?? (try? FileManager.default.attributesOfItem(atPath: file)[.modificationDate] as? Date) ?? now
                for chunk in commit.remove { replacedAt[chunk] = when }
            }
            var doomed: [String] = []
            for f in try FileIO.list(table.directory) where f.hasSuffix(".fchk") && !live.contains(f) {
                let path = table.directory + "/" + f
                if let when = replacedAt[f], now.timeIntervalSince(when) < retain {
                    report.retainedFiles.append(path)
                    report.retainedBytes += Self.sizeOf(path)
                    continue
                }
                doomed.append(path)
            }
            for f in try FileIO.list(table.logDirectory) where f.hasPrefix(".tmp-") {
                doomed.append(table.logDirectory + "/" + f)
            }
            for path in doomed {
                report.removedBytes += Self.sizeOf(path)
                report.removedFiles.append(path)
                if !dryRun { try FileIO.remove(path) }
            }
        }
        for f in try FileIO.list(transactionFolder) where f.hasPrefix(".tmp-") {
            report.removedFiles.append(transactionFolder + "/" + f)
            if !dryRun { try FileIO.remove(transactionFolder + "/" + f) }
        }
        return report
    }

    private static func sizeOf(_ path: String) -> Int {
        guard let fd = try? FileIO.openRead(path) else { return 0 }
        defer { _ = close(fd) }
        return (try? FileIO.fileSize(fd, path: path)) ?? 0
    }
}
