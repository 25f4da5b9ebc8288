import Foundation
import Testing

@testable import FicheLake

@Suite("Corrupt and truncated chunk files")
struct CorruptionTests {
    /// A small chunk exercising several encodings and nulls.
    static func sample() -> Batch {
        var gen = ColumnGenerator(seed: 99)
        let n = 40
        let schema = Schema([
            Field("patient_id", .uuid), Field("encounter_date", .date), Field("district", .string),
            Field("visits", .int32), Field("weight", .float64), Field("note", .string), Field("flag", .bool),
        ])
        return Batch(schema: schema, columns: [
            gen.column(.uuid, n, .random, nullDensity: 0),
            gen.column(.date, n, .sorted, nullDensity: 50),
            gen.column(.string, n, .lowCardinality, nullDensity: 0),
            gen.column(.int32, n, .narrow, nullDensity: 0),
            gen.column(.float64, n, .random, nullDensity: 50),
            gen.column(.string, n, .random, nullDensity: 50),
            gen.column(.bool, n, .random, nullDensity: 0),
        ])
    }

    /// Reads everything; the result is either an error or exactly the original values.
    static func readAll(_ path: String) -> Result<[Column], Error> {
        Result { try ChunkFile(path: path).read().columns }
    }

    @Test("flipping any single byte is an error or changes nothing")
    func everyByteFlip() throws {
        let dir = try temporaryDirectory("flip")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let batch = Self.sample()
        let good = dir + "/good.fchk"
        try ChunkWriter.write(batch, to: good)
        let original = try Data(contentsOf: URL(fileURLWithPath: good))
        var detected = 0
        for i in 0..<original.count {
            var bytes = original
            bytes[i] ^= 0xFF
            let path = dir + "/flip.fchk"
            try? FileManager.default.removeItem(atPath: path)
            try bytes.write(to: URL(fileURLWithPath: path))
            switch Self.readAll(path) {
            case .failure(let e):
                #expect(e is LakeError, "byte \(i): \(e)")
                detected += 1
            case .success(let cols):
                for (c, o) in zip(cols, batch.columns) {
                    let same = c.sameValues(as: o)
                    #expect(same, "byte \(i) silently changed data")
                }
            }
        }
        // Only the trailer's two reserved bytes may be flipped without effect.
        #expect(detected >= original.count - 2, "detected \(detected) of \(original.count)")
    }

    @Test("truncating at every length is an error")
    func everyTruncation() throws {
        let dir = try temporaryDirectory("trunc")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let good = dir + "/good.fchk"
        try ChunkWriter.write(Self.sample(), to: good)
        let original = try Data(contentsOf: URL(fileURLWithPath: good))
        for n in 0..<original.count {
            let path = dir + "/t.fchk"
            try? FileManager.default.removeItem(atPath: path)
            try original.prefix(n).write(to: URL(fileURLWithPath: path))
            guard case .failure(let e) = Self.readAll(path) else {
                Issue.record("truncated at \(n) of \(original.count) bytes read without error")
                continue
            }
            #expect((e as? LakeError)?.file == path, "length \(n): \(e)")
        }
    }

    @Test func errorsNameFileColumnAndOffset() throws {
        let dir = try temporaryDirectory("msg")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/c.fchk"
        try ChunkWriter.write(Self.sample(), to: path)
        let info = try ChunkFile(path: path).columns[2]
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[info.offset + 3] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: path))
        let file = try ChunkFile(path: path)  // the footer is intact
        #expect {
            _ = try file.readColumn(at: 2)
        } throws: { e in
            let text = "\(e)"
            return text.contains(path) && text.contains("column `district`") && text.contains("byte \(info.offset)")
                && text.contains("block checksum mismatch")
        }
    }
}
