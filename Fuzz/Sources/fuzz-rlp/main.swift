// libFuzzer target: the strict RLP decoder (Ethereum Yellow Paper, Appendix B).
//
// Properties checked on every input, beyond "no crash, no hang":
// - anything the decoder accepts is canonical: re-encoding gives back exactly the input;
// - the integer readers agree with the byte strings they read.
import Ethereum
import FuzzSupport

func fuzzRLP(_ input: [UInt8]) {
    let limits = RLP.Limits(maxBytes: 1 << 16, maxDepth: 16, maxItems: 4096)
    guard let item = try? RLP.decode(input, limits: limits) else { return }
    precondition(RLP.encode(item) == input, "accepted a non-canonical encoding")
    if case .bytes(let b) = item, let v = try? item.uint256(field: "fuzz") {
        precondition(v.minimalBigEndianBytes == b, "integer reader disagrees with its bytes")
    }
}

exit(runLibFuzzer(fuzzRLP))
