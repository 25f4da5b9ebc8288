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


/// One result (or error) slot per work item, written by whichever worker ran the item through
/// a raw pointer (each slot by exactly one worker), read after the workers are done.
final class TaskSlots<T>: @unchecked Sendable {
    private let values: UnsafeMutablePointer<T?>
    private let errors: UnsafeMutablePointer<(any Error)?>
    let count: Int

    init(_ count: Int) {
        self.count = count
        values = .allocate(capacity: max(1, count))
        values.initialize(repeating: nil, count: max(1, count))
        errors = .allocate(capacity: max(1, count))
        errors.initialize(repeating: nil, count: max(1, count))
    }

    deinit {
        values.deinitialize(count: max(1, count))
        values.deallocate()
        errors.deinitialize(count: max(1, count))
        errors.deallocate()
    }

    func set(_ k: Int, _ value: T) { values[k] = value }
    func fail(_ k: Int, _ error: any Error) { errors[k] = error }

    /// Moves the value out of slot k.
    func take(_ k: Int) -> T? {
        let v = values[k]
        values[k] = nil
        return v
    }

    /// The first error any item raised.
    func firstError() -> (any Error)? {
        for k in 0..<count { if let e = errors[k] { return e } }
        return nil
    }
}
