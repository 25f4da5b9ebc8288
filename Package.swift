// swift-tools-version:6.0
// Fiche: a columnar batch warehouse builder for clinical data.
//
// Targets follow the data's path, dependencies point one way:
//   CZstd, CZlib, CLibPQ  (system libraries via pkg-config)
//   FicheLake        chunk format, tables, commit log          (CZstd, CZlib)
//   FicheModel       the clinical model: table names, schemas  (FicheLake)
//   FicheSources     PadChest ingest, synthetic generator      (FicheModel, FicheLake, CZlib)
//   FicheWarehouse   star-schema transform, aggregates         (FicheModel, FicheLake)
//   FichePublish     libpq binary COPY, schema swap            (FicheWarehouse, FicheModel, FicheLake, CLibPQ)
//   fiche            the command line, parsing only            (all of the above)
//
// The build and the publisher read the clinical tables the sources write, so they share the
// model (FicheModel, one file) and not the sources' readers or generator.
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
        .target(name: "FicheModel", dependencies: ["FicheLake"]),
        .target(name: "FicheSources", dependencies: ["FicheModel", "FicheLake", "CZlib"],
                // The PadChest label → code mapping: one reviewable CSV, compiled into the binary.
                resources: [.embedInCode("Resources/padchest_label_codes.csv")]),
        .target(name: "FicheWarehouse", dependencies: ["FicheModel", "FicheLake", .product(name: "TOMLKit", package: "TOMLKit")],
                exclude: ["WarehouseDefinitions.md"]),
        .target(name: "FichePublish", dependencies: ["FicheWarehouse", "FicheModel", "FicheLake", "CLibPQ"]),
        .executableTarget(name: "fiche", dependencies: [
            "FicheLake", "FicheModel", "FicheSources", "FicheWarehouse", "FichePublish",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "FicheLakeTests", dependencies: ["FicheLake"], exclude: ["Fixtures"]),
        .testTarget(name: "FicheSourcesTests", dependencies: ["FicheSources", "FicheModel", "FicheLake"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "FicheWarehouseTests", dependencies: ["FicheWarehouse", "FicheModel", "FicheSources", "FicheLake"]),
        .testTarget(name: "FichePublishTests", dependencies: ["FichePublish", "FicheWarehouse", "FicheModel", "FicheSources", "FicheLake"]),
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
