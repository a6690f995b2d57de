/* Shim for libndctl: the NVDIMM namespace behind a device-DAX (mode, NUMA node). */
#ifndef DAXFS_CNDCTL_SHIM_H
#define DAXFS_CNDCTL_SHIM_H
#include <ndctl/libndctl.h>

/* enum values Swift imports awkwardly, re-exported as plain ints. */
static const int daxfs_NDCTL_NS_MODE_DEVDAX = NDCTL_NS_MODE_DEVDAX;
static const int daxfs_NDCTL_NS_MODE_FSDAX = NDCTL_NS_MODE_FSDAX;
static const int daxfs_NDCTL_NS_MODE_RAW = NDCTL_NS_MODE_RAW;
static const int daxfs_NDCTL_NS_MODE_SECTOR = NDCTL_NS_MODE_SECTOR;
#endif
