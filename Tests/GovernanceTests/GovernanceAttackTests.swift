import Foundation
import Governance
import Testing
import WalletCrypto

/// ATTACKS.md §4.1 (G), §4.4 (R) and §4.5 (D) rows decided by the governance layer: each mutated
/// document is refused with its named category, beside a positive control that passes.
@Suite("Governance attack rows (G, R, D)")
struct GovernanceAttackTests {
    func expectRefusal(
        _ category: RefusalCategory, _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        do {
            try body()
            Issue.record("expected \(category.token), nothing was refused", sourceLocation: sourceLocation)
        } catch let e as GovernanceError {
            #expect(e.category == category, "\(e)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        }
    }

    /// A v2 with a routine change (one more address-book entry, after the delay).
    func routineV2(_ org: Org, signers: [Org.Person]? = nil) throws -> SignedPolicy {
        let json = org.policyJSON(version: 2, previous: org.genesis.policy.hash, created: org.created + 10) { d in
            var book = d["addressBook"]!.arrayValue!
            book.append([
                "id": "supplier", "asset": "btc",
                "address": "bcrt1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qzf4jry", "label": "Supplier",
                "usableFrom": .number(Double(org.created + 10 + 172_800)),
            ])
            d["addressBook"] = .array(book)
        }
        return try org.signedPolicy(json, by: signers ?? [org.admins[0], org.admins[2]])
    }

    @Test func positiveControlChainAndTransfer() throws {
        let org = try Org()
        let v2 = try routineV2(org)
        let verified = try PolicyChain.verify([org.genesis, v2], trust: org.trust, now: org.now)
        #expect(verified.policy.version == 2)
        let intent = try Authorization.verify(
            try org.signedIntent(org.intentJSON(policy: verified.policy)), policy: verified)
        let verdict = Evaluation.evaluate(
            intent: intent, approvals: [try org.approval(of: intent.intent, by: org.approvers[0])], policy: verified,
            history: SpendHistory(), now: org.now)
        guard case .allow(let d) = verdict else {
            Issue.record("denied: \(verdict.refusals)")
            return
        }
        #expect(d.requiredApprovals == 1 && d.approvers.map(\.value) == ["bob"])
    }

    @Test func g01RollbackToAnOlderVersion() throws {
        let org = try Org()
        let v2 = try routineV2(org)
        let v2Trust = PolicyTrust(genesis: org.genesis.policy.hash, highWater: (2, v2.policy.hash))
        #expect(throws: Never.self) { try PolicyChain.verify([v2], trust: v2Trust, now: org.now) }
        expectRefusal(.policyRollback) { _ = try PolicyChain.verify([org.genesis], trust: v2Trust, now: org.now) }
    }

    @Test func g02QuorumOfDistinctAdmins() throws {
        let org = try Org()
        expectRefusal(.policyInvalid) {
            _ = try PolicyChain.verify(
                [org.genesis, try routineV2(org, signers: [org.admins[0]])], trust: org.trust, now: org.now)
        }
        expectRefusal(.policyInvalid) {
            _ = try PolicyChain.verify(
                [org.genesis, try routineV2(org, signers: [org.admins[0], org.admins[0]])], trust: org.trust,
                now: org.now)
        }
        #expect(throws: Never.self) {
            try PolicyChain.verify(
                [org.genesis, try routineV2(org, signers: [org.admins[1], org.admins[2]])], trust: org.trust,
                now: org.now)
        }
    }

    @Test func g03SelfAuthorisingAdminSwap() throws {
        let org = try Org()
        let attackers = try [
            Org.Person(id: "admin1", key: .generate(scheme: .ed25519)),
            Org.Person(id: "admin2", key: .generate(scheme: .ed25519)),
            Org.Person(id: "admin3", key: .generate(scheme: .ed25519)),
        ]
        let json = org.policyJSON(
            version: 2, previous: org.genesis.policy.hash, created: org.created + 10,
            effectiveFrom: org.created + 10 + 172_800
        ) { d in
            var members = d["members"]!.arrayValue!
            for i in 0..<3 { members[i] = Org.member(attackers[i], roles: ["admin"]) }
            d["members"] = .array(members)
        }
        let swapped = try org.signedPolicy(json, by: attackers)
        expectRefusal(.policyInvalid) {
            _ = try PolicyChain.verify([org.genesis, swapped], trust: org.trust, now: org.now)
        }
        // Positive control: the same change signed by the previous admins (high quorum, after the delay).
        let legit = try org.signedPolicy(json, by: org.admins)
        #expect(throws: Never.self) {
            try PolicyChain.verify(
                [org.genesis, legit], trust: org.trust, now: try Timestamp(seconds: org.created + 10 + 172_800 + 1))
        }
    }

    @Test func g04ApprovalByAKeyNotInThePolicy() throws {
        let org = try Org()
        let p = org.verifiedGenesis
        let intent = try Authorization.verify(try org.signedIntent(org.intentJSON(policy: p.policy)), policy: p)
        let foreign = try org.approval(of: intent.intent, by: org.outsider)
        let verdict = Evaluation.evaluate(
            intent: intent, approvals: [foreign], policy: p, history: SpendHistory(), now: org.now)
        #expect(verdict.category == .approvalInvalid)
        // An approver's name with the outsider's key.
        let forged = SignedApproval(
            approval: try org.approval(of: intent.intent, by: org.approvers[0]).approval,
            signature: MemberSignature(
                member: try MemberID("bob"), credential: try CredentialID("bob-key"),
                evidence: try org.outsider.key.sign(digest: Hash.sha256([1]))))
        #expect(
            Evaluation.evaluate(intent: intent, approvals: [forged], policy: p, history: SpendHistory(), now: org.now)
                .category == .approvalInvalid)
    }

    @Test func g05ApprovalsOfAnotherIntent() throws {
        let org = try Org()
        let p = org.verifiedGenesis
        let x = try Authorization.verify(
            try org.signedIntent(org.intentJSON(policy: p.policy, id: "intent-x")), policy: p)
        let y = try Authorization.verify(
            try org.signedIntent(org.intentJSON(policy: p.policy, amount: "60000000", id: "intent-y", nonce: 2)),
            policy: p)
        let forX = try org.approval(of: x.intent, by: org.approvers[0])
        #expect(
            Evaluation.evaluate(intent: y, approvals: [forX], policy: p, history: SpendHistory(), now: org.now).category
                == .approvalMismatch)
        if case .deny(let r) = Evaluation.evaluate(
            intent: x, approvals: [forX], policy: p, history: SpendHistory(), now: org.now)
        {
            Issue.record("positive control denied: \(r)")
        }
    }

    /// Approvals the caller verified already (the coordinator verifies each one on arrival) are taken without a
    /// second verification, but only under the policy they verified under: under any other they are verified
    /// again. Every other approval rule applies to them as to signed ones.
    @Test func approvalsVerifiedBeforeCountOnlyUnderTheirPolicy() throws {
        let org = try Org()
        let p = org.verifiedGenesis
        let intent = try Authorization.verify(
            try org.signedIntent(org.intentJSON(policy: p.policy, amount: "500000000")), policy: p)
        let bob = try org.approval(of: intent.intent, by: org.approvers[0])
        let carol = try org.approval(of: intent.intent, by: org.approvers[1])
        let bobVerified = try Authorization.verify(bob, policy: p)
        // Positive control: one signed and one verified approval meet the two-approver tier.
        let verdict = Evaluation.evaluate(
            intent: intent, approvals: [carol], verified: [bobVerified], policy: p, history: SpendHistory(),
            now: org.now)
        guard case .allow(let d) = verdict else {
            Issue.record("denied: \(verdict.refusals)")
            return
        }
        #expect(d.approvers.map(\.value) == ["bob", "carol"])
        // Bob signed and verified is still one approver (one of two), and his approval is for this intent only.
        #expect(
            Evaluation.evaluate(
                intent: intent, approvals: [bob], verified: [bobVerified], policy: p, history: SpendHistory(),
                now: org.now
            ).category == .approvalInvalid)
        let other = try Authorization.verify(
            try org.signedIntent(org.intentJSON(policy: p.policy, amount: "60000000", id: "intent-y", nonce: 2)),
            policy: p)
        #expect(
            Evaluation.evaluate(
                intent: other, approvals: [], verified: [bobVerified], policy: p, history: SpendHistory(), now: org.now
            ).category == .approvalMismatch)
        // Version 2 gives bob another key: his approval, verified under the genesis policy, is verified again
        // under version 2 and refused there, so the tier is not met.
        let json = org.policyJSON(
            version: 2, previous: org.genesis.policy.hash, created: org.created + 10,
            effectiveFrom: org.created + 10 + 172_800
        ) { d in
            var members = d["members"]!.arrayValue!
            let i = members.firstIndex { $0.objectValue?["id"] == .string("bob") }!
            members[i] = Org.member(Org.Person(id: "bob", key: org.outsider.key), roles: ["approver"])
            d["members"] = .array(members)
        }
        let v2 = try PolicyChain.verify(
            [org.genesis, try org.signedPolicy(json, by: org.admins)], trust: org.trust, now: org.now)
        let intent2 = try Authorization.verify(
            try org.signedIntent(org.intentJSON(policy: v2.policy, amount: "500000000")), policy: v2)
        let bob2 = try Authorization.verify(try org.approval(of: intent2.intent, by: org.approvers[0]), policy: p)
        let carol2 = try org.approval(of: intent2.intent, by: org.approvers[1])
        let refused = Evaluation.evaluate(
            intent: intent2, approvals: [carol2], verified: [bob2], policy: v2, history: SpendHistory(), now: org.now)
        #expect(refused.category == .approvalInvalid)
        #expect(refused.refusals.contains { $0.reason.contains("bob") })
    }

    @Test func g06OneHumanTwoVotes() throws {
        let org = try Org()
        // Two member records bound to one key: the policy itself is refused.
        let shared = org.policyJSON(version: 1) { d in
            var members = d["members"]!.arrayValue!
            members.append(Org.member(Org.Person(id: "bob2", key: org.approvers[0].key), roles: ["approver"]))
            d["members"] = .array(members)
        }
        expectRefusal(.policyInvalid) { _ = try Policy(json: shared) }
        // One person, two approvals: counted once, so a two-approver tier is not met.
        let p = org.verifiedGenesis
        let intent = try Authorization.verify(
            try org.signedIntent(org.intentJSON(policy: p.policy, amount: "500000000")), policy: p)
        let twice = [
            try org.approval(of: intent.intent, by: org.approvers[0]),
            try org.approval(of: intent.intent, by: org.approvers[0], time: org.now.seconds - 200),
        ]
        #expect(
            Evaluation.evaluate(intent: intent, approvals: twice, policy: p, history: SpendHistory(), now: org.now)
                .category == .approvalInvalid)
        let two = [
            try org.approval(of: intent.intent, by: org.approvers[0]),
            try org.approval(of: intent.intent, by: org.approvers[1]),
        ]
        if case .deny(let r) = Evaluation.evaluate(
            intent: intent, approvals: two, policy: p, history: SpendHistory(), now: org.now)
        {
            Issue.record("\(r)")
        }
    }

    @Test func g07MergedApprovalSets() throws {
        let org = try Org()
        let p = org.verifiedGenesis
        let original = try Authorization.verify(
            try org.signedIntent(org.intentJSON(policy: p.policy, amount: "500000000")), policy: p)
        let modified = try Authorization.verify(
            try org.signedIntent(org.intentJSON(policy: p.policy, amount: "900000000", nonce: 3)), policy: p)
        let merged = [
            try org.approval(of: modified.intent, by: org.approvers[0]),  // the compromised approver
            try org.approval(of: original.intent, by: org.approvers[1]),
            try org.approval(of: original.intent, by: org.approvers[2]),
        ]
        #expect(
            Evaluation.evaluate(intent: modified, approvals: merged, policy: p, history: SpendHistory(), now: org.now)
                .category == .approvalInvalid)
    }

    @Test func g08AddressBookTimeLock() throws {
        let org = try Org()
        // An entry whose usableFrom is still ahead on the verifier's clock.
        let json = org.policyJSON(version: 1) { d in
            var book = d["addressBook"]!.arrayValue!
            book[0] = [
                "id": "exchange", "asset": "btc", "address": .string(org.exchangeAddress), "label": "Exchange",
                "usableFrom": .number(Double(org.now.seconds + 3600)),
            ]
            d["addressBook"] = .array(book)
        }
        let g = try org.signedPolicy(json, by: [org.admins[0], org.admins[1]])
        let p = try PolicyChain.verify([g], trust: PolicyTrust(genesis: g.policy.hash, highWater: nil), now: org.now)
        let intent = try Authorization.verify(try org.signedIntent(org.intentJSON(policy: p.policy)), policy: p)
        let approvals = [try org.approval(of: intent.intent, by: org.approvers[0])]
        #expect(
            Evaluation.evaluate(intent: intent, approvals: approvals, policy: p, history: SpendHistory(), now: org.now)
                .category == .timelockPending)
        // An update that adds an entry without the delay is refused outright.
        let early = org.policyJSON(version: 2, previous: org.genesis.policy.hash, created: org.created + 10) { d in
            var book = d["addressBook"]!.arrayValue!
            book.append([
                "id": "quick", "asset": "btc",
                "address": "bcrt1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qzf4jry", "label": "Quick",
                "usableFrom": .number(Double(org.created + 10)),
            ])
            d["addressBook"] = .array(book)
        }
        expectRefusal(.policyInvalid) {
            _ = try PolicyChain.verify(
                [org.genesis, try org.signedPolicy(early, by: [org.admins[0], org.admins[1]])], trust: org.trust,
                now: org.now)
        }
    }

    @Test func g09DestinationNotInTheSignedAddressBook() throws {
        let org = try Org()
        let p = org.verifiedGenesis
        let other = "bcrt1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qzf4jry"
        for json in [
            org.intentJSON(policy: p.policy, entry: "injected", address: other),
            org.intentJSON(policy: p.policy, address: other),
        ] {
            let intent = try Authorization.verify(try org.signedIntent(json), policy: p)
            let approvals = [try org.approval(of: intent.intent, by: org.approvers[0])]
            #expect(
                Evaluation.evaluate(
                    intent: intent, approvals: approvals, policy: p, history: SpendHistory(), now: org.now
                ).category == .allowlistMiss)
        }
    }

    @Test func g10KeyMaterialChangeAtTheRoutineThreshold() throws {
        let org = try Org()
        func walletChange(effective: Int64) -> JSONValue {
            org.policyJSON(
                version: 2, previous: org.genesis.policy.hash, created: org.created + 10, effectiveFrom: effective
            ) { d in
                var wallets = d["wallets"]!.arrayValue!
                wallets.removeLast()
                d["wallets"] = .array(wallets)
                var rules = d["rules"]!.objectValue!
                rules["transfers"] = .array([rules["transfers"]!.arrayValue![0]])
                d["rules"] = .object(rules)
            }
        }
        let delayed = org.created + 10 + 172_800
        let later = try Timestamp(seconds: delayed + 1)
        expectRefusal(.policyInvalid) {
            _ = try PolicyChain.verify(
                [
                    org.genesis,
                    try org.signedPolicy(walletChange(effective: delayed), by: [org.admins[0], org.admins[1]]),
                ], trust: org.trust, now: later)
        }
        expectRefusal(.policyInvalid) {
            _ = try PolicyChain.verify(
                [org.genesis, try org.signedPolicy(walletChange(effective: org.created + 10), by: org.admins)],
                trust: org.trust, now: later)
        }
        let good = try org.signedPolicy(walletChange(effective: delayed), by: org.admins)
        expectRefusal(.timelockPending) {
            _ = try PolicyChain.verify([org.genesis, good], trust: org.trust, now: try Timestamp(seconds: delayed - 1))
        }
        #expect(throws: Never.self) { try PolicyChain.verify([org.genesis, good], trust: org.trust, now: later) }
    }

    @Test func g11WithheldUpdateLetsThePolicyExpire() throws {
        let org = try Org()
        let json = org.policyJSON(version: 1, expires: org.now.seconds + 10)
        let g = try org.signedPolicy(json, by: [org.admins[0], org.admins[1]])
        let trust = PolicyTrust(genesis: g.policy.hash, highWater: nil)
        #expect(throws: Never.self) { try PolicyChain.verify([g], trust: trust, now: org.now) }
        expectRefusal(.policyRollback) {
            _ = try PolicyChain.verify([g], trust: trust, now: try Timestamp(seconds: org.now.seconds + 10))
        }
    }

    @Test func r01to04ReplayAndVelocity() throws {
        let org = try Org()
        let p = org.verifiedGenesis
        let intent = try Authorization.verify(try org.signedIntent(org.intentJSON(policy: p.policy)), policy: p)
        let approvals = [try org.approval(of: intent.intent, by: org.approvers[0])]
        func verdict(_ h: SpendHistory, now: Timestamp? = nil) -> Verdict {
            Evaluation.evaluate(intent: intent, approvals: approvals, policy: p, history: h, now: now ?? org.now)
        }
        if case .deny(let r) = verdict(SpendHistory()) { Issue.record("positive control: \(r)") }
        // R01: the same intent id (or nonce) again.
        #expect(verdict(SpendHistory(usedIntents: [intent.intent.id])).category == .replay)
        #expect(verdict(SpendHistory(usedNonces: [intent.intent.nonce])).category == .replay)
        // R02: past its expiry.
        #expect(verdict(SpendHistory(), now: intent.intent.expires).category == .replay)
        // R04: several intents under the per-transfer limit, together over the daily limit.
        let spends = (0..<3).map { i in
            Spend(
                wallet: intent.intent.wallet, asset: intent.intent.asset, amount: BaseUnits(500_000_000),
                time: try! Timestamp(seconds: org.now.seconds - 3600 * Int64(i + 1)))
        }
        #expect(verdict(SpendHistory(spends: spends)).category == .limitExceeded)
        // Spends older than 24 hours no longer count.
        let old = spends.map {
            Spend(
                wallet: $0.wallet, asset: $0.asset, amount: $0.amount,
                time: try! Timestamp(seconds: org.now.seconds - 90_000))
        }
        if case .deny(let r) = verdict(SpendHistory(spends: old)) { Issue.record("old spends counted: \(r)") }
    }

    @Test func r03ApprovalsFromAnotherWallet() throws {
        let org = try Org()
        let p = org.verifiedGenesis
        let btc = try Authorization.verify(try org.signedIntent(org.intentJSON(policy: p.policy)), policy: p)
        let eth = try Authorization.verify(
            try org.signedIntent(
                org.intentJSON(
                    policy: p.policy, wallet: "eth-main", asset: "eth", entry: "eth-exchange",
                    amount: "1000000000000000000", id: "intent-eth", nonce: 4)), policy: p)
        let forBTC = [
            try org.approval(of: btc.intent, by: org.approvers[0]),
            try org.approval(of: btc.intent, by: org.approvers[1]),
        ]
        #expect(
            Evaluation.evaluate(intent: eth, approvals: forBTC, policy: p, history: SpendHistory(), now: org.now)
                .category == .approvalMismatch)
        let forETH = [
            try org.approval(of: eth.intent, by: org.approvers[0]),
            try org.approval(of: eth.intent, by: org.approvers[1]),
        ]
        if case .deny(let r) = Evaluation.evaluate(
            intent: eth, approvals: forETH, policy: p, history: SpendHistory(), now: org.now)
        {
            Issue.record("\(r)")
        }
    }

    @Test func d01TruncatedAndBitFlippedDocuments() throws {
        let org = try Org()
        let p = org.verifiedGenesis
        let signed = try org.signedIntent(org.intentJSON(policy: p.policy))
        let bytes = try CanonicalJSON.encode(signed.json)
        #expect(throws: Never.self) {
            try Authorization.verify(try SignedIntent(json: try JSONParser.parse(bytes)), policy: p)
        }
        for n in stride(from: 0, to: bytes.count, by: 7) {
            expectRefusal(.malformed) { _ = try SignedIntent(json: try JSONParser.parse(Array(bytes[0..<n]))) }
        }
        // Bit flips: either the document no longer parses (MALFORMED) or its signature fails; never accepted.
        func attempt(_ b: [UInt8]) -> Result<SignedIntent, GovernanceError> {
            do throws(GovernanceError) {
                let s = try SignedIntent(json: try JSONParser.parse(b))
                _ = try Authorization.verify(s, policy: p)
                return .success(s)
            } catch {
                return .failure(error)
            }
        }
        for i in stride(from: 0, to: bytes.count, by: 3) {
            var b = bytes
            b[i] ^= 0x02
            switch attempt(b) {
            case .success(let s):
                #expect(
                    s.intent.digest == signed.intent.digest && s.signature == signed.signature,
                    "a flipped byte at \(i) was accepted")
            case .failure(let e):
                #expect([.malformed, .approvalInvalid, .approvalMismatch].contains(e.category), "\(e)")
            }
        }
    }

    @Test func d02OversizeAndDeepDocuments() throws {
        let deep =
            Array(repeating: UInt8(ascii: "["), count: 100_000) + Array(repeating: UInt8(ascii: "]"), count: 100_000)
        expectRefusal(.resourceLimit) { _ = try JSONParser.parse(deep) }
        let huge = Array("{\"memo\":\"".utf8) + [UInt8](repeating: 0x61, count: 2 << 20) + Array("\"}".utf8)
        expectRefusal(.resourceLimit) { _ = try JSONParser.parse(huge) }
        #expect(throws: Never.self) { try JSONParser.parse(Array("[[[]]]".utf8)) }
    }

    @Test func d03AmountsThatAreNotCanonicalDecimalStrings() throws {
        let org = try Org()
        let p = org.genesis.policy
        for bad: JSONValue in [
            .number(150_000_000), .string("1.5e8"), .string("-1"), .string("0150000000"), .string("1.5"), .string(""),
            .string(String(repeating: "9", count: 80)),
        ] {
            expectRefusal(.malformed) { _ = try Intent(json: org.intentJSON(policy: p) { $0["amount"] = bad }) }
        }
        // Above MAX_MONEY but valid as base units: accepted by the parser, refused by the limits.
        let verified = org.verifiedGenesis
        let big = try Authorization.verify(
            try org.signedIntent(org.intentJSON(policy: p, amount: "2100000000000001")), policy: verified)
        #expect(
            Evaluation.evaluate(intent: big, approvals: [], policy: verified, history: SpendHistory(), now: org.now)
                .category == .limitExceeded)
        #expect(throws: Never.self) { try Intent(json: org.intentJSON(policy: p)) }
    }

    @Test func d04UnknownKindsAndExtraFields() throws {
        let org = try Org()
        let p = org.genesis.policy
        expectRefusal(.malformed) { _ = try Intent(json: org.intentJSON(policy: p) { $0["type"] = "transfer_v2" }) }
        expectRefusal(.malformed) { _ = try Intent(json: org.intentJSON(policy: p) { $0["skipChecks"] = true }) }
        expectRefusal(.malformed) { _ = try Intent(json: org.intentJSON(policy: p) { $0["kind"] = "kura.intent2" }) }
        expectRefusal(.malformed) { _ = try Policy(json: org.policyJSON(version: 1) { $0["debug"] = true }) }
        #expect(throws: Never.self) { try Intent(json: org.intentJSON(policy: p)) }
    }
}
