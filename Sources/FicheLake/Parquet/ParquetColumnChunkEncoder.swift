// One column of one row group as Parquet pages: an optional dictionary page, then DATA_PAGE
// (v1) pages of about `pageBytes` each. A page body is the definition levels (optional
// columns only: u32 length + RLE/bit-packed hybrid, bit width 1) followed by the values,
// PLAIN or dictionary indices (bit width byte + hybrid); the body is compressed as one zstd
// frame and preceded by its Thrift PageHeader.

/// A column chunk's pages and what its `ColumnMetaData` says of them; offsets are
/// relative to the chunk's first byte until the writer places it in the file.
struct EncodedColumnChunk {
    var bytes: [UInt8]
    /// Bytes of the dictionary page (header included) at the start; 0 without one.
    var dictionaryPageBytes: Int
    var uncompressedBytes: Int
    var numValues: Int
    var physicalType: ParquetPhysicalType
    var encodings: [ParquetEncoding]
    var encodingStats: [(ParquetPageType, ParquetEncoding, Int32)]
    var statistics: ParquetStatistics
}

struct ParquetColumnChunkEncoder {
    let field: Field
    let options: ParquetWriteOptions
    let zstd: ZstdContext?

    private var out: [UInt8] = []
    private var body: [UInt8] = []
    private var uncompressed = 0

    init(field: Field, options: ParquetWriteOptions) throws {
        self.field = field
        self.options = options
        zstd = options.codec == .zstd ? try ZstdContext(level: Int32(options.zstdLevel)) : nil
    }

    /// Encodes `column` (the rows of one row group).
    mutating func encode(_ column: Column) throws -> EncodedColumnChunk {
        let rows = column.count
        let nulls = column.nullCount
        if !field.nullable && nulls > 0 {
            throw LakeError(.invalidArgument, "declared not null but holds \(nulls) nulls", column: field.name)
        }
        let values = ParquetPhysicalValues(column, uuidAs: options.uuidAs)
        let element = ParquetSchemaElement(field, uuidAs: options.uuidAs)
        let dictionary = dictionaryIfItPays(values)
        // With a dictionary, min and max are among its entries: compare those, not every value.
        let statistics = values.statistics(nullCount: nulls, maxBytes: options.statisticsMaxBytes,
                                           among: dictionary?.distinctRows)

        out = []
        out.reserveCapacity(values.plainBytes / 3 + 1024)
        uncompressed = 0
        var dictionaryPageBytes = 0
        var encodingStats: [(ParquetPageType, ParquetEncoding, Int32)] = []
        if let (page, entries) = dictionary.map({ ($0.page, $0.indices.entries) }) {
            try appendPage(page, kind: .dictionary(numValues: Int32(entries)))
            dictionaryPageBytes = out.count
            encodingStats.append((.dictionaryPage, .plain, 1))
        }

        // Pages cut at multiples of 8 rows, so each page's levels start on a bitmap byte.
        let plainPerRow = max(1, values.plainBytes / max(1, values.count))
        let pageRows = max(8, (options.pageBytes / plainPerRow) & ~7)
        let validity = nulls > 0 ? column.validity : nil
        var present = 0  // present values before the page
        var pages: Int32 = 0
        var start = 0
        repeat {
            let end = min(rows, start + pageRows)
            body.removeAll(keepingCapacity: true)
            var pagePresent = end - start
            if field.nullable {
                body.append(contentsOf: [0, 0, 0, 0])
                if let validity {
                    validity.bytes.withUnsafeBufferPointer { bits in
                        let from = start / 8
                        RLEHybridEncoder.encodeLevels(bitmap: UnsafeBufferPointer(rebasing: bits[from...]), count: end - start,
                                                      into: &body)
                    }
                    pagePresent = Self.setBits(validity, start..<end)
                } else if end > start {
                    RLEHybridEncoder.appendRun(1, count: end - start, bitWidth: 1, into: &body)
                }
                let length = UInt32(body.count - 4)
                withUnsafeBytes(of: length.littleEndian) { for k in 0..<4 { body[k] = $0[k] } }
            }
            let range = present..<(present + pagePresent)
            if let dictionary {
                let width = RLEHybridEncoder.bitWidth(forValuesBelow: dictionary.indices.entries)
                body.append(UInt8(width))
                dictionary.indices.indices.withUnsafeBufferPointer {
                    RLEHybridEncoder.encode(UnsafeBufferPointer(rebasing: $0[range]), bitWidth: width, into: &body)
                }
            } else {
                values.appendPlain(range, to: &body)
            }
            try appendPage(body, kind: .data(numValues: Int32(end - start), encoding: dictionary == nil ? .plain : .rleDictionary))
            pages += 1
            present += pagePresent
            start = end
        } while start < rows

        let dataEncoding: ParquetEncoding = dictionary == nil ? .plain : .rleDictionary
        encodingStats.append((.dataPage, dataEncoding, pages))
        return EncodedColumnChunk(bytes: out, dictionaryPageBytes: dictionaryPageBytes, uncompressedBytes: uncompressed,
                                  numValues: rows, physicalType: element.type ?? .byteArray,
                                  encodings: dictionary == nil ? [.plain, .rle] : [.plain, .rle, .rleDictionary],
                                  encodingStats: encodingStats, statistics: statistics)
    }

    /// The dictionary page body and indices, when a dictionary within `dictionaryBytes`
    /// exists and (dictionary + bit-packed indices) is smaller than the PLAIN values.
    /// `distinctRows` is where each entry first occurs (strings only; nil for other types).
    private func dictionaryIfItPays(_ values: ParquetPhysicalValues) -> (page: [UInt8], indices: DictionaryIndices, distinctRows: [Int32]?)? {
        let n = values.count
        guard n > 0 else { return nil }
        let limit = options.dictionaryBytes
        // Fixed-width values get at most 1 MiB of dictionary (Arrow's default page limit):
        // past it, repeated 16-byte ids compress better PLAIN under zstd than as bit-packed
        // indices into a large dictionary. Text keeps the whole limit.
        let fixedLimit = min(limit, 1 << 20)
        // More distinct values than half the rows: a dictionary would save little, so stop
        // building it early (a column of unique ids gives up after n / 2 values, not n).
        let most = max(1, n / 2)
        var page: [UInt8] = []
        var indices: DictionaryIndices
        var distinctRows: [Int32]? = nil
        switch values {
        case .boolean, .double:
            return nil
        case .int32(let v):
            guard let d = v.withUnsafeBufferPointer({ ParquetDictionary.build($0, maxEntries: min(most, fixedLimit / 4), entryBytes: 4) }),
                  Self.pays(d.indices, plain: values.plainBytes) else { return nil }
            d.entries.withUnsafeBufferPointer { ParquetPhysicalValues.appendLittleEndian($0, &page) }
            indices = d.indices
        case .int64(let v):
            guard let d = v.withUnsafeBufferPointer({ ParquetDictionary.build($0, maxEntries: min(most, fixedLimit / 8), entryBytes: 8) }),
                  Self.pays(d.indices, plain: values.plainBytes) else { return nil }
            d.entries.withUnsafeBufferPointer { ParquetPhysicalValues.appendLittleEndian($0, &page) }
            indices = d.indices
        case .fixed16(let v):
            guard let d = v.withUnsafeBufferPointer({ ParquetDictionary.build($0, maxEntries: min(most, fixedLimit / 16), entryBytes: 16) }),
                  Self.pays(d.indices, plain: values.plainBytes) else { return nil }
            ParquetPhysicalValues.fixed16(d.entries).appendPlain(0..<d.entries.count, to: &page)
            indices = d.indices
        case .byteArray(let s):
            guard let d = ParquetDictionary.build(s, maxEntries: most, maxBytes: limit), Self.pays(d.indices, plain: values.plainBytes) else { return nil }
            page.reserveCapacity(d.indices.plainBytes)
            s.bytes.withUnsafeBufferPointer { bytes in
                for row in d.firstRows {
                    let r = s.range(Int(row))
                    ParquetPhysicalValues.appendLittleEndian(UInt32(r.count), &page)
                    page.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[r]))
                }
            }
            indices = d.indices
            distinctRows = d.firstRows
        }
        return (page, indices, distinctRows)
    }

    /// A dictionary pays when its PLAIN values plus the indices bit-packed take fewer bytes
    /// than the PLAIN values.
    static func pays(_ d: DictionaryIndices, plain: Int) -> Bool {
        let indexBytes = (d.indices.count * RLEHybridEncoder.bitWidth(forValuesBelow: d.entries) + 7) / 8
        return d.plainBytes + indexBytes < plain
    }

    static func setBits(_ b: Bitmap, _ r: Range<Int>) -> Int {
        // r starts on a byte boundary; the last byte may be partial.
        var n = 0
        b.bytes.withUnsafeBufferPointer { bytes in
            var i = r.lowerBound
            while i + 8 <= r.upperBound {
                n += bytes[i >> 3].nonzeroBitCount
                i += 8
            }
            if i < r.upperBound { n += (bytes[i >> 3] & UInt8((1 << (r.upperBound - i)) - 1)).nonzeroBitCount }
        }
        return n
    }

    /// Compresses `body` and appends the page header and the compressed bytes.
    private mutating func appendPage(_ body: [UInt8], kind: ParquetPageHeader.Kind) throws {
        guard body.count <= Int32.max else {
            throw LakeError(.tooLarge, "a page of \(body.count) bytes passes Parquet's 2 GiB page limit", column: field.name)
        }
        try body.withUnsafeBytes { raw in
            func append(_ compressed: UnsafeRawBufferPointer) {
                let header = ParquetPageHeader(kind: kind, uncompressedSize: Int32(raw.count),
                                               compressedSize: Int32(compressed.count)).encoded()
                out.append(contentsOf: header)
                out.append(contentsOf: compressed)
                uncompressed += header.count + raw.count
            }
            if let zstd { try zstd.compress(raw) { append($0) } } else { append(raw) }
        }
    }
}
