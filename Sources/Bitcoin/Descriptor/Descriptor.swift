import WalletCrypto

/// An output script descriptor (BIP-0380…0386, multipath BIP-0389): `pk`, `pkh`, `wpkh`, `combo`,
/// `sh`, `wsh`, `multi`/`sortedmulti`, `tr` with an optional script tree of `pk`, `pkh` and
/// `multi_a`/`sortedmulti_a` leaves, `addr` and `raw`, with checksums.
///
/// Parsing enforces the BIPs' context rules (what may nest in what, no uncompressed keys under
/// segwit, x-only keys only in `tr`, key counts and script-size limits) and always names a
/// network, which fixes the accepted extended-key versions, WIF prefixes and `addr()` encodings.
public struct Descriptor: Sendable, Hashable, CustomStringConvertible {
    /// A node of the descriptor tree.
    public indirect enum Node: Sendable, Hashable {
        case pk(DescriptorKey)
        case pkh(DescriptorKey)
        case wpkh(DescriptorKey)
        case combo(DescriptorKey)
        case sh(Node)
        case wsh(Node)
        case multi(threshold: Int, keys: [DescriptorKey], sorted: Bool)
        case multiA(threshold: Int, keys: [DescriptorKey], sorted: Bool)
        case tr(DescriptorKey, Tree?)
        case addr(Address)
        case raw(Script)
    }

    /// A `tr()` script tree.
    public indirect enum Tree: Sendable, Hashable {
        case leaf(Node)
        case branch(Tree, Tree)
    }

    /// The root node.
    public let root: Node
    /// The network.
    public let network: Network

    /// Parses `text` (with or without a `#checksum`; `requireChecksum` makes it mandatory).
    public init(_ text: String, network: Network, requireChecksum: Bool = false) throws(BitcoinError) {
        guard text.utf8.count <= 100_000 else {
            throw BitcoinError(.resourceLimit, "descriptor longer than 100,000 characters")
        }
        let body = try DescriptorChecksum.verify(text, required: requireChecksum)
        var parser = DescriptorParser(text: Array(body.utf8), network: network)
        root = try parser.parseTop()
        self.network = network
        guard Set(root.keys.map(\.branchCount)).subtracting([1]).count <= 1 else {
            throw BitcoinError(.invalidDescriptor, "multipath steps of different lengths")
        }
    }

    init(root: Node, network: Network) {
        self.root = root
        self.network = network
    }

    /// The descriptor text without checksum.
    public var body: String { root.text }
    /// The descriptor with its checksum.
    public var description: String { DescriptorChecksum.append(to: body) }

    /// Whether the descriptor derives per index (contains a wildcard).
    public var isRanged: Bool { root.keys.contains { $0.isRanged } }
    /// The number of BIP-0389 branches (1 for a single-path descriptor).
    public var branchCount: Int { root.keys.map(\.branchCount).max() ?? 1 }

    /// BIP-0389: the single-path descriptors, one per multipath branch.
    public func singlePathDescriptors() -> [Descriptor] {
        (0..<branchCount).map { b in Descriptor(root: root.mapKeys { $0.branch(b) }, network: network) }
    }

    /// The output scripts at `index` (one, except `combo`). Multipath descriptors need `branch`.
    public func scriptPubKeys(index: UInt32 = 0, branch: Int = 0) throws(BitcoinError) -> [Script] {
        guard branch < branchCount else { throw BitcoinError(.invalidDescriptor, "branch \(branch) does not exist") }
        return try root.scriptPubKeys(index: index, branch: branch, network: network)
    }

    /// The single output script at `index` (an error for `combo`).
    public func scriptPubKey(index: UInt32 = 0, branch: Int = 0) throws(BitcoinError) -> Script {
        let scripts = try scriptPubKeys(index: index, branch: branch)
        guard scripts.count == 1 else {
            throw BitcoinError(.invalidDescriptor, "descriptor gives \(scripts.count) scripts")
        }
        return scripts[0]
    }

    /// The address at `index`, as Bitcoin Core's `deriveaddresses`.
    public func address(index: UInt32 = 0, branch: Int = 0) throws(BitcoinError) -> Address {
        try Address(scriptPubKey: scriptPubKey(index: index, branch: branch), network: network)
    }

    /// Addresses for `indices` (Bitcoin Core `deriveaddresses DESC [begin,end]`); a non-ranged
    /// descriptor accepts only a range starting at 0 of length 1.
    public func deriveAddresses(_ indices: Range<UInt32>, branch: Int = 0) throws(BitcoinError) -> [Address] {
        guard indices.upperBound <= 0x8000_0000 else { throw BitcoinError(.invalidDescriptor, "index beyond 2^31") }
        if !isRanged && indices != 0..<1 {
            throw BitcoinError(.invalidDescriptor, "a non-ranged descriptor has one address")
        }
        var out = [Address]()
        out.reserveCapacity(indices.count)
        for i in indices { out.append(try address(index: i, branch: branch)) }
        return out
    }

    /// The witness script (`wsh`) or redeem script (`sh`) at `index`, for PSBT updaters.
    public func scripts(index: UInt32 = 0, branch: Int = 0) throws(BitcoinError) -> (
        redeemScript: Script?, witnessScript: Script?
    ) {
        switch root {
        case .sh(let inner):
            if case .wsh(let w) = inner {
                let ws = try w.innerScript(index: index, branch: branch, network: network, tapscript: false)
                return (.p2wsh(ws), ws)
            }
            return (try inner.innerScript(index: index, branch: branch, network: network, tapscript: false), nil)
        case .wsh(let inner):
            return (nil, try inner.innerScript(index: index, branch: branch, network: network, tapscript: false))
        default:
            return (nil, nil)
        }
    }

    /// Every key expression in order of appearance.
    public var keys: [DescriptorKey] { root.keys }
}

extension Descriptor.Node {
    var keys: [DescriptorKey] {
        switch self {
        case .pk(let k), .pkh(let k), .wpkh(let k), .combo(let k): return [k]
        case .sh(let n), .wsh(let n): return n.keys
        case .multi(_, let ks, _), .multiA(_, let ks, _): return ks
        case .tr(let k, let t): return [k] + (t?.keys ?? [])
        case .addr, .raw: return []
        }
    }

    func mapKeys(_ f: (DescriptorKey) -> DescriptorKey) -> Descriptor.Node {
        switch self {
        case .pk(let k): return .pk(f(k))
        case .pkh(let k): return .pkh(f(k))
        case .wpkh(let k): return .wpkh(f(k))
        case .combo(let k): return .combo(f(k))
        case .sh(let n): return .sh(n.mapKeys(f))
        case .wsh(let n): return .wsh(n.mapKeys(f))
        case .multi(let t, let ks, let s): return .multi(threshold: t, keys: ks.map(f), sorted: s)
        case .multiA(let t, let ks, let s): return .multiA(threshold: t, keys: ks.map(f), sorted: s)
        case .tr(let k, let tree): return .tr(f(k), tree?.mapKeys(f))
        case .addr, .raw: return self
        }
    }

    var text: String {
        switch self {
        case .pk(let k): return "pk(\(k))"
        case .pkh(let k): return "pkh(\(k))"
        case .wpkh(let k): return "wpkh(\(k))"
        case .combo(let k): return "combo(\(k))"
        case .sh(let n): return "sh(\(n.text))"
        case .wsh(let n): return "wsh(\(n.text))"
        case .multi(let t, let ks, let s):
            return "\(s ? "sortedmulti" : "multi")(\(t),\(ks.map(\.description).joined(separator: ",")))"
        case .multiA(let t, let ks, let s):
            return "\(s ? "sortedmulti_a" : "multi_a")(\(t),\(ks.map(\.description).joined(separator: ",")))"
        case .tr(let k, let tree): return tree.map { "tr(\(k),\($0.text))" } ?? "tr(\(k))"
        case .addr(let a): return "addr(\(a.text))"
        case .raw(let s): return "raw(\(Hex.encode(s.bytes)))"
        }
    }

    /// Key bytes for a script: x-only inside tapscript, as written elsewhere.
    static func keyBytes(_ k: DescriptorKey, index: UInt32, branch: Int, tapscript: Bool) throws(BitcoinError)
        -> [UInt8]
    {
        let b = try k.publicKey(index: index, branch: branch)
        if tapscript { return b.count == 32 ? b : Array(b[1..<33]) }
        return b
    }

    /// The script this node places inside `sh`/`wsh` or a tapscript leaf.
    func innerScript(index: UInt32, branch: Int, network: Network, tapscript: Bool) throws(BitcoinError) -> Script {
        switch self {
        case .pk(let k):
            return .p2pk(try Self.keyBytes(k, index: index, branch: branch, tapscript: tapscript))
        case .pkh(let k):
            return .p2pkh(hash: Hash.hash160(try Self.keyBytes(k, index: index, branch: branch, tapscript: tapscript)))
        case .wpkh(let k):
            return .witness(version: 0, program: Hash.hash160(try k.publicKey(index: index, branch: branch)))
        case .wsh(let n):
            return .p2wsh(try n.innerScript(index: index, branch: branch, network: network, tapscript: false))
        case .multi(let t, let ks, let sorted):
            var keys = [[UInt8]]()
            for k in ks { keys.append(try k.publicKey(index: index, branch: branch)) }
            if sorted { keys.sort { $0.lexicographicallyPrecedes($1) } }
            return .multisig(threshold: t, keys: keys)
        case .multiA(let t, let ks, let sorted):
            var keys = [[UInt8]]()
            for k in ks { keys.append(try Self.keyBytes(k, index: index, branch: branch, tapscript: true)) }
            if sorted { keys.sort { $0.lexicographicallyPrecedes($1) } }
            return .multiA(threshold: t, xOnlyKeys: keys)
        default:
            throw BitcoinError(.invalidDescriptor, "\(text) cannot be nested")
        }
    }

    func scriptPubKeys(index: UInt32, branch: Int, network: Network) throws(BitcoinError) -> [Script] {
        switch self {
        case .pk, .pkh, .multi:
            return [try innerScript(index: index, branch: branch, network: network, tapscript: false)]
        case .wpkh(let k):
            return [.witness(version: 0, program: Hash.hash160(try k.publicKey(index: index, branch: branch)))]
        case .combo(let k):
            let key = try k.publicKey(index: index, branch: branch)
            let h = Hash.hash160(key)
            var out: [Script] = [.p2pk(key), .p2pkh(hash: h)]
            if key.count == 33 {
                let w = Script.witness(version: 0, program: h)
                out += [w, .p2sh(redeemScript: w)]
            }
            return out
        case .sh(let n):
            return [
                .p2sh(redeemScript: try n.innerScript(index: index, branch: branch, network: network, tapscript: false))
            ]
        case .wsh(let n):
            return [.p2wsh(try n.innerScript(index: index, branch: branch, network: network, tapscript: false))]
        case .tr:
            return [try taprootSpendInfo(index: index, branch: branch, network: network).scriptPubKey]
        case .addr(let a):
            return [a.scriptPubKey]
        case .raw(let s):
            return [s]
        case .multiA:
            throw BitcoinError(.invalidDescriptor, "multi_a() is only valid inside tr()")
        }
    }

    /// For `tr`: the internal key, tree and output key at `index`.
    func taprootSpendInfo(index: UInt32, branch: Int, network: Network) throws(BitcoinError) -> TaprootSpendInfo {
        guard case .tr(let k, let tree) = self else { throw BitcoinError(.invalidDescriptor, "not a tr() descriptor") }
        let kb = try Self.keyBytes(k, index: index, branch: branch, tapscript: true)
        let internalKey: XOnlyPublicKey
        do { internalKey = try XOnlyPublicKey(bytes: kb) } catch { throw BitcoinError(.keyError, error.description) }
        return try TaprootSpendInfo(
            internalKey: internalKey, tree: try tree?.taprootTree(index: index, branch: branch, network: network))
    }
}

extension Descriptor.Tree {
    var keys: [DescriptorKey] {
        switch self {
        case .leaf(let n): return n.keys
        case .branch(let a, let b): return a.keys + b.keys
        }
    }

    func mapKeys(_ f: (DescriptorKey) -> DescriptorKey) -> Descriptor.Tree {
        switch self {
        case .leaf(let n): return .leaf(n.mapKeys(f))
        case .branch(let a, let b): return .branch(a.mapKeys(f), b.mapKeys(f))
        }
    }

    var text: String {
        switch self {
        case .leaf(let n): return n.text
        case .branch(let a, let b): return "{\(a.text),\(b.text)}"
        }
    }

    func taprootTree(index: UInt32, branch: Int, network: Network) throws(BitcoinError) -> TaprootTree {
        switch self {
        case .leaf(let n):
            return .leaf(
                try n.innerScript(index: index, branch: branch, network: network, tapscript: true),
                version: TapTree.leafVersion)
        case .branch(let a, let b):
            return .branch(
                try a.taprootTree(index: index, branch: branch, network: network),
                try b.taprootTree(index: index, branch: branch, network: network))
        }
    }
}

extension Descriptor {
    /// The taproot spend data at `index` (`tr()` descriptors only).
    public func taprootSpendInfo(index: UInt32 = 0, branch: Int = 0) throws(BitcoinError) -> TaprootSpendInfo {
        try root.taprootSpendInfo(index: index, branch: branch, network: network)
    }
}

/// A recursive-descent parser over the descriptor text, tracking the context each expression
/// appears in (top level, inside `sh`, inside `wsh`, inside a tapscript leaf).
struct DescriptorParser {
    enum Context { case top, p2sh, p2wsh, tapscript }

    let text: [UInt8]
    let network: Network
    var pos = 0
    var depth = 0

    init(text: [UInt8], network: Network) {
        self.text = text
        self.network = network
    }

    mutating func parseTop() throws(BitcoinError) -> Descriptor.Node {
        let node = try parseScript(.top)
        guard pos == text.count else {
            throw BitcoinError(.invalidDescriptor, "unexpected text after the descriptor at position \(pos)")
        }
        return node
    }

    mutating func expect(_ c: UInt8) throws(BitcoinError) {
        guard pos < text.count, text[pos] == c else {
            throw BitcoinError(.invalidDescriptor, "expected '\(Character(Unicode.Scalar(c)))' at position \(pos)")
        }
        pos += 1
    }

    /// Reads up to the next top-level `,` or `)` or `}`: one key or argument.
    mutating func argument() -> String {
        let start = pos
        var brackets = 0
        while pos < text.count {
            let c = text[pos]
            if c == UInt8(ascii: "[") { brackets += 1 }
            if c == UInt8(ascii: "]") { brackets -= 1 }
            if brackets == 0 && (c == UInt8(ascii: ",") || c == UInt8(ascii: ")") || c == UInt8(ascii: "}")) { break }
            pos += 1
        }
        return String(decoding: text[start..<pos], as: UTF8.self)
    }

    mutating func functionName() -> String? {
        let start = pos
        while pos < text.count, (text[pos] >= 0x61 && text[pos] <= 0x7a) || text[pos] == UInt8(ascii: "_") { pos += 1 }
        guard pos < text.count, text[pos] == UInt8(ascii: "("), pos > start else {
            pos = start
            return nil
        }
        let name = String(decoding: text[start..<pos], as: UTF8.self)
        pos += 1
        return name
    }

    mutating func key(_ ctx: Context) throws(BitcoinError) -> DescriptorKey {
        let k = try DescriptorKey.parse(argument(), network: network)
        if k.isXOnly && ctx != .tapscript { throw BitcoinError(.invalidDescriptor, "x-only key outside tr()") }
        if k.isUncompressed && (ctx == .p2wsh || ctx == .tapscript) {
            throw BitcoinError(
                .invalidDescriptor, "uncompressed public keys are not allowed under \(ctx == .p2wsh ? "wsh()" : "tr()")"
            )
        }
        return k
    }

    mutating func parseScript(_ ctx: Context) throws(BitcoinError) -> Descriptor.Node {
        depth += 1
        defer { depth -= 1 }
        guard depth <= 64 else { throw BitcoinError(.resourceLimit, "descriptor nested deeper than 64") }
        let start = pos
        guard let name = functionName() else {
            throw BitcoinError(
                .invalidDescriptor, "expected a script expression at position \(start), found a key or text")
        }
        let node: Descriptor.Node
        switch name {
        case "pk":
            node = .pk(try key(ctx))
        case "pkh":
            node = .pkh(try key(ctx))
        case "wpkh":
            guard ctx == .top || ctx == .p2sh else {
                throw BitcoinError(.invalidDescriptor, "wpkh() nested in \(ctx == .p2wsh ? "wsh()" : "tr()")")
            }
            if functionNameAhead() { throw BitcoinError(.invalidDescriptor, "wpkh() only takes a key") }
            let k = try key(ctx)
            guard !k.isUncompressed else { throw BitcoinError(.invalidDescriptor, "uncompressed public key in wpkh()") }
            node = .wpkh(k)
        case "combo":
            guard ctx == .top else { throw BitcoinError(.invalidDescriptor, "combo() is top level only") }
            node = .combo(try key(ctx))
        case "sh":
            guard ctx == .top else { throw BitcoinError(.invalidDescriptor, "sh() is top level only") }
            let inner = try parseScript(.p2sh)
            switch inner {
            case .pk, .pkh, .wpkh, .wsh, .multi: break
            default: throw BitcoinError(.invalidDescriptor, "sh() cannot wrap \(inner.functionName)")
            }
            if case .multi = inner {
                let size = try inner.innerScript(index: 0, branch: 0, network: network, tapscript: false).bytes.count
                guard size <= 520 else {
                    throw BitcoinError(
                        .invalidDescriptor, "P2SH redeem script of \(size) bytes exceeds 520 (more than 15 keys)")
                }
            }
            node = .sh(inner)
        case "wsh":
            guard ctx == .top || ctx == .p2sh else {
                throw BitcoinError(.invalidDescriptor, "wsh() nested in wsh() or tr()")
            }
            let inner = try parseScript(.p2wsh)
            switch inner {
            case .pk, .pkh, .multi: break
            default: throw BitcoinError(.invalidDescriptor, "wsh() cannot wrap \(inner.functionName)")
            }
            if case .multi = inner {
                let size = try inner.innerScript(index: 0, branch: 0, network: network, tapscript: false).bytes.count
                guard size <= 3600 else {
                    throw BitcoinError(.invalidDescriptor, "P2WSH script of \(size) bytes exceeds 3600")
                }
            }
            node = .wsh(inner)
        case "multi", "sortedmulti", "multi_a", "sortedmulti_a":
            let tapOnly = name.hasSuffix("_a")
            if tapOnly && ctx != .tapscript {
                throw BitcoinError(.invalidDescriptor, "\(name)() is only valid inside tr()")
            }
            if !tapOnly && ctx == .tapscript {
                throw BitcoinError(.invalidDescriptor, "\(name)() is not valid inside tr(); use \(name)_a()")
            }
            let t = argument()
            guard !t.isEmpty, t.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), t == "0" || !t.hasPrefix("0"),
                t.count <= 3, let threshold = Int(t)
            else { throw BitcoinError(.invalidDescriptor, "multisig threshold '\(t)' is not a number") }
            var keys = [DescriptorKey]()
            while pos < text.count, text[pos] == UInt8(ascii: ",") {
                pos += 1
                keys.append(try key(ctx))
                guard keys.count <= (tapOnly ? 999 : 20) else {
                    throw BitcoinError(.invalidDescriptor, "too many keys in \(name)()")
                }
            }
            guard threshold >= 1 else { throw BitcoinError(.invalidDescriptor, "multisig threshold of 0") }
            guard threshold <= keys.count else {
                throw BitcoinError(.invalidDescriptor, "threshold \(threshold) is larger than the \(keys.count) keys")
            }
            if ctx == .top && !tapOnly && keys.count > 3 {
                throw BitcoinError(.invalidDescriptor, "bare multisig with more than 3 keys")
            }
            node =
                tapOnly
                ? .multiA(threshold: threshold, keys: keys, sorted: name.hasPrefix("sorted"))
                : .multi(threshold: threshold, keys: keys, sorted: name.hasPrefix("sorted"))
        case "tr":
            guard ctx == .top else {
                throw BitcoinError(.invalidDescriptor, "tr() nested in \(ctx == .p2sh ? "sh()" : "wsh()")")
            }
            let k = try key(.tapscript)
            var tree: Descriptor.Tree? = nil
            if pos < text.count, text[pos] == UInt8(ascii: ",") {
                pos += 1
                tree = try parseTree(levels: 0)
            }
            node = .tr(k, tree)
        case "addr":
            guard ctx == .top else { throw BitcoinError(.invalidDescriptor, "addr() is top level only") }
            node = .addr(try Address(argument(), network: network))
        case "raw":
            guard ctx == .top else { throw BitcoinError(.invalidDescriptor, "raw() is top level only") }
            let hex = argument()
            guard let bytes = try? Hex.decode(hex) else {
                throw BitcoinError(.invalidDescriptor, "raw() script is not hex")
            }
            node = .raw(Script(bytes))
        default:
            throw BitcoinError(.invalidDescriptor, "unknown or unsupported function \(name)()")
        }
        try expect(UInt8(ascii: ")"))
        return node
    }

    func functionNameAhead() -> Bool {
        var p = pos
        while p < text.count, (text[p] >= 0x61 && text[p] <= 0x7a) || text[p] == UInt8(ascii: "_") { p += 1 }
        return p < text.count && text[p] == UInt8(ascii: "(") && p > pos
    }

    mutating func parseTree(levels: Int) throws(BitcoinError) -> Descriptor.Tree {
        guard levels <= 128 else { throw BitcoinError(.invalidDescriptor, "taproot tree deeper than 128") }
        if pos < text.count, text[pos] == UInt8(ascii: "{") {
            pos += 1
            let a = try parseTree(levels: levels + 1)
            try expect(UInt8(ascii: ","))
            let b = try parseTree(levels: levels + 1)
            try expect(UInt8(ascii: "}"))
            return .branch(a, b)
        }
        let leaf = try parseScript(.tapscript)
        switch leaf {
        case .pk, .pkh, .multiA: return .leaf(leaf)
        default: throw BitcoinError(.invalidDescriptor, "\(leaf.functionName)() is not a tapscript leaf Kura supports")
        }
    }
}

extension Descriptor.Node {
    var functionName: String {
        switch self {
        case .pk: return "pk"
        case .pkh: return "pkh"
        case .wpkh: return "wpkh"
        case .combo: return "combo"
        case .sh: return "sh"
        case .wsh: return "wsh"
        case .multi(_, _, let s): return s ? "sortedmulti" : "multi"
        case .multiA(_, _, let s): return s ? "sortedmulti_a" : "multi_a"
        case .tr: return "tr"
        case .addr: return "addr"
        case .raw: return "raw"
        }
    }
}
