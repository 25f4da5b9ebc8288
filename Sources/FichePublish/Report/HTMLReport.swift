// The report as one self-contained HTML page: a header saying what warehouse it describes,
// the charts inline as SVG, each with a caption and its data as a table, and the high-volume
// patients as a table with a sparkline per patient. No script, font, stylesheet or image is
// fetched from anywhere (a Content-Security-Policy says so to the browser); it prints on A4.
// The page is also well-formed XML (polyglot XHTML), so tests read it with an XML parser.

import Foundation

public enum HTMLReport {
    public static func render(_ data: WarehouseReportData, charts: [Chart]) -> String {
        var m = Markup()
        m.start("html", [("xmlns", "http://www.w3.org/1999/xhtml"), ("lang", "en")])
        m.start("head")
        m.empty("meta", [("charset", "utf-8")])
        m.empty("meta", [("name", "viewport"), ("content", "width=device-width, initial-scale=1")])
        m.empty("meta", [("http-equiv", "Content-Security-Policy"), ("content", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")])
        m.leaf("title", [], "Fiche warehouse report — \(data.schema)")
        // Raw text in HTML: written as is (it holds no "<" or "&", so it is also valid XML).
        m.raw("<style>\(stylesheet)</style>")
        m.close()
        m.start("body")
        header(&m, data)
        m.start("main")
        let intros = [
            "monthly-encounters": "How many encounters (visits and imaging studies) each source recorded in each calendar month. Months are evenly spaced on the time axis; a month without data breaks the line.",
            "top-diagnoses": "The most frequent diagnoses of each patient age group (age at the warehouse's as-of date). Long names are shortened; hover a bar or a name for the full name and the counts.",
            "modality-mix": "Which kinds of procedure each facility performs, as a share of its procedures. Hover a segment for the number of procedures.",
            "per-encounter": "The mean number of procedures performed and diagnoses recorded per encounter, by source and encounter type.",
        ]
        for chart in charts {
            m.start("section", [("id", chart.id), ("aria-labelledby", "\(chart.id)-heading")])
            m.leaf("h2", [("id", "\(chart.id)-heading")], chart.title)
            if let intro = intros[chart.id] { m.leaf("p", [("class", "intro")], intro) }
            m.start("figure")
            m.raw(chart.svg(standalone: false))
            m.leaf("figcaption", [], chart.summary)
            m.close()
            m.start("details")
            m.leaf("summary", [], "Data table (\(NumberText.grouped(chart.table.rows.count)) rows)")
            table(&m, chart.table, caption: chart.title)
            m.close()
            m.close()
        }
        highVolumePatients(&m, data)
        m.close()
        m.start("footer")
        m.leaf("p", [], "Made by fiche report --html from schema \(data.schema). The queries are those of sql/analytics_queries.sql (fiche report --print-sql); every chart’s numbers are in its data table.")
        m.close()
        m.close()
        m.close()
        precondition(m.isBalanced)
        return "<!DOCTYPE html>\n" + m.text
    }

    // MARK: header

    private static func header(_ m: inout Markup, _ data: WarehouseReportData) {
        m.start("header")
        m.leaf("h1", [], "Clinical warehouse report")
        m.start("dl", [("class", "facts")])
        m.leaf("dt", [], "Warehouse")
        m.leaf("dd", [], "PostgreSQL schema \(data.schema)")
        m.leaf("dt", [], "Published")
        if let published = data.publishedAt {
            m.leaf("dd", [("data-published", published)], published, tooltip: data.publishedAtSource)
        } else {
            m.leaf("dd", [], "not recorded")
        }
        m.leaf("dt", [], "Lake versions")
        if data.lakeVersions.isEmpty {
            m.leaf("dd", [("class", "muted")], "not recorded by this warehouse")
        } else {
            m.leaf("dd", [("class", "versions")], data.lakeVersions.map { "\($0.table) v\($0.version)" }.joined(separator: ", "))
        }
        let monthly = data.result("monthly_encounters_by_source")
        let months = monthly.rows.indices.compactMap { i -> MonthIndex? in
            guard let y = Int(monthly.value(i, "year") ?? ""), let mo = Int(monthly.value(i, "month") ?? "") else { return nil }
            return MonthIndex(year: y, month: mo)
        }
        if let first = months.min(), let last = months.max() {
            let sources = Set(monthly.column("source").compactMap { $0 }).sorted()
            m.leaf("dt", [], "Encounters")
            m.leaf("dd", [], "\(first.longLabel) to \(last.longLabel), from \(sources.count) source\(sources.count == 1 ? "" : "s") (\(sources.joined(separator: ", ")))")
        }
        m.leaf("dt", [], "Report made")
        m.leaf("dd", [], utc(data.generatedAt))
        m.close()

        let rows = Dictionary(data.rowCounts.map { ($0.table, $0.rows) }, uniquingKeysWith: { a, _ in a })
        let headline: [(String, String)] = [("fact_encounters", "encounters"), ("dim_patient", "patients"), ("dim_facility", "facilities"),
                                            ("bridge_encounter_procedure", "procedure rows"), ("bridge_encounter_diagnosis", "diagnosis rows")]
        m.start("ul", [("class", "figures")])
        for (table, noun) in headline {
            guard let n = rows[table] else { continue }
            m.start("li")
            m.leaf("strong", [], NumberText.grouped(n))
            m.leaf("span", [], noun)
            m.close()
        }
        m.close()

        m.start("details", [("class", "row-counts")])
        m.leaf("summary", [], "Row counts of the \(data.rowCounts.count) warehouse tables (\(NumberText.grouped(data.rowCounts.reduce(0) { $0 + $1.rows })) rows)")
        table(&m, DataTable(columns: ["table", "rows"], numeric: [false, true],
                            rows: data.rowCounts.map { [$0.table, NumberText.grouped($0.rows)] }), caption: "Rows per warehouse table")
        m.close()
        m.close()
    }

    // MARK: high-volume patients

    private static func highVolumePatients(_ m: inout Markup, _ data: WarehouseReportData) {
        let patients = data.result("high_volume_patients")
        let visits = data.result("high_volume_patient_visits")
        var byPatient: [String: [(month: MonthIndex, value: Int)]] = [:]
        for i in visits.rows.indices {
            guard let key = visits.value(i, "patient_key"), let y = Int(visits.value(i, "year") ?? ""),
                  let mo = Int(visits.value(i, "month") ?? ""), let n = Int(visits.value(i, "visits") ?? "") else { continue }
            byPatient[key, default: []].append((MonthIndex(year: y, month: mo), n))
        }
        m.start("section", [("id", "high-volume-patients"), ("aria-labelledby", "high-volume-heading")])
        m.leaf("h2", [("id", "high-volume-heading")], "High-volume patients")
        m.leaf("p", [("class", "intro")], "Patients with 5 or more encounters, the candidates for chronic-care follow-up (at most 50, most visits first). The last column shows each patient's visits per calendar month from the first to the last visit, scaled to the patient's own busiest month.")
        guard !patients.rows.isEmpty else {
            m.leaf("p", [], "No patient has 5 or more encounters.")
            m.close()
            return
        }
        m.start("div", [("class", "table-scroll")])
        m.start("table", [("class", "patients")])
        m.leaf("caption", [], "\(NumberText.grouped(patients.rows.count)) patients with 5 or more encounters")
        m.start("thead")
        m.start("tr")
        let headings: [(String, Bool)] = [("patient key", true), ("source", false), ("source id", false), ("sex", false), ("age group", false),
                                         ("visits", true), ("first visit", false), ("last visit", false), ("procedures", true), ("visits per month", false)]
        for (h, numeric) in headings { m.leaf("th", [("scope", "col"), ("class", numeric ? "num" : nil)], h) }
        m.close()
        m.close()
        m.start("tbody")
        for i in patients.rows.indices {
            let key = patients.value(i, "patient_key") ?? ""
            m.start("tr", [("data-patient-key", key), ("data-visits", patients.value(i, "visits"))])
            m.leaf("td", [("class", "num")], key)
            m.leaf("td", [], patients.value(i, "source") ?? "")
            let sourceId = patients.value(i, "source_id") ?? ""
            if sourceId.count > 14 {
                m.leaf("td", [("class", "id")], String(sourceId.prefix(12)) + "…", tooltip: sourceId)
            } else {
                m.leaf("td", [("class", "id")], sourceId)
            }
            m.leaf("td", [], patients.value(i, "sex") ?? "–")
            m.leaf("td", [], patients.value(i, "age_group") ?? "unknown")
            m.leaf("td", [("class", "num")], patients.value(i, "visits").flatMap(Int.init).map(NumberText.grouped) ?? "")
            m.leaf("td", [("class", "date")], patients.value(i, "first_visit") ?? "")
            m.leaf("td", [("class", "date")], patients.value(i, "last_visit") ?? "")
            m.leaf("td", [("class", "num")], patients.value(i, "procedures").flatMap(Int.init).map(NumberText.grouped) ?? "")
            m.start("td", [("class", "spark")])
            m.raw(Sparkline(points: byPatient[key] ?? [], unit: "visits", label: "Patient \(key)").svg())
            m.close()
            m.close()
        }
        m.close()
        m.close()
        m.close()
        m.close()
    }

    // MARK: parts

    private static func table(_ m: inout Markup, _ t: DataTable, caption: String) {
        m.start("div", [("class", "table-scroll")])
        m.start("table", [("class", "data")])
        m.leaf("caption", [], caption)
        m.start("thead")
        m.start("tr")
        for (c, numeric) in zip(t.columns, t.numeric) { m.leaf("th", [("scope", "col"), ("class", numeric ? "num" : nil)], c) }
        m.close()
        m.close()
        m.start("tbody")
        for row in t.rows {
            m.start("tr")
            for (v, numeric) in zip(row, t.numeric) { m.leaf("td", [("class", numeric ? "num" : nil)], v) }
            m.close()
        }
        m.close()
        m.close()
        m.close()
    }

    private static func utc(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return f.string(from: date)
    }

    private static let stylesheet = """

        :root { color-scheme: light; }
        body { margin: 0; background: #f4f4f1; color: #222; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", Arial, sans-serif; }
        header, main, footer { max-width: 960px; margin: 0 auto; padding: 0 20px; }
        header { padding-top: 22px; }
        h1 { font-size: 26px; margin: 0 0 10px; }
        h2 { font-size: 19px; margin: 0 0 4px; }
        .facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0 0 14px; }
        .facts dt { color: #555; }
        .facts dd { margin: 0; }
        .muted { color: #666; font-style: italic; }
        .figures { display: flex; flex-wrap: wrap; gap: 10px; list-style: none; padding: 0; margin: 0 0 10px; }
        .figures li { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 8px 14px; min-width: 120px; }
        .figures strong { display: block; font-size: 22px; font-variant-numeric: tabular-nums; }
        .figures span { color: #555; font-size: 13px; }
        section { background: #fff; border: 1px solid #e0e0dc; border-radius: 8px; padding: 16px 20px 12px; margin: 18px 0; }
        .intro { margin: 0 0 10px; color: #444; max-width: 78ch; }
        figure { margin: 0; }
        svg.chart { display: block; width: 100%; max-width: 920px; height: auto; }
        figcaption { font-size: 13px; color: #555; margin-top: 6px; max-width: 90ch; }
        details { margin-top: 8px; }
        summary { cursor: pointer; color: #0b5394; font-size: 14px; }
        .table-scroll { overflow-x: auto; }
        table { border-collapse: collapse; font-size: 13px; margin: 8px 0; font-variant-numeric: tabular-nums; }
        caption { text-align: left; font-weight: 600; padding: 4px 0; }
        th, td { padding: 3px 10px 3px 0; border-bottom: 1px solid #eee; text-align: left; vertical-align: middle; white-space: nowrap; }
        th { border-bottom: 1px solid #999; font-weight: 600; }
        .num { text-align: right; }
        td.id { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; }
        td.spark svg { display: block; }
        footer { color: #666; font-size: 13px; padding-bottom: 30px; }
        @media print {
          @page { size: A4; margin: 14mm; }
          body { background: #fff; font-size: 10pt; }
          header, main, footer { max-width: none; padding: 0; }
          section { border: none; padding: 0; margin: 0 0 8mm; break-inside: avoid; }
          .figures li { border-color: #999; }
          details { display: none; }
          #high-volume-patients { break-inside: auto; }
          .table-scroll { overflow: visible; }
          table.patients { font-size: 8pt; }
          table.patients th, table.patients td { padding-right: 6px; }
          td.spark svg { width: 110px; height: 20px; }
          thead { display: table-header-group; }
          tr { break-inside: avoid; }
          svg { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
        }

        """
}
