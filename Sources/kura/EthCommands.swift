// `kura eth …`: Ethereum commands of the operator CLI. Thin: parsing, checks and hashing live in
// the Ethereum module; this file only renders its results.
import ArgumentParser
import Ethereum
import WalletCrypto

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

struct Eth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eth",
        abstract: "Ethereum: inspect transactions (EIP-2718 envelope, EIP-1559, EIP-2930, legacy/EIP-155).",
        subcommands: [EthDecode.self]
    )
}

struct EthDecode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode and check a signed raw transaction: every field, the sender, the hash and the call.",
        discussion: """
            The transaction is parsed strictly (canonical RLP, exact field counts, low-S signature) and its \
            sender recovered; anything malformed is refused with a named error code and exit status 65.
            """
    )

    /// Exit status for a transaction that does not parse (sysexits EX_DATAERR).
    static let malformed: Int32 = 65

    @Argument(help: "The signed transaction as hex (with or without 0x), or - to read it from standard input.")
    var rawTransaction: String

    @Flag(help: "Machine-readable JSON output (quantities as decimal strings).")
    var json = false

    /// Reads standard input up to the hex length of the largest transaction (and a little
    /// whitespace); anything longer is refused before it is all read.
    static func readStandardInput() throws(EthereumError) -> String {
        let limit = 2 * SignedTransaction.maxSize + 4096
        var bytes = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while bytes.count <= limit {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress, $0.count) }
            if n < 0 { throw EthereumError(.truncated, "could not read standard input") }
            if n == 0 { break }
            bytes += chunk[0..<n]
        }
        guard bytes.count <= limit else {
            throw EthereumError(.resourceLimit, "standard input exceeds \(limit) bytes")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func run() throws {
        let view: TransactionView
        do throws(EthereumError) {
            view = try TransactionView(hex: rawTransaction == "-" ? Self.readStandardInput() : rawTransaction)
        } catch {
            var text = "kura: error: \(error.code.name): \(error.reason)\n"
            _ = text.withUTF8 { Glibc.write(2, $0.baseAddress, $0.count) }
            text = ""
            throw ExitCode(Self.malformed)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(view), as: UTF8.self))
        } else {
            print(view.text)
        }
    }
}

/// What `kura eth decode` shows of a transaction; also its JSON form.
struct TransactionView: Encodable {
    struct Entry: Encodable {
        let address: String
        let storageKeys: [String]
    }
    struct Call: Encodable {
        let function: String
        let standard: String
        let to: String?
        let amount: String?
        /// Why the arguments of a `transfer` do not decode (wrong length, dirty address word).
        let problem: String?
    }

    let type: Int
    let typeName: String
    let chainId: String?
    let nonce: String
    let gasPrice: String?
    let maxPriorityFeePerGas: String?
    let maxFeePerGas: String?
    let gasLimit: String
    let to: String?
    let value: String
    let data: String
    let accessList: [Entry]
    let v: String?
    let yParity: Int
    let r: String
    let s: String
    let sender: String
    let hash: String
    let signingHash: String
    let maximumCost: String?
    let call: Call?

    private enum CodingKeys: String, CodingKey {
        case type, typeName, chainId, nonce, gasPrice, maxPriorityFeePerGas, maxFeePerGas, gasLimit, to, value, data
        case accessList, v, yParity, r, s, sender, hash, signingHash, maximumCost, call
    }

    /// Fields every transaction has are always present (`null` when empty: no chain id, contract
    /// creation, no known call); fields of other types (`gasPrice`, `maxFeePerGas`, `v`) are omitted.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        try c.encode(typeName, forKey: .typeName)
        try c.encode(chainId, forKey: .chainId)
        try c.encode(nonce, forKey: .nonce)
        try c.encodeIfPresent(gasPrice, forKey: .gasPrice)
        try c.encodeIfPresent(maxPriorityFeePerGas, forKey: .maxPriorityFeePerGas)
        try c.encodeIfPresent(maxFeePerGas, forKey: .maxFeePerGas)
        try c.encode(gasLimit, forKey: .gasLimit)
        try c.encode(to, forKey: .to)
        try c.encode(value, forKey: .value)
        try c.encode(data, forKey: .data)
        try c.encode(accessList, forKey: .accessList)
        try c.encodeIfPresent(v, forKey: .v)
        try c.encode(yParity, forKey: .yParity)
        try c.encode(r, forKey: .r)
        try c.encode(s, forKey: .s)
        try c.encode(sender, forKey: .sender)
        try c.encode(hash, forKey: .hash)
        try c.encode(signingHash, forKey: .signingHash)
        try c.encode(maximumCost, forKey: .maximumCost)
        try c.encode(call, forKey: .call)
    }

    init(hex: String) throws(EthereumError) {
        var text = Substring(hex).drop { $0.isWhitespace }
        while text.last?.isWhitespace == true { text.removeLast() }
        if text.hasPrefix("0x") { text.removeFirst(2) }
        let bytes: [UInt8]
        do throws(WalletCryptoError) {
            bytes = try Hex.decode(String(text), maxBytes: SignedTransaction.maxSize)
        } catch {
            // Not hex, or longer than a transaction can be: keep the key layer's code name.
            throw EthereumError(
                error.code == .invalidLength ? .resourceLimit : EthereumError.Code(error.code.name), error.reason)
        }
        let tx = try SignedTransaction(bytes: bytes)
        sender = try tx.recoverSender().checksummed
        type = Int(tx.type.rawValue)
        typeName = tx.type.name
        chainId = tx.chainID.map { String($0.value) }
        nonce = String(tx.nonce.value)
        gasLimit = tx.gasLimit.units.decimalString
        to = tx.to?.checksummed
        value = tx.value.amount.decimalString
        data = "0x" + Hex.encode(tx.data)
        accessList = tx.accessList.entries.map {
            Entry(address: $0.address.checksummed, storageKeys: $0.storageKeys.map(\.description))
        }
        yParity = Int(tx.signature.yParity)
        r = tx.signature.r.hexQuantity
        s = tx.signature.s.hexQuantity
        hash = tx.computeHash().description
        signingHash = "0x" + Hex.encode(tx.computeSigningHash())
        let price: WeiPerGas
        switch tx {
        case .legacy(let t):
            gasPrice = t.gasPrice.amount.decimalString
            maxPriorityFeePerGas = nil
            maxFeePerGas = nil
            v = t.v.decimalString
            price = t.gasPrice
        case .eip2930(let t):
            gasPrice = t.gasPrice.amount.decimalString
            maxPriorityFeePerGas = nil
            maxFeePerGas = nil
            v = nil
            price = t.gasPrice
        case .eip1559(let t):
            gasPrice = nil
            maxPriorityFeePerGas = t.transaction.maxPriorityFeePerGas.amount.decimalString
            maxFeePerGas = t.transaction.maxFeePerGas.amount.decimalString
            v = nil
            price = t.transaction.maxFeePerGas
        }
        maximumCost = (try? tx.value.adding(tx.gasLimit.cost(at: price)))?.amount.decimalString
        if let known = KnownFunction.identify(calldata: tx.data) {
            var transfer: ERC20.Transfer? = nil
            var problem: String? = nil
            if known == .transfer {
                do throws(EthereumError) { transfer = try ERC20.Transfer(calldata: tx.data) } catch {
                    problem = error.description
                }
            }
            call = Call(
                function: known.signature, standard: known.standard, to: transfer?.to.checksummed,
                amount: transfer?.amount.description, problem: problem)
        } else {
            call = nil
        }
    }

    /// The readable form: one field per line, quantities in wei with ether/gwei beside them.
    var text: String {
        func wei(_ decimal: String) -> String {
            let amount = Wei(try! UInt256(decimal: decimal))
            return "\(decimal) wei (\(amount.etherString) ETH)"
        }
        func gwei(_ decimal: String) -> String {
            "\(decimal) wei/gas (\(WeiPerGas(try! UInt256(decimal: decimal)).gweiString) gwei)"
        }
        var lines: [(String, String)] = [("type", "0x" + Hex.encode([UInt8(type)]) + " (\(typeName))")]
        lines.append(("chain id", chainId ?? "none (no EIP-155 replay protection)"))
        lines.append(("nonce", nonce))
        if let gasPrice { lines.append(("gas price", gwei(gasPrice))) }
        if let maxPriorityFeePerGas { lines.append(("max priority fee", gwei(maxPriorityFeePerGas))) }
        if let maxFeePerGas { lines.append(("max fee", gwei(maxFeePerGas))) }
        lines.append(("gas limit", gasLimit))
        lines.append(("to", to ?? "none (contract creation)"))
        lines.append(("value", wei(value)))
        lines.append(("data", data == "0x" ? "none" : "\((data.count - 2) / 2) bytes \(data)"))
        if let call {
            var described = "\(call.function) [\(call.standard)]"
            if let to = call.to, let amount = call.amount { described += " to \(to), amount \(amount) base units" }
            if let problem = call.problem { described += " — arguments do not decode: \(problem)" }
            lines.append(("call", described))
        }
        lines.append(("access list", accessList.isEmpty ? "empty" : "\(accessList.count) entries"))
        for (i, e) in accessList.enumerated() {
            lines.append(("  [\(i)]", "\(e.address) (\(e.storageKeys.count) storage keys)"))
        }
        lines.append(("maximum cost", maximumCost.map(wei) ?? "exceeds 2^256 - 1 wei"))
        if let v { lines.append(("v", v)) }
        lines.append(("y parity", String(yParity)))
        lines.append(("r", r))
        lines.append(("s", s))
        lines.append(("sender", sender))
        lines.append(("hash", hash))
        let width = lines.map(\.0.count).max() ?? 0
        return lines.map { $0.0 + ":" + String(repeating: " ", count: width - $0.0.count + 1) + $0.1 }
            .joined(separator: "\n")
    }
}
