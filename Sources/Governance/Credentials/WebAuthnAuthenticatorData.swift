/// The authenticator data of an assertion (W3C WebAuthn Level 2 §6.1): `rpIdHash` (32 bytes),
/// flags (1), signature counter (4, big-endian), then extension outputs (a CBOR map) when ED is set.
///
/// Parsed strictly: at least 37 bytes; AT (attested credential data) is refused in an assertion; with
/// ED clear nothing may follow the counter; with ED set exactly one well-formed, definite-length CBOR
/// map must follow (its content is not interpreted: Kura requests no extensions); BS (backup state)
/// without BE (backup eligible) is refused (Level 3 §6.1).
struct WebAuthnAuthenticatorData {
    let rpIDHash: [UInt8]
    let flags: UInt8
    let signCount: UInt32

    static let flagUserPresent: UInt8 = 0x01
    static let flagUserVerified: UInt8 = 0x04
    static let flagBackupEligible: UInt8 = 0x08
    static let flagBackupState: UInt8 = 0x10
    static let flagAttestedCredentialData: UInt8 = 0x40
    static let flagExtensionData: UInt8 = 0x80

    var userPresent: Bool { flags & Self.flagUserPresent != 0 }
    var userVerified: Bool { flags & Self.flagUserVerified != 0 }

    init(bytes: [UInt8]) throws(GovernanceError) {
        guard bytes.count >= 37 else {
            throw Self.malformed("authenticatorData has \(bytes.count) bytes, at least 37 are needed")
        }
        rpIDHash = Array(bytes[0..<32])
        flags = bytes[32]
        signCount = bytes[33..<37].reduce(0) { $0 << 8 | UInt32($1) }
        if flags & Self.flagAttestedCredentialData != 0 {
            throw WebAuthnAssertion.refusal(
                .webauthnFlags, "the attested-credential-data (AT) flag is set in an assertion")
        }
        if flags & Self.flagBackupState != 0 && flags & Self.flagBackupEligible == 0 {
            throw WebAuthnAssertion.refusal(
                .webauthnFlags, "the backup-state (BS) flag is set without backup eligibility (BE)")
        }
        if flags & Self.flagExtensionData != 0 {
            var reader = CBORSkipper(bytes: bytes, offset: 37)
            guard reader.offset < bytes.count, bytes[reader.offset] >> 5 == 5 else {
                throw Self.malformed("the extension-data (ED) flag is set but no CBOR map follows")
            }
            guard reader.skipItem(depth: 0), reader.offset == bytes.count else {
                throw Self.malformed("the extension outputs are not exactly one well-formed CBOR map")
            }
        } else if bytes.count != 37 {
            throw Self.malformed(
                "\(bytes.count - 37) bytes follow the counter while the extension-data (ED) flag is clear")
        }
    }

    private static func malformed(_ reason: String) -> GovernanceError {
        WebAuthnAssertion.refusal(.webauthnAuthenticatorDataMalformed, reason)
    }
}

/// Skips one CBOR data item (RFC 8949) and checks that it is well formed, definite-length and at
/// most 8 levels deep, without building anything. Every length is checked against the bytes left.
private struct CBORSkipper {
    let bytes: [UInt8]
    var offset: Int
    static let maximumDepth = 8

    init(bytes: [UInt8], offset: Int) {
        self.bytes = bytes
        self.offset = offset
    }

    private var remaining: Int { bytes.count - offset }

    /// Reads the argument of an initial byte's additional information, or `nil` when malformed
    /// (reserved values 28-30, indefinite length 31, or truncated).
    private mutating func argument(_ info: UInt8) -> UInt64? {
        let size: Int
        switch info {
        case 0..<24: return UInt64(info)
        case 24: size = 1
        case 25: size = 2
        case 26: size = 4
        case 27: size = 8
        default: return nil
        }
        guard remaining >= size else { return nil }
        let value = bytes[offset..<offset + size].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        offset += size
        return value
    }

    /// Skips one item; `false` when it is not well formed or too deep.
    mutating func skipItem(depth: Int) -> Bool {
        guard depth <= Self.maximumDepth, remaining >= 1 else { return false }
        let initial = bytes[offset]
        offset += 1
        let major = initial >> 5
        let info = initial & 0x1f
        if major == 7 {
            // Simple values and floats: the argument is the value itself (24: one more byte).
            return argument(info) != nil
        }
        guard let count = argument(info) else { return false }
        switch major {
        case 0, 1:
            return true
        case 2, 3:
            guard count <= UInt64(remaining) else { return false }
            offset += Int(count)
            return true
        case 4, 5:
            // Every item takes at least one byte, so the count is bounded by what is left.
            let items = major == 4 ? count : count &* 2
            guard count <= UInt64(remaining), items <= UInt64(remaining) else { return false }
            for _ in 0..<items {
                guard skipItem(depth: depth + 1) else { return false }
            }
            return true
        default:  // 6: a tag, then its item
            return skipItem(depth: depth + 1)
        }
    }
}
