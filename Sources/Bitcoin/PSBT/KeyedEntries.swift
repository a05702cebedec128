/// A map from key bytes to values, for PSBT fields keyed by public keys, hashes or control blocks,
/// kept sorted by key so that two maps with the same entries are equal however they were built
/// (serialisation applies Bitcoin Core's order on top).
public struct KeyedEntries<Value: Hashable & Sendable>: Sendable, Hashable, Sequence {
    /// One entry.
    public struct Entry: Sendable, Hashable {
        /// The key bytes.
        public let key: [UInt8]
        /// The value.
        public var value: Value
    }

    /// The entries, sorted by key.
    public private(set) var entries: [Entry] = []

    /// An empty map.
    public init() {}

    /// The value for `key`; setting `nil` removes it, setting a new key appends it.
    public subscript(key: [UInt8]) -> Value? {
        get { entries.first { $0.key == key }?.value }
        set {
            if let i = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[i].value = newValue } else { entries.remove(at: i) }
            } else if let newValue {
                let at = entries.firstIndex { key.lexicographicallyPrecedes($0.key) } ?? entries.count
                entries.insert(Entry(key: key, value: newValue), at: at)
            }
        }
    }

    /// The keys, sorted.
    public var keys: [[UInt8]] { entries.map(\.key) }
    /// Whether the map is empty.
    public var isEmpty: Bool { entries.isEmpty }
    /// The number of entries.
    public var count: Int { entries.count }

    public func makeIterator() -> IndexingIterator<[(key: [UInt8], value: Value)]> {
        entries.map { (key: $0.key, value: $0.value) }.makeIterator()
    }

    /// Merges `other` in: new keys are appended, equal values are kept, different values for one
    /// key are a conflict.
    func merged(with other: KeyedEntries<Value>, what: String) throws(BitcoinError) -> KeyedEntries<Value> {
        var out = self
        for e in other.entries {
            if let existing = out[e.key] {
                guard existing == e.value else { throw BitcoinError(.cannotCombine, "conflicting \(what)") }
            } else {
                out[e.key] = e.value
            }
        }
        return out
    }
}
