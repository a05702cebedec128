public import WalletCrypto

/// A legacy (pre-EIP-2718) transaction, parsed so that it can be recognised and refused (Kura
/// signs only EIP-1559; a legacy transaction without EIP-155 replays on every EVM chain,
/// ATTACKS E09). Kura never builds or signs this type.
///
/// Serialisation: `rlp([nonce, gasPrice, gasLimit, to, value, data, v, r, s])`. Under EIP-155,
/// `v = chainId × 2 + 35 + yParity` and the signing hash covers
/// `rlp([nonce, gasPrice, gasLimit, to, value, data, chainId, 0, 0])`; without it, `v = 27 + yParity`
/// and the signing hash covers the first six fields.
public struct SignedLegacyTransaction: Sendable, Hashable {
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
    /// The chain id recovered from `v` (EIP-155), or `nil` for a transaction without replay
    /// protection (`v` of 27 or 28).
    public let chainID: ChainID?
    /// The signature (its `yParity` recovered from `v`).
    public let signature: TransactionSignature
    /// The `v` value as serialised.
    public let v: UInt256

    /// Reads `rlp([9 fields])`.
    public init(reading reader: inout ByteReader) throws(EthereumError) {
        let f = try TransactionCodec.readList(&reader, kind: "a legacy transaction", count: 9)
        nonce = Nonce(try f[0].uint64(field: "nonce"))
        gasPrice = WeiPerGas(try f[1].uint256(field: "gasPrice"))
        gasLimit = Gas(try f[2].uint256(field: "gasLimit"))
        to = try TransactionCodec.destination(f[3])
        value = Wei(try f[4].uint256(field: "value"))
        data = try f[5].bytes(field: "data")
        v = try f[6].uint256(field: "v")
        let parity: UInt8
        if v == UInt256(27) || v == UInt256(28) {
            chainID = nil
            parity = UInt8(v.exactUInt64! - 27)
        } else if v >= UInt256(35) {
            let (half, odd) = v.checkedSubtract(UInt256(35))!.quotientAndRemainder(dividingBy: 2)
            guard let id = half.exactUInt64 else {
                throw EthereumError(.integerOverflow, "v \(v) gives a chain id above 2^64 - 1 (EIP-155)")
            }
            chainID = ChainID(id)
            parity = UInt8(odd)
        } else {
            throw EthereumError(.invalidV, "v is \(v); legacy v is 27, 28 or chainId × 2 + 35/36 (EIP-155)")
        }
        signature = try TransactionSignature(
            yParity: parity, r: f[7].uint256(field: "r"), s: f[8].uint256(field: "s"))
        try TransactionCodec.checkGasBudget(gasLimit, gasPrice, priceName: "gasPrice")
    }

    /// Parses exactly one serialisation; trailing bytes are an error.
    public init(bytes: [UInt8]) throws(EthereumError) {
        self = try TransactionCodec.whole(bytes) { (r: inout ByteReader) throws(EthereumError) in
            try SignedLegacyTransaction(reading: &r)
        }
    }

    private var unsignedFields: [RLP.Item] {
        [
            .integer(nonce.value), .integer(gasPrice.amount), .integer(gasLimit.units),
            TransactionCodec.destinationItem(to), .integer(value.amount), .bytes(data),
        ]
    }

    /// Writes the signed serialisation.
    public func write(to writer: inout ByteWriter) {
        RLP.Item.list(unsignedFields + [.integer(v), .integer(signature.r), .integer(signature.s)]).write(to: &writer)
    }

    /// The signed serialisation.
    public var serialized: [UInt8] {
        var writer = ByteWriter()
        write(to: &writer)
        return writer.bytes
    }

    /// The signing payload: six fields, plus `chainId, 0, 0` under EIP-155.
    public var signingPayload: [UInt8] {
        var fields = unsignedFields
        if let chainID { fields += [.integer(chainID.value), .bytes([]), .bytes([])] }
        return RLP.encode(.list(fields))
    }

    /// Computes the signing hash, `keccak256(signingPayload)`.
    public func computeSigningHash() -> [UInt8] { Hash.keccak256(signingPayload) }

    /// Computes the transaction hash, `keccak256(serialized)`.
    public func computeHash() -> TransactionHash { TransactionHash.of(serialized) }

    /// Recovers the sender's address.
    public func recoverSender() throws(EthereumError) -> EthereumAddress {
        try signature.recoverAddress(digest: computeSigningHash())
    }
}
