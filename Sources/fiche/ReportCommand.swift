import ArgumentParser
import FichePublish
import Foundation

struct ReportCommand: ParsableCommand, NamesItselfInEveryFailure {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Answer the analytics questions from the published warehouse.",
        discussion: """
            Runs the queries of sql/analytics_queries.sql against the published schema and prints \
            each result as an aligned table (or CSV, or JSON). Queries:
            \(AnalyticsQueries.all.map { "  \($0.name): \($0.title)" }.joined(separator: "\n"))

            Chart detail queries (drawn by --html and --svg; answered only when named with --query):
            \(AnalyticsQueries.chartDetails.map { "  \($0.name): \($0.title)" }.joined(separator: "\n"))

            --html FILE writes the answers as one self-contained web page with charts (inline \
            SVG, nothing fetched from the network, printable); --svg DIR writes each chart as \
            its own SVG file. Either replaces the text output.

            Examples:
              fiche report
              fiche report --query high_volume_patients --format csv > patients.csv
              fiche report --html report.html --svg charts/
            """)

    @OptionGroup var db: DatabaseOptions

    @Option(name: .long, help: ArgumentHelp("Run only this query (repeatable).", valueName: "name"))
    var query: [String] = []

    @Option(name: .long, help: "table, csv or json.")
    var format: String = "table"

    @Flag(name: .long, help: "Print the queries (sql/analytics_queries.sql) and exit.")
    var printSql = false

    @Option(name: .long, help: ArgumentHelp("Write the report as a self-contained HTML page with charts.", valueName: "file"))
    var html: String?

    @Option(name: .long, help: ArgumentHelp("Write each chart as a standalone SVG file into this folder.", valueName: "dir"))
    var svg: String?

    func validate() throws {
        guard ReportFormat(rawValue: format) != nil else { throw ValidationError("--format must be table, csv or json") }
        for name in query where AnalyticsQueries.named(name) == nil {
            throw ValidationError("unknown query \(name); one of: \((AnalyticsQueries.all + AnalyticsQueries.chartDetails).map(\.name).joined(separator: ", "))")
        }
        if html != nil || svg != nil {
            guard query.isEmpty, format == "table" else { throw ValidationError("--html and --svg draw the whole report: leave out --query and --format") }
            if html?.isEmpty == true || svg?.isEmpty == true { throw ValidationError("--html and --svg need a path") }
        }
    }

    func run() throws {
        if printSql {
            print(AnalyticsQueries.script(), terminator: "")
            return
        }
        if html != nil || svg != nil {
            try writeCharts()
            return
        }
        let queries = query.isEmpty ? AnalyticsQueries.all : query.compactMap(AnalyticsQueries.named)
        let schema = try SQLIdentifier(db.schema)
        let connection = try PostgresConnection(db.target, applicationName: "fiche report")
        guard try connection.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = $1", [schema.name]) == "1" else {
            throw CommandFailure("report: no published warehouse in schema \(schema.name) (run `fiche rebuild` or `fiche publish` first)")
        }
        try connection.execute("SET search_path = \(schema.quoted)")
        var json: [[String: Any]] = []
        for (i, q) in queries.enumerated() {
            let result = try connection.query(q.sql)
            switch ReportFormat(rawValue: format) ?? .table {
            case .table:
                print((i > 0 ? "\n" : "") + "\(q.title)\n")
                print(ReportFormatter.table(result), terminator: "")
            case .csv:
                if queries.count > 1 { print((i > 0 ? "\n" : "") + "# \(q.name)") }
                print(ReportFormatter.csv(result), terminator: "")
            case .json:
                json.append(["query": q.name, "title": q.title, "columns": result.columns, "rows": ReportFormatter.jsonObjects(result)])
            }
        }
        if format == "json" {
            print(JSONText.document(json))
        }
    }

    /// `--html` / `--svg`: the report as pictures.
    private func writeCharts() throws {
        let schema = try SQLIdentifier(db.schema)
        let connection = try PostgresConnection(db.target, applicationName: "fiche report")
        let data = try WarehouseReportData.load(connection, schema: schema)
        let charts = ReportCharts.all(data)
        if let html {
            try ReportFiles.write(HTMLReport.render(data, charts: charts), to: html)
            print("wrote \(html) (\(charts.count) charts, \(data.result("high_volume_patients").rows.count) high-volume patients)")
        }
        if let svg {
            for path in try ReportFiles.writeSVGs(charts, to: svg) { print("wrote \(path)") }
        }
    }
}
