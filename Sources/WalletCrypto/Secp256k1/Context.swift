import CSecp256k1

/// The one libsecp256k1 context Kura uses: created once, randomised once (side-channel
/// blinding) before it is shared, then used read-only from any thread.
final class Secp256k1Context: @unchecked Sendable {
    /// The process-wide context.
    static let shared = Secp256k1Context()

    let raw: OpaquePointer

    private init() {
        guard let ctx = secp256k1_context_create(UInt32(SECP256K1_CONTEXT_NONE)) else {
            fatalError("libsecp256k1 could not create a context")
        }
        var rng = SystemRandomNumberGenerator()
        var seed = [UInt8](repeating: 0, count: 32)
        for i in 0..<32 { seed[i] = UInt8.random(in: .min ... .max, using: &rng) }
        guard secp256k1_context_randomize(ctx, seed) == 1 else {
            fatalError("libsecp256k1 could not randomise its context")
        }
        for i in 0..<32 { seed[i] = 0 }
        raw = ctx
    }

    deinit { secp256k1_context_destroy(raw) }
}
