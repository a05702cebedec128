public import Governance

/// A proposed next policy version collecting its admins' signatures on the coordinator (the console's
/// address-book proposals; any policy change). Once the quorum of the previous version's admins has signed, the
/// coordinator appends it as the organisation's next version, exactly as if it had been posted signed.
public struct PolicyProposalRecord: Sendable, Hashable {
    public enum State: String, Sendable, Hashable, CaseIterable {
        /// Collecting signatures.
        case open
        /// Reached its quorum and was appended as a policy version.
        case applied
        /// Another version was appended first: this one no longer follows the head and can never apply.
        case superseded
    }

    public let organization: OrganizationID
    /// The proposed version's hash (hex): what every admin signs.
    public let id: String
    public let version: Int64
    /// The proposed policy document, canonical JSON.
    public let document: [UInt8]
    public let proposer: MemberID
    /// The admins' signatures so far, as a canonical JSON array of `{member, credential, evidence}`.
    public let signatures: [UInt8]
    /// How many distinct admins have signed (kept beside the array for compare-and-set).
    public let signatureCount: Int
    public let required: Int
    public let state: State
    public let createdAt: Timestamp
    public let updatedAt: Timestamp

    public init(
        organization: OrganizationID, id: String, version: Int64, document: [UInt8], proposer: MemberID,
        signatures: [UInt8], signatureCount: Int, required: Int, state: State, createdAt: Timestamp,
        updatedAt: Timestamp
    ) {
        self.organization = organization
        self.id = id
        self.version = version
        self.document = document
        self.proposer = proposer
        self.signatures = signatures
        self.signatureCount = signatureCount
        self.required = required
        self.state = state
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Where policy proposals wait.
public protocol ProposalStore: Sendable {
    /// The organisation's proposals, newest first.
    func proposals(_ organization: OrganizationID, limit: Int) async throws(StorageError) -> [PolicyProposalRecord]
    func proposal(_ organization: OrganizationID, id: String) async throws(StorageError) -> PolicyProposalRecord?
}
