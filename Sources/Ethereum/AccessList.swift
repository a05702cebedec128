import WalletCrypto

/// A 32-byte storage slot key in an access list (EIP-2930).
public struct StorageKey: Sendable, Hashable, CustomStringConvertible {
    /// The 32 key bytes.
    public let bytes: [UInt8]

    /// Wraps exactly 32 bytes.
    public init<C: Collection>(bytes: C) throws(EthereumError) where C.Element == UInt8 {
        guard bytes.count == 32 else {
            throw EthereumError(.invalidField, "a storage key is 32 bytes, not \(bytes.count)")
        }
        self.bytes = Array(bytes)
    }

    public var description: String { "0x" + Hex.encode(bytes) }
}

/// An EIP-2930 access list: the addresses and storage slots a transaction declares it will
/// touch. Types 0x01 and 0x02 (EIP-1559) carry one; Kura's signer refuses any non-empty list
/// unless the intent pins it (ATTACKS E12), so decoding keeps every entry visible.
public struct AccessList: Sendable, Hashable {
    /// One access-list entry: an address and the storage keys declared for it.
    public struct Entry: Sendable, Hashable {
        /// The account whose storage is declared.
        public let address: EthereumAddress
        /// The storage keys declared for it, in order (duplicates are legal and kept).
        public let storageKeys: [StorageKey]

        /// Creates an entry.
        public init(address: EthereumAddress, storageKeys: [StorageKey]) {
            self.address = address
            self.storageKeys = storageKeys
        }
    }

    /// The entries, in order.
    public let entries: [Entry]

    /// Creates a list.
    public init(_ entries: [Entry]) { self.entries = entries }

    /// The empty access list.
    public static let empty = AccessList([])

    /// Whether there are no entries.
    public var isEmpty: Bool { entries.isEmpty }

    /// The number of storage keys over all entries.
    public var storageKeyCount: Int { entries.reduce(0) { $0 + $1.storageKeys.count } }

    /// The RLP form `[[address, [key, …]], …]`.
    public var rlp: RLP.Item {
        .list(
            entries.map { entry in
                .list([.bytes(entry.address.bytes), .list(entry.storageKeys.map { .bytes($0.bytes) })])
            })
    }

    /// Decodes the RLP form strictly: every entry is a two-item list, every address 20 bytes,
    /// every storage key 32 bytes.
    public init(rlp item: RLP.Item) throws(EthereumError) {
        var entries = [Entry]()
        for (i, entryItem) in try item.list(field: "accessList").enumerated() {
            let pair = try entryItem.list(field: "accessList[\(i)]")
            guard pair.count == 2 else {
                throw EthereumError(
                    .wrongFieldCount, "accessList[\(i)] has \(pair.count) items; an entry is [address, storageKeys]")
            }
            let addressBytes = try pair[0].bytes(field: "accessList[\(i)].address")
            guard addressBytes.count == 20 else {
                throw EthereumError(
                    .invalidField, "accessList[\(i)].address is \(addressBytes.count) bytes; an address is 20")
            }
            var keys = [StorageKey]()
            for (j, keyItem) in try pair[1].list(field: "accessList[\(i)].storageKeys").enumerated() {
                let keyBytes = try keyItem.bytes(field: "accessList[\(i)].storageKeys[\(j)]")
                guard keyBytes.count == 32 else {
                    throw EthereumError(
                        .invalidField,
                        "accessList[\(i)].storageKeys[\(j)] is \(keyBytes.count) bytes; a storage key is 32")
                }
                keys.append(try StorageKey(bytes: keyBytes))
            }
            entries.append(Entry(address: try EthereumAddress(bytes: addressBytes), storageKeys: keys))
        }
        self.entries = entries
    }
}
