// Machine output: one `--json` flag declaration for every command, and one way to write a
// JSON document (sorted keys, indented) so that every command's JSON looks alike.

import ArgumentParser
import Foundation

/// `--json`: the one declaration (and help text) of the flag for every command that prints
/// JSON. Use it as `@OptionGroup var output: JSONOption` and read `output.json`.
struct JSONOption: ParsableArguments {
    @Flag(name: .long, help: "Print JSON for machines on stdout instead of text.")
    var json = false
}

enum JSONText {
    /// `object` (dictionaries, arrays, strings, numbers, booleans) as indented JSON with sorted
    /// keys; empty if it is not JSON-serialisable (a programming error).
    static func document(_ object: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
        else { return "" }
        return String(decoding: data, as: UTF8.self)
    }
}
