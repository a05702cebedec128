/// Why the planner made no transaction for an intent. Callers and tests match on ``code``; ``reason`` names the
/// offending input (an outpoint, a cap and the value that exceeds it) and never holds secrets.
public struct PlanningError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, extensible like `NIOFS.FileSystemError.Code`.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The intent was made under another policy version than the one given: the signer would refuse it.
        public static let policyMismatch = Code("policyMismatch")
        /// The intent's wallet or asset is not in the policy, the asset is on another chain than the wallet, or no
        /// transfer rule covers them.
        public static let walletUnknown = Code("walletUnknown")
        /// The wallet is of a kind the planner does not build for (a descriptor it cannot estimate or annotate, a
        /// wallet without receive and change branches, a wallet of the other chain).
        public static let walletUnsupported = Code("walletUnsupported")
        /// A caller's input is out of range (a scan range past the signer's index bound, a change index, an amount
        /// that is not a Bitcoin amount, a destination that does not parse).
        public static let invalidInput = Code("invalidInput")
        /// A coin offered by the chain source is not proven: its previous transaction does not parse, does not hash
        /// to its txid, or does not hold its value and script; or the same coin is offered twice.
        public static let coinInvalid = Code("coinInvalid")
        /// A coin offered by the chain source pays a script the wallet does not derive in the scanned range.
        public static let coinNotInWallet = Code("coinNotInWallet")
        /// The intent pins a coin that the chain source did not offer (spent, or never the wallet's).
        public static let pinnedCoinMissing = Code("pinnedCoinMissing")
        /// The intent pins a coin with fewer confirmations than the planner requires.
        public static let pinnedCoinUnconfirmed = Code("pinnedCoinUnconfirmed")
        /// The spendable coins (or the pinned ones) cannot pay the amount and the fee.
        public static let insufficientFunds = Code("insufficientFunds")
        /// No transaction within the intent's and the policy's fee caps pays the fee the chain asks for.
        public static let feeTooHigh = Code("feeTooHigh")
        /// The payment would be a dust output, which nodes do not relay.
        public static let paymentIsDust = Code("paymentIsDust")
        /// The transaction would exceed a size bound (inputs, standard weight).
        public static let tooLarge = Code("tooLarge")
        /// The chain source is on another chain than the policy's wallet (Ethereum chain id).
        public static let chainMismatch = Code("chainMismatch")
        /// The account's chain nonce is already past the nonce the intent pins: the pinned transaction can never
        /// be mined.
        public static let noncePassed = Code("noncePassed")

        public var description: String { name }
    }

    /// The kind of refusal.
    public let code: Code
    /// A reason for people.
    public let reason: String

    /// Creates an error.
    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code): \(reason)" }
}
