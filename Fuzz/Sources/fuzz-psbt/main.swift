// libFuzzer target: the strict PSBT decoder (BIP-0174 v0, BIP-0370 v2, BIP-0371 taproot fields).
//
// Properties checked on every input, beyond "no crash, no hang":
// - serialisation is canonical and stable: decode(serialise(p)) == p, and serialising again gives
//   the same bytes;
// - the unsigned transaction, locktime and fee computations never crash on anything accepted.
import Bitcoin
import FuzzSupport

func fuzzPSBT(_ input: [UInt8]) {
    guard let psbt = try? PSBT(bytes: input) else { return }
    let once = psbt.serialized
    guard let again = try? PSBT(bytes: once) else { preconditionFailure("could not re-read its own serialisation") }
    precondition(again == psbt, "serialisation lost or changed a field")
    precondition(again.serialized == once, "serialisation is not stable")
    _ = try? psbt.unsignedTx()
    _ = try? psbt.fee()
    _ = try? psbt.computedLockTime()
    for i in psbt.inputs.indices { _ = try? psbt.spentOutput(i) }
}

exit(runLibFuzzer(fuzzPSBT))
