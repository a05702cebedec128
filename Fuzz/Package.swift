// swift-tools-version:6.1
// Kura's libFuzzer targets, kept out of the main package (like Benchmarks/) so that its build stays
// lean. One executable target per fuzz target; add a folder under Sources/ to add a target
// (Bitcoin transactions and PSBTs, governance documents, …): run.sh and `make fuzz` find it.
//
//   Fuzz/run.sh fuzz-rlp 30          build, seed the corpus from Tests/Vectors, fuzz for 30 s
//   make fuzz-smoke                  every target briefly (part of `make test`)
//   make fuzz FUZZ_SECONDS=600       every target for longer
import PackageDescription

let fuzzTarget: (String, [Target.Dependency]) -> Target = { name, dependencies in
    .executableTarget(
        name: name,
        dependencies: dependencies,
        path: "Sources/\(name)",
        swiftSettings: [.swiftLanguageMode(.v6)]
    )
}

let package = Package(
    name: "KuraFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "Kura", path: "..")],
    targets: [
        .target(name: "FuzzSupport", path: "Sources/FuzzSupport", swiftSettings: [.swiftLanguageMode(.v6)]),
        fuzzTarget("fuzz-rlp", ["FuzzSupport", .product(name: "Ethereum", package: "Kura")]),
        fuzzTarget(
            "fuzz-eth-transaction",
            [
                "FuzzSupport", .product(name: "Ethereum", package: "Kura"),
                .product(name: "WalletCrypto", package: "Kura"),
            ]),
        fuzzTarget("fuzz-btc-transaction", ["FuzzSupport", .product(name: "Bitcoin", package: "Kura")]),
        fuzzTarget("fuzz-psbt", ["FuzzSupport", .product(name: "Bitcoin", package: "Kura")]),
        fuzzTarget("fuzz-governance-json", ["FuzzSupport", .product(name: "Governance", package: "Kura")]),
    ]
)
