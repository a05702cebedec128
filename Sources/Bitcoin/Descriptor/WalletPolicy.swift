import WalletCrypto

/// A BIP-0388 wallet policy: a descriptor template with key placeholders `@i/**` or
/// `@i/<M;N>/*`, and the key information vector (`[fingerprint/path]xpub`) the placeholders stand
/// for. This is how a multisig wallet is registered with each signer: the template and the keys
/// are short, checkable on a small screen, and expand to exactly one descriptor.
public struct WalletPolicy: Sendable, Hashable {
    /// The template, e.g. `wsh(sortedmulti(2,@0/**,@1/**,@2/**))`.
    public let template: String
    /// The key information vector, e.g. `[6738736c/48'/0'/0'/2']xpub…`.
    public let keys: [String]
    /// The expanded descriptor.
    public let descriptor: Descriptor

    /// Validates a policy per BIP-0388 and expands it.
    public init(template: String, keys: [String], network: Network) throws(BitcoinError) {
        guard template.utf8.count <= 10_000, keys.count <= 100 else {
            throw BitcoinError(.resourceLimit, "wallet policy too large")
        }
        let t = Array(template.utf8)
        var expanded = ""
        var i = 0
        var nextExpected = 0
        var used = [Int: [Set<UInt32>]]()
        while i < t.count {
            let c = t[i]
            if c != UInt8(ascii: "@") {
                expanded.append(Character(Unicode.Scalar(c)))
                i += 1
                continue
            }
            i += 1
            let start = i
            while i < t.count, t[i] >= 0x30, t[i] <= 0x39 { i += 1 }
            guard i > start, let index = Int(String(decoding: t[start..<i], as: UTF8.self)), i - start <= 3 else {
                throw BitcoinError(.invalidWalletPolicy, "'@' must be followed by a key index")
            }
            if index > nextExpected {
                throw BitcoinError(
                    .invalidWalletPolicy, "key placeholders out of order or skipped (@\(index) before @\(nextExpected))"
                )
            }
            if index == nextExpected { nextExpected += 1 }
            let rest = String(decoding: t[i...], as: UTF8.self)
            let branches: Set<UInt32>
            let suffix: String
            if rest.hasPrefix("/**") {
                branches = [0, 1]
                suffix = "/<0;1>/*"
                i += 3
            } else if rest.hasPrefix("/<") {
                guard let close = rest.firstIndex(of: ">") else {
                    throw BitcoinError(.invalidWalletPolicy, "unterminated multipath after @\(index)")
                }
                let inner = rest[rest.index(rest.startIndex, offsetBy: 2)..<close]
                let parts = inner.split(separator: ";", omittingEmptySubsequences: false)
                guard parts.count == 2, let a = UInt32(parts[0]), let b = UInt32(parts[1]), a != b, a < 0x8000_0000,
                    b < 0x8000_0000,
                    parts.allSatisfy({ $0 == "0" || !$0.hasPrefix("0") })
                else {
                    throw BitcoinError(
                        .invalidWalletPolicy, "@\(index) needs /<M;N>/* with two distinct non-hardened indexes")
                }
                let afterClose = rest[rest.index(after: close)...]
                guard afterClose.hasPrefix("/*"), !afterClose.hasPrefix("/*h"), !afterClose.hasPrefix("/*'") else {
                    throw BitcoinError(.invalidWalletPolicy, "@\(index)/<M;N> must be followed by /*")
                }
                branches = [a, b]
                suffix = "/<\(a);\(b)>/*"
                i += rest.distance(from: rest.startIndex, to: close) + 1 + 2
            } else {
                throw BitcoinError(
                    .invalidWalletPolicy,
                    "key placeholder @\(index) must be followed by /** or /<M;N>/* (no explicit path)")
            }
            for previous in used[index] ?? [] where !previous.isDisjoint(with: branches) {
                throw BitcoinError(.invalidWalletPolicy, "@\(index) is used twice with overlapping paths")
            }
            used[index, default: []].append(branches)
            guard index < keys.count else {
                throw BitcoinError(.invalidWalletPolicy, "@\(index) has no key information")
            }
            expanded += keys[index] + suffix
        }
        guard nextExpected == keys.count else {
            throw BitcoinError(.invalidWalletPolicy, "\(keys.count) keys given for \(nextExpected) placeholders")
        }
        if template.contains("musig(") {
            throw BitcoinError(.invalidWalletPolicy, "musig() policies are not supported")
        }
        for k in keys {
            let key: DescriptorKey
            do {
                key = try DescriptorKey.parse(k, network: network)
            } catch {
                throw BitcoinError(.invalidWalletPolicy, "key information '\(k.prefix(20))…': \(error.reason)")
            }
            guard case .xpub = key.material, key.steps.isEmpty, key.wildcard == .none else {
                throw BitcoinError(
                    .invalidWalletPolicy, "key information must be an xpub with an optional origin and no derivation")
            }
        }
        // Every key in the expanded descriptor must come from a placeholder.
        let parsed: Descriptor
        do {
            parsed = try Descriptor(expanded, network: network)
        } catch {
            throw BitcoinError(
                .invalidWalletPolicy, "template does not expand to a supported descriptor: \(error.reason)")
        }
        guard parsed.keys.count == used.values.map(\.count).reduce(0, +) else {
            throw BitcoinError(.invalidWalletPolicy, "template contains keys that are not placeholders")
        }
        self.template = template
        self.keys = keys
        self.descriptor = parsed
    }

    /// The expanded descriptor text (BIP-0388 "descriptor"), without checksum.
    public var descriptorText: String { descriptor.body }
}
