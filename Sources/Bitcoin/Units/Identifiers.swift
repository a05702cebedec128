import WalletCrypto

/// A transaction id: double SHA-256 of the non-witness serialisation. Stored in internal byte
/// order; printed byte-reversed, as Bitcoin Core and block explorers show it. Distinct from
/// ``Wtxid`` so the two can never be confused.
public struct Txid: Sendable, Hashable, CustomStringConvertible {
    /// The 32 bytes in internal (hash) order.
    public let bytes: [UInt8]

    /// Wraps 32 bytes in internal order.
    public init(bytes: [UInt8]) throws(BitcoinError) {
        guard bytes.count == 32 else { throw BitcoinError(.invalidTransaction, "a txid is 32 bytes") }
        self.bytes = bytes
    }

    init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// Parses the displayed (byte-reversed) hex form.
    public init(hex: String) throws(BitcoinError) {
        do {
            let b = try Hex.decode(hex, maxBytes: 32)
            try self.init(bytes: Array(b.reversed()))
        } catch let e as BitcoinError {
            throw e
        } catch {
            throw BitcoinError(.invalidTransaction, "txid '\(hex)' is not 64 hex digits")
        }
    }

    public var description: String { Hex.encode(bytes.reversed()) }
}

/// A witness transaction id (BIP-0141): double SHA-256 of the full serialisation.
public struct Wtxid: Sendable, Hashable, CustomStringConvertible {
    /// The 32 bytes in internal order.
    public let bytes: [UInt8]
    init(unchecked bytes: [UInt8]) { self.bytes = bytes }
    public var description: String { Hex.encode(bytes.reversed()) }
}
