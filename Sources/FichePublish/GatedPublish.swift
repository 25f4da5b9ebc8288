// Write-audit-publish: the warehouse is built (or read from the lake), the quality gates judge
// it, and only then is it published; the row counts in PostgreSQL are checked in the staging
// schema before the swap. A failed error gate throws `QualityGateFailure` and the live
// warehouse is left exactly as it was.

import FicheLake
import FicheWarehouse
import Foundation

/// What a gated publish did.
public struct GatedPublishResult: Sendable {
    /// Warehouse rows per table, as published.
    public var rows: [(table: String, rows: Int)]
    /// The build's stages (a rebuild's build, or a publish's audit build of the lake).
    public var buildStages: [(stage: String, seconds: Double)]
    public var quality: QualityReport
    public var publish: PublishReport
}

public enum GatedPublish {
    /// The nightly rebuild: build the warehouse from the lake (saving new keys), check it, and
    /// publish it. Throws `QualityGateFailure` (with the report) if an error gate fails.
    public static func rebuild(lake: Lake, to target: DatabaseTarget, options: PublishOptions,
                               config: QualityConfig, history: [Int] = [],
                               onChecked: ((QualityReport) -> Void)? = nil) throws -> GatedPublishResult {
        let built = try buildWarehouse(lake: lake, options: BuildOptions())
        return try checkAndPublish(lake: lake, tables: built.tables, build: built.report, stages: built.report.stageSeconds,
                                   to: target, options: options, config: config, history: history, onChecked: onChecked)
    }

    /// Publishes the warehouse tables `fiche build` wrote into the lake, after checking them
    /// against the lake as it is now (an audit build in memory gives the lake's row accounting;
    /// it saves no keys and writes nothing).
    public static func publishStored(lake: Lake, to target: DatabaseTarget, options: PublishOptions,
                                     config: QualityConfig, history: [Int] = [],
                                     onChecked: ((QualityReport) -> Void)? = nil) throws -> GatedPublishResult {
        let audit = try buildWarehouse(lake: lake, options: BuildOptions(), saveKeys: false).report
        let tables = try WarehouseLakeReader.read(lake)
        return try checkAndPublish(lake: lake, tables: tables, build: audit, stages: audit.stageSeconds,
                                   to: target, options: options, config: config, history: history, onChecked: onChecked)
    }

    static func checkAndPublish(lake: Lake, tables: [(name: String, batch: Batch)], build: BuildReport,
                                stages: [(stage: String, seconds: Double)], to target: DatabaseTarget,
                                options: PublishOptions, config: QualityConfig, history: [Int],
                                onChecked: ((QualityReport) -> Void)?) throws -> GatedPublishResult {
        var quality = try QualityGate.run(QualityGate.Input(lake: lake, tables: tables, build: build, history: history), config: config)
        onChecked?(quality)
        guard quality.passed else { throw QualityGateFailure(report: quality) }
        let expected = tables.map { ($0.name, $0.batch.rowCount) }
        let before = quality
        let postLoad = PostLoadResults()
        var o = options
        o.beforeSwap = { connection, staging in
            let start = DispatchTime.now().uptimeNanoseconds
            let results = try PublishedRowCounts.check(connection, schema: staging, expected: expected, config: config)
            var report = before
            report.results += results
            report.seconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            postLoad.set(report)
            if !report.passed { throw QualityGateFailure(report: report) }
        }
        let published = try WarehousePublisher.publish(tables: tables, to: target, options: o)
        quality = postLoad.get() ?? quality
        return GatedPublishResult(rows: expected.map { (table: $0.0, rows: $0.1) }, buildStages: stages, quality: quality,
                                  publish: published)
    }
}

/// Hands the post-load report out of the publisher's hook.
final class PostLoadResults: @unchecked Sendable {
    private var report: QualityReport?
    private let lock = NSLock()
    func set(_ r: QualityReport) { lock.lock(); report = r; lock.unlock() }
    func get() -> QualityReport? { lock.lock(); defer { lock.unlock() }; return report }
}
