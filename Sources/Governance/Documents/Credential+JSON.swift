import WalletCrypto

extension Credential {
    /// Decodes a policy's credential entry:
    /// `{"id", "scheme": "ed25519"|"p256"|"webauthn-es256", "publicKey": HEX, "rpId", "origins", "userVerification"}`
    /// (the last three for passkeys only).
    public init(json: JSONValue, path: String) throws(GovernanceError) {
        var r = try JSONObjectReader(json, path: path)
        let id = try CredentialID(r.string("id")).value
        let schemeText = try r.string("scheme")
        guard let scheme = Credential.Scheme(rawValue: schemeText) else {
            throw GovernanceError(
                .invalidValue, .malformed,
                "\(path).scheme '\(schemeText.prefix(20))' is not ed25519, p256 or webauthn-es256")
        }
        guard let key = try? Hex.decode(try r.string("publicKey"), maxBytes: 65) else {
            throw GovernanceError(.invalidKey, .malformed, "\(path).publicKey is not hex")
        }
        var rpID: String? = nil
        var origins: [String] = []
        var uv = false
        if scheme == .webauthnES256 {
            rpID = try r.string("rpId")
            origins = try r.stringArray("origins")
            uv = try r.bool("userVerification")
        }
        try r.finish()
        do throws(GovernanceError) {
            let party = try rpID.map { rp throws(GovernanceError) in
                try WebAuthnRelyingParty(rpID: rp, allowedOrigins: origins, requiresUserVerification: uv)
            }
            try self.init(id: id, scheme: scheme, publicKey: key, relyingParty: party)
        } catch {
            throw error.recategorized(.policyInvalid)
        }
    }
}

extension SignatureEvidence {
    /// Decodes `{"scheme": "ed25519"|"p256", "signature": HEX}` or
    /// `{"scheme": "webauthn-es256", "authenticatorData": B64URL, "clientDataJSON": B64URL, "signature": B64URL}`.
    public init(json: JSONValue, path: String) throws(GovernanceError) {
        var r = try JSONObjectReader(json, path: path)
        let scheme = try r.string("scheme")
        func hex(_ key: String, _ max: Int) throws(GovernanceError) -> [UInt8] {
            guard let b = try? Hex.decode(try r.string(key), maxBytes: max) else {
                throw GovernanceError(.invalidValue, .malformed, "\(path).\(key) is not hex of at most \(max) bytes")
            }
            return b
        }
        func b64(_ key: String, _ max: Int) throws(GovernanceError) -> [UInt8] {
            guard let b = Base64URL.decode(try r.string(key), maxBytes: max) else {
                throw GovernanceError(
                    .invalidValue, .malformed, "\(path).\(key) is not base64url of at most \(max) bytes")
            }
            return b
        }
        switch scheme {
        case "ed25519": self = .ed25519(signature: try hex("signature", 64))
        case "p256": self = .p256(signature: try hex("signature", 72))
        case "webauthn-es256":
            self = .webauthn(
                authenticatorData: try b64("authenticatorData", 1024), clientDataJSON: try b64("clientDataJSON", 4096),
                signature: try b64("signature", 80))
        default:
            throw GovernanceError(.invalidValue, .malformed, "\(path).scheme '\(scheme.prefix(20))' is unknown")
        }
        try r.finish()
    }

    /// The JSON form.
    public var json: JSONValue {
        switch self {
        case .ed25519(let s): return .object(["scheme": .string("ed25519"), "signature": .string(Hex.encode(s))])
        case .p256(let s): return .object(["scheme": .string("p256"), "signature": .string(Hex.encode(s))])
        case .webauthn(let a, let c, let s):
            return .object([
                "scheme": .string("webauthn-es256"), "authenticatorData": .string(Base64URL.encode(a)),
                "clientDataJSON": .string(Base64URL.encode(c)), "signature": .string(Base64URL.encode(s)),
            ])
        }
    }
}
