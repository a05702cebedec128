/// Coin selection as Bitcoin Core frames it (`src/wallet/coinselection.h`): data in, result out,
/// bounded work. Candidates are valued at their *effective value* (value minus the fee to spend
/// them at the current rate); branch-and-bound looks for a changeless selection within the cost of
/// change; a single random draw is the fallback that always makes change; the lower *waste* wins.
public enum CoinSelection {
    /// A spendable output offered to the selector.
    public struct Candidate: Sendable, Hashable {
        /// The outpoint.
        public let outPoint: OutPoint
        /// Its value.
        public let value: Amount
        /// The weight its input adds when spent (see ``InputWeight``).
        public let inputWeight: Weight

        /// Creates a candidate.
        public init(outPoint: OutPoint, value: Amount, inputWeight: Weight) {
            self.outPoint = outPoint
            self.value = value
            self.inputWeight = inputWeight
        }
    }

    /// What to select for.
    public struct Parameters: Sendable {
        /// The sum of the payment outputs.
        public var target: Amount
        /// The fee rate the transaction pays.
        public var feeRate: FeeRate
        /// The rate expected in the long run (for the waste metric; Core's `-consolidatefeerate`).
        public var longTermFeeRate: FeeRate
        /// Weight of everything but inputs and change: version, counts, locktime, segwit marker,
        /// payment outputs.
        public var baseWeight: Weight
        /// Weight of the change output.
        public var changeOutputWeight: Weight
        /// Weight of spending the change output later.
        public var changeSpendWeight: Weight
        /// The smallest change Kura creates; less is added to the fee (above the dust limit).
        public var minimumChange: Amount
        /// The most candidates a selection may use.
        public var maxInputs: Int

        /// Creates parameters.
        public init(
            target: Amount, feeRate: FeeRate, longTermFeeRate: FeeRate, baseWeight: Weight, changeOutputWeight: Weight,
            changeSpendWeight: Weight, minimumChange: Amount, maxInputs: Int = 500
        ) {
            self.target = target
            self.feeRate = feeRate
            self.longTermFeeRate = longTermFeeRate
            self.baseWeight = baseWeight
            self.changeOutputWeight = changeOutputWeight
            self.changeSpendWeight = changeSpendWeight
            self.minimumChange = minimumChange
            self.maxInputs = maxInputs
        }
    }

    /// Which algorithm produced a result.
    public enum Algorithm: String, Sendable {
        case branchAndBound = "bnb"
        case knapsack
        case singleRandomDraw = "srd"
        case largestFirst = "largest-first"
    }

    /// A selection.
    public struct Result: Sendable {
        /// The chosen candidates.
        public let selected: [Candidate]
        /// The fee the transaction pays (inputs − payments − change).
        public let fee: Amount
        /// The change amount, or `nil` for a changeless transaction.
        public let change: Amount?
        /// Core's waste metric in satoshis (lower is better).
        public let waste: Int64
        /// The algorithm.
        public let algorithm: Algorithm
        /// Branch-and-bound search steps used (bounded by ``maxTries``).
        public let tries: Int
    }

    /// Branch-and-bound's work bound (Core `TOTAL_TRIES`).
    public static let maxTries = 100_000

    /// A candidate reduced to plain numbers (no references), so that sorting and searching a
    /// large pool moves no reference-counted storage. `index` points back into the candidates.
    struct Valued {
        let index: Int
        let value: Int64
        let effective: Int64
        let fee: Int64
        let longTermFee: Int64
    }

    /// The candidates with their effective values, and the candidates themselves for mapping back.
    struct Pool {
        let candidates: [Candidate]
        let valued: [Valued]
    }

    static func valued(_ candidates: [Candidate], _ p: Parameters) throws(BitcoinError) -> Pool {
        var out = [Valued]()
        out.reserveCapacity(candidates.count)
        for (i, c) in candidates.enumerated() {
            let fee = try p.feeRate.fee(for: c.inputWeight).sats
            let lt = try p.longTermFeeRate.fee(for: c.inputWeight).sats
            let eff = c.value.sats - fee
            if eff > 0 { out.append(Valued(index: i, value: c.value.sats, effective: eff, fee: fee, longTermFee: lt)) }
        }
        return Pool(candidates: candidates, valued: out)
    }

    /// Selects inputs for `parameters`: branch-and-bound, knapsack and a single random draw (with
    /// `rng`) all run, as in Core's `ChooseSelectionResult`; the result with the lowest waste is
    /// returned (fewer inputs on a tie).
    public static func select<R: RandomNumberGenerator>(
        _ candidates: [Candidate], _ parameters: Parameters, rng: inout R
    ) throws(BitcoinError) -> Result {
        let pool = try valued(candidates, parameters)
        var results = [Result]()
        if let bnb = try branchAndBound(pool, parameters) { results.append(bnb) }
        if let knapsack = try knapsack(pool, parameters, rng: &rng) { results.append(knapsack) }
        if let srd = try singleRandomDraw(pool, parameters, rng: &rng) { results.append(srd) }
        if parameters.feeRate > parameters.longTermFeeRate, let lf = try largestFirst(pool, parameters) {
            // When fees are above the long-term rate, the lowest-weight change-making selection wins
            // (Core runs CoinGrinder here); with one input type that is the fewest, largest coins.
            results.append(lf)
        }
        guard let best = results.min(by: { ($0.waste, $0.selected.count) < ($1.waste, $1.selected.count) }) else {
            let total = pool.valued.reduce(Int64(0)) { $0 + $1.effective }
            throw BitcoinError(
                .insufficientFunds,
                "\(pool.valued.count) spendable coins worth \(total) sat after fees cannot pay \(parameters.target)")
        }
        return best
    }

    static func costs(_ p: Parameters) throws(BitcoinError) -> (
        notInputFees: Int64, changeFee: Int64, costOfChange: Int64
    ) {
        let notInput = try p.feeRate.fee(for: p.baseWeight).sats
        let changeFee = try p.feeRate.fee(for: p.changeOutputWeight).sats
        let spendLater = try p.longTermFeeRate.fee(for: p.changeSpendWeight).sats
        return (notInput, changeFee, changeFee + spendLater)
    }

    /// Branch-and-bound (Erhardt, "An Evaluation of Coin Selection Strategies"; Core
    /// `SelectCoinsBnB`): depth-first over candidates sorted by descending effective value, looking
    /// for a changeless selection with `target ≤ Σ effective ≤ target + cost of change`, minimising
    /// waste, in at most ``maxTries`` steps.
    static func branchAndBound(_ pool: Pool, _ p: Parameters) throws(BitcoinError) -> Result? {
        let (notInputFees, _, costOfChange) = try costs(p)
        let target = p.target.sats + notInputFees
        let utxos = pool.valued.sorted { $0.effective > $1.effective }
        var remaining = utxos.reduce(Int64(0)) { $0 + $1.effective }
        guard remaining >= target else { return nil }
        var selection = [Int]()  // indexes of included candidates, ascending
        var currentValue: Int64 = 0
        var currentWaste: Int64 = 0
        var best: [Int]? = nil
        var bestWaste = Int64.max
        let feeExceedsLongTerm = p.feeRate > p.longTermFeeRate
        var index = 0
        var tries = 0
        while tries < maxTries {
            tries += 1
            var backtrack = false
            if currentValue + remaining < target || currentValue > target + costOfChange
                || (currentWaste > bestWaste && feeExceedsLongTerm)
            {
                backtrack = true
            } else if currentValue >= target {
                let waste = currentWaste + (currentValue - target)
                if waste <= bestWaste {
                    best = selection
                    bestWaste = waste
                }
                backtrack = true
            } else if selection.count >= p.maxInputs || index >= utxos.count {
                backtrack = true
            }
            if backtrack {
                guard let last = selection.last else { break }
                // Give back the candidates skipped after the last included one, then take the
                // exclusion branch of that one.
                index -= 1
                while index > last {
                    remaining += utxos[index].effective
                    index -= 1
                }
                currentValue -= utxos[index].effective
                currentWaste -= utxos[index].fee - utxos[index].longTermFee
                selection.removeLast()
            } else {
                let u = utxos[index]
                remaining -= u.effective
                let previousExcluded = index > 0 && selection.last != index - 1
                let sameAsPrevious =
                    index > 0 && u.effective == utxos[index - 1].effective && u.fee == utxos[index - 1].fee
                if selection.isEmpty || !previousExcluded || !sameAsPrevious {
                    selection.append(index)
                    currentValue += u.effective
                    currentWaste += u.fee - u.longTermFee
                }
            }
            index += 1
        }
        guard let best else { return nil }
        let selected = best.map { utxos[$0] }
        let inputs = selected.reduce(Int64(0)) { $0 + $1.value }
        return Result(
            selected: selected.map { pool.candidates[$0.index] }, fee: try Amount(sats: inputs - p.target.sats),
            change: nil, waste: bestWaste,
            algorithm: .branchAndBound, tries: tries)
    }

    /// Single random draw (Core `SelectCoinsSRD`): shuffle, add until the selection pays the target,
    /// the fees and a change output of at least ``Parameters/minimumChange``.
    static func singleRandomDraw<R: RandomNumberGenerator>(_ pool: Pool, _ p: Parameters, rng: inout R)
        throws(BitcoinError) -> Result?
    {
        let (notInputFees, changeFee, costOfChange) = try costs(p)
        let needed = p.target.sats + notInputFees + changeFee + p.minimumChange.sats
        var order = Array(pool.valued.indices)
        order.shuffle(using: &rng)
        var selected = [Valued]()
        var sum: Int64 = 0
        for i in order {
            selected.append(pool.valued[i])
            sum += pool.valued[i].effective
            if sum >= needed { break }
            if selected.count >= p.maxInputs {
                // Drop the smallest to make room (Core evicts the lowest effective value).
                selected.sort { $0.effective > $1.effective }
                sum -= selected.removeLast().effective
            }
        }
        guard sum >= needed else { return nil }
        return try changeResult(
            selected, pool, p, notInputFees: notInputFees, changeFee: changeFee, costOfChange: costOfChange,
            algorithm: .singleRandomDraw)
    }

    /// Knapsack (Core `KnapsackSolver`): an exact coin if one exists; otherwise the smallest coin
    /// larger than the target plus minimum change, or the best of 1000 stochastic subset-sum
    /// approximations over the smaller coins, whichever is closer. Always makes change here.
    static func knapsack<R: RandomNumberGenerator>(_ pool: Pool, _ p: Parameters, rng: inout R) throws(BitcoinError)
        -> Result?
    {
        let (notInputFees, changeFee, costOfChange) = try costs(p)
        let target = p.target.sats + notInputFees + changeFee + p.minimumChange.sats
        var shuffled = pool.valued
        shuffled.shuffle(using: &rng)
        var lower = [Valued]()
        var totalLower: Int64 = 0
        var lowestLarger: Valued? = nil
        for v in shuffled {
            if v.effective < target {
                lower.append(v)
                totalLower += v.effective
            } else if lowestLarger == nil || v.effective < lowestLarger!.effective {
                lowestLarger = v
            }
        }
        func result(_ chosen: [Valued]) throws(BitcoinError) -> Result {
            try changeResult(
                chosen, pool, p, notInputFees: notInputFees, changeFee: changeFee, costOfChange: costOfChange,
                algorithm: .knapsack)
        }
        if totalLower < target {
            guard let lowestLarger else { return nil }
            return try result([lowestLarger])
        }
        lower.sort { $0.effective > $1.effective }
        // Inclusion sets are bitsets (64 coins a word), so remembering the best costs little.
        let words = (lower.count + 63) / 64
        var best = [UInt64](repeating: ~0, count: words)
        var bestCount = lower.count
        var bestValue = totalLower
        // Core runs 1000 rounds; the rounds are capped so that the work stays bounded (about two
        // million coin visits) for very large wallets. Coin flips come 64 at a time from one draw.
        let rounds = max(1, min(1000, 2_000_000 / max(lower.count, 1)))
        var included = [UInt64](repeating: 0, count: words)
        for _ in 0..<rounds where bestValue != target {
            for w in 0..<words { included[w] = 0 }
            var includedCount = 0
            var total: Int64 = 0
            var reached = false
            for pass in 0..<2 where !reached {
                var bits: UInt64 = 0
                for i in lower.indices {
                    let word = i >> 6
                    let mask: UInt64 = 1 << UInt64(i & 63)
                    if included[word] & mask != 0 { continue }
                    if pass == 0 {
                        if i & 63 == 0 { bits = rng.next() }
                        guard (bits >> UInt64(i & 63)) & 1 == 1 else { continue }
                    }
                    total += lower[i].effective
                    included[word] |= mask
                    includedCount += 1
                    if total >= target {
                        reached = true
                        if total < bestValue || (total == bestValue && includedCount < bestCount) {
                            bestValue = total
                            best = included
                            bestCount = includedCount
                        }
                        total -= lower[i].effective
                        included[word] &= ~mask
                        includedCount -= 1
                    }
                }
            }
        }
        var chosen = lower.indices.filter { best[$0 >> 6] & (1 << UInt64($0 & 63)) != 0 }.map { lower[$0] }
        if let lowestLarger, lowestLarger.effective <= bestValue { chosen = [lowestLarger] }
        guard chosen.count <= p.maxInputs else { return nil }
        return try result(chosen)
    }

    /// The straightforward alternative, for comparison: largest coins first until paid, with change.
    public static func largestFirst(_ candidates: [Candidate], _ p: Parameters) throws(BitcoinError) -> Result? {
        try largestFirst(try valued(candidates, p), p)
    }

    static func largestFirst(_ pool: Pool, _ p: Parameters) throws(BitcoinError) -> Result? {
        let sorted = pool.valued.sorted { $0.effective > $1.effective }
        let (notInputFees, changeFee, costOfChange) = try costs(p)
        let needed = p.target.sats + notInputFees + changeFee + p.minimumChange.sats
        var selected = [Valued]()
        var sum: Int64 = 0
        for v in sorted where sum < needed && selected.count < p.maxInputs {
            selected.append(v)
            sum += v.effective
        }
        guard sum >= needed else { return nil }
        return try changeResult(
            selected, pool, p, notInputFees: notInputFees, changeFee: changeFee, costOfChange: costOfChange,
            algorithm: .largestFirst)
    }

    static func changeResult(
        _ selected: [Valued], _ pool: Pool, _ p: Parameters, notInputFees: Int64, changeFee: Int64, costOfChange: Int64,
        algorithm: Algorithm
    ) throws(BitcoinError) -> Result {
        let effective = selected.reduce(Int64(0)) { $0 + $1.effective }
        let inputs = selected.reduce(Int64(0)) { $0 + $1.value }
        let inputFees = selected.reduce(Int64(0)) { $0 + $1.fee }
        let change = effective - p.target.sats - notInputFees - changeFee
        let waste = selected.reduce(Int64(0)) { $0 + $1.fee - $1.longTermFee } + costOfChange
        return try Result(
            selected: selected.map { pool.candidates[$0.index] },
            fee: try Amount(sats: inputFees + notInputFees + changeFee),
            change: try Amount(sats: change),
            waste: waste, algorithm: algorithm, tries: 0
        ).checked(inputs: inputs, target: p.target.sats)
    }
}

extension CoinSelection.Result {
    /// Asserts the accounting identity inputs = payments + change + fee.
    func checked(inputs: Int64, target: Int64) throws(BitcoinError) -> CoinSelection.Result {
        guard inputs == target + (change?.sats ?? 0) + fee.sats else {
            throw BitcoinError(.arithmeticOverflow, "coin selection accounting does not balance")
        }
        return self
    }
}

/// Input and output weights by script type, for fee estimates before signing. ECDSA signatures
/// are counted at their maximum (72 bytes with the sighash byte), so estimates never fall short.
public enum InputWeight {
    /// Outpoint, empty scriptSig length, sequence: 41 bytes ×4.
    public static let base = 41 * 4
    /// P2WPKH: items count, signature, compressed key.
    public static let p2wpkh = Weight(units: UInt64(base + 1 + 73 + 34))
    /// P2SH-P2WPKH: adds the 23-byte scriptSig (×4).
    public static let p2shP2wpkh = Weight(units: UInt64(base + 23 * 4 + 1 + 73 + 34))
    /// P2TR key path with SIGHASH_DEFAULT: items count and a 64-byte signature.
    public static let p2trKeyPath = Weight(units: UInt64(base + 1 + 65))

    /// P2WSH `m`-of-`n` multisig with a witness script of `scriptSize` bytes.
    public static func p2wshMultisig(threshold: Int, scriptSize: Int) -> Weight {
        Weight(
            units: UInt64(
                base + compactSizeLength(threshold + 2) + 1 + 73 * threshold + compactSizeLength(scriptSize)
                    + scriptSize))
    }

    /// The weight of an output paying `script`.
    public static func output(_ script: Script) -> Weight {
        Weight(units: UInt64(4 * (8 + compactSizeLength(script.bytes.count) + script.bytes.count)))
    }

    /// Transaction overhead: version, locktime, input and output counts, and the segwit marker
    /// and flag (2 WU) when `segwit`.
    public static func overhead(inputs: Int, outputs: Int, segwit: Bool) -> Weight {
        Weight(units: UInt64(4 * (4 + 4 + compactSizeLength(inputs) + compactSizeLength(outputs)) + (segwit ? 2 : 0)))
    }
}
