public import Bitcoin
import Ethereum
import WalletCrypto

/// What the coordinator hands the signer (format `kura.signing-bundle` 1; docs/SIGNING-BUNDLE.md):
/// the policy chain from the signer's accepted version, the signed intent, the approvals, the
/// unsigned transaction, and the receipt of the signer's last signature as the coordinator knows it.
///
/// One codec for both sides: the coordinator writes bundles with ``json`` and the signer reads them with
/// ``init(bytes:)``, so what the coordinator issues is exactly what the signer parses.
public struct SigningBundle: Sendable {
    /// The unsigned transaction.
    public enum Payload: Sendable {
        /// A PSBT (version 0 or 2).
        case bitcoin(PSBT)
        /// The EIP-2718 signing payload of an Ethereum transaction (type byte and RLP body).
        case ethereum([UInt8])

        /// The chain's name in the bundle (`bitcoin`, `ethereum`).
        public var chain: String {
            switch self {
            case .bitcoin: return "bitcoin"
            case .ethereum: return "ethereum"
            }
        }

        /// The decoded bytes: the serialised PSBT, or the EIP-2718 payload (what `transaction.built` hashes).
        public var bytes: [UInt8] {
            switch self {
            case .bitcoin(let p): return p.serialized
            case .ethereum(let b): return b
            }
        }

        /// The bundle's `transaction` member.
        public var json: JSONValue {
            switch self {
            case .bitcoin(let p): return ["chain": "bitcoin", "psbt": .string(p.base64)]
            case .ethereum(let b): return ["chain": "ethereum", "unsigned": .string(Hex.encode(b))]
            }
        }
    }

    public let policies: [SignedPolicy]
    public let intent: SignedIntent
    public let approvals: [SignedApproval]
    public let payload: Payload
    public let lastReceipt: SignedReceipt?

    /// The largest bundle accepted (checked before parsing).
    public static let maxSize = 8 << 20
    public static let kind = "kura.signing-bundle"

    /// Assembles a bundle (the coordinator's side).
    public init(
        policies: [SignedPolicy], intent: SignedIntent, approvals: [SignedApproval], payload: Payload,
        lastReceipt: SignedReceipt?
    ) {
        self.policies = policies
        self.intent = intent
        self.approvals = approvals
        self.payload = payload
        self.lastReceipt = lastReceipt
    }

    /// Parses a bundle from its bytes: size first, then the strict JSON grammar and closed schemas.
    public init(bytes: [UInt8]) throws(GovernanceError) {
        guard bytes.count <= Self.maxSize else {
            throw GovernanceError(.tooLarge, .resourceLimit, "bundle of \(bytes.count) bytes exceeds \(Self.maxSize)")
        }
        let json = try JSONParser.parse(
            bytes, limits: JSONParser.Limits(maxBytes: Self.maxSize, maxDepth: 32, maxStringBytes: Self.maxSize))
        var r = try JSONObjectReader(json, path: "bundle")
        guard try r.string("kind") == Self.kind else {
            throw GovernanceError(.invalidValue, .malformed, "not a \(Self.kind)")
        }
        guard try r.int("format") == 1 else {
            throw GovernanceError(.invalidValue, .malformed, "bundle format is not 1")
        }
        var policies = [SignedPolicy]()
        let chain = try r.array("policies")
        guard chain.count <= 100 else {
            throw GovernanceError(.tooLarge, .resourceLimit, "more than 100 policy versions in one bundle")
        }
        for v in chain { policies.append(try SignedPolicy(json: v)) }
        self.policies = policies
        intent = try SignedIntent(json: try r.value("intent"))
        let list = try r.array("approvals")
        guard list.count <= 100 else { throw GovernanceError(.tooLarge, .resourceLimit, "more than 100 approvals") }
        var approvals = [SignedApproval]()
        for v in list { approvals.append(try SignedApproval(json: v)) }
        self.approvals = approvals
        var t = try JSONObjectReader(try r.value("transaction"), path: "bundle.transaction")
        switch try t.string("chain") {
        case "bitcoin":
            let text = try t.string("psbt")
            do throws(BitcoinError) { payload = .bitcoin(try PSBT(base64: text)) } catch {
                let category: RefusalCategory
                switch error.code {
                case .resourceLimit: category = .resourceLimit
                // A previous transaction that is not the spent one is a forged input (B06), not noise.
                case .prevoutMismatch: category = .inputInvalid
                default: category = .malformed
                }
                throw GovernanceError(.invalidValue, category, "bundle.transaction.psbt: \(error)")
            }
        case "ethereum":
            guard let b = try? Hex.decode(try t.string("unsigned"), maxBytes: 1 << 20) else {
                throw GovernanceError(.invalidValue, .malformed, "bundle.transaction.unsigned is not hex")
            }
            payload = .ethereum(b)
        case let other:
            throw GovernanceError(
                .invalidValue, .malformed, "bundle.transaction.chain '\(other.prefix(20))' is unknown")
        }
        try t.finish()
        lastReceipt = try r.optionalValue("lastReceipt").map { v throws(GovernanceError) in try SignedReceipt(json: v) }
        try r.finish()
    }

    /// The JSON form, which ``init(bytes:)`` reads back.
    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "kind": .string(Self.kind), "format": 1, "policies": .array(policies.map(\.json)), "intent": intent.json,
            "approvals": .array(approvals.map(\.json)), "transaction": payload.json,
        ]
        if let lastReceipt { o["lastReceipt"] = lastReceipt.json }
        return .object(o)
    }

    /// The canonical bytes of ``json`` (RFC 8785): what the coordinator stores and serves.
    public func encoded() throws(GovernanceError) -> [UInt8] { try CanonicalJSON.encode(json) }
}
