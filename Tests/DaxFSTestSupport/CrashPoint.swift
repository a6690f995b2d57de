import PMem

/// The part of one store that falls in one 64-byte cache line and is not yet
/// durable: the unit that a crash may or may not have persisted.
///
/// Its bytes share the storage of the store's payload (no copy per piece).
public struct PendingPiece: Sendable, CustomStringConvertible {
    /// The event index of the store that made the piece: program order.
    public let sequence: Int
    /// Absolute media offset of the first byte.
    public let offset: Int
    public let site: CallSite
    /// True once a flush covered the piece's line (or it came from
    /// `storeFlushed`/`fill`): the next fence makes it durable.
    public internal(set) var isFlushed: Bool
    let payload: ArraySlice<UInt8>

    init(sequence: Int, offset: Int, site: CallSite, isFlushed: Bool, payload: ArraySlice<UInt8>) {
        self.sequence = sequence
        self.offset = offset
        self.site = site
        self.isFlushed = isFlushed
        self.payload = payload
    }

    public var count: Int { payload.count }
    public var range: Range<Int> { offset..<(offset + payload.count) }
    /// A copy of the stored bytes.
    public var bytes: [UInt8] { Array(payload) }
    /// The cache line number (offset / 64).
    public var line: Int { offset / RecordingMedia.lineSize }
    /// The aligned 8-byte words the piece touches, as word numbers (offset / 8).
    /// At most 8, since a piece never crosses a line.
    public var words: Range<Int> {
        (offset / RecordingMedia.wordSize)..<((offset + count + RecordingMedia.wordSize - 1) / RecordingMedia.wordSize)
    }
    /// True when a power failure can persist some of its words and not others.
    public var canTear: Bool { words.count > 1 }

    public var description: String {
        "seq \(sequence) \(offset)+\(count) line \(line)\(isFlushed ? " flushed" : "") at \(site)"
    }

    /// Copies the piece into `destination`, whose first byte is media offset
    /// `origin`. With `words`, only the bytes of those words are copied: bit i
    /// stands for the i-th word of `words` (the piece's first word is bit 0).
    func write(into destination: UnsafeMutableRawBufferPointer, origin: Int, words mask: UInt8? = nil) {
        let start = offset - origin
        payload.withUnsafeBytes { src in
            guard let mask else {
                UnsafeMutableRawBufferPointer(rebasing: destination[start..<(start + src.count)]).copyMemory(from: src)
                return
            }
            let firstWord = words.lowerBound
            for i in 0..<src.count where mask & (1 << ((offset + i) / RecordingMedia.wordSize - firstWord)) != 0 {
                destination[start + i] = src[i]
            }
        }
    }

    /// The piece without the bytes of `other`: zero, one or two pieces.
    func subtracting(_ other: Range<Int>) -> [PendingPiece] {
        guard range.overlaps(other) else { return [self] }
        var out: [PendingPiece] = []
        if offset < other.lowerBound { out.append(slice(offset..<other.lowerBound)) }
        if other.upperBound < range.upperBound { out.append(slice(other.upperBound..<range.upperBound)) }
        return out
    }

    private func slice(_ r: Range<Int>) -> PendingPiece {
        let base = payload.startIndex - offset
        return PendingPiece(sequence: sequence, offset: r.lowerBound, site: site, isFlushed: isFlushed,
                            payload: payload[(base + r.lowerBound)..<(base + r.upperBound)])
    }
}

/// A moment at which the harness simulates a power failure: just before a
/// flush or a fence takes effect.
///
/// `media` is what had certainly survived; each piece of `pending` may or may
/// not have survived as well (whole, or torn at 8-byte granularity).
/// `CrashImages` enumerates the combinations.
public struct CrashPoint: Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable { case flush, fence }

    /// Where the crash point is: enough to name it in a report.
    public struct Location: Sendable, Hashable, CustomStringConvertible {
        public let kind: Kind
        /// The index of the flush or fence event in the recording's event log.
        public let eventIndex: Int
        public let site: CallSite
        public var description: String { "before \(kind) #\(eventIndex) at \(site)" }
    }

    public let location: Location
    /// The media image: what survives a power failure with no pending piece persisted.
    public let media: [UInt8]
    /// Stores not yet durable, in program order.
    public let pending: [PendingPiece]

    public var kind: Kind { location.kind }
    public var eventIndex: Int { location.eventIndex }
    public var site: CallSite { location.site }
    public var description: String { "\(location): \(pending.count) pending pieces" }
}
