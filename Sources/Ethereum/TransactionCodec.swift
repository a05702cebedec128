import WalletCrypto

/// Shared strict decoding of transaction lists (EIP-2718 payloads and legacy RLP).
enum TransactionCodec {
    /// RLP limits for one transaction: the size bound of ``SignedTransaction/maxSize``; depth 4
    /// is what an access list needs (transaction → list → entry → keys), 8 leaves margin.
    static let limits = RLP.Limits(
        maxBytes: SignedTransaction.maxSize, maxDepth: 8, maxItems: SignedTransaction.maxSize)

    /// Reads one RLP list of exactly `count` items describing a `kind` transaction.
    static func readList(_ reader: inout ByteReader, kind: String, count: Int) throws(EthereumError) -> [RLP.Item] {
        let items = try RLP.Item(reading: &reader, limits: limits).list(field: kind)
        guard items.count == count else {
            throw EthereumError(
                .wrongFieldCount, "\(kind) has \(count) fields, found \(items.count)")
        }
        return items
    }

    /// The `to` field: empty for contract creation, otherwise exactly 20 bytes.
    static func destination(_ item: RLP.Item) throws(EthereumError) -> EthereumAddress? {
        let b = try item.bytes(field: "to")
        if b.isEmpty { return nil }
        guard b.count == 20 else {
            throw EthereumError(
                .invalidField, "to is \(b.count) bytes; an address is 20 (or empty to create a contract)")
        }
        return try EthereumAddress(bytes: b)
    }

    static func destinationItem(_ to: EthereumAddress?) -> RLP.Item { .bytes(to?.bytes ?? []) }

    static func chainID(_ item: RLP.Item) throws(EthereumError) -> ChainID {
        ChainID(try item.uint64(field: "chainId"))
    }

    /// Enforces that the gas budget `gasLimit × price` fits 256 bits (the consensus rule behind
    /// ethereum/tests' GASLIMIT_PRICE_PRODUCT_OVERFLOW).
    static func checkGasBudget(_ gasLimit: Gas, _ price: WeiPerGas, priceName: String) throws(EthereumError) {
        guard gasLimit.units.checkedMultiply(price.amount) != nil else {
            throw EthereumError(
                .arithmeticOverflow, "gasLimit \(gasLimit.units) × \(priceName) \(price.amount) exceeds 2^256 - 1")
        }
    }

    /// `0x<type> ‖ rlp(items)`.
    static func typed(_ type: UInt8, _ items: [RLP.Item], to writer: inout ByteWriter) {
        writer.writeUInt8(type)
        RLP.Item.list(items).write(to: &writer)
    }

    /// Reads the EIP-2718 type byte and checks it is `expected`.
    static func expectType(_ reader: inout ByteReader, _ expected: TransactionType) throws(EthereumError) {
        let byte: UInt8
        do throws(WalletCryptoError) { byte = try reader.readUInt8() } catch {
            throw EthereumError(.truncated, "empty input where a \(expected.name) transaction was expected")
        }
        guard byte == expected.rawValue else {
            throw EthereumError(
                .unknownTransactionType,
                "expected a \(expected.name) transaction (type \(expected.hex)), found first byte 0x\(Hex.encode([byte]))"
            )
        }
    }

    /// Runs a codec over a whole buffer, rejecting trailing bytes.
    static func whole<T>(_ bytes: [UInt8], _ read: (inout ByteReader) throws(EthereumError) -> T) throws(EthereumError)
        -> T
    {
        guard bytes.count <= SignedTransaction.maxSize else {
            throw EthereumError(
                .resourceLimit,
                "a transaction of \(bytes.count) bytes exceeds the limit of \(SignedTransaction.maxSize)")
        }
        var reader = ByteReader(bytes)
        let value = try read(&reader)
        guard reader.isAtEnd else {
            throw EthereumError(.trailingBytes, "\(reader.remaining) bytes after the transaction")
        }
        return value
    }
}
