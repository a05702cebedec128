// libFuzzer target: EIP-2718 transaction decoding (legacy/EIP-155, EIP-2930, EIP-1559), the
// unsigned EIP-1559 form and ERC-20 call data.
//
// Properties checked on every input, beyond "no crash, no hang":
// - a transaction that parses re-serialises to exactly the input (one valid encoding);
// - the invariants of the parsed type hold (priority fee ≤ max fee, gas budget fits 256 bits,
//   low-S signature);
// - sender recovery either succeeds or fails with an error, never traps;
// - ERC-20 transfer call data that decodes re-encodes to the same 68 bytes.
import Ethereum
import FuzzSupport
import WalletCrypto

func fuzzEthereumTransaction(_ input: [UInt8]) {
    if let tx = try? SignedTransaction(bytes: input) {
        precondition(tx.serialized == input, "accepted a transaction that does not re-serialise to itself")
        precondition(tx.computeHash().bytes == Hash.keccak256(input))
        _ = try? tx.recoverSender()
        if case .eip1559(let t) = tx {
            precondition(t.transaction.maxPriorityFeePerGas <= t.transaction.maxFeePerGas)
            precondition((try? t.transaction.gasLimit.cost(at: t.transaction.maxFeePerGas)) != nil)
            precondition(try! EIP1559Transaction(bytes: t.transaction.signingPayload) == t.transaction)
        }
        if let transfer = try? ERC20.Transfer(calldata: tx.data) {
            precondition(transfer.calldata == tx.data)
        }
    }
    if let unsigned = try? EIP1559Transaction(bytes: input) {
        precondition(unsigned.signingPayload == input, "accepted a non-canonical unsigned transaction")
    }
    if let transfer = try? ERC20.Transfer(calldata: input) {
        precondition(transfer.calldata == input, "accepted non-canonical transfer call data")
    }
}

exit(runLibFuzzer(fuzzEthereumTransaction))
