import Bitcoin
import Ethereum
import Governance
import WalletCrypto

/// How the follow-up of finalised transactions paces itself.
public struct FollowUpOptions: Sendable, Hashable {
    /// Seconds between two checks of a broadcast transaction.
    public var recheckSeconds: Int64
    /// The longest wait after a failed broadcast or an unreachable chain source (it doubles per attempt from
    /// ``recheckSeconds``).
    public var maxBackoffSeconds: Int64
    /// How long a claim holds a transaction (another process may take it over after that).
    public var leaseSeconds: Int64
    /// The most transactions one round claims.
    public var batch: Int

    /// Creates options: recheck every 10 s, back off up to 10 min, 2-minute leases, 50 a round.
    public init(recheckSeconds: Int64 = 10, maxBackoffSeconds: Int64 = 600, leaseSeconds: Int64 = 120, batch: Int = 50)
    {
        self.recheckSeconds = max(1, recheckSeconds)
        self.maxBackoffSeconds = max(self.recheckSeconds, maxBackoffSeconds)
        self.leaseSeconds = max(10, leaseSeconds)
        self.batch = max(1, batch)
    }
}

extension CoordinatorService {
    /// One round of the follow-up of finalised transactions: claims those due (across organisations, safely
    /// beside other coordinator processes on the same database), broadcasts the ones just signed, asks the chain
    /// source about the broadcast ones, and records what happened — `signed → broadcast` with
    /// `transaction.broadcast`, `broadcast → confirmed` with `transaction.confirmed` at the required depth,
    /// `transaction.refused` when the node refuses (the transaction stays signed and is offered again with
    /// backoff: a refusal for a full mempool or a low fee can pass later, and the signer never signs the intent
    /// twice), a dropped transaction broadcast again, and `broadcast → failed` for an Ethereum transaction that
    /// reverted. Returns how many transactions were checked.
    @discardableResult
    public func followUp(owner: String, options: FollowUpOptions = FollowUpOptions()) async throws(CoordinatorError)
        -> Int
    {
        let now = self.now
        let claimed = try await call { () async throws(StorageError) in
            try await store.claimTransactionWatches(
                owner: owner, now: now, leaseUntil: now.adding(seconds: options.leaseSeconds), limit: options.batch)
        }
        for item in claimed {
            let changes = await check(item, owner: owner, options: options)
            do {
                _ = try await store.apply(changes)
            } catch {
                // Another process took the lease over, or moved the intent: its record stands; this one is dropped.
                if error.code != .conflict { throw CoordinatorError(error) }
            }
        }
        return claimed.count
    }

    /// What one check of a claimed transaction comes to, as one unit of work.
    func check(_ item: ClaimedTransaction, owner: String, options: FollowUpOptions) async -> [StoreChange] {
        let w = item.watch
        let org = w.organization
        let txid = item.transaction.txid
        let now = self.now
        func update(
            attempts: Int? = nil, error: String? = nil, height: Int64? = nil, confirmations: Int64 = 0,
            next: Int64? = nil, done: Bool = false
        ) -> StoreChange {
            .updateTransactionWatch(
                TransactionWatchUpdate(
                    owner: owner,
                    record: TransactionWatchRecord(
                        organization: org, intent: w.intent, network: w.network, attempts: attempts ?? w.attempts,
                        lastError: error, blockHeight: height, confirmations: confirmations,
                        nextCheckAt: now.adding(seconds: next ?? options.recheckSeconds), done: done, updatedAt: now)))
        }
        /// The webhook notification of a withdrawal event, when webhooks are on.
        func notify(_ kind: String, _ extra: [String: JSONValue] = [:]) -> [StoreChange] {
            guard configuration.webhooks else { return [] }
            var data: [String: JSONValue] = [
                "intent": .string(w.intent.value), "txid": .string(txid), "network": .string(w.network),
            ]
            for (k, v) in extra { data[k] = v }
            return [.enqueueWebhook(WebhookDelivery.make(organization: org, kind: kind, data: .object(data), at: now))]
        }
        /// The wait after the n-th failure in a row: recheck × 2^(n−1), at most the maximum backoff.
        func backoff(_ failures: Int) -> Int64 {
            let shift = Int64(min(max(failures - 1, 0), 20))
            return min(options.recheckSeconds << shift, options.maxBackoffSeconds)
        }
        switch item.state {
        case .signed, .broadcast:
            break
        default:
            return [update(done: true)]  // failed or otherwise ended elsewhere: nothing left to follow
        }
        let outcome: ChainOutcome
        do {
            outcome = try await ask(item)
        } catch {
            // The chain source is down or lying: nothing is recorded about the transaction but the reason.
            let failures = w.attempts + 1
            return [update(attempts: failures, error: "\(error.code): \(error.reason)", next: backoff(failures))]
        }
        switch outcome {
        case .accepted:
            let attempt = w.attempts + 1
            var changes = [
                update(attempts: attempt),
                Self.audit(org, .transactionBroadcast(intent: w.intent, txid: txid, attempt: attempt), at: now),
            ]
            if item.state == .signed {
                changes += transition(org, w.intent, from: .signed, to: .broadcast, at: now)
                changes += notify("withdrawal.broadcast")
            }
            return changes
        case .refused(let reason):
            let attempt = w.attempts + 1
            if Self.spendsSpentCoins(reason), Self.spendsSpentCoins(w.lastError ?? ""),
                attempt >= Self.conflictAttempts
            {
                // Its coins were spent by another transaction (replaced, or a conflicting spend confirmed): it can
                // never be mined. Said again over several rounds, not once (a parent still propagating says so too).
                let why = "its inputs are spent by another transaction: \(reason)"
                return [
                    update(attempts: attempt, error: why, done: true),
                    Self.audit(org, .transactionRefused(intent: w.intent, txid: txid, reason: why), at: now),
                ] + transition(org, w.intent, from: item.state, to: .failed, at: now)
                    + [.releaseCoins(org, w.intent)] + notify("withdrawal.failed", ["reason": .string(why)])
            }
            var changes = [update(attempts: attempt, error: reason, next: backoff(attempt))]
            if reason != w.lastError {  // one audit event per distinct refusal, not one per retry
                changes.append(
                    Self.audit(org, .transactionRefused(intent: w.intent, txid: txid, reason: reason), at: now))
                changes += notify("withdrawal.refused", ["reason": .string(reason)])
            }
            return changes
        case .pending:
            return [update()]
        case .confirmed(let height, let confirmations):
            guard confirmations >= Int64(chains.requiredConfirmations) else {
                return [update(height: height, confirmations: confirmations)]
            }
            return [
                update(height: height, confirmations: confirmations, done: true),
                Self.audit(
                    org,
                    .transactionConfirmed(
                        intent: w.intent, txid: txid, blockHeight: height, confirmations: confirmations), at: now),
            ] + transition(org, w.intent, from: .broadcast, to: .confirmed, at: now)
                + notify(
                    "withdrawal.confirmed",
                    ["blockHeight": .number(Double(height)), "confirmations": .number(Double(confirmations))])
        case .reverted(let height):
            let reason = "reverted on chain in block \(height) (receipt status 0)"
            return [
                update(error: reason, height: height, done: true),
                Self.audit(org, .transactionRefused(intent: w.intent, txid: txid, reason: reason), at: now),
            ] + transition(org, w.intent, from: .broadcast, to: .failed, at: now)
                + notify("withdrawal.failed", ["reason": .string(reason)])
        }
    }

    /// Ends the intents whose expiry passed before they were signed (`→ expired`, a compare-and-set, so any number
    /// of processes may run it) and releases the coins their built transactions had reserved, so later intents
    /// can spend them. The signer refuses an expired intent anyway; this keeps the coordinator's state and coins
    /// in step. Returns how many intents expired.
    @discardableResult
    public func expireIntents(limit: Int = 100) async throws(CoordinatorError) -> Int {
        let now = self.now
        let lapsed = try await call { () async throws(StorageError) in
            try await store.lapsedIntents(now: now, limit: limit)
        }
        var expired = 0
        for i in lapsed {
            var changes = transition(i.organization, i.id, from: i.state, to: .expired, at: now)
            changes.append(.releaseCoins(i.organization, i.id))
            if configuration.webhooks {
                changes.append(
                    .enqueueWebhook(
                        WebhookDelivery.make(
                            organization: i.organization, kind: "withdrawal.expired",
                            data: ["intent": .string(i.id.value), "state": .string(i.state.rawValue)], at: now)))
            }
            do {
                _ = try await store.apply(changes)
                expired += 1
            } catch {
                if error.code != .conflict { throw CoordinatorError(error) }  // moved on meanwhile
            }
        }
        return expired
    }

    /// Consecutive attempts refused for spent inputs after which a transaction is failed as conflicted.
    static let conflictAttempts = 3

    /// Whether a node's refusal says the transaction spends coins that are spent or do not exist (Bitcoin Core's
    /// `bad-txns-inputs-missingorspent` / `Missing inputs`, as Esplora relays it or its RPC answers).
    static func spendsSpentCoins(_ reason: String) -> Bool {
        let text = reason.lowercased()
        return text.contains("inputs-missingorspent") || text.contains("missing inputs")
            || text.contains("missing-inputs")
    }

    /// What the chain source says, or does, about a claimed transaction.
    enum ChainOutcome {
        /// Broadcast (again) and accepted.
        case accepted
        /// The node refused the broadcast, with its reason.
        case refused(String)
        /// Known to the node, not yet in a block.
        case pending
        /// In the block at `height`, with `confirmations` on the best chain.
        case confirmed(height: Int64, confirmations: Int64)
        /// Mined, but the Ethereum transaction reverted.
        case reverted(height: Int64)
    }

    private func ask(_ item: ClaimedTransaction) async throws(ChainError) -> ChainOutcome {
        let network = item.watch.network
        let raw = item.transaction.raw
        if network.hasPrefix("bitcoin:") {
            guard let name = network.split(separator: ":").last, let net = try? Network(named: String(name)),
                let port = chains.bitcoin[net]
            else { throw ChainError(.unavailable, "no Bitcoin chain source is configured for \(network)") }
            let txid: Txid
            do { txid = try Txid(hex: item.transaction.txid) } catch {
                throw ChainError(.invalidResponse, "the stored txid does not parse")
            }
            // Asked first in both states: a transaction signed here may already be on the network (a broadcast
            // whose answer was lost before it was recorded), and one broadcast may have been dropped.
            var status: BitcoinTransactionStatus?
            do { status = try await port.transactionStatus(txid) } catch {
                // Not found: never sent, or dropped from the mempool (evicted, the node restarted); sent below.
                if error.code != .notFound { throw error }
            }
            switch (item.state, status) {
            case (.signed, .some): return .accepted
            case (_, .unconfirmed): return .pending
            case (_, .confirmed(let height, let confirmations)):
                return .confirmed(height: Int64(height), confirmations: Int64(confirmations))
            case (_, nil): break
            }
            do {
                _ = try await port.broadcast(raw)
                return .accepted
            } catch {
                if error.code == .rejected { return .refused(error.reason) }
                throw error
            }
        }
        guard let text = network.split(separator: ":").last, network.hasPrefix("ethereum:"), let id = UInt64(text),
            let port = chains.ethereum[ChainID(id)]
        else { throw ChainError(.unavailable, "no Ethereum chain source is configured for \(network)") }
        let hash: TransactionHash
        do { hash = try TransactionHash(bytes: try Hex.decode(String(item.transaction.txid.dropFirst(2)))) } catch {
            throw ChainError(.invalidResponse, "the stored transaction hash does not parse")
        }
        if item.state == .broadcast, let receipt = try await port.receipt(hash) {
            guard receipt.succeeded else { return .reverted(height: Int64(receipt.blockNumber)) }
            return .confirmed(height: Int64(receipt.blockNumber), confirmations: Int64(receipt.confirmations))
        }
        // Signed, or broadcast but not in a block: sent (again; a node that has it answers its hash).
        do {
            _ = try await port.broadcast(raw)
            return item.state == .signed ? .accepted : .pending
        } catch {
            if error.code == .rejected { return .refused(error.reason) }
            throw error
        }
    }
}
