public import Bitcoin
import WalletCrypto

/// A transfer instruction (指図), signed on the initiator's own device (format `kura.intent` 1,
/// type `transfer`; docs/GOVERNANCE.md). The `type` field leaves room for fee-bump and
/// consolidation intents; unknown types are refused.
public struct Intent: Sendable, Hashable {
    /// Fee limits the initiator accepts (never above the policy's).
    public typealias FeeCap = Policy.FeeCap

    /// What the transaction must additionally be bound to, when the initiator pins it.
    public enum Pin: Sendable, Hashable {
        /// Bitcoin: exactly these coins are spent.
        case inputs([OutPoint])
        /// Ethereum: exactly this account nonce.
        case ethereumNonce(UInt64)
    }

    public let id: IntentID
    public let organization: OrganizationID
    public let policy: DocumentHash
    public let wallet: WalletID
    public let asset: AssetID
    public let destinationEntry: EntryID
    public let destinationAddress: String
    public let amount: BaseUnits
    public let feeCap: FeeCap
    public let memo: String
    public let nonce: [UInt8]
    public let created: Timestamp
    public let expires: Timestamp
    public let initiator: MemberID
    public let pin: Pin?
    /// The document as read.
    public let document: JSONValue
    /// The `kura/intent/v1` digest of the canonical document: what initiator and approvers sign.
    public let digest: DocumentHash

    public static let kind = "kura.intent"
    public static let digestTag = "kura/intent/v1"
    /// The longest memo (bytes).
    public static let maxMemo = 500

    /// Decodes an intent (closed schema).
    public init(json: JSONValue) throws(GovernanceError) {
        var r = try JSONObjectReader(json, path: "intent")
        guard try r.string("kind") == Self.kind else {
            throw GovernanceError(.invalidValue, .malformed, "intent.kind is not '\(Self.kind)'")
        }
        guard try r.int("format") == 1 else {
            throw GovernanceError(.invalidValue, .malformed, "intent.format is not 1")
        }
        let type = try r.string("type")
        guard type == "transfer" else {
            throw GovernanceError(.invalidValue, .malformed, "intent.type '\(type.prefix(30))' is not supported")
        }
        id = try IntentID(r.string("id"))
        organization = try OrganizationID(r.string("organization"))
        policy = try DocumentHash(hex: r.string("policy"))
        wallet = try WalletID(r.string("wallet"))
        asset = try AssetID(r.string("asset"))
        var d = try JSONObjectReader(try r.value("destination"), path: "intent.destination")
        destinationEntry = try EntryID(d.string("entry"))
        destinationAddress = try d.string("address")
        try d.finish()
        amount = try BaseUnits(decimal: r.decimalString("amount"))
        guard amount > .zero else { throw GovernanceError(.invalidValue, .malformed, "intent.amount must be positive") }
        var f = try JSONObjectReader(try r.value("feeCap"), path: "intent.feeCap")
        if f.contains("maxAbsolute") {
            feeCap = .bitcoin(
                maxAbsolute: try BaseUnits(decimal: f.decimalString("maxAbsolute")),
                maxRatePerKvB: try BaseUnits(decimal: f.decimalString("maxRatePerKvB")))
        } else {
            feeCap = .ethereum(
                maxFeePerGas: try BaseUnits(decimal: f.decimalString("maxFeePerGas")),
                maxPriorityFeePerGas: try BaseUnits(decimal: f.decimalString("maxPriorityFeePerGas")),
                maxGasLimit: try BaseUnits(decimal: f.decimalString("maxGasLimit")),
                maxTotalFee: try BaseUnits(decimal: f.decimalString("maxTotalFee")))
        }
        try f.finish()
        memo = try r.string("memo")
        guard memo.utf8.count <= Self.maxMemo else {
            throw GovernanceError(.tooLarge, .malformed, "intent.memo exceeds \(Self.maxMemo) bytes")
        }
        guard let n = try? Hex.decode(try r.string("nonce"), maxBytes: 32), n.count == 32 else {
            throw GovernanceError(.invalidValue, .malformed, "intent.nonce must be 32 random bytes in hex")
        }
        nonce = n
        created = try Timestamp(seconds: Int64(r.int("created")))
        expires = try Timestamp(seconds: Int64(r.int("expires")))
        guard created < expires else {
            throw GovernanceError(.invalidValue, .malformed, "intent expires before it is created")
        }
        initiator = try MemberID(r.string("initiator"))
        if r.contains("pin") {
            var p = try JSONObjectReader(try r.value("pin"), path: "intent.pin")
            if p.contains("inputs") {
                var outs = [OutPoint]()
                for s in try p.stringArray("inputs") {
                    let parts = s.split(separator: ":")
                    guard parts.count == 2, let vout = UInt32(parts[1]), let txid = try? Txid(hex: String(parts[0]))
                    else {
                        throw GovernanceError(
                            .invalidValue, .malformed, "intent.pin.inputs: '\(s.prefix(80))' is not txid:vout")
                    }
                    outs.append(OutPoint(txid: txid, vout: vout))
                }
                guard !outs.isEmpty, Set(outs).count == outs.count else {
                    throw GovernanceError(.invalidValue, .malformed, "intent.pin.inputs must be distinct and non-empty")
                }
                pin = .inputs(outs)
            } else {
                let n = Int64(try p.int("ethNonce"))
                guard n >= 0 else {
                    throw GovernanceError(.invalidValue, .malformed, "intent.pin.ethNonce is negative")
                }
                pin = .ethereumNonce(UInt64(n))
            }
            try p.finish()
        } else {
            pin = nil
        }
        try r.finish()
        document = json
        digest = try DocumentHash(
            bytes: DocumentDigest.digest(tag: Self.digestTag, canonical: try CanonicalJSON.encode(json)))
    }
}

/// An intent with its initiator's signature. JSON: `{"intent": {...}, "signature": {...}}`.
public struct SignedIntent: Sendable, Hashable {
    public let intent: Intent
    public let signature: MemberSignature

    /// Decodes the signed form.
    public init(json: JSONValue) throws(GovernanceError) {
        var r = try JSONObjectReader(json, path: "signedIntent")
        intent = try Intent(json: try r.value("intent"))
        signature = try MemberSignature(json: try r.value("signature"), path: "signedIntent.signature")
        try r.finish()
    }

    /// Pairs an intent with a signature.
    public init(intent: Intent, signature: MemberSignature) {
        self.intent = intent
        self.signature = signature
    }

    /// The JSON form.
    public var json: JSONValue { .object(["intent": intent.document, "signature": signature.json]) }
}

/// An approver's decision on one intent digest (format `kura.approval` 1).
public struct Approval: Sendable, Hashable {
    /// Approve or reject.
    public enum Decision: String, Sendable, Hashable {
        case approve
        case reject
    }

    public let intent: DocumentHash
    public let decision: Decision
    public let approver: MemberID
    public let time: Timestamp
    public let document: JSONValue
    public let digest: DocumentHash

    public static let kind = "kura.approval"
    public static let digestTag = "kura/approval/v1"

    /// Decodes an approval (closed schema).
    public init(json: JSONValue) throws(GovernanceError) {
        var r = try JSONObjectReader(json, path: "approval")
        guard try r.string("kind") == Self.kind else {
            throw GovernanceError(.invalidValue, .malformed, "approval.kind is not '\(Self.kind)'")
        }
        guard try r.int("format") == 1 else {
            throw GovernanceError(.invalidValue, .malformed, "approval.format is not 1")
        }
        intent = try DocumentHash(hex: r.string("intent"))
        let d = try r.string("decision")
        guard let decision = Decision(rawValue: d) else {
            throw GovernanceError(.invalidValue, .malformed, "approval.decision '\(d.prefix(20))' is unknown")
        }
        self.decision = decision
        approver = try MemberID(r.string("approver"))
        time = try Timestamp(seconds: Int64(r.int("time")))
        try r.finish()
        document = json
        digest = try DocumentHash(
            bytes: DocumentDigest.digest(tag: Self.digestTag, canonical: try CanonicalJSON.encode(json)))
    }

    /// The approval document for `intent` (for signing on a member's device).
    public static func document(intent: DocumentHash, decision: Decision, approver: MemberID, time: Timestamp)
        -> JSONValue
    {
        .object([
            "kind": .string(kind), "format": .number(1), "intent": .string(intent.description),
            "decision": .string(decision.rawValue),
            "approver": .string(approver.value), "time": .number(Double(time.seconds)),
        ])
    }
}

/// An approval with its approver's signature. JSON: `{"approval": {...}, "signature": {...}}`.
public struct SignedApproval: Sendable, Hashable {
    public let approval: Approval
    public let signature: MemberSignature

    /// Decodes the signed form.
    public init(json: JSONValue) throws(GovernanceError) {
        var r = try JSONObjectReader(json, path: "signedApproval")
        approval = try Approval(json: try r.value("approval"))
        signature = try MemberSignature(json: try r.value("signature"), path: "signedApproval.signature")
        try r.finish()
    }

    /// Pairs an approval with a signature.
    public init(approval: Approval, signature: MemberSignature) {
        self.approval = approval
        self.signature = signature
    }

    /// The JSON form.
    public var json: JSONValue { .object(["approval": approval.document, "signature": signature.json]) }
}

/// A policy version with the admin signatures that authorise it. JSON:
/// `{"policy": {...}, "signatures": [...]}`.
public struct SignedPolicy: Sendable, Hashable {
    public let policy: Policy
    public let signatures: [MemberSignature]

    /// Decodes the signed form.
    public init(json: JSONValue) throws(GovernanceError) {
        var r = try JSONObjectReader(json, path: "signedPolicy")
        policy = try Policy(json: try r.value("policy"))
        var sigs = [MemberSignature]()
        for (i, v) in try r.array("signatures").enumerated() {
            sigs.append(try MemberSignature(json: v, path: "signedPolicy.signatures[\(i)]"))
        }
        signatures = sigs
        try r.finish()
    }

    /// Pairs a policy with signatures.
    public init(policy: Policy, signatures: [MemberSignature]) {
        self.policy = policy
        self.signatures = signatures
    }

    /// The JSON form.
    public var json: JSONValue { .object(["policy": policy.document, "signatures": .array(signatures.map(\.json))]) }
}
