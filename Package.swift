// swift-tools-version:6.0
// Fiche: a columnar batch warehouse builder for clinical data.
//
// Targets follow the data's path, dependencies point one way:
//   CZstd, CZlib, CLibPQ  (system libraries via pkg-config)
//   FicheLake        chunk format, tables, commit log          (CZstd, CZlib)
//   FicheSources     PadChest ingest, synthetic generator      (FicheLake, CZlib)
//   FicheWarehouse   star-schema transform, aggregates         (FicheSources, FicheLake)
//   FichePublish     libpq binary COPY, schema swap            (FicheWarehouse, FicheSources, CLibPQ)
//   fiche            the command line, parsing only            (all of the above)
//
// FicheWarehouse and FichePublish use only the clinical model (ClinicalModel.swift: table
// names and schemas) from FicheSources, not its readers or generator. That model belongs in a
// target of its own between FicheLake and FicheSources (FicheModel); the move is mechanical
// (one file, imports) but was left for after the branches that add `import FicheSources` to
// FicheWarehouse (quality checks, schema) have landed, so as not to break them mid-flight.
//
// Supported platform: Linux only. The code calls Glibc directly (sysconf, flock, fsync, /proc
// for memory and the executable's path) and is built and tested on Debian 12; `platforms:`
// lists Apple platforms only, so it names none.
import PackageDescription

let package = Package(
    name: "Fiche",
    products: [
        .executable(name: "fiche", targets: ["fiche"]),
        .library(name: "FicheLake", targets: ["FicheLake"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // The quality gates' config file (lake/checks.toml). A clean build of it costs about
        // 30 s of CPU (toml++ is C++), debug or release.
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq",
                       providers: [.apt(["libpq-dev"])]),
        .target(name: "FicheLake", dependencies: ["CZstd", "CZlib"]),
        .target(name: "FicheSources", dependencies: ["FicheLake", "CZlib"],
                // The PadChest label → code mapping: one reviewable CSV, compiled into the binary.
                resources: [.embedInCode("Resources/padchest_label_codes.csv")]),
        .target(name: "FicheWarehouse", dependencies: ["FicheSources", "FicheLake", .product(name: "TOMLKit", package: "TOMLKit")],
                exclude: ["WarehouseDefinitions.md"]),
        .target(name: "FichePublish", dependencies: ["FicheWarehouse", "FicheSources", "FicheLake", "CLibPQ"]),
        .executableTarget(name: "fiche", dependencies: [
            "FicheLake", "FicheSources", "FicheWarehouse", "FichePublish",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "FicheLakeTests", dependencies: ["FicheLake"], exclude: ["Fixtures"]),
        .testTarget(name: "FicheSourcesTests", dependencies: ["FicheSources", "FicheLake"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "FicheWarehouseTests", dependencies: ["FicheWarehouse", "FicheSources", "FicheLake"]),
        .testTarget(name: "FichePublishTests", dependencies: ["FichePublish", "FicheWarehouse", "FicheSources", "FicheLake"]),
        .testTarget(name: "FicheCLITests", dependencies: ["FicheLake", "FicheWarehouse", "FichePublish"],
                    exclude: ["Golden"]),
    ],
    swiftLanguageModes: [.v5]
)

// Fuzzing (scripts/fuzz): a libFuzzer executable over the readers of untrusted bytes, declared
// only when FICHE_FUZZ is set, so that `swift build` and `swift test` never link libFuzzer.
// scripts/fuzz builds it in .build-fuzz with -sanitize=fuzzer,address.
if Context.environment["FICHE_FUZZ"] != nil {
    package.targets += [
        .systemLibrary(name: "CLibFuzzer", path: "Tests/Fuzz/CLibFuzzer"),
        .executableTarget(name: "fiche-fuzz", dependencies: ["CLibFuzzer", "FicheLake", "FicheSources"],
                          path: "Tests/Fuzz/Targets"),
    ]
}
