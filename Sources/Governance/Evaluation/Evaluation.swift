/// One reason a transfer is refused, in the closed vocabulary.
public struct Refusal: Error, Sendable, Hashable, CustomStringConvertible {
    public let category: RefusalCategory
    public let reason: String

    /// Creates a refusal.
    public init(_ category: RefusalCategory, _ reason: String) {
        self.category = category
        self.reason = reason
    }

    /// A refusal from a governance error.
    public init(_ error: GovernanceError) {
        category = error.category
        reason = error.reason
    }

    public var description: String { "\(category.token): \(reason)" }
}

/// What evaluation allowed: the tier applied and who approved.
public struct Decision: Sendable, Hashable {
    /// Distinct approvals the tier requires.
    public let requiredApprovals: Int
    /// The distinct approvers counted, sorted.
    public let approvers: [MemberID]
    /// The rule applied.
    public let rule: Policy.TransferRule
    /// The total already spent in the rolling window, this transfer excluded.
    public let spentInWindow: BaseUnits
}

/// The outcome of evaluating an intent: allowed with a decision, or denied with every reason
/// found (the first is the primary one).
public enum Verdict: Sendable, Hashable {
    case allow(Decision)
    case deny([Refusal])

    /// The refusals (empty when allowed).
    public var refusals: [Refusal] {
        if case .deny(let r) = self { return r }
        return []
    }

    /// The primary refusal category, if denied.
    public var category: RefusalCategory? { refusals.first?.category }
}

/// A spend the verifier remembers, for rolling limits.
public struct Spend: Sendable, Hashable {
    public let wallet: WalletID
    public let asset: AssetID
    public let amount: BaseUnits
    public let time: Timestamp

    /// Creates a spend record.
    public init(wallet: WalletID, asset: AssetID, amount: BaseUnits, time: Timestamp) {
        self.wallet = wallet
        self.asset = asset
        self.amount = amount
        self.time = time
    }
}

/// What the verifier has already done (the signer's persisted state; ATTACKS C11).
public struct SpendHistory: Sendable, Hashable {
    public var spends: [Spend]
    public var usedIntents: Set<IntentID>
    public var usedNonces: Set<[UInt8]>

    /// Creates a history.
    public init(spends: [Spend] = [], usedIntents: Set<IntentID> = [], usedNonces: Set<[UInt8]> = []) {
        self.spends = spends
        self.usedIntents = usedIntents
        self.usedNonces = usedNonces
    }
}

/// Pure rule evaluation (ATTACKS C3, C4 destination, C8 caps, C11 replay and velocity, C12 time):
/// the same inputs always give the same verdict; time comes in as `now`.
public enum Evaluation {
    /// The rolling window for daily limits.
    public static let window: Int64 = 86_400
    /// Clock skew tolerated for documents dated slightly in the future.
    public static let skew: Int64 = 300

    /// Evaluates `intent` with `approvals` under `policy`, given what was already spent and used.
    public static func evaluate(
        intent verified: VerifiedIntent, approvals: [SignedApproval], policy verifiedPolicy: VerifiedPolicy,
        history: SpendHistory,
        now: Timestamp
    ) -> Verdict {
        evaluate(
            intent: verified, approvals: approvals, verified: [], policy: verifiedPolicy, history: history, now: now)
    }

    /// The same verdict, for `approvals` and then `verifiedApprovals`, those the caller already verified
    /// (``Authorization/verify(_:policy:)``): one verified under this policy is not verified again, one verified
    /// under another policy is.
    public static func evaluate(
        intent verified: VerifiedIntent, approvals: [SignedApproval], verified verifiedApprovals: [VerifiedApproval],
        policy verifiedPolicy: VerifiedPolicy, history: SpendHistory, now: Timestamp
    ) -> Verdict {
        let intent = verified.intent
        let policy = verifiedPolicy.policy
        var refusals = [Refusal]()
        func refuse(_ c: RefusalCategory, _ r: String) { refusals.append(Refusal(c, r)) }

        // The intent must be judged by the policy it was made under.
        if intent.policy != policy.hash {
            refuse(
                .intentMismatch,
                "intent was made under policy \(intent.policy), the current policy is \(policy.hash) (version \(policy.version))"
            )
        }
        // Replay and time (R01, R02).
        if history.usedIntents.contains(intent.id) { refuse(.replay, "intent \(intent.id) was already signed") }
        if history.usedNonces.contains(intent.nonce) { refuse(.replay, "intent nonce was already used") }
        if intent.expires <= now { refuse(.replay, "intent expired at \(intent.expires)") }
        if intent.created > now.adding(seconds: skew) {
            refuse(.malformed, "intent is dated in the future (\(intent.created))")
        }
        if intent.expires.seconds - intent.created.seconds > policy.rules.maxIntentLifetime {
            refuse(
                .limitExceeded,
                "intent lives \(intent.expires.seconds - intent.created.seconds) s; the policy allows \(policy.rules.maxIntentLifetime) s"
            )
        }
        // Wallet, asset, chain.
        guard let wallet = policy.wallet(intent.wallet) else {
            refuse(.walletMismatch, "wallet \(intent.wallet) is not in the policy")
            return .deny(refusals)
        }
        guard let asset = policy.asset(intent.asset) else {
            refuse(.assetUnknown, "asset \(intent.asset) is not in the registry")
            return .deny(refusals)
        }
        if asset.chain != wallet.chain {
            refuse(.chainMismatch, "asset \(asset.id) is on \(asset.chain), wallet \(wallet.id) on \(wallet.chain)")
        }
        guard let rule = policy.transferRule(wallet: wallet.id, asset: asset.id) else {
            refuse(.limitExceeded, "no transfer rule allows \(asset.id) out of \(wallet.id)")
            return .deny(refusals)
        }
        // Destination: a signed address-book entry for this asset, byte-for-byte the same address (G09, E06).
        if let entry = policy.addressBook.first(where: { $0.id == intent.destinationEntry }) {
            let same: Bool
            if entry.asset != asset.id {
                same = false
            } else if let a = try? Policy.destinationKey(entry.address, chain: asset.chain, context: "entry"),
                let b = try? Policy.destinationKey(intent.destinationAddress, chain: asset.chain, context: "intent")
            {
                same = a == b
            } else {
                same = false
            }
            if !same {
                refuse(.allowlistMiss, "destination does not equal address-book entry \(entry.id) for \(asset.id)")
            } else if entry.usableFrom > now {
                refuse(.timelockPending, "address-book entry \(entry.id) is usable from \(entry.usableFrom)")
            }
        } else {
            refuse(.allowlistMiss, "destination \(intent.destinationEntry) is not in the signed address book")
        }
        // Limits (per transfer, tier, rolling window; R04).
        if rule.perTransferLimit < intent.amount {
            refuse(.limitExceeded, "amount \(intent.amount) exceeds the per-transfer limit \(rule.perTransferLimit)")
        }
        let tier = rule.tiers.first { !($0.upTo < intent.amount) }
        if tier == nil { refuse(.limitExceeded, "amount \(intent.amount) is above the highest approval tier") }
        let windowStart = now.adding(seconds: -window)
        var spent = BaseUnits.zero
        for s in history.spends where s.wallet == wallet.id && s.asset == asset.id && s.time > windowStart {
            spent = (try? spent.adding(s.amount)) ?? BaseUnits(.max)
        }
        if let total = try? spent.adding(intent.amount), total <= rule.dailyLimit {
        } else {
            refuse(
                .limitExceeded,
                "\(spent) already spent in 24 h; with \(intent.amount) it exceeds the daily limit \(rule.dailyLimit)")
        }
        // Fee caps: the intent's own caps may not exceed the policy's (C8).
        switch (intent.feeCap, rule.fee) {
        case (.bitcoin(let a, let r), .bitcoin(let pa, let pr)):
            if pa < a || pr < r {
                refuse(.feeExcessive, "intent fee caps exceed the policy's (\(pa) sat, \(pr) sat/kvB)")
            }
        case (.ethereum(let f, let p, let g, let t), .ethereum(let pf, let pp, let pg, let pt)):
            if pf < f || pp < p || pg < g || pt < t { refuse(.feeExcessive, "intent gas caps exceed the policy's") }
            if f < p { refuse(.feeExcessive, "priority fee cap above the max fee cap") }
        default:
            refuse(.chainMismatch, "intent fee cap is for the other chain")
        }
        // Approvals: distinct approvers over this intent's digest; the initiator never counts (C3).
        var approvers = Set<MemberID>()
        var mismatched = 0
        let candidates =
            approvals.map { (signed: $0, checked: false) }
            + verifiedApprovals.map { (signed: $0.signed, checked: $0.policy == verifiedPolicy.hash) }
        for (a, checked) in candidates {
            guard a.approval.intent == intent.digest else {
                mismatched += 1
                continue
            }
            if !checked {
                do {
                    _ = try Authorization.verify(a, policy: verifiedPolicy)
                } catch {
                    refuse(.approvalInvalid, error.reason)
                    continue
                }
            }
            if a.approval.approver == intent.initiator { continue }
            if a.approval.time < intent.created.adding(seconds: -skew) || a.approval.time > now.adding(seconds: skew) {
                refuse(.approvalInvalid, "approval by \(a.approval.approver) is dated outside the intent's life")
                continue
            }
            if a.approval.decision == .reject {
                refuse(.approvalInvalid, "\(a.approval.approver) rejected the intent")
                continue
            }
            approvers.insert(a.approval.approver)
        }
        let required = tier?.approvals ?? Int.max
        if let tier, approvers.count < tier.approvals {
            if approvers.isEmpty && mismatched > 0 {
                refuse(.approvalMismatch, "\(mismatched) approval(s) are for another intent; none for this one")
            } else {
                refuse(.approvalInvalid, "\(approvers.count) distinct approval(s); \(tier.approvals) required")
            }
        }
        guard refusals.isEmpty else { return .deny(refusals) }
        return .allow(
            Decision(requiredApprovals: required, approvers: approvers.sorted(), rule: rule, spentInWindow: spent))
    }
}
