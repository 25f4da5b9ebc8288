// The CSV reader's record scanner: splits the buffered bytes into records and fields,
// byte by byte through two stop tables, and notes each record's first problem.
//
// Rules (RFC 4180 with the usual tolerances):
// - Fields are separated by `,`; records end at `\n` or `\r\n` (a lone `\r` is data).
// - A field starting with `"` is quoted: it ends at the next `"` not doubled; `""` inside
//   is one quote; commas and line breaks inside are data.
// - Completely empty lines are skipped (and counted).
// - A UTF-8 byte-order mark (EF BB BF) at the very start of the input is skipped: Excel and
//   many Windows exports write one.
// - Problems make the record *bad* but never stop the reader; it records the first issue
//   (kind, line, column, field) and carries on: a quote inside an unquoted field, text
//   after a closing quote, invalid UTF-8, a NUL byte (no PostgreSQL text can hold one), and
//   an unterminated quoted field. A quoted field still open at the end of input is
//   unterminated; one still open `maxQuotedBytes` past its start, with its first line
//   complete, is not closed within the limit: either way the record is cut at the end of its
//   first physical line and reading resumes on the next. (A quoted field closed on its own
//   line is read whole, however long: the line is.)

/// Byte classes for the reader's scanning loops.
enum CSVByteClass {
    /// 1 where an unquoted field's scan must stop: separator, line end, quote, NUL, non-ASCII.
    nonisolated(unsafe) static let plainStop: UnsafePointer<UInt8> = makeTable(
        [UInt8(ascii: ","), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\""), 0])
    /// 1 where a quoted field's scan must stop: quote, line end, NUL, non-ASCII.
    nonisolated(unsafe) static let quotedStop: UnsafePointer<UInt8> = makeTable(
        [UInt8(ascii: "\n"), UInt8(ascii: "\""), 0])

    static func makeTable(_ stops: [UInt8]) -> UnsafePointer<UInt8> {
        let t = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        t.initialize(repeating: 0, count: 256)
        for b in stops { t[Int(b)] = 1 }
        for b in 0x80...0xFF { t[b] = 1 }
        return UnsafePointer(t)
    }
}

extension CSVReader {
    /// Outcome of parsing one record.
    fileprivate enum Step { case record, blank, needMore }

    /// Parses complete records from `consumed` on; leaves `consumed` at the first byte not
    /// yet part of a complete record.
    mutating func parseRecords() {
        let base = UnsafePointer(buffer)
        let n = filled
        let plain = CSVByteClass.plainStop, quoted = CSVByteClass.quotedStop
        while consumed < n {
            let step = parseRecord(base, n, plain, quoted)
            if case .needMore = step { break }
        }
    }

    /// Length of the valid UTF-8 sequence at `p` (1...4), 0 if invalid, -1 if it runs past `n`.
    @inline(__always)
    private static func utf8Length(_ s: UnsafePointer<UInt8>, _ p: Int, _ n: Int) -> Int {
        let b0 = s[p]
        let len: Int
        var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
        switch b0 {
        case 0xC2...0xDF: len = 2
        case 0xE0: len = 3; lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: len = 3
        case 0xED: len = 3; hi = 0x9F
        case 0xF0: len = 4; lo = 0x90
        case 0xF1...0xF3: len = 4
        case 0xF4: len = 4; hi = 0x8F
        default: return 0
        }
        for k in 1..<len {
            if p + k >= n { return -1 }
            let b = s[p + k]
            if k == 1 {
                if b < lo || b > hi { return 0 }
            } else if b & 0xC0 != 0x80 {
                return 0
            }
        }
        return len
    }

    private mutating func parseRecord(_ s: UnsafePointer<UInt8>, _ n: Int,
                                      _ plainStop: UnsafePointer<UInt8>, _ quotedStop: UnsafePointer<UInt8>) -> Step {
        let start = consumed
        let startLine = line
        let fieldMark = block.fieldStart.count
        var p = start
        var curLine = startLine
        var lineStart = start
        var issue: CSVIssue? = nil
        var fieldNo = 1
        let comma = UInt8(ascii: ","), nl = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r"), quote = UInt8(ascii: "\"")

        // A completely empty line.
        if s[p] == nl || (s[p] == cr && p + 1 < n && s[p + 1] == nl) {
            consumed = p + (s[p] == nl ? 1 : 2)
            line += 1
            blankLines += 1
            return .blank
        }
        if s[p] == cr && p + 1 >= n && !atEOF { return .needMore }

        func rollback(_ r: inout CSVReader) {
            r.block.fieldStart.removeSubrange(fieldMark...)
            r.block.fieldEnd.removeSubrange(fieldMark...)
            r.block.fieldEscaped.removeSubrange(fieldMark...)
        }

        var recordEnd = -1
        var next = -1
        fields: while true {
            if p < n && s[p] == quote {
                // Quoted field.
                let quoteLine = curLine, quoteColumn = p - lineStart + 1
                p += 1
                let contentStart = p
                var escaped = false
                var closed = false
                while true {
                    while p < n && quotedStop[Int(s[p])] == 0 { p += 1 }
                    if p >= n { break }
                    let b = s[p]
                    if b == quote {
                        if p + 1 >= n {
                            if atEOF {
                                closed = true
                                break
                            }
                            break  // need to see the next byte
                        }
                        if s[p + 1] == quote {
                            escaped = true
                            p += 2
                            continue
                        }
                        closed = true
                        break
                    } else if b == nl {
                        p += 1
                        curLine += 1
                        lineStart = p
                    } else if b == 0 {
                        if issue == nil {
                            issue = CSVIssue(kind: .nulByte, line: curLine, column: p - lineStart + 1, field: fieldNo)
                        }
                        p += 1
                    } else {
                        let len = Self.utf8Length(s, p, n)
                        if len > 0 {
                            p += len
                        } else if len < 0 && !atEOF {
                            p = n  // sequence runs past the data: need more
                        } else {
                            if issue == nil {
                                issue = CSVIssue(kind: .invalidUTF8, line: curLine, column: p - lineStart + 1, field: fieldNo)
                            }
                            p += 1
                        }
                    }
                }
                if !closed {
                    if !atEOF && p - contentStart <= maxQuotedBytes {
                        rollback(&self)
                        return .needMore
                    }
                    // Unterminated: cut the record at the end of its first physical line.
                    rollback(&self)
                    var e = start
                    while e < n && s[e] != nl { e += 1 }
                    if e >= n && !atEOF {
                        return .needMore
                    }
                    let rawEnd = (e > start && s[e - 1] == cr) ? e - 1 : e
                    block.fieldStart.append(Int32(start))
                    block.fieldEnd.append(Int32(rawEnd))
                    block.fieldEscaped.append(false)
                    // The open quote is the reason given: it explains the cut.
                    let kind: CSVIssueKind = atEOF ? .unterminatedQuote : .quotedFieldTooLong
                    block.issues.append((block.recordCount,
                                         CSVIssue(kind: kind, line: quoteLine, column: quoteColumn, field: fieldNo)))
                    block.recordFirstField.append(Int32(block.fieldStart.count))
                    block.recordLine.append(startLine)
                    block.recordStart.append(Int32(start))
                    block.recordEnd.append(Int32(rawEnd))
                    consumed = e < n ? e + 1 : n
                    line = startLine + 1
                    return .record
                }
                block.fieldStart.append(Int32(contentStart))
                block.fieldEnd.append(Int32(p))
                block.fieldEscaped.append(escaped)
                p += 1  // past the closing quote
                // After the closing quote: a separator, a line end, or end of input. A lone `\r`
                // is data, not a line end: text after the quote like any other.
                let loneCR = p + 1 < n && s[p] == cr && s[p + 1] != nl
                if p < n && s[p] != comma && s[p] != nl && (s[p] != cr || loneCR) {
                    if issue == nil {
                        issue = CSVIssue(kind: .textAfterClosingQuote, line: curLine, column: p - lineStart + 1, field: fieldNo)
                    }
                    // Skip to the next separator or line end, as part of this field's junk.
                    while p < n && s[p] != comma && s[p] != nl {
                        if s[p] == cr && p + 1 < n && s[p + 1] == nl { break }
                        p += 1
                    }
                }
            } else {
                // Unquoted field.
                let contentStart = p
                while true {
                    while p < n && plainStop[Int(s[p])] == 0 { p += 1 }
                    if p >= n { break }
                    let b = s[p]
                    if b == comma || b == nl { break }
                    if b == cr {
                        if p + 1 < n {
                            if s[p + 1] == nl { break }
                            p += 1
                            continue
                        }
                        if atEOF { p += 1; continue }
                        break  // need the next byte
                    }
                    if b == quote || b == 0 {
                        if issue == nil {
                            issue = CSVIssue(kind: b == 0 ? .nulByte : .quoteInUnquotedField, line: curLine,
                                             column: p - lineStart + 1, field: fieldNo)
                        }
                        p += 1
                        continue
                    }
                    let len = Self.utf8Length(s, p, n)
                    if len > 0 {
                        p += len
                    } else if len < 0 && !atEOF {
                        p = n
                        break
                    } else {
                        if issue == nil {
                            issue = CSVIssue(kind: .invalidUTF8, line: curLine, column: p - lineStart + 1, field: fieldNo)
                        }
                        p += 1
                    }
                }
                block.fieldStart.append(Int32(contentStart))
                block.fieldEnd.append(Int32(p))
                block.fieldEscaped.append(false)
            }
            // Separator or record end.
            if p < n && s[p] == comma {
                p += 1
                fieldNo += 1
                continue fields
            }
            if p < n && s[p] == nl {
                recordEnd = p
                next = p + 1
                curLine += 1
                break fields
            }
            if p + 1 < n && s[p] == cr && s[p + 1] == nl {
                recordEnd = p
                next = p + 2
                curLine += 1
                break fields
            }
            if p >= n || s[p] == cr {
                // The bytes end here, or after a `\r` whose next byte is not read yet (the
                // scans above take any other lone `\r` as data): more input, or end of input.
                if !atEOF {
                    rollback(&self)
                    return .needMore
                }
                recordEnd = n
                next = n
                break fields
            }
            // Unreachable by construction; treat as end of record.
            recordEnd = p
            next = p + 1
            break fields
        }
        if let issue { block.issues.append((block.recordCount, issue)) }
        block.recordFirstField.append(Int32(block.fieldStart.count))
        block.recordLine.append(startLine)
        block.recordStart.append(Int32(start))
        block.recordEnd.append(Int32(recordEnd))
        consumed = next
        line = curLine
        return .record
    }
}
