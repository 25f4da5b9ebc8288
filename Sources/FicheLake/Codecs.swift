// zstd compression and CRC-32 checksums, through the system libraries.

import CZlib
import CZstd

enum Zstd {
    /// Compresses `src` at `level` into a single zstd frame that records its content size.
    static func compress(_ src: UnsafeRawBufferPointer, level: Int32) throws -> [UInt8] {
        let bound = ZSTD_compressBound(src.count)
        var out = [UInt8](repeating: 0, count: bound)
        let written = out.withUnsafeMutableBytes { dst in
            ZSTD_compress(dst.baseAddress, bound, src.baseAddress, src.count, level)
        }
        if ZSTD_isError(written) != 0 {
            throw LakeError(.io, "zstd compression failed: \(String(cString: ZSTD_getErrorName(written)))")
        }
        out.removeLast(bound - written)
        return out
    }

    /// Decompresses one frame that must hold exactly `expected` bytes. The frame header's
    /// own content size is checked against `expected` before anything is allocated.
    static func decompress(_ src: UnsafeRawBufferPointer, expected: Int) throws -> [UInt8] {
        let declared = ZSTD_getFrameContentSize(src.baseAddress, src.count)
        // ZSTD_CONTENTSIZE_UNKNOWN / _ERROR are the two largest UInt64 values.
        guard declared < UInt64.max - 1 else {
            throw LakeError(.corrupt, "not a zstd frame with a recorded size")
        }
        guard declared == UInt64(expected) else {
            throw LakeError(.corrupt, "zstd frame holds \(declared) bytes, footer says \(expected)")
        }
        if expected == 0 { return [] }
        // The header's size is only a claim: a frame of a few bytes can claim gigabytes (found
        // writing the chunk fuzz target). Its blocks' headers say how much it can really
        // produce; nothing is allocated for a claim they cannot back.
        let bound = maximumContentSize(src)
        guard bound >= UInt64(expected) else {
            throw LakeError(.corrupt, "zstd frame declares \(expected) bytes but its blocks can hold at most \(bound)")
        }
        var out = [UInt8](repeating: 0, count: expected)
        let n = out.withUnsafeMutableBytes { dst in
            ZSTD_decompress(dst.baseAddress, expected, src.baseAddress, src.count)
        }
        if ZSTD_isError(n) != 0 {
            throw LakeError(.corrupt, "zstd: \(String(cString: ZSTD_getErrorName(n)))")
        }
        guard n == expected else {
            throw LakeError(.corrupt, "zstd produced \(n) bytes, expected \(expected)")
        }
        return out
    }
}

extension Zstd {
    /// The most bytes the first frame of `src` can decompress to, from its block headers
    /// (RFC 8878 §3.1.1): a raw or RLE block gives exactly its size, a compressed block at
    /// most 128 KiB. 0 when `src` does not start with a whole zstd frame.
    static func maximumContentSize(_ src: UnsafeRawBufferPointer) -> UInt64 {
        guard src.count >= 5, src.loadUnaligned(as: UInt32.self) == UInt32(littleEndian: 0xFD2F_B528) else { return 0 }
        let descriptor = src[4]
        let singleSegment = descriptor & 0x20 != 0
        let dictionaryIDBytes = [0, 1, 2, 4][Int(descriptor & 3)]
        let contentSizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][Int(descriptor >> 6)]
        var at = 5 + (singleSegment ? 0 : 1) + dictionaryIDBytes + contentSizeBytes
        var bound: UInt64 = 0
        while at + 3 <= src.count {
            let header = Int(src[at]) | Int(src[at + 1]) << 8 | Int(src[at + 2]) << 16
            let last = header & 1 != 0, type = (header >> 1) & 3, size = header >> 3
            at += 3
            switch type {
            case 0: bound += UInt64(size); at += size  // raw
            case 1: bound += UInt64(size); at += 1  // RLE: one byte, repeated
            case 2: bound += 128 << 10; at += size  // compressed
            default: return 0  // reserved: not a valid frame
            }
            if last { return at <= src.count ? bound : 0 }
        }
        return 0
    }
}

enum Checksum {
    /// CRC-32 (zlib's polynomial) of the bytes.
    static func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt = CZlib.crc32(0, nil, 0)
        var p = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        var left = bytes.count
        while left > 0, let base = p {
            let n = min(left, 1 << 30)
            crc = CZlib.crc32(crc, base, UInt32(n))
            p = base + n
            left -= n
        }
        return UInt32(truncatingIfNeeded: crc)
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { crc32($0) } }
}

/// A zstd compression context reused across many small frames (Parquet pages), with a
/// scratch buffer that only grows: no allocation per frame once warm. One per thread.
final class ZstdContext {
    private let context: OpaquePointer
    let level: Int32
    private var scratch: [UInt8] = []

    init(level: Int32) throws {
        guard let c = ZSTD_createCCtx() else { throw LakeError(.io, "zstd: could not create a compression context") }
        context = c
        self.level = level
    }

    deinit { ZSTD_freeCCtx(context) }

    /// Compresses `src` into one frame and passes its bytes to `body` (valid only inside it).
    func compress<R>(_ src: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let bound = ZSTD_compressBound(src.count)
        if scratch.count < bound { scratch = [UInt8](repeating: 0, count: bound) }
        return try scratch.withUnsafeMutableBytes { dst in
            let n = ZSTD_compressCCtx(context, dst.baseAddress, bound, src.baseAddress, src.count, level)
            if ZSTD_isError(n) != 0 {
                throw LakeError(.io, "zstd compression failed: \(String(cString: ZSTD_getErrorName(n)))")
            }
            return try body(UnsafeRawBufferPointer(rebasing: dst[0..<n]))
        }
    }
}
