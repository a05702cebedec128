public import Bitcoin
public import Ethereum
public import WalletCrypto

/// A member's role in the organisation.
public struct Role: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The role name.
    public let name: String
    private init(_ name: String) { self.name = name }

    public static let admin = Role("admin")
    public static let initiator = Role("initiator")
    public static let approver = Role("approver")
    public static let viewer = Role("viewer")
    static let all = [admin, initiator, approver, viewer]

    /// Parses a role name.
    public init(parsing text: String) throws(GovernanceError) {
        guard let r = Self.all.first(where: { $0.name == text }) else {
            throw GovernanceError(.invalidValue, .malformed, "unknown role '\(text.prefix(20))'")
        }
        self = r
    }

    public var description: String { name }
    public static func < (a: Role, b: Role) -> Bool { a.name < b.name }
}

/// Which chain a wallet or asset lives on.
public enum Chain: Sendable, Hashable, CustomStringConvertible {
    case bitcoin(Network)
    case ethereum(ChainID)

    public var description: String {
        switch self {
        case .bitcoin(let n): return "bitcoin/\(n.name)"
        case .ethereum(let c): return "ethereum/\(c.value)"
        }
    }
}

/// A governance policy (format `kura.policy` version 1; specified in docs/GOVERNANCE.md): who
/// the members are and how they sign, which wallets and assets exist, where money may go, and the
/// rules transfers are judged by. Every version after the genesis names its predecessor's hash
/// and is signed by a quorum of its predecessor's admins.
public struct Policy: Sendable, Hashable {
    /// A person with roles and credentials.
    public struct Member: Sendable, Hashable {
        public let id: MemberID
        public let name: String
        public let roles: Set<Role>
        public let credentials: [Credential]
    }

    /// A cold signer instance (`kura-signer`) and its identity.
    public struct SignerInfo: Sendable, Hashable {
        public let id: SignerID
        public let name: String
        /// The BIP-0340 x-only identity key that signs its receipts.
        public let identityKey: XOnlyPublicKey
        /// Its master key fingerprint.
        public let fingerprint: Fingerprint
    }

    /// A wallet the organisation controls.
    public struct Wallet: Sendable, Hashable {
        public let id: WalletID
        public let chain: Chain
        /// Bitcoin: the BIP-0388 wallet policy; `signers[i]` holds key `@i`.
        public let bitcoinPolicy: WalletPolicy?
        /// Ethereum: the account address and its derivation path.
        public let ethereumAddress: EthereumAddress?
        public let ethereumPath: DerivationPath?
        /// The signers holding the wallet's keys.
        public let signers: [SignerID]
    }

    /// An asset in the registry.
    public struct Asset: Sendable, Hashable {
        public let id: AssetID
        public let chain: Chain
        public let symbol: String
        public let decimals: Int
        /// ERC-20 contract; `nil` for the chain's native asset.
        public let contract: EthereumAddress?
    }

    /// An allowed destination.
    public struct AddressBookEntry: Sendable, Hashable {
        public let id: EntryID
        public let asset: AssetID
        /// The address as written (canonical form for the chain).
        public let address: String
        public let label: String
        /// When the entry becomes usable (the address-book delay is measured from the policy's creation).
        public let usableFrom: Timestamp
    }

    /// One approval tier: transfers up to `upTo` (inclusive) need `approvals` distinct approvers.
    public struct Tier: Sendable, Hashable {
        public let upTo: BaseUnits
        public let approvals: Int
    }

    /// Fee caps for a wallet and asset.
    public enum FeeCap: Sendable, Hashable {
        /// Bitcoin: absolute fee in satoshis and fee rate in sat/kvB.
        case bitcoin(maxAbsolute: BaseUnits, maxRatePerKvB: BaseUnits)
        /// Ethereum: per-field caps and the total budget `gasLimit × maxFeePerGas`.
        case ethereum(
            maxFeePerGas: BaseUnits, maxPriorityFeePerGas: BaseUnits, maxGasLimit: BaseUnits, maxTotalFee: BaseUnits)
    }

    /// The rules for transfers of one asset out of one wallet.
    public struct TransferRule: Sendable, Hashable {
        public let wallet: WalletID
        public let asset: AssetID
        public let tiers: [Tier]
        public let perTransferLimit: BaseUnits
        public let dailyLimit: BaseUnits
        public let fee: FeeCap
    }

    /// Rules for transfers.
    public struct Rules: Sendable, Hashable {
        public let initiators: [MemberID]
        public let transfers: [TransferRule]
        /// The longest an intent may live (expires − created), in seconds.
        public let maxIntentLifetime: Int64
        /// The delay before a new address-book entry may be used, in seconds.
        public let addressBookDelay: Int64
    }

    /// How the policy itself changes.
    public struct GovernanceRules: Sendable, Hashable {
        /// Admin signatures a routine update needs.
        public let adminQuorum: Int
        /// Admin signatures an update to key material, signers, admins or these rules needs.
        public let highQuorum: Int
        /// Seconds such an update waits before it takes effect.
        public let highChangeDelay: Int64
    }

    public let organization: OrganizationID
    public let version: Int64
    public let previous: DocumentHash?
    public let created: Timestamp
    public let effectiveFrom: Timestamp
    public let expires: Timestamp
    public let members: [Member]
    public let signers: [SignerInfo]
    public let wallets: [Wallet]
    public let assets: [Asset]
    public let addressBook: [AddressBookEntry]
    public let rules: Rules
    public let governance: GovernanceRules
    /// The JSON document exactly as read: digests and signatures cover its canonical form, never a
    /// re-encoding, so what a member's device signed is what is verified.
    public let document: JSONValue
    /// The policy hash: the `kura/policy/v1` tagged SHA-256 of the canonical document.
    public let hash: DocumentHash

    /// The document kind.
    public static let kind = "kura.policy"
    /// The digest tag (one per document kind and version).
    public static let digestTag = "kura/policy/v1"

    // MARK: Lookups

    public func member(_ id: MemberID) -> Member? { members.first { $0.id == id } }
    public func wallet(_ id: WalletID) -> Wallet? { wallets.first { $0.id == id } }
    public func asset(_ id: AssetID) -> Asset? { assets.first { $0.id == id } }
    public func signer(_ id: SignerID) -> SignerInfo? { signers.first { $0.id == id } }
    public func transferRule(wallet: WalletID, asset: AssetID) -> TransferRule? {
        rules.transfers.first { $0.wallet == wallet && $0.asset == asset }
    }

    /// The admins.
    public var admins: [Member] { members.filter { $0.roles.contains(.admin) } }

    /// The member and credential a credential id belongs to.
    public func credential(_ id: CredentialID, of member: MemberID) -> Credential? {
        self.member(member)?.credentials.first { $0.id == id.value }
    }
}

// MARK: - JSON

extension Policy {
    /// Decodes a policy from its JSON document, checking the closed schema and the policy's
    /// internal consistency (``validate()``).
    public init(json: JSONValue) throws(GovernanceError) {
        var r = try JSONObjectReader(json, path: "policy")
        guard try r.string("kind") == Self.kind else {
            throw GovernanceError(.invalidValue, .malformed, "policy.kind is not '\(Self.kind)'")
        }
        guard try r.int("format") == 1 else {
            throw GovernanceError(.invalidValue, .malformed, "policy.format is not 1")
        }
        organization = try OrganizationID(r.string("organization"))
        version = Int64(try r.int("version"))
        previous = try r.optionalString("previous").map { s throws(GovernanceError) in try DocumentHash(hex: s) }
        created = try Timestamp(seconds: Int64(r.int("created")))
        effectiveFrom = try Timestamp(seconds: Int64(r.int("effectiveFrom")))
        expires = try Timestamp(seconds: Int64(r.int("expires")))

        var members = [Member]()
        for (i, v) in try r.array("members").enumerated() { members.append(try Self.member(v, "policy.members[\(i)]")) }
        self.members = members
        var signers = [SignerInfo]()
        for (i, v) in try r.array("signers").enumerated() {
            signers.append(try Self.signerInfo(v, "policy.signers[\(i)]"))
        }
        self.signers = signers
        var assets = [Asset]()
        for (i, v) in try r.array("assets").enumerated() { assets.append(try Self.asset(v, "policy.assets[\(i)]")) }
        self.assets = assets
        var wallets = [Wallet]()
        for (i, v) in try r.array("wallets").enumerated() { wallets.append(try Self.wallet(v, "policy.wallets[\(i)]")) }
        self.wallets = wallets
        var book = [AddressBookEntry]()
        for (i, v) in try r.array("addressBook").enumerated() {
            book.append(try Self.entry(v, "policy.addressBook[\(i)]"))
        }
        addressBook = book
        rules = try Self.rules(try r.value("rules"), "policy.rules")
        governance = try Self.governanceRules(try r.value("governance"), "policy.governance")
        try r.finish()
        document = json
        hash = try DocumentHash(
            bytes: DocumentDigest.digest(tag: Self.digestTag, canonical: try CanonicalJSON.encode(json)))
        try validate()
    }

    static func member(_ v: JSONValue, _ path: String) throws(GovernanceError) -> Member {
        var r = try JSONObjectReader(v, path: path)
        let id = try MemberID(r.string("id"))
        let name = try r.string("name")
        var roles = Set<Role>()
        for s in try r.stringArray("roles") {
            guard roles.insert(try Role(parsing: s)).inserted else {
                throw GovernanceError(.invalidValue, .malformed, "\(path).roles repeats '\(s)'")
            }
        }
        var credentials = [Credential]()
        for (i, c) in try r.array("credentials").enumerated() {
            credentials.append(try Credential(json: c, path: "\(path).credentials[\(i)]"))
        }
        try r.finish()
        guard !name.isEmpty, name.utf8.count <= 200 else {
            throw GovernanceError(.invalidValue, .malformed, "\(path).name must be 1-200 bytes")
        }
        return Member(id: id, name: name, roles: roles, credentials: credentials)
    }

    static func signerInfo(_ v: JSONValue, _ path: String) throws(GovernanceError) -> SignerInfo {
        var r = try JSONObjectReader(v, path: path)
        let id = try SignerID(r.string("id"))
        let name = try r.string("name")
        let key: XOnlyPublicKey
        let fingerprint: Fingerprint
        do {
            key = try XOnlyPublicKey(bytes: Hex.decode(try r.string("identityKey"), maxBytes: 32))
            fingerprint = try Fingerprint(hex: try r.string("fingerprint"))
        } catch {
            throw GovernanceError(.invalidKey, .malformed, "\(path): identity key or fingerprint is invalid")
        }
        try r.finish()
        return SignerInfo(id: id, name: name, identityKey: key, fingerprint: fingerprint)
    }

    static func chain(_ r: inout JSONObjectReader, _ path: String) throws(GovernanceError) -> Chain {
        switch try r.string("chain") {
        case "bitcoin":
            do { return .bitcoin(try Network(named: try r.string("network"))) } catch let e as GovernanceError {
                throw e
            } catch {
                throw GovernanceError(.invalidValue, .malformed, "\(path).network is not a Bitcoin network")
            }
        case "ethereum":
            let id = Int64(try r.int("chainId"))
            guard id > 0 else { throw GovernanceError(.invalidValue, .malformed, "\(path).chainId must be positive") }
            return .ethereum(ChainID(UInt64(id)))
        case let other:
            throw GovernanceError(
                .invalidValue, .malformed, "\(path).chain '\(other.prefix(20))' is not bitcoin or ethereum")
        }
    }

    static func asset(_ v: JSONValue, _ path: String) throws(GovernanceError) -> Asset {
        var r = try JSONObjectReader(v, path: path)
        let id = try AssetID(r.string("id"))
        let chain = try Self.chain(&r, path)
        let symbol = try r.string("symbol")
        let decimals = Int64(try r.int("decimals"))
        let contract = try r.optionalString("contract").map { s throws(GovernanceError) in
            try Self.ethereumAddress(s, "\(path).contract")
        }
        try r.finish()
        guard (1...11).contains(symbol.utf8.count), symbol.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            throw GovernanceError(.invalidValue, .malformed, "\(path).symbol must be 1-11 printable ASCII characters")
        }
        guard (0...36).contains(decimals) else {
            throw GovernanceError(.invalidValue, .malformed, "\(path).decimals must be 0-36")
        }
        if case .bitcoin = chain, contract != nil {
            throw GovernanceError(.invalidValue, .malformed, "\(path): a Bitcoin asset has no contract")
        }
        return Asset(id: id, chain: chain, symbol: symbol, decimals: Int(decimals), contract: contract)
    }

    static func ethereumAddress(_ s: String, _ path: String) throws(GovernanceError) -> EthereumAddress {
        do { return try EthereumAddress(parsing: s) } catch {
            throw GovernanceError(
                .invalidValue, .malformed, "\(path) '\(s.prefix(44))' is not a valid Ethereum address (\(error.code))")
        }
    }

    static func wallet(_ v: JSONValue, _ path: String) throws(GovernanceError) -> Wallet {
        var r = try JSONObjectReader(v, path: path)
        let id = try WalletID(r.string("id"))
        let chain = try Self.chain(&r, path)
        var signers = [SignerID]()
        for s in try r.stringArray("signers") { signers.append(try SignerID(s)) }
        var policy: WalletPolicy? = nil
        var address: EthereumAddress? = nil
        var derivation: DerivationPath? = nil
        switch chain {
        case .bitcoin(let network):
            var p = try JSONObjectReader(try r.value("walletPolicy"), path: "\(path).walletPolicy")
            let template = try p.string("template")
            let keys = try p.stringArray("keys")
            try p.finish()
            do { policy = try WalletPolicy(template: template, keys: keys, network: network) } catch {
                throw GovernanceError(.invalidValue, .walletMismatch, "\(path).walletPolicy: \(error.reason)")
            }
        case .ethereum:
            address = try Self.ethereumAddress(try r.string("address"), "\(path).address")
            do { derivation = try DerivationPath(parsing: try r.string("derivation")) } catch let e as GovernanceError {
                throw e
            } catch {
                throw GovernanceError(.invalidValue, .malformed, "\(path).derivation is not a BIP-0032 path")
            }
        }
        try r.finish()
        return Wallet(
            id: id, chain: chain, bitcoinPolicy: policy, ethereumAddress: address, ethereumPath: derivation,
            signers: signers)
    }

    static func entry(_ v: JSONValue, _ path: String) throws(GovernanceError) -> AddressBookEntry {
        var r = try JSONObjectReader(v, path: path)
        let e = AddressBookEntry(
            id: try EntryID(r.string("id")), asset: try AssetID(r.string("asset")), address: try r.string("address"),
            label: try r.string("label"), usableFrom: try Timestamp(seconds: Int64(r.int("usableFrom"))))
        try r.finish()
        guard !e.label.isEmpty, e.label.utf8.count <= 200 else {
            throw GovernanceError(.invalidValue, .malformed, "\(path).label must be 1-200 bytes")
        }
        return e
    }

    static func tiers(_ values: [JSONValue], _ path: String) throws(GovernanceError) -> [Tier] {
        var out = [Tier]()
        for (i, v) in values.enumerated() {
            var r = try JSONObjectReader(v, path: "\(path)[\(i)]")
            let t = Tier(upTo: try BaseUnits(decimal: r.decimalString("upTo")), approvals: Int(try r.int("approvals")))
            try r.finish()
            out.append(t)
        }
        return out
    }

    static func rules(_ v: JSONValue, _ path: String) throws(GovernanceError) -> Rules {
        var r = try JSONObjectReader(v, path: path)
        var initiators = [MemberID]()
        for s in try r.stringArray("initiators") { initiators.append(try MemberID(s)) }
        var transfers = [TransferRule]()
        for (i, t) in try r.array("transfers").enumerated() {
            let p = "\(path).transfers[\(i)]"
            var tr = try JSONObjectReader(t, path: p)
            let wallet = try WalletID(tr.string("wallet"))
            let asset = try AssetID(tr.string("asset"))
            let tiers = try Self.tiers(try tr.array("tiers"), "\(p).tiers")
            let perTransfer = try BaseUnits(decimal: tr.decimalString("perTransferLimit"))
            let daily = try BaseUnits(decimal: tr.decimalString("dailyLimit"))
            var f = try JSONObjectReader(try tr.value("fee"), path: "\(p).fee")
            let fee: FeeCap
            if f.contains("maxAbsolute") {
                fee = .bitcoin(
                    maxAbsolute: try BaseUnits(decimal: f.decimalString("maxAbsolute")),
                    maxRatePerKvB: try BaseUnits(decimal: f.decimalString("maxRatePerKvB")))
            } else {
                fee = .ethereum(
                    maxFeePerGas: try BaseUnits(decimal: f.decimalString("maxFeePerGas")),
                    maxPriorityFeePerGas: try BaseUnits(decimal: f.decimalString("maxPriorityFeePerGas")),
                    maxGasLimit: try BaseUnits(decimal: f.decimalString("maxGasLimit")),
                    maxTotalFee: try BaseUnits(decimal: f.decimalString("maxTotalFee")))
            }
            try f.finish()
            try tr.finish()
            transfers.append(
                TransferRule(
                    wallet: wallet, asset: asset, tiers: tiers, perTransferLimit: perTransfer, dailyLimit: daily,
                    fee: fee))
        }
        let lifetime = Int64(try r.int("maxIntentLifetime"))
        let delay = Int64(try r.int("addressBookDelay"))
        try r.finish()
        return Rules(initiators: initiators, transfers: transfers, maxIntentLifetime: lifetime, addressBookDelay: delay)
    }

    static func governanceRules(_ v: JSONValue, _ path: String) throws(GovernanceError) -> GovernanceRules {
        var r = try JSONObjectReader(v, path: path)
        let g = GovernanceRules(
            adminQuorum: Int(try r.int("adminQuorum")), highQuorum: Int(try r.int("highQuorum")),
            highChangeDelay: Int64(try r.int("highChangeDelay")))
        try r.finish()
        return g
    }

    /// The canonical (RFC 8785) bytes of the document as it was read.
    public var canonicalBytes: [UInt8] { (try? CanonicalJSON.encode(document)) ?? [] }
}
