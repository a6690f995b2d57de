/// Recognisable signatures of other formats, so that mkfs refuses to
/// overwrite them without --force (a small subset of what libblkid knows).
public enum ForeignSignature {
    /// How many bytes from offset 0 `detect` looks at.
    public static let probeLength = 65536 + 4096

    /// The name of the first foreign format found in `p` (the start of a region), or nil.
    public static func detect(_ p: UnsafeRawBufferPointer) -> String? {
        func at(_ o: Int, _ s: [UInt8]) -> Bool { o + s.count <= p.count && p.bytes(o, s.count) == s }
        func ascii(_ s: String) -> [UInt8] { Array(s.utf8) }
        if at(0, ascii("XFSB")) { return "an XFS filesystem" }
        if at(1080, [0x53, 0xEF]) { return "an ext2/ext3/ext4 filesystem" }
        if at(0x10040, ascii("_BHRfS_M")) { return "a btrfs filesystem" }
        if at(1024, [0x10, 0x20, 0xF5, 0xF2]) { return "an F2FS filesystem" }
        if at(0, [0x4C, 0x55, 0x4B, 0x53, 0xBA, 0xBE]) { return "a LUKS encrypted volume" }
        if at(0, ascii("hsqs")) { return "a squashfs image" }
        if at(3, ascii("NTFS    ")) { return "an NTFS filesystem" }
        if at(82, ascii("FAT32   ")) || at(54, ascii("FAT16   ")) || at(54, ascii("FAT12   ")) { return "a FAT filesystem" }
        if at(4086, ascii("SWAPSPACE2")) || at(4086, ascii("SWAP-SPACE")) { return "Linux swap space" }
        if at(512, ascii("EFI PART")) { return "a GPT partition table" }
        if at(32769, ascii("CD001")) { return "an ISO 9660 image" }
        if at(510, [0x55, 0xAA]) { return "a DOS partition table or boot sector (0x55AA at byte 510)" }
        return nil
    }
}
