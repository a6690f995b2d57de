#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// JSON output for `--json`: snake_case keys, sorted, pretty-printed, one
/// document per command. The schemas are documented in daxfs(8).
enum JSONOutput {
    static func print<T: Encodable>(_ value: T) throws {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.keyEncodingStrategy = .convertToSnakeCase
        let data = try e.encode(value)
        Out.line(String(decoding: data, as: UTF8.self))
    }
}
