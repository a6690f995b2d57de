/// Number formatting for the table, without Foundation.
enum Format {
    /// `v` with `digits` decimals, or, when `digits` is nil, about three
    /// significant digits: 0.0123, 1.23, 12.3, 123, 12,345.
    static func number(_ v: Double, digits: Int? = nil) -> String {
        guard v.isFinite else { return v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf") }
        if let digits { return fixed(v, digits) }
        let a = abs(v)
        if a >= 1000 { return grouped(Int(v.rounded())) }
        if a >= 100 { return fixed(v, 0) }
        if a >= 10 { return fixed(v, 1) }
        if a >= 1 { return fixed(v, 2) }
        if a >= 0.01 || a == 0 { return fixed(v, 3) }
        return fixed(v, 5)
    }

    /// "min / median / max".
    static func triple(_ s: Stats) -> String {
        "\(number(s.min)) / \(number(s.median)) / \(number(s.max))"
    }

    /// A duration in seconds: "0.42 s", "73.1 s", "3 min 05 s".
    static func duration(_ seconds: Double) -> String {
        if seconds < 100 { return "\(number(seconds)) s" }
        let s = Int(seconds.rounded())
        return "\(s / 60) min \(s % 60 < 10 ? "0" : "")\(s % 60) s"
    }

    private static func fixed(_ v: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let n = (abs(v) * scale).rounded()
        let whole = Int(n / scale)
        var text = grouped(whole)
        if digits > 0 {
            let frac = Int(n - Double(whole) * scale)
            let f = String(frac)
            text += "." + String(repeating: "0", count: max(0, digits - f.count)) + f
        }
        return (v < 0 && n != 0 ? "-" : "") + text
    }

    private static func grouped(_ n: Int) -> String {
        let digits = Array(String(abs(n)))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }
}
