// Governance commands of the operator CLI, working offline on files: personal keys, policy
// versions, intents and approvals. (The coordinator milestone wires them to the API.)
import ArgumentParser
import Foundation
import Governance
import WalletCrypto

/// Reads, writes and reports for the governance commands.
enum GovernanceIO {
    static func readJSON(_ path: String) throws -> JSONValue {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw GovernanceError(.missingField, .malformed, "cannot read \(path)")
        }
        return try JSONParser.parse([UInt8](data))
    }

    static func writeJSON(_ value: JSONValue, to path: String) throws {
        let bytes = try CanonicalJSON.encode(value)
        try Data(bytes + [0x0a]).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Writes a secret file that did not exist, with mode 0600 from its creation.
    static func writeSecret(_ bytes: [UInt8], to path: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw GovernanceError(.invalidValue, .malformed, "\(path) already exists; refusing to overwrite a key")
        }
        guard
            FileManager.default.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: 0o600])
        else {
            throw GovernanceError(.invalidValue, .malformed, "cannot create \(path)")
        }
    }

    static func loadKey(_ path: String) throws -> CredentialSigningKey {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw GovernanceError(.invalidKey, .malformed, "cannot read key file \(path)")
        }
        return try CredentialSigningKey(keyFile: SecretBytes([UInt8](data)))
    }

    static func chain(_ paths: [String]) throws -> [SignedPolicy] {
        try paths.map { try SignedPolicy(json: readJSON($0)) }
    }

    static func now() throws -> Timestamp { try Timestamp(seconds: Int64(Date().timeIntervalSince1970)) }

    static func print(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }

    /// Runs `body`; a governance error becomes `kura: refused: CATEGORY code: reason` on stderr and exit 3.
    static func run(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let e as GovernanceError {
            FileHandle.standardError.write(
                Data("kura: refused: \(e.category.token) \(e.code.name): \(e.reason)\n".utf8))
            throw ExitCode(3)
        }
    }
}

/// An admin's key, member id and credential id, for adding a signature to a document (a policy
/// proposal, a re-provisioning document).
struct MemberSigningOptions: ParsableArguments {
    @Option(help: "Your key file.") var key: String
    @Option(help: "Your member id.") var member: String
    @Option(help: "Your credential id.") var credential: String

    /// Signs `digest` with the key file, as this member and credential.
    func sign(_ digest: DocumentHash) throws -> MemberSignature {
        MemberSignature(
            member: try MemberID(member), credential: try CredentialID(credential),
            evidence: try GovernanceIO.loadKey(key).sign(digest: digest.bytes))
    }
}

/// Options naming the policy chain and its pinned genesis.
struct ChainOptions: ParsableArguments {
    @Option(help: "The pinned genesis policy hash (64 hex digits).")
    var genesisHash: String

    @Option(name: .customLong("policy"), help: "Signed policy files, genesis first, in version order (repeat).")
    var policies: [String]

    func verified(now: Timestamp) throws -> VerifiedPolicy {
        try Self.verify(genesisHash: genesisHash, policies: policies, now: now)
    }

    static func verify(genesisHash: String, policies: [String], now: Timestamp) throws -> VerifiedPolicy {
        try PolicyChain.verify(
            try GovernanceIO.chain(policies),
            trust: PolicyTrust(genesis: try DocumentHash(hex: genesisHash), highWater: nil), now: now)
    }
}

/// What a transfer intent says, as options (shared by `kura intent new` and `kura intent create`).
struct TransferOptions: ParsableArguments {
    @Option var wallet: String
    @Option var asset: String
    @Option(help: "Address-book entry id of the destination.") var to: String
    @Option(help: "Amount in the asset's units, e.g. 0.5 (use --base-units for integers).") var amount: String
    @Flag(help: "--amount is in base units (satoshi, wei).") var baseUnits = false
    @Option var memo: String = ""
    @Option(help: "Lifetime in seconds.") var lifetime: Int64 = 3600
    @Option(
        help:
            "Fee cap as KEY=VALUE (Bitcoin: maxAbsolute, maxRatePerKvB; Ethereum: maxFeePerGas, maxPriorityFeePerGas, maxGasLimit, maxTotalFee); defaults to the policy's caps."
    )
    var feeCap: [String] = []
    @Option(name: .customLong("pin-input"), help: "Bitcoin: spend exactly these coins, as TXID:VOUT (repeat).")
    var pinInputs: [String] = []
    @Option(help: "Ethereum: sign at exactly this account nonce.") var pinEthNonce: UInt64?

    /// Builds the intent under `policy` (the destination address comes from its signed address book).
    func build(policy: Policy, initiator: String, now: Timestamp) throws -> Intent {
        guard pinInputs.isEmpty || pinEthNonce == nil else {
            throw GovernanceError(.invalidValue, .malformed, "--pin-input and --pin-eth-nonce exclude each other")
        }
        guard let a = policy.asset(try AssetID(asset)),
            let rule = policy.transferRule(wallet: try WalletID(wallet), asset: a.id)
        else {
            throw GovernanceError(
                .invalidValue, .assetUnknown,
                "no transfer rule for \(wallet)/\(asset) in policy version \(policy.version)")
        }
        guard let entry = policy.addressBook.first(where: { $0.id.value == to && $0.asset == a.id }) else {
            throw GovernanceError(.invalidValue, .allowlistMiss, "\(to) is not an address-book entry for \(asset)")
        }
        let units = baseUnits ? try BaseUnits(decimal: amount) : try BaseUnits(human: amount, decimals: a.decimals)
        var caps: [String: JSONValue]
        switch rule.fee {
        case .bitcoin(let abs, let rate):
            caps = ["maxAbsolute": .string(abs.description), "maxRatePerKvB": .string(rate.description)]
        case .ethereum(let f, let p, let g, let t):
            caps = [
                "maxFeePerGas": .string(f.description), "maxPriorityFeePerGas": .string(p.description),
                "maxGasLimit": .string(g.description), "maxTotalFee": .string(t.description),
            ]
        }
        for kv in feeCap {
            let parts = kv.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, caps[parts[0]] != nil else {
                throw GovernanceError(.invalidValue, .malformed, "--fee-cap \(kv) is not KEY=VALUE for this chain")
            }
            caps[parts[0]] = .string(try BaseUnits(decimal: parts[1]).description)
        }
        let nonce = SecretBytes.random(count: 32).unsafeCopy()
        var fields: [String: JSONValue] = [
            "kind": "kura.intent", "format": 1, "type": "transfer",
            "id": .string("i-" + Hex.encode(nonce.prefix(8))),
            "organization": .string(policy.organization.value), "policy": .string(policy.hash.description),
            "wallet": .string(wallet), "asset": .string(asset),
            "destination": ["entry": .string(to), "address": .string(entry.address)],
            "amount": .string(units.description), "feeCap": .object(caps), "memo": .string(memo),
            "nonce": .string(Hex.encode(nonce)),
            "created": .number(Double(now.seconds)), "expires": .number(Double(now.seconds + lifetime)),
            "initiator": .string(initiator),
        ]
        if !pinInputs.isEmpty {
            fields["pin"] = ["inputs": .array(pinInputs.map { .string($0) })]
        } else if let pinEthNonce {
            fields["pin"] = ["ethNonce": .number(Double(pinEthNonce))]
        }
        return try Intent(json: .object(fields))
    }
}

struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Personal signing keys for intents, approvals and policies.", subcommands: [New.self])

    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a personal key (file mode 0600) and print its credential for the policy.")
        @Option(help: "Where to write the key file (must not exist).")
        var out: String
        @Option(help: "ed25519 or p256.")
        var scheme: String = "ed25519"
        @Option(help: "The credential id to register in the policy.")
        var credentialId: String

        func run() throws {
            try GovernanceIO.run {
                guard let s = Credential.Scheme(rawValue: scheme), s != .webauthnES256 else {
                    throw GovernanceError(
                        .invalidValue, .malformed, "--scheme must be ed25519 or p256 (passkeys are made in the browser)"
                    )
                }
                _ = try CredentialID(credentialId)
                let key = try CredentialSigningKey.generate(scheme: s)
                try GovernanceIO.writeSecret(key.keyFile().unsafeCopy(), to: out)
                let c = try key.credential(id: credentialId)
                GovernanceIO.print(
                    String(
                        decoding: try CanonicalJSON.encode(
                            [
                                "id": .string(c.id), "scheme": .string(c.scheme.rawValue),
                                "publicKey": .string(Hex.encode(c.publicKey)),
                            ]), as: UTF8.self))
            }
        }
    }
}

struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "Policy versions: propose, sign, verify (offline, on files).",
        subcommands: [Init.self, Propose.self, Sign.self, Verify.self, Hash.self, Push.self])

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start a genesis policy document from the admins' credentials (then edit it and propose it).")
        @Option(help: "The organisation's name.") var organization: String
        @Option(
            name: .customLong("admin"),
            help: "An admin as ID=CREDENTIAL_FILE, the file being what `kura keys new` printed (repeat).")
        var admins: [String]
        @Option(help: "Admin signatures needed for routine changes.") var quorum: Int
        @Option(help: "Admin signatures needed for key-material and admin-set changes.") var highQuorum: Int
        @Option(help: "Days a high change waits after it is signed.") var highChangeDelayDays: Int = 2
        @Option(help: "Days the policy stays valid.") var validDays: Int = 365
        @Option(help: "Output file (must not exist).") var out: String

        func run() throws {
            try GovernanceIO.run {
                let now = try GovernanceIO.now()
                var members = [JSONValue]()
                for entry in admins {
                    guard let eq = entry.firstIndex(of: "="), eq != entry.startIndex else {
                        throw GovernanceError(.wrongType, .malformed, "--admin \(entry) is not ID=CREDENTIAL_FILE")
                    }
                    let id = String(entry[..<eq])
                    let credential = try GovernanceIO.readJSON(String(entry[entry.index(after: eq)...]))
                    members.append(
                        .object([
                            "id": .string(id), "name": .string(id), "roles": .array([.string("admin")]),
                            "credentials": .array([credential]),
                        ]))
                }
                let day: Int64 = 86_400
                let doc: JSONValue = .object([
                    "kind": "kura.policy", "format": 1, "organization": .string(organization), "version": 1,
                    "created": .number(Double(now.seconds)), "effectiveFrom": .number(Double(now.seconds)),
                    "expires": .number(Double(now.seconds + Int64(validDays) * day)),
                    "members": .array(members), "signers": .array([]), "assets": .array([]),
                    "wallets": .array([]), "addressBook": .array([]),
                    "rules": .object([
                        "initiators": .array([]), "transfers": .array([]),
                        "maxIntentLifetime": .number(Double(day)), "addressBookDelay": .number(Double(2 * day)),
                    ]),
                    "governance": .object([
                        "adminQuorum": .number(Double(quorum)), "highQuorum": .number(Double(highQuorum)),
                        "highChangeDelay": .number(Double(Int64(highChangeDelayDays) * day)),
                    ]),
                ])
                let p = try Policy(json: doc)  // the starting point must itself be a valid policy
                guard !FileManager.default.fileExists(atPath: out) else {
                    throw GovernanceError(.wrongType, .malformed, "\(out) already exists")
                }
                try GovernanceIO.writeJSON(doc, to: out)
                GovernanceIO.print(
                    "wrote \(out): \(members.count) admin(s), quorum \(p.governance.adminQuorum) of \(members.count); "
                        + "add signers, assets, wallets, address book and rules, then `kura policy propose`")
            }
        }
    }

    struct Propose: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Wrap a policy document into an unsigned proposal, linking it to the current version (or as the genesis)."
        )
        @Argument(help: "The new policy document (JSON).")
        var document: String
        @Option(help: "The current signed policy (omit for a genesis).")
        var current: String?
        @Option(help: "Output file.")
        var out: String

        func run() throws {
            try GovernanceIO.run {
                guard case .object(var doc) = try GovernanceIO.readJSON(document) else {
                    throw GovernanceError(.wrongType, .malformed, "\(document) is not a JSON object")
                }
                if let current {
                    let cur = try SignedPolicy(json: try GovernanceIO.readJSON(current)).policy
                    doc["version"] = .number(Double(cur.version + 1))
                    doc["previous"] = .string(cur.hash.description)
                } else {
                    doc["version"] = 1
                    doc.removeValue(forKey: "previous")
                }
                let p = try Policy(json: .object(doc))
                try GovernanceIO.writeJSON(SignedPolicy(policy: p, signatures: []).json, to: out)
                GovernanceIO.print("policy version \(p.version) hash \(p.hash)")
            }
        }
    }

    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add your admin signature to a policy proposal (in place).")
        @Argument var file: String
        @OptionGroup var signer: MemberSigningOptions

        func run() throws {
            try GovernanceIO.run {
                let signed = try SignedPolicy(json: try GovernanceIO.readJSON(file))
                let sig = try signer.sign(signed.policy.hash)
                let rest = signed.signatures.filter { $0.member != sig.member }
                try GovernanceIO.writeJSON(SignedPolicy(policy: signed.policy, signatures: rest + [sig]).json, to: file)
                GovernanceIO.print("signed policy version \(signed.policy.version) (\(rest.count + 1) signature(s))")
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify a policy chain from its pinned genesis and print the current version.")
        @OptionGroup var chain: ChainOptions

        func run() throws {
            try GovernanceIO.run {
                let v = try chain.verified(now: try GovernanceIO.now())
                GovernanceIO.print(
                    "ok: version \(v.policy.version) hash \(v.hash) effective \(v.policy.effectiveFrom) expires \(v.policy.expires)"
                )
            }
        }
    }

    struct Hash: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a signed policy's hash (to pin it at the key ceremony).")
        @Argument var file: String
        func run() throws {
            try GovernanceIO.run {
                GovernanceIO.print(try SignedPolicy(json: try GovernanceIO.readJSON(file)).policy.hash.description)
            }
        }
    }
}

struct IntentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intent",
        abstract:
            "Transfer intents: new, sign, verify (offline, on files); create, submit, list, show, build, transaction (coordinator).",
        subcommands: [
            New.self, Sign.self, Verify.self, Create.self, Submit.self, List.self, Show.self, Build.self,
            TransactionCommand.self,
        ])

    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an unsigned transfer intent from the current policy.")
        @OptionGroup var chain: ChainOptions
        @OptionGroup var transfer: TransferOptions
        @Option var initiator: String
        @Option var out: String

        func run() throws {
            try GovernanceIO.run {
                let now = try GovernanceIO.now()
                let intent = try transfer.build(
                    policy: try chain.verified(now: now).policy, initiator: initiator, now: now)
                try GovernanceIO.writeJSON(intent.document, to: out)
                GovernanceIO.print("intent \(intent.id) digest \(intent.digest)")
            }
        }
    }

    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sign an intent as its initiator.")
        @Argument var file: String
        @Option var key: String
        @Option var credential: String
        @Option var out: String

        func run() throws {
            try GovernanceIO.run {
                let intent = try Intent(json: try GovernanceIO.readJSON(file))
                let k = try GovernanceIO.loadKey(key)
                let sig = MemberSignature(
                    member: intent.initiator, credential: try CredentialID(credential),
                    evidence: try k.sign(digest: intent.digest.bytes))
                try GovernanceIO.writeJSON(SignedIntent(intent: intent, signature: sig).json, to: out)
                GovernanceIO.print("signed intent \(intent.id) digest \(intent.digest)")
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify a signed intent (and approvals) and print the verdict.")
        @Argument var file: String
        @OptionGroup var chain: ChainOptions
        @Option(name: .customLong("approval"), help: "Signed approval files (repeat).") var approvals: [String] = []

        func run() throws {
            try GovernanceIO.run {
                let now = try GovernanceIO.now()
                let policy = try chain.verified(now: now)
                let signed = try SignedIntent(json: try GovernanceIO.readJSON(file))
                let intent = try Authorization.verify(signed, policy: policy)
                let approvals = try approvals.map { try SignedApproval(json: try GovernanceIO.readJSON($0)) }
                GovernanceIO.print(IntentView.describe(intent.intent, policy: policy.policy))
                switch Evaluation.evaluate(
                    intent: intent, approvals: approvals, policy: policy, history: SpendHistory(), now: now)
                {
                case .allow(let d):
                    GovernanceIO.print(
                        "verdict: allowed (\(d.approvers.count) of \(d.requiredApprovals) approvals: \(d.approvers.map(\.value).joined(separator: ", ")))"
                    )
                case .deny(let refusals):
                    for r in refusals { GovernanceIO.print("verdict: refused \(r)") }
                    throw ExitCode(3)
                }
            }
        }
    }
}

/// Plain text for an intent, from its signed bytes and the verified policy (never from server text).
enum IntentView {
    static func describe(_ i: Intent, policy: Policy) -> String {
        let asset = policy.asset(i.asset)
        let entry = policy.addressBook.first { $0.id == i.destinationEntry }
        return """
            intent      \(i.id) (digest \(i.digest))
            wallet      \(i.wallet)
            amount      \(i.amount.formatted(decimals: asset?.decimals ?? 0)) \(asset?.symbol ?? i.asset.value) (\(i.amount) base units)
            to          \(entry?.label ?? "?") [\(i.destinationEntry)] \(i.destinationAddress)
            initiator   \(policy.member(i.initiator)?.name ?? i.initiator.value)
            valid       \(i.created) … \(i.expires)
            memo        \(i.memo)
            """
    }
}

struct Approve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show an intent decoded from its signed bytes, then sign your approval (or rejection) of its digest.",
        discussion: """
            Offline (with --out): TARGET is a signed intent file, checked against the policy files given.
            Online (without --out): TARGET is an intent id; the intent and the policy chain are fetched from the
            coordinator of your session, verified from the genesis hash pinned at login, shown, and your signed
            approval is submitted (confirm interactively, or pass --yes).
            """)
    @Argument(help: "A signed intent file (offline) or an intent id (online).") var target: String
    @Option(help: "The pinned genesis policy hash (offline).") var genesisHash: String?
    @Option(name: .customLong("policy"), help: "Signed policy files, genesis first (offline; repeat).")
    var policies: [String] = []
    @Option var key: String
    @Option(help: "Your member id (online: defaults to your session's).") var member: String?
    @Option var credential: String
    @Flag(help: "Reject instead of approve.") var reject = false
    @Flag(help: "Do not ask for confirmation (online).") var yes = false
    @Option(help: "Write the signed approval here instead of submitting it (offline).") var out: String?
    @OptionGroup var options: SessionOptions

    func run() async throws {
        if let out {
            try GovernanceIO.run {
                guard let genesisHash, let member else {
                    throw GovernanceError(
                        .missingField, .malformed, "offline approval needs --genesis-hash, --policy and --member")
                }
                let now = try GovernanceIO.now()
                let policy = try ChainOptions.verify(genesisHash: genesisHash, policies: policies, now: now)
                let intent = try Authorization.verify(
                    try SignedIntent(json: try GovernanceIO.readJSON(target)), policy: policy
                ).intent
                GovernanceIO.print(IntentView.describe(intent, policy: policy.policy))
                let signed = try sign(intent, member: member, now: now)
                try GovernanceIO.writeJSON(signed.json, to: out)
                GovernanceIO.print("\(reject ? "rejected" : "approved") intent \(intent.id)")
            }
            return
        }
        try await Online.run {
            let session = try options.load()
            let client = APIClient(session: session)
            let now = try GovernanceIO.now()
            let policy = try await session.verifiedPolicy(client, now: now)
            let reply = try await client.request("GET", client.orgPath("/intents/\(try IntentID(target).value)"))
            let intent = try Authorization.verify(try SignedIntent(json: reply["document"] ?? .null), policy: policy)
                .intent
            guard intent.id.value == target else { throw CLIError("the coordinator answered with another intent") }
            if !options.json { GovernanceIO.print(IntentView.describe(intent, policy: policy.policy)) }
            if !yes {
                guard isatty(0) != 0 else {
                    throw CLIError("not a terminal: pass --yes to \(reject ? "reject" : "approve")")
                }
                FileHandle.standardError.write(Data("\(reject ? "Reject" : "Approve") this transfer? [y/N] ".utf8))
                guard let answer = readLine(), answer.lowercased().hasPrefix("y") else {
                    throw CLIError("not approved")
                }
            }
            let signed = try sign(intent, member: member ?? session.member, now: now)
            let answer = try await client.request(
                "POST", client.orgPath("/intents/\(intent.id.value)/approvals"),
                body: try CanonicalJSON.encode(signed.json),
                idempotencyKey: APIClient.newIdempotencyKey())
            let state = try await client.request("GET", client.orgPath("/intents/\(intent.id.value)"))["intent"]?[
                "state"]
            Online.output(
                .object(["approval": answer["approval"] ?? .null, "state": state ?? .null]), json: options.json
            ) {
                "\(reject ? "rejected" : "approved") intent \(intent.id): now \(state?.string ?? "?")"
            }
        }
    }

    private func sign(_ intent: Intent, member: String, now: Timestamp) throws -> SignedApproval {
        let approval = try Approval(
            json: Approval.document(
                intent: intent.digest, decision: reject ? .reject : .approve, approver: try MemberID(member), time: now)
        )
        let k = try GovernanceIO.loadKey(key)
        return SignedApproval(
            approval: approval,
            signature: MemberSignature(
                member: approval.approver, credential: try CredentialID(credential),
                evidence: try k.sign(digest: approval.digest.bytes)))
    }
}
