import Bitcoin
import Foundation
import Testing
import WalletCrypto

/// `PSBT.verifySignatures()`: what the coordinator runs on a signer's returned PSBT before keeping it. Every
/// refusal beside its positive control (the same PSBT, correctly signed, verifies).
@Suite("PSBT signature verification")
struct PSBTVerifyTests {
    /// A 3-input PSBT of `kind`, unsigned, with its masters.
    static func unsigned(_ kind: String) throws -> (PSBT, [ExtendedPrivateKey]) {
        var rng = SeededRNG(state: 7)
        let ms = try WalletTests.masters(3, seed: kind == "wsh" ? 21 : 11)
        let d = try WalletTests.descriptor(kind, ms)
        let coins = try WalletTests.coins(d, count: 3, rng: &rng)
        let total = coins.reduce(Int64(0)) { $0 + $1.output.value.sats }
        let pay = TxOut(
            value: try Amount(sats: total / 2), scriptPubKey: Script([0x00, 0x14] + [UInt8](repeating: 9, count: 20)))
        let psbt = try PSBTBuilder.build(
            descriptor: d, inputs: coins, payments: [pay],
            change: .init(index: 3, amount: try Amount(sats: total / 2 - 5_000)), version: 0)
        return (try PSBT(bytes: psbt.serialized), ms)
    }

    @Test(arguments: ["wpkh", "sh-wpkh", "tr", "wsh"])
    func signedInputsVerifyAndUnsignedCountZero(kind: String) throws {
        var (psbt, ms) = try Self.unsigned(kind)
        #expect(try psbt.verifySignatures() == [0, 0, 0])
        _ = try psbt.sign(with: ms[0])
        #expect(try psbt.verifySignatures() == [1, 1, 1])
        if kind == "wsh" {
            _ = try psbt.sign(with: ms[1])
            #expect(try psbt.verifySignatures() == [2, 2, 2])
        }
    }

    @Test(arguments: ["wpkh", "wsh"])
    func aFlippedSignatureByteIsRefused(kind: String) throws {
        var (psbt, ms) = try Self.unsigned(kind)
        _ = try psbt.sign(with: ms[0])
        #expect(try psbt.verifySignatures() == [1, 1, 1])  // positive control
        for position in [5, 20, 40] {
            var bad = psbt
            guard let (key, sig) = bad.inputs[1].partialSignatures.first(where: { _ in true }) else {
                Issue.record("no partial signature")
                return
            }
            var edited = sig
            edited[min(position, edited.count - 2)] ^= 0x01
            bad.inputs[1].partialSignatures[key] = edited
            let e = #expect(throws: BitcoinError.self) { try bad.verifySignatures() }
            #expect(e?.code == .invalidSignature && e?.reason.contains("input 1") == true)
        }
    }

    @Test func aSignatureOfAnotherInputIsRefused() throws {
        var (psbt, ms) = try Self.unsigned("wsh")
        _ = try psbt.sign(with: ms[0])
        var moved = psbt
        // Input 0's signature by the same key on input 1: a valid signature, of another digest.
        guard let (key0, sig0) = psbt.inputs[0].partialSignatures.first(where: { _ in true }),
            let (key1, _) = psbt.inputs[1].partialSignatures.first(where: { _ in true })
        else {
            Issue.record("no partial signatures")
            return
        }
        #expect(key0 != key1)  // different derivation indexes: different keys
        moved.inputs[1].partialSignatures[key1] = sig0
        #expect(throws: BitcoinError.self) { try moved.verifySignatures() }
    }

    @Test func aKeyTheScriptDoesNotUseIsRefused() throws {
        var (psbt, ms) = try Self.unsigned("wpkh")
        _ = try psbt.sign(with: ms[0])
        var foreign = psbt
        let stranger = PrivateKey.generate()
        foreign.inputs[0].partialSignatures[stranger.publicKey.compressed] = [
            0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x01,
        ]
        let e = #expect(throws: BitcoinError.self) { try foreign.verifySignatures() }
        #expect(e?.reason.contains("does not use") == true)
    }

    @Test func anotherSighashTypeIsRefused() throws {
        var (psbt, ms) = try Self.unsigned("wpkh")
        _ = try psbt.sign(with: ms[0])
        var other = psbt
        guard let (key, sig) = other.inputs[2].partialSignatures.first(where: { _ in true }) else {
            Issue.record("no partial signature")
            return
        }
        other.inputs[2].partialSignatures[key] = Array(sig.dropLast()) + [0x83]  // ALL|ANYONECANPAY
        let e = #expect(throws: BitcoinError.self) { try other.verifySignatures() }
        #expect(e?.reason.contains("sighash") == true)
    }

    @Test func aCorruptTaprootSignatureIsRefused() throws {
        var (psbt, ms) = try Self.unsigned("tr")
        _ = try psbt.sign(with: ms[0])
        var bad = psbt
        guard var sig = bad.inputs[0].tapKeySignature else {
            Issue.record("no taproot signature")
            return
        }
        sig[10] ^= 0x80
        bad.inputs[0].tapKeySignature = sig
        #expect(throws: BitcoinError.self) { try bad.verifySignatures() }
        #expect(try psbt.verifySignatures() == [1, 1, 1])
    }
}
