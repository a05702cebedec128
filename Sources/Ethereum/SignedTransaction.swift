public import WalletCrypto

/// Any signed transaction this engine can parse, dispatched on the EIP-2718 envelope: a first
/// byte of 0xc0–0xff is a legacy RLP list, 0x01 is EIP-2930, 0x02 is EIP-1559.
///
/// Types 0x03 (EIP-4844 blob) and 0x04 (EIP-7702 set-code) are refused by name with
/// ``EthereumError/Code/unsupportedTransactionType``; any other first byte is
/// ``EthereumError/Code/unknownTransactionType``. Parsing legacy and EIP-2930 transactions
/// exists so that they can be recognised and refused, never signed.
public enum SignedTransaction: Sendable, Hashable {
    /// A legacy transaction (with or without EIP-155).
    case legacy(SignedLegacyTransaction)
    /// An EIP-2930 access-list transaction.
    case eip2930(SignedEIP2930Transaction)
    /// An EIP-1559 dynamic-fee transaction.
    case eip1559(SignedEIP1559Transaction)

    /// The largest serialised transaction accepted: 128 KiB, the size bound Ethereum clients
    /// apply to pooled transactions. Checked before anything is decoded.
    public static let maxSize = 128 * 1024

    /// Reads one transaction, dispatching on its first byte (EIP-2718).
    public init(reading reader: inout ByteReader) throws(EthereumError) {
        guard reader.remaining > 0 else { throw EthereumError(.truncated, "empty input: no transaction") }
        let first = reader.bytes[reader.offset]
        switch first {
        case 0xc0...0xff:
            self = .legacy(try SignedLegacyTransaction(reading: &reader))
        case TransactionType.accessList.rawValue:
            self = .eip2930(try SignedEIP2930Transaction(reading: &reader))
        case TransactionType.dynamicFee.rawValue:
            self = .eip1559(try SignedEIP1559Transaction(reading: &reader))
        case TransactionType.blob.rawValue, TransactionType.setCode.rawValue:
            let type = TransactionType.known.first { $0.rawValue == first }!
            throw EthereumError(.unsupportedTransactionType, "\(type) transactions are not supported")
        case 0x80...0xbf:
            throw EthereumError(
                .unknownTransactionType, "first byte 0x\(Hex.encode([first])) is an RLP string, not a transaction")
        default:
            throw EthereumError(.unknownTransactionType, "unknown EIP-2718 transaction type 0x\(Hex.encode([first]))")
        }
    }

    /// Parses exactly one transaction; trailing bytes are an error.
    public init(bytes: [UInt8]) throws(EthereumError) {
        self = try TransactionCodec.whole(bytes) { (r: inout ByteReader) throws(EthereumError) in
            try SignedTransaction(reading: &r)
        }
    }

    /// The EIP-2718 type.
    public var type: TransactionType {
        switch self {
        case .legacy: return .legacy
        case .eip2930: return .accessList
        case .eip1559: return .dynamicFee
        }
    }

    /// Writes the serialisation.
    public func write(to writer: inout ByteWriter) {
        switch self {
        case .legacy(let t): t.write(to: &writer)
        case .eip2930(let t): t.write(to: &writer)
        case .eip1559(let t): t.write(to: &writer)
        }
    }

    /// The serialisation.
    public var serialized: [UInt8] {
        var writer = ByteWriter()
        write(to: &writer)
        return writer.bytes
    }

    /// The chain id, or `nil` for a legacy transaction without EIP-155.
    public var chainID: ChainID? {
        switch self {
        case .legacy(let t): return t.chainID
        case .eip2930(let t): return t.chainID
        case .eip1559(let t): return t.transaction.chainID
        }
    }

    /// The sender's nonce.
    public var nonce: Nonce {
        switch self {
        case .legacy(let t): return t.nonce
        case .eip2930(let t): return t.nonce
        case .eip1559(let t): return t.transaction.nonce
        }
    }

    /// The gas limit.
    public var gasLimit: Gas {
        switch self {
        case .legacy(let t): return t.gasLimit
        case .eip2930(let t): return t.gasLimit
        case .eip1559(let t): return t.transaction.gasLimit
        }
    }

    /// The recipient, or `nil` for contract creation.
    public var to: EthereumAddress? {
        switch self {
        case .legacy(let t): return t.to
        case .eip2930(let t): return t.to
        case .eip1559(let t): return t.transaction.to
        }
    }

    /// The ether sent.
    public var value: Wei {
        switch self {
        case .legacy(let t): return t.value
        case .eip2930(let t): return t.value
        case .eip1559(let t): return t.transaction.value
        }
    }

    /// The call data.
    public var data: [UInt8] {
        switch self {
        case .legacy(let t): return t.data
        case .eip2930(let t): return t.data
        case .eip1559(let t): return t.transaction.data
        }
    }

    /// The access list (empty for legacy transactions, which cannot carry one).
    public var accessList: AccessList {
        switch self {
        case .legacy: return .empty
        case .eip2930(let t): return t.accessList
        case .eip1559(let t): return t.transaction.accessList
        }
    }

    /// The signature.
    public var signature: TransactionSignature {
        switch self {
        case .legacy(let t): return t.signature
        case .eip2930(let t): return t.signature
        case .eip1559(let t): return t.signature
        }
    }

    /// Computes the signing hash.
    public func computeSigningHash() -> [UInt8] {
        switch self {
        case .legacy(let t): return t.computeSigningHash()
        case .eip2930(let t): return t.computeSigningHash()
        case .eip1559(let t): return t.transaction.computeSigningHash()
        }
    }

    /// Computes the transaction hash.
    public func computeHash() -> TransactionHash { TransactionHash.of(serialized) }

    /// Recovers the sender's address.
    public func recoverSender() throws(EthereumError) -> EthereumAddress {
        try signature.recoverAddress(digest: computeSigningHash())
    }
}
