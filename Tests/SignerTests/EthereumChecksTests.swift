import Signer
import Testing
import WalletCrypto

/// The payload and call whitelists of the Ethereum checks (ATTACKS C9, C10), on payloads built
/// with pyrlp and eth-abi (tests/signer/eth_tools.py).
@Suite("Ethereum payload and call whitelists")
struct EthereumChecksTests {
    static let payment = "02ea82053980847735940085174876e800825208945aaeb6053f3e94c9b9a09f33669435e7ef1beaed0180c0"
    static let transfer =
        "02f86f82053980847735940085174876e80082ea60945aaeb6053f3e94c9b9a09f33669435e7ef1beaed80b844a9059cbb"
        + "0000000000000000000000005aaeb6053f3e94c9b9a09f33669435e7ef1beaed"
        + "0000000000000000000000000000000000000000000000000000000000000005c0"
    static let approve =
        "02f86f82053980847735940085174876e80082ea60945aaeb6053f3e94c9b9a09f33669435e7ef1beaed80b844095ea7b3"
        + "0000000000000000000000005aaeb6053f3e94c9b9a09f33669435e7ef1beaed"
        + "0000000000000000000000000000000000000000000000000000000000000001c0"
    static let creation = "02d682053980847735940085174876e800825208800180c0"

    static func category(_ hex: String) throws -> String? {
        switch EthereumChecks.parse(try Hex.decode(hex)) {
        case .success(let tx):
            switch EthereumChecks.classify(tx) {
            case .success: return nil
            case .failure(let r): return r.category.token
            }
        case .failure(let r): return r.category.token
        }
    }

    @Test func acceptsPaymentsAndTransfersOnly() throws {
        #expect(try Self.category(Self.payment) == nil)
        #expect(try Self.category(Self.transfer) == nil)
        #expect(try Self.category(Self.approve) == "CALL_FORBIDDEN")
        #expect(try Self.category(Self.creation) == "CALL_FORBIDDEN")
    }

    static let payloads: [(String, String)] = {
        let body = String(payment.dropFirst(2))
        let eip712 = "1901" + String(repeating: "ab", count: 64)
        let personal = "1945" + String(repeating: "ab", count: 30)
        let legacy155 = "e68085174876e800825208945aaeb6053f3e94c9b9a09f33669435e7ef1beaed01808205398080"
        var cases: [(String, String)] = [("", "MALFORMED")]
        cases.append((eip712, "CALL_FORBIDDEN"))  // EIP-712
        cases.append((personal, "CALL_FORBIDDEN"))  // personal_sign
        // A pre-EIP-155 legacy payload replays on every chain; with EIP-155 it is a type change.
        cases.append(("e18085174876e800825208945aaeb6053f3e94c9b9a09f33669435e7ef1beaed0180", "CHAIN_MISMATCH"))
        cases.append((legacy155, "FIELD_FORBIDDEN"))
        cases.append(("00" + legacy155, "FIELD_FORBIDDEN"))
        for type in ["01", "04", "7f"] { cases.append((type + body, "FIELD_FORBIDDEN")) }
        // A nonce with a leading zero byte: not the one canonical encoding.
        cases.append(("02e38205398200010102825208945aaeb6053f3e94c9b9a09f33669435e7ef1beaed0180c0", "MALFORMED"))
        // maxPriorityFeePerGas 3 above maxFeePerGas 2.
        cases.append(("02e1820539800302825208945aaeb6053f3e94c9b9a09f33669435e7ef1beaed0180c0", "FEE_EXCESSIVE"))
        cases.append((payment + "00", "MALFORMED"))
        return cases
    }()

    @Test(arguments: payloads)
    func refusesByWhatThePayloadIs(hex: String, expected: String) throws {
        #expect(try Self.category(hex) == expected)
    }

    @Test func refusesEveryTruncatedPrefix() throws {
        let bytes = try Hex.decode(Self.transfer)
        for n in 1..<bytes.count {
            guard case .failure(let r) = EthereumChecks.parse(Array(bytes.prefix(n))) else {
                Issue.record("a prefix of \(n) bytes parsed")
                continue
            }
            #expect(r.category.token == "MALFORMED")
        }
    }

    @Test func refusesOversizeBeforeDecoding() throws {
        // 0x02 ‖ a list header declaring 200 KiB, with the bytes present.
        let body = [UInt8](repeating: 0x80, count: 200 * 1024)
        let header: [UInt8] = [0x02, 0xfa, 0x03, 0x20, 0x00]
        guard case .failure(let r) = EthereumChecks.parse(header + body) else {
            Issue.record("an oversize payload parsed")
            return
        }
        #expect(r.category.token == "RESOURCE_LIMIT")
    }
}
