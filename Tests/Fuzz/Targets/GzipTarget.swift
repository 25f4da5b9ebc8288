// The gzip reader: the input (after one byte that picks the read size) is written to a file
// and read by `GzipReader` in pieces of that size, and again in one large read, and again
// through `PrefetchingGzipReader` (its background thread, small chunks). All three must give
// the same bytes and agree on whether the stream is broken; a broken stream is a clean
// SourceError naming the file. At most 64 MiB are read (a gzip bomb is not a finding).

import FicheSources
import Glibc

enum GzipTarget {
    static let limit = 64 << 20

    static func run(_ input: UnsafeBufferPointer<UInt8>) {
        guard let flags = input.first else { return }
        let piece = [1, 5, 512, 4093, 65536, 1 << 17, 1 << 18, 3][Int(flags & 7)]
        let path = FuzzScratch.write(input[1...], to: "input.gz")

        let small = readAll(path, piece: piece)
        let large = readAll(path, piece: 1 << 18)
        agree(small, large, "pieces of \(piece) and one read")
        if large.bytes.count < limit {
            agree(readPrefetching(path), large, "prefetching and one read")
        }
    }

    /// Two reads of one file: both fail, or both give the same bytes. (A read that fails
    /// returns nothing of its last call, so failed reads agree only up to the shorter.)
    static func agree(_ a: (bytes: [UInt8], error: SourceError?), _ b: (bytes: [UInt8], error: SourceError?), _ what: String) {
        check((a.error == nil) == (b.error == nil),
              "\(what) disagree on errors: \(String(describing: a.error)) / \(String(describing: b.error))")
        if a.error == nil {
            check(a.bytes == b.bytes, "\(what) read \(a.bytes.count) and \(b.bytes.count) bytes")
        } else {
            let n = min(a.bytes.count, b.bytes.count)
            check(a.bytes[..<n] == b.bytes[..<n], "\(what) read different bytes before failing")
        }
    }

    static func readAll(_ path: String, piece: Int) -> (bytes: [UInt8], error: SourceError?) {
        var out: [UInt8] = []
        do {
            let reader = try GzipReader(path: path, bufferSize: 1 << 16)
            defer { reader.close() }
            check(reader.fileSize == Int64(FuzzScratch.size(path)), "file size")
            var buffer = [UInt8](repeating: 0, count: piece)
            while out.count < limit {
                let n = try buffer.withUnsafeMutableBytes { try reader.read(into: $0.baseAddress!, count: min(piece, limit - out.count)) }
                check(n >= 0 && n <= piece, "read returned \(n) for \(piece)")
                if n == 0 { break }
                out += buffer[0..<n]
            }
            _ = reader.isCompressed
            _ = reader.compressedOffset
            _ = reader.expectedSize
        } catch let e as SourceError {
            check(e.file == path, "error does not name the file: \(e)")
            return (out, e)
        } catch {
            check(false, "GzipReader threw something else than a SourceError: \(error)")
        }
        return (out, nil)
    }

    static func readPrefetching(_ path: String) -> (bytes: [UInt8], error: SourceError?) {
        var out: [UInt8] = []
        do {
            let reader = PrefetchingGzipReader(try GzipReader(path: path, bufferSize: 1 << 16), chunkSize: 4096, depth: 2)
            defer { reader.close() }
            var buffer = [UInt8](repeating: 0, count: 10_000)
            while true {
                let n = try buffer.withUnsafeMutableBytes { try reader.read(into: $0.baseAddress!, count: $0.count) }
                if n == 0 { break }
                out += buffer[0..<n]
            }
        } catch let e as SourceError {
            return (out, e)
        } catch {
            check(false, "PrefetchingGzipReader threw something else than a SourceError: \(error)")
        }
        return (out, nil)
    }
}
