// Files Fiche writes for other programs (exports): private folders, and small files that
// appear whole or not at all.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum OutputFiles {
    /// Creates `path` and any missing parents, each private to its owner (0700).
    public static func makeDirectories(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            try FileIO.makeDirectory(current)
        }
    }

    /// True when `path` does not exist or is an empty folder.
    public static func isMissingOrEmpty(_ path: String) throws -> Bool {
        guard FileIO.exists(path) else { return true }
        guard FileIO.isDirectory(path) else { return false }
        return try FileIO.list(path).isEmpty
    }

    public static func isDirectory(_ path: String) -> Bool { FileIO.isDirectory(path) }

    /// Writes `bytes` to a temporary dot-file beside `path`, fsyncs it, renames it onto
    /// `path` and fsyncs the folder (0600).
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let tmp = folder + "/." + name + ".tmp-" + FileIO.randomHex(6)
        let fd = try FileIO.createExclusive(tmp)
        do {
            try FileIO.closeAfter(fd, path: tmp) {
                try FileIO.writeAll(fd, bytes, path: tmp)
                try FileIO.sync(fd, path: tmp)
            }
            if rename(tmp, path) != 0 { throw FileIO.errorText("rename to \(path)", tmp) }
        } catch {
            _ = unlink(tmp)
            throw error
        }
        try FileIO.syncDirectory(folder)
    }
}
