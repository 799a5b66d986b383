/*
 * Fused kernels of the `blas` device (lib/model/native.ts), compiled on first use by
 * lib/model/native_c.ts with the machine's C compiler (see that file for the command and
 * the cache); where no compiler works the device runs the JavaScript kernels of
 * lib/model/native_kernels.ts instead (same arithmetic up to float32 rounding).
 *
 * Per attention head the scores, softmax and P v (and their gradients) are computed here
 * in one pass over each query row, instead of two to five OpenBLAS calls on L x L x hd
 * matrices plus JavaScript loops over the L x L scores.
 *
 * Determinism: every output element is computed by exactly one call in a fixed order, and
 * the code path of an element depends only on the sizes (never on the range [lo, hi) a
 * thread was given, nor on addresses): sums run in 8 fixed partial sums folded in a fixed
 * order, and the file is compiled with -ffp-contract=off (no fused multiply-adds that could
 * differ between the vector body and a scalar tail). So results are bit-identical for any
 * number of threads.
 *
 * Layouts (row-major float32), as in lib/model/native_kernels.ts:
 *   qkv [B, L, 3D] (q | k | v; heads contiguous inside each), P [B, H, L, L],
 *   O / dO [B, L, D], bias [B, L] (0 or -1e9 per key), gu [N, 2F] (gate | up).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* exp to float32 accuracy on [-88, 88] (clamped outside; a NaN input stays NaN):
 * x = n ln2 + r, |r| <= ln2/2, e^r by a degree-6 polynomial (Cephes' expf), times 2^n. */
static inline float fexpf(float x) {
  const float c = x < -88.0f ? -88.0f : (x > 88.0f ? 88.0f : x);
  float t = c * 1.44269504088896341f + 12582912.0f; /* round to nearest: 1.5 * 2^23 */
  float n = t - 12582912.0f;
  int ni;
  memcpy(&ni, &t, 4);
  ni -= 0x4B400000;
  float r = c - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  const unsigned bits = (unsigned)(ni + 127) << 23; /* n = -127 (x near -88): 0 */
  float s;
  memcpy(&s, &bits, 4);
  return p * s;
}

/* Sum / max of n floats in 8 fixed partial results. */
static inline float sum8(const float *x, int n) {
  float a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int j = 0;
  for (; j + 8 <= n; j += 8)
    for (int k = 0; k < 8; k++) a[k] += x[j + k];
  for (int k = 0; j < n; j++, k++) a[k] += x[j];
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}
static inline float max8(const float *x, int n) {
  float a[8] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY,
                -INFINITY, -INFINITY, -INFINITY, -INFINITY};
  int j = 0;
  for (; j + 8 <= n; j += 8)
    for (int k = 0; k < 8; k++) a[k] = x[j + k] > a[k] ? x[j + k] : a[k];
  for (int k = 0; j < n; j++, k++) a[k] = x[j] > a[k] ? x[j] : a[k];
  float m = a[0];
  for (int k = 1; k < 8; k++) m = a[k] > m ? a[k] : m;
  return m;
}
/* dot of two rows in 8 fixed partial sums. */
static inline float dot8(const float *x, const float *y, int n) {
  float a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int j = 0;
  for (; j + 8 <= n; j += 8)
    for (int k = 0; k < 8; k++) a[k] += x[j + k] * y[j + k];
  for (int k = 0; j < n; j++, k++) a[k] += x[j] * y[j];
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

/* kT[c * L + j] = src[j * ld + c] for c < hd: a head's keys (or values) transposed. */
static void transpose(const float *src, int ld, int L, int hd, float *kT) {
  for (int j = 0; j < L; j++)
    for (int c = 0; c < hd; c++) kT[c * L + j] = src[j * ld + c];
}

/* s[j] = sum_c q[c] * kT[c][j] for j < L (axpy over j: vectorizes without reassociation). */
static inline void row_scores(const float *q, const float *kT, int L, int hd, float *s) {
  for (int j = 0; j < L; j++) s[j] = q[0] * kT[j];
  for (int c = 1; c < hd; c++) {
    const float qc = q[c], *kc = kT + c * L;
    for (int j = 0; j < L; j++) s[j] += qc * kc[j];
  }
}

/*
 * Attention forward for windows [b0, b1): P = softmax(scale q k^T + bias) per head,
 * O = P v. With keepP the probabilities are written to P [B, H, L, L] (training);
 * keepP = 0 keeps them only per row (inference; P is not touched). Returns 0, or -1
 * when scratch memory cannot be allocated.
 */
static int attn_fwd_generic(const float *qkv, float *P, float *O, const float *bias, int L, int D,
                            int H, int b0, int b1, int keepP, int i0, int i1) {
  const int hd = D / H, D3 = 3 * D;
  const float scale = 1.0f / sqrtf((float)hd);
  float *kT = malloc(sizeof(float) * ((size_t)hd * L + L));
  if (!kT) return -1;
  float *row = kT + (size_t)hd * L;
  for (int b = b0; b < b1; b++) {
    const float *bb = bias + (size_t)b * L;
    for (int h = 0; h < H; h++) {
      const float *q = qkv + (size_t)b * L * D3 + h * hd, *k = q + D, *v = q + 2 * D;
      float *o = O + (size_t)b * L * D + h * hd;
      transpose(k, D3, L, hd, kT);
      for (int i = i0; i < i1; i++) {
        float *p = keepP ? P + ((size_t)(b * H + h) * L + i) * L : row;
        row_scores(q + (size_t)i * D3, kT, L, hd, p);
        for (int j = 0; j < L; j++) p[j] = p[j] * scale + bb[j];
        const float mx = max8(p, L);
        for (int j = 0; j < L; j++) p[j] = fexpf(p[j] - mx);
        const float inv = 1.0f / sum8(p, L);
        for (int j = 0; j < L; j++) p[j] *= inv;
        float *oi = o + (size_t)i * D;
        for (int c = 0; c < hd; c++) oi[c] = 0;
        for (int j = 0; j < L; j++) {
          const float pj = p[j], *vj = v + (size_t)j * D3;
#pragma GCC ivdep
          for (int c = 0; c < hd; c++) oi[c] += pj * vj[c];
        }
      }
    }
  }
  free(kT);
  return 0;
}

/*
 * Attention backward for windows [b0, b1): from dO [B, L, D] and the kept P to
 * dqkv [B, L, 3D] (overwritten for these windows). Returns 0, or -1 when scratch
 * memory cannot be allocated.
 */
static int attn_bwd_generic(const float *qkv, const float *P, const float *dO, float *dqkv, int L,
                            int D, int H, int b0, int b1) {
  const int hd = D / H, D3 = 3 * D;
  const float scale = 1.0f / sqrtf((float)hd);
  float *vT = malloc(sizeof(float) * ((size_t)hd * L + L));
  if (!vT) return -1;
  float *ds = vT + (size_t)hd * L;
  for (int b = b0; b < b1; b++) {
    for (int h = 0; h < H; h++) {
      const size_t base = (size_t)b * L * D3 + h * hd;
      const float *q = qkv + base, *k = q + D, *v = q + 2 * D;
      float *dq = dqkv + base, *dk = dq + D, *dv = dq + 2 * D;
      const float *dout = dO + (size_t)b * L * D + h * hd;
      transpose(v, D3, L, hd, vT);
      for (int j = 0; j < L; j++) {
        for (int c = 0; c < hd; c++) dk[(size_t)j * D3 + c] = 0, dv[(size_t)j * D3 + c] = 0;
      }
      for (int i = 0; i < L; i++) {
        const float *p = P + ((size_t)(b * H + h) * L + i) * L, *doi = dout + (size_t)i * D;
        // dP[i, j] = dO_i . v_j ; dS = P * (dP - rowsum(dP * P))
        row_scores(doi, vT, L, hd, ds);
        const float dot = dot8(ds, p, L);
        for (int j = 0; j < L; j++) ds[j] = p[j] * (ds[j] - dot);
        // dv_j += P[i, j] dO_i ; dk_j += dS[i, j] q_i ; dq_i = scale sum_j dS[i, j] k_j
        const float *qi = q + (size_t)i * D3;
        float *dqi = dq + (size_t)i * D3;
        for (int c = 0; c < hd; c++) dqi[c] = 0;
        for (int j = 0; j < L; j++) {
          const float pj = p[j], sj = ds[j], *kj = k + (size_t)j * D3;
          float *dvj = dv + (size_t)j * D3, *dkj = dk + (size_t)j * D3;
          /* the three rows never overlap (different column blocks of dqkv) */
#pragma GCC ivdep
          for (int c = 0; c < hd; c++) dvj[c] += pj * doi[c];
#pragma GCC ivdep
          for (int c = 0; c < hd; c++) dkj[c] += sj * qi[c];
#pragma GCC ivdep
          for (int c = 0; c < hd; c++) dqi[c] += sj * kj[c];
        }
        for (int c = 0; c < hd; c++) dqi[c] *= scale;
      }
      for (int j = 0; j < L; j++) {
        for (int c = 0; c < hd; c++) dk[(size_t)j * D3 + c] *= scale;
      }
    }
  }
  free(vT);
  return 0;
}

/* ---- Head widths that are a multiple of 8: 8-float vectors, the width a compile-time constant
 * (each width gets its own copy), so the loops over channels unroll into registers. ---- */
typedef float v8 __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4)));
static inline v8 ld8(const float *p) { return *(const v8u *)p; }
static inline void st8(float *p, v8 x) { *(v8u *)p = x; }
static inline v8 splat8(float x) { return (v8){x, x, x, x, x, x, x, x}; }
#if defined(__FMA__) && defined(__x86_64__)
#include <immintrin.h>
/* a * b + c, fused where the CPU has FMA (the same instruction for every element). */
static inline v8 fma8(v8 a, v8 b, v8 c) {
  return (v8)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c);
}
#else
static inline v8 fma8(v8 a, v8 b, v8 c) { return a * b + c; }
#endif
#define AI static inline __attribute__((always_inline))

AI void transpose_pad(const float *src, int ld, int L, int Lp, const int hd, float *T) {
  for (int j = 0; j < L; j++)
    for (int c = 0; c < hd; c++) T[(size_t)c * Lp + j] = src[(size_t)j * ld + c];
  for (int c = 0; c < hd; c++)
    for (int j = L; j < Lp; j++) T[(size_t)c * Lp + j] = 0.0f;
}

/* R query rows' scores against all keys: s_r[j] = sum_c x_r[c] T[c][j] (j < Lp), the kT
 * vector loaded once for the R rows; each row's sum runs over c in order, as alone. */
AI void scores_rows(const float *const *x, const float *T, int Lp, const int hd,
                    float *const *s, const int R) {
  for (int jb = 0; jb < Lp; jb += 8) {
    v8 acc[4];
    for (int r = 0; r < R; r++) acc[r] = splat8(0.0f);
    for (int c = 0; c < hd; c++) {
      const v8 t = ld8(T + (size_t)c * Lp + jb);
      for (int r = 0; r < R; r++) acc[r] = fma8(splat8(x[r][c]), t, acc[r]);
    }
    for (int r = 0; r < R; r++) st8(s[r] + jb, acc[r]);
  }
}

/* Forward of the R query rows [i0, i0 + R) of one head: softmax rows (kept in Ph when not
 * NULL) and O rows. */
AI void fwd_rows(const float *q, const float *v, float *o, const float *kT, float *s,
                 const float *bb, float *Ph, int i0, int L, int Lp, int D, float scale,
                 const int hd, const int R) {
  const int D3 = 3 * D, nv = hd / 8;
  const float *x[4];
  float *sr[4];
  for (int r = 0; r < R; r++) {
    x[r] = q + (size_t)(i0 + r) * D3;
    sr[r] = s + (size_t)r * Lp;
  }
  scores_rows(x, kT, Lp, hd, sr, R);
  for (int r = 0; r < R; r++) {
    float *sj = sr[r];
    for (int j = 0; j < L; j++) sj[j] = sj[j] * scale + bb[j];
    const float mx = max8(sj, L);
    for (int j = 0; j < L; j++) sj[j] = fexpf(sj[j] - mx);
    const float inv = 1.0f / sum8(sj, L);
    for (int j = 0; j < L; j++) sj[j] *= inv;
    if (Ph) memcpy(Ph + (size_t)(i0 + r) * L, sj, sizeof(float) * L);
  }
  v8 acc[4][8];
  for (int r = 0; r < R; r++)
    for (int m = 0; m < nv; m++) acc[r][m] = splat8(0.0f);
  for (int j = 0; j < L; j++) {
    const float *vj = v + (size_t)j * D3;
    for (int m = 0; m < nv; m++) {
      const v8 vv = ld8(vj + 8 * m);
      for (int r = 0; r < R; r++) acc[r][m] = fma8(splat8(sr[r][j]), vv, acc[r][m]);
    }
  }
  for (int r = 0; r < R; r++)
    for (int m = 0; m < nv; m++) st8(o + (size_t)(i0 + r) * D + 8 * m, acc[r][m]);
}

AI int attn_fwd_v(const float *qkv, float *P, float *O, const float *bias, int L, int D, int H,
                  int b0, int b1, int keepP, int i0, int i1, const int hd) {
  const int D3 = 3 * D, Lp = (L + 7) & ~7, nv = hd / 8;
  const float scale = 1.0f / sqrtf((float)hd);
  float *kT = aligned_alloc(32, sizeof(float) * ((size_t)hd * Lp + 4 * Lp));
  if (!kT) return -1;
  float *s = kT + (size_t)hd * Lp; /* 4 rows of Lp */
  for (int b = b0; b < b1; b++) {
    const float *bb = bias + (size_t)b * L;
    for (int h = 0; h < H; h++) {
      const float *q = qkv + (size_t)b * L * D3 + h * hd, *k = q + D, *v = q + 2 * D;
      float *o = O + (size_t)b * L * D + h * hd;
      transpose_pad(k, D3, L, Lp, hd, kT);
      /* Query rows in tiles of 4 (each kT and v vector loaded once per tile); every row's
       * arithmetic is the same as alone, so rows are bit-identical however they are grouped. */
      float *Ph = keepP ? P + (size_t)(b * H + h) * L * L : NULL;
      int i = i0;
      if (nv <= 4) {
        for (; i + 4 <= i1; i += 4) fwd_rows(q, v, o, kT, s, bb, Ph, i, L, Lp, D, scale, hd, 4);
      }
      for (; i < i1; i++) fwd_rows(q, v, o, kT, s, bb, Ph, i, L, Lp, D, scale, hd, 1);
    }
  }
  free(kT);
  return 0;
}

/* Backward of the R query rows [i0, i0 + R) of one head: dS rows, then dv_j += P[i, j] dO_i,
 * dk_j += dS[i, j] q_i (both scaled later) and dq_i = scale sum_j dS[i, j] k_j. */
AI void bwd_rows(const float *Ph, const float *q, const float *k, const float *dout,
                 const float *vT, float *ds, float *dq, float *dk, float *dv, int i0, int L, int Lp,
                 int D, float scale, const int hd, const int R) {
  const int D3 = 3 * D, nv = hd / 8;
  const float *p[4];
  float *dsr[4];
  v8 qv[4][8], dov[4][8], acc[4][8];
  const float *x[4];
  for (int r = 0; r < R; r++) {
    x[r] = dout + (size_t)(i0 + r) * D;
    p[r] = Ph + (size_t)(i0 + r) * L;
    dsr[r] = ds + (size_t)r * Lp;
  }
  scores_rows(x, vT, Lp, hd, dsr, R); /* dP[i, j] = dO_i . v_j */
  for (int r = 0; r < R; r++) {
    const int i = i0 + r;
    const float *doi = dout + (size_t)i * D, *qi = q + (size_t)i * D3;
    const float dot = dot8(dsr[r], p[r], L);
    for (int j = 0; j < L; j++) dsr[r][j] = p[r][j] * (dsr[r][j] - dot);
    for (int m = 0; m < nv; m++) {
      qv[r][m] = ld8(qi + 8 * m);
      dov[r][m] = ld8(doi + 8 * m);
      acc[r][m] = splat8(0.0f);
    }
  }
  for (int j = 0; j < L; j++) {
    const float *kj = k + (size_t)j * D3;
    float *dvj = dv + (size_t)j * D3, *dkj = dk + (size_t)j * D3;
    for (int m = 0; m < nv; m++) {
      v8 a = ld8(dvj + 8 * m), c = ld8(dkj + 8 * m);
      const v8 kv = ld8(kj + 8 * m);
      for (int r = 0; r < R; r++) {
        const v8 sj = splat8(dsr[r][j]);
        a = fma8(splat8(p[r][j]), dov[r][m], a);
        c = fma8(sj, qv[r][m], c);
        acc[r][m] = fma8(sj, kv, acc[r][m]);
      }
      st8(dvj + 8 * m, a);
      st8(dkj + 8 * m, c);
    }
  }
  const v8 sc = splat8(scale);
  for (int r = 0; r < R; r++)
    for (int m = 0; m < nv; m++) st8(dq + (size_t)(i0 + r) * D3 + 8 * m, acc[r][m] * sc);
}

AI int attn_bwd_v(const float *qkv, const float *P, const float *dO, float *dqkv, int L, int D,
                  int H, int b0, int b1, const int hd) {
  const int D3 = 3 * D, Lp = (L + 7) & ~7, nv = hd / 8;
  const float scale = 1.0f / sqrtf((float)hd);
  float *vT = aligned_alloc(32, sizeof(float) * ((size_t)hd * Lp + 4 * Lp));
  if (!vT) return -1;
  float *ds = vT + (size_t)hd * Lp; /* 4 rows of Lp */
  for (int b = b0; b < b1; b++) {
    for (int h = 0; h < H; h++) {
      const size_t base = (size_t)b * L * D3 + h * hd;
      const float *q = qkv + base, *k = q + D, *v = q + 2 * D;
      float *dq = dqkv + base, *dk = dq + D, *dv = dq + 2 * D;
      const float *dout = dO + (size_t)b * L * D + h * hd;
      transpose_pad(v, D3, L, Lp, hd, vT);
      for (int j = 0; j < L; j++) {
        for (int m = 0; m < nv; m++) {
          st8(dk + (size_t)j * D3 + 8 * m, splat8(0.0f));
          st8(dv + (size_t)j * D3 + 8 * m, splat8(0.0f));
        }
      }
      /* Query rows in tiles of R (4 for narrow heads, 2 for wide ones: the accumulators stay in
       * registers), so each dv_j / dk_j row is loaded and stored once per tile; rows past the
       * last whole tile go one by one. The tiling depends on L and hd only. */
      const float *Ph = P + (size_t)(b * H + h) * L * L;
      int i = 0;
      if (nv <= 2) {
        for (; i + 4 <= L; i += 4) bwd_rows(Ph, q, k, dout, vT, ds, dq, dk, dv, i, L, Lp, D, scale, hd, 4);
      } else {
        for (; i + 2 <= L; i += 2) bwd_rows(Ph, q, k, dout, vT, ds, dq, dk, dv, i, L, Lp, D, scale, hd, 2);
      }
      for (; i < L; i++) bwd_rows(Ph, q, k, dout, vT, ds, dq, dk, dv, i, L, Lp, D, scale, hd, 1);
      const v8 sc = splat8(scale);
      for (int j = 0; j < L; j++) {
        for (int m = 0; m < nv; m++) {
          float *x = dk + (size_t)j * D3 + 8 * m;
          st8(x, ld8(x) * sc);
        }
      }
    }
  }
  free(vT);
  return 0;
}

#define HD_CASES(F, ...) \
  switch (hd) { \
    case 8: return F(__VA_ARGS__, 8); \
    case 16: return F(__VA_ARGS__, 16); \
    case 24: return F(__VA_ARGS__, 24); \
    case 32: return F(__VA_ARGS__, 32); \
    case 48: return F(__VA_ARGS__, 48); \
    case 64: return F(__VA_ARGS__, 64); \
  }

/*
 * Attention forward for windows [b0, b1): P = softmax(scale q k^T + bias) per head,
 * O = P v. With keepP the probabilities are written to P [B, H, L, L] (training);
 * keepP = 0 keeps them only per row (inference; P is not touched). Returns 0, or -1
 * when scratch memory cannot be allocated.
 */
int attn_fwd(const float *qkv, float *P, float *O, const float *bias, int L, int D, int H,
             int b0, int b1, int keepP) {
  const int hd = D / H;
  HD_CASES(attn_fwd_v, qkv, P, O, bias, L, D, H, b0, b1, keepP, 0, L)
  return attn_fwd_generic(qkv, P, O, bias, L, D, H, b0, b1, keepP, 0, L);
}

/*
 * Forward-only attention of the query rows [i0, i1) of windows [b0, b1) against all L keys:
 * the rows of O a decision reads (e.g. one action slot per window); other rows of O are not
 * written. Each row equals attn_fwd's bit for bit. Returns 0, or -1 without memory.
 */
int attn_fwd_rows(const float *qkv, float *O, const float *bias, int L, int D, int H, int b0,
                  int b1, int i0, int i1) {
  const int hd = D / H;
  HD_CASES(attn_fwd_v, qkv, O, O, bias, L, D, H, b0, b1, 0, i0, i1)
  return attn_fwd_generic(qkv, O, O, bias, L, D, H, b0, b1, 0, i0, i1);
}

/*
 * Attention backward for windows [b0, b1): from dO [B, L, D] and the kept P to
 * dqkv [B, L, 3D] (overwritten for these windows). Returns 0, or -1 when scratch
 * memory cannot be allocated.
 */
int attn_bwd(const float *qkv, const float *P, const float *dO, float *dqkv, int L, int D, int H,
             int b0, int b1) {
  const int hd = D / H;
  HD_CASES(attn_bwd_v, qkv, P, dO, dqkv, L, D, H, b0, b1)
  return attn_bwd_generic(qkv, P, dO, dqkv, L, D, H, b0, b1);
}

/* SwiGLU forward for positions [n0, n1): sig = sigmoid(gate), act = silu(gate) * up. */
void swiglu_fwd(const float *gu, float *sig, float *act, int F, int n0, int n1) {
  for (int n = n0; n < n1; n++) {
    const float *g = gu + (size_t)n * 2 * F, *u = g + F;
    float *s = sig + (size_t)n * F, *a = act + (size_t)n * F;
    for (int i = 0; i < F; i++) {
      const float si = 1.0f / (1.0f + fexpf(-g[i]));
      s[i] = si;
      a[i] = g[i] * si * u[i];
    }
  }
}

/* Forward-only SwiGLU for positions [n0, n1): silu(gate) * up over the gate half of gu. */
void swiglu_infer(float *gu, int F, int n0, int n1) {
  for (int n = n0; n < n1; n++) {
    float *g = gu + (size_t)n * 2 * F;
    const float *u = g + F;
    for (int i = 0; i < F; i++) g[i] = g[i] * (1.0f / (1.0f + fexpf(-g[i]))) * u[i];
  }
}

/* SwiGLU backward for positions [n0, n1): d(act) to d(gu). */
void swiglu_bwd(const float *gu, const float *sig, const float *dact, float *dgu, int F, int n0,
                int n1) {
  for (int n = n0; n < n1; n++) {
    const float *g = gu + (size_t)n * 2 * F, *u = g + F;
    const float *s = sig + (size_t)n * F, *da = dact + (size_t)n * F;
    float *dg = dgu + (size_t)n * 2 * F, *du = dg + F;
    for (int i = 0; i < F; i++) {
      dg[i] = da[i] * u[i] * s[i] * (1.0f + g[i] * (1.0f - s[i]));
      du[i] = da[i] * g[i] * s[i];
    }
  }
}

/* y = x / sqrt(mean(x^2) + 1e-6) * g over rows of width D; keeps 1/rms per row in rstd. */
void rmsnorm_fwd(const float *x, const float *g, float *y, float *rstd, int rows, int D) {
  for (int n = 0; n < rows; n++) {
    const float *xr = x + (size_t)n * D;
    float *yr = y + (size_t)n * D;
    const float r = 1.0f / sqrtf(dot8(xr, xr, D) / (float)D + 1e-6f);
    rstd[n] = r;
    for (int i = 0; i < D; i++) yr[i] = xr[i] * r * g[i];
  }
}

/* Adds d(loss)/dx of rmsnorm_fwd to dx and d/dg to dg (rows in order), given dy. */
void rmsnorm_bwd(const float *x, const float *rstd, const float *g, const float *dy, float *dx,
                 float *dg, int rows, int D) {
  for (int n = 0; n < rows; n++) {
    const float *xr = x + (size_t)n * D, *dyr = dy + (size_t)n * D;
    float *dxr = dx + (size_t)n * D;
    const float r = rstd[n];
    float a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int i = 0;
    for (; i + 8 <= D; i += 8)
      for (int k = 0; k < 8; k++) a[k] += dyr[i + k] * g[i + k] * xr[i + k];
    for (int k = 0; i < D; i++, k++) a[k] += dyr[i] * g[i] * xr[i];
    const float dot = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
    const float c = r * r * r * dot / (float)D;
#pragma GCC ivdep
    for (int j = 0; j < D; j++) {
      dxr[j] += r * dyr[j] * g[j] - c * xr[j];
      dg[j] += dyr[j] * xr[j] * r;
    }
  }
}

/* Embedding: x0[b, l] = sum of the token rows ti[(b L + l) 3 + j] and the position rows
 * pi[l 3 + j] that are >= 0 (in that order, as lib/model/native.ts adds them). */
void embed_fwd(const float *tok, const float *pos, const int *ti, const int *pi, float *x0, int B,
               int L, int D) {
  for (int b = 0; b < B; b++) {
    for (int l = 0; l < L; l++) {
      const size_t n = (size_t)b * L + l;
      float *o = x0 + n * D;
      for (int i = 0; i < D; i++) o[i] = 0.0f;
      for (int j = 0; j < 3; j++) {
        const int r = ti[n * 3 + j];
        if (r < 0) continue;
        const float *t = tok + (size_t)r * D;
        for (int i = 0; i < D; i++) o[i] += t[i];
      }
      for (int j = 0; j < 3; j++) {
        const int r = pi[l * 3 + j];
        if (r < 0) continue;
        const float *t = pos + (size_t)r * D;
        for (int i = 0; i < D; i++) o[i] += t[i];
      }
    }
  }
}

/* Embedding backward: scatter-add dx rows into the token and position rows each summed. */
void embed_bwd(const float *dx, const int *ti, const int *pi, float *gt, float *gp, int B, int L,
               int D) {
  for (int b = 0; b < B; b++) {
    for (int l = 0; l < L; l++) {
      const size_t n = (size_t)b * L + l;
      const float *d = dx + n * D;
      for (int j = 0; j < 3; j++) {
        const int r = ti[n * 3 + j];
        if (r >= 0) {
          float *g = gt + (size_t)r * D;
          for (int i = 0; i < D; i++) g[i] += d[i];
        }
        const int q = pi[l * 3 + j];
        if (q >= 0) {
          float *g = gp + (size_t)q * D;
          for (int i = 0; i < D; i++) g[i] += d[i];
        }
      }
    }
  }
}

/* The version of this file's interface (lib/model/native_c.ts checks it). */
int kernels_version(void) { return 4; }
