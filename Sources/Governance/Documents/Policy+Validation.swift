import Bitcoin
import Ethereum
import WalletCrypto

extension Policy {
    /// Checks that the policy is internally consistent (POLICY_INVALID otherwise): identifiers are
    /// unique, every reference resolves, each credential key belongs to exactly one member (one
    /// human per identity), quorums are reachable, tiers ascend, assets live on their wallets'
    /// chains, every address-book address is valid for its asset's chain.
    func validate() throws(GovernanceError) {
        func invalid(_ reason: String) -> GovernanceError { GovernanceError(.invalidValue, .policyInvalid, reason) }
        guard version >= 1 else { throw invalid("version must be at least 1") }
        guard (version == 1) == (previous == nil) else {
            throw invalid("only version 1 (the genesis) has no previous hash")
        }
        guard created <= effectiveFrom, effectiveFrom < expires else {
            throw invalid("created ≤ effectiveFrom < expires does not hold")
        }

        func unique<T: Hashable>(_ items: [T], _ what: String) throws(GovernanceError) {
            var seen = Set<T>()
            for i in items where !seen.insert(i).inserted { throw invalid("\(what) '\(i)' appears twice") }
        }
        try unique(members.map(\.id), "member")
        try unique(signers.map(\.id), "signer")
        try unique(wallets.map(\.id), "wallet")
        try unique(assets.map(\.id), "asset")
        try unique(addressBook.map(\.id), "address-book entry")
        try unique(members.flatMap(\.credentials).map(\.id), "credential id")
        // One human per identity: a key may stand for one member only.
        try unique(members.flatMap(\.credentials).map { Hex.encode($0.publicKey) }, "credential public key")
        try unique(signers.map(\.identityKey), "signer identity key")

        for m in members {
            guard !m.roles.isEmpty else { throw invalid("member \(m.id) has no role") }
            if !m.roles.isSubset(of: [.viewer]) && m.credentials.isEmpty {
                throw invalid("member \(m.id) signs but has no credential")
            }
        }
        let adminCount = admins.count
        guard governance.adminQuorum >= 1, governance.adminQuorum <= adminCount else {
            throw invalid("admin quorum \(governance.adminQuorum) with \(adminCount) admins")
        }
        guard governance.highQuorum >= governance.adminQuorum, governance.highQuorum <= adminCount else {
            throw invalid(
                "high quorum \(governance.highQuorum) must be between the admin quorum and the number of admins")
        }
        guard governance.highChangeDelay >= 0, governance.highChangeDelay <= 365 * 86_400 else {
            throw invalid("high change delay out of range")
        }

        for w in wallets {
            guard !w.signers.isEmpty else { throw invalid("wallet \(w.id) has no signer") }
            for s in w.signers where signer(s) == nil { throw invalid("wallet \(w.id) names unknown signer \(s)") }
            if let p = w.bitcoinPolicy {
                guard p.keys.count == w.signers.count else {
                    throw invalid("wallet \(w.id): \(p.keys.count) keys but \(w.signers.count) signers")
                }
                // Each signer's key origin must carry that signer's fingerprint.
                for (k, s) in zip(p.descriptor.keys.prefix(p.keys.count), w.signers) {
                    guard let info = signer(s), k.origin?.fingerprint == info.fingerprint else {
                        throw invalid("wallet \(w.id): key of \(s) does not carry its fingerprint")
                    }
                }
            } else if w.ethereumAddress == nil {
                throw invalid("wallet \(w.id) has neither a wallet policy nor an address")
            }
        }
        for a in assets {
            if case .ethereum = a.chain, a.contract == nil, a.decimals != 18 {
                throw invalid("native ether has 18 decimals")
            }
        }
        for e in addressBook {
            guard let a = asset(e.asset) else {
                throw invalid("address-book entry \(e.id) names unknown asset \(e.asset)")
            }
            _ = try Self.destinationKey(e.address, chain: a.chain, context: "address-book entry \(e.id)")
        }
        for i in rules.initiators {
            guard let m = member(i), m.roles.contains(.initiator) else {
                throw invalid("initiator \(i) is not a member with the initiator role")
            }
        }
        var seenRules = Set<String>()
        for t in rules.transfers {
            guard seenRules.insert("\(t.wallet)/\(t.asset)").inserted else {
                throw invalid("two transfer rules for \(t.wallet)/\(t.asset)")
            }
            guard let w = wallet(t.wallet), let a = asset(t.asset) else {
                throw invalid("transfer rule names an unknown wallet or asset")
            }
            guard w.chain == a.chain else { throw invalid("asset \(a.id) is not on wallet \(w.id)'s chain") }
            guard !t.tiers.isEmpty else { throw invalid("transfer rule \(t.wallet)/\(t.asset) has no tiers") }
            var previousLimit: BaseUnits? = nil
            for tier in t.tiers {
                guard tier.approvals >= 1, tier.approvals <= 100 else { throw invalid("a tier needs 1-100 approvals") }
                if let p = previousLimit, !(p < tier.upTo) {
                    throw invalid("tiers of \(t.wallet)/\(t.asset) must ascend")
                }
                previousLimit = tier.upTo
            }
            switch (t.fee, w.chain) {
            case (.bitcoin, .bitcoin), (.ethereum, .ethereum): break
            default: throw invalid("fee cap of \(t.wallet)/\(t.asset) is for the other chain")
            }
        }
        guard rules.maxIntentLifetime > 0, rules.maxIntentLifetime <= 30 * 86_400 else {
            throw invalid("maxIntentLifetime must be 1 s to 30 days")
        }
        guard rules.addressBookDelay >= 0, rules.addressBookDelay <= 365 * 86_400 else {
            throw invalid("addressBookDelay out of range")
        }
    }

    /// The canonical bytes a destination compares by on its chain: the output script for
    /// Bitcoin, the 20 address bytes for Ethereum. Comparison is always on these, never on text.
    public static func destinationKey(_ address: String, chain: Chain, context: String) throws(GovernanceError)
        -> [UInt8]
    {
        switch chain {
        case .bitcoin(let network):
            do { return try Address(address, network: network).scriptPubKey.bytes } catch {
                throw GovernanceError(
                    .invalidValue, .policyInvalid,
                    "\(context): '\(address.prefix(90))' is not a \(network) address (\(error.code))")
            }
        case .ethereum:
            do { return try EthereumAddress(parsing: address).bytes } catch {
                throw GovernanceError(
                    .invalidValue, .policyInvalid,
                    "\(context): '\(address.prefix(44))' is not an Ethereum address (\(error.code))")
            }
        }
    }

    /// Whether moving from `previous` to this policy is a *high* change: wallets, signers, the
    /// admin set or its credentials, or the governance rules differ. High changes need the high
    /// quorum and the delay (ATTACKS G10).
    public func isHighChange(from previous: Policy) -> Bool {
        if wallets != previous.wallets || signers != previous.signers || governance != previous.governance {
            return true
        }
        let newAdmins = admins.sorted { $0.id < $1.id }
        let oldAdmins = previous.admins.sorted { $0.id < $1.id }
        return newAdmins != oldAdmins
    }
}
