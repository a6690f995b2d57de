/* CRC32C: SSE4.2 hardware path and slicing-by-8 software path. See daxshims.h. */
#include "daxshims.h"
#include <string.h>
#include <pthread.h>
#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void build_table(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int s = 1; s < 8; s++)
            table[s][i] = (table[s - 1][i] >> 8) ^ table[0][table[s - 1][i] & 0xff];
}

uint32_t daxfs_crc32c_update_sw(uint32_t crc, const void *buf, size_t len) {
    pthread_once(&table_once, build_table);
    const unsigned char *p = buf;
    while (len && ((uintptr_t)p & 7)) { crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8); len--; }
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        w ^= crc; /* little-endian host */
        crc = table[7][w & 0xff] ^ table[6][(w >> 8) & 0xff] ^ table[5][(w >> 16) & 0xff] ^
              table[4][(w >> 24) & 0xff] ^ table[3][(w >> 32) & 0xff] ^ table[2][(w >> 40) & 0xff] ^
              table[1][(w >> 48) & 0xff] ^ table[0][w >> 56];
        p += 8; len -= 8;
    }
    while (len--) crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
/* The hardware path runs three independent crc32 streams over three
 * adjacent lanes of LANE bytes each, because the instruction has a latency
 * of 3 cycles and a throughput of 1: one stream uses a third of it (mount
 * verifies megabytes of checkpoint chunks). The lanes are joined by
 * linearity: with the raw register (no inversion), the CRC of A||B from
 * state s is shift(crc of A from s) ^ (crc of B from 0), where shift(x) is
 * the state reached from x after |B| = LANE zero bytes. shift is linear in
 * x, so it is four lookups in tables built once from the instruction
 * itself (state after LANE zero bytes from each byte of a state). The
 * result is bit-identical to the one-stream loop and the software path. */
#define LANE 256
static uint32_t shift_table[4][256];
static pthread_once_t shift_once = PTHREAD_ONCE_INIT;

__attribute__((target("sse4.2")))
static void build_shift_table(void) {
    for (int k = 0; k < 4; k++)
        for (uint32_t b = 0; b < 256; b++) {
            uint64_t c = (uint64_t)b << (8 * k);
            for (int i = 0; i < LANE; i += 8) c = _mm_crc32_u64(c, 0);
            shift_table[k][b] = (uint32_t)c;
        }
}

static inline uint32_t shift_lane(uint32_t c) {
    return shift_table[0][c & 0xff] ^ shift_table[1][(c >> 8) & 0xff] ^
           shift_table[2][(c >> 16) & 0xff] ^ shift_table[3][c >> 24];
}

__attribute__((target("sse4.2")))
uint32_t daxfs_crc32c_update_hw(uint32_t crc, const void *buf, size_t len) {
    const unsigned char *p = buf;
    uint64_t c = crc;
    while (len && ((uintptr_t)p & 7)) { c = _mm_crc32_u8((uint32_t)c, *p++); len--; }
    if (len >= 3 * LANE) {
        pthread_once(&shift_once, build_shift_table);
        do {
            uint64_t c0 = c, c1 = 0, c2 = 0;
            for (int i = 0; i < LANE; i += 8) {
                uint64_t w0, w1, w2;
                memcpy(&w0, p + i, 8);
                memcpy(&w1, p + LANE + i, 8);
                memcpy(&w2, p + 2 * LANE + i, 8);
                c0 = _mm_crc32_u64(c0, w0);
                c1 = _mm_crc32_u64(c1, w1);
                c2 = _mm_crc32_u64(c2, w2);
            }
            c = shift_lane(shift_lane((uint32_t)c0) ^ (uint32_t)c1) ^ (uint32_t)c2;
            p += 3 * LANE; len -= 3 * LANE;
        } while (len >= 3 * LANE);
    }
    while (len >= 8) { uint64_t w; memcpy(&w, p, 8); c = _mm_crc32_u64(c, w); p += 8; len -= 8; }
    while (len--) c = _mm_crc32_u8((uint32_t)c, *p++);
    return (uint32_t)c;
}

int daxfs_crc32c_hw_available(void) {
    static int cached = -1;
    int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v < 0) {
        __builtin_cpu_init();
        v = __builtin_cpu_supports("sse4.2") ? 1 : 0;
        __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
    }
    return v;
}
#else
uint32_t daxfs_crc32c_update_hw(uint32_t crc, const void *buf, size_t len) {
    return daxfs_crc32c_update_sw(crc, buf, len);
}
int daxfs_crc32c_hw_available(void) { return 0; }
#endif

uint32_t daxfs_crc32c_update(uint32_t crc, const void *buf, size_t len) {
    return daxfs_crc32c_hw_available() ? daxfs_crc32c_update_hw(crc, buf, len)
                                       : daxfs_crc32c_update_sw(crc, buf, len);
}

uint32_t daxfs_crc32c_excluding(uint32_t seed, const void *buf, size_t len, size_t crc_off) {
    const unsigned char *p = buf;
    size_t head = (crc_off + 4 + 7) & ~(size_t)7;      /* through the end of the field's word */
    if (head > len) head = len;
    uint32_t c = ~seed;
    if (head <= 32) {
        _Alignas(8) unsigned char word[32];
        memcpy(word, p, head);
        memset(word + crc_off, 0, 4);
        c = daxfs_crc32c_update(c, word, head);
    } else {
        static const unsigned char zero[4];
        c = daxfs_crc32c_update(c, p, crc_off);
        c = daxfs_crc32c_update(c, zero, 4);
        c = daxfs_crc32c_update(c, p + crc_off + 4, head - crc_off - 4);
    }
    return ~daxfs_crc32c_update(c, p + head, len - head);
}
