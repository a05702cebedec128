// The JSON form in which tests hand kura-devtool an EIP-1559 transaction to build and sign.
// Quantities are canonical decimal strings (never JSON numbers, which lose precision past 2^53).
import Ethereum
import Foundation
import WalletCrypto

/// One transaction to build: every EIP-1559 field, or an ERC-20 transfer in place of `data`.
///
///     {"chainId": "1", "nonce": "0", "maxPriorityFeePerGas": "1000000000", "maxFeePerGas": "30000000000",
///      "gasLimit": "21000", "to": "0x…", "value": "1", "data": "0x", "accessList": [],
///      "erc20Transfer": {"to": "0x…", "amount": "5"}, "account": 3}
///
/// `to` absent or null creates a contract; `account` picks m/44'/60'/0'/0/account when signing
/// with a mnemonic. Unknown keys are refused, so a typo cannot silently become a default.
struct EthTransactionRequest: Decodable {
    struct AccessEntry: Decodable {
        let address: String
        let storageKeys: [String]
    }
    struct TokenTransfer: Decodable {
        let to: String
        let amount: String
    }

    let chainId: String
    let nonce: String
    let maxPriorityFeePerGas: String
    let maxFeePerGas: String
    let gasLimit: String
    let to: String?
    let value: String
    let data: String?
    let accessList: [AccessEntry]?
    let erc20Transfer: TokenTransfer?
    let account: UInt32?

    private enum Keys: String, CodingKey, CaseIterable {
        case chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gasLimit, to, value, data, accessList
        case erc20Transfer, account
    }

    private struct AnyKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let all = try decoder.container(keyedBy: AnyKey.self)
        let known = Set(Keys.allCases.map(\.rawValue))
        if let unknown = all.allKeys.first(where: { !known.contains($0.stringValue) }) {
            throw EthereumError(.invalidField, "unknown transaction field \"\(unknown.stringValue)\"")
        }
        let c = try decoder.container(keyedBy: Keys.self)
        chainId = try c.decode(String.self, forKey: .chainId)
        nonce = try c.decode(String.self, forKey: .nonce)
        maxPriorityFeePerGas = try c.decode(String.self, forKey: .maxPriorityFeePerGas)
        maxFeePerGas = try c.decode(String.self, forKey: .maxFeePerGas)
        gasLimit = try c.decode(String.self, forKey: .gasLimit)
        to = try c.decodeIfPresent(String.self, forKey: .to)
        value = try c.decode(String.self, forKey: .value)
        data = try c.decodeIfPresent(String.self, forKey: .data)
        accessList = try c.decodeIfPresent([AccessEntry].self, forKey: .accessList)
        erc20Transfer = try c.decodeIfPresent(TokenTransfer.self, forKey: .erc20Transfer)
        account = try c.decodeIfPresent(UInt32.self, forKey: .account)
    }

    static func parse(_ json: [UInt8]) throws -> EthTransactionRequest {
        try JSONDecoder().decode(EthTransactionRequest.self, from: Data(json))
    }

    private static func uint64(_ text: String, _ field: String) throws(EthereumError) -> UInt64 {
        guard let v = try UInt256(decimal: text).exactUInt64 else {
            throw EthereumError(.integerOverflow, "\(field) \(text) exceeds 2^64 - 1")
        }
        return v
    }

    private static func bytes(_ text: String, _ field: String) throws(EthereumError) -> [UInt8] {
        guard text.hasPrefix("0x") else { throw EthereumError(.invalidField, "\(field) must start with 0x") }
        do throws(WalletCryptoError) {
            return try Hex.decode(String(text.dropFirst(2)), maxBytes: SignedTransaction.maxSize)
        } catch {
            throw EthereumError(.invalidField, "\(field): \(error.reason)")
        }
    }

    /// Builds the transaction (the Ethereum module checks every invariant).
    func transaction() throws(EthereumError) -> EIP1559Transaction {
        var calldata = try data.map { (d: String) throws(EthereumError) in try Self.bytes(d, "data") } ?? []
        if let erc20Transfer {
            guard calldata.isEmpty else {
                throw EthereumError(.invalidField, "give either data or erc20Transfer, not both")
            }
            calldata =
                ERC20.Transfer(
                    to: try EthereumAddress(parsing: erc20Transfer.to),
                    amount: TokenAmount(try UInt256(decimal: erc20Transfer.amount))
                ).calldata
        }
        var entries = [AccessList.Entry]()
        for e in accessList ?? [] {
            var keys = [StorageKey]()
            for k in e.storageKeys { keys.append(try StorageKey(bytes: Self.bytes(k, "storageKeys"))) }
            entries.append(AccessList.Entry(address: try EthereumAddress(parsing: e.address), storageKeys: keys))
        }
        return try EIP1559Transaction(
            chainID: ChainID(Self.uint64(chainId, "chainId")),
            nonce: Nonce(Self.uint64(nonce, "nonce")),
            maxPriorityFeePerGas: WeiPerGas(UInt256(decimal: maxPriorityFeePerGas)),
            maxFeePerGas: WeiPerGas(UInt256(decimal: maxFeePerGas)),
            gasLimit: Gas(UInt256(decimal: gasLimit)),
            to: to.map { (t: String) throws(EthereumError) in try EthereumAddress(parsing: t) },
            value: Wei(UInt256(decimal: value)),
            data: calldata,
            accessList: AccessList(entries))
    }
}
