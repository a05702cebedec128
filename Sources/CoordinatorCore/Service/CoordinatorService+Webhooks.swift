import Governance

extension CoordinatorService {
    /// Attempts after which a delivery is given up (`failed`), about a day of backoff.
    static let maxWebhookAttempts = 15

    /// One round of webhook delivery: claims the deliveries due (safely beside other processes), POSTs each,
    /// signed (``WebhookSignature``) with `secret`, and records the outcome: `delivered` on a 2xx answer, else
    /// another attempt after a doubling backoff (from `options.recheckSeconds` to an hour), `failed` after
    /// ``maxWebhookAttempts``. Delivery is at least once: a receiver drops repeats by `Kura-Delivery`.
    @discardableResult
    public func deliverWebhooks(
        owner: String, sender: any WebhookSender, secret: [UInt8], options: FollowUpOptions = FollowUpOptions()
    ) async throws(CoordinatorError) -> Int {
        let now = self.now
        let due = try await call { () async throws(StorageError) in
            try await store.claimWebhookDeliveries(
                owner: owner, now: now, leaseUntil: now.adding(seconds: options.leaseSeconds), limit: options.batch)
        }
        for d in due {
            let sentAt = self.now
            let headers: [(name: String, value: String)] = [
                ("Content-Type", "application/json"), ("Kura-Event", d.kind), ("Kura-Delivery", d.id),
                ("Kura-Signature", WebhookSignature.header(secret: secret, body: d.body, at: sentAt.seconds)),
            ]
            let outcome = await sender.send(body: d.body, headers: headers)
            let attempts = d.attempts + 1
            var state = WebhookDelivery.State.pending
            var error: String?
            switch outcome {
            case .success(let status) where (200..<300).contains(status): state = .delivered
            case .success(let status): error = "HTTP \(status)"
            case .failure(let failure): error = failure.reason
            }
            if state == .pending, attempts >= Self.maxWebhookAttempts { state = .failed }
            let wait = min(options.recheckSeconds << Int64(min(attempts - 1, 20)), 3600)
            let updated = WebhookDelivery(
                id: d.id, organization: d.organization, kind: d.kind, body: d.body, state: state, attempts: attempts,
                lastError: error, nextAttemptAt: sentAt.adding(seconds: wait), createdAt: d.createdAt)
            do { _ = try await store.apply([.updateWebhook(owner: owner, updated)]) } catch {
                if error.code != .conflict { throw CoordinatorError(error) }
            }
        }
        return due.count
    }
}
