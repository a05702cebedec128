// `kura-devtool btc …`: builds, signs, combines, finalises and extracts Bitcoin test transactions
// for a descriptor wallet with throw-away keys, so that the interop tests can check every step of
// Kura's Bitcoin engine against independent implementations. Never for custody.
import ArgumentParser
import Bitcoin
import Foundation
import WalletCrypto

struct Btc: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "btc", abstract: "Bitcoin test transactions for a descriptor wallet, signed with throw-away keys.",
        subcommands: [BtcSpend.self])
}

/// One spend to build: the wallet's public descriptor, the coins (with their funding
/// transactions), the payments and change, and the throw-away master keys that sign.
struct SpendSpec: Decodable {
    struct Coin: Decodable {
        let prev_tx: String
        let vout: UInt32
        let branch: Int
        let index: UInt32
    }
    struct Payment: Decodable {
        let script: String
        let value: Int64
    }
    struct Change: Decodable {
        let index: UInt32
        let value: Int64
    }
    let network: String
    let descriptor: String
    let signers: [String]
    let coins: [Coin]
    let payments: [Payment]
    let change: Change?
    let psbt_version: UInt32?
    let sequence: UInt32?
    let lock_time: UInt32?
}

struct SpendResult: Encodable {
    let unsigned_psbt: String
    let signed_psbts: [String]
    let combined_psbt: String
    let final_psbt: String
    let tx: String
    let txid: String
    let weight: UInt64
    let estimated_weight: UInt64
    let fee: Int64
}

struct BtcSpend: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spend",
        abstract:
            "Build → sign (each key separately) → combine → finalise → extract, for one spec or a JSON array of specs.")

    @Option(help: "JSON file with one spec object or an array of them.")
    var spec: String

    func run() throws {
        try devtoolGuarded {
            let data = try Data(contentsOf: URL(fileURLWithPath: spec))
            guard data.count <= 64 << 20 else { throw DevtoolError("resource_limit", "spec larger than 64 MiB") }
            let decoder = JSONDecoder()
            let specs: [SpendSpec]
            let single: Bool
            if let one = try? decoder.decode(SpendSpec.self, from: data) {
                specs = [one]
                single = true
            } else {
                specs = try decoder.decode([SpendSpec].self, from: data)
                single = false
            }
            var results = [SpendResult]()
            for (n, s) in specs.enumerated() {
                do {
                    results.append(try Self.spend(s))
                } catch let e as BitcoinError {
                    throw DevtoolError(e.code.name, "spec \(n): \(e.reason)")
                } catch let e as WalletCryptoError {
                    throw DevtoolError(e.code.name, "spec \(n): \(e.reason)")
                }
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let out = single ? try encoder.encode(results[0]) : try encoder.encode(results)
            FileHandle.standardOutput.write(out + Data("\n".utf8))
        }
    }

    static func spend(_ s: SpendSpec) throws -> SpendResult {
        let network = try Network(named: s.network)
        let descriptor = try Descriptor(s.descriptor, network: network)
        let coins = try s.coins.map { c in
            let prev = try Transaction(bytes: Hex.decode(c.prev_tx))
            guard Int(c.vout) < prev.outputs.count else {
                throw BitcoinError(.invalidPSBT, "vout \(c.vout) out of range")
            }
            return try SpendableOutput(
                outPoint: OutPoint(txid: prev.computeTxid(), vout: c.vout), output: prev.outputs[Int(c.vout)],
                branch: c.branch,
                index: c.index, previousTransaction: prev)
        }
        let payments = try s.payments.map {
            TxOut(value: try Amount(sats: $0.value), scriptPubKey: Script(try Hex.decode($0.script)))
        }
        let change = try s.change.map { PSBTBuilder.Change(index: $0.index, amount: try Amount(sats: $0.value)) }
        let unsigned = try PSBTBuilder.build(
            descriptor: descriptor, inputs: coins, payments: payments, change: change, version: s.psbt_version ?? 0,
            lockTime: s.lock_time ?? 0, sequence: s.sequence ?? 0xffff_fffd)
        let estimate = try unsigned.estimatedWeight(descriptor: descriptor)
        if s.signers.isEmpty {
            // Unsigned only: the coordinator's side of a spend, for signer tests.
            return SpendResult(
                unsigned_psbt: unsigned.base64, signed_psbts: [], combined_psbt: "", final_psbt: "", tx: "",
                txid: try unsigned.unsignedTx().computeTxid().description, weight: 0, estimated_weight: estimate.units,
                fee: try unsigned.fee().sats)
        }
        // Each signer signs its own copy, from the serialised bytes, as separate devices would.
        var signed = [PSBT]()
        for xprv in s.signers {
            var copy = try PSBT(bytes: unsigned.serialized)
            let master = try ExtendedPrivateKey(parsing: xprv)
            let done = try copy.sign(with: master)
            guard done.count == coins.count else {
                throw BitcoinError(.cannotSign, "a signer signed \(done.count) of \(coins.count) inputs")
            }
            signed.append(copy)
        }
        var combined = try PSBT.combine(signed)
        let combinedText = combined.base64
        try combined.finalize()
        let tx = try combined.extractTransaction()
        return SpendResult(
            unsigned_psbt: unsigned.base64, signed_psbts: signed.map(\.base64), combined_psbt: combinedText,
            final_psbt: combined.base64,
            tx: Hex.encode(tx.serialized), txid: tx.computeTxid().description, weight: tx.weight.units,
            estimated_weight: estimate.units,
            fee: try unsigned.fee().sats)
    }
}
