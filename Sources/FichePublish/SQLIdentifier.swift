// SQL identifiers we put into statements: validated against a strict pattern, then quoted.

/// A validated PostgreSQL identifier: 1–63 bytes of `[a-z_][a-z0-9_]*`. Anything else
/// (upper case, spaces, quotes, dots) is refused rather than escaped, so a name from a flag
/// or a lake table can never change a statement's meaning.
public struct SQLIdentifier: Sendable, Hashable, CustomStringConvertible {
    public let name: String

    public init(_ name: String) throws {
        guard SQLIdentifier.isValid(name) else {
            throw PublishError(.usage, "invalid SQL identifier \"\(name.prefix(80))\": use 1-63 characters of a-z, 0-9 and _, not starting with a digit")
        }
        self.name = name
    }

    public static func isValid(_ name: String) -> Bool {
        let u = Array(name.utf8)
        guard (1...63).contains(u.count) else { return false }
        for (i, c) in u.enumerated() {
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "_"): continue
            case UInt8(ascii: "0")...UInt8(ascii: "9") where i > 0: continue
            default: return false
            }
        }
        return true
    }

    /// The double-quoted form, safe to splice into SQL.
    public var quoted: String { "\"" + name + "\"" }
    public var description: String { quoted }

    /// `schema.name`, both quoted.
    public func qualified(in schema: SQLIdentifier) -> String { schema.quoted + "." + quoted }
}
