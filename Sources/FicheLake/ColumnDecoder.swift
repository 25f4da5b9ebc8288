// The column decoder: from the bytes of a column block, read from a file and so untrusted,
// to a column. Every length, offset and dictionary index is checked against what was read
// before it is used; a violation is a LakeError naming what was expected and found.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum ColumnDecoder {
    /// Decodes one column block. `reader` spans exactly the uncompressed block.
    static func decode(_ reader: inout ByteReader, type: ColumnType, encoding: ColumnEncoding,
                       hasValidity: Bool, rows n: Int) throws -> Column {
        var validity: Bitmap?
        if hasValidity {
            let raw = try reader.readBytes((n + 7) / 8, "validity bitmap")
            validity = Bitmap(bytes: Array(raw), count: n)
        }
        func expectPlain() throws {
            guard encoding == .plain else {
                throw LakeError(.corrupt, "encoding \(encoding) is not valid for a \(type) column", offset: reader.absolutePosition)
            }
        }
        var values: ColumnValues
        switch type {
        case .bool:
            try expectPlain()
            let raw = try reader.readBytes((n + 7) / 8, "bool values")
            let bits = Bitmap(bytes: Array(raw), count: n)
            values = .bool((0..<n).map { bits[$0] })
        case .int8: values = .int8(try decodeIntegers(&reader, encoding, n))
        case .int16: values = .int16(try decodeIntegers(&reader, encoding, n))
        case .int32: values = .int32(try decodeIntegers(&reader, encoding, n))
        case .int64: values = .int64(try decodeIntegers(&reader, encoding, n))
        case .date: values = .date(try decodeIntegers(&reader, encoding, n))
        case .timestamp: values = .timestamp(try decodeIntegers(&reader, encoding, n))
        case .float64:
            try expectPlain()
            let bits = try reader.readArray(UInt64.self, count: n, "float64 values")
            values = .float64(bits.map { Double(bitPattern: $0) })
        case .uuid where encoding == .dictionary:
            values = .uuid(try decodeUUIDDictionary(&reader, n))
        case .uuid:
            try expectPlain()
            let raw = try reader.readBytes(n * 16, "uuid values")
            var out = [UUID16]()
            out.reserveCapacity(n)
            for i in 0..<n {
                let hi = raw.loadUnaligned(fromByteOffset: 16 * i, as: UInt64.self)
                let lo = raw.loadUnaligned(fromByteOffset: 16 * i + 8, as: UInt64.self)
                out.append(UUID16(high: UInt64(bigEndian: hi), low: UInt64(bigEndian: lo)))
            }
            values = .uuid(out)
        case .string:
            values = .string(try decodeStrings(&reader, encoding, n))
        }
        guard reader.remaining == 0 else {
            throw LakeError(.corrupt, "\(reader.remaining) unexpected bytes after the values", offset: reader.absolutePosition)
        }
        if let validity, type != .string {
            zeroNulls(&values, validity)
        }
        return Column(values, validity: validity)
    }

    static func zeroNulls(_ values: inout ColumnValues, _ validity: Bitmap) {
        func clear<T>(_ a: inout [T], _ zero: T) {
            for i in 0..<a.count where !validity[i] { a[i] = zero }
        }
        switch values {
        case .int8(var a): clear(&a, 0); values = .int8(a)
        case .int16(var a): clear(&a, 0); values = .int16(a)
        case .int32(var a): clear(&a, 0); values = .int32(a)
        case .int64(var a): clear(&a, 0); values = .int64(a)
        case .date(var a): clear(&a, 0); values = .date(a)
        case .timestamp(var a): clear(&a, 0); values = .timestamp(a)
        default: break
        }
    }

    static func decodeIntegers<T: FixedWidthInteger & SignedInteger>(
        _ r: inout ByteReader, _ encoding: ColumnEncoding, _ n: Int
    ) throws -> [T] {
        switch encoding {
        case .plain:
            return try r.readArray(T.self, count: n, "\(T.self) values")
        case .frameOfReference:
            let base = try r.read(Int64.self, "frame-of-reference base")
            let width = Int(try r.read(UInt8.self, "frame-of-reference width"))
            let raw = try r.readBytes(try packedSize(n, width, &r), "packed values")
            return [T](unsafeUninitializedCapacity: n) { out, count in
                for i in 0..<n { out[i] = T(truncatingIfNeeded: base &+ Int64(bitPattern: unpack(raw, i, width))) }
                count = n
            }
        case .delta:
            guard n > 0 else { return [] }
            let first = try r.read(Int64.self, "delta first value")
            let base = try r.read(Int64.self, "delta base")
            let width = Int(try r.read(UInt8.self, "delta width"))
            let raw = try r.readBytes(try packedSize(n - 1, width, &r), "packed deltas")
            return [T](unsafeUninitializedCapacity: n) { out, count in
                var x = first
                out[0] = T(truncatingIfNeeded: x)
                for i in 1..<n {
                    x = x &+ base &+ Int64(bitPattern: unpack(raw, i - 1, width))
                    out[i] = T(truncatingIfNeeded: x)
                }
                count = n
            }
        case .dictionary:
            let k = Int(try r.read(UInt32.self, "dictionary size"))
            let dict = try r.readArray(Int64.self, count: k, "dictionary values")
            let width = Int(try r.read(UInt8.self, "index width"))
            guard width == 1 else {
                throw LakeError(.corrupt, "integer dictionary index width \(width), expected 1", offset: r.absolutePosition)
            }
            let idx = try r.readBytes(n, "dictionary indices")
            var out = [T]()
            out.reserveCapacity(n)
            for i in 0..<n {
                let j = Int(idx[i])
                guard j < k else {
                    throw LakeError(.corrupt, "dictionary index \(j) at row \(i) out of \(k) entries", offset: r.absolutePosition - n + i)
                }
                out.append(T(truncatingIfNeeded: dict[j]))
            }
            return out
        }
    }

    static func decodeUUIDDictionary(_ r: inout ByteReader, _ n: Int) throws -> [UUID16] {
        let k = Int(try r.read(UInt32.self, "dictionary size"))
        guard k <= max(n, 1) else {
            throw LakeError(.corrupt, "dictionary of \(k) entries for \(n) rows", offset: r.absolutePosition - 4)
        }
        let raw = try r.readBytes(k * 16, "dictionary values")
        var dict = [UUID16]()
        dict.reserveCapacity(k)
        for i in 0..<k {
            dict.append(UUID16(high: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 16 * i, as: UInt64.self)),
                               low: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 16 * i + 8, as: UInt64.self))))
        }
        let width = Int(try r.read(UInt8.self, "index width"))
        guard width == 1 || width == 2 || width == 4 else {
            throw LakeError(.corrupt, "uuid dictionary index width \(width), expected 1, 2 or 4", offset: r.absolutePosition - 1)
        }
        let idx = try r.readBytes(n * width, "dictionary indices")
        var out = [UUID16](repeating: .zero, count: n)
        for i in 0..<n {
            let j = Int(unpack(idx, i, width))
            guard j < k else {
                throw LakeError(.corrupt, "dictionary index \(j) at row \(i) out of \(k) entries", offset: r.absolutePosition - idx.count + i * width)
            }
            out[i] = dict[j]
        }
        return out
    }

    static func packedSize(_ n: Int, _ width: Int, _ r: inout ByteReader) throws -> Int {
        guard width == 1 || width == 2 || width == 4 || width == 8 else {
            throw LakeError(.corrupt, "packed width \(width), expected 1, 2, 4 or 8", offset: r.absolutePosition - 1)
        }
        return n * width
    }

    @inline(__always)
    static func unpack(_ raw: UnsafeRawBufferPointer, _ i: Int, _ width: Int) -> UInt64 {
        switch width {
        case 1: UInt64(raw[i])
        case 2: UInt64(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
        case 4: UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
        default: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))
        }
    }

    static func decodeStrings(_ r: inout ByteReader, _ encoding: ColumnEncoding, _ n: Int) throws -> StringArray {
        switch encoding {
        case .plain:
            let lengths = try r.readArray(UInt32.self, count: n, "string lengths")
            var total = 0
            for l in lengths { total += Int(l) }
            let raw = try r.readBytes(total, "string bytes")
            guard total <= Int(Int32.max) else {
                throw LakeError(.corrupt, "string bytes \(total) exceed a chunk's limit", offset: r.absolutePosition)
            }
            var offsets = [Int32](repeating: 0, count: n + 1)
            var acc: Int32 = 0
            for i in 0..<n { acc &+= Int32(truncatingIfNeeded: lengths[i]); offsets[i + 1] = acc }
            return StringArray(offsets: offsets, bytes: Array(raw))
        case .dictionary:
            let k = Int(try r.read(UInt32.self, "dictionary size"))
            guard k <= dictionaryLimit else {
                throw LakeError(.corrupt, "dictionary of \(k) entries exceeds \(dictionaryLimit)", offset: r.absolutePosition - 4)
            }
            let lengths = try r.readArray(UInt32.self, count: k, "dictionary lengths")
            var starts = [Int](repeating: 0, count: k + 1)
            for i in 0..<k { starts[i + 1] = starts[i] + Int(lengths[i]) }
            let dictBytes = try r.readBytes(starts[k], "dictionary bytes")
            let width = Int(try r.read(UInt8.self, "index width"))
            guard width == 1 || width == 2 else {
                throw LakeError(.corrupt, "string dictionary index width \(width), expected 1 or 2", offset: r.absolutePosition - 1)
            }
            let idx = try r.readBytes(n * width, "dictionary indices")
            var total = 0
            var indices = [Int](repeating: 0, count: n)
            for i in 0..<n {
                let j = width == 1 ? Int(idx[i]) : Int(UInt16(littleEndian: idx.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                guard j < k else {
                    throw LakeError(.corrupt, "dictionary index \(j) at row \(i) out of \(k) entries", offset: r.absolutePosition - idx.count + i * width)
                }
                indices[i] = j
                total += starts[j + 1] - starts[j]
            }
            guard total <= Int(Int32.max) else {
                throw LakeError(.corrupt, "string bytes \(total) exceed a chunk's limit", offset: r.absolutePosition)
            }
            var offsets = [Int32](repeating: 0, count: n + 1)
            var bytes = [UInt8](repeating: 0, count: total)
            bytes.withUnsafeMutableBytes { dst in
                var at = 0
                for (i, j) in indices.enumerated() {
                    let len = starts[j + 1] - starts[j]
                    if len > 0 { (dst.baseAddress! + at).copyMemory(from: dictBytes.baseAddress! + starts[j], byteCount: len) }
                    at += len
                    offsets[i + 1] = Int32(truncatingIfNeeded: at)
                }
            }
            return StringArray(offsets: offsets, bytes: bytes)
        default:
            throw LakeError(.corrupt, "encoding \(encoding) is not valid for a string column", offset: r.absolutePosition)
        }
    }
}
