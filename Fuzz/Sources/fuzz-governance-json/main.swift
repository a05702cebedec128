// libFuzzer target: the strict governance JSON parser (JSONParser) and the RFC 8785 encoder
// (CanonicalJSON), which the signer runs on documents that may come from an attacker.
//
// Properties checked on every input, beyond "no crash, no hang, bounded memory":
// - anything parsed under the document policy (.integersOnly) canonicalises; the canonical bytes
//   parse again to the same value, canonicalising twice gives the same bytes, and they are never
//   longer than the input (canonicalisation only removes whitespace and escapes);
// - the general policy (.any) accepts everything the document policy accepts, with the same value,
//   and whatever it accepts also canonicalises to a fixed point.
import FuzzSupport
import Governance

let limits = JSONParser.Limits(maxBytes: 1 << 16)
let roomy = JSONParser.Limits(maxBytes: 1 << 20)

func fuzzGovernanceJSON(_ input: [UInt8]) {
    let strict = try? JSONParser.parse(input, limits: limits, numbers: .integersOnly)
    let general = try? JSONParser.parse(input, limits: limits, numbers: .any)
    if let value = strict {
        precondition(general == value, "the general policy disagrees with the document policy")
        guard let canonical = try? CanonicalJSON.encode(value) else {
            preconditionFailure("a parsed document did not canonicalise")
        }
        precondition(canonical.count <= input.count, "canonical form longer than the input")
        guard let again = try? JSONParser.parse(canonical, limits: limits, numbers: .integersOnly) else {
            preconditionFailure("the canonical form does not parse")
        }
        precondition(again == value, "the canonical form parses to another value")
        precondition((try? CanonicalJSON.encode(again)) == canonical, "canonicalising twice is not stable")
    }
    if let value = general {
        guard let canonical = try? CanonicalJSON.encode(value) else {
            preconditionFailure("a parsed document did not canonicalise")
        }
        guard let again = try? JSONParser.parse(canonical, limits: roomy, numbers: .any) else {
            preconditionFailure("the canonical form does not parse")
        }
        precondition(again == value, "the canonical form parses to another value")
        precondition((try? CanonicalJSON.encode(again)) == canonical, "canonicalising twice is not stable")
    }
}

exit(runLibFuzzer(fuzzGovernanceJSON))
