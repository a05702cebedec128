public import Governance

/// One line of a wallet's ledger: a deposit seen on the chain, or a withdrawal (an intent) with its transaction.
public struct HistoryEntry: Sendable, Hashable {
    /// `deposit` or `withdrawal`.
    public let kind: String
    public let wallet: WalletID
    public let asset: AssetID
    public let amount: BaseUnits
    /// The receiving address (a deposit) or the destination (a withdrawal).
    public let address: String
    /// The transaction, when there is one yet.
    public let txid: String?
    /// A deposit's state (`pending`, `confirmed`, `removed`) or the intent's (`awaitingApprovals` … `confirmed`).
    public let state: String
    /// Confirmations when last checked (0 when unknown or none).
    public let confirmations: Int64
    /// When it was first seen (a deposit) or created (a withdrawal).
    public let at: Timestamp
    /// The intent of a withdrawal.
    public let intent: IntentID?

    /// The columns of the CSV export, in order.
    public static let csvHeader = [
        "kind", "wallet", "asset", "amount", "address", "txid", "state", "confirmations",
        "at", "intent",
    ]

    /// This entry's CSV fields, in ``csvHeader``'s order.
    public var csvFields: [String] {
        [
            kind, wallet.value, asset.value, amount.description, address, txid ?? "", state, String(confirmations),
            String(at.seconds), intent?.value ?? "",
        ]
    }
}

/// What a history query selects.
public struct HistoryFilter: Sendable, Hashable {
    public var wallet: WalletID?
    /// `deposit` or `withdrawal`, or both when `nil`.
    public var kind: String?
    public var state: String?
    public var since: Timestamp?
    public var limit: Int

    public init(
        wallet: WalletID? = nil, kind: String? = nil, state: String? = nil, since: Timestamp? = nil, limit: Int = 500
    ) {
        self.wallet = wallet
        self.kind = kind
        self.state = state
        self.since = since
        self.limit = limit
    }
}

extension CoordinatorService {
    /// The organisation's ledger, newest first: its deposits and its withdrawals (intents, with their finalised
    /// transactions and follow-up), filtered.
    public func history(_ org: OrganizationID, filter: HistoryFilter) async throws(CoordinatorError)
        -> [HistoryEntry]
    {
        let limit = max(1, min(filter.limit, 5_000))
        var out: [HistoryEntry] = []
        if filter.kind == nil || filter.kind == "deposit" {
            let deposits = try await call { () async throws(StorageError) in
                try await store.deposits(org, wallet: filter.wallet, limit: limit)
            }
            out += deposits.map {
                HistoryEntry(
                    kind: "deposit", wallet: $0.wallet, asset: $0.asset, amount: $0.amount, address: $0.address,
                    txid: $0.txid, state: $0.state.rawValue, confirmations: $0.confirmations, at: $0.firstSeenAt,
                    intent: nil)
            }
        }
        if filter.kind == nil || filter.kind == "withdrawal" {
            let intents = try await intents(org, state: nil, limit: min(limit, 1_000))
            for i in intents where filter.wallet == nil || i.wallet == filter.wallet {
                var txid: String?
                var confirmations: Int64 = 0
                if [.signed, .broadcast, .confirmed, .failed].contains(i.state) {
                    let signed = try await call { () async throws(StorageError) in
                        try await store.signedTransaction(org, intent: i.id)
                    }
                    txid = signed?.txid
                    confirmations = try await transactionWatch(org, intent: i.id)?.confirmations ?? 0
                }
                out.append(
                    HistoryEntry(
                        kind: "withdrawal", wallet: i.wallet, asset: i.asset, amount: i.amount,
                        address: i.destination, txid: txid, state: i.state.rawValue, confirmations: confirmations,
                        at: i.createdAt, intent: i.id))
            }
        }
        out = out.filter { e in
            (filter.state == nil || e.state == filter.state) && (filter.since.map { e.at >= $0 } ?? true)
        }
        out.sort { ($0.at, $0.kind, $0.txid ?? "") > ($1.at, $1.kind, $1.txid ?? "") }
        return Array(out.prefix(limit))
    }
}

/// RFC 4180 CSV: fields quoted when they hold a comma, a quote or a line break (quotes doubled), CRLF line ends.
/// A field that a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab, CR first) is prefixed with `'`.
public enum CSV {
    public static func line(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\r\n"
    }

    static func field(_ raw: String) -> String {
        var text = raw
        if let first = text.unicodeScalars.first, ["=", "+", "-", "@", "\t", "\r"].contains(first) {
            text = "'" + text
        }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacing("\"", with: "\"\"") + "\""
    }
}
