public import Bitcoin
public import Governance

/// An organisation hosted by the coordinator: its own genesis policy, members, wallets and history.
public struct OrganizationRecord: Sendable, Hashable {
    /// The organisation's identifier (the tenant key of every other row).
    public let id: OrganizationID
    /// A display name.
    public let name: String
    /// The hash of the genesis policy the organisation was bootstrapped from.
    public let genesisHash: DocumentHash
    /// When it was created.
    public let createdAt: Timestamp

    /// Creates a record.
    public init(id: OrganizationID, name: String, genesisHash: DocumentHash, createdAt: Timestamp) {
        self.id = id
        self.name = name
        self.genesisHash = genesisHash
        self.createdAt = createdAt
    }
}

/// The newest stored policy version of an organisation, by number and hash.
public struct PolicyHead: Sendable, Hashable {
    /// The version number.
    public let version: Int64
    /// The policy hash.
    public let hash: DocumentHash

    public init(version: Int64, hash: DocumentHash) {
        self.version = version
        self.hash = hash
    }
}

/// One signed policy version as stored: its canonical document bytes and the fields the coordinator indexes.
public struct PolicyVersionRecord: Sendable, Hashable {
    /// The organisation.
    public let organization: OrganizationID
    /// The policy's version number; each version is exactly one more than the previous one.
    public let version: Int64
    /// The policy hash.
    public let hash: DocumentHash
    /// The previous version's hash; `nil` only for the genesis policy.
    public let previousHash: DocumentHash?
    /// The signed policy document (canonical JSON), exactly as received.
    public let document: [UInt8]
    /// When the coordinator stored it.
    public let storedAt: Timestamp

    /// Creates a record.
    public init(
        organization: OrganizationID, version: Int64, hash: DocumentHash, previousHash: DocumentHash?,
        document: [UInt8], storedAt: Timestamp
    ) {
        self.organization = organization
        self.version = version
        self.hash = hash
        self.previousHash = previousHash
        self.document = document
        self.storedAt = storedAt
    }
}

/// A member as listed by one policy version (a snapshot: members change only with the policy).
public struct MemberRecord: Sendable, Hashable {
    /// The organisation.
    public let organization: OrganizationID
    /// The policy version this snapshot belongs to.
    public let policyVersion: Int64
    /// The member.
    public let member: MemberID
    /// The member's display name.
    public let name: String
    /// The member's roles, sorted.
    public let roles: [String]

    /// Creates a record; the roles are stored sorted.
    public init(organization: OrganizationID, policyVersion: Int64, member: MemberID, name: String, roles: [String]) {
        self.organization = organization
        self.policyVersion = policyVersion
        self.member = member
        self.name = name
        self.roles = roles.sorted()
    }
}

/// A member's credential public key as listed by one policy version.
public struct CredentialRecord: Sendable, Hashable {
    /// The organisation.
    public let organization: OrganizationID
    /// The policy version this snapshot belongs to.
    public let policyVersion: Int64
    /// The member who holds it.
    public let member: MemberID
    /// The credential.
    public let credential: CredentialID
    /// The credential kind as the policy names it (for example `webauthn-es256`, `ed25519`).
    public let kind: String
    /// The public key bytes.
    public let publicKey: [UInt8]

    /// Creates a record.
    public init(
        organization: OrganizationID, policyVersion: Int64, member: MemberID, credential: CredentialID, kind: String,
        publicKey: [UInt8]
    ) {
        self.organization = organization
        self.policyVersion = policyVersion
        self.member = member
        self.credential = credential
        self.kind = kind
        self.publicKey = publicKey
    }
}

/// A signed intent as stored: the document bytes and the fields the coordinator filters on.
public struct IntentRecord: Sendable, Hashable {
    /// The organisation.
    public let organization: OrganizationID
    /// The intent's identifier (unique within the organisation).
    public let id: IntentID
    /// The intent's domain-tagged digest (unique within the organisation).
    public let digest: DocumentHash
    /// The policy version the intent names.
    public let policyVersion: Int64
    /// The initiator.
    public let initiator: MemberID
    /// The wallet.
    public let wallet: WalletID
    /// The asset.
    public let asset: AssetID
    /// The destination address.
    public let destination: String
    /// The amount in base units.
    public let amount: BaseUnits
    /// The lifecycle state.
    public let state: IntentLifecycle.State
    /// The signed intent document (canonical JSON), exactly as received.
    public let document: [UInt8]
    /// When the intent was created.
    public let createdAt: Timestamp
    /// When the intent expires.
    public let expiresAt: Timestamp

    /// Creates a record.
    public init(
        organization: OrganizationID, id: IntentID, digest: DocumentHash, policyVersion: Int64, initiator: MemberID,
        wallet: WalletID, asset: AssetID, destination: String, amount: BaseUnits, state: IntentLifecycle.State,
        document: [UInt8], createdAt: Timestamp, expiresAt: Timestamp
    ) {
        self.organization = organization
        self.id = id
        self.digest = digest
        self.policyVersion = policyVersion
        self.initiator = initiator
        self.wallet = wallet
        self.asset = asset
        self.destination = destination
        self.amount = amount
        self.state = state
        self.document = document
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    /// The same record in another state.
    public func with(state: IntentLifecycle.State) -> IntentRecord {
        IntentRecord(
            organization: organization, id: id, digest: digest, policyVersion: policyVersion, initiator: initiator,
            wallet: wallet, asset: asset, destination: destination, amount: amount, state: state, document: document,
            createdAt: createdAt, expiresAt: expiresAt)
    }
}

/// A signed approval of one intent by one approver (at most one per approver per intent).
public struct ApprovalRecord: Sendable, Hashable {
    /// The organisation.
    public let organization: OrganizationID
    /// The intent approved.
    public let intent: IntentID
    /// The approver.
    public let approver: MemberID
    /// The credential the approver signed with.
    public let credential: CredentialID
    /// The signed approval document, exactly as received.
    public let document: [UInt8]
    /// When the coordinator stored it.
    public let storedAt: Timestamp

    /// Creates a record.
    public init(
        organization: OrganizationID, intent: IntentID, approver: MemberID, credential: CredentialID,
        document: [UInt8], storedAt: Timestamp
    ) {
        self.organization = organization
        self.intent = intent
        self.approver = approver
        self.credential = credential
        self.document = document
        self.storedAt = storedAt
    }
}

/// A signing bundle issued for an intent (at most one per intent; a new transaction needs a new intent).
public struct BundleRecord: Sendable, Hashable {
    /// The organisation.
    public let organization: OrganizationID
    /// The intent.
    public let intent: IntentID
    /// The bundle's digest.
    public let digest: DocumentHash
    /// The bundle bytes (docs/SIGNING-BUNDLE.md).
    public let bytes: [UInt8]
    /// When it was issued.
    public let issuedAt: Timestamp

    /// Creates a record.
    public init(
        organization: OrganizationID, intent: IntentID, digest: DocumentHash, bytes: [UInt8], issuedAt: Timestamp
    ) {
        self.organization = organization
        self.intent = intent
        self.digest = digest
        self.bytes = bytes
        self.issuedAt = issuedAt
    }
}

/// A receipt a signer emitted for an intent (at most one per signer per intent), with the signed result it came
/// with.
public struct ReceiptRecord: Sendable, Hashable {
    /// The organisation.
    public let organization: OrganizationID
    /// The intent.
    public let intent: IntentID
    /// The signer that emitted it.
    public let signer: SignerID
    /// The receipt's ledger sequence in its signer (from 1): the latest per signer goes into that signer's next
    /// bundle.
    public let sequence: Int64
    /// The receipt document, exactly as received.
    public let document: [UInt8]
    /// The signer's contribution as the coordinator kept it: for Bitcoin the stored unsigned PSBT with only this
    /// signer's verified signatures added; for Ethereum the signed transaction.
    public let result: [UInt8]
    /// When the coordinator stored it.
    public let storedAt: Timestamp

    /// Creates a record.
    public init(
        organization: OrganizationID, intent: IntentID, signer: SignerID, sequence: Int64, document: [UInt8],
        result: [UInt8], storedAt: Timestamp
    ) {
        self.organization = organization
        self.intent = intent
        self.signer = signer
        self.sequence = sequence
        self.document = document
        self.result = result
        self.storedAt = storedAt
    }
}

/// The finalised, signed transaction of an intent (at most one per intent), ready to broadcast.
public struct SignedTransactionRecord: Sendable, Hashable {
    /// The organisation.
    public let organization: OrganizationID
    /// The intent.
    public let intent: IntentID
    /// `bitcoin` or `ethereum`.
    public let chain: String
    /// The Bitcoin txid or the Ethereum transaction hash (`0x`-hex).
    public let txid: String
    /// The network serialisation (Bitcoin) or the EIP-2718 envelope (Ethereum).
    public let raw: [UInt8]
    /// When it was finalised.
    public let signedAt: Timestamp

    /// Creates a record.
    public init(
        organization: OrganizationID, intent: IntentID, chain: String, txid: String, raw: [UInt8], signedAt: Timestamp
    ) {
        self.organization = organization
        self.intent = intent
        self.chain = chain
        self.txid = txid
        self.raw = raw
        self.signedAt = signedAt
    }
}

/// A coin a built transaction spends, held for its intent until the transaction confirms or is abandoned.
public struct CoinReservation: Sendable, Hashable {
    /// The organisation.
    public let organization: OrganizationID
    /// The coin.
    public let outPoint: OutPoint
    /// The intent whose transaction spends it.
    public let intent: IntentID

    /// Creates a reservation.
    public init(organization: OrganizationID, outPoint: OutPoint, intent: IntentID) {
        self.organization = organization
        self.outPoint = outPoint
        self.intent = intent
    }
}
