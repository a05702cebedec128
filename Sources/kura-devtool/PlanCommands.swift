// `kura-devtool plan …`: drives the coordinator's transaction planner (CoordinatorCore, docs/PLANNING.md) from a
// JSON spec, so that the interop tests can check its PSBTs and EIP-1559 payloads against independent decoders and
// the built signer. The spec stands in for the chain port: the coins, fee rate, nonce, fees and gas the tests
// choose. No keys are involved. Refusals print `kura-devtool: error: CODE: REASON` (exit 65).
import ArgumentParser
import Bitcoin
import CoordinatorCore
import Ethereum
import Foundation
import Governance
import WalletCrypto

struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Plan the unsigned transaction for a signed intent (the coordinator's planner).",
        subcommands: [PlanBtc.self, PlanEth.self])
}

/// The governance half of a plan spec: the policy chain, its pinned genesis, the signed intent and the clock.
struct PlanGovernance: Decodable {
    let genesis_hash: String
    let policies: [String]
    let intent: String
    let now: Int64?

    /// The verified policy and intent, or the governance refusal as a devtool error.
    func verified() throws -> (VerifiedPolicy, VerifiedIntent) {
        do {
            let now = try Timestamp(seconds: self.now ?? Int64(Date().timeIntervalSince1970))
            let chain = try policies.map { try SignedPolicy(json: try Self.readJSON($0)) }
            let policy = try PolicyChain.verify(
                chain, trust: PolicyTrust(genesis: try DocumentHash(hex: genesis_hash), highWater: nil), now: now)
            let intent = try Authorization.verify(try SignedIntent(json: try Self.readJSON(intent)), policy: policy)
            return (policy, intent)
        } catch let e as GovernanceError {
            throw DevtoolError(e.code.name, e.reason)
        }
    }

    static func readJSON(_ path: String) throws -> JSONValue {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DevtoolError("io_error", "cannot read \(path)")
        }
        return try JSONParser.parse([UInt8](data))
    }

    static func read<T: Decodable>(_ type: T.Type, _ path: String) throws -> T {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DevtoolError("io_error", "cannot read \(path)")
        }
        guard data.count <= 64 << 20 else { throw DevtoolError("resource_limit", "\(path) is larger than 64 MiB") }
        return try JSONDecoder().decode(T.self, from: data)
    }
}

/// Runs a planner call, printing a refusal by its code.
func planned<T>(_ body: () throws(PlanningError) -> T) throws -> T {
    do { return try body() } catch { throw DevtoolError(error.code.description, error.reason) }
}

func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    FileHandle.standardOutput.write(try encoder.encode(value) + Data("\n".utf8))
}

struct PlanBtc: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "btc",
        abstract: "Plan a Bitcoin transfer: coins (as the chain port reports them), fee rate and change index in.")

    struct Spec: Decodable {
        struct Coin: Decodable {
            let prev_tx: String
            let vout: UInt32
            let confirmations: UInt32?
        }
        struct Scan: Decodable {
            let receive: UInt32
            let change: UInt32
        }
        let governance: PlanGovernance
        let coins: [Coin]
        let scan: Scan?
        /// sat/kvB.
        let fee_rate: UInt64
        let change_index: UInt32
        let min_confirmations: UInt32?
    }

    struct Output: Encodable {
        struct Input: Encodable {
            let outpoint: String
            let value: Int64
            let branch: Int
            let index: UInt32
            let confirmations: UInt32
        }
        struct Payment: Encodable {
            let script: String
            let value: Int64
        }
        struct Change: Encodable {
            let index: UInt32
            let value: Int64
            let script: String
        }
        let psbt: String
        let txid: String
        let inputs: [Input]
        let payment: Payment
        let change: Change?
        let fee: Int64
        let fee_rate_kvb: UInt64
        let vsize: UInt64
        let selection: String
    }

    @Option(help: "JSON spec: governance {genesis_hash, policies, intent, now}, coins, scan, fee_rate, change_index.")
    var spec: String

    func run() throws {
        try devtoolGuarded {
            let s = try PlanGovernance.read(Spec.self, spec)
            let (policy, intent) = try s.governance.verified()
            let coins = try s.coins.enumerated().map { n, c in
                let prev: Transaction
                do { prev = try Transaction(bytes: Hex.decode(c.prev_tx)) } catch {
                    throw DevtoolError("invalid_transaction", "coins[\(n)].prev_tx does not parse")
                }
                guard Int(c.vout) < prev.outputs.count else {
                    throw DevtoolError("invalid_transaction", "coins[\(n)].vout \(c.vout) is out of range")
                }
                let out = prev.outputs[Int(c.vout)]
                return BitcoinUnspentOutput(
                    outPoint: OutPoint(txid: prev.computeTxid(), vout: c.vout), value: out.value,
                    scriptPubKey: out.scriptPubKey, confirmations: c.confirmations ?? 6,
                    previousTransaction: try Hex.decode(c.prev_tx))
            }
            let scan = WalletScanRange(receive: 0..<(s.scan?.receive ?? 100), change: 0..<(s.scan?.change ?? 100))
            let request = BitcoinPlanRequest(
                policy: policy, intent: intent, coins: coins, scan: scan, feeRate: FeeRate(satsPerKvB: s.fee_rate),
                changeIndex: s.change_index,
                options: BitcoinPlanningOptions(minimumConfirmations: s.min_confirmations ?? 1))
            let plan = try planned { () throws(PlanningError) in try TransactionPlanner.plan(bitcoin: request) }
            try printJSON(
                Output(
                    psbt: plan.psbt.base64, txid: plan.txid.description,
                    inputs: plan.inputs.map {
                        Output.Input(
                            outpoint: $0.outPoint.description, value: $0.value.sats, branch: $0.branch, index: $0.index,
                            confirmations: $0.confirmations)
                    },
                    payment: Output.Payment(
                        script: Hex.encode(plan.payment.scriptPubKey.bytes), value: plan.payment.value.sats),
                    change: plan.change.map {
                        Output.Change(index: $0.index, value: $0.amount.sats, script: Hex.encode($0.scriptPubKey.bytes))
                    },
                    fee: plan.fee.sats, fee_rate_kvb: plan.feeRate.satsPerKvB, vsize: plan.virtualSize.vbytes,
                    selection: plan.selection))
        }
    }
}

struct PlanEth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eth",
        abstract:
            "Plan an Ethereum transfer: chain id, pending nonce, fees and gas estimate (as the chain port reports them) in."
    )

    struct Spec: Decodable {
        let governance: PlanGovernance
        /// Defaults to the policy asset's chain id.
        let chain_id: UInt64?
        let pending_nonce: UInt64
        /// wei/gas, decimal strings.
        let base_fee: String
        let priority_fee: String
        let gas_estimate: UInt64
        let gas_margin_percent: UInt64?
        let base_fee_multiplier: UInt64?
    }

    struct Output: Encodable {
        let unsigned: String
        let chain_id: UInt64
        let nonce: UInt64
        let to: String
        let value: String
        let data: String
        let gas_limit: String
        let max_fee_per_gas: String
        let max_priority_fee_per_gas: String
        let max_fee: String
        let account: String
        let token: String?
        let call: Call
    }

    struct Call: Encodable {
        let from: String
        let to: String
        let value: String
        let data: String
    }

    @Option(
        help:
            "JSON spec: governance {genesis_hash, policies, intent, now}, pending_nonce, base_fee, priority_fee, gas_estimate."
    )
    var spec: String

    func run() throws {
        try devtoolGuarded {
            let s = try PlanGovernance.read(Spec.self, spec)
            let (policy, intent) = try s.governance.verified()
            let call = try planned { () throws(PlanningError) in
                try TransactionPlanner.ethereumCall(policy: policy, intent: intent)
            }
            var chainID = ChainID(0)
            if let id = s.chain_id {
                chainID = ChainID(id)
            } else if let asset = policy.policy.asset(intent.intent.asset), case .ethereum(let id) = asset.chain {
                chainID = id
            }
            let fees = EthereumFeeSuggestion(
                baseFeePerGas: WeiPerGas(try UInt256(decimal: s.base_fee)),
                maxPriorityFeePerGas: WeiPerGas(try UInt256(decimal: s.priority_fee)))
            let request = EthereumPlanRequest(
                policy: policy, intent: intent, chainID: chainID, pendingNonce: Nonce(s.pending_nonce), fees: fees,
                gasEstimate: Gas(s.gas_estimate),
                options: EthereumPlanningOptions(
                    gasMarginPercent: s.gas_margin_percent ?? 20, baseFeeMultiplier: s.base_fee_multiplier ?? 2))
            let plan = try planned { () throws(PlanningError) in try TransactionPlanner.plan(ethereum: request) }
            let tx = plan.transaction
            try printJSON(
                Output(
                    unsigned: Hex.encode(plan.unsigned), chain_id: tx.chainID.value, nonce: tx.nonce.value,
                    to: tx.to?.checksummed ?? "", value: tx.value.amount.decimalString, data: Hex.encode(tx.data),
                    gas_limit: tx.gasLimit.units.decimalString, max_fee_per_gas: tx.maxFeePerGas.amount.decimalString,
                    max_priority_fee_per_gas: tx.maxPriorityFeePerGas.amount.decimalString,
                    max_fee: plan.maxFee.amount.decimalString, account: plan.account.checksummed,
                    token: plan.token?.checksummed,
                    call: Call(
                        from: call.from.checksummed, to: call.to.checksummed, value: call.value.amount.decimalString,
                        data: Hex.encode(call.data))))
        }
    }
}
