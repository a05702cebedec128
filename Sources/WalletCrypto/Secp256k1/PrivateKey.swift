import CSecp256k1

/// A secp256k1 private key (a scalar in `1..<n`). A secret type: not `Equatable`, `Codable` or
/// printable, and its bytes are wiped when the last copy is released.
public struct PrivateKey: Sendable, CustomStringConvertible {
    let secret: SecretBytes

    /// Creates a key from 32 big-endian bytes; fails for zero or values not below the curve order.
    public init(bytes: SecretBytes) throws(WalletCryptoError) {
        guard bytes.count == 32 else {
            throw WalletCryptoError(.invalidPrivateKey, "a private key is 32 bytes, not \(bytes.count)")
        }
        let ok = bytes.withUnsafeBytes {
            secp256k1_ec_seckey_verify(Secp256k1Context.shared.raw, $0.bindMemory(to: UInt8.self).baseAddress!)
        }
        guard ok == 1 else {
            throw WalletCryptoError(.invalidPrivateKey, "private key is zero or not below the curve order")
        }
        secret = bytes
    }

    /// Creates a key from 32 big-endian bytes held in an ordinary array (tests, vectors).
    public init(bytes: [UInt8]) throws(WalletCryptoError) {
        try self.init(bytes: SecretBytes(bytes))
    }

    /// Generates a key from the system's secure random generator.
    public static func generate() -> PrivateKey {
        while true {
            if let key = try? PrivateKey(bytes: SecretBytes.random(count: 32)) { return key }
        }
    }

    public var description: String { "PrivateKey(<redacted>)" }

    /// The secret scalar, for serialisation into a keystore or WIF. Handle with care.
    public var secretBytes: SecretBytes { secret }

    @inline(__always) func withKey<R>(_ body: (UnsafePointer<UInt8>) throws(WalletCryptoError) -> R)
        throws(WalletCryptoError) -> R
    {
        try secret.withUnsafeBytes { raw throws(WalletCryptoError) in
            try body(raw.bindMemory(to: UInt8.self).baseAddress!)
        }
    }

    /// The corresponding public key.
    public var publicKey: PublicKey {
        var pk = secp256k1_pubkey()
        let ok = secret.withUnsafeBytes {
            secp256k1_ec_pubkey_create(Secp256k1Context.shared.raw, &pk, $0.bindMemory(to: UInt8.self).baseAddress!)
        }
        precondition(ok == 1, "a validated private key always has a public key")
        return PublicKey(raw: pk)
    }

    /// Returns `(self + tweak) mod n` (BIP-0032 private derivation); fails if the tweak is out of
    /// range or the result is zero.
    public func tweakAdd(_ tweak: [UInt8]) throws(WalletCryptoError) -> PrivateKey {
        guard tweak.count == 32 else { throw WalletCryptoError(.invalidTweak, "a tweak is 32 bytes") }
        let out = try SecretBytes(count: 32) { (buf: UnsafeMutableRawBufferPointer) throws(WalletCryptoError) in
            secret.withUnsafeBytes { buf.copyMemory(from: $0) }
            let ok = secp256k1_ec_seckey_tweak_add(
                Secp256k1Context.shared.raw, buf.bindMemory(to: UInt8.self).baseAddress!, tweak)
            guard ok == 1 else { throw WalletCryptoError(.invalidTweak, "tweak out of range or result is zero") }
        }
        return try PrivateKey(bytes: out)
    }

    /// Signs a 32-byte digest with ECDSA: RFC 6979 deterministic nonces, low-S, and — when
    /// `grindLowR` is true — low-R grinding as Bitcoin Core does (extra entropy = a counter, until
    /// `r` encodes in 32 bytes), which makes every DER signature at most 71 bytes.
    public func signECDSA(digest: [UInt8], grindLowR: Bool = true) throws(WalletCryptoError) -> ECDSASignature {
        guard digest.count == 32 else { throw WalletCryptoError(.invalidLength, "ECDSA signs a 32-byte digest") }
        var sig = secp256k1_ecdsa_signature()
        var counter: UInt32 = 0
        var extra = [UInt8](repeating: 0, count: 32)
        let ctx = Secp256k1Context.shared.raw
        return try withKey { key throws(WalletCryptoError) in
            while true {
                let ok: Int32
                if counter == 0 {
                    ok = secp256k1_ecdsa_sign(ctx, &sig, digest, key, nil, nil)
                } else {
                    extra[0] = UInt8(truncatingIfNeeded: counter)
                    extra[1] = UInt8(truncatingIfNeeded: counter >> 8)
                    extra[2] = UInt8(truncatingIfNeeded: counter >> 16)
                    extra[3] = UInt8(truncatingIfNeeded: counter >> 24)
                    ok = secp256k1_ecdsa_sign(ctx, &sig, digest, key, nil, extra)
                }
                guard ok == 1 else { throw WalletCryptoError(.primitiveFailure, "ECDSA signing failed") }
                let signature = ECDSASignature(raw: sig)
                if !grindLowR || signature.hasLowR { return signature }
                counter += 1
            }
        }
    }

    /// Signs a 32-byte digest with recoverable ECDSA (RFC 6979, low-S), as Ethereum needs.
    public func signRecoverable(digest: [UInt8]) throws(WalletCryptoError) -> RecoverableSignature {
        guard digest.count == 32 else { throw WalletCryptoError(.invalidLength, "ECDSA signs a 32-byte digest") }
        var sig = secp256k1_ecdsa_recoverable_signature()
        let ok = try withKey { key in
            secp256k1_ecdsa_sign_recoverable(Secp256k1Context.shared.raw, &sig, digest, key, nil, nil)
        }
        guard ok == 1 else { throw WalletCryptoError(.primitiveFailure, "recoverable ECDSA signing failed") }
        var compact = [UInt8](repeating: 0, count: 64)
        var recid: Int32 = 0
        _ = secp256k1_ecdsa_recoverable_signature_serialize_compact(Secp256k1Context.shared.raw, &compact, &recid, &sig)
        return try RecoverableSignature(compact: compact, recoveryID: UInt8(recid))
    }

    /// Signs `message` with BIP-0340 Schnorr. `auxRand` is 32 bytes of fresh randomness (BIP-0340
    /// recommends it); `nil` uses fresh system randomness.
    public func signSchnorr(message: [UInt8], auxRand: [UInt8]? = nil) throws(WalletCryptoError) -> SchnorrSignature {
        try Keypair(self).signSchnorr(message: message, auxRand: auxRand)
    }
}

/// A private key with its cached public point, for Schnorr signing and taproot tweaks.
public struct Keypair: Sendable {
    private let storage: SecretBytes  // the 96-byte secp256k1_keypair

    /// Builds the keypair of `key`.
    public init(_ key: PrivateKey) throws(WalletCryptoError) {
        storage = try SecretBytes(count: MemoryLayout<secp256k1_keypair>.size) {
            (buf: UnsafeMutableRawBufferPointer) throws(WalletCryptoError) in
            let ok = try key.withKey { k in
                secp256k1_keypair_create(
                    Secp256k1Context.shared.raw, buf.baseAddress!.assumingMemoryBound(to: secp256k1_keypair.self), k)
            }
            guard ok == 1 else { throw WalletCryptoError(.invalidPrivateKey, "keypair creation failed") }
        }
    }

    private init(storage: SecretBytes) { self.storage = storage }

    private func withKeypair<R>(_ body: (UnsafePointer<secp256k1_keypair>) -> R) -> R {
        storage.withUnsafeBytes { body($0.baseAddress!.assumingMemoryBound(to: secp256k1_keypair.self)) }
    }

    /// The x-only public key and the parity of the full point's y coordinate.
    public var xOnlyPublicKey: (key: XOnlyPublicKey, parityOdd: Bool) {
        var xonly = secp256k1_xonly_pubkey()
        var parity: Int32 = 0
        _ = withKeypair { secp256k1_keypair_xonly_pub(Secp256k1Context.shared.raw, &xonly, &parity, $0) }
        return (XOnlyPublicKey(raw: xonly), parity == 1)
    }

    /// Returns the keypair tweaked by `tweak` as BIP-0341 does for output keys (x-only tweak add).
    public func tweakAddXOnly(_ tweak: [UInt8]) throws(WalletCryptoError) -> Keypair {
        guard tweak.count == 32 else { throw WalletCryptoError(.invalidTweak, "a tweak is 32 bytes") }
        let out = try SecretBytes(count: MemoryLayout<secp256k1_keypair>.size) {
            (buf: UnsafeMutableRawBufferPointer) throws(WalletCryptoError) in
            storage.withUnsafeBytes { buf.copyMemory(from: $0) }
            let ok = secp256k1_keypair_xonly_tweak_add(
                Secp256k1Context.shared.raw, buf.baseAddress!.assumingMemoryBound(to: secp256k1_keypair.self), tweak)
            guard ok == 1 else { throw WalletCryptoError(.invalidTweak, "taproot tweak out of range") }
        }
        return Keypair(storage: out)
    }

    /// BIP-0341 key-path tweak: `t = hashTapTweak(P ‖ merkleRoot)` (no merkle root for BIP-0086).
    public func taprootTweaked(merkleRoot: [UInt8]? = nil) throws(WalletCryptoError) -> Keypair {
        let internalKey = xOnlyPublicKey.key
        return try tweakAddXOnly(XOnlyPublicKey.taprootTweak(internalKey: internalKey, merkleRoot: merkleRoot))
    }

    /// Signs `message` (any length) with BIP-0340 Schnorr.
    public func signSchnorr(message: [UInt8], auxRand: [UInt8]? = nil) throws(WalletCryptoError) -> SchnorrSignature {
        var aux = auxRand ?? SecretBytes.random(count: 32).unsafeCopy()
        guard aux.count == 32 else { throw WalletCryptoError(.invalidLength, "aux_rand is 32 bytes") }
        defer { for i in 0..<aux.count { aux[i] = 0 } }
        var sig = [UInt8](repeating: 0, count: 64)
        let ok: Int32 = aux.withUnsafeMutableBytes { auxBuf in
            var extra = secp256k1_schnorrsig_extraparams()
            // SECP256K1_SCHNORRSIG_EXTRAPARAMS_MAGIC = { 0xda, 0x6f, 0xb3, 0x8c }
            extra.magic = (0xda, 0x6f, 0xb3, 0x8c)
            extra.noncefp = nil
            extra.ndata = auxBuf.baseAddress
            return withKeypair { kp in
                message.withUnsafeBufferPointer { m in
                    secp256k1_schnorrsig_sign_custom(
                        Secp256k1Context.shared.raw, &sig, m.baseAddress, m.count, kp, &extra)
                }
            }
        }
        guard ok == 1 else { throw WalletCryptoError(.primitiveFailure, "Schnorr signing failed") }
        return try SchnorrSignature(bytes: sig)
    }
}
