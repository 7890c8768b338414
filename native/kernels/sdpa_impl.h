// Float32 fused scaled-dot-product attention, forward and backward (semantics: sdpaForward /
// sdpaBackward in src/backend/kernels.ts; reference: src/backend/ts/attention.ts).
//
// Forward: the queries of one matrix are cut into blocks of kBq rows; a thread takes one block at a
// time (dynamic scheduling: causal blocks near the end have more keys) and sweeps the visible keys
// in blocks of kBk with an online softmax (running max m, running sum l, output accumulator
// rescaled by exp(m_old - m_new)). Scores and products are the built-in GEMM on cache-sized
// blocks (called from inside a pool job it runs on the calling thread), so no (Lq, Lk) matrix
// exists: per thread O(kBq (kBk + Ev)) floats. Backward (FlashAttention-2): per matrix, for each
// key block, every query block recomputes P = exp(S - lse) and adds its share to dV = Z^T dO,
// dS = Z * dP - P * D_i (Z = dropped P, D_i = dO_i . O_i), dQ += dS K and dK += dS^T Q.
#pragma once

#include <math.h>

#include "float_common.h"
#include "kernels.h"
#include "scratch.h"

namespace engram {
namespace ENGRAM_ISA_NS {
namespace sdpa_detail {

using namespace vm;

constexpr int64_t kBq = 48;    // query rows per block: a multiple of the GEMM register tiles (6, 12)
constexpr int64_t kBk = 256;   // keys per forward block: a 48 x 256 score block stays in L1/L2
constexpr int64_t kBkb = 64;   // keys per backward block (dK, dV accumulators stay in L1)
constexpr int64_t kHeader = 9;  // SDPA_GEOM_HEADER

struct Geom {
  int64_t nb, lq, lk, e, ev, shift, msi, msj;
  bool causal;
  const int32_t* off;  // q, k, v, mask offsets, nb each
};

static inline Geom parse(const int32_t* g) {
  Geom x;
  x.nb = g[0];
  x.lq = g[1];
  x.lk = g[2];
  x.e = g[3];
  x.ev = g[4];
  x.causal = g[5] == 1;
  x.shift = g[6];
  x.msi = g[7];
  x.msj = g[8];
  x.off = g + kHeader;
  return x;
}

// murmur3's finaliser; the dropout hash chains it exactly like sdpaRowKey / sdpaKeepHash.
static inline uint32_t fmix(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  return h ^ (h >> 16);
}
static inline uint32_t row_key(uint32_t s0, uint32_t s1, int64_t b, int64_t i) {
  return fmix(fmix(s0 ^ fmix(uint32_t(b) ^ s1)) ^ (uint32_t(i + 1) * 0x9e3779b9u));
}

// x[j] *= (keep ? inv : 0) for the keys j0 + j of one row.
static inline void drop_row(float* __restrict x, int64_t n, uint32_t rk, int64_t j0, uint32_t thr, float inv) {
  for (int64_t j = 0; j < n; ++j) {
    const uint32_t h = fmix(rk ^ (uint32_t(j0 + j + 1) * 0x85ebca77u));
    x[j] = h >= thr ? x[j] * inv : 0.0f;
  }
}

static inline float row_max(const float* x, int64_t n) {
  float acc[16];
  for (int l = 0; l < 16; ++l) acc[l] = -inf();
  int64_t j = 0;
  for (; j + 16 <= n; j += 16)
    for (int l = 0; l < 16; ++l) acc[l] = x[j + l] > acc[l] ? x[j + l] : acc[l];
  float m = -inf();
  for (; j < n; ++j) m = x[j] > m ? x[j] : m;
  for (int l = 0; l < 16; ++l) m = acc[l] > m ? acc[l] : m;
  return m;
}

static inline void gemm1(const float* A, const float* B, float* C, int64_t m, int64_t n, int64_t k, bool ta, bool tb) {
  GemmArgs g{A, B, C, 1, m, n, k, ta, tb, 0, 0};
  fk().gemm(g);
}

// Scales row r of the scores by `scale`, applies the masks (-inf), for keys [j0, j0 + n) of query i.
static inline void mask_row(const Geom& G, const uint8_t* mask, int64_t b, int64_t i, int64_t j0, int64_t n, float scale,
                            float* __restrict s) {
  const int64_t lim = G.causal ? imax(0, imin(n, i + G.shift + 1 - j0)) : n;
  for (int64_t j = 0; j < lim; ++j) s[j] *= scale;
  for (int64_t j = lim; j < n; ++j) s[j] = -inf();
  if (mask) {
    const uint8_t* mr = mask + G.off[3 * G.nb + b] + i * G.msi + j0 * G.msj;
    for (int64_t j = 0; j < lim; ++j) s[j] = mr[j * G.msj] ? s[j] : -inf();
  }
}

// Keys a block of queries [i0, i0 + rows) may see at all: [0, end).
static inline int64_t keys_end(const Geom& G, int64_t i0, int64_t rows) {
  return G.causal ? imax(0, imin(G.lk, i0 + rows + G.shift)) : G.lk;
}

static void forward_block(const Geom& G, const SdpaArgs& a, int64_t b, int64_t i0, float* ws) {
  const int64_t rows = imin(kBq, G.lq - i0), e = G.e, ev = G.ev;
  const float* Q = a.q + G.off[b] + i0 * e;
  const float* K = a.k + G.off[G.nb + b];
  const float* V = a.v + G.off[2 * G.nb + b];
  float* S = ws;
  float* acc = S + kBq * kBk;
  float* tmp = acc + kBq * ev;
  float m[kBq], l[kBq];
  for (int64_t r = 0; r < rows; ++r) {
    m[r] = -inf();
    l[r] = 0.0f;
  }
  for (int64_t x = 0; x < rows * ev; ++x) acc[x] = 0.0f;
  const bool drop = a.dropout > 0;
  const uint32_t thr = uint32_t(floor(a.dropout * 4294967296.0));
  const float inv = float(1.0 / (1.0 - a.dropout));
  const int64_t kend = keys_end(G, i0, rows);
  for (int64_t j0 = 0; j0 < kend; j0 += kBk) {
    const int64_t n = imin(kBk, kend - j0);
    gemm1(Q, K + j0 * e, S, rows, n, e, false, true);
    for (int64_t r = 0; r < rows; ++r) {
      float* __restrict s = S + r * n;
      mask_row(G, a.mask, b, i0 + r, j0, n, float(a.scale), s);
      const float mnew = maxp(m[r], row_max(s, n));
      if (mnew == -inf()) {
        for (int64_t j = 0; j < n; ++j) s[j] = 0.0f;
        continue;
      }
      const float alpha = exp_(m[r] - mnew);
      const float sum = sum_block(0, n, [&](int64_t j) {
        const float p = exp_(s[j] - mnew);
        s[j] = p;
        return p;
      });
      l[r] = l[r] * alpha + sum;
      m[r] = mnew;
      if (drop) drop_row(s, n, row_key(a.seed0, a.seed1, b, i0 + r), j0, thr, inv);
      if (alpha != 1.0f) {
        float* __restrict ar = acc + r * ev;
        for (int64_t c = 0; c < ev; ++c) ar[c] *= alpha;
      }
    }
    gemm1(S, V + j0 * ev, tmp, rows, ev, n, false, false);
    for (int64_t x = 0; x < rows * ev; ++x) acc[x] += tmp[x];
  }
  float* O = a.out + (b * G.lq + i0) * ev;
  float* lse = a.lse + b * G.lq + i0;
  for (int64_t r = 0; r < rows; ++r) {
    float* __restrict o = O + r * ev;
    const float* __restrict ar = acc + r * ev;
    if (l[r] > 0.0f) {
      const float il = 1.0f / l[r];
      for (int64_t c = 0; c < ev; ++c) o[c] = ar[c] * il;
      lse[r] = m[r] + log_(l[r]);
    } else {
      for (int64_t c = 0; c < ev; ++c) o[c] = 0.0f;
      lse[r] = -inf();
    }
  }
}

static void backward_matrix(const Geom& G, const SdpaArgs& a, int64_t b, float* ws) {
  const int64_t e = G.e, ev = G.ev, lq = G.lq;
  const float* Q = a.q + G.off[b];
  const float* K = a.k + G.off[G.nb + b];
  const float* V = a.v + G.off[2 * G.nb + b];
  const float* O = a.out + b * lq * ev;
  const float* dO = a.dout + b * lq * ev;
  const float* lse = a.lse + b * lq;
  float* dQ = a.dq + b * lq * e;
  float* dK = a.dk + b * G.lk * e;
  float* dV = a.dv + b * G.lk * ev;
  const int64_t wmax = imax(e, ev);
  float* D = ws;
  float* P = D + lq;
  float* Z = P + kBq * kBkb;
  float* dS = Z + kBq * kBkb;
  float* tmp = dS + kBq * kBkb;  // imax(kBq, kBkb) * wmax
  float* dKa = tmp + imax(kBq, kBkb) * wmax;
  float* dVa = dKa + kBkb * e;
  const float scale = float(a.scale);
  const bool drop = a.dropout > 0;
  const uint32_t thr = uint32_t(floor(a.dropout * 4294967296.0));
  const float inv = float(1.0 / (1.0 - a.dropout));
  for (int64_t i = 0; i < lq; ++i) {
    const float* __restrict o = O + i * ev;
    const float* __restrict d = dO + i * ev;
    D[i] = sum_block(0, ev, [&](int64_t c) { return o[c] * d[c]; });
  }
  for (int64_t x = 0; x < lq * e; ++x) dQ[x] = 0.0f;
  for (int64_t j0 = 0; j0 < G.lk; j0 += kBkb) {
    const int64_t n = imin(kBkb, G.lk - j0);
    for (int64_t x = 0; x < n * e; ++x) dKa[x] = 0.0f;
    for (int64_t x = 0; x < n * ev; ++x) dVa[x] = 0.0f;
    const int64_t istart = G.causal ? imax(0, j0 - G.shift) : 0;
    for (int64_t i0 = istart; i0 < lq; i0 += kBq) {
      const int64_t rows = imin(kBq, lq - i0);
      gemm1(Q + i0 * e, K + j0 * e, P, rows, n, e, false, true);
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t i = i0 + r;
        float* __restrict p = P + r * n;
        float* __restrict z = Z + r * n;
        const float li = lse[i];
        if (li == -inf()) {
          for (int64_t j = 0; j < n; ++j) p[j] = z[j] = 0.0f;
          continue;
        }
        mask_row(G, a.mask, b, i, j0, n, scale, p);
        for (int64_t j = 0; j < n; ++j) p[j] = exp_(p[j] - li);
        for (int64_t j = 0; j < n; ++j) z[j] = p[j];
        if (drop) drop_row(z, n, row_key(a.seed0, a.seed1, b, i), j0, thr, inv);
      }
      // dV += Z^T dO
      gemm1(Z, dO + i0 * ev, tmp, n, ev, rows, true, false);
      for (int64_t x = 0; x < n * ev; ++x) dVa[x] += tmp[x];
      // dZ = dO V^T; dS = Z * dZ - P * D_i (= P (dP - D_i) with dP = dZ * dropout factor)
      gemm1(dO + i0 * ev, V + j0 * ev, dS, rows, n, ev, false, true);
      for (int64_t r = 0; r < rows; ++r) {
        float* __restrict ds = dS + r * n;
        const float* __restrict p = P + r * n;
        const float* __restrict z = Z + r * n;
        const float di = D[i0 + r];
        for (int64_t j = 0; j < n; ++j) ds[j] = z[j] * ds[j] - p[j] * di;
      }
      // dQ += scale dS K; dK += dS^T Q (scaled once at the end)
      gemm1(dS, K + j0 * e, tmp, rows, e, n, false, false);
      float* __restrict dq = dQ + i0 * e;
      for (int64_t x = 0; x < rows * e; ++x) dq[x] += scale * tmp[x];
      gemm1(dS, Q + i0 * e, tmp, n, e, rows, true, false);
      for (int64_t x = 0; x < n * e; ++x) dKa[x] += tmp[x];
    }
    float* __restrict dk = dK + j0 * e;
    for (int64_t x = 0; x < n * e; ++x) dk[x] = scale * dKa[x];
    float* __restrict dv = dV + j0 * ev;
    for (int64_t x = 0; x < n * ev; ++x) dv[x] = dVa[x];
  }
}

// Runs task(t, workspace) for t in [0, ntasks) on the pool, handing tasks out one at a time.
template <class F>
static bool run_tasks(int64_t ntasks, int64_t work, size_t ws_floats, const F& task) {
  int64_t next = 0;
  bool ok = true;
  const int want = int(imin(imin(pool_size(), ntasks), imax(1, work / (2 * kParallelGrain * 64))));
  parallel_run(want, work / (2 * kParallelGrain), [&](int, int) {
    float* ws = thread_scratch(SCRATCH_ATTN, ws_floats);
    if (!ws) {
      __atomic_store_n(&ok, false, __ATOMIC_RELAXED);
      return;
    }
    for (;;) {
      const int64_t t = __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED);
      if (t >= ntasks) break;
      task(t, ws);
    }
  });
  return ok;
}

}  // namespace sdpa_detail

static bool sdpa_forward_f32(const SdpaArgs& a) {
  using namespace sdpa_detail;
  const Geom G = parse(a.geom);
  const int64_t nqb = (G.lq + kBq - 1) / kBq;
  const size_t ws = size_t(kBq * kBk + 2 * kBq * G.ev);
  // heaviest blocks first (causal: the last query blocks see the most keys)
  return run_tasks(G.nb * nqb, G.nb * G.lq * G.lk * (G.e + G.ev), ws, [&](int64_t t, float* w) {
    const int64_t qb = nqb - 1 - t / G.nb, b = t % G.nb;
    forward_block(G, a, b, qb * kBq, w);
  });
}

static bool sdpa_backward_f32(const SdpaArgs& a) {
  using namespace sdpa_detail;
  const Geom G = parse(a.geom);
  const int64_t wmax = imax(G.e, G.ev);
  const size_t ws = size_t(G.lq + 3 * kBq * kBkb + imax(kBq, kBkb) * wmax + kBkb * (G.e + G.ev));
  return run_tasks(G.nb, 2 * G.nb * G.lq * G.lk * (G.e + G.ev), ws,
                   [&](int64_t b, float* w) { backward_matrix(G, a, b, w); });
}

}  // namespace ENGRAM_ISA_NS
}  // namespace engram
