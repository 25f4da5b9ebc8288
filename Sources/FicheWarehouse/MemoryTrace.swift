// With FICHE_TRACE_RSS set, each build stage prints the time and the process's current and peak
// resident memory to stderr: how the issue's "memory grows with dimensions" is checked by hand.

import Dispatch
import Foundation

private let traceStart = DispatchTime.now().uptimeNanoseconds

func traceMemory(_ stage: String) {
    guard ProcessInfo.processInfo.environment["FICHE_TRACE_RSS"] != nil,
          let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return }
    let lines = status.split(separator: "\n").filter { $0.hasPrefix("VmRSS") || $0.hasPrefix("VmHWM") }
    let text = lines.map { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ") }.joined(separator: ", ")
    let start = traceStart
    let seconds = Double(DispatchTime.now().uptimeNanoseconds &- start) / 1e9
    FileHandle.standardError.write(Data("fiche: \(String(format: "%8.3f", seconds)) s after \(stage): \(text)\n".utf8))
}
