import Governance
import KuraTestSupport
import Testing

// WebAuthn assertions beyond the one-change cases of webauthn_assertions.json: truncation, schemes,
// and that the credential's relying party is what an assertion is judged by.

private func validCase() throws -> (Credential, [UInt8], [UInt8], [UInt8], [UInt8]) {
    let c = try WebAuthnCases.load().first { $0.name == "browser client data with crossOrigin false" }!
    return (
        try c.credential.credential(), hexBytes(c.digest), hexBytes(c.evidence.authenticatorData!),
        hexBytes(c.evidence.clientDataJSON!), hexBytes(c.evidence.signature)
    )
}

@Test func everyTruncatedClientDataIsRefusedAsMalformed() throws {
    let (credential, digest, authData, clientData, sig) = try validCase()
    let whole = SignatureEvidence.webauthn(authenticatorData: authData, clientDataJSON: clientData, signature: sig)
    #expect(refusal { try SignatureVerification.verify(whole, digest: digest, credential: credential) } == nil)
    for n in 0..<clientData.count {
        let cut = SignatureEvidence.webauthn(
            authenticatorData: authData, clientDataJSON: Array(clientData[0..<n]), signature: sig)
        let e = refusal { try SignatureVerification.verify(cut, digest: digest, credential: credential) }
        #expect(e?.code == .webauthnClientDataMalformed, "prefix \(n): \(String(describing: e))")
    }
}

@Test func everyTruncatedAuthenticatorDataOrSignatureIsRefused() throws {
    let (credential, digest, authData, clientData, sig) = try validCase()
    for n in 0..<authData.count {
        let cut = SignatureEvidence.webauthn(
            authenticatorData: Array(authData[0..<n]), clientDataJSON: clientData, signature: sig)
        let e = refusal { try SignatureVerification.verify(cut, digest: digest, credential: credential) }
        #expect(e?.code == .webauthnAuthenticatorDataMalformed, "prefix \(n)")
    }
    for n in 0..<sig.count {
        let cut = SignatureEvidence.webauthn(
            authenticatorData: authData, clientDataJSON: clientData, signature: Array(sig[0..<n]))
        let e = refusal { try SignatureVerification.verify(cut, digest: digest, credential: credential) }
        #expect(e?.code == .malformedSignature, "prefix \(n)")
    }
}

@Test func anAssertionIsJudgedByTheCredentialsRelyingParty() throws {
    let (credential, digest, authData, clientData, sig) = try validCase()
    let evidence = SignatureEvidence.webauthn(authenticatorData: authData, clientDataJSON: clientData, signature: sig)
    func judged(rpID: String, origins: [String], uv: Bool) throws -> GovernanceError.Code? {
        let other = try Credential.webauthnES256(
            id: credential.id, publicKey: credential.publicKey, rpID: rpID, allowedOrigins: origins,
            requiresUserVerification: uv)
        return refusal { try SignatureVerification.verify(evidence, digest: digest, credential: other) }?.code
    }
    #expect(try judged(rpID: "example.com", origins: ["https://example.com"], uv: false) == nil)
    #expect(
        try judged(rpID: "example.com", origins: ["https://login.example.com"], uv: false) == .webauthnOriginMismatch)
    // Same origin, another relying-party id (a suffix of the host): the rpIdHash no longer matches.
    #expect(try judged(rpID: "com", origins: ["https://example.com"], uv: false) == .webauthnRPIDMismatch)
    #expect(try judged(rpID: "example.com", origins: ["https://example.com"], uv: true) == .webauthnUserVerification)
    // The same assertion against a P-256 credential with the same key: a different scheme.
    let p256 = try Credential.p256(id: "p", publicKey: credential.publicKey)
    #expect(
        refusal { try SignatureVerification.verify(evidence, digest: digest, credential: p256) }?.code
            == .schemeMismatch)
}

@Test func messagesAreBoundedBeforeAnythingElse() throws {
    let (credential, _, authData, clientData, sig) = try validCase()
    let evidence = SignatureEvidence.webauthn(authenticatorData: authData, clientDataJSON: clientData, signature: sig)
    let huge = [UInt8](repeating: 0, count: SignatureVerification.maximumMessageByteCount + 1)
    #expect(
        refusal { try SignatureVerification.verify(evidence, message: huge, credential: credential) }?.code == .tooLarge
    )
    let fits = [UInt8](repeating: 0, count: SignatureVerification.maximumMessageByteCount)
    #expect(
        refusal { try SignatureVerification.verify(evidence, message: fits, credential: credential) }?.code
            == .webauthnChallengeMismatch)
}
