import Crypto
public import Governance
public import WalletCrypto

#if canImport(Glibc)
    import Glibc
#endif

/// One event the signer records, before any signature leaves it (write-ahead; ATTACKS C11).
public enum LedgerEntry: Sendable, Hashable {
    /// The genesis policy hash pinned at the key ceremony.
    case pin(genesis: DocumentHash, time: Timestamp)
    /// A newer policy version accepted.
    case policy(version: Int64, hash: DocumentHash, time: Timestamp)
    /// A signature about to be released.
    case signature(SignatureRecord)

    /// What was signed and why.
    public struct SignatureRecord: Sendable, Hashable {
        public let sequence: UInt64
        public let intent: IntentID
        public let intentDigest: DocumentHash
        public let nonce: [UInt8]
        public let wallet: WalletID
        public let asset: AssetID
        public let amount: BaseUnits
        /// The transaction id (Bitcoin txid, Ethereum signing hash).
        public let transaction: String
        /// Ethereum: the account and nonce used.
        public let ethereumAccount: String?
        public let ethereumNonce: UInt64?
        /// The hash of the receipt issued for this signature.
        public let receipt: DocumentHash
        public let operatorName: String
        public let time: Timestamp
    }

    var time: Timestamp {
        switch self {
        case .pin(_, let t), .policy(_, _, let t): return t
        case .signature(let r): return r.time
        }
    }

    var json: JSONValue {
        switch self {
        case .pin(let g, let t):
            return ["type": "pin", "genesis": .string(g.description), "time": .number(Double(t.seconds))]
        case .policy(let v, let h, let t):
            return [
                "type": "policy", "version": .number(Double(v)), "hash": .string(h.description),
                "time": .number(Double(t.seconds)),
            ]
        case .signature(let r):
            var o: [String: JSONValue] = [
                "type": "signature", "sequence": .number(Double(r.sequence)), "intent": .string(r.intent.value),
                "intentDigest": .string(r.intentDigest.description), "nonce": .string(Hex.encode(r.nonce)),
                "wallet": .string(r.wallet.value),
                "asset": .string(r.asset.value), "amount": .string(r.amount.description),
                "transaction": .string(r.transaction),
                "receipt": .string(r.receipt.description), "operator": .string(r.operatorName),
                "time": .number(Double(r.time.seconds)),
            ]
            if let a = r.ethereumAccount { o["ethereumAccount"] = .string(a) }
            if let n = r.ethereumNonce { o["ethereumNonce"] = .number(Double(n)) }
            return .object(o)
        }
    }

    init(json: JSONValue) throws(GovernanceError) {
        var r = try JSONObjectReader(json, path: "ledger")
        switch try r.string("type") {
        case "pin":
            self = .pin(
                genesis: try DocumentHash(hex: r.string("genesis")), time: try Timestamp(seconds: Int64(r.int("time"))))
        case "policy":
            self = .policy(
                version: Int64(try r.int("version")), hash: try DocumentHash(hex: r.string("hash")),
                time: try Timestamp(seconds: Int64(r.int("time"))))
        case "signature":
            guard let nonce = try? Hex.decode(try r.string("nonce"), maxBytes: 32) else {
                throw GovernanceError(.invalidValue, .stateIntegrity, "bad nonce")
            }
            self = .signature(
                SignatureRecord(
                    sequence: UInt64(try r.int("sequence")), intent: try IntentID(r.string("intent")),
                    intentDigest: try DocumentHash(hex: r.string("intentDigest")), nonce: nonce,
                    wallet: try WalletID(r.string("wallet")),
                    asset: try AssetID(r.string("asset")), amount: try BaseUnits(decimal: r.decimalString("amount")),
                    transaction: try r.string("transaction"), ethereumAccount: try r.optionalString("ethereumAccount"),
                    ethereumNonce: try r.optionalInt("ethereumNonce").map { UInt64($0) },
                    receipt: try DocumentHash(hex: r.string("receipt")),
                    operatorName: try r.string("operator"), time: try Timestamp(seconds: Int64(r.int("time")))))
        case let other:
            throw GovernanceError(.invalidValue, .stateIntegrity, "unknown ledger entry type '\(other.prefix(20))'")
        }
        try r.finish()
    }
}

/// Everything the signer knows about its own past, replayed from the ledger.
public struct SignerState: Sendable {
    /// The pinned genesis, once pinned.
    public internal(set) var genesis: DocumentHash?
    /// The newest accepted policy version.
    public internal(set) var policyVersion: Int64 = 0
    public internal(set) var policyHash: DocumentHash?
    /// The signer's time high-water mark (ADR 0007).
    public internal(set) var timeHighWater = Timestamp.epoch
    /// Used intents, nonces and spends (for replay and rolling limits).
    public internal(set) var history = SpendHistory()
    /// Ethereum: the highest nonce signed per account (lowercase hex address).
    public internal(set) var ethereumNonces: [String: UInt64] = [:]
    /// The number of signatures issued.
    public internal(set) var sequence: UInt64 = 0
    /// Receipt hashes by sequence.
    public internal(set) var receipts: [UInt64: DocumentHash] = [:]

    /// The trust anchor for policy-chain verification.
    public var trust: PolicyTrust? {
        guard let genesis else { return nil }
        return PolicyTrust(genesis: genesis, highWater: policyHash.map { (policyVersion, $0) })
    }

    /// `max(clock, high-water mark)`.
    public func now(clock: Timestamp) -> Timestamp { max(clock, timeHighWater) }

    mutating func apply(_ e: LedgerEntry) throws(SignerError) {
        timeHighWater = max(timeHighWater, e.time)
        switch e {
        case .pin(let g, _):
            guard genesis == nil else { throw SignerError(.stateIntegrity, "the ledger pins a genesis twice") }
            genesis = g
        case .policy(let v, let h, _):
            guard genesis != nil, v > policyVersion else {
                throw SignerError(.stateIntegrity, "the ledger's policy versions do not increase")
            }
            policyVersion = v
            policyHash = h
        case .signature(let r):
            guard r.sequence == sequence + 1 else {
                throw SignerError(.stateIntegrity, "ledger sequence \(r.sequence) does not follow \(sequence)")
            }
            guard !history.usedIntents.contains(r.intent), !history.usedNonces.contains(r.nonce) else {
                throw SignerError(.stateIntegrity, "the ledger records intent \(r.intent) twice")
            }
            sequence = r.sequence
            history.usedIntents.insert(r.intent)
            history.usedNonces.insert(r.nonce)
            history.spends.append(Spend(wallet: r.wallet, asset: r.asset, amount: r.amount, time: r.time))
            receipts[r.sequence] = r.receipt
            if let a = r.ethereumAccount, let n = r.ethereumNonce {
                if let previous = ethereumNonces[a], n <= previous {
                    throw SignerError(
                        .stateIntegrity, "the ledger signs Ethereum nonce \(n) for \(a) after \(previous)")
                }
                ethereumNonces[a] = n
            }
        }
    }
}

/// The signer's append-only, authenticated ledger file.
///
/// Layout: the 8-byte magic `KURA-LG\x01`, then records `u32be length ‖ canonical JSON entry ‖
/// 32-byte MAC`, where `MAC_i = HMAC-SHA256(K, MAC_{i-1} ‖ entry_i)`, `MAC_0`'s predecessor is
/// SHA-256 of the magic, and `K` is derived from the keystore's seed (HKDF-SHA256, info
/// `kura/signer-state/v1`), so the state is bound to this keystore and cannot be edited without
/// it. A record is written and `fsync`ed before anything it authorises leaves the signer. A
/// final record that is incomplete (a crash during the append) is cut off when the ledger is
/// opened — the signature it would have authorised was never released; any other damage, a
/// missing ledger, or a MAC mismatch refuses (STATE_INTEGRITY) until an admin quorum
/// re-provisions the signer.
public struct Ledger: Sendable {
    static let magic: [UInt8] = Array("KURA-LG".utf8) + [1]
    /// The largest ledger this build opens.
    public static let maxSize = 256 << 20

    /// The file.
    public let path: String
    private let key: SecretBytes
    private var lastMAC: [UInt8]
    private var size: Int

    /// Derives the ledger key from the keystore's BIP-0032 seed.
    public static func key(seed: SecretBytes) -> SecretBytes {
        seed.withUnsafeBytes { raw in
            let k = HKDF<SHA256>.deriveKey(
                inputKeyMaterial: SymmetricKey(data: raw), salt: Array("kura".utf8),
                info: Array("kura/signer-state/v1".utf8), outputByteCount: 32)
            return k.withUnsafeBytes { SecretBytes($0) }
        }
    }

    /// Creates an empty ledger; refuses if one exists.
    public static func create(path: String, key: SecretBytes) throws(SignerError) -> Ledger {
        try LocalFiles.writeNew(path, magic)
        return Ledger(path: path, key: key, lastMAC: Hash.sha256(magic), size: magic.count)
    }

    private init(path: String, key: SecretBytes, lastMAC: [UInt8], size: Int) {
        self.path = path
        self.key = key
        self.lastMAC = lastMAC
        self.size = size
    }

    /// Opens and verifies the ledger, replaying it into a state.
    public static func open(path: String, key: SecretBytes) throws(SignerError) -> (Ledger, SignerState) {
        guard LocalFiles.exists(path) else {
            throw SignerError(
                .stateIntegrity, "the signer's ledger is missing; the signer must be re-provisioned by an admin quorum")
        }
        let bytes = try LocalFiles.read(path, limit: maxSize)
        guard bytes.count >= magic.count, Array(bytes[0..<magic.count]) == magic else {
            throw SignerError(.stateIntegrity, "the ledger's header is damaged")
        }
        var mac = Hash.sha256(magic)
        var state = SignerState()
        var offset = magic.count
        while offset < bytes.count {
            guard bytes.count - offset >= 4 else { break }
            let length =
                Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8
                | Int(bytes[offset + 3])
            guard length > 0, length <= 1 << 20 else {
                throw SignerError(.stateIntegrity, "ledger record at \(offset) has a bad length")
            }
            guard bytes.count - offset - 4 >= length + 32 else { break }  // torn final record
            let payload = Array(bytes[(offset + 4)..<(offset + 4 + length)])
            let stored = Array(bytes[(offset + 4 + length)..<(offset + 4 + length + 32)])
            let expected = key.withUnsafeBytes { Hash.hmacSHA256(key: Array($0), mac + payload) }
            guard constantTimeEquals(expected, stored) else {
                throw SignerError(
                    .stateIntegrity, "ledger record at \(offset) fails its integrity check (tampered or foreign)")
            }
            do {
                try state.apply(LedgerEntry(json: JSONParser.parse(payload)))
            } catch let e as SignerError {
                throw e
            } catch {
                throw SignerError(.stateIntegrity, "ledger record at \(offset) is malformed")
            }
            mac = stored
            offset += 4 + length + 32
        }
        if offset < bytes.count {
            // A crash during the last append: the record is incomplete and never authorised anything.
            guard truncate(path, off_t(offset)) == 0 else {
                throw SignerError(.io, "cannot cut the torn ledger record")
            }
        }
        return (Ledger(path: path, key: key, lastMAC: mac, size: offset), state)
    }

    /// Appends and flushes one entry.
    public mutating func append(_ entry: LedgerEntry) throws(SignerError) {
        let payload: [UInt8]
        do { payload = try CanonicalJSON.encode(entry.json) } catch {
            throw SignerError(.io, "cannot encode a ledger entry")
        }
        let mac = key.withUnsafeBytes { Hash.hmacSHA256(key: Array($0), lastMAC + payload) }
        var record = [UInt8]()
        let n = payload.count
        record += [UInt8(n >> 24 & 0xff), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)]
        record += payload
        record += mac
        try LocalFiles.append(path, record, expectedSize: size)
        lastMAC = mac
        size += record.count
    }
}
