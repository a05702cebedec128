import ChainAdapters
import CoordinatorCore
import Ethereum
import Governance
import Testing
import WalletCrypto

/// Answers and values a node could send, built from JSON text and read through the codec's own envelope.
struct RPCFixture {
    let codec = EthereumRPCCodec(maxResponseBytes: 1 << 16, maxArrayElements: 8)
    let alice = try! EthereumAddress(parsing: "0x" + String(repeating: "a1", count: 20))
    let bob = try! EthereumAddress(parsing: "0x" + String(repeating: "b2", count: 20))
    let token = try! EthereumAddress(parsing: "0xe8527f28834bb497c06bea4fb1ddd40389d8140b")

    /// `0x` and 64 copies of `digit`.
    func word(_ digit: Character) -> String { "0x" + String(repeating: digit, count: 64) }

    func hash(_ digit: Character) -> TransactionHash {
        try! TransactionHash(bytes: Hex.decode(String(word(digit).dropFirst(2))))
    }

    func blockHash(_ digit: Character) -> EthereumBlockHash {
        try! EthereumBlockHash(bytes: Hex.decode(String(word(digit).dropFirst(2))))
    }

    /// The result member of a well-formed answer holding `json` (throws what the envelope refuses).
    func result(_ json: String) throws(ChainError) -> JSONValue {
        switch try codec.answer(bytes(#"{"jsonrpc":"2.0","id":1,"result":\#(json)}"#), id: 1) {
        case .result(let value): return value
        case .error(let error): throw ChainError(.rejected, "unexpected error object \(error)")
        }
    }

    func topic(_ address: EthereumAddress) -> String { "0x" + Hex.encode(EthereumRPCCodec.topic(of: address)) }
}

@Suite("Ethereum JSON-RPC codec: requests and the envelope")
struct RPCEnvelopeTests {
    let f = RPCFixture()

    @Test func encodesRequestsCanonically() throws {
        let text = { (r: EthereumRPCRequest, id: Int) in String(decoding: f.codec.encode(r, id: id), as: UTF8.self) }
        #expect(text(.chainID, 7) == #"{"id":7,"jsonrpc":"2.0","method":"eth_chainId","params":[]}"#)
        #expect(
            text(.pendingTransactionCount(f.alice), 1)
                == #"{"id":1,"jsonrpc":"2.0","method":"eth_getTransactionCount","params":["0x\#(String(repeating: "a1", count: 20))","pending"]}"#
        )
        #expect(
            text(.fullBlock(number: 255), 2)
                == #"{"id":2,"jsonrpc":"2.0","method":"eth_getBlockByNumber","params":["0xff",true]}"#)
        #expect(
            text(.blockHeader(tag: "pending"), 3)
                == #"{"id":3,"jsonrpc":"2.0","method":"eth_getBlockByNumber","params":["pending",false]}"#)
        let plain = EthereumCall(from: f.alice, to: f.bob, value: Wei(UInt256(1_000)), data: [])
        #expect(
            text(.estimateGas(plain), 4).contains(
                #"[{"from":"\#(f.alice.lowercased)","to":"\#(f.bob.lowercased)","value":"0x3e8"},"pending"]"#))
        let call = EthereumCall(from: f.alice, to: f.token, value: .zero, data: [0xa9, 0x05, 0x9c, 0xbb])
        #expect(text(.estimateGas(call), 4).contains(#"{"data":"0xa9059cbb","from":"#))
        #expect(text(.estimateGas(call), 4).contains(#""value":"0x0"}"#))
        #expect(text(.sendRawTransaction([0x02, 0xc0]), 5).contains(#""params":["0x02c0"]"#))
        let logs = text(.transferLogs(token: f.token, recipients: [f.bob], fromBlock: 0, toBlock: 16), 6)
        #expect(
            logs.contains(
                #"{"address":"0xe8527f28834bb497c06bea4fb1ddd40389d8140b","fromBlock":"0x0","toBlock":"0x10","topics":["0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef",null,["\#(f.topic(f.bob))"]]}"#
            ))
    }

    @Test func theTransferTopicIsTheEIP20EventsHash() {
        // Keccak-256("Transfer(address,address,uint256)"), as every ERC-20 explorer shows it.
        #expect(
            Hex.encode(EthereumRPCCodec.transferTopic)
                == "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef")
        #expect(f.topic(f.bob) == "0x000000000000000000000000" + String(repeating: "b2", count: 20))
    }

    @Test func readsResultsAndErrorObjects() throws {
        #expect(try f.codec.answer(bytes(#"{"jsonrpc":"2.0","id":9,"result":"0x1"}"#), id: 9) == .result("0x1"))
        #expect(try f.codec.answer(bytes(#"{"id":9,"result":null,"jsonrpc":"2.0"}"#), id: 9) == .result(.null))
        let error = try f.codec.answer(
            bytes(#"{"jsonrpc":"2.0","id":9,"error":{"code":-32000,"message":"nonce too low","data":{"x":1}}}"#),
            id: 9)
        #expect(error == .error(EthereumRPCErrorObject(code: -32000, message: "nonce too low")))
    }

    @Test func refusesMalformedEnvelopesEachBesideAValidOne() throws {
        #expect(refusal { try f.codec.answer(bytes(#"{"jsonrpc":"2.0","id":1,"result":"0x1"}"#), id: 1) } == nil)
        let bad: [String] = [
            #"{"jsonrpc":"2.0","id":2,"result":"0x1"}"#,  // another id
            #"{"jsonrpc":"2.0","id":"1","result":"0x1"}"#,
            #"{"jsonrpc":"2.0","result":"0x1"}"#,
            #"{"jsonrpc":"1.0","id":1,"result":"0x1"}"#,
            #"{"id":1,"result":"0x1"}"#,
            #"{"jsonrpc":"2.0","id":1}"#,  // neither
            #"{"jsonrpc":"2.0","id":1,"result":"0x1","error":{"code":1,"message":"x"}}"#,  // both
            #"{"jsonrpc":"2.0","id":1,"error":{"message":"x"}}"#,
            #"{"jsonrpc":"2.0","id":1,"error":{"code":"-32000","message":"x"}}"#,
            #"{"jsonrpc":"2.0","id":1,"error":"boom"}"#,
            #"{"jsonrpc":"2.0","id":1,"result":"0x1","result":"0x2"}"#,  // duplicate member
            #"[{"jsonrpc":"2.0","id":1,"result":"0x1"}]"#,  // a batch
            #"{"jsonrpc":"2.0","id":1,"result":1.5}"#,
            #"{"jsonrpc":"2.0","id":1,"result":"0x1"} x"#,
            #"{"jsonrpc":"2.0","id":1,"result":"0x1""#,
            "", "<html>502 Bad Gateway</html>", "\u{feff}{}",
        ]
        for body in bad {
            #expect(refusal { try f.codec.answer(bytes(body), id: 1) }?.code == .invalidResponse, "\(body)")
        }
    }

    @Test func refusesAnOversizeAnswerBeforeParsingIt() throws {
        let body = bytes(#"{"jsonrpc":"2.0","id":1,"result":"0x1"}"#)
        let small = EthereumRPCCodec(maxResponseBytes: body.count - 1)
        let error = refusal { try small.answer(body, id: 1) }
        #expect(error?.code == .invalidResponse)
        #expect(error?.reason.contains("exceeds the limit") == true)
        #expect(refusal { try EthereumRPCCodec(maxResponseBytes: body.count).answer(body, id: 1) } == nil)
    }

    @Test func refusesMoreArrayElementsThanItsLimit() throws {
        let nine = "[" + Array(repeating: #""0x1""#, count: 9).joined(separator: ",") + "]"
        let eight = "[" + Array(repeating: #""0x1""#, count: 8).joined(separator: ",") + "]"
        #expect(refusal { try f.result(nine) }?.code == .invalidResponse)
        #expect(refusal { try f.result(eight) } == nil)
    }

    @Test func mapsErrorObjectsByCodeAndMethod() {
        let cases: [(Int, String, String, ChainError.Code)] = [
            (-32000, "nonce too low: address 0x…, tx: 0 state: 1", "eth_sendRawTransaction", .rejected),
            (-32000, "insufficient funds for gas * price + value", "eth_sendRawTransaction", .rejected),
            (-32000, "already known", "eth_sendRawTransaction", .rejected),
            (-32000, "max fee per gas less than block base fee", "eth_sendRawTransaction", .rejected),
            (-32003, "transaction rejected", "eth_sendRawTransaction", .rejected),
            (3, "execution reverted: ERC20: transfer amount exceeds balance", "eth_estimateGas", .rejected),
            (-32000, "gas required exceeds allowance (0)", "eth_estimateGas", .rejected),
            (-32005, "limit exceeded", "eth_sendRawTransaction", .unavailable),
            (-32603, "internal error", "eth_getBlockByNumber", .unavailable),
            (-32000, "header not found", "eth_getTransactionCount", .unavailable),
            (-32601, "the method eth_chainId does not exist/is not available", "eth_chainId", .invalidResponse),
            (-32602, "invalid argument 0: hex string without 0x prefix", "eth_estimateGas", .invalidResponse),
            (-32602, "invalid argument 0", "eth_sendRawTransaction", .invalidResponse),
            (3, "execution reverted", "eth_call", .invalidResponse),
            (12345, "something", "eth_getLogs", .invalidResponse),
        ]
        for (code, message, method, expected) in cases {
            let error = f.codec.failure(EthereumRPCErrorObject(code: code, message: message), method: method)
            #expect(error.code == expected, "\(code) \(message) \(method)")
            #expect(error.reason.contains(String(message.prefix(20))))
        }
    }

    @Test func sanitisesAndBoundsNodeMessages() {
        let object = EthereumRPCErrorObject(
            code: -32000, message: "bad\u{1b}[31m\n" + String(repeating: "x", count: 5000))
        #expect(object.message.hasPrefix("bad?[31m?x"))
        #expect(object.message.count == EthereumRPCCodec.maxReasonLength + 1)  // and the ellipsis
        let error = f.codec.failure(object, method: "eth_sendRawTransaction")
        #expect(error.code == .rejected && error.reason == object.message)
    }

    @Test func recognisesRefusalsThatMayMeanAlreadySent() {
        for message in [
            "already known", "known transaction: 0xab", "AlreadyKnown",
            "Transaction with the same hash was already imported.",
            "nonce too low: address 0x…, tx: 0 state: 1", "OldNonce",
        ] {
            #expect(EthereumRPCCodec.mayBeAlreadySent(message), "\(message)")
        }
        for message in [
            "insufficient funds for gas * price + value", "nonce too high", "replacement transaction underpriced",
        ] {
            #expect(!EthereumRPCCodec.mayBeAlreadySent(message), "\(message)")
        }
    }
}

@Suite("Ethereum JSON-RPC codec: quantities, fees, gas, hashes")
struct RPCScalarTests {
    let f = RPCFixture()

    @Test func readsCanonicalQuantitiesOnly() throws {
        #expect(try f.codec.chainID(try f.result(#""0x539""#)) == ChainID(1337))
        #expect(try f.codec.blockNumber(try f.result(#""0x0""#)) == 0)
        #expect(try f.codec.nonce(try f.result(#""0xffffffffffffffff""#)) == Nonce(.max))
        for text in [
            #""0x0539""#, #""0X539""#, #""0x""#, #""539""#, "1337", #""0x53 9""#, #""0xABC""#, #"" 0x1""#, "null",
            #""0x10000000000000000""#,  // above 64 bits
            #""0x-1""#, "true", "[]",
        ] {
            #expect(refusal { try f.codec.chainID(try f.result(text)) }?.code == .invalidResponse, "\(text)")
        }
    }

    @Test func boundsFeesAtTenThousandGwei() throws {
        #expect(try f.codec.priorityFee(try f.result(#""0x3b9aca00""#)) == WeiPerGas(1_000_000_000))
        #expect(try f.codec.priorityFee(try f.result(#""0x0""#)) == WeiPerGas.zero)
        let cap = EthereumRPCCodec.maxFeePerGas
        #expect(try f.codec.priorityFee(try f.result("\"\(cap.hexQuantity)\"")) == WeiPerGas(cap))
        let above = cap.checkedAdd(.one)!.hexQuantity
        #expect(refusal { try f.codec.priorityFee(try f.result("\"\(above)\"")) }?.code == .invalidResponse)
        #expect(
            try f.codec.pendingBaseFee(try f.result(#"{"baseFeePerGas":"0x7","number":"0x5","hash":null}"#))
                == WeiPerGas(7))
        #expect(try f.codec.pendingBaseFee(try f.result("null")) == nil)
        for body in [#"{"number":"0x5"}"#, #"{"baseFeePerGas":"0x07"}"#, #"{"baseFeePerGas":"\#(above)"}"#, #""0x7""#] {
            #expect(refusal { try f.codec.pendingBaseFee(try f.result(body)) }?.code == .invalidResponse, "\(body)")
        }
    }

    @Test func computesTheNextBaseFeeByEIP1559() throws {
        let gwei = UInt256(1_000_000_000)
        #expect(EthereumRPCCodec.nextBaseFee(parent: gwei, gasUsed: 15_000_000, gasLimit: 30_000_000) == gwei)
        #expect(
            EthereumRPCCodec.nextBaseFee(parent: gwei, gasUsed: 30_000_000, gasLimit: 30_000_000)
                == UInt256(1_125_000_000))
        #expect(EthereumRPCCodec.nextBaseFee(parent: gwei, gasUsed: 0, gasLimit: 30_000_000) == UInt256(875_000_000))
        // Above target the fee rises by at least 1 wei; below, the rounding may leave it unchanged.
        #expect(
            EthereumRPCCodec.nextBaseFee(parent: UInt256(7), gasUsed: 15_000_001, gasLimit: 30_000_000) == UInt256(8))
        #expect(EthereumRPCCodec.nextBaseFee(parent: UInt256(7), gasUsed: 0, gasLimit: 30_000_000) == UInt256(7))
        #expect(EthereumRPCCodec.nextBaseFee(parent: .max, gasUsed: 30_000_000, gasLimit: 30_000_000) == nil)

        let latest = #"{"baseFeePerGas":"0x3b9aca00","gasUsed":"0x0","gasLimit":"0x1c9c380"}"#
        #expect(try f.codec.nextBaseFee(latestBlock: try f.result(latest)) == WeiPerGas(875_000_000))
        for body in [
            #"{"baseFeePerGas":"0x3b9aca00","gasUsed":"0x1c9c381","gasLimit":"0x1c9c380"}"#,  // used above limit
            #"{"gasUsed":"0x0","gasLimit":"0x1c9c380"}"#,  // no EIP-1559
            #"{"baseFeePerGas":"0x9184e72a000","gasUsed":"0x1c9c380","gasLimit":"0x1c9c380"}"#,  // would exceed the cap
            "null",
        ] {
            #expect(refusal { try f.codec.nextBaseFee(latestBlock: try f.result(body)) }?.code == .invalidResponse)
        }
        // Positive control of the cap: at the cap with the gas on target.
        #expect(
            try f.codec.nextBaseFee(
                latestBlock: try f.result(#"{"baseFeePerGas":"0x9184e72a000","gasUsed":"0x0","gasLimit":"0x0"}"#))
                == WeiPerGas(EthereumRPCCodec.maxFeePerGas))
    }

    @Test func boundsGasEstimates() throws {
        #expect(try f.codec.gasEstimate(try f.result(#""0x5208""#)) == Gas(21_000))
        #expect(try f.codec.gasEstimate(try f.result(#""0x1000000""#)) == Gas(1 << 24))
        for text in [#""0x5207""#, #""0x1000001""#, #""0x0""#, #""0x05208""#] {
            #expect(refusal { try f.codec.gasEstimate(try f.result(text)) }?.code == .invalidResponse, "\(text)")
        }
    }

    @Test func checksTheBroadcastAnswerIsTheHashSent() throws {
        let sent = f.hash("a")
        #expect(try f.codec.broadcastAnswer(try f.result("\"\(f.word("a"))\""), expected: sent) == sent)
        let error = refusal { try f.codec.broadcastAnswer(try f.result("\"\(f.word("b"))\""), expected: sent) }
        #expect(error?.code == .invalidResponse)
        #expect(error?.reason.contains("but the transaction sent is \(sent)") == true)
        for text in ["\"\(f.word("A"))\"", "\"\(f.word("a").dropLast())\"", "\"\(f.word("a"))00\"", "null", #""ok""#] {
            #expect(
                refusal { try f.codec.broadcastAnswer(try f.result(text), expected: sent) }?.code == .invalidResponse)
        }
    }

    @Test func readsWhetherTheNodeKnowsATransaction() throws {
        #expect(try f.codec.transactionKnown(try f.result("null"), hash: f.hash("a")) == false)
        #expect(try f.codec.transactionKnown(try f.result(#"{"hash":"\#(f.word("a"))"}"#), hash: f.hash("a")))
        #expect(
            refusal { try f.codec.transactionKnown(try f.result(#"{"hash":"\#(f.word("b"))"}"#), hash: f.hash("a")) }?
                .code == .invalidResponse)
    }
}

@Suite("Ethereum JSON-RPC codec: receipts")
struct RPCReceiptTests {
    let f = RPCFixture()

    func receipt(
        hash: String? = nil, number: String = #""0x10""#, status: String = #""0x1""#, gas: String = #""0x5208""#
    )
        -> String
    {
        let hash = hash ?? "\"\(f.word("a"))\""
        return
            #"{"transactionHash":\#(hash),"blockNumber":\#(number),"blockHash":"\#(f.word("c"))","status":\#(status),"gasUsed":\#(gas),"logs":[],"type":"0x2"}"#
    }

    @Test func readsAReceiptAndCountsConfirmationsFromTheTip() throws {
        let claim = try #require(try f.codec.receipt(try f.result(receipt()), hash: f.hash("a")))
        #expect(claim.blockNumber == 16 && claim.succeeded && claim.gasUsed == Gas(21_000))
        #expect(claim.blockHash == f.blockHash("c"))
        #expect(
            try f.codec.receipt(claim, tip: 16)
                == EthereumReceipt(blockNumber: 16, succeeded: true, gasUsed: Gas(21_000), confirmations: 1))
        #expect(try f.codec.receipt(claim, tip: 20).confirmations == 5)
        let reverted = try #require(try f.codec.receipt(try f.result(receipt(status: #""0x0""#)), hash: f.hash("a")))
        #expect(!reverted.succeeded)
        #expect(try f.codec.receipt(try f.result("null"), hash: f.hash("a")) == nil)
    }

    @Test func refusesAReceiptForAnotherTransaction() throws {
        let error = refusal {
            try f.codec.receipt(try f.result(receipt(hash: "\"\(f.word("b"))\"")), hash: f.hash("a"))
        }
        #expect(error?.code == .invalidResponse)
        #expect(error?.reason.contains("got the receipt of \(f.hash("b"))") == true)
    }

    @Test func refusesABlockAboveTheTip() throws {
        let claim = try #require(try f.codec.receipt(try f.result(receipt()), hash: f.hash("a")))
        let error = refusal { try f.codec.receipt(claim, tip: 15) }
        #expect(error?.code == .invalidResponse)
        #expect(error?.reason.contains("above the tip at 15") == true)
    }

    @Test func refusesMalformedReceiptsEachBesideAValidOne() throws {
        #expect(refusal { try f.codec.receipt(try f.result(receipt()), hash: f.hash("a")) } == nil)
        let bad: [String] = [
            receipt(status: #""0x2""#), receipt(status: "null"), receipt(status: #""0x01""#),
            receipt(number: "null"),  // a pending receipt
            receipt(number: #""0x010""#), receipt(gas: #""0x5207""#), receipt(gas: "21000"),
            receipt(hash: "\"\(f.word("a").uppercased())\""),
            #"{"transactionHash":"\#(f.word("a"))","blockNumber":"0x10","blockHash":"\#(f.word("c"))","root":"\#(f.word("d"))","gasUsed":"0x5208"}"#,
            "[]", #""0x1""#,
        ]
        for body in bad {
            #expect(
                refusal { try f.codec.receipt(try f.result(body), hash: f.hash("a")) }?.code == .invalidResponse,
                "\(body)")
        }
    }
}

@Suite("Ethereum JSON-RPC codec: blocks")
struct RPCBlockTests {
    let f = RPCFixture()

    func transaction(
        _ digit: Character, index: Int, to: String? = nil, value: String = #""0xde0b6b3a7640000""#,
        blockNumber: String = #""0x7""#, blockHash: String? = nil, from: String? = nil
    ) -> String {
        let to = to ?? "\"\(f.bob.lowercased)\""
        let from = from ?? "\"\(f.alice.checksummed)\""
        let blockHash = blockHash ?? "\"\(f.word("c"))\""
        return
            #"{"hash":"\#(f.word(digit))","from":\#(from),"to":\#(to),"value":\#(value),"blockNumber":\#(blockNumber),"blockHash":\#(blockHash),"transactionIndex":"\#(UInt256(UInt64(index)).hexQuantity)","input":"0x","nonce":"0x0"}"#
    }

    func block(number: String = #""0x7""#, hash: String? = nil, transactions: [String]? = nil) -> String {
        let hash = hash ?? "\"\(f.word("c"))\""
        let list =
            transactions ?? [transaction("1", index: 0), transaction("2", index: 1, to: "null", value: #""0x0""#)]
        return
            #"{"number":\#(number),"hash":\#(hash),"parentHash":"\#(f.word("b"))","baseFeePerGas":"0x7","transactions":[\#(list.joined(separator: ","))]}"#
    }

    @Test func readsABlockWithItsTransactions() throws {
        let read = try #require(try f.codec.block(try f.result(block()), number: 7))
        #expect(read.number == 7 && read.hash == f.blockHash("c") && read.parentHash == f.blockHash("b"))
        #expect(
            read.transactions == [
                EthereumBlock.Transaction(
                    hash: f.hash("1"), from: f.alice, to: f.bob, value: Wei(try UInt256(decimal: "1000000000000000000"))
                ),
                EthereumBlock.Transaction(hash: f.hash("2"), from: f.alice, to: nil, value: .zero),
            ])
        #expect(try f.codec.block(try f.result("null"), number: 7) == nil)
        #expect(try f.codec.block(try f.result(block(hash: "null")), number: 7) == nil)  // pending: not mined yet
        #expect(try f.codec.block(try f.result(block(transactions: [])), number: 7)?.transactions == [])
    }

    @Test func refusesEveryTruncatedPrefixOfABlockAnswer() throws {
        let body = bytes(#"{"jsonrpc":"2.0","id":1,"result":\#(block())}"#)
        guard case .result(let whole) = try f.codec.answer(body, id: 1) else {
            throw ChainError(.rejected, "no result")
        }
        #expect(try f.codec.block(whole, number: 7) != nil)
        for length in 0..<body.count {
            #expect(refusal { try f.codec.answer(Array(body.prefix(length)), id: 1) }?.code == .invalidResponse)
        }
    }

    @Test func refusesMalformedBlocksEachBesideAValidOne() throws {
        #expect(refusal { try f.codec.block(try f.result(block()), number: 7) } == nil)
        let wrongChecksum = "\"" + f.alice.checksummed.replacingOccurrences(of: "A", with: "a", maxCount: 1) + "\""
        let bad: [(String, String)] = [
            (block(number: #""0x8""#), "got block 8"),
            (block(hash: #""0x12""#), "hash: '0x12' is not 0x and 64"),
            (block(transactions: ["\"\(f.word("1"))\""]), "hashes only"),
            (block(transactions: [transaction("1", index: 0), transaction("1", index: 1)]), "listed twice"),
            (block(transactions: [transaction("1", index: 0, blockNumber: #""0x8""#)]), "claims block 8"),
            (block(transactions: [transaction("1", index: 0, blockHash: "\"\(f.word("d"))\"")]), "claims block 7"),
            (block(transactions: [transaction("1", index: 1)]), "transactionIndex is 1"),
            (block(transactions: [transaction("1", index: 0, value: #""0x00""#)]), "not a canonical quantity"),
            (block(transactions: [transaction("1", index: 0, value: #""0x1""#, from: wrongChecksum)]), "checksum"),
            (block(transactions: [transaction("1", index: 0, to: #""0x1234""#)]), "to"),
            (#"{"number":"0x7","hash":"\#(f.word("c"))","parentHash":"\#(f.word("b"))"}"#, "transactions missing"),
        ]
        for (body, expected) in bad {
            let error = refusal { try f.codec.block(try f.result(body), number: 7) }
            #expect(error?.code == .invalidResponse, "\(body)")
            #expect(error?.reason.contains(expected) == true, "\(error?.reason ?? "") ∌ \(expected)")
        }
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: Character, with replacement: Character, maxCount: Int) -> String {
        var out = ""
        var left = maxCount
        for character in self {
            if character == target, left > 0 {
                out.append(replacement)
                left -= 1
            } else {
                out.append(character)
            }
        }
        return out
    }
}

@Suite("Ethereum JSON-RPC codec: token transfers")
struct RPCLogTests {
    let f = RPCFixture()

    func log(
        block: UInt64 = 5, index: UInt64 = 0, to: String? = nil, amount: String? = nil, address: String? = nil,
        topics: [String]? = nil, removed: String? = "false", blockHash: String? = nil
    ) -> String {
        let topics =
            topics ?? [
                "0x" + Hex.encode(EthereumRPCCodec.transferTopic), f.topic(f.alice), to ?? f.topic(f.bob),
            ]
        let amount = amount ?? "0x" + String(repeating: "0", count: 58) + "0f4240"  // 1,000,000
        let removedMember = removed.map { #","removed":\#($0)"# } ?? ""
        let blockHash = blockHash ?? f.word("c")
        return
            #"{"address":"\#(address ?? f.token.lowercased)","topics":[\#(topics.map { "\"\($0)\"" }.joined(separator: ","))],"data":"\#(amount)","blockNumber":"\#(UInt256(block).hexQuantity)","blockHash":"\#(blockHash)","transactionHash":"\#(f.word("a"))","transactionIndex":"0x0","logIndex":"\#(UInt256(index).hexQuantity)"\#(removedMember)}"#
    }

    func transfers(_ logs: [String], recipients: Set<EthereumAddress>? = nil, from: UInt64 = 1, to: UInt64 = 10)
        throws(ChainError) -> [EthereumTokenTransfer]
    {
        try f.codec.tokenTransfers(
            try f.result("[" + logs.joined(separator: ",") + "]"), token: f.token, recipients: recipients ?? [f.bob],
            fromBlock: from, toBlock: to)
    }

    @Test func readsTransfersInChainOrder() throws {
        let got = try transfers([
            log(block: 6, index: 0, blockHash: f.word("d")), log(block: 5, index: 3),
            log(block: 5, index: 1, removed: nil),
        ])
        #expect(got.map { [$0.blockNumber, $0.logIndex] } == [[5, 1], [5, 3], [6, 0]])
        #expect(got[0].token == f.token && got[0].from == f.alice && got[0].to == f.bob)
        #expect(got[0].amount == UInt256(1_000_000) && got[0].transactionHash == f.hash("a"))
        #expect(got[0].blockHash == f.blockHash("c") && got[2].blockHash == f.blockHash("d"))
        #expect(try transfers([]).isEmpty)
        let big = "0x" + String(repeating: "f", count: 64)
        #expect(try transfers([log(amount: big)])[0].amount == .max)
    }

    @Test func refusesARemovedLog() throws {
        let error = refusal { try transfers([log(removed: "true")]) }
        #expect(error?.code == .invalidResponse)
        #expect(error?.reason.contains("marked removed") == true)
        #expect(refusal { try transfers([log(removed: "false")]) } == nil)
        #expect(refusal { try transfers([log(removed: #""false""#)]) }?.code == .invalidResponse)
    }

    @Test func refusesMalformedOrUnaskedLogsEachBesideAValidOne() throws {
        #expect(refusal { try transfers([log()]) } == nil)
        let transfer = "0x" + Hex.encode(EthereumRPCCodec.transferTopic)
        let dirty = "0x" + String(repeating: "0", count: 22) + "01" + String(repeating: "b2", count: 20)
        let cases: [([String], String)] = [
            ([log(address: f.alice.lowercased)], "not by the token"),
            ([log(topics: [transfer, f.topic(f.alice), f.topic(f.bob), f.word("0")])], "an ERC-721 has 4"),
            ([log(topics: [transfer, f.topic(f.alice)])], "2 topics"),
            ([log(topics: [f.word("e"), f.topic(f.alice), f.topic(f.bob)])], "not the Transfer event"),
            ([log(to: dirty)], "dirty upper bytes"),
            ([log(to: f.topic(f.alice))], "which was not asked for"),
            ([log(amount: "0x" + String(repeating: "0", count: 62))], "data"),
            ([log(amount: "0x")], "data"),
            ([log(block: 11)], "outside the range asked"),
            ([log(block: 0)], "outside the range asked"),
            ([log(index: 1), log(index: 1)], "listed twice"),
            ([log(index: 1), log(index: 2, blockHash: f.word("d"))], "two hashes"),
        ]
        for (logs, expected) in cases {
            let error = refusal { try transfers(logs) }
            #expect(error?.code == .invalidResponse, "\(logs)")
            #expect(error?.reason.contains(expected) == true, "\(error?.reason ?? "") ∌ \(expected)")
        }
        // The same recipient is fine once asked for; both ends of the range are included.
        #expect(try transfers([log(to: f.topic(f.alice))], recipients: [f.alice, f.bob]).count == 1)
        #expect(try transfers([log(block: 1), log(block: 10)]).count == 2)
        #expect(
            refusal {
                try f.codec.tokenTransfers(
                    try f.result("{}"), token: f.token, recipients: [f.bob], fromBlock: 0, toBlock: 1)
            }?.code == .invalidResponse)
    }
}

@Suite("Ethereum JSON-RPC adapter: URL and secrets")
struct RPCSecretsTests {
    @Test func keepsCredentialsAndThePathOutOfEveryPrintedForm() throws {
        let chain = try EthereumJSONRPCChain(url: "https://alice:s3cret@mainnet.example/v3/0123456789abcdef")
        #expect(chain.redactedURL == "https://mainnet.example")
        let error = refusal { try EthereumJSONRPCChain(url: "https://alice:s3cret/v3/key") }
        #expect(error?.code == .unavailable)
        #expect(error?.reason.contains("s3cret") == false && error?.reason.hasPrefix("invalid JSON-RPC URL") == true)
        #expect(refusal { try EthereumJSONRPCChain(url: "ftp://host") }?.code == .unavailable)
    }

    @Test func keepsTheAPIKeyOutOfEveryPrintedForm() throws {
        let key = try EthereumRPCAuthorization.bearer("tok3n")
        #expect("\(key)" == "<redacted>" && !String(reflecting: key).contains("tok3n"))
        #expect(refusal { try EthereumRPCAuthorization.header(name: "X-API-Key", value: "k") } == nil)
        for (name, value) in [
            ("X API", "s3cr3t"), ("", "s3cr3t"), ("X-Key", ""), ("X-Key", "s3cr3t\n"), ("Kéy", "s3cr3t"),
        ] {
            let error = refusal { try EthereumRPCAuthorization.header(name: name, value: value) }
            #expect(error?.code == .unavailable, "\(name)")
            #expect(error?.reason.contains("s3cr3t") == false)
        }
        // Userinfo and a bearer token would both be the Authorization header.
        #expect(refusal { try EthereumJSONRPCChain(url: "http://a:b@host", authorization: key) }?.code == .unavailable)
        let apiKey = try EthereumRPCAuthorization.header(name: "X-API-Key", value: "k")
        #expect(refusal { try EthereumJSONRPCChain(url: "http://a:b@host", authorization: apiKey) } == nil)
    }
}

@Suite("Ethereum JSON-RPC codec: balances")
struct RPCBalanceTests {
    let f = RPCFixture()

    @Test func encodesBalanceRequests() {
        let text = { (r: EthereumRPCRequest) in String(decoding: f.codec.encode(r, id: 9), as: UTF8.self) }
        #expect(
            text(.balance(f.alice))
                == #"{"id":9,"jsonrpc":"2.0","method":"eth_getBalance","params":["\#(f.alice.lowercased)","latest"]}"#)
        // balanceOf(address): selector 0x70a08231 (keccak-256 of the signature), the owner left-padded to a word.
        #expect(
            text(.tokenBalance(token: f.token, owner: f.bob))
                == #"{"id":9,"jsonrpc":"2.0","method":"eth_call","params":[{"data":"0x70a08231000000000000000000000000\#(String(repeating: "b2", count: 20))","to":"0xe8527f28834bb497c06bea4fb1ddd40389d8140b"},"latest"]}"#
        )
    }

    @Test func readsBalancesAndRefusesWhatIsNotOne() throws {
        #expect(try f.codec.balance(f.result(#""0xde0b6b3a7640000""#)) == Wei(UInt256(1_000_000_000_000_000_000)))
        #expect(try f.codec.balance(f.result(#""0x0""#)) == Wei.zero)
        for bad in [#""0x""#, #""0x01""#, #""12""#, "12", "null", #""0xZZ""#] {
            #expect(throws: ChainError.self, "\(bad)") { try f.codec.balance(f.result(bad)) }
        }
        let word = "0x" + String(repeating: "0", count: 58) + "0f4241"
        #expect(try f.codec.tokenBalance(f.result("\"\(word)\"")) == UInt256(1_000_001))
        // A contract answering anything but one 32-byte word is not the token the policy names.
        for bad in [
            #""0x""#, #""0x0f4241""#, "\"\(word)00\"", "\"\(word.dropLast())\"", "1000001",
            #""0x\#(String(repeating: "g", count: 64))""#,
        ] {
            #expect(throws: ChainError.self, "\(bad)") { try f.codec.tokenBalance(f.result(bad)) }
        }
    }
}
