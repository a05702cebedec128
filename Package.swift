// swift-tools-version:6.1
//
// Kura: an enterprise self-custody wallet for Bitcoin and Ethereum.
//
// The targets form a one-way ladder (see docs/ARCHITECTURE.md): lower modules never import
// higher ones, and the offline signer's closure contains no networking code at all.
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Kura",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "kura", targets: ["kura"]),
        .executable(name: "kura-signer", targets: ["kura-signer"]),
        .executable(name: "kura-devtool", targets: ["kura-devtool"]),
        // Libraries, for the separate Benchmarks package.
        .library(name: "WalletCrypto", targets: ["WalletCrypto"]),
        .library(name: "Bitcoin", targets: ["Bitcoin"]),
        .library(name: "Ethereum", targets: ["Ethereum"]),
        .library(name: "Governance", targets: ["Governance"]),
        .library(name: "Signer", targets: ["Signer"]),
        // The coordinator's SQLite connection, for the load benchmark's ceiling (the same driver as `kura serve`).
        .library(name: "CoordinatorStorage", targets: ["CoordinatorStorage"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", exact: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
        // Coordinator side only (ADR 0010): the signer's closure never links these.
        .package(url: "https://github.com/vapor/sql-kit.git", exact: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", exact: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit.git", exact: "2.17.0"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", exact: "2.4.1"),
        // Coordinator side only: the chain adapters' HTTP client. Never in the signer's closure.
        .package(url: "https://github.com/swift-server/async-http-client.git", exact: "1.37.0"),
    ],
    targets: [
        // Rung 0: the C boundary. Only WalletCrypto/Secp256k1/ imports it.
        .systemLibrary(
            name: "CSecp256k1",
            pkgConfig: "libsecp256k1",
            providers: [.apt(["libsecp256k1-dev"])]
        ),
        // Rung 1: pure key material, hashes and encodings (no I/O).
        .target(
            name: "WalletCrypto",
            dependencies: [
                "CSecp256k1",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // Rung 2: chain engines (pure, no I/O).
        .target(name: "Bitcoin", dependencies: ["WalletCrypto"], swiftSettings: strict),
        .target(name: "Ethereum", dependencies: ["WalletCrypto"], swiftSettings: strict),
        // Rung 2.5: the governance core (pure, injected clock): canonical JSON, signed documents,
        // policy chain, rule evaluation, lifecycle. Both the signer and the coordinator use it.
        .target(
            name: "Governance",
            dependencies: [
                "WalletCrypto", "Bitcoin", "Ethereum",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // Rung 3: the offline signer's engine (keystore; file I/O only at its edges).
        .target(
            name: "Signer",
            dependencies: [
                "WalletCrypto", "Bitcoin", "Ethereum", "Governance",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // Rung 3 (coordinator side): domain records and the storage ports. Pure; no key material.
        .target(
            name: "CoordinatorCore",
            dependencies: [
                "WalletCrypto", "Governance", "Bitcoin", "Ethereum", .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // Rung 3 (coordinator side): the SQLite and PostgreSQL adapters and their migrations (ADR 0010).
        .systemLibrary(
            name: "CSQLite3",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .target(
            name: "CoordinatorStorage",
            dependencies: [
                "CoordinatorCore", "CSQLite3",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // Rung 3 (coordinator side): the chain adapters of the chain ports (Esplora over HTTP), beside the storage
        // adapters; used by the server's composition root and by kura-devtool. Never in the signer's closure.
        .target(
            name: "ChainAdapters",
            dependencies: [
                "CoordinatorCore", "Bitcoin", "Ethereum", "WalletCrypto", "Governance",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // Rung 4 (coordinator side): the HTTP API over the use cases (Hummingbird 2).
        .target(
            name: "CoordinatorHTTP",
            dependencies: [
                "CoordinatorCore", "Governance", "WalletCrypto",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // Rung 4 (coordinator side): the composition root of `kura serve` (storage adapter, use cases, HTTP,
        // metrics, structured logs, graceful shutdown).
        .target(
            name: "CoordinatorServer",
            dependencies: [
                "CoordinatorCore", "CoordinatorHTTP", "CoordinatorStorage", "ChainAdapters", "Governance", "Bitcoin",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            resources: [.copy("openapi.json"), .copy("Console")],
            swiftSettings: strict
        ),
        // Rung 4: thin executables.
        .executableTarget(
            name: "kura-signer",
            dependencies: [
                "Signer", "WalletCrypto", "Bitcoin", "Ethereum", "Governance",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // A development and test tool (not shipped to operators): signs raw test transactions with
        // throw-away keys so that interop tests can drive a built binary. Never links the Signer.
        .executableTarget(
            name: "kura-devtool",
            dependencies: [
                "WalletCrypto", "Bitcoin", "Ethereum", "Governance", "CoordinatorCore", "ChainAdapters",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "kura",
            dependencies: [
                "WalletCrypto", "Bitcoin", "Ethereum", "Governance", "CoordinatorCore", "CoordinatorServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .target(name: "KuraTestSupport", path: "Tests/TestSupport", swiftSettings: [.swiftLanguageMode(.v6)]),
        .testTarget(
            name: "WalletCryptoTests",
            dependencies: ["WalletCrypto", "KuraTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "BitcoinTests",
            dependencies: ["Bitcoin", "WalletCrypto", "KuraTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EthereumTests",
            dependencies: ["Ethereum", "WalletCrypto", "KuraTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "GovernanceTests",
            dependencies: ["Governance", "WalletCrypto", "Bitcoin", "Ethereum", "KuraTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CoordinatorStorageTests",
            dependencies: [
                "CoordinatorCore", "CoordinatorStorage", "Governance", "Bitcoin",
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The transaction planner, each plan checked by the signer's own checks (hence Signer, a pure library).
        .testTarget(
            name: "CoordinatorPlanningTests",
            dependencies: ["CoordinatorCore", "Governance", "Bitcoin", "Ethereum", "WalletCrypto", "Signer"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CoordinatorHTTPTests",
            dependencies: [
                "CoordinatorHTTP", "CoordinatorServer", "Governance",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CoordinatorCoreTests",
            dependencies: ["CoordinatorCore", "Governance", "WalletCrypto"],
            swiftSettings: strict
        ),
        // The Esplora adapter's pure codec and its validation (no network).
        .testTarget(
            name: "ChainAdaptersTests",
            dependencies: ["ChainAdapters", "CoordinatorCore", "Bitcoin", "Ethereum", "WalletCrypto", "Governance"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SignerTests",
            dependencies: ["Signer", "WalletCrypto", "Bitcoin", "KuraTestSupport"],
            swiftSettings: strict
        ),
    ]
)
