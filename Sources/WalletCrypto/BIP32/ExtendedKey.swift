import Synchronization

/// The first four bytes of HASH160 of a public key (BIP-0032 key fingerprint).
public struct Fingerprint: Sendable, Hashable, CustomStringConvertible {
    /// The 4 bytes.
    public let bytes: [UInt8]

    /// Wraps 4 bytes.
    public init(_ bytes: [UInt8]) throws(WalletCryptoError) {
        guard bytes.count == 4 else { throw WalletCryptoError(.invalidLength, "a fingerprint is 4 bytes") }
        self.bytes = bytes
    }

    /// Parses 8 hex digits.
    public init(hex: String) throws(WalletCryptoError) { try self.init(Hex.decode(hex, maxBytes: 4)) }

    init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// The fingerprint of a public key.
    public init(of key: PublicKey) { bytes = Array(key.hash160.prefix(4)) }

    /// `00000000`, the parent fingerprint of a master key.
    public static let zero = try! Fingerprint([0, 0, 0, 0])

    public var description: String { Hex.encode(bytes) }
}

/// The 4-byte version prefix of a serialised extended key: `xpub`/`xprv` (mainnet),
/// `tpub`/`tprv` (test networks) and the SLIP-0132 `ypub`/`zpub` families that some wallets print.
public struct ExtendedKeyVersion: Sendable, Hashable, CustomStringConvertible {
    /// The raw big-endian value.
    public let rawValue: UInt32
    /// Whether keys with this version carry a private key.
    public let isPrivate: Bool
    /// Whether the version belongs to Bitcoin mainnet.
    public let isMainnet: Bool
    /// The human prefix (`xpub`, `tprv`, …).
    public let name: String

    /// `xpub`.
    public static let xpub = ExtendedKeyVersion(rawValue: 0x0488_B21E, isPrivate: false, isMainnet: true, name: "xpub")
    /// `xprv`.
    public static let xprv = ExtendedKeyVersion(rawValue: 0x0488_ADE4, isPrivate: true, isMainnet: true, name: "xprv")
    /// `tpub`.
    public static let tpub = ExtendedKeyVersion(rawValue: 0x0435_87CF, isPrivate: false, isMainnet: false, name: "tpub")
    /// `tprv`.
    public static let tprv = ExtendedKeyVersion(rawValue: 0x0435_8394, isPrivate: true, isMainnet: false, name: "tprv")

    /// Every version Kura parses.
    public static let known: [ExtendedKeyVersion] = [
        xpub, xprv, tpub, tprv,
        ExtendedKeyVersion(rawValue: 0x049D_7CB2, isPrivate: false, isMainnet: true, name: "ypub"),
        ExtendedKeyVersion(rawValue: 0x049D_7878, isPrivate: true, isMainnet: true, name: "yprv"),
        ExtendedKeyVersion(rawValue: 0x04B2_4746, isPrivate: false, isMainnet: true, name: "zpub"),
        ExtendedKeyVersion(rawValue: 0x04B2_430C, isPrivate: true, isMainnet: true, name: "zprv"),
        ExtendedKeyVersion(rawValue: 0x044A_5262, isPrivate: false, isMainnet: false, name: "upub"),
        ExtendedKeyVersion(rawValue: 0x044A_4E28, isPrivate: true, isMainnet: false, name: "uprv"),
        ExtendedKeyVersion(rawValue: 0x045F_1CF6, isPrivate: false, isMainnet: false, name: "vpub"),
        ExtendedKeyVersion(rawValue: 0x045F_18BC, isPrivate: true, isMainnet: false, name: "vprv"),
    ]

    /// The plain version for a network (`xpub`/`tpub` or `xprv`/`tprv`).
    public static func standard(mainnet: Bool, isPrivate: Bool) -> ExtendedKeyVersion {
        switch (mainnet, isPrivate) {
        case (true, false): return .xpub
        case (true, true): return .xprv
        case (false, false): return .tpub
        case (false, true): return .tprv
        }
    }

    public var description: String { name }
}

/// The fields every serialised extended key shares (BIP-0032 "Serialization format").
struct ExtendedKeyFields {
    var version: ExtendedKeyVersion
    var depth: UInt8
    var parentFingerprint: Fingerprint
    var childNumber: ChildNumber
    var chainCode: [UInt8]
    var keyData: [UInt8]  // 33 bytes: 0x00 ‖ private key, or a compressed public key

    static func decode(_ text: String) throws(WalletCryptoError) -> ExtendedKeyFields {
        let payload = try Base58.checkDecode(text, maxLength: 120)
        guard payload.count == 78 else {
            throw WalletCryptoError(.invalidExtendedKey, "extended key payload is \(payload.count) bytes, not 78")
        }
        var r = ByteReader(payload)
        let raw = try r.readUInt32BE()
        guard let version = ExtendedKeyVersion.known.first(where: { $0.rawValue == raw }) else {
            throw WalletCryptoError(
                .invalidExtendedKey, "unknown extended key version 0x\(Hex.encode(Array(payload[0..<4])))")
        }
        let depth = try r.readUInt8()
        let parent = try Fingerprint(r.read(4))
        let child = ChildNumber(rawValue: try r.readUInt32BE())
        let chainCode = try r.read(32)
        let keyData = try r.read(33)
        try r.expectEnd()
        if depth == 0 {
            guard parent == .zero else {
                throw WalletCryptoError(.invalidExtendedKey, "zero depth with non-zero parent fingerprint")
            }
            guard child.rawValue == 0 else {
                throw WalletCryptoError(.invalidExtendedKey, "zero depth with non-zero index")
            }
        }
        if version.isPrivate {
            guard keyData[0] == 0 else {
                throw WalletCryptoError(.invalidExtendedKey, "private version but key data is not 0x00 ‖ private key")
            }
        } else {
            guard keyData[0] == 2 || keyData[0] == 3 else {
                throw WalletCryptoError(
                    .invalidExtendedKey,
                    "public version but key data is not a compressed public key (prefix 0x\(Hex.encode([keyData[0]])))")
            }
        }
        return ExtendedKeyFields(
            version: version, depth: depth, parentFingerprint: parent, childNumber: child, chainCode: chainCode,
            keyData: keyData)
    }

    func encode() -> String {
        var w = ByteWriter(capacity: 78)
        w.writeUInt32BE(version.rawValue)
        w.writeUInt8(depth)
        w.write(parentFingerprint.bytes)
        w.writeUInt32BE(childNumber.rawValue)
        w.write(chainCode)
        w.write(keyData)
        return Base58.checkEncode(w.bytes)
    }
}

/// What deriving children of one parent needs every time — the compressed key, its fingerprint
/// and the HMAC key of the chain code — computed once, on first use, and shared by copies.
final class ParentCache: Sendable {
    struct Values {
        let compressed: [UInt8]
        let fingerprint: Fingerprint
        let hmac: HMACSHA512Key
    }
    private let storage = Mutex<Values?>(nil)

    func values(_ make: () -> Values) -> Values {
        storage.withLock { cached in
            if let cached { return cached }
            let v = make()
            cached = v
            return v
        }
    }
}

/// A BIP-0032 extended public key: a public key and chain code, from which non-hardened children
/// derive without any private material.
public struct ExtendedPublicKey: Sendable, Hashable {
    /// Depth in the tree (0 for a master key).
    public let depth: UInt8
    /// The parent's fingerprint (`00000000` for a master key).
    public let parentFingerprint: Fingerprint
    /// The child number this key was derived with.
    public let childNumber: ChildNumber
    /// The 32-byte chain code.
    public let chainCode: [UInt8]
    /// The public key.
    public let publicKey: PublicKey
    let cache = ParentCache()

    /// Assembles a key from its parts.
    public init(
        depth: UInt8, parentFingerprint: Fingerprint, childNumber: ChildNumber, chainCode: [UInt8], publicKey: PublicKey
    ) throws(WalletCryptoError) {
        guard chainCode.count == 32 else { throw WalletCryptoError(.invalidExtendedKey, "a chain code is 32 bytes") }
        self.depth = depth
        self.parentFingerprint = parentFingerprint
        self.childNumber = childNumber
        self.chainCode = chainCode
        self.publicKey = publicKey
    }

    /// Parses a serialised extended public key (`xpub`, `tpub`, SLIP-0132 variants). A private
    /// version is an error: public material is never parsed out of a private key by accident.
    public init(parsing text: String) throws(WalletCryptoError) {
        let f = try ExtendedKeyFields.decode(text)
        guard !f.version.isPrivate else {
            throw WalletCryptoError(.invalidExtendedKey, "expected an extended public key, found \(f.version)")
        }
        let key = try PublicKey(bytes: f.keyData)
        try self.init(
            depth: f.depth, parentFingerprint: f.parentFingerprint, childNumber: f.childNumber, chainCode: f.chainCode,
            publicKey: key)
        version = f.version
    }

    /// The version the key was parsed with, if it was parsed.
    public private(set) var version: ExtendedKeyVersion? = nil

    private var parentValues: ParentCache.Values {
        cache.values {
            let compressed = publicKey.compressed
            return ParentCache.Values(
                compressed: compressed, fingerprint: Fingerprint(unchecked: Array(Hash.hash160(compressed).prefix(4))),
                hmac: HMACSHA512Key(key: chainCode))
        }
    }

    /// This key's fingerprint.
    public var fingerprint: Fingerprint { parentValues.fingerprint }

    /// Serialises with `version` (default: plain `xpub`/`tpub` for the chosen network).
    public func serialized(version: ExtendedKeyVersion = .xpub) -> String {
        precondition(!version.isPrivate, "a public key is never serialised with a private version")
        return ExtendedKeyFields(
            version: version, depth: depth, parentFingerprint: parentFingerprint, childNumber: childNumber,
            chainCode: chainCode,
            keyData: publicKey.compressed
        ).encode()
    }

    /// CKDpub: derives the non-hardened child `child`.
    public func derive(_ child: ChildNumber) throws(WalletCryptoError) -> ExtendedPublicKey {
        guard !child.isHardened else {
            throw WalletCryptoError(.hardenedFromPublic, "hardened child \(child) cannot be derived from a public key")
        }
        guard depth < 255 else { throw WalletCryptoError(.invalidDerivationPath, "depth would exceed 255") }
        let parent = parentValues
        var data = parent.compressed
        data.append(UInt8(truncatingIfNeeded: child.rawValue >> 24))
        data.append(UInt8(truncatingIfNeeded: child.rawValue >> 16))
        data.append(UInt8(truncatingIfNeeded: child.rawValue >> 8))
        data.append(UInt8(truncatingIfNeeded: child.rawValue))
        let i = parent.hmac.authenticationCode(data)
        let childKey: PublicKey
        do {
            childKey = try publicKey.tweakAdd(Array(i[0..<32]))
        } catch {
            // Probability below 2^-127; BIP-0032 says to proceed with the next index.
            throw WalletCryptoError(.invalidTweak, "child \(child) is invalid; use the next index")
        }
        return try ExtendedPublicKey(
            depth: depth + 1, parentFingerprint: parent.fingerprint, childNumber: child, chainCode: Array(i[32..<64]),
            publicKey: childKey)
    }

    /// Derives along a path of non-hardened steps.
    public func derive(_ path: DerivationPath) throws(WalletCryptoError) -> ExtendedPublicKey {
        var key = self
        for c in path.components { key = try key.derive(c) }
        return key
    }

    public static func == (a: ExtendedPublicKey, b: ExtendedPublicKey) -> Bool {
        a.depth == b.depth && a.parentFingerprint == b.parentFingerprint && a.childNumber == b.childNumber
            && a.chainCode == b.chainCode && a.publicKey == b.publicKey
    }
    public func hash(into h: inout Hasher) {
        h.combine(publicKey)
        h.combine(chainCode)
    }
}

/// A BIP-0032 extended private key. A secret type: not `Equatable`, `Codable` or printable.
public struct ExtendedPrivateKey: Sendable, CustomStringConvertible {
    /// Depth in the tree (0 for a master key).
    public let depth: UInt8
    /// The parent's fingerprint.
    public let parentFingerprint: Fingerprint
    /// The child number this key was derived with.
    public let childNumber: ChildNumber
    /// The chain code (secret together with the private key).
    let chainCode: SecretBytes
    /// The private key.
    public let privateKey: PrivateKey

    private init(
        depth: UInt8, parentFingerprint: Fingerprint, childNumber: ChildNumber, chainCode: SecretBytes,
        privateKey: PrivateKey
    ) {
        self.depth = depth
        self.parentFingerprint = parentFingerprint
        self.childNumber = childNumber
        self.chainCode = chainCode
        self.privateKey = privateKey
    }

    /// The master key of a BIP-0032 seed (16–64 bytes): HMAC-SHA512("Bitcoin seed", seed).
    public init(seed: SecretBytes) throws(WalletCryptoError) {
        guard (16...64).contains(seed.count) else {
            throw WalletCryptoError(.invalidLength, "a BIP-0032 seed is 16 to 64 bytes, not \(seed.count)")
        }
        var i = seed.withUnsafeBytes { Hash.hmacSHA512(key: Array("Bitcoin seed".utf8), Array($0)) }
        defer { for k in i.indices { i[k] = 0 } }
        let key: PrivateKey
        do {
            key = try PrivateKey(bytes: SecretBytes(i[0..<32]))
        } catch {
            throw WalletCryptoError(.invalidExtendedKey, "seed gives an invalid master key")
        }
        self.init(
            depth: 0, parentFingerprint: .zero, childNumber: ChildNumber(rawValue: 0),
            chainCode: SecretBytes(i[32..<64]), privateKey: key)
    }

    /// Parses a serialised extended private key (`xprv`, `tprv`, SLIP-0132 variants).
    public init(parsing text: String) throws(WalletCryptoError) {
        let f = try ExtendedKeyFields.decode(text)
        guard f.version.isPrivate else {
            throw WalletCryptoError(.invalidExtendedKey, "expected an extended private key, found \(f.version)")
        }
        let key: PrivateKey
        do {
            key = try PrivateKey(bytes: SecretBytes(f.keyData[1...]))
        } catch {
            throw WalletCryptoError(.invalidExtendedKey, "private key is not in 1..n-1")
        }
        self.init(
            depth: f.depth, parentFingerprint: f.parentFingerprint, childNumber: f.childNumber,
            chainCode: SecretBytes(f.chainCode), privateKey: key)
    }

    /// The extended public key (BIP-0032 "neuter").
    public var extendedPublicKey: ExtendedPublicKey {
        try! ExtendedPublicKey(
            depth: depth, parentFingerprint: parentFingerprint, childNumber: childNumber,
            chainCode: chainCode.unsafeCopy(), publicKey: privateKey.publicKey)
    }

    /// This key's fingerprint.
    public var fingerprint: Fingerprint { Fingerprint(of: privateKey.publicKey) }

    /// Serialises with a private version. The result is secret: only backups and test vectors use it.
    public func serialized(version: ExtendedKeyVersion = .xprv) -> String {
        precondition(version.isPrivate, "a private key is serialised with a private version")
        return ExtendedKeyFields(
            version: version, depth: depth, parentFingerprint: parentFingerprint, childNumber: childNumber,
            chainCode: chainCode.unsafeCopy(), keyData: [0] + privateKey.secret.unsafeCopy()
        ).encode()
    }

    /// CKDpriv: derives child `child` (hardened or not).
    public func derive(_ child: ChildNumber) throws(WalletCryptoError) -> ExtendedPrivateKey {
        guard depth < 255 else { throw WalletCryptoError(.invalidDerivationPath, "depth would exceed 255") }
        let parentPublic = privateKey.publicKey.compressed
        var data: [UInt8] = child.isHardened ? [0] + privateKey.secret.unsafeCopy() : parentPublic
        data.append(UInt8(truncatingIfNeeded: child.rawValue >> 24))
        data.append(UInt8(truncatingIfNeeded: child.rawValue >> 16))
        data.append(UInt8(truncatingIfNeeded: child.rawValue >> 8))
        data.append(UInt8(truncatingIfNeeded: child.rawValue))
        var i = chainCode.withUnsafeBytes { Hash.hmacSHA512(key: Array($0), data) }
        defer {
            for k in i.indices { i[k] = 0 }
            for k in data.indices { data[k] = 0 }
        }
        let childKey: PrivateKey
        do {
            childKey = try privateKey.tweakAdd(Array(i[0..<32]))
        } catch {
            throw WalletCryptoError(.invalidTweak, "child \(child) is invalid; use the next index")
        }
        return ExtendedPrivateKey(
            depth: depth + 1, parentFingerprint: Fingerprint(unchecked: Array(Hash.hash160(parentPublic).prefix(4))),
            childNumber: child,
            chainCode: SecretBytes(i[32..<64]), privateKey: childKey)
    }

    /// Derives along a path.
    public func derive(_ path: DerivationPath) throws(WalletCryptoError) -> ExtendedPrivateKey {
        var key = self
        for c in path.components { key = try key.derive(c) }
        return key
    }

    public var description: String { "ExtendedPrivateKey(<redacted>, depth \(depth))" }
}
