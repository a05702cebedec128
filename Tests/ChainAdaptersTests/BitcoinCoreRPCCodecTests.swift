import Bitcoin
import ChainAdapters
import CoordinatorCore
import Governance
import Testing
import WalletCrypto

@Suite("Bitcoin Core JSON-RPC codec")
struct BitcoinCoreRPCCodecTests {
    let codec = BitcoinCoreRPCCodec(maxResponseBytes: 1 << 16, maxUnspentOutputs: 2)
    let script = Script.witness(version: 0, program: Array(repeating: 0x11, count: 20))
    let txid = String(repeating: "ab", count: 32)

    func json(_ text: String) throws -> JSONValue {
        try JSONParser.parse(Array(text.utf8), numbers: .any)
    }

    @Test("requests are JSON-RPC 2.0 calls with their id, method and positional parameters")
    func requests() throws {
        let body = BitcoinCoreRPCCodec.request(id: 7, method: "getblockhash", params: [.number(5)])
        #expect(
            try json(String(decoding: body, as: UTF8.self))
                == json(#"{"jsonrpc":"2.0","id":7,"method":"getblockhash","params":[5]}"#))
        // raw() descriptors carry their BIP-0380 checksum, which the descriptor checksum code accepts.
        let descriptor = BitcoinCoreRPCCodec.rawDescriptor(script)
        #expect(descriptor.hasPrefix("raw(0014\(String(repeating: "11", count: 20)))#"))
        #expect(
            try DescriptorChecksum.verify(descriptor, required: true)
                == "raw(0014\(String(repeating: "11", count: 20)))")
    }

    @Test("an answer is the call's: a result or an error, nothing else")
    func answers() throws {
        #expect(try codec.answer(Array(#"{"result":5,"error":null,"id":3}"#.utf8), id: 3) == .result(.number(5)))
        #expect(try codec.answer(Array(#"{"jsonrpc":"2.0","result":null,"id":3}"#.utf8), id: 3) == .result(.null))
        #expect(
            try codec.answer(Array(#"{"result":null,"error":{"code":-5,"message":"No such tx"},"id":3}"#.utf8), id: 3)
                == .error(code: -5, message: "No such tx"))
        for bad in [
            #"{"result":5,"error":null,"id":4}"#, #"{"error":null,"id":3}"#, #"[1]"#, #"{"result":5,"id":3,"id":3}"#,
            #"{"result":null,"error":{"code":"x"},"id":3}"#, "not json",
        ] {
            #expect(refusal { try codec.answer(Array(bad.utf8), id: 3) }?.code == .invalidResponse, "\(bad)")
        }
        let big = Array(repeating: UInt8(0x20), count: (1 << 16) + 1)
        #expect(refusal { try codec.answer(big, id: 3) }?.reason.contains("exceeds the limit") == true)
    }

    @Test("a scan lists confirmed outputs of the scripts asked for, once each, within its tip and limit")
    func scans() throws {
        func unspent(_ vout: Int, amount: String = "0.0005", height: Int = 100, script: String? = nil) -> String {
            let hex = script ?? Hex.encode(self.script.bytes)
            return
                #"{"txid":"\#(txid)","vout":\#(vout),"scriptPubKey":"\#(hex)","amount":\#(amount),"height":\#(height)}"#
        }
        func scan(_ unspents: [String], height: Int = 104) throws -> BitcoinCoreScan {
            let text = #"{"success":true,"height":\#(height),"unspents":[\#(unspents.joined(separator: ","))]}"#
            return try codec.scan(try json(text), asked: [script])
        }
        let good = try scan([unspent(0), unspent(1, amount: "20999999.99999999")])
        #expect(good.height == 104)
        #expect(good.outputs.map(\.claim.value.sats) == [50_000, 2_099_999_999_999_999])
        #expect(good.outputs.map(\.claim.blockHeight) == [100, 100])
        #expect(refusal { try scan([unspent(0), unspent(0)]) }?.reason.contains("listed twice") == true)
        #expect(refusal { try scan([unspent(0), unspent(1), unspent(2)]) }?.reason.contains("limit") == true)
        #expect(refusal { try scan([unspent(0, height: 105)]) }?.reason.contains("above the scan's tip") == true)
        #expect(refusal { try scan([unspent(0, script: "51")]) }?.reason.contains("not asked for") == true)
        #expect(refusal { try scan([unspent(0, amount: "0.000000001")]) }?.reason.contains("eight decimals") == true)
        #expect(refusal { try scan([unspent(0, amount: "21000000.00000001")]) }?.code == .invalidResponse)
        #expect(refusal { try scan([unspent(0, amount: "-1")]) }?.code == .invalidResponse)
        #expect(
            refusal { try codec.scan(try json(#"{"success":false,"height":1,"unspents":[]}"#), asked: [script]) } != nil
        )
    }

    @Test("fee rates in BTC/kvB become sat/kvB within 1 to 10,000 sat/vB; no estimate is unavailable")
    func feeRates() throws {
        #expect(try codec.feeRate(try json(#"{"feerate":0.000255,"blocks":2}"#)).satsPerKvB == 25_500)
        #expect(try codec.feeRate(try json(#"{"feerate":0.00001,"blocks":6}"#)).satsPerKvB == 1_000)
        #expect(try codec.feeRate(try json(#"{"feerate":0.1,"blocks":1}"#)).satsPerKvB == 10_000_000)
        #expect(
            refusal { try codec.feeRate(try json(#"{"feerate":0.10000001,"blocks":1}"#)) }?.code == .invalidResponse)
        #expect(refusal { try codec.feeRate(try json(#"{"feerate":0.000009,"blocks":1}"#)) }?.code == .invalidResponse)
        let none = refusal {
            try codec.feeRate(try json(#"{"errors":["Insufficient data or no feerate found"],"blocks":0}"#))
        }
        #expect(none?.code == .unavailable)
        #expect(none?.reason.contains("Insufficient data") == true)
    }

    @Test("a block off the best chain has no height; a header about another block is refused")
    func headers() throws {
        let hash = String(repeating: "33", count: 32)
        #expect(try codec.blockHeight(try json(#"{"hash":"\#(hash)","height":9,"confirmations":2}"#), hash: hash) == 9)
        #expect(
            try codec.blockHeight(try json(#"{"hash":"\#(hash)","height":9,"confirmations":-1}"#), hash: hash) == nil)
        let other = String(repeating: "44", count: 32)
        #expect(
            refusal {
                try codec.blockHeight(try json(#"{"hash":"\#(other)","height":9,"confirmations":2}"#), hash: hash)
            }?
            .reason.contains("another block") == true)
    }
}
