import Foundation
import PMem

/// A `PersistentMedia` test double that keeps the image code reads (the
/// cache image) apart from the image that survives power loss (the media
/// image), records every store, flush and fence, and offers a hook at every
/// crash point.
///
/// The model is x86 with ADR: a `store` is visible at once but durable only
/// after a flush of its line and a fence; `storeFlushed` and `fill` are
/// durable after the next fence. Until then each 64-byte-line piece of a store
/// is pending: a crash may have persisted it or not. A flush marks the pending
/// pieces of the lines it covers; a fence applies the marked pieces to the
/// media image in program order. When a newer piece becomes durable, the bytes
/// it overwrote are cut out of older pieces still pending, so a later fence
/// never reverts them.
///
/// Thread safety: every method may be called from any thread. A lock guards
/// the recorded state; cache-image writes are plain `memcpy`s outside it, so
/// callers serialise overlapping stores (as for the real media). Flushes and
/// fences are serialised with each other, hook included.
public final class RecordingMedia: PersistentMedia, @unchecked Sendable {
    public static let lineSize = 64
    public static let wordSize = 8

    /// One entry of the event log.
    public struct Event: Sendable, CustomStringConvertible {
        public enum Kind: Sendable, Equatable {
            case store, storeFlushed, fill(UInt8), flush, fence
        }
        /// Position in the log, from 0; a store's index is its pieces' `sequence`.
        public let index: Int
        public let kind: Kind
        /// The range stored or flushed (0 and 0 for a fence).
        public let offset: Int
        public let count: Int
        public let site: CallSite
        /// The bytes of a store or storeFlushed when payload capture is on (shared
        /// with the pending pieces, not copied); nil otherwise.
        public let payload: [UInt8]?

        public var description: String {
            switch kind {
            case .fence: "#\(index) fence at \(site)"
            case .fill(let byte): "#\(index) fill 0x\(String(byte, radix: 16)) \(offset)+\(count) at \(site)"
            default: "#\(index) \(kind) \(offset)+\(count) at \(site)"
            }
        }
    }

    public struct Counters: Sendable, Equatable {
        /// Calls to store, storeFlushed and fill.
        public var stores = 0
        public var flushes = 0
        public var fences = 0
        /// Bytes written by those calls.
        public var bytesStored = 0

        public init(stores: Int = 0, flushes: Int = 0, fences: Int = 0, bytesStored: Int = 0) {
            self.stores = stores
            self.flushes = flushes
            self.fences = fences
            self.bytesStored = bytesStored
        }
    }

    public let size: Int
    public let isReadOnly: Bool
    public let persistencePath = PersistencePath.recording
    /// Whether store events keep their bytes (`Event.payload`).
    public let capturesPayloads: Bool
    /// The cache image; its address is stable for the life of the instance.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage, count: size) }

    private let storage: UnsafeMutableRawPointer
    /// Guards `state` and `hook`; never held while a hook runs.
    private let lock = NSLock()
    private var state: State
    private var hook: ((CrashPoint) -> Void)?
    /// Serialises flushes and fences. Recursive so that a hook may flush or
    /// fence this same instance (it is then not called again).
    private let pointLock = NSRecursiveLock()
    /// True while the hook runs; guarded by `pointLock`.
    private var inHook = false

    private struct State {
        var media: [UInt8]
        var pending: [PendingPiece] = []
        var events: [Event] = []
        var counters = Counters()
    }

    /// The cache image and the media image both start as `image`. O(image.count).
    public init(image: [UInt8], isReadOnly: Bool = false, capturesPayloads: Bool = true) {
        size = image.count
        self.isReadOnly = isReadOnly
        self.capturesPayloads = capturesPayloads
        let storage = UnsafeMutableRawPointer.allocate(byteCount: max(image.count, 1), alignment: Self.lineSize)
        image.withUnsafeBytes { src in
            if let s = src.baseAddress { storage.copyMemory(from: s, byteCount: src.count) }
        }
        self.storage = storage
        state = State(media: image)
    }

    deinit { storage.deallocate() }

    /// Called at every crash point: before each flush and each fence takes
    /// effect, on the thread that flushes or fences, with the flush/fence
    /// lock held (so a hook must not wait for another thread that flushes or
    /// fences this instance). Calls made from within the hook on this same
    /// instance do not call it again; other instances are independent.
    public var onCrashPoint: ((CrashPoint) -> Void)? {
        get { lock.withLock { hook } }
        set { lock.withLock { hook = newValue } }
    }

    /// What survives a power failure now (a copy-on-write snapshot: holding it
    /// makes the next fence copy the image once).
    public var mediaImage: [UInt8] { lock.withLock { state.media } }
    /// A copy of the cache image.
    public var cacheImage: [UInt8] { Array(bytes) }
    /// Whether the cache image is `image`, byte for byte (memcmp: a generic
    /// `==` over a megabyte costs a debug build tens of milliseconds).
    public func cacheEquals(_ image: [UInt8]) -> Bool {
        image.count == size && (size == 0 || image.withUnsafeBytes { memcmp($0.baseAddress!, storage, size) == 0 })
    }
    /// The crash image with no pending piece persisted, i.e. `mediaImage`.
    public func crashNow() -> [UInt8] { mediaImage }
    /// The pieces not yet durable, in program order.
    public var pendingPieces: [PendingPiece] { lock.withLock { state.pending } }
    /// Every store, flush and fence so far, in program order.
    public var events: [Event] { lock.withLock { state.events } }
    public var counters: Counters { lock.withLock { state.counters } }

    // MARK: PersistentMedia

    public func store(_ src: UnsafeRawBufferPointer, at offset: Int, site: CallSite) {
        recordStore(.store, src, at: offset, site: site)
    }

    public func storeFlushed(_ src: UnsafeRawBufferPointer, at offset: Int, site: CallSite) {
        recordStore(.storeFlushed, src, at: offset, site: site)
    }

    /// O(count): the pieces share one line-sized buffer of `byte`.
    public func fill(_ byte: UInt8, at offset: Int, count: Int, site: CallSite) {
        checkWrite(offset, count)
        (storage + offset).initializeMemory(as: UInt8.self, repeating: byte, count: count)
        let line = [UInt8](repeating: byte, count: min(count, Self.lineSize))
        record(.fill(byte), at: offset, count: count, payload: nil, site: site, flushed: true) { r in line[0..<r.count] }
    }

    /// O(pending pieces).
    public func flush(at offset: Int, count: Int, site: CallSite) {
        checkWrite(offset, count)
        let lines = (offset / Self.lineSize)..<((offset + count + Self.lineSize - 1) / Self.lineSize)
        atCrashPoint(.flush, offset: offset, count: count, site: site) { state in
            for i in state.pending.indices where lines.contains(state.pending[i].line) {
                state.pending[i].isFlushed = true
            }
            state.counters.flushes += 1
        }
    }

    /// O(pending) plus the bytes applied, plus O(still-pending pieces) for each
    /// applied piece that shares a line with an older still-pending one.
    public func fence(site: CallSite) {
        precondition(!isReadOnly, "fence on a read-only mapping")
        atCrashPoint(.fence, offset: 0, count: 0, site: site) { state in
            var kept: [PendingPiece] = []
            var keptLines = Set<Int>()
            state.media.withUnsafeMutableBytes { media in
                for piece in state.pending {
                    guard piece.isFlushed else {
                        kept.append(piece)
                        keptLines.insert(piece.line)
                        continue
                    }
                    piece.write(into: media, origin: 0)
                    if keptLines.contains(piece.line) {
                        kept = kept.flatMap { $0.subtracting(piece.range) }
                    }
                }
            }
            state.pending = kept
            state.counters.fences += 1
        }
    }

    /// Makes nothing durable: the recorder models the weaker path (msync),
    /// where a drain only completes this thread's stores. A crash image
    /// therefore needs a later `fence` for them, which is what daxfs
    /// promises (`Journal.writeStaged` fences before it writes the log).
    public func drain(site: CallSite) {
        precondition(!isReadOnly, "drain on a read-only mapping")
    }

    // MARK: Recording

    private func checkWrite(_ offset: Int, _ count: Int) {
        precondition(!isReadOnly, "store to a read-only mapping")
        precondition(offset >= 0 && count >= 0 && offset <= size - count, "store out of bounds")
    }

    private func recordStore(_ kind: Event.Kind, _ src: UnsafeRawBufferPointer, at offset: Int, site: CallSite) {
        checkWrite(offset, src.count)
        if let s = src.baseAddress { (storage + offset).copyMemory(from: s, byteCount: src.count) }
        let payload = [UInt8](src)
        record(kind, at: offset, count: src.count, payload: capturesPayloads ? payload : nil,
               site: site, flushed: kind != .store) { r in payload[r] }
    }

    /// Logs a store and splits it into one pending piece per line it touches;
    /// `bytes` gives the payload of a range relative to the store's start.
    private func record(_ kind: Event.Kind, at offset: Int, count: Int, payload: [UInt8]?, site: CallSite,
                        flushed: Bool, bytes: (Range<Int>) -> ArraySlice<UInt8>) {
        lock.withLock {
            let sequence = state.events.count
            state.events.append(Event(index: sequence, kind: kind, offset: offset, count: count, site: site, payload: payload))
            var start = offset
            while start < offset + count {
                let end = min(offset + count, (start / Self.lineSize + 1) * Self.lineSize)
                state.pending.append(PendingPiece(sequence: sequence, offset: start, site: site, isFlushed: flushed,
                                                  payload: bytes((start - offset)..<(end - offset))))
                start = end
            }
            state.counters.stores += 1
            state.counters.bytesStored += count
        }
    }

    /// Logs a flush or fence, runs the hook on the state as it is before the
    /// operation, then applies `effect`.
    private func atCrashPoint(_ kind: CrashPoint.Kind, offset: Int, count: Int, site: CallSite,
                              effect: (inout State) -> Void) {
        pointLock.lock()
        defer { pointLock.unlock() }
        do {
            let (point, hook) = lock.withLock { () -> (CrashPoint?, ((CrashPoint) -> Void)?) in
                let index = state.events.count
                state.events.append(Event(index: index, kind: kind == .fence ? .fence : .flush, offset: offset,
                                          count: count, site: site, payload: nil))
                guard !inHook, let hook = self.hook else { return (nil, nil) }
                let location = CrashPoint.Location(kind: kind, eventIndex: index, site: site)
                return (CrashPoint(location: location, media: state.media, pending: state.pending), hook)
            }
            if let point, let hook {
                inHook = true
                defer { inHook = false }
                hook(point)
            }
        }
        lock.withLock { effect(&state) }
    }
}
