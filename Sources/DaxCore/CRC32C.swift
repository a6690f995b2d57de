import CDaxShims

/// CRC32C (Castagnoli), the checksum on every daxfs metadata record.
///
/// `checksum(seed:)` is the standard CRC32C when the seed is 0: the register
/// starts at `~seed` and the result is inverted. Hardware (SSE4.2) is used when
/// the CPU has it; `software` gives bit-identical results.
/// - Complexity: O(n), about 8 bytes per cycle on the hardware path.
public enum CRC32C {
    public static var hardwareAvailable: Bool { daxfs_crc32c_hw_available() != 0 }

    @inlinable
    public static func checksum(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return seed }
        return ~daxfs_crc32c_update(~seed, base, bytes.count)
    }

    public static func checksum(_ bytes: [UInt8], seed: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0, seed: seed) }
    }

    /// Software-only path (slicing-by-8), for tests and non-SSE4.2 CPUs.
    public static func software(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return seed }
        return ~daxfs_crc32c_update_sw(~seed, base, bytes.count)
    }

    /// Hardware-only path; traps when the CPU lacks SSE4.2 (a programmer error).
    public static func hardware(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        precondition(hardwareAvailable, "CRC32C hardware path requested on a CPU without SSE4.2")
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return seed }
        return ~daxfs_crc32c_update_hw(~seed, base, bytes.count)
    }

    /// Incremental form: feed `bytes` into a running raw register.
    @inlinable
    public static func update(_ register: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return register }
        return daxfs_crc32c_update(register, base, bytes.count)
    }
}
