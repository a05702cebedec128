public import WalletCrypto

/// Script opcodes Kura names (Bitcoin Core `script.h`).
public enum Op {
    public static let op0: UInt8 = 0x00
    public static let pushdata1: UInt8 = 0x4c
    public static let pushdata2: UInt8 = 0x4d
    public static let pushdata4: UInt8 = 0x4e
    public static let op1negate: UInt8 = 0x4f
    public static let op1: UInt8 = 0x51
    public static let op16: UInt8 = 0x60
    public static let dup: UInt8 = 0x76
    public static let equal: UInt8 = 0x87
    public static let equalVerify: UInt8 = 0x88
    public static let hash160: UInt8 = 0xa9
    public static let codeSeparator: UInt8 = 0xab
    public static let checkSig: UInt8 = 0xac
    public static let checkSigVerify: UInt8 = 0xad
    public static let checkMultisig: UInt8 = 0xae
    public static let checkSigAdd: UInt8 = 0xba
    public static let numEqual: UInt8 = 0x9c
    public static let opReturn: UInt8 = 0x6a

    /// `OP_n` for 0…16.
    public static func small(_ n: Int) -> UInt8 {
        precondition((0...16).contains(n))
        return n == 0 ? op0 : op1 + UInt8(n - 1)
    }

    /// The value of a small-integer opcode, if it is one.
    public static func smallValue(_ op: UInt8) -> Int? {
        if op == op0 { return 0 }
        if (op1...op16).contains(op) { return Int(op - op1 + 1) }
        return nil
    }
}

/// One parsed script element: an opcode, possibly with pushed data.
public struct ScriptInstruction: Sendable, Hashable {
    /// The opcode byte.
    public let opcode: UInt8
    /// The pushed data for push opcodes (`nil` otherwise).
    public let data: [UInt8]?
}

/// A Bitcoin script as raw bytes, with the standard output templates Kura uses.
public struct Script: Sendable, Hashable, CustomStringConvertible {
    /// The serialised script.
    public let bytes: [UInt8]

    /// Wraps script bytes.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Parses the script into instructions; a push that runs past the end is an error.
    public func instructions() throws(BitcoinError) -> [ScriptInstruction] {
        var out = [ScriptInstruction]()
        var i = 0
        while i < bytes.count {
            let op = bytes[i]
            i += 1
            var length = -1
            if op >= 1 && op < Op.pushdata1 {
                length = Int(op)
            } else if op == Op.pushdata1 {
                guard i + 1 <= bytes.count else {
                    throw BitcoinError(.invalidScript, "PUSHDATA1 length runs past the end")
                }
                length = Int(bytes[i])
                i += 1
            } else if op == Op.pushdata2 {
                guard i + 2 <= bytes.count else {
                    throw BitcoinError(.invalidScript, "PUSHDATA2 length runs past the end")
                }
                length = Int(bytes[i]) | Int(bytes[i + 1]) << 8
                i += 2
            } else if op == Op.pushdata4 {
                guard i + 4 <= bytes.count else {
                    throw BitcoinError(.invalidScript, "PUSHDATA4 length runs past the end")
                }
                length = Int(bytes[i]) | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2]) << 16 | Int(bytes[i + 3]) << 24
                i += 4
            }
            if length >= 0 {
                guard length <= bytes.count - i else {
                    throw BitcoinError(.invalidScript, "push of \(length) bytes runs past the end")
                }
                out.append(ScriptInstruction(opcode: op, data: Array(bytes[i..<i + length])))
                i += length
            } else {
                out.append(ScriptInstruction(opcode: op, data: op == Op.op0 ? [] : nil))
            }
        }
        return out
    }

    /// The minimal push of `data` (BIP-0062 rules for data pushes; small numbers are not folded).
    public static func pushData(_ data: [UInt8]) -> [UInt8] {
        switch data.count {
        case 0: return [Op.op0]
        case 1..<Int(Op.pushdata1): return [UInt8(data.count)] + data
        case ..<0x100: return [Op.pushdata1, UInt8(data.count)] + data
        case ..<0x10000: return [Op.pushdata2, UInt8(data.count & 0xff), UInt8(data.count >> 8)] + data
        default:
            return [
                Op.pushdata4, UInt8(data.count & 0xff), UInt8((data.count >> 8) & 0xff),
                UInt8((data.count >> 16) & 0xff), UInt8(data.count >> 24),
            ] + data
        }
    }

    /// `OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG`.
    public static func p2pkh(hash: [UInt8]) -> Script {
        precondition(hash.count == 20)
        return Script([Op.dup, Op.hash160, 0x14] + hash + [Op.equalVerify, Op.checkSig])
    }

    /// `OP_HASH160 <20> OP_EQUAL`.
    public static func p2sh(hash: [UInt8]) -> Script {
        precondition(hash.count == 20)
        return Script([Op.hash160, 0x14] + hash + [Op.equal])
    }

    /// P2SH wrapping of a redeem script.
    public static func p2sh(redeemScript: Script) -> Script { p2sh(hash: Hash.hash160(redeemScript.bytes)) }

    /// `<pubkey> OP_CHECKSIG`.
    public static func p2pk(_ key: [UInt8]) -> Script { Script(pushData(key) + [Op.checkSig]) }

    /// A segwit output: `OP_n <program>` (BIP-0141).
    public static func witness(version: UInt8, program: [UInt8]) -> Script {
        precondition(version <= 16 && (2...40).contains(program.count))
        return Script([Op.small(Int(version)), UInt8(program.count)] + program)
    }

    /// P2WPKH for a compressed public key.
    public static func p2wpkh(_ key: PublicKey) -> Script { witness(version: 0, program: key.hash160) }

    /// P2WSH for a witness script.
    public static func p2wsh(_ witnessScript: Script) -> Script {
        witness(version: 0, program: Hash.sha256(witnessScript.bytes))
    }

    /// P2TR for an output key (BIP-0341).
    public static func p2tr(outputKey: XOnlyPublicKey) -> Script { witness(version: 1, program: outputKey.bytes) }

    /// `OP_m <key>… OP_n OP_CHECKMULTISIG` (keys in the given order).
    public static func multisig(threshold: Int, keys: [[UInt8]]) -> Script {
        precondition(threshold >= 1 && threshold <= keys.count && keys.count <= 20)
        var b: [UInt8] = keys.count <= 16 ? [Op.small(threshold)] : pushNumber(threshold)
        for k in keys { b += pushData(k) }
        b += keys.count <= 16 ? [Op.small(keys.count)] : pushNumber(keys.count)
        b.append(Op.checkMultisig)
        return Script(b)
    }

    /// `<k0> OP_CHECKSIG <k1> OP_CHECKSIGADD … <m> OP_NUMEQUAL` (BIP-0342 tapscript multisig).
    public static func multiA(threshold: Int, xOnlyKeys: [[UInt8]]) -> Script {
        var b = [UInt8]()
        for (i, k) in xOnlyKeys.enumerated() {
            b += pushData(k)
            b.append(i == 0 ? Op.checkSig : Op.checkSigAdd)
        }
        b += pushNumber(threshold)
        b.append(Op.numEqual)
        return Script(b)
    }

    /// The minimal push of a script number (CScriptNum), small values as `OP_n`.
    public static func pushNumber(_ n: Int) -> [UInt8] {
        if n == 0 { return [Op.op0] }
        if n == -1 { return [Op.op1negate] }
        if (1...16).contains(n) { return [Op.small(n)] }
        var v = abs(n)
        var out = [UInt8]()
        while v > 0 {
            out.append(UInt8(v & 0xff))
            v >>= 8
        }
        if out.last! & 0x80 != 0 {
            out.append(n < 0 ? 0x80 : 0)
        } else if n < 0 {
            out[out.count - 1] |= 0x80
        }
        return pushData(out)
    }

    /// The witness version and program, if this is a segwit output script.
    public var witnessProgram: (version: UInt8, program: [UInt8])? {
        guard bytes.count >= 4, bytes.count <= 42 else { return nil }
        let op = bytes[0]
        guard op == Op.op0 || (Op.op1...Op.op16).contains(op) else { return nil }
        guard Int(bytes[1]) == bytes.count - 2 else { return nil }
        return (op == Op.op0 ? 0 : op - Op.op1 + 1, Array(bytes[2...]))
    }

    /// The output template this script matches.
    public var template: ScriptTemplate {
        let b = bytes
        if b.count == 25, b[0] == Op.dup, b[1] == Op.hash160, b[2] == 0x14, b[23] == Op.equalVerify,
            b[24] == Op.checkSig
        {
            return .p2pkh(Array(b[3..<23]))
        }
        if b.count == 23, b[0] == Op.hash160, b[1] == 0x14, b[22] == Op.equal { return .p2sh(Array(b[2..<22])) }
        if let (v, p) = witnessProgram {
            if v == 0 && p.count == 20 { return .p2wpkh(p) }
            if v == 0 && p.count == 32 { return .p2wsh(p) }
            if v == 1 && p.count == 32 { return .p2tr(p) }
            return .witnessUnknown(version: v, program: p)
        }
        if let first = b.first, first == Op.opReturn { return .nullData }
        if let (m, keys) = multisigParameters { return .multisig(threshold: m, keys: keys) }
        return .nonStandard
    }

    /// `(m, keys)` for a bare `OP_m <keys> OP_n OP_CHECKMULTISIG` script with minimal pushes.
    public var multisigParameters: (Int, [[UInt8]])? {
        guard let ins = try? instructions(), ins.count >= 4, ins.last?.opcode == Op.checkMultisig,
            let m = Op.smallValue(ins[0].opcode), let n = Op.smallValue(ins[ins.count - 2].opcode),
            n == ins.count - 3, m >= 1, m <= n
        else { return nil }
        var keys = [[UInt8]]()
        for i in ins[1..<(ins.count - 2)] {
            guard let d = i.data, d.count == 33 || d.count == 65, i.opcode == UInt8(d.count) else { return nil }
            keys.append(d)
        }
        return (m, keys)
    }

    /// Whether the script starts with `OP_RETURN` (provably unspendable).
    public var isOpReturn: Bool { bytes.first == Op.opReturn }

    public var description: String { Hex.encode(bytes) }
}

/// The standard output shapes.
public enum ScriptTemplate: Sendable, Hashable {
    /// Pay to public key hash.
    case p2pkh([UInt8])
    /// Pay to script hash.
    case p2sh([UInt8])
    /// Segwit v0 key hash.
    case p2wpkh([UInt8])
    /// Segwit v0 script hash.
    case p2wsh([UInt8])
    /// Taproot.
    case p2tr([UInt8])
    /// A future witness version.
    case witnessUnknown(version: UInt8, program: [UInt8])
    /// Bare multisig.
    case multisig(threshold: Int, keys: [[UInt8]])
    /// `OP_RETURN …`.
    case nullData
    /// Anything else.
    case nonStandard
}
