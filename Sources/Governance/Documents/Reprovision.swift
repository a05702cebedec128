public import WalletCrypto

/// An admin quorum's instruction to a cold signer whose state was lost, damaged or rolled back
/// (format `kura.signer-reprovision` 1; docs/OPERATOR-GUIDE.md §4, ADR 0009): start a new ledger
/// that resumes after the last receipt the coordinator holds, with every intent and Ethereum
/// nonce that may already have been signed marked as used.
///
/// JSON:
/// ```
/// {"kind": "kura.signer-reprovision", "format": 1, "organization": ID,
///  "policy": {"version": N, "hash": HEX}, "signer": ID, "identityKey": HEX,
///  "resume": {"sequence": N, "receipt": HEX},          receipt absent when sequence is 0
///  "usedIntents": [ID, ...], "ethereumNonces": [{"account": "0x…", "nonce": N}, ...],
///  "created": T, "expires": T}
/// ```
public struct Reprovision: Sendable, Hashable {
    /// An Ethereum account's highest nonce that may already have been signed.
    public struct EthereumNonce: Sendable, Hashable {
        /// The account, lowercase `0x` hex.
        public let account: String
        public let nonce: UInt64

        /// Creates an entry (`account` as lowercase `0x` hex; the document's parser checks it).
        public init(account: String, nonce: UInt64) {
            self.account = account
            self.nonce = nonce
        }
    }

    public let organization: OrganizationID
    public let policyVersion: Int64
    public let policyHash: DocumentHash
    public let signer: SignerID
    public let identityKey: XOnlyPublicKey
    public let resumeSequence: UInt64
    public let resumeReceipt: DocumentHash?
    public let usedIntents: [IntentID]
    public let ethereumNonces: [EthereumNonce]
    public let created: Timestamp
    public let expires: Timestamp
    public let document: JSONValue
    /// The `kura/signer-reprovision/v1` digest the admins sign.
    public let digest: DocumentHash

    public static let kind = "kura.signer-reprovision"
    public static let digestTag = "kura/signer-reprovision/v1"
    /// The most intents one document may mark as used.
    public static let maxUsedIntents = 10_000
    /// The longest a document may stay valid.
    public static let maxLifetime: Int64 = 7 * 86_400

    /// Decodes a re-provisioning document (closed schema).
    public init(json: JSONValue) throws(GovernanceError) {
        var r = try JSONObjectReader(json, path: "reprovision")
        guard try r.string("kind") == Self.kind else {
            throw GovernanceError(.invalidValue, .malformed, "reprovision.kind is not '\(Self.kind)'")
        }
        guard try r.int("format") == 1 else {
            throw GovernanceError(.invalidValue, .malformed, "reprovision.format is not 1")
        }
        organization = try OrganizationID(r.string("organization"))
        (policyVersion, policyHash) = try r.object("policy") { p throws(GovernanceError) in
            (Int64(try p.int("version", in: 1...Int(Int32.max))), try DocumentHash(hex: p.string("hash")))
        }
        signer = try SignerID(r.string("signer"))
        guard let key = try? XOnlyPublicKey(bytes: Hex.decode(try r.string("identityKey"), maxBytes: 32)) else {
            throw GovernanceError(.invalidKey, .malformed, "reprovision.identityKey is not an x-only public key")
        }
        identityKey = key
        (resumeSequence, resumeReceipt) = try r.object("resume") { p throws(GovernanceError) in
            let n = UInt64(try p.int("sequence", in: 0...Int(Int32.max)))
            let receipt = try p.optionalString("receipt").map { s throws(GovernanceError) in try DocumentHash(hex: s) }
            guard (n == 0) == (receipt == nil) else {
                throw GovernanceError(
                    .invalidValue, .malformed, "reprovision.resume: a receipt is required exactly when sequence > 0")
            }
            return (n, receipt)
        }
        let intents = try r.array("usedIntents")
        guard intents.count <= Self.maxUsedIntents else {
            throw GovernanceError(
                .tooLarge, .resourceLimit, "reprovision.usedIntents: more than \(Self.maxUsedIntents)")
        }
        var used = [IntentID]()
        var seen = Set<IntentID>()
        for v in intents {
            guard case .string(let s) = v else {
                throw GovernanceError(.wrongType, .malformed, "reprovision.usedIntents: expected strings")
            }
            let id = try IntentID(s)
            guard seen.insert(id).inserted else {
                throw GovernanceError(.duplicateKey, .malformed, "reprovision.usedIntents lists \(id) twice")
            }
            used.append(id)
        }
        usedIntents = used
        let nonces = try r.array("ethereumNonces")
        guard nonces.count <= 10_000 else {
            throw GovernanceError(.tooLarge, .resourceLimit, "reprovision.ethereumNonces: more than 10,000")
        }
        var accounts = Set<String>()
        var list = [EthereumNonce]()
        for v in nonces {
            var o = try JSONObjectReader(v, path: "reprovision.ethereumNonces[]")
            let account = try o.string("account")
            let hex = account.utf8.dropFirst(2)
            guard account.hasPrefix("0x"), hex.count == 40,
                hex.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
            else {
                throw GovernanceError(
                    .invalidValue, .malformed,
                    "reprovision.ethereumNonces: '\(account.prefix(50))' is not a lowercase address")
            }
            let nonce = UInt64(try o.int("nonce", in: 0...Int(Int64.max >> 11)))
            try o.finish()
            guard accounts.insert(account).inserted else {
                throw GovernanceError(.duplicateKey, .malformed, "reprovision.ethereumNonces lists \(account) twice")
            }
            list.append(EthereumNonce(account: account, nonce: nonce))
        }
        ethereumNonces = list
        created = try Timestamp(seconds: Int64(r.int("created")))
        expires = try Timestamp(seconds: Int64(r.int("expires")))
        guard created < expires, expires.seconds - created.seconds <= Self.maxLifetime else {
            throw GovernanceError(
                .invalidValue, .malformed, "reprovision: expires must follow created by at most \(Self.maxLifetime) s")
        }
        try r.finish()
        document = json
        digest = try DocumentHash(
            bytes: DocumentDigest.digest(tag: Self.digestTag, canonical: try CanonicalJSON.encode(json)))
    }

    /// The document for `signer` of `policy` (for the admins to sign).
    public static func document(
        policy: Policy, signer: SignerID, resumeSequence: UInt64, resumeReceipt: DocumentHash?,
        usedIntents: [IntentID], ethereumNonces: [EthereumNonce], created: Timestamp, expires: Timestamp
    ) throws(GovernanceError) -> JSONValue {
        guard let info = policy.signer(signer) else {
            throw GovernanceError(
                .invalidValue, .malformed, "\(signer) is not a signer of policy version \(policy.version)")
        }
        var resume: [String: JSONValue] = ["sequence": .number(Double(resumeSequence))]
        if let resumeReceipt { resume["receipt"] = .string(resumeReceipt.description) }
        return .object([
            "kind": .string(kind), "format": 1, "organization": .string(policy.organization.value),
            "policy": ["version": .number(Double(policy.version)), "hash": .string(policy.hash.description)],
            "signer": .string(signer.value), "identityKey": .string(Hex.encode(info.identityKey.bytes)),
            "resume": .object(resume), "usedIntents": .array(usedIntents.map { .string($0.value) }),
            "ethereumNonces": .array(
                ethereumNonces.map { ["account": .string($0.account), "nonce": .number(Double($0.nonce))] }),
            "created": .number(Double(created.seconds)), "expires": .number(Double(expires.seconds)),
        ])
    }
}

/// A re-provisioning document with admin signatures. JSON: `{"reprovision": {...}, "signatures": [...]}`.
public struct SignedReprovision: Sendable, Hashable {
    public let reprovision: Reprovision
    public let signatures: [MemberSignature]

    /// Decodes the signed form.
    public init(json: JSONValue) throws(GovernanceError) {
        var r = try JSONObjectReader(json, path: "signedReprovision")
        reprovision = try Reprovision(json: try r.value("reprovision"))
        let list = try r.array("signatures")
        guard list.count <= 100 else { throw GovernanceError(.tooLarge, .resourceLimit, "more than 100 signatures") }
        var sigs = [MemberSignature]()
        for (i, v) in list.enumerated() {
            sigs.append(try MemberSignature(json: v, path: "signedReprovision.signatures[\(i)]"))
        }
        signatures = sigs
        try r.finish()
    }

    /// Pairs a document with signatures.
    public init(reprovision: Reprovision, signatures: [MemberSignature]) {
        self.reprovision = reprovision
        self.signatures = signatures
    }

    /// The JSON form.
    public var json: JSONValue {
        .object(["reprovision": reprovision.document, "signatures": .array(signatures.map(\.json))])
    }

    /// Verifies the document for the signer whose identity key is `identityKey`, under `policy`
    /// (the current version, verified from the pinned genesis): same organisation and policy
    /// version, the signer named by the policy with this identity key, valid at `now`, and signed
    /// by the policy's **high** quorum of distinct admins (resetting a signer's memory is as
    /// sensitive as changing its keys). Failures are `POLICY_INVALID`, `WALLET_MISMATCH` or
    /// `TIMELOCK_PENDING`.
    public func verify(policy: VerifiedPolicy, identityKey: XOnlyPublicKey, now: Timestamp) throws(GovernanceError)
        -> Reprovision
    {
        let d = reprovision
        let p = policy.policy
        guard d.organization == p.organization, d.policyVersion == p.version, d.policyHash == p.hash else {
            throw GovernanceError(
                .invalidValue, .policyInvalid,
                "the re-provisioning document names policy version \(d.policyVersion), not the current version \(p.version)"
            )
        }
        guard d.identityKey == identityKey, let info = p.signer(d.signer), info.identityKey == identityKey else {
            throw GovernanceError(
                .invalidValue, .walletMismatch, "the re-provisioning document is for another signer than this keystore")
        }
        guard d.created <= now else {
            throw GovernanceError(.invalidValue, .timelockPending, "the re-provisioning document is dated \(d.created)")
        }
        guard now < d.expires else {
            throw GovernanceError(
                .invalidValue, .timelockPending, "the re-provisioning document expired at \(d.expires)")
        }
        var admins = Set<MemberID>()
        for s in signatures {
            try s.verify(digest: d.digest.bytes, in: p, role: .admin, category: .policyInvalid)
            admins.insert(s.member)
        }
        guard admins.count >= p.governance.highQuorum else {
            throw GovernanceError(
                .invalidSignature, .policyInvalid,
                "the re-provisioning document has \(admins.count) distinct admin signature(s); \(p.governance.highQuorum) required"
            )
        }
        return d
    }
}
