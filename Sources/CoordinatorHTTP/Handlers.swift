import CoordinatorCore
import Crypto
import Foundation
import Governance
import Hummingbird
import WalletCrypto

extension CoordinatorAPI {
    // MARK: Views (built field by field: large heterogeneous literals are slow to type-check)

    static func view(_ o: OrganizationRecord) -> JSONValue {
        var b = JSONBuilder()
        b["id"] = o.id.value
        b["name"] = o.name
        b["genesis"] = o.genesisHash.description
        b.set("createdAt", o.createdAt.seconds)
        return b.value
    }

    static func view(_ t: TokenRecord) -> JSONValue {
        var b = JSONBuilder()
        b["id"] = t.id
        b["member"] = t.member.value
        b.set("createdAt", t.createdAt.seconds)
        b.set("expiresAt", t.expiresAt.seconds)
        if let r = t.revokedAt { b.set("revokedAt", r.seconds) }
        return b.value
    }

    static func view(_ p: PolicyVersionRecord) -> JSONValue {
        var b = JSONBuilder()
        b.set("version", p.version)
        b["hash"] = p.hash.description
        b.set("storedAt", p.storedAt.seconds)
        if let prev = p.previousHash { b["previous"] = prev.description }
        return b.value
    }

    static func view(_ i: IntentRecord) -> JSONValue {
        var b = JSONBuilder()
        b["id"] = i.id.value
        b["digest"] = i.digest.description
        b["state"] = i.state.rawValue
        b.set("policyVersion", i.policyVersion)
        b["initiator"] = i.initiator.value
        b["wallet"] = i.wallet.value
        b["asset"] = i.asset.value
        b["destination"] = i.destination
        b["amount"] = i.amount.description
        b.set("createdAt", i.createdAt.seconds)
        b.set("expiresAt", i.expiresAt.seconds)
        return b.value
    }

    static func view(_ a: ApprovalRecord) -> JSONValue {
        var b = JSONBuilder()
        b["approver"] = a.approver.value
        b["credential"] = a.credential.value
        b.set("storedAt", a.storedAt.seconds)
        b.set("document", stored(a.document))
        b["documentBase64"] = Data(a.document).base64EncodedString()
        return b.value
    }

    static func view(_ a: AddressRecord) -> JSONValue {
        var b = JSONBuilder()
        b["wallet"] = a.wallet.value
        b.set("index", a.index)
        b["address"] = a.address
        b["label"] = a.label
        b.set("createdAt", a.createdAt.seconds)
        b.set("used", JSONValue.bool(a.used))
        return b.value
    }

    static func view(_ e: AuditEvent) -> JSONValue {
        var b = JSONBuilder()
        b.set("sequence", e.sequence)
        b["kind"] = e.kind
        b["subject"] = e.subject
        b.set("at", e.at.seconds)
        b.set("payload", stored(e.payload))
        b["previousHash"] = e.previousHash.description
        b["hash"] = e.hash.description
        return b.value
    }

    // MARK: Service routes

    func health() async throws -> Response {
        do {
            _ = try await service.store.appliedMigrations()
            return JSONResponse.make(.ok, .object(["status": .string("ok"), "database": .string("ok")]))
        } catch {
            return JSONResponse.make(
                .serviceUnavailable, .object(["status": .string("unavailable"), "database": .string("unavailable")]))
        }
    }

    func metrics() -> Response {
        guard let render = settings.metrics else {
            return RequestMiddleware.errorResponse(CoordinatorError(.notFound, "metrics are off"), requestID: "")
        }
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
            body: .init(byteBuffer: ByteBuffer(bytes: render())))
    }

    // MARK: Organisations and sessions

    func bootstrap(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        guard let expected = settings.bootstrapSecretHash else {
            throw CoordinatorError(.forbidden, "bootstrap is disabled on this coordinator")
        }
        guard let secret = bearer(request) else {
            throw CoordinatorError(.unauthenticated, "bootstrap needs the deployment's bootstrap secret")
        }
        guard constantTimeEquals(HTTPSettings.hashBootstrapSecret(secret), expected) else {
            guard authLimiter.allow(context.peer) else {
                throw CoordinatorError(.rateLimited, "too many failed authentications; slow down")
            }
            throw CoordinatorError(.unauthenticated, "wrong bootstrap secret")
        }
        var r = try Self.parseObject(try await body(request), what: "bootstrap")
        let name: String
        let genesis: [UInt8]
        do {
            name = try r.string("name")
            genesis = try Self.canonicalBytes(try r.value("genesis"))
            try r.finish()
        } catch let e as GovernanceError {
            throw CoordinatorError(.malformed, e.reason)
        }
        let prepared = try await service.prepareBootstrap(name: name, genesis: genesis)
        var failure: CoordinatorError?
        do { try await service.commit(prepared.changes) } catch { failure = error }
        if let failure {
            guard failure.code == .duplicate else { throw failure }
            // Bootstrapping the same genesis again answers as the first time; another genesis is refused.
            let existing = try await service.organization(prepared.value.id)
            guard existing.genesisHash == prepared.value.genesisHash else {
                throw CoordinatorError(.duplicate, "organisation \(prepared.value.id) exists with another genesis")
            }
            return JSONResponse.make(.ok, .object(["organization": Self.view(existing)]))
        }
        return JSONResponse.make(.created, .object(["organization": Self.view(prepared.value)]))
    }

    func getOrganization(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        let p = try await principal(request, context, roles: Self.anyMember, action: "read the organisation")
        let org = try await service.organization(p.organization)
        let policy = try await service.currentPolicy(p.organization)
        var b = JSONBuilder()
        b["id"] = org.id.value
        b["name"] = org.name
        b["genesis"] = org.genesisHash.description
        b.set("createdAt", org.createdAt.seconds)
        b.set("policyVersion", policy.policy.version)
        b["policyHash"] = policy.hash.description
        b["member"] = p.member.value
        b.set("roles", strings: p.roles.map(\.name).sorted())
        return JSONResponse.make(.ok, .object(["organization": b.value]))
    }

    func createSession(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        let s = try await issueSession(request, context)
        var b = JSONBuilder()
        b["token"] = s.token.text
        b["tokenId"] = s.record.id
        b["member"] = s.record.member.value
        b.set("roles", strings: s.roles.map(\.name).sorted())
        b.set("expiresAt", s.record.expiresAt.seconds)
        return JSONResponse.make(.created, b.value)
    }

    /// Verifies the signed session request in the body and stores its token (rate limited per peer).
    func issueSession(_ request: Request, _ context: KuraRequestContext) async throws -> CoordinatorService.Session {
        guard authLimiter.allow(context.peer) else {
            throw CoordinatorError(.rateLimited, "too many session requests; slow down")
        }
        let org = try orgID(context)
        let prepared = try await service.prepareSession(org, request: try await body(request))
        do {
            try await service.commit(prepared.changes)
        } catch {
            // A session request is single-use (its digest is unique): a replay authenticates nobody.
            guard error.code == .duplicate else { throw error }
            throw CoordinatorError(.unauthenticated, "this session request was already used; sign a new one")
        }
        return prepared.value
    }

    func listTokens(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        let p = try await principal(request, context, roles: Self.anyMember, action: "list tokens")
        let all = p.roles.contains(.admin) && request.uri.queryParameters["all"] == "true"
        let tokens = try await service.store.tokens(p.organization, member: all ? nil : p.member)
        return JSONResponse.make(.ok, .object(["tokens": .array(tokens.map { Self.view($0) })]))
    }

    func revokeToken(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        let p = try await principal(request, context, roles: Self.anyMember, action: "revoke tokens")
        guard let id = context.parameters.get("token"), (1...64).contains(id.utf8.count) else {
            throw CoordinatorError(.malformed, "the token id in the path is not valid")
        }
        let prepared = try await service.prepareRevoke(p, tokenID: id)
        try await service.commit(prepared.changes)
        return JSONResponse.make(.ok, .object(["revoked": .string(id)]))
    }

    // MARK: Policies, members, wallets

    func listPolicies(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        let p = try await principal(request, context, roles: Self.anyMember, action: "read policies")
        let versions = try await service.store.policyVersions(p.organization)
        if request.uri.queryParameters["documents"] == "true" {
            return JSONResponse.make(
                .ok, .object(["policies": .array(versions.map { Self.stored($0.document) })]))
        }
        return JSONResponse.make(.ok, .object(["policies": .array(versions.map { Self.view($0) })]))
    }

    func getPolicy(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        let p = try await principal(request, context, roles: Self.anyMember, action: "read policies")
        guard let text = context.parameters.get("version"), let version = Int64(text) else {
            throw CoordinatorError(.malformed, "the policy version in the path is not a number")
        }
        let versions = try await service.store.policyVersions(p.organization)
        guard let record = versions.first(where: { $0.version == version }) else {
            throw CoordinatorError(.notFound, "no policy version \(version)")
        }
        var view = Self.view(record)
        if case .object(var fields) = view {
            fields["document"] = Self.stored(record.document)
            view = .object(fields)
        }
        return JSONResponse.make(.ok, .object(["policy": view]))
    }

    func appendPolicy(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        let p = try await principal(request, context, roles: [.admin], action: "propose policy versions")
        let bytes = try await body(request)
        let idem = try idempotency(request, body: bytes)
        if let earlier = try await replay(idem, principal: p) { return earlier }
        let prepared = try await service.prepareAppendPolicy(p, document: bytes)
        return try await commitCreate(
            idem, principal: p, status: .created, response: .object(["policy": Self.view(prepared.value)]),
            changes: prepared.changes)
    }

    func listMembers(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        let p = try await principal(request, context, roles: Self.anyMember, action: "list members")
        let policy = try await service.currentPolicy(p.organization).policy
        var members: [JSONValue] = []
        for m in policy.members {
            var b = JSONBuilder()
            b["id"] = m.id.value
            b["name"] = m.name
            b.set("roles", strings: m.roles.map(\.name).sorted())
            var credentials: [JSONValue] = []
            for c in m.credentials {
                var cb = JSONBuilder()
                cb["id"] = c.id
                cb["scheme"] = c.scheme.rawValue
                credentials.append(cb.value)
            }
            b.set("credentials", .array(credentials))
            members.append(b.value)
        }
        var out = JSONBuilder()
        out.set("policyVersion", policy.version)
        out.set("members", .array(members))
        return JSONResponse.make(.ok, out.value)
    }

    func listWallets(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        let p = try await principal(request, context, roles: Self.anyMember, action: "list wallets")
        let policy = try await service.currentPolicy(p.organization).policy
        var wallets: [JSONValue] = []
        for w in policy.wallets {
            var b = JSONBuilder()
            b["id"] = w.id.value
            b["chain"] = w.chain.description
            b.set("signers", strings: w.signers.map(\.value))
            if let bp = w.bitcoinPolicy {
                b["template"] = bp.template
                b["descriptor"] = bp.descriptorText
            }
            if let a = w.ethereumAddress { b["address"] = a.description }
            wallets.append(b.value)
        }
        return JSONResponse.make(.ok, .object(["wallets": .array(wallets)]))
    }

    func walletID(_ context: KuraRequestContext) throws(CoordinatorError) -> WalletID {
        guard let text = context.parameters.get("wallet"), let id = try? WalletID(text) else {
            throw CoordinatorError(.malformed, "the wallet id in the path is not valid")
        }
        return id
    }

    func walletBalances(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        let p = try await principal(request, context, roles: Self.anyMember, action: "read balances")
        let wallet = try walletID(context)
        let balances = try await service.balances(p.organization, wallet: wallet)
        var list: [JSONValue] = []
        for balance in balances {
            var b = JSONBuilder()
            b["asset"] = balance.asset.value
            b["amount"] = balance.amount
            b["unconfirmed"] = balance.unconfirmed
            list.append(b.value)
        }
        return JSONResponse.make(.ok, .object(["wallet": .string(wallet.value), "balances": .array(list)]))
    }

    func listAddresses(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        let p = try await principal(request, context, roles: Self.anyMember, action: "list addresses")
        let wallet = try walletID(context)
        let list = try await service.store.addresses(p.organization, wallet: wallet, branch: 0)
        return JSONResponse.make(.ok, .object(["addresses": .array(list.map { Self.view($0) })]))
    }

    func createAddress(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        let p = try await principal(
            request, context, roles: [.admin, .initiator], action: "hand out deposit addresses")
        let wallet = try walletID(context)
        let bytes = try await body(request)
        var label = ""
        if !bytes.isEmpty {
            var r = try Self.parseObject(bytes, what: "address request")
            do {
                label = try r.optionalString("label") ?? ""
                try r.finish()
            } catch { throw CoordinatorError(.malformed, error.reason) }
        }
        let idem = try idempotency(request, body: bytes)
        if let earlier = try await replay(idem, principal: p) { return earlier }
        // A concurrent request may take the same index first: try the next one.
        var retries = 0
        while true {
            let prepared = try await service.prepareAddress(p, wallet: wallet, label: label)
            let outcome = await commitAttempt(
                idem, principal: p, response: .object(["address": Self.view(prepared.value)]), changes: prepared.changes
            )
            switch outcome {
            case .success(let response): return response
            case .failure(let error):
                guard let e = error as? CoordinatorError, e.code == .conflict, retries < 5 else { throw error }
                retries += 1
            }
        }
    }

    private func commitAttempt(
        _ idem: IdempotencyContext, principal: Principal, response: JSONValue, changes: [StoreChange]
    ) async -> Result<Response, any Error> {
        do {
            return .success(
                try await commitCreate(
                    idem, principal: principal, status: .created, response: response, changes: changes))
        } catch {
            return .failure(error)
        }
    }

    // MARK: Intents and approvals

    func intentID(_ context: KuraRequestContext) throws(CoordinatorError) -> IntentID {
        guard let text = context.parameters.get("intent"), let id = try? IntentID(text) else {
            throw CoordinatorError(.malformed, "the intent id in the path is not valid")
        }
        return id
    }

    /// `GET /history?wallet=&kind=deposit|withdrawal&state=&since=&limit=&format=json|csv`.
    func listHistory(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        let p = try await principal(request, context, roles: Self.anyMember, action: "read the history")
        let q = request.uri.queryParameters
        var filter = HistoryFilter()
        if let w = q["wallet"] {
            guard let id = try? WalletID(String(w)) else { throw CoordinatorError(.malformed, "wallet is not an id") }
            filter.wallet = id
        }
        if let k = q["kind"] {
            guard k == "deposit" || k == "withdrawal" else {
                throw CoordinatorError(.malformed, "kind is deposit or withdrawal")
            }
            filter.kind = String(k)
        }
        if let st = q["state"] {
            let known =
                DepositRecord.State.allCases.map(\.rawValue) + IntentLifecycle.State.allCases.map(\.rawValue)
            guard known.contains(String(st)) else {
                throw CoordinatorError(.malformed, "unknown state '\(st.prefix(30))'")
            }
            filter.state = String(st)
        }
        if let since = q["since"] {
            guard let n = Int64(since), let t = try? Timestamp(seconds: n) else {
                throw CoordinatorError(.malformed, "since is a time in seconds since 1970")
            }
            filter.since = t
        }
        if let l = q["limit"] {
            guard let n = Int(l), (1...5000).contains(n) else {
                throw CoordinatorError(.malformed, "limit must be 1 to 5000")
            }
            filter.limit = n
        }
        let format = q["format"].map(String.init) ?? "json"
        guard format == "json" || format == "csv" else { throw CoordinatorError(.malformed, "format is json or csv") }
        let entries = try await service.history(p.organization, filter: filter)
        if format == "csv" {
            var text = CSV.line(HistoryEntry.csvHeader)
            for e in entries { text += CSV.line(e.csvFields) }
            var headers = HTTPFields()
            headers[.contentType] = "text/csv; charset=utf-8"
            headers[.contentDisposition] = "attachment; filename=\"kura-history-\(p.organization).csv\""
            headers[.cacheControl] = "no-store"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        return JSONResponse.make(
            .ok,
            .object([
                "entries": .array(
                    entries.map { e in
                        var b = JSONBuilder()
                        for (name, value) in zip(HistoryEntry.csvHeader, e.csvFields) where !value.isEmpty {
                            b[name] = value
                        }
                        b.set("confirmations", e.confirmations)
                        b.set("at", e.at.seconds)
                        return b.value
                    })
            ]))
    }

    func listIntents(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        let p = try await principal(request, context, roles: Self.anyMember, action: "list intents")
        var state: IntentLifecycle.State?
        if let s = request.uri.queryParameters["state"] {
            guard let parsed = IntentLifecycle.State(rawValue: String(s)) else {
                throw CoordinatorError(.malformed, "unknown state '\(s.prefix(30))'")
            }
            state = parsed
        }
        var limit = 100
        if let l = request.uri.queryParameters["limit"] {
            guard let n = Int(l), (1...1000).contains(n) else {
                throw CoordinatorError(.malformed, "limit must be 1 to 1000")
            }
            limit = n
        }
        let list = try await service.intents(p.organization, state: state, limit: limit)
        return JSONResponse.make(.ok, .object(["intents": .array(list.map { Self.view($0) })]))
    }

    func submitIntent(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        let p = try await principal(request, context, roles: [.initiator], action: "submit intents")
        let bytes = try await body(request)
        let idem = try idempotency(request, body: bytes)
        if let earlier = try await replay(idem, principal: p) { return earlier }
        let prepared = try await service.prepareSubmitIntent(p, document: bytes)
        return try await commitCreate(
            idem, principal: p, status: .created, response: .object(["intent": Self.view(prepared.value)]),
            changes: prepared.changes)
    }

    func getIntent(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        let p = try await principal(request, context, roles: Self.anyMember, action: "read intents")
        let detail = try await service.intentDetail(p.organization, id: try intentID(context))
        var b = JSONBuilder()
        b.set("intent", Self.view(detail.record))
        b.set("document", Self.stored(detail.record.document))
        // The exact bytes the initiator signed: the console decodes the intent from these, never from the summary.
        b["documentBase64"] = Data(detail.record.document).base64EncodedString()
        b.set("approvals", .array(detail.approvals.map { Self.view($0) }))
        b.set("receipts", .array(detail.receipts.map { Self.stored($0.document) }))
        if let bundle = detail.bundle {
            var bb = JSONBuilder()
            bb["digest"] = bundle.digest.description
            bb.set("issuedAt", bundle.issuedAt.seconds)
            b.set("bundle", bb.value)
        }
        return JSONResponse.make(.ok, b.value)
    }

    func submitApproval(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        let p = try await principal(request, context, roles: [.approver], action: "approve intents")
        let id = try intentID(context)
        let bytes = try await body(request)
        let idem = try idempotency(request, body: bytes)
        if let earlier = try await replay(idem, principal: p) { return earlier }
        let prepared = try await service.prepareApproval(p, intent: id, document: bytes)
        let (response, committed) = try await commitCreateReporting(
            idem, principal: p, status: .created, response: .object(["approval": Self.view(prepared.value)]),
            changes: prepared.changes)
        // Whoever commits the last needed approval moves the intent on (safe under concurrency): in the same unit
        // when it saw the quorum, otherwise here, after reading every approval committed so far.
        if !(committed && CoordinatorService.movesOn(prepared.changes)) {
            try await service.advance(p.organization, intent: id, policy: p.policy)
        }
        return response
    }

    // MARK: Transactions, bundles, results

    func buildTransaction(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        let p = try await principal(request, context, roles: Self.operators, action: "build transactions")
        let id = try intentID(context)
        let bytes = try await body(request)
        let idem = try idempotency(request, body: bytes)
        if let earlier = try await replay(idem, principal: p) { return earlier }
        let prepared = try await service.prepareBuild(p, intent: id)
        let built = prepared.value
        var t = JSONBuilder()
        t["chain"] = built.payload.chain
        switch built.payload {
        case .bitcoin(let psbt): t["psbt"] = psbt.base64
        case .ethereum(let unsigned): t["unsigned"] = Hex.encode(unsigned)
        }
        t["id"] = built.transactionID
        t["fee"] = built.fee.description
        t["sha256"] = AuditExport.sha256(built.payload.bytes).description
        var b = JSONBuilder()
        b["intent"] = id.value
        b["state"] = IntentLifecycle.State.built.rawValue
        b.set("transaction", t.value)
        b["bundleSha256"] = built.bundle.digest.description
        return try await commitCreate(
            idem, principal: p, status: .created, response: b.value, changes: prepared.changes)
    }

    func getTransaction(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        let p = try await principal(request, context, roles: Self.anyMember, action: "read transactions")
        let signed = try await service.signedTransaction(p.organization, intent: try intentID(context))
        var b = JSONBuilder()
        b["intent"] = signed.intent.value
        b["chain"] = signed.chain
        b["txid"] = signed.txid
        b["raw"] = Hex.encode(signed.raw)
        b.set("signedAt", signed.signedAt.seconds)
        // The state first, then the follow-up: the two are separate reads, and a unit that moves the state also
        // updates the follow-up, so whoever sees the new state sees that unit's follow-up (or a later one).
        let state = try await service.intent(p.organization, id: signed.intent).state
        if let w = try await service.transactionWatch(p.organization, intent: signed.intent) {
            var f = JSONBuilder()
            f["network"] = w.network
            f.set("attempts", Int64(w.attempts))
            f.set("confirmations", w.confirmations)
            if let h = w.blockHeight { f.set("blockHeight", h) }
            if let e = w.lastError { f["lastError"] = e }
            f.set("done", .bool(w.done))
            f.set("updatedAt", w.updatedAt.seconds)
            b.set("followUp", f.value)
        }
        b["state"] = state.rawValue
        return JSONResponse.make(.ok, b.value)
    }

    func getBundle(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        let p = try await principal(request, context, roles: Self.operators, action: "download signing bundles")
        guard let text = request.uri.queryParameters["signer"], let signer = try? SignerID(String(text)) else {
            throw CoordinatorError(.malformed, "the query must name the signer (?signer=ID)")
        }
        let bytes = try await service.bundle(p, intent: try intentID(context), signer: signer)
        return JSONResponse.make(.ok, bytes: bytes)
    }

    func submitResult(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        let p = try await principal(request, context, roles: Self.operators, action: "upload signed results")
        let id = try intentID(context)
        let bytes = try await body(request)
        let idem = try idempotency(request, body: bytes)
        if let earlier = try await replay(idem, principal: p) { return earlier }
        let prepared = try await service.prepareResult(p, intent: id, body: bytes)
        var r = JSONBuilder()
        r["intent"] = id.value
        r["signer"] = prepared.value.signer.value
        r.set("sequence", prepared.value.sequence)
        let response = try await commitCreate(
            idem, principal: p, status: .created, response: .object(["receipt": r.value]), changes: prepared.changes)
        // Whoever stores the last needed signature finalises (safe under concurrency).
        try await service.finalizeIfComplete(p.organization, intent: id)
        return response
    }

    // MARK: Audit

    func listAudit(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        let p = try await principal(request, context, roles: Self.anyMember, action: "read the audit log")
        var after: Int64 = 0
        if let a = request.uri.queryParameters["after"] {
            guard let n = Int64(a), n >= 0 else { throw CoordinatorError(.malformed, "after must be a sequence") }
            after = n
        }
        var limit = 1000
        if let l = request.uri.queryParameters["limit"] {
            guard let n = Int(l), (1...10_000).contains(n) else {
                throw CoordinatorError(.malformed, "limit must be 1 to 10000")
            }
            limit = n
        }
        let events = try await service.store.auditEvents(p.organization, after: after, limit: limit)
        return JSONResponse.make(.ok, .object(["events": .array(events.map { Self.view($0) })]))
    }

    func exportAudit(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        let p = try await principal(request, context, roles: Self.anyMember, action: "export the audit log")
        let export = try await service.auditExport(p.organization)
        do {
            return JSONResponse.make(.ok, bytes: try export.encoded())
        } catch {
            throw CoordinatorError(.unavailable, "the audit log could not be exported: \(error.reason)")
        }
    }
}
