import Governance

/// Builds the unsigned transaction for an approved intent: pure, deterministic, no I/O (docs/PLANNING.md).
///
/// The caller reads the chain through a port (``BitcoinChainPort``, ``EthereumChainPort``) and hands the planner
/// what it saw: the wallet's coins and a fee rate for Bitcoin, the account nonce, a fee suggestion and a gas
/// estimate for Ethereum. The planner turns an intent into exactly the transaction the cold signer accepts for it
/// (the checks in `Sources/Signer/BitcoinChecks.swift` and `EthereumChecks.swift`): the intent's amount to the
/// intent's destination, change only to the wallet's own change branch, pinned inputs or nonce honoured, every fee
/// within both the intent's and the policy's caps. What it cannot plan within those bounds it refuses with a
/// ``PlanningError``; it never loosens a cap.
///
/// The same inputs always give the same transaction: the coin selector's random draws are seeded from the
/// intent's digest, so two coordinator replicas planning one intent agree byte for byte.
public enum TransactionPlanner {
    /// The largest receive or change index the signer accepts (`BitcoinChecks.maxIndex`, ATTACKS B04).
    public static let maxDerivationIndex: UInt32 = 1_000_000
    /// The most inputs a transaction may have (`BitcoinChecks.maxCount`).
    public static let maxInputs = 1_000
    /// The most indexes derived per branch in one scan.
    public static let maxScanPerBranch: UInt32 = 10_000

    /// The resolved intent: its wallet, asset and transfer rule, after the intent is checked to belong to
    /// `policy`.
    struct Subject {
        let policy: Policy
        let intent: Intent
        let wallet: Policy.Wallet
        let asset: Policy.Asset
        let rule: Policy.TransferRule
    }

    static func subject(_ policy: VerifiedPolicy, _ intent: VerifiedIntent) throws(PlanningError) -> Subject {
        let p = policy.policy
        let i = intent.intent
        guard i.policy == p.hash else {
            throw PlanningError(
                .policyMismatch,
                "intent \(i.id) was made under policy \(i.policy); the policy given is \(p.hash) (version \(p.version))"
            )
        }
        guard let wallet = p.wallet(i.wallet) else {
            throw PlanningError(.walletUnknown, "wallet \(i.wallet) is not in policy version \(p.version)")
        }
        guard let asset = p.asset(i.asset), asset.chain == wallet.chain else {
            throw PlanningError(
                .walletUnknown, "asset \(i.asset) is not in the registry on wallet \(wallet.id)'s chain")
        }
        guard let rule = p.transferRule(wallet: wallet.id, asset: asset.id) else {
            throw PlanningError(.walletUnknown, "no transfer rule covers \(asset.id) out of \(wallet.id)")
        }
        return Subject(policy: p, intent: i, wallet: wallet, asset: asset, rule: rule)
    }

    /// The smaller of two caps.
    static func tighter(_ a: BaseUnits, _ b: BaseUnits) -> BaseUnits { b < a ? b : a }
}

/// SplitMix64 seeded from the intent's digest: the coin selector's randomness, reproducible per intent.
struct PlannerRandom: RandomNumberGenerator {
    private var state: UInt64

    init(digest: DocumentHash) {
        state = digest.bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
