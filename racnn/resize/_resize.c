/* One dimension of MATLAB's bicubic imresize, the way imresizemex does it:
 * every output value is the sum, in double precision and in tap order, of
 * its taps' weights times the input values, then (uint8 output) saturated
 * to 0..255 and rounded half away from zero.
 *
 *   dst[j][i] = sum_k w[j][k] * src[idx[j][k]][i]    0 <= j < out_len, 0 <= i < n
 *
 * src is (in_len x n) row-major, dst (out_len x n); w and idx are
 * (out_len x taps) row-major, idx already mirrored into 0..in_len-1
 * (racnn.resize.matlab_rules.contributions).  An image (H, W, C) is resized along H as
 * (H, W*C); along W by racnn_resize_cols3_u8 (3 channels, AVX2) or on its
 * pixel transpose.
 *
 * The result does not depend on the machine: the portable path computes
 * every value in double as above; the AVX2 path (x86-64 CPUs that have it)
 * sums in float32 and uses that sum only where it provably rounds as the
 * double sum does, recomputing the rest in double (see margin_of).
 * racnn/resize/compiled.py compiles with -ffp-contract=off (no fused multiply-add).
 */
#include <math.h>
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

/* Keys' cubic kernel, a = -0.5, evaluated as racnn.resize.matlab_rules.cubic does
 * (x*x*x as (x*x)*x), so the weights are bit-identical to its. */
static double cubic(double x)
{
    x = x < 0 ? -x : x;
    const double x2 = x * x, x3 = x * x * x;
    if (x <= 1.0)
        return 1.5 * x3 - 2.5 * x2 + 1.0;
    if (x <= 2.0)
        return -0.5 * x3 + 2.5 * x2 - 4.0 * x + 2.0;
    return 0.0;
}

/* MATLAB's contributions(): the weights and 0-based mirrored indices of
 * one dimension, the same numbers racnn.resize.matlab_rules.contributions computes
 * (tests check bit for bit), in w and idx (room for out_len x taps,
 * taps = ceil(kernel width) + 2), with the columns that are zero for
 * every output removed; returns the number of columns kept (the row
 * stride of the compacted arrays). */
long racnn_contributions(long in_len, long out_len, double scale, long taps, double *w,
                         int32_t *idx)
{
    const double width = scale < 1.0 ? 4.0 / scale : 4.0;
    const long period = 2 * in_len;
    for (long j = 0; j < out_len; j++) {
        const double u = (double)(j + 1) / scale + 0.5 * (1.0 - 1.0 / scale);
        const double left = floor(u - width / 2.0);
        double *wj = w + j * taps;
        double total = 0.0;
        for (long k = 0; k < taps; k++) {
            const double at = left + (double)k;                 /* 1-based */
            const double dist = u - at;
            wj[k] = scale < 1.0 ? scale * cubic(scale * dist) : cubic(dist);
            total = k == 0 ? wj[0] : total + wj[k];
            long m = ((long)at - 1) % period;
            m = m < 0 ? m + period : m;
            idx[j * taps + k] = (int32_t)(m < in_len ? m : period - 1 - m);
        }
        for (long k = 0; k < taps; k++)
            wj[k] = wj[k] / total;
    }
    long kept = 0;
    for (long k = 0; k < taps; k++) {
        int any = 0;
        for (long j = 0; j < out_len && !any; j++)
            any = w[j * taps + k] != 0.0;
        if (!any)
            continue;
        for (long j = 0; j < out_len; j++) {        /* rows only move forward */
            w[j * taps + kept] = w[j * taps + k];
            idx[j * taps + kept] = idx[j * taps + k];
        }
        kept++;
    }
    for (long j = 0; j < out_len; j++)          /* row stride taps -> kept */
        for (long k = 0; k < kept; k++) {
            w[j * kept + k] = w[j * taps + k];
            idx[j * kept + k] = idx[j * taps + k];
        }
    return kept;
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

/* The AVX2 path sums in float32, 8 values per register (twice the width of
 * double), and decides each value's rounding from that only when the
 * float32 sum is provably on the same side of every rounding boundary as
 * the double sum: the value (after + 0.5) is farther than `margin` from
 * an integer.  The others (~0.1 % of evenly spread values for the
 * pipeline's resizes: margins of 3e-4..8e-4) are summed again in double, in
 * tap order, exactly as the portable path does, so the two paths give the
 * same bytes.
 *
 * margin: with u = 2^-24 (float32 unit roundoff), S = sum |w_k| and the
 * values <= 255, rounding the weights costs <= u*255*S, the products
 * <= u*255*S, the taps - 1 additions <= (taps - 1)*u*255*S, adding 0.5
 * <= u*512; the double sum's own error is ~1e-13.  Twice the sum of
 * those is the margin. */
static inline float margin_of(const double *wj, long taps)
{
    double s = 0.0;
    for (long k = 0; k < taps; k++)
        s += wj[k] < 0 ? -wj[k] : wj[k];
    return (float)(0x1p-23 * (256.0 * s * (double)(taps + 2) + 512.0));
}

/* the double sum of one value (stride: distance between a tap's inputs) */
static inline uint8_t exact_u8(const uint8_t *base, long stride, const double *wj,
                               const int32_t *ij, long taps)
{
    double acc = wj[0] * (double)base[(long)ij[0] * stride];
    for (long k = 1; k < taps; k++)
        acc += wj[k] * (double)base[(long)ij[k] * stride];
    return round_sat(acc);
}

/* v + 0.5 truncated to int32 lanes; *near gets a bit per lane whose
 * rounding the float sum cannot decide */
__attribute__((target("avx2")))
static inline __m256i round8(__m256 v, __m256 margin, int *near)
{
    const __m256 r = _mm256_add_ps(v, _mm256_set1_ps(0.5f));
    const __m256 d = _mm256_sub_ps(r, _mm256_floor_ps(r));
    const __m256 close = _mm256_or_ps(
        _mm256_cmp_ps(d, margin, _CMP_LT_OQ),
        _mm256_cmp_ps(d, _mm256_sub_ps(_mm256_set1_ps(1.0f), margin), _CMP_GT_OQ));
    *near = _mm256_movemask_ps(close);
    return _mm256_cvttps_epi32(r);
}

__attribute__((target("avx2")))
static inline __m256 load8(const uint8_t *p)
{
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p)));
}

/* The first dimension: 32 columns at a time, their float sums in four
 * registers over all the taps. */
__attribute__((target("avx2")))
static int rows_u8_avx2(const uint8_t *src, long n, uint8_t *dst, long out_len,
                        const double *w, const int32_t *idx, long taps)
{
    /* 4-byte groups (q0 0-3, q1 0-3, q2 0-3, q3 0-3, q0 4-7, ...) -> q0..q3 */
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (long j = 0; j < out_len; j++) {
        const double *wj = w + j * taps;
        const int32_t *ij = idx + j * taps;
        const __m256 margin = _mm256_set1_ps(margin_of(wj, taps));
        uint8_t *out = dst + j * n;
        long i = 0;
        for (; i + 32 <= n; i += 32) {
            __m256 a[4];
            for (long k = 0; k < taps; k++) {
                const __m256 wk = _mm256_set1_ps((float)wj[k]);
                const uint8_t *s = src + (long)ij[k] * n + i;
                for (int v = 0; v < 4; v++) {
                    const __m256 p = _mm256_mul_ps(wk, load8(s + 8 * v));
                    a[v] = k == 0 ? p : _mm256_add_ps(a[v], p);
                }
            }
            int near[4];
            const __m256i q0 = round8(a[0], margin, &near[0]);
            const __m256i q1 = round8(a[1], margin, &near[1]);
            const __m256i q2 = round8(a[2], margin, &near[2]);
            const __m256i q3 = round8(a[3], margin, &near[3]);
            const __m256i b = _mm256_packus_epi16(_mm256_packs_epi32(q0, q1),
                                                  _mm256_packs_epi32(q2, q3));
            _mm256_storeu_si256((__m256i *)(out + i), _mm256_permutevar8x32_epi32(b, order));
            for (int v = 0; v < 4; v++)
                for (int bits = near[v]; bits; bits &= bits - 1) {
                    const long col = i + 8 * v + __builtin_ctz(bits);
                    out[col] = exact_u8(src + col, n, wj, ij, taps);
                }
        }
        for (; i < n; i++)
            out[i] = exact_u8(src + i, n, wj, ij, taps);
    }
    return 0;
}

/* 8x8 transpose of floats: rows r[0..7] -> columns */
__attribute__((target("avx2")))
static inline void transpose8(__m256 r[8])
{
    __m256 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
        r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
    }
}

/* The second dimension of a 3-channel image (h x in_len x 3 -> h x
 * out_len x 3), eight image rows at a time: the rows are converted to
 * float and interleaved (t[x*3 + c][row]) so that one register holds the
 * same value of the eight rows; every output pixel is then summed over
 * its taps for the eight rows at once.  Rows left over (h not a multiple
 * of 8) are summed in double one by one. */
__attribute__((target("avx2")))
static int cols3_u8_avx2(const uint8_t *src, long h, long in_len, uint8_t *dst, long out_len,
                         const double *w, const int32_t *idx, long taps)
{
    const long n = in_len * 3, m_out = out_len * 3;
    float *t = aligned_alloc(32, ((size_t)n * 8 * sizeof(float) + 31) / 32 * 32);
    uint8_t *o = malloc((size_t)m_out * 8 + 32);
    float *margins = malloc((size_t)out_len * sizeof(float));
    if (t == NULL || o == NULL || margins == NULL) {
        free(t);
        free(o);
        free(margins);
        return -1;
    }
    for (long j = 0; j < out_len; j++)
        margins[j] = margin_of(w + j * taps, taps);
    /* (value m: rows 0..7, value m+1: rows 0..7) -> (row 0: m, m+1; row 1: ...) */
    const __m128i pairs = _mm_setr_epi8(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
    long y0 = 0;
    for (; y0 + 8 <= h; y0 += 8) {
        const uint8_t *r = src + y0 * n;
        long i = 0;
        for (; i + 8 <= n; i += 8) {
            __m256 v[8];
            for (int l = 0; l < 8; l++)
                v[l] = load8(r + l * n + i);
            transpose8(v);
            for (int e = 0; e < 8; e++)
                _mm256_store_ps(t + 8 * (i + e), v[e]);
        }
        for (; i < n; i++)
            for (int l = 0; l < 8; l++)
                t[8 * i + l] = (float)r[l * n + i];
        for (long j = 0; j < out_len; j++) {
            const double *wj = w + j * taps;
            const int32_t *ij = idx + j * taps;
            __m256 a0, a1, a2;
            for (long k = 0; k < taps; k++) {
                const __m256 wk = _mm256_set1_ps((float)wj[k]);
                const float *p = t + 24 * (long)ij[k];
                const __m256 p0 = _mm256_mul_ps(wk, _mm256_load_ps(p));
                const __m256 p1 = _mm256_mul_ps(wk, _mm256_load_ps(p + 8));
                const __m256 p2 = _mm256_mul_ps(wk, _mm256_load_ps(p + 16));
                if (k == 0) {
                    a0 = p0; a1 = p1; a2 = p2;
                } else {
                    a0 = _mm256_add_ps(a0, p0);
                    a1 = _mm256_add_ps(a1, p1);
                    a2 = _mm256_add_ps(a2, p2);
                }
            }
            const __m256 margin = _mm256_set1_ps(margins[j]);
            int near[3];
            __m256i q[3];
            q[0] = round8(a0, margin, &near[0]);
            q[1] = round8(a1, margin, &near[1]);
            q[2] = round8(a2, margin, &near[2]);
            for (int c = 0; c < 3; c++) {
                const __m128i h16 = _mm_packs_epi32(_mm256_castsi256_si128(q[c]),
                                                    _mm256_extracti128_si256(q[c], 1));
                _mm_storel_epi64((__m128i *)(o + 8 * (3 * j + c)), _mm_packus_epi16(h16, h16));
                for (int bits = near[c]; bits; bits &= bits - 1) {
                    const int l = __builtin_ctz(bits);
                    o[8 * (3 * j + c) + l] = exact_u8(r + l * n + c, 3, wj, ij, taps);
                }
            }
        }
        long m = 0;
        for (; m + 4 <= m_out; m += 4) {
            const __m128i a = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(o + 8 * m)), pairs);
            const __m128i b = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(o + 8 * m + 16)),
                                               pairs);
            const __m128i lo = _mm_unpacklo_epi16(a, b), hi = _mm_unpackhi_epi16(a, b);
            int32_t g[8];
            _mm_storeu_si128((__m128i *)g, lo);
            _mm_storeu_si128((__m128i *)(g + 4), hi);
            for (int l = 0; l < 8; l++)
                memcpy(dst + (y0 + l) * m_out + m, &g[l], 4);
        }
        for (; m < m_out; m++)
            for (int l = 0; l < 8; l++)
                dst[(y0 + l) * m_out + m] = o[8 * m + l];
    }
    for (; y0 < h; y0++) {
        const uint8_t *r = src + y0 * n;
        uint8_t *d = dst + y0 * m_out;
        for (long j = 0; j < out_len; j++)
            for (long c = 0; c < 3; c++)
                d[3 * j + c] = exact_u8(r + c, 3, w + j * taps, idx + j * taps, taps);
    }
    free(t);
    free(o);
    free(margins);
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
