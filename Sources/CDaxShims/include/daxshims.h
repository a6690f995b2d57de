/*
 * C helpers for daxfs that Swift cannot express directly.
 *
 * CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as used by iSCSI,
 * ext4 metadata_csum and XFS v5.  Every on-media record of daxfs carries one.
 * The hardware path uses the SSE4.2 crc32 instruction; the software path is
 * slicing-by-8 and gives identical results (the tests hold them together).
 *
 * The functions take and return the *raw* register value: callers start with
 * ~0 and finish with ~crc, exactly as daxfs_crc32c() does.
 */
#ifndef DAXFS_SHIMS_H
#define DAXFS_SHIMS_H
#include <stddef.h>
#include <stdint.h>

/* 1 when the CPU has SSE4.2 (checked once, thread-safe). */
int daxfs_crc32c_hw_available(void);

/* Update a raw CRC32C register with len bytes. Picks hardware when available. */
uint32_t daxfs_crc32c_update(uint32_t crc, const void *buf, size_t len);
/* The same, forced to the software table path. */
uint32_t daxfs_crc32c_update_sw(uint32_t crc, const void *buf, size_t len);
/* The same, forced to the hardware path; only call when hw is available. */
uint32_t daxfs_crc32c_update_hw(uint32_t crc, const void *buf, size_t len);

/* The CRC32C of len bytes at buf, seeded with `seed`, with the 4 bytes at
 * crc_off read as zero (a record's own checksum field); needs
 * crc_off + 4 <= len. The same value as feeding the three pieces, in one
 * call with no byte loop: the field's word is copied and cleared. */
uint32_t daxfs_crc32c_excluding(uint32_t seed, const void *buf, size_t len, size_t crc_off);

/* Convenience: the standard CRC32C of a buffer, seeded with `seed` (0 = standard). */
static inline uint32_t daxfs_crc32c(uint32_t seed, const void *buf, size_t len) {
    return ~daxfs_crc32c_update(~seed, buf, len);
}


/* Linux constants and macros that need _GNU_SOURCE, which Swift's Glibc lacks. */
#include <sys/types.h>
#include <sys/sysmacros.h>
static const int daxfs_F_OFD_SETLK = 37;   /* F_OFD_SETLK from <fcntl.h> with _GNU_SOURCE */
static const int daxfs_F_OFD_GETLK = 36;
static const int daxfs_SEEK_DATA = 3;
static const int daxfs_SEEK_HOLE = 4;
static inline unsigned daxfs_major(dev_t d) { return major(d); }
static inline unsigned daxfs_minor(dev_t d) { return minor(d); }

/* copy_file_range(2), which glibc declares only with _GNU_SOURCE; NULL
 * offsets use and move the file position, as the system call does. */
#include <unistd.h>
#include <sys/syscall.h>
static inline long daxfs_copy_file_range(int fd_in, int64_t *off_in, int fd_out, int64_t *off_out,
                                         size_t len, unsigned flags) {
    return syscall(SYS_copy_file_range, fd_in, off_in, fd_out, off_out, len, flags);
}
#endif
