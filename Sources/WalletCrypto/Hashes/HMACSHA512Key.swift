import Crypto

/// HMAC-SHA512 (RFC 2104) with the key's inner and outer pad blocks absorbed once, so that many
/// messages under one key cost two SHA-512 compressions each instead of four — BIP-0032 derives
/// every child of a parent under the parent's chain code.
public struct HMACSHA512Key: @unchecked Sendable {
    private let inner: SHA512
    private let outer: SHA512

    /// Prepares a key of at most 128 bytes (BIP-0032 chain codes are 32).
    public init(key: [UInt8]) {
        precondition(key.count <= 128, "longer HMAC keys are hashed first; Kura never uses them")
        var ipad = [UInt8](repeating: 0x36, count: 128)
        var opad = [UInt8](repeating: 0x5c, count: 128)
        for (i, b) in key.enumerated() {
            ipad[i] ^= b
            opad[i] ^= b
        }
        var i = SHA512()
        i.update(data: ipad)
        var o = SHA512()
        o.update(data: opad)
        inner = i
        outer = o
        for k in ipad.indices {
            ipad[k] = 0
            opad[k] = 0
        }
    }

    /// The MAC of `message`.
    public func authenticationCode(_ message: [UInt8]) -> [UInt8] {
        var i = inner
        i.update(data: message)
        var o = outer
        o.update(data: Array(i.finalize()))
        return Array(o.finalize())
    }
}
