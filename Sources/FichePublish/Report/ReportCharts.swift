// The report's charts, each made from one query's rows. Every mark carries `data-*`
// attributes holding the row's values as the database returned them, so a test (or anyone)
// can read the numbers back out of the SVG and compare them with the query.

import Foundation

public enum ReportCharts {
    /// Every chart of the report, in reading order.
    public static func all(_ data: WarehouseReportData) -> [Chart] {
        [monthlyEncounters(data.result("monthly_encounters_by_source")),
         topDiagnoses(data.result("top_diagnoses_by_age_group")),
         modalityMix(data.result("modality_mix_by_facility")),
         perEncounter(data.result("average_procedures_per_encounter"))]
    }

    // MARK: monthly encounters by source

    static func monthlyEncounters(_ r: QueryResult) -> Chart {
        var bySource: [(String, [(month: MonthIndex, value: Double)])] = []
        for i in r.rows.indices {
            let source = r.value(i, "source") ?? "unknown"
            guard let y = Int(r.value(i, "year") ?? ""), let mo = Int(r.value(i, "month") ?? ""),
                  let n = Double(r.value(i, "encounters") ?? "") else { continue }
            if bySource.last?.0 != source { bySource.append((source, [])) }
            bySource[bySource.count - 1].1.append((MonthIndex(year: y, month: mo), n))
        }
        let series = bySource.map { MonthlySeries(name: $0.0, points: $0.1) }
        let months = Set(series.flatMap { $0.points.map(\.month) }).sorted()
        let summary: String
        if let first = months.first, let last = months.last {
            let parts = series.map { s -> String in
                let total = s.points.reduce(0) { $0 + Int($1.value) }
                let peak = s.points.max { $0.value < $1.value }
                let gaps = s.runs.count - 1
                return "\(s.name): \(NumberText.grouped(total)) encounters in \(s.points.count) months from \(s.points.first?.month.label ?? "") to \(s.points.last?.month.label ?? "")"
                    + (peak.map { ", busiest \($0.month.longLabel) with \(NumberText.grouped(Int($0.value)))" } ?? "")
                    + (gaps > 0 ? ", \(gaps) gap\(gaps == 1 ? "" : "s") without data" : "")
            }
            summary = "Line chart of encounters per calendar month from \(first.label) to \(last.label), one line per source. " + parts.joined(separator: "; ") + "."
        } else {
            summary = "No encounters."
        }
        // The text alternative: one row per month, one column per source.
        var cells: [MonthIndex: [String: Int]] = [:]
        for s in series { for p in s.points { cells[p.month, default: [:]][s.name] = Int(p.value) } }
        let table = DataTable(columns: ["month"] + series.map(\.name), numeric: [false] + series.map { _ in true },
                              rows: months.map { m in [m.label] + series.map { s in cells[m]?[s.name].map(NumberText.grouped) ?? "" } })
        return MonthlyLineChart(id: "monthly-encounters", title: "Encounters per month, by source", summary: summary, series: series,
                                valueTitle: "Encounters per month (count)", unit: "encounters").chart(table: table)
    }

    // MARK: top diagnoses by age group

    static func topDiagnoses(_ r: QueryResult) -> Chart {
        var groups: [(String, [BarCategory])] = []
        var rows: [[String]] = []
        for i in r.rows.indices {
            let group = r.value(i, "age_group") ?? "unknown"
            let code = r.value(i, "diagnosis_code") ?? ""
            let name = r.value(i, "diagnosis") ?? code
            let count = Double(r.value(i, "diagnosis_count") ?? "") ?? .nan
            let patients = Int(r.value(i, "patient_count") ?? "") ?? 0
            if groups.last?.0 != group { groups.append((group, [])) }
            let tip = "\(name) (\(code)), age \(group): \(NumberText.grouped(Int(count))) diagnoses in \(NumberText.grouped(patients)) patients"
            groups[groups.count - 1].1.append(BarCategory(
                label: name, values: [count], tooltips: [tip],
                attributes: [[("data-age-group", group), ("data-code", code), ("data-value", r.value(i, "diagnosis_count")),
                              ("data-patients", r.value(i, "patient_count"))]]))
            rows.append([group, code, name, NumberText.grouped(Int(count)), NumberText.grouped(patients)])
        }
        let panels = groups.map { g in
            (heading: Optional("Age \(g.0)"), panel: HorizontalBarPanel(categories: g.1, colors: [ChartStyle.palette[0]], mode: .grouped,
                                                                 valueTitle: "Diagnoses (count)", labelWidth: 150, barHeight: 17, ticks: 3))
        }
        let summary = "Small multiples, one bar chart per patient age group, of the \(groups.first?.1.count ?? 0) most frequent diagnoses in that group; each panel has its own scale. "
            + groups.map { g in "Age \(g.0): " + g.1.prefix(2).map { "\($0.label) \(NumberText.grouped(Int($0.values[0])))" }.joined(separator: ", ") }.joined(separator: "; ") + "."
        let table = DataTable(columns: ["age group", "code", "diagnosis", "diagnoses", "patients"], numeric: [false, false, false, true, true], rows: rows)
        return BarChart(id: "top-diagnoses", title: "Top diagnoses by age group", summary: summary, legend: nil, panels: panels, columns: 2).chart(table: table)
    }

    // MARK: modality mix by facility

    static func modalityMix(_ r: QueryResult) -> Chart {
        var facilities: [String] = []
        var counts: [String: [String: (Double, String?)]] = [:]
        var modalityTotals: [String: Double] = [:]
        for i in r.rows.indices {
            let facility = r.value(i, "facility_name") ?? "unknown"
            let modality = r.value(i, "modality") ?? "unknown"
            let n = Double(r.value(i, "procedures") ?? "") ?? 0
            if facilities.last != facility { facilities.append(facility) }
            counts[facility, default: [:]][modality] = (n, r.value(i, "percent"))
            modalityTotals[modality, default: 0] += n
        }
        let modalities = modalityTotals.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map(\.key)
        let colors = modalities.indices.map(ChartStyle.color)
        var rows: [[String]] = []
        let categories = facilities.map { f -> BarCategory in
            let total = counts[f]?.values.reduce(0) { $0 + $1.0 } ?? 0
            var values: [Double] = [], tips: [String] = [], attrs: [[Markup.Attribute]] = []
            for m in modalities {
                guard let (n, percent) = counts[f]?[m] else { values.append(.nan); tips.append(""); attrs.append([]); continue }
                values.append(n)
                tips.append("\(f) — \(m): \(NumberText.grouped(Int(n))) of \(NumberText.grouped(Int(total))) procedures (\(percent ?? "?") %)")
                attrs.append([("data-facility", f), ("data-modality", m), ("data-value", dataValue(n)), ("data-percent", percent)])
                rows.append([f, m, NumberText.grouped(Int(n)), percent ?? ""])
            }
            return BarCategory(label: f, values: values, tooltips: tips, attributes: attrs)
        }
        let summary = "Stacked bars, one per facility, showing each imaging or test modality's share of the facility's procedures, in percent (\(facilities.count) facilities, modalities \(modalities.joined(separator: ", "))). Hover a segment for the count."
        let table = DataTable(columns: ["facility", "modality", "procedures", "percent"], numeric: [false, false, true, true], rows: rows)
        return BarChart(id: "modality-mix", title: "Modality mix by facility", summary: summary,
                        legend: Legend(entries: zip(modalities, colors).map { ($0, $1) }),
                        panels: [(nil, HorizontalBarPanel(categories: categories, colors: colors, mode: .stackedPercent,
                                                          valueTitle: "Share of the facility's procedures (%)", labelWidth: 270, barHeight: 18))]).chart(table: table)
    }

    // MARK: procedures and diagnoses per encounter

    static func perEncounter(_ r: QueryResult) -> Chart {
        var categories: [BarCategory] = []
        var rows: [[String]] = []
        var parts: [String] = []
        for i in r.rows.indices {
            let source = r.value(i, "source"), type = r.value(i, "encounter_type")
            let label = source == nil ? "all sources" : "\(source ?? "") · \(type ?? "all types")"
            let p = r.value(i, "avg_procedures"), d = r.value(i, "avg_diagnoses")
            let encounters = Int(r.value(i, "encounters") ?? "") ?? 0
            let base: [Markup.Attribute] = [("data-source", source ?? ""), ("data-encounter-type", type ?? "")]
            categories.append(BarCategory(
                label: label, values: [Double(p ?? "") ?? .nan, Double(d ?? "") ?? .nan],
                tooltips: ["\(label): \(p ?? "–") procedures per encounter (\(NumberText.grouped(encounters)) encounters)",
                           "\(label): \(d ?? "–") diagnoses per encounter (\(NumberText.grouped(encounters)) encounters)"],
                attributes: [base + [("data-series", "procedures"), ("data-value", p)], base + [("data-series", "diagnoses"), ("data-value", d)]]))
            rows.append([source ?? "all", type ?? "all", NumberText.grouped(encounters), p ?? "", d ?? ""])
            parts.append("\(label): \(p ?? "–") procedures, \(d ?? "–") diagnoses")
        }
        let summary = "Grouped bars of the mean number of procedures and of diagnoses per encounter, for each source and encounter type, each source overall and all sources. "
            + parts.joined(separator: "; ") + "."
        let table = DataTable(columns: ["source", "encounter type", "encounters", "procedures per encounter", "diagnoses per encounter"],
                              numeric: [false, false, true, true, true], rows: rows)
        let colors = [ChartStyle.palette[0], ChartStyle.palette[1]]
        return BarChart(id: "per-encounter", title: "Procedures and diagnoses per encounter", summary: summary,
                        legend: Legend(entries: [("procedures per encounter", colors[0]), ("diagnoses per encounter", colors[1])]),
                        panels: [(nil, HorizontalBarPanel(categories: categories, colors: colors, mode: .grouped,
                                                          valueTitle: "Mean per encounter (count)", valueLabel: { NumberText.grouped($0, decimals: 2) },
                                                          labelWidth: 190, barHeight: 15, counts: false))]).chart(table: table)
    }
}
