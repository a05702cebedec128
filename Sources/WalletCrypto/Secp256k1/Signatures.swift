import CSecp256k1

/// An ECDSA signature on secp256k1, held as `(r, s)`.
public struct ECDSASignature: Sendable, Hashable {
    var raw: secp256k1_ecdsa_signature

    init(raw: secp256k1_ecdsa_signature) { self.raw = raw }

    /// Parses a strict DER signature (BIP-0066 shape); trailing bytes are errors.
    public init(der: [UInt8]) throws(WalletCryptoError) {
        guard der.count >= 8, der.count <= 72 else {
            throw WalletCryptoError(.invalidSignature, "DER signature of \(der.count) bytes")
        }
        guard Self.isStrictDER(der) else { throw WalletCryptoError(.invalidSignature, "signature is not strict DER") }
        var sig = secp256k1_ecdsa_signature()
        guard secp256k1_ecdsa_signature_parse_der(Secp256k1Context.shared.raw, &sig, der, der.count) == 1 else {
            throw WalletCryptoError(.invalidSignature, "malformed DER signature")
        }
        raw = sig
    }

    /// Parses the 64-byte compact form `r ‖ s`; fails if either is not below the curve order.
    public init(compact: [UInt8]) throws(WalletCryptoError) {
        guard compact.count == 64 else { throw WalletCryptoError(.invalidSignature, "compact signature is 64 bytes") }
        var sig = secp256k1_ecdsa_signature()
        guard secp256k1_ecdsa_signature_parse_compact(Secp256k1Context.shared.raw, &sig, compact) == 1 else {
            throw WalletCryptoError(.invalidSignature, "r or s out of range")
        }
        raw = sig
    }

    /// The DER encoding (at most 72 bytes; at most 71 with a low R).
    public var der: [UInt8] {
        var out = [UInt8](repeating: 0, count: 72)
        var len = 72
        var sig = raw
        _ = secp256k1_ecdsa_signature_serialize_der(Secp256k1Context.shared.raw, &out, &len, &sig)
        return Array(out[0..<len])
    }

    /// The 64-byte compact encoding `r ‖ s`.
    public var compact: [UInt8] {
        var out = [UInt8](repeating: 0, count: 64)
        var sig = raw
        _ = secp256k1_ecdsa_signature_serialize_compact(Secp256k1Context.shared.raw, &out, &sig)
        return out
    }

    /// Whether `s ≤ n/2` (BIP-0062 low-S).
    public var isLowS: Bool {
        var sig = raw
        return secp256k1_ecdsa_signature_normalize(Secp256k1Context.shared.raw, nil, &sig) == 0
    }

    /// The low-S form of this signature.
    public var normalized: ECDSASignature {
        var out = secp256k1_ecdsa_signature()
        var sig = raw
        _ = secp256k1_ecdsa_signature_normalize(Secp256k1Context.shared.raw, &out, &sig)
        return ECDSASignature(raw: out)
    }

    /// Whether `r < 2^255`, so that its DER integer needs no padding byte (Bitcoin Core's low-R).
    public var hasLowR: Bool { compact[0] < 0x80 }

    /// BIP-0066 strict DER check (Bitcoin Core `IsValidSignatureEncoding`, without the hash type).
    public static func isStrictDER(_ sig: [UInt8]) -> Bool {
        guard sig.count >= 8, sig.count <= 72 else { return false }
        guard sig[0] == 0x30, Int(sig[1]) == sig.count - 2 else { return false }
        let lenR = Int(sig[3])
        guard 5 + lenR < sig.count else { return false }
        let lenS = Int(sig[5 + lenR])
        guard lenR + lenS + 6 == sig.count else { return false }
        guard sig[2] == 0x02, lenR > 0, sig[4] & 0x80 == 0 else { return false }
        if lenR > 1 && sig[4] == 0 && sig[5] & 0x80 == 0 { return false }
        guard sig[lenR + 4] == 0x02, lenS > 0, sig[lenR + 6] & 0x80 == 0 else { return false }
        if lenS > 1 && sig[lenR + 6] == 0 && sig[lenR + 7] & 0x80 == 0 { return false }
        return true
    }

    public static func == (lhs: ECDSASignature, rhs: ECDSASignature) -> Bool { lhs.compact == rhs.compact }
    public func hash(into hasher: inout Hasher) { hasher.combine(compact) }
}

/// A recoverable ECDSA signature: `(r, s)` and the recovery id (Ethereum's `yParity`).
public struct RecoverableSignature: Sendable, Hashable {
    /// `r ‖ s`, 64 bytes.
    public let compact: [UInt8]
    /// The recovery id, 0 or 1 for signatures Kura produces (2 and 3 need `r ≥ n`).
    public let recoveryID: UInt8

    /// Creates a recoverable signature from its compact form and recovery id; fails when
    /// `r`/`s` are out of range or the id is not 0...3.
    public init(compact: [UInt8], recoveryID: UInt8) throws(WalletCryptoError) {
        guard compact.count == 64, recoveryID <= 3 else {
            throw WalletCryptoError(.invalidSignature, "recoverable signature needs 64 bytes and an id in 0...3")
        }
        var sig = secp256k1_ecdsa_recoverable_signature()
        guard
            secp256k1_ecdsa_recoverable_signature_parse_compact(
                Secp256k1Context.shared.raw, &sig, compact, Int32(recoveryID)) == 1
        else {
            throw WalletCryptoError(.invalidSignature, "r or s out of range")
        }
        self.compact = compact
        self.recoveryID = recoveryID
    }

    /// `r` as 32 big-endian bytes.
    public var r: [UInt8] { Array(compact[0..<32]) }
    /// `s` as 32 big-endian bytes.
    public var s: [UInt8] { Array(compact[32..<64]) }

    /// The plain ECDSA signature.
    public var signature: ECDSASignature { try! ECDSASignature(compact: compact) }

    /// Recovers the public key that produced this signature over `digest`.
    public func recover(digest: [UInt8]) throws(WalletCryptoError) -> PublicKey {
        guard digest.count == 32 else { throw WalletCryptoError(.invalidLength, "recovery needs a 32-byte digest") }
        var sig = secp256k1_ecdsa_recoverable_signature()
        guard
            secp256k1_ecdsa_recoverable_signature_parse_compact(
                Secp256k1Context.shared.raw, &sig, compact, Int32(recoveryID)) == 1
        else {
            throw WalletCryptoError(.invalidSignature, "r or s out of range")
        }
        var pk = secp256k1_pubkey()
        guard secp256k1_ecdsa_recover(Secp256k1Context.shared.raw, &pk, &sig, digest) == 1 else {
            throw WalletCryptoError(.invalidSignature, "no public key recovers from this signature")
        }
        return PublicKey(raw: pk)
    }
}

/// A 64-byte BIP-0340 Schnorr signature.
public struct SchnorrSignature: Sendable, Hashable {
    /// `R.x ‖ s`.
    public let bytes: [UInt8]

    /// Wraps 64 bytes (validity is decided by verification).
    public init(bytes: [UInt8]) throws(WalletCryptoError) {
        guard bytes.count == 64 else {
            throw WalletCryptoError(.invalidSignature, "a Schnorr signature is 64 bytes, not \(bytes.count)")
        }
        self.bytes = bytes
    }
}
