/* Shim for libdaxctl: device-DAX discovery (size, alignment, target node). */
#ifndef DAXFS_CDAXCTL_SHIM_H
#define DAXFS_CDAXCTL_SHIM_H
#include <daxctl/libdaxctl.h>
#endif
