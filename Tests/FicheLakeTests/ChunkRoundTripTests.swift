import Foundation
import Testing

@testable import FicheLake

/// Random columns of every type; seeded so a failure names a reproducible case.
struct ColumnGenerator {
    var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func int(_ r: ClosedRange<Int64>) -> Int64 {
        let span = UInt64(bitPattern: r.upperBound &- r.lowerBound)
        if span == .max { return Int64(bitPattern: rng.next()) }
        return r.lowerBound &+ Int64(bitPattern: rng.next() % (span + 1))
    }

    /// Value shapes that push the writer into each encoding.
    enum Shape: CaseIterable { case random, narrow, sorted, lowCardinality, extremes, constant }

    mutating func validity(_ n: Int, nullDensity: Int) -> Bitmap? {
        if nullDensity == 0 { return nil }
        var b = Bitmap()
        for _ in 0..<n { b.append(nullDensity == 100 ? false : int(0...99) >= Int64(nullDensity)) }
        return b
    }

    mutating func integers(_ n: Int, _ shape: Shape, _ lo: Int64, _ hi: Int64) -> [Int64] {
        var out: [Int64] = []
        var acc = int(lo...hi) / 2
        for i in 0..<n {
            switch shape {
            case .random: out.append(int(lo...hi))
            case .narrow: out.append(max(lo, min(hi, int(-100...100) &+ (lo / 2 + hi / 2))))
            case .sorted:
                acc = min(hi, acc &+ int(0...3))
                out.append(acc)
            case .lowCardinality: out.append([lo, hi, 0, 7, -1].map { max(lo, min(hi, $0)) }[Int(int(0...4))])
            case .extremes: out.append(i % 2 == 0 ? lo : hi)
            case .constant: out.append(lo == Int64.min ? 42 : max(lo, min(hi, 42)))
            }
        }
        return out
    }

    mutating func strings(_ n: Int, _ shape: Shape) -> StringArray {
        let samples = ["", "Gasabo", "Kicukiro", "Hôpital", "日本語テキスト", "emoji 🩻🫁", "tab\tnew\nline", "back\\slash \"q\""]
        var s = StringArray()
        for _ in 0..<n {
            switch shape {
            case .lowCardinality, .constant, .narrow:
                s.append(samples[Int(int(0...Int64(samples.count - 1)))])
            case .extremes:
                s.append(String(repeating: "x", count: Int(int(0...70_000))))
            default:
                let len = Int(int(0...40))
                var u: [UInt8] = []
                for _ in 0..<len { u.append(UInt8(int(32...126))) }
                s.append(String(decoding: u, as: UTF8.self) + samples[Int(int(0...7))])
            }
        }
        return s
    }

    mutating func column(_ type: ColumnType, _ n: Int, _ shape: Shape, nullDensity: Int) -> Column {
        let validity = self.validity(n, nullDensity: nullDensity)
        var values: ColumnValues
        switch type {
        case .bool: values = .bool((0..<n).map { _ in rng.next() & 1 == 1 })
        case .int8: values = .int8(integers(n, shape, Int64(Int8.min), Int64(Int8.max)).map { Int8($0) })
        case .int16: values = .int16(integers(n, shape, Int64(Int16.min), Int64(Int16.max)).map { Int16($0) })
        case .int32: values = .int32(integers(n, shape, Int64(Int32.min), Int64(Int32.max)).map { Int32($0) })
        case .int64: values = .int64(integers(n, shape, Int64.min, Int64.max))
        case .date: values = .date(integers(n, shape, -200_000, 200_000).map { Int32($0) })  // 1422 … 2517
        case .timestamp: values = .timestamp(integers(n, shape, -4_000_000_000_000_000, 4_000_000_000_000_000))
        case .float64:
            values = .float64((0..<n).map { i in
                shape == .extremes ? [Double.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, .nan][i % 5]
                    : Double(int(-1_000_000...1_000_000)) / 7
            })
        case .uuid:
            let few = (0..<5).map { k in UUID16(high: UInt64(k) << 60, low: ~UInt64(k)) }
            values = .uuid((0..<n).map { _ in
                shape == .lowCardinality || shape == .constant ? few[Int(rng.next() % (shape == .constant ? 1 : 5))]
                    : UUID16(high: rng.next(), low: rng.next())
            })
        case .string: values = .string(strings(n, shape))
        }
        // Canonical placeholders under nulls, as a reader returns them.
        if let validity { values = placeholders(values, validity) }
        return Column(values, validity: validity)
    }

    func placeholders(_ v: ColumnValues, _ b: Bitmap) -> ColumnValues {
        func z<T>(_ a: [T], _ zero: T) -> [T] { a.indices.map { b[$0] ? a[$0] : zero } }
        switch v {
        case .int8(let a): return .int8(z(a, 0))
        case .int16(let a): return .int16(z(a, 0))
        case .int32(let a): return .int32(z(a, 0))
        case .int64(let a): return .int64(z(a, 0))
        case .date(let a): return .date(z(a, 0))
        case .timestamp(let a): return .timestamp(z(a, 0))
        case .float64(let a): return .float64(z(a, 0))
        case .bool(let a): return .bool(z(a, false))
        case .uuid(let a): return .uuid(z(a, .zero))
        case .string(let s):
            var out = StringArray()
            for i in 0..<s.count { if b[i] { out.append(s.bytes[s.range(i)]) } else { out.appendEmpty() } }
            return .string(out)
        }
    }
}

func temporaryDirectory(_ label: String) throws -> String {
    let path = NSTemporaryDirectory() + "fiche-test-\(label)-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Suite("Chunk round trip")
struct ChunkRoundTripTests {
    static let rowCounts = [0, 1, 2, 7, 8, 9, 63, 64, 65, 127, 128, 129, 1000]

    @Test("every type × shape × null density × boundary row count reads back equal",
          arguments: ColumnType.allCases)
    func roundTrip(type: ColumnType) throws {
        let dir = try temporaryDirectory("rt-\(type)")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var gen = ColumnGenerator(seed: UInt64(type.rawValue) &* 7919)
        var encodingsSeen = Set<String>()
        var k = 0
        for n in Self.rowCounts {
            for shape in ColumnGenerator.Shape.allCases {
                if type == .string && shape == .extremes && n > 65 { continue }  // large strings: kept small in count
                for density in [0, 50, 100] {
                    let col = gen.column(type, n, shape, nullDensity: density)
                    let schema = Schema([Field("v", type), Field("row", .int64, nullable: false)])
                    let batch = Batch(schema: schema, columns: [col, Column(.int64((0..<Int64(n)).map { $0 }))], rowCount: n)
                    let path = "\(dir)/\(k).fchk"
                    k += 1
                    try ChunkWriter.write(batch, to: path)
                    let file = try ChunkFile(path: path)
                    encodingsSeen.insert(file.columns[0].encoding.description)
                    let back = try file.read()
                    let label = "\(type) n=\(n) shape=\(shape) nulls=\(density)%"
                    #expect(back.rowCount == n, "\(label)")
                    #expect(back.schema == schema, "\(label)")
                    let same = back.columns[0].sameValues(as: col)
                    #expect(same, "\(label)")
                    #expect(back.columns[0].nullCount == col.nullCount, "\(label)")
                    let rowsSame = back.columns[1] == batch.columns[1]
                    #expect(rowsSame, "\(label)")
                }
            }
        }
        if type.isInteger && type != .int8 {  // one-byte ints are never smaller than plain
            #expect(encodingsSeen.isSuperset(of: ["plain", "for", "delta", "dictionary"]), "\(type): \(encodingsSeen)")
        }
        if type == .string || type == .uuid { #expect(encodingsSeen.isSuperset(of: ["plain", "dictionary"])) }
    }

    @Test func footerStatsGiveMinAndMaxOfPresentValues() throws {
        let dir = try temporaryDirectory("stats")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var validity = Bitmap(repeating: true, count: 4)
        validity[1] = false
        let dates = Column(.date([16_000, -5, 20_000, 17_000]), validity: validity)
        let names = Column(.string(StringArray(["b", "a", "c", "b"])))
        let batch = Batch(schema: Schema([Field("d", .date), Field("s", .string)]), columns: [dates, names])
        try ChunkWriter.write(batch, to: dir + "/s.fchk")
        let f = try ChunkFile(path: dir + "/s.fchk")
        #expect(f.columns[0].stats == .integer(min: 16_000, max: 20_000))
        #expect(f.columns[0].nullCount == 1)
        #expect(f.columns[1].stats == .string(min: Array("a".utf8), max: Array("c".utf8), truncated: false))
    }

    @Test func aColumnAddedLaterReadsAsNullInOlderChunks() throws {
        let dir = try temporaryDirectory("evolve")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let old = Batch(schema: Schema([Field("id", .int32)]), columns: [Column(.int32([1, 2, 3]))])
        try ChunkWriter.write(old, to: dir + "/old.fchk")
        let newer = Schema([Field("id", .int32), Field("embedding_model", .string)])
        let back = try ChunkFile(path: dir + "/old.fchk").read(as: newer)
        #expect(back.columns[1].nullCount == 3)
        #expect(back.column("id") == old.columns[0])
    }

    @Test func aNewerFormatVersionIsNamedNotGuessed() throws {
        let dir = try temporaryDirectory("version")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/v.fchk"
        try ChunkWriter.write(Batch(schema: Schema([Field("x", .int8)]), columns: [Column(.int8([1]))]), to: path)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count - 8] = 2  // the trailer's version field
        try bytes.write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try ChunkFile(path: path)
        } throws: { error in
            (error as? LakeError)?.code == .unsupportedVersion
                && "\(error)".contains("chunk format version 2; this fiche reads version 1")
        }
    }
}
