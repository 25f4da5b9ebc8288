import FicheLake
import Foundation
import Testing

/// generate → ingest → build through the real binary, then the warehouse tables in the lake.
@Suite("fiche generate, ingest and build", .serialized)
struct PipelineCommandTests {
    @Test func generateIngestBuildThenDumpTheWarehouse() throws {
        let lake = try scratchDirectory("pipeline") + "/lake"
        let gen = try FicheBinary.run(["generate", "--lake", lake, "--patients", "300", "--seed", "3", "--json"])
        #expect(gen.status == 0, "\(gen.stderr)")
        let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("FicheSourcesTests/Fixtures/padchest_sample.csv").path
        let ingest = try FicheBinary.run(["ingest", "padchest", "--lake", lake, sample])
        #expect(ingest.status == 0, "\(ingest.stderr)")

        let build = try FicheBinary.run(["build", "--lake", lake, "--json"])
        #expect(build.status == 0, "\(build.stderr)")
        let encounters = try Lake(root: lake, create: false).table("encounters").snapshot().rowCount
        let fact = try Lake(root: lake, create: false).table("fact_encounters").snapshot().rowCount
        #expect(fact == encounters, "every encounter is a fact row")

        let dump = try FicheBinary.run(["dump", "dim_patient", "--lake", lake, "--rows", "5",
                                        "--columns", "patient_key,source,sex,age_group,total_encounters"])
        #expect(dump.status == 0, "\(dump.stderr)")
        let lines = dump.stdout.split(separator: "\n")
        #expect(lines.suffix(7).first == "patient_key  source     sex  age_group  total_encounters")
        #expect(lines.count >= 7)

        // A second build keeps every surrogate key.
        let before = try FicheBinary.run(["dump", "dim_patient", "--lake", lake, "--format", "csv", "--columns", "patient_id,patient_key"])
        #expect(try FicheBinary.run(["build", "--lake", lake]).status == 0)
        let after = try FicheBinary.run(["dump", "dim_patient", "--lake", lake, "--format", "csv", "--columns", "patient_id,patient_key"])
        #expect(before.stdout == after.stdout)
        #expect(try FicheBinary.run(["verify", "--lake", lake]).status == 0)
    }
}
