// Little-endian integers to and from bytes. The reader checks every length against
// what is left before it touches memory, and copies into locals (no alignment assumed).

/// Appends little-endian values to a growing byte buffer.
struct ByteWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    var count: Int { bytes.count }

    mutating func append<T: FixedWidthInteger>(_ v: T) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(_ b: [UInt8]) { bytes.append(contentsOf: b) }
    mutating func append(_ b: ArraySlice<UInt8>) { bytes.append(contentsOf: b) }
    mutating func append(_ b: UnsafeRawBufferPointer) { bytes.append(contentsOf: b) }

    /// A string as u16 length + UTF-8 bytes (names; truncated at 65,535 bytes).
    mutating func appendShortString(_ s: String) {
        let u = Array(s.utf8.prefix(Int(UInt16.max)))
        append(UInt16(u.count))
        append(u)
    }

    /// Appends `count` values of a fixed-width integer array, little-endian.
    mutating func appendArray<T: FixedWidthInteger>(_ values: UnsafeBufferPointer<T>) {
        #if _endian(little)
        bytes.append(contentsOf: UnsafeRawBufferPointer(values))
        #else
        for v in values { append(v) }
        #endif
    }
}

/// Reads little-endian values from a byte range with bounds checks; a short read throws
/// `LakeError.corrupt` naming the absolute offset where it was expected.
struct ByteReader {
    let base: UnsafeRawBufferPointer
    /// Absolute file offset of `base[0]`, for messages.
    let origin: Int
    let what: String
    private(set) var position: Int = 0

    init(_ base: UnsafeRawBufferPointer, origin: Int = 0, what: String) {
        self.base = base
        self.origin = origin
        self.what = what
    }

    var remaining: Int { base.count - position }
    var absolutePosition: Int { origin + position }

    func need(_ n: Int, _ thing: @autoclosure () -> String) throws {
        guard n >= 0, n <= remaining else {
            throw LakeError(.corrupt, "expected \(n) bytes for \(thing()) in \(what), only \(remaining) left",
                            offset: origin + position)
        }
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ thing: @autoclosure () -> String) throws -> T {
        try need(MemoryLayout<T>.size, thing())
        var v: T = 0
        withUnsafeMutableBytes(of: &v) { dst in
            dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: base[position..<position + MemoryLayout<T>.size]))
        }
        position += MemoryLayout<T>.size
        return T(littleEndian: v)
    }

    mutating func readBytes(_ n: Int, _ thing: @autoclosure () -> String) throws -> UnsafeRawBufferPointer {
        try need(n, thing())
        let r = UnsafeRawBufferPointer(rebasing: base[position..<position + n])
        position += n
        return r
    }

    mutating func readShortString(_ thing: @autoclosure () -> String) throws -> String {
        let n = Int(try read(UInt16.self, thing()))
        let raw = try readBytes(n, thing())
        return String(decoding: raw, as: UTF8.self)
    }

    /// Reads `count` little-endian values of T into a new array.
    mutating func readArray<T: FixedWidthInteger>(_: T.Type, count: Int, _ thing: @autoclosure () -> String) throws -> [T] {
        let (total, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<T>.size)
        guard !overflow, count >= 0 else {
            throw LakeError(.corrupt, "impossible value count \(count) for \(thing())", offset: origin + position)
        }
        let raw = try readBytes(total, thing())
        return [T](unsafeUninitializedCapacity: count) { dst, n in
            UnsafeMutableRawBufferPointer(dst).copyMemory(from: raw)
            #if !_endian(little)
            for i in 0..<count { dst[i] = T(littleEndian: dst[i]) }
            #endif
            n = count
        }
    }
}
