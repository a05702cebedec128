public import Ethereum
public import Governance

/// The planner's Ethereum settings.
public struct EthereumPlanningOptions: Sendable, Hashable {
    /// Headroom added to the chain's gas estimate, in percent (the gas limit is never above the caps).
    public var gasMarginPercent: UInt64
    /// `maxFeePerGas` aims at this many times the base fee plus the priority fee, so that the transaction stays
    /// includable while the base fee rises (each full block raises it by at most 12.5 %); never above the caps.
    public var baseFeeMultiplier: UInt64

    /// Creates options.
    public init(gasMarginPercent: UInt64 = 20, baseFeeMultiplier: UInt64 = 2) {
        self.gasMarginPercent = gasMarginPercent
        self.baseFeeMultiplier = baseFeeMultiplier
    }
}

/// What the planner needs to build an Ethereum transfer: what the chain source said.
public struct EthereumPlanRequest: Sendable {
    /// The verified policy the intent was made under.
    public let policy: VerifiedPolicy
    /// The verified (and, by the caller's lifecycle, approved) intent.
    public let intent: VerifiedIntent
    /// The chain id the chain source is on (``EthereumChainPort/chainID()``).
    public let chainID: ChainID
    /// The account's next nonce, pending transactions counted (``EthereumChainPort/pendingNonce(of:)``).
    public let pendingNonce: Nonce
    /// The base and priority fees (``EthereumChainPort/feeSuggestion()``).
    public let fees: EthereumFeeSuggestion
    /// The gas the call needs (``EthereumChainPort/estimateGas(_:)`` of ``TransactionPlanner/ethereumCall(policy:intent:)``).
    public let gasEstimate: Gas
    /// Settings.
    public let options: EthereumPlanningOptions

    /// Creates a request.
    public init(
        policy: VerifiedPolicy, intent: VerifiedIntent, chainID: ChainID, pendingNonce: Nonce,
        fees: EthereumFeeSuggestion, gasEstimate: Gas, options: EthereumPlanningOptions = EthereumPlanningOptions()
    ) {
        self.policy = policy
        self.intent = intent
        self.chainID = chainID
        self.pendingNonce = pendingNonce
        self.fees = fees
        self.gasEstimate = gasEstimate
        self.options = options
    }
}

/// An unsigned Ethereum transfer, ready for a signing bundle.
public struct EthereumTransferPlan: Sendable {
    /// The transaction.
    public let transaction: EIP1559Transaction
    /// What the signer signs and the bundle carries: `0x02 ‖ rlp([...])` (EIP-2718, EIP-1559).
    public let unsigned: [UInt8]
    /// The sending account (the wallet's address).
    public let account: EthereumAddress
    /// The ERC-20 contract for a token transfer; `nil` for ether.
    public let token: EthereumAddress?
    /// The most the transaction can pay in fees: `gasLimit × maxFeePerGas`.
    public let maxFee: Wei
}

extension TransactionPlanner {
    /// The call the intent makes: ether to the destination, or `transfer(destination, amount)` on the asset's
    /// contract from the policy's registry. What to ask the chain source to estimate
    /// (``EthereumChainPort/estimateGas(_:)``).
    public static func ethereumCall(policy: VerifiedPolicy, intent: VerifiedIntent) throws(PlanningError)
        -> EthereumCall
    {
        try ethereumCall(try subject(policy, intent)).call
    }

    static func ethereumCall(_ s: Subject) throws(PlanningError) -> (
        call: EthereumCall, chainID: ChainID, token: EthereumAddress?
    ) {
        guard case .ethereum(let chainID) = s.asset.chain, let account = s.wallet.ethereumAddress else {
            throw PlanningError(.walletUnsupported, "wallet \(s.wallet.id) is not an Ethereum wallet")
        }
        let destination: EthereumAddress
        do { destination = try EthereumAddress(parsing: s.intent.destinationAddress) } catch {
            throw PlanningError(
                .invalidInput, "destination '\(s.intent.destinationAddress.prefix(44))' is not an Ethereum address")
        }
        let amount = s.intent.amount.value
        if let contract = s.asset.contract {
            let transfer = ERC20.Transfer(to: destination, amount: TokenAmount(amount))
            return (EthereumCall(from: account, to: contract, value: .zero, data: transfer.calldata), chainID, contract)
        }
        return (EthereumCall(from: account, to: destination, value: Wei(amount), data: []), chainID, nil)
    }

    /// Plans the transfer of `request.intent`: the chain id of the policy's asset (refused if the chain source is
    /// elsewhere); the intent's pinned nonce (refused if the account is already past it) or the pending nonce; a
    /// priority fee of the suggestion, lowered to its cap. It refuses when no transaction within the caps is
    /// includable now: a gas estimate above the gas cap, `baseFee + priority` above the per-gas cap, or
    /// `estimate × (baseFee + priority)` above the total cap. Otherwise the gas limit is the estimate plus the
    /// margin and `maxFeePerGas` aims at `multiplier × baseFee + priority`, each lowered to fit the caps but never
    /// below the estimate and `baseFee + priority`.
    public static func plan(ethereum request: EthereumPlanRequest) throws(PlanningError) -> EthereumTransferPlan {
        let s = try subject(request.policy, request.intent)
        let (call, chainID, token) = try ethereumCall(s)
        guard request.chainID == chainID else {
            throw PlanningError(
                .chainMismatch,
                "the chain source is on chain \(request.chainID); asset \(s.asset.id) is on chain \(chainID)")
        }
        let nonce: Nonce
        switch s.intent.pin {
        case .ethereumNonce(let pinned)?:
            guard request.pendingNonce.value <= pinned else {
                throw PlanningError(
                    .noncePassed,
                    "\(call.from.checksummed) is at nonce \(request.pendingNonce); the intent pins \(pinned), which can never be mined"
                )
            }
            nonce = Nonce(pinned)
        case .inputs?:
            throw PlanningError(.invalidInput, "the intent pins Bitcoin inputs, not an Ethereum nonce")
        case nil:
            nonce = request.pendingNonce
        }
        guard case .ethereum(let iFee, let iPrio, let iGas, let iTotal) = s.intent.feeCap,
            case .ethereum(let pFee, let pPrio, let pGas, let pTotal) = s.rule.fee
        else { throw PlanningError(.invalidInput, "the fee caps of \(s.intent.id) are not Ethereum caps") }
        let feeCap = tighter(iFee, pFee).value
        let priorityCap = tighter(iPrio, pPrio).value
        let gasCap = tighter(iGas, pGas).value
        let totalCap = tighter(iTotal, pTotal).value

        // What is includable now: the estimate at base fee + priority fee, within every cap; else refused.
        let estimate = request.gasEstimate.units
        guard !(estimate < UInt256(21_000)), let estimateUnits = estimate.exactUInt64 else {
            throw PlanningError(.invalidInput, "gas estimate \(estimate) is not between 21000 and 2^64")
        }
        guard !(gasCap < estimate) else {
            throw PlanningError(.feeTooHigh, "gas estimate \(estimate) exceeds the maxGasLimit cap \(gasCap)")
        }
        let base = request.fees.baseFeePerGas.amount
        let suggested = request.fees.maxPriorityFeePerGas.amount
        let priority = priorityCap < suggested ? priorityCap : suggested
        guard let floor = base.checkedAdd(priority), !(feeCap < floor), let floorUnits = floor.exactUInt64 else {
            throw PlanningError(
                .feeTooHigh,
                "base fee \(base) + priority fee \(priority) wei/gas exceeds the maxFeePerGas cap \(feeCap)")
        }
        guard let least = estimate.checkedMultiply(floor), !(totalCap < least) else {
            throw PlanningError(
                .feeTooHigh,
                "\(estimateUnits) gas at \(floor) wei/gas exceeds the maxTotalFee cap \(totalCap) wei")
        }
        // Headroom, as far as the caps allow: the gas margin first, then maxFeePerGas towards
        // multiplier × base + priority. Neither falls below what is includable now.
        var gasLimit =
            estimate.checkedMultiply(UInt256(100 + request.options.gasMarginPercent))?
            .quotientAndRemainder(dividingBy: 100).quotient ?? gasCap
        if gasCap < gasLimit { gasLimit = gasCap }
        if floorUnits > 0 {
            let affordable = totalCap.quotientAndRemainder(dividingBy: floorUnits).quotient
            if affordable < gasLimit { gasLimit = affordable }
        }
        guard let gasUnits = gasLimit.exactUInt64 else {
            throw PlanningError(.feeTooHigh, "gas limit \(gasLimit) is beyond any block")
        }
        var maxFee =
            base.checkedMultiply(UInt256(request.options.baseFeeMultiplier)).flatMap { $0.checkedAdd(priority) }
            ?? UInt256.max
        if feeCap < maxFee { maxFee = feeCap }
        let budget = totalCap.quotientAndRemainder(dividingBy: gasUnits).quotient
        if budget < maxFee { maxFee = budget }  // still ≥ floor, since gasLimit ≤ totalCap / floor
        let transaction: EIP1559Transaction
        do {
            transaction = try EIP1559Transaction(
                chainID: chainID, nonce: nonce, maxPriorityFeePerGas: WeiPerGas(priority),
                maxFeePerGas: WeiPerGas(maxFee), gasLimit: Gas(gasLimit), to: call.to, value: call.value,
                data: call.data)
        } catch {
            throw PlanningError(.feeTooHigh, error.reason)
        }
        let maxTotal: Wei
        do { maxTotal = try transaction.gasLimit.cost(at: transaction.maxFeePerGas) } catch {
            throw PlanningError(.feeTooHigh, error.reason)
        }
        return EthereumTransferPlan(
            transaction: transaction, unsigned: transaction.signingPayload, account: call.from, token: token,
            maxFee: maxTotal)
    }
}
