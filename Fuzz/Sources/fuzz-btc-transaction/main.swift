// libFuzzer target: the strict Bitcoin transaction decoder (BIP-0141/0144 serialisation).
//
// Properties checked on every input, beyond "no crash, no hang":
// - anything the decoder accepts is canonical: re-serialising gives back exactly the input;
// - ids, weight and output sums can be computed for anything accepted.
import Bitcoin
import FuzzSupport

func fuzzTransaction(_ input: [UInt8]) {
    guard let tx = try? Transaction(bytes: input) else { return }
    precondition(tx.serialized == input, "accepted a non-canonical transaction encoding")
    _ = tx.computeTxid()
    _ = tx.weight
    precondition((try? tx.totalOutput()) != nil, "accepted outputs summing past 21M BTC")
    if let legacy = try? Transaction(bytes: input, allowWitness: false) {
        precondition(!legacy.hasWitness, "legacy decoding produced witnesses")
    }
}

exit(runLibFuzzer(fuzzTransaction))
