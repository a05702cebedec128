import Bitcoin
import ChainAdapters
import CoordinatorCore
import Testing
import WalletCrypto

/// A previous transaction and the claims a chain source could make about it.
struct Fixture {
    let script = Script.witness(version: 0, program: Array(repeating: 0x11, count: 20))
    let other = Script.witness(version: 0, program: Array(repeating: 0x22, count: 20))
    let unasked = Script.witness(version: 1, program: Array(repeating: 0x33, count: 32))
    let transaction: Transaction
    let codec = EsploraCodec(maxResponseBytes: 1 << 16, maxUnspentOutputs: 3)

    init() throws {
        let funding = OutPoint(txid: try Txid(bytes: Array(repeating: 0xab, count: 32)), vout: 7)
        transaction = Transaction(
            inputs: [TxIn(previousOutput: funding, witness: [[0x01, 0x02]])],
            outputs: [
                TxOut(value: try Amount(sats: 50_000), scriptPubKey: script),
                TxOut(value: try Amount(sats: 20_000), scriptPubKey: other),
                TxOut(value: try Amount(sats: 10_000), scriptPubKey: unasked),
            ])
    }

    var txid: Txid { transaction.computeTxid() }
    var hex: [UInt8] { Array(Hex.encode(transaction.serialized).utf8) }
    var asked: Set<Script> { [script, other] }

    func claim(vout: UInt32 = 0, sats: Int64 = 50_000, height: UInt32? = 120, txid: Txid? = nil) throws
        -> EsploraUnverifiedOutput
    {
        EsploraUnverifiedOutput(
            outPoint: OutPoint(txid: txid ?? self.txid, vout: vout), value: try Amount(sats: sats), blockHeight: height)
    }

    func check(_ claim: EsploraUnverifiedOutput, script: Script? = nil, hex: [UInt8]? = nil, tip: UInt32 = 125)
        throws(ChainError) -> BitcoinUnspentOutput
    {
        try codec.unspentOutput(
            claim, script: script ?? self.script, asked: asked, previousTransactionHex: hex ?? self.hex, tipHeight: tip)
    }
}

/// The code and reason of a ChainError thrown by `body`, or nil when it succeeds.
func refusal<T>(_ body: () throws -> T) -> ChainError? {
    do {
        _ = try body()
        return nil
    } catch let error as ChainError {
        return error
    } catch {
        Issue.record("not a ChainError: \(error)")
        return nil
    }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite("Esplora codec: previous transactions")
struct PreviousTransactionTests {
    let f: Fixture
    init() throws { f = try Fixture() }

    @Test func acceptsAPreviousTransactionThatMatchesItsClaim() throws {
        let output = try f.check(try f.claim())
        #expect(output.outPoint == OutPoint(txid: f.txid, vout: 0))
        #expect(output.value.sats == 50_000)
        #expect(output.scriptPubKey == f.script)
        #expect(output.confirmations == 6)  // blocks 120…125
        #expect(output.previousTransaction == f.transaction.serialized)  // witness kept, as reported
        let second = try f.check(try f.claim(vout: 1, sats: 20_000, height: nil), script: f.other)
        #expect(second.confirmations == 0)  // in the mempool
    }

    @Test func refusesAPreviousTransactionThatHashesToAnotherTxid() throws {
        let claim = try f.claim(txid: try Txid(bytes: Array(repeating: 0xcd, count: 32)))
        let error = refusal { try f.check(claim) }
        #expect(error?.code == .invalidResponse)
        #expect(error?.reason.contains("hashes to \(f.txid)") == true)
        #expect(refusal { try f.check(try f.claim()) } == nil)  // positive control
    }

    @Test func refusesAWrongValue() throws {
        let error = refusal { try f.check(try f.claim(sats: 50_001)) }
        #expect(error?.code == .invalidResponse)
        #expect(error?.reason.contains("not the reported 50001 sat") == true)
        #expect(refusal { try f.check(try f.claim(sats: 50_000)) } == nil)
    }

    @Test func refusesAnOutputThatPaysAnotherAskedScriptThanItsListing() throws {
        // Output 1 pays `other`, but it was listed under `script`.
        let error = refusal { try f.check(try f.claim(vout: 1, sats: 20_000)) }
        #expect(error?.code == .invalidResponse)
        #expect(error?.reason.contains("not the script it was listed for") == true)
        #expect(refusal { try f.check(try f.claim(vout: 1, sats: 20_000), script: f.other) } == nil)
    }

    @Test func refusesAnOutputPayingAScriptThatWasNotAskedFor() throws {
        let error = refusal { try f.check(try f.claim(vout: 2, sats: 10_000)) }
        #expect(error?.code == .invalidResponse)
        #expect(error?.reason.contains("which was not asked for") == true)
        #expect(refusal { try f.check(try f.claim(vout: 0)) } == nil)
    }

    @Test func refusesAVoutBeyondTheOutputs() throws {
        let error = refusal { try f.check(try f.claim(vout: 3)) }
        #expect(error?.code == .invalidResponse)
        #expect(error?.reason.contains("has only 3 outputs") == true)
    }

    @Test func refusesATransactionThatDoesNotDecodeOrIsNotHex() throws {
        var truncated = f.hex
        truncated.removeLast(2)
        #expect(refusal { try f.check(try f.claim(), hex: truncated) }?.code == .invalidResponse)
        #expect(refusal { try f.check(try f.claim(), hex: f.hex + bytes("00")) }?.code == .invalidResponse)
        #expect(refusal { try f.check(try f.claim(), hex: f.hex + bytes("\n")) }?.code == .invalidResponse)
        #expect(refusal { try f.check(try f.claim(), hex: bytes("zz")) }?.code == .invalidResponse)
        #expect(
            refusal { try f.check(try f.claim(), hex: bytes(Hex.encode(f.transaction.serialized).uppercased())) } == nil
        )
    }

    @Test func refusesEveryTruncatedPrefixOfThePreviousTransaction() throws {
        for length in stride(from: 0, to: f.hex.count, by: 2) {
            #expect(refusal { try f.check(try f.claim(), hex: Array(f.hex.prefix(length))) }?.code == .invalidResponse)
        }
    }

    @Test func refusesABlockAboveTheTip() throws {
        let error = refusal { try f.check(try f.claim(height: 126), tip: 125) }
        #expect(error?.code == .invalidResponse)
        #expect(try f.check(try f.claim(height: 125), tip: 125).confirmations == 1)
    }

    @Test func refusesAnOversizeAnswerBeforeDecodingIt() throws {
        let small = EsploraCodec(maxResponseBytes: f.hex.count - 1)
        let error = refusal {
            try small.unspentOutput(
                try f.claim(), script: f.script, asked: f.asked, previousTransactionHex: f.hex, tipHeight: 125)
        }
        #expect(error?.code == .invalidResponse)
        #expect(error?.reason.contains("exceeds the limit") == true)
        let exact = EsploraCodec(maxResponseBytes: f.hex.count)
        #expect(
            refusal {
                try exact.unspentOutput(
                    try f.claim(), script: f.script, asked: f.asked, previousTransactionHex: f.hex, tipHeight: 125)
            } == nil)
    }
}

@Suite("Esplora codec: UTXO listings")
struct UTXOListingTests {
    let f: Fixture
    init() throws { f = try Fixture() }

    func entry(_ txid: String, vout: Int = 0, value: String = "50000", status: String? = nil) -> String {
        let status = status ?? #"{"confirmed":true,"block_height":120,"block_hash":"00","block_time":1}"#
        return #"{"txid":"\#(txid)","vout":\#(vout),"status":\#(status),"value":\#(value)}"#
    }

    @Test func decodesEsplorasShape() throws {
        let txid = f.txid.description
        let body = "[\(entry(txid)),\(entry(txid, vout: 1, status: #"{"confirmed":false}"#))]"
        let listed = try f.codec.unspentOutputs(bytes(body))
        #expect(listed == [try f.claim(), try f.claim(vout: 1, height: nil)])
        #expect(try f.codec.unspentOutputs(bytes("[]")).isEmpty)
    }

    @Test func refusesMalformedEntriesEachBesideAValidOne() throws {
        let txid = f.txid.description
        #expect(refusal { try f.codec.unspentOutputs(bytes("[\(entry(txid))]")) } == nil)
        let bad: [String] = [
            "[\(entry(txid.uppercased()))]",  // not Esplora's lowercase form
            "[\(entry(String(txid.dropLast())))]",
            "[\(entry(txid, vout: -1))]",
            "[\(entry(txid, vout: 4_294_967_296))]",
            "[\(entry(txid, value: "-1"))]",
            "[\(entry(txid, value: "1.5"))]",
            "[\(entry(txid, value: "\"50000\""))]",
            "[\(entry(txid, value: "2100000000000001"))]",  // above 21 million BTC
            "[\(entry(txid, status: #"{"confirmed":true}"#))]",  // no block height
            "[\(entry(txid, status: #"{"confirmed":"yes"}"#))]",
            "[\(entry(txid)),\(entry(txid))]",  // the same outpoint twice
            #"[{"txid":"\#(txid)","txid":"\#(txid)","vout":0,"value":1,"status":{"confirmed":false}}]"#,
            #"{"txid":"\#(txid)"}"#,
            "[\(entry(txid))",
            "[\(entry(txid))] x",
            "",
            "<html>502 Bad Gateway</html>",
            "[NaN]",
        ]
        for body in bad {
            #expect(refusal { try f.codec.unspentOutputs(bytes(body)) }?.code == .invalidResponse, "\(body)")
        }
    }

    @Test func refusesMoreOutputsThanItsLimit() throws {
        let entries = (0..<4).map { entry(f.txid.description, vout: $0) }
        let four = "[\(entries.joined(separator: ","))]"
        let three = "[\(entries.prefix(3).joined(separator: ","))]"
        let error = refusal { try f.codec.unspentOutputs(bytes(four)) }
        #expect(error?.code == .invalidResponse)
        #expect(error?.reason.contains("more than 3") == true)
        #expect(try f.codec.unspentOutputs(bytes(three)).count == 3)
        #expect(refusal { try f.codec.unspentOutputs(bytes(three), limit: 2) }?.code == .invalidResponse)
    }

    @Test func refusesAnOversizeListing() throws {
        let body = bytes("[" + String(repeating: " ", count: 1 << 16) + "]")
        let error = refusal { try f.codec.unspentOutputs(body) }
        #expect(error?.code == .invalidResponse)
        #expect(error?.reason.contains("exceeds the limit of 65536") == true)
        #expect(try f.codec.unspentOutputs(Array(body.prefix(1 << 15)) + bytes("]")).isEmpty)
    }

    @Test func scriptHashIsTheSHA256InHashOrderNotElectrumsReversedOne() {
        // SHA-256 of the empty script, a published constant; Esplora's HTTP API takes it as is (the Electrum
        // protocol would reverse it).
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        #expect(EsploraCodec.scriptHash(Script([])) == empty)
        let script = Script([0x00, 0x14] + Array(repeating: 0x11, count: 20))
        #expect(EsploraCodec.scriptHash(script) == Hex.encode(Hash.sha256(script.bytes)))
        #expect(EsploraCodec.scriptHash(script) != Hex.encode(Hash.sha256(script.bytes).reversed()))
    }
}

@Suite("Esplora codec: fees, heights, statuses, broadcasts")
struct ScalarAnswerTests {
    let f: Fixture
    init() throws { f = try Fixture() }

    @Test func readsFeeEstimatesRoundedUpToWholeSatPerKvB() throws {
        let body = bytes(#"{"1": 20.5, "2": 12, "6": 2.3, "144": 1.001, "1008": 1}"#)
        #expect(try f.codec.feeRate(body, confirmationTarget: 1) == FeeRate(satsPerKvB: 20_500))
        #expect(try f.codec.feeRate(body, confirmationTarget: 6) == FeeRate(satsPerKvB: 2_300))
        #expect(try f.codec.feeRate(body, confirmationTarget: 5) == FeeRate(satsPerKvB: 12_000))  // nearest lower
        #expect(try f.codec.feeRate(body, confirmationTarget: 144) == FeeRate(satsPerKvB: 1_001))
        #expect(try f.codec.feeRate(body, confirmationTarget: 5000) == FeeRate(satsPerKvB: 1_000))
        #expect(try f.codec.feeRate(bytes(#"{"1": 0.0004}"#), confirmationTarget: 1) == FeeRate(satsPerKvB: 1))
        #expect(try f.codec.feeRate(bytes(#"{"1": 10000}"#), confirmationTarget: 1) == FeeRate(satsPerKvB: 10_000_000))
    }

    @Test func refusesBadFeeEstimatesEachBesideAValidOne() throws {
        #expect(refusal { try f.codec.feeRate(bytes(#"{"1": 5}"#), confirmationTarget: 1) } == nil)
        let bad: [String] = [
            #"{"1": 0}"#, #"{"1": -3}"#, #"{"1": 10000.001}"#, #"{"1": 1e308}"#, #"{"1": NaN}"#, #"{"1": "5"}"#,
            #"{"1": null}"#, #"{"1": 5, "2": 0}"#,  // every estimate is checked, not only the one used
            #"{"x": 5}"#, #"{"01": 5}"#, #"{"0": 5}"#, #"{"-1": 5}"#, #"{"1": 5, "1": 6}"#, #"[5]"#, #"{}"#,
            #"{"1": 5"#, "",
        ]
        for body in bad {
            #expect(
                refusal { try f.codec.feeRate(bytes(body), confirmationTarget: 1) }?.code == .invalidResponse, "\(body)"
            )
        }
    }

    @Test func refusesAMissingTarget() throws {
        let body = bytes(#"{"2": 5, "6": 3}"#)
        let error = refusal { try f.codec.feeRate(body, confirmationTarget: 1) }
        #expect(error?.code == .invalidResponse)
        #expect(error?.reason.contains("no estimate for 1 blocks or fewer") == true)
        #expect(try f.codec.feeRate(body, confirmationTarget: 2) == FeeRate(satsPerKvB: 5_000))
    }

    @Test func readsTheTipHeightStrictly() throws {
        #expect(try f.codec.tipHeight(bytes("101")) == 101)
        #expect(try f.codec.tipHeight(bytes("0")) == 0)
        #expect(try f.codec.tipHeight(bytes("4294967295")) == UInt32.max)
        for body in ["", "-1", "+1", "01", "1.0", "1 ", " 1", "1\n", "4294967296", "12345678901", "0x10", "abc"] {
            #expect(refusal { try f.codec.tipHeight(bytes(body)) }?.code == .invalidResponse, "\(body)")
        }
    }

    @Test func countsConfirmationsFromTheTip() throws {
        let confirmed = bytes(#"{"confirmed":true,"block_height":120,"block_hash":"ab","block_time":5}"#)
        let height = try f.codec.confirmationHeight(confirmed)
        #expect(height == 120)
        #expect(
            try f.codec.transactionStatus(blockHeight: height, tipHeight: 122)
                == .confirmed(blockHeight: 120, confirmations: 3))
        #expect(try f.codec.confirmationHeight(bytes(#"{"confirmed":false}"#)) == nil)
        #expect(try f.codec.transactionStatus(blockHeight: nil, tipHeight: 122) == .unconfirmed)
        #expect(refusal { try f.codec.transactionStatus(blockHeight: 123, tipHeight: 122) }?.code == .invalidResponse)
        for body in [
            #"{"confirmed":true}"#, #"{"confirmed":1}"#, #"{}"#, "[]", "garbage",
            #"{"confirmed":true,"block_height":-1}"#,
        ] {
            #expect(refusal { try f.codec.confirmationHeight(bytes(body)) }?.code == .invalidResponse, "\(body)")
        }
    }

    @Test func checksTheBroadcastAnswerIsTheTxidSent() throws {
        #expect(try f.codec.broadcastAnswer(bytes(f.txid.description), expected: f.txid) == f.txid)
        let other = try Txid(bytes: Array(repeating: 0xcd, count: 32))
        #expect(
            refusal { try f.codec.broadcastAnswer(bytes(other.description), expected: f.txid) }?.code
                == .invalidResponse)
        #expect(refusal { try f.codec.broadcastAnswer(bytes("ok"), expected: f.txid) }?.code == .invalidResponse)
        #expect(
            refusal { try f.codec.broadcastAnswer(bytes(f.txid.description + "\n"), expected: f.txid) }?.code
                == .invalidResponse)
    }

    @Test func sanitisesAndBoundsMessages() {
        let message = EsploraCodec.message(
            bytes("  sendrawtransaction RPC error: bad\u{1b}[31m\n" + String(repeating: "x", count: 5000)))
        #expect(message.hasPrefix("sendrawtransaction RPC error: bad?[31m?"))
        #expect(message.count == EsploraCodec.maxReasonLength + 1)  // and the ellipsis
        #expect(EsploraCodec.message([]) == "(no message)")
        #expect(EsploraCodec.message(bytes("bad-txns-inputs-missingorspent")) == "bad-txns-inputs-missingorspent")
    }
}

@Suite("Esplora base URL")
struct BaseURLTests {
    @Test func acceptsHTTPAndHTTPSWithPortsAndPrefixes() throws {
        #expect(try EsploraBaseURL("http://127.0.0.1:3002").url("/tx") == "http://127.0.0.1:3002/tx")
        #expect(try EsploraBaseURL("HTTPS://blockstream.info/api/").url("/tx") == "https://blockstream.info/api/tx")
        #expect(try EsploraBaseURL("http://[::1]:8080").url("/x") == "http://[::1]:8080/x")
    }

    @Test func keepsCredentialsOutOfEveryPrintedForm() throws {
        let url = try EsploraBaseURL("https://alice:s3cr%40t@esplora.example:443/api")
        #expect(url.redacted == "https://esplora.example:443/api")
        #expect(!"\(url)".contains("s3cr"))
        let chain = try EsploraBitcoinChain(baseURL: "https://alice:s3cret@esplora.example/api")
        #expect(!"\(chain.baseURL)".contains("s3cret"))
        let error = refusal { try EsploraBaseURL("https://alice:s3cret@") }
        #expect(error?.code == .unavailable)
        #expect(error?.reason.contains("s3cret") == false)
        // A URL missing its '@': the password sits where the host should be, and is not echoed either.
        let typo = refusal { try EsploraBaseURL("https://alice:s3cret/api") }
        #expect(typo?.code == .unavailable)
        #expect(typo?.reason.contains("s3cret") == false)
    }

    @Test func refusesWhatIsNotAnHTTPBaseURL() throws {
        for text in [
            "ftp://host", "host:3002", "http://", "http:///x", "http://host:0", "http://host:65536", "http://host:x",
            "http://ho st", "http://host/?q=1", "http://host/#f", "file:///etc/passwd", "http://hóst",
            "http://[::1", "http://alice:%zz@host",
        ] {
            #expect(refusal { try EsploraBaseURL(text) }?.code == .unavailable, "\(text)")
        }
        #expect(refusal { try EsploraBaseURL("http://host:65535") } == nil)
    }
}
