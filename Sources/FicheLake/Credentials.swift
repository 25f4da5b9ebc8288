// No credential leaves the program: text that may quote a connection string or URL goes
// through `Credentials.scrub` before it reaches a message, a log line, the run log or a metric.

import Foundation

public enum Credentials {
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
