import Ethereum
import KuraTestSupport
import Testing
import WalletCrypto

/// Refusals of malformed or forbidden transactions, each beside its positive control.
@Suite("Transaction strictness")
struct TransactionStrictnessTests {
    static let key = try! PrivateKey(bytes: [UInt8](repeating: 0x11, count: 32))
    static let recipient = try! EthereumAddress(parsing: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")

    static func sample(
        to: EthereumAddress? = recipient, data: [UInt8] = [], accessList: AccessList = .empty,
        chainID: ChainID = .mainnet
    ) throws -> EIP1559Transaction {
        try EIP1559Transaction(
            chainID: chainID, nonce: Nonce(7), maxPriorityFeePerGas: WeiPerGas(UInt256(1_000_000_000)),
            maxFeePerGas: WeiPerGas(UInt256(30_000_000_000)), gasLimit: Gas(21_000), to: to,
            value: Wei(UInt256(1_000_000_000_000_000)), data: data, accessList: accessList)
    }

    static var signedBytes: [UInt8] { try! sample().sign(with: key).serialized }

    /// Re-encodes `signed` (type byte + RLP list) after changing its list items.
    static func mutate(_ signed: [UInt8], _ change: (inout [RLP.Item]) -> Void) throws -> [UInt8] {
        var items = try RLP.decode(Array(signed.dropFirst())).list(field: "test")
        change(&items)
        return [signed[0]] + RLP.encode(.list(items))
    }

    @Test func positiveControlParsesAndRecovers() throws {
        let tx = try SignedTransaction(bytes: Self.signedBytes)
        #expect(tx.type == .dynamicFee)
        #expect(try tx.recoverSender() == EthereumAddress(publicKey: Self.key.publicKey))
        #expect(tx.serialized == Self.signedBytes)
    }

    @Test func typesAreDispatchedAndUnknownOnesNamed() throws {
        let body = Array(Self.signedBytes.dropFirst())
        do {
            _ = try SignedTransaction(bytes: [0x04] + body)
            Issue.record("type 0x04 accepted")
        } catch {
            #expect(error.code == .unsupportedTransactionType)
            #expect(error.reason.contains("EIP-7702"))
        }
        do {
            _ = try SignedTransaction(bytes: [0x03] + body)
            Issue.record("type 0x03 accepted")
        } catch {
            #expect(error.code == .unsupportedTransactionType)
            #expect(error.reason.contains("EIP-4844"))
        }
        for type: UInt8 in [0x00, 0x05, 0x42, 0x7f, 0x80, 0xbf] {
            expectError(.unknownTransactionType, "type \(type)") { try SignedTransaction(bytes: [type] + body) }
        }
        // The right type byte with the wrong body is a field-count error, not a silent reinterpretation.
        expectError(.wrongFieldCount) { try SignedTransaction(bytes: [0x01] + body) }
        // A typed parser refuses another type by name.
        expectError(.unknownTransactionType) { try SignedEIP1559Transaction(bytes: [0x01] + body) }
        expectError(.truncated) { try SignedTransaction(bytes: []) }
    }

    @Test func trailingBytesAndOversizeAreRefused() throws {
        expectError(.trailingBytes) { try SignedTransaction(bytes: Self.signedBytes + [0x00]) }
        let big = try Self.sample(data: [UInt8](repeating: 0xab, count: SignedTransaction.maxSize)).sign(with: Self.key)
        expectError(.resourceLimit) { try SignedTransaction(bytes: big.serialized) }
        let fits = try Self.sample(data: [UInt8](repeating: 0xab, count: 100_000)).sign(with: Self.key)
        #expect(try SignedTransaction(bytes: fits.serialized) == .eip1559(fits))
    }

    @Test func transactionsReadFromALongerStream() throws {
        let tail = [UInt8](repeating: 0xc0, count: SignedTransaction.maxSize + 10)
        var reader = ByteReader(Self.signedBytes + Self.signedBytes + tail)
        #expect(try SignedTransaction(reading: &reader).serialized == Self.signedBytes)
        #expect(try SignedTransaction(reading: &reader).serialized == Self.signedBytes)
        #expect(reader.remaining == tail.count)
    }

    @Test func fieldCountIsExact() throws {
        expectError(.wrongFieldCount) {
            try SignedTransaction(bytes: Self.mutate(Self.signedBytes) { $0.removeLast() })
        }
        expectError(.wrongFieldCount) {
            try SignedTransaction(bytes: Self.mutate(Self.signedBytes) { $0.append(.bytes([])) })
        }
        // An unsigned transaction is not a signed one, and the reverse.
        let unsigned = try Self.sample().signingPayload
        expectError(.wrongFieldCount) { try SignedTransaction(bytes: unsigned) }
        expectError(.wrongFieldCount) { try EIP1559Transaction(bytes: Self.signedBytes) }
        #expect(try EIP1559Transaction(bytes: unsigned) == Self.sample())
        expectError(.trailingBytes) { try EIP1559Transaction(bytes: unsigned + [0]) }
    }

    @Test func integersAreCanonical() throws {
        // Field 1 is the nonce (7): a leading zero byte is refused.
        expectError(.nonCanonicalInteger) {
            try SignedTransaction(bytes: Self.mutate(Self.signedBytes) { $0[1] = .bytes([0x00, 0x07]) })
        }
        expectError(.integerOverflow) {
            try SignedTransaction(
                bytes: Self.mutate(Self.signedBytes) { $0[1] = .bytes([UInt8](repeating: 1, count: 9)) })
        }
        expectError(.integerOverflow, "chain id above 64 bits") {
            try SignedTransaction(
                bytes: Self.mutate(Self.signedBytes) { $0[0] = .bytes([UInt8](repeating: 1, count: 9)) })
        }
        expectError(.unexpectedRLPType) {
            try SignedTransaction(bytes: Self.mutate(Self.signedBytes) { $0[6] = .list([]) })
        }
        expectError(.unexpectedRLPType) {
            try SignedTransaction(bytes: Self.mutate(Self.signedBytes) { $0[8] = .bytes([]) })
        }
    }

    @Test func destinationIsTwentyBytesOrEmpty() throws {
        expectError(.invalidField) {
            try SignedTransaction(
                bytes: Self.mutate(Self.signedBytes) { $0[5] = .bytes([UInt8](repeating: 1, count: 19)) })
        }
        expectError(.invalidField) {
            try SignedTransaction(
                bytes: Self.mutate(Self.signedBytes) { $0[5] = .bytes([UInt8](repeating: 1, count: 21)) })
        }
        // Contract creation (empty `to`) is parsed and visible, so that a signer can refuse it.
        let creation = try Self.sample(to: nil, data: [0x60, 0x00]).sign(with: Self.key)
        let parsed = try SignedTransaction(bytes: creation.serialized)
        #expect(parsed.to == nil)
        #expect(try parsed.recoverSender() == EthereumAddress(publicKey: Self.key.publicKey))
    }

    @Test func accessListsAreStrictAndVisible() throws {
        let entry = AccessList.Entry(
            address: Self.recipient, storageKeys: [try StorageKey(bytes: [UInt8](repeating: 2, count: 32))])
        let withList = try Self.sample(accessList: AccessList([entry, entry])).sign(with: Self.key)
        let parsed = try SignedTransaction(bytes: withList.serialized)
        #expect(parsed.accessList.entries.count == 2)
        #expect(parsed.accessList.storageKeyCount == 2)
        let good = withList.serialized
        expectError(.invalidField, "storage key of 31 bytes") {
            try SignedTransaction(
                bytes: Self.mutate(good) {
                    $0[8] = .list([
                        .list([.bytes(Self.recipient.bytes), .list([.bytes([UInt8](repeating: 2, count: 31))])])
                    ])
                })
        }
        expectError(.invalidField, "address of 19 bytes") {
            try SignedTransaction(
                bytes: Self.mutate(good) {
                    $0[8] = .list([.list([.bytes([UInt8](repeating: 1, count: 19)), .list([])])])
                })
        }
        expectError(.wrongFieldCount, "entry of three items") {
            try SignedTransaction(
                bytes: Self.mutate(good) {
                    $0[8] = .list([.list([.bytes(Self.recipient.bytes), .list([]), .list([])])])
                })
        }
        expectError(.unexpectedRLPType, "entry that is a string") {
            try SignedTransaction(bytes: Self.mutate(good) { $0[8] = .list([.bytes([1])]) })
        }
    }

    static let n = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"
    static let halfN = "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0"

    @Test func signatureValuesAreInRangeAndLowS() throws {
        let signed = try Self.sample().sign(with: Self.key)
        let s = signed.signature.s
        // High-S twin n − s: the same signature in its malleated form is refused (EIP-2).
        let highS = try UInt256(bigEndian: hexBytes(Self.n)).checkedSubtract(s)!
        expectError(.invalidSignature, "high s") {
            try SignedTransaction(bytes: Self.mutate(Self.signedBytes) { $0[11] = .integer(highS) })
        }
        expectError(.invalidSignature, "yParity 2") {
            try SignedTransaction(bytes: Self.mutate(Self.signedBytes) { $0[9] = .integer(UInt64(2)) })
        }
        expectError(.nonCanonicalInteger, "yParity 0x00") {
            try SignedTransaction(bytes: Self.mutate(Self.signedBytes) { $0[9] = .bytes([0x00]) })
        }
        expectError(.invalidSignature, "r = 0") {
            try SignedTransaction(bytes: Self.mutate(Self.signedBytes) { $0[10] = .bytes([]) })
        }
        expectError(.invalidSignature, "r = n") {
            try SignedTransaction(bytes: Self.mutate(Self.signedBytes) { $0[10] = .bytes(hexBytes(Self.n)) })
        }
        expectError(.invalidSignature, "s = 0") {
            try SignedTransaction(bytes: Self.mutate(Self.signedBytes) { $0[11] = .bytes([]) })
        }
        // The boundary itself: s = n/2 is allowed, n/2 + 1 is not.
        let half = try UInt256(bigEndian: hexBytes(Self.halfN))
        #expect(try TransactionSignature(yParity: 0, r: .one, s: half).s == half)
        expectError(.invalidSignature) { try TransactionSignature(yParity: 0, r: .one, s: half.checkedAdd(.one)!) }
        // A flipped yParity recovers a different address (or none): never the signer's.
        let flipped = try SignedTransaction(
            bytes: Self.mutate(Self.signedBytes) { $0[9] = .integer(UInt64(1 - signed.signature.yParity)) })
        #expect((try? flipped.recoverSender()) != EthereumAddress(publicKey: Self.key.publicKey))
    }

    @Test func feeInvariantsHoldForEveryValue() throws {
        expectError(.priorityFeeAboveMaxFee) {
            try EIP1559Transaction(
                chainID: .mainnet, nonce: Nonce(0), maxPriorityFeePerGas: WeiPerGas(UInt256(2)),
                maxFeePerGas: WeiPerGas(UInt256(1)), gasLimit: Gas(21_000), to: Self.recipient, value: .zero, data: [])
        }
        #expect(
            try EIP1559Transaction(
                chainID: .mainnet, nonce: Nonce(0), maxPriorityFeePerGas: WeiPerGas(UInt256(1)),
                maxFeePerGas: WeiPerGas(UInt256(1)), gasLimit: Gas(21_000), to: Self.recipient, value: .zero, data: []
            ).maxFeePerGas == WeiPerGas(UInt256(1)))
        expectError(.arithmeticOverflow) {
            try EIP1559Transaction(
                chainID: .mainnet, nonce: Nonce(0), maxPriorityFeePerGas: .zero, maxFeePerGas: WeiPerGas(.max),
                gasLimit: Gas(2), to: Self.recipient, value: .zero, data: [])
        }
        // value + gasLimit × maxFeePerGas is checked too.
        let rich = try EIP1559Transaction(
            chainID: .mainnet, nonce: Nonce(0), maxPriorityFeePerGas: .zero, maxFeePerGas: WeiPerGas(UInt256(10)),
            gasLimit: Gas(21_000), to: Self.recipient, value: Wei(.max), data: [])
        expectError(.arithmeticOverflow) { try rich.maximumCost() }
        #expect(try Self.sample().maximumCost() == Wei(try UInt256(decimal: "1630000000000000")))
    }

    @Test func randomTransactionsSignParseAndRecover() throws {
        var rng = SplitMix64(seed: 0x1559)
        for i in 0..<300 {
            var keyBytes = [UInt8](repeating: 0, count: 32)
            for j in 0..<32 { keyBytes[j] = UInt8.random(in: 0...255, using: &rng) }
            guard let key = try? PrivateKey(bytes: keyBytes) else { continue }
            let maxFee = try UInt256(bigEndian: randomBytes(&rng, maxCount: 12))
            let tx = try EIP1559Transaction(
                chainID: ChainID(UInt64.random(in: 1...UInt64(1 << 40), using: &rng)),
                nonce: Nonce(UInt64.random(in: 0...UInt64.max - 1, using: &rng)),
                maxPriorityFeePerGas: WeiPerGas(maxFee.halved), maxFeePerGas: WeiPerGas(maxFee),
                gasLimit: Gas(UInt64.random(in: 21_000...30_000_000, using: &rng)),
                to: i % 17 == 0
                    ? nil : try EthereumAddress(bytes: (0..<20).map { _ in UInt8.random(in: 0...255, using: &rng) }),
                value: Wei(try UInt256(bigEndian: randomBytes(&rng, maxCount: 20))),
                data: randomBytes(&rng, maxCount: 200))
            let signed = try tx.sign(with: key)
            #expect(signed.signature.s <= (try UInt256(bigEndian: hexBytes(Self.halfN))))
            let parsed = try SignedTransaction(bytes: signed.serialized)
            #expect(parsed == .eip1559(signed))
            #expect(try parsed.recoverSender() == EthereumAddress(publicKey: key.publicKey))
            #expect(try tx.sign(with: key) == signed, "RFC 6979 signing is deterministic")
        }
    }
}

extension UInt256 {
    fileprivate var halved: UInt256 { quotientAndRemainder(dividingBy: 2).quotient }
}
