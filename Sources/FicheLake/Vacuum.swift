// Removing what no commit names: chunk files of aborted or crashed writers, chunks that
// later commits removed, and temporary files. Waits for active writers of each table.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct VacuumReport: Sendable {
    public var removedFiles: [String] = []
    public var removedBytes = 0
}

extension Lake {
    /// Deletes files that no visible commit of a table references (with `dryRun`, only lists
    /// them). Takes each table's writer lock exclusively, so it never races a writer.
    public func vacuum(tables: [String]? = nil, dryRun: Bool = false) throws -> VacuumReport {
        var report = VacuumReport()
        for name in try tables ?? tableNames() {
            let table = try self.table(name)
            guard let lock = try FileIO.lock(table.logDirectory + "/.writers", exclusive: true) else { continue }
            defer { _ = close(lock) }
            let live = Set(try table.snapshot().chunks.map(\.file))
            var doomed: [String] = []
            for f in try FileIO.list(table.directory) where f.hasSuffix(".fchk") && !live.contains(f) {
                doomed.append(table.directory + "/" + f)
            }
            for f in try FileIO.list(table.logDirectory) where f.hasPrefix(".tmp-") {
                doomed.append(table.logDirectory + "/" + f)
            }
            for path in doomed {
                if let fd = try? FileIO.openRead(path) {
                    report.removedBytes += (try? FileIO.fileSize(fd, path: path)) ?? 0
                    _ = close(fd)
                }
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
}
