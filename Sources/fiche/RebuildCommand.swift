import ArgumentParser
import FicheLake
import FichePublish
import FicheWarehouse
import Foundation

struct RebuildCommand: ParsableCommand, NamesItselfInEveryFailure {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "The nightly rebuild: build the warehouse from the lake and publish it atomically.",
        discussion: """
            Builds the star schema from the lake's clinical tables in memory (as `fiche build` does, \
            keeping every surrogate key stable), loads it into a fresh staging \
            schema (binary COPY, two connections, keys and indexes after the data, ANALYZE) and swaps \
            it with the live schema in one short transaction. A reader querying throughout sees the \
            old warehouse or the new one. An advisory lock keeps two publishers apart: the second \
            waits, or fails at once with --no-wait. Any failure leaves the previous warehouse intact, \
            and the next run succeeds.

            Incremental by default: the published warehouse keeps a record (the table \
            _fiche_publish) of the rows of every month of the fact and bridges and of every other \
            table, as checksums. The next rebuild compares its build with it and replaces only the \
            partitions holding a month whose rows changed (late-arriving rows for old months \
            included) and the small tables that changed, in one transaction; the result equals a \
            full rebuild. It falls back to a full rebuild, and says why, when it cannot prove that \
            safe (no record, another Fiche version, a key registry change, most months changed). \
            --full forces a full rebuild.

            Example:
              fiche rebuild --database postgresql://fiche@127.0.0.1:5433/fiche
            """)

    @OptionGroup var lakeOptions: LakeOptions

    @OptionGroup var db: DatabaseOptions

    @Flag(name: .long, help: "Fail at once if another publisher holds the lock, instead of waiting.")
    var noWait = false

    @Flag(name: .long, help: "Republish every table and partition, even if the live warehouse's publish record shows only some changed.")
    var full = false

    @Flag(name: .long, help: "Print the summary as JSON.")
    var json = false

    func run() throws {
        var options = PublishOptions()
        options.schema = db.schema
        options.waitForLock = !noWait
        options.progress = progressPrinter("rebuild")
        options.incremental = !full
        let lake = try lakeOptions.open()
        // Recorded with the published warehouse: which lake versions it was built from.
        for name in try lake.tableNames() { options.lakeVersions[name] = try lake.table(name).snapshot().version }
        let tables = try warehouseTables(lake)
        printPublishReport(try WarehousePublisher.publish(tables: tables, to: db.target, options: options), json: json)
        try db.publishNormalized(lake, options: options, json: json)
    }

    /// The warehouse built in memory from the lake (new surrogate keys saved to the lake's key
    /// registry), streamed straight into the load.
    private func warehouseTables(_ lake: Lake) throws -> [(name: String, batch: Batch)] {
        let built = try buildWarehouse(lake: lake, options: BuildOptions())
        if Terminal.stderrIsTTY {
            FileOutput.standardError.write("rebuild: built \(built.tables.count) warehouse tables from \(lake.root)\n")
        }
        return built.tables
    }
}
