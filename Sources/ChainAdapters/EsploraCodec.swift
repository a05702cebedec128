public import Bitcoin
public import CoordinatorCore
import Governance
import WalletCrypto

/// An unspent output as Esplora's `GET /scripthash/:hash/utxo` lists it, before its previous transaction is checked:
/// the chain source's claim, not yet a fact.
public struct EsploraUnverifiedOutput: Sendable, Hashable {
    /// Where the chain source says the output is.
    public let outPoint: OutPoint
    /// The value it says the output holds.
    public let value: Amount
    /// The height of the block that confirmed it, or `nil` while it is in the mempool.
    public let blockHeight: UInt32?

    /// Creates a claim (for tests; the codec makes them from response bytes).
    public init(outPoint: OutPoint, value: Amount, blockHeight: UInt32?) {
        self.outPoint = outPoint
        self.value = value
        self.blockHeight = blockHeight
    }
}

/// The pure half of the Esplora adapter: turns the bytes of Esplora's answers into the port's values, and refuses
/// anything malformed or self-contradictory with ``ChainError/Code/invalidResponse`` (the chain source is untrusted).
///
/// It does no I/O, so every rule is tested without a network. Every input is bounded by ``maxResponseBytes`` before
/// it is parsed, and JSON goes through Governance's strict ``JSONParser`` (RFC 8259 only, no duplicate member names,
/// integers where Esplora sends integers). Members Esplora adds that Kura does not read (`block_hash`,
/// `block_time`) are ignored; missing or mistyped members Kura reads are refused.
public struct EsploraCodec: Sendable {
    /// The largest answer accepted, in bytes (bodies are also collected with this limit).
    public let maxResponseBytes: Int
    /// The most unspent outputs one call may report, over all the scripts asked for.
    public let maxUnspentOutputs: Int

    /// The highest fee estimate believed, in sat/vB: ten times anything the network has paid for long, and
    /// Bitcoin Core's default `maxfeerate` for `sendrawtransaction`.
    public static let maxFeeRateSatsPerVByte: Double = 10_000

    /// The longest reason taken from a chain source's message, in characters.
    public static let maxReasonLength = 240

    /// Creates a codec with its bounds.
    public init(maxResponseBytes: Int = 4 << 20, maxUnspentOutputs: Int = 1_000) {
        self.maxResponseBytes = maxResponseBytes
        self.maxUnspentOutputs = maxUnspentOutputs
    }

    // MARK: - Requests

    /// The Esplora script hash of `script`: its SHA-256 in hex, in hash order. Unlike the Electrum protocol's script
    /// hash, Esplora's HTTP `/scripthash/:hash` is *not* byte-reversed (electrs parses it as plain hex; the dev
    /// chain and BDK's Esplora client agree).
    public static func scriptHash(_ script: Script) -> String {
        Hex.encode(Hash.sha256(script.bytes))
    }

    // MARK: - Answers

    /// The height in `GET /blocks/tip/height`'s answer: decimal digits only, no sign, no leading zero, no
    /// whitespace, at most `UInt32.max`.
    public func tipHeight(_ body: [UInt8]) throws(ChainError) -> UInt32 {
        try bounded(body, what: "tip height")
        return try Self.decimal(body, what: "tip height")
    }

    /// The unspent outputs in `GET /scripthash/:hash/utxo`'s answer: a JSON array of `{txid, vout, value,
    /// status: {confirmed, block_height}}`. Refuses a duplicate outpoint and more than `limit` entries.
    public func unspentOutputs(_ body: [UInt8], limit: Int? = nil) throws(ChainError) -> [EsploraUnverifiedOutput] {
        let limit = min(limit ?? maxUnspentOutputs, maxUnspentOutputs)
        let json = try parse(body, what: "unspent outputs", maxArrayElements: limit + 1)
        guard let entries = json.arrayValue else {
            throw invalid("unspent outputs: expected a JSON array, got \(json.typeName)")
        }
        guard entries.count <= limit else {
            throw invalid("unspent outputs: more than \(limit) reported (the adapter's limit)")
        }
        var seen = Set<OutPoint>()
        var out: [EsploraUnverifiedOutput] = []
        out.reserveCapacity(entries.count)
        for (index, entry) in entries.enumerated() {
            let what = "unspent output \(index)"
            let txid = try Self.txid(entry["txid"], what: "\(what): txid")
            let vout = try Self.integer(entry["vout"], max: Int64(UInt32.max), what: "\(what): vout")
            let value = try Self.integer(entry["value"], max: Amount.maxMoney, what: "\(what): value")
            let blockHeight = try confirmationHeight(entry["status"], what: "\(what): status")
            let outPoint = OutPoint(txid: txid, vout: UInt32(vout))
            guard seen.insert(outPoint).inserted else { throw invalid("\(what): \(outPoint) is listed twice") }
            do {
                out.append(
                    EsploraUnverifiedOutput(
                        outPoint: outPoint, value: try Amount(sats: value), blockHeight: blockHeight))
            } catch {
                throw invalid("\(what): value: \(error.reason)")
            }
        }
        return out
    }

    /// The previous transaction of `claim` from `GET /tx/:txid/hex`'s answer, checked against the claim and the
    /// script it was listed for: it decodes (strictly, no trailing bytes), hashes to the outpoint's txid, has an
    /// output at its vout, and that output holds exactly the claimed value and pays `script`. `asked` is every
    /// script the caller asked about, to name an output that pays none of them.
    public func unspentOutput(
        _ claim: EsploraUnverifiedOutput, script: Script, asked: Set<Script>, previousTransactionHex body: [UInt8],
        tipHeight: UInt32
    ) throws(ChainError) -> BitcoinUnspentOutput {
        let raw = try transactionHex(body, what: "previous transaction of \(claim.outPoint)")
        let tx: Transaction
        do { tx = try Transaction(bytes: raw) } catch {
            throw invalid("previous transaction of \(claim.outPoint) does not decode: \(error.reason)")
        }
        let computed = tx.computeTxid()
        guard computed == claim.outPoint.txid else {
            throw invalid("previous transaction of \(claim.outPoint) hashes to \(computed), not to its txid")
        }
        guard Int(claim.outPoint.vout) < tx.outputs.count else {
            throw invalid("previous transaction of \(claim.outPoint) has only \(tx.outputs.count) outputs")
        }
        let output = tx.outputs[Int(claim.outPoint.vout)]
        guard output.value == claim.value else {
            throw invalid(
                "\(claim.outPoint) holds \(output.value) in its previous transaction, not the reported \(claim.value)")
        }
        guard output.scriptPubKey == script else {
            let hex = Hex.encode(output.scriptPubKey.bytes.prefix(64))
            if asked.contains(output.scriptPubKey) {
                throw invalid("\(claim.outPoint) pays script \(hex), not the script it was listed for")
            }
            throw invalid("\(claim.outPoint) pays script \(hex), which was not asked for")
        }
        return BitcoinUnspentOutput(
            outPoint: claim.outPoint, value: claim.value, scriptPubKey: script,
            confirmations: try confirmations(blockHeight: claim.blockHeight, tipHeight: tipHeight),
            previousTransaction: raw)
    }

    /// The block height in `GET /tx/:txid/status`'s answer (`{"confirmed": false}` or `{"confirmed": true,
    /// "block_height": H, …}`), `nil` while unconfirmed; ``transactionStatus(blockHeight:tipHeight:)`` then counts
    /// the confirmations.
    public func confirmationHeight(_ body: [UInt8]) throws(ChainError) -> UInt32? {
        let json = try parse(body, what: "transaction status", maxArrayElements: 0)
        return try confirmationHeight(json, what: "transaction status")
    }

    /// The port's status for a transaction confirmed at `blockHeight` (or unconfirmed, `nil`) when the tip is at
    /// `tipHeight`. A block above the tip is a contradiction (`invalidResponse`).
    public func transactionStatus(blockHeight: UInt32?, tipHeight: UInt32) throws(ChainError)
        -> BitcoinTransactionStatus
    {
        guard let blockHeight else { return .unconfirmed }
        return .confirmed(
            blockHeight: blockHeight, confirmations: try confirmations(blockHeight: blockHeight, tipHeight: tipHeight))
    }

    /// The fee rate for `confirmationTarget` in `GET /fee-estimates`' answer (a JSON object from targets in blocks to
    /// sat/vB), rounded up to whole sat/kvB. Every estimate must be a number above 0 and at most
    /// ``maxFeeRateSatsPerVByte``, every target a decimal block count; a target the chain source does not list is
    /// answered by the nearest lower one it does (a shorter target never asks less), and none at or below it is
    /// `invalidResponse`.
    public func feeRate(_ body: [UInt8], confirmationTarget: Int) throws(ChainError) -> FeeRate {
        try bounded(body, what: "fee estimates")
        let json: JSONValue
        do {
            json = try JSONParser.parse(
                body, limits: jsonLimits(maxArrayElements: 0), numbers: .any)
        } catch {
            throw invalid("fee estimates: not strict JSON: \(error.code.name): \(error.reason)")
        }
        guard let object = json.objectValue else {
            throw invalid("fee estimates: expected a JSON object, got \(json.typeName)")
        }
        var best: (target: Int, rate: Double)?
        for (key, value) in object {
            let target = try Int(Self.decimal(Array(key.utf8), what: "fee estimates: target '\(key.prefix(12))'"))
            guard target >= 1 else { throw invalid("fee estimates: target 0") }
            guard let rate = value.numberValue else {
                throw invalid("fee estimates: the estimate for \(target) blocks is a \(value.typeName)")
            }
            guard rate.isFinite, rate > 0, rate <= Self.maxFeeRateSatsPerVByte else {
                throw invalid(
                    "fee estimates: \(rate) sat/vB for \(target) blocks is outside (0, "
                        + "\(Int(Self.maxFeeRateSatsPerVByte))]")
            }
            if target <= confirmationTarget, target > (best?.target ?? 0) { best = (target, rate) }
        }
        guard let best else {
            throw invalid("fee estimates: no estimate for \(confirmationTarget) blocks or fewer")
        }
        // sat/vB → sat/kvB, rounded up; rounding to a millionth first drops binary noise (2.3 × 1000 is not 2300).
        let perKvB = ((best.rate * 1000 * 1_000_000).rounded() / 1_000_000).rounded(.up)
        return FeeRate(satsPerKvB: UInt64(perKvB))
    }

    /// The txid in `POST /tx`'s answer, which must be the one of the transaction sent (`expected`).
    public func broadcastAnswer(_ body: [UInt8], expected: Txid) throws(ChainError) -> Txid {
        try bounded(body, what: "broadcast answer")
        let text = String(decoding: body, as: UTF8.self)
        guard body.count == 64, let txid = try? Txid(hex: text) else {
            throw invalid("broadcast answer is not a txid: '\(Self.sanitised(text, limit: 80))'")
        }
        guard txid == expected else {
            throw invalid("broadcast answered txid \(txid), but the transaction sent is \(expected)")
        }
        return txid
    }

    // MARK: - Error text

    /// `text` made safe to show: control and non-ASCII characters replaced by `?`, cut to `limit` characters
    /// (with `…`).
    public static func sanitised(_ text: String, limit: Int = maxReasonLength) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == limit {
                out += "…"
                break
            }
            out.unicodeScalars.append(scalar.isASCII && scalar.value >= 0x20 && scalar.value != 0x7f ? scalar : "?")
            count += 1
        }
        return out
    }

    /// The node's message in a refusal body, sanitised and bounded: the body is cut to a few times the reason's
    /// length before it is decoded.
    public static func message(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(4 * maxReasonLength), as: UTF8.self)
        let trimmed = text.trimmingWhitespace()
        return trimmed.isEmpty ? "(no message)" : sanitised(trimmed)
    }

    // MARK: - Helpers

    private func bounded(_ body: [UInt8], what: String) throws(ChainError) {
        guard body.count <= maxResponseBytes else {
            throw invalid("\(what): answer of \(body.count) bytes exceeds the limit of \(maxResponseBytes)")
        }
    }

    private func jsonLimits(maxArrayElements: Int) -> JSONParser.Limits {
        JSONParser.Limits(
            maxBytes: maxResponseBytes, maxDepth: 4, maxStringBytes: 256, maxArrayElements: maxArrayElements,
            maxObjectMembers: 64)
    }

    private func parse(_ body: [UInt8], what: String, maxArrayElements: Int) throws(ChainError) -> JSONValue {
        try bounded(body, what: what)
        do {
            return try JSONParser.parse(body, limits: jsonLimits(maxArrayElements: maxArrayElements))
        } catch {
            throw invalid("\(what): not strict JSON: \(error.code.name): \(error.reason)")
        }
    }

    /// The raw transaction in a `GET /tx/:txid/hex` answer: strict hex, bounded before decoding.
    private func transactionHex(_ body: [UInt8], what: String) throws(ChainError) -> [UInt8] {
        try bounded(body, what: what)
        do {
            return try Hex.decode(String(decoding: body, as: UTF8.self), maxBytes: Transaction.maxSize)
        } catch {
            throw invalid("\(what) is not hex: \(error.reason)")
        }
    }

    private func confirmationHeight(_ status: JSONValue?, what: String) throws(ChainError) -> UInt32? {
        guard let status, status.objectValue != nil else { throw invalid("\(what): missing or not an object") }
        guard let confirmed = status["confirmed"]?.boolValue else {
            throw invalid("\(what): 'confirmed' missing or not a boolean")
        }
        guard confirmed else { return nil }
        return UInt32(try Self.integer(status["block_height"], max: Int64(UInt32.max), what: "\(what): block_height"))
    }

    private func confirmations(blockHeight: UInt32?, tipHeight: UInt32) throws(ChainError) -> UInt32 {
        guard let blockHeight else { return 0 }
        guard blockHeight <= tipHeight else {
            throw invalid("block height \(blockHeight) is above the tip at \(tipHeight)")
        }
        return tipHeight - blockHeight + 1
    }

    private static func txid(_ value: JSONValue?, what: String) throws(ChainError) -> Txid {
        guard let text = value?.stringValue else { throw invalid("\(what): missing or not a string") }
        guard text.utf8.count == 64, text.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else {
            throw invalid("\(what): '\(sanitised(text, limit: 80))' is not 64 lowercase hex digits")
        }
        do { return try Txid(hex: text) } catch { throw invalid("\(what): \(error.reason)") }
    }

    private static func integer(_ value: JSONValue?, max: Int64, what: String) throws(ChainError) -> Int64 {
        guard let number = value?.numberValue else { throw invalid("\(what): missing or not a number") }
        // The parser admits only integers below 2^53 in their canonical form, so the conversion is exact.
        guard number >= 0, number <= Double(max) else { throw invalid("\(what): \(number) is out of range") }
        return Int64(number)
    }

    /// A decimal `UInt32` in its one form: digits only, no leading zero (but `0`), at most `UInt32.max`.
    private static func decimal(_ bytes: [UInt8], what: String) throws(ChainError) -> UInt32 {
        let digits = bytes.allSatisfy { (0x30...0x39).contains($0) }
        guard !bytes.isEmpty, bytes.count <= 10, digits, bytes.count == 1 || bytes[0] != 0x30 else {
            throw invalid(
                "\(what): '\(sanitised(String(decoding: bytes.prefix(40), as: UTF8.self), limit: 40))' "
                    + "is not a decimal height")
        }
        let value = bytes.reduce(UInt64(0)) { $0 * 10 + UInt64($1 - 0x30) }
        guard let height = UInt32(exactly: value) else { throw invalid("\(what): \(value) exceeds \(UInt32.max)") }
        return height
    }
}

private func invalid(_ reason: String) -> ChainError {
    ChainError(.invalidResponse, EsploraCodec.sanitised(reason, limit: 2 * EsploraCodec.maxReasonLength))
}

extension String {
    /// The string without leading and trailing spaces, tabs, carriage returns and line feeds.
    fileprivate func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
