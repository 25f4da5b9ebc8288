// The quality checks' config file and column kernels, each against a plain reference.

import FicheLake
import Foundation
import Testing

@testable import FicheWarehouse

@Suite struct QualityChecksTests {
    @Test func theDocumentedDefaultsParseToTheDefaults() throws {
        #expect(try QualityConfig.parse(QualityConfig.documentedDefaults) == QualityConfig())
        #expect(try QualityConfig.parse("") == QualityConfig())
    }

    @Test func theConfigFileSetsSeveritiesAndThresholds() throws {
        let c = try QualityConfig.parse("""
            [rules]
            freshness = "error"
            [checks]
            "relationships.diagnoses.code" = "warn"
            [thresholds]
            min_date = "2000-01-01"
            max_age = 110
            volume_factor = 2.5
            [accepted_values]
            sex = ["M", "F"]
            """)
        #expect(c.severity(.freshness, "freshness.fact_encounters.date_key") == .error)
        #expect(c.severity(.relationships, "relationships.diagnoses.code") == .warn)
        #expect(c.severity(.relationships, "relationships.encounters.patient_id") == .error)
        #expect(c.minDate == Int32(CivilDate.days(year: 2000, month: 1, day: 1)))
        #expect(c.maxAge == 110 && c.volumeFactor == 2.5 && c.acceptedSex == ["M", "F"])
    }

    @Test func aWrongConfigFileIsAnErrorNamingTheKey() {
        for (text, needle) in [("[rules]\nuniq = \"error\"", "rules.uniq"), ("[rules]\nunique = \"fatal\"", "rules.unique"),
                               ("[thresholds]\nmax_age = \"old\"", "thresholds.max_age"), ("[colours]\n", "colours"),
                               ("[thresholds]\nmin_date = \"1900-13-01\"", "thresholds.min_date"), ("a = [", "line 1")] {
            #expect {
                try QualityConfig.parse(text, file: "checks.toml")
            } throws: { error in
                "\(error)".contains(needle) && "\(error)".hasPrefix("checks.toml")
            }
        }
    }

    @Test func duplicatesInSortedAndUnsortedKeys() throws {
        for n in [0, 1, 2, 7, 8, 9, 63, 64, 65, 129] {
            var rng = SplitMix64(seed: UInt64(n))
            let values = (0..<n).map { _ in Int64(rng.next() % UInt64(max(1, n))) }
            for sorted in [true, false] {
                let v = sorted ? values.sorted() : values
                var seen = Set<Int64>(), want: [Int] = []
                for (i, x) in v.enumerated() where !seen.insert(x).inserted { want.append(i) }
                let got = KeyColumn.duplicates(v, nil as [Int32]?)
                #expect(got.count == want.count, "n=\(n) sorted=\(sorted)")
                if sorted { #expect(got.rows == Array(want.prefix(QualityKernels.keptRows)), "n=\(n)") }
            }
        }
        // Pairs: equal first keys are fine while the second differs.
        #expect(KeyColumn.duplicates([1, 1, 2, 2] as [Int64], [1, 2, 1, 1] as [Int32]).rows == [3])
    }

    @Test func missingKeysDenseAndSparse() throws {
        let dense = (1...1000).map { Int64($0) }.filter { $0 % 7 != 0 }
        let sparse = dense.map { $0 * 1_000_000_000 }
        for (keys, scale) in [(dense, Int64(1)), (sparse, Int64(1_000_000_000))] {
            let child: [Int64] = [1, 7, 14, 1001, 0, -5, 999].map { $0 * scale }
            let got = KeyColumn.missing(child, keys)
            #expect(got.rows == [1, 2, 3, 4, 5], "scale \(scale)")
        }
        #expect(KeyColumn.missing([1, 2] as [Int32], []).count == 2)
    }

    @Test func acceptedValuesAndRanges() throws {
        var s = StringArray()
        var valid = Bitmap()
        for (v, ok) in [("M", true), ("F", true), ("", false), ("X", true), ("F", true), ("MM", true), ("O", true)] {
            s.append(v)
            valid.append(ok)
        }
        let sex = Column(.string(s), validity: valid)
        #expect(StringMembership.rowsNotIn(sex, ["M", "F", "O"]).rows == [3, 5])
        var ageValid = Bitmap()
        for ok in [true, true, false, true, true] { ageValid.append(ok) }
        let ages = Column(.int16([0, 121, -3, 120, -1]), validity: ageValid)
        #expect(IntegerRange.rowsOutside(ages, 0...120).rows == [1, 4])
        #expect(IntegerRange.max(ages) == 121)
        #expect(IntegerRange.sum(ages) == 240)
    }
}
