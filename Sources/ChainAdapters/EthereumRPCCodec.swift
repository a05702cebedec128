public import CoordinatorCore
public import Ethereum
public import Governance
import WalletCrypto

/// One Ethereum JSON-RPC 2.0 call: a method and its positional parameters, built only by the factories below so
/// that every parameter has its one canonical form (quantities `0x` without leading zeros, data and addresses
/// `0x` and lowercase hex).
public struct EthereumRPCRequest: Sendable, Hashable {
    /// The method name (`eth_chainId`, …).
    public let method: String
    /// The positional parameters.
    public let params: [JSONValue]

    private init(_ method: String, _ params: [JSONValue] = []) {
        self.method = method
        self.params = params
    }

    /// `eth_chainId`.
    public static let chainID = EthereumRPCRequest("eth_chainId")
    /// `eth_blockNumber`.
    public static let blockNumber = EthereumRPCRequest("eth_blockNumber")
    /// `eth_maxPriorityFeePerGas`.
    public static let maxPriorityFeePerGas = EthereumRPCRequest("eth_maxPriorityFeePerGas")

    /// `eth_getTransactionCount(account, "pending")`.
    public static func pendingTransactionCount(_ account: EthereumAddress) -> Self {
        Self("eth_getTransactionCount", [.string(account.lowercased), "pending"])
    }

    /// `eth_getBlockByNumber(tag, false)` for a tag (`"pending"`, `"latest"`): the header and transaction hashes.
    public static func blockHeader(tag: String) -> Self {
        Self("eth_getBlockByNumber", [.string(tag), false])
    }

    /// `eth_getBlockByNumber(number, true)`: the block with its full transaction objects.
    public static func fullBlock(number: UInt64) -> Self {
        Self("eth_getBlockByNumber", [.string(UInt256(number).hexQuantity), true])
    }

    /// `eth_estimateGas({from, to, value, data}, "pending")`; `data` is left out when the call data is empty.
    public static func estimateGas(_ call: EthereumCall) -> Self {
        var object: [String: JSONValue] = [
            "from": .string(call.from.lowercased), "to": .string(call.to.lowercased),
            "value": .string(call.value.amount.hexQuantity),
        ]
        if !call.data.isEmpty { object["data"] = .string("0x" + Hex.encode(call.data)) }
        return Self("eth_estimateGas", [.object(object), "pending"])
    }

    /// `eth_getBalance(account, "latest")`.
    public static func balance(_ account: EthereumAddress) -> Self {
        Self("eth_getBalance", [.string(account.lowercased), "latest"])
    }

    /// `eth_call({to: token, data: balanceOf(owner)}, "latest")`: an ERC-20 balance.
    public static func tokenBalance(token: EthereumAddress, owner: EthereumAddress) -> Self {
        let data = [0x70, 0xa0, 0x82, 0x31] + EthereumRPCCodec.topic(of: owner)
        return Self(
            "eth_call",
            [.object(["to": .string(token.lowercased), "data": .string("0x" + Hex.encode(data))]), "latest"])
    }

    /// `eth_sendRawTransaction(raw)`.
    public static func sendRawTransaction(_ raw: [UInt8]) -> Self {
        Self("eth_sendRawTransaction", [.string("0x" + Hex.encode(raw))])
    }

    /// `eth_getTransactionReceipt(hash)`.
    public static func transactionReceipt(_ hash: TransactionHash) -> Self {
        Self("eth_getTransactionReceipt", [.string(hash.description)])
    }

    /// `eth_getTransactionByHash(hash)`.
    public static func transactionByHash(_ hash: TransactionHash) -> Self {
        Self("eth_getTransactionByHash", [.string(hash.description)])
    }

    /// `eth_getLogs({fromBlock, toBlock, address: token, topics: [Transfer, null, [recipients…]]})`: the ERC-20
    /// `Transfer` events of `token` paying any of `recipients` (topic 2, each address left-padded to 32 bytes).
    public static func transferLogs(
        token: EthereumAddress, recipients: [EthereumAddress], fromBlock: UInt64, toBlock: UInt64
    ) -> Self {
        let padded = recipients.map { JSONValue.string("0x" + Hex.encode(EthereumRPCCodec.topic(of: $0))) }
        let filter: JSONValue = .object([
            "fromBlock": .string(UInt256(fromBlock).hexQuantity), "toBlock": .string(UInt256(toBlock).hexQuantity),
            "address": .string(token.lowercased),
            "topics": .array([.string("0x" + Hex.encode(EthereumRPCCodec.transferTopic)), .null, .array(padded)]),
        ])
        return Self("eth_getLogs", [filter])
    }
}

/// A JSON-RPC error object as the node sent it, its message made safe to show.
public struct EthereumRPCErrorObject: Sendable, Hashable, CustomStringConvertible {
    /// The error code (`-32000`, `3`, …).
    public let code: Int
    /// The node's message, control and non-ASCII characters replaced and cut to
    /// ``EthereumRPCCodec/maxReasonLength`` characters.
    public let message: String

    /// Creates an error object (for tests; the codec makes them from answers).
    public init(code: Int, message: String) {
        self.code = code
        self.message = EsploraCodec.sanitised(message, limit: EthereumRPCCodec.maxReasonLength)
    }

    public var description: String { "\(code) \(message)" }
}

/// What a JSON-RPC answer held: a result (which may be `null`) or an error object.
public enum EthereumRPCAnswer: Sendable, Hashable {
    /// The `result` member.
    case result(JSONValue)
    /// The `error` member.
    case error(EthereumRPCErrorObject)
}

/// A receipt as `eth_getTransactionReceipt` reports it, before its block is compared with the tip.
public struct EthereumUnverifiedReceipt: Sendable, Hashable {
    /// The transaction it is the receipt of (checked to be the one asked for).
    public let transactionHash: TransactionHash
    /// The block the chain source says includes it.
    public let blockNumber: UInt64
    /// That block's hash.
    public let blockHash: EthereumBlockHash
    /// Status 1 (success) or 0 (reverted).
    public let succeeded: Bool
    /// The gas it used.
    public let gasUsed: Gas

    /// Creates a claim (for tests; the codec makes them from answers).
    public init(
        transactionHash: TransactionHash, blockNumber: UInt64, blockHash: EthereumBlockHash, succeeded: Bool,
        gasUsed: Gas
    ) {
        self.transactionHash = transactionHash
        self.blockNumber = blockNumber
        self.blockHash = blockHash
        self.succeeded = succeeded
        self.gasUsed = gasUsed
    }
}

/// The pure half of the Ethereum JSON-RPC adapter: encodes requests, and turns the bytes of a node's answers into
/// the port's values, refusing anything malformed or self-contradictory with ``ChainError/Code/invalidResponse``
/// (the node is untrusted).
///
/// It does no I/O, so every rule is tested without a network. Every answer is bounded by ``maxResponseBytes``
/// before it is parsed, and goes through Governance's strict ``JSONParser`` (RFC 8259 only, no duplicate member
/// names, integers only). Quantities are read in their one JSON-RPC form (`0x`, lowercase digits, no leading zero),
/// hashes and data as `0x` and lowercase hex of the exact length, addresses as EIP-55 text (lowercase, uppercase or
/// a correct checksum). Members Kura does not read are ignored; a missing or mistyped member it reads is refused.
public struct EthereumRPCCodec: Sendable {
    /// The largest answer accepted, in bytes (bodies are also collected with this limit).
    public let maxResponseBytes: Int
    /// The most elements of one JSON array in an answer (a block's transactions, a log query's logs).
    public let maxArrayElements: Int

    /// The highest base fee or priority fee believed, in wei per gas: 10,000 gwei, a hundred times the highest
    /// base fee mainnet has seen.
    public static let maxFeePerGas = UInt256(10_000_000_000_000)

    /// The least gas a transaction uses (the intrinsic gas of a plain transfer, Yellow Paper G_transaction).
    public static let minGas: UInt64 = 21_000

    /// The most gas an estimate may ask for: 2^24, the cap on one transaction's gas of EIP-7825.
    public static let maxGasEstimate: UInt64 = 1 << 24

    /// The longest reason taken from a node's message, in characters.
    public static let maxReasonLength = 240

    /// The ERC-20 `Transfer(address,address,uint256)` event topic: its Keccak-256 (EIP-20).
    public static let transferTopic: [UInt8] = Hash.keccak256(Array("Transfer(address,address,uint256)".utf8))

    /// Creates a codec with its bounds.
    public init(maxResponseBytes: Int = 4 << 20, maxArrayElements: Int = 10_000) {
        self.maxResponseBytes = maxResponseBytes
        self.maxArrayElements = maxArrayElements
    }

    /// `address` as a 32-byte event topic: twelve zero bytes, then the address.
    public static func topic(of address: EthereumAddress) -> [UInt8] {
        Array(repeating: 0, count: 12) + address.bytes
    }

    // MARK: - Requests

    /// The bytes of `request` as a JSON-RPC 2.0 request object with `id` (`{"id":…,"jsonrpc":"2.0","method":…,
    /// "params":[…]}`, RFC 8785 canonical form). `id` must be below 2^53.
    public func encode(_ request: EthereumRPCRequest, id: Int) -> [UInt8] {
        let envelope: JSONValue = .object([
            "jsonrpc": "2.0", "id": .number(Double(id)), "method": .string(request.method),
            "params": .array(request.params),
        ])
        do {
            return try CanonicalJSON.encode(envelope)
        } catch {
            // Requests hold only strings, booleans, null and an integer id: the encoder refuses nothing of these.
            preconditionFailure("a JSON-RPC request failed to encode: \(error)")
        }
    }

    // MARK: - The envelope

    /// The result or error object of the answer to the request with `id`: a JSON object with `"jsonrpc": "2.0"`,
    /// the same `id`, and exactly one of `result` and `error` (`{code: integer, message: string}`). A batch, a
    /// notification or another id is refused.
    public func answer(_ body: [UInt8], id: Int) throws(ChainError) -> EthereumRPCAnswer {
        guard body.count <= maxResponseBytes else {
            throw invalid("answer of \(body.count) bytes exceeds the limit of \(maxResponseBytes)")
        }
        let json: JSONValue
        do {
            json = try JSONParser.parse(body, limits: jsonLimits)
        } catch {
            throw invalid("not strict JSON: \(error.code.name): \(error.reason)")
        }
        guard json.objectValue != nil else {
            throw invalid("expected a JSON-RPC response object, got \(json.typeName)")
        }
        guard json["jsonrpc"]?.stringValue == "2.0" else { throw invalid("'jsonrpc' is not \"2.0\"") }
        guard let answered = json["id"]?.numberValue, answered == Double(id) else {
            throw invalid("the answer's id is not the request's (\(id))")
        }
        switch (json["result"], json["error"]) {
        case (.some(let result), nil):
            return .result(result)
        case (nil, .some(let error)):
            guard error.objectValue != nil, let code = error["code"]?.numberValue,
                let message = error["message"]?.stringValue
            else { throw invalid("the error member is not {code: integer, message: string}") }
            return .error(EthereumRPCErrorObject(code: Int(code), message: message))
        case (.some, .some): throw invalid("the answer has both a result and an error")
        case (nil, nil): throw invalid("the answer has neither a result nor an error")
        }
    }

    /// The port's failure for a node's error object answering `method`. ``ChainError/Code/unavailable`` (which the
    /// adapter retries) for `-32005` (limit exceeded, EIP-1474), `-32603` (internal error) and, on methods that
    /// only read, `-32000` (geth's "header not found", a node behind its peers); ``ChainError/Code/rejected`` for
    /// every refusal of `eth_sendRawTransaction` and for a call `eth_estimateGas` finds failing (code 3 `execution
    /// reverted`, `-32000` insufficient funds, out of gas); ``ChainError/Code/invalidResponse`` otherwise (the node
    /// does not serve the method, or refuses the adapter's own parameters).
    public func failure(_ error: EthereumRPCErrorObject, method: String) -> ChainError {
        let reason = "\(method): \(error.message) (JSON-RPC error \(error.code))"
        switch error.code {
        case -32005, -32603:
            return ChainError(.unavailable, reason)
        case -32700, -32600, -32601, -32602:
            return ChainError(.invalidResponse, reason)
        default:
            break
        }
        switch method {
        case "eth_sendRawTransaction":
            return ChainError(.rejected, error.message)
        case "eth_estimateGas" where error.code == 3 || error.code == -32000:
            return ChainError(.rejected, error.message)
        default:
            return ChainError(error.code == -32000 ? .unavailable : .invalidResponse, reason)
        }
    }

    /// Whether a refusal of `eth_sendRawTransaction` may mean the node already has the transaction (pending or
    /// mined): geth's and Erigon's `already known`, older geth's `known transaction`, Nethermind's `AlreadyKnown`
    /// and `OldNonce`, OpenEthereum's `already imported`, and `nonce too low` (a mined transaction used the nonce,
    /// perhaps this one). The adapter then asks whether the node knows the transaction.
    public static func mayBeAlreadySent(_ message: String) -> Bool {
        let text = message.lowercased()
        return ["already known", "known transaction", "alreadyknown", "already imported", "nonce too low", "oldnonce"]
            .contains { text.contains($0) }
    }

    // MARK: - Results

    /// The chain id in `eth_chainId`'s result: a quantity within 64 bits.
    public func chainID(_ result: JSONValue) throws(ChainError) -> ChainID {
        ChainID(try Self.quantity64(result, what: "eth_chainId"))
    }

    /// The block number in `eth_blockNumber`'s result: a quantity within 64 bits.
    public func blockNumber(_ result: JSONValue) throws(ChainError) -> UInt64 {
        try Self.quantity64(result, what: "eth_blockNumber")
    }

    /// The nonce in `eth_getTransactionCount`'s result: a quantity within 64 bits (EIP-2681).
    public func nonce(_ result: JSONValue) throws(ChainError) -> Nonce {
        Nonce(try Self.quantity64(result, what: "eth_getTransactionCount"))
    }

    /// The gas in `eth_estimateGas`'s result: a quantity from ``minGas`` to ``maxGasEstimate``.
    public func gasEstimate(_ result: JSONValue) throws(ChainError) -> Gas {
        let gas = try Self.quantity64(result, what: "eth_estimateGas")
        guard gas >= Self.minGas, gas <= Self.maxGasEstimate else {
            throw invalid("eth_estimateGas: \(gas) gas is outside [\(Self.minGas), \(Self.maxGasEstimate)]")
        }
        return Gas(gas)
    }

    /// An account's balance in `eth_getBalance`'s result: a quantity.
    public func balance(_ result: JSONValue) throws(ChainError) -> Wei {
        Wei(try Self.quantity(result, what: "eth_getBalance"))
    }

    /// An ERC-20 `balanceOf` answer in `eth_call`'s result: exactly one 32-byte word (a contract that answers
    /// anything else is not the token the policy names).
    public func tokenBalance(_ result: JSONValue) throws(ChainError) -> UInt256 {
        let text = try Self.string(result, what: "eth_call balanceOf")
        guard text.hasPrefix("0x"), text.utf8.count == 66,
            let bytes = try? Hex.decode(String(text.dropFirst(2)), maxBytes: 32),
            let value = try? UInt256(bigEndian: bytes)
        else {
            throw invalid(
                "eth_call balanceOf: '\(EsploraCodec.sanitised(text, limit: 80))' is not one 32-byte word")
        }
        return value
    }

    /// The priority fee in `eth_maxPriorityFeePerGas`'s result: a quantity of at most ``maxFeePerGas``.
    public func priorityFee(_ result: JSONValue) throws(ChainError) -> WeiPerGas {
        try Self.fee(result, what: "eth_maxPriorityFeePerGas")
    }

    /// The base fee of the pending block in `eth_getBlockByNumber("pending", false)`'s result, or `nil` when the
    /// node has no pending block (`null`); at most ``maxFeePerGas``.
    public func pendingBaseFee(_ result: JSONValue) throws(ChainError) -> WeiPerGas? {
        if result.isNull { return nil }
        guard result.objectValue != nil else { throw invalid("pending block: not an object but a \(result.typeName)") }
        return try Self.fee(result["baseFeePerGas"], what: "pending block: baseFeePerGas")
    }

    /// The base fee of the block after the latest, computed from the latest block's `baseFeePerGas`, `gasUsed`
    /// and `gasLimit` in `eth_getBlockByNumber("latest", false)`'s result by EIP-1559's rule (target = limit / 2;
    /// the fee moves by at most 1/8 of the way the gas used is off target, by at least 1 wei upwards). Both the
    /// latest and the computed fee must be at most ``maxFeePerGas``.
    public func nextBaseFee(latestBlock result: JSONValue) throws(ChainError) -> WeiPerGas {
        guard result.objectValue != nil else { throw invalid("latest block: not an object but a \(result.typeName)") }
        let base = try Self.fee(result["baseFeePerGas"], what: "latest block: baseFeePerGas")
        let used = try Self.quantity64(result["gasUsed"], what: "latest block: gasUsed")
        let limit = try Self.quantity64(result["gasLimit"], what: "latest block: gasLimit")
        guard used <= limit else { throw invalid("latest block: gasUsed \(used) exceeds gasLimit \(limit)") }
        let next = Self.nextBaseFee(parent: base.amount, gasUsed: used, gasLimit: limit)
        guard let next, next <= Self.maxFeePerGas else {
            throw invalid("next base fee after \(base.amount) wei per gas is above \(Self.maxFeePerGas)")
        }
        return WeiPerGas(next)
    }

    /// EIP-1559's base fee of the child of a block with base fee `parent`; `nil` on overflow.
    public static func nextBaseFee(parent: UInt256, gasUsed: UInt64, gasLimit: UInt64) -> UInt256? {
        let target = gasLimit / 2
        guard target > 0, gasUsed != target else { return parent }
        let difference = gasUsed > target ? gasUsed - target : target - gasUsed
        guard let product = parent.checkedMultiply(UInt256(difference)) else { return nil }
        let delta = product.quotientAndRemainder(dividingBy: target).quotient.quotientAndRemainder(dividingBy: 8)
            .quotient
        if gasUsed > target { return parent.checkedAdd(Swift.max(delta, .one)) }
        return parent.checkedSubtract(delta)
    }

    /// The hash in `eth_sendRawTransaction`'s result, which must be the one of the transaction sent (`expected`).
    public func broadcastAnswer(_ result: JSONValue, expected: TransactionHash) throws(ChainError) -> TransactionHash {
        let hash = try Self.transactionHash(result, what: "eth_sendRawTransaction")
        guard hash == expected else {
            throw invalid("eth_sendRawTransaction answered hash \(hash), but the transaction sent is \(expected)")
        }
        return hash
    }

    /// Whether `eth_getTransactionByHash`'s result shows the node knows the transaction `hash`: `null` is no; an
    /// object must be that transaction.
    public func transactionKnown(_ result: JSONValue, hash: TransactionHash) throws(ChainError) -> Bool {
        if result.isNull { return false }
        guard result.objectValue != nil else { throw invalid("transaction \(hash): not an object") }
        let answered = try Self.transactionHash(result["hash"], what: "transaction \(hash): hash")
        guard answered == hash else { throw invalid("asked for transaction \(hash), got \(answered)") }
        return true
    }

    /// The receipt in `eth_getTransactionReceipt(hash)`'s result, `nil` while there is none (`null`). It must be the
    /// receipt of `hash`, in a block (number and hash), with status `0x0` or `0x1` (a pre-Byzantium `root` is
    /// refused) and at least ``minGas`` gas used.
    public func receipt(_ result: JSONValue, hash: TransactionHash) throws(ChainError) -> EthereumUnverifiedReceipt? {
        if result.isNull { return nil }
        let what = "receipt of \(hash)"
        guard result.objectValue != nil else { throw invalid("\(what): not an object but a \(result.typeName)") }
        let answered = try Self.transactionHash(result["transactionHash"], what: "\(what): transactionHash")
        guard answered == hash else {
            throw invalid("asked for the receipt of \(hash), got the receipt of \(answered)")
        }
        let number = try Self.quantity64(result["blockNumber"], what: "\(what): blockNumber")
        let blockHash = try Self.blockHash(result["blockHash"], what: "\(what): blockHash")
        let status = try Self.quantity64(result["status"], what: "\(what): status")
        guard status <= 1 else { throw invalid("\(what): status \(status) is neither 0 nor 1") }
        let gasUsed = try Self.quantity64(result["gasUsed"], what: "\(what): gasUsed")
        guard gasUsed >= Self.minGas else { throw invalid("\(what): gasUsed \(gasUsed) is below \(Self.minGas)") }
        return EthereumUnverifiedReceipt(
            transactionHash: hash, blockNumber: number, blockHash: blockHash, succeeded: status == 1,
            gasUsed: Gas(gasUsed))
    }

    /// The port's receipt for `claim` when the latest block is `tip`: confirmations are `tip − block + 1`, and a
    /// block above the tip is a contradiction (`invalidResponse`).
    public func receipt(_ claim: EthereumUnverifiedReceipt, tip: UInt64) throws(ChainError) -> EthereumReceipt {
        guard claim.blockNumber <= tip else {
            throw invalid("receipt of \(claim.transactionHash): block \(claim.blockNumber) is above the tip at \(tip)")
        }
        return EthereumReceipt(
            blockNumber: claim.blockNumber, succeeded: claim.succeeded, gasUsed: claim.gasUsed,
            confirmations: tip - claim.blockNumber + 1)
    }

    /// The block in `eth_getBlockByNumber(number, true)`'s result, `nil` when the node has none mined: `null` (above
    /// its latest block), or block `number` without a hash (the pending block, which some nodes answer for the
    /// number after their latest). It must be block `number`, with a hash and a parent hash, and full transaction objects
    /// each with a hash (no two alike), a sender, a recipient or `null`, a value, and the block's own number and
    /// hash and its position as `transactionIndex`.
    public func block(_ result: JSONValue, number: UInt64) throws(ChainError) -> EthereumBlock? {
        if result.isNull { return nil }
        let what = "block \(number)"
        guard result.objectValue != nil else { throw invalid("\(what): not an object but a \(result.typeName)") }
        let answered = try Self.quantity64(result["number"], what: "\(what): number")
        guard answered == number else { throw invalid("asked for block \(number), got block \(answered)") }
        if result["hash"]?.isNull == true { return nil }
        let hash = try Self.blockHash(result["hash"], what: "\(what): hash")
        let parent = try Self.blockHash(result["parentHash"], what: "\(what): parentHash")
        guard let entries = result["transactions"]?.arrayValue else {
            throw invalid("\(what): transactions missing or not an array")
        }
        var seen = Set<TransactionHash>()
        var transactions: [EthereumBlock.Transaction] = []
        transactions.reserveCapacity(entries.count)
        for (index, entry) in entries.enumerated() {
            let label = "\(what): transaction \(index)"
            guard entry.objectValue != nil else {
                throw invalid("\(label): not a transaction object but a \(entry.typeName) (hashes only?)")
            }
            let txHash = try Self.transactionHash(entry["hash"], what: "\(label): hash")
            guard seen.insert(txHash).inserted else { throw invalid("\(label): \(txHash) is listed twice") }
            let inBlock = try Self.quantity64(entry["blockNumber"], what: "\(label): blockNumber")
            let inHash = try Self.blockHash(entry["blockHash"], what: "\(label): blockHash")
            guard inBlock == number, inHash == hash else {
                throw invalid("\(label): claims block \(inBlock) \(inHash), not \(number) \(hash)")
            }
            let position = try Self.quantity64(entry["transactionIndex"], what: "\(label): transactionIndex")
            guard position == UInt64(index) else { throw invalid("\(label): transactionIndex is \(position)") }
            let from = try Self.address(entry["from"], what: "\(label): from")
            let to: EthereumAddress?
            switch entry["to"] {
            case .some(.null): to = nil
            case let value: to = try Self.address(value, what: "\(label): to")
            }
            let value = try Self.quantity(entry["value"], what: "\(label): value")
            transactions.append(EthereumBlock.Transaction(hash: txHash, from: from, to: to, value: Wei(value)))
        }
        return EthereumBlock(number: number, hash: hash, parentHash: parent, transactions: transactions)
    }

    /// The ERC-20 transfers in `eth_getLogs`' result for ``EthereumRPCRequest/transferLogs(token:recipients:fromBlock:toBlock:)``,
    /// in chain order. Each log must be emitted by `token`, have exactly the three topics of `Transfer` (the event
    /// topic, then `from` and `to` as addresses left-padded with zeros), pay one of `recipients`, hold a 32-byte
    /// amount, lie within `fromBlock…toBlock`, and name its transaction, block hash and log index; no two logs may
    /// share a block and log index, nor one block number have two hashes. A log marked `removed: true` is refused:
    /// `eth_getLogs` reads the node's current chain, where no log is removed (only filters and subscriptions report
    /// removals), so such an answer contradicts itself. An absent `removed` is taken as `false`.
    public func tokenTransfers(
        _ result: JSONValue, token: EthereumAddress, recipients: Set<EthereumAddress>, fromBlock: UInt64,
        toBlock: UInt64
    ) throws(ChainError) -> [EthereumTokenTransfer] {
        guard let entries = result.arrayValue else {
            throw invalid("eth_getLogs: not an array but a \(result.typeName)")
        }
        var out: [EthereumTokenTransfer] = []
        var positions = Set<[UInt64]>()
        var hashes: [UInt64: EthereumBlockHash] = [:]
        out.reserveCapacity(entries.count)
        for (index, entry) in entries.enumerated() {
            let what = "eth_getLogs: log \(index)"
            guard entry.objectValue != nil else { throw invalid("\(what): not an object but a \(entry.typeName)") }
            switch entry["removed"] {
            case nil, .some(.bool(false)): break
            case .some(.bool(true)): throw invalid("\(what): marked removed (a re-organised chain's log)")
            case .some(let other): throw invalid("\(what): removed is a \(other.typeName)")
            }
            let emitter = try Self.address(entry["address"], what: "\(what): address")
            guard emitter == token else { throw invalid("\(what): emitted by \(emitter), not by the token \(token)") }
            guard let topics = entry["topics"]?.arrayValue else { throw invalid("\(what): topics missing") }
            guard topics.count == 3 else {
                throw invalid("\(what): \(topics.count) topics; an ERC-20 Transfer has 3 (an ERC-721 has 4)")
            }
            guard try Self.data(topics[0], count: 32, what: "\(what): topic 0") == Self.transferTopic else {
                throw invalid("\(what): topic 0 is not the Transfer event")
            }
            let from = try Self.addressTopic(topics[1], what: "\(what): topic 1")
            let to = try Self.addressTopic(topics[2], what: "\(what): topic 2")
            guard recipients.contains(to) else { throw invalid("\(what): pays \(to), which was not asked for") }
            let amount = try Self.data(entry["data"], count: 32, what: "\(what): data")
            let number = try Self.quantity64(entry["blockNumber"], what: "\(what): blockNumber")
            guard number >= fromBlock, number <= toBlock else {
                throw invalid("\(what): block \(number) is outside the range asked, \(fromBlock)…\(toBlock)")
            }
            let blockHash = try Self.blockHash(entry["blockHash"], what: "\(what): blockHash")
            if let known = hashes.updateValue(blockHash, forKey: number), known != blockHash {
                throw invalid("\(what): block \(number) has two hashes, \(known) and \(blockHash)")
            }
            let transactionHash = try Self.transactionHash(entry["transactionHash"], what: "\(what): transactionHash")
            let logIndex = try Self.quantity64(entry["logIndex"], what: "\(what): logIndex")
            guard positions.insert([number, logIndex]).inserted else {
                throw invalid("\(what): block \(number) log \(logIndex) is listed twice")
            }
            do {
                out.append(
                    EthereumTokenTransfer(
                        token: token, from: from, to: to, amount: try UInt256(bigEndian: amount),
                        transactionHash: transactionHash, logIndex: logIndex, blockNumber: number,
                        blockHash: blockHash))
            } catch {
                throw invalid("\(what): data: \(error.reason)")
            }
        }
        return out.sorted { ($0.blockNumber, $0.logIndex) < ($1.blockNumber, $1.logIndex) }
    }

    // MARK: - Helpers

    /// Strings up to a whole transaction's call data in hex (a block's transactions carry theirs as `input`).
    private var jsonLimits: JSONParser.Limits {
        JSONParser.Limits(
            maxBytes: maxResponseBytes, maxDepth: 8, maxStringBytes: 2 * SignedTransaction.maxSize + 2,
            maxArrayElements: maxArrayElements, maxObjectMembers: 64)
    }

    private static func string(_ value: JSONValue?, what: String) throws(ChainError) -> String {
        guard let value else { throw invalid("\(what): missing") }
        guard let text = value.stringValue else { throw invalid("\(what): a \(value.typeName), not a string") }
        return text
    }

    /// A quantity: `0x` and 1…64 lowercase hex digits, no leading zero.
    private static func quantity(_ value: JSONValue?, what: String) throws(ChainError) -> UInt256 {
        let text = try string(value, what: what)
        do { return try UInt256(hexQuantity: text) } catch {
            throw invalid("\(what): '\(EsploraCodec.sanitised(text, limit: 80))' is not a canonical quantity")
        }
    }

    private static func quantity64(_ value: JSONValue?, what: String) throws(ChainError) -> UInt64 {
        guard let number = try quantity(value, what: what).exactUInt64 else {
            throw invalid("\(what): above 2^64 - 1")
        }
        return number
    }

    private static func fee(_ value: JSONValue?, what: String) throws(ChainError) -> WeiPerGas {
        let fee = try quantity(value, what: what)
        guard fee <= maxFeePerGas else {
            throw invalid("\(what): \(fee) wei per gas is above the sane bound of \(maxFeePerGas) (10,000 gwei)")
        }
        return WeiPerGas(fee)
    }

    /// Data of exactly `count` bytes: `0x` and `2 × count` lowercase hex digits.
    private static func data(_ value: JSONValue?, count: Int, what: String) throws(ChainError) -> [UInt8] {
        let text = try string(value, what: what)
        let digits = text.utf8.dropFirst(2)
        guard text.utf8.count == 2 + 2 * count, text.hasPrefix("0x"),
            digits.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else {
            throw invalid(
                "\(what): '\(EsploraCodec.sanitised(text, limit: 80))' is not 0x and \(2 * count) lowercase hex digits")
        }
        do { return try Hex.decode(String(decoding: digits, as: UTF8.self), maxBytes: count) } catch {
            throw invalid("\(what): \(error.reason)")
        }
    }

    private static func transactionHash(_ value: JSONValue?, what: String) throws(ChainError) -> TransactionHash {
        let bytes = try data(value, count: 32, what: what)
        do { return try TransactionHash(bytes: bytes) } catch { throw invalid("\(what): \(error.reason)") }
    }

    private static func blockHash(_ value: JSONValue?, what: String) throws(ChainError) -> EthereumBlockHash {
        let bytes = try data(value, count: 32, what: what)
        do { return try EthereumBlockHash(bytes: bytes) } catch { throw invalid("\(what): \(error.reason)") }
    }

    /// An address: `0x` and 40 hex digits, lowercase, uppercase or with a correct EIP-55 checksum.
    private static func address(_ value: JSONValue?, what: String) throws(ChainError) -> EthereumAddress {
        let text = try string(value, what: what)
        do { return try EthereumAddress(parsing: text) } catch {
            throw invalid("\(what): \(error.reason)")
        }
    }

    /// An address as an indexed event parameter: 32 bytes whose first 12 are zero.
    private static func addressTopic(_ value: JSONValue?, what: String) throws(ChainError) -> EthereumAddress {
        let word = try data(value, count: 32, what: what)
        guard word.prefix(12).allSatisfy({ $0 == 0 }) else {
            throw invalid("\(what): not an address (dirty upper bytes)")
        }
        do { return try EthereumAddress(bytes: word.suffix(20)) } catch { throw invalid("\(what): \(error.reason)") }
    }
}

private func invalid(_ reason: String) -> ChainError {
    ChainError(.invalidResponse, EsploraCodec.sanitised(reason, limit: 2 * EthereumRPCCodec.maxReasonLength))
}
