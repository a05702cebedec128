import CoordinatorCore
import Ethereum
import Governance
import Signer
import Testing
import WalletCrypto

/// The Ethereum half of the transaction planner (docs/PLANNING.md): every refusal code with its positive control
/// beside it, and every plan checked by the signer's own checks (`EthereumChecks`).
@Suite("Transaction planner: Ethereum")
struct EthereumPlannerTests {
    let f: PlannerFixture
    init() throws { f = try PlannerFixture() }

    static let gwei: UInt64 = 1_000_000_000

    func plan(_ request: EthereumPlanRequest) -> Result<EthereumTransferPlan, PlanningError> {
        Result { () throws(PlanningError) in try TransactionPlanner.plan(ethereum: request) }
    }

    func refusal(_ request: EthereumPlanRequest) -> PlanningError.Code? {
        if case .failure(let e) = plan(request) { return e.code }
        return nil
    }

    /// The plan, which the signer's checks must accept (as the first signature for the account when `signedNonce`
    /// is nil).
    @discardableResult
    func accepted(
        _ request: EthereumPlanRequest, signedNonce: UInt64? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> EthereumTransferPlan {
        let p = try plan(request).get()
        #expect(p.unsigned == p.transaction.signingPayload, sourceLocation: sourceLocation)
        #expect(p.unsigned.first == 0x02, sourceLocation: sourceLocation)
        #expect(try EIP1559Transaction(bytes: p.unsigned) == p.transaction, sourceLocation: sourceLocation)
        let policy = request.policy.policy
        let wallet = try #require(policy.wallet(request.intent.intent.wallet))
        let checked = EthereumChecks.check(
            unsigned: p.unsigned, intent: request.intent.intent, policy: policy, wallet: wallet, master: f.master,
            signedNonce: signedNonce)
        switch checked {
        case .success(let s):
            #expect(s.transaction == p.transaction && s.maxFee == p.maxFee, sourceLocation: sourceLocation)
            #expect(s.token == p.token && s.account == p.account, sourceLocation: sourceLocation)
        case .failure(let r):
            Issue.record("the signer refuses the plan: \(r)", sourceLocation: sourceLocation)
        }
        return p
    }

    func fields(_ p: EthereumTransferPlan) -> (gas: UInt64, maxFee: UInt64, priority: UInt64) {
        (
            p.transaction.gasLimit.units.exactUInt64 ?? 0, p.transaction.maxFeePerGas.amount.exactUInt64 ?? 0,
            p.transaction.maxPriorityFeePerGas.amount.exactUInt64 ?? 0
        )
    }

    @Test func plansAnEtherPayment() throws {
        let intent = try f.intent(wallet: "eth-main", asset: "eth", amount: "1500000000000000000")
        let call = try TransactionPlanner.ethereumCall(policy: f.policy, intent: intent)
        let destination = try EthereumAddress(parsing: PlannerFixture.ethExchange)
        #expect(call.from == f.ethAddress && call.to == destination && call.data.isEmpty)
        #expect(call.value == Wei(try UInt256(decimal: "1500000000000000000")))
        let p = try accepted(f.ethRequest(intent, baseFee: 10 * Self.gwei, priorityFee: 2 * Self.gwei))
        let tx = p.transaction
        #expect(tx.chainID == ChainID(PlannerFixture.chainID) && tx.nonce == Nonce(0))
        #expect(tx.to == destination && tx.value == call.value && tx.data.isEmpty && tx.accessList.isEmpty)
        // 20 % gas margin, 2 × base + priority: within every cap.
        #expect(fields(p) == (25_200, 22 * Self.gwei, 2 * Self.gwei))
        #expect(p.token == nil && p.account == f.ethAddress)
    }

    @Test func plansAnERC20TransferToTheRegistryContract() throws {
        let intent = try f.intent(wallet: "eth-main", asset: "usdc", amount: "250000000")
        let contract = try EthereumAddress(parsing: PlannerFixture.usdc)
        let call = try TransactionPlanner.ethereumCall(policy: f.policy, intent: intent)
        #expect(call.to == contract && call.value == .zero)
        let p = try accepted(f.ethRequest(intent, gas: 52_000))
        #expect(p.transaction.to == contract && p.transaction.value == .zero && p.token == contract)
        let transfer = try ERC20.Transfer(calldata: p.transaction.data)
        #expect(transfer.to == (try EthereumAddress(parsing: PlannerFixture.ethExchange)))
        #expect(transfer.amount == TokenAmount(UInt256(250_000_000)))
        #expect(KnownFunction.identify(calldata: p.transaction.data) == .transfer)
    }

    @Test func refusesAnotherChain() throws {
        let intent = try f.intent(wallet: "eth-main", asset: "eth", amount: "1000")
        #expect(refusal(f.ethRequest(intent, chainID: 1)) == .chainMismatch)
        try accepted(f.ethRequest(intent, chainID: PlannerFixture.chainID))
    }

    @Test func refusesANonceAlreadyPastThePinnedOne() throws {
        let pinned = try f.intent(wallet: "eth-main", asset: "eth", amount: "1000", pin: ["ethNonce": 3])
        #expect(refusal(f.ethRequest(pinned, nonce: 4)) == .noncePassed)
        // At or below the pinned nonce, the pinned nonce is used.
        #expect(try accepted(f.ethRequest(pinned, nonce: 3)).transaction.nonce == Nonce(3))
        #expect(try accepted(f.ethRequest(pinned, nonce: 1)).transaction.nonce == Nonce(3))
        // Without a pin, the chain's pending nonce (the signer accepts it after signing nonce 8).
        let free = try f.intent(wallet: "eth-main", asset: "eth", amount: "1000")
        #expect(try accepted(f.ethRequest(free, nonce: 9), signedNonce: 8).transaction.nonce == Nonce(9))
        // A Bitcoin pin on an Ethereum intent.
        let wrongPin = try f.intent(
            wallet: "eth-main", asset: "eth", amount: "1000",
            pin: ["inputs": ["0000000000000000000000000000000000000000000000000000000000000001:0"]])
        #expect(refusal(f.ethRequest(wrongPin)) == .invalidInput)
    }

    @Test func refusesWhatNoTransactionWithinTheCapsCouldDo() throws {
        let caps: JSONValue = [
            "maxFeePerGas": "50000000000", "maxPriorityFeePerGas": "5000000000", "maxGasLimit": "100000",
            "maxTotalFee": "1050000000000000",
        ]
        let intent = try f.intent(wallet: "eth-main", asset: "eth", amount: "1000", feeCap: caps)
        // Base + priority above the per-gas cap.
        #expect(refusal(f.ethRequest(intent, baseFee: 49 * Self.gwei, priorityFee: 2 * Self.gwei)) == .feeTooHigh)
        try accepted(f.ethRequest(intent, baseFee: 48 * Self.gwei, priorityFee: 2 * Self.gwei))
        // A gas estimate above the gas cap.
        #expect(refusal(f.ethRequest(intent, gas: 100_001)) == .feeTooHigh)
        #expect(fields(try accepted(f.ethRequest(intent, gas: 100_000))).gas == 100_000)
        // The total cap, at its boundary: 60000 gas × 17.5 gwei is exactly 0.00105 ETH.
        #expect(refusal(f.ethRequest(intent, baseFee: 16_500_000_001, gas: 60_000)) == .feeTooHigh)
        let edge = try accepted(f.ethRequest(intent, baseFee: 16_500_000_000, gas: 60_000))
        #expect(fields(edge) == (60_000, 17_500_000_000, Self.gwei))
        // The policy's caps bind an intent whose own are looser (the policy's maxGasLimit is 100000).
        let loose: JSONValue = [
            "maxFeePerGas": "900000000000", "maxPriorityFeePerGas": "900000000000", "maxGasLimit": "900000",
            "maxTotalFee": "900000000000000000",
        ]
        let looser = try f.intent(wallet: "eth-main", asset: "eth", amount: "1000", feeCap: loose)
        #expect(refusal(f.ethRequest(looser, gas: 100_001)) == .feeTooHigh)
        #expect(refusal(f.ethRequest(looser, baseFee: 199 * Self.gwei, priorityFee: 2 * Self.gwei)) == .feeTooHigh)
        try accepted(f.ethRequest(looser, baseFee: 195 * Self.gwei, priorityFee: 5 * Self.gwei))
    }

    @Test func lowersHeadroomAndTipToTheCaps() throws {
        let caps: JSONValue = [
            "maxFeePerGas": "50000000000", "maxPriorityFeePerGas": "5000000000", "maxGasLimit": "100000",
            "maxTotalFee": "1050000000000000",
        ]
        let intent = try f.intent(wallet: "eth-main", asset: "eth", amount: "1000", feeCap: caps)
        // A tip above its cap is lowered to it; maxFeePerGas aims at 2 × 40 + 5 gwei and is lowered to fit.
        let tipped = fields(try accepted(f.ethRequest(intent, baseFee: 40 * Self.gwei, priorityFee: 9 * Self.gwei)))
        #expect(tipped.priority == 5 * Self.gwei)
        #expect(tipped.maxFee >= 45 * Self.gwei && tipped.maxFee <= 50 * Self.gwei)
        #expect(
            tipped.gas >= 21_000
                && UInt256(tipped.gas).checkedMultiply(UInt256(tipped.maxFee))! <= UInt256(1_050_000_000_000_000))
        // The gas margin shrinks before the fee headroom falls below what is includable.
        let big = fields(try accepted(f.ethRequest(intent, baseFee: 10 * Self.gwei, gas: 60_000)))
        #expect(big.gas == 72_000 && big.maxFee >= 11 * Self.gwei)
    }

    @Test func refusesImpossibleEstimatesAndWrongWallets() throws {
        let intent = try f.intent(wallet: "eth-main", asset: "eth", amount: "1000")
        #expect(refusal(f.ethRequest(intent, gas: 20_999)) == .invalidInput)
        try accepted(f.ethRequest(intent, gas: 21_000))
        let btc = try f.intent(amount: "1000000")
        #expect(refusal(f.ethRequest(btc)) == .walletUnsupported)
        #expect(throws: PlanningError.self) { try TransactionPlanner.ethereumCall(policy: f.policy, intent: btc) }
        #expect(refusal(f.ethRequest(intent, policy: try f.version2())) == .policyMismatch)
    }
}
