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

            Before anything is loaded, the quality gates (`fiche check`, configured by \
            <lake>/checks.toml) judge the built warehouse against the lake; after loading, the row \
            counts in the staging schema are checked against the build, before the swap. A failed \
            check of severity error stops the rebuild: the live warehouse keeps serving, the report \
            (table, rule, failing count, example rows) is printed (with --json, as JSON) and the \
            exit status is 1.

            Every run is recorded in the lake's run log (`fiche runs`); --metrics-file also writes \
            its outcome for Prometheus.

            Incremental by default: the published warehouse keeps a record (the table \
            _fiche_publish) of the rows of every month of the fact and bridges and of every other \
            table, as checksums. The next rebuild compares its build with it and replaces only the \
            partitions holding a month whose rows changed (late-arriving rows for old months \
            included) and the small tables that changed, in one transaction; the result equals a \
            full rebuild. It falls back to a full rebuild, and says why, when it cannot prove that \
            safe (no record, another Fiche version, a key registry change, most months changed). \
            --full forces a full rebuild.

            Examples:
              fiche rebuild --database postgresql://fiche@127.0.0.1:5433/fiche
              fiche rebuild --metrics-file /var/lib/node_exporter/textfile_collector/fiche.prom
            """)

    @OptionGroup var lakeOptions: LakeOptions

    @OptionGroup var db: DatabaseOptions

    @OptionGroup var runOptions: RunOptions

    @OptionGroup var lock: LockOptions

    @Flag(name: .long, help: "Republish every table and partition, even if the live warehouse's publish record shows only some changed.")
    var full = false

    @OptionGroup var output: JSONOption
    var json: Bool { output.json }

    func run() throws {
        var options = db.publishOptions("rebuild", lock: lock)
        options.incremental = !full
        try recordedRun("rebuild", lakeRoot: lakeOptions.root, options: runOptions) { run in
            try reportingGateFailure("rebuild", run: run, json: json) {
                let lake = try lakeOptions.open()
                // Recorded with the published warehouse: which lake versions it was built from.
                for name in try lake.tableNames() { options.lakeVersions[name] = try lake.table(name).snapshot().version }
                let config = try QualityConfig.load(lake: lake)
                let result = try GatedPublish.rebuild(lake: lake, to: db.target, options: options, config: config,
                                                      history: RunHistory.factRows(lake))
                run.record(result)
                if !json { print(result.quality.text(), terminator: "") }
                printPublishReport(result.publish, json: json)
                try db.publishNormalized(lake, options: options, json: json)
            }
        }
    }
}
