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

/// `fill(_:at:count:site:overlapping:)` on a real mapping: the bytes are
/// set, the body runs after the stores are issued but before the msync
/// path registers their pages (the spans' mutex would wait for the stores),
/// and the next fence still finds and takes them.
@Suite(.serialized) struct OverlappedFillTests {
    @Test func theBodyRunsBeforeThePagesAreRegisteredAndTheNextFenceTakesThem() throws {
        let r = TempRegion()
        r.fill(size: 1 << 20, byte: 0xCD)
        let m = try MappedRegion.map(r.path, readOnly: false)
        m.fence()
        var ran = false
        var spansInBody = -1
        m.fill(0, at: 8192, count: 4096, site: CallSite(#fileID, #line), overlapping: {
            ran = true
            spansInBody = m.pendingSpanCount
            #expect(m.bytes[8192] == 0 && m.bytes[8192 + 4095] == 0, "the stores are issued before the body runs")
        })
        #expect(ran)
        #expect(m.read(at: 8192 - 1, count: 4098) == [0xCD] + [UInt8](repeating: 0, count: 4096) + [0xCD])
        if m.persistencePath == .msync {
            #expect(spansInBody == 0, "registered only after the body")
            #expect(m.pendingSpanCount == 1, "registered before the call returns")
            m.fence()
            #expect(m.pendingSpanCount == 0, "the next fence takes them")
        }
        #expect(r.read(at: 8192, count: 4096) == [UInt8](repeating: 0, count: 4096))
    }
}
