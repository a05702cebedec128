/// A policy whose chain was verified from the pinned root: only ``PolicyChain/verify`` makes one.
public struct VerifiedPolicy: Sendable, Hashable {
    /// The policy.
    public let policy: Policy
    fileprivate init(_ policy: Policy) { self.policy = policy }
    /// Its hash.
    public var hash: DocumentHash { policy.hash }
}

/// The outcome of ``PolicyChain/verifyHistory(_:genesis:)``: the versions that verified, in order,
/// and why the next one did not.
public struct PolicyHistory: Sendable, Hashable {
    /// The longest prefix of the history that verifies, genesis first.
    public let verified: [VerifiedPolicy]
    /// Why the version after ``verified`` failed; `nil` when every version verified.
    public let failure: GovernanceError?
}

/// What a verifier already trusts: the genesis hash pinned at the key ceremony and, once it has
/// moved forward, the version and hash of the newest policy it accepted (its high-water mark).
public struct PolicyTrust: Sendable, Hashable {
    /// The genesis policy hash pinned at the ceremony.
    public let genesis: DocumentHash
    /// The newest accepted version and its hash, if any.
    public let highWater: (version: Int64, hash: DocumentHash)?

    /// Creates a trust anchor.
    public init(genesis: DocumentHash, highWater: (version: Int64, hash: DocumentHash)?) {
        self.genesis = genesis
        self.highWater = highWater
    }

    public static func == (a: PolicyTrust, b: PolicyTrust) -> Bool {
        a.genesis == b.genesis && a.highWater?.version == b.highWater?.version && a.highWater?.hash == b.highWater?.hash
    }
    public func hash(into h: inout Hasher) {
        h.combine(genesis)
        h.combine(highWater?.version)
        h.combine(highWater?.hash)
    }
}

/// Verification of a chain of policy versions, TUF-style (ATTACKS C2): each version names its
/// predecessor's hash and is signed by a quorum of its predecessor's admins; the verifier only
/// moves forward, refuses a second document for a version it has seen, and refuses expired or
/// not-yet-effective policies on its own clock.
public enum PolicyChain {
    /// Verifies `chain`, which starts with the verifier's current policy (the genesis when it has
    /// none yet) and continues with every later version in order, and returns the last one.
    public static func verify(_ chain: [SignedPolicy], trust: PolicyTrust, now: Timestamp) throws(GovernanceError)
        -> VerifiedPolicy
    {
        guard chain.count <= 1000 else {
            throw GovernanceError(.tooLarge, .resourceLimit, "policy chain longer than 1000 versions")
        }
        // Versions below the accepted one were verified before: a chain that runs from an older
        // version (a coordinator cannot know every verifier's high-water mark) is read from the
        // accepted version on, which must still be there with the accepted hash.
        var chain = chain[...]
        if let hw = trust.highWater, let last = chain.last {
            guard let i = chain.firstIndex(where: { $0.policy.version >= hw.version }) else {
                throw GovernanceError(
                    .invalidValue, .policyRollback,
                    "policy version \(last.policy.version) is older than the accepted \(hw.version)")
            }
            chain = chain[i...]
        }
        guard let first = chain.first else {
            throw GovernanceError(.missingField, .policyInvalid, "no policy in the chain")
        }
        if let hw = trust.highWater {
            if first.policy.version < hw.version {
                throw GovernanceError(
                    .invalidValue, .policyRollback,
                    "chain starts at version \(first.policy.version), below the accepted version \(hw.version)")
            }
            guard first.policy.version == hw.version else {
                throw GovernanceError(
                    .invalidValue, .policyInvalid,
                    "chain starts at version \(first.policy.version), not at the accepted version \(hw.version)")
            }
            guard first.policy.hash == hw.hash else {
                throw GovernanceError(
                    .invalidValue, .policyInvalid,
                    "version \(hw.version) has another hash than the one accepted (equivocation)")
            }
        } else {
            guard first.policy.version == 1, first.policy.hash == trust.genesis else {
                throw GovernanceError(
                    .invalidValue, .policyInvalid, "the chain does not start at the pinned genesis policy")
            }
            // The genesis is pinned by hash; its admins' own signatures must still reach its quorum.
            try requireQuorum(first, signers: first.policy, quorum: first.policy.governance.adminQuorum)
        }
        var current = first.policy
        for next in chain.dropFirst() {
            try verifyStep(from: current, to: next)
            current = next.policy
        }
        if let hw = trust.highWater, current.version < hw.version {
            throw GovernanceError(
                .invalidValue, .policyRollback,
                "policy version \(current.version) is older than the accepted \(hw.version)")
        }
        guard now < current.expires else {
            throw GovernanceError(
                .invalidValue, .policyRollback,
                "policy version \(current.version) expired at \(current.expires); a newer version is being withheld")
        }
        guard current.effectiveFrom <= now else {
            throw GovernanceError(
                .invalidValue, .timelockPending,
                "policy version \(current.version) takes effect at \(current.effectiveFrom)")
        }
        return VerifiedPolicy(current)
    }

    /// Verifies a recorded history of policy versions without reading a clock: `chain` starts with
    /// the genesis, pinned by `genesis`, and each later version must follow its predecessor and carry
    /// a quorum of its predecessor's admins (the same steps as ``verify(_:trust:now:)``). Expiry and
    /// effective times are not checked — a past version was valid when it was used — so this is for
    /// auditing what was accepted (`kura audit verify`, docs/AUDIT.md), never for deciding to sign.
    ///
    /// Returns the longest verified prefix and, when a version failed, why (the versions after it are
    /// not checked: their authority comes from the one that failed).
    public static func verifyHistory(_ chain: [SignedPolicy], genesis: DocumentHash) -> PolicyHistory {
        var verified = [VerifiedPolicy]()
        do throws(GovernanceError) {
            guard let first = chain.first else {
                throw GovernanceError(.missingField, .policyInvalid, "no policy in the chain")
            }
            guard chain.count <= 1000 else {
                throw GovernanceError(.tooLarge, .resourceLimit, "policy chain longer than 1000 versions")
            }
            guard first.policy.version == 1, first.policy.hash == genesis else {
                throw GovernanceError(
                    .invalidValue, .policyInvalid, "the chain does not start at the pinned genesis policy")
            }
            try requireQuorum(first, signers: first.policy, quorum: first.policy.governance.adminQuorum)
            verified.append(VerifiedPolicy(first.policy))
            for next in chain.dropFirst() {
                try verifyStep(from: verified[verified.count - 1].policy, to: next)
                verified.append(VerifiedPolicy(next.policy))
            }
            return PolicyHistory(verified: verified, failure: nil)
        } catch {
            return PolicyHistory(verified: verified, failure: error)
        }
    }

    /// One step: `next` must follow `previous` and carry enough of `previous`'s admins' signatures.
    static func verifyStep(from previous: Policy, to next: SignedPolicy) throws(GovernanceError) {
        let progress = try proposalProgress(from: previous, to: next)
        guard progress.complete else {
            throw GovernanceError(
                .invalidSignature, .policyInvalid,
                "version \(next.policy.version) has \(progress.signedBy.count) distinct admin signature(s); "
                    + "\(progress.required) required")
        }
    }

    /// How far a proposed next version is from being a valid step after `previous`: every check of the step
    /// (organisation, version, hash link, creation time, the high-change delay, the address-book delay, and
    /// each signature valid and by an admin of `previous`) except that the signatures reach the quorum, which is
    /// reported. A coordinator collects admins' signatures on a proposal with this.
    public static func proposalProgress(from previous: Policy, to next: SignedPolicy) throws(GovernanceError)
        -> ProposalProgress
    {
        let p = next.policy
        guard p.organization == previous.organization else {
            throw GovernanceError(.invalidValue, .policyInvalid, "version \(p.version) belongs to another organisation")
        }
        guard p.version == previous.version + 1 else {
            throw GovernanceError(
                .invalidValue, .policyInvalid, "version \(p.version) does not follow \(previous.version)")
        }
        guard p.previous == previous.hash else {
            throw GovernanceError(
                .invalidValue, .policyInvalid, "version \(p.version) does not name version \(previous.version)'s hash")
        }
        guard p.created >= previous.created else {
            throw GovernanceError(
                .invalidValue, .policyInvalid, "version \(p.version) was created before its predecessor")
        }
        let high = p.isHighChange(from: previous)
        if high {
            guard p.effectiveFrom >= p.created.adding(seconds: previous.governance.highChangeDelay) else {
                throw GovernanceError(
                    .invalidValue, .policyInvalid,
                    "version \(p.version) changes key material, signers or admins and must wait \(previous.governance.highChangeDelay) s"
                )
            }
        }
        // New address-book entries wait out the delay from the policy's creation (ATTACKS G08).
        for e in p.addressBook where !previous.addressBook.contains(e) {
            guard e.usableFrom >= p.created.adding(seconds: previous.rules.addressBookDelay) else {
                throw GovernanceError(
                    .invalidValue, .policyInvalid,
                    "address-book entry \(e.id) is usable before the \(previous.rules.addressBookDelay) s delay")
            }
        }
        var admins = Set<MemberID>()
        for s in next.signatures {
            try s.verify(digest: p.hash.bytes, in: previous, role: .admin, category: .policyInvalid)
            admins.insert(s.member)
        }
        return ProposalProgress(
            signedBy: admins, required: high ? previous.governance.highQuorum : previous.governance.adminQuorum,
            highChange: high)
    }

    /// Counts distinct admins of `signers` with a valid signature over `signed`'s hash; any
    /// invalid or foreign signature is an error (ATTACKS G02, G03).
    static func requireQuorum(_ signed: SignedPolicy, signers: Policy, quorum: Int) throws(GovernanceError) {
        var admins = Set<MemberID>()
        for s in signed.signatures {
            try s.verify(digest: signed.policy.hash.bytes, in: signers, role: .admin, category: .policyInvalid)
            admins.insert(s.member)
        }
        guard admins.count >= quorum else {
            throw GovernanceError(
                .invalidSignature, .policyInvalid,
                "version \(signed.policy.version) has \(admins.count) distinct admin signature(s); \(quorum) required")
        }
    }
}

/// The signatures a proposed policy version has and needs (``PolicyChain/proposalProgress(from:to:)``).
public struct ProposalProgress: Sendable, Hashable {
    /// The distinct admins of the previous version whose valid signatures it carries.
    public let signedBy: Set<MemberID>
    /// The quorum it needs: the high quorum for a high change, else the admin quorum.
    public let required: Int
    /// Whether it changes wallets, signers, the admin set or its credentials, or the governance rules.
    public let highChange: Bool

    /// Whether the quorum is reached (the step is then valid).
    public var complete: Bool { signedBy.count >= required }
}
