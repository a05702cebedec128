import Crypto
public import Governance
public import WalletCrypto

#if canImport(Glibc)
    import Glibc
#endif

extension SignerError.Code {
    /// The keystore holds another seed than the one the signer's state (or policy) names (K02).
    public static let walletMismatch = SignerError.Code("wallet_mismatch")
    /// Another `kura-signer` process holds the signer's state.
    public static let stateBusy = SignerError.Code("state_busy")
}

/// One event the signer records, before any signature leaves it (write-ahead; ATTACKS C11).
public enum LedgerEntry: Sendable, Hashable {
    /// The ledger's first record: the identity key of the seed the state was created with, signed
    /// by that key, so that a keystore swapped for another seed is recognised (K02).
    case identity(key: XOnlyPublicKey, signature: SchnorrSignature)
    /// The genesis policy hash pinned at the key ceremony.
    case pin(genesis: DocumentHash, time: Timestamp)
    /// Re-provisioning by an admin quorum (``Reprovision``): the new ledger resumes after the last
    /// receipt the coordinator holds, with every intent and Ethereum nonce that may have been
    /// signed before marked as used.
    case resume(ResumeRecord)
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

    /// What a re-provisioned signer resumes from.
    public struct ResumeRecord: Sendable, Hashable {
        /// The admin-signed re-provisioning document's digest.
        public let document: DocumentHash
        public let sequence: UInt64
        public let receipt: DocumentHash?
        public let usedIntents: [IntentID]
        public let ethereumNonces: [String: UInt64]
        public let time: Timestamp

        /// The record for a verified document, at `time`.
        public init(_ d: Reprovision, time: Timestamp) {
            document = d.digest
            sequence = d.resumeSequence
            receipt = d.resumeReceipt
            usedIntents = d.usedIntents
            ethereumNonces = Dictionary(d.ethereumNonces.map { ($0.account, $0.nonce) }, uniquingKeysWith: max)
            self.time = time
        }

        init(
            document: DocumentHash, sequence: UInt64, receipt: DocumentHash?, usedIntents: [IntentID],
            ethereumNonces: [String: UInt64], time: Timestamp
        ) {
            self.document = document
            self.sequence = sequence
            self.receipt = receipt
            self.usedIntents = usedIntents
            self.ethereumNonces = ethereumNonces
            self.time = time
        }
    }

    /// The identity record for `keypair` (the signer's identity key).
    public static func identity(_ keypair: Keypair) throws(SignerError) -> LedgerEntry {
        let key = keypair.xOnlyPublicKey.key
        do {
            return .identity(
                key: key, signature: try keypair.signSchnorr(message: identityStatement(key), auxRand: zeroAux))
        } catch {
            throw SignerError(error)
        }
    }

    /// What the identity record's signature covers: `SHA-256("kura/signer-ledger-identity/v1" ‖ 0 ‖ key)`.
    static func identityStatement(_ key: XOnlyPublicKey) -> [UInt8] {
        Hash.sha256(Array("kura/signer-ledger-identity/v1".utf8) + [0] + key.bytes)
    }

    /// BIP-0340 auxiliary data for the signer's own statements: zero, so that every signature it
    /// issues is deterministic and can be recomputed by an independent verifier (C14, K06).
    static let zeroAux = [UInt8](repeating: 0, count: 32)

    var time: Timestamp {
        switch self {
        case .identity: return .epoch
        case .pin(_, let t), .policy(_, _, let t): return t
        case .signature(let r): return r.time
        case .resume(let r): return r.time
        }
    }

    /// The entry as the ledger stores it (canonical JSON), and as `kura-signer ledger list` prints it.
    public var json: JSONValue {
        switch self {
        case .identity(let k, let s):
            return [
                "type": "identity", "identityKey": .string(Hex.encode(k.bytes)),
                "signature": .string(Hex.encode(s.bytes)),
            ]
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
        case .resume(let r):
            var o: [String: JSONValue] = [
                "type": "resume", "document": .string(r.document.description), "sequence": .number(Double(r.sequence)),
                "usedIntents": .array(r.usedIntents.map { .string($0.value) }),
                "ethereumNonces": .array(
                    r.ethereumNonces.sorted { $0.key < $1.key }.map {
                        ["account": .string($0.key), "nonce": .number(Double($0.value))]
                    }),
                "time": .number(Double(r.time.seconds)),
            ]
            if let receipt = r.receipt { o["receipt"] = .string(receipt.description) }
            return .object(o)
        }
    }

    init(json: JSONValue) throws(GovernanceError) {
        var r = try JSONObjectReader(json, path: "ledger")
        switch try r.string("type") {
        case "identity":
            guard let key = try? XOnlyPublicKey(bytes: Hex.decode(try r.string("identityKey"), maxBytes: 32)),
                let sig = try? SchnorrSignature(bytes: Hex.decode(try r.string("signature"), maxBytes: 64))
            else {
                throw GovernanceError(.invalidValue, .stateIntegrity, "bad identity record")
            }
            self = .identity(key: key, signature: sig)
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
        case "resume":
            var intents = [IntentID]()
            for v in try r.array("usedIntents") {
                guard case .string(let s) = v else {
                    throw GovernanceError(.wrongType, .stateIntegrity, "bad intent id")
                }
                intents.append(try IntentID(s))
            }
            var nonces = [String: UInt64]()
            for v in try r.array("ethereumNonces") {
                var o = try JSONObjectReader(v, path: "ledger.ethereumNonces[]")
                nonces[try o.string("account")] = UInt64(try o.int("nonce", in: 0...Int(Int64.max >> 11)))
                try o.finish()
            }
            self = .resume(
                ResumeRecord(
                    document: try DocumentHash(hex: r.string("document")), sequence: UInt64(try r.int("sequence")),
                    receipt: try r.optionalString("receipt").map { s throws(GovernanceError) in
                        try DocumentHash(hex: s)
                    },
                    usedIntents: intents, ethereumNonces: nonces, time: try Timestamp(seconds: Int64(r.int("time")))))
        case let other:
            throw GovernanceError(.invalidValue, .stateIntegrity, "unknown ledger entry type '\(other.prefix(20))'")
        }
        try r.finish()
    }

    /// The identity a record names, if `payload` is an identity record whose signature verifies
    /// under the key it names (whatever MAC key the ledger was written with).
    static func selfSignedIdentity(payload: [UInt8]) -> XOnlyPublicKey? {
        guard let value = try? JSONParser.parse(payload), let entry = try? LedgerEntry(json: value),
            case .identity(let key, let sig) = entry, key.isValidSignature(sig, message: identityStatement(key))
        else { return nil }
        return key
    }
}

/// Everything the signer knows about its own past, replayed from the ledger.
public struct SignerState: Sendable {
    /// The identity key of the seed this state was created with (the ledger's first record).
    public internal(set) var identity: XOnlyPublicKey?
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
        if case .identity(let key, let sig) = e {
            guard identity == nil, genesis == nil, sequence == 0, policyVersion == 0 else {
                throw SignerError(.stateIntegrity, "the ledger records an identity after its first record")
            }
            guard key.isValidSignature(sig, message: LedgerEntry.identityStatement(key)) else {
                throw SignerError(.stateIntegrity, "the ledger's identity record is not signed by its key")
            }
            identity = key
            return
        }
        guard identity != nil else {
            throw SignerError(.stateIntegrity, "the ledger does not start with the signer's identity")
        }
        timeHighWater = max(timeHighWater, e.time)
        switch e {
        case .identity: break
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
        case .resume(let r):
            guard genesis != nil, sequence == 0, receipts.isEmpty, history.usedIntents.isEmpty else {
                throw SignerError(.stateIntegrity, "the ledger resumes after it has already signed")
            }
            guard (r.sequence == 0) == (r.receipt == nil) else {
                throw SignerError(.stateIntegrity, "the ledger's resume record is inconsistent")
            }
            sequence = r.sequence
            if let receipt = r.receipt { receipts[r.sequence] = receipt }
            history.usedIntents.formUnion(r.usedIntents)
            for (a, n) in r.ethereumNonces { ethereumNonces[a] = max(ethereumNonces[a] ?? 0, n) }
        }
    }
}

/// The open ledger file: its descriptor holds an exclusive `flock` for the life of the process, so
/// two `kura-signer` runs never append to one state concurrently.
final class LockedFile: Sendable {
    let fd: Int32
    init(fd: Int32) { self.fd = fd }
    deinit { close(fd) }
}

/// The signer's append-only, authenticated ledger: a record file and its committed head.
///
/// **Records** (`ledger.kura`): the 8-byte magic `KURA-LG\x01`, then records `u32be length ‖
/// canonical JSON entry ‖ 32-byte MAC`, where `MAC_i = HMAC-SHA256(K, MAC_{i-1} ‖ entry_i)`,
/// `MAC_0`'s predecessor is SHA-256 of the magic, and `K` is derived from the keystore's seed
/// (HKDF-SHA256, info `kura/signer-state/v1`), so the state is bound to this keystore and cannot be
/// edited without it. The first record is always the signer's identity (its key, signed by it).
///
/// **Head** (`ledger.kura.head`, 88 bytes): magic `KURA-LH\x01` ‖ u64be committed size ‖ u64be
/// record count ‖ the chain MAC at that size ‖ `HMAC-SHA256(K, "kura/ledger-head/v1" ‖ the
/// preceding 56 bytes)`. It is replaced atomically (temporary file, `fsync`, `rename`, `fsync` of
/// the directory) after every append.
///
/// An append writes the record and `fsync`s it, then commits the head; only then does the signer
/// sign. On open every record is verified. The records must reach the committed head (else
/// STATE_INTEGRITY: the file was truncated, damaged or rolled back without its head); complete,
/// valid records past the head (a crash before the head was committed) are kept — the intent they
/// name is spent, although its signature never left; bytes after the last valid record (a torn
/// append) are ignored and cut before the next append. Opening never writes. A first record that
/// fails its MAC but is an identity record validly signed by another key means the keystore was
/// swapped for another seed (WALLET_MISMATCH). A missing record file or head refuses
/// (STATE_INTEGRITY) until an admin quorum re-provisions the signer. Rolling back both files
/// together to an older copy is not detectable on the signer alone: the receipt chain the
/// coordinator presents (`lastReceipt`) detects it (ATTACKS K04).
public struct Ledger: Sendable {
    static let magic: [UInt8] = Array("KURA-LG".utf8) + [1]
    static let headMagic: [UInt8] = Array("KURA-LH".utf8) + [1]
    static let headSize = 88
    /// The largest ledger this build opens.
    public static let maxSize = 256 << 20
    /// The largest record.
    public static let maxRecord = 1 << 20

    /// The record file.
    public let path: String
    /// The head file.
    public var headPath: String { Self.headPath(path) }
    private let key: SecretBytes
    private let file: LockedFile
    private var lastMAC: [UInt8]
    /// The size of the verified records.
    private var size: Int
    /// The file's size as last seen (larger than `size` when a torn append is pending removal).
    private var fileSize: Int
    /// Every verified entry, in order.
    public private(set) var entries: [LedgerEntry]
    /// Bytes after the last valid record that no head committed (a torn or interrupted append).
    public var uncommittedBytes: Int { fileSize - size }

    /// The head file of a ledger at `path`.
    public static func headPath(_ path: String) -> String { path + ".head" }

    /// Derives the ledger key from the keystore's BIP-0032 seed.
    public static func key(seed: SecretBytes) -> SecretBytes {
        seed.withUnsafeBytes { raw in
            let k = HKDF<SHA256>.deriveKey(
                inputKeyMaterial: SymmetricKey(data: raw), salt: Array("kura".utf8),
                info: Array("kura/signer-state/v1".utf8), outputByteCount: 32)
            return k.withUnsafeBytes { SecretBytes($0) }
        }
    }

    private static func record(_ entry: LedgerEntry, key: SecretBytes, previousMAC: [UInt8]) throws(SignerError) -> (
        bytes: [UInt8], mac: [UInt8]
    ) {
        let payload: [UInt8]
        do { payload = try CanonicalJSON.encode(entry.json) } catch {
            throw SignerError(.io, "cannot encode a ledger entry")
        }
        guard payload.count <= maxRecord else { throw SignerError(.io, "ledger entry too large") }
        let mac = key.withUnsafeBytes { Hash.hmacSHA256(key: Array($0), previousMAC + payload) }
        let n = payload.count
        return (
            [UInt8(n >> 24 & 0xff), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + payload + mac, mac
        )
    }

    private static func head(size: Int, records: Int, mac: [UInt8], key: SecretBytes) -> [UInt8] {
        var h = headMagic
        for v in [UInt64(size), UInt64(records)] {
            for shift in stride(from: 56, through: 0, by: -8) {
                h.append(UInt8(truncatingIfNeeded: v >> UInt64(shift)))
            }
        }
        h += mac
        let tag = key.withUnsafeBytes { Hash.hmacSHA256(key: Array($0), Array("kura/ledger-head/v1".utf8) + h) }
        return h + tag
    }

    /// Creates a ledger whose first record is `identity` (refuses if one exists) and commits its head.
    public static func create(path: String, key: SecretBytes, identity: Keypair) throws(SignerError) {
        let (first, mac) = try record(.identity(identity), key: key, previousMAC: Hash.sha256(magic))
        let bytes = magic + first
        try LocalFiles.writeNew(path, bytes)
        try LocalFiles.replace(headPath(path), head(size: bytes.count, records: 1, mac: mac, key: key))
    }

    private init(
        path: String, key: SecretBytes, file: LockedFile, lastMAC: [UInt8], size: Int, fileSize: Int,
        entries: [LedgerEntry]
    ) {
        self.path = path
        self.key = key
        self.file = file
        self.lastMAC = lastMAC
        self.size = size
        self.fileSize = fileSize
        self.entries = entries
    }

    /// Opens, locks and verifies the ledger of the signer whose identity key is `identity`, and
    /// replays it into a state. Never writes.
    public static func open(path: String, key: SecretBytes, identity: XOnlyPublicKey) throws(SignerError) -> (
        Ledger, SignerState
    ) {
        guard LocalFiles.exists(path) else {
            throw SignerError(
                .stateIntegrity, "the signer's ledger is missing; the signer must be re-provisioned by an admin quorum")
        }
        let fd = Glibc.open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw SignerError(.io, "cannot open \(path): \(LocalFiles.errnoText())") }
        let file = LockedFile(fd: fd)
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            throw SignerError(.stateBusy, "another kura-signer process is using this signer's state")
        }
        let bytes = try LocalFiles.read(fd: fd, name: path, limit: maxSize)
        guard bytes.count >= magic.count, Array(bytes[0..<magic.count]) == magic else {
            throw SignerError(.stateIntegrity, "the ledger's header is damaged")
        }
        var mac = Hash.sha256(magic)
        var state = SignerState()
        var entries = [LedgerEntry]()
        var offset = magic.count
        // The chain MAC and record count at every record boundary, to match the committed head.
        var boundaries: [Int: (mac: [UInt8], records: Int)] = [offset: (mac, 0)]
        var stop: String? = nil
        while offset < bytes.count {
            guard bytes.count - offset >= 4 else {
                stop = "an incomplete record header"
                break
            }
            let length =
                Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8
                | Int(bytes[offset + 3])
            guard length > 0, length <= maxRecord else {
                stop = "a record with a bad length"
                break
            }
            guard bytes.count - offset - 4 >= length + 32 else {
                stop = "an incomplete record"
                break
            }
            let payload = Array(bytes[(offset + 4)..<(offset + 4 + length)])
            let stored = Array(bytes[(offset + 4 + length)..<(offset + 4 + length + 32)])
            let expected = key.withUnsafeBytes { Hash.hmacSHA256(key: Array($0), mac + payload) }
            guard constantTimeEquals(expected, stored) else {
                if entries.isEmpty, let other = LedgerEntry.selfSignedIdentity(payload: payload), other != identity {
                    throw SignerError(
                        .walletMismatch,
                        "this keystore holds another seed than the one this signer's state was created with (state identity \(Hex.encode(other.bytes)), keystore identity \(Hex.encode(identity.bytes)))"
                    )
                }
                stop = "a record that fails its integrity check"
                break
            }
            let entry: LedgerEntry
            do { entry = try LedgerEntry(json: JSONParser.parse(payload)) } catch {
                throw SignerError(.stateIntegrity, "ledger record at \(offset) is malformed")
            }
            if entries.isEmpty {
                guard case .identity(let k, _) = entry, k == identity else {
                    throw SignerError(.stateIntegrity, "the ledger's first record is not this signer's identity")
                }
            }
            try state.apply(entry)
            entries.append(entry)
            mac = stored
            offset += 4 + length + 32
            boundaries[offset] = (mac, entries.count)
        }

        let headBytes: [UInt8]
        do { headBytes = try LocalFiles.read(headPath(path), limit: headSize) } catch {
            throw SignerError(
                .stateIntegrity,
                "the ledger's committed head is missing or unreadable; the signer must be re-provisioned")
        }
        guard headBytes.count == headSize, Array(headBytes[0..<8]) == headMagic else {
            throw SignerError(.stateIntegrity, "the ledger's committed head is damaged")
        }
        var committedSize = 0
        var committedRecords = 0
        for i in 8..<16 { committedSize = committedSize << 8 | Int(headBytes[i]) }
        for i in 16..<24 { committedRecords = committedRecords << 8 | Int(headBytes[i]) }
        let committedMAC = Array(headBytes[24..<56])
        guard
            constantTimeEquals(
                head(size: committedSize, records: committedRecords, mac: committedMAC, key: key), headBytes)
        else {
            throw SignerError(.stateIntegrity, "the ledger's committed head fails its integrity check")
        }
        guard let b = boundaries[committedSize], b.records == committedRecords, constantTimeEquals(b.mac, committedMAC)
        else {
            throw SignerError(
                .stateIntegrity,
                "the ledger ends before its committed head (\(entries.count) valid records, \(committedRecords) committed\(stop.map { "; stopped at \($0)" } ?? "")): it was truncated, damaged or rolled back"
            )
        }
        guard state.identity != nil else {
            throw SignerError(.stateIntegrity, "the ledger does not start with the signer's identity")
        }
        return (
            Ledger(
                path: path, key: key, file: file, lastMAC: mac, size: offset, fileSize: bytes.count, entries: entries),
            state
        )
    }

    /// Appends one entry durably: cuts any torn tail, writes and `fsync`s the record, then commits
    /// the head. Nothing it authorises may leave the signer before this returns.
    public mutating func append(_ entry: LedgerEntry) throws(SignerError) {
        let (bytes, mac) = try Self.record(entry, key: key, previousMAC: lastMAC)
        let fd = file.fd
        var st = stat()
        guard fstat(fd, &st) == 0, Int(st.st_size) == fileSize else {
            throw SignerError(.stateIntegrity, "\(path) changed under the signer")
        }
        if fileSize > size {
            guard ftruncate(fd, off_t(size)) == 0 else { throw SignerError(.io, "cannot cut the torn ledger record") }
            fileSize = size
        }
        try LocalFiles.write(fd: fd, name: path, bytes, at: size)
        guard fsync(fd) == 0 else { throw SignerError(.io, "cannot flush \(path): \(LocalFiles.errnoText())") }
        size += bytes.count
        fileSize = size
        lastMAC = mac
        entries.append(entry)
        try LocalFiles.replace(headPath, Self.head(size: size, records: entries.count, mac: mac, key: key))
    }
}
