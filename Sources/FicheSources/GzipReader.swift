// Reads a file that is either gzip-compressed or plain, in large blocks, through zlib's
// gzread (which passes plain files through unchanged).

import CZlib
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A streaming byte reader over a plain or `.gz` file. Memory is bounded by zlib's
/// internal buffer plus whatever the caller reads into.
public final class GzipReader {
    public let path: String
    private var handle: gzFile?
    /// Bytes of the file on disk (compressed size for `.gz`), for progress reporting.
    public let fileSize: Int64

    public init(path: String, bufferSize: Int = 1 << 20) throws {
        self.path = path
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw SourceError(.input, "cannot open: \(String(cString: strerror(errno)))", file: path)
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw SourceError(.input, "not a regular file", file: path)
        }
        fileSize = Int64(st.st_size)
        guard let h = gzopen(path, "rb") else {
            throw SourceError(.input, "cannot open: \(String(cString: strerror(errno)))", file: path)
        }
        gzbuffer(h, UInt32(bufferSize))
        handle = h
        expectedSize = Self.gzipTrailerSize(path: path, fileSize: fileSize) ?? fileSize
    }

    /// The uncompressed size the gzip trailer records (mod 2^32; a hint for sizing
    /// buffers), or the file size for a plain file.
    public private(set) var expectedSize: Int64 = 0

    private static func gzipTrailerSize(path: String, fileSize: Int64) -> Int64? {
        guard fileSize >= 18 else { return nil }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { closeDescriptor(fd) }
        var head = [UInt8](repeating: 0, count: 2)
        var tail = [UInt8](repeating: 0, count: 4)
        guard pread(fd, &head, 2, 0) == 2, head == [0x1F, 0x8B], pread(fd, &tail, 4, off_t(fileSize - 4)) == 4 else {
            return nil
        }
        let size = Int64(tail[0]) | Int64(tail[1]) << 8 | Int64(tail[2]) << 16 | Int64(tail[3]) << 24
        return size >= fileSize ? size : nil
    }

    deinit { close() }

    public func close() {
        if let h = handle { gzclose_r(h) }
        handle = nil
    }

    /// True when the file is gzip-compressed (false for a plain file read through).
    public var isCompressed: Bool {
        guard let h = handle else { return false }
        return gzdirect(h) == 0
    }

    /// Offset reached in the file on disk (compressed bytes consumed for `.gz`).
    public var compressedOffset: Int64 {
        guard let h = handle else { return fileSize }
        return Int64(gzoffset(h))
    }

    /// Reads up to `count` bytes into `buffer`; returns the number read, 0 at end of file.
    public func read(into buffer: UnsafeMutableRawPointer, count: Int) throws -> Int {
        guard let h = handle else { return 0 }
        var total = 0
        while total < count {
            let want = UInt32(min(count - total, 1 << 30))
            let n = gzread(h, buffer + total, want)
            if n < 0 {
                var errnum: Int32 = 0
                let msg = gzerror(h, &errnum).map { String(cString: $0) } ?? "read error"
                throw SourceError(.input, "read failed: \(msg)", file: path)
            }
            if n == 0 { break }
            total += Int(n)
        }
        if total < count, let h2 = handle {
            // gzread returns short at end of input; a truncated gzip stream is an error.
            var errnum: Int32 = 0
            _ = gzerror(h2, &errnum)
            if errnum != Z_OK && errnum != Z_BUF_ERROR {
                throw SourceError(.input, "read failed: zlib error \(errnum)", file: path)
            }
            if errnum == Z_BUF_ERROR {
                throw SourceError(.input, "unexpected end of compressed data (truncated .gz file)", file: path)
            }
        }
        return total
    }
}

private func closeDescriptor(_ fd: Int32) { _ = close(fd) }

#if canImport(Foundation)
import Foundation

/// Decompresses a `GzipReader` on a background thread, a few 1 MiB chunks ahead of the
/// consumer, so inflating and parsing overlap on two cores. Memory: `depth` chunks.
public final class PrefetchingGzipReader: CSVByteSource, @unchecked Sendable {
    private let cond = NSCondition()
    private var ready: [[UInt8]] = []
    private var finished = false  // the producer will add nothing more
    private var stopped = false  // the producer thread has exited
    private var cancelled = false
    private var failure: Error?
    private var offset: Int64 = 0  // compressed bytes consumed by the producer
    private var current: [UInt8] = []
    private var position = 0
    public let fileSize: Int64
    public let expectedSize: Int64

    public init(_ source: GzipReader, chunkSize: Int = 1 << 20, depth: Int = 4) {
        precondition(chunkSize > 0 && depth > 0, "chunkSize and depth must be positive")
        fileSize = source.fileSize
        expectedSize = source.expectedSize
        let thread = Thread { [self] in self.produce(source, chunkSize: chunkSize, depth: depth) }
        thread.name = "gzip prefetch"
        thread.start()
    }

    /// Compressed bytes consumed so far, for progress.
    public var compressedOffset: Int64 {
        cond.lock()
        defer { cond.unlock() }
        return offset
    }

    private func produce(_ source: GzipReader, chunkSize: Int, depth: Int) {
        while true {
            cond.lock()
            while ready.count >= depth && !cancelled { cond.wait() }
            let stop = cancelled
            cond.unlock()
            if stop { break }
            var chunk = [UInt8](repeating: 0, count: chunkSize)
            let n: Int
            do {
                n = try chunk.withUnsafeMutableBytes { raw in
                    guard let base = raw.baseAddress else { return 0 }
                    return try source.read(into: base, count: chunkSize)
                }
            } catch {
                cond.lock()
                failure = error
                cond.unlock()
                break
            }
            chunk.removeSubrange(n...)
            cond.lock()
            offset = source.compressedOffset
            if n > 0 { ready.append(chunk) }
            cond.broadcast()
            cond.unlock()
            if n < chunkSize { break }
        }
        source.close()
        cond.lock()
        finished = true
        stopped = true
        cond.broadcast()
        cond.unlock()
    }

    public func read(into buffer: UnsafeMutableRawPointer, count: Int) throws -> Int {
        var done = 0
        while done < count {
            if position == current.count {
                cond.lock()
                while ready.isEmpty && !finished { cond.wait() }
                if ready.isEmpty {
                    let error = failure
                    cond.unlock()
                    if let error { throw error }
                    return done
                }
                current = ready.removeFirst()
                position = 0
                cond.broadcast()
                cond.unlock()
            }
            let n = min(count - done, current.count - position)
            current.withUnsafeBytes { src in
                if let base = src.baseAddress { (buffer + done).copyMemory(from: base + position, byteCount: n) }
            }
            position += n
            done += n
        }
        return done
    }

    /// Stops the producer and waits for it to close the file.
    public func close() {
        cond.lock()
        cancelled = true
        cond.broadcast()
        while !stopped { cond.wait() }
        cond.unlock()
    }
}
#endif
