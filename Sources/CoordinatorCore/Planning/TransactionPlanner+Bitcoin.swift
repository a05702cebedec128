public import Bitcoin
public import Governance
import WalletCrypto

/// A script a wallet's descriptor derives, and where: branch 0 receives, branch 1 is change (BIP-0389 `<0;1>`).
public struct WalletScript: Sendable, Hashable {
    /// The output script.
    public let scriptPubKey: Script
    /// The descriptor branch.
    public let branch: Int
    /// The derivation index.
    public let index: UInt32
}

/// The indexes the planner derives on each branch to recognise the wallet's coins.
public struct WalletScanRange: Sendable, Hashable {
    /// Receive indexes (branch 0).
    public let receive: Range<UInt32>
    /// Change indexes (branch 1).
    public let change: Range<UInt32>

    /// Creates a range; bounds are checked when it is used (``TransactionPlanner/walletScripts(policy:wallet:scan:)``).
    public init(receive: Range<UInt32>, change: Range<UInt32>) {
        self.receive = receive
        self.change = change
    }
}

/// The planner's Bitcoin settings; the defaults are Bitcoin Core's.
public struct BitcoinPlanningOptions: Sendable, Hashable {
    /// Coins with fewer confirmations are not spent (a pinned one is refused).
    public var minimumConfirmations: UInt32
    /// The long-run fee rate the waste metric compares with (Core `-consolidatefeerate`, 10 sat/vB).
    public var longTermFeeRate: FeeRate
    /// The lowest rate the planner pays, whatever the chain source says (Core `-minrelaytxfee`, 1 sat/vB).
    public var minimumRelayFeeRate: FeeRate
    /// The smallest change output made; never below the change script's dust threshold. Less goes to the fee.
    public var minimumChange: Amount
    /// The most coins one transaction spends.
    public var maxInputs: Int

    /// Creates options.
    public init(
        minimumConfirmations: UInt32 = 1, longTermFeeRate: FeeRate = FeeRate(satsPerVByte: 10),
        minimumRelayFeeRate: FeeRate = FeeRate(satsPerVByte: 1), minimumChange: Amount = .zero, maxInputs: Int = 500
    ) {
        self.minimumConfirmations = minimumConfirmations
        self.longTermFeeRate = longTermFeeRate
        self.minimumRelayFeeRate = minimumRelayFeeRate
        self.minimumChange = minimumChange
        self.maxInputs = maxInputs
    }
}

/// What the planner needs to build a Bitcoin transfer.
public struct BitcoinPlanRequest: Sendable {
    /// The verified policy the intent was made under.
    public let policy: VerifiedPolicy
    /// The verified (and, by the caller's lifecycle, approved) intent.
    public let intent: VerifiedIntent
    /// The wallet's unspent outputs as the chain source reported them for ``TransactionPlanner/walletScripts(policy:wallet:scan:)``.
    public let coins: [BitcoinUnspentOutput]
    /// The range those scripts were derived over; every coin must pay one of them.
    public let scan: WalletScanRange
    /// The fee rate to pay (from ``BitcoinChainPort/feeRate(confirmationTarget:)``).
    public let feeRate: FeeRate
    /// The next unused index on the change branch.
    public let changeIndex: UInt32
    /// Settings.
    public let options: BitcoinPlanningOptions

    /// Creates a request.
    public init(
        policy: VerifiedPolicy, intent: VerifiedIntent, coins: [BitcoinUnspentOutput], scan: WalletScanRange,
        feeRate: FeeRate, changeIndex: UInt32, options: BitcoinPlanningOptions = BitcoinPlanningOptions()
    ) {
        self.policy = policy
        self.intent = intent
        self.coins = coins
        self.scan = scan
        self.feeRate = feeRate
        self.changeIndex = changeIndex
        self.options = options
    }
}

/// A coin the plan spends.
public struct PlannedCoin: Sendable, Hashable {
    /// The outpoint.
    public let outPoint: OutPoint
    /// Its value.
    public let value: Amount
    /// Its descriptor branch (0 receive, 1 change).
    public let branch: Int
    /// Its derivation index.
    public let index: UInt32
    /// Its confirmations when planned.
    public let confirmations: UInt32
}

/// The change output of a plan.
public struct PlannedChange: Sendable, Hashable {
    /// The change-branch index.
    public let index: UInt32
    /// The amount.
    public let amount: Amount
    /// The script: the wallet descriptor's at branch 1, ``index``.
    public let scriptPubKey: Script
}

/// An unsigned Bitcoin transfer, ready for a signing bundle.
public struct BitcoinTransferPlan: Sendable {
    /// The unsigned PSBT (BIP-0174 version 0): every input with its full previous transaction, witness UTXO and
    /// key derivations; the change output with its derivations.
    public let psbt: PSBT
    /// The transaction's txid (unchanged by signing: every input is segwit).
    public let txid: Txid
    /// The coins spent, in input order.
    public let inputs: [PlannedCoin]
    /// The payment: exactly the intent's amount to exactly the intent's destination (output 0).
    public let payment: TxOut
    /// The change (output 1), if any.
    public let change: PlannedChange?
    /// Inputs minus outputs.
    public let fee: Amount
    /// The rate the fee pays over ``virtualSize`` (rounded down), as the signer computes it.
    public let feeRate: FeeRate
    /// The finalised size, signatures counted at their maximum (`PSBT.estimatedWeight(descriptor:)`).
    public let virtualSize: VirtualSize
    /// How the inputs were chosen: `pinned` (the intent's), or the coin selector's algorithm.
    public let selection: String
}

extension TransactionPlanner {
    /// Everything about the wallet that Bitcoin planning needs, checked once.
    struct BitcoinWallet {
        let subject: Subject
        let network: Network
        let descriptor: Descriptor
        let inputWeight: Weight
        let destination: Script
        let amount: Amount
        let maxFee: BaseUnits
        let maxRate: BaseUnits
    }

    static func bitcoinWallet(_ policy: VerifiedPolicy, _ intent: VerifiedIntent) throws(PlanningError)
        -> BitcoinWallet
    {
        let s = try subject(policy, intent)
        guard case .bitcoin(let network) = s.wallet.chain, let walletPolicy = s.wallet.bitcoinPolicy else {
            throw PlanningError(.walletUnsupported, "wallet \(s.wallet.id) is not a Bitcoin wallet")
        }
        let descriptor = walletPolicy.descriptor
        // Receive and change on derivation steps 0 and 1 (`/**` or `/<0;1>/*`), where the signer re-derives them.
        let branchesAreZeroAndOne = descriptor.keys.allSatisfy { key in
            (0...1).allSatisfy { branch in
                let path = key.derivedOrigin(index: 0, branch: branch)?.path.components ?? []
                return path.count >= 2 && path[path.count - 2] == ChildNumber(rawValue: UInt32(branch))
            }
        }
        guard descriptor.branchCount == 2, descriptor.isRanged, branchesAreZeroAndOne else {
            throw PlanningError(
                .walletUnsupported, "wallet \(s.wallet.id) has no receive and change branches (/<0;1>/*)")
        }
        let inputWeight: Weight
        do { inputWeight = try descriptor.inputWeight() } catch {
            throw PlanningError(.walletUnsupported, "wallet \(s.wallet.id): \(error.reason)")
        }
        guard case .bitcoin(let intentAbs, let intentRate) = s.intent.feeCap,
            case .bitcoin(let policyAbs, let policyRate) = s.rule.fee
        else { throw PlanningError(.invalidInput, "the fee caps of \(s.intent.id) are not Bitcoin caps") }
        let destination: Script
        do {
            destination = Script(
                try Policy.destinationKey(s.intent.destinationAddress, chain: s.wallet.chain, context: "destination"))
        } catch {
            throw PlanningError(.invalidInput, error.reason)
        }
        guard let sats = s.intent.amount.value.exactUInt64, let amount = try? Amount(wire: sats) else {
            throw PlanningError(.invalidInput, "amount \(s.intent.amount) sat is above 21,000,000 BTC")
        }
        let dust = dustThreshold(destination)
        guard amount >= dust else {
            throw PlanningError(.paymentIsDust, "payment of \(amount) is below the dust threshold \(dust)")
        }
        return BitcoinWallet(
            subject: s, network: network, descriptor: descriptor, inputWeight: inputWeight, destination: destination,
            amount: amount, maxFee: tighter(intentAbs, policyAbs), maxRate: tighter(intentRate, policyRate))
    }

    /// The scripts the wallet of `wallet` derives over `scan`: what to ask the chain source for
    /// (``BitcoinChainPort/unspentOutputs(paying:)``).
    public static func walletScripts(policy: VerifiedPolicy, wallet id: WalletID, scan: WalletScanRange)
        throws(PlanningError) -> [WalletScript]
    {
        guard let wallet = policy.policy.wallet(id) else {
            throw PlanningError(.walletUnknown, "wallet \(id) is not in policy version \(policy.policy.version)")
        }
        guard case .bitcoin = wallet.chain, let walletPolicy = wallet.bitcoinPolicy else {
            throw PlanningError(.walletUnsupported, "wallet \(id) is not a Bitcoin wallet")
        }
        return try walletScripts(walletPolicy.descriptor, scan: scan)
    }

    static func walletScripts(_ descriptor: Descriptor, scan: WalletScanRange) throws(PlanningError) -> [WalletScript] {
        var out = [WalletScript]()
        for (branch, range) in [(0, scan.receive), (1, scan.change)] {
            guard range.upperBound <= maxDerivationIndex, UInt32(range.count) <= maxScanPerBranch else {
                throw PlanningError(
                    .invalidInput,
                    "scan range \(range) on branch \(branch): at most \(maxScanPerBranch) indexes below \(maxDerivationIndex)"
                )
            }
            for index in range {
                do {
                    out.append(
                        WalletScript(
                            scriptPubKey: try descriptor.scriptPubKey(index: index, branch: branch), branch: branch,
                            index: index))
                } catch {
                    throw PlanningError(.walletUnsupported, "cannot derive \(branch)/\(index): \(error.reason)")
                }
            }
        }
        return out
    }

    /// Plans the transfer of `request.intent`: the pinned coins if the intent pins any, otherwise a coin selection
    /// (branch-and-bound, knapsack, single random draw, largest-first; lowest waste) over the confirmed coins;
    /// exactly the intent's amount to its destination; change of at least the dust threshold to the wallet's
    /// change branch, or none; the fee computed over the signer's own size estimate and within both caps.
    public static func plan(bitcoin request: BitcoinPlanRequest) throws(PlanningError) -> BitcoinTransferPlan {
        let w = try bitcoinWallet(request.policy, request.intent)
        let options = request.options
        guard request.changeIndex < maxDerivationIndex else {
            throw PlanningError(
                .invalidInput, "change index \(request.changeIndex) is not below \(maxDerivationIndex)")
        }
        let feeRate = max(request.feeRate, options.minimumRelayFeeRate)
        guard !(w.maxRate < BaseUnits(feeRate.satsPerKvB)) else {
            throw PlanningError(
                .feeTooHigh, "the fee rate \(feeRate.satsPerKvB) sat/kvB exceeds the cap \(w.maxRate) sat/kvB")
        }
        let coins = try provenCoins(request.coins, wallet: w, scan: request.scan)
        let changeScript: Script
        do { changeScript = try w.descriptor.scriptPubKey(index: request.changeIndex, branch: 1) } catch {
            throw PlanningError(.walletUnsupported, "cannot derive change \(request.changeIndex): \(error.reason)")
        }
        let minimumChange = max(options.minimumChange, dustThreshold(changeScript))
        let builder = Builder(
            wallet: w, feeRate: feeRate, changeIndex: request.changeIndex, changeScript: changeScript,
            minimumChange: minimumChange)

        switch request.intent.intent.pin {
        case .inputs(let pinned)?:
            var byOutPoint = [OutPoint: Coin]()
            for coin in coins { byOutPoint[coin.spendable.outPoint] = coin }
            var chosen = [Coin]()
            for outPoint in pinned {
                guard let coin = byOutPoint[outPoint] else {
                    throw PlanningError(
                        .pinnedCoinMissing,
                        "the intent pins \(outPoint), which the chain source does not list as unspent")
                }
                guard coin.confirmations >= options.minimumConfirmations else {
                    throw PlanningError(
                        .pinnedCoinUnconfirmed,
                        "pinned \(outPoint) has \(coin.confirmations) confirmation(s); \(options.minimumConfirmations) required"
                    )
                }
                chosen.append(coin)
            }
            return try builder.plan(chosen, selection: "pinned")
        case .ethereumNonce?:
            throw PlanningError(.invalidInput, "the intent pins an Ethereum nonce, not Bitcoin inputs")
        case nil:
            break
        }

        // Candidates in one canonical order, so that the order the chain source listed them in changes nothing.
        let eligible = coins.filter { $0.confirmations >= options.minimumConfirmations }.sorted(by: Coin.canonical)
        let candidates = eligible.map {
            CoinSelection.Candidate(
                outPoint: $0.spendable.outPoint, value: $0.spendable.output.value, inputWeight: w.inputWeight)
        }
        let parameters = CoinSelection.Parameters(
            target: w.amount, feeRate: feeRate, longTermFeeRate: options.longTermFeeRate,
            baseWeight: InputWeight.overhead(inputs: 1, outputs: 2, segwit: w.descriptor.isSegwit)
                + InputWeight.output(w.destination),
            changeOutputWeight: InputWeight.output(changeScript), changeSpendWeight: w.inputWeight,
            minimumChange: minimumChange, maxInputs: options.maxInputs)
        // The selector's pick first. If there is none, or its exact figures (over the signer's size estimate) miss a
        // cap: the change-making largest-first selection, which overpays least; then the largest coins that pay
        // the payment and a changeless fee, whose remainder below the minimum change goes to the fee.
        var rng = PlannerRandom(digest: request.intent.intent.digest)
        var attempts = [(coins: [Coin], selection: String)]()
        func add(_ result: CoinSelection.Result?) {
            guard let result else { return }
            let outPoints = Set(result.selected.map(\.outPoint))
            attempts.append((eligible.filter { outPoints.contains($0.spendable.outPoint) }, result.algorithm.rawValue))
        }
        add(try? CoinSelection.select(candidates, parameters, rng: &rng))
        add(try? CoinSelection.largestFirst(candidates, parameters))
        if let greedy = try largestFirstChangeless(eligible, wallet: w, feeRate: feeRate, maxInputs: options.maxInputs)
        {
            attempts.append((greedy, "largest-first-changeless"))
        }
        var firstError: PlanningError? = nil
        for attempt in attempts {
            do { return try builder.plan(attempt.coins, selection: attempt.selection) } catch {
                if firstError == nil { firstError = error }
            }
        }
        let pending = coins.count - eligible.count
        throw firstError
            ?? PlanningError(
                .insufficientFunds,
                "\(eligible.count) confirmed coin(s) cannot pay \(w.amount) and the fee at \(feeRate.satsPerKvB) sat/kvB"
                    + (pending > 0 ? " (\(pending) coin(s) below \(options.minimumConfirmations) confirmation(s))" : "")
            )
    }

    /// The largest coins, fewest first, that pay the payment and the fee of a changeless transaction; `nil` if all
    /// of them (up to `maxInputs`) do not.
    static func largestFirstChangeless(_ coins: [Coin], wallet w: BitcoinWallet, feeRate: FeeRate, maxInputs: Int)
        throws(PlanningError) -> [Coin]?
    {
        let sorted = coins.sorted { $0.spendable.output.value > $1.spendable.output.value }
        var total: Int64 = 0
        for (n, coin) in sorted.prefix(maxInputs).enumerated() {
            total += coin.spendable.output.value.sats
            let count = n + 1
            let weight =
                InputWeight.overhead(inputs: count, outputs: 1, segwit: w.descriptor.isSegwit)
                + InputWeight.output(w.destination) + Weight(units: w.inputWeight.units * UInt64(count))
            let fee: Amount
            do { fee = try feeRate.fee(for: weight) } catch { throw PlanningError(.feeTooHigh, error.reason) }
            if total >= w.amount.sats + fee.sats { return Array(sorted.prefix(count)) }
        }
        return nil
    }

    /// A wallet coin, proven by its previous transaction and placed on the descriptor.
    struct Coin {
        let spendable: SpendableOutput
        let confirmations: UInt32

        /// By txid (as displayed), then output index.
        static func canonical(_ a: Coin, _ b: Coin) -> Bool {
            (a.spendable.outPoint.txid.description, a.spendable.outPoint.vout)
                < (b.spendable.outPoint.txid.description, b.spendable.outPoint.vout)
        }
    }

    /// Checks every coin the chain source offered: distinct, paying a script the wallet derives in `scan`, and
    /// proven by a previous transaction that hashes to its txid and holds its value and script.
    static func provenCoins(_ offered: [BitcoinUnspentOutput], wallet w: BitcoinWallet, scan: WalletScanRange)
        throws(PlanningError) -> [Coin]
    {
        var place = [Script: (branch: Int, index: UInt32)]()
        for s in try walletScripts(w.descriptor, scan: scan) { place[s.scriptPubKey] = (s.branch, s.index) }
        var seen = Set<OutPoint>()
        var coins = [Coin]()
        for u in offered {
            guard seen.insert(u.outPoint).inserted else {
                throw PlanningError(.coinInvalid, "coin \(u.outPoint) is offered twice")
            }
            guard let (branch, index) = place[u.scriptPubKey] else {
                throw PlanningError(
                    .coinNotInWallet,
                    "coin \(u.outPoint) pays \(u.scriptPubKey), which wallet \(w.subject.wallet.id) does not derive in receive \(scan.receive) or change \(scan.change)"
                )
            }
            do {
                let previous = try Transaction(bytes: u.previousTransaction)
                let spendable = try SpendableOutput(
                    outPoint: u.outPoint, output: TxOut(value: u.value, scriptPubKey: u.scriptPubKey), branch: branch,
                    index: index, previousTransaction: previous)
                coins.append(Coin(spendable: spendable, confirmations: u.confirmations))
            } catch {
                throw PlanningError(
                    .coinInvalid, "coin \(u.outPoint): the previous transaction does not prove it (\(error.reason))")
            }
        }
        return coins
    }

    /// Turns a set of coins into the PSBT, with the exact fee and change.
    struct Builder {
        let wallet: BitcoinWallet
        let feeRate: FeeRate
        let changeIndex: UInt32
        let changeScript: Script
        let minimumChange: Amount

        func psbt(_ coins: [Coin], change: Amount?) throws(PlanningError) -> PSBT {
            do {
                return try PSBTBuilder.build(
                    descriptor: wallet.descriptor, inputs: coins.map(\.spendable),
                    payments: [TxOut(value: wallet.amount, scriptPubKey: wallet.destination)],
                    change: change.map { PSBTBuilder.Change(branch: 1, index: changeIndex, amount: $0) }, version: 0)
            } catch {
                throw PlanningError(.walletUnsupported, "cannot build the PSBT: \(error.reason)")
            }
        }

        func weight(_ psbt: PSBT) throws(PlanningError) -> Weight {
            do { return try psbt.estimatedWeight(descriptor: wallet.descriptor) } catch {
                throw PlanningError(.walletUnsupported, error.reason)
            }
        }

        func fee(_ weight: Weight) throws(PlanningError) -> Amount {
            do { return try feeRate.fee(for: weight) } catch { throw PlanningError(.feeTooHigh, error.reason) }
        }

        /// The plan spending exactly `unordered` (sorted by outpoint, so that the same coins give the same
        /// transaction), or the refusal: not enough, too large, or over a cap.
        func plan(_ unordered: [Coin], selection: String) throws(PlanningError) -> BitcoinTransferPlan {
            let coins = unordered.sorted(by: Coin.canonical)
            guard !coins.isEmpty else { throw PlanningError(.insufficientFunds, "no coin to spend") }
            guard coins.count <= TransactionPlanner.maxInputs else {
                throw PlanningError(
                    .tooLarge, "\(coins.count) inputs; the signer signs at most \(TransactionPlanner.maxInputs)")
            }
            let total: Amount
            do { total = try Amount.sum(coins.map(\.spendable.output.value)) } catch {
                throw PlanningError(.coinInvalid, error.reason)
            }
            guard let available = try? total.subtracting(wallet.amount) else {
                throw PlanningError(
                    .insufficientFunds, "\(coins.count) coin(s) hold \(total); the payment is \(wallet.amount)")
            }
            // With change, if what is left after the fee is at least the minimum change; otherwise without, the
            // remainder going to the fee.
            let withChange = try psbt(coins, change: .zero)
            let feeWithChange = try fee(try weight(withChange))
            var built: PSBT
            var change: PlannedChange? = nil
            if let rest = try? available.subtracting(feeWithChange), rest >= minimumChange {
                built = try psbt(coins, change: rest)
                change = PlannedChange(index: changeIndex, amount: rest, scriptPubKey: changeScript)
            } else {
                built = try psbt(coins, change: nil)
                let needed = try fee(try weight(built))
                guard available >= needed else {
                    throw PlanningError(
                        .insufficientFunds,
                        "\(coins.count) coin(s) hold \(total); the payment is \(wallet.amount) and the fee \(needed)")
                }
            }
            let totalFee: Amount
            do { totalFee = try available.subtracting(change?.amount ?? .zero) } catch {
                throw PlanningError(.insufficientFunds, error.reason)
            }
            let size = try weight(built)
            guard size <= Weight.maxStandardTransaction else {
                throw PlanningError(
                    .tooLarge,
                    "the transaction would weigh \(size), above the standard \(Weight.maxStandardTransaction)")
            }
            // The signer's computation (BitcoinChecks): the fee and the rate it pays over the estimated size.
            let paid = FeeRate.paid(totalFee, size: size.virtualSize)
            guard !(wallet.maxFee < BaseUnits(UInt64(totalFee.sats))) else {
                throw PlanningError(
                    .feeTooHigh,
                    "the fee \(totalFee.sats) sat (\(coins.count) input(s), \(change == nil ? "no change" : "with change")) exceeds the cap \(wallet.maxFee) sat"
                )
            }
            guard !(wallet.maxRate < BaseUnits(paid.satsPerKvB)) else {
                throw PlanningError(
                    .feeTooHigh,
                    "the fee \(totalFee.sats) sat pays \(paid.satsPerKvB) sat/kvB over \(size.virtualSize), above the cap \(wallet.maxRate) sat/kvB"
                )
            }
            let tx: Transaction
            do { tx = try built.unsignedTx() } catch { throw PlanningError(.walletUnsupported, error.reason) }
            return BitcoinTransferPlan(
                psbt: built, txid: tx.computeTxid(),
                inputs: coins.map {
                    PlannedCoin(
                        outPoint: $0.spendable.outPoint, value: $0.spendable.output.value, branch: $0.spendable.branch,
                        index: $0.spendable.index, confirmations: $0.confirmations)
                },
                payment: tx.outputs[0], change: change, fee: totalFee, feeRate: paid, virtualSize: size.virtualSize,
                selection: selection)
        }
    }

    /// Bitcoin Core's dust threshold at the default dust relay fee (3 sat/vB, `GetDustThreshold`): three times the
    /// size of the output plus the input that would spend it (67 bytes for a witness program, 148 otherwise).
    /// 294 sat for P2WPKH, 330 for P2WSH and P2TR, 546 for P2PKH.
    public static func dustThreshold(_ script: Script) -> Amount {
        let outputSize = 8 + compactSizeLength(script.bytes.count) + script.bytes.count
        let spendSize = script.witnessProgram != nil ? 32 + 4 + 1 + 107 / 4 + 4 : 32 + 4 + 1 + 107 + 4
        return (try? Amount(sats: Int64(3 * (outputSize + spendSize)))) ?? .max
    }
}
