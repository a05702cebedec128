public import Governance
public import WalletCrypto

// The signer is the only maker of receipts: the document types, their digest and their verification
// live in Governance (Documents/Receipt.swift), where the coordinator and auditors read them.

extension Receipt {
    /// Builds the receipt document of one signature.
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
}

extension SignedReceipt {
    /// Signs a receipt with the signer's identity keypair (BIP-0340 with zero auxiliary data: deterministic).
    /// The receipt document types live in Governance, where auditors and the coordinator verify them; only
    /// the signer makes them.
    public init(_ receipt: Receipt, keypair: Keypair) throws(SignerError) {
        // Deterministic (zero auxiliary data), so that an independent verifier can recompute the
        // signature byte for byte and a nonce covert channel would show (C14, K06).
        let signature: SchnorrSignature
        do { signature = try keypair.signSchnorr(message: receipt.digest.bytes, auxRand: LedgerEntry.zeroAux) } catch {
            throw SignerError(error)
        }
        self.init(receipt: receipt, signature: signature)
    }
}
