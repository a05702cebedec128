public import WalletCrypto

/// The secp256k1 signature on a transaction: `yParity` (the recovery id, 0 or 1) and `r`, `s`
/// (EIP-2718 typed transactions; legacy transactions fold `yParity` into `v`, EIP-155).
///
/// Only values a valid transaction can carry are representable: `1 ≤ r < n`, `1 ≤ s ≤ n/2`
/// (EIP-2 low-S, so a signature cannot be malleated into a second valid one) and
/// `yParity ∈ {0, 1}`.
public struct TransactionSignature: Sendable, Hashable {
    /// The recovery id: the parity of the y coordinate of the signature's `R` point.
    public let yParity: UInt8
    /// The `r` value.
    public let r: UInt256
    /// The `s` value, in the lower half of the curve order.
    public let s: UInt256

    /// The secp256k1 group order n.
    static let curveOrder = try! UInt256(
        hexQuantity: "0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
    /// n / 2, the largest `s` EIP-2 allows.
    static let halfCurveOrder = try! UInt256(
        hexQuantity: "0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0")

    /// Creates a signature, refusing values no valid transaction carries.
    public init(yParity: UInt8, r: UInt256, s: UInt256) throws(EthereumError) {
        guard yParity <= 1 else {
            throw EthereumError(.invalidSignature, "yParity must be 0 or 1, not \(yParity)")
        }
        guard !r.isZero, r < Self.curveOrder else {
            throw EthereumError(.invalidSignature, "r must be in 1..<n, not \(r.hexQuantity)")
        }
        guard !s.isZero, s <= Self.halfCurveOrder else {
            throw EthereumError(
                .invalidSignature,
                s.isZero ? "s must not be zero" : "s \(s.hexQuantity) is above n/2 (EIP-2 requires low s)")
        }
        self.yParity = yParity
        self.r = r
        self.s = s
    }

    /// Converts a recoverable ECDSA signature produced by the key layer.
    public init(_ signature: RecoverableSignature) throws(EthereumError) {
        guard signature.recoveryID <= 1 else {
            throw EthereumError(.invalidSignature, "recovery id \(signature.recoveryID) has no yParity")
        }
        try self.init(
            yParity: signature.recoveryID, r: UInt256(bigEndian: signature.r), s: UInt256(bigEndian: signature.s))
    }

    /// Recovers the address that produced this signature over `digest`.
    public func recoverAddress(digest: [UInt8]) throws(EthereumError) -> EthereumAddress {
        do throws(WalletCryptoError) {
            let recoverable = try RecoverableSignature(
                compact: r.bigEndianBytes + s.bigEndianBytes, recoveryID: yParity)
            return EthereumAddress(publicKey: try recoverable.recover(digest: digest))
        } catch {
            throw EthereumError(.recoveryFailed, "no public key recovers from the signature: \(error.reason)")
        }
    }

    /// Reads the three signature fields of a transaction list.
    static func decode(yParity: RLP.Item, r: RLP.Item, s: RLP.Item) throws(EthereumError) -> TransactionSignature {
        let parity = try yParity.uint64(field: "yParity")
        guard parity <= 1 else { throw EthereumError(.invalidSignature, "yParity must be 0 or 1, not \(parity)") }
        return try TransactionSignature(
            yParity: UInt8(parity), r: r.uint256(field: "r"), s: s.uint256(field: "s"))
    }

    /// The three signature fields as RLP items.
    var rlpFields: [RLP.Item] { [.integer(UInt64(yParity)), .integer(r), .integer(s)] }
}

/// A transaction hash: Keccak-256 of the transaction's EIP-2718 serialisation (for legacy
/// transactions, of its RLP). Distinct from the signing hash, which has no signature in it.
public struct TransactionHash: Sendable, Hashable, CustomStringConvertible {
    /// The 32 hash bytes.
    public let bytes: [UInt8]

    /// Wraps exactly 32 bytes.
    public init(bytes: [UInt8]) throws(EthereumError) {
        guard bytes.count == 32 else {
            throw EthereumError(.invalidField, "a transaction hash is 32 bytes, not \(bytes.count)")
        }
        self.bytes = bytes
    }

    /// Hashes a serialisation.
    static func of(_ serialized: [UInt8]) -> TransactionHash {
        try! TransactionHash(bytes: Hash.keccak256(serialized))
    }

    public var description: String { "0x" + Hex.encode(bytes) }
}
