import Benchmark
import WalletCrypto

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal], maxDuration: .seconds(2), maxIterations: 1_000_000)

    let account = try! ExtendedPublicKey(
        parsing:
            "xpub6CatWdiZiodmUeTDp8LT5or8nmbKNcuyvz7WyksVFkKB4RHwCD3XyuvPEbvqAQY3rAPshWcMLoP2fMFMKHPJ4ZeZXYVUhLv1VMrjPC7PW6V"
    )
    let chain = try! account.derive(.normal(0))
    let key = try! PrivateKey(bytes: [UInt8](repeating: 1, count: 32))
    let digest = Hash.sha256([1, 2, 3])
    let aux = [UInt8](repeating: 2, count: 32)

    Benchmark("BIP-0032 CKDpub (non-hardened public derivation)") { b in
        for i in b.scaledIterations { blackHole(try chain.derive(.normal(UInt32(i & 0x7fff_ffff)))) }
    }
    Benchmark("ECDSA sign (RFC 6979, low-S)") { b in
        for _ in b.scaledIterations { blackHole(try key.signECDSA(digest: digest, grindLowR: false)) }
    }
    Benchmark("ECDSA sign (low-R grinding)") { b in
        for _ in b.scaledIterations { blackHole(try key.signECDSA(digest: digest)) }
    }
    Benchmark("BIP-0340 Schnorr sign") { b in
        for _ in b.scaledIterations { blackHole(try key.signSchnorr(message: digest, auxRand: aux)) }
    }
    Benchmark("Keccak-256 (136 bytes)") { b in
        let input = [UInt8](repeating: 7, count: 136)
        for _ in b.scaledIterations { blackHole(Keccak256.hash(input)) }
    }
    Benchmark("RIPEMD-160 (33 bytes)") { b in
        let input = [UInt8](repeating: 7, count: 33)
        for _ in b.scaledIterations { blackHole(RIPEMD160.hash(input)) }
    }
}
