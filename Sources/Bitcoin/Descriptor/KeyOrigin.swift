public import WalletCrypto

/// Where a key comes from: the master key's fingerprint and the derivation path from it
/// (descriptor `[d34db33f/84h/0h/0h]`, PSBT `BIP32_DERIVATION` values).
public struct KeyOrigin: Sendable, Hashable, CustomStringConvertible {
    /// The master fingerprint.
    public let fingerprint: Fingerprint
    /// The path from the master key.
    public let path: DerivationPath

    /// Creates an origin.
    public init(fingerprint: Fingerprint, path: DerivationPath) {
        self.fingerprint = fingerprint
        self.path = path
    }

    /// Decodes the PSBT form: 4-byte fingerprint then little-endian 32-bit path elements.
    public init(psbtValue bytes: [UInt8]) throws(BitcoinError) {
        guard bytes.count >= 4, bytes.count % 4 == 0, bytes.count <= 4 + 4 * 255 else {
            throw BitcoinError(
                .invalidPSBT, "key origin of \(bytes.count) bytes is not a fingerprint and whole path elements")
        }
        fingerprint = try! Fingerprint(Array(bytes[0..<4]))
        var comps = [ChildNumber]()
        var i = 4
        while i < bytes.count {
            let v =
                UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
            comps.append(ChildNumber(rawValue: v))
            i += 4
        }
        path = DerivationPath(comps)
    }

    /// The PSBT encoding.
    public var psbtValue: [UInt8] {
        var w = ByteWriter(capacity: 4 + 4 * path.components.count)
        w.write(fingerprint.bytes)
        for c in path.components { w.writeUInt32LE(c.rawValue) }
        return w.bytes
    }

    /// `d34db33f/84h/0h/0h` (descriptor form, inside brackets).
    public var description: String {
        path.components.isEmpty ? fingerprint.description : "\(fingerprint)/\(path.originForm)"
    }
}
