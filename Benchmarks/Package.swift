// swift-tools-version:6.1
// Kura's benchmarks, kept out of the main package so that `swift build` there stays lean.
//
//   swift package --package-path Benchmarks benchmark          ordo-one/benchmark suites
//   make bench                                                  side-by-side ratios against the oracles
import PackageDescription

let package = Package(
    name: "KuraBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Kura", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // A plain timing driver for the comparison script (Benchmarks/compare.py): one operation,
        // a fixed number of iterations, ops/s as JSON. No benchmark framework in the hot loop.
        .executableTarget(
            name: "kura-bench",
            dependencies: [
                .product(name: "WalletCrypto", package: "Kura"),
                .product(name: "Bitcoin", package: "Kura"),
                .product(name: "Ethereum", package: "Kura"),
                .product(name: "Governance", package: "Kura"),
                .product(name: "Signer", package: "Kura"),
            ],
            path: "Sources/kura-bench",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "KeyLayer",
            dependencies: [
                .product(name: "WalletCrypto", package: "Kura"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/KeyLayer",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
