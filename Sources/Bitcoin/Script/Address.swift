public import WalletCrypto

/// A Bitcoin address on an explicit network: P2PKH and P2SH (Base58Check) or a segwit output
/// (bech32 for version 0, bech32m for versions 1–16, per BIP-0350).
public struct Address: Sendable, Hashable, CustomStringConvertible {
    /// The network the address belongs to.
    public let network: Network
    /// The output script the address pays to.
    public let scriptPubKey: Script
    /// The canonical text (lowercase for segwit).
    public let text: String

    /// Parses `text` as an address of `network`. Bech32 addresses may be all lowercase or all
    /// uppercase; a valid address of another network is a ``BitcoinError/Code/wrongNetwork`` error.
    public init(_ text: String, network: Network) throws(BitcoinError) {
        guard text.utf8.count <= 90 else { throw BitcoinError(.invalidAddress, "address is longer than 90 characters") }
        if let decoded = try? Bech32.decode(text) {
            guard decoded.hrp == network.bech32HRP else {
                if Network.all.contains(where: { $0.bech32HRP == decoded.hrp }) {
                    throw BitcoinError(.wrongNetwork, "'\(text)' is not a \(network) address")
                }
                throw BitcoinError(.invalidAddress, "'\(text)' has an unknown human-readable part '\(decoded.hrp)'")
            }
            guard let version = decoded.data.first else {
                throw BitcoinError(.invalidAddress, "'\(text)' has no witness version")
            }
            guard version <= 16 else {
                throw BitcoinError(.invalidAddress, "'\(text)' has witness version \(version) > 16")
            }
            let program: [UInt8]
            do {
                program = try Bech32.convertBits(Array(decoded.data.dropFirst()), from: 5, to: 8, pad: false)
            } catch {
                throw BitcoinError(.invalidAddress, "'\(text)': \(error.reason)")
            }
            guard (2...40).contains(program.count) else {
                throw BitcoinError(.invalidAddress, "'\(text)' has a witness program of \(program.count) bytes")
            }
            if version == 0 {
                guard program.count == 20 || program.count == 32 else {
                    throw BitcoinError(.invalidAddress, "'\(text)' is witness v0 with a \(program.count)-byte program")
                }
                guard decoded.variant == .bech32 else {
                    throw BitcoinError(.invalidAddress, "'\(text)' is witness v0 with a bech32m checksum")
                }
            } else {
                guard decoded.variant == .bech32m else {
                    throw BitcoinError(
                        .invalidAddress,
                        "'\(text)' is witness v\(version) with a bech32 checksum (BIP-0350 requires bech32m)")
                }
            }
            self.network = network
            self.scriptPubKey = .witness(version: version, program: program)
            self.text = text.lowercased()
            return
        }
        let payload: [UInt8]
        do {
            payload = try Base58.checkDecode(text, maxLength: 40)
        } catch {
            throw BitcoinError(.invalidAddress, "'\(text)' is neither a valid bech32/bech32m nor a Base58Check address")
        }
        guard payload.count == 21 else {
            throw BitcoinError(.invalidAddress, "'\(text)' has a \(payload.count)-byte payload")
        }
        let hash = Array(payload[1...])
        switch payload[0] {
        case network.p2pkhVersion: scriptPubKey = .p2pkh(hash: hash)
        case network.p2shVersion: scriptPubKey = .p2sh(hash: hash)
        default:
            if Network.all.contains(where: { $0.p2pkhVersion == payload[0] || $0.p2shVersion == payload[0] }) {
                throw BitcoinError(.wrongNetwork, "'\(text)' is not a \(network) address")
            }
            throw BitcoinError(.invalidAddress, "'\(text)' has unknown version byte \(payload[0])")
        }
        self.network = network
        self.text = text
    }

    /// The address of an output script, if it has one (P2PKH, P2SH, segwit v0–16).
    public init(scriptPubKey: Script, network: Network) throws(BitcoinError) {
        let b = scriptPubKey.bytes
        if b.count == 25, b[0] == 0x76, b[1] == 0xa9, b[2] == 0x14, b[23] == 0x88, b[24] == 0xac {
            text = Base58.checkEncode([network.p2pkhVersion] + Array(b[3..<23]))
        } else if b.count == 23, b[0] == 0xa9, b[1] == 0x14, b[22] == 0x87 {
            text = Base58.checkEncode([network.p2shVersion] + Array(b[2..<22]))
        } else if let (version, program) = scriptPubKey.witnessProgram,
            version != 0 || program.count == 20 || program.count == 32
        {
            let data = [version] + (try! Bech32.convertBits(program, from: 8, to: 5, pad: true))
            text = Bech32.encode(hrp: network.bech32HRP, data: data, variant: version == 0 ? .bech32 : .bech32m)
        } else {
            throw BitcoinError(.invalidAddress, "output script \(scriptPubKey) has no address form")
        }
        self.network = network
        self.scriptPubKey = scriptPubKey
    }

    /// The P2WPKH address of a compressed public key (BIP-0084).
    public static func p2wpkh(_ key: PublicKey, network: Network) -> Address {
        try! Address(scriptPubKey: .p2wpkh(key), network: network)
    }

    /// The P2TR key-path-only address of an internal key (BIP-0086): the output key is the
    /// internal key tweaked with no script tree.
    public static func p2trKeyPath(internalKey: XOnlyPublicKey, network: Network) throws(BitcoinError) -> Address {
        let output: XOnlyPublicKey
        do {
            output = try internalKey.taprootOutputKey(merkleRoot: nil).key
        } catch {
            throw BitcoinError(.keyError, error.description)
        }
        return try Address(scriptPubKey: .p2tr(outputKey: output), network: network)
    }

    public var description: String { text }
}

/// A private key in Wallet Import Format (Base58Check with a network prefix and an optional
/// compression flag). Used only to read test vectors and legacy backups.
public struct WIF: Sendable {
    /// The key.
    public let privateKey: PrivateKey
    /// Whether the key's public key is used compressed.
    public let isCompressed: Bool
    /// The network the prefix names (test networks share one prefix; this reports `testnet`).
    public let isMainnet: Bool

    /// Parses a WIF string for `network`.
    public init(_ text: String, network: Network) throws(BitcoinError) {
        let payload: [UInt8]
        do {
            payload = try Base58.checkDecode(text, maxLength: 60)
        } catch {
            throw BitcoinError(.invalidWIF, "not valid Base58Check")
        }
        guard payload.count == 33 || (payload.count == 34 && payload[33] == 0x01) else {
            throw BitcoinError(.invalidWIF, "WIF payload has the wrong length or compression flag")
        }
        guard payload[0] == network.wifPrefix else {
            throw BitcoinError(.wrongNetwork, "WIF prefix is not \(network)'s")
        }
        do {
            privateKey = try PrivateKey(bytes: SecretBytes(payload[1..<33]))
        } catch {
            throw BitcoinError(.invalidWIF, "WIF key is not a valid private key")
        }
        isCompressed = payload.count == 34
        isMainnet = network.isMainnet
    }
}
