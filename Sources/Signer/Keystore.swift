public import Bitcoin
import Crypto
public import WalletCrypto

#if canImport(FoundationEssentials)
    import FoundationEssentials
#endif

/// The signer's encrypted seed file, format version 1 (docs/adr/0004-keystore-format.md).
///
/// ```
/// offset size  field
///  0      8    magic "KURA-KS\0"
///  8      1    format version (1)
///  9      1    network (0 mainnet, 1 testnet, 2 signet, 3 regtest)
/// 10      1    KDF (1 = scrypt)
/// 11      1    log2 N
/// 12      1    r
/// 13      1    p
/// 14     32    salt
/// 46      1    cipher (1 = ChaCha20-Poly1305)
/// 47     12    nonce
/// 59      n    ciphertext ‖ 16-byte tag      (AAD = bytes 0..<59)
/// 59+n   32    SHA-256 of every preceding byte (damage detection before any KDF work)
/// ```
///
/// The plaintext is `1 ‖ len(entropy) ‖ entropy ‖ u16be len(bip39 passphrase) ‖ passphrase`.
/// The header is authenticated as associated data, so a changed cost, network or salt fails to
/// decrypt; the KDF cost is also checked against a floor and a ceiling before any work is done,
/// so a file rewritten with a weak cost is refused by name.
public struct Keystore: Sendable {
    /// scrypt parameters.
    public struct KDFParameters: Sendable, Hashable {
        /// log2 of the CPU/memory cost N.
        public let log2N: UInt8
        /// Block size.
        public let r: UInt8
        /// Parallelism.
        public let p: UInt8

        /// Kura's default for new keystores: N = 2^18, r = 8, p = 1 (256 MiB, about a second).
        public static let standard = KDFParameters(log2N: 18, r: 8, p: 1)
        /// The weakest cost Kura accepts: N = 2^15, r = 8, p = 1 (32 MiB).
        public static let floor = KDFParameters(log2N: 15, r: 8, p: 1)
        /// Memory ceiling (bytes) a keystore may ask for: 1 GiB.
        public static let maxMemory = 1 << 30

        /// Creates parameters (validated by ``validate()``).
        public init(log2N: UInt8, r: UInt8, p: UInt8) {
            self.log2N = log2N
            self.r = r
            self.p = p
        }

        /// Fails unless the cost is at least the floor and at most the ceiling.
        public func validate() throws(SignerError) {
            guard log2N >= Self.floor.log2N, r >= Self.floor.r, p >= Self.floor.p else {
                throw SignerError(
                    .weakKDF, "scrypt cost N=2^\(log2N), r=\(r), p=\(p) is below the floor N=2^15, r=8, p=1")
            }
            guard log2N <= 24, r <= 32, p <= 16, 128 * Int(r) * (1 << Int(log2N)) <= Self.maxMemory else {
                throw SignerError(.weakKDF, "scrypt cost N=2^\(log2N), r=\(r), p=\(p) is above the ceiling (1 GiB)")
            }
        }
    }

    /// The secrets a keystore holds.
    public struct Contents: Sendable {
        /// The BIP-0039 mnemonic.
        public let mnemonic: Mnemonic
        /// The BIP-0039 passphrase ("25th word"); empty if none.
        public let bip39Passphrase: SecretBytes

        /// Creates contents.
        public init(mnemonic: Mnemonic, bip39Passphrase: SecretBytes) {
            self.mnemonic = mnemonic
            self.bip39Passphrase = bip39Passphrase
        }

        /// The BIP-0032 master key.
        public func masterKey() throws(SignerError) -> ExtendedPrivateKey {
            do {
                return try ExtendedPrivateKey(seed: mnemonic.seed(passphrase: bip39Passphrase))
            } catch {
                throw SignerError(error)
            }
        }
    }

    static let magic: [UInt8] = Array("KURA-KS".utf8) + [0]
    static let formatVersion: UInt8 = 1
    static let headerSize = 59
    static let tagSize = 16
    static let checksumSize = 32
    /// The largest keystore file this build reads (larger input is refused before parsing).
    public static let maxFileSize = 1024
    /// The shortest keystore passphrase accepted for a new keystore.
    public static let minimumPassphraseLength = 8

    /// The network recorded in the header.
    public let network: Network
    /// The KDF parameters recorded in the header.
    public let kdf: KDFParameters
    /// The whole file.
    public let bytes: [UInt8]

    private static func networkID(_ n: Network) -> UInt8 {
        switch n {
        case .mainnet: return 0
        case .testnet: return 1
        case .signet: return 2
        default: return 3
        }
    }

    private static func network(id: UInt8) -> Network? {
        switch id {
        case 0: return .mainnet
        case 1: return .testnet
        case 2: return .signet
        case 3: return .regtest
        default: return nil
        }
    }

    /// Encrypts `contents` under `passphrase` with fresh salt and nonce.
    public static func seal(
        _ contents: Contents, network: Network, passphrase: SecretBytes, kdf: KDFParameters = .standard
    ) throws(SignerError) -> Keystore {
        try kdf.validate()
        guard passphrase.count >= minimumPassphraseLength else {
            throw SignerError(
                .badPassphrase, "a keystore passphrase needs at least \(minimumPassphraseLength) characters")
        }
        let salt = SecretBytes.random(count: 32).unsafeCopy()
        let nonce = SecretBytes.random(count: 12).unsafeCopy()
        var header = ByteWriter(capacity: headerSize)
        header.write(magic)
        header.writeUInt8(formatVersion)
        header.writeUInt8(networkID(network))
        header.writeUInt8(1)
        header.writeUInt8(kdf.log2N)
        header.writeUInt8(kdf.r)
        header.writeUInt8(kdf.p)
        header.write(salt)
        header.writeUInt8(1)
        header.write(nonce)

        let passLength = contents.bip39Passphrase.count
        guard passLength <= 256 else { throw SignerError(.badPassphrase, "BIP-0039 passphrase longer than 256 bytes") }
        var plain = [UInt8]()
        plain.append(1)
        plain.append(UInt8(contents.mnemonic.entropy.count))
        plain.append(contentsOf: contents.mnemonic.entropy.unsafeCopy())
        plain.append(UInt8(passLength >> 8))
        plain.append(UInt8(passLength & 0xff))
        plain.append(contentsOf: contents.bip39Passphrase.unsafeCopy())
        defer { for i in plain.indices { plain[i] = 0 } }

        let key = try deriveKey(passphrase: passphrase, salt: salt, kdf: kdf)
        let box: ChaChaPoly.SealedBox
        do {
            box = try key.withUnsafeBytes { k in
                try ChaChaPoly.seal(
                    plain, using: SymmetricKey(data: k), nonce: ChaChaPoly.Nonce(data: nonce),
                    authenticating: header.bytes)
            }
        } catch {
            throw SignerError(.io, "encryption failed")
        }
        var file = header.bytes + Array(box.ciphertext) + Array(box.tag)
        file += Hash.sha256(file)
        return Keystore(network: network, kdf: kdf, bytes: file)
    }

    private init(network: Network, kdf: KDFParameters, bytes: [UInt8]) {
        self.network = network
        self.kdf = kdf
        self.bytes = bytes
    }

    private static func deriveKey(passphrase: SecretBytes, salt: [UInt8], kdf: KDFParameters) throws(SignerError)
        -> SecretBytes
    {
        do {
            return try PasswordKDF.scrypt(
                password: passphrase, salt: salt, log2N: Int(kdf.log2N), r: Int(kdf.r), p: Int(kdf.p),
                outputByteCount: 32)
        } catch {
            throw SignerError(.weakKDF, "key derivation failed: \(error.reason)")
        }
    }

    /// Parses and checks a keystore file without decrypting it: size, magic, version, checksum,
    /// known network, cipher and KDF, and KDF cost bounds.
    public init(bytes: [UInt8]) throws(SignerError) {
        guard bytes.count <= Self.maxFileSize else {
            throw SignerError(.notAKeystore, "file of \(bytes.count) bytes is too large to be a keystore")
        }
        guard bytes.count >= Self.magic.count, Array(bytes[0..<Self.magic.count]) == Self.magic else {
            throw SignerError(.notAKeystore, "file does not start with the Kura keystore magic")
        }
        guard bytes.count >= Self.headerSize + Self.tagSize + Self.checksumSize + 2 + 16 + 2 else {
            throw SignerError(.keystoreCorrupted, "keystore is truncated (\(bytes.count) bytes)")
        }
        let body = Array(bytes[0..<(bytes.count - Self.checksumSize)])
        guard constantTimeEquals(Hash.sha256(body), Array(bytes.suffix(Self.checksumSize))) else {
            throw SignerError(.keystoreCorrupted, "keystore checksum does not match: the file is damaged")
        }
        guard bytes[8] == Self.formatVersion else {
            throw SignerError(
                .unsupportedKeystoreVersion, "keystore format version \(bytes[8]) is not supported (this build reads 1)"
            )
        }
        guard let network = Self.network(id: bytes[9]) else {
            throw SignerError(.keystoreCorrupted, "unknown network id \(bytes[9])")
        }
        guard bytes[10] == 1 else { throw SignerError(.keystoreCorrupted, "unknown KDF id \(bytes[10])") }
        guard bytes[46] == 1 else { throw SignerError(.keystoreCorrupted, "unknown cipher id \(bytes[46])") }
        let kdf = KDFParameters(log2N: bytes[11], r: bytes[12], p: bytes[13])
        try kdf.validate()
        self.init(network: network, kdf: kdf, bytes: bytes)
    }

    /// Decrypts the keystore. A wrong passphrase and a consistently rewritten file both fail
    /// authentication and are reported as ``SignerError/Code/wrongPassphrase``.
    public func open(passphrase: SecretBytes) throws(SignerError) -> Contents {
        let header = Array(bytes[0..<Self.headerSize])
        let salt = Array(bytes[14..<46])
        let nonce = Array(bytes[47..<59])
        let sealedEnd = bytes.count - Self.checksumSize
        let ciphertext = Array(bytes[Self.headerSize..<(sealedEnd - Self.tagSize)])
        let tag = Array(bytes[(sealedEnd - Self.tagSize)..<sealedEnd])
        let key = try Self.deriveKey(passphrase: passphrase, salt: salt, kdf: kdf)
        var plain: [UInt8]
        do {
            let box = try ChaChaPoly.SealedBox(nonce: ChaChaPoly.Nonce(data: nonce), ciphertext: ciphertext, tag: tag)
            plain = try key.withUnsafeBytes { k in
                Array(try ChaChaPoly.open(box, using: SymmetricKey(data: k), authenticating: header))
            }
        } catch {
            throw SignerError(
                .wrongPassphrase, "the keystore could not be decrypted: wrong passphrase, or the file was altered")
        }
        defer { for i in plain.indices { plain[i] = 0 } }
        var r = ByteReader(plain)
        do {
            guard try r.readUInt8() == 1 else { throw SignerError(.keystoreCorrupted, "unknown plaintext version") }
            let n = Int(try r.readUInt8())
            let entropy = SecretBytes(try r.read(n))
            let passLength = Int(try r.readUInt16BE())
            let pass = SecretBytes(try r.read(passLength))
            try r.expectEnd()
            return Contents(mnemonic: try Mnemonic(entropy: entropy), bip39Passphrase: pass)
        } catch let e as SignerError {
            throw e
        } catch {
            throw SignerError(.keystoreCorrupted, "decrypted keystore contents are malformed")
        }
    }
}
