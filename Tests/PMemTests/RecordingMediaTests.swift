import Foundation
import Testing
import DaxFSTestSupport
import PMem

/// `count` bytes that are never zero, so that any persisted byte differs from a zeroed media.
private func pattern(_ count: Int, from start: Int = 0) -> [UInt8] {
    (0..<count).map { UInt8((start + $0) % 255 + 1) }
}

private func zeroed(_ size: Int = 4096) -> RecordingMedia {
    RecordingMedia(image: [UInt8](repeating: 0, count: size))
}

/// The crash points `media` reaches while `body` runs.
private func crashPoints(_ media: RecordingMedia, _ body: () -> Void) -> [CrashPoint] {
    var points: [CrashPoint] = []
    media.onCrashPoint = { points.append($0) }
    body()
    media.onCrashPoint = nil
    return points
}

/// A fence's crash point with `n` untearable pieces (aligned words), one per line.
private func pointWithWords(_ n: Int, values: (Int) -> UInt64 = { UInt64($0 + 1) }) -> CrashPoint? {
    let media = zeroed()
    for i in 0..<n { media.storeWord(values(i), at: i * 64) }
    return crashPoints(media) { media.fence() }.first
}

/// The first offset where two images differ, or nil: short failure messages.
private func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> Int? {
    zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? (a.count == b.count ? nil : min(a.count, b.count))
}

/// The media offsets an image changes.
private func changedOffsets(_ image: CrashImage) -> Set<Int> {
    Set(image.delta.flatMap { $0.offset..<($0.offset + $0.bytes.count) })
}

struct RecordingMediaTests {
    @Test func describesItself() {
        let media = RecordingMedia(image: [1, 2, 3], isReadOnly: true)
        #expect(media.size == 3 && media.isReadOnly && media.persistencePath == .recording)
        #expect(media.read(at: 0, count: 3) == [1, 2, 3])
    }

    @Test func theCacheImageStaysAtOneAddress() {
        let media = zeroed()
        let address = media.bytes.baseAddress
        for i in 0..<64 { media.store(pattern(64, from: i), at: i * 64) }
        media.persist(at: 0, count: 4096)
        #expect(media.bytes.baseAddress == address)
        #expect(firstDifference(media.cacheImage, media.mediaImage) == nil)
    }

    @Test func anUnflushedStoreIsNotDurableButAppearsInACrashImage() throws {
        let media = zeroed()
        media.store(pattern(16), at: 100)
        media.fence()
        #expect(media.read(at: 100, count: 16) == pattern(16))
        #expect(media.mediaImage[100..<116].allSatisfy { $0 == 0 })
        #expect(firstDifference(media.crashNow(), media.mediaImage) == nil)
        #expect(media.pendingPieces.map(\.isFlushed) == [false])

        let point = try #require(crashPoints(media) { media.fence() }.first)
        let images = CrashImages(point: point, seed: 1).images().images.map { $0.materialize(base: point.media) }
        #expect(images.contains { Array($0[100..<116]) == pattern(16) })
        #expect(images.contains { firstDifference($0, point.media) == nil })
    }

    @Test func storeFlushedAndFillAreDurableAfterTheNextFence() {
        let media = zeroed()
        media.storeFlushed(pattern(100), at: 10)
        media.fill(0xAB, at: 1000, count: 300)
        #expect(firstDifference(media.mediaImage, [UInt8](repeating: 0, count: 4096)) == nil)
        #expect(media.pendingPieces.allSatisfy { $0.isFlushed })
        media.fence()
        #expect(media.pendingPieces.isEmpty)
        #expect(firstDifference(media.mediaImage, media.cacheImage) == nil)
        #expect(Array(media.mediaImage[1000..<1300]) == [UInt8](repeating: 0xAB, count: 300))
        #expect(media.counters == .init(stores: 2, flushes: 0, fences: 1, bytesStored: 400))
    }

    @Test func aFlushMarksOnlyThePiecesOfTheLinesItCovers() {
        let media = zeroed()
        media.store(pattern(200), at: 32)
        #expect(media.pendingPieces.map(\.range) == [32..<64, 64..<128, 128..<192, 192..<232])
        media.flush(at: 70, count: 1)
        #expect(media.pendingPieces.map(\.isFlushed) == [false, true, false, false])
        media.fence()
        let durable = media.mediaImage
        #expect(Array(durable[64..<128]) == Array(pattern(200)[32..<96]))
        #expect(durable[32..<64].allSatisfy { $0 == 0 } && durable[128..<232].allSatisfy { $0 == 0 })
        #expect(media.pendingPieces.map(\.range) == [32..<64, 128..<192, 192..<232])
        #expect(media.pendingPieces.allSatisfy { $0.sequence == 0 && !$0.isFlushed })
    }

    @Test func anOlderPendingStoreNeverRevertsNewerDurableBytes() {
        let media = zeroed()
        media.store([UInt8](repeating: 1, count: 16), at: 0)
        media.storeFlushed([UInt8](repeating: 2, count: 8), at: 8)
        media.fence()
        #expect(media.pendingPieces.map(\.range) == [0..<8])
        media.persist(at: 0, count: 16)
        #expect(Array(media.mediaImage[0..<16]) == [UInt8](repeating: 1, count: 8) + [UInt8](repeating: 2, count: 8))
        #expect(firstDifference(media.mediaImage, media.cacheImage) == nil)
    }

    @Test func theHookSeesEveryFlushAndFenceBeforeItTakesEffect() {
        let media = zeroed()
        let points = crashPoints(media) {
            media.store(pattern(8), at: 0)          // event 0
            media.flush(at: 0, count: 8)            // 1
            media.store(pattern(8), at: 64)         // 2
            media.fence()                           // 3
            media.fill(1, at: 128, count: 8)        // 4
            media.fence()                           // 5
            media.fence()                           // 6
        }
        #expect(points.map(\.kind) == [.flush, .fence, .fence, .fence])
        #expect(points.map(\.eventIndex) == [1, 3, 5, 6])
        #expect(points.map { $0.pending.map(\.sequence) } == [[0], [0, 2], [2, 4], [2]])
        #expect(points.map { $0.pending.map(\.isFlushed) } == [[false], [true, false], [false, true], [false]])
        #expect(points[1].media[0..<8].allSatisfy { $0 == 0 })
        #expect(Array(points[2].media[0..<8]) == pattern(8))
        #expect(points.allSatisfy { $0.site.fileID.hasSuffix("RecordingMediaTests.swift") })
        #expect(media.events.map(\.index) == Array(0..<7))
        #expect(media.events.map(\.kind) == [.store, .flush, .store, .fence, .fill(1), .fence, .fence])
    }

    @Test func theHookIsNotReenteredOnTheSameInstance() {
        let media = zeroed()
        var calls = 0, innerCalls = 0
        media.onCrashPoint = { point in
            calls += 1
            media.fence()
            let copy = RecordingMedia(image: point.media)
            copy.onCrashPoint = { _ in innerCalls += 1 }
            copy.store([1], at: 0)
            copy.persist(at: 0, count: 1)
        }
        media.store([9], at: 0)
        media.persist(at: 0, count: 1)
        media.onCrashPoint = nil
        #expect(calls == 2)
        #expect(innerCalls == 4)
        #expect(media.counters.fences == 3)
    }

    @Test func storesFromSeveralThreadsAreAllRecorded() {
        let media = zeroed()
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            media.store(pattern(64, from: i), at: i * 64)
            media.persist(at: i * 64, count: 64)
        }
        #expect(media.counters == .init(stores: 64, flushes: 64, fences: 64, bytesStored: 4096))
        #expect(media.pendingPieces.isEmpty)
        #expect(firstDifference(media.mediaImage, media.cacheImage) == nil)
        #expect(media.events.map(\.index) == Array(0..<192))
    }

    @Test func payloadCaptureCanBeTurnedOff() {
        let media = RecordingMedia(image: [UInt8](repeating: 0, count: 128), capturesPayloads: false)
        media.store(pattern(4), at: 0)
        #expect(media.events.map(\.payload) == [nil])
        #expect(media.pendingPieces.map(\.bytes) == [pattern(4)])
        let capturing = zeroed(128)
        capturing.store(pattern(4), at: 0)
        #expect(capturing.events.map(\.payload) == [pattern(4)])
    }
}

struct CrashImagesTests {
    @Test func threePiecesGiveNoneSinglesPairsAndAll() throws {
        let point = try #require(pointWithWords(3))
        let images = CrashImages(point: point, seed: 1)
        let generated = images.tallies.mapValues(\.generated)
        #expect(generated == [.none: 1, .single: 3, .pair: 3, .all: 1, .powerset: 0, .torn: 0])
        #expect(images.subsets.map { $0.choices.map(\.piece) } ==
                [[], [0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]])
        let report = images.images().report
        #expect(report.candidates == 8 && report.unique == 8 && report.isExhaustive)
    }

    @Test(arguments: 0...10) func upToTheLimitTheSubsetsAreThePowerset(n: Int) throws {
        let point = try #require(pointWithWords(n))
        let images = CrashImages(point: point, seed: 2)
        let t = images.tallies
        #expect(t[.single]?.generated == n && t[.pair]?.generated == n * (n - 1) / 2)
        #expect(t[.all]?.generated == (n >= 3 ? 1 : 0) && t[.random] == nil)
        let subsets = images.subsets.map { $0.choices.map(\.piece) }
        #expect(subsets.count == 1 << n)
        #expect(Set(subsets).count == 1 << n)
        #expect(images.images().report.unique == 1 << n)
    }

    @Test func pastTheLimitRandomSubsetsReplaceThePowerset() throws {
        let point = try #require(pointWithWords(12))
        let images = CrashImages(point: point, seed: 3)
        #expect(images.tallies[.powerset] == nil && images.tallies[.random]?.generated == 64)
        let random = images.subsets.filter { $0.category == .random }
        #expect(random.count == 64)
        #expect(random.allSatisfy { (3..<12).contains($0.choices.count) })
        #expect(images.subsets.count == 1 + 12 + 66 + 1 + 64)
    }

    @Test func identicalImagesAreDeduplicated() throws {
        // Two stores rewrite bytes the media already holds.
        let point = try #require(pointWithWords(3) { $0 == 2 ? 5 : 0 })
        let (images, report) = CrashImages(point: point, seed: 4).images()
        #expect(report.candidates == 8 && report.unique == 2 && report.duplicates == 6)
        #expect(images.map { changedOffsets($0) } == [[], Set(128..<129)])
    }

    @Test func tornVariantsChangeWholeWordsOfOnePieceOnly() throws {
        let media = zeroed()
        media.store(pattern(64), at: 128)           // one line, 8 words
        media.store(pattern(12, from: 70), at: 260) // straddles words 32 and 33
        media.storeWord(7, at: 512)                 // one word: never torn
        let point = try #require(crashPoints(media) { media.fence() }.first)
        let images = CrashImages(point: point, seed: 5)
        let torn = images.subsets.filter { $0.category == .torn }
        #expect(torn.map { $0.choices.map(\.piece) } == [[0], [0], [1], [1]])
        #expect(torn.map { $0.choices[0].words } .enumerated().allSatisfy { $0.offset % 2 == 1 || $0.element == 1 })
        for subset in torn {
            let piece = point.pending[subset.choices[0].piece]
            let changed = changedOffsets(images.image(of: subset))
            let words = Set(changed.map { $0 / 8 })
            #expect(changed.allSatisfy(piece.range.contains))
            #expect(!words.isEmpty && words.count < piece.words.count)
            for word in words {
                #expect(piece.range.clamped(to: (word * 8)..<(word * 8 + 8)).allSatisfy(changed.contains))
            }
        }
    }

    @Test func randomSubsetsTearAtMostOnePieceToAProperSubsetOfItsWords() throws {
        let media = zeroed()
        for i in 0..<12 { media.store(pattern(64, from: i), at: i * 64) }
        let point = try #require(crashPoints(media) { media.fence() }.first)
        let images = CrashImages(point: point, seed: 11)
        let random = images.subsets.filter { $0.category == .random }
        let torn = random.filter { $0.choices.contains { $0.words != nil } }
        #expect(!torn.isEmpty && torn.count < random.count)
        for subset in torn {
            let choices = subset.choices.filter { $0.words != nil }
            let choice = try #require(choices.first)
            let mask = try #require(choice.words)
            #expect(choices.count == 1 && mask != 0 && mask != 0xFF)
            let piece = point.pending[choice.piece]
            let words = Set(changedOffsets(images.image(of: subset)).filter(piece.range.contains).map { $0 / 8 })
            #expect(words == Set(piece.words.filter { mask & (1 << ($0 - piece.words.lowerBound)) != 0 }))
        }
    }

    @Test func theSameSeedGivesTheSameImages() throws {
        let media = zeroed(1 << 14)
        for i in 0..<14 { media.store(pattern(24, from: i), at: i * 64 + 4) }
        let point = try #require(crashPoints(media) { media.fence() }.first)
        let hashes = { (seed: UInt64) in CrashImages(point: point, seed: seed).images().images.map(\.hash) }
        #expect(hashes(42) == hashes(42))
        #expect(hashes(42) != hashes(43))
        let subsets = CrashImages(point: point, seed: 42).subsets
        #expect(subsets.contains { $0.category == .random && $0.choices.contains { $0.words != nil } })
    }

    @Test func aBoundedConfigurationCapsImagesAndSaysWhatItSampled() throws {
        let media = zeroed(1 << 14)
        media.store(pattern(40 * 64), at: 0)
        let point = try #require(crashPoints(media) { media.fence() }.first)
        let bounded = CrashImages(point: point, seed: 6, configuration: .bounded)
        let report = bounded.images().report
        #expect(report.candidates == 48)
        #expect(bounded.tallies.values.map(\.generated).reduce(0, +) == 48)
        #expect(bounded.tallies[.none]?.generated == 1 && bounded.tallies[.all]?.generated == 1)
        #expect(bounded.tallies[.pair]?.possible == 780 && bounded.tallies[.pair]?.generated == 12)
        #expect(!report.isExhaustive && report.description.contains("pair 12 sampled of 780"))
        let subsets = bounded.subsets
        #expect(Set(subsets.map { $0.choices }).count == subsets.count)

        let full = CrashImages(point: point, seed: 6)
        #expect(full.tallies.values.allSatisfy { $0.isExhaustive })
        #expect(full.subsets.count == 1 + 40 + 780 + 1 + 64 + 80)
    }

    @Test func aReusableBufferMatchesMaterializedImages() throws {
        let media = zeroed()
        for i in 0..<5 { media.store(pattern(20, from: i), at: i * 100) }
        let point = try #require(crashPoints(media) { media.fence() }.first)
        var buffer = CrashImageBuffer(base: point.media)
        for image in CrashImages(point: point, seed: 7).images().images {
            buffer.load(image)
            #expect(firstDifference(buffer.bytes, image.materialize(base: point.media)) == nil)
        }
    }

    @Test func aSavedFailureReloadsByteForByte() throws {
        let scratch = TempRegion()
        let media = zeroed()
        media.store(pattern(16), at: 0)
        let point = try #require(crashPoints(media) { media.flush(at: 0, count: 16) }.first)
        let images = CrashImages(point: point, seed: 8)
        let image = try #require(images.images().images.last)
        let dir = try CrashFailure.write(name: "unit test", image: image, point: point, events: media.events,
                                         replayTest: "PMemTests.CrashImagesTests", root: scratch.directory)
        #expect(dir.hasPrefix(scratch.directory + "/unit-test-"))
        #expect(firstDifference(try CrashFailure.load(dir), image.materialize(base: point.media)) == nil)
        let read = { (file: String) in (try? String(contentsOfFile: dir + "/" + file, encoding: .utf8)) ?? "" }
        #expect(read("README") == "DAXFS_CRASH_REPLAY='\(dir)' swift test --filter 'PMemTests.CrashImagesTests'\n")
        #expect(read("seed.txt") == "8\n")
        #expect(read("store-log.txt").contains("#1 flush 0+16 at PMemTests/RecordingMediaTests.swift"))
        #expect(read("store-log.txt").contains("<== crash point"))
        #expect(read("subset.txt").contains("* #0 seq 0 0+16"))
        let again = try CrashFailure.write(name: "unit test", image: image, point: point, events: media.events,
                                           replayTest: "x", root: scratch.directory)
        #expect(again != dir)
    }
}
