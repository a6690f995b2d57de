/*
 * daxpoke: read or overwrite bytes of a device-DAX (or a file) through mmap.
 *
 * A device-DAX character device has no read(2) or write(2) (only mmap), so
 * dd cannot corrupt or inspect it; the VM test uses this instead.
 *
 *   daxpoke DEV OFFSET LEN peek          print LEN bytes at OFFSET as hex
 *   daxpoke DEV OFFSET LEN random        overwrite them with random bytes
 *   daxpoke DEV OFFSET LEN fill BYTE     overwrite them with BYTE (0..255)
 *   daxpoke DEV OFFSET LEN hex HEX       overwrite them with HEX (as peek prints it)
 *
 * The whole device is mapped (its size comes from sysfs for a char device),
 * since device-DAX refuses a mapping that is not aligned to the device, and
 * written lines are flushed with clflush (msync fails with EINVAL there).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <immintrin.h>

static int die(const char *what) { fprintf(stderr, "daxpoke: %s: %s\n", what, strerror(errno)); return 1; }

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: daxpoke DEV OFFSET LEN peek|random|fill BYTE|hex HEX\n"); return 2; }
    const char *path = argv[1], *op = argv[4];
    uint64_t off = strtoull(argv[2], 0, 0), len = strtoull(argv[3], 0, 0);
    int writing = strcmp(op, "peek") != 0;
    int fd = open(path, writing ? O_RDWR : O_RDONLY);
    if (fd < 0) return die(path);
    struct stat st;
    if (fstat(fd, &st)) return die("fstat");
    uint64_t size = (uint64_t)st.st_size;
    if (S_ISCHR(st.st_mode)) {
        char p[128];
        snprintf(p, sizeof p, "/sys/dev/char/%u:%u/size", major(st.st_rdev), minor(st.st_rdev));
        FILE *f = fopen(p, "r");
        if (!f || fscanf(f, "%llu", (unsigned long long *)&size) != 1) return die(p);
        fclose(f);
    }
    if (off + len > size || len == 0) { fprintf(stderr, "daxpoke: range %llu+%llu outside %llu bytes\n",
                                                (unsigned long long)off, (unsigned long long)len, (unsigned long long)size); return 2; }
    uint8_t *m = mmap(NULL, size, writing ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) return die("mmap");
    if (!writing) {
        for (uint64_t i = 0; i < len; i++) printf("%02x%s", m[off + i], (i % 32 == 31 || i + 1 == len) ? "\n" : "");
    } else {
        int rfd = -1, byte = 0;
        if (!strcmp(op, "random")) { rfd = open("/dev/urandom", O_RDONLY); if (rfd < 0) return die("/dev/urandom"); }
        else if (!strcmp(op, "fill") && argc > 5) byte = atoi(argv[5]);
        else if (!strcmp(op, "hex") && argc > 5) {
            if (strlen(argv[5]) != 2 * len) { fprintf(stderr, "daxpoke: hex needs %llu digits\n", (unsigned long long)(2 * len)); return 2; }
        } else { fprintf(stderr, "daxpoke: unknown operation %s\n", op); return 2; }
        for (uint64_t i = 0; i < len; i++) {
            uint8_t b = (uint8_t)byte;
            if (rfd >= 0 && read(rfd, &b, 1) != 1) return die("read /dev/urandom");
            if (!strcmp(op, "hex")) { unsigned v; if (sscanf(argv[5] + 2 * i, "%2x", &v) != 1) return 2; b = (uint8_t)v; }
            m[off + i] = b;
        }
        if (S_ISCHR(st.st_mode)) {
            /* device-DAX: no page cache and no msync; flush the lines to the media */
            for (uint64_t a = off & ~63ULL; a < off + len; a += 64) _mm_clflush(m + a);
            _mm_sfence();
        } else if (msync(m, size, MS_SYNC)) return die("msync");
    }
    munmap(m, size);
    close(fd);
    return 0;
}
