public import Governance
public import WalletCrypto

/// The signer's identity: a BIP-0340 key derived from its seed at a fixed hardened path, which
/// signs receipts. Policies name it (`signers[].identityKey`) so that the signer can tell which
/// signer of the policy it is, and auditors can check receipts.
public enum SignerIdentity {
    /// `m/7467'/0'` ("KU" in a hardened index; distinct from every BIP-0044 purpose).
    public static let path = try! DerivationPath(parsing: "m/7467h/0h")

    /// The identity keypair of a master key.
    public static func keypair(master: ExtendedPrivateKey) throws(SignerError) -> Keypair {
        do { return try Keypair(master.derive(path).privateKey) } catch { throw SignerError(error) }
    }

    /// The x-only identity key.
    public static func publicKey(master: ExtendedPrivateKey) throws(SignerError) -> XOnlyPublicKey {
        try keypair(master: master).xOnlyPublicKey.key
    }
}

/// A receipt for one signature, signed by the signer's identity key: which intent, which
/// transaction, the ledger sequence, and the previous receipt's hash — a chain that lets the
/// coordinator and auditors detect a signer whose state was rolled back (ATTACKS K04).
public struct Receipt: Sendable, Hashable {
    public let signer: SignerID
    public let sequence: UInt64
    public let intentDigest: DocumentHash
    public let transaction: String
    public let previous: DocumentHash?
    public let time: Timestamp
    public let document: JSONValue
    /// The `kura/receipt/v1` digest.
    public let digest: DocumentHash

    public static let kind = "kura.receipt"
    public static let digestTag = "kura/receipt/v1"

    /// Builds a receipt document.
    public init(
        signer: SignerID, sequence: UInt64, intentDigest: DocumentHash, transaction: String, previous: DocumentHash?,
        time: Timestamp
    ) throws(GovernanceError) {
        var o: [String: JSONValue] = [
            "kind": .string(Self.kind), "format": 1, "signer": .string(signer.value),
            "sequence": .number(Double(sequence)),
            "intent": .string(intentDigest.description), "transaction": .string(transaction),
            "time": .number(Double(time.seconds)),
        ]
        if let previous { o["previous"] = .string(previous.description) }
        try self.init(json: .object(o))
    }

    /// Decodes a receipt (closed schema).
    public init(json: JSONValue) throws(GovernanceError) {
        var r = try JSONObjectReader(json, path: "receipt")
        guard try r.string("kind") == Self.kind, try r.int("format") == 1 else {
            throw GovernanceError(.invalidValue, .malformed, "not a kura.receipt format 1")
        }
        signer = try SignerID(r.string("signer"))
        sequence = UInt64(try r.int("sequence"))
        intentDigest = try DocumentHash(hex: r.string("intent"))
        transaction = try r.string("transaction")
        previous = try r.optionalString("previous").map { s throws(GovernanceError) in try DocumentHash(hex: s) }
        time = try Timestamp(seconds: Int64(r.int("time")))
        try r.finish()
        document = json
        digest = try DocumentHash(
            bytes: DocumentDigest.digest(tag: Self.digestTag, canonical: CanonicalJSON.encode(json)))
    }
}

/// A receipt with the signer's BIP-0340 signature over its digest.
/// JSON: `{"receipt": {...}, "signature": HEX}`.
public struct SignedReceipt: Sendable, Hashable {
    public let receipt: Receipt
    public let signature: SchnorrSignature

    /// Signs a receipt (BIP-0340 with zero auxiliary data: deterministic).
    public init(_ receipt: Receipt, keypair: Keypair) throws(SignerError) {
        self.receipt = receipt
        // Deterministic (zero auxiliary data), so that an independent verifier can recompute the
        // signature byte for byte and a nonce covert channel would show (C14, K06).
        do { signature = try keypair.signSchnorr(message: receipt.digest.bytes, auxRand: LedgerEntry.zeroAux) } catch {
            throw SignerError(error)
        }
    }

    /// Decodes the signed form.
    public init(json: JSONValue) throws(GovernanceError) {
        var r = try JSONObjectReader(json, path: "signedReceipt")
        receipt = try Receipt(json: try r.value("receipt"))
        guard let sig = try? SchnorrSignature(bytes: Hex.decode(try r.string("signature"), maxBytes: 64)) else {
            throw GovernanceError(.invalidValue, .malformed, "signedReceipt.signature is not 64 bytes of hex")
        }
        signature = sig
        try r.finish()
    }

    /// Whether `key` signed it.
    public func isValid(identityKey key: XOnlyPublicKey) -> Bool {
        key.isValidSignature(signature, message: receipt.digest.bytes)
    }

    /// The JSON form.
    public var json: JSONValue {
        .object(["receipt": receipt.document, "signature": .string(Hex.encode(signature.bytes))])
    }
}
