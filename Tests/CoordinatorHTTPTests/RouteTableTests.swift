import CoordinatorHTTP
import CoordinatorServer
import Foundation
import Governance
import Hummingbird
import Testing

@Suite("The API's route table and its OpenAPI document")
struct RouteTableTests {
    func documentedOperations() throws -> Set<String> {
        let doc = try #require(
            try JSONSerialization.jsonObject(with: Data(CoordinatorServer.openAPIDocument())) as? [String: Any])
        let paths = try #require(doc["paths"] as? [String: [String: Any]])
        var out = Set<String>()
        for (path, methods) in paths {
            for method in methods.keys { out.insert("\(method.uppercased()) \(path)") }
        }
        return out
    }

    @Test("every route is documented and every documented operation is a route")
    func routesMatchTheDocument() throws {
        let routes = Set(CoordinatorAPI.routes.map { "\($0.method.rawValue) \($0.path)" })
        #expect(routes.count == CoordinatorAPI.routes.count, "a route is listed twice")
        let documented = try documentedOperations()
        #expect(routes.subtracting(documented).isEmpty, "undocumented: \(routes.subtracting(documented))")
        #expect(documented.subtracting(routes).isEmpty, "documented, not routed: \(documented.subtracting(routes))")
    }

    @Test("every create takes an Idempotency-Key in the document, except bootstrap and sessions")
    func createsDocumentIdempotency() throws {
        let doc = try #require(
            try JSONSerialization.jsonObject(with: Data(CoordinatorServer.openAPIDocument())) as? [String: Any])
        let paths = try #require(doc["paths"] as? [String: [String: [String: Any]]])
        for route in CoordinatorAPI.routes where route.creates {
            let op = try #require(paths[route.path]?[route.method.rawValue.lowercased()])
            let params = (op["parameters"] as? [[String: Any]] ?? []).compactMap { $0["$ref"] as? String }
            let takesKey = params.contains("#/components/parameters/IdempotencyKey")
            let exempt = route.access == .bootstrap || route.access == .sessionRequest
            #expect(takesKey != exempt, "\(route.method.rawValue) \(route.path)")
        }
    }

    @Test("mutations are authenticated: only health, metrics, the document and the console's config are open")
    func mutationsNeedCredentials() {
        for route in CoordinatorAPI.routes where route.access == .open {
            #expect(route.method == .get, "\(route.path) is open")
        }
        #expect(
            CoordinatorAPI.routes.filter { $0.access == .open }.map(\.path).sorted() == [
                "/health", "/metrics", "/openapi.json", "/v1/console/config",
            ])
    }
}
