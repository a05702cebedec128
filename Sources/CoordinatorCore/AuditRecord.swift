public import Governance

/// The chain an unsigned transaction is for, as the audit log names it.
public enum TransactionChain: String, Sendable, Hashable, CaseIterable {
    /// A PSBT.
    case bitcoin
    /// An unsigned EIP-2718 Ethereum transaction.
    case ethereum
}

/// What an audit event says, typed: the event kinds the coordinator writes and their payloads (the
/// contract of docs/AUDIT.md). The server builds a record and appends its ``kind``, ``subject`` and
/// ``payload``; the verifier decodes each stored event back with ``init(decoding:)``.
///
/// Every payload is a JSON object with a closed schema, stored as its RFC 8785 canonical bytes. Kinds
/// this build does not know decode as ``other(kind:subject:payload:)`` and are checked by the hash chain
/// only.
public enum AuditRecord: Sendable, Hashable {
    /// `organization.bootstrapped`, subject the organisation: `{"genesis": HASH, "name": NAME}`.
    case organizationBootstrapped(organization: OrganizationID, genesis: DocumentHash, name: String)
    /// `policy.appended`, subject the version in decimal: `{"version": N, "hash": HASH}`.
    case policyAppended(version: Int64, hash: DocumentHash)
    /// `intent.submitted`, subject the intent id: `{"digest", "initiator", "wallet", "asset", "amount",
    /// "destination"}` (the amount a decimal string of base units, the destination the address).
    case intentSubmitted(
        intent: IntentID, digest: DocumentHash, initiator: MemberID, wallet: WalletID, asset: AssetID,
        amount: BaseUnits, destination: String)
    /// `approval.recorded`, subject the intent id: `{"approver", "decision", "digest"}` (the approval's
    /// `kura/approval/v1` digest).
    case approvalRecorded(intent: IntentID, approver: MemberID, decision: Approval.Decision, digest: DocumentHash)
    /// `intent.state`, subject the intent id: `{"from": STATE, "to": STATE}`.
    case intentState(intent: IntentID, from: IntentLifecycle.State, to: IntentLifecycle.State)
    /// `transaction.built`, subject the intent id: `{"chain", "sha256"}` (SHA-256 of the PSBT bytes or of the
    /// unsigned EIP-2718 bytes).
    case transactionBuilt(intent: IntentID, chain: TransactionChain, sha256: DocumentHash)
    /// `bundle.issued`, subject the intent id: `{"sha256"}` (SHA-256 of the signing bundle's bytes as stored).
    case bundleIssued(intent: IntentID, sha256: DocumentHash)
    /// `receipt.recorded`, subject the intent id: `{"signer", "sequence", "digest", "intent"}` (the receipt's
    /// `kura/receipt/v1` digest and the intent digest it names).
    case receiptRecorded(
        intent: IntentID, signer: SignerID, sequence: UInt64, digest: DocumentHash, intentDigest: DocumentHash)
    /// `token.issued`, subject the member: `{"token": TOKEN-ID}`.
    /// `transaction.broadcast`, subject the intent id: `{"txid": TXID, "attempt": N}` — the chain source accepted the
    /// finalised transaction (again, for a rebroadcast after it fell out of the mempool).
    case transactionBroadcast(intent: IntentID, txid: String, attempt: Int)
    /// `transaction.refused`, subject the intent id: `{"txid": TXID, "reason": TEXT}` — the chain source refused the
    /// transaction, or it reverted on chain (Ethereum, receipt status 0).
    case transactionRefused(intent: IntentID, txid: String, reason: String)
    /// `transaction.confirmed`, subject the intent id: `{"txid": TXID, "blockHeight": H, "confirmations": N}`.
    case transactionConfirmed(intent: IntentID, txid: String, blockHeight: Int64, confirmations: Int64)
    case tokenIssued(member: MemberID, token: String)
    /// `token.revoked`, subject the member: `{"token": TOKEN-ID}`.
    case tokenRevoked(member: MemberID, token: String)
    /// Any other kind: chain-checked only.
    case other(kind: String, subject: String, payload: JSONValue)

    /// The event kinds this build knows, in the order of docs/AUDIT.md.
    public static let knownKinds = [
        "organization.bootstrapped", "policy.appended", "intent.submitted", "approval.recorded", "intent.state",
        "transaction.built", "bundle.issued", "receipt.recorded", "token.issued", "token.revoked",
    ]

    /// The longest token id in a `token.*` payload (bytes).
    public static let maxTokenID = 128
    /// The longest organisation name in an `organization.bootstrapped` payload (bytes).
    public static let maxName = 200
    /// The longest destination address in an `intent.submitted` payload (bytes).
    public static let maxAddress = 200

    /// The event kind.
    public var kind: String {
        switch self {
        case .organizationBootstrapped: return "organization.bootstrapped"
        case .policyAppended: return "policy.appended"
        case .intentSubmitted: return "intent.submitted"
        case .approvalRecorded: return "approval.recorded"
        case .intentState: return "intent.state"
        case .transactionBuilt: return "transaction.built"
        case .bundleIssued: return "bundle.issued"
        case .receiptRecorded: return "receipt.recorded"
        case .transactionBroadcast: return "transaction.broadcast"
        case .transactionRefused: return "transaction.refused"
        case .transactionConfirmed: return "transaction.confirmed"
        case .tokenIssued: return "token.issued"
        case .tokenRevoked: return "token.revoked"
        case .other(let kind, _, _): return kind
        }
    }

    /// The event subject.
    public var subject: String {
        switch self {
        case .organizationBootstrapped(let o, _, _): return o.value
        case .policyAppended(let version, _): return String(version)
        case .intentSubmitted(let i, _, _, _, _, _, _), .approvalRecorded(let i, _, _, _), .intentState(let i, _, _),
            .transactionBuilt(let i, _, _), .bundleIssued(let i, _), .receiptRecorded(let i, _, _, _, _),
            .transactionBroadcast(let i, _, _), .transactionRefused(let i, _, _), .transactionConfirmed(let i, _, _, _):
            return i.value
        case .tokenIssued(let m, _), .tokenRevoked(let m, _): return m.value
        case .other(_, let subject, _): return subject
        }
    }

    /// The intent the event is about, for the kinds whose subject is an intent.
    public var intent: IntentID? {
        switch self {
        case .intentSubmitted(let i, _, _, _, _, _, _), .approvalRecorded(let i, _, _, _), .intentState(let i, _, _),
            .transactionBuilt(let i, _, _), .bundleIssued(let i, _), .receiptRecorded(let i, _, _, _, _),
            .transactionBroadcast(let i, _, _), .transactionRefused(let i, _, _), .transactionConfirmed(let i, _, _, _):
            return i
        default: return nil
        }
    }

    /// The payload object.
    public var payloadJSON: JSONValue {
        switch self {
        case .organizationBootstrapped(_, let genesis, let name):
            return ["genesis": .string(genesis.description), "name": .string(name)]
        case .policyAppended(let version, let hash):
            return ["version": .number(Double(version)), "hash": .string(hash.description)]
        case .intentSubmitted(_, let digest, let initiator, let wallet, let asset, let amount, let destination):
            return [
                "digest": .string(digest.description), "initiator": .string(initiator.value),
                "wallet": .string(wallet.value), "asset": .string(asset.value), "amount": .string(amount.description),
                "destination": .string(destination),
            ]
        case .approvalRecorded(_, let approver, let decision, let digest):
            return [
                "approver": .string(approver.value), "decision": .string(decision.rawValue),
                "digest": .string(digest.description),
            ]
        case .intentState(_, let from, let to):
            return ["from": .string(from.rawValue), "to": .string(to.rawValue)]
        case .transactionBuilt(_, let chain, let sha256):
            return ["chain": .string(chain.rawValue), "sha256": .string(sha256.description)]
        case .bundleIssued(_, let sha256):
            return ["sha256": .string(sha256.description)]
        case .receiptRecorded(_, let signer, let sequence, let digest, let intentDigest):
            return [
                "signer": .string(signer.value), "sequence": .number(Double(sequence)),
                "digest": .string(digest.description), "intent": .string(intentDigest.description),
            ]
        case .transactionBroadcast(_, let txid, let attempt):
            return ["txid": .string(txid), "attempt": .number(Double(attempt))]
        case .transactionRefused(_, let txid, let reason):
            return ["txid": .string(txid), "reason": .string(reason)]
        case .transactionConfirmed(_, let txid, let height, let confirmations):
            return [
                "txid": .string(txid), "blockHeight": .number(Double(height)),
                "confirmations": .number(Double(confirmations)),
            ]
        case .tokenIssued(_, let token), .tokenRevoked(_, let token):
            return ["token": .string(token)]
        case .other(_, _, let payload):
            return payload
        }
    }

    /// The payload's RFC 8785 bytes: what ``AuditStore/appendAuditEvent(_:kind:subject:payload:at:)`` stores.
    public var payload: [UInt8] {
        // The typed payloads hold only strings and integers below 2^53, which always encode.
        (try? CanonicalJSON.encode(payloadJSON)) ?? []
    }

    /// Decodes an event's kind, subject and payload. A known kind whose subject or payload breaks its
    /// schema is an error naming the event; an unknown kind with an object payload is ``other(kind:subject:payload:)``.
    public init(decoding event: AuditEvent) throws(GovernanceError) {
        let payload = try Self.payloadObject(event.payload, sequence: event.sequence)
        let path = "event \(event.sequence) (\(event.kind)) payload"
        var r = try JSONObjectReader(payload, path: path)
        func intentSubject() throws(GovernanceError) -> IntentID {
            do { return try IntentID(event.subject) } catch {
                throw GovernanceError(
                    .invalidValue, .malformed, "event \(event.sequence) (\(event.kind)): subject is not an intent id")
            }
        }
        func hash(_ name: String) throws(GovernanceError) -> DocumentHash {
            do { return try DocumentHash(hex: r.string(name)) } catch {
                throw GovernanceError(error.code, .malformed, "\(path).\(name): \(error.reason)")
            }
        }
        func id<K>(_ name: String, _: K.Type) throws(GovernanceError) -> ID<K> {
            do { return try ID<K>(r.string(name)) } catch {
                throw GovernanceError(error.code, .malformed, "\(path).\(name): \(error.reason)")
            }
        }
        func text(_ name: String, max: Int) throws(GovernanceError) -> String {
            let s = try r.string(name)
            guard (1...max).contains(s.utf8.count) else {
                throw GovernanceError(.invalidValue, .malformed, "\(path).\(name): 1 to \(max) bytes expected")
            }
            return s
        }
        switch event.kind {
        case "organization.bootstrapped":
            let org: OrganizationID
            do { org = try OrganizationID(event.subject) } catch {
                throw GovernanceError(
                    .invalidValue, .malformed,
                    "event \(event.sequence) (\(event.kind)): subject is not an organisation id")
            }
            self = .organizationBootstrapped(
                organization: org, genesis: try hash("genesis"), name: try text("name", max: Self.maxName))
        case "policy.appended":
            let version = Int64(try r.int("version", in: 1...JSONParser.maxSafeInteger))
            guard event.subject == String(version) else {
                throw GovernanceError(
                    .invalidValue, .malformed,
                    "event \(event.sequence) (policy.appended): subject is not the version \(version)")
            }
            self = .policyAppended(version: version, hash: try hash("hash"))
        case "intent.submitted":
            self = .intentSubmitted(
                intent: try intentSubject(), digest: try hash("digest"),
                initiator: try id("initiator", IDKind.Member.self),
                wallet: try id("wallet", IDKind.Wallet.self), asset: try id("asset", IDKind.Asset.self),
                amount: try BaseUnits(decimal: r.decimalString("amount")),
                destination: try text("destination", max: Self.maxAddress))
        case "approval.recorded":
            let intent = try intentSubject()
            let approver = try id("approver", IDKind.Member.self)
            let d = try r.string("decision")
            guard let decision = Approval.Decision(rawValue: d) else {
                throw GovernanceError(.invalidValue, .malformed, "\(path).decision is not approve or reject")
            }
            self = .approvalRecorded(intent: intent, approver: approver, decision: decision, digest: try hash("digest"))
        case "intent.state":
            let intent = try intentSubject()
            func state(_ name: String) throws(GovernanceError) -> IntentLifecycle.State {
                guard let s = IntentLifecycle.State(rawValue: try r.string(name)) else {
                    throw GovernanceError(.invalidValue, .malformed, "\(path).\(name) is not an intent state")
                }
                return s
            }
            self = .intentState(intent: intent, from: try state("from"), to: try state("to"))
        case "transaction.built":
            let intent = try intentSubject()
            guard let chain = TransactionChain(rawValue: try r.string("chain")) else {
                throw GovernanceError(.invalidValue, .malformed, "\(path).chain is not bitcoin or ethereum")
            }
            self = .transactionBuilt(intent: intent, chain: chain, sha256: try hash("sha256"))
        case "bundle.issued":
            self = .bundleIssued(intent: try intentSubject(), sha256: try hash("sha256"))
        case "receipt.recorded":
            self = .receiptRecorded(
                intent: try intentSubject(), signer: try id("signer", IDKind.Signer.self),
                sequence: UInt64(try r.int("sequence", in: 1...JSONParser.maxSafeInteger)), digest: try hash("digest"),
                intentDigest: try hash("intent"))
        case "transaction.broadcast":
            self = .transactionBroadcast(
                intent: try intentSubject(), txid: try text("txid", max: 66),
                attempt: try r.int("attempt", in: 1...JSONParser.maxSafeInteger))
        case "transaction.refused":
            self = .transactionRefused(
                intent: try intentSubject(), txid: try text("txid", max: 66),
                reason: try text("reason", max: TransactionWatchRecord.maxErrorLength))
        case "transaction.confirmed":
            self = .transactionConfirmed(
                intent: try intentSubject(), txid: try text("txid", max: 66),
                blockHeight: Int64(try r.int("blockHeight", in: 0...JSONParser.maxSafeInteger)),
                confirmations: Int64(try r.int("confirmations", in: 1...JSONParser.maxSafeInteger)))
        case "token.issued", "token.revoked":
            let member: MemberID
            do { member = try MemberID(event.subject) } catch {
                throw GovernanceError(
                    .invalidValue, .malformed, "event \(event.sequence) (\(event.kind)): subject is not a member id")
            }
            let token = try text("token", max: Self.maxTokenID)
            self =
                event.kind == "token.issued"
                ? .tokenIssued(member: member, token: token) : .tokenRevoked(member: member, token: token)
        default:
            self = .other(kind: event.kind, subject: event.subject, payload: payload)
            return
        }
        try r.finish()
    }

    /// Parses stored payload bytes: a JSON object in its canonical (RFC 8785) form, or an error.
    public static func payloadObject(_ bytes: [UInt8], sequence: Int64) throws(GovernanceError) -> JSONValue {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes, limits: AuditExport.payloadLimits) } catch {
            throw GovernanceError(error.code, error.category, "event \(sequence) payload: \(error.reason)")
        }
        guard case .object = value else {
            throw GovernanceError(.wrongType, .malformed, "event \(sequence) payload is not a JSON object")
        }
        guard try CanonicalJSON.encode(value) == bytes else {
            throw GovernanceError(.nonCanonical, .malformed, "event \(sequence) payload is not in RFC 8785 form")
        }
        return value
    }
}
