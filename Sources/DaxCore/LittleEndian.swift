import CDaxShims

/// Explicit little-endian access to byte buffers at absolute offsets.
///
/// Naming follows swift-nio: `get`/`set` take an absolute byte offset and never
/// move a cursor. Callers check the buffer length once before decoding a record
/// (a short buffer from media is an environmental error and is thrown there);
/// an out-of-bounds offset here is a programmer error and traps.
extension UnsafeRawBufferPointer {
    @inlinable public func getLE<T: FixedWidthInteger>(_ offset: Int, as: T.Type = T.self) -> T {
        precondition(offset >= 0 && offset + MemoryLayout<T>.size <= count, "getLE out of bounds")
        return T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
    // The fixed widths are written out rather than forwarded to `getLE`: an
    // optimised build specialises either way, but an unoptimised one (tests,
    // and the sanitizer runs in CI) pays a generic metadata lookup per call
    // through `getLE`, which made fsck's scans of the log 3 to 6 times slower.
    @inlinable @inline(__always) public func u8(_ o: Int) -> UInt8 {
        precondition(o >= 0 && o < count, "getLE out of bounds")
        return load(fromByteOffset: o, as: UInt8.self)
    }
    @inlinable @inline(__always) public func u16(_ o: Int) -> UInt16 {
        precondition(o >= 0 && o + 2 <= count, "getLE out of bounds")
        return UInt16(littleEndian: loadUnaligned(fromByteOffset: o, as: UInt16.self))
    }
    @inlinable @inline(__always) public func u32(_ o: Int) -> UInt32 {
        precondition(o >= 0 && o + 4 <= count, "getLE out of bounds")
        return UInt32(littleEndian: loadUnaligned(fromByteOffset: o, as: UInt32.self))
    }
    @inlinable @inline(__always) public func u64(_ o: Int) -> UInt64 {
        precondition(o >= 0 && o + 8 <= count, "getLE out of bounds")
        return UInt64(littleEndian: loadUnaligned(fromByteOffset: o, as: UInt64.self))
    }
    @inlinable @inline(__always) public func i64(_ o: Int) -> Int64 {
        precondition(o >= 0 && o + 8 <= count, "getLE out of bounds")
        return Int64(littleEndian: loadUnaligned(fromByteOffset: o, as: Int64.self))
    }
    /// A copy of `length` bytes at `offset` (one memcpy).
    @inlinable public func bytes(_ offset: Int, _ length: Int) -> [UInt8] {
        precondition(offset >= 0 && length >= 0 && offset + length <= count, "bytes out of bounds")
        return Array(UnsafeRawBufferPointer(rebasing: self[offset..<(offset + length)]))
    }
}

extension UnsafeMutableRawBufferPointer {
    @inlinable @inline(__always) public func setLE<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        precondition(offset >= 0 && offset + MemoryLayout<T>.size <= count, "setLE out of bounds")
        storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
    }
    @inlinable public func setBytes<C: Collection>(_ bytes: C, at offset: Int) where C.Element == UInt8 {
        precondition(offset >= 0 && offset + bytes.count <= count, "setBytes out of bounds")
        var i = offset
        for b in bytes { self[i] = b; i += 1 }
    }
}

/// A fixed-size little-endian record being built in DRAM before it is stored.
public struct RecordBuffer: Sendable {
    public private(set) var bytes: [UInt8]
    public init(size: Int) { bytes = [UInt8](repeating: 0, count: size) }
    public init(bytes: [UInt8]) { self.bytes = bytes }

    public mutating func set<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        bytes.withUnsafeMutableBytes { $0.setLE(value, at: offset) }
    }
    public mutating func set(bytes src: [UInt8], at offset: Int) {
        bytes.withUnsafeMutableBytes { $0.setBytes(src, at: offset) }
    }
    public func get<T: FixedWidthInteger>(_ offset: Int, as: T.Type = T.self) -> T {
        bytes.withUnsafeBytes { $0.getLE(offset) }
    }
    /// CRC32C of bytes [0, end) with the four bytes at `crcOffset` read as zero.
    public func crc(end: Int, excluding crcOffset: Int, seed: UInt32) -> UInt32 {
        bytes.withUnsafeBytes { crcExcluding($0, end: end, crcOffset: crcOffset, seed: seed) }
    }
}

/// CRC32C of `buf[0..<end]` with the 4-byte checksum field at `crcOffset`
/// treated as zero, without copying the buffer.
public func crcExcluding(_ buf: UnsafeRawBufferPointer, end: Int, crcOffset: Int, seed: UInt32) -> UInt32 {
    precondition(crcOffset >= 0 && crcOffset + 4 <= end && end <= buf.count)
    // One C call (replay checks two CRCs per record; three calls and two
    // 4-byte byte loops each were a tenth of a long replay).
    return daxfs_crc32c_excluding(seed, buf.baseAddress!, end, crcOffset)
}
