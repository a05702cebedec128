import Foundation
import Governance
import Testing
import WalletCrypto

@Suite("Signer re-provisioning documents")
struct ReprovisionTests {
    let org: Org
    init() throws { org = try Org() }

    var identity: XOnlyPublicKey { org.identityKey.publicKey.xOnly.key }

    func document(
        policy: Policy? = nil, signer: String = "vault-a", sequence: UInt64 = 3, created: Int64? = nil,
        lifetime: Int64 = 86_400
    ) throws -> Reprovision {
        let p = policy ?? org.verifiedGenesis.policy
        let c = try Timestamp(seconds: created ?? (org.now.seconds - 60))
        let receipt = sequence == 0 ? nil : try DocumentHash(bytes: [UInt8](repeating: 0xab, count: 32))
        return try Reprovision(
            json: Reprovision.document(
                policy: p, signer: SignerID(signer), resumeSequence: sequence, resumeReceipt: receipt,
                usedIntents: [IntentID("t-1"), IntentID("t-2")],
                ethereumNonces: [.init(account: "0x" + String(repeating: "ab", count: 20), nonce: 7)], created: c,
                expires: c.adding(seconds: lifetime)))
    }

    func signed(_ d: Reprovision, by people: [Org.Person]) -> SignedReprovision {
        SignedReprovision(reprovision: d, signatures: people.map { org.sign(d.digest, by: $0) })
    }

    func refusal(_ body: () throws -> Reprovision) -> [String]? {
        do {
            _ = try body()
            return nil
        } catch let e as GovernanceError {
            return [e.category.token, e.code.name]
        } catch {
            return ["?", "\(error)"]
        }
    }

    @Test func highQuorumOfDistinctAdminsVerifies() throws {
        let d = try document()
        let v = try signed(d, by: org.admins).verify(policy: org.verifiedGenesis, identityKey: identity, now: org.now)
        #expect(v.resumeSequence == 3)
        #expect(v.usedIntents.map(\.value) == ["t-1", "t-2"])
        #expect(v.ethereumNonces.first?.nonce == 7)
        // The JSON form round-trips to the same digest.
        let again = try SignedReprovision(json: signed(d, by: org.admins).json)
        #expect(again.reprovision.digest == d.digest)
    }

    @Test func routineQuorumOrARepeatedAdminIsNotEnough() throws {
        let d = try document()
        let v = org.verifiedGenesis
        #expect(
            refusal {
                try signed(d, by: Array(org.admins.prefix(2))).verify(policy: v, identityKey: identity, now: org.now)
            }
                == ["POLICY_INVALID", "invalid_signature"])
        let twice = SignedReprovision(
            reprovision: d,
            signatures: [org.admins[0], org.admins[0], org.admins[1]].map { org.sign(d.digest, by: $0) })
        #expect(refusal { try twice.verify(policy: v, identityKey: identity, now: org.now) }?.first == "POLICY_INVALID")
        // Not admins: an approver's signature does not count, it refuses.
        let approver = signed(d, by: [org.admins[0], org.admins[1], org.approvers[0]])
        #expect(
            refusal { try approver.verify(policy: v, identityKey: identity, now: org.now) }?.first == "POLICY_INVALID")
    }

    @Test func aSignatureOverAnotherDocumentRefuses() throws {
        let d = try document()
        let other = try document(sequence: 2)
        let forged = SignedReprovision(reprovision: d, signatures: org.admins.map { org.sign(other.digest, by: $0) })
        #expect(
            refusal { try forged.verify(policy: org.verifiedGenesis, identityKey: identity, now: org.now) }?.first
                == "POLICY_INVALID")
    }

    @Test func anotherSignerOrIdentityRefuses() throws {
        let d = try document()
        let stranger = try PrivateKey(bytes: [UInt8](repeating: 5, count: 32)).publicKey.xOnly.key
        #expect(
            refusal {
                try signed(d, by: org.admins).verify(policy: org.verifiedGenesis, identityKey: stranger, now: org.now)
            }
                == ["WALLET_MISMATCH", "invalid_value"])
        #expect(refusal { try document(signer: "vault-z") }?.first == "MALFORMED")
    }

    @Test func validityWindowIsEnforced() throws {
        let v = org.verifiedGenesis
        let future = try document(created: org.now.seconds + 600)
        #expect(
            refusal { try signed(future, by: org.admins).verify(policy: v, identityKey: identity, now: org.now) }?.first
                == "TIMELOCK_PENDING")
        let old = try document(created: org.now.seconds - 7200, lifetime: 3600)
        #expect(
            refusal { try signed(old, by: org.admins).verify(policy: v, identityKey: identity, now: org.now) }?.first
                == "TIMELOCK_PENDING")
        #expect(refusal { try document(lifetime: 8 * 86_400) }?.first == "MALFORMED")
    }

    @Test func aDocumentForAnotherPolicyVersionRefuses() throws {
        let v2json = org.policyJSON(version: 2, previous: org.genesis.policy.hash)
        let d = try document(policy: try Policy(json: v2json))
        #expect(
            refusal {
                try signed(d, by: org.admins).verify(policy: org.verifiedGenesis, identityKey: identity, now: org.now)
            }?
            .first == "POLICY_INVALID")
    }

    @Test func strictSchema() throws {
        let good = try document().document
        guard case .object(var o) = good else { throw GovernanceError(.wrongType, .malformed, "") }
        o["extra"] = true
        #expect(refusal { try Reprovision(json: .object(o)) }?.last == "unknown_field")
        o["extra"] = nil
        o["resume"] = ["sequence": 2]  // a sequence without the receipt it resumes after
        #expect(refusal { try Reprovision(json: .object(o)) }?.first == "MALFORMED")
        o["resume"] = ["sequence": 0]
        o["usedIntents"] = ["t-1", "t-1"]
        #expect(refusal { try Reprovision(json: .object(o)) }?.last == "duplicate_key")
        o["usedIntents"] = []
        o["ethereumNonces"] = [["account": "0xABABABABABABABABABABABABABABABABABABABAB", "nonce": 1]]
        #expect(refusal { try Reprovision(json: .object(o)) }?.first == "MALFORMED")
        o["ethereumNonces"] = []
        // Positive control: the corrected document parses.
        #expect(refusal { try Reprovision(json: .object(o)) } == nil)
    }
}
