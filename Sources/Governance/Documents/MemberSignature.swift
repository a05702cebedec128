import Bitcoin
import WalletCrypto

/// A member's signature on a document digest: who signed, with which of their credentials, and
/// the scheme-specific evidence. JSON:
/// `{"member": "alice", "credential": "alice-laptop", "evidence": {"scheme": "ed25519", "signature": HEX}}`
/// (WebAuthn evidence: `authenticatorData`, `clientDataJSON`, `signature`, base64url).
public struct MemberSignature: Sendable, Hashable {
    public let member: MemberID
    public let credential: CredentialID
    public let evidence: SignatureEvidence

    /// Creates a signature record.
    public init(member: MemberID, credential: CredentialID, evidence: SignatureEvidence) {
        self.member = member
        self.credential = credential
        self.evidence = evidence
    }

    /// Decodes the JSON form.
    public init(json: JSONValue, path: String) throws(GovernanceError) {
        var r = try JSONObjectReader(json, path: path)
        member = try MemberID(r.string("member"))
        credential = try CredentialID(r.string("credential"))
        evidence = try SignatureEvidence(json: try r.value("evidence"), path: "\(path).evidence")
        try r.finish()
    }

    /// The JSON form.
    public var json: JSONValue {
        .object(["member": .string(member.value), "credential": .string(credential.value), "evidence": evidence.json])
    }

    /// Verifies this signature over `digest` with the member's credential in `policy`; failures
    /// carry `category`. The member must exist, hold `role`, and own the credential.
    /// `role` `nil` accepts a member with any role (a session request).
    func verify(digest: [UInt8], in policy: Policy, role: Role?, category: RefusalCategory) throws(GovernanceError) {
        guard let m = policy.member(member) else {
            throw GovernanceError(
                .invalidSignature, category, "\(member) is not a member of policy version \(policy.version)")
        }
        if let role, !m.roles.contains(role) {
            throw GovernanceError(.invalidSignature, category, "\(member) does not have the \(role) role")
        }
        guard let c = policy.credential(credential, of: member) else {
            throw GovernanceError(.invalidSignature, category, "credential \(credential) does not belong to \(member)")
        }
        do {
            try SignatureVerification.verify(evidence, digest: digest, credential: c)
        } catch {
            throw error.recategorized(category)
        }
    }
}

/// Base64url without padding (RFC 4648 §5), as WebAuthn uses it.
public enum Base64URL {
    public static func encode(_ bytes: [UInt8]) -> String {
        Base64.encode(bytes).replacing("+", with: "-").replacing("/", with: "_")
            .replacing("=", with: "")
    }

    public static func decode(_ text: String, maxBytes: Int) -> [UInt8]? {
        guard text.utf8.allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "=") })
        else { return nil }
        var t = text.replacing("-", with: "+").replacing("_", with: "/")
        while t.utf8.count % 4 != 0 { t += "=" }
        return Base64.decode(t, maxBytes: maxBytes)
    }
}
