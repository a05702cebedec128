public import WalletCrypto

/// A receipt for one signature, signed by a cold signer's identity key (format `kura.receipt` 1;
/// docs/SIGNING-BUNDLE.md): which intent, which transaction, the signer's ledger sequence, and the
/// previous receipt's digest — a chain that lets the coordinator and auditors detect a signer whose
/// state was rolled back (ATTACKS K04), and lets `kura audit verify` reconcile the coordinator's log
/// with what the signers actually signed (docs/AUDIT.md).
///
/// The signer builds and signs receipts; everyone else only reads and verifies them.
public struct Receipt: Sendable, Hashable {
    /// The signer, as the policy names it.
    public let signer: SignerID
    /// The signer's ledger sequence of this signature, from 1.
    public let sequence: UInt64
    /// The `kura/intent/v1` digest of the intent signed.
    public let intentDigest: DocumentHash
    /// The transaction signed: a Bitcoin txid, or `0x` and the Ethereum signing hash.
    public let transaction: String
    /// The digest of the signer's previous receipt; `nil` only for its first.
    public let previous: DocumentHash?
    /// When the signer signed (its own clock).
    public let time: Timestamp
    /// The document as read.
    public let document: JSONValue
    /// The `kura/receipt/v1` digest of the canonical document: what the identity key signs.
    public let digest: DocumentHash

    /// The document kind.
    public static let kind = "kura.receipt"
    /// The digest's domain tag.
    public static let digestTag = "kura/receipt/v1"

    /// Decodes a receipt (closed schema; the sequence is at least 1).
    public init(json: JSONValue) throws(GovernanceError) {
        var r = try JSONObjectReader(json, path: "receipt")
        guard try r.string("kind") == Self.kind, try r.int("format") == 1 else {
            throw GovernanceError(.invalidValue, .malformed, "not a kura.receipt format 1")
        }
        signer = try SignerID(r.string("signer"))
        sequence = UInt64(try r.int("sequence", in: 1...JSONParser.maxSafeInteger))
        intentDigest = try DocumentHash(hex: r.string("intent"))
        transaction = try r.string("transaction")
        previous = try r.optionalString("previous").map { s throws(GovernanceError) in try DocumentHash(hex: s) }
        time = try Timestamp(seconds: Int64(r.int("time")))
        try r.finish()
        document = json
        digest = try DocumentHash(bytes: DocumentDigest.digest(tag: Self.digestTag, value: json))
    }
}

/// A receipt with the signer's BIP-0340 signature over its digest.
/// JSON: `{"receipt": {...}, "signature": HEX}`.
public struct SignedReceipt: Sendable, Hashable {
    /// The receipt.
    public let receipt: Receipt
    /// The identity key's BIP-0340 signature over ``Receipt/digest``.
    public let signature: SchnorrSignature

    /// Pairs a receipt with a signature (which is not checked here: see ``isValid(identityKey:)``).
    public init(receipt: Receipt, signature: SchnorrSignature) {
        self.receipt = receipt
        self.signature = signature
    }

    /// Decodes the signed form (closed schema).
    public init(json: JSONValue) throws(GovernanceError) {
        var r = try JSONObjectReader(json, path: "signedReceipt")
        receipt = try Receipt(json: try r.value("receipt"))
        guard let sig = try? SchnorrSignature(bytes: Hex.decode(try r.string("signature"), maxBytes: 64)) else {
            throw GovernanceError(.invalidValue, .malformed, "signedReceipt.signature is not 64 bytes of hex")
        }
        signature = sig
        try r.finish()
    }

    /// Whether `key` signed it (BIP-0340 over the receipt's digest).
    public func isValid(identityKey key: XOnlyPublicKey) -> Bool {
        key.isValidSignature(signature, message: receipt.digest.bytes)
    }

    /// Verifies it under the identity key `policy` lists for the receipt's signer: `invalid_signature`
    /// (category `STATE_INTEGRITY`) when the policy has no such signer or the signature does not verify.
    public func verify(in policy: Policy) throws(GovernanceError) {
        guard let signer = policy.signer(receipt.signer) else {
            throw GovernanceError(
                .invalidSignature, .stateIntegrity,
                "policy version \(policy.version) lists no signer \(receipt.signer)")
        }
        guard isValid(identityKey: signer.identityKey) else {
            throw GovernanceError(
                .invalidSignature, .stateIntegrity,
                "receipt \(receipt.sequence) is not signed by \(receipt.signer)'s identity key in policy version \(policy.version)"
            )
        }
    }

    /// The JSON form.
    public var json: JSONValue {
        .object(["receipt": receipt.document, "signature": .string(Hex.encode(signature.bytes))])
    }
}
