// The quality gates' rules, severities and thresholds: `<lake>/checks.toml` if present,
// else the defaults below (which `fiche check --print-config` prints as a documented file).

import FicheLake
import Foundation
import TOMLKit

/// What a failed check does: `error` stops publishing, `warn` is reported, `off` skips it.
public enum CheckSeverity: String, Sendable, Codable, CaseIterable {
    case error, warn, off
}

/// The families of checks; each check belongs to one (its `rule`).
public enum QualityRule: String, Sendable, CaseIterable {
    case notNull = "not_null"
    case unique
    case relationships
    case acceptedValues = "accepted_values"
    case range
    case freshness
    case volume
    case reconciliation
}

public struct QualityConfig: Sendable, Equatable {
    /// Severity of every check of a rule.
    public var rules: [String: CheckSeverity] = [
        QualityRule.notNull.rawValue: .error, QualityRule.unique.rawValue: .error,
        QualityRule.relationships.rawValue: .error, QualityRule.acceptedValues.rawValue: .error,
        QualityRule.range.rawValue: .error, QualityRule.freshness.rawValue: .off,
        QualityRule.volume.rawValue: .warn, QualityRule.reconciliation.rawValue: .error,
    ]
    /// Severity of single checks by name (`relationships.diagnoses.code`), over their rule's.
    public var checks: [String: CheckSeverity] = [:]

    /// No encounter dated before this day (days since 1970).
    public var minDate: Int32 = Int32(CivilDate.days(year: 1900, month: 1, day: 1))
    /// No encounter dated more than this many days after today.
    public var maxFutureDays = 0
    public var minAge = 0
    public var maxAge = 120
    /// With freshness on: the newest encounter is at most this many days old.
    public var freshnessMaxAgeDays = 2
    /// Volume: the fact rows a run adds may be at most `volumeFactor` times the median of the
    /// last `volumeHistory` successful runs, and at least that median / `volumeFactor`.
    public var volumeFactor = 10.0
    public var volumeHistory = 7
    /// Runs of history needed before the volume check judges.
    public var volumeMinHistory = 3
    /// Example rows shown per failed check.
    public var examples = 5

    public var acceptedSex = ["M", "F", "O"]
    public var acceptedEncounterTypes = ["outpatient", "inpatient", "emergency"]
    public var acceptedAgeGroups = Warehouse.ageGroups
    public var acceptedModalities = ["XR", "CT", "MR", "US", "LAB", "CR", "DX"]

    public init() {}

    public static let fileName = "checks.toml"

    /// The severity of the check `name` of `rule`.
    public func severity(_ rule: QualityRule, _ name: String) -> CheckSeverity {
        checks[name] ?? rules[rule.rawValue] ?? .error
    }

    /// `<lake>/checks.toml` if the lake has one, else the defaults.
    public static func load(lake: Lake) throws -> QualityConfig {
        let path = lake.root + "/" + fileName
        guard FileManager.default.fileExists(atPath: path) else { return QualityConfig() }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw WarehouseError("\(path): cannot be read")
        }
        return try parse(String(decoding: data, as: UTF8.self), file: path)
    }

    /// Parses a checks file; every unknown key or wrong type is an error naming it.
    public static func parse(_ text: String, file: String = QualityConfig.fileName) throws -> QualityConfig {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let e as TOMLParseError {
            throw WarehouseError("\(file): line \(e.source.begin.line), column \(e.source.begin.column): \(e.description)")
        }
        var c = QualityConfig()
        func fail(_ key: String, _ why: String) -> WarehouseError { WarehouseError("\(file): \(key): \(why)") }
        func severity(_ key: String, _ v: TOMLValueConvertible) throws -> CheckSeverity {
            guard let s = v.string, let sev = CheckSeverity(rawValue: s) else {
                throw fail(key, "wants \"error\", \"warn\" or \"off\"")
            }
            return sev
        }
        func int(_ key: String, _ v: TOMLValueConvertible, _ range: ClosedRange<Int>) throws -> Int {
            guard let i = v.int, range.contains(i) else { throw fail(key, "wants a whole number in \(range.lowerBound)…\(range.upperBound)") }
            return i
        }
        func strings(_ key: String, _ v: TOMLValueConvertible) throws -> [String] {
            guard let a = v.array else { throw fail(key, "wants a list of strings") }
            return try a.map { e in
                guard let s = e.string else { throw fail(key, "wants a list of strings") }
                return s
            }
        }
        for key in table.keys {
            guard let value = table[key] else { continue }
            switch key {
            case "rules":
                guard let t = value.table else { throw fail(key, "wants a table") }
                for r in t.keys {
                    guard QualityRule(rawValue: r) != nil else {
                        throw fail("rules.\(r)", "no such rule (one of \(QualityRule.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    c.rules[r] = try severity("rules.\(r)", t[r]!)
                }
            case "checks":
                guard let t = value.table else { throw fail(key, "wants a table") }
                for name in t.keys { c.checks[name] = try severity("checks.\"\(name)\"", t[name]!) }
            case "thresholds":
                guard let t = value.table else { throw fail(key, "wants a table") }
                for k in t.keys {
                    let v = t[k]!, path = "thresholds.\(k)"
                    switch k {
                    case "min_date":
                        guard let s = v.string, s.utf8.count == 10, let d = CivilDate.parse(s) else {
                            throw fail(path, "wants a date as \"YYYY-MM-DD\"")
                        }
                        c.minDate = d
                    case "max_future_days": c.maxFutureDays = try int(path, v, 0...36500)
                    case "min_age": c.minAge = try int(path, v, 0...200)
                    case "max_age": c.maxAge = try int(path, v, 0...200)
                    case "freshness_max_age_days": c.freshnessMaxAgeDays = try int(path, v, 0...36500)
                    case "volume_factor":
                        guard let f = v.double ?? v.int.map(Double.init), f >= 1 else { throw fail(path, "wants a number of at least 1") }
                        c.volumeFactor = f
                    case "volume_history": c.volumeHistory = try int(path, v, 1...1000)
                    case "volume_min_history": c.volumeMinHistory = try int(path, v, 1...1000)
                    case "examples": c.examples = try int(path, v, 0...100)
                    default: throw fail(path, "no such threshold")
                    }
                }
            case "accepted_values":
                guard let t = value.table else { throw fail(key, "wants a table") }
                for k in t.keys {
                    let list = try strings("accepted_values.\(k)", t[k]!)
                    switch k {
                    case "sex": c.acceptedSex = list
                    case "encounter_type": c.acceptedEncounterTypes = list
                    case "age_group": c.acceptedAgeGroups = list
                    case "modality": c.acceptedModalities = list
                    default: throw fail("accepted_values.\(k)", "no such column (sex, encounter_type, age_group, modality)")
                    }
                }
            default:
                throw fail(key, "unknown section (rules, checks, thresholds, accepted_values)")
            }
        }
        if c.minAge > c.maxAge { throw fail("thresholds", "min_age is above max_age") }
        return c
    }

    /// The defaults as a documented checks file.
    public static var documentedDefaults: String {
        let d = QualityConfig()
        func list(_ v: [String]) -> String { "[" + v.map { "\"\($0)\"" }.joined(separator: ", ") + "]" }
        let rules = QualityRule.allCases.map { r in
            "\(r.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0))= \"\(d.rules[r.rawValue]!.rawValue)\""
        }
        return """
            # Quality gates of `fiche check`, `fiche rebuild` and `fiche publish`, read from
            # <lake>/checks.toml. Every key is optional: a missing one keeps the default shown.
            # Severity: "error" stops publishing (the live warehouse is left as it was, exit 1),
            # "warn" is reported (and counted in the run log and metrics), "off" skips the check.

            [rules]  # the severity of every check of a rule
            \(rules.joined(separator: "\n"))

            [checks]  # the severity of one check, by the name `fiche check` prints
            # "relationships.diagnoses.code" = "warn"

            [thresholds]
            min_date = "\(CivilDate.text(Int64(d.minDate)))"     # no encounter dated before this day
            max_future_days = \(d.maxFutureDays)          # nor more than this many days after today
            min_age = \(d.minAge)                  # ages (dim_patient.age, age_at_encounter) in min_age…max_age
            max_age = \(d.maxAge)
            freshness_max_age_days = \(d.freshnessMaxAgeDays)   # with freshness on: the newest encounter at most this old
            volume_factor = \(Int(d.volumeFactor))           # fact rows a run adds: within ×/÷ this of the median of
            volume_history = \(d.volumeHistory)           #   the last volume_history successful runs (fiche runs),
            volume_min_history = \(d.volumeMinHistory)       #   judged once that many runs are recorded
            examples = \(d.examples)                 # example rows shown per failed check

            [accepted_values]  # null is always accepted where the column may be null
            sex = \(list(d.acceptedSex))
            encounter_type = \(list(d.acceptedEncounterTypes))
            age_group = \(list(d.acceptedAgeGroups))
            modality = \(list(d.acceptedModalities))

            """
    }
}
