// The HTML report and its SVG charts, read back with an XML parser: every chart's marks hold
// exactly the rows the analytics queries return from a real PostgreSQL, gaps break lines,
// strings from the database are escaped, and nothing is fetched from the network.

@testable import FichePublish
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

@Suite struct HTMLReportTests {
    /// A published fixture with a two-month gap (March and April 2015 have no encounters) and
    /// a facility whose name is markup, plus the report data read from it.
    static func publishedReport() throws -> (schema: String, data: WarehouseReportData, connection: PostgresConnection) {
        let schema = TestDatabase.uniqueSchema("t_html")
        let fixture = WarehouseFixture(seed: 21, patients: 12, encountersPerMonth: 25, months: [201501, 201502, 201505, 201506])
        try WarehousePublisher.publish(tables: fixture.tables, to: TestDatabase.target(), options: options(schema))
        let c = try TestDatabase.connect()
        try c.execute("UPDATE \(schema).dim_facility SET facility_name = '<script>alert(\"x\")</script> & Sons'' \u{1} clinic' WHERE facility_key = 1")
        let data = try WarehouseReportData.load(c, schema: try SQLIdentifier(schema))
        return (schema, data, c)
    }

    @Test func everyChartHoldsTheQueryResults() throws {
        let (schema, data, c) = try Self.publishedReport()
        defer { TestDatabase.drop(schema) }
        let charts = ReportCharts.all(data)
        let html = HTMLReport.render(data, charts: charts)
        let page = try XMLDocument(data: Data(html.utf8), options: [])
        let all = elements(page.rootElement())

        // The same SQL as sql/analytics_queries.sql, run here again.
        try c.execute("SET search_path = \(schema)")
        func run(_ name: String) throws -> QueryResult { try c.query(try #require(AnalyticsQueries.named(name)).sql) }

        // Monthly encounters: one point per (source, month) row, one line per run of months.
        let monthly = try run("monthly_encounters_by_source")
        let points: [[String?]] = marks(all, chart: "monthly-encounters", name: "circle").map { [$0["data-series"], $0["data-month"], $0["data-value"]] }
        let expected: [[String?]] = monthly.rows.map { row in [row[0], month(row[1], row[2]), row[3]] }
        #expect(points == expected)
        #expect(!expected.isEmpty)
        let runs = marks(all, chart: "monthly-encounters", name: "path").filter { $0["class"] == "run" }
        // Every source has data in 2015-01, -02, -05, -06: two runs per source, the gap between.
        let sources = Set(monthly.rows.map { $0[0]! })
        #expect(runs.count == 2 * sources.count)
        #expect(Set(runs.map { "\($0["data-from"]!)..\($0["data-to"]!)" }) == ["2015-01..2015-02", "2015-05..2015-06"])

        // Top diagnoses by age group: one bar per row, in the query's order.
        let top = try run("top_diagnoses_by_age_group")
        let bars = marks(all, chart: "top-diagnoses", name: "rect").filter { $0["class"] == "bar" }
        let barValues: [[String?]] = bars.map { [$0["data-age-group"], $0["data-code"], $0["data-value"], $0["data-patients"]] }
        let topRows: [[String?]] = top.rows.map { row in [row[0] ?? "unknown", row[1], row[3], row[4]] }
        #expect(barValues == topRows)

        // Modality mix: one segment per (facility, modality) with its count and percent.
        let mix = try run("modality_mix_by_facility")
        let segments = marks(all, chart: "modality-mix", name: "rect").filter { $0["class"] == "bar" }
        let segmentValues: Set<[String?]> = Set(segments.map { [$0["data-facility"], $0["data-modality"], $0["data-value"], $0["data-percent"]] })
        // (XML cannot carry the control character: it became U+FFFD.)
        let mixRows: Set<[String?]> = Set(mix.rows.map { row in [row[0]?.replacingOccurrences(of: "\u{1}", with: "\u{FFFD}"), row[1], row[2], row[3]] })
        #expect(segmentValues == mixRows)
        #expect(segments.count == mix.rows.count)
        // The markup in the facility name came through as text, its control character replaced.
        #expect(segments.contains { $0["data-facility"] == "<script>alert(\"x\")</script> & Sons' \u{FFFD} clinic" })
        #expect(!html.contains("<script"))

        // Procedures and diagnoses per encounter: two bars per row (ROLLUP rows included).
        let per = try run("average_procedures_per_encounter")
        let perBars = marks(all, chart: "per-encounter", name: "rect").filter { $0["class"] == "bar" }
        let perValues: [[String?]] = perBars.map { [$0["data-source"], $0["data-encounter-type"], $0["data-series"], $0["data-value"]] }
        var perRows: [[String?]] = []
        for row in per.rows {
            perRows.append([row[0] ?? "", row[1] ?? "", "procedures", row[3]])
            perRows.append([row[0] ?? "", row[1] ?? "", "diagnoses", row[4]])
        }
        #expect(perValues == perRows)

        // High-volume patients: the table's rows in order, each sparkline's months and visits.
        let patients = try run("high_volume_patients")
        let rows = all.filter { $0.localName == "tr" && $0.attr("data-patient-key") != nil }
        #expect(rows.map { $0.attr("data-patient-key") } == patients.rows.map { $0[0] })
        #expect(rows.map { $0.attr("data-visits") } == patients.rows.map { $0[5] })
        #expect(!rows.isEmpty)
        let visits = try run("high_volume_patient_visits")
        for row in rows {
            let key = row.attr("data-patient-key")
            let spark: [[String?]] = elements(row).filter { $0.localName == "rect" }.map { [$0.attr("data-month"), $0.attr("data-value")] }
            let want: [[String?]] = visits.rows.filter { $0[0] == key }.map { r in [month(r[1], r[2]), r[3]] }
            #expect(spark == want, "sparkline of patient \(key ?? "?")")
        }

        // The header's row counts are the tables' counts.
        let facts = try c.query("SELECT count(*) FROM fact_encounters")
        #expect(data.rowCounts.first { $0.table == "fact_encounters" }?.rows == Int(facts.rows[0][0] ?? ""))
        #expect(data.publishedAt != nil, "publishing ANALYZEs the schema, so its time is known")
    }

    @Test func theHeaderNamesTheLakeVersionsThePublisherRecorded() throws {
        let (schema, data, c) = try Self.publishedReport()
        defer { TestDatabase.drop(schema) }
        // Until a publisher records them there are none, and the page says so.
        if data.lakeVersions.isEmpty {
            #expect(HTMLReport.render(data, charts: []).contains("not recorded by this warehouse"))
            // The publisher's record: a row `lake:<table>` per lake table, the version in row_count.
            try c.execute("CREATE TABLE \(schema)._fiche_publish (item text NOT NULL, month integer, row_count bigint NOT NULL, checksum bigint NOT NULL)")
            try c.execute("INSERT INTO \(schema)._fiche_publish VALUES ('format', NULL, 0, 42), ('lake:encounters', NULL, 7, 0), ('lake:patients', NULL, 3, 0), ('fact_encounters', 201501, 25, 99)")
        }
        let versions = try WarehouseReportData.lakeVersions(c, schema: try SQLIdentifier(schema))
        #expect(!versions.isEmpty && versions.allSatisfy { Int($0.version) != nil && !$0.table.isEmpty })
        var withVersions = data
        withVersions.lakeVersions = versions
        let page = try XMLDocument(data: Data(HTMLReport.render(withVersions, charts: []).utf8), options: [])
        let shown = elements(page.rootElement()).first { $0.attr("class") == "versions" }?.stringValue
        #expect(shown == versions.map { "\($0.table) v\($0.version)" }.joined(separator: ", "))
    }

    @Test func chartsAreAccessibleAndSelfContained() throws {
        let (schema, data, _) = try Self.publishedReport()
        defer { TestDatabase.drop(schema) }
        let charts = ReportCharts.all(data)
        let html = HTMLReport.render(data, charts: charts)
        let page = try XMLDocument(data: Data(html.utf8), options: [])
        let all = elements(page.rootElement())
        let ids = Set(all.compactMap { $0.attr("id") })
        let svgs = all.filter { $0.localName == "svg" && $0.attr("class") == "chart" }
        #expect(svgs.count == charts.count)
        for svg in svgs {
            let id = svg.attr("data-chart") ?? "?"
            #expect(svg.attr("role") == "img", "\(id) role")
            let labels = (svg.attr("aria-labelledby") ?? "").split(separator: " ").map(String.init)
            #expect(labels.count == 2 && labels.allSatisfy(ids.contains), "\(id) aria-labelledby names its title and desc")
            let children = (svg.children ?? []).compactMap { $0 as? XMLElement }
            #expect(children.first?.localName == "title" && !(children.first?.stringValue ?? "").isEmpty, "\(id) title")
            #expect(children.dropFirst().first?.localName == "desc" && (children.dropFirst().first?.stringValue ?? "").count > 20, "\(id) desc")
            let axisTitles = elements(svg).filter { $0.attr("class") == "axis-title" }.compactMap(\.stringValue)
            #expect(!axisTitles.isEmpty && axisTitles.allSatisfy { $0.contains("(") }, "\(id) axis titles name their unit: \(axisTitles)")
        }
        // Nothing from elsewhere: no script, no link, no external reference of any kind.
        #expect(all.allSatisfy { !["script", "link", "iframe", "img", "object", "embed"].contains($0.localName ?? "") })
        for e in all {
            for a in e.attributes ?? [] where ["href", "src", "xlink:href"].contains(a.name ?? "") { Issue.record("external reference \(a.name ?? "")=\(a.stringValue ?? "")") }
        }
        #expect(!html.contains("url(") && !html.contains("@import"))
        let outside = html.replacingOccurrences(of: "http://www.w3.org/", with: "")
        #expect(!outside.contains("http:") && !outside.contains("https:") && !outside.contains("//cdn"))

        // Every chart also stands alone as an SVG file that parses and holds the same marks.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fiche-svg-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let paths = try ReportFiles.writeSVGs(charts, to: dir)
        #expect(paths.count == charts.count)
        for (chart, path) in zip(charts, paths) {
            let doc = try XMLDocument(contentsOf: URL(fileURLWithPath: path), options: [])
            let root = try #require(doc.rootElement())
            #expect(root.localName == "svg" && root.uri == "http://www.w3.org/2000/svg", "\(path) is an SVG document")
            let inline = try #require(svgs.first { $0.attr("data-chart") == chart.id })
            let marksIn = { (e: XMLElement) in elements(e).filter { $0.attr("data-value") != nil }.count }
            #expect(marksIn(root) == marksIn(inline) && marksIn(root) > 0, "\(chart.id): same marks standalone and inline")
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600, "\(path) is private")
        }
    }

    @Test func numbersAndEscaping() {
        #expect(NumberText.grouped(0) == "0")
        #expect(NumberText.grouped(999) == "999")
        #expect(NumberText.grouped(1000) == "1,000")
        #expect(NumberText.grouped(-1234567) == "-1,234,567")
        #expect(NumberText.grouped(12345.678, decimals: 2) == "12,345.68")
        #expect(NumberText.grouped(1.005, decimals: 1) == "1.0")
        #expect(NumberText.grouped(-0.001, decimals: 2) == "0.00")
        #expect(XMLText.escape("a<b>&\"c'\u{0}\t") == "a&lt;b&gt;&amp;&quot;c&#39;\u{FFFD}\t")
        let ticks = LinearScale(maximum: 2345, range: (0, 100)).ticks().map(\.label)
        #expect(ticks == ["0", "500", "1,000", "1,500", "2,000", "2,500"])
        let months = MonthScale(first: MonthIndex(year: 2007, month: 5), last: MonthIndex(year: 2024, month: 12), range: (0, 100)).ticks(maxLabels: 10)
        #expect(months.map(\.label) == ["2008", "2010", "2012", "2014", "2016", "2018", "2020", "2022", "2024"])
    }
}

/// "2015-03" from a year and a month as text.
func month(_ year: String?, _ month: String?) -> String {
    String(format: "%04d-%02d", Int(year ?? "") ?? 0, Int(month ?? "") ?? 0)
}

/// Every element below `root`, in document order, `root` included.
func elements(_ root: XMLElement?) -> [XMLElement] {
    guard let root else { return [] }
    var out = [root]
    for child in root.children ?? [] { if let e = child as? XMLElement { out += elements(e) } }
    return out
}

/// The elements named `name` inside the inline SVG of chart `chart`, as attribute dictionaries.
func marks(_ all: [XMLElement], chart: String, name: String) -> [[String: String]] {
    guard let svg = all.first(where: { $0.localName == "svg" && $0.attr("data-chart") == chart }) else { return [] }
    return elements(svg).filter { $0.localName == name }.map { e in
        Dictionary((e.attributes ?? []).compactMap { a in a.name.map { ($0, a.stringValue ?? "") } }, uniquingKeysWith: { a, _ in a })
    }
}

extension XMLElement {
    /// The value of attribute `name` (FoundationXML's `attribute(forName:)` misses attributes
    /// without a namespace on elements that have one, e.g. every attribute inside an SVG).
    func attr(_ name: String) -> String? { (attributes ?? []).first { $0.name == name }?.stringValue }
}
