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

            Example:
              fiche rebuild --database postgresql://fiche@127.0.0.1:5433/fiche
            """)

    @OptionGroup var lakeOptions: LakeOptions

    @OptionGroup var db: DatabaseOptions

    @Flag(name: .long, help: "Fail at once if another publisher holds the lock, instead of waiting.")
    var noWait = false

    @Flag(name: .long, help: "Print the summary as JSON.")
    var json = false

    func run() throws {
        var options = PublishOptions()
        options.schema = db.schema
        options.waitForLock = !noWait
        options.progress = progressPrinter("rebuild")
        let lake = try lakeOptions.open()
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
