import Foundation

/// Locates and decodes the test vectors copied under `Tests/Vectors/<origin>/` (see each SOURCE.md).
public enum Vectors {
    /// The repository root, found from this file's location.
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The URL of a vector file, e.g. `bip32/bip32_vectors.json`.
    public static func url(_ relative: String) -> URL {
        repositoryRoot.appendingPathComponent("Tests/Vectors").appendingPathComponent(relative)
    }

    /// The raw bytes of a vector file.
    public static func data(_ relative: String) throws -> Data { try Data(contentsOf: url(relative)) }

    /// The text of a vector file.
    public static func text(_ relative: String) throws -> String { String(decoding: try data(relative), as: UTF8.self) }

    /// Decodes a JSON vector file into `T`.
    public static func decode<T: Decodable>(_ type: T.Type, _ relative: String) throws -> T {
        try JSONDecoder().decode(T.self, from: data(relative))
    }

    /// Decodes a JSON vector file into untyped JSON (arrays, dictionaries, strings, numbers).
    public static func json(_ relative: String) throws -> Any {
        try JSONSerialization.jsonObject(with: data(relative), options: [.fragmentsAllowed])
    }
}

/// Hex helpers for tests (independent of the code under test).
public func hexBytes(_ s: String) -> [UInt8] {
    var t = s
    if t.hasPrefix("0x") { t.removeFirst(2) }
    precondition(t.count % 2 == 0, "odd hex in test data")
    var out = [UInt8]()
    var i = t.startIndex
    while i < t.endIndex {
        let j = t.index(i, offsetBy: 2)
        out.append(UInt8(t[i..<j], radix: 16)!)
        i = j
    }
    return out
}

/// Lowercase hex of bytes (for comparing with vectors).
public func hexString<C: Collection>(_ b: C) -> String where C.Element == UInt8 {
    b.map { String(format: "%02x", $0) }.joined()
}
