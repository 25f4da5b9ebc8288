// Rows grouped per fact row (counting sort) and run-length encoded per fact; the bridge
// tables are built from these runs.

/// Rows grouped by fact row: values of fact f are values[offsets[f] ..< offsets[f+1]],
/// in input order. Rows with fact −1 are left out.
struct FactGroups {
    var offsets: [Int32]
    var values: [Int32]
}

func groupByFact(fact: [Int32], value: [Int32], factCount n: Int) -> FactGroups {
    var offsets = [Int32](repeating: 0, count: n + 1)
    var live = 0
    for f in fact where f >= 0 {
        offsets[Int(f) + 1] += 1
        live += 1
    }
    for f in 0..<n { offsets[f + 1] += offsets[f] }
    var values = [Int32](repeating: 0, count: live)
    var next = offsets
    fact.withUnsafeBufferPointer { fa in
        value.withUnsafeBufferPointer { va in
            values.withUnsafeMutableBufferPointer { out in
                next.withUnsafeMutableBufferPointer { nx in
                    for i in 0..<fa.count {
                        let f = Int(fa[i])
                        if f < 0 { continue }
                        out[Int(nx[f])] = va[i]
                        nx[f] += 1
                    }
                }
            }
        }
    }
    return FactGroups(offsets: offsets, values: values)
}

/// Each fact's values sorted and run-length encoded by `value >> keyShift`: one run per distinct key,
/// with its smallest value, its length, and whether any value in it was odd.
struct FactRuns {
    var offsets: [Int32]
    var values: [Int32]
    var counts: [Int32]
    var anyOdd: [Bool]
}

func runs(_ groups: FactGroups, factCount n: Int, keyShift: Int32) -> FactRuns {
    var offsets = [Int32](repeating: 0, count: n + 1)
    var values = [Int32](), counts = [Int32](), anyOdd = [Bool]()
    values.reserveCapacity(groups.values.count)
    counts.reserveCapacity(groups.values.count)
    anyOdd.reserveCapacity(groups.values.count)
    var scratch = [Int32](repeating: 0, count: 64)
    for f in 0..<n {
        let lo = Int(groups.offsets[f]), hi = Int(groups.offsets[f + 1])
        let m = hi - lo
        if m > scratch.count { scratch = [Int32](repeating: 0, count: m) }
        // Insertion sort: an encounter has a handful of procedures or diagnoses.
        for j in 0..<m {
            let x = groups.values[lo + j]
            var k = j
            while k > 0 && scratch[k - 1] > x {
                scratch[k] = scratch[k - 1]
                k -= 1
            }
            scratch[k] = x
        }
        var j = 0
        while j < m {
            let k0 = scratch[j] >> keyShift
            var odd = false
            var c: Int32 = 0
            let v = scratch[j]
            while j < m && scratch[j] >> keyShift == k0 {
                if scratch[j] & 1 == 1 { odd = true }
                c += 1
                j += 1
            }
            values.append(v)
            counts.append(c)
            anyOdd.append(odd)
        }
        offsets[f + 1] = Int32(values.count)
    }
    return FactRuns(offsets: offsets, values: values, counts: counts, anyOdd: anyOdd)
}

/// values[f] repeated offsets[f+1] − offsets[f] times, for every f.
func repeatPerFact<T>(_ values: [T], _ offsets: [Int32]) -> [T] {
    let total = Int(offsets.last ?? 0)
    return [T](unsafeUninitializedCapacity: total) { out, n in
        values.withUnsafeBufferPointer { v in
            offsets.withUnsafeBufferPointer { o in
                for f in 0..<v.count {
                    for j in Int(o[f])..<Int(o[f + 1]) { (out.baseAddress! + j).initialize(to: v[f]) }
                }
            }
        }
        n = total
    }
}
