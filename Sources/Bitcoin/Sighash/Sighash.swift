import WalletCrypto

/// A signature hash type (the byte appended to ECDSA signatures, or the optional 65th byte of
/// taproot signatures).
public struct SighashType: Sendable, Hashable, CustomStringConvertible {
    /// The raw value (legacy sighash treats it as a 32-bit integer).
    public let rawValue: UInt32

    /// Wraps a raw value.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// BIP-0341 `SIGHASH_DEFAULT` (taproot only; commits like ALL).
    public static let `default` = SighashType(rawValue: 0x00)
    /// `SIGHASH_ALL`.
    public static let all = SighashType(rawValue: 0x01)
    /// `SIGHASH_NONE`.
    public static let none = SighashType(rawValue: 0x02)
    /// `SIGHASH_SINGLE`.
    public static let single = SighashType(rawValue: 0x03)
    /// `SIGHASH_ANYONECANPAY` flag.
    public static let anyoneCanPay: UInt32 = 0x80

    var base: UInt32 { rawValue & 0x1f }
    var isAnyoneCanPay: Bool { rawValue & Self.anyoneCanPay != 0 }
    var isNone: Bool { base == 2 }
    var isSingle: Bool { base == 3 }

    /// Whether BIP-0341 defines this value (0x00–0x03, 0x81–0x83).
    public var isValidTaproot: Bool { [0x00, 0x01, 0x02, 0x03, 0x81, 0x82, 0x83].contains(rawValue) }

    public var description: String {
        switch rawValue {
        case 0x00: return "DEFAULT"
        case 0x01: return "ALL"
        case 0x02: return "NONE"
        case 0x03: return "SINGLE"
        case 0x81: return "ALL|ANYONECANPAY"
        case 0x82: return "NONE|ANYONECANPAY"
        case 0x83: return "SINGLE|ANYONECANPAY"
        default: return "0x" + String(rawValue, radix: 16)
        }
    }
}

/// Signature-hash computation for one transaction, with the per-transaction midstates of BIP-0143
/// and BIP-0341 computed once and reused for every input (so signing n inputs is O(n), not O(n²)).
public struct SighashCache: Sendable {
    /// The transaction being signed.
    public let transaction: Transaction
    /// The outputs each input spends, in input order (needed for BIP-0341; `nil` when unknown).
    public let prevouts: [TxOut]?

    // BIP-0143 (double SHA-256) midstates.
    private let hashPrevouts: [UInt8]
    private let hashSequence: [UInt8]
    private let hashOutputs: [UInt8]
    // BIP-0341 (single SHA-256) midstates.
    private let shaPrevouts: [UInt8]
    private let shaSequences: [UInt8]
    private let shaOutputs: [UInt8]
    private let shaAmounts: [UInt8]?
    private let shaScriptPubKeys: [UInt8]?

    /// Prepares the cache; `prevouts` must list one output per input when given.
    public init(transaction: Transaction, prevouts: [TxOut]?) throws(BitcoinError) {
        if let prevouts, prevouts.count != transaction.inputs.count {
            throw BitcoinError(.cannotSign, "\(prevouts.count) prevouts for \(transaction.inputs.count) inputs")
        }
        self.transaction = transaction
        self.prevouts = prevouts
        var p = ByteWriter(capacity: 36 * transaction.inputs.count)
        var s = ByteWriter(capacity: 4 * transaction.inputs.count)
        for i in transaction.inputs {
            p.write(i.previousOutput.txid.bytes)
            p.writeUInt32LE(i.previousOutput.vout)
            s.writeUInt32LE(i.sequence)
        }
        var o = ByteWriter(capacity: 34 * transaction.outputs.count)
        for out in transaction.outputs { out.write(to: &o) }
        shaPrevouts = Hash.sha256(p.bytes)
        shaSequences = Hash.sha256(s.bytes)
        shaOutputs = Hash.sha256(o.bytes)
        hashPrevouts = Hash.sha256(shaPrevouts)
        hashSequence = Hash.sha256(shaSequences)
        hashOutputs = Hash.sha256(shaOutputs)
        if let prevouts {
            var a = ByteWriter(capacity: 8 * prevouts.count)
            var k = ByteWriter(capacity: 35 * prevouts.count)
            for out in prevouts {
                a.writeUInt64LE(UInt64(out.value.sats))
                k.writeVarBytes(out.scriptPubKey.bytes)
            }
            shaAmounts = Hash.sha256(a.bytes)
            shaScriptPubKeys = Hash.sha256(k.bytes)
        } else {
            shaAmounts = nil
            shaScriptPubKeys = nil
        }
    }

    // MARK: Legacy

    /// The pre-segwit signature hash (Bitcoin Core `SignatureHash` with `SigVersion::BASE`),
    /// including its quirks: `OP_CODESEPARATOR`s are removed from the script code, and
    /// SIGHASH_SINGLE without a matching output (or an input index out of range) yields the
    /// hash `1`.
    public func legacy(inputIndex: Int, scriptCode: Script, hashType: UInt32) -> [UInt8] {
        let tx = transaction
        let one = [UInt8(1)] + [UInt8](repeating: 0, count: 31)
        guard inputIndex < tx.inputs.count else { return one }
        let type = SighashType(rawValue: hashType)
        if type.isSingle && inputIndex >= tx.outputs.count { return one }
        var w = ByteWriter(capacity: 256)
        w.writeUInt32LE(UInt32(bitPattern: tx.version))
        let inputs: [Int] = type.isAnyoneCanPay ? [inputIndex] : Array(tx.inputs.indices)
        w.writeCompactSize(UInt64(inputs.count))
        for i in inputs {
            let input = tx.inputs[i]
            w.write(input.previousOutput.txid.bytes)
            w.writeUInt32LE(input.previousOutput.vout)
            if i == inputIndex {
                Self.writeScriptCodeWithoutSeparators(scriptCode.bytes, to: &w)
            } else {
                w.writeCompactSize(0)
            }
            w.writeUInt32LE(i != inputIndex && (type.isNone || type.isSingle) ? 0 : input.sequence)
        }
        if type.isNone {
            w.writeCompactSize(0)
        } else if type.isSingle {
            w.writeCompactSize(UInt64(inputIndex + 1))
            for _ in 0..<inputIndex {
                w.writeUInt64LE(UInt64.max)  // CTxOut() : value -1, empty script
                w.writeCompactSize(0)
            }
            tx.outputs[inputIndex].write(to: &w)
        } else {
            w.writeCompactSize(UInt64(tx.outputs.count))
            for o in tx.outputs { o.write(to: &w) }
        }
        w.writeUInt32LE(tx.lockTime)
        w.writeUInt32LE(hashType)
        return Hash.doubleSHA256(w.bytes)
    }

    /// Core's `GetScriptOp` cursor step: advances `pc` even when it fails part-way.
    private static func nextOp(_ s: [UInt8], _ pc: inout Int) -> UInt8? {
        guard pc < s.count else { return nil }
        let op = s[pc]
        pc += 1
        if op <= Op.pushdata4 {
            var size = 0
            if op < Op.pushdata1 {
                size = Int(op)
            } else if op == Op.pushdata1 {
                guard s.count - pc >= 1 else { return nil }
                size = Int(s[pc])
                pc += 1
            } else if op == Op.pushdata2 {
                guard s.count - pc >= 2 else { return nil }
                size = Int(s[pc]) | Int(s[pc + 1]) << 8
                pc += 2
            } else {
                guard s.count - pc >= 4 else { return nil }
                size = Int(s[pc]) | Int(s[pc + 1]) << 8 | Int(s[pc + 2]) << 16 | Int(s[pc + 3]) << 24
                pc += 4
            }
            guard s.count - pc >= size else { return nil }
            pc += size
        }
        return op
    }

    private static func writeScriptCodeWithoutSeparators(_ s: [UInt8], to w: inout ByteWriter) {
        var pc = 0
        var separators = 0
        while let op = nextOp(s, &pc) { if op == Op.codeSeparator { separators += 1 } }
        w.writeCompactSize(UInt64(s.count - separators))
        pc = 0
        var begin = 0
        while let op = nextOp(s, &pc) {
            if op == Op.codeSeparator {
                w.write(s[begin..<(pc - 1)])
                begin = pc
            }
        }
        if begin != s.count { w.write(s[begin..<min(pc, s.count)]) }
    }

    // MARK: BIP-0143

    /// The BIP-0143 (segwit v0) signature hash of input `inputIndex`, spending `amount` with
    /// `scriptCode` (for P2WPKH, the P2PKH script of the key hash; for P2WSH, the witness script).
    public func segwitV0(inputIndex: Int, scriptCode: Script, amount: Amount, hashType: SighashType)
        throws(BitcoinError) -> [UInt8]
    {
        let tx = transaction
        guard inputIndex < tx.inputs.count else {
            throw BitcoinError(.cannotSign, "input \(inputIndex) does not exist")
        }
        let zero = [UInt8](repeating: 0, count: 32)
        let input = tx.inputs[inputIndex]
        var w = ByteWriter(capacity: 200 + scriptCode.bytes.count)
        w.writeUInt32LE(UInt32(bitPattern: tx.version))
        w.write(hashType.isAnyoneCanPay ? zero : hashPrevouts)
        w.write(hashType.isAnyoneCanPay || hashType.isSingle || hashType.isNone ? zero : hashSequence)
        w.write(input.previousOutput.txid.bytes)
        w.writeUInt32LE(input.previousOutput.vout)
        w.writeVarBytes(scriptCode.bytes)
        w.writeUInt64LE(UInt64(amount.sats))
        w.writeUInt32LE(input.sequence)
        if !hashType.isSingle && !hashType.isNone {
            w.write(hashOutputs)
        } else if hashType.isSingle && inputIndex < tx.outputs.count {
            var o = ByteWriter(capacity: 40)
            tx.outputs[inputIndex].write(to: &o)
            w.write(Hash.doubleSHA256(o.bytes))
        } else {
            w.write(zero)
        }
        w.writeUInt32LE(tx.lockTime)
        w.writeUInt32LE(hashType.rawValue)
        return Hash.doubleSHA256(w.bytes)
    }

    // MARK: BIP-0341

    /// The BIP-0341 signature message digest for input `inputIndex`: key path when `leafHash` is
    /// `nil`, script path (BIP-0342, key version 0) otherwise.
    public func taproot(
        inputIndex: Int, hashType: SighashType, leafHash: [UInt8]? = nil, codeSeparatorPosition: UInt32 = 0xffff_ffff,
        annex: [UInt8]? = nil
    ) throws(BitcoinError) -> [UInt8] {
        let tx = transaction
        guard let prevouts, let shaAmounts, let shaScriptPubKeys else {
            throw BitcoinError(.cannotSign, "taproot signature hashes need every spent output")
        }
        guard inputIndex < tx.inputs.count else {
            throw BitcoinError(.cannotSign, "input \(inputIndex) does not exist")
        }
        guard hashType.isValidTaproot else {
            throw BitcoinError(.invalidSighashType, "sighash \(hashType) is not defined for taproot")
        }
        if hashType.isSingle && inputIndex >= tx.outputs.count {
            throw BitcoinError(.invalidSighashType, "SIGHASH_SINGLE for input \(inputIndex) without a matching output")
        }
        var w = ByteWriter(capacity: 256)
        w.writeUInt8(0)  // epoch
        w.writeUInt8(UInt8(hashType.rawValue))
        w.writeUInt32LE(UInt32(bitPattern: tx.version))
        w.writeUInt32LE(tx.lockTime)
        if !hashType.isAnyoneCanPay {
            w.write(shaPrevouts)
            w.write(shaAmounts)
            w.write(shaScriptPubKeys)
            w.write(shaSequences)
        }
        if !hashType.isNone && !hashType.isSingle { w.write(shaOutputs) }
        let extFlag: UInt8 = leafHash == nil ? 0 : 1
        w.writeUInt8(extFlag * 2 + (annex == nil ? 0 : 1))
        if hashType.isAnyoneCanPay {
            let input = tx.inputs[inputIndex]
            w.write(input.previousOutput.txid.bytes)
            w.writeUInt32LE(input.previousOutput.vout)
            prevouts[inputIndex].write(to: &w)
            w.writeUInt32LE(input.sequence)
        } else {
            w.writeUInt32LE(UInt32(inputIndex))
        }
        if let annex {
            var a = ByteWriter()
            a.writeVarBytes(annex)
            w.write(Hash.sha256(a.bytes))
        }
        if hashType.isSingle {
            var o = ByteWriter(capacity: 40)
            tx.outputs[inputIndex].write(to: &o)
            w.write(Hash.sha256(o.bytes))
        }
        if let leafHash {
            w.write(leafHash)
            w.writeUInt8(0)
            w.writeUInt32LE(codeSeparatorPosition)
        }
        return Hash.tagged("TapSighash", w.bytes)
    }
}

/// BIP-0341 script-tree hashing.
public enum TapTree {
    /// The tapscript leaf version.
    public static let leafVersion: UInt8 = 0xc0

    /// `hashTapLeaf(version ‖ compact_size(script) ‖ script)`.
    public static func leafHash(_ script: Script, version: UInt8 = leafVersion) -> [UInt8] {
        var w = ByteWriter(capacity: script.bytes.count + 4)
        w.writeUInt8(version)
        w.writeVarBytes(script.bytes)
        return Hash.tagged("TapLeaf", w.bytes)
    }

    /// `hashTapBranch(min(a, b) ‖ max(a, b))`.
    public static func branchHash(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        a.lexicographicallyPrecedes(b) ? Hash.tagged("TapBranch", a + b) : Hash.tagged("TapBranch", b + a)
    }
}
