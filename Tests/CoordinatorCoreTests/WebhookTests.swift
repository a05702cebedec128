import CoordinatorCore
import Governance
import Testing

@Suite("Webhook signatures and envelopes")
struct WebhookTests {
    @Test("the signature is HMAC-SHA256 of \"TIME.BODY\" (expected value from Python's hmac module)")
    func signature() {
        let header = WebhookSignature.header(
            secret: Array("whsec-0123456789abcdef0123456789abcdef".utf8), body: Array(#"{"a":1}"#.utf8),
            at: 1_700_000_000)
        #expect(header == "t=1700000000,v1=b6b0679072dd4c8e33f1cd5f8f33fcb4187d5efeee1af983bee320daa0ffbd49")
        // Another time or body, another signature.
        #expect(
            WebhookSignature.header(
                secret: Array("whsec-0123456789abcdef0123456789abcdef".utf8), body: Array(#"{"a":2}"#.utf8),
                at: 1_700_000_000) != header)
    }

    @Test("a delivery carries a fresh id and a canonical envelope naming the organisation and the kind")
    func envelope() throws {
        let org = try OrganizationID("acme")
        let at = try Timestamp(seconds: 1_700_000_000)
        let a = WebhookDelivery.make(organization: org, kind: "deposit.detected", data: ["txid": "ab"], at: at)
        let b = WebhookDelivery.make(organization: org, kind: "deposit.detected", data: ["txid": "ab"], at: at)
        #expect(a.id != b.id && a.id.hasPrefix("wh-") && a.id.utf8.count == 35)
        let parsed = try JSONParser.parse(a.body)
        #expect(try CanonicalJSON.encode(parsed) == a.body)
        #expect(
            parsed["organization"] == "acme" && parsed["kind"] == "deposit.detected" && parsed["id"] == .string(a.id))
        #expect(parsed["data"]?["txid"] == "ab" && parsed["createdAt"] == .number(1_700_000_000))
    }
}
