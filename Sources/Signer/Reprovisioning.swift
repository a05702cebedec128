public import Governance
import WalletCrypto

#if canImport(Glibc)
    import Glibc
#endif

/// The outcome of a re-provisioning attempt.
public enum ReprovisionOutcome: Sendable {
    /// A new ledger was written; the old files (if any) were kept beside it under `replaced`.
    case done(Reprovision, replaced: String?)
    case refused(Refusal)
}

extension SignerEngine {
    /// Re-provisions a signer whose state is missing, damaged or behind the coordinator's receipts
    /// (ATTACKS C11, K04; docs/OPERATOR-GUIDE.md §4): verifies `chain` from the genesis the operator
    /// pins again, then `document` — signed by that policy's high quorum of admins, for this
    /// keystore's identity — and writes a new ledger: identity, pin, current policy, and a resume
    /// record (sequence and receipt to continue from, intents and Ethereum nonces that may already
    /// have been signed). An intact ledger that is not behind the document is never replaced.
    public static func reprovision(
        home: SignerHome, contents: Keystore.Contents, genesis: DocumentHash, chain: [SignedPolicy],
        document: SignedReprovision, clock: Timestamp
    ) throws(SignerError) -> ReprovisionOutcome {
        let keys = try SignerKeys(contents)
        let identity = keys.identity
        let me = identity.xOnlyPublicKey.key
        let key = keys.ledgerKey

        // What the current state says, if it can be read at all.
        var existing: SignerState? = nil
        do {
            existing = try Ledger.open(path: home.ledgerPath, key: key, identity: me).1
        } catch {
            guard error.code == .stateIntegrity else { throw error }
        }
        let now = existing?.now(clock: clock) ?? clock

        let policy: VerifiedPolicy
        let verified: Reprovision
        do {
            policy = try PolicyChain.verify(chain, trust: PolicyTrust(genesis: genesis, highWater: nil), now: now)
            verified = try document.verify(policy: policy, identityKey: me, now: now)
        } catch {
            return .refused(Refusal(error))
        }
        if let existing {
            if let g = existing.genesis, g != genesis {
                return .refused(Refusal(.policyInvalid, "the signer's state pins another genesis policy"))
            }
            if existing.policyVersion > policy.policy.version {
                return .refused(
                    Refusal(
                        .policyRollback,
                        "the signer has accepted policy version \(existing.policyVersion); the document is for version \(policy.policy.version)"
                    ))
            }
            if existing.genesis != nil, existing.sequence >= verified.resumeSequence {
                return .refused(
                    Refusal(
                        .stateIntegrity,
                        "the signer's ledger is intact and not behind (sequence \(existing.sequence), the document resumes after \(verified.resumeSequence)); nothing to re-provision"
                    ))
            }
        }

        // Keep the old files for the auditors; never delete them.
        var replaced: String? = nil
        let suffix = ".replaced-\(now.seconds)"
        for path in [home.ledgerPath, Ledger.headPath(home.ledgerPath)] where LocalFiles.exists(path) {
            guard !LocalFiles.exists(path + suffix), rename(path, path + suffix) == 0 else {
                throw SignerError(.io, "cannot move \(path) aside: \(LocalFiles.errnoText())")
            }
            if path == home.ledgerPath { replaced = path + suffix }
        }
        try Ledger.create(path: home.ledgerPath, key: key, identity: identity)
        var (ledger, state) = try Ledger.open(path: home.ledgerPath, key: key, identity: me)
        var entries: [LedgerEntry] = [
            .pin(genesis: genesis, time: now), .policy(version: policy.policy.version, hash: policy.hash, time: now),
        ]
        // A rolled-back but readable ledger still knows some of what it signed: keep that too.
        let base = LedgerEntry.ResumeRecord(verified, time: now)
        var used = base.usedIntents
        var nonces = base.ethereumNonces
        if let existing {
            used += existing.history.usedIntents.subtracting(used).sorted()
            for (a, n) in existing.ethereumNonces { nonces[a] = max(nonces[a] ?? 0, n) }
        }
        entries.append(
            .resume(
                LedgerEntry.ResumeRecord(
                    document: base.document, sequence: base.sequence, receipt: base.receipt, usedIntents: used,
                    ethereumNonces: nonces, time: now)))
        for e in entries {
            try state.apply(e)
            try ledger.append(e)
        }
        return .done(verified, replaced: replaced)
    }
}
