import WalletCrypto

/// A Partially Signed Bitcoin Transaction: BIP-0174 (version 0), BIP-0370 (version 2) and the
/// taproot fields of BIP-0371.
///
/// Parsing is strict: the magic, every key's type-specific key data and value shape, duplicate
/// keys, version-specific required and forbidden fields, and the counts of input and output maps
/// are all checked, and sizes are bounded before allocation. Every known field is decoded into a
/// typed property; unknown and proprietary pairs are kept verbatim and written back. Serialisation
/// writes each map's pairs in ascending key order.
public struct PSBT: Sendable, Hashable {
    /// A raw key–value pair (`key` includes the type prefix).
    public struct Pair: Sendable, Hashable {
        /// The whole key: CompactSize type followed by key data.
        public var key: [UInt8]
        /// The value.
        public var value: [UInt8]
        /// Creates a pair.
        public init(key: [UInt8], value: [UInt8]) {
            self.key = key
            self.value = value
        }
    }

    /// The largest PSBT Kura decodes (bytes).
    public static let maxSize = 16_000_000
    /// The most inputs or outputs a PSBT may declare.
    public static let maxCount = 10_000

    /// PSBT version: 0 or 2.
    public var version: UInt32
    /// Version 0: the unsigned transaction.
    public var unsignedTransaction: Transaction?
    /// Version 2: `PSBT_GLOBAL_TX_VERSION`.
    public var txVersion: Int32?
    /// Version 2: `PSBT_GLOBAL_FALLBACK_LOCKTIME`.
    public var fallbackLockTime: UInt32?
    /// Version 2: `PSBT_GLOBAL_TX_MODIFIABLE` flags.
    public var txModifiable: UInt8?
    /// `PSBT_GLOBAL_XPUB`: serialised extended key (78 bytes) → origin.
    public var xpubs: KeyedEntries<KeyOrigin> = KeyedEntries()
    /// Proprietary and unknown global pairs, verbatim.
    public var globalUnknown: [Pair] = []
    /// Per-input maps.
    public var inputs: [Input]
    /// Per-output maps.
    public var outputs: [Output]

    /// A per-input map.
    public struct Input: Sendable, Hashable {
        public var nonWitnessUTXO: Transaction?
        public var witnessUTXO: TxOut?
        /// Public key (33 or 65 bytes) → DER signature with sighash byte.
        public var partialSignatures: KeyedEntries<[UInt8]> = KeyedEntries()
        public var sighashType: UInt32?
        public var redeemScript: Script?
        public var witnessScript: Script?
        /// Public key → origin.
        public var bip32Derivations: KeyedEntries<KeyOrigin> = KeyedEntries()
        public var finalScriptSig: Script?
        public var finalScriptWitness: [[UInt8]]?
        public var porCommitment: [UInt8]?
        /// Hash preimages by hash: RIPEMD-160, SHA-256, HASH160, HASH256.
        public var ripemd160Preimages: KeyedEntries<[UInt8]> = KeyedEntries()
        public var sha256Preimages: KeyedEntries<[UInt8]> = KeyedEntries()
        public var hash160Preimages: KeyedEntries<[UInt8]> = KeyedEntries()
        public var hash256Preimages: KeyedEntries<[UInt8]> = KeyedEntries()
        // Version 2.
        public var previousTxid: Txid?
        public var outputIndex: UInt32?
        public var sequence: UInt32?
        public var requiredTimeLockTime: UInt32?
        public var requiredHeightLockTime: UInt32?
        // BIP-0371.
        public var tapKeySignature: [UInt8]?
        /// (x-only key ‖ leaf hash) → signature.
        public var tapScriptSignatures: KeyedEntries<[UInt8]> = KeyedEntries()
        /// Control block → script ‖ leaf version.
        public var tapLeafScripts: KeyedEntries<[UInt8]> = KeyedEntries()
        /// x-only key → (leaf hashes, origin).
        public var tapBIP32Derivations: KeyedEntries<TapDerivation> = KeyedEntries()
        public var tapInternalKey: [UInt8]?
        public var tapMerkleRoot: [UInt8]?
        /// Proprietary and unknown pairs, verbatim.
        public var unknown: [Pair] = []

        /// An empty input map.
        public init() {}
    }

    /// A per-output map.
    public struct Output: Sendable, Hashable {
        public var redeemScript: Script?
        public var witnessScript: Script?
        public var bip32Derivations: KeyedEntries<KeyOrigin> = KeyedEntries()
        // Version 2.
        public var amount: Amount?
        public var script: Script?
        // BIP-0371.
        public var tapInternalKey: [UInt8]?
        /// `(depth, leaf version, script)` in tree order.
        public var tapTree: [TapTreeLeaf]?
        public var tapBIP32Derivations: KeyedEntries<TapDerivation> = KeyedEntries()
        /// Proprietary and unknown pairs, verbatim.
        public var unknown: [Pair] = []

        /// An empty output map.
        public init() {}
    }

    /// A taproot key's leaf hashes and origin (`PSBT_*_TAP_BIP32_DERIVATION`).
    public struct TapDerivation: Sendable, Hashable {
        /// Leaves the key appears in.
        public var leafHashes: [[UInt8]]
        /// The key's origin.
        public var origin: KeyOrigin
        /// Creates a derivation.
        public init(leafHashes: [[UInt8]], origin: KeyOrigin) {
            self.leafHashes = leafHashes
            self.origin = origin
        }
    }

    /// One leaf of `PSBT_OUT_TAP_TREE`.
    public struct TapTreeLeaf: Sendable, Hashable {
        public var depth: UInt8
        public var leafVersion: UInt8
        public var script: Script
    }

    static let magic: [UInt8] = [0x70, 0x73, 0x62, 0x74, 0xff]

    /// Creates a version 0 PSBT around an unsigned transaction (BIP-0174 Creator).
    public init(unsignedTransaction tx: Transaction) throws(BitcoinError) {
        guard tx.inputs.allSatisfy({ $0.scriptSig.bytes.isEmpty && $0.witness.isEmpty }) else {
            throw BitcoinError(.invalidPSBT, "the unsigned transaction has scriptSigs or witnesses")
        }
        version = 0
        unsignedTransaction = tx
        inputs = Array(repeating: Input(), count: tx.inputs.count)
        outputs = Array(repeating: Output(), count: tx.outputs.count)
    }

    /// Creates a version 2 PSBT (BIP-0370 Creator + Constructor) from a transaction's fields.
    public init(version2 tx: Transaction, fallbackLockTime: UInt32? = nil, txModifiable: UInt8? = nil)
        throws(BitcoinError)
    {
        guard tx.version >= 2 else { throw BitcoinError(.invalidPSBT, "PSBTv2 needs transaction version 2 or more") }
        version = 2
        txVersion = tx.version
        self.fallbackLockTime = fallbackLockTime ?? tx.lockTime
        self.txModifiable = txModifiable
        inputs = tx.inputs.map { i in
            var m = Input()
            m.previousTxid = i.previousOutput.txid
            m.outputIndex = i.previousOutput.vout
            m.sequence = i.sequence
            return m
        }
        outputs = tx.outputs.map { o in
            var m = Output()
            m.amount = o.value
            m.script = o.scriptPubKey
            return m
        }
    }
}

// MARK: - Decoding

extension PSBT {
    /// Decodes base64 text.
    public init(base64 text: String) throws(BitcoinError) {
        guard let bytes = Base64.decode(text, maxBytes: Self.maxSize) else {
            throw BitcoinError(.invalidPSBT, "not valid base64")
        }
        try self.init(bytes: bytes)
    }

    /// Decodes exactly `bytes`.
    public init(bytes: [UInt8]) throws(BitcoinError) {
        guard bytes.count <= Self.maxSize else {
            throw BitcoinError(.resourceLimit, "PSBT of \(bytes.count) bytes exceeds \(Self.maxSize)")
        }
        var r = ByteReader(bytes)
        guard (try? r.read(5)) == Self.magic else { throw BitcoinError(.invalidPSBT, "missing the PSBT magic bytes") }

        // Global map.
        let global = try Self.readMap(&r, what: "global")
        var version: UInt32 = 0
        var unsigned: Transaction?
        var txVersion: Int32?
        var fallback: UInt32?
        var inputCount: Int?
        var outputCount: Int?
        var modifiable: UInt8?
        var xpubs: KeyedEntries<KeyOrigin> = KeyedEntries()
        var unknown: [Pair] = []
        for p in global {
            let (type, keyData) = try Self.splitKey(p.key)
            switch type {
            case 0x00:
                try Self.expectEmpty(keyData, "PSBT_GLOBAL_UNSIGNED_TX")
                let tx = try Transaction(bytes: p.value, allowWitness: false)
                guard !tx.hasWitness else {
                    throw BitcoinError(.invalidPSBT, "unsigned transaction is in witness serialisation")
                }
                guard tx.inputs.allSatisfy({ $0.scriptSig.bytes.isEmpty }) else {
                    throw BitcoinError(.invalidPSBT, "unsigned transaction has a non-empty scriptSig")
                }
                unsigned = tx
            case 0x01:
                guard keyData.count == 78 else {
                    throw BitcoinError(.invalidPSBT, "PSBT_GLOBAL_XPUB key data is \(keyData.count) bytes, not 78")
                }
                xpubs[keyData] = try KeyOrigin(psbtValue: p.value)
            case 0x02:
                try Self.expectEmpty(keyData, "PSBT_GLOBAL_TX_VERSION")
                txVersion = Int32(bitPattern: try Self.u32(p.value, "PSBT_GLOBAL_TX_VERSION"))
            case 0x03:
                try Self.expectEmpty(keyData, "PSBT_GLOBAL_FALLBACK_LOCKTIME")
                fallback = try Self.u32(p.value, "PSBT_GLOBAL_FALLBACK_LOCKTIME")
            case 0x04:
                try Self.expectEmpty(keyData, "PSBT_GLOBAL_INPUT_COUNT")
                inputCount = try Self.compactCount(p.value, "PSBT_GLOBAL_INPUT_COUNT")
            case 0x05:
                try Self.expectEmpty(keyData, "PSBT_GLOBAL_OUTPUT_COUNT")
                outputCount = try Self.compactCount(p.value, "PSBT_GLOBAL_OUTPUT_COUNT")
            case 0x06:
                try Self.expectEmpty(keyData, "PSBT_GLOBAL_TX_MODIFIABLE")
                guard p.value.count == 1 else {
                    throw BitcoinError(.invalidPSBT, "PSBT_GLOBAL_TX_MODIFIABLE is one byte")
                }
                modifiable = p.value[0]
            case 0xfb:
                try Self.expectEmpty(keyData, "PSBT_GLOBAL_VERSION")
                version = try Self.u32(p.value, "PSBT_GLOBAL_VERSION")
            default:
                unknown.append(p)
            }
        }
        guard version == 0 || version == 2 else {
            throw BitcoinError(.invalidPSBT, "PSBT version \(version) is not supported")
        }
        let nIn: Int
        let nOut: Int
        if version == 0 {
            guard let unsigned else { throw BitcoinError(.invalidPSBT, "PSBTv0 without PSBT_GLOBAL_UNSIGNED_TX") }
            guard txVersion == nil, fallback == nil, inputCount == nil, outputCount == nil, modifiable == nil else {
                throw BitcoinError(.invalidPSBT, "PSBTv0 with a PSBTv2-only global field")
            }
            nIn = unsigned.inputs.count
            nOut = unsigned.outputs.count
        } else {
            guard unsigned == nil else { throw BitcoinError(.invalidPSBT, "PSBTv2 with PSBT_GLOBAL_UNSIGNED_TX") }
            guard let txVersion else { throw BitcoinError(.invalidPSBT, "PSBTv2 without PSBT_GLOBAL_TX_VERSION") }
            guard txVersion >= 2 else {
                throw BitcoinError(.invalidPSBT, "PSBTv2 with transaction version \(txVersion) below 2")
            }
            guard let inputCount else { throw BitcoinError(.invalidPSBT, "PSBTv2 without PSBT_GLOBAL_INPUT_COUNT") }
            guard let outputCount else { throw BitcoinError(.invalidPSBT, "PSBTv2 without PSBT_GLOBAL_OUTPUT_COUNT") }
            nIn = inputCount
            nOut = outputCount
        }
        guard nIn <= r.remaining, nOut <= r.remaining else {
            throw BitcoinError(.truncated, "\(nIn) input and \(nOut) output maps cannot fit in \(r.remaining) bytes")
        }
        var ins = [Input]()
        ins.reserveCapacity(nIn)
        for i in 0..<nIn {
            guard !r.isAtEnd else { throw BitcoinError(.invalidPSBT, "input map \(i) is missing") }
            ins.append(try Self.decodeInput(try Self.readMap(&r, what: "input \(i)"), version: version, index: i))
        }
        var outs = [Output]()
        outs.reserveCapacity(nOut)
        for i in 0..<nOut {
            guard !r.isAtEnd else { throw BitcoinError(.invalidPSBT, "output map \(i) is missing") }
            outs.append(try Self.decodeOutput(try Self.readMap(&r, what: "output \(i)"), version: version, index: i))
        }
        try r.expectEndOfInput()

        self.version = version
        self.unsignedTransaction = unsigned
        self.txVersion = txVersion
        self.fallbackLockTime = fallback
        self.txModifiable = modifiable
        self.xpubs = xpubs
        self.globalUnknown = Self.canonicalUnknown(unknown)
        self.inputs = ins
        self.outputs = outs
        if let unsigned {
            for (i, input) in ins.enumerated() {
                if let prev = input.nonWitnessUTXO, prev.computeTxid() != unsigned.inputs[i].previousOutput.txid {
                    throw BitcoinError(.prevoutMismatch, "input \(i): non-witness UTXO does not hash to the spent txid")
                }
            }
        }
    }

    static func readMap(_ r: inout ByteReader, what: String) throws(BitcoinError) -> [Pair] {
        var pairs = [Pair]()
        var seen = Set<[UInt8]>()
        while true {
            let keyLength = try r.readCount(minimumItemSize: 1, limit: maxSize, what: "key bytes in \(what)")
            if keyLength == 0 { return pairs }
            let key = try r.readBytes(keyLength)
            let value = try r.readVarBytes(limit: maxSize, what: "value in \(what)")
            guard seen.insert(key).inserted else {
                throw BitcoinError(.duplicateKey, "duplicate key \(Hex.encode(key.prefix(40))) in the \(what) map")
            }
            guard pairs.count < 100_000 else {
                throw BitcoinError(.resourceLimit, "more than 100,000 pairs in the \(what) map")
            }
            pairs.append(Pair(key: key, value: value))
        }
    }

    static func splitKey(_ key: [UInt8]) throws(BitcoinError) -> (UInt64, [UInt8]) {
        var r = ByteReader(key)
        let type = try r.readCompactSize()
        return (type, Array(key[r.offset...]))
    }

    static func expectEmpty(_ keyData: [UInt8], _ name: String) throws(BitcoinError) {
        guard keyData.isEmpty else {
            throw BitcoinError(.invalidPSBT, "\(name) key has \(keyData.count) bytes of key data")
        }
    }

    static func u32(_ value: [UInt8], _ name: String) throws(BitcoinError) -> UInt32 {
        guard value.count == 4 else { throw BitcoinError(.invalidPSBT, "\(name) value is \(value.count) bytes, not 4") }
        return UInt32(value[0]) | UInt32(value[1]) << 8 | UInt32(value[2]) << 16 | UInt32(value[3]) << 24
    }

    static func compactCount(_ value: [UInt8], _ name: String) throws(BitcoinError) -> Int {
        var r = ByteReader(value)
        let n = try r.readCompactSize()
        try r.expectEndOfInput()
        guard n <= UInt64(maxCount) else { throw BitcoinError(.resourceLimit, "\(name) of \(n) exceeds \(maxCount)") }
        return Int(n)
    }

    static func publicKeyData(_ keyData: [UInt8], _ name: String) throws(BitcoinError) -> [UInt8] {
        guard keyData.count == 33 || keyData.count == 65, (try? PublicKey(bytes: keyData)) != nil else {
            throw BitcoinError(.invalidPSBT, "\(name) key data is not a valid public key")
        }
        return keyData
    }

    static func xOnlyKeyData(_ keyData: [UInt8], _ name: String) throws(BitcoinError) -> [UInt8] {
        guard keyData.count == 32, (try? XOnlyPublicKey(bytes: keyData)) != nil else {
            throw BitcoinError(.invalidPSBT, "\(name) is not a 32-byte x-only key")
        }
        return keyData
    }

    static func schnorrSignatureValue(_ value: [UInt8], _ name: String) throws(BitcoinError) -> [UInt8] {
        guard value.count == 64 || (value.count == 65 && value[64] != 0x00) else {
            throw BitcoinError(.invalidPSBT, "\(name) signature is \(value.count) bytes, not 64 or 65")
        }
        return value
    }

    static func tapDerivation(_ value: [UInt8]) throws(BitcoinError) -> TapDerivation {
        var r = ByteReader(value)
        let n = try r.readCount(minimumItemSize: 32, limit: 1000, what: "leaf hashes")
        var hashes = [[UInt8]]()
        for _ in 0..<n { hashes.append(try r.readBytes(32)) }
        let origin = try KeyOrigin(psbtValue: Array(value[r.offset...]))
        return TapDerivation(leafHashes: hashes, origin: origin)
    }

    static func decodeWitnessStack(_ value: [UInt8]) throws(BitcoinError) -> [[UInt8]] {
        var r = ByteReader(value)
        let n = try r.readCount(minimumItemSize: 1, limit: 10_000, what: "witness items")
        var stack = [[UInt8]]()
        for _ in 0..<n { stack.append(try r.readVarBytes(limit: maxSize, what: "witness item")) }
        try r.expectEndOfInput()
        return stack
    }

    static func decodeInput(_ pairs: [Pair], version: UInt32, index: Int) throws(BitcoinError) -> Input {
        var m = Input()
        let v2Only = "PSBTv0 input \(index) has a PSBTv2-only field"
        for p in pairs {
            let (type, k) = try splitKey(p.key)
            switch type {
            case 0x00:
                try expectEmpty(k, "PSBT_IN_NON_WITNESS_UTXO")
                m.nonWitnessUTXO = try Transaction(bytes: p.value)
            case 0x01:
                try expectEmpty(k, "PSBT_IN_WITNESS_UTXO")
                var r = ByteReader(p.value)
                m.witnessUTXO = try TxOut(reading: &r)
                try r.expectEndOfInput()
            case 0x02:
                let key = try publicKeyData(k, "PSBT_IN_PARTIAL_SIG")
                guard let last = p.value.last, ECDSASignature.isStrictDER(Array(p.value.dropLast())) else {
                    throw BitcoinError(.invalidPSBT, "input \(index): partial signature is not DER plus a sighash byte")
                }
                _ = last
                m.partialSignatures[key] = p.value
            case 0x03:
                try expectEmpty(k, "PSBT_IN_SIGHASH_TYPE")
                m.sighashType = try u32(p.value, "PSBT_IN_SIGHASH_TYPE")
            case 0x04:
                try expectEmpty(k, "PSBT_IN_REDEEM_SCRIPT")
                m.redeemScript = Script(p.value)
            case 0x05:
                try expectEmpty(k, "PSBT_IN_WITNESS_SCRIPT")
                m.witnessScript = Script(p.value)
            case 0x06:
                m.bip32Derivations[try publicKeyData(k, "PSBT_IN_BIP32_DERIVATION")] = try KeyOrigin(psbtValue: p.value)
            case 0x07:
                try expectEmpty(k, "PSBT_IN_FINAL_SCRIPTSIG")
                m.finalScriptSig = Script(p.value)
            case 0x08:
                try expectEmpty(k, "PSBT_IN_FINAL_SCRIPTWITNESS")
                m.finalScriptWitness = try decodeWitnessStack(p.value)
            case 0x09:
                try expectEmpty(k, "PSBT_IN_POR_COMMITMENT")
                m.porCommitment = p.value
            case 0x0a, 0x0b, 0x0c, 0x0d:
                let size = type == 0x0a || type == 0x0c ? 20 : 32
                guard k.count == size else {
                    throw BitcoinError(.invalidPSBT, "input \(index): hash preimage key of \(k.count) bytes")
                }
                let h: [UInt8]
                switch type {
                case 0x0a: h = RIPEMD160.hash(p.value)
                case 0x0b: h = Hash.sha256(p.value)
                case 0x0c: h = Hash.hash160(p.value)
                default: h = Hash.doubleSHA256(p.value)
                }
                guard h == k else {
                    throw BitcoinError(.invalidPSBT, "input \(index): preimage does not hash to its key")
                }
                switch type {
                case 0x0a: m.ripemd160Preimages[k] = p.value
                case 0x0b: m.sha256Preimages[k] = p.value
                case 0x0c: m.hash160Preimages[k] = p.value
                default: m.hash256Preimages[k] = p.value
                }
            case 0x0e:
                guard version == 2 else { throw BitcoinError(.invalidPSBT, v2Only) }
                try expectEmpty(k, "PSBT_IN_PREVIOUS_TXID")
                guard p.value.count == 32 else { throw BitcoinError(.invalidPSBT, "PSBT_IN_PREVIOUS_TXID is 32 bytes") }
                m.previousTxid = try Txid(bytes: p.value)
            case 0x0f:
                guard version == 2 else { throw BitcoinError(.invalidPSBT, v2Only) }
                try expectEmpty(k, "PSBT_IN_OUTPUT_INDEX")
                m.outputIndex = try u32(p.value, "PSBT_IN_OUTPUT_INDEX")
            case 0x10:
                guard version == 2 else { throw BitcoinError(.invalidPSBT, v2Only) }
                try expectEmpty(k, "PSBT_IN_SEQUENCE")
                m.sequence = try u32(p.value, "PSBT_IN_SEQUENCE")
            case 0x11:
                guard version == 2 else { throw BitcoinError(.invalidPSBT, v2Only) }
                try expectEmpty(k, "PSBT_IN_REQUIRED_TIME_LOCKTIME")
                let t = try u32(p.value, "PSBT_IN_REQUIRED_TIME_LOCKTIME")
                guard t >= 500_000_000 else {
                    throw BitcoinError(.invalidPSBT, "input \(index): required time locktime \(t) is below 500000000")
                }
                m.requiredTimeLockTime = t
            case 0x12:
                guard version == 2 else { throw BitcoinError(.invalidPSBT, v2Only) }
                try expectEmpty(k, "PSBT_IN_REQUIRED_HEIGHT_LOCKTIME")
                let h = try u32(p.value, "PSBT_IN_REQUIRED_HEIGHT_LOCKTIME")
                guard h > 0, h < 500_000_000 else {
                    throw BitcoinError(.invalidPSBT, "input \(index): required height locktime \(h) is out of range")
                }
                m.requiredHeightLockTime = h
            case 0x13:
                try expectEmpty(k, "PSBT_IN_TAP_KEY_SIG")
                m.tapKeySignature = try schnorrSignatureValue(p.value, "PSBT_IN_TAP_KEY_SIG")
            case 0x14:
                guard k.count == 64, (try? XOnlyPublicKey(bytes: k[0..<32])) != nil else {
                    throw BitcoinError(
                        .invalidPSBT, "PSBT_IN_TAP_SCRIPT_SIG key data is not an x-only key and a leaf hash")
                }
                m.tapScriptSignatures[k] = try schnorrSignatureValue(p.value, "PSBT_IN_TAP_SCRIPT_SIG")
            case 0x15:
                guard k.count >= 33, (k.count - 33) % 32 == 0, (k.count - 33) / 32 <= 128 else {
                    throw BitcoinError(.invalidPSBT, "PSBT_IN_TAP_LEAF_SCRIPT control block of \(k.count) bytes")
                }
                guard !p.value.isEmpty else {
                    throw BitcoinError(.invalidPSBT, "PSBT_IN_TAP_LEAF_SCRIPT without a leaf version")
                }
                m.tapLeafScripts[k] = p.value
            case 0x16:
                m.tapBIP32Derivations[try xOnlyKeyData(k, "PSBT_IN_TAP_BIP32_DERIVATION key")] = try tapDerivation(
                    p.value)
            case 0x17:
                try expectEmpty(k, "PSBT_IN_TAP_INTERNAL_KEY")
                m.tapInternalKey = try xOnlyKeyData(p.value, "PSBT_IN_TAP_INTERNAL_KEY")
            case 0x18:
                try expectEmpty(k, "PSBT_IN_TAP_MERKLE_ROOT")
                guard p.value.count == 32 else {
                    throw BitcoinError(.invalidPSBT, "PSBT_IN_TAP_MERKLE_ROOT is 32 bytes")
                }
                m.tapMerkleRoot = p.value
            default:
                m.unknown.append(p)
            }
        }
        m.unknown = canonicalUnknown(m.unknown)
        if version == 2 {
            guard m.previousTxid != nil else {
                throw BitcoinError(.invalidPSBT, "PSBTv2 input \(index) without PSBT_IN_PREVIOUS_TXID")
            }
            guard m.outputIndex != nil else {
                throw BitcoinError(.invalidPSBT, "PSBTv2 input \(index) without PSBT_IN_OUTPUT_INDEX")
            }
            if let prev = m.nonWitnessUTXO, prev.computeTxid() != m.previousTxid {
                throw BitcoinError(
                    .invalidPSBT, "input \(index): non-witness UTXO does not hash to PSBT_IN_PREVIOUS_TXID")
            }
        }
        return m
    }

    static func decodeOutput(_ pairs: [Pair], version: UInt32, index: Int) throws(BitcoinError) -> Output {
        var m = Output()
        for p in pairs {
            let (type, k) = try splitKey(p.key)
            switch type {
            case 0x00:
                try expectEmpty(k, "PSBT_OUT_REDEEM_SCRIPT")
                m.redeemScript = Script(p.value)
            case 0x01:
                try expectEmpty(k, "PSBT_OUT_WITNESS_SCRIPT")
                m.witnessScript = Script(p.value)
            case 0x02:
                m.bip32Derivations[try publicKeyData(k, "PSBT_OUT_BIP32_DERIVATION")] = try KeyOrigin(
                    psbtValue: p.value)
            case 0x03:
                guard version == 2 else {
                    throw BitcoinError(.invalidPSBT, "PSBTv0 output \(index) has PSBT_OUT_AMOUNT")
                }
                try expectEmpty(k, "PSBT_OUT_AMOUNT")
                guard p.value.count == 8 else { throw BitcoinError(.invalidPSBT, "PSBT_OUT_AMOUNT is 8 bytes") }
                var r = ByteReader(p.value)
                m.amount = try Amount(wire: try r.readLE64())
            case 0x04:
                guard version == 2 else {
                    throw BitcoinError(.invalidPSBT, "PSBTv0 output \(index) has PSBT_OUT_SCRIPT")
                }
                try expectEmpty(k, "PSBT_OUT_SCRIPT")
                m.script = Script(p.value)
            case 0x05:
                try expectEmpty(k, "PSBT_OUT_TAP_INTERNAL_KEY")
                m.tapInternalKey = try xOnlyKeyData(p.value, "PSBT_OUT_TAP_INTERNAL_KEY")
            case 0x06:
                try expectEmpty(k, "PSBT_OUT_TAP_TREE")
                var r = ByteReader(p.value)
                var leaves = [TapTreeLeaf]()
                while !r.isAtEnd {
                    let depth = try r.readByte()
                    let leafVersion = try r.readByte()
                    let script = try r.readVarBytes(limit: maxSize, what: "tap tree script")
                    guard depth <= 128, leafVersion & 1 == 0 else {
                        throw BitcoinError(.invalidPSBT, "PSBT_OUT_TAP_TREE leaf is invalid")
                    }
                    leaves.append(TapTreeLeaf(depth: depth, leafVersion: leafVersion, script: Script(script)))
                }
                guard !leaves.isEmpty else { throw BitcoinError(.invalidPSBT, "PSBT_OUT_TAP_TREE is empty") }
                m.tapTree = leaves
            case 0x07:
                m.tapBIP32Derivations[try xOnlyKeyData(k, "PSBT_OUT_TAP_BIP32_DERIVATION key")] = try tapDerivation(
                    p.value)
            default:
                m.unknown.append(p)
            }
        }
        m.unknown = canonicalUnknown(m.unknown)
        if version == 2 {
            guard m.amount != nil else {
                throw BitcoinError(.invalidPSBT, "PSBTv2 output \(index) without PSBT_OUT_AMOUNT")
            }
            guard m.script != nil else {
                throw BitcoinError(.invalidPSBT, "PSBTv2 output \(index) without PSBT_OUT_SCRIPT")
            }
        }
        return m
    }
}

// MARK: - Encoding

extension PSBT {
    private static func key(_ type: UInt8, _ data: [UInt8] = []) -> [UInt8] { [type] + data }

    private static func u32Bytes(_ v: UInt32) -> [UInt8] {
        var w = ByteWriter(capacity: 4)
        w.writeUInt32LE(v)
        return w.bytes
    }

    /// Unknown pairs in Bitcoin Core's order: proprietary pairs first, then the others, each by key.
    static func canonicalUnknown(_ unknown: [Pair]) -> [Pair] {
        let proprietary = unknown.filter { $0.key.first == 0xfc }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        let others = unknown.filter { $0.key.first != 0xfc }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        return proprietary + others
    }

    /// Writes a map in Bitcoin Core's canonical order: known fields by type (keyed fields sorted as
    /// Core's maps sort them), then proprietary pairs, then other unknown pairs, each sorted by key.
    private static func writeMap(_ known: [Pair], _ unknown: [Pair], to w: inout ByteWriter) {
        for p in known + canonicalUnknown(unknown) {
            w.writeVarBytes(p.key)
            w.writeVarBytes(p.value)
        }
        w.writeUInt8(0)
    }

    var globalPairs: [Pair] {
        var out = [Pair]()
        if let unsignedTransaction {
            out.append(Pair(key: Self.key(0x00), value: unsignedTransaction.serializedWithoutWitness))
        }
        for (k, v) in xpubs.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            out.append(Pair(key: Self.key(0x01, k), value: v.psbtValue))
        }
        if version == 2 {
            if let txVersion {
                out.append(Pair(key: Self.key(0x02), value: Self.u32Bytes(UInt32(bitPattern: txVersion))))
            }
            if let fallbackLockTime { out.append(Pair(key: Self.key(0x03), value: Self.u32Bytes(fallbackLockTime))) }
            var c = ByteWriter()
            c.writeCompactSize(UInt64(inputs.count))
            out.append(Pair(key: Self.key(0x04), value: c.bytes))
            c = ByteWriter()
            c.writeCompactSize(UInt64(outputs.count))
            out.append(Pair(key: Self.key(0x05), value: c.bytes))
            if let txModifiable { out.append(Pair(key: Self.key(0x06), value: [txModifiable])) }
        }
        if version != 0 { out.append(Pair(key: Self.key(0xfb), value: Self.u32Bytes(version))) }
        return out
    }

    static func inputPairs(_ m: Input) -> [Pair] {
        var out = [Pair]()
        if let t = m.nonWitnessUTXO { out.append(Pair(key: key(0x00), value: t.serialized)) }
        if let o = m.witnessUTXO {
            var w = ByteWriter()
            o.write(to: &w)
            out.append(Pair(key: key(0x01), value: w.bytes))
        }
        for (k, v) in m.partialSignatures.sorted(by: {
            Hash.hash160($0.key).lexicographicallyPrecedes(Hash.hash160($1.key))
        }) { out.append(Pair(key: key(0x02, k), value: v)) }
        if let s = m.sighashType { out.append(Pair(key: key(0x03), value: u32Bytes(s))) }
        if let s = m.redeemScript { out.append(Pair(key: key(0x04), value: s.bytes)) }
        if let s = m.witnessScript { out.append(Pair(key: key(0x05), value: s.bytes)) }
        for (k, v) in m.bip32Derivations.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            out.append(Pair(key: key(0x06, k), value: v.psbtValue))
        }
        if let s = m.finalScriptSig { out.append(Pair(key: key(0x07), value: s.bytes)) }
        if let stack = m.finalScriptWitness {
            var w = ByteWriter()
            w.writeCompactSize(UInt64(stack.count))
            for item in stack { w.writeVarBytes(item) }
            out.append(Pair(key: key(0x08), value: w.bytes))
        }
        if let c = m.porCommitment { out.append(Pair(key: key(0x09), value: c)) }
        for (k, v) in m.ripemd160Preimages.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            out.append(Pair(key: key(0x0a, k), value: v))
        }
        for (k, v) in m.sha256Preimages.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            out.append(Pair(key: key(0x0b, k), value: v))
        }
        for (k, v) in m.hash160Preimages.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            out.append(Pair(key: key(0x0c, k), value: v))
        }
        for (k, v) in m.hash256Preimages.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            out.append(Pair(key: key(0x0d, k), value: v))
        }
        if let t = m.previousTxid { out.append(Pair(key: key(0x0e), value: t.bytes)) }
        if let i = m.outputIndex { out.append(Pair(key: key(0x0f), value: u32Bytes(i))) }
        if let s = m.sequence { out.append(Pair(key: key(0x10), value: u32Bytes(s))) }
        if let t = m.requiredTimeLockTime { out.append(Pair(key: key(0x11), value: u32Bytes(t))) }
        if let h = m.requiredHeightLockTime { out.append(Pair(key: key(0x12), value: u32Bytes(h))) }
        if let s = m.tapKeySignature { out.append(Pair(key: key(0x13), value: s)) }
        for (k, v) in m.tapScriptSignatures.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            out.append(Pair(key: key(0x14, k), value: v))
        }
        for (k, v) in m.tapLeafScripts.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            out.append(Pair(key: key(0x15, k), value: v))
        }
        for (k, v) in m.tapBIP32Derivations.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            out.append(Pair(key: key(0x16, k), value: tapDerivationValue(v)))
        }
        if let k = m.tapInternalKey { out.append(Pair(key: key(0x17), value: k)) }
        if let r = m.tapMerkleRoot { out.append(Pair(key: key(0x18), value: r)) }
        return out
    }

    static func outputPairs(_ m: Output) -> [Pair] {
        var out = [Pair]()
        if let s = m.redeemScript { out.append(Pair(key: key(0x00), value: s.bytes)) }
        if let s = m.witnessScript { out.append(Pair(key: key(0x01), value: s.bytes)) }
        for (k, v) in m.bip32Derivations.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            out.append(Pair(key: key(0x02, k), value: v.psbtValue))
        }
        if let a = m.amount {
            var w = ByteWriter()
            w.writeUInt64LE(UInt64(a.sats))
            out.append(Pair(key: key(0x03), value: w.bytes))
        }
        if let s = m.script { out.append(Pair(key: key(0x04), value: s.bytes)) }
        if let k = m.tapInternalKey { out.append(Pair(key: key(0x05), value: k)) }
        if let tree = m.tapTree {
            var w = ByteWriter()
            for l in tree {
                w.writeUInt8(l.depth)
                w.writeUInt8(l.leafVersion)
                w.writeVarBytes(l.script.bytes)
            }
            out.append(Pair(key: key(0x06), value: w.bytes))
        }
        for (k, v) in m.tapBIP32Derivations.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            out.append(Pair(key: key(0x07, k), value: tapDerivationValue(v)))
        }
        return out
    }

    static func tapDerivationValue(_ d: TapDerivation) -> [UInt8] {
        var w = ByteWriter()
        w.writeCompactSize(UInt64(d.leafHashes.count))
        for h in d.leafHashes { w.write(h) }
        w.write(d.origin.psbtValue)
        return w.bytes
    }

    /// The serialised PSBT.
    public var serialized: [UInt8] {
        var w = ByteWriter(capacity: 1024)
        w.write(Self.magic)
        Self.writeMap(globalPairs, globalUnknown, to: &w)
        for i in inputs { Self.writeMap(Self.inputPairs(i), i.unknown, to: &w) }
        for o in outputs { Self.writeMap(Self.outputPairs(o), o.unknown, to: &w) }
        return w.bytes
    }

    /// The serialised PSBT in base64.
    public var base64: String { Base64.encode(serialized) }
}
