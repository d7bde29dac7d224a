// Copying one line out of a read buffer in a single pass. Lines are short,
// and libc's way (memchr to find the end, then memcpy) is two calls per line
// that cost more than the bytes; here each 16-byte block is searched and
// stored together.
#pragma once

#include <cstddef>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sk {

// Bytes that must stay readable after the source's last byte: the search
// loads whole 16-byte blocks and ignores what lies beyond n.
constexpr std::size_t kLineCopySlack = 15;

// Copies k bytes, 1 <= k <= 16, writing nothing outside out[0, k).
inline void copy_short(char *out, const char *in, std::size_t k)
{
    if (k >= 8) {  // two 8-byte moves that may overlap
        std::memcpy(out, in, 8);
        std::memcpy(out + k - 8, in + k - 8, 8);
    } else if (k >= 4) {
        std::memcpy(out, in, 4);
        std::memcpy(out + k - 4, in + k - 4, 4);
    } else {
        out[0] = in[0];
        if (k > 1)
            std::memcpy(out + k - 2, in + k - 2, 2);
    }
}

// Looks for '\n' among in[0, n) and, when there is one, copies the bytes
// through it to out and returns their count; returns 0 when there is none.
// out holds room >= n bytes. Bytes of out at or beyond the count keep their
// values (the last block is blended, read and written back, when room allows);
// with no newline, out[0, n) may hold some of the bytes.
// in[n, n + kLineCopySlack) must be readable.
inline std::size_t copy_through_newline(char *out, std::size_t room, const char *in, std::size_t n)
{
#if defined(__SSE2__)
    const __m128i newline = _mm_set1_epi8('\n');
    const __m128i index = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (std::size_t i = 0; i < n; i += 16) {
        const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i *>(in + i));
        unsigned hits = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(block, newline)));
        if (n - i < 16)
            hits &= (1u << (n - i)) - 1;
        if (hits) {
            const unsigned k = static_cast<unsigned>(__builtin_ctz(hits)) + 1;
            if (room - i >= 16) {
                // Blend: the line's bytes, then what out already held.
                __m128i *dst = reinterpret_cast<__m128i *>(out + i);
                const __m128i mine = _mm_cmplt_epi8(index, _mm_set1_epi8(static_cast<char>(k)));
                const __m128i old = _mm_loadu_si128(dst);
                _mm_storeu_si128(dst, _mm_or_si128(_mm_and_si128(mine, block), _mm_andnot_si128(mine, old)));
            } else {
                copy_short(out + i, in + i, k);
            }
            return i + k;
        }
        if (n - i >= 16)
            _mm_storeu_si128(reinterpret_cast<__m128i *>(out + i), block);
    }
    return 0;
#else
    (void)room;
    const void *nl = std::memchr(in, '\n', n);
    if (!nl)
        return 0;
    const std::size_t count = static_cast<std::size_t>(static_cast<const char *>(nl) - in) + 1;
    std::memcpy(out, in, count);
    return count;
#endif
}

}  // namespace sk
