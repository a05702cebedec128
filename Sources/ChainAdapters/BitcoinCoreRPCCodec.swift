public import Bitcoin
public import CoordinatorCore
public import Governance
import WalletCrypto

/// An unspent output as Bitcoin Core's `scantxoutset` lists it, before its previous transaction is checked.
public struct BitcoinCoreScannedOutput: Sendable, Hashable {
    /// The output, its value and the height of the block that confirmed it, as the node claims.
    public let claim: EsploraUnverifiedOutput
    /// The script it pays, as the node claims (checked against the scripts asked for).
    public let script: Script
    /// The hash of the block that confirmed it, when the node names it (Core 25 and later).
    public let blockHash: String?
}

/// What a `scantxoutset start` answered: the tip it scanned at and the outputs it found.
public struct BitcoinCoreScan: Sendable, Hashable {
    /// The height of the best block when the scan ran (every listed output is at or below it).
    public let height: UInt32
    /// The outputs found, confirmed ones only (the UTXO set has no mempool).
    public let outputs: [BitcoinCoreScannedOutput]
}

/// The pure half of the Bitcoin Core JSON-RPC adapter: writes JSON-RPC 2.0 requests and turns Core's answers into
/// the port's values, refusing anything malformed or self-contradictory with ``ChainError/Code/invalidResponse``.
/// No I/O. Every body is bounded by ``maxResponseBytes`` before it is parsed, and JSON goes through Governance's
/// strict ``JSONParser`` (numbers read as doubles, since Core writes amounts in BTC with eight decimals).
public struct BitcoinCoreRPCCodec: Sendable {
    /// The largest answer accepted, in bytes.
    public let maxResponseBytes: Int
    /// The most unspent outputs one scan may report.
    public let maxUnspentOutputs: Int

    /// Bitcoin Core's error codes the adapter tells apart (`src/rpc/protocol.h`).
    public enum ErrorCode {
        /// `RPC_INVALID_ADDRESS_OR_KEY`: no such transaction or block.
        public static let invalidAddressOrKey = -5
        /// `RPC_DESERIALIZATION_ERROR`: the transaction does not decode.
        public static let deserialization = -22
        /// `RPC_VERIFY_ERROR`: inputs missing or spent, or another verification failure.
        public static let verify = -25
        /// `RPC_VERIFY_REJECTED`: refused by consensus or policy.
        public static let verifyRejected = -26
        /// `RPC_VERIFY_ALREADY_IN_CHAIN`: the transaction's outputs are already in the UTXO set.
        public static let alreadyInChain = -27
        /// `RPC_METHOD_NOT_FOUND`.
        public static let methodNotFound = -32601
    }

    /// An answer's outcome: the method's result, or the error the node reported.
    public enum Answer: Sendable, Hashable {
        /// The method succeeded with this result (`null` included).
        case result(JSONValue)
        /// The node refused the call with this code and message.
        case error(code: Int, message: String)
    }

    /// Creates a codec with its bounds.
    public init(maxResponseBytes: Int = 4 << 20, maxUnspentOutputs: Int = 1_000) {
        self.maxResponseBytes = maxResponseBytes
        self.maxUnspentOutputs = maxUnspentOutputs
    }

    // MARK: - Requests

    /// The body of a JSON-RPC 2.0 call (Core 28 answers errors of 2.0 calls with HTTP 200; older nodes with 500).
    public static func request(id: Int, method: String, params: [JSONValue]) -> [UInt8] {
        let call: JSONValue = [
            "jsonrpc": "2.0", "id": .number(Double(id)), "method": .string(method), "params": .array(params),
        ]
        // Strings, small integers, booleans, arrays and objects always encode.
        return (try? CanonicalJSON.encode(call)) ?? []
    }

    /// The `scantxoutset` descriptor for an output script: `raw(HEX)` with its BIP-0380 checksum.
    public static func rawDescriptor(_ script: Script) -> String {
        DescriptorChecksum.append(to: "raw(\(Hex.encode(script.bytes)))")
    }

    // MARK: - Answers

    /// The outcome in an answer to call `id`: a JSON object whose `id` is `id`, with either a `result` (and a null
    /// or absent `error`) or an `error` object `{code, message}`.
    public func answer(_ body: [UInt8], id: Int) throws(ChainError) -> Answer {
        let json = try parse(body, what: "JSON-RPC answer")
        guard let object = json.objectValue else { throw invalid("JSON-RPC answer: expected an object") }
        guard object["id"] == .number(Double(id)) else {
            throw invalid("JSON-RPC answer: it is not the answer to call \(id)")
        }
        if let error = object["error"], !error.isNull {
            guard let code = error["code"]?.numberValue, code == code.rounded(), abs(code) < 1e9 else {
                throw invalid("JSON-RPC answer: the error has no integer code")
            }
            let message = error["message"]?.stringValue ?? "(no message)"
            return .error(code: Int(code), message: EsploraCodec.sanitised(message))
        }
        guard let result = object["result"] else { throw invalid("JSON-RPC answer: neither result nor error") }
        return .result(result)
    }

    /// A block count or height: an integer from 0 to `UInt32.max`.
    public func height(_ result: JSONValue, what: String) throws(ChainError) -> UInt32 {
        UInt32(try Self.integer(result, max: Int64(UInt32.max), what: what))
    }

    /// The outputs of a `scantxoutset start` answer for `scripts` (each asked as `raw(…)`): `success` true, a
    /// `height`, and `unspents` of `{txid, vout, scriptPubKey, amount, height}` each paying one of the scripts
    /// asked for, at or below the scan's height, listed once, at most ``maxUnspentOutputs`` in all.
    public func scan(_ result: JSONValue, asked scripts: Set<Script>) throws(ChainError) -> BitcoinCoreScan {
        guard result.objectValue != nil else { throw invalid("scantxoutset: expected an object") }
        guard result["success"]?.boolValue == true else { throw invalid("scantxoutset: the scan did not succeed") }
        let tip = try height(result["height"] ?? .null, what: "scantxoutset: height")
        guard let unspents = result["unspents"]?.arrayValue else {
            throw invalid("scantxoutset: 'unspents' missing or not an array")
        }
        guard unspents.count <= maxUnspentOutputs else {
            throw invalid("scantxoutset: more than \(maxUnspentOutputs) outputs reported (the adapter's limit)")
        }
        var seen = Set<OutPoint>()
        var out: [BitcoinCoreScannedOutput] = []
        for (n, entry) in unspents.enumerated() {
            let what = "scantxoutset: output \(n)"
            guard entry.objectValue != nil else { throw invalid("\(what): not an object") }
            let outPoint = OutPoint(
                txid: try Self.txid(entry["txid"], what: "\(what): txid"),
                vout: UInt32(try Self.integer(entry["vout"], max: Int64(UInt32.max), what: "\(what): vout")))
            guard seen.insert(outPoint).inserted else { throw invalid("\(what): \(outPoint) is listed twice") }
            let value = try Self.amount(entry["amount"], what: "\(what): amount")
            guard let scriptHex = entry["scriptPubKey"]?.stringValue,
                let bytes = try? Hex.decode(scriptHex, maxBytes: 10_000)
            else { throw invalid("\(what): scriptPubKey missing or not hex") }
            let script = Script(bytes)
            guard scripts.contains(script) else {
                throw invalid("\(what): \(outPoint) pays a script that was not asked for")
            }
            let blockHeight = try height(entry["height"] ?? .null, what: "\(what): height")
            guard blockHeight <= tip else {
                throw invalid("\(what): block height \(blockHeight) is above the scan's tip at \(tip)")
            }
            var blockHash: String?
            if let hash = entry["blockhash"], !hash.isNull {
                blockHash = try Self.hash(hash, what: "\(what): blockhash")
            }
            out.append(
                BitcoinCoreScannedOutput(
                    claim: EsploraUnverifiedOutput(outPoint: outPoint, value: value, blockHeight: blockHeight),
                    script: script, blockHash: blockHash))
        }
        return BitcoinCoreScan(height: tip, outputs: out)
    }

    /// Whether a `gettxout txid vout true` answer says the output is still unspent (`null`: spent, in a block or by
    /// a mempool transaction). An answer that disagrees with the scan about its value or script is a contradiction.
    public func stillUnspent(_ result: JSONValue, _ output: BitcoinCoreScannedOutput) throws(ChainError) -> Bool {
        if result.isNull { return false }
        let what = "gettxout \(output.claim.outPoint)"
        guard result.objectValue != nil else { throw invalid("\(what): expected an object or null") }
        guard try Self.amount(result["value"], what: "\(what): value") == output.claim.value,
            result["scriptPubKey"]?["hex"]?.stringValue == Hex.encode(output.script.bytes)
        else { throw invalid("\(what): the node's UTXO set contradicts its own scan") }
        return true
    }

    /// The hex of a `getrawtransaction txid false` answer, as the bytes ``EsploraCodec`` checks a previous
    /// transaction from.
    public func rawTransactionHex(_ result: JSONValue, what: String) throws(ChainError) -> [UInt8] {
        guard let hex = result.stringValue else { throw invalid("\(what): expected a hex string") }
        return Array(hex.utf8)
    }

    /// The block hash and confirmations in a `getrawtransaction txid true` answer: `nil` while it is in the mempool
    /// (no `blockhash`), else the block's hash. Also checks the answer is about `txid`.
    public func confirmingBlock(_ result: JSONValue, txid: Txid) throws(ChainError) -> String? {
        guard result.objectValue != nil else { throw invalid("getrawtransaction: expected an object") }
        guard try Self.txid(result["txid"], what: "getrawtransaction: txid") == txid else {
            throw invalid("getrawtransaction: the answer is about another transaction")
        }
        guard let hash = result["blockhash"], !hash.isNull else { return nil }
        return try Self.hash(hash, what: "getrawtransaction: blockhash")
    }

    /// The height in a `getblockheader hash true` answer, which must be about block `hash` and on the best chain
    /// (`confirmations` ≥ 1; a block of a stale branch answers −1).
    public func blockHeight(_ result: JSONValue, hash: String) throws(ChainError) -> UInt32? {
        guard result.objectValue != nil else { throw invalid("getblockheader: expected an object") }
        guard try Self.hash(result["hash"], what: "getblockheader: hash") == hash else {
            throw invalid("getblockheader: the answer is about another block")
        }
        guard let confirmations = result["confirmations"]?.numberValue, confirmations == confirmations.rounded()
        else { throw invalid("getblockheader: confirmations missing or not an integer") }
        guard confirmations >= 1 else { return nil }
        return try height(result["height"] ?? .null, what: "getblockheader: height")
    }

    /// The fee rate of an `estimatesmartfee` answer (`{"feerate": BTC/kvB, "blocks": n}`), rounded up to whole
    /// sat/kvB, between 1 sat/vB and ``EsploraCodec/maxFeeRateSatsPerVByte``. An answer with `errors` and no rate
    /// (a node without enough data) is ``ChainError/Code/unavailable``.
    public func feeRate(_ result: JSONValue) throws(ChainError) -> FeeRate {
        guard result.objectValue != nil else { throw invalid("estimatesmartfee: expected an object") }
        guard let rate = result["feerate"], !rate.isNull else {
            let reason = result["errors"]?[0]?.stringValue ?? "no fee rate"
            throw ChainError(.unavailable, "estimatesmartfee: \(EsploraCodec.sanitised(reason, limit: 120))")
        }
        guard let btcPerKvB = rate.numberValue, btcPerKvB.isFinite else {
            throw invalid("estimatesmartfee: feerate is not a number")
        }
        let satsPerKvB = (btcPerKvB * 1e8 * 1000).rounded() / 1000
        guard satsPerKvB >= 1000, satsPerKvB <= EsploraCodec.maxFeeRateSatsPerVByte * 1000 else {
            throw invalid(
                "estimatesmartfee: \(satsPerKvB) sat/kvB is outside [1000, "
                    + "\(Int(EsploraCodec.maxFeeRateSatsPerVByte * 1000))]")
        }
        return FeeRate(satsPerKvB: UInt64(satsPerKvB.rounded(.up)))
    }

    /// The txid in a `sendrawtransaction` answer, which must be the one of the transaction sent.
    public func broadcastAnswer(_ result: JSONValue, expected: Txid) throws(ChainError) -> Txid {
        let txid = try Self.txid(result, what: "sendrawtransaction")
        guard txid == expected else {
            throw invalid("sendrawtransaction answered txid \(txid), but the transaction sent is \(expected)")
        }
        return txid
    }

    // MARK: - Helpers

    private func parse(_ body: [UInt8], what: String) throws(ChainError) -> JSONValue {
        guard body.count <= maxResponseBytes else {
            throw invalid("\(what): answer of \(body.count) bytes exceeds the limit of \(maxResponseBytes)")
        }
        let limits = JSONParser.Limits(
            maxBytes: maxResponseBytes, maxDepth: 8, maxStringBytes: 2 * Transaction.maxSize + 2,
            maxArrayElements: maxUnspentOutputs + 1, maxObjectMembers: 64)
        do {
            return try JSONParser.parse(body, limits: limits, numbers: .any)
        } catch {
            throw invalid("\(what): not strict JSON: \(error.code.name): \(error.reason)")
        }
    }

    /// An amount in BTC as Core writes it (a JSON number with at most eight decimals), in satoshis.
    static func amount(_ value: JSONValue?, what: String) throws(ChainError) -> Amount {
        guard let btc = value?.numberValue, btc.isFinite, btc >= 0 else {
            throw invalid("\(what): missing, negative or not a number")
        }
        let sats = btc * 1e8
        // Doubles carry 8-decimal BTC amounts up to 21M BTC to well within a thousandth of a satoshi.
        guard abs(sats - sats.rounded()) < 1e-3, sats.rounded() <= Double(Amount.maxMoney) else {
            throw invalid("\(what): \(btc) is not an amount in BTC with at most eight decimals")
        }
        do { return try Amount(sats: Int64(sats.rounded())) } catch { throw invalid("\(what): \(error.reason)") }
    }

    private static func integer(_ value: JSONValue?, max: Int64, what: String) throws(ChainError) -> Int64 {
        guard let number = value?.numberValue, number == number.rounded(), number >= 0, number <= Double(max) else {
            throw invalid("\(what): missing, not an integer or out of range")
        }
        return Int64(number)
    }

    private static func txid(_ value: JSONValue?, what: String) throws(ChainError) -> Txid {
        let text = try hash(value, what: what)
        do { return try Txid(hex: text) } catch { throw invalid("\(what): \(error.reason)") }
    }

    /// A 32-byte hash as 64 lowercase hex digits.
    private static func hash(_ value: JSONValue?, what: String) throws(ChainError) -> String {
        guard let text = value?.stringValue else { throw invalid("\(what): missing or not a string") }
        guard text.utf8.count == 64, text.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else { throw invalid("\(what): '\(EsploraCodec.sanitised(text, limit: 80))' is not 64 lowercase hex digits") }
        return text
    }
}

private func invalid(_ reason: String) -> ChainError {
    ChainError(.invalidResponse, EsploraCodec.sanitised(reason, limit: 2 * EsploraCodec.maxReasonLength))
}
