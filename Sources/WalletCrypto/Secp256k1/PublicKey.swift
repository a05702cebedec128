import CSecp256k1

/// A point on secp256k1 (never the point at infinity). Serialises compressed (33 bytes) by default.
public struct PublicKey: Sendable, Hashable, CustomStringConvertible {
    var raw: secp256k1_pubkey

    init(raw: secp256k1_pubkey) { self.raw = raw }

    /// Parses a compressed (33-byte) or uncompressed (65-byte) SEC1 encoding; hybrid encodings
    /// (0x06/0x07) and points off the curve are errors.
    public init<C: Collection>(bytes: C) throws(WalletCryptoError) where C.Element == UInt8 {
        let input = Array(bytes)
        guard (input.count == 33 && (input[0] == 2 || input[0] == 3)) || (input.count == 65 && input[0] == 4) else {
            throw WalletCryptoError(
                .invalidPublicKey, "not a compressed or uncompressed SEC1 point (\(input.count) bytes)")
        }
        var pk = secp256k1_pubkey()
        guard secp256k1_ec_pubkey_parse(Secp256k1Context.shared.raw, &pk, input, input.count) == 1 else {
            throw WalletCryptoError(.invalidPublicKey, "point is not on secp256k1")
        }
        raw = pk
    }

    /// The 33-byte compressed SEC1 encoding.
    public var compressed: [UInt8] {
        var out = [UInt8](repeating: 0, count: 33)
        var len = 33
        var pk = raw
        _ = secp256k1_ec_pubkey_serialize(Secp256k1Context.shared.raw, &out, &len, &pk, UInt32(SECP256K1_EC_COMPRESSED))
        return out
    }

    /// The 65-byte uncompressed SEC1 encoding (`04 ‖ x ‖ y`).
    public var uncompressed: [UInt8] {
        var out = [UInt8](repeating: 0, count: 65)
        var len = 65
        var pk = raw
        _ = secp256k1_ec_pubkey_serialize(
            Secp256k1Context.shared.raw, &out, &len, &pk, UInt32(SECP256K1_EC_UNCOMPRESSED))
        return out
    }

    /// Returns `self + tweak·G` (BIP-0032 public derivation); fails if the tweak is out of range or
    /// the sum is the point at infinity.
    public func tweakAdd(_ tweak: [UInt8]) throws(WalletCryptoError) -> PublicKey {
        guard tweak.count == 32 else { throw WalletCryptoError(.invalidTweak, "a tweak is 32 bytes") }
        var pk = raw
        guard secp256k1_ec_pubkey_tweak_add(Secp256k1Context.shared.raw, &pk, tweak) == 1 else {
            throw WalletCryptoError(.invalidTweak, "tweak out of range or result is infinity")
        }
        return PublicKey(raw: pk)
    }

    /// The x-only key (BIP-0340) and whether the full point's y coordinate is odd.
    public var xOnly: (key: XOnlyPublicKey, parityOdd: Bool) {
        var xonly = secp256k1_xonly_pubkey()
        var parity: Int32 = 0
        var pk = raw
        _ = secp256k1_xonly_pubkey_from_pubkey(Secp256k1Context.shared.raw, &xonly, &parity, &pk)
        return (XOnlyPublicKey(raw: xonly), parity == 1)
    }

    /// Verifies a low-S ECDSA signature over a 32-byte digest. High-S signatures are rejected,
    /// as Bitcoin's standardness rules and Ethereum's homestead rule do.
    public func isValidSignature(_ signature: ECDSASignature, digest: [UInt8]) -> Bool {
        guard digest.count == 32 else { return false }
        var sig = signature.raw
        var pk = raw
        return secp256k1_ecdsa_verify(Secp256k1Context.shared.raw, &sig, digest, &pk) == 1
    }

    /// HASH160 of the compressed encoding (P2WPKH program, BIP-0032 identifier).
    public var hash160: [UInt8] { Hash.hash160(compressed) }

    public static func == (lhs: PublicKey, rhs: PublicKey) -> Bool { lhs.compressed == rhs.compressed }
    public func hash(into hasher: inout Hasher) { hasher.combine(compressed) }
    public var description: String { Hex.encode(compressed) }
}

/// A BIP-0340 x-only public key (32 bytes): the x coordinate of a point with even y.
public struct XOnlyPublicKey: Sendable, Hashable, CustomStringConvertible {
    var raw: secp256k1_xonly_pubkey

    init(raw: secp256k1_xonly_pubkey) { self.raw = raw }

    /// Parses 32 bytes; fails if no point with that x coordinate exists.
    public init<C: Collection>(bytes: C) throws(WalletCryptoError) where C.Element == UInt8 {
        let input = Array(bytes)
        guard input.count == 32 else {
            throw WalletCryptoError(.invalidPublicKey, "an x-only key is 32 bytes, not \(input.count)")
        }
        var x = secp256k1_xonly_pubkey()
        guard secp256k1_xonly_pubkey_parse(Secp256k1Context.shared.raw, &x, input) == 1 else {
            throw WalletCryptoError(.invalidPublicKey, "x coordinate is not on secp256k1")
        }
        raw = x
    }

    /// The 32-byte serialisation.
    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var x = raw
        _ = secp256k1_xonly_pubkey_serialize(Secp256k1Context.shared.raw, &out, &x)
        return out
    }

    /// The BIP-0341 TapTweak scalar `hashTapTweak(P ‖ merkleRoot)`.
    public static func taprootTweak(internalKey: XOnlyPublicKey, merkleRoot: [UInt8]?) -> [UInt8] {
        Hash.tagged("TapTweak", internalKey.bytes + (merkleRoot ?? []))
    }

    /// Returns the tweaked output key `Q = P + t·G` and its parity (BIP-0341).
    public func tweakAdd(_ tweak: [UInt8]) throws(WalletCryptoError) -> (key: XOnlyPublicKey, parityOdd: Bool) {
        guard tweak.count == 32 else { throw WalletCryptoError(.invalidTweak, "a tweak is 32 bytes") }
        var out = secp256k1_pubkey()
        var x = raw
        guard secp256k1_xonly_pubkey_tweak_add(Secp256k1Context.shared.raw, &out, &x, tweak) == 1 else {
            throw WalletCryptoError(.invalidTweak, "taproot tweak out of range")
        }
        return PublicKey(raw: out).xOnly
    }

    /// The BIP-0341 output key for this internal key and an optional script-tree merkle root
    /// (`nil` for BIP-0086 key-path-only outputs).
    public func taprootOutputKey(merkleRoot: [UInt8]? = nil) throws(WalletCryptoError) -> (
        key: XOnlyPublicKey, parityOdd: Bool
    ) {
        try tweakAdd(Self.taprootTweak(internalKey: self, merkleRoot: merkleRoot))
    }

    /// Checks that `output` (with parity) is this key tweaked by `tweak`.
    public func isTweak(_ output: XOnlyPublicKey, parityOdd: Bool, tweak: [UInt8]) -> Bool {
        guard tweak.count == 32 else { return false }
        var x = raw
        return secp256k1_xonly_pubkey_tweak_add_check(
            Secp256k1Context.shared.raw, output.bytes, parityOdd ? 1 : 0, &x, tweak) == 1
    }

    /// Verifies a BIP-0340 signature over a message of any length.
    public func isValidSignature(_ signature: SchnorrSignature, message: [UInt8]) -> Bool {
        var x = raw
        return message.withUnsafeBufferPointer { m in
            secp256k1_schnorrsig_verify(Secp256k1Context.shared.raw, signature.bytes, m.baseAddress, m.count, &x) == 1
        }
    }

    public static func == (lhs: XOnlyPublicKey, rhs: XOnlyPublicKey) -> Bool { lhs.bytes == rhs.bytes }
    public func hash(into hasher: inout Hasher) { hasher.combine(bytes) }
    public var description: String { Hex.encode(bytes) }
}
