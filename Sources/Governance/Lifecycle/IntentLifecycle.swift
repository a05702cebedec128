/// The lifecycle of a transfer intent, as a value the coordinator drives: events go in, the new
/// state and the actions to take come out; invalid transitions are errors, never silent.
public struct IntentLifecycle: Sendable, Hashable {
    /// Where an intent is.
    public enum State: String, Sendable, Hashable, CaseIterable {
        case draft, awaitingApprovals, approved, built, signing, signed, broadcast, confirmed, rejected, expired, failed

        /// Whether no further event can change the state.
        public var isTerminal: Bool { [.confirmed, .rejected, .expired, .failed].contains(self) }
    }

    /// Something that happened.
    public enum Event: Sendable, Hashable {
        /// The signed intent was submitted.
        case submitted
        /// An approval arrived; `have` distinct approvals of `need`.
        case approvalAdded(have: Int, need: Int)
        /// An approver rejected.
        case rejected
        /// The unsigned transaction was built.
        case transactionBuilt
        /// A signing bundle was handed out.
        case bundleIssued
        /// A signed result came back; `complete` when every required signature is present.
        case signatureReturned(complete: Bool)
        /// The transaction was broadcast.
        case broadcast
        /// The transaction reached `depth` confirmations, of `required`.
        case confirmation(depth: Int, required: Int)
        /// The broadcast transaction fell out of the mempool (it may be broadcast again).
        case dropped
        /// A conflicting transaction confirmed instead (the coins were spent elsewhere).
        case conflicted
        /// The intent's expiry passed before it was signed.
        case expiryPassed
        /// An unrecoverable failure (the chain refused the transaction, a check failed).
        case failure
    }

    /// What the coordinator should do next.
    public enum Action: Sendable, Hashable {
        case notifyApprovers
        case buildTransaction
        case offerSigningBundle
        case finalizeAndBroadcast
        case watchConfirmations
        case rebroadcast
        case recordTerminal
    }

    /// The current state.
    public private(set) var state: State

    /// A new intent (draft).
    public init(state: State = .draft) { self.state = state }

    /// Applies `event`, returning the actions to take; an event that makes no sense in the current
    /// state is an error and leaves the state unchanged.
    public mutating func handle(_ event: Event) throws(GovernanceError) -> [Action] {
        func invalid() -> GovernanceError {
            GovernanceError(.invalidValue, .malformed, "event \(event) is not valid in state \(state.rawValue)")
        }
        guard !state.isTerminal else { throw invalid() }
        switch (state, event) {
        case (.draft, .submitted):
            state = .awaitingApprovals
            return [.notifyApprovers]
        case (.awaitingApprovals, .approvalAdded(let have, let need)):
            guard have >= need else { return [] }
            state = .approved
            return [.buildTransaction]
        case (.awaitingApprovals, .rejected), (.approved, .rejected):
            state = .rejected
            return [.recordTerminal]
        case (.approved, .transactionBuilt):
            state = .built
            return [.offerSigningBundle]
        case (.built, .bundleIssued):
            state = .signing
            return []
        case (.signing, .signatureReturned(let complete)):
            guard complete else { return [] }
            state = .signed
            return [.finalizeAndBroadcast]
        case (.signed, .broadcast):
            state = .broadcast
            return [.watchConfirmations]
        case (.broadcast, .confirmation(let depth, let required)):
            guard depth >= required else { return [] }
            state = .confirmed
            return [.recordTerminal]
        case (.broadcast, .dropped):
            // The signed transaction stays valid: the signer never signs an intent twice, so the
            // same bytes are broadcast again (a fee bump is a new, separately approved intent).
            return [.rebroadcast]
        case (.broadcast, .conflicted):
            state = .failed
            return [.recordTerminal]
        case (.draft, .expiryPassed), (.awaitingApprovals, .expiryPassed), (.approved, .expiryPassed),
            (.built, .expiryPassed),
            (.signing, .expiryPassed):
            state = .expired
            return [.recordTerminal]
        case (_, .failure):
            state = .failed
            return [.recordTerminal]
        default:
            throw invalid()
        }
    }
}
