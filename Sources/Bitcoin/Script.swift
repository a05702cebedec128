public import WalletCrypto

/// A Bitcoin script as raw bytes, with the standard output templates Kura uses.
public struct Script: Sendable, Hashable, CustomStringConvertible {
    /// The serialised script.
    public let bytes: [UInt8]

    /// Wraps script bytes.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// `OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG`.
    public static func p2pkh(hash: [UInt8]) -> Script {
        precondition(hash.count == 20)
        return Script([0x76, 0xa9, 0x14] + hash + [0x88, 0xac])
    }

    /// `OP_HASH160 <20> OP_EQUAL`.
    public static func p2sh(hash: [UInt8]) -> Script {
        precondition(hash.count == 20)
        return Script([0xa9, 0x14] + hash + [0x87])
    }

    /// A segwit output: `OP_n <program>` (BIP-0141).
    public static func witness(version: UInt8, program: [UInt8]) -> Script {
        precondition(version <= 16 && (2...40).contains(program.count))
        return Script([version == 0 ? 0x00 : 0x50 + version, UInt8(program.count)] + program)
    }

    /// P2WPKH for a compressed public key.
    public static func p2wpkh(_ key: PublicKey) -> Script { witness(version: 0, program: key.hash160) }

    /// P2WSH for a witness script.
    public static func p2wsh(_ witnessScript: Script) -> Script {
        witness(version: 0, program: Hash.sha256(witnessScript.bytes))
    }

    /// P2TR for an output key (BIP-0341).
    public static func p2tr(outputKey: XOnlyPublicKey) -> Script { witness(version: 1, program: outputKey.bytes) }

    /// The witness version and program, if this is a segwit output script.
    public var witnessProgram: (version: UInt8, program: [UInt8])? {
        guard bytes.count >= 4, bytes.count <= 42 else { return nil }
        let op = bytes[0]
        guard op == 0x00 || (0x51...0x60).contains(op) else { return nil }
        guard Int(bytes[1]) == bytes.count - 2 else { return nil }
        return (op == 0 ? 0 : op - 0x50, Array(bytes[2...]))
    }

    public var description: String { Hex.encode(bytes) }
}
