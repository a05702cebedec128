public import Ethereum
public import Governance
public import WalletCrypto

/// What the signer will sign for an Ethereum intent, after every check passed.
public struct EthereumPlan: Sendable {
    public let transaction: EIP1559Transaction
    public let account: EthereumAddress
    public let nonce: UInt64
    /// `gasLimit × maxFeePerGas`.
    public let maxFee: Wei
    /// The ERC-20 contract for token transfers.
    public let token: EthereumAddress?
}

/// The Ethereum half of ATTACKS C4, C8, C9, C10: type 0x02 only (no EIP-191/EIP-712 message is
/// ever signed), the chain id of the wallet, a call from the whitelist (a payment or an ERC-20
/// `transfer`), the recipient, value and decoded call data equal to the intent, the token from
/// the signed registry, no access list, no contract creation, gas caps and their product within
/// both caps, and the account nonce exactly one above the signer's own high-water mark.
public enum EthereumChecks {
    static func refuse(_ c: RefusalCategory, _ r: String) -> Refusal { Refusal(c, r) }

    /// Checks the EIP-2718 signing payload `unsigned` (type byte ‖ RLP body) against the intent.
    /// `signedNonce` is the highest nonce this signer ever signed for the wallet's account.
    public static func check(
        unsigned: [UInt8], intent: Intent, policy: Policy, wallet: Policy.Wallet, master: ExtendedPrivateKey,
        signedNonce: UInt64?
    ) -> Result<EthereumPlan, Refusal> {
        guard case .ethereum(let chainID) = wallet.chain, let account = wallet.ethereumAddress,
            let path = wallet.ethereumPath
        else {
            return .failure(refuse(.chainMismatch, "wallet \(wallet.id) is not an Ethereum wallet"))
        }
        // K02: the keystore must hold the policy's account.
        guard let key = try? master.derive(path).privateKey, EthereumAddress(publicKey: key.publicKey) == account else {
            return .failure(refuse(.walletMismatch, "the keystore does not derive \(account.checksummed) at \(path)"))
        }
        let tx: EIP1559Transaction
        switch parse(unsigned) {
        case .success(let t): tx = t
        case .failure(let r): return .failure(r)
        }
        guard tx.chainID == chainID else {
            return .failure(
                refuse(.chainMismatch, "chain id \(tx.chainID.value); wallet \(wallet.id) is on chain \(chainID.value)")
            )
        }
        // C9: what the transaction does is read from its bytes alone, before it is compared with
        // what the intent asks for; anything but a payment or an ERC-20 transfer is refused.
        let call: Call
        switch classify(tx) {
        case .success(let c): call = c
        case .failure(let r): return .failure(r)
        }
        guard tx.accessList.isEmpty else {
            return .failure(
                refuse(.fieldForbidden, "the access list is not empty (\(tx.accessList.entries.count) entries)"))
        }
        guard let asset = policy.asset(intent.asset), asset.chain == wallet.chain else {
            return .failure(refuse(.assetUnknown, "asset \(intent.asset) is not on chain \(chainID.value)"))
        }
        let destination: EthereumAddress
        do { destination = try EthereumAddress(parsing: intent.destinationAddress) } catch {
            return .failure(refuse(.intentMismatch, "the intent's destination is not an address"))
        }
        switch (asset.contract, call) {
        case (nil, .payment(let to)):
            guard to == destination else {
                return .failure(refuse(.intentMismatch, "recipient \(to.checksummed) is not the intent's destination"))
            }
            guard tx.value.amount == intent.amount.value else {
                return .failure(
                    refuse(.intentMismatch, "value \(tx.value.amount) wei is not the intent's \(intent.amount)"))
            }
        case (nil, .tokenTransfer):
            return .failure(refuse(.callForbidden, "an ether transfer with call data is a contract call"))
        case (let contract?, .payment):
            return .failure(
                refuse(
                    .intentMismatch,
                    "a \(asset.symbol) transfer needs transfer call data to \(contract.checksummed); this is a plain payment"
                ))
        case (let contract?, .tokenTransfer(let to, let transfer)):
            guard to == contract else {
                return .failure(
                    refuse(
                        .assetUnknown,
                        "call to \(to.checksummed), not the registry's \(asset.symbol) contract \(contract.checksummed)"
                    ))
            }
            guard tx.value.amount.isZero else {
                return .failure(refuse(.intentMismatch, "a token transfer carries \(tx.value.amount) wei"))
            }
            guard transfer.to == destination else {
                return .failure(
                    refuse(.intentMismatch, "transfer recipient is \(transfer.to.checksummed), not the intent's"))
            }
            guard transfer.amount.baseUnits == intent.amount.value else {
                return .failure(
                    refuse(.intentMismatch, "transfer amount \(transfer.amount) is not the intent's \(intent.amount)"))
            }
        }
        // Gas caps (C8, E11): each field within both caps, and the budget gasLimit × maxFeePerGas.
        guard case .ethereum(let iFee, let iPrio, let iGas, let iTotal) = intent.feeCap,
            let rule = policy.transferRule(wallet: wallet.id, asset: asset.id),
            case .ethereum(let pFee, let pPrio, let pGas, let pTotal) = rule.fee
        else { return .failure(refuse(.chainMismatch, "fee caps are not Ethereum caps")) }
        let maxFee: Wei
        do { maxFee = try tx.gasLimit.cost(at: tx.maxFeePerGas) } catch {
            return .failure(refuse(.feeExcessive, "gas budget overflows"))
        }
        let checks: [(String, UInt256, BaseUnits, BaseUnits)] = [
            ("maxFeePerGas", tx.maxFeePerGas.amount, iFee, pFee),
            ("maxPriorityFeePerGas", tx.maxPriorityFeePerGas.amount, iPrio, pPrio),
            ("gasLimit", tx.gasLimit.units, iGas, pGas), ("gasLimit × maxFeePerGas", maxFee.amount, iTotal, pTotal),
        ]
        for (name, value, a, b) in checks where a.value < value || b.value < value {
            return .failure(refuse(.feeExcessive, "\(name) \(value) exceeds the cap \(min(a, b))"))
        }
        // Nonce (E10): exactly one above what this signer signed for the account.
        let nonce = tx.nonce.value
        if case .ethereumNonce(let pinned) = intent.pin, pinned != nonce {
            return .failure(refuse(.nonceInvalid, "nonce \(nonce) is not the intent's pinned \(pinned)"))
        }
        if let signedNonce {
            guard nonce == signedNonce + 1 else {
                return .failure(
                    refuse(
                        .nonceInvalid,
                        "nonce \(nonce); this signer last signed \(signedNonce) for \(account.checksummed)"))
            }
        } else if intent.pin == nil && nonce != 0 {
            return .failure(
                refuse(
                    .nonceInvalid,
                    "first signature for \(account.checksummed) at nonce \(nonce): pin the nonce in the intent"))
        }
        return .success(
            EthereumPlan(transaction: tx, account: account, nonce: nonce, maxFee: maxFee, token: asset.contract))
    }

    /// What a transaction's call does: a plain ether payment or an ERC-20 `transfer`, the only
    /// two shapes this signer signs.
    public enum Call: Sendable {
        /// Ether to `to`, no call data.
        case payment(to: EthereumAddress)
        /// `transfer(address,uint256)` called on the contract `contract`.
        case tokenTransfer(contract: EthereumAddress, ERC20.Transfer)
    }

    /// Reads the signing payload: EIP-1559 only, parsed strictly and re-encoded byte-for-byte.
    /// Everything else is refused by what it is — EIP-191 signed data (EIP-712 typed data,
    /// `personal_sign`; E14), a legacy transaction (E09, E13), another EIP-2718 type (E13).
    public static func parse(_ unsigned: [UInt8]) -> Result<EIP1559Transaction, Refusal> {
        guard let type = unsigned.first else { return .failure(refuse(.malformed, "empty Ethereum transaction")) }
        switch type {
        case EIP1559Transaction.type.rawValue: break
        case 0x19:
            // EIP-191: signed data starts with 0x19 so that it is never a valid RLP transaction.
            let kind =
                switch unsigned.dropFirst().first {
                case 0x01?: "EIP-712 typed data"
                case 0x45?: "a personal_sign message"
                default: "EIP-191 signed data"
                }
            return .failure(
                refuse(
                    .callForbidden,
                    "\(kind) was requested; this signer signs no messages, only EIP-1559 transactions it checked"))
        case 0xc0...0xff:
            // A legacy payload: 6 items (pre-EIP-155) replays on every chain (E09); 9 items is a type change (E13).
            var items = 0
            if case .list(let l) = try? RLP.decode(unsigned) { items = l.count }
            return .failure(
                refuse(
                    items == 6 ? .chainMismatch : .fieldForbidden,
                    "a legacy transaction\(items == 6 ? " without EIP-155 chain id" : "") was requested; only type 0x02 is signed"
                ))
        default:
            let name =
                [TransactionType.legacy, .accessList, .blob, .setCode].first { $0.rawValue == type }?.name
                ?? "unknown type 0x\(Hex.encode([type]))"
            return .failure(refuse(.fieldForbidden, "\(name) transaction requested; only type 0x02 is signed"))
        }
        let tx: EIP1559Transaction
        do { tx = try EIP1559Transaction(bytes: unsigned) } catch {
            let category: RefusalCategory =
                switch error.code {
                case .resourceLimit: .resourceLimit
                // EIP-1559 fee rules (C8): priority fee above the fee cap, a gas budget beyond 2^256.
                case .priorityFeeAboveMaxFee, .arithmeticOverflow: .feeExcessive
                default: .malformed
                }
            return .failure(refuse(category, "the EIP-1559 transaction does not parse: \(error.reason)"))
        }
        // C4: what is signed is the checked transaction's own encoding; the strict decoder accepts
        // one encoding only, and this comparison keeps it that way.
        guard tx.signingPayload == unsigned else {
            return .failure(refuse(.malformed, "the EIP-1559 transaction is not in its canonical encoding"))
        }
        return .success(tx)
    }

    /// The call whitelist (C9): no contract creation; empty call data, or exactly an ERC-20
    /// `transfer(address,uint256)`. Any other call — `approve`, `permit`, a Safe
    /// `execTransaction`, unknown selectors — is refused whatever its target (E04, E07, E08, E14).
    public static func classify(_ tx: EIP1559Transaction) -> Result<Call, Refusal> {
        guard let to = tx.to else { return .failure(refuse(.callForbidden, "contract creation is never signed")) }
        if tx.data.isEmpty { return .success(.payment(to: to)) }
        guard let function = KnownFunction.identify(calldata: tx.data) else {
            let what =
                tx.data.count >= 4
                ? "call data selector 0x\(Hex.encode(Array(tx.data.prefix(4))))"
                : "\(tx.data.count) bytes of call data"
            return .failure(refuse(.callForbidden, "\(what) is not ERC-20 transfer; no other call is signed"))
        }
        guard function == .transfer else {
            return .failure(refuse(.callForbidden, "\(function.signature) is never signed; only transfer"))
        }
        do { return .success(.tokenTransfer(contract: to, try ERC20.Transfer(calldata: tx.data))) } catch {
            return .failure(refuse(.malformed, "transfer call data: \(error.reason)"))
        }
    }
}
