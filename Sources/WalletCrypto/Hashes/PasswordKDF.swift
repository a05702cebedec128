import Crypto
import CryptoExtras

#if canImport(FoundationEssentials)
    import FoundationEssentials
#endif

/// Password-based key derivation: PBKDF2-HMAC-SHA512 (BIP-0039 seeds) and scrypt (keystores),
/// both from swift-crypto's `CryptoExtras`.
public enum PasswordKDF {
    /// PBKDF2-HMAC-SHA512 (RFC 8018) with an explicit round count.
    ///
    /// BIP-0039 fixes 2048 rounds, below swift-crypto's guarded minimum, so this calls the
    /// unchecked entry point; callers choose the rounds the standard demands.
    public static func pbkdf2SHA512(password: SecretBytes, salt: [UInt8], rounds: Int, outputByteCount: Int)
        throws(WalletCryptoError) -> SecretBytes
    {
        guard password.count > 0, !salt.isEmpty, rounds > 0 else {
            throw WalletCryptoError(.primitiveFailure, "PBKDF2 needs a non-empty password and salt")
        }
        do {
            let key = try password.withUnsafeBytes { pw in
                try CryptoExtras.KDF.Insecure.PBKDF2.deriveKey(
                    from: Array(pw), salt: salt, using: .sha512, outputByteCount: outputByteCount,
                    unsafeUncheckedRounds: rounds)
            }
            return key.withUnsafeBytes { SecretBytes($0) }
        } catch {
            throw WalletCryptoError(.primitiveFailure, "PBKDF2 failed")
        }
    }

    /// scrypt (RFC 7914) with cost `N = 2^log2N`, block size `r` and parallelism `p`.
    public static func scrypt(password: SecretBytes, salt: [UInt8], log2N: Int, r: Int, p: Int, outputByteCount: Int)
        throws(WalletCryptoError) -> SecretBytes
    {
        guard password.count > 0, !salt.isEmpty else {
            throw WalletCryptoError(.primitiveFailure, "scrypt needs a non-empty password and salt")
        }
        guard (1...30).contains(log2N), (1...64).contains(r), (1...64).contains(p) else {
            throw WalletCryptoError(.primitiveFailure, "scrypt parameters out of range")
        }
        do {
            let key = try password.withUnsafeBytes { pw in
                try CryptoExtras.KDF.Scrypt.deriveKey(
                    from: Array(pw), salt: salt, outputByteCount: outputByteCount, rounds: 1 << log2N, blockSize: r,
                    parallelism: p)
            }
            return key.withUnsafeBytes { SecretBytes($0) }
        } catch {
            throw WalletCryptoError(.primitiveFailure, "scrypt failed")
        }
    }
}
