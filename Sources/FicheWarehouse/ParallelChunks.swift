// Splitting a loop over both cores: contiguous ranges, one per worker, run with
// DispatchQueue.concurrentPerform. Small inputs stay on the calling thread.

import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// A raw pointer that may cross into a worker: each worker writes a disjoint part.
@usableFromInline
struct SharedPointer<T>: @unchecked Sendable {
    @usableFromInline let base: UnsafeMutablePointer<T>
    @usableFromInline init(_ base: UnsafeMutablePointer<T>) { self.base = base }
    @inline(__always) @usableFromInline subscript(i: Int) -> T {
        get { base[i] }
        nonmutating set { base[i] = newValue }
    }
}

/// A read-only view of a buffer that may cross into workers.
@usableFromInline
struct SharedBuffer<T>: @unchecked Sendable {
    @usableFromInline let base: UnsafePointer<T>?
    @usableFromInline let count: Int
    @usableFromInline init(_ b: UnsafeBufferPointer<T>) {
        base = b.baseAddress
        count = b.count
    }
    @inline(__always) @usableFromInline subscript(i: Int) -> T { base.unsafelyUnwrapped[i] }
    @usableFromInline var buffer: UnsafeBufferPointer<T> { UnsafeBufferPointer(start: base, count: count) }
}

enum Workers {
    /// Workers to use: the machine's cores, at most 8.
    static let count: Int = {
        #if canImport(Glibc)
        let n = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #else
        let n = 2
        #endif
        return max(1, min(8, n))
    }()

    /// Ranges covering 0..<n, one per worker, or one range when n is small.
    static func ranges(_ n: Int, minPerWorker: Int = 1 << 15) -> [Range<Int>] {
        let w = max(1, min(count, n / max(1, minPerWorker)))
        var out = [Range<Int>]()
        out.reserveCapacity(w)
        for i in 0..<w { out.append(n * i / w..<n * (i + 1) / w) }
        return out
    }

    /// Runs `body(worker)` for worker in 0..<n, concurrently when n > 1.
    static func run(_ n: Int, _ body: @Sendable (Int) -> Void) {
        if n <= 1 {
            body(0)
        } else {
            DispatchQueue.concurrentPerform(iterations: n, execute: body)
        }
    }
}

