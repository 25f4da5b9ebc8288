import FicheLake
import Foundation
import Testing

@testable import FicheSources

func withBytes<R>(_ s: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
    Array(s.utf8).withUnsafeBufferPointer(body)
}

/// The reference calendar: Foundation's Gregorian calendar in UTC, a separate implementation
/// from the parser's (valid for these tests' years, all after 1582).
let referenceCalendar: Calendar = {
    var c = Calendar(identifier: .gregorian)
    c.timeZone = TimeZone(identifier: "UTC")!
    return c
}()

/// Days since 1970-01-01 by Foundation, or nil when the date does not exist.
func referenceDays(_ y: Int, _ m: Int, _ d: Int) -> Int? {
    let parts = DateComponents(year: y, month: m, day: d)
    guard parts.isValidDate(in: referenceCalendar), let date = referenceCalendar.date(from: parts) else { return nil }
    return Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
}

@Suite struct PadChestFieldParsingTests {
    @Test func missingMarkers() {
        for s in ["", "nan", "None"] { #expect(withBytes(s, PadChestFieldParsing.isMissing), "\(s)") }
        for s in ["0", "NaN", "none", "nan ", "Non", "NONE"] { #expect(!withBytes(s, PadChestFieldParsing.isMissing), "\(s)") }
    }

    @Test func integersAndBirthYears() {
        #expect(withBytes("4765777", PadChestFieldParsing.int64) == 4_765_777)
        #expect(withBytes("-12", PadChestFieldParsing.int64) == -12)
        #expect(withBytes("9223372036854775807", PadChestFieldParsing.int64) == Int64.max)
        #expect(withBytes("9223372036854775808", PadChestFieldParsing.int64) == nil)
        for bad in ["", "-", "1.0", "12a", " 1", "0x10"] { #expect(withBytes(bad, PadChestFieldParsing.int64) == nil, "\(bad)") }
        #expect(withBytes("1930.0", PadChestFieldParsing.wholeNumber) == 1930)
        #expect(withBytes("1930", PadChestFieldParsing.wholeNumber) == 1930)
        #expect(withBytes("1930.00", PadChestFieldParsing.wholeNumber) == 1930)
        for bad in ["1930.5", "1930.", ".0", "19x5.0", "1930.0.0"] {
            #expect(withBytes(bad, PadChestFieldParsing.wholeNumber) == nil, "\(bad)")
        }
    }

    @Test func decimalsMatchTheStandardLibraryExactly() {
        for s in ["-1.42", "0.2000000029802", "2047.5", "0.143", "2047", "1e-3", "-0.95", "355", "0.1500000059604",
                  "123456789012345678901234", "1.7976931348623157e308", "5e-324", "0.30000000000000004"] {
            #expect(withBytes(s, PadChestFieldParsing.double) == Double(s), "\(s)")
        }
        var rng = SplitMix64(seed: 7)
        for _ in 0..<20000 {
            let intDigits = Int(rng.next() % 8), fracDigits = Int(rng.next() % 14)
            var s = rng.next() % 4 == 0 ? "-" : ""
            s += intDigits == 0 ? "0" : (0..<intDigits).map { _ in String(rng.next() % 10) }.joined()
            if fracDigits > 0 { s += "." + (0..<fracDigits).map { _ in String(rng.next() % 10) }.joined() }
            #expect(withBytes(s, PadChestFieldParsing.double) == Double(s), "\(s)")
        }
        for bad in ["", ".", "-", "1.2.3", "abc", "1e", "1e+", "nan"] {
            #expect(withBytes(bad, PadChestFieldParsing.double) == nil, "\(bad)")
        }
    }

    @Test func datesAgainstNaiveDayCounting() {
        #expect(withBytes("19700101", PadChestFieldParsing.yyyymmdd) == 0)
        #expect(withBytes("20140915", PadChestFieldParsing.yyyymmdd) == 16328)
        for y in [1899, 1900, 1969, 1970, 1999, 2000, 2004, 2014, 2015, 2016, 2017, 2100] {
            for m in 1...12 {
                for d in [1, 15, 28, 29, 30, 31] {
                    let text = String(format: "%04d%02d%02d", y, m, d)
                    let parsed = withBytes(text, PadChestFieldParsing.yyyymmdd)
                    #expect(parsed.map(Int.init) == referenceDays(y, m, d), "\(text)")
                }
            }
        }
        for bad in ["2014091", "201409150", "20141301", "20140001", "20140900", "2014-9-1", "2015022 ", "20150229"] {
            #expect(withBytes(bad, PadChestFieldParsing.yyyymmdd) == nil, "\(bad)")
        }
        // Leap days fixed by hand: 1900 and 2100 are not leap years, 2000 and 2016 are.
        #expect(withBytes("20160229", PadChestFieldParsing.yyyymmdd) == 16_860)
        #expect(withBytes("20000229", PadChestFieldParsing.yyyymmdd) == 11_016)
        #expect(withBytes("19000229", PadChestFieldParsing.yyyymmdd) == nil)
        #expect(withBytes("21000229", PadChestFieldParsing.yyyymmdd) == nil)
    }

    /// Items joined, by both parsers (which must agree, and leave `out` alone on failure).
    func items(_ s: String) -> [String]? {
        var list = PythonListLiteral()
        let parsed = withBytes(s, { list.parse($0) })
        var onePass = Array("prefix".utf8)
        let ok = withBytes(s) { PythonListLiteral.appendItems(of: $0, to: &onePass) }
        #expect(ok == parsed, "\(s)")
        guard parsed else {
            #expect(onePass == Array("prefix".utf8))
            return nil
        }
        var joined = [UInt8]()
        list.appendJoined(to: &joined)
        #expect(Array(onePass.dropFirst(6)) == joined, "\(s)")
        return [String(decoding: joined, as: UTF8.self)]
    }

    @Test func listLiteralsAsPadChestWritesThem() {
        #expect(items("[]") == [""])
        #expect(items("['normal']") == ["normal"])
        #expect(items("['pulmonary fibrosis', ' pneumonia', '']") == ["pulmonary fibrosis|pneumonia|"])
        #expect(items("[['normal'], ['normal']]") == ["normal;normal"])
        #expect(items("[['pseudonodule', 'loc basal'], ['kyphosis']]") == ["pseudonodule|loc basal;kyphosis"])
        #expect(items("[nan, ['unchanged'], [], ['x', 'loc hilar']]") == ["unchanged;x|loc hilar"])
        #expect(items("['C0034069' 'C0742362' 'C2115817'\n 'C3544344']") == ["C0034069|C0742362|C2115817|C3544344"])
        #expect(items("[nan]") == [""])  // a missing element, as in nested lists
        #expect(items("[\"it's\", 'b']") == ["it's|b"])
        #expect(items("['a\\'b', '  x  ']") == ["a'b|x"])
        #expect(items("[[' a ', 'b'], nan, ['c'], ['d', 'e']]") == ["a|b;c;d|e"])
        for bad in ["", "nan", "['a'", "['a']]", "[['a']", "[[['a']]]", "['a'] x", "[a]", "['a]", "['a']['b']"] {
            #expect(items(bad) == nil, "\(bad)")
        }
    }

    @Test func stableIDsAreDeterministicAndDistinct() {
        let a = PadChestIDs.patientID(Array("839860488694292331637988235681460987".utf8))
        let b = PadChestIDs.patientID(Array("839860488694292331637988235681460987".utf8))
        let c = PadChestIDs.patientID(Array("839860488694292331637988235681460988".utf8))
        #expect(a == b)
        #expect(a != c)
        // Same text, different entity kinds: different ids.
        #expect(PadChestIDs.imageKey("x") != PadChestIDs.patientID(Array("x".utf8)))
        // Encounter keys separate their parts: ("ab","c") is not ("a","bc").
        #expect(PadChestIDs.encounterID(patient: Array("ab".utf8), study: Array("c".utf8))
            != PadChestIDs.encounterID(patient: Array("a".utf8), study: Array("bc".utf8)))
        #expect(a.text.count == 36)
        #expect(a.text[a.text.index(a.text.startIndex, offsetBy: 14)] == "4")  // version 4 shape
    }

    @Test func uuidSetAgainstStandardSet() {
        var rng = SplitMix64(seed: 3)
        var mine = UUIDSet()
        var reference = Set<UUID16>()
        for _ in 0..<50000 {
            // Few distinct values so re-inserts happen often.
            let v = UUID16(high: rng.next() % 5000, low: rng.next() % 3)
            #expect(mine.insert(v) == reference.insert(v).inserted)
        }
        #expect(mine.insert(.zero) == reference.insert(.zero).inserted)
        let again = mine.insert(.zero)
        #expect(!again)
        #expect(mine.count == reference.count)
        for v in reference { #expect(mine.contains(v)) }
        #expect(!mine.contains(UUID16(high: 99999, low: 0)))
    }
}
