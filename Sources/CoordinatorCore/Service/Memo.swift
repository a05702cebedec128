import Synchronization

/// A bounded, thread-safe memo of a pure function's results: at most `capacity` entries, after which it starts
/// over. It only saves work; nothing may depend on an entry being there (another replica has its own, or none).
final class Memo<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let entries = Mutex<[Key: Value]>([:])
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// The remembered value for `key`, if any.
    subscript(key: Key) -> Value? {
        entries.withLock { $0[key] }
    }

    /// Remembers `value` for `key`.
    func remember(_ value: Value, for key: Key) {
        entries.withLock {
            if $0.count >= capacity { $0.removeAll(keepingCapacity: true) }
            $0[key] = value
        }
    }
}
