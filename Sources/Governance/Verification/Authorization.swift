/// An intent whose initiator's signature verified under a verified policy: only
/// ``Authorization/verify(_:policy:)`` makes one.
public struct VerifiedIntent: Sendable, Hashable {
    public let intent: Intent
    public let signature: MemberSignature
    fileprivate init(_ signed: SignedIntent) {
        intent = signed.intent
        signature = signed.signature
    }
}

/// A session request whose signature verified under a verified policy: only
/// ``Authorization/verify(_:policy:audience:now:)`` makes one.
public struct VerifiedSessionRequest: Sendable, Hashable {
    public let request: SessionRequest
    /// The member's roles in the policy the request was verified under.
    public let roles: Set<Role>
    fileprivate init(_ request: SessionRequest, roles: Set<Role>) {
        self.request = request
        self.roles = roles
    }
}

/// An approval whose signature verified: only ``Authorization/verify(_:policy:)`` makes one. It remembers the
/// policy it verified under, so ``Evaluation`` can take it without verifying it again under that same policy.
public struct VerifiedApproval: Sendable, Hashable {
    /// The signed approval that verified.
    let signed: SignedApproval
    /// The hash of the policy it verified under.
    let policy: DocumentHash
    public var approval: Approval { signed.approval }
    fileprivate init(_ signed: SignedApproval, policy: DocumentHash) {
        self.signed = signed
        self.policy = policy
    }
}

/// Signature checks of intents and approvals against the current policy (ATTACKS C3).
public enum Authorization {
    /// Verifies the initiator's signature: the signer is the intent's initiator, a member with the
    /// initiator role listed in the rules, using one of their own credentials.
    public static func verify(_ signed: SignedIntent, policy: VerifiedPolicy) throws(GovernanceError) -> VerifiedIntent
    {
        let p = policy.policy
        guard signed.intent.organization == p.organization else {
            throw GovernanceError(
                .invalidValue, .approvalMismatch, "intent belongs to organisation \(signed.intent.organization)")
        }
        guard signed.signature.member == signed.intent.initiator else {
            throw GovernanceError(
                .invalidSignature, .approvalInvalid, "intent is signed by \(signed.signature.member), not its initiator"
            )
        }
        guard p.rules.initiators.contains(signed.intent.initiator) else {
            throw GovernanceError(
                .invalidSignature, .approvalInvalid, "\(signed.intent.initiator) may not initiate transfers")
        }
        try signed.signature.verify(
            digest: signed.intent.digest.bytes, in: p, role: .initiator, category: .approvalInvalid)
        return VerifiedIntent(signed)
    }

    /// Verifies one approval's signature: the signer is the approval's approver, holds the approver
    /// role and owns the credential.
    public static func verify(_ signed: SignedApproval, policy: VerifiedPolicy) throws(GovernanceError)
        -> VerifiedApproval
    {
        guard signed.signature.member == signed.approval.approver else {
            throw GovernanceError(
                .invalidSignature, .approvalInvalid,
                "approval is signed by \(signed.signature.member), not its approver")
        }
        try signed.signature.verify(
            digest: signed.approval.digest.bytes, in: policy.policy, role: .approver, category: .approvalInvalid)
        return VerifiedApproval(signed, policy: policy.hash)
    }

    /// Verifies a session request: for this organisation and `audience`, inside its validity window
    /// at `now` (with ``Evaluation/skew``), signed by the member it names with one of their own
    /// credentials in the current policy. Failures are `.approvalInvalid` (signature) or `.malformed`.
    public static func verify(
        _ signed: SignedSessionRequest, policy: VerifiedPolicy, audience: String, now: Timestamp
    ) throws(GovernanceError) -> VerifiedSessionRequest {
        let p = policy.policy
        let r = signed.request
        guard r.organization == p.organization else {
            throw GovernanceError(.invalidValue, .malformed, "session request is for organisation \(r.organization)")
        }
        guard r.audience == audience else {
            throw GovernanceError(.invalidValue, .malformed, "session request is for another audience")
        }
        guard r.created <= now.adding(seconds: Evaluation.skew), now < r.expires else {
            throw GovernanceError(.invalidValue, .malformed, "session request is outside its validity window")
        }
        guard signed.signature.member == r.member else {
            throw GovernanceError(
                .invalidSignature, .approvalInvalid,
                "session request is signed by \(signed.signature.member), not \(r.member)")
        }
        try signed.signature.verify(digest: r.digest.bytes, in: p, role: nil, category: .approvalInvalid)
        return VerifiedSessionRequest(r, roles: p.member(r.member)?.roles ?? [])
    }
}
