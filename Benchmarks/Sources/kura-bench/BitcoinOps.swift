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
        default: return nil
        }
    }
}
