import DaxCore

/// How mkfs lays out a region, and the limits of format v1.
///
/// ```
/// 0            block_size                                           region_size
/// | superblock | log | checkpoint slot 0 | checkpoint slot 1 | data ... | backup sb |
/// ```
/// Everything is block-aligned. The data area starts right after the second
/// checkpoint slot; allocations aligned to 2 MiB or 1 GiB are aligned to the
/// region offset (which is what the device alignment guarantees physically).
public enum Geometry {
    public static let blockSizes: [UInt32] = [4096, 8192, 16384, 32768, 65536]
    public static let allocUnits: [UInt32] = [4096, 2 << 20, 1 << 30]
    public static let defaultBlockSize: UInt32 = 4096
    public static let minimumLogSize: UInt64 = 64 << 10
    public static let minimumCheckpointSlotSize: UInt64 = 64 << 10
    public static let maximumLogSize: UInt64 = 256 << 20
    public static let maximumCheckpointSlotSize: UInt64 = 2 << 30
    public static let minimumDataBlocks: UInt64 = 16
    /// The largest file size: 2^60 bytes (1 EiB). Beyond it writes get EFBIG.
    public static let maximumFileSize: UInt64 = 1 << 60

    public struct Request: Sendable {
        public var regionSize: UInt64
        public var blockSize: UInt32 = defaultBlockSize
        public var allocUnit: UInt32 = 4096
        public var logSize: UInt64? = nil
        public var checkpointSlotSize: UInt64? = nil
        /// The device alignment for a device-DAX; nil for a file.
        public var deviceAlignment: UInt64? = nil
        public init(regionSize: UInt64) { self.regionSize = regionSize }
    }

    /// The size every region must be a multiple of: the block size and the
    /// allocation unit for a file, the block size and the device alignment
    /// for a device-DAX (whose size is fixed).
    public static func sizeAlignment(_ r: Request) -> UInt64 {
        if let dev = r.deviceAlignment { return max(UInt64(r.blockSize), dev) }
        return max(UInt64(r.blockSize), UInt64(r.allocUnit))
    }

    /// Default log size: 1/128 of the region, between 64 KiB and 256 MiB.
    public static func defaultLogSize(regionSize: UInt64, blockSize: UInt32) -> UInt64 {
        clamp(regionSize / 128, minimumLogSize, maximumLogSize).roundedDown(to: UInt64(blockSize))
    }

    /// Default checkpoint slot: 1/128 of the region, between 64 KiB and 2 GiB.
    /// Up to the 2 GiB cap (regions of 256 GiB) that holds the worst case of
    /// one extent per two 4 KiB data blocks; beyond it, a region whose
    /// metadata would outgrow the slot gets ENOSPC, and --checkpoint-size
    /// cannot raise it past 2 GiB in format v1.
    public static func defaultCheckpointSlotSize(regionSize: UInt64, blockSize: UInt32) -> UInt64 {
        clamp(regionSize / 128, minimumCheckpointSlotSize, maximumCheckpointSlotSize).roundedDown(to: UInt64(blockSize))
    }

    static func clamp(_ v: UInt64, _ lo: UInt64, _ hi: UInt64) -> UInt64 { min(max(v, lo), hi) }

    /// Plans a layout, or throws EINVAL with a message that says what would be valid.
    public static func plan(_ r: Request, uuid: [UInt8], label: String, logSalt: UInt64, mkfsTime: UInt64) throws -> Superblock {
        guard blockSizes.contains(r.blockSize) else {
            throw DaxError(.EINVAL, "block size \(r.blockSize) is not supported (use 4K, 8K, 16K, 32K or 64K)")
        }
        guard allocUnits.contains(r.allocUnit) else {
            throw DaxError(.EINVAL, "allocation unit \(ByteSize.exact(UInt64(r.allocUnit))) is not supported (use 4K, 2M or 1G)")
        }
        guard r.allocUnit >= r.blockSize else {
            throw DaxError(.EINVAL, "allocation unit \(ByteSize.exact(UInt64(r.allocUnit))) is smaller than the block size \(ByteSize.exact(UInt64(r.blockSize)))")
        }
        guard label.utf8.count <= Superblock.labelCapacity else {
            throw DaxError(.EINVAL, "label is \(label.utf8.count) bytes; the limit is \(Superblock.labelCapacity)")
        }
        guard r.regionSize > 0 else { throw DaxError(.EINVAL, "region size must be greater than zero") }
        if UInt64(r.allocUnit) > r.regionSize {
            throw DaxError(.EINVAL, "allocation unit \(ByteSize.exact(UInt64(r.allocUnit))) is larger than the region (\(ByteSize.exact(r.regionSize)))")
        }
        let align = sizeAlignment(r)
        if r.regionSize % align != 0 {
            let down = r.regionSize.roundedDown(to: align), up = r.regionSize.roundedUp(to: align)
            let nearest = (r.regionSize - down <= up - r.regionSize && down > 0) ? down : up
            throw DaxError(.EINVAL, "region size \(r.regionSize) is not a multiple of \(ByteSize.exact(align)); the nearest valid size is \(ByteSize.exact(nearest)) (\(nearest) bytes)")
        }
        let bs = UInt64(r.blockSize)
        let logSize = r.logSize ?? defaultLogSize(regionSize: r.regionSize, blockSize: r.blockSize)
        let slot = r.checkpointSlotSize ?? defaultCheckpointSlotSize(regionSize: r.regionSize, blockSize: r.blockSize)
        for (name, v, lo, hi) in [("log size", logSize, minimumLogSize, maximumLogSize),
                                  ("checkpoint size", slot, minimumCheckpointSlotSize, maximumCheckpointSlotSize)] {
            guard v >= lo, v <= hi, v % bs == 0 else {
                throw DaxError(.EINVAL, "\(name) \(ByteSize.exact(v)) must be a multiple of the block size between \(ByteSize.exact(lo)) and \(ByteSize.exact(hi))")
            }
        }
        let logOffset = bs
        let ckptOffset = logOffset + logSize
        let dataOffset = ckptOffset + 2 * slot
        let minimum = minimumRegionSize(r, logSize: logSize, slot: slot)
        guard r.regionSize >= minimum else {
            throw DaxError(.EINVAL, "region of \(ByteSize.exact(r.regionSize)) is too small: with these options daxfs needs at least \(ByteSize.exact(minimum)) (\(minimum) bytes)")
        }
        let backupOffset = r.regionSize - bs
        return Superblock(uuid: uuid, label: label, regionSize: r.regionSize, blockSize: r.blockSize,
                          allocUnit: r.allocUnit, logOffset: logOffset, logSize: logSize,
                          checkpointOffset: ckptOffset, checkpointSlotSize: slot, dataOffset: dataOffset,
                          dataSize: backupOffset - dataOffset, backupOffset: backupOffset,
                          logSalt: logSalt, mkfsTime: mkfsTime)
    }

    /// The smallest region that holds the metadata, 16 data blocks and one
    /// aligned allocation unit, rounded up to the size alignment.
    public static func minimumRegionSize(_ r: Request, logSize: UInt64, slot: UInt64) -> UInt64 {
        let bs = UInt64(r.blockSize), unit = UInt64(r.allocUnit)
        let dataOffset = bs + logSize + 2 * slot
        let firstAlignedUnit = dataOffset.roundedUp(to: unit)
        let dataEnd = max(firstAlignedUnit + unit, dataOffset + minimumDataBlocks * bs)
        return (dataEnd + bs).roundedUp(to: sizeAlignment(r))
    }
}
