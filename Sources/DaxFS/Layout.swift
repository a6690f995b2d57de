import DaxFSFormat

/// Byte ranges of the metadata areas of a formatted region, from its superblock.
public struct Layout: Sendable {
    public let sb: Superblock
    public init(_ sb: Superblock) { self.sb = sb }

    public var primary: Range<Int> { 0..<Superblock.size }
    public var backup: Range<Int> { Int(sb.backupOffset)..<(Int(sb.backupOffset) + Superblock.size) }
    public var log: Range<Int> { Int(sb.logOffset)..<Int(sb.logOffset + sb.logSize) }
    public func slot(_ i: Int) -> Range<Int> {
        precondition(i == 0 || i == 1)
        let start = Int(sb.checkpointOffset) + i * Int(sb.checkpointSlotSize)
        return start..<(start + Int(sb.checkpointSlotSize))
    }
    /// Chunks a checkpoint slot can hold.
    public var slotCapacity: Int { (Int(sb.checkpointSlotSize) - CheckpointHeader.chunksOffset) / CheckpointChunk.size }
}
