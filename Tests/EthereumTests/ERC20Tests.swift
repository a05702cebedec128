import Ethereum
import KuraTestSupport
import Testing
import WalletCrypto

@Suite("ERC-20 call data")
struct ERC20Tests {
    struct File: Decodable {
        struct Example: Decodable {
            let function: String
            let args: [String: String]
            let calldata: String
        }
        let selectors: [String: String]
        let examples: [Example]
    }

    static let recipient = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"

    @Test func selectorsMatchThePublishedValues() throws {
        let file = try Vectors.decode(File.self, "erc20/erc20_calldata.json")
        for known in KnownFunction.all {
            if let published = file.selectors[known.signature] {
                #expect(known.selector.description == published, "\(known.signature)")
            }
        }
        // Published selectors outside the vector file (OpenZeppelin ERC20, EIP-721), checked with eth-utils.
        #expect(KnownFunction.increaseAllowance.selector.description == "0x39509351")
        #expect(KnownFunction.decreaseAllowance.selector.description == "0xa457c2d7")
        #expect(KnownFunction.setApprovalForAll.selector.description == "0xa22cb465")
        #expect(KnownFunction.approve.name == "approve")
    }

    @Test func transferExamplesEncodeAndDecode() throws {
        let file = try Vectors.decode(File.self, "erc20/erc20_calldata.json")
        let transfers = file.examples.filter { $0.function == "transfer(address,uint256)" }
        #expect(transfers.count == 2)
        for e in transfers {
            let t = ERC20.Transfer(
                to: try EthereumAddress(parsing: e.args["to"]!),
                amount: TokenAmount(try UInt256(decimal: e.args["value"]!)))
            #expect(t.calldata == hexBytes(e.calldata))
            #expect(try ERC20.Transfer(calldata: hexBytes(e.calldata)) == t)
            #expect(KnownFunction.identify(calldata: t.calldata) == .transfer)
        }
    }

    @Test func approveIsRecognisedAndRefusedByName() throws {
        let file = try Vectors.decode(File.self, "erc20/erc20_calldata.json")
        let approve = hexBytes(file.examples.first { $0.function == "approve(address,uint256)" }!.calldata)
        #expect(KnownFunction.identify(calldata: approve) == .approve)
        do {
            _ = try ERC20.Transfer(calldata: approve)
            Issue.record("approve decoded as a transfer")
        } catch {
            #expect(error.code == .unexpectedSelector)
            #expect(error.reason.contains("approve(address,uint256)"))
        }
    }

    @Test func everyRefusableSelectorIsNamed() throws {
        for known in [KnownFunction.approve, .transferFrom, .increaseAllowance, .decreaseAllowance, .setApprovalForAll]
        {
            let data = known.selector.bytes + [UInt8](repeating: 0, count: 64)
            #expect(KnownFunction.identify(calldata: data) == known)
            expectError(.unexpectedSelector, "\(known)") { try ERC20.Transfer(calldata: data) }
        }
        #expect(KnownFunction.identify(calldata: [0xde, 0xad, 0xbe, 0xef]) == nil)
        #expect(KnownFunction.identify(calldata: [0xa9, 0x05, 0x9c]) == nil)
        expectError(.unexpectedSelector) {
            try ERC20.Transfer(calldata: [0xde, 0xad, 0xbe, 0xef] + [UInt8](repeating: 0, count: 64))
        }
        expectError(.invalidCalldata) { try ERC20.Transfer(calldata: [0xa9, 0x05, 0x9c]) }
    }

    @Test func lengthMustBeExactly68() throws {
        let good = ERC20.Transfer(
            to: try EthereumAddress(parsing: Self.recipient), amount: TokenAmount(UInt256(1_000_000))
        )
        .calldata
        #expect(good.count == 68)
        #expect(try ERC20.Transfer(calldata: good).amount == TokenAmount(UInt256(1_000_000)))  // positive control
        expectError(.invalidCalldata, "67 bytes") { try ERC20.Transfer(calldata: Array(good.dropLast())) }
        expectError(.invalidCalldata, "69 bytes") { try ERC20.Transfer(calldata: good + [0]) }
        expectError(.invalidCalldata, "4 bytes") { try ERC20.Transfer(calldata: Array(good.prefix(4))) }
        expectError(.invalidCalldata, "100 bytes") {
            try ERC20.Transfer(calldata: good + [UInt8](repeating: 0, count: 32))
        }
    }

    @Test func addressWordWithDirtyUpperBytesIsRefused() throws {
        let good = ERC20.Transfer(to: try EthereumAddress(parsing: Self.recipient), amount: TokenAmount(.one)).calldata
        for i in 4..<16 {
            var bad = good
            bad[i] = 0x01
            expectError(.nonCanonicalAddressWord, "byte \(i)") { try ERC20.Transfer(calldata: bad) }
        }
        var lowByte = good
        lowByte[35] ^= 0x01  // the last address byte: a different, valid recipient
        #expect(try ERC20.Transfer(calldata: lowByte).to != ERC20.Transfer(calldata: good).to)
    }

    @Test func amountUsesAll256Bits() throws {
        let t = ERC20.Transfer(to: try EthereumAddress(parsing: Self.recipient), amount: TokenAmount(.max))
        #expect(Array(t.calldata.suffix(32)) == [UInt8](repeating: 0xff, count: 32))
        #expect(try ERC20.Transfer(calldata: t.calldata).amount.baseUnits == .max)
    }
}
