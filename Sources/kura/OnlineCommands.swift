// Commands that talk to the coordinator. Documents are built and signed here, on the operator's
// machine; what comes back from the server is decoded from its signed bytes and verified against the
// policy chain from the genesis hash pinned at login — never shown from server text.
import ArgumentParser
import Foundation
import Governance
import WalletCrypto

extension Session {
    /// The server's policy chain, verified from the pinned genesis hash.
    func verifiedPolicy(_ client: APIClient, now: Timestamp) async throws -> VerifiedPolicy {
        let reply = try await client.request("GET", client.orgPath("/policies?documents=true"))
        let chain = try reply["policies"]?.array.map { try SignedPolicy(json: $0) } ?? []
        return try PolicyChain.verify(
            chain, trust: PolicyTrust(genesis: try DocumentHash(hex: genesis), highWater: nil), now: now)
    }
}

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign a session request with your key and store the API token the coordinator issues.")
    @Option(help: "The coordinator's URL, e.g. http://127.0.0.1:8080.") var server: String
    @Option(help: "Your organisation id.") var org: String
    @Option(help: "The organisation's genesis policy hash, pinned at onboarding (64 hex digits).")
    var genesisHash: String
    @OptionGroup var signer: MemberSigningOptions
    @Option(help: "The coordinator's audience (default kura-coordinator).") var audience = "kura-coordinator"
    @OptionGroup var options: SessionOptions

    func run() async throws {
        try await Online.run {
            let now = try GovernanceIO.now()
            let request = try SessionRequest(
                json: SessionRequest.document(
                    organization: try OrganizationID(org), member: try MemberID(signer.member), audience: audience,
                    nonce: SecretBytes.random(count: 16).unsafeCopy(), created: now, expires: now.adding(seconds: 300)))
            let signed = SignedSessionRequest(request: request, signature: try signer.sign(request.digest))
            let client = APIClient(server: server, organization: org)
            let reply = try await client.request(
                "POST", client.orgPath("/sessions"), body: try CanonicalJSON.encode(signed.json))
            guard let token = reply["token"]?.string, let expires = reply["expiresAt"]?.int else {
                throw CLIError("the coordinator's answer has no token")
            }
            let session = Session(
                server: server, organization: org, member: signer.member, token: token, expiresAt: expires,
                genesis: try DocumentHash(hex: genesisHash).description)
            // The server must serve the chain of the genesis the operator pinned; if it does not, the token
            // just issued is revoked and nothing is stored.
            let policy: VerifiedPolicy
            do {
                policy = try await session.verifiedPolicy(APIClient(session: session), now: now)
            } catch {
                let c = APIClient(session: session)
                if let id = reply["tokenId"]?.string { _ = try? await c.request("DELETE", c.orgPath("/tokens/\(id)")) }
                throw error
            }
            let path = options.path
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try? FileManager.default.removeItem(atPath: path)
            guard
                FileManager.default.createFile(
                    atPath: path, contents: Data(try CanonicalJSON.encode(session.json) + [0x0a]),
                    attributes: [.posixPermissions: 0o600])
            else { throw CLIError("cannot write the session file \(path)") }
            let roles = reply["roles"]?.array.compactMap(\.string) ?? []
            Online.output(
                .object([
                    "member": .string(signer.member), "organization": .string(org),
                    "roles": .array(roles.map(JSONValue.string)), "expiresAt": .number(Double(expires)),
                    "policyVersion": .number(Double(policy.policy.version)), "session": .string(path),
                ]), json: options.json
            ) {
                "logged in as \(signer.member) (\(roles.joined(separator: ", "))) in \(org), policy version \(policy.policy.version); session in \(path)"
            }
        }
    }
}

struct OrgCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "org", abstract: "Organisations on a coordinator.", subcommands: [Bootstrap.self, Show.self])

    struct Bootstrap: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an organisation on a coordinator from its signed genesis policy.")
        @Option(help: "The coordinator's URL.") var server: String
        @Option(help: "The signed genesis policy file.") var genesis: String
        @Option(help: "The organisation's display name.") var name: String
        @Option(help: "A file holding the coordinator's bootstrap secret.") var bootstrapSecretFile: String
        @Flag(help: "Print JSON instead of text.") var json = false

        func run() async throws {
            try await Online.run {
                guard let data = FileManager.default.contents(atPath: bootstrapSecretFile),
                    let secret = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines)
                else { throw CLIError("cannot read \(bootstrapSecretFile)") }
                let signed = try SignedPolicy(json: try GovernanceIO.readJSON(genesis))
                let client = APIClient(server: server, bearer: secret)
                let body: JSONValue = .object(["name": .string(name), "genesis": signed.json])
                let reply = try await client.request("POST", "/v1/organizations", body: try CanonicalJSON.encode(body))
                Online.output(reply, json: json) {
                    "organisation \(reply["organization"]?["id"]?.string ?? "?") with genesis \(reply["organization"]?["genesis"]?.string ?? "?")"
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the organisation and your roles.")
        @OptionGroup var options: SessionOptions

        func run() async throws {
            try await Online.run {
                let client = try options.client()
                let reply = try await client.request("GET", client.orgPath(""))
                let o = reply["organization"]
                Online.output(reply, json: options.json) {
                    "\(o?["id"]?.string ?? "?") (\(o?["name"]?.string ?? "")): policy version \(o?["policyVersion"]?.int ?? 0), you are \(o?["member"]?.string ?? "?") [\(o?["roles"]?.array.compactMap(\.string).joined(separator: ", ") ?? "")]"
                }
            }
        }
    }
}

extension PolicyCommand {
    struct Push: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a signed policy version (quorum of the current admins) to the coordinator.")
        @Argument var file: String
        @OptionGroup var options: SessionOptions

        func run() async throws {
            try await Online.run {
                let signed = try SignedPolicy(json: try GovernanceIO.readJSON(file))
                let client = try options.client()
                let reply = try await client.request(
                    "POST", client.orgPath("/policies"), body: try CanonicalJSON.encode(signed.json),
                    idempotencyKey: APIClient.newIdempotencyKey())
                Online.output(reply, json: options.json) {
                    "policy version \(reply["policy"]?["version"]?.int ?? 0) stored (\(reply["policy"]?["hash"]?.string ?? ""))"
                }
            }
        }
    }
}

extension IntentCommand {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build an intent from the verified policy, sign it with your key, and submit it.")
        @OptionGroup var transfer: TransferOptions
        @Option(help: "Your key file.") var key: String
        @Option(help: "Your credential id.") var credential: String
        @Option(help: "Also write the signed intent here.") var out: String?
        @OptionGroup var options: SessionOptions

        func run() async throws {
            try await Online.run {
                let session = try options.load()
                let client = APIClient(session: session)
                let now = try GovernanceIO.now()
                let policy = try await session.verifiedPolicy(client, now: now)
                let intent = try transfer.build(policy: policy.policy, initiator: session.member, now: now)
                let signed = SignedIntent(
                    intent: intent,
                    signature: MemberSignature(
                        member: intent.initiator, credential: try CredentialID(credential),
                        evidence: try GovernanceIO.loadKey(key).sign(digest: intent.digest.bytes)))
                if let out { try GovernanceIO.writeJSON(signed.json, to: out) }
                let reply = try await client.request(
                    "POST", client.orgPath("/intents"), body: try CanonicalJSON.encode(signed.json),
                    idempotencyKey: APIClient.newIdempotencyKey())
                Online.output(reply, json: options.json) {
                    IntentView.describe(intent, policy: policy.policy)
                        + "\nsubmitted: \(reply["intent"]?["state"]?.string ?? "?")"
                }
            }
        }
    }

    struct Submit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Submit a signed intent file.")
        @Argument var file: String
        @Option(help: "Idempotency key (retries with the same key are answered once).") var idempotencyKey: String?
        @OptionGroup var options: SessionOptions

        func run() async throws {
            try await Online.run {
                let signed = try SignedIntent(json: try GovernanceIO.readJSON(file))
                let client = try options.client()
                let reply = try await client.request(
                    "POST", client.orgPath("/intents"), body: try CanonicalJSON.encode(signed.json),
                    idempotencyKey: idempotencyKey ?? APIClient.newIdempotencyKey())
                Online.output(reply, json: options.json) {
                    "intent \(reply["intent"]?["id"]?.string ?? "?") \(reply["intent"]?["state"]?.string ?? "?")"
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List intents, newest first.")
        @Option(help: "Only intents in this state.") var state: String?
        @Option(help: "At most this many (1-1000).") var limit = 100
        @OptionGroup var options: SessionOptions

        func run() async throws {
            try await Online.run {
                let client = try options.client()
                var path = client.orgPath("/intents?limit=\(limit)")
                if let state {
                    path += "&state=\(state.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
                }
                let reply = try await client.request("GET", path)
                Online.output(reply, json: options.json) {
                    reply["intents"]?.array.map { i in
                        "\(i["id"]?.string ?? "?")  \(i["state"]?.string ?? "?")  \(i["wallet"]?.string ?? "")  \(i["amount"]?.string ?? "") \(i["asset"]?.string ?? "")  -> \(i["destination"]?.string ?? "")"
                    }.joined(separator: "\n") ?? ""
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fetch an intent and show it decoded from its signed bytes, verified against the policy.")
        @Argument var id: String
        @OptionGroup var options: SessionOptions

        func run() async throws {
            try await Online.run {
                let session = try options.load()
                let client = APIClient(session: session)
                let now = try GovernanceIO.now()
                let policy = try await session.verifiedPolicy(client, now: now)
                let reply = try await client.request("GET", client.orgPath("/intents/\(try IntentID(id).value)"))
                let signed = try SignedIntent(json: reply["document"] ?? .null)
                let intent = try Authorization.verify(signed, policy: policy).intent
                Online.output(reply, json: options.json) {
                    IntentView.describe(intent, policy: policy.policy)
                        + "\nstate       \(reply["intent"]?["state"]?.string ?? "?")"
                        + "\napprovals   \(reply["approvals"]?.array.compactMap { $0["approver"]?.string }.joined(separator: ", ") ?? "")"
                }
            }
        }
    }
}
