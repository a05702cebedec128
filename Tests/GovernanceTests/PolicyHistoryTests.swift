import Governance
import Testing

@Suite("Policy history (audit: no clock)")
struct PolicyHistoryTests {
    let org: Org
    init() throws { org = try Org() }

    func v2(by signers: [Org.Person], expires: Int64? = nil) throws -> SignedPolicy {
        try org.signedPolicy(
            org.policyJSON(version: 2, previous: org.genesis.policy.hash, expires: expires) {
                $0["rules"] = .object(
                    ($0["rules"]?.objectValue ?? [:]).merging(["maxIntentLifetime": 7200]) { $1 })
            }, by: signers)
    }

    @Test func aWholeHistoryVerifiesWithoutAClock() throws {
        // Version 2 expired long ago: the signer would refuse it now, an audit of the past accepts it.
        let old = try v2(by: Array(org.admins.prefix(2)), expires: org.created + 10)
        let trust = PolicyTrust(genesis: org.genesis.policy.hash, highWater: nil)
        #expect(throws: GovernanceError.self) {
            try PolicyChain.verify([org.genesis, old], trust: trust, now: org.now)
        }
        let history = PolicyChain.verifyHistory([org.genesis, old], genesis: org.genesis.policy.hash)
        #expect(history.failure == nil)
        #expect(history.verified.map(\.policy.version) == [1, 2])
    }

    @Test func itStopsAtTheFirstVersionThatFails() throws {
        let good = PolicyChain.verifyHistory(
            [org.genesis, try v2(by: Array(org.admins.prefix(2)))], genesis: org.genesis.policy.hash)
        #expect(good.failure == nil && good.verified.count == 2)
        let short = PolicyChain.verifyHistory(
            [org.genesis, try v2(by: [org.admins[0]])], genesis: org.genesis.policy.hash)
        #expect(short.verified.map(\.policy.version) == [1])
        #expect(short.failure?.code == .invalidSignature)
        #expect(short.failure?.category == .policyInvalid)
    }

    @Test func itStartsAtThePinnedGenesis() throws {
        let v = try v2(by: Array(org.admins.prefix(2)))
        let wrong = PolicyChain.verifyHistory([org.genesis, v], genesis: v.policy.hash)
        #expect(wrong.verified.isEmpty && wrong.failure?.category == .policyInvalid)
        let empty = PolicyChain.verifyHistory([], genesis: org.genesis.policy.hash)
        #expect(empty.verified.isEmpty && empty.failure?.code == .missingField)
        let skipped = PolicyChain.verifyHistory([v], genesis: org.genesis.policy.hash)
        #expect(skipped.verified.isEmpty && skipped.failure != nil)
    }
}
