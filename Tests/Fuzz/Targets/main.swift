// fiche-fuzz: libFuzzer over the readers of untrusted bytes. Built only by scripts/fuzz
// (FICHE_FUZZ=1, -sanitize=fuzzer,address, scratch path .build-fuzz); never by `swift build`.
//
//   fiche-fuzz TARGET [libFuzzer flags and corpus folders]
//
// The target is the first argument; it is passed on to libFuzzer's child processes (merge,
// fork, minimize) through FICHE_FUZZ_TARGET. Every target turns any input into either a
// clean thrown error or a result it checks; anything else (a trap, a sanitizer report, a
// leak, a check that fails) is a crash libFuzzer reports and saves.

import CLibFuzzer
import Glibc

/// The fuzz targets, by name: what each feeds its input to.
let targets: [(name: String, what: String, run: (UnsafeBufferPointer<UInt8>) -> Void)] = [
    ("chunk", "chunk files (ChunkFile, checksums repaired) and column blocks (ColumnDecoder)", ChunkTarget.run),
    ("commitlog", "commit files (JSON) and transaction markers, replayed to a table snapshot", CommitLogTarget.run),
    ("csv", "CSVReader (short reads, small blocks) and PadChest header check, staging and mapping", CSVTarget.run),
    ("gzip", "GzipReader over a .gz or plain file, read in pieces of varying size", GzipTarget.run),
]

var arguments = CommandLine.arguments
var chosen = getenv("FICHE_FUZZ_TARGET").map { String(cString: $0) }
if arguments.count > 1, targets.contains(where: { $0.name == arguments[1] }) {
    chosen = arguments.remove(at: 1)
    setenv("FICHE_FUZZ_TARGET", chosen!, 1)
}
if arguments.contains("--list") {
    for t in targets { print("\(t.name)\t\(t.what)") }
    exit(0)
}
guard let name = chosen, let target = targets.first(where: { $0.name == name }) else {
    fputs("usage: fiche-fuzz TARGET [libFuzzer flags] [corpus…]; targets: \(targets.map(\.name).joined(separator: ", "))\n", stderr)
    exit(2)
}
nonisolated(unsafe) var run = target.run
FuzzScratch.setUp()

/// libFuzzer's entry. (The runtime's own `main`, linked in too, would call it; ours runs
/// instead, because SwiftPM points `main` at this file's code.)
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    run(UnsafeBufferPointer(start: data, count: size))
    return 0
}

var argc = Int32(arguments.count)
var cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
let code = cArguments.withUnsafeMutableBufferPointer { buffer -> Int32 in
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = buffer.baseAddress
    return LLVMFuzzerRunDriver(&argc, &argv) { testOneInput($0, $1) }
}
exit(code)
