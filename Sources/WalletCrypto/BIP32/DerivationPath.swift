/// One step of a BIP-0032 path: an index below 2^31, hardened or not.
public struct ChildNumber: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The raw 32-bit value; hardened children have the top bit set.
    public let rawValue: UInt32

    /// Wraps a raw value.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// A normal (public) child `index`.
    public static func normal(_ index: UInt32) throws(WalletCryptoError) -> ChildNumber {
        guard index < 0x8000_0000 else {
            throw WalletCryptoError(.invalidDerivationPath, "index \(index) is not below 2^31")
        }
        return ChildNumber(rawValue: index)
    }

    /// A hardened child `index'`.
    public static func hardened(_ index: UInt32) throws(WalletCryptoError) -> ChildNumber {
        guard index < 0x8000_0000 else {
            throw WalletCryptoError(.invalidDerivationPath, "index \(index) is not below 2^31")
        }
        return ChildNumber(rawValue: index | 0x8000_0000)
    }

    /// Whether the child is hardened.
    public var isHardened: Bool { rawValue & 0x8000_0000 != 0 }
    /// The index without the hardened bit.
    public var index: UInt32 { rawValue & 0x7fff_ffff }

    public var description: String { isHardened ? "\(index)h" : "\(index)" }
    public static func < (a: ChildNumber, b: ChildNumber) -> Bool { a.rawValue < b.rawValue }
}

/// A BIP-0032 derivation path such as `m/84h/0h/0h/0/5`.
///
/// Parsing accepts an optional leading `m/`, and `h`, `H` or `'` as the hardened marker; indices
/// are decimal without leading zeros and below 2^31; at most 255 levels. Printing uses `h`.
public struct DerivationPath: Sendable, Hashable, CustomStringConvertible {
    /// The steps from the master key.
    public let components: [ChildNumber]

    /// A path from its steps.
    public init(_ components: [ChildNumber]) { self.components = components }

    /// The empty path `m`.
    public static let master = DerivationPath([])

    /// Parses a path.
    public init(parsing text: String) throws(WalletCryptoError) {
        guard text.utf8.count <= 255 * 12 else {
            throw WalletCryptoError(.invalidDerivationPath, "path text is too long")
        }
        var parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if parts.first == "m" { parts.removeFirst() }
        if parts == [""] && text.isEmpty { parts = [] }
        guard parts.count <= 255 else { throw WalletCryptoError(.invalidDerivationPath, "more than 255 levels") }
        var out = [ChildNumber]()
        for part in parts {
            var digits = Substring(part)
            var hardened = false
            if let last = digits.last, last == "h" || last == "H" || last == "'" {
                hardened = true
                digits = digits.dropLast()
            }
            guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), digits.count <= 10,
                digits == "0" || digits.first != "0", let value = UInt32(digits)
            else {
                throw WalletCryptoError(.invalidDerivationPath, "'\(part)' is not a path step")
            }
            out.append(try hardened ? .hardened(value) : .normal(value))
        }
        components = out
    }

    /// The path with one more step.
    public func appending(_ child: ChildNumber) -> DerivationPath { DerivationPath(components + [child]) }
    /// The path with more steps.
    public func appending(_ path: DerivationPath) -> DerivationPath { DerivationPath(components + path.components) }

    /// `m/…` form.
    public var description: String { (["m"] + components.map(\.description)).joined(separator: "/") }
    /// The form used inside descriptor key origins: steps only, no `m`.
    public var originForm: String { components.map(\.description).joined(separator: "/") }
}
