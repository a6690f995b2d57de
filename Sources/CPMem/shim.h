/* Shim for libpmem: Swift sees the API through this header only. */
#ifndef DAXFS_CPMEM_SHIM_H
#define DAXFS_CPMEM_SHIM_H
#include <libpmem.h>

/* Macros Swift cannot import, re-exported as constants. */
static const int daxfs_PMEM_FILE_CREATE = PMEM_FILE_CREATE;
static const int daxfs_PMEM_FILE_EXCL = PMEM_FILE_EXCL;
static const int daxfs_PMEM_FILE_SPARSE = PMEM_FILE_SPARSE;
static const unsigned daxfs_PMEM_F_MEM_NODRAIN = PMEM_F_MEM_NODRAIN;
static const unsigned daxfs_PMEM_F_MEM_NONTEMPORAL = PMEM_F_MEM_NONTEMPORAL;
static const unsigned daxfs_PMEM_F_MEM_NOFLUSH = PMEM_F_MEM_NOFLUSH;
static const unsigned daxfs_PMEM_MAJOR_VERSION = PMEM_MAJOR_VERSION;
static const unsigned daxfs_PMEM_MINOR_VERSION = PMEM_MINOR_VERSION;

/* pmem_map_file and pmem_errormsg are macros (U/W variants) in libpmem.h. */
static inline void *daxfs_pmem_map_file(const char *path, size_t len, int flags,
                                        mode_t mode, size_t *mapped_lenp, int *is_pmemp) {
    return pmem_map_file(path, len, flags, mode, mapped_lenp, is_pmemp);
}
static inline const char *daxfs_pmem_errormsg(void) { return pmem_errormsg(); }
static inline const char *daxfs_pmem_check_version(void) {
    return pmem_check_version(PMEM_MAJOR_VERSION, PMEM_MINOR_VERSION);
}
#endif
