public import WalletCrypto

/// A BIP-0341 script tree: leaves with a leaf version, combined pairwise into branches. The tree
/// shape is part of the commitment, so it is kept exactly as given (as descriptors write it).
public indirect enum TaprootTree: Sendable, Hashable {
    /// A script leaf.
    case leaf(Script, version: UInt8)
    /// A branch of two subtrees.
    case branch(TaprootTree, TaprootTree)

    /// The leaf or branch hash of this subtree.
    public var hash: [UInt8] {
        switch self {
        case .leaf(let script, let version): return TapTree.leafHash(script, version: version)
        case .branch(let a, let b): return TapTree.branchHash(a.hash, b.hash)
        }
    }

    /// Every leaf, left to right, with its merkle path (sibling hashes from the leaf upwards).
    public var leavesWithPaths: [(script: Script, version: UInt8, path: [[UInt8]])] {
        switch self {
        case .leaf(let script, let version):
            return [(script, version, [])]
        case .branch(let a, let b):
            let ha = a.hash
            let hb = b.hash
            return a.leavesWithPaths.map { ($0.script, $0.version, $0.path + [hb]) }
                + b.leavesWithPaths.map { ($0.script, $0.version, $0.path + [ha]) }
        }
    }

    /// The depth of the deepest leaf (BIP-0341 allows at most 128).
    public var depth: Int {
        switch self {
        case .leaf: return 0
        case .branch(let a, let b): return 1 + Swift.max(a.depth, b.depth)
        }
    }
}

/// What spending a taproot output needs: the internal key, the optional tree, and the derived
/// output key with its parity.
public struct TaprootSpendInfo: Sendable, Hashable {
    /// The internal key.
    public let internalKey: XOnlyPublicKey
    /// The script tree, if any.
    public let tree: TaprootTree?
    /// The merkle root (`nil` without a tree).
    public let merkleRoot: [UInt8]?
    /// The tweaked output key.
    public let outputKey: XOnlyPublicKey
    /// Whether the output key's y is odd.
    public let outputKeyParityOdd: Bool

    /// Computes the output key of `internalKey` committed to `tree`.
    public init(internalKey: XOnlyPublicKey, tree: TaprootTree?) throws(BitcoinError) {
        if let tree, tree.depth > 128 { throw BitcoinError(.invalidScript, "taproot tree deeper than 128") }
        self.internalKey = internalKey
        self.tree = tree
        merkleRoot = tree?.hash
        do {
            let out = try internalKey.taprootOutputKey(merkleRoot: merkleRoot)
            outputKey = out.key
            outputKeyParityOdd = out.parityOdd
        } catch {
            throw BitcoinError(.keyError, error.description)
        }
    }

    /// The P2TR output script.
    public var scriptPubKey: Script { .p2tr(outputKey: outputKey) }

    /// The control block for each leaf, in leaf order (BIP-0341).
    public var controlBlocks: [(script: Script, version: UInt8, controlBlock: [UInt8])] {
        guard let tree else { return [] }
        let parity: UInt8 = outputKeyParityOdd ? 1 : 0
        return tree.leavesWithPaths.map { leaf in
            (leaf.script, leaf.version, [leaf.version | parity] + internalKey.bytes + Array(leaf.path.joined()))
        }
    }
}
