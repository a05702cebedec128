public import WalletCrypto

/// An unsigned EIP-1559 (type 0x02) transaction: the only kind Kura's signer signs.
///
/// Its invariants hold for every value of the type: `maxPriorityFeePerGas ≤ maxFeePerGas`
/// (EIP-1559) and `gasLimit × maxFeePerGas` fits 256 bits. The unsigned serialisation
/// `0x02 ‖ rlp([chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gasLimit, to, value, data,
/// accessList])` is what gets hashed and signed (EIP-2718, EIP-1559).
public struct EIP1559Transaction: Sendable, Hashable {
    /// The EIP-155 chain id the signature binds to.
    public let chainID: ChainID
    /// The sender's account nonce.
    public let nonce: Nonce
    /// The most per gas the sender pays the block producer on top of the base fee.
    public let maxPriorityFeePerGas: WeiPerGas
    /// The most per gas the sender pays in total (base fee plus priority fee).
    public let maxFeePerGas: WeiPerGas
    /// The most gas the transaction may use.
    public let gasLimit: Gas
    /// The recipient, or `nil` for contract creation (which Kura's signer refuses, ATTACKS E08).
    public let to: EthereumAddress?
    /// The ether sent with the call.
    public let value: Wei
    /// The call data (for ERC-20, `transfer(address,uint256)` — see ``ERC20``).
    public let data: [UInt8]
    /// The EIP-2930 access list.
    public let accessList: AccessList

    /// The EIP-2718 type.
    public static let type = TransactionType.dynamicFee

    /// Creates a transaction, refusing a priority fee above the fee cap
    /// (``EthereumError/Code/priorityFeeAboveMaxFee``) and a gas budget `gasLimit × maxFeePerGas`
    /// that does not fit 256 bits (``EthereumError/Code/arithmeticOverflow``).
    public init(
        chainID: ChainID, nonce: Nonce, maxPriorityFeePerGas: WeiPerGas, maxFeePerGas: WeiPerGas, gasLimit: Gas,
        to: EthereumAddress?, value: Wei, data: [UInt8], accessList: AccessList = .empty
    ) throws(EthereumError) {
        guard maxPriorityFeePerGas <= maxFeePerGas else {
            throw EthereumError(
                .priorityFeeAboveMaxFee,
                "maxPriorityFeePerGas \(maxPriorityFeePerGas.amount) exceeds maxFeePerGas \(maxFeePerGas.amount)")
        }
        try TransactionCodec.checkGasBudget(gasLimit, maxFeePerGas, priceName: "maxFeePerGas")
        self.chainID = chainID
        self.nonce = nonce
        self.maxPriorityFeePerGas = maxPriorityFeePerGas
        self.maxFeePerGas = maxFeePerGas
        self.gasLimit = gasLimit
        self.to = to
        self.value = value
        self.data = data
        self.accessList = accessList
    }

    /// The most the sender can be charged: `value + gasLimit × maxFeePerGas`, checked.
    public func maximumCost() throws(EthereumError) -> Wei {
        try value.adding(gasLimit.cost(at: maxFeePerGas))
    }

    /// Appends the nine unsigned fields, in EIP-1559 order, as RLP list items.
    func writeFields(to w: inout ByteWriter) {
        RLP.writeInteger(UInt256(chainID.value), to: &w)
        RLP.writeInteger(UInt256(nonce.value), to: &w)
        RLP.writeInteger(maxPriorityFeePerGas.amount, to: &w)
        RLP.writeInteger(maxFeePerGas.amount, to: &w)
        RLP.writeInteger(gasLimit.units, to: &w)
        RLP.writeString(to?.bytes ?? [], to: &w)
        RLP.writeInteger(value.amount, to: &w)
        RLP.writeString(data, to: &w)
        if accessList.isEmpty {
            w.writeUInt8(0xc0)  // the empty list, without building one
        } else {
            accessList.rlp.write(to: &w)
        }
    }

    /// Decodes the nine unsigned fields.
    init(fields f: ArraySlice<RLP.Item>) throws(EthereumError) {
        let i = f.startIndex
        try self.init(
            chainID: TransactionCodec.chainID(f[i]),
            nonce: Nonce(f[i + 1].uint64(field: "nonce")),
            maxPriorityFeePerGas: WeiPerGas(f[i + 2].uint256(field: "maxPriorityFeePerGas")),
            maxFeePerGas: WeiPerGas(f[i + 3].uint256(field: "maxFeePerGas")),
            gasLimit: Gas(f[i + 4].uint256(field: "gasLimit")),
            to: TransactionCodec.destination(f[i + 5]),
            value: Wei(f[i + 6].uint256(field: "value")),
            data: f[i + 7].bytes(field: "data"),
            accessList: AccessList(rlp: f[i + 8]))
    }

    /// Reads the unsigned serialisation `0x02 ‖ rlp([9 fields])`.
    public init(reading reader: inout ByteReader) throws(EthereumError) {
        try TransactionCodec.expectType(&reader, Self.type)
        let items = try TransactionCodec.readList(&reader, kind: "an unsigned EIP-1559 transaction", count: 9)
        try self.init(fields: items[...])
    }

    /// Parses exactly one unsigned serialisation; trailing bytes are an error.
    public init(bytes: [UInt8]) throws(EthereumError) {
        self = try TransactionCodec.whole(bytes) { (r: inout ByteReader) throws(EthereumError) in
            try EIP1559Transaction(reading: &r)
        }
    }

    /// Writes the unsigned serialisation (the signing payload).
    public func write(to writer: inout ByteWriter) {
        writer.writeUInt8(Self.type.rawValue)
        RLP.writeList(to: &writer) { writeFields(to: &$0) }
    }

    /// The unsigned serialisation `0x02 ‖ rlp([9 fields])`.
    public var signingPayload: [UInt8] {
        var writer = ByteWriter()
        write(to: &writer)
        return writer.bytes
    }

    /// Computes the digest that is signed: `keccak256(0x02 ‖ rlp([9 fields]))`.
    public func computeSigningHash() -> [UInt8] { Hash.keccak256(signingPayload) }

    /// Signs with RFC 6979 deterministic ECDSA (low-S, EIP-2) and returns the signed transaction.
    public func sign(with key: PrivateKey) throws(EthereumError) -> SignedEIP1559Transaction {
        let signature: RecoverableSignature
        do throws(WalletCryptoError) {
            signature = try key.signRecoverable(digest: computeSigningHash())
        } catch {
            throw EthereumError(.keyError, error.reason)
        }
        return SignedEIP1559Transaction(transaction: self, signature: try TransactionSignature(signature))
    }
}

/// A signed EIP-1559 transaction: `0x02 ‖ rlp([9 fields, yParity, r, s])` (EIP-1559, EIP-2718).
public struct SignedEIP1559Transaction: Sendable, Hashable {
    /// The signed fields.
    public let transaction: EIP1559Transaction
    /// The signature over ``EIP1559Transaction/computeSigningHash()``.
    public let signature: TransactionSignature

    /// Pairs a transaction and a signature (use ``EIP1559Transaction/sign(with:)`` to sign).
    public init(transaction: EIP1559Transaction, signature: TransactionSignature) {
        self.transaction = transaction
        self.signature = signature
    }

    /// Reads `0x02 ‖ rlp([12 fields])`.
    public init(reading reader: inout ByteReader) throws(EthereumError) {
        try TransactionCodec.expectType(&reader, EIP1559Transaction.type)
        let items = try TransactionCodec.readList(&reader, kind: "an EIP-1559 transaction", count: 12)
        transaction = try EIP1559Transaction(fields: items[0..<9])
        signature = try TransactionSignature.decode(yParity: items[9], r: items[10], s: items[11])
    }

    /// Parses exactly one signed serialisation; trailing bytes are an error.
    public init(bytes: [UInt8]) throws(EthereumError) {
        self = try TransactionCodec.whole(bytes) { (r: inout ByteReader) throws(EthereumError) in
            try SignedEIP1559Transaction(reading: &r)
        }
    }

    /// Writes the signed serialisation.
    public func write(to writer: inout ByteWriter) {
        writer.writeUInt8(EIP1559Transaction.type.rawValue)
        RLP.writeList(to: &writer) { payload in
            transaction.writeFields(to: &payload)
            RLP.writeInteger(UInt256(UInt64(signature.yParity)), to: &payload)
            RLP.writeInteger(signature.r, to: &payload)
            RLP.writeInteger(signature.s, to: &payload)
        }
    }

    /// The signed serialisation, as broadcast (`eth_sendRawTransaction`).
    public var serialized: [UInt8] {
        var writer = ByteWriter()
        write(to: &writer)
        return writer.bytes
    }

    /// Computes the transaction hash, `keccak256(serialized)`.
    public func computeHash() -> TransactionHash { TransactionHash.of(serialized) }

    /// Recovers the sender's address from the signature.
    public func recoverSender() throws(EthereumError) -> EthereumAddress {
        try signature.recoverAddress(digest: transaction.computeSigningHash())
    }
}
