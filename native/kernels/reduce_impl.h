// Float32 reductions over the middle axis of an (outer, n, inner) view (semantics:
// src/backend/ts/kernels.ts): sums are pairwise in float, products accumulate in double, max/min
// propagate NaN, arg* return the first extreme index (the first NaN wins).
#pragma once

#include "float_common.h"
#include "ops.h"

namespace engram {
namespace ENGRAM_ISA_NS {
namespace reduce_detail {

using namespace vm;

constexpr int64_t kTile = 256;    // columns per tile when inner > 1
constexpr int64_t kChunk = 64;    // rows summed into a first-level partial before it is added up

static float row_max(const float* x, int64_t n) { return max_nan(x, n); }
static float row_min(const float* x, int64_t n) { return min_nan(x, n); }

static double row_prod(const float* x, int64_t n) {
  double acc[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; ++l) acc[l] *= double(x[i + l]);
  double p = 1.0;
  for (; i < n; ++i) p *= double(x[i]);
  for (int l = 0; l < 8; ++l) p *= acc[l];
  return p;
}

// Index of the first element equal to `target` (or the first NaN when target is NaN).
static int32_t row_find(const float* x, int64_t n, float target) {
  if (target != target) {
    for (int64_t i = 0; i < n; ++i)
      if (x[i] != x[i]) return int32_t(i);
  } else {
    for (int64_t i = 0; i < n; ++i)
      if (x[i] == target) return int32_t(i);
  }
  return 0;
}

static float log_sum_exp_finish(float m, float s) { return m + log_(s); }

static float row_log_sum_exp(const float* x, int64_t n, bool parallel) {
  const float m = row_max(x, n);
  if (m == -inf() || m != m || m == inf()) return m;
  auto term = [=](int64_t i) { return exp_(x[i] - m); };
  const float s = parallel ? psum_parallel(n, kGrainHeavy, term) : psum(0, n, term);
  return log_sum_exp_finish(m, s);
}

// Column-wise NaN-propagating max (or min) of w columns, rows `inner` apart.
static void col_max_min(const float* x, int64_t n, int64_t inner, int64_t w, bool mx, float* out) {
  int32_t key[kTile], nan[kTile];
  for (int64_t c = 0; c < w; ++c) {
    key[c] = fkey(mx ? -inf() : inf());
    nan[c] = 0;
  }
  for (int64_t j = 0; j < n; ++j) {
    const float* r = x + j * inner;
    if (mx) {
      for (int64_t c = 0; c < w; ++c) {
        const int32_t k = fkey(r[c]);
        key[c] = k > key[c] ? k : key[c];
        nan[c] |= int32_t(r[c] != r[c]);
      }
    } else {
      for (int64_t c = 0; c < w; ++c) {
        const int32_t k = fkey(r[c]);
        key[c] = k < key[c] ? k : key[c];
        nan[c] |= int32_t(r[c] != r[c]);
      }
    }
  }
  for (int64_t c = 0; c < w; ++c) out[c] = nan[c] ? qnan() : funkey(key[c]);
}

// One row (inner == 1).
static void reduce_row(int op, const float* x, int64_t n, float* of, int32_t* oi, bool parallel) {
  switch (op) {
    case R_SUM:
    case R_MEAN: {
      auto term = [=](int64_t i) { return x[i]; };
      const float s = parallel ? psum_parallel(n, kGrainCheap, term) : psum(0, n, term);
      *of = op == R_MEAN ? s / float(n) : s;
      return;
    }
    case R_PROD: *of = float(row_prod(x, n)); return;
    case R_MAX: *of = row_max(x, n); return;
    case R_MIN: *of = row_min(x, n); return;
    case R_ARGMAX: *oi = n > 0 ? row_find(x, n, row_max(x, n)) : 0; return;
    case R_ARGMIN: *oi = n > 0 ? row_find(x, n, row_min(x, n)) : 0; return;
    case R_LOG_SUM_EXP: *of = row_log_sum_exp(x, n, parallel); return;
    default: return;
  }
}

// Columns [c0, c0 + w) of one outer slice: x points at element (o, 0, c0), rows `inner` apart.
static void reduce_cols(int op, const float* x, int64_t n, int64_t inner, int64_t w, float* of, int32_t* oi) {
  float a1[kTile], a2[kTile];
  switch (op) {
    case R_SUM:
    case R_MEAN:
    case R_LOG_SUM_EXP: {
      float m[kTile];
      const bool lse = op == R_LOG_SUM_EXP;
      if (lse) col_max_min(x, n, inner, w, true, m);
      for (int64_t c = 0; c < w; ++c) a2[c] = 0.0f;
      for (int64_t j0 = 0; j0 < n; j0 += kChunk) {
        const int64_t j1 = imin(n, j0 + kChunk);
        for (int64_t c = 0; c < w; ++c) a1[c] = 0.0f;
        if (lse) {
          for (int64_t j = j0; j < j1; ++j) {
            const float* r = x + j * inner;
            for (int64_t c = 0; c < w; ++c) a1[c] += exp_(r[c] - m[c]);
          }
        } else {
          for (int64_t j = j0; j < j1; ++j) {
            const float* r = x + j * inner;
            for (int64_t c = 0; c < w; ++c) a1[c] += r[c];
          }
        }
        for (int64_t c = 0; c < w; ++c) a2[c] += a1[c];
      }
      if (op == R_SUM) {
        for (int64_t c = 0; c < w; ++c) of[c] = a2[c];
      } else if (op == R_MEAN) {
        const float fn = float(n);
        for (int64_t c = 0; c < w; ++c) of[c] = a2[c] / fn;
      } else {
        for (int64_t c = 0; c < w; ++c) {
          const float mc = m[c];
          of[c] = (mc == -inf() || mc != mc || mc == inf()) ? mc : log_sum_exp_finish(mc, a2[c]);
        }
      }
      return;
    }
    case R_PROD: {
      double p[kTile];
      for (int64_t c = 0; c < w; ++c) p[c] = 1.0;
      for (int64_t j = 0; j < n; ++j) {
        const float* r = x + j * inner;
        for (int64_t c = 0; c < w; ++c) p[c] *= double(r[c]);
      }
      for (int64_t c = 0; c < w; ++c) of[c] = float(p[c]);
      return;
    }
    case R_MAX:
    case R_MIN: col_max_min(x, n, inner, w, op == R_MAX, of); return;
    case R_ARGMAX:
    case R_ARGMIN: {
      const bool mx = op == R_ARGMAX;
      int32_t idx[kTile];
      for (int64_t c = 0; c < w; ++c) idx[c] = 0;
      if (n > 0) {
        for (int64_t c = 0; c < w; ++c) a1[c] = x[c];
        for (int64_t j = 1; j < n; ++j) {
          const float* r = x + j * inner;
          const int32_t jj = int32_t(j);
          // a NaN already found stays; a new NaN or a strictly better value takes over
          for (int64_t c = 0; c < w; ++c) {
            const float v = r[c], b = a1[c];
            const bool take = b == b && (v != v || (mx ? v > b : v < b));
            a1[c] = take ? v : b;
            idx[c] = take ? jj : idx[c];
          }
        }
      }
      for (int64_t c = 0; c < w; ++c) oi[c] = idx[c];
      return;
    }
    default: return;
  }
}

}  // namespace reduce_detail

static void reduce_f32(int op, const float* x, void* out, int64_t outer, int64_t n, int64_t inner) {
  using namespace reduce_detail;
  float* of = static_cast<float*>(out);
  int32_t* oi = static_cast<int32_t*>(out);
  const bool arg = op == R_ARGMAX || op == R_ARGMIN;
  const int64_t grain = op == R_LOG_SUM_EXP ? kGrainHeavy : kGrainCheap;
  if (outer <= 0 || inner <= 0) return;
  if (inner == 1) {
    if (outer == 1) {
      reduce_row(op, x, n, of, oi, true);
      return;
    }
    parallel_for(outer, imax(1, grain / imax(n, 1)), [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; ++o) reduce_row(op, x + o * n, n, arg ? nullptr : of + o, arg ? oi + o : nullptr, false);
    });
    return;
  }
  const int64_t tiles = (inner + kTile - 1) / kTile;
  const int64_t per_task = imin(inner, kTile) * imax(n, 1);
  parallel_for(outer * tiles, imax(1, grain / per_task), [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t o = t / tiles, c0 = (t % tiles) * kTile;
      const int64_t w = imin(kTile, inner - c0);
      const int64_t base = o * inner + c0;
      reduce_cols(op, x + o * n * inner + c0, n, inner, w, arg ? nullptr : of + base, arg ? oi + base : nullptr);
    }
  });
}

}  // namespace ENGRAM_ISA_NS
}  // namespace engram
