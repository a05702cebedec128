// Bitcoin engine operations for kura-bench: whole-PSBT signing of 100 inputs (P2WPKH, P2TR key
// path), PSBT decoding, and address derivation from a descriptor. The fixtures are deterministic so
// that Benchmarks/btc_compare.py can hand the very same PSBTs and keys to BDK and embit.
import Bitcoin
import Foundation
import WalletCrypto

enum BitcoinBench {
    /// The throw-away master key of the fixtures (seed 0x01…01), also given to BDK and embit.
    static let master = try! ExtendedPrivateKey(seed: SecretBytes([UInt8](repeating: 1, count: 32)))

    static func descriptor(_ kind: String) -> Descriptor {
        let purpose = kind == "tr" ? "86h/1h/0h" : "84h/1h/0h"
        let path = try! DerivationPath(parsing: purpose)
        let xpub = try! master.derive(path).extendedPublicKey.serialized(version: .tpub)
        return try! Descriptor(
            "\(kind == "tr" ? "tr" : "wpkh")([\(master.fingerprint)/\(path.originForm)]\(xpub)/<0;1>/*)",
            network: .regtest)
    }

    /// A 100-input PSBT spending the wallet's receive addresses 0…99, each funded by its own
    /// previous transaction, paying one output and change.
    static func psbt(_ kind: String, inputs: Int = 100) -> PSBT {
        let d = descriptor(kind)
        var coins = [SpendableOutput]()
        for i in 0..<inputs {
            let out = TxOut(
                value: try! Amount(sats: 100_000 + Int64(i)), scriptPubKey: try! d.scriptPubKey(index: UInt32(i)))
            let funding = Transaction(
                version: 2,
                inputs: [TxIn(previousOutput: OutPoint(txid: try! Txid(bytes: Hash.sha256([UInt8(i)])), vout: 0))],
                outputs: [out])
            coins.append(
                try! SpendableOutput(
                    outPoint: OutPoint(txid: funding.computeTxid(), vout: 0), output: out, branch: 0, index: UInt32(i),
                    previousTransaction: funding))
        }
        let pay = TxOut(
            value: try! Amount(sats: 5_000_000),
            scriptPubKey: .p2wpkh(try! PrivateKey(bytes: [UInt8](repeating: 2, count: 32)).publicKey))
        return try! PSBTBuilder.build(
            descriptor: d, inputs: coins, payments: [pay], change: .init(index: 0, amount: try! Amount(sats: 4_000_000))
        )
    }

    static let wpkhPSBT = psbt("wpkh")
    static let trPSBT = psbt("tr")
    static let wpkhBase64 = wpkhPSBT.base64
    static let addressDescriptor = descriptor("wpkh").singlePathDescriptors()[0]

    /// A 100,000-coin wallet (values 1,000…10,000,000 sat, seeded) and selection parameters.
    static let bigPool: [CoinSelection.Candidate] = {
        var rng = SplitMix64(state: 7)
        return (0..<100_000).map { i in
            CoinSelection.Candidate(
                outPoint: OutPoint(
                    txid: try! Txid(bytes: Hash.sha256(withUnsafeBytes(of: UInt32(i)) { Array($0) })), vout: 0),
                value: try! Amount(sats: Int64.random(in: 1_000...10_000_000, using: &rng)),
                inputWeight: InputWeight.p2wpkh)
        }
    }()

    static func selectionParameters(target: Int64, rate: UInt64) -> CoinSelection.Parameters {
        let p2wpkh = Script([0, 20] + [UInt8](repeating: 0, count: 20))
        return CoinSelection.Parameters(
            target: try! Amount(sats: target), feeRate: FeeRate(satsPerKvB: rate),
            longTermFeeRate: FeeRate(satsPerKvB: 5_000),
            baseWeight: InputWeight.overhead(inputs: 3, outputs: 2, segwit: true) + InputWeight.output(p2wpkh),
            changeOutputWeight: InputWeight.output(p2wpkh), changeSpendWeight: InputWeight.p2wpkh,
            minimumChange: try! Amount(sats: 5_000))
    }

    /// Waste of Kura's selection against largest-first over `count` random wallets.
    static func wasteReport(count: Int) -> String {
        var rng = SplitMix64(state: 99)
        var ours: Int64 = 0
        var naive: Int64 = 0
        var better = 0
        var worse = 0
        var changeless = 0
        var runs = 0
        for _ in 0..<count {
            let n = Int.random(in: 5...200, using: &rng)
            let pool = (0..<n).map { i in
                CoinSelection.Candidate(
                    outPoint: OutPoint(
                        txid: try! Txid(
                            bytes: Hash.sha256([UInt8(truncatingIfNeeded: i), UInt8(truncatingIfNeeded: i >> 8)])),
                        vout: 0),
                    value: try! Amount(sats: Int64.random(in: 5_000...2_000_000, using: &rng)),
                    inputWeight: InputWeight.p2wpkh)
            }
            let total = pool.reduce(Int64(0)) { $0 + $1.value.sats }
            let p = selectionParameters(
                target: Int64.random(in: 10_000...(total / 2), using: &rng),
                rate: UInt64.random(in: 1_000...50_000, using: &rng))
            guard let lf = try? CoinSelection.largestFirst(pool, p),
                let r = try? CoinSelection.select(pool, p, rng: &rng)
            else { continue }
            runs += 1
            ours += r.waste
            naive += lf.waste
            if r.waste < lf.waste { better += 1 }
            if r.waste > lf.waste { worse += 1 }
            if r.change == nil { changeless += 1 }
        }
        return
            "{\"wallets\": \(runs), \"kura_total_waste\": \(ours), \"largest_first_total_waste\": \(naive), \"kura_better\": \(better), \"kura_worse\": \(worse), \"changeless\": \(changeless)}"
    }

    /// Runs one iteration of `op`; returns false if `op` is not a Bitcoin operation.
    static func run(_ op: String, _ i: Int) throws -> Bool {
        switch op {
        case "btc-psbt-sign-100-p2wpkh":
            var p = wpkhPSBT
            blackHole(try p.sign(with: master))
        case "btc-psbt-sign-100-p2tr":
            var p = trPSBT
            blackHole(try p.sign(with: master))
        case "btc-psbt-decode-100":
            blackHole(try PSBT(base64: wpkhBase64))
        case "btc-coin-select-100k":
            var rng = SplitMix64(state: UInt64(i))
            blackHole(
                try CoinSelection.select(
                    bigPool, selectionParameters(target: 12_345_678 + Int64(i), rate: 10_000), rng: &rng))
        case "btc-descriptor-address":
            blackHole(try addressDescriptor.address(index: UInt32(i & 0x7fff_ffff)).text)
        default:
            return false
        }
        return true
    }

    /// `kura-bench emit KIND`: prints a fixture for the comparison script.
    static func emit(_ what: String) -> String? {
        switch what {
        case "psbt-p2wpkh": return wpkhPSBT.base64
        case "psbt-p2tr": return trPSBT.base64
        case "master-tprv": return master.serialized(version: .tprv)
        case "descriptor-p2wpkh": return addressDescriptor.body
        case "coin-waste": return wasteReport(count: 1000)
        default: return nil
        }
    }
}

/// SplitMix64: a seeded generator for reproducible benchmark inputs.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
