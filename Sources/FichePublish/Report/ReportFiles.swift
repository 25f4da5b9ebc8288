// Writing the report: the HTML page to one file, or each chart to its own .svg file. Files
// are private to their owner (0600, a created folder 0700) and appear whole: written to a
// temporary name beside the target, synced, then renamed over it.

import Foundation
#if canImport(Glibc)
import Glibc
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
import Darwin
private let systemWrite = Darwin.write
#endif

public enum ReportFiles {
    /// Writes `text` to `path`, replacing it atomically.
    public static func write(_ text: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let temporary = folder + "/." + url.lastPathComponent + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PublishError(.usage, "cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var failure: Error?
        let bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count && failure == nil {
            let n = bytes[done...].withUnsafeBytes { systemWrite(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                failure = PublishError(.usage, "cannot write \(temporary): \(String(cString: strerror(errno)))")
            } else {
                done += n
            }
        }
        if failure == nil && fsync(fd) != 0 { failure = PublishError(.usage, "cannot sync \(temporary): \(String(cString: strerror(errno)))") }
        close(fd)
        if failure == nil && rename(temporary, path) != 0 {
            failure = PublishError(.usage, "cannot rename \(temporary) to \(path): \(String(cString: strerror(errno)))")
        }
        if let failure {
            unlink(temporary)
            throw failure
        }
    }

    /// Writes every chart as `DIR/<chart id>.svg` (creating DIR, 0700, if needed); returns the paths.
    @discardableResult
    public static func writeSVGs(_ charts: [Chart], to directory: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard mkdir(directory, 0o700) == 0 || errno == EEXIST else {
                throw PublishError(.usage, "cannot create folder \(directory): \(String(cString: strerror(errno)))")
            }
        } else if !isDirectory.boolValue {
            throw PublishError(.usage, "\(directory) exists and is not a folder")
        }
        return try charts.map { chart in
            let path = (directory as NSString).appendingPathComponent(chart.id + ".svg")
            try write(chart.svg(standalone: true), to: path)
            return path
        }
    }
}
