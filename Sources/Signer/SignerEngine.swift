public import Bitcoin
import Ethereum
public import Governance
public import WalletCrypto

/// Everything the signer decides with: its keys, its network, its identity, and its own state.
/// Nothing here comes from the coordinator.
public struct SignerContext: Sendable {
    public let master: ExtendedPrivateKey
    public let network: Network
    public let identity: Keypair
    public var ledger: Ledger
    public var state: SignerState

    /// Opens the signer's state for a decrypted keystore (STATE_INTEGRITY if missing or damaged,
    /// WALLET_MISMATCH if it was created with another seed).
    public static func open(home: SignerHome, contents: Keystore.Contents, network: Network) throws(SignerError)
        -> SignerContext
    {
        let keys = try SignerKeys(contents)
        let (ledger, state) = try Ledger.open(
            path: home.ledgerPath, key: keys.ledgerKey, identity: keys.identity.xOnlyPublicKey.key)
        return SignerContext(
            master: keys.master, network: network, identity: keys.identity, ledger: ledger, state: state)
    }
}

/// The keys a decrypted keystore yields for the signer's own use: the master key, the identity
/// key (receipts, the ledger's first record) and the ledger's integrity key.
struct SignerKeys {
    let master: ExtendedPrivateKey
    let identity: Keypair
    let ledgerKey: SecretBytes

    init(_ contents: Keystore.Contents) throws(SignerError) {
        let seed: SecretBytes
        do { seed = try contents.mnemonic.seed(passphrase: contents.bip39Passphrase) } catch {
            throw SignerError(error)
        }
        do { master = try ExtendedPrivateKey(seed: seed) } catch { throw SignerError(error) }
        identity = try SignerIdentity.keypair(master: master)
        ledgerKey = Ledger.key(seed: seed)
    }
}

/// The plan a successful review produced.
public enum SigningPlan: Sendable {
    case bitcoin(BitcoinPlan)
    case ethereum(EthereumPlan)
}

/// A reviewed bundle, ready to sign: the plan, what the operator is shown, and what the ledger
/// will record.
public struct PreparedSignature: Sendable {
    public let review: Review
    public let plan: SigningPlan
    public let intent: Intent
    public let policy: Policy
    public let signer: SignerID
    public let now: Timestamp
}

/// The outcome of a review.
public enum ReviewOutcome: Sendable {
    case ready(PreparedSignature)
    case refused([Refusal])

    /// The refusals (empty when ready).
    public var refusals: [Refusal] {
        if case .refused(let r) = self { return r }
        return []
    }
}

/// What signing produced.
public struct SignedOutput: Sendable {
    /// Bitcoin: the partially signed PSBT; Ethereum: the signed transaction (EIP-2718 bytes).
    public let transaction: [UInt8]
    /// Text form: base64 PSBT or 0x-prefixed hex.
    public let transactionText: String
    public let receipt: SignedReceipt
}

/// The cold signer's decision procedure (ATTACKS §2, C1–C14): a pure function of its keys, its
/// state, its clock and the bundle's bytes, followed — only when everything passed and the
/// operator confirmed — by a durable ledger write and then the signature.
public enum SignerEngine {
    /// Runs every check on `bundle` and returns the review or every reason to refuse.
    public static func review(bundle bytes: [UInt8], context: SignerContext, clock: Timestamp) -> ReviewOutcome {
        let bundle: SigningBundle
        do { bundle = try SigningBundle(bytes: bytes) } catch { return .refused([Refusal(error)]) }
        guard let trust = context.state.trust else {
            return .refused([
                Refusal(
                    .stateIntegrity, "this signer has no pinned genesis policy; run the key ceremony (kura-signer pin)")
            ])
        }
        let now = context.state.now(clock: clock)
        let myIdentity = context.identity.xOnlyPublicKey.key
        // The coordinator's view of our last receipt must not be ahead of our own ledger (K04).
        if let last = bundle.lastReceipt {
            guard last.isValid(identityKey: myIdentity) else {
                return .refused([Refusal(.malformed, "the bundle's last receipt is not signed by this signer")])
            }
            if last.receipt.sequence > context.state.sequence {
                return .refused([
                    Refusal(
                        .stateIntegrity,
                        "the coordinator holds receipt \(last.receipt.sequence) but this signer's ledger ends at \(context.state.sequence): its state was rolled back"
                    )
                ])
            }
            if last.receipt.sequence > 0, context.state.receipts[last.receipt.sequence] != last.receipt.digest {
                return .refused([
                    Refusal(.stateIntegrity, "receipt \(last.receipt.sequence) differs from this signer's ledger")
                ])
            }
        }
        let policy: VerifiedPolicy
        do { policy = try PolicyChain.verify(bundle.policies, trust: trust, now: now) } catch {
            return .refused([Refusal(error)])
        }
        guard let me = policy.policy.signers.first(where: { $0.identityKey == myIdentity }) else {
            return .refused([
                Refusal(.walletMismatch, "this signer's identity key is not in policy version \(policy.policy.version)")
            ])
        }
        let intent: VerifiedIntent
        do { intent = try Authorization.verify(bundle.intent, policy: policy) } catch {
            return .refused([Refusal(error)])
        }
        if case .deny(let r) = Evaluation.evaluate(
            intent: intent, approvals: bundle.approvals, policy: policy, history: context.state.history, now: now)
        {
            return .refused(r)
        }
        guard let wallet = policy.policy.wallet(intent.intent.wallet), let myKey = wallet.signers.firstIndex(of: me.id)
        else {
            return .refused([Refusal(.walletMismatch, "\(me.id) holds no key of wallet \(intent.intent.wallet)")])
        }
        let plan: SigningPlan
        switch bundle.payload {
        case .bitcoin(let psbt):
            switch BitcoinChecks.check(
                psbt: psbt, intent: intent.intent, policy: policy.policy, wallet: wallet, master: context.master,
                myKey: myKey,
                network: context.network)
            {
            case .success(let p): plan = .bitcoin(p)
            case .failure(let r): return .refused([r])
            }
        case .ethereum(let unsigned):
            guard case .ethereum = wallet.chain else {
                return .refused([Refusal(.chainMismatch, "an Ethereum transaction for a Bitcoin wallet")])
            }
            let account = wallet.ethereumAddress?.lowercased ?? ""
            switch EthereumChecks.check(
                unsigned: unsigned, intent: intent.intent, policy: policy.policy, wallet: wallet,
                master: context.master,
                signedNonce: context.state.ethereumNonces[account])
            {
            case .success(let p): plan = .ethereum(p)
            case .failure(let r): return .refused([r])
            }
        }
        if case .bitcoin = bundle.payload, case .ethereum = wallet.chain {
            return .refused([Refusal(.chainMismatch, "a Bitcoin transaction for an Ethereum wallet")])
        }
        let review = Review(
            intent: intent.intent, approvals: bundle.approvals, policy: policy.policy, plan: plan, signer: me.id)
        return .ready(
            PreparedSignature(
                review: review, plan: plan, intent: intent.intent, policy: policy.policy, signer: me.id, now: now))
    }

    /// Records the signature in the ledger (durably, first), then signs and returns the output and
    /// a receipt signed by the signer's identity key.
    public static func sign(_ prepared: PreparedSignature, operatorName: String, context: inout SignerContext)
        throws(SignerError) -> SignedOutput
    {
        let txid: String
        var ethereum: (String, UInt64)? = nil
        switch prepared.plan {
        case .bitcoin(let p): txid = p.txid.description
        case .ethereum(let p):
            txid = "0x" + Hex.encode(p.transaction.computeSigningHash())
            ethereum = (p.account.lowercased, p.nonce)
        }
        let sequence = context.state.sequence + 1
        let receipt: Receipt
        do {
            receipt = try Receipt(
                signer: prepared.signer, sequence: sequence, intentDigest: prepared.intent.digest, transaction: txid,
                previous: context.state.receipts[context.state.sequence], time: prepared.now)
        } catch {
            throw SignerError(.io, "cannot build the receipt: \(error.reason)")
        }
        // Write-ahead: the policy version and the signature are recorded before anything is signed.
        if prepared.policy.version > context.state.policyVersion {
            let e = LedgerEntry.policy(version: prepared.policy.version, hash: prepared.policy.hash, time: prepared.now)
            try context.ledger.append(e)
            try context.state.apply(e)
        }
        let record = LedgerEntry.signature(
            .init(
                sequence: sequence, intent: prepared.intent.id, intentDigest: prepared.intent.digest,
                nonce: prepared.intent.nonce,
                wallet: prepared.intent.wallet, asset: prepared.intent.asset, amount: prepared.intent.amount,
                transaction: txid,
                ethereumAccount: ethereum?.0, ethereumNonce: ethereum?.1, receipt: receipt.digest,
                operatorName: operatorName, time: prepared.now))
        try context.ledger.append(record)
        try context.state.apply(record)

        let signedReceipt = try SignedReceipt(receipt, keypair: context.identity)
        switch prepared.plan {
        case .bitcoin(let p):
            var psbt = p.psbt
            do {
                let signed = try psbt.sign(with: context.master)
                guard signed.count == p.inputs else {
                    throw SignerError(.io, "signed \(signed.count) of \(p.inputs) inputs")
                }
            } catch let e as SignerError {
                throw e
            } catch {
                throw SignerError(.io, "signing failed: \(error)")
            }
            return SignedOutput(transaction: psbt.serialized, transactionText: psbt.base64, receipt: signedReceipt)
        case .ethereum(let p):
            guard let path = prepared.policy.wallet(prepared.intent.wallet)?.ethereumPath else {
                throw SignerError(.io, "wallet has no path")
            }
            do {
                let key = try context.master.derive(path).privateKey
                let signed = try p.transaction.sign(with: key)
                return SignedOutput(
                    transaction: signed.serialized, transactionText: "0x" + Hex.encode(signed.serialized),
                    receipt: signedReceipt)
            } catch {
                throw SignerError(.io, "signing failed: \(error)")
            }
        }
    }

    /// Pins the genesis policy at the key ceremony: its hash is written as the ledger's first
    /// entry. Refuses when already pinned.
    public static func pin(genesis: SignedPolicy, context: inout SignerContext, clock: Timestamp) throws(SignerError) {
        guard context.state.genesis == nil else {
            throw SignerError(.alreadyExists, "this signer already pinned a genesis policy")
        }
        let trust = PolicyTrust(genesis: genesis.policy.hash, highWater: nil)
        do { _ = try PolicyChain.verify([genesis], trust: trust, now: context.state.now(clock: clock)) } catch {
            throw SignerError(.usage, "the genesis does not verify: \(error)")
        }
        let e = LedgerEntry.pin(genesis: genesis.policy.hash, time: context.state.now(clock: clock))
        try context.ledger.append(e)
        try context.state.apply(e)
    }
}

/// The refusal families and their exit codes.
public enum RefusalFamily {
    /// 2: the bundle itself is malformed or too large.
    public static let malformedExit: Int32 = 2
    /// 4: governance (policy, approvals, replay, limits, time locks, allowlist).
    public static let governanceExit: Int32 = 4
    /// 5: the transaction does not do what was approved.
    public static let transactionExit: Int32 = 5
    /// 6: the signer's own state or keystore.
    public static let stateExit: Int32 = 6

    /// The exit code for a refusal category.
    public static func exitCode(_ c: RefusalCategory) -> Int32 {
        switch c {
        case .malformed, .resourceLimit: return malformedExit
        case .policyInvalid, .policyRollback, .approvalInvalid, .approvalMismatch, .replay, .timelockPending,
            .limitExceeded, .allowlistMiss:
            return governanceExit
        case .stateIntegrity, .keystoreInvalid: return stateExit
        default: return transactionExit
        }
    }
}
