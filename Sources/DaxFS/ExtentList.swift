/// The extents of a `Reservation`: a list that holds its first extent in
/// place and only the rest in an array.
///
/// Nearly every reservation holds one extent (every allocation that finds
/// its goal free: a file growing at its end, a small fallocate), so most
/// reservations never allocate. An `[Extent]` cost one heap allocation and
/// its release per call: 127 instructions of a 4 KiB allocation (callgrind).
/// - Complexity: append and subscript O(1) amortized, as an array's;
///   `removeAll(from:)` O(elements removed).
struct ExtentList: RandomAccessCollection {
    /// Element 0, valid when `count > 0`.
    private var head = Extent(fileBlock: 0, regionBlock: 0, count: 0)
    /// Elements 1..<count.
    private var tail: [Extent] = []
    private(set) var count = 0

    init() {}

    var startIndex: Int { 0 }
    var endIndex: Int { count }

    subscript(i: Int) -> Extent {
        precondition(i >= 0 && i < count, "ExtentList index \(i) out of range 0..<\(count)")
        return i == 0 ? head : tail[i - 1]
    }

    mutating func append(_ e: Extent) {
        if count == 0 { head = e } else { tail.append(e) }
        count += 1
    }

    /// Drops every element from index `first` on.
    mutating func removeAll(from first: Int) {
        precondition(first >= 0 && first <= count, "ExtentList.removeAll(from: \(first)) of \(count)")
        if first == 0 { tail = [] } else { tail.removeSubrange((first - 1)...) }
        count = first
    }
}
