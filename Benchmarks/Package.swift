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
        // kura-load (the coordinator load benchmark): the same pins as the main package.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", exact: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit.git", exact: "2.17.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", exact: "1.37.0"),
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
        // The coordinator load benchmark's ceiling server (a bare one-insert endpoint) and its HTTP load driver
        // (Benchmarks/coordinator_load.py).
        .executableTarget(
            name: "kura-load",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "CoordinatorStorage", package: "Kura"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Sources/kura-load",
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
