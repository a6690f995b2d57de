/// One field of an on-media record: where it is and how wide.
///
/// Each record type lists its fields once, as constants that the encoder and
/// decoder use for their offsets. The same table drives the test that holds
/// man/daxfs.5 to the code, and the field fuzzer.
public struct Field: Sendable, Hashable {
    public enum Kind: String, Sendable { case u8, u16, u32, u64, i64, bytes }
    public var name: String
    public var offset: Int
    public var size: Int
    public var kind: Kind
    @inlinable public init(_ name: String, _ offset: Int, _ size: Int, _ kind: Kind) {
        self.name = name; self.offset = offset; self.size = size; self.kind = kind
    }
    @inlinable public var end: Int { offset + size }
}

/// A record type's layout: its name in man/daxfs.5 and its fields in order.
public struct RecordLayout: Sendable {
    public var name: String
    public var size: Int
    public var fields: [Field]
    public init(name: String, size: Int, fields: [Field]) {
        self.name = name; self.size = size; self.fields = fields
        precondition(RecordLayout.isTiled(fields, size: size), "layout \(name) has gaps or overlaps")
    }

    /// Fields must tile [0, size) with no gap and no overlap.
    static func isTiled(_ fields: [Field], size: Int) -> Bool {
        var at = 0
        for f in fields {
            if f.offset != at { return false }
            at = f.end
        }
        return at == size
    }
}
