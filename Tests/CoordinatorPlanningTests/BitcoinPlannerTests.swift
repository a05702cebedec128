import Bitcoin
import CoordinatorCore
import Governance
import Signer
import Testing
import WalletCrypto

/// The Bitcoin half of the transaction planner (docs/PLANNING.md): every refusal code with its positive control
/// beside it, and every plan checked by the signer's own checks (`BitcoinChecks`).
@Suite("Transaction planner: Bitcoin")
struct BitcoinPlannerTests {
    let f: PlannerFixture
    init() throws { f = try PlannerFixture() }

    func plan(_ request: BitcoinPlanRequest) -> Result<BitcoinTransferPlan, PlanningError> {
        Result { () throws(PlanningError) in try TransactionPlanner.plan(bitcoin: request) }
    }

    func refusal(_ request: BitcoinPlanRequest) -> PlanningError.Code? {
        if case .failure(let e) = plan(request) { return e.code }
        return nil
    }

    /// The plan, which the signer's checks must accept with the same fee and change.
    @discardableResult
    func accepted(_ request: BitcoinPlanRequest, sourceLocation: SourceLocation = #_sourceLocation) throws
        -> BitcoinTransferPlan
    {
        let p = try plan(request).get()
        let policy = request.policy.policy
        let wallet = try #require(policy.wallet(request.intent.intent.wallet))
        let checked = BitcoinChecks.check(
            psbt: p.psbt, intent: request.intent.intent, policy: policy, wallet: wallet, master: f.master, myKey: 0,
            network: .regtest)
        switch checked {
        case .success(let s):
            #expect(s.fee == p.fee, sourceLocation: sourceLocation)
            #expect(s.feeRate == p.feeRate, sourceLocation: sourceLocation)
            #expect(s.virtualSize == p.virtualSize, sourceLocation: sourceLocation)
            #expect(s.change?.index == p.change?.index, sourceLocation: sourceLocation)
            #expect(s.change?.amount == p.change?.amount, sourceLocation: sourceLocation)
            #expect(s.txid == p.txid, sourceLocation: sourceLocation)
        case .failure(let r):
            Issue.record("the signer refuses the plan: \(r)", sourceLocation: sourceLocation)
        }
        return p
    }

    var destination: Script { try! Address(PlannerFixture.exchange, network: .regtest).scriptPubKey }

    @Test func paysExactlyTheIntentWithChangeOnTheChangeBranch() throws {
        let intent = try f.intent(amount: "50000000")
        let coins = [
            try f.coin(index: 3, value: 30_000_000), try f.coin(index: 4, value: 40_000_000),
            try f.coin(branch: 1, index: 2, value: 5_000_000),
        ]
        let p = try accepted(f.request(intent, coins: coins, feeRate: 5_000, changeIndex: 7))
        let tx = try p.psbt.unsignedTx()
        #expect(tx.outputs[0] == TxOut(value: try Amount(sats: 50_000_000), scriptPubKey: destination))
        let change = try #require(p.change)
        #expect(change.index == 7)
        let changeScript = try f.descriptor.scriptPubKey(index: 7, branch: 1)
        #expect(tx.outputs.count == 2 && tx.outputs[1].scriptPubKey == changeScript)
        #expect(
            tx.outputs[1].value == change.amount
                && change.amount >= TransactionPlanner.dustThreshold(change.scriptPubKey))
        let inputs = try Amount.sum(p.inputs.map(\.value))
        #expect(try inputs.subtracting(try tx.totalOutput()) == p.fee)
        #expect(p.fee == (try p.psbt.fee()))
        // At least the requested rate over the signer's size estimate, and the inputs' places reported.
        #expect(p.feeRate >= FeeRate(satsPerKvB: 5_000))
        for coin in p.inputs {
            let offered = try #require(coins.first { $0.outPoint == coin.outPoint })
            #expect(offered.scriptPubKey == (try f.descriptor.scriptPubKey(index: coin.index, branch: coin.branch)))
        }
        #expect(p.psbt.inputs.allSatisfy { $0.nonWitnessUTXO != nil && $0.witnessUTXO != nil })
    }

    @Test func theSameInputsGiveTheSameTransaction() throws {
        let intent = try f.intent(amount: "12000000")
        let coins = try (0..<12).map { try f.coin(index: UInt32($0), value: 1_000_000 + Int64($0) * 137_000) }
        let a = try accepted(f.request(intent, coins: coins))
        let b = try accepted(f.request(intent, coins: coins.reversed()))
        #expect(a.psbt.base64 == b.psbt.base64)
    }

    @Test func refusesAnIntentOfAnotherPolicyVersion() throws {
        let intent = try f.intent(amount: "1000000")
        let coins = [try f.coin(index: 1, value: 2_000_000)]
        #expect(refusal(f.request(intent, coins: coins, policy: try f.version2())) == .policyMismatch)
        try accepted(f.request(intent, coins: coins))
    }

    @Test func refusesAWalletOrAssetNotInThePolicy() throws {
        let coins = [try f.coin(index: 1, value: 2_000_000)]
        let unknown = try f.intent(amount: "1000000") { $0["wallet"] = "btc-cold" }
        #expect(refusal(f.request(unknown, coins: coins)) == .walletUnknown)
        let wrongAsset = try f.intent(amount: "1000000") { $0["asset"] = "eth" }
        #expect(refusal(f.request(wrongAsset, coins: coins)) == .walletUnknown)
        #expect(throws: PlanningError.self) {
            try TransactionPlanner.walletScripts(
                policy: f.policy, wallet: WalletID("btc-cold"), scan: PlannerFixture.scan)
        }
        try accepted(f.request(try f.intent(amount: "1000000"), coins: coins))
    }

    @Test func refusesWalletsItDoesNotBuildFor() throws {
        // A legacy P2PKH wallet: the planner does not estimate its spends (nor does the signer sign them).
        let legacy = try f.intent(wallet: "btc-legacy", amount: "1000000")
        #expect(refusal(f.request(legacy, coins: [])) == .walletUnsupported)
        // Receive and change on /2 and /3: the signer re-derives only /0 and /1.
        let odd = try f.intent(wallet: "btc-odd", amount: "1000000")
        #expect(refusal(f.request(odd, coins: [])) == .walletUnsupported)
        // An Ethereum intent given to the Bitcoin planner, and the scripts of an Ethereum wallet.
        let eth = try f.intent(wallet: "eth-main", asset: "eth", amount: "1000")
        #expect(refusal(f.request(eth, coins: [])) == .walletUnsupported)
        #expect(throws: PlanningError.self) {
            try TransactionPlanner.walletScripts(
                policy: f.policy, wallet: WalletID("eth-main"), scan: PlannerFixture.scan)
        }
        // Positive control: the P2WPKH wallet.
        let scripts = try TransactionPlanner.walletScripts(
            policy: f.policy, wallet: WalletID("btc-main"), scan: PlannerFixture.scan)
        #expect(scripts.count == 40 && Set(scripts.map(\.scriptPubKey)).count == 40)
        #expect(scripts.contains { $0.branch == 1 && $0.index == 19 })
        try accepted(f.request(try f.intent(amount: "1000000"), coins: [try f.coin(index: 1, value: 2_000_000)]))
    }

    @Test func refusesOutOfRangeIndexes() throws {
        let intent = try f.intent(amount: "1000000")
        let coins = [try f.coin(index: 1, value: 2_000_000)]
        #expect(refusal(f.request(intent, coins: coins, changeIndex: 1_000_000)) == .invalidInput)
        try accepted(f.request(intent, coins: coins, changeIndex: 999_999))
        let tooFar = WalletScanRange(receive: 0..<20, change: 999_990..<1_000_001)
        #expect(refusal(f.request(intent, coins: coins, scan: tooFar)) == .invalidInput)
        let tooMany = WalletScanRange(receive: 0..<10_001, change: 0..<1)
        #expect(refusal(f.request(intent, coins: coins, scan: tooMany)) == .invalidInput)
        try accepted(
            f.request(intent, coins: coins, scan: WalletScanRange(receive: 0..<2, change: 999_990..<1_000_000)))
    }

    @Test func refusesCoinsTheirPreviousTransactionDoesNotProve() throws {
        let intent = try f.intent(amount: "1000000")
        let good = try f.coin(index: 1, value: 2_000_000)
        // The chain source claims a larger value than the previous transaction holds (the segwit v0 fee attack).
        let inflated = BitcoinUnspentOutput(
            outPoint: good.outPoint, value: try Amount(sats: 20_000_000), scriptPubKey: good.scriptPubKey,
            confirmations: 6, previousTransaction: good.previousTransaction)
        #expect(refusal(f.request(intent, coins: [inflated])) == .coinInvalid)
        // Another transaction than the one the outpoint names.
        let other = try f.coin(index: 1, value: 2_000_000)
        let swapped = BitcoinUnspentOutput(
            outPoint: good.outPoint, value: good.value, scriptPubKey: good.scriptPubKey, confirmations: 6,
            previousTransaction: other.previousTransaction)
        #expect(refusal(f.request(intent, coins: [swapped])) == .coinInvalid)
        // Bytes that are no transaction, and the same coin twice.
        let junk = BitcoinUnspentOutput(
            outPoint: good.outPoint, value: good.value, scriptPubKey: good.scriptPubKey, confirmations: 6,
            previousTransaction: Array(good.previousTransaction.dropLast()))
        #expect(refusal(f.request(intent, coins: [junk])) == .coinInvalid)
        #expect(refusal(f.request(intent, coins: [good, good])) == .coinInvalid)
        try accepted(f.request(intent, coins: [good, other]))
    }

    @Test func refusesCoinsThatAreNotTheWallets() throws {
        let intent = try f.intent(amount: "1000000")
        let good = try f.coin(index: 1, value: 2_000_000)
        let foreign = try f.coin(value: 5_000_000, script: destination)
        #expect(refusal(f.request(intent, coins: [good, foreign])) == .coinNotInWallet)
        let beyond = try f.coin(index: 25, value: 5_000_000)
        #expect(refusal(f.request(intent, coins: [good, beyond])) == .coinNotInWallet)
        let wider = WalletScanRange(receive: 0..<30, change: 0..<5)
        try accepted(f.request(intent, coins: [good, beyond], scan: wider))
    }

    @Test func spendsExactlyThePinnedCoins() throws {
        let big = try f.coin(index: 8, value: 80_000_000)
        let pinned = [try f.coin(index: 9, value: 3_000_000), try f.coin(branch: 1, index: 4, value: 4_000_000)]
        let pin: JSONValue = ["inputs": .array(pinned.map { .string($0.outPoint.description) })]
        let intent = try f.intent(amount: "5000000", pin: pin)
        // One pinned coin is no longer listed: refused, although the big coin could pay.
        #expect(refusal(f.request(intent, coins: [big, pinned[0]])) == .pinnedCoinMissing)
        // A pinned coin below the required confirmations; accepted when none are required.
        let young = BitcoinUnspentOutput(
            outPoint: pinned[1].outPoint, value: pinned[1].value, scriptPubKey: pinned[1].scriptPubKey,
            confirmations: 0, previousTransaction: pinned[1].previousTransaction)
        #expect(refusal(f.request(intent, coins: [big, pinned[0], young])) == .pinnedCoinUnconfirmed)
        let zeroConf = BitcoinPlanningOptions(minimumConfirmations: 0)
        try accepted(f.request(intent, coins: [big, pinned[0], young], options: zeroConf))
        // Positive control: exactly the pinned coins, never the big one.
        let p = try accepted(f.request(intent, coins: [big] + pinned))
        #expect(p.selection == "pinned")
        #expect(Set(p.inputs.map(\.outPoint)) == Set(pinned.map(\.outPoint)))
        // Pinned coins that cannot pay the fee too: no other coin is added.
        let exact = try f.intent(amount: "7000000", pin: pin)
        #expect(refusal(f.request(exact, coins: [big] + pinned)) == .insufficientFunds)
        // An Ethereum pin on a Bitcoin intent.
        let nonce = try f.intent(amount: "5000000", pin: ["ethNonce": 3])
        #expect(refusal(f.request(nonce, coins: [big] + pinned)) == .invalidInput)
    }

    @Test func refusesWhenTheConfirmedCoinsCannotPay() throws {
        let intent = try f.intent(amount: "60000000")
        let coins = [try f.coin(index: 1, value: 30_000_000), try f.coin(index: 2, value: 25_000_000)]
        #expect(refusal(f.request(intent, coins: coins)) == .insufficientFunds)
        #expect(refusal(f.request(intent, coins: [])) == .insufficientFunds)
        let pending = try f.coin(index: 3, value: 10_000_000, confirmations: 0)
        #expect(refusal(f.request(intent, coins: coins + [pending])) == .insufficientFunds)
        let p = try accepted(
            f.request(intent, coins: coins + [pending], options: BitcoinPlanningOptions(minimumConfirmations: 0)))
        #expect(p.inputs.contains { $0.outPoint == pending.outPoint })
        try accepted(f.request(intent, coins: coins + [try f.coin(index: 4, value: 10_000_000)]))
    }

    @Test func refusesFeesAboveEitherCap() throws {
        // The intent's caps, tighter than the policy's (100000 sat, 50000 sat/kvB).
        let intent = try f.intent(amount: "2000000", feeCap: ["maxAbsolute": "2000", "maxRatePerKvB": "15000"])
        let coins = [try f.coin(index: 6, value: 5_000_000)]
        #expect(refusal(f.request(intent, coins: coins, feeRate: 15_001)) == .feeTooHigh)
        // Within the rate cap, but one input, a payment and change (141 vB) cost more than 2000 sat at 15 sat/vB.
        #expect(refusal(f.request(intent, coins: coins, feeRate: 15_000)) == .feeTooHigh)
        let p = try accepted(f.request(intent, coins: coins, feeRate: 14_000))
        #expect(p.fee.sats <= 2000 && p.feeRate.satsPerKvB <= 15_000)
        // The policy's caps bind an intent whose own are looser.
        let loose = try f.intent(amount: "2000000", feeCap: ["maxAbsolute": "900000", "maxRatePerKvB": "900000"])
        #expect(refusal(f.request(loose, coins: coins, feeRate: 50_001)) == .feeTooHigh)
        try accepted(f.request(loose, coins: coins, feeRate: 50_000))
        // The chain's rate below the relay minimum is raised to it (1 sat/vB).
        #expect(try accepted(f.request(loose, coins: coins, feeRate: 10)).feeRate >= FeeRate(satsPerVByte: 1))
    }

    @Test func refusesADustPayment() throws {
        let coins = [try f.coin(index: 1, value: 100_000)]
        #expect(refusal(f.request(try f.intent(amount: "293"), coins: coins)) == .paymentIsDust)
        try accepted(f.request(try f.intent(amount: "294"), coins: coins))
    }

    @Test func neverMakesDustChange() throws {
        let intent = try f.intent(amount: "1000000")
        var kinds = [String]()
        for extra in stride(from: Int64(0), to: 2_400, by: 20) {
            let request = f.request(intent, coins: [try f.coin(index: 2, value: 1_000_000 + extra)], feeRate: 10_000)
            switch plan(request) {
            case .failure(let e):
                #expect(e.code == .insufficientFunds)
                #expect(kinds.allSatisfy { $0 == "refused" })
                kinds.append("refused")
            case .success:
                let p = try accepted(request)
                if let change = p.change {
                    #expect(change.amount.sats >= 294 && p.fee.sats == extra - change.amount.sats)
                    kinds.append("change")
                } else {
                    #expect(p.fee.sats == extra)
                    #expect(!kinds.contains("change"))
                    kinds.append("changeless")
                }
            }
        }
        #expect(Set(kinds) == ["refused", "changeless", "change"])
        // A larger minimum change is honoured: below it the remainder goes to the fee.
        let options = BitcoinPlanningOptions(minimumChange: try Amount(sats: 10_000))
        let p = try accepted(f.request(intent, coins: [try f.coin(index: 2, value: 1_004_000)], options: options))
        #expect(p.change == nil && p.fee.sats == 4_000)
        let q = try accepted(f.request(intent, coins: [try f.coin(index: 2, value: 1_012_000)], options: options))
        #expect((q.change?.amount.sats ?? 0) >= 10_000)
    }

    @Test func refusesMoreInputsThanTheSignerSigns() throws {
        let caps: JSONValue = ["maxAbsolute": "100000", "maxRatePerKvB": "50000"]
        let coins = try (0..<1_001).map { _ in try f.coin(index: 0, value: 1_000) }
        let tooMany = try f.intent(
            amount: "500000", feeCap: caps, pin: ["inputs": .array(coins.map { .string($0.outPoint.description) })])
        #expect(refusal(f.request(tooMany, coins: coins, feeRate: 1_000)) == .tooLarge)
        let most = Array(coins.prefix(1_000))
        let intent = try f.intent(
            amount: "500000", feeCap: caps, pin: ["inputs": .array(most.map { .string($0.outPoint.description) })])
        #expect(try accepted(f.request(intent, coins: coins, feeRate: 1_000)).inputs.count == 1_000)
    }

    @Test func dustThresholdsAreBitcoinCores() throws {
        let wpkh = try Address("bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", network: .regtest).scriptPubKey
        let wsh = try Address(
            "bcrt1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qzf4jry", network: .regtest
        ).scriptPubKey
        #expect(TransactionPlanner.dustThreshold(wpkh).sats == 294)
        #expect(TransactionPlanner.dustThreshold(wsh).sats == 330)
        #expect(TransactionPlanner.dustThreshold(Script.p2pkh(hash: [UInt8](repeating: 1, count: 20))).sats == 546)
    }
}
