// The one error type of the publishing layer: what failed, PostgreSQL's SQLSTATE and the

import Foundation
// backend's pid when the server said it, and a message that never carries a credential.

/// A publishing failure. `message` is scrubbed of passwords and connection URLs' user info.
public struct PublishError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        /// Could not connect, or the connection broke.
        case connection
        /// A statement failed on the server.
        case statement
        /// COPY failed (locally or on the server).
        case copy
        /// The data cannot be stored in PostgreSQL (a NUL byte in text, a date out of range…).
        case invalidData
        /// Another publisher holds the lock and `--no-wait` was given.
        case busy
        /// A schema Fiche would have to replace or drop carries no proof that Fiche created it.
        case foreignSchema
        /// The caller asked for something impossible (unknown table, bad month range, bad name…).
        case usage
    }

    public var kind: Kind
    /// Five-character SQLSTATE from the server, when it sent one.
    public var sqlState: String?
    /// The backend process id of the connection that failed, when known.
    public var backendPID: Int32?
    public var message: String

    public init(_ kind: Kind, _ message: String, sqlState: String? = nil, backendPID: Int32? = nil) {
        self.kind = kind
        self.message = PublishError.scrub(message)
        self.sqlState = sqlState
        self.backendPID = backendPID
    }

    /// True for connection-class failures (SQLSTATE class 08, or no connection at all) and
    /// for a backend that was terminated (57P01): the work may be retried on a new connection.
    public var isConnectionLoss: Bool {
        kind == .connection || sqlState?.hasPrefix("08") == true || sqlState == "57P01"
    }

    public var description: String {
        var s = message
        var detail: [String] = []
        if let sqlState { detail.append("SQLSTATE \(sqlState)") }
        if let backendPID, backendPID != 0 { detail.append("backend pid \(backendPID)") }
        if !detail.isEmpty { s += " (" + detail.joined(separator: ", ") + ")" }
        return s
    }

    /// `scrub(text)`, then every occurrence of each known secret masked too: what libpq quotes
    /// back from a connection string it cannot parse (an invalid percent-encoding, say) is not
    /// shaped like a URL or a `password=` pair. Secrets shorter than 4 characters are left
    /// alone (masking every "a" would garble the message and hide nothing).
    public static func scrub(_ text: String, secrets: [String]) -> String {
        var out = scrub(text)
        for secret in Set(secrets).sorted(by: { $0.count > $1.count }) where secret.count >= 4 {
            out = out.replacingOccurrences(of: secret, with: "***")
        }
        return out
    }

    /// The passwords a connection URL or conninfo string carries, as written and
    /// percent-decoded: a URL's `user:password@` and every `password=` value (conninfo pair or
    /// URL query parameter, quoted or not).
    public static func passwords(in conninfo: String) -> [String] {
        var found: [String] = []
        func add(_ raw: Substring) {
            guard !raw.isEmpty else { return }
            found.append(String(raw))
            if let decoded = String(raw).removingPercentEncoding, decoded != String(raw) { found.append(decoded) }
        }
        var rest = Substring(conninfo)
        while let schemeEnd = rest.range(of: "://") {
            rest = rest[schemeEnd.upperBound...]
            let tokenEnd = rest.firstIndex(where: { $0.isWhitespace || $0 == "\"" || $0 == "'" }) ?? rest.endIndex
            let authority = rest[..<tokenEnd]
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                add(authority[authority.index(after: colon)..<at])
            }
        }
        rest = Substring(conninfo)
        while let r = rest.range(of: "password", options: .caseInsensitive) {
            rest = rest[r.upperBound...]
            var i = rest.startIndex
            while i < rest.endIndex, rest[i] == " " { i = rest.index(after: i) }
            guard i < rest.endIndex, rest[i] == "=" else { continue }
            i = rest.index(after: i)
            while i < rest.endIndex, rest[i] == " " { i = rest.index(after: i) }
            if i < rest.endIndex, rest[i] == "'" {
                var value = "", j = rest.index(after: i)
                while j < rest.endIndex, rest[j] != "'" {
                    if rest[j] == "\\", rest.index(after: j) < rest.endIndex { j = rest.index(after: j) }
                    value.append(rest[j])
                    j = rest.index(after: j)
                }
                add(Substring(value))
                add(rest[rest.index(after: i)..<j])  // as written, escapes included
                rest = rest[j...]
            } else {
                var j = i
                while j < rest.endIndex, !rest[j].isWhitespace, rest[j] != "&" { j = rest.index(after: j) }
                add(rest[i..<j])
                rest = rest[j...]
            }
        }
        return found
    }

    /// Removes credentials from text that may quote a connection string or URL:
    /// `password=…` / `password='…'` pairs and the `user:password@` part of a URL.
    public static func scrub(_ text: String) -> String {
        var out = Substring(text)
        var result = ""
        // 1. URL user info: scheme://user:secret@host → scheme://user:***@host
        while let schemeEnd = out.range(of: "://") {
            result += out[..<schemeEnd.upperBound]
            out = out[schemeEnd.upperBound...]
            // The URL runs to whitespace or a quote; its user info ends at its last '@'
            // (a password may itself contain '/', '@' or ':').
            let tokenEnd = out.firstIndex(where: { $0.isWhitespace || $0 == "\"" || $0 == "'" }) ?? out.endIndex
            let authority = out[..<tokenEnd]
            if let at = authority.lastIndex(of: "@") {
                let userInfo = authority[..<at]
                if let colon = userInfo.firstIndex(of: ":") {
                    result += userInfo[..<colon] + ":***"
                } else {
                    result += userInfo
                }
                out = out[at...]
            }
        }
        result += out
        // 2. key=value conninfo: password=secret or password='se cret'
        var scrubbed = ""
        var rest = Substring(result)
        while let r = rest.range(of: "password", options: .caseInsensitive) {
            scrubbed += rest[..<r.upperBound]
            rest = rest[r.upperBound...]
            var i = rest.startIndex
            while i < rest.endIndex, rest[i] == " " { i = rest.index(after: i) }
            guard i < rest.endIndex, rest[i] == "=" || rest[i] == ":" else { continue }
            i = rest.index(after: i)
            while i < rest.endIndex, rest[i] == " " { i = rest.index(after: i) }
            var end = i
            if end < rest.endIndex, rest[end] == "'" {
                end = rest.index(after: end)
                while end < rest.endIndex, rest[end] != "'" {
                    if rest[end] == "\\" { end = rest.index(after: end); if end == rest.endIndex { break } }
                    end = rest.index(after: end)
                }
                if end < rest.endIndex { end = rest.index(after: end) }
            } else {
                while end < rest.endIndex, !rest[end].isWhitespace, rest[end] != "&" { end = rest.index(after: end) }
            }
            scrubbed += rest[rest.startIndex..<i] + "***"
            rest = rest[end...]
        }
        scrubbed += rest
        return scrubbed
    }
}
