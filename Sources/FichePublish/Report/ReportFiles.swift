// Writing the report: the HTML page to one file, or each chart to its own .svg file, through
// FicheLake's OutputFiles: private to their owner (0600, created folders 0700), and each file
// appears whole (written beside the target, synced, renamed over it).

import FicheLake
import Foundation

public enum ReportFiles {
    /// Writes `text` to `path`, replacing it atomically.
    public static func write(_ text: String, to path: String) throws {
        try OutputFiles.writeAtomically(Array(text.utf8), to: path)
    }

    /// Writes every chart as `DIR/<chart id>.svg` (creating DIR if needed); returns the paths.
    @discardableResult
    public static func writeSVGs(_ charts: [Chart], to directory: String) throws -> [String] {
        if FileManager.default.fileExists(atPath: directory) && !OutputFiles.isDirectory(directory) {
            throw PublishError(.usage, "\(directory) exists and is not a folder")
        }
        try OutputFiles.makeDirectories(directory)
        return try charts.map { chart in
            let path = (directory as NSString).appendingPathComponent(chart.id + ".svg")
            try write(chart.svg(standalone: true), to: path)
            return path
        }
    }
}
