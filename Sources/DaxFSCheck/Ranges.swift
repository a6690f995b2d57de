import DaxFSFormat

/// Sorted, disjoint block ranges as (start, end) pairs, and the set
/// operations pass 5 needs. Every function is one linear merge.
enum Ranges {
    typealias R = (start: UInt64, end: UInt64)

    /// Sorts and merges overlapping or adjacent ranges. O(n log n).
    static func union(_ rs: [R]) -> [R] {
        var out: [R] = []
        for r in rs.sorted(by: { $0.start < $1.start }) where r.end > r.start {
            if let l = out.last, r.start <= l.end { out[out.count - 1].end = max(l.end, r.end) } else { out.append(r) }
        }
        return out
    }

    /// [lo, hi) minus the sorted disjoint `rs`. O(n).
    static func complement(_ rs: [R], lo: UInt64, hi: UInt64) -> [R] {
        var out: [R] = []
        var at = lo
        for r in rs {
            if r.start > at { out.append((at, min(r.start, hi))) }
            at = max(at, r.end)
            if at >= hi { break }
        }
        if at < hi { out.append((at, hi)) }
        return out
    }

    /// Blocks in both sorted disjoint lists, and the first shared range. O(n + m).
    static func intersection(_ a: [R], _ b: [R]) -> (blocks: UInt64, first: R?) {
        var i = 0, j = 0
        var n: UInt64 = 0
        var first: R?
        while i < a.count && j < b.count {
            let s = max(a[i].start, b[j].start), e = min(a[i].end, b[j].end)
            if s < e { n += e - s; if first == nil { first = (s, e) } }
            if a[i].end < b[j].end { i += 1 } else { j += 1 }
        }
        return (n, first)
    }

    static func blocks(_ rs: [R]) -> UInt64 { rs.reduce(0) { $0 + ($1.end - $1.start) } }

    static func text(_ r: R) -> String { "[\(r.start), \(r.end))" }
}
