public import WalletCrypto

/// A reference to a transaction output: the txid and output index.
public struct OutPoint: Sendable, Hashable, CustomStringConvertible {
    /// The transaction holding the output.
    public let txid: Txid
    /// The output index.
    public let vout: UInt32

    /// Creates an outpoint.
    public init(txid: Txid, vout: UInt32) {
        self.txid = txid
        self.vout = vout
    }

    public var description: String { "\(txid):\(vout)" }
}

/// A transaction input.
public struct TxIn: Sendable, Hashable {
    /// The output being spent.
    public var previousOutput: OutPoint
    /// The unlocking script (empty for native segwit).
    public var scriptSig: Script
    /// nSequence.
    public var sequence: UInt32
    /// The witness stack (empty when none).
    public var witness: [[UInt8]]

    /// Creates an input.
    public init(
        previousOutput: OutPoint, scriptSig: Script = Script([]), sequence: UInt32 = 0xffff_fffd,
        witness: [[UInt8]] = []
    ) {
        self.previousOutput = previousOutput
        self.scriptSig = scriptSig
        self.sequence = sequence
        self.witness = witness
    }
}

/// A transaction output.
public struct TxOut: Sendable, Hashable {
    /// The value.
    public var value: Amount
    /// The locking script.
    public var scriptPubKey: Script

    /// Creates an output.
    public init(value: Amount, scriptPubKey: Script) {
        self.value = value
        self.scriptPubKey = scriptPubKey
    }

    /// Serialised size (8-byte value + script with its length).
    public var serializedSize: Int { 8 + compactSizeLength(scriptPubKey.bytes.count) + scriptPubKey.bytes.count }

    /// Decodes one output.
    public init(reading r: inout ByteReader) throws(BitcoinError) {
        value = try Amount(wire: r.readLE64())
        scriptPubKey = Script(try r.readVarBytes(limit: Transaction.maxSize, what: "scriptPubKey"))
    }

    /// Encodes the output.
    public func write(to w: inout ByteWriter) {
        w.writeUInt64LE(UInt64(value.sats))
        w.writeVarBytes(scriptPubKey.bytes)
    }
}

/// A Bitcoin transaction with segwit serialisation (BIP-0141/0144).
///
/// Decoding is strict: non-minimal CompactSize, counts the input cannot hold, output values above
/// 21M BTC or summing past it, a witness flag other than 1, a witness flag with only empty
/// witnesses, and trailing bytes are all errors. Size is bounded by ``maxSize``.
public struct Transaction: Sendable, Hashable {
    /// nVersion.
    public var version: Int32
    /// Inputs.
    public var inputs: [TxIn]
    /// Outputs.
    public var outputs: [TxOut]
    /// nLockTime.
    public var lockTime: UInt32

    /// The largest serialised transaction Kura decodes (the block weight limit in bytes).
    public static let maxSize = 4_000_000

    /// Creates a transaction.
    public init(version: Int32 = 2, inputs: [TxIn], outputs: [TxOut], lockTime: UInt32 = 0) {
        self.version = version
        self.inputs = inputs
        self.outputs = outputs
        self.lockTime = lockTime
    }

    /// Whether any input has a witness.
    public var hasWitness: Bool { inputs.contains { !$0.witness.isEmpty } }

    /// Decodes a transaction from exactly `bytes` (trailing bytes are an error). With
    /// `allowWitness: false` the BIP-0144 marker is not recognised (the legacy encoding, which a
    /// PSBT's unsigned transaction must use).
    public init(bytes: [UInt8], allowWitness: Bool = true) throws(BitcoinError) {
        guard bytes.count <= Self.maxSize else {
            throw BitcoinError(.resourceLimit, "transaction of \(bytes.count) bytes exceeds \(Self.maxSize)")
        }
        var r = ByteReader(bytes)
        try self.init(reading: &r, allowWitness: allowWitness)
        try r.expectEndOfInput()
    }

    /// Decodes a transaction from the reader (Bitcoin Core `UnserializeTransaction` semantics).
    public init(reading r: inout ByteReader, allowWitness: Bool = true) throws(BitcoinError) {
        version = Int32(bitPattern: try r.readLE32())
        var flags: UInt8 = 0
        var ins = try Self.readInputs(&r)
        var outs: [TxOut] = []
        if ins.isEmpty && allowWitness {
            flags = try r.readByte()
            if flags != 0 {
                ins = try Self.readInputs(&r)
                outs = try Self.readOutputs(&r)
            }
        } else {
            outs = try Self.readOutputs(&r)
        }
        if flags & 1 != 0 {
            flags ^= 1
            for i in ins.indices {
                let n = try r.readCount(minimumItemSize: 1, limit: 10_000, what: "witness items")
                var stack = [[UInt8]]()
                stack.reserveCapacity(n)
                for _ in 0..<n { stack.append(try r.readVarBytes(limit: Self.maxSize, what: "witness item")) }
                ins[i].witness = stack
            }
            guard ins.contains(where: { !$0.witness.isEmpty }) else {
                throw BitcoinError(.invalidTransaction, "superfluous witness record (flag set, every witness empty)")
            }
        }
        guard flags == 0 else {
            throw BitcoinError(.invalidTransaction, "unknown transaction optional data (flag \(flags))")
        }
        inputs = ins
        outputs = outs
        lockTime = try r.readLE32()
        _ = try Amount.sum(outputs.map(\.value))
    }

    private static func readInputs(_ r: inout ByteReader) throws(BitcoinError) -> [TxIn] {
        let n = try r.readCount(minimumItemSize: 41, limit: maxSize / 41, what: "inputs")
        var out = [TxIn]()
        out.reserveCapacity(n)
        for _ in 0..<n {
            let txid = Txid(unchecked: try r.readBytes(32))
            let vout = try r.readLE32()
            let script = Script(try r.readVarBytes(limit: maxSize, what: "scriptSig"))
            let sequence = try r.readLE32()
            out.append(TxIn(previousOutput: OutPoint(txid: txid, vout: vout), scriptSig: script, sequence: sequence))
        }
        return out
    }

    private static func readOutputs(_ r: inout ByteReader) throws(BitcoinError) -> [TxOut] {
        let n = try r.readCount(minimumItemSize: 9, limit: maxSize / 9, what: "outputs")
        var out = [TxOut]()
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(try TxOut(reading: &r)) }
        return out
    }

    /// Writes the transaction; with `includeWitness` and at least one witness, in BIP-0144 form.
    public func write(to w: inout ByteWriter, includeWitness: Bool = true) {
        let witness = includeWitness && hasWitness
        w.writeUInt32LE(UInt32(bitPattern: version))
        if witness {
            w.writeUInt8(0)
            w.writeUInt8(1)
        }
        w.writeCompactSize(UInt64(inputs.count))
        for i in inputs {
            w.write(i.previousOutput.txid.bytes)
            w.writeUInt32LE(i.previousOutput.vout)
            w.writeVarBytes(i.scriptSig.bytes)
            w.writeUInt32LE(i.sequence)
        }
        w.writeCompactSize(UInt64(outputs.count))
        for o in outputs { o.write(to: &w) }
        if witness {
            for i in inputs {
                w.writeCompactSize(UInt64(i.witness.count))
                for item in i.witness { w.writeVarBytes(item) }
            }
        }
        w.writeUInt32LE(lockTime)
    }

    /// The serialisation (with witnesses if any).
    public var serialized: [UInt8] {
        var w = ByteWriter(capacity: 256)
        write(to: &w)
        return w.bytes
    }

    /// The serialisation without witnesses (what the txid commits to).
    public var serializedWithoutWitness: [UInt8] {
        var w = ByteWriter(capacity: 256)
        write(to: &w, includeWitness: false)
        return w.bytes
    }

    /// Computes the txid (hashes the non-witness serialisation).
    public func computeTxid() -> Txid { Txid(unchecked: Hash.doubleSHA256(serializedWithoutWitness)) }

    /// Computes the wtxid (hashes the full serialisation).
    public func computeWtxid() -> Wtxid { Wtxid(unchecked: Hash.doubleSHA256(serialized)) }

    /// The BIP-0141 weight: `3 × base size + total size`.
    public var weight: Weight {
        let base = serializedWithoutWitness.count
        let total = hasWitness ? serialized.count : base
        return Weight(units: UInt64(3 * base + total))
    }

    /// The virtual size `⌈weight / 4⌉`.
    public var virtualSize: VirtualSize { weight.virtualSize }

    /// The sum of output values (checked against 21M BTC).
    public func totalOutput() throws(BitcoinError) -> Amount { try Amount.sum(outputs.map(\.value)) }
}
