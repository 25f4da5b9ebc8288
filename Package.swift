// swift-tools-version:6.0
// Fiche: a columnar batch warehouse builder for clinical data.
//
// Targets follow the data's path, dependencies point one way:
//   CZstd, CZlib, CLibPQ  (system libraries via pkg-config)
//   FicheLake        chunk format, tables, commit log          (CZstd, CZlib)
//   FicheSources     PadChest ingest, synthetic generator      (FicheLake, CZlib)
//   FicheWarehouse   star-schema transform, aggregates         (FicheSources, FicheLake)
//   FichePublish     libpq binary COPY, schema swap            (FicheWarehouse, CLibPQ)
//   fiche            the command line, parsing only            (all of the above)
import PackageDescription

let package = Package(
    name: "Fiche",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "fiche", targets: ["fiche"]),
        .library(name: "FicheLake", targets: ["FicheLake"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq",
                       providers: [.apt(["libpq-dev"])]),
        .target(name: "FicheLake", dependencies: ["CZstd", "CZlib"]),
        .target(name: "FicheSources", dependencies: ["FicheLake", "CZlib"]),
        .target(name: "FicheWarehouse", dependencies: ["FicheSources", "FicheLake"], exclude: ["WarehouseDefinitions.md"]),
        .target(name: "FichePublish", dependencies: ["FicheWarehouse", "FicheLake", "CLibPQ"]),
        .executableTarget(name: "fiche", dependencies: [
            "FicheLake", "FicheSources", "FicheWarehouse", "FichePublish",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "FicheLakeTests", dependencies: ["FicheLake"]),
        .testTarget(name: "FicheSourcesTests", dependencies: ["FicheSources", "FicheLake"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "FicheWarehouseTests", dependencies: ["FicheWarehouse", "FicheSources", "FicheLake"]),
        .testTarget(name: "FichePublishTests", dependencies: ["FichePublish", "FicheWarehouse", "FicheSources", "FicheLake"]),
        .testTarget(name: "FicheCLITests", dependencies: ["FicheLake", "FicheWarehouse", "FichePublish"]),
    ],
    swiftLanguageModes: [.v5]
)
