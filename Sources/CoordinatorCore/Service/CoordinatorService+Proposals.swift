import Governance

extension CoordinatorService {
    /// Proposes the next policy version: `{"policy": DOCUMENT, "signatures": [the caller's own signature]}`. The
    /// proposal must be a valid step after the newest stored version in every respect but the number of
    /// signatures (``PolicyChain/proposalProgress(from:to:)``); when the proposer's signature alone reaches the
    /// quorum it is appended at once.
    public func prepareProposal(_ principal: Principal, document bytes: [UInt8]) async throws(CoordinatorError)
        -> Prepared<PolicyProposalRecord>
    {
        try principal.require([.admin], to: "propose policy versions")
        let org = principal.organization
        let now = self.now
        let json = try Self.parse(bytes, what: "proposal")
        let signed: SignedPolicy
        do { signed = try SignedPolicy(json: json) } catch { throw CoordinatorError(error) }
        guard signed.signatures.count == 1, signed.signatures[0].member == principal.member else {
            throw CoordinatorError(
                .forbidden, "a proposal carries exactly one signature: the proposer's own (\(principal.member))")
        }
        let progress = try await progress(org, signed, now: now)
        return try await settle(
            principal, signed, progress: progress, existing: nil, now: now,
            event: .other(
                kind: "policy.proposed", subject: signed.policy.hash.description,
                payload: .object([
                    "version": .number(Double(signed.policy.version)), "proposer": .string(principal.member.value),
                ])))
    }

    /// Adds the caller's signature (`{member, credential, evidence}` over the proposal's hash) to an open
    /// proposal; the signature that reaches the quorum appends the version.
    public func prepareProposalSignature(_ principal: Principal, proposal id: String, signature bytes: [UInt8])
        async throws(CoordinatorError) -> Prepared<PolicyProposalRecord>
    {
        try principal.require([.admin], to: "sign policy proposals")
        let org = principal.organization
        let now = self.now
        guard
            let record = try await call({ () async throws(StorageError) in try await store.proposal(org, id: id) })
        else { throw CoordinatorError(.notFound, "no proposal '\(id.prefix(64))'") }
        guard record.state == .open else {
            throw CoordinatorError(.conflict, "proposal \(id.prefix(16)) is \(record.state.rawValue)")
        }
        let signed: SignedPolicy
        do {
            let signature = try MemberSignature(json: try Self.parse(bytes, what: "signature"), path: "signature")
            guard signature.member == principal.member else {
                throw CoordinatorError(.forbidden, "sign as yourself (\(principal.member)), not as \(signature.member)")
            }
            let existing = try Self.parse(record.signatures, what: "stored signatures")
            guard case .array(let list) = existing else { throw CoordinatorError(.unavailable, "stored signatures") }
            for s in list
            where (try? MemberSignature(json: s, path: "stored"))?.member == principal.member {
                throw CoordinatorError(.duplicate, "\(principal.member) already signed this proposal")
            }
            signed = try SignedPolicy(
                json: .object([
                    "policy": try Self.parse(record.document, what: "stored proposal"),
                    "signatures": .array(list + [signature.json]),
                ]))
        } catch let e as CoordinatorError {
            throw e
        } catch let e as GovernanceError {
            throw CoordinatorError(e)
        } catch {
            throw CoordinatorError(.malformed, "the signature could not be read")
        }
        let progress = try await progress(org, signed, now: now)
        return try await settle(
            principal, signed, progress: progress, existing: record, now: now,
            event: .other(
                kind: "policy.proposal-signed", subject: record.id,
                payload: .object([
                    "version": .number(Double(record.version)), "member": .string(principal.member.value),
                    "signatures": .number(Double(progress.signedBy.count)),
                ])))
    }

    /// Checks a proposal against the newest stored version (it must follow it) and counts its signatures.
    private func progress(_ org: OrganizationID, _ signed: SignedPolicy, now: Timestamp)
        async throws(CoordinatorError) -> ProposalProgress
    {
        let chain = try await policyChain(org)
        guard let head = chain.last else { throw CoordinatorError(.notFound, "no policy for '\(org)'") }
        guard signed.policy.version == head.policy.version + 1, signed.policy.previous == head.policy.hash else {
            throw CoordinatorError(
                .conflict,
                "the proposal does not follow the newest version (\(head.policy.version)); it was superseded")
        }
        guard now < signed.policy.expires else {
            throw CoordinatorError(
                GovernanceError(.invalidValue, .policyRollback, "the proposed version has already expired"))
        }
        do { return try PolicyChain.proposalProgress(from: head.policy, to: signed) } catch {
            throw CoordinatorError(error)
        }
    }

    /// The proposal's new record, and when complete the policy version appended with it (same checks as a
    /// version posted signed).
    private func settle(
        _ principal: Principal, _ signed: SignedPolicy, progress: ProposalProgress,
        existing: PolicyProposalRecord?, now: Timestamp, event: AuditRecord
    ) async throws(CoordinatorError) -> Prepared<PolicyProposalRecord> {
        let org = principal.organization
        let document: [UInt8]
        let signatures: [UInt8]
        do {
            document = try CanonicalJSON.encode(signed.policy.document)
            signatures = try CanonicalJSON.encode(.array(signed.signatures.map(\.json)))
        } catch { throw CoordinatorError(error) }
        let record = PolicyProposalRecord(
            organization: org, id: signed.policy.hash.description, version: signed.policy.version, document: document,
            proposer: existing?.proposer ?? principal.member, signatures: signatures,
            signatureCount: progress.signedBy.count, required: progress.required,
            state: progress.complete ? .applied : .open, createdAt: existing?.createdAt ?? now, updatedAt: now)
        var changes: [StoreChange] = [
            existing.map { .updateProposal(record, expectedSignatures: $0.signatureCount) } ?? .insertProposal(record),
            Self.audit(org, event, at: now),
        ]
        if progress.complete {
            let canonical: [UInt8]
            do { canonical = try CanonicalJSON.encode(signed.json) } catch { throw CoordinatorError(error) }
            changes += try await prepareAppendPolicy(principal, document: canonical).changes
        }
        return Prepared(value: record, changes: changes)
    }
}
