import Bitcoin
public import Governance

/// One asset's balance in a wallet, in the asset's base units (satoshis, wei, token units).
public struct WalletBalance: Sendable, Hashable {
    public let asset: AssetID
    /// Decimal digits, canonical (like every amount in Kura's documents).
    public let amount: String
    /// Bitcoin: the part of `amount` still in the mempool (0 confirmations); `nil` on Ethereum (balances are read
    /// at the latest block).
    public let unconfirmed: String?
}

extension CoordinatorService {
    /// The balances of a wallet, read from its chain source: Bitcoin, the unspent outputs paying the wallet's
    /// receive and change scripts (every handed-out index and the gap limit after it); Ethereum, the account's
    /// ether and each of the policy's ERC-20 assets on that chain.
    public func balances(_ org: OrganizationID, wallet id: WalletID) async throws(CoordinatorError) -> [WalletBalance] {
        let policy = try await currentPolicy(org)
        guard let wallet = policy.policy.wallet(id) else {
            throw CoordinatorError(.notFound, "no wallet '\(id)' in the current policy")
        }
        let assets = policy.policy.assets.filter { $0.chain == wallet.chain }
        do {
            switch wallet.chain {
            case .bitcoin(let network):
                guard let port = chains.bitcoin[network] else {
                    throw CoordinatorError(.unavailable, "no Bitcoin chain source is configured for \(network.name)")
                }
                let receive = try await call { () async throws(StorageError) in
                    try await store.addresses(org, wallet: id, branch: 0)
                }
                let change = try await call { () async throws(StorageError) in
                    try await store.addresses(org, wallet: id, branch: 1)
                }
                let gap = UInt32(configuration.gapLimit)
                let scan = WalletScanRange(
                    receive: 0..<(UInt32(receive.count) + gap), change: 0..<(UInt32(change.count) + gap))
                let scripts = try TransactionPlanner.walletScripts(policy: policy, wallet: id, scan: scan)
                let coins = try await port.unspentOutputs(paying: scripts.map(\.scriptPubKey))
                var total: UInt64 = 0
                var pending: UInt64 = 0
                for coin in coins {
                    total += UInt64(coin.value.sats)
                    if coin.confirmations == 0 { pending += UInt64(coin.value.sats) }
                }
                return assets.filter { $0.contract == nil }.map {
                    WalletBalance(asset: $0.id, amount: String(total), unconfirmed: String(pending))
                }
            case .ethereum(let chainID):
                guard let port = chains.ethereum[chainID] else {
                    throw CoordinatorError(.unavailable, "no Ethereum chain source is configured for chain \(chainID)")
                }
                guard let account = wallet.ethereumAddress else {
                    throw CoordinatorError(.conflict, "wallet \(id) has no account address")
                }
                var out: [WalletBalance] = []
                for asset in assets {
                    if let contract = asset.contract {
                        let units = try await port.tokenBalance(token: contract, owner: account)
                        out.append(WalletBalance(asset: asset.id, amount: units.description, unconfirmed: nil))
                    } else {
                        let wei = try await port.balance(of: account)
                        out.append(WalletBalance(asset: asset.id, amount: wei.amount.description, unconfirmed: nil))
                    }
                }
                return out
            }
        } catch let e as CoordinatorError {
            throw e
        } catch let e as ChainError {
            throw CoordinatorError(.unavailable, "the chain source failed: \(e)")
        } catch let e as PlanningError {
            throw CoordinatorError(.conflict, "cannot derive the wallet's scripts: \(e.reason)")
        } catch {
            throw CoordinatorError(.unavailable, "the chain source failed")
        }
    }
}
