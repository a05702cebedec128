public import WalletCrypto

/// A key expression inside an output descriptor (BIP-0380), as written: an optional key origin,
/// then a hex public key (compressed, uncompressed or — inside `tr` — x-only), a WIF private key,
/// or an extended key with a derivation path, an optional `*`/`*h` wildcard and at most one
/// BIP-0389 multipath step `<a;b;…>`.
public struct DescriptorKey: Sendable, Hashable, CustomStringConvertible {
    /// How the key itself is given.
    public enum Material: Sendable, Hashable {
        /// A SEC1 public key (33 or 65 bytes as written).
        case publicKey([UInt8])
        /// A 32-byte x-only key (only inside `tr`).
        case xOnly([UInt8])
        /// A WIF private key (secret: stored as its public key plus the text is kept for printing).
        case wif(publicKey: [UInt8])
        /// An extended public key.
        case xpub(ExtendedPublicKey)
        /// An extended private key (its public half; derivation of hardened steps needs `privateKey`).
        case xprv(ExtendedPublicKey)
    }

    /// What follows the extended key: normal, hardened or no wildcard.
    public enum Wildcard: Sendable, Hashable {
        case none, normal, hardened
    }

    /// The key origin, if given.
    public let origin: KeyOrigin?
    /// The key.
    public let material: Material
    /// Derivation steps after an extended key; one step may be multipath (several values).
    public let steps: [[ChildNumber]]
    /// The wildcard.
    public let wildcard: Wildcard
    /// The expression exactly as written, split around the multipath step for re-printing.
    let textParts: (before: String, choices: [String], after: String)
    /// The private extended key, when given (never printed, never compared).
    let privateExtendedKey: ExtendedPrivateKey?
    /// Per branch, the extended public key after the fixed steps (before the wildcard), derived
    /// once when every fixed step is non-hardened, so that ranged derivation costs one step.
    let baseKeys: [ExtendedPublicKey]?

    public static func == (a: DescriptorKey, b: DescriptorKey) -> Bool { a.description == b.description }
    public func hash(into h: inout Hasher) { h.combine(description) }

    /// The expression as written.
    public var description: String {
        textParts.choices.isEmpty
            ? textParts.before : "\(textParts.before)<\(textParts.choices.joined(separator: ";"))>\(textParts.after)"
    }

    /// The number of multipath branches (1 without a multipath step).
    public var branchCount: Int { steps.map(\.count).max() ?? 1 }
    /// Whether the key derives per index.
    public var isRanged: Bool { wildcard != .none }
    /// Whether the key is uncompressed.
    public var isUncompressed: Bool {
        if case .publicKey(let b) = material { return b.count == 65 }
        if case .wif(let b) = material { return b.count == 65 }
        return false
    }
    /// Whether the key is x-only.
    public var isXOnly: Bool {
        if case .xOnly = material { return true }
        return false
    }

    /// The same key with its multipath step fixed to branch `branch`.
    public func branch(_ branch: Int) -> DescriptorKey {
        guard !textParts.choices.isEmpty else { return self }
        return DescriptorKey(
            origin: origin, material: material, steps: steps.map { $0.count > 1 ? [$0[branch]] : $0 },
            wildcard: wildcard,
            textParts: (textParts.before + textParts.choices[branch] + textParts.after, [], ""),
            privateExtendedKey: privateExtendedKey)
    }

    init(
        origin: KeyOrigin?, material: Material, steps: [[ChildNumber]], wildcard: Wildcard,
        textParts: (before: String, choices: [String], after: String), privateExtendedKey: ExtendedPrivateKey?
    ) {
        self.origin = origin
        self.material = material
        self.steps = steps
        self.wildcard = wildcard
        self.textParts = textParts
        self.privateExtendedKey = privateExtendedKey
        let extended: ExtendedPublicKey?
        switch material {
        case .xpub(let x), .xprv(let x): extended = x
        default: extended = nil
        }
        if let x = extended, !steps.contains(where: { $0.contains(where: \.isHardened) }) {
            let branches = steps.map(\.count).max() ?? 1
            baseKeys = try? (0..<branches).map { b in
                try x.derive(DerivationPath(steps.map { $0.count > 1 ? $0[b] : $0[0] }))
            }
        } else {
            baseKeys = nil
        }
    }

    /// The concrete public key bytes (33, 65 or 32 bytes) at `index` on branch `branch`.
    public func publicKey(index: UInt32, branch: Int = 0) throws(BitcoinError) -> [UInt8] {
        switch material {
        case .publicKey(let b), .xOnly(let b): return b
        case .wif(let b): return b
        case .xpub(let x), .xprv(let x):
            if let baseKeys, wildcard != .hardened {
                do {
                    let base = baseKeys[baseKeys.count > 1 ? branch : 0]
                    return try (wildcard == .none ? base : base.derive(ChildNumber(rawValue: index & 0x7fff_ffff)))
                        .publicKey.compressed
                } catch {
                    throw BitcoinError(.keyError, error.description)
                }
            }
            var path = steps.map { $0.count > 1 ? $0[branch] : $0[0] }
            switch wildcard {
            case .none: break
            case .normal: path.append(ChildNumber(rawValue: index & 0x7fff_ffff))
            case .hardened: path.append(ChildNumber(rawValue: index | 0x8000_0000))
            }
            do {
                if path.contains(where: \.isHardened) {
                    guard let privateExtendedKey else {
                        throw BitcoinError(.invalidDescriptor, "hardened derivation from an extended public key")
                    }
                    return try privateExtendedKey.derive(DerivationPath(path)).privateKey.publicKey.compressed
                }
                return try x.derive(DerivationPath(path)).publicKey.compressed
            } catch let e as BitcoinError {
                throw e
            } catch let e as WalletCryptoError {
                throw BitcoinError(.keyError, e.description)
            } catch {
                throw BitcoinError(.keyError, "\(error)")
            }
        }
    }

    /// The full origin of the derived key at `index` (origin path + steps + index), for PSBT
    /// derivation records; `nil` without an origin or extended key.
    public func derivedOrigin(index: UInt32, branch: Int = 0) -> KeyOrigin? {
        let base: KeyOrigin
        switch material {
        case .xpub(let x), .xprv(let x):
            base = origin ?? KeyOrigin(fingerprint: x.fingerprint, path: .master)
        default:
            return origin
        }
        var path = base.path.components + steps.map { $0.count > 1 ? $0[branch] : $0[0] }
        switch wildcard {
        case .none: break
        case .normal: path.append(ChildNumber(rawValue: index & 0x7fff_ffff))
        case .hardened: path.append(ChildNumber(rawValue: index | 0x8000_0000))
        }
        return KeyOrigin(fingerprint: base.fingerprint, path: DerivationPath(path))
    }
}

extension DescriptorKey {
    /// Parses one key expression. `network` fixes which extended-key versions and WIF prefixes are
    /// accepted.
    static func parse(_ text: String, network: Network) throws(BitcoinError) -> DescriptorKey {
        var rest = Substring(text)
        var origin: KeyOrigin? = nil
        var originText = ""
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw BitcoinError(.invalidDescriptor, "key origin is not closed")
            }
            let inside = rest[rest.index(after: rest.startIndex)..<close]
            originText = String(rest[...close])
            rest = rest[rest.index(after: close)...]
            let parts = inside.split(separator: "/", omittingEmptySubsequences: false)
            guard let fpText = parts.first, fpText.utf8.count == 8, let fpBytes = try? Hex.decode(String(fpText)) else {
                throw BitcoinError(.invalidDescriptor, "key origin fingerprint must be 8 hex digits")
            }
            var comps = [ChildNumber]()
            for p in parts.dropFirst() { comps.append(try parseStep(p, allowMultipath: false).0[0]) }
            origin = KeyOrigin(fingerprint: try! Fingerprint(fpBytes), path: DerivationPath(comps))
        }
        guard !rest.contains("["), !rest.contains("]") else {
            throw BitcoinError(.invalidDescriptor, "misplaced key origin brackets")
        }
        guard !rest.isEmpty else { throw BitcoinError(.invalidDescriptor, "key origin with no key") }
        let pieces = rest.split(separator: "/", omittingEmptySubsequences: false)
        let keyText = String(pieces[0])
        let pathPieces = Array(pieces.dropFirst())

        // Hex public keys.
        if let bytes = try? Hex.decode(keyText), [33, 65, 32].contains(bytes.count) {
            guard pathPieces.isEmpty else {
                throw BitcoinError(.invalidDescriptor, "derivation after a plain public key")
            }
            let material: Material
            if bytes.count == 32 {
                guard (try? XOnlyPublicKey(bytes: bytes)) != nil else {
                    throw BitcoinError(.invalidDescriptor, "invalid x-only key")
                }
                material = .xOnly(bytes)
            } else {
                guard (try? PublicKey(bytes: bytes)) != nil else {
                    throw BitcoinError(.invalidDescriptor, "invalid public key \(keyText)")
                }
                material = .publicKey(bytes)
            }
            return DescriptorKey(
                origin: origin, material: material, steps: [], wildcard: .none, textParts: (text, [], ""),
                privateExtendedKey: nil)
        }
        // WIF.
        if let wif = try? WIF(keyText, network: network) {
            guard pathPieces.isEmpty else {
                throw BitcoinError(.invalidDescriptor, "derivation after a WIF private key")
            }
            let pub = wif.isCompressed ? wif.privateKey.publicKey.compressed : wif.privateKey.publicKey.uncompressed
            return DescriptorKey(
                origin: origin, material: .wif(publicKey: pub), steps: [], wildcard: .none, textParts: (text, [], ""),
                privateExtendedKey: nil)
        }
        // Extended keys.
        let material: Material
        var privateKey: ExtendedPrivateKey? = nil
        if let xpub = try? ExtendedPublicKey(parsing: keyText) {
            guard xpub.version?.isMainnet == network.isMainnet else {
                throw BitcoinError(.wrongNetwork, "extended key version does not match \(network)")
            }
            material = .xpub(xpub)
        } else if let xprv = try? ExtendedPrivateKey(parsing: keyText) {
            guard keyText.hasPrefix(network.isMainnet ? "xprv" : "tprv") else {
                throw BitcoinError(.wrongNetwork, "extended key version does not match \(network)")
            }
            privateKey = xprv
            material = .xprv(xprv.extendedPublicKey)
        } else {
            throw BitcoinError(.invalidDescriptor, "'\(keyText.prefix(12))…' is not a key")
        }
        var steps = [[ChildNumber]]()
        var wildcard = Wildcard.none
        var choices = [String]()
        var beforeParts = [originText + keyText]
        var afterParts = [String]()
        for (i, p) in pathPieces.enumerated() {
            if p == "*" || p == "*h" || p == "*'" {
                guard i == pathPieces.count - 1 else {
                    throw BitcoinError(.invalidDescriptor, "wildcard must be the last step")
                }
                wildcard = p == "*" ? .normal : .hardened
                (choices.isEmpty ? { beforeParts.append(String(p)) } : { afterParts.append(String(p)) })()
                continue
            }
            let (values, tokens) = try parseStep(p, allowMultipath: true)
            if values.count > 1 {
                guard choices.isEmpty else {
                    throw BitcoinError(.invalidDescriptor, "more than one multipath step in a key")
                }
                choices = tokens
                steps.append(values)
                continue
            }
            steps.append(values)
            if choices.isEmpty { beforeParts.append(String(p)) } else { afterParts.append(String(p)) }
        }
        guard steps.count <= 255 else { throw BitcoinError(.invalidDescriptor, "derivation path too long") }
        // Hardened steps after an xpub are a valid expression (BIP-0380) that cannot be derived;
        // `publicKey(index:branch:)` refuses them by name.
        let before = beforeParts.joined(separator: "/") + (choices.isEmpty ? "" : "/")
        let after = afterParts.isEmpty ? "" : "/" + afterParts.joined(separator: "/")
        return DescriptorKey(
            origin: origin, material: material, steps: steps, wildcard: wildcard, textParts: (before, choices, after),
            privateExtendedKey: privateKey)
    }

    /// One path step: `12`, `12h`, `12'` or a multipath `<0;1>` (values and their text tokens).
    static func parseStep(_ p: Substring, allowMultipath: Bool) throws(BitcoinError) -> ([ChildNumber], [String]) {
        if p.hasPrefix("<") || p.hasSuffix(">") {
            guard allowMultipath else { throw BitcoinError(.invalidDescriptor, "multipath step in a key origin") }
            guard p.hasPrefix("<"), p.hasSuffix(">"), p.count >= 2 else {
                throw BitcoinError(.invalidDescriptor, "unbalanced multipath step '\(p)'")
            }
            let inner = p.dropFirst().dropLast()
            let tokens = inner.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
            guard tokens.count >= 2 else {
                throw BitcoinError(.invalidDescriptor, "multipath step needs at least two values")
            }
            var values = [ChildNumber]()
            for t in tokens {
                let v = try parseStep(Substring(t), allowMultipath: false).0[0]
                guard !values.contains(v) else { throw BitcoinError(.invalidDescriptor, "multipath step repeats \(v)") }
                values.append(v)
            }
            return (values, tokens)
        }
        var digits = p
        var hardened = false
        if let last = digits.last, last == "h" || last == "'" {
            hardened = true
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.count <= 10, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let v = UInt32(digits), v < 0x8000_0000
        else { throw BitcoinError(.invalidDescriptor, "'\(p)' is not a derivation step") }
        return ([ChildNumber(rawValue: hardened ? v | 0x8000_0000 : v)], [String(p)])
    }
}
