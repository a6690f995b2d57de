import Testing
import DaxFSTestSupport
@testable import PMem

/// The msync path's pending pages (`PendingSpans`): every page added before
/// a take lies in a span the take returns, near pages share a span, far
/// areas keep their own while there is room, and a take empties the set.
@Suite struct PendingSpansTests {
    let page = 4096

    func take(_ p: PendingSpans) -> [Range<Int>] {
        let out = UnsafeMutablePointer<Range<Int>>.allocate(capacity: PendingSpans.maxSpans)
        defer { out.deallocate() }
        let n = p.take(into: out)
        return Array(UnsafeBufferPointer(start: out, count: n))
    }

    @Test func nearPagesShareASpanAndFarAreasKeepTheirOwn() {
        let p = PendingSpans()
        #expect(take(p).isEmpty)
        // Every other page of a data area, and the log's tail far below it.
        for k in 0..<200 { p.add((k * 2 * page + (64 << 20))..<((k * 2 + 1) * page + (64 << 20))) }
        p.add(0..<page)
        let spans = take(p)
        #expect(spans.count == 2)
        #expect(spans.contains(0..<page))
        #expect(spans.contains((64 << 20)..<(399 * page + (64 << 20))))
        #expect(take(p).isEmpty, "a take empties the set")
    }

    @Test func everyAddedRangeIsCoveredAndTheSpansStayFew() {
        var rng = SeededRandom(seed: 7)
        let p = PendingSpans()
        for round in 0..<200 {
            var added: [Range<Int>] = []
            for _ in 0..<(1 + rng.below(40)) {
                // Areas far apart (gigabytes) and pages near one another.
                let start = rng.below(8) * (1 << 30) + rng.below(512) * page
                let r = start..<(start + (1 + rng.below(4)) * page)
                added.append(r)
                p.add(r)
            }
            let spans = take(p)
            #expect(spans.count >= 1 && spans.count <= PendingSpans.maxSpans)
            for r in added where !spans.contains(where: { $0.lowerBound <= r.lowerBound && r.upperBound <= $0.upperBound }) {
                Issue.record("round \(round): \(r) is in no span of \(spans)")
            }
        }
    }
}
