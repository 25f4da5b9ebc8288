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

            Examples:
              fiche report
              fiche report --query high_volume_patients --format csv > patients.csv
            """)

    @OptionGroup var db: DatabaseOptions

    @Option(name: .long, help: ArgumentHelp("Run only this query (repeatable).", valueName: "name"))
    var query: [String] = []

    @Option(name: .long, help: "table, csv or json.")
    var format: String = "table"

    @Flag(name: .long, help: "Print the queries (sql/analytics_queries.sql) and exit.")
    var printSql = false

    func validate() throws {
        guard ReportFormat(rawValue: format) != nil else { throw ValidationError("--format must be table, csv or json") }
        for name in query where AnalyticsQueries.named(name) == nil {
            throw ValidationError("unknown query \(name); one of: \(AnalyticsQueries.all.map(\.name).joined(separator: ", "))")
        }
    }

    func run() throws {
        if printSql {
            print(AnalyticsQueries.script(), terminator: "")
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
            let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }
}
