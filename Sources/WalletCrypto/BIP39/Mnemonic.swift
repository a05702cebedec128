/// A BIP-0039 mnemonic (English wordlist): 128–256 bits of entropy plus a checksum, as 12–24
/// words. A secret type: it is never printed, compared or serialised by accident.
public struct Mnemonic: Sendable, CustomStringConvertible {
    /// The entropy the words encode (16, 20, 24, 28 or 32 bytes).
    public let entropy: SecretBytes

    /// The word counts BIP-0039 defines.
    public static let allowedWordCounts = [12, 15, 18, 21, 24]

    /// The BIP-0039 English wordlist, in index order.
    public static var englishWordlist: [String] { EnglishWordlist.words }

    /// Wraps entropy of 16, 20, 24, 28 or 32 bytes.
    public init(entropy: SecretBytes) throws(WalletCryptoError) {
        guard [16, 20, 24, 28, 32].contains(entropy.count) else {
            throw WalletCryptoError(
                .invalidMnemonic, "entropy must be 16, 20, 24, 28 or 32 bytes, not \(entropy.count)")
        }
        self.entropy = entropy
    }

    /// Generates a fresh mnemonic from the system's secure random generator.
    public static func generate(wordCount: Int = 24) throws(WalletCryptoError) -> Mnemonic {
        guard allowedWordCounts.contains(wordCount) else {
            throw WalletCryptoError(.invalidMnemonic, "BIP-0039 uses 12, 15, 18, 21 or 24 words, not \(wordCount)")
        }
        return try Mnemonic(entropy: SecretBytes.random(count: wordCount * 4 / 3))
    }

    /// Parses a phrase given as UTF-8 bytes. Words are separated by any run of ASCII whitespace and
    /// compared case-insensitively; every word must be in the English list (abbreviations are not
    /// accepted) and the checksum must match. Errors name the position of a bad word, never the word.
    public init(phrase: SecretBytes) throws(WalletCryptoError) {
        let indices: [Int] = try phrase.withUnsafeBytes {
            (raw: UnsafeRawBufferPointer) throws(WalletCryptoError) -> [Int] in
            guard raw.count <= 24 * 9 + 64 else {
                throw WalletCryptoError(.invalidMnemonic, "mnemonic text is too long (\(raw.count) bytes)")
            }
            var words = [[UInt8]]()
            var current = [UInt8]()
            for b in raw {
                if b == 0x20 || b == 0x09 || b == 0x0a || b == 0x0d {
                    if !current.isEmpty {
                        words.append(current)
                        current.removeAll(keepingCapacity: true)
                    }
                } else {
                    current.append(b >= 0x41 && b <= 0x5a ? b + 0x20 : b)
                }
            }
            if !current.isEmpty { words.append(current) }
            defer {
                for i in words.indices { for j in words[i].indices { words[i][j] = 0 } }
                for j in current.indices { current[j] = 0 }
            }
            guard Mnemonic.allowedWordCounts.contains(words.count) else {
                throw WalletCryptoError(.invalidMnemonic, "\(words.count) words; BIP-0039 uses 12, 15, 18, 21 or 24")
            }
            var out = [Int]()
            for (position, w) in words.enumerated() {
                guard let i = EnglishWordlist.index[String(decoding: w, as: UTF8.self)] else {
                    throw WalletCryptoError(
                        .unknownWord, "word \(position + 1) is not in the BIP-0039 English wordlist")
                }
                out.append(i)
            }
            return out
        }
        try self.init(wordIndices: indices)
    }

    /// Builds a mnemonic from 11-bit word indices, verifying the checksum.
    public init(wordIndices: [Int]) throws(WalletCryptoError) {
        guard Mnemonic.allowedWordCounts.contains(wordIndices.count),
            wordIndices.allSatisfy({ (0..<2048).contains($0) })
        else {
            throw WalletCryptoError(.invalidMnemonic, "word indices out of range")
        }
        let totalBits = wordIndices.count * 11
        let checksumBits = totalBits / 33
        let entropyBytes = (totalBits - checksumBits) / 8
        var bits = [UInt8](repeating: 0, count: (totalBits + 7) / 8)
        for (i, index) in wordIndices.enumerated() {
            for b in 0..<11 where (index >> (10 - b)) & 1 == 1 {
                let bit = i * 11 + b
                bits[bit / 8] |= 0x80 >> UInt8(bit % 8)
            }
        }
        let entropy = SecretBytes(bits[0..<entropyBytes])
        let expected = Mnemonic.checksum(entropy)
        let given = bits[entropyBytes] >> UInt8(8 - checksumBits)
        for i in bits.indices { bits[i] = 0 }
        guard expected == given else { throw WalletCryptoError(.invalidMnemonic, "checksum does not match") }
        try self.init(entropy: entropy)
    }

    private static func checksum(_ entropy: SecretBytes) -> UInt8 {
        let cs = entropy.count * 8 / 32
        let h = entropy.withUnsafeBytes { Hash.sha256(Array($0)) }
        return h[0] >> UInt8(8 - cs)
    }

    /// The number of words.
    public var wordCount: Int { (entropy.count * 8 + entropy.count * 8 / 32) / 11 }

    /// The word indices (for display on a trusted screen during a key ceremony).
    public var wordIndices: [Int] {
        var bits = entropy.unsafeCopy()
        bits.append(Mnemonic.checksum(entropy) << UInt8(8 - entropy.count * 8 / 32))
        defer { for i in bits.indices { bits[i] = 0 } }
        return (0..<wordCount).map { i in
            var v = 0
            for b in 0..<11 {
                let bit = i * 11 + b
                v = v << 1 | Int((bits[bit / 8] >> UInt8(7 - bit % 8)) & 1)
            }
            return v
        }
    }

    /// The phrase as UTF-8: words joined by single spaces.
    public var phrase: SecretBytes {
        var out = [UInt8]()
        for (i, index) in wordIndices.enumerated() {
            if i > 0 { out.append(0x20) }
            out.append(contentsOf: EnglishWordlist.words[index].utf8)
        }
        defer { for i in out.indices { out[i] = 0 } }
        return SecretBytes(out)
    }

    /// The 64-byte BIP-0039 seed: PBKDF2-HMAC-SHA512(phrase, "mnemonic" ‖ passphrase, 2048).
    ///
    /// The passphrase must be printable ASCII: BIP-0039 normalises with NFKD, which Kura does not
    /// carry without the full Foundation, and for ASCII NFKD is the identity.
    public func seed(passphrase: SecretBytes = SecretBytes([])) throws(WalletCryptoError) -> SecretBytes {
        let salt: [UInt8] = try passphrase.withUnsafeBytes {
            (raw: UnsafeRawBufferPointer) throws(WalletCryptoError) -> [UInt8] in
            guard raw.allSatisfy({ $0 >= 0x20 && $0 <= 0x7e }) else {
                throw WalletCryptoError(.invalidPassphrase, "BIP-0039 passphrases must be printable ASCII")
            }
            return Array("mnemonic".utf8) + Array(raw)
        }
        return try PasswordKDF.pbkdf2SHA512(password: phrase, salt: salt, rounds: 2048, outputByteCount: 64)
    }

    public var description: String { "Mnemonic(<redacted \(wordCount) words>)" }
}
