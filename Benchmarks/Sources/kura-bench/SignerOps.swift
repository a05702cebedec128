// The cold signer in-process, for Benchmarks/signer_compare.py:
//
//   kura-bench signer-bundle BUNDLE HOME PASSFILE ITERATIONS
//
// unlocks HOME's keystore once (scrypt is not timed: it is paid once per signing session and its
// cost is a setting), then, for every iteration, copies HOME to a fresh directory (so the bundle's
// intent is never a replay), opens the signer's state there and times, separately,
//
//   review  SignerEngine.review: every check of ATTACKS §2 (C1–C14) on the bundle's bytes;
//   sign    SignerEngine.sign: durable ledger entry, the signatures, the signed receipt;
//   pure    the signatures alone: PSBT.sign(with:) on the reviewed PSBT (what BDK's sign does).
//
// Memory: the process's peak resident set is reset (/proc/self/clear_refs) after the keystore is
// unlocked, so `peak_rss_kib` is the high-water mark of the whole process while it opens state,
// reviews and signs, without the scrypt buffer; `process_max_rss_kib` includes the unlock.
import Bitcoin
import Foundation
import Governance
import Signer
import WalletCrypto

enum SignerBench {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func wallSeconds() -> Double {
        Double(DispatchTime.now().uptimeNanoseconds) / 1e9
    }

    /// A field of /proc/self/status in KiB (VmHWM, VmRSS), or -1.
    static func status(_ field: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? -1
        }
        return -1
    }

    /// Resets the process's peak resident set size to its current one (Linux ≥ 4.0).
    static func resetPeak() -> Bool {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? handle.close() }
        return (try? handle.write(contentsOf: Data("5".utf8))) != nil
    }

    static func clock() throws -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return try Timestamp(seconds: Int64(ts.tv_sec))
    }

    static func run(bundlePath: String, homePath: String, passfile: String, iterations: Int) throws -> String {
        let files = FileManager.default
        let unlockStart = wallSeconds()
        let home = try SignerHome(explicit: homePath)
        let keystore = try home.loadKeystore()
        let contents = try keystore.open(passphrase: LocalFiles.readSecret(passfile))
        let unlockSeconds = wallSeconds() - unlockStart
        let bundle = try LocalFiles.read(bundlePath, limit: SigningBundle.maxSize + 1)
        let scratch = NSTemporaryDirectory() + "kura-bench-signer-\(getpid())"
        defer { try? files.removeItem(atPath: scratch) }

        /// A fresh copy of the signer's home, as it was before any signature of this run.
        func freshContext() throws -> SignerContext {
            try? files.removeItem(atPath: scratch)
            try files.copyItem(atPath: homePath, toPath: scratch)
            return try SignerContext.open(
                home: SignerHome(explicit: scratch), contents: contents, network: keystore.network)
        }

        let resetWorked = resetPeak()
        let rssBefore = status("VmRSS")
        var open = 0.0
        var review = 0.0
        var sign = 0.0
        var pure = 0.0
        var inputs = 0
        // One warm-up iteration, then the timed ones.
        for i in 0...iterations {
            let t0 = wallSeconds()
            var context = try freshContext()
            let t1 = wallSeconds()
            let prepared: PreparedSignature
            switch SignerEngine.review(bundle: bundle, context: context, clock: try clock()) {
            case .ready(let p): prepared = p
            case .refused(let r):
                throw Failure(description: "refused: " + r.map { "\($0.category.token): \($0.reason)" }.joined())
            }
            let t2 = wallSeconds()
            let output = try SignerEngine.sign(prepared, operatorName: "bench", context: &context)
            let t3 = wallSeconds()
            blackHole(output.transaction)
            guard case .bitcoin(let plan) = prepared.plan else { throw Failure(description: "not a Bitcoin bundle") }
            var psbt = plan.psbt
            let t4 = wallSeconds()
            let signed = try psbt.sign(with: context.master)
            let t5 = wallSeconds()
            guard signed.count == plan.inputs else { throw Failure(description: "signed \(signed.count) inputs") }
            if i > 0 {
                open += t1 - t0
                review += t2 - t1
                sign += t3 - t2
                pure += t5 - t4
            }
            inputs = plan.inputs
        }
        let peak = resetWorked ? status("VmHWM") : -1
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        let n = Double(iterations)
        return """
            {"op": "signer-bundle", "iterations": \(iterations), "inputs": \(inputs), \
            "unlock_seconds": \(unlockSeconds), "kdf_log2_n": \(keystore.kdf.log2N), \
            "open_seconds": \(open / n), "review_seconds": \(review / n), "sign_seconds": \(sign / n), \
            "pure_sign_seconds": \(pure / n), "review_sign_ops_per_second": \(n / (review + sign)), \
            "rss_before_kib": \(rssBefore), "peak_rss_kib": \(peak), "process_max_rss_kib": \(usage.ru_maxrss)}
            """
    }
}
