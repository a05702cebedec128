import Bitcoin
import Foundation
import KuraTestSupport
import Testing
import WalletCrypto

@Suite("BIP-0341 scriptPubKey cases: trees, merkle roots, output keys, control blocks")
struct TaprootTreeTests {
    static func tree(_ node: Any?) throws -> TaprootTree? {
        guard let node else { return nil }
        if node is NSNull { return nil }
        if let leaf = node as? [String: Any] {
            return .leaf(Script(hexBytes(leaf["script"] as! String)), version: UInt8(leaf["leafVersion"] as! Int))
        }
        let pair = try #require(node as? [Any])
        #expect(pair.count == 2)
        return .branch(try #require(try tree(pair[0])), try #require(try tree(pair[1])))
    }

    @Test func allSevenScriptPubKeyCases() throws {
        let root = try #require(try Vectors.json("bip341/wallet-test-vectors.json") as? [String: Any])
        let cases = try #require(root["scriptPubKey"] as? [[String: Any]])
        #expect(cases.count == 7)
        for c in cases {
            let given = c["given"] as! [String: Any]
            let inter = c["intermediary"] as! [String: Any]
            let expected = c["expected"] as! [String: Any]
            let internalKey = try XOnlyPublicKey(bytes: hexBytes(given["internalPubkey"] as! String))
            let t = try Self.tree(given["scriptTree"])
            let info = try TaprootSpendInfo(internalKey: internalKey, tree: t)
            if let leafHashes = inter["leafHashes"] as? [String] {
                #expect(
                    info.controlBlocks.map { Hex.encode(TapTree.leafHash($0.script, version: $0.version)) }
                        == leafHashes)
            }
            #expect(info.merkleRoot.map(Hex.encode) == inter["merkleRoot"] as? String)
            #expect(
                Hex.encode(XOnlyPublicKey.taprootTweak(internalKey: internalKey, merkleRoot: info.merkleRoot)) == inter[
                    "tweak"] as! String)
            #expect(info.outputKey.bytes == hexBytes(inter["tweakedPubkey"] as! String))
            #expect(Hex.encode(info.scriptPubKey.bytes) == expected["scriptPubKey"] as! String)
            #expect(
                try Address(scriptPubKey: info.scriptPubKey, network: .mainnet).text == expected["bip350Address"]
                    as! String)
            if let blocks = expected["scriptPathControlBlocks"] as? [String] {
                #expect(info.controlBlocks.map { Hex.encode($0.controlBlock) } == blocks)
            }
        }
    }
}
