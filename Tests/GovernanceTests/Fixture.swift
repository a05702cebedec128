import Bitcoin
import Ethereum
import Foundation
import Governance
import WalletCrypto

/// A small organisation for governance tests: three admins (quorum 2, high quorum 3), one
/// initiator, three approvers, one cold signer, a Bitcoin (regtest) and an Ethereum wallet.
final class Org: @unchecked Sendable {
    struct Person {
        let id: String
        let key: CredentialSigningKey
        var credentialID: String { "\(id)-key" }
    }

    let admins: [Person]
    let alice: Person  // initiator
    let approvers: [Person]  // bob, carol, dave
    let outsider: Person
    let signerMaster: ExtendedPrivateKey
    let identityKey: PrivateKey
    let created: Int64 = 1_800_000_000
    var now: Timestamp { try! Timestamp(seconds: created + 3 * 86_400) }

    init() throws {
        func person(_ id: String) throws -> Person {
            Person(id: id, key: try CredentialSigningKey.generate(scheme: .ed25519))
        }
        admins = try ["admin1", "admin2", "admin3"].map(person)
        alice = try person("alice")
        approvers = try ["bob", "carol", "dave"].map(person)
        outsider = try person("mallory")
        signerMaster = try ExtendedPrivateKey(seed: SecretBytes([UInt8](repeating: 7, count: 32)))
        identityKey = try PrivateKey(bytes: [UInt8](repeating: 9, count: 32))
    }

    static func credential(_ p: Person) -> JSONValue {
        let c = try! p.key.credential(id: p.credentialID)
        return ["id": .string(p.credentialID), "scheme": "ed25519", "publicKey": .string(Hex.encode(c.publicKey))]
    }

    static func member(_ p: Person, roles: [String]) -> JSONValue {
        [
            "id": .string(p.id), "name": .string(p.id.capitalized), "roles": .array(roles.map { .string($0) }),
            "credentials": [credential(p)],
        ]
    }

    var btcKeyInfo: String {
        let path = try! DerivationPath(parsing: "m/84h/1h/0h")
        return
            "[\(signerMaster.fingerprint)/84h/1h/0h]\(try! signerMaster.derive(path).extendedPublicKey.serialized(version: .tpub))"
    }

    var btcDescriptor: Descriptor {
        try! WalletPolicy(template: "wpkh(@0/**)", keys: [btcKeyInfo], network: .regtest).descriptor
    }

    var ethAddress: EthereumAddress {
        let key = try! signerMaster.derive(DerivationPath(parsing: "m/44h/60h/0h/0/0")).privateKey
        return EthereumAddress(publicKey: key.publicKey)
    }

    let exchangeAddress = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"
    let ethExchange = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    let usdcContract = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"

    /// The policy document; `edit` may change any member before it is returned.
    func policyJSON(
        version: Int, previous: DocumentHash? = nil, created: Int64? = nil, effectiveFrom: Int64? = nil,
        expires: Int64? = nil,
        edit: (inout [String: JSONValue]) -> Void = { _ in }
    ) -> JSONValue {
        let c = created ?? self.created
        var members = admins.map { Self.member($0, roles: ["admin"]) }
        members.append(Self.member(alice, roles: ["initiator"]))
        members += approvers.map { Self.member($0, roles: ["approver"]) }
        var doc: [String: JSONValue] = [
            "kind": "kura.policy", "format": 1, "organization": "acme", "version": .number(Double(version)),
            "created": .number(Double(c)), "effectiveFrom": .number(Double(effectiveFrom ?? c)),
            "expires": .number(Double(expires ?? (c + 365 * 86_400))), "members": .array(members),
            "signers": [
                [
                    "id": "vault-a", "name": "Vault A",
                    "identityKey": .string(Hex.encode(identityKey.publicKey.xOnly.key.bytes)),
                    "fingerprint": .string(signerMaster.fingerprint.description),
                ]
            ],
            "assets": [
                ["id": "btc", "chain": "bitcoin", "network": "regtest", "symbol": "BTC", "decimals": 8],
                ["id": "eth", "chain": "ethereum", "chainId": 1337, "symbol": "ETH", "decimals": 18],
                [
                    "id": "usdc", "chain": "ethereum", "chainId": 1337, "symbol": "USDC", "decimals": 6,
                    "contract": .string(usdcContract),
                ],
            ],
            "wallets": [
                [
                    "id": "btc-main", "chain": "bitcoin", "network": "regtest", "signers": ["vault-a"],
                    "walletPolicy": ["template": "wpkh(@0/**)", "keys": [.string(btcKeyInfo)]],
                ],
                [
                    "id": "eth-main", "chain": "ethereum", "chainId": 1337, "signers": ["vault-a"],
                    "address": .string(ethAddress.checksummed),
                    "derivation": "m/44h/60h/0h/0/0",
                ],
            ],
            "addressBook": [
                [
                    "id": "exchange", "asset": "btc", "address": .string(exchangeAddress),
                    "label": "Exchange hot wallet", "usableFrom": .number(Double(self.created)),
                ],
                [
                    "id": "eth-exchange", "asset": "eth", "address": .string(ethExchange), "label": "Exchange",
                    "usableFrom": .number(Double(self.created)),
                ],
            ],
            "rules": [
                "initiators": ["alice"],
                "transfers": [
                    [
                        "wallet": "btc-main", "asset": "btc",
                        "tiers": [["upTo": "100000000", "approvals": 1], ["upTo": "1000000000", "approvals": 2]],
                        "perTransferLimit": "1000000000", "dailyLimit": "1500000000",
                        "fee": ["maxAbsolute": "100000", "maxRatePerKvB": "50000"],
                    ],
                    [
                        "wallet": "eth-main", "asset": "eth",
                        "tiers": [["upTo": "10000000000000000000", "approvals": 2]],
                        "perTransferLimit": "10000000000000000000", "dailyLimit": "20000000000000000000",
                        "fee": [
                            "maxFeePerGas": "200000000000", "maxPriorityFeePerGas": "5000000000",
                            "maxGasLimit": "100000",
                            "maxTotalFee": "20000000000000000",
                        ],
                    ],
                ],
                "maxIntentLifetime": 86_400, "addressBookDelay": 172_800,
            ],
            "governance": ["adminQuorum": 2, "highQuorum": 3, "highChangeDelay": 172_800],
        ]
        if let previous { doc["previous"] = .string(previous.description) }
        edit(&doc)
        return .object(doc)
    }

    func sign(_ digest: DocumentHash, by p: Person) -> MemberSignature {
        MemberSignature(
            member: try! MemberID(p.id), credential: try! CredentialID(p.credentialID),
            evidence: try! p.key.sign(digest: digest.bytes))
    }

    func signedPolicy(_ json: JSONValue, by signers: [Person]) throws -> SignedPolicy {
        let p = try Policy(json: json)
        return SignedPolicy(policy: p, signatures: signers.map { sign(p.hash, by: $0) })
    }

    lazy var genesis: SignedPolicy = try! signedPolicy(policyJSON(version: 1), by: [admins[0], admins[1]])

    var trust: PolicyTrust { PolicyTrust(genesis: genesis.policy.hash, highWater: nil) }

    var verifiedGenesis: VerifiedPolicy { try! PolicyChain.verify([genesis], trust: trust, now: now) }

    func intentJSON(
        policy: Policy, wallet: String = "btc-main", asset: String = "btc", entry: String = "exchange",
        address: String? = nil,
        amount: String = "50000000", id: String = "intent-1", nonce: UInt8 = 1, created: Int64? = nil,
        expires: Int64? = nil,
        edit: (inout [String: JSONValue]) -> Void = { _ in }
    ) -> JSONValue {
        let c = created ?? (now.seconds - 600)
        let btc = asset == "btc"
        var doc: [String: JSONValue] = [
            "kind": "kura.intent", "format": 1, "type": "transfer", "id": .string(id), "organization": "acme",
            "policy": .string(policy.hash.description), "wallet": .string(wallet), "asset": .string(asset),
            "destination": [
                "entry": .string(entry), "address": .string(address ?? (btc ? exchangeAddress : ethExchange)),
            ],
            "amount": .string(amount),
            "feeCap": btc
                ? ["maxAbsolute": "20000", "maxRatePerKvB": "20000"]
                : [
                    "maxFeePerGas": "100000000000", "maxPriorityFeePerGas": "2000000000", "maxGasLimit": "21000",
                    "maxTotalFee": "2100000000000000",
                ],
            "memo": "payout", "nonce": .string(Hex.encode([UInt8](repeating: nonce, count: 32))),
            "created": .number(Double(c)),
            "expires": .number(Double(expires ?? (c + 3600))), "initiator": "alice",
        ]
        edit(&doc)
        return .object(doc)
    }

    func signedIntent(_ json: JSONValue, by p: Person? = nil) throws -> SignedIntent {
        let i = try Intent(json: json)
        return SignedIntent(intent: i, signature: sign(i.digest, by: p ?? alice))
    }

    func approval(of intent: Intent, by p: Person, decision: Approval.Decision = .approve, time: Int64? = nil) throws
        -> SignedApproval
    {
        let a = try Approval(
            json: Approval.document(
                intent: intent.digest, decision: decision, approver: MemberID(p.id),
                time: Timestamp(seconds: time ?? (now.seconds - 300))))
        return SignedApproval(approval: a, signature: sign(a.digest, by: p))
    }
}
