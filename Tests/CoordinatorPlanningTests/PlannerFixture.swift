import Bitcoin
import CoordinatorCore
import Ethereum
import Governance
import WalletCrypto

/// A small organisation for the planner's tests: three admins (quorum 2), the initiator alice, one cold signer
/// holding a P2WPKH wallet (`btc-main`), two wallets the planner does not build for (`btc-legacy`, P2PKH, and
/// `btc-odd`, whose receive and change branches are /2 and /3), and an Ethereum account (`eth-main`) with ether
/// and a USDC token in the registry.
final class PlannerFixture: @unchecked Sendable {
    struct Person {
        let id: String
        let key: CredentialSigningKey
        var credentialID: String { "\(id)-key" }
    }

    let admins: [Person]
    let alice: Person
    let master: ExtendedPrivateKey
    let identityKey: PrivateKey
    let created: Int64 = 1_800_000_000
    var now: Timestamp { try! Timestamp(seconds: created + 3 * 86_400) }
    private var counter: UInt32 = 0
    private var intents = 0

    static let exchange = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"
    static let ethExchange = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    static let usdc = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
    static let chainID: UInt64 = 1337

    init() throws {
        func person(_ id: String) throws -> Person {
            Person(id: id, key: try CredentialSigningKey.generate(scheme: .ed25519))
        }
        admins = try ["admin1", "admin2", "admin3"].map(person)
        alice = try person("alice")
        master = try ExtendedPrivateKey(seed: SecretBytes([UInt8](repeating: 7, count: 32)))
        identityKey = try PrivateKey(bytes: [UInt8](repeating: 9, count: 32))
    }

    static func member(_ p: Person, roles: [String]) -> JSONValue {
        let c = try! p.key.credential(id: p.credentialID)
        return [
            "id": .string(p.id), "name": .string(p.id.capitalized), "roles": .array(roles.map { .string($0) }),
            "credentials": [
                ["id": .string(p.credentialID), "scheme": "ed25519", "publicKey": .string(Hex.encode(c.publicKey))]
            ],
        ]
    }

    func keyInfo(_ path: String) -> String {
        let p = try! DerivationPath(parsing: "m/\(path)")
        return "[\(master.fingerprint)/\(path)]\(try! master.derive(p).extendedPublicKey.serialized(version: .tpub))"
    }

    var descriptor: Descriptor {
        try! WalletPolicy(template: "wpkh(@0/**)", keys: [keyInfo("84h/1h/0h")], network: .regtest).descriptor
    }

    var ethAddress: EthereumAddress {
        EthereumAddress(publicKey: try! master.derive(DerivationPath(parsing: "m/44h/60h/0h/0/0")).privateKey.publicKey)
    }

    static let btcFee: JSONValue = ["maxAbsolute": "100000", "maxRatePerKvB": "50000"]
    static let ethFee: JSONValue = [
        "maxFeePerGas": "200000000000", "maxPriorityFeePerGas": "5000000000", "maxGasLimit": "100000",
        "maxTotalFee": "20000000000000000",
    ]

    func policyJSON(version: Int, previous: DocumentHash? = nil) -> JSONValue {
        func rule(_ wallet: String, _ asset: String, _ fee: JSONValue) -> JSONValue {
            [
                "wallet": .string(wallet), "asset": .string(asset),
                "tiers": [["upTo": "100000000000000000000", "approvals": 1]],
                "perTransferLimit": "100000000000000000000", "dailyLimit": "1000000000000000000000", "fee": fee,
            ]
        }
        var doc: [String: JSONValue] = [
            "kind": "kura.policy", "format": 1, "organization": "acme", "version": .number(Double(version)),
            "created": .number(Double(created)), "effectiveFrom": .number(Double(created)),
            "expires": .number(Double(created + 365 * 86_400)),
            "members": .array(
                admins.map { Self.member($0, roles: ["admin"]) } + [Self.member(alice, roles: ["initiator"])]),
            "signers": [
                [
                    "id": "vault-a", "name": "Vault A",
                    "identityKey": .string(Hex.encode(identityKey.publicKey.xOnly.key.bytes)),
                    "fingerprint": .string(master.fingerprint.description),
                ]
            ],
            "assets": [
                ["id": "btc", "chain": "bitcoin", "network": "regtest", "symbol": "BTC", "decimals": 8],
                [
                    "id": "eth", "chain": "ethereum", "chainId": .number(Double(Self.chainID)), "symbol": "ETH",
                    "decimals": 18,
                ],
                [
                    "id": "usdc", "chain": "ethereum", "chainId": .number(Double(Self.chainID)), "symbol": "USDC",
                    "decimals": 6, "contract": .string(Self.usdc),
                ],
            ],
            "wallets": [
                [
                    "id": "btc-main", "chain": "bitcoin", "network": "regtest", "signers": ["vault-a"],
                    "walletPolicy": ["template": "wpkh(@0/**)", "keys": [.string(keyInfo("84h/1h/0h"))]],
                ],
                [
                    "id": "btc-legacy", "chain": "bitcoin", "network": "regtest", "signers": ["vault-a"],
                    "walletPolicy": ["template": "pkh(@0/**)", "keys": [.string(keyInfo("44h/1h/0h"))]],
                ],
                [
                    "id": "btc-odd", "chain": "bitcoin", "network": "regtest", "signers": ["vault-a"],
                    "walletPolicy": ["template": "wpkh(@0/<2;3>/*)", "keys": [.string(keyInfo("84h/1h/1h"))]],
                ],
                [
                    "id": "eth-main", "chain": "ethereum", "chainId": .number(Double(Self.chainID)),
                    "signers": ["vault-a"], "address": .string(ethAddress.checksummed),
                    "derivation": "m/44h/60h/0h/0/0",
                ],
            ],
            "addressBook": [
                [
                    "id": "exchange", "asset": "btc", "address": .string(Self.exchange), "label": "Exchange",
                    "usableFrom": .number(Double(created)),
                ],
                [
                    "id": "eth-exchange", "asset": "eth", "address": .string(Self.ethExchange), "label": "Exchange",
                    "usableFrom": .number(Double(created)),
                ],
                [
                    "id": "usdc-exchange", "asset": "usdc", "address": .string(Self.ethExchange), "label": "Exchange",
                    "usableFrom": .number(Double(created)),
                ],
            ],
            "rules": [
                "initiators": ["alice"],
                "transfers": [
                    rule("btc-main", "btc", Self.btcFee), rule("btc-legacy", "btc", Self.btcFee),
                    rule("btc-odd", "btc", Self.btcFee),
                    rule("eth-main", "eth", Self.ethFee), rule("eth-main", "usdc", Self.ethFee),
                ],
                "maxIntentLifetime": 86_400, "addressBookDelay": 172_800,
            ],
            "governance": ["adminQuorum": 2, "highQuorum": 3, "highChangeDelay": 172_800],
        ]
        if let previous { doc["previous"] = .string(previous.description) }
        return .object(doc)
    }

    func sign(_ digest: DocumentHash, by p: Person) -> MemberSignature {
        MemberSignature(
            member: try! MemberID(p.id), credential: try! CredentialID(p.credentialID),
            evidence: try! p.key.sign(digest: digest.bytes))
    }

    func signedPolicy(_ json: JSONValue) throws -> SignedPolicy {
        let p = try Policy(json: json)
        return SignedPolicy(policy: p, signatures: [sign(p.hash, by: admins[0]), sign(p.hash, by: admins[1])])
    }

    lazy var genesis: SignedPolicy = try! signedPolicy(policyJSON(version: 1))
    lazy var policy: VerifiedPolicy = try! PolicyChain.verify(
        [genesis], trust: PolicyTrust(genesis: genesis.policy.hash, highWater: nil), now: now)

    /// Version 2 of the policy (the same rules), verified: intents made under the genesis do not belong to it.
    func version2() throws -> VerifiedPolicy {
        let v2 = try signedPolicy(policyJSON(version: 2, previous: genesis.policy.hash))
        return try PolicyChain.verify(
            [genesis, v2], trust: PolicyTrust(genesis: genesis.policy.hash, highWater: nil), now: now)
    }

    /// A signed intent verified under `policy`; `feeCap`, `pin` and any other member may be overridden.
    func intent(
        wallet: String = "btc-main", asset: String = "btc", amount: String = "50000000", feeCap: JSONValue? = nil,
        pin: JSONValue? = nil, edit: (inout [String: JSONValue]) -> Void = { _ in }
    ) throws -> VerifiedIntent {
        intents += 1
        let btc = asset == "btc"
        let entry = btc ? "exchange" : "\(asset)-exchange"
        var doc: [String: JSONValue] = [
            "kind": "kura.intent", "format": 1, "type": "transfer", "id": .string("intent-\(intents)"),
            "organization": "acme", "policy": .string(policy.hash.description), "wallet": .string(wallet),
            "asset": .string(asset),
            "destination": ["entry": .string(entry), "address": .string(btc ? Self.exchange : Self.ethExchange)],
            "amount": .string(amount), "feeCap": feeCap ?? (btc ? Self.btcFee : Self.ethFee), "memo": "payout",
            "nonce": .string(Hex.encode([UInt8](repeating: UInt8(intents % 256), count: 32))),
            "created": .number(Double(now.seconds - 600)), "expires": .number(Double(now.seconds + 3000)),
            "initiator": "alice",
        ]
        if let pin { doc["pin"] = pin }
        edit(&doc)
        let i = try Intent(json: .object(doc))
        return try Authorization.verify(SignedIntent(intent: i, signature: sign(i.digest, by: alice)), policy: policy)
    }

    /// A funding transaction paying `script` (the wallet's at `branch`/`index` by default) `value`, and the coin
    /// a chain port would report for it.
    func coin(
        branch: Int = 0, index: UInt32 = 0, value: Int64, confirmations: UInt32 = 6, script: Script? = nil
    ) throws -> BitcoinUnspentOutput {
        counter += 1
        let paying = try script ?? descriptor.scriptPubKey(index: index, branch: branch)
        let seed = withUnsafeBytes(of: counter.bigEndian) { Array($0) }
        let prev = Transaction(
            version: 2,
            inputs: [TxIn(previousOutput: OutPoint(txid: try Txid(bytes: Hash.sha256(seed)), vout: 0))],
            outputs: [TxOut(value: try Amount(sats: value), scriptPubKey: paying)])
        return BitcoinUnspentOutput(
            outPoint: OutPoint(txid: prev.computeTxid(), vout: 0), value: try Amount(sats: value),
            scriptPubKey: paying, confirmations: confirmations, previousTransaction: prev.serialized)
    }

    static let scan = WalletScanRange(receive: 0..<20, change: 0..<20)

    func request(
        _ intent: VerifiedIntent, coins: [BitcoinUnspentOutput], feeRate: UInt64 = 5_000, changeIndex: UInt32 = 7,
        scan: WalletScanRange = PlannerFixture.scan, options: BitcoinPlanningOptions = BitcoinPlanningOptions(),
        policy: VerifiedPolicy? = nil
    ) -> BitcoinPlanRequest {
        BitcoinPlanRequest(
            policy: policy ?? self.policy, intent: intent, coins: coins, scan: scan,
            feeRate: FeeRate(satsPerKvB: feeRate), changeIndex: changeIndex, options: options)
    }

    func ethRequest(
        _ intent: VerifiedIntent, chainID: UInt64 = PlannerFixture.chainID, nonce: UInt64 = 0,
        baseFee: UInt64 = 1_000_000_000, priorityFee: UInt64 = 1_000_000_000, gas: UInt64 = 21_000,
        policy: VerifiedPolicy? = nil
    ) -> EthereumPlanRequest {
        EthereumPlanRequest(
            policy: policy ?? self.policy, intent: intent, chainID: ChainID(chainID), pendingNonce: Nonce(nonce),
            fees: EthereumFeeSuggestion(
                baseFeePerGas: WeiPerGas(baseFee), maxPriorityFeePerGas: WeiPerGas(priorityFee)),
            gasEstimate: Gas(gas))
    }
}
