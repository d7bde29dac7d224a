/* SHA-256 (FIPS 180-4), for the stress tests' end-to-end checksums. */
#ifndef SK_TEST_SHA256_H
#define SK_TEST_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct sha256 {
    uint32_t state[8];
    uint64_t bytes;
    unsigned char block[64];
    size_t used;
} sha256;

void sha256_init(sha256 *h);
void sha256_update(sha256 *h, const void *data, size_t len);
void sha256_final(sha256 *h, unsigned char out[32]);

#endif
