// kura-bench OP ITERATIONS: runs one operation ITERATIONS times after a warm-up and prints
// {"op": ..., "iterations": ..., "seconds": ..., "ops_per_second": ...}. Driven by compare.py,
// which interleaves it with the same operations in BDK, embit and coincurve.
// kura-bench signer-bundle BUNDLE HOME PASSFILE ITERATIONS: the cold signer's review and sign
// (SignerOps.swift), driven by signer_compare.py.
import Bitcoin
import Ethereum
import Foundation
import WalletCrypto

@inline(never) func blackHole<T>(_ x: T) { withExtendedLifetime(x) {} }

let args = CommandLine.arguments
if args.count == 3 && args[1] == "emit" {
    guard let text = BitcoinBench.emit(args[2]) else {
        FileHandle.standardError.write(Data("unknown fixture \(args[2])\n".utf8))
        exit(64)
    }
    print(text)
    exit(0)
}
if args.count == 6 && args[1] == "signer-bundle", let n = Int(args[5]), n > 0 {
    do {
        print(try SignerBench.run(bundlePath: args[2], homePath: args[3], passfile: args[4], iterations: n))
        exit(0)
    } catch {
        FileHandle.standardError.write(Data("kura-bench signer-bundle: \(error)\n".utf8))
        exit(1)
    }
}
guard args.count == 3, let iterations = Int(args[2]), iterations > 0 else {
    FileHandle.standardError.write(Data("usage: kura-bench OP ITERATIONS\n".utf8))
    exit(64)
}
let op = args[1]

// Fixed inputs shared with compare.py: the BIP-0084 account key of the BIP-0039 test mnemonic,
// private key 0x01…01, 32-byte messages derived from the loop index.
let accountXpub = try ExtendedPublicKey(
    parsing:
        "xpub6CatWdiZiodmUeTDp8LT5or8nmbKNcuyvz7WyksVFkKB4RHwCD3XyuvPEbvqAQY3rAPshWcMLoP2fMFMKHPJ4ZeZXYVUhLv1VMrjPC7PW6V"
)
let chain = try accountXpub.derive(.normal(0))
let key = try PrivateKey(bytes: [UInt8](repeating: 1, count: 32))
let keypair = try Keypair(key)
let aux = [UInt8](repeating: 2, count: 32)
let messages = (0..<256).map { Hash.sha256([UInt8($0)]) }

// Ethereum (shared with eth_compare.py): an EIP-1559 ERC-20 transfer on chain 1 whose nonce is the
// loop index, signed with the same private key 0x01…01.
let ethRecipient = try EthereumAddress(parsing: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
let ethToken = try EthereumAddress(parsing: "0xdAC17F958D2ee523a2206206994597C13D831ec7")
func ethTransaction(_ i: Int) throws -> EIP1559Transaction {
    try EIP1559Transaction(
        chainID: .mainnet, nonce: Nonce(UInt64(i)), maxPriorityFeePerGas: WeiPerGas(UInt256(1_000_000_000)),
        maxFeePerGas: WeiPerGas(UInt256(30_000_000_000)), gasLimit: Gas(65_000), to: ethToken, value: .zero,
        data: ERC20.Transfer(to: ethRecipient, amount: TokenAmount(UInt256(UInt64(1_000_000 + i)))).calldata)
}
let ethSigned = op == "eth-recover" ? try (0..<256).map { try ethTransaction($0).sign(with: key).serialized } : []
let ethRecoverable = op == "eth-recover-raw" ? try messages.map { try key.signRecoverable(digest: $0) } : []

func body(_ i: Int) throws {
    switch op {
    case "bip32-ckdpub":
        blackHole(try chain.derive(.normal(UInt32(i & 0x7fff_ffff))).publicKey)
    case "bip84-address":
        blackHole(Address.p2wpkh(try chain.derive(.normal(UInt32(i & 0x7fff_ffff))).publicKey, network: .mainnet).text)
    case "ecdsa-sign":
        blackHole(try key.signECDSA(digest: messages[i & 255], grindLowR: false).der)
    case "ecdsa-sign-lowr":
        blackHole(try key.signECDSA(digest: messages[i & 255]).der)
    case "schnorr-sign":
        blackHole(try key.signSchnorr(message: messages[i & 255], auxRand: aux).bytes)
    case "schnorr-sign-keypair":
        blackHole(try keypair.signSchnorr(message: messages[i & 255], auxRand: aux).bytes)
    case "eth-sign":
        // Build, RLP-encode, Keccak-256 and sign (RFC 6979, low-S) an EIP-1559 transaction.
        blackHole(try ethTransaction(i).sign(with: key).serialized)
    case "eth-recover":
        // Strictly parse a signed EIP-1559 transaction and recover its sender's address.
        blackHole(try SignedTransaction(bytes: ethSigned[i & 255]).recoverSender())
    case "eth-sign-raw":
        // The key layer alone: recoverable ECDSA over a precomputed digest (no RLP, no Keccak).
        blackHole(try key.signRecoverable(digest: messages[i & 255]))
    case "eth-recover-raw":
        // The key layer alone: public-key recovery from a precomputed digest and signature.
        blackHole(try ethRecoverable[i & 255].recover(digest: messages[i & 255]))
    case "secp-tweak-add":
        blackHole(try chain.publicKey.tweakAdd(messages[i & 255]))
    case "hmac-sha512":
        blackHole(Hash.hmacSHA512(key: messages[0], messages[i & 255] + [0]))
    default:
        if try BitcoinBench.run(op, i) { return }
        FileHandle.standardError.write(Data("unknown op \(op)\n".utf8))
        exit(64)
    }
}

/// CPU time of this thread, in seconds: unlike wall time, it does not count the time other
/// processes on a shared machine take from us.
func threadCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

for i in 0..<min(iterations, 1000) { try body(i) }
let start = DispatchTime.now().uptimeNanoseconds
let cpuStart = threadCPUSeconds()
for i in 0..<iterations { try body(i) }
let cpuSeconds = threadCPUSeconds() - cpuStart
let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
print(
    "{\"op\": \"\(op)\", \"iterations\": \(iterations), \"seconds\": \(seconds), \"ops_per_second\": \(Double(iterations) / seconds), \"cpu_seconds\": \(cpuSeconds), \"cpu_ops_per_second\": \(Double(iterations) / cpuSeconds)}"
)
