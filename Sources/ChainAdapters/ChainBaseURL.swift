public import CoordinatorCore

/// The base URL of a chain source (an Esplora server, a Bitcoin Core or Ethereum JSON-RPC endpoint), validated:
/// `http` or `https`, a host, an optional port and path prefix (`https://host/api`), no query or fragment.
/// Credentials in its userinfo (`https://user:secret@host`) are kept apart: sent as HTTP basic authentication,
/// never shown in ``redacted`` or in any error.
public struct ChainBaseURL: Sendable, Hashable, CustomStringConvertible {
    /// `http` or `https`, lowercase.
    public let scheme: String
    /// The host and optional port, as given (`127.0.0.1:3002`, `[::1]:3002`, `blockstream.info`).
    public let authority: String
    /// The path prefix, without a trailing slash (`""` or `/api`).
    public let pathPrefix: String
    /// The user and password of the userinfo, percent-decoded, if the URL had one.
    let credentials: (user: String, password: String)?

    /// The longest base URL accepted, in bytes.
    public static let maxLength = 2048

    /// Parses and validates `text`. A URL that is not one is ``ChainError/Code/unavailable`` (no chain source can be
    /// reached through it), with a reason that never repeats the userinfo.
    public init(_ text: String) throws(ChainError) {
        func refuse(_ why: String) -> ChainError { ChainError(.unavailable, "invalid chain source URL: \(why)") }
        guard text.utf8.count <= Self.maxLength else { throw refuse("longer than \(Self.maxLength) bytes") }
        guard text.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value != 0x7f }) else {
            throw refuse("it contains spaces, control or non-ASCII characters")
        }
        guard !text.contains("?"), !text.contains("#") else { throw refuse("it has a query or fragment") }
        guard let separator = text.firstRange(of: "://") else { throw refuse("no scheme") }
        let scheme = text[..<separator.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { throw refuse("the scheme must be http or https") }
        let rest = text[separator.upperBound...]
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        var authority = String(rest[..<slash])
        var path = String(rest[slash...])
        while path.hasSuffix("/") { path.removeLast() }
        var credentials: (user: String, password: String)?
        if let at = authority.lastIndex(of: "@") {
            let userinfo = authority[..<at]
            authority = String(authority[authority.index(after: at)...])
            let colon = userinfo.firstIndex(of: ":")
            guard let user = Self.percentDecoded(userinfo[..<(colon ?? userinfo.endIndex)]),
                let password = Self.percentDecoded(colon.map { userinfo[userinfo.index(after: $0)...] } ?? "")
            else { throw refuse("malformed userinfo") }
            credentials = (user: user, password: password)
        }
        // The authority is not echoed: a mistyped URL may hold a password where the host should be.
        guard Self.isValidAuthority(authority) else { throw refuse("no valid host[:port]") }
        self.scheme = scheme
        self.authority = authority
        self.pathPrefix = path
        self.credentials = credentials
    }

    /// The URL of `endpoint` (a path starting with `/`) under this base, without credentials.
    public func url(_ endpoint: String) -> String { "\(scheme)://\(authority)\(pathPrefix)\(endpoint)" }

    /// The base URL without its credentials, for logs and errors.
    public var redacted: String { url("") }

    public var description: String { redacted }

    public static func == (a: ChainBaseURL, b: ChainBaseURL) -> Bool { a.redacted == b.redacted }
    public func hash(into hasher: inout Hasher) { hasher.combine(redacted) }

    /// `host` or `host:port` (port 1–65535), the host a DNS name, an IPv4 address or a bracketed IPv6 address.
    private static func isValidAuthority(_ text: String) -> Bool {
        var host = Substring(text)
        var port: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return false }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return false }
                port = after.dropFirst()
            }
            guard !host.isEmpty, host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return false }
        } else {
            if let colon = text.firstIndex(of: ":") {
                host = text[..<colon]
                port = text[text.index(after: colon)...]
            }
            let allowed: (Character) -> Bool = { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }
            guard !host.isEmpty, host.allSatisfy(allowed) else { return false }
        }
        if let port {
            guard !port.isEmpty, port.count <= 5, port.allSatisfy(\.isASCII), port.allSatisfy(\.isNumber),
                let number = Int(port), (1...65535).contains(number)
            else { return false }
        }
        return true
    }

    private static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            else { return nil }
            bytes.append(value)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}

/// The name the Esplora adapter's base URL had before the other adapters shared it.
public typealias EsploraBaseURL = ChainBaseURL
