public import Bitcoin
public import Ethereum
public import Governance
import WalletCrypto

/// The chain sources the coordinator reads to build transactions, one per network, and the planner's settings.
public struct ChainSources: Sendable {
    /// Bitcoin chain sources by network.
    public var bitcoin: [Network: any BitcoinChainPort]
    /// Ethereum chain sources by chain id.
    public var ethereum: [ChainID: any EthereumChainPort]
    /// The confirmation target the Bitcoin fee rate is asked for.
    public var confirmationTarget: Int
    /// The confirmations after which a broadcast transaction is `confirmed` (both chains).
    public var requiredConfirmations: Int
    /// Bitcoin planning settings.
    public var bitcoinOptions: BitcoinPlanningOptions
    /// Ethereum planning settings.
    public var ethereumOptions: EthereumPlanningOptions

    /// Creates a set of chain sources (none by default: building then answers `unavailable`).
    public init(
        bitcoin: [Network: any BitcoinChainPort] = [:], ethereum: [ChainID: any EthereumChainPort] = [:],
        confirmationTarget: Int = 6, requiredConfirmations: Int = 6,
        bitcoinOptions: BitcoinPlanningOptions = BitcoinPlanningOptions(),
        ethereumOptions: EthereumPlanningOptions = EthereumPlanningOptions()
    ) {
        self.bitcoin = bitcoin
        self.ethereum = ethereum
        self.confirmationTarget = confirmationTarget
        self.requiredConfirmations = max(1, requiredConfirmations)
        self.bitcoinOptions = bitcoinOptions
        self.ethereumOptions = ethereumOptions
    }
}

/// The unsigned transaction built for an approved intent, and the signing bundle stored with it.
public struct BuiltTransaction: Sendable {
    /// The stored bundle (without any signer's last receipt).
    public let bundle: BundleRecord
    /// The unsigned transaction.
    public let payload: SigningBundle.Payload
    /// The Bitcoin txid, or `0x` and the Ethereum signing hash: what the signer's receipt names.
    public let transactionID: String
    /// The most the transaction pays in fees, in the asset's base units (sat or wei).
    public let fee: BaseUnits
}

/// A signer's result as it comes back: the signed transaction and the signer's receipt.
public struct SignedResult: Sendable {
    /// The signed receipt.
    public let receipt: SignedReceipt
    /// Bitcoin: the PSBT with the signer's partial signatures; Ethereum: the signed EIP-2718 transaction.
    public let transaction: [UInt8]
    /// `bitcoin` or `ethereum`.
    public let chain: TransactionChain

    /// Parses the upload body `{"chain", "psbt": BASE64 | "signed": HEX, "receipt": SignedReceipt}` (closed
    /// schema).
    public init(json: JSONValue) throws(GovernanceError) {
        var r = try JSONObjectReader(json, path: "result")
        switch try r.string("chain") {
        case "bitcoin":
            chain = .bitcoin
            guard let bytes = Base64.decode(try r.string("psbt"), maxBytes: SigningBundle.maxSize) else {
                throw GovernanceError(.invalidValue, .malformed, "result.psbt is not base64")
            }
            transaction = bytes
        case "ethereum":
            chain = .ethereum
            var text = try r.string("signed")
            if text.hasPrefix("0x") { text.removeFirst(2) }
            guard let bytes = try? Hex.decode(text, maxBytes: SignedTransaction.maxSize) else {
                throw GovernanceError(.invalidValue, .malformed, "result.signed is not hex")
            }
            transaction = bytes
        case let other:
            throw GovernanceError(.invalidValue, .malformed, "result.chain '\(other.prefix(20))' is unknown")
        }
        receipt = try SignedReceipt(json: try r.value("receipt"))
        try r.finish()
    }
}

extension CoordinatorService {
    /// The roles that move an approved intent through building, bundles and results.
    static let operatorRoles: Set<Role> = [.admin, .initiator, .approver]

    // MARK: Build

    /// Builds the unsigned transaction of an approved intent from the chain source (coins and fee rate, or nonce,
    /// fees and gas), within the intent's and the policy's caps, and stores it as the intent's signing bundle:
    /// the policy chain from the genesis to the intent's version, the signed intent, its approvals and the
    /// transaction. Audit: `transaction.built`, `bundle.issued`, `intent.state approved → built`.
    public func prepareBuild(_ principal: Principal, intent id: IntentID) async throws(CoordinatorError)
        -> Prepared<BuiltTransaction>
    {
        try principal.require(Self.operatorRoles, to: "build transactions")
        let org = principal.organization
        let detail = try await intentDetail(org, id: id)
        guard detail.record.state == .approved else {
            throw CoordinatorError(
                .conflict, "intent \(id) is \(detail.record.state.rawValue); only an approved intent is built")
        }
        let policy = try await policy(for: principal)
        let (signedIntent, approvals) = try signedDocuments(detail)
        guard signedIntent.intent.policy == policy.hash else {
            throw CoordinatorError(
                .refused, "the policy changed since intent \(id) was approved; it needs a new intent",
                category: .intentMismatch)
        }
        let now = self.now
        let verified: VerifiedIntent
        do { verified = try verify(signedIntent, policy: policy) } catch {
            throw CoordinatorError(error)
        }
        // Approved earlier; the daily limits are checked again against what was spent since.
        if case .deny(let refusals) = Evaluation.evaluate(
            intent: verified, approvals: approvals, policy: policy, history: try await history(org, now: now),
            now: now), let first = refusals.first
        {
            throw CoordinatorError(.refused, first.reason, category: first.category)
        }
        guard let wallet = policy.policy.wallet(signedIntent.intent.wallet) else {
            throw CoordinatorError(.notFound, "wallet \(signedIntent.intent.wallet) is not in the policy")
        }
        var changes: [StoreChange] = []
        let payload: SigningBundle.Payload
        let transactionID: String
        let fee: BaseUnits
        switch wallet.chain {
        case .bitcoin(let network):
            let plan = try await planBitcoin(org, policy, verified, wallet: wallet, network: network, now: now)
            payload = .bitcoin(plan.plan.psbt)
            transactionID = plan.plan.txid.description
            fee = BaseUnits(UInt64(plan.plan.fee.sats))
            changes += plan.changes
        case .ethereum(let chainID):
            let plan = try await planEthereum(policy, verified, chainID: chainID)
            payload = .ethereum(plan.unsigned)
            transactionID = "0x" + Hex.encode(plan.transaction.computeSigningHash())
            fee = BaseUnits(plan.maxFee.amount)
        }
        let chainPolicies = try await policyChain(org).filter { $0.policy.version <= detail.record.policyVersion }
        let bundle = SigningBundle(
            policies: chainPolicies, intent: signedIntent, approvals: approvals, payload: payload, lastReceipt: nil)
        let bytes: [UInt8]
        do { bytes = try bundle.encoded() } catch { throw CoordinatorError(error) }
        let record = BundleRecord(
            organization: org, intent: id, digest: AuditExport.sha256(bytes), bytes: bytes, issuedAt: now)
        let chain: TransactionChain = payload.chain == "bitcoin" ? .bitcoin : .ethereum
        changes += [
            .insertBundle(record),
            Self.audit(
                org, .transactionBuilt(intent: id, chain: chain, sha256: AuditExport.sha256(payload.bytes)), at: now),
            Self.audit(org, .bundleIssued(intent: id, sha256: record.digest), at: now),
        ]
        changes += transition(org, id, from: .approved, to: .built, at: now)
        return Prepared(
            value: BuiltTransaction(bundle: record, payload: payload, transactionID: transactionID, fee: fee),
            changes: changes)
    }

    private func planBitcoin(
        _ org: OrganizationID, _ policy: VerifiedPolicy, _ intent: VerifiedIntent, wallet: Policy.Wallet,
        network: Network, now: Timestamp
    ) async throws(CoordinatorError) -> (plan: BitcoinTransferPlan, changes: [StoreChange]) {
        guard let port = chains.bitcoin[network] else {
            throw CoordinatorError(.unavailable, "no Bitcoin chain source is configured for \(network.name)")
        }
        guard let walletPolicy = wallet.bitcoinPolicy else {
            throw CoordinatorError(.conflict, "wallet \(wallet.id) has no descriptor")
        }
        let receive = try await call { () async throws(StorageError) in
            try await store.addresses(org, wallet: wallet.id, branch: 0)
        }
        let change = try await call { () async throws(StorageError) in
            try await store.addresses(org, wallet: wallet.id, branch: 1)
        }
        let gap = UInt32(configuration.gapLimit)
        let scan = WalletScanRange(
            receive: 0..<(UInt32(receive.count) + gap), change: 0..<(UInt32(change.count) + gap))
        let request: BitcoinPlanRequest
        do {
            let scripts = try TransactionPlanner.walletScripts(policy: policy, wallet: wallet.id, scan: scan)
            // Coins another built transaction already spends are not offered to the planner.
            let reserved = Set(
                try await call { () async throws(StorageError) in try await store.reservedCoins(org) }.map(\.outPoint))
            let coins = try await port.unspentOutputs(paying: scripts.map(\.scriptPubKey))
                .filter { !reserved.contains($0.outPoint) }
            let rate = try await port.feeRate(confirmationTarget: chains.confirmationTarget)
            request = BitcoinPlanRequest(
                policy: policy, intent: intent, coins: coins, scan: scan, feeRate: rate,
                changeIndex: UInt32(change.count), options: chains.bitcoinOptions)
        } catch let e as ChainError {
            throw CoordinatorError(.unavailable, "the Bitcoin chain source failed: \(e)")
        } catch let e as PlanningError {
            throw CoordinatorError(.conflict, "cannot build: \(e.reason)")
        } catch {
            throw CoordinatorError(.unavailable, "the Bitcoin chain source failed")
        }
        let plan: BitcoinTransferPlan
        do { plan = try TransactionPlanner.plan(bitcoin: request) } catch {
            throw CoordinatorError(.conflict, "cannot build: \(error.reason)")
        }
        // The coins are reserved with the build: a concurrent build that chose one of them fails as a duplicate.
        var changes: [StoreChange] = [
            .reserveCoins(
                plan.inputs.map { CoinReservation(organization: org, outPoint: $0.outPoint, intent: intent.intent.id) })
        ]
        if let c = plan.change {
            // The change index is handed out with the build (a concurrent build of the same wallet conflicts).
            let address: String
            do { address = try walletPolicy.descriptor.address(index: c.index, branch: 1).text } catch {
                throw CoordinatorError(.conflict, "change address \(c.index) cannot be derived")
            }
            changes.append(
                .insertAddress(
                    AddressRecord(
                        organization: org, wallet: wallet.id, branch: 1, index: Int64(c.index), address: address,
                        label: "change of \(intent.intent.id)", createdAt: now, used: true)))
        }
        return (plan, changes)
    }

    private func planEthereum(_ policy: VerifiedPolicy, _ intent: VerifiedIntent, chainID: ChainID)
        async throws(CoordinatorError) -> EthereumTransferPlan
    {
        guard let port = chains.ethereum[chainID] else {
            throw CoordinatorError(.unavailable, "no Ethereum chain source is configured for chain id \(chainID)")
        }
        do {
            let call = try TransactionPlanner.ethereumCall(policy: policy, intent: intent)
            let request = EthereumPlanRequest(
                policy: policy, intent: intent, chainID: try await port.chainID(),
                pendingNonce: try await port.pendingNonce(of: call.from), fees: try await port.feeSuggestion(),
                gasEstimate: try await port.estimateGas(call), options: chains.ethereumOptions)
            return try TransactionPlanner.plan(ethereum: request)
        } catch let e as ChainError {
            throw CoordinatorError(.unavailable, "the Ethereum chain source failed: \(e)")
        } catch let e as PlanningError {
            throw CoordinatorError(.conflict, "cannot build: \(e.reason)")
        } catch {
            throw CoordinatorError(.unavailable, "the Ethereum chain source failed")
        }
    }

    // MARK: Bundle

    /// The signing bundle of a built intent for one signer: the stored bundle with that signer's latest receipt
    /// as the coordinator holds it (so the signer can tell whether its state was rolled back). The first download
    /// moves the intent from `built` to `signing`.
    public func bundle(_ principal: Principal, intent id: IntentID, signer: SignerID) async throws(CoordinatorError)
        -> [UInt8]
    {
        try principal.require(Self.operatorRoles, to: "download signing bundles")
        let org = principal.organization
        let record = try await intent(org, id: id)
        guard [.built, .signing].contains(record.state) else {
            throw CoordinatorError(
                .conflict, "intent \(id) is \(record.state.rawValue); bundles are handed out once it is built")
        }
        let base = try await storedBundle(org, id)
        let policy = base.policies.last?.policy
        guard let wallet = policy?.wallet(base.intent.intent.wallet), wallet.signers.contains(signer) else {
            throw CoordinatorError(.notFound, "signer \(signer) holds no key of intent \(id)'s wallet")
        }
        var last: SignedReceipt? = nil
        let latest = try await call { () async throws(StorageError) in
            try await store.latestReceipt(org, signer: signer)
        }
        if let r = latest {
            do { last = try SignedReceipt(json: try JSONParser.parse(r.document)) } catch {
                throw CoordinatorError(.unavailable, "the stored receipt \(r.sequence) of \(signer) does not parse")
            }
        }
        if record.state == .built {
            do {
                _ = try await store.apply(transition(org, id, from: .built, to: .signing, at: now))
            } catch {
                // Another download moved it first; anything else is a storage failure.
                if error.code != .conflict { throw CoordinatorError(error) }
            }
        }
        let issued = SigningBundle(
            policies: base.policies, intent: base.intent, approvals: base.approvals, payload: base.payload,
            lastReceipt: last)
        do { return try issued.encoded() } catch { throw CoordinatorError(error) }
    }

    // MARK: Result

    /// Checks a signer's result against the intent and stores it with its receipt: the receipt signed by the
    /// signer's identity key in the intent's policy, for this intent's digest and this transaction; Bitcoin: the
    /// PSBT's unsigned transaction byte-identical to the built one, only this signer's signatures kept, each
    /// verified; Ethereum: the signed transaction's signing hash equal to the built one's and its sender the
    /// wallet's address. Audit: `receipt.recorded`. Call ``finalizeIfComplete(_:intent:)`` after it commits.
    public func prepareResult(_ principal: Principal, intent id: IntentID, body bytes: [UInt8])
        async throws(CoordinatorError) -> Prepared<ReceiptRecord>
    {
        try principal.require(Self.operatorRoles, to: "upload signed results")
        let org = principal.organization
        let record = try await intent(org, id: id)
        guard record.state == .signing else {
            throw CoordinatorError(
                .conflict, "intent \(id) is \(record.state.rawValue); results are taken while it is signing")
        }
        let result: SignedResult
        do { result = try SignedResult(json: try Self.parse(bytes, what: "result")) } catch let e as CoordinatorError {
            throw e
        } catch let e as GovernanceError {
            throw CoordinatorError(e)
        } catch {
            throw CoordinatorError(.malformed, "the result could not be read")
        }
        let base = try await storedBundle(org, id)
        guard let policy = base.policies.last?.policy, let wallet = policy.wallet(base.intent.intent.wallet) else {
            throw CoordinatorError(.unavailable, "the stored bundle of intent \(id) names no wallet")
        }
        let receipt = result.receipt.receipt
        do { try result.receipt.verify(in: policy) } catch { throw CoordinatorError(error) }
        guard wallet.signers.contains(receipt.signer) else {
            throw CoordinatorError(
                .refused, "signer \(receipt.signer) holds no key of wallet \(wallet.id)", category: .walletMismatch)
        }
        guard receipt.intentDigest == record.digest else {
            throw CoordinatorError(.refused, "the receipt is for another intent digest", category: .intentMismatch)
        }
        if let latest = try await call({ () async throws(StorageError) in
            try await store.latestReceipt(org, signer: receipt.signer)
        }) {
            guard Int64(receipt.sequence) > latest.sequence else {
                throw CoordinatorError(
                    .refused,
                    "receipt \(receipt.sequence) of \(receipt.signer) is not after its receipt \(latest.sequence) already recorded",
                    category: .stateIntegrity)
            }
        }
        let contribution: [UInt8]
        switch (base.payload, result.chain) {
        case (.bitcoin(let built), .bitcoin):
            contribution = try bitcoinContribution(
                built, uploaded: result.transaction, receipt: receipt, wallet: wallet)
        case (.ethereum(let unsigned), .ethereum):
            contribution = try ethereumResult(unsigned, uploaded: result.transaction, receipt: receipt, wallet: wallet)
        default:
            throw CoordinatorError(.malformed, "the result is for another chain than intent \(id)'s transaction")
        }
        let now = self.now
        let canonical: [UInt8]
        do { canonical = try CanonicalJSON.encode(result.receipt.json) } catch { throw CoordinatorError(error) }
        let stored = ReceiptRecord(
            organization: org, intent: id, signer: receipt.signer, sequence: Int64(receipt.sequence),
            document: canonical, result: contribution, storedAt: now)
        return Prepared(
            value: stored,
            changes: [
                .insertReceipt(stored),
                Self.audit(
                    org,
                    .receiptRecorded(
                        intent: id, signer: receipt.signer, sequence: receipt.sequence, digest: receipt.digest,
                        intentDigest: receipt.intentDigest), at: now),
            ])
    }

    private func storedBundle(_ org: OrganizationID, _ id: IntentID) async throws(CoordinatorError) -> SigningBundle {
        guard
            let stored = try await call({ () async throws(StorageError) in try await store.bundle(org, intent: id) })
        else { throw CoordinatorError(.unavailable, "intent \(id) has no stored bundle") }
        do { return try SigningBundle(bytes: stored.bytes) } catch {
            throw CoordinatorError(.unavailable, "the stored bundle of intent \(id) does not parse")
        }
    }

    /// The built PSBT with only the uploading signer's signatures, each verified; refused unless the unsigned
    /// transaction is byte-identical and the signer signed every input.
    private func bitcoinContribution(_ built: PSBT, uploaded: [UInt8], receipt: Receipt, wallet: Policy.Wallet)
        throws(CoordinatorError) -> [UInt8]
    {
        let psbt: PSBT
        do { psbt = try PSBT(bytes: uploaded) } catch {
            throw CoordinatorError(.malformed, "the uploaded PSBT does not parse: \(error.reason)")
        }
        let builtTx: Transaction
        do {
            builtTx = try built.unsignedTx()
            guard try psbt.unsignedTx().serialized == builtTx.serialized,
                psbt.inputs.count == built.inputs.count
            else {
                throw CoordinatorError(
                    .refused, "the uploaded PSBT is not the built transaction", category: .intentMismatch)
            }
        } catch let e as CoordinatorError {
            throw e
        } catch {
            throw CoordinatorError(.malformed, "the uploaded PSBT has no readable unsigned transaction")
        }
        guard receipt.transaction == builtTx.computeTxid().description else {
            throw CoordinatorError(
                .refused, "the receipt names transaction \(receipt.transaction.prefix(66)), not the built one",
                category: .intentMismatch)
        }
        guard let keyIndex = wallet.signers.firstIndex(of: receipt.signer),
            let descriptor = wallet.bitcoinPolicy?.descriptor, keyIndex < descriptor.keys.count,
            let origin = descriptor.keys[keyIndex].origin
        else {
            throw CoordinatorError(.conflict, "wallet \(wallet.id) has no key of \(receipt.signer)")
        }
        var mine = built
        for i in built.inputs.indices {
            // The signer's key on this input: the derivation the built PSBT records under the signer's origin.
            let keys = built.inputs[i].bip32Derivations.filter { entry in
                entry.value.fingerprint == origin.fingerprint
                    && entry.value.path.components.starts(with: origin.path.components)
            }.map { $0.key }
            for key in keys {
                if let sig = psbt.inputs[i].partialSignatures[key] { mine.inputs[i].partialSignatures[key] = sig }
            }
            if let tap = psbt.inputs[i].tapKeySignature, !built.inputs[i].tapBIP32Derivations.isEmpty {
                mine.inputs[i].tapKeySignature = tap
            }
        }
        let counts: [Int]
        do { counts = try mine.verifySignatures() } catch {
            throw CoordinatorError(.refused, "\(receipt.signer)'s \(error.reason)", category: .malformed)
        }
        if let unsigned = counts.firstIndex(of: 0) {
            throw CoordinatorError(
                .refused, "the result carries no valid signature of \(receipt.signer) on input \(unsigned)",
                category: .malformed)
        }
        return mine.serialized
    }

    /// The signed Ethereum transaction, checked: same signing hash as the built one, sent by the wallet.
    private func ethereumResult(_ unsigned: [UInt8], uploaded: [UInt8], receipt: Receipt, wallet: Policy.Wallet)
        throws(CoordinatorError) -> [UInt8]
    {
        let signed: SignedTransaction
        do { signed = try SignedTransaction(bytes: uploaded) } catch {
            throw CoordinatorError(.malformed, "the signed transaction does not decode: \(error)")
        }
        let expected = Hash.keccak256(unsigned)
        guard signed.computeSigningHash() == expected else {
            throw CoordinatorError(
                .refused, "the signed transaction is not the built one", category: .intentMismatch)
        }
        guard receipt.transaction == "0x" + Hex.encode(expected) else {
            throw CoordinatorError(
                .refused, "the receipt names another transaction than the built one", category: .intentMismatch)
        }
        guard let sender = try? signed.recoverSender(), sender == wallet.ethereumAddress else {
            throw CoordinatorError(
                .refused, "the signature does not recover to wallet \(wallet.id)'s address", category: .malformed)
        }
        return signed.serialized
    }

    // MARK: Finalise

    /// Combines every stored result of a signing intent and, once the wallet's quorum has signed, stores the
    /// finalised transaction and moves the intent to `signed` (safe when results arrive concurrently: it reads
    /// what is committed, and the state change is a compare-and-set). Returns the intent's state afterwards.
    @discardableResult
    public func finalizeIfComplete(_ org: OrganizationID, intent id: IntentID) async throws(CoordinatorError)
        -> IntentLifecycle.State
    {
        let detail = try await intentDetail(org, id: id)
        guard detail.record.state == .signing, !detail.receipts.isEmpty else { return detail.record.state }
        // The detail already holds the bundle: parse it rather than read it again.
        guard let stored = detail.bundle, let base = try? SigningBundle(bytes: stored.bytes) else {
            throw CoordinatorError(.unavailable, "the stored bundle of intent \(id) is missing or does not parse")
        }
        let chain: String
        let txid: String
        let raw: [UInt8]
        switch base.payload {
        case .bitcoin(let built):
            var parts = [built]
            for r in detail.receipts {
                guard let p = try? PSBT(bytes: r.result) else {
                    throw CoordinatorError(.unavailable, "the stored result of \(r.signer) does not parse")
                }
                parts.append(p)
            }
            do {
                var combined = try PSBT.combine(parts)
                try combined.finalize()
                let tx = try combined.extractTransaction()
                raw = tx.serialized
                txid = tx.computeTxid().description
            } catch {
                return detail.record.state  // not enough signatures yet
            }
            chain = "bitcoin"
        case .ethereum:
            guard let first = detail.receipts.first, let signed = try? SignedTransaction(bytes: first.result) else {
                return detail.record.state
            }
            raw = signed.serialized
            txid = "0x" + Hex.encode(signed.computeHash().bytes)
            chain = "ethereum"
        }
        let now = self.now
        let record = SignedTransactionRecord(
            organization: org, intent: id, chain: chain, txid: txid, raw: raw, signedAt: now)
        guard let wallet = base.policies.last?.policy.wallet(base.intent.intent.wallet) else {
            throw CoordinatorError(.unavailable, "the bundle of intent \(id) has no policy naming its wallet")
        }
        let network: String
        switch wallet.chain {
        case .bitcoin(let n): network = TransactionWatchRecord.networkName(bitcoin: n.name)
        case .ethereum(let c): network = TransactionWatchRecord.networkName(ethereumChainID: c.value)
        }
        // Followed from now on: broadcast at the next round of the follow-up, then watched until confirmed.
        let watch = TransactionWatchRecord(
            organization: org, intent: id, network: network, nextCheckAt: now, updatedAt: now)
        do {
            _ = try await store.apply(
                [.insertSignedTransaction(record), .insertTransactionWatch(watch)]
                    + transition(org, id, from: .signing, to: .signed, at: now))
        } catch {
            if error.code != .conflict && error.code != .duplicate { throw CoordinatorError(error) }
        }
        return try await intent(org, id: id).state
    }

    /// The finalised transaction of an intent, or `notFound`.
    /// The follow-up of an intent's finalised transaction (broadcast attempts, confirmations), or `nil`.
    public func transactionWatch(_ org: OrganizationID, intent id: IntentID) async throws(CoordinatorError)
        -> TransactionWatchRecord?
    {
        try await call { () async throws(StorageError) in try await store.transactionWatch(org, intent: id) }
    }

    public func signedTransaction(_ org: OrganizationID, intent id: IntentID) async throws(CoordinatorError)
        -> SignedTransactionRecord
    {
        guard
            let r = try await call({ () async throws(StorageError) in
                try await store.signedTransaction(org, intent: id)
            })
        else { throw CoordinatorError(.notFound, "intent \(id) has no signed transaction yet") }
        return r
    }
}
