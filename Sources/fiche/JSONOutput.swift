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

/// The one way commands write a JSON document: indented, keys sorted, slashes (paths) as they
/// are. (Only `fiche dump --format json|jsonl` writes rows itself: one object per row, its
/// keys in the columns' order, streamed.)
enum JSONText {
    /// `object` (dictionaries, arrays, strings, numbers, booleans, `NSNull`) as a document;
    /// empty if it is not JSON-serialisable (a programming error).
    static func document(_ object: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    /// An `Encodable` value (a summary or record type of the libraries) as a document.
    static func document(encoding value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// A value that may be missing: JSON null when it is.
    static func orNull(_ value: Any?) -> Any { value ?? NSNull() }

    /// A measurement as a JSON number: non-finite values (a rate over zero seconds) as 0.
    static func number(_ x: Double) -> Double { x.isFinite ? x : 0 }
}
