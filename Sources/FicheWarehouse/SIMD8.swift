// Eight Int32 lanes at a time: loads and stores that handle the tail of a buffer, and the
// age-group classification used by the fact and the aggregates.

@inline(__always)
func load8(_ p: UnsafePointer<Int32>, _ i: Int, _ n: Int) -> SIMD8<Int32> {
    if i + 8 <= n { return UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Int32>.self) }
    var v = SIMD8<Int32>(repeating: 0)
    for k in 0..<(n - i) { v[k] = p[i + k] }
    return v
}

@inline(__always)
func store8(_ v: SIMD8<Int32>, _ p: UnsafeMutablePointer<Int32>, _ i: Int, _ n: Int) {
    if i + 8 <= n {
        UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD8<Int32>.self)
    } else {
        for k in 0..<(n - i) { p[i + k] = v[k] }
    }
}

/// Age → 0 … 4 as `Warehouse.ageGroups` (0-17, 18-30, 31-50, 51-70, 71+).
@inline(__always)
func ageGroupIndex(_ age: SIMD8<Int32>) -> SIMD8<Int32> {
    let zero = SIMD8<Int32>(repeating: 0)
    return zero.replacing(with: 1, where: age .>= 18) &+ zero.replacing(with: 1, where: age .>= 31)
        &+ zero.replacing(with: 1, where: age .>= 51) &+ zero.replacing(with: 1, where: age .>= 71)
}
