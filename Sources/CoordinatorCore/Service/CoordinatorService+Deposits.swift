import Bitcoin
import Ethereum
import Governance
import WalletCrypto

extension CoordinatorService {
    /// The Ethereum blocks one scan reads at most, and how far it steps back after a re-org.
    static let ethereumBlocksPerScan: UInt64 = 100
    static let ethereumReorgRewind: Int64 = 12

    /// One round of the deposit scan: every wallet of every organisation's policy in force gets a scan; the scans
    /// due are claimed (as the follow-up claims transactions: safely beside other processes on the database) and
    /// each wallet's chain source is asked what it received. A deposit is recorded once (by its outpoint, or its
    /// transaction and log index), with `deposit.detected` in the audit log, followed until it has the required
    /// confirmations (`deposit.confirmed`), and marked `removed` (`deposit.removed`) when it leaves the best chain
    /// before that. Returns how many wallets were scanned.
    @discardableResult
    public func scanDeposits(owner: String, options: FollowUpOptions = FollowUpOptions()) async throws(CoordinatorError)
        -> Int
    {
        let now = self.now
        for org in try await call({ () async throws(StorageError) in try await store.organizationIDs() }) {
            // Registered once per policy version and process, not written every round.
            guard let policy = try? await currentPolicy(org), !policy.policy.wallets.isEmpty,
                !scansRegistered.withLock({ $0.contains(policy.hash) })
            else { continue }
            if (try? await store.apply(policy.policy.wallets.map { .ensureDepositScan(org, $0.id, at: now) })) != nil {
                scansRegistered.withLock { _ = $0.insert(policy.hash) }
            }
        }
        let scans = try await call { () async throws(StorageError) in
            try await store.claimDepositScans(
                owner: owner, now: now, leaseUntil: now.adding(seconds: options.leaseSeconds), limit: options.batch)
        }
        for scan in scans {
            let changes = await scanWallet(scan, owner: owner, options: options)
            do { _ = try await store.apply(changes) } catch {
                if error.code != .conflict { throw CoordinatorError(error) }
            }
        }
        return scans.count
    }

    /// What one scan of one wallet comes to, as one unit of work (the scan's new position included).
    func scanWallet(_ scan: DepositScanRecord, owner: String, options: FollowUpOptions) async -> [StoreChange] {
        let org = scan.organization
        let now = self.now
        func done(nextBlock: Int64? = scan.nextBlock, lastHash: String? = scan.lastHash, later: Int64? = nil)
            -> StoreChange
        {
            .updateDepositScan(
                owner: owner,
                DepositScanRecord(
                    organization: org, wallet: scan.wallet, nextBlock: nextBlock, lastHash: lastHash,
                    nextCheckAt: now.adding(seconds: later ?? options.recheckSeconds), updatedAt: now))
        }
        guard let policy = try? await currentPolicy(org), let wallet = policy.policy.wallet(scan.wallet),
            let known = try? await store.deposits(org, wallet: scan.wallet, limit: 10_000)
        else { return [done(later: options.maxBackoffSeconds)] }
        var ledger = DepositLedger(
            organization: org, wallet: wallet.id, known: known, required: Int64(chains.requiredConfirmations),
            now: now, webhooks: configuration.webhooks)
        do {
            switch wallet.chain {
            case .bitcoin(let network):
                try await scanBitcoin(policy, wallet, network: network, into: &ledger)
                return ledger.changes + [done()]
            case .ethereum(let chainID):
                let position = try await scanEthereum(policy, wallet, chainID: chainID, scan: scan, into: &ledger)
                return ledger.changes + [done(nextBlock: position.next, lastHash: position.hash)]
            }
        } catch {
            // The chain source failed: nothing recorded but the scan's next time.
            return [done(later: min(options.recheckSeconds * 4, options.maxBackoffSeconds))]
        }
    }

    private func scanBitcoin(
        _ policy: VerifiedPolicy, _ wallet: Policy.Wallet, network: Network, into ledger: inout DepositLedger
    ) async throws(ChainError) {
        guard let port = chains.bitcoin[network] else { throw ChainError(.unavailable, "no chain source") }
        guard let asset = policy.policy.assets.first(where: { $0.chain == wallet.chain && $0.contract == nil }),
            let descriptor = wallet.bitcoinPolicy?.descriptor
        else { return }
        let handedOut: [AddressRecord]
        do { handedOut = try await store.addresses(ledger.organization, wallet: wallet.id, branch: 0) } catch {
            throw ChainError(.unavailable, "the store failed")
        }
        guard !handedOut.isEmpty else { return }
        var addressOf: [Script: String] = [:]
        for a in handedOut {
            guard let script = try? descriptor.scriptPubKey(index: UInt32(a.index), branch: 0) else { continue }
            addressOf[script] = a.address
        }
        let tip = Int64(try await port.tipHeight())
        let outputs = try await port.unspentOutputs(paying: Array(addressOf.keys))
        var listed = Set<String>()
        for o in outputs {
            let confirmations = Int64(o.confirmations)
            let key = ledger.record(
                chain: "bitcoin", txid: o.outPoint.txid.description, position: Int64(o.outPoint.vout),
                asset: asset.id, address: addressOf[o.scriptPubKey] ?? "", amount: BaseUnits(UInt64(o.value.sats)),
                blockHeight: confirmations > 0 ? tip - confirmations + 1 : nil, confirmations: confirmations)
            listed.insert(key)
        }
        // A deposit not yet confirmed that the chain source no longer lists left the best chain (or was spent by a
        // transaction this coordinator built, which spends only coins it listed: those are kept).
        let reserved: Set<String>
        do {
            reserved = Set(
                try await store.reservedCoins(ledger.organization).map {
                    "bitcoin:\($0.outPoint.txid):\($0.outPoint.vout)"
                }
            )
        } catch { throw ChainError(.unavailable, "the store failed") }
        ledger.removePending { $0.chain == "bitcoin" && !listed.contains($0.key) && !reserved.contains($0.key) }
    }

    private func scanEthereum(
        _ policy: VerifiedPolicy, _ wallet: Policy.Wallet, chainID: ChainID, scan: DepositScanRecord,
        into ledger: inout DepositLedger
    ) async throws(ChainError) -> (next: Int64?, hash: String?) {
        guard let port = chains.ethereum[chainID] else { throw ChainError(.unavailable, "no chain source") }
        guard let address = wallet.ethereumAddress else { return (scan.nextBlock, scan.lastHash) }
        let tip = try await port.blockNumber()
        let from = UInt64(max(0, scan.nextBlock ?? Int64(tip) - Int64(Self.ethereumBlocksPerScan)))
        var lastHash = scan.lastHash
        var next = from
        if from <= tip {
            let to = min(tip, from + Self.ethereumBlocksPerScan - 1)
            let ether = policy.policy.assets.first { $0.chain == wallet.chain && $0.contract == nil }
            for n in from...to {
                let block = try await port.block(number: n)
                if let lastHash, block.parentHash.description != lastHash {
                    // A re-org below this block: step back and scan again; deposits not yet confirmed up there are
                    // removed now and recorded again if the new branch has them.
                    let rewind = max(0, Int64(n) - Self.ethereumReorgRewind)
                    ledger.removePending { $0.chain == "ethereum" && ($0.blockHeight ?? 0) >= rewind }
                    return (rewind, nil)
                }
                if let ether {
                    for tx in block.transactions where tx.to == address && tx.value.amount != UInt256(0) {
                        guard let receipt = try await port.receipt(tx.hash), receipt.succeeded else { continue }
                        ledger.record(
                            chain: "ethereum", txid: tx.hash.description, position: -1, asset: ether.id,
                            address: address.description, amount: BaseUnits(tx.value.amount),
                            blockHeight: Int64(n), confirmations: Int64(tip - n + 1))
                    }
                }
                lastHash = block.hash.description
                next = n + 1
            }
            for asset in policy.policy.assets where asset.chain == wallet.chain {
                guard let contract = asset.contract else { continue }
                let transfers = try await port.tokenTransfers(
                    token: contract, recipients: [address], fromBlock: from, toBlock: next - 1)
                for t in transfers {
                    ledger.record(
                        chain: "ethereum", txid: t.transactionHash.description, position: Int64(t.logIndex),
                        asset: asset.id, address: address.description, amount: BaseUnits(t.amount),
                        blockHeight: Int64(t.blockNumber), confirmations: Int64(tip - t.blockNumber + 1))
                }
            }
        }
        // Deposits still waiting count their confirmations from the tip.
        ledger.recount(chain: "ethereum", tip: Int64(tip))
        return (Int64(next), lastHash)
    }
}

/// The deposits of one wallet as one scan finds them: what was known, what changes, and the audit events.
struct DepositLedger {
    let organization: OrganizationID
    let wallet: WalletID
    let required: Int64
    let now: Timestamp
    /// Whether each event is also queued for the webhook.
    let webhooks: Bool
    private(set) var known: [String: DepositRecord]
    private(set) var changes: [StoreChange] = []

    init(
        organization: OrganizationID, wallet: WalletID, known: [DepositRecord], required: Int64, now: Timestamp,
        webhooks: Bool = false
    ) {
        self.organization = organization
        self.wallet = wallet
        self.required = required
        self.now = now
        self.webhooks = webhooks
        self.known = Dictionary(known.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// Records what the chain source shows of one deposit; returns its key.
    @discardableResult
    mutating func record(
        chain: String, txid: String, position: Int64, asset: AssetID, address: String, amount: BaseUnits,
        blockHeight: Int64?, confirmations: Int64
    ) -> String {
        let state: DepositRecord.State = confirmations >= required ? .confirmed : .pending
        let before = known["\(chain):\(txid):\(position)"]
        let record = DepositRecord(
            organization: organization, wallet: wallet, chain: chain, txid: txid, position: position, asset: asset,
            address: address, amount: amount, blockHeight: blockHeight, confirmations: confirmations, state: state,
            firstSeenAt: before?.firstSeenAt ?? now, updatedAt: now)
        if let before, before.state == .confirmed { return record.key }  // final
        if let before, before.state == state, before.confirmations == confirmations,
            before.blockHeight == blockHeight
        {
            return record.key
        }
        put(record, from: before)
        return record.key
    }

    /// Marks the deposits still waiting that `gone` selects as removed.
    mutating func removePending(_ gone: (DepositRecord) -> Bool) {
        for d in known.values where d.state == .pending && gone(d) {
            put(d.with(state: .removed, confirmations: 0, blockHeight: nil, at: now), from: d)
        }
    }

    /// Recounts the confirmations of the deposits still waiting on `chain` from the tip.
    mutating func recount(chain: String, tip: Int64) {
        for d in known.values where d.state == .pending && d.chain == chain {
            guard let height = d.blockHeight, height <= tip else { continue }
            let confirmations = tip - height + 1
            guard confirmations != d.confirmations else { continue }
            put(
                d.with(
                    state: confirmations >= required ? .confirmed : .pending, confirmations: confirmations,
                    blockHeight: height, at: now), from: d)
        }
    }

    private mutating func put(_ record: DepositRecord, from before: DepositRecord?) {
        known[record.key] = record
        changes.append(.upsertDeposit(record))
        var kinds: [String] = []
        if before == nil || before?.state == .removed, record.state != .removed { kinds.append("deposit.detected") }
        if record.state == .confirmed, before?.state != .confirmed { kinds.append("deposit.confirmed") }
        if record.state == .removed, before?.state != .removed { kinds.append("deposit.removed") }
        for kind in kinds {
            var payload: [String: JSONValue] = [
                "wallet": .string(wallet.value), "asset": .string(record.asset.value), "chain": .string(record.chain),
                "txid": .string(record.txid), "position": .number(Double(record.position)),
                "address": .string(record.address), "amount": .string(record.amount.description),
                "confirmations": .number(Double(record.confirmations)),
            ]
            if let h = record.blockHeight { payload["blockHeight"] = .number(Double(h)) }
            changes.append(
                CoordinatorService.audit(
                    organization, .other(kind: kind, subject: record.key, payload: .object(payload)), at: now))
            if webhooks {
                changes.append(
                    .enqueueWebhook(
                        WebhookDelivery.make(organization: organization, kind: kind, data: .object(payload), at: now)))
            }
        }
    }
}

extension DepositRecord {
    func with(state: State, confirmations: Int64, blockHeight: Int64?, at: Timestamp) -> DepositRecord {
        DepositRecord(
            organization: organization, wallet: wallet, chain: chain, txid: txid, position: position, asset: asset,
            address: address, amount: amount, blockHeight: blockHeight, confirmations: confirmations, state: state,
            firstSeenAt: firstSeenAt, updatedAt: at)
    }
}
