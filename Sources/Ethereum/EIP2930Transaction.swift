public import WalletCrypto

/// An EIP-2930 (type 0x01) access-list transaction, parsed so that it can be recognised and
/// refused (Kura signs only EIP-1559; ATTACKS E13). Kura never builds or signs this type.
///
/// Serialisation: `0x01 ‖ rlp([chainId, nonce, gasPrice, gasLimit, to, value, data, accessList,
/// yParity, r, s])`; the signing hash covers the first eight fields.
public struct SignedEIP2930Transaction: Sendable, Hashable {
    /// The EIP-155 chain id.
    public let chainID: ChainID
    /// The sender's account nonce.
    public let nonce: Nonce
    /// The price per gas.
    public let gasPrice: WeiPerGas
    /// The most gas the transaction may use.
    public let gasLimit: Gas
    /// The recipient, or `nil` for contract creation.
    public let to: EthereumAddress?
    /// The ether sent.
    public let value: Wei
    /// The call data.
    public let data: [UInt8]
    /// The access list.
    public let accessList: AccessList
    /// The signature.
    public let signature: TransactionSignature

    /// The EIP-2718 type.
    public static let type = TransactionType.accessList

    /// Reads `0x01 ‖ rlp([11 fields])`.
    public init(reading reader: inout ByteReader) throws(EthereumError) {
        try TransactionCodec.expectType(&reader, Self.type)
        let f = try TransactionCodec.readList(&reader, kind: "an EIP-2930 transaction", count: 11)
        chainID = try TransactionCodec.chainID(f[0])
        nonce = Nonce(try f[1].uint64(field: "nonce"))
        gasPrice = WeiPerGas(try f[2].uint256(field: "gasPrice"))
        gasLimit = Gas(try f[3].uint256(field: "gasLimit"))
        to = try TransactionCodec.destination(f[4])
        value = Wei(try f[5].uint256(field: "value"))
        data = try f[6].bytes(field: "data")
        accessList = try AccessList(rlp: f[7])
        signature = try TransactionSignature.decode(yParity: f[8], r: f[9], s: f[10])
        try TransactionCodec.checkGasBudget(gasLimit, gasPrice, priceName: "gasPrice")
    }

    /// Parses exactly one serialisation; trailing bytes are an error.
    public init(bytes: [UInt8]) throws(EthereumError) {
        self = try TransactionCodec.whole(bytes) { (r: inout ByteReader) throws(EthereumError) in
            try SignedEIP2930Transaction(reading: &r)
        }
    }

    private var unsignedFields: [RLP.Item] {
        [
            .integer(chainID.value), .integer(nonce.value), .integer(gasPrice.amount), .integer(gasLimit.units),
            TransactionCodec.destinationItem(to), .integer(value.amount), .bytes(data), accessList.rlp,
        ]
    }

    /// Writes the signed serialisation.
    public func write(to writer: inout ByteWriter) {
        TransactionCodec.typed(Self.type.rawValue, unsignedFields + signature.rlpFields, to: &writer)
    }

    /// The signed serialisation.
    public var serialized: [UInt8] {
        var writer = ByteWriter()
        write(to: &writer)
        return writer.bytes
    }

    /// The unsigned serialisation `0x01 ‖ rlp([8 fields])`.
    public var signingPayload: [UInt8] {
        var writer = ByteWriter()
        TransactionCodec.typed(Self.type.rawValue, unsignedFields, to: &writer)
        return writer.bytes
    }

    /// Computes the signing hash, `keccak256(0x01 ‖ rlp([8 fields]))`.
    public func computeSigningHash() -> [UInt8] { Hash.keccak256(signingPayload) }

    /// Computes the transaction hash, `keccak256(serialized)`.
    public func computeHash() -> TransactionHash { TransactionHash.of(serialized) }

    /// Recovers the sender's address.
    public func recoverSender() throws(EthereumError) -> EthereumAddress {
        try signature.recoverAddress(digest: computeSigningHash())
    }
}
