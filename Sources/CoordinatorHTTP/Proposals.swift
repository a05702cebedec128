import CoordinatorCore
import Foundation
import Governance
import Hummingbird

extension CoordinatorAPI {
    static func view(_ r: PolicyProposalRecord, head: Int64) -> JSONValue {
        var b = JSONBuilder()
        b["id"] = r.id
        b.set("version", r.version)
        // An open proposal that no longer follows the newest version can never apply.
        b["state"] = r.state == .open && r.version <= head ? "superseded" : r.state.rawValue
        b["proposer"] = r.proposer.value
        b.set("required", r.required)
        b.set("signatureCount", r.signatureCount)
        b.set("signatures", stored(r.signatures))
        b.set("document", stored(r.document))
        // The exact bytes whose hash admins sign (canonical JSON of the document).
        b["documentBase64"] = Data(r.document).base64EncodedString()
        b.set("createdAt", r.createdAt.seconds)
        b.set("updatedAt", r.updatedAt.seconds)
        return b.value
    }

    func proposalID(_ context: KuraRequestContext) throws(CoordinatorError) -> String {
        guard let id = context.parameters.get("proposal"), id.utf8.count == 64,
            id.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
        else { throw CoordinatorError(.malformed, "the proposal id in the path is not a 64-digit lowercase hex hash") }
        return id
    }

    func headVersion(_ org: OrganizationID) async throws -> Int64 {
        try await service.store.policyHead(org)?.version ?? 0
    }

    func listProposals(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        let p = try await principal(request, context, roles: Self.anyMember, action: "read proposals")
        let list = try await service.store.proposals(p.organization, limit: 200)
        let head = try await headVersion(p.organization)
        return JSONResponse.make(.ok, .object(["proposals": .array(list.map { Self.view($0, head: head) })]))
    }

    func getProposal(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        let p = try await principal(request, context, roles: Self.anyMember, action: "read proposals")
        let id = try proposalID(context)
        guard let r = try await service.store.proposal(p.organization, id: id) else {
            throw CoordinatorError(.notFound, "no proposal '\(id)'")
        }
        return JSONResponse.make(.ok, .object(["proposal": Self.view(r, head: try await headVersion(p.organization))]))
    }

    func createProposal(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        let p = try await principal(request, context, roles: [.admin], action: "propose policy versions")
        let bytes = try await body(request)
        let idem = try idempotency(request, body: bytes)
        if let earlier = try await replay(idem, principal: p) { return earlier }
        let prepared = try await service.prepareProposal(p, document: bytes)
        let head = prepared.value.state == .applied ? prepared.value.version : prepared.value.version - 1
        return try await commitCreate(
            idem, principal: p, status: .created,
            response: .object(["proposal": Self.view(prepared.value, head: head)]),
            changes: prepared.changes)
    }

    func signProposal(_ request: Request, _ context: KuraRequestContext) async throws -> Response {
        let p = try await principal(request, context, roles: [.admin], action: "sign policy proposals")
        let id = try proposalID(context)
        let bytes = try await body(request)
        let idem = try idempotency(request, body: bytes)
        if let earlier = try await replay(idem, principal: p) { return earlier }
        let prepared = try await service.prepareProposalSignature(p, proposal: id, signature: bytes)
        let head = prepared.value.state == .applied ? prepared.value.version : prepared.value.version - 1
        return try await commitCreate(
            idem, principal: p, status: .ok, response: .object(["proposal": Self.view(prepared.value, head: head)]),
            changes: prepared.changes)
    }
}
