// Slicing and concatenating batches (used when splitting writes into chunks and when
// reading a whole table).

extension ColumnValues {
    func slice(_ r: Range<Int>) -> ColumnValues {
        switch self {
        case .bool(let v): .bool(Array(v[r]))
        case .int8(let v): .int8(Array(v[r]))
        case .int16(let v): .int16(Array(v[r]))
        case .int32(let v): .int32(Array(v[r]))
        case .int64(let v): .int64(Array(v[r]))
        case .float64(let v): .float64(Array(v[r]))
        case .date(let v): .date(Array(v[r]))
        case .timestamp(let v): .timestamp(Array(v[r]))
        case .uuid(let v): .uuid(Array(v[r]))
        case .string(let s):
            .string(StringArray(offsets: s.offsets[r.lowerBound...r.upperBound].map { $0 - s.offsets[r.lowerBound] },
                                bytes: Array(s.bytes[Int(s.offsets[r.lowerBound])..<Int(s.offsets[r.upperBound])])))
        }
    }

    static func concatenate(_ parts: [ColumnValues], type: ColumnType) -> ColumnValues {
        func join<T>(_ pick: (ColumnValues) -> [T]?) -> [T] {
            var out: [T] = []
            out.reserveCapacity(parts.reduce(0) { $0 + $1.count })
            for p in parts { out.append(contentsOf: pick(p) ?? []) }
            return out
        }
        switch type {
        case .bool: return .bool(join { if case .bool(let v) = $0 { v } else { nil } })
        case .int8: return .int8(join { if case .int8(let v) = $0 { v } else { nil } })
        case .int16: return .int16(join { if case .int16(let v) = $0 { v } else { nil } })
        case .int32: return .int32(join { if case .int32(let v) = $0 { v } else { nil } })
        case .int64: return .int64(join { if case .int64(let v) = $0 { v } else { nil } })
        case .float64: return .float64(join { if case .float64(let v) = $0 { v } else { nil } })
        case .date: return .date(join { if case .date(let v) = $0 { v } else { nil } })
        case .timestamp: return .timestamp(join { if case .timestamp(let v) = $0 { v } else { nil } })
        case .uuid: return .uuid(join { if case .uuid(let v) = $0 { v } else { nil } })
        case .string:
            var out = StringArray()
            out.reserveCapacity(rows: parts.reduce(0) { $0 + $1.count },
                                bytes: parts.reduce(0) { if case .string(let s) = $1 { $0 + s.bytes.count } else { $0 } })
            for case .string(let s) in parts {
                precondition(out.bytes.count + s.bytes.count <= StringArray.maxBytes,
                             "concatenated text passes StringArray.maxBytes (callers check first with Batch.textOverflow)")
                let base = Int32(out.bytes.count)
                out.bytes.append(contentsOf: s.bytes)
                out.offsets.append(contentsOf: s.offsets.dropFirst().map { $0 &+ base })
            }
            return .string(out)
        }
    }
}

extension Column {
    public func slice(_ r: Range<Int>) -> Column {
        var validity: Bitmap?
        if let v = self.validity {
            var b = Bitmap()
            b.reserveCapacity(r.count)
            for i in r { b.append(v[i]) }
            validity = b
        }
        return Column(values.slice(r), validity: validity)
    }

    public static func concatenate(_ parts: [Column], type: ColumnType) -> Column {
        let values = ColumnValues.concatenate(parts.map(\.values), type: type)
        guard parts.contains(where: { $0.validity != nil }) else { return Column(values) }
        var b = Bitmap()
        b.reserveCapacity(values.count)
        for p in parts {
            if let v = p.validity {
                for i in 0..<p.count { b.append(v[i]) }
            } else {
                for _ in 0..<p.count { b.append(true) }
            }
        }
        return Column(values, validity: b)
    }
}

extension Batch {
    /// Bytes the batch's columns take in memory (values, string offsets, validity).
    public var memoryBytes: Int {
        columns.reduce(0) { $0 + $1.values.memoryBytes + ($1.validity.map { $0.bytes.count } ?? 0) }
    }

    public func slice(_ r: Range<Int>) -> Batch {
        Batch(schema: schema, columns: columns.map { $0.slice(r) }, rowCount: r.count)
    }

    /// Whether every string column of `batches`, concatenated, stays within
    /// `StringArray.maxBytes`; if not, the first column that does not and its byte count.
    public static func textOverflow(_ batches: [Batch]) -> (column: String, bytes: Int)? {
        guard let first = batches.first else { return nil }
        for (i, field) in first.schema.fields.enumerated() where field.type == .string {
            var total = 0
            for b in batches {
                if case .string(let s) = b.columns[i].values { total += s.bytes.count }
            }
            if total > StringArray.maxBytes { return (field.name, total) }
        }
        return nil
    }

    /// Rows of every batch in order; all must share the first one's schema, and their text
    /// must fit one batch (check with `textOverflow` first).
    public static func concatenate(_ batches: [Batch]) -> Batch {
        guard let first = batches.first else { return Batch(schema: Schema([]), columns: []) }
        if batches.count == 1 { return first }
        let columns = first.schema.fields.indices.map { i in
            Column.concatenate(batches.map { $0.columns[i] }, type: first.schema.fields[i].type)
        }
        return Batch(schema: first.schema, columns: columns, rowCount: batches.reduce(0) { $0 + $1.rowCount })
    }
}
