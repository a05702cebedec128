import Bitcoin
import Ethereum
public import Governance
import WalletCrypto

/// What the operator is shown before signing: everything in units people read, the destination
/// with its address-book label, the approvers by name — all from signed documents and the
/// transaction the signer checked, never from coordinator text.
public struct Review: Sendable {
    public let lines: [(String, String)]
    public let json: JSONValue

    init(intent: Intent, approvals: [SignedApproval], policy: Policy, plan: SigningPlan, signer: SignerID) {
        let asset = policy.asset(intent.asset)
        let decimals = asset?.decimals ?? 0
        let symbol = asset?.symbol ?? intent.asset.value
        let entry = policy.addressBook.first { $0.id == intent.destinationEntry }
        let approverNames = Set(
            approvals.filter { $0.approval.intent == intent.digest && $0.approval.decision == .approve }.map(
                \.approval.approver)
        )
        .sorted().map { policy.member($0)?.name ?? $0.value }
        var lines: [(String, String)] = [
            ("intent", "\(intent.id)"),
            ("wallet", "\(intent.wallet)"),
            ("amount", "\(intent.amount.formatted(decimals: decimals)) \(symbol) (\(intent.amount) base units)"),
            ("to", "\(entry?.label ?? "?") — \(intent.destinationAddress)"),
            ("initiator", policy.member(intent.initiator)?.name ?? intent.initiator.value),
            ("approvers", approverNames.joined(separator: ", ")),
            ("policy", "version \(policy.version) (\(policy.hash))"),
            ("memo", intent.memo),
        ]
        var o: [String: JSONValue] = [
            "intent": .string(intent.id.value), "intentDigest": .string(intent.digest.description),
            "wallet": .string(intent.wallet.value),
            "asset": .string(intent.asset.value), "symbol": .string(symbol),
            "amount": .string(intent.amount.description),
            "amountDisplay": .string(intent.amount.formatted(decimals: decimals)),
            "destination": .string(intent.destinationAddress),
            "destinationLabel": .string(entry?.label ?? ""), "initiator": .string(intent.initiator.value),
            "approvers": .array(approverNames.map { .string($0) }), "policyVersion": .number(Double(policy.version)),
            "policyHash": .string(policy.hash.description), "signer": .string(signer.value),
        ]
        switch plan {
        case .bitcoin(let p):
            lines.append(
                (
                    "fee",
                    "\(BaseUnits(UInt64(p.fee.sats)).formatted(decimals: 8)) BTC (\(p.fee.sats) sat, \(p.feeRate.satsPerVByteString) sat/vB for \(p.virtualSize.vbytes) vB)"
                ))
            if let c = p.change {
                lines.append(
                    (
                        "change",
                        "\(BaseUnits(UInt64(c.amount.sats)).formatted(decimals: 8)) BTC to this wallet's change key 1/\(c.index)"
                    ))
            } else {
                lines.append(("change", "none"))
            }
            lines.append(("inputs", "\(p.inputs) of this wallet's coins"))
            lines.append(("txid", p.txid.description))
            o["chain"] = "bitcoin"
            o["fee"] = .string(String(p.fee.sats))
            o["feeRateSatPerKvB"] = .string(String(p.feeRate.satsPerKvB))
            o["virtualSize"] = .number(Double(p.virtualSize.vbytes))
            o["change"] =
                p.change.map {
                    .object(["index": .number(Double($0.index)), "amount": .string(String($0.amount.sats))])
                } ?? .null
            o["inputs"] = .number(Double(p.inputs))
            o["txid"] = .string(p.txid.description)
        case .ethereum(let p):
            lines.append(
                (
                    "max fee",
                    "\(BaseUnits(p.maxFee.amount).formatted(decimals: 18)) ETH (gas limit \(p.transaction.gasLimit.units), max \(p.transaction.maxFeePerGas.amount) wei/gas)"
                ))
            lines.append(("account", "\(p.account.checksummed) nonce \(p.nonce)"))
            if let t = p.token { lines.append(("token", "\(symbol) contract \(t.checksummed)")) }
            o["chain"] = "ethereum"
            o["maxFee"] = .string(p.maxFee.amount.decimalString)
            o["nonce"] = .number(Double(p.nonce))
            o["account"] = .string(p.account.checksummed)
        }
        self.lines = lines
        self.json = .object(o)
    }

    /// The plain-text review.
    public var text: String {
        let width = lines.map(\.0.count).max() ?? 0
        return lines.map { $0.0 + String(repeating: " ", count: width - $0.0.count) + "  " + $0.1 }.joined(
            separator: "\n")
    }
}
