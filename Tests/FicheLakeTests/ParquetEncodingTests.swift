import Foundation
import Testing

@testable import FicheLake

/// The Thrift compact protocol and the RLE/bit-packed hybrid against bytes worked out by
/// hand from the specs (apache/thrift doc/specs/thrift-compact-protocol.md, apache/parquet-format
/// Encodings.md), and the hybrid against a naive decoder over boundary lengths.
@Suite("Parquet encodings")
struct ParquetEncodingTests {
    func thrift(_ body: (inout ThriftCompactWriter) -> Void) -> [UInt8] {
        var w = ThriftCompactWriter()
        w.writeStruct(body)
        return w.bytes
    }

    @Test func varintIsTheSpecsExample() {
        var w = ThriftCompactWriter()
        w.appendVarint(50399)
        #expect(w.bytes == [0xDF, 0x89, 0x03])
        #expect(ThriftCompactWriter.zigzag(0) == 0 && ThriftCompactWriter.zigzag(-1) == 1
                && ThriftCompactWriter.zigzag(1) == 2 && ThriftCompactWriter.zigzag(-2) == 3)
        #expect(ThriftCompactWriter.zigzag(Int64.min) == UInt64.max)
    }

    @Test func shortFieldHeadersCarryTheIdDelta() {
        // field 1 i32 = 2: header 0001_0101, zigzag(2) = 4; stop
        #expect(thrift { $0.field(1, i32: 2) } == [0x15, 0x04, 0x00])
        // bools live in the header: 1 true, 2 false
        #expect(thrift { $0.field(1, bool: true); $0.field(2, bool: false) } == [0x11, 0x12, 0x00])
        // i8 is one raw byte
        #expect(thrift { $0.field(1, i8: -1) } == [0x13, 0xFF, 0x00])
        // binary: delta 3, type 8, varint length, bytes
        #expect(thrift { $0.field(1, i32: 0); $0.field(4, string: "ab") } == [0x15, 0x00, 0x38, 0x02, 0x61, 0x62, 0x00])
    }

    @Test func aDeltaPast15UsesTheLongForm() {
        // field 1 i32 -1 → 0x15 0x01; field 20 (delta 19): type byte 0x06, zigzag(20) = 40,
        // then zigzag(300) = 600 = 0xD8 0x04
        #expect(thrift { $0.field(1, i32: -1); $0.field(20, i64: 300) } == [0x15, 0x01, 0x06, 0x28, 0xD8, 0x04, 0x00])
    }

    @Test func listsAndNestedStructs() {
        // list<i32> [1, 2, 3] as field 2: header 0x29, list header 0x35 (size 3, type 5), zigzags
        #expect(thrift { $0.field(2, list: .i32, count: 3) { l in for v: Int32 in [1, 2, 3] { l.element(i32: v) } } }
                == [0x29, 0x35, 0x02, 0x04, 0x06, 0x00])
        // 15 elements: long form 0xF5 then varint 15
        let long = thrift { $0.field(1, list: .i32, count: 15) { l in for _ in 0..<15 { l.element(i32: 0) } } }
        #expect(Array(long.prefix(3)) == [0x19, 0xF5, 0x0F] && long.count == 3 + 15 + 1)
        // a struct field restores the outer field id: {1: {1: 7}, 2: 1}
        #expect(thrift { w in
            w.field(1, struct: { $0.field(1, i32: 7) })
            w.field(2, i32: 1)
        } == [0x1C, 0x15, 0x0E, 0x00, 0x15, 0x02, 0x00])
    }

    @Test func dataPageHeader() {
        let h = ParquetPageHeader(kind: .data(numValues: 3, encoding: .plain), uncompressedSize: 10, compressedSize: 12)
        #expect(h.encoded() == [0x15, 0x00, 0x15, 0x14, 0x15, 0x18,
                                0x2C, 0x15, 0x06, 0x15, 0x00, 0x15, 0x06, 0x15, 0x06, 0x00,
                                0x00])
    }

    @Test func timestampLogicalType() {
        var w = ThriftCompactWriter()
        w.writeStruct { ParquetLogicalType.timestampMicrosUTC.encode(&$0) }
        // field 8 struct {1: true, 2: struct {2: struct {}}}
        #expect(w.bytes == [0x8C, 0x11, 0x1C, 0x2C, 0x00, 0x00, 0x00, 0x00])
    }

    // MARK: RLE / bit-packed hybrid

    func hybrid(_ values: [UInt32], width: Int) -> [UInt8] {
        var out: [UInt8] = []
        values.withUnsafeBufferPointer { RLEHybridEncoder.encode($0, bitWidth: width, into: &out) }
        return out
    }

    @Test func bitPackingIsTheSpecsExample() {
        // 0…7 at width 3: one group, header varint(1 << 1 | 1), bytes 10001000 11000110 11111010
        #expect(hybrid([0, 1, 2, 3, 4, 5, 6, 7], width: 3) == [0x03, 0x88, 0xC6, 0xFA])
    }

    @Test func runsAndPadding() {
        #expect(hybrid(Array(repeating: 5, count: 10), width: 3) == [0x14, 0x05])
        #expect(hybrid(Array(repeating: 300, count: 100), width: 9) == [0xC8, 0x01, 0x2C, 0x01])
        #expect(hybrid([1, 2, 3], width: 2) == [0x03, 0x39, 0x00])
        #expect(hybrid(Array(repeating: 7, count: 8) + [1, 2], width: 3) == [0x10, 0x07, 0x03, 0x11, 0x00, 0x00])
        #expect(hybrid([], width: 1) == [])
    }

    func levels(_ bitmap: [UInt8], _ count: Int) -> [UInt8] {
        var out: [UInt8] = []
        bitmap.withUnsafeBufferPointer { RLEHybridEncoder.encodeLevels(bitmap: $0, count: count, into: &out) }
        return out
    }

    @Test func levelsFromABitmap() {
        #expect(levels([0xFF, 0xFF, 0x0F], 20) == [0x20, 0x01, 0x03, 0x0F])
        #expect(levels([0xA5, 0x00], 16) == [0x05, 0xA5, 0x00])
        #expect(levels([0xFF, 0x07], 11) == [0x03, 0xFF, 0x03, 0x07])
    }

    /// A naive decoder of the hybrid, the reference the encoder is held to.
    func decode(_ bytes: [UInt8], width: Int, count: Int) -> [UInt32]? {
        var out: [UInt32] = []
        var i = 0
        func varint() -> UInt64? {
            var v: UInt64 = 0, shift: UInt64 = 0
            while i < bytes.count {
                let b = bytes[i]
                i += 1
                v |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return v }
                shift += 7
            }
            return nil
        }
        while out.count < count {
            guard let h = varint() else { return nil }
            if h & 1 == 1 {
                let n = Int(h >> 1) * 8
                var bit = 0
                for _ in 0..<n {
                    var v: UInt32 = 0
                    for b in 0..<width {
                        let at = i * 8 + bit + b
                        guard at / 8 < bytes.count else { return nil }
                        if bytes[at / 8] & (1 << UInt8(at % 8)) != 0 { v |= 1 << UInt32(b) }
                    }
                    bit += width
                    out.append(v)
                }
                i += n * width / 8
            } else {
                var v: UInt32 = 0
                for k in 0..<(width + 7) / 8 {
                    guard i < bytes.count else { return nil }
                    v |= UInt32(bytes[i]) << UInt32(8 * k)
                    i += 1
                }
                out.append(contentsOf: repeatElement(v, count: Int(h >> 1)))
            }
        }
        return i == bytes.count ? Array(out.prefix(count)) : nil
    }

    @Test(arguments: [0, 1, 2, 7, 8, 9, 63, 64, 65, 127, 128, 129, 1000])
    func hybridRoundTripsThroughANaiveDecoder(count: Int) {
        var rng = SplitMix64(seed: UInt64(count) &+ 17)
        for width in [1, 2, 3, 7, 8, 13, 16, 31, 32] {
            for shape in ["random", "runs", "constant"] {
                let limit = width == 32 ? UInt64(UInt32.max) + 1 : UInt64(1) << UInt64(width)
                var values: [UInt32] = []
                while values.count < count {
                    let v = UInt32(rng.next() % limit)
                    let n = shape == "random" ? 1 : shape == "runs" ? Int(rng.next() % 20) + 1 : count
                    values.append(contentsOf: repeatElement(v, count: min(n, count - values.count)))
                }
                let back = decode(hybrid(values, width: width), width: width, count: count)
                #expect(back == values, "count \(count), width \(width), \(shape)")
            }
        }
    }

    @Test(arguments: [0, 1, 2, 7, 8, 9, 63, 64, 65, 127, 128, 129])
    func levelsRoundTripAtEveryNullDensity(count: Int) {
        var rng = SplitMix64(seed: UInt64(count) &+ 99)
        for density in [0, 50, 100] {
            var bitmap = Bitmap()
            for _ in 0..<count { bitmap.append(Int(rng.next() % 100) >= density) }
            let expected = (0..<count).map { UInt32(bitmap[$0] ? 1 : 0) }
            #expect(decode(levels(bitmap.bytes, count), width: 1, count: count) == expected, "count \(count), \(density)% null")
        }
    }
}
