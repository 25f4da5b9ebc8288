// FNV-1a, 64-bit (Fowler–Noll–Vo): the one byte hash Fiche derives stable things from —
// PadChest's entity ids, the label index, managed schema names, publish-record digests.
// Its values are pinned by golden tests (ids in the lake, schema names in databases): never
// change the constants or the order of operations.

/// FNV-1a 64 over bytes. Inlinable so callers in other modules (the PadChest id hot path)
/// get a specialised loop, not a generic call per byte.
public enum FNV1a64 {
    /// The standard 64-bit offset basis.
    @inlinable public static var offsetBasis: UInt64 { 0xCBF2_9CE4_8422_2325 }
    /// The standard 64-bit FNV prime.
    @inlinable public static var prime: UInt64 { 0x0000_0100_0000_01B3 }

    /// Folds `bytes` into the running hash `h`.
    @inlinable @inline(__always)
    public static func combine(_ h: inout UInt64, _ bytes: some Sequence<UInt8>) {
        for b in bytes {
            h ^= UInt64(b)
            h = h &* prime
        }
    }

    /// The hash of `bytes`, starting from `basis` (the standard offset basis unless a caller
    /// needs a second, independent hash).
    @inlinable
    public static func hash(_ bytes: some Sequence<UInt8>, basis: UInt64 = offsetBasis) -> UInt64 {
        var h = basis
        combine(&h, bytes)
        return h
    }
}
