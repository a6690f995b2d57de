import Foundation

/// Reads the machine-readable parts of man/daxfs.5: the layout tables
/// (`.\" layout: NAME SIZE` then a tbl table) and the golden hexdumps.
public enum ManPage {
    public struct Row: Equatable, Sendable, CustomStringConvertible {
        public var offset: Int, size: Int, kind: String, name: String
        public init(offset: Int, size: Int, kind: String, name: String) {
            self.offset = offset; self.size = size; self.kind = kind; self.name = name
        }
        public var description: String { "\(offset)\t\(size)\t\(kind)\t\(name)" }
    }

    public static func text(_ page: String = "man/daxfs.5") -> String {
        (try? String(contentsOfFile: packageRoot + "/" + page, encoding: .utf8)) ?? ""
    }

    /// Layout tables by name: (declared size, rows).
    public static func layouts(_ text: String = text()) -> [String: (size: Int, rows: [Row])] {
        var out: [String: (Int, [Row])] = [:]
        let lines = text.components(separatedBy: "\n")
        var i = 0
        while i < lines.count {
            let l = lines[i]
            if l.hasPrefix(".\\\" layout: ") {
                let parts = l.dropFirst(".\\\" layout: ".count).split(separator: " ")
                let name = String(parts[0]), size = Int(parts.count > 1 ? parts[1] : "") ?? -1
                var rows: [Row] = []
                i += 1
                // skip .TS, format lines, header
                while i < lines.count, !lines[i].hasPrefix("Offset\t") { i += 1 }
                i += 1
                while i < lines.count, !lines[i].hasPrefix(".TE") {
                    let c = lines[i].components(separatedBy: "\t")
                    if c.count >= 4, let o = Int(c[0]), let s = Int(c[1]) {
                        rows.append(Row(offset: o, size: s, kind: c[2], name: c[3]))
                    }
                    i += 1
                }
                out[name] = (size, rows)
            }
            i += 1
        }
        return out
    }

    /// The bytes of a golden hexdump (`.\" golden: NAME` ... `.\" end golden`),
    /// written as lines of "OFFSET: hh hh ...".
    public static func golden(_ name: String, _ text: String = text()) -> [UInt8] {
        let lines = text.components(separatedBy: "\n")
        guard let start = lines.firstIndex(of: ".\\\" golden: \(name)") else { return [] }
        var out: [UInt8] = []
        for l in lines[(start + 1)...] {
            if l.hasPrefix(".\\\" end golden") { break }
            guard let colon = l.firstIndex(of: ":") else { continue }
            for h in l[l.index(after: colon)...].split(separator: " ") {
                if let b = UInt8(h, radix: 16) { out.append(b) }
            }
        }
        return out
    }
}
