// Inputs the fuzzer (scripts/fuzz, Tests/Fuzz) found to crash, hang or read back wrong, each
// kept under Fixtures/fuzz/ (see its README) and fed here the way the fuzz target fed it.

import Foundation
import FicheLake
import Testing

@testable import FicheSources

@Suite struct FuzzRegressionTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/fuzz").path

    static func input(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)))
    }

    /// A 60 KB line handed to the reader one byte per read took a minute under the fuzzer:
    /// the reader parsed after every short read, rescanning the unfinished record each time.
    /// Eight of them (480 KB) would take hours that way; read once, they take milliseconds.
    @Test(.timeLimit(.minutes(1))) func aLongLineReadByteByByteIsReadInLinearTime() throws {
        let line = Array(try Self.input("csv-long-line-short-reads").dropFirst())  // the target's flags byte
        let text = Array(repeating: line, count: 8).joined()
        let bytewise = try parseAll(Array(text), splits: [1], blockSize: 16)
        let whole = try parseAll(Array(text))
        #expect(bytewise.records == whole.records)
        #expect(whole.records.count == 8)
        #expect(whole.records.allSatisfy { $0.fields == [String(repeating: "a", count: 60_000)] && $0.issue == nil })
    }
}
