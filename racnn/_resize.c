/* One dimension of MATLAB's bicubic imresize, the way imresizemex does it:
 * every output value is the sum, in double precision and in tap order, of
 * its taps' weights times the input values, then (uint8 output) saturated
 * to 0..255 and rounded half away from zero.
 *
 *   dst[j][i] = sum_k w[j][k] * src[idx[j][k]][i]    0 <= j < out_len, 0 <= i < n
 *
 * src is (in_len x n) row-major, dst (out_len x n); w and idx are
 * (out_len x taps) row-major, idx already mirrored into 0..in_len-1
 * (racnn.degrade.contributions).  An image (H, W, C) is resized along H as
 * (H, W*C); along W on its pixel transpose.
 *
 * Every path (AVX2 on x86-64 when the CPU has it, portable C otherwise)
 * forms each output value with the same products added in the same order,
 * and racnn/cresize.py compiles with -ffp-contract=off (no fused
 * multiply-add), so the result does not depend on the machine.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline uint8_t round_sat(double v)
{
    /* v + 0.5 truncated, then clamped: the same as clamping v to 0..255
     * first and rounding half away from zero */
    int32_t q = (int32_t)(v + 0.5);
    q = q > 0 ? q : 0;
    return (uint8_t)(q < 255 ? q : 255);
}

/* Portable: one output row at a time, accumulated over the taps in a
 * row buffer (loops the compiler vectorises). */
static int rows_u8_generic(const uint8_t *src, long n, uint8_t *dst, long out_len,
                           const double *w, const int32_t *idx, long taps)
{
    double *acc = malloc((size_t)n * sizeof(double));
    if (acc == NULL)
        return -1;
    for (long j = 0; j < out_len; j++) {
        const double *wj = w + j * taps;
        const int32_t *ij = idx + j * taps;
        uint8_t *out = dst + j * n;
        const uint8_t *s = src + (long)ij[0] * n;
        for (long i = 0; i < n; i++)
            acc[i] = wj[0] * (double)s[i];
        for (long k = 1; k < taps; k++) {
            const double wk = wj[k];
            s = src + (long)ij[k] * n;
            for (long i = 0; i < n; i++)
                acc[i] += wk * (double)s[i];
        }
        for (long i = 0; i < n; i++)
            out[i] = round_sat(acc[i]);
    }
    free(acc);
    return 0;
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define HAVE_AVX2_PATH 1

/* AVX2 (no FMA): 16 columns at a time, their sums kept in four registers
 * over all the taps; the scalar tail adds the same products in the same
 * order.  _mm_packs_epi32 / _mm_packus_epi16 saturate to 0..255. */
__attribute__((target("avx2")))
static int rows_u8_avx2(const uint8_t *src, long n, uint8_t *dst, long out_len,
                        const double *w, const int32_t *idx, long taps)
{
    const __m256d half = _mm256_set1_pd(0.5);
    for (long j = 0; j < out_len; j++) {
        const double *wj = w + j * taps;
        const int32_t *ij = idx + j * taps;
        uint8_t *out = dst + j * n;
        long i = 0;
        for (; i + 16 <= n; i += 16) {
            __m256d a0, a1, a2, a3;
            for (long k = 0; k < taps; k++) {
                const __m256d wk = _mm256_set1_pd(wj[k]);
                const __m128i b = _mm_loadu_si128((const __m128i *)(src + (long)ij[k] * n + i));
                const __m256d p0 = _mm256_mul_pd(wk, _mm256_cvtepi32_pd(_mm_cvtepu8_epi32(b)));
                const __m256d p1 = _mm256_mul_pd(wk, _mm256_cvtepi32_pd(
                    _mm_cvtepu8_epi32(_mm_srli_si128(b, 4))));
                const __m256d p2 = _mm256_mul_pd(wk, _mm256_cvtepi32_pd(
                    _mm_cvtepu8_epi32(_mm_srli_si128(b, 8))));
                const __m256d p3 = _mm256_mul_pd(wk, _mm256_cvtepi32_pd(
                    _mm_cvtepu8_epi32(_mm_srli_si128(b, 12))));
                if (k == 0) {
                    a0 = p0; a1 = p1; a2 = p2; a3 = p3;
                } else {
                    a0 = _mm256_add_pd(a0, p0);
                    a1 = _mm256_add_pd(a1, p1);
                    a2 = _mm256_add_pd(a2, p2);
                    a3 = _mm256_add_pd(a3, p3);
                }
            }
            const __m128i q0 = _mm256_cvttpd_epi32(_mm256_add_pd(a0, half));
            const __m128i q1 = _mm256_cvttpd_epi32(_mm256_add_pd(a1, half));
            const __m128i q2 = _mm256_cvttpd_epi32(_mm256_add_pd(a2, half));
            const __m128i q3 = _mm256_cvttpd_epi32(_mm256_add_pd(a3, half));
            _mm_storeu_si128((__m128i *)(out + i),
                             _mm_packus_epi16(_mm_packs_epi32(q0, q1), _mm_packs_epi32(q2, q3)));
        }
        for (; i < n; i++) {
            double acc = wj[0] * (double)src[(long)ij[0] * n + i];
            for (long k = 1; k < taps; k++)
                acc += wj[k] * (double)src[(long)ij[k] * n + i];
            out[i] = round_sat(acc);
        }
    }
    return 0;
}

/* The second dimension of a 3-channel image (h x in_len x 3 -> h x
 * out_len x 3), four image rows at a time: the four rows are converted to
 * double and interleaved (T[x*3 + c][row]) so that one 4-wide register
 * holds the same pixel of the four rows; every output pixel is then
 * summed over its taps for the four rows at once.  Rows left over (h not
 * a multiple of 4) are summed one by one, in the same order. */
__attribute__((target("avx2")))
static int cols3_u8_avx2(const uint8_t *src, long h, long in_len, uint8_t *dst, long out_len,
                         const double *w, const int32_t *idx, long taps)
{
    const long n = in_len * 3, m_out = out_len * 3;
    double *t = aligned_alloc(32, (size_t)n * 4 * sizeof(double));
    uint8_t *o = malloc((size_t)m_out * 4 + 16);
    if (t == NULL || o == NULL) {
        free(t);
        free(o);
        return -1;
    }
    const __m256d half = _mm256_set1_pd(0.5);
    /* byte transpose of four 4-byte groups (value m: rows 0..3) into
     * rows 0..3: values m..m+3 */
    const __m128i unzip = _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    long y0 = 0;
    for (; y0 + 4 <= h; y0 += 4) {
        const uint8_t *r0 = src + y0 * n, *r1 = r0 + n, *r2 = r1 + n, *r3 = r2 + n;
        long i = 0;
        for (; i + 4 <= n; i += 4) {
            int32_t b0, b1, b2, b3;
            memcpy(&b0, r0 + i, 4);
            memcpy(&b1, r1 + i, 4);
            memcpy(&b2, r2 + i, 4);
            memcpy(&b3, r3 + i, 4);
            const __m256d v0 = _mm256_cvtepi32_pd(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(b0)));
            const __m256d v1 = _mm256_cvtepi32_pd(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(b1)));
            const __m256d v2 = _mm256_cvtepi32_pd(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(b2)));
            const __m256d v3 = _mm256_cvtepi32_pd(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(b3)));
            const __m256d lo01 = _mm256_unpacklo_pd(v0, v1), hi01 = _mm256_unpackhi_pd(v0, v1);
            const __m256d lo23 = _mm256_unpacklo_pd(v2, v3), hi23 = _mm256_unpackhi_pd(v2, v3);
            _mm256_store_pd(t + 4 * i, _mm256_permute2f128_pd(lo01, lo23, 0x20));
            _mm256_store_pd(t + 4 * i + 4, _mm256_permute2f128_pd(hi01, hi23, 0x20));
            _mm256_store_pd(t + 4 * i + 8, _mm256_permute2f128_pd(lo01, lo23, 0x31));
            _mm256_store_pd(t + 4 * i + 12, _mm256_permute2f128_pd(hi01, hi23, 0x31));
        }
        for (; i < n; i++) {
            t[4 * i] = r0[i];
            t[4 * i + 1] = r1[i];
            t[4 * i + 2] = r2[i];
            t[4 * i + 3] = r3[i];
        }
        for (long j = 0; j < out_len; j++) {
            const double *wj = w + j * taps;
            const int32_t *ij = idx + j * taps;
            const double *p = t + 12 * (long)ij[0];
            __m256d wk = _mm256_set1_pd(wj[0]);
            __m256d a0 = _mm256_mul_pd(wk, _mm256_load_pd(p));
            __m256d a1 = _mm256_mul_pd(wk, _mm256_load_pd(p + 4));
            __m256d a2 = _mm256_mul_pd(wk, _mm256_load_pd(p + 8));
            for (long k = 1; k < taps; k++) {
                p = t + 12 * (long)ij[k];
                wk = _mm256_set1_pd(wj[k]);
                a0 = _mm256_add_pd(a0, _mm256_mul_pd(wk, _mm256_load_pd(p)));
                a1 = _mm256_add_pd(a1, _mm256_mul_pd(wk, _mm256_load_pd(p + 4)));
                a2 = _mm256_add_pd(a2, _mm256_mul_pd(wk, _mm256_load_pd(p + 8)));
            }
            const __m128i q0 = _mm256_cvttpd_epi32(_mm256_add_pd(a0, half));
            const __m128i q1 = _mm256_cvttpd_epi32(_mm256_add_pd(a1, half));
            const __m128i q2 = _mm256_cvttpd_epi32(_mm256_add_pd(a2, half));
            /* 12 bytes: value 3j+c for rows 0..3 at o[4*(3j+c) + row] */
            const __m128i b = _mm_packus_epi16(_mm_packs_epi32(q0, q1), _mm_packs_epi32(q2, q2));
            _mm_storeu_si128((__m128i *)(o + 12 * j), b);   /* o has 16 bytes of slack */
        }
        uint8_t *d0 = dst + y0 * m_out, *d1 = d0 + m_out, *d2 = d1 + m_out, *d3 = d2 + m_out;
        long m = 0;
        for (; m + 4 <= m_out; m += 4) {
            const __m128i g = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(o + 4 * m)), unzip);
            const int32_t g0 = _mm_cvtsi128_si32(g), g1 = _mm_extract_epi32(g, 1),
                          g2 = _mm_extract_epi32(g, 2), g3 = _mm_extract_epi32(g, 3);
            memcpy(d0 + m, &g0, 4);
            memcpy(d1 + m, &g1, 4);
            memcpy(d2 + m, &g2, 4);
            memcpy(d3 + m, &g3, 4);
        }
        for (; m < m_out; m++) {
            d0[m] = o[4 * m];
            d1[m] = o[4 * m + 1];
            d2[m] = o[4 * m + 2];
            d3[m] = o[4 * m + 3];
        }
    }
    for (; y0 < h; y0++) {
        const uint8_t *r = src + y0 * n;
        uint8_t *d = dst + y0 * m_out;
        for (long j = 0; j < out_len; j++) {
            const double *wj = w + j * taps;
            const int32_t *ij = idx + j * taps;
            for (long c = 0; c < 3; c++) {
                double acc = wj[0] * (double)r[3 * (long)ij[0] + c];
                for (long k = 1; k < taps; k++)
                    acc += wj[k] * (double)r[3 * (long)ij[k] + c];
                d[3 * j + c] = round_sat(acc);
            }
        }
    }
    free(t);
    free(o);
    return 0;
}
#endif

/* Which path runs: 0 portable, 1 AVX2; -1 = choose by the CPU. */
static int forced_path = -1;

void racnn_resize_force_path(int path)
{
    forced_path = path;
}

int racnn_resize_path(void)
{
#ifdef HAVE_AVX2_PATH
    if (forced_path >= 0)
        return forced_path ? 1 : 0;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? 1 : 0;
#else
    return 0;
#endif
}

/* uint8 -> uint8; 0, or -1 when a buffer cannot be allocated. */
int racnn_resize_rows_u8(const uint8_t *src, long n, uint8_t *dst, long out_len,
                         const double *w, const int32_t *idx, long taps)
{
#ifdef HAVE_AVX2_PATH
    if (racnn_resize_path() == 1)
        return rows_u8_avx2(src, n, dst, out_len, w, idx, taps);
#endif
    return rows_u8_generic(src, n, dst, out_len, w, idx, taps);
}

/* The second dimension of a 3-channel uint8 image: 0; -1 when a buffer
 * cannot be allocated; -2 when this CPU has no AVX2 path (the caller then
 * resizes the pixel transpose with racnn_resize_rows_u8). */
int racnn_resize_cols3_u8(const uint8_t *src, long h, long in_len, uint8_t *dst, long out_len,
                          const double *w, const int32_t *idx, long taps)
{
#ifdef HAVE_AVX2_PATH
    if (racnn_resize_path() == 1)
        return cols3_u8_avx2(src, h, in_len, dst, out_len, w, idx, taps);
#endif
    return -2;
}

/* float64 -> float64 (float images; no rounding). */
void racnn_resize_rows_f64(const double *src, long n, double *dst, long out_len,
                           const double *w, const int32_t *idx, long taps)
{
    for (long j = 0; j < out_len; j++) {
        const double *wj = w + j * taps;
        const int32_t *ij = idx + j * taps;
        double *out = dst + j * n;
        const double *s = src + (long)ij[0] * n;
        for (long i = 0; i < n; i++)
            out[i] = wj[0] * s[i];
        for (long k = 1; k < taps; k++) {
            const double wk = wj[k];
            s = src + (long)ij[k] * n;
            for (long i = 0; i < n; i++)
                out[i] += wk * s[i];
        }
    }
}
